"""The whole exception hierarchy of netpol-dsl.

```text
NetpolError
├── DslUsageError (TypeError)        misuse of the authoring DSL
├── UnrepresentableError (ValueError) a selector combination Kubernetes cannot express
├── RenderError (ValueError)         output could not be produced
├── LoadError (ValueError)           input could not be read or parsed
│   └── InvalidPolicyError           an object kube-apiserver would reject
└── EvaluationError (ValueError)     a question the evaluator cannot answer as asked
    ├── UnknownEndpointError (KeyError)  no pod, workload, Service or address by that name
    └── AmbiguousResultError             some pairs allowed, some denied: ask .all()/.none()
```

Messages follow Kubernetes ``field.Error``:
``<source>: <field path>: got <value!r>; expected <allowed>[. <hint>]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "AmbiguousResultError",
    "DslUsageError",
    "EvaluationError",
    "InvalidPolicyError",
    "Issue",
    "LoadError",
    "NetpolError",
    "RenderError",
    "UnknownEndpointError",
    "UnrepresentableError",
]

_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in one field, in Kubernetes field-path form.

    Args:
        path: the field path with the API's camelCase names, e.g. ``spec.ingress[0].ports[0].port``.
        value: the offending value (``None`` when the field is missing).
        expected: what is allowed there.
        hint: an optional suggestion.
        source: where the object came from (``file.yaml:12`` or ``namespace/name``).

    Example:
        >>> str(Issue("spec.ingress[0].ports[0].port", 70000, "1..65535 or a port name"))
        'spec.ingress[0].ports[0].port: got 70000; expected 1..65535 or a port name'
    """

    path: str
    value: Any = None
    expected: str = ""
    hint: str | None = None
    source: str | None = None
    missing: bool = field(default=False, compare=False)

    def with_prefix(self, prefix: str) -> Issue:
        """Return this issue with ``prefix`` put in front of its path.

        Example:
            >>> Issue("port", 0, "1..65535").with_prefix("spec.ingress[0].ports[0]").path
            'spec.ingress[0].ports[0].port'
        """
        if not prefix:
            return self
        if not self.path:
            return replace(self, path=prefix)
        sep = "" if self.path.startswith("[") else "."
        return replace(self, path=f"{prefix}{sep}{self.path}")

    def __str__(self) -> str:
        got = "nothing (the field is required)" if self.missing else repr(self.value)
        text = f"{self.path}: got {got}"
        if self.expected:
            text += f"; expected {self.expected}"
        if self.hint:
            text += f". {self.hint}"
        if self.source:
            text = f"{self.source}: {text}"
        return text


class NetpolError(Exception):
    """Base class of every error netpol-dsl raises on purpose.

    Example:
        >>> issubclass(InvalidPolicyError, NetpolError)
        True
    """


class DslUsageError(NetpolError, TypeError):
    """The authoring DSL was used in a way it does not support.

    Example:
        >>> raise DslUsageError("on(): got port=True; expected an int")
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.DslUsageError: on(): got port=True; expected an int
    """


class UnrepresentableError(NetpolError, ValueError):
    """A selector combination that a NetworkPolicy cannot express.

    Example:
        >>> str(UnrepresentableError("ip_block() & pods(): cannot be ANDed; use |"))
        'ip_block() & pods(): cannot be ANDed; use |'
    """


class RenderError(NetpolError, ValueError):
    """Output could not be produced from the given objects.

    Example:
        >>> isinstance(RenderError("x"), ValueError)
        True
    """


class LoadError(NetpolError, ValueError):
    """Input could not be read: bad YAML/JSON, a bad file, or invalid objects.

    ``issues`` holds every problem found, not just the first.

    Example:
        >>> err = LoadError("bad input", issues=[Issue("spec", None, "a mapping", missing=True)])
        >>> err.issues[0].path
        'spec'
    """

    def __init__(
        self,
        message: str = "",
        *,
        issues: Iterable[Issue] = (),
        source: str | None = None,
    ) -> None:
        self.issues: tuple[Issue, ...] = tuple(issues)
        self.source = source
        self.message = message
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [self.message] if self.message else []
        lines.extend(str(i) for i in self.issues)
        return "\n".join(lines) if lines else "invalid input"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.issues, self.source))


def _rebuild(
    cls: type[LoadError], message: str, issues: tuple[Issue, ...], source: str | None
) -> LoadError:
    return cls(message, issues=issues, source=source)


class InvalidPolicyError(LoadError):
    """An object that kube-apiserver would reject on create.

    Every problem is in ``issues``, each with a Kubernetes field path.

    Example:
        >>> from netpol_dsl import load_policy
        >>> try:
        ...     load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        ...                  "metadata": {"name": "x", "namespace": "payments"},
        ...                  "spec": {"ingress": [{"ports": [{"port": 70000}]}]}})
        ... except InvalidPolicyError as err:
        ...     print(err)
        payments/x: spec.ingress[0].ports[0].port: got 70000; expected 1..65535 or a port name such as 'http'
    """

    def __init__(
        self,
        message: str = "",
        *,
        issues: Iterable[Issue] = (),
        source: str | None = None,
    ) -> None:
        issues = tuple(issues)
        if source is not None:
            issues = tuple(replace(i, source=source) if i.source is None else i for i in issues)
        super().__init__(message, issues=issues, source=source)


class EvaluationError(NetpolError, ValueError):
    """The evaluator cannot answer a question as asked (a bad port, an unknown endpoint, ...).

    Example:
        >>> isinstance(EvaluationError("allows(): got port=0; expected 1..65535"), ValueError)
        True
    """


class UnknownEndpointError(EvaluationError, KeyError):
    """No pod, workload, Service or address goes by that name; also a ``KeyError``.

    Example:
        >>> str(UnknownEndpointError("got pod 'a/x'; expected a pod of the cluster"))
        "got pod 'a/x'; expected a pod of the cluster"
    """

    def __str__(self) -> str:
        # KeyError's own str() quotes its argument; the message is for people.
        return str(self.args[0]) if self.args else ""


class AmbiguousResultError(EvaluationError):
    """An answer about several pod pairs was used as one yes/no while some pairs are allowed
    and some denied.

    Example:
        >>> raise AmbiguousResultError("3 of 5 pairs allowed; ask .all() / .none() / .pairs()")
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.AmbiguousResultError: 3 of 5 pairs allowed; ask .all() / .none() / .pairs()
    """
