"""Input coercion for the DSL, done once at the boundary (``allow()``, ``.to()``, ``.on()``, ...).

``IntoSelector`` and ``IntoPort`` are the input types the public functions accept; everything
past the boundary works with ``Selector`` and ``Port`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeAlias

from netpol_dsl import _rules
from netpol_dsl.errors import DslUsageError, InvalidPolicyError
from netpol_dsl.selectors import LabelMatch, Selector, _ns_name, pods

if TYPE_CHECKING:
    from netpol_dsl.builder import Port

__all__ = ["IntoPort", "IntoSelector", "into_port", "into_selector", "name", "namespace_name"]

#: A selector, or the labels of pods in the policy's namespace: ``{"app": "web"}``.
IntoSelector: TypeAlias = "Selector | Mapping[str, LabelMatch]"

#: A port: a number or a port name (TCP), or a ``Port`` built with ``tcp()``/``udp()``/...
IntoPort: TypeAlias = "int | str | Port"


def into_selector(value: object, where: str) -> Selector:
    """Coerce ``value`` to a Selector; a mapping means ``pods(mapping)``.

    Raises:
        DslUsageError: anything else, with a hint.

    Example:
        >>> into_selector({"app": "web"}, "allow()")
        pods(app='web')
    """
    if isinstance(value, Selector):
        return value
    if isinstance(value, Mapping):
        return pods(value)
    hint = ""
    if isinstance(value, str):
        k, eq, v = value.partition("=")
        hint = (
            f". Did you mean pods({{{k.strip()!r}: {v.strip()!r}}})?"
            if eq
            else f". Did you mean pods(app={value!r}) or namespace({value!r})?"
        )
    msg = (
        f"{where}: got {value!r} (type={type(value).__name__}); expected a Selector, such as "
        f"pods(app='web'){hint}"
    )
    raise DslUsageError(msg)


def into_port(value: object, where: str) -> Port:
    """Coerce ``value`` to a Port: ``8080`` and ``"http"`` mean TCP.

    Raises:
        DslUsageError: a value of the wrong type.
        InvalidPolicyError: a port number or name Kubernetes would reject.

    Example:
        >>> into_port(8080, "on()")
        tcp(8080)
    """
    from netpol_dsl.builder import Port

    if isinstance(value, Port):
        return value
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        return Port.build("TCP", value, None, where)
    msg = (
        f"{where}: got {value!r} (type={type(value).__name__}); expected a port number, a port "
        "name, or tcp(...)/udp(...)/sctp(...)"
    )
    raise DslUsageError(msg)


def name(value: object, where: str) -> str:
    """Check an object name (a DNS-1123 subdomain, as NetworkPolicy names are).

    Raises:
        DslUsageError: not a string.
        InvalidPolicyError: not a valid name.

    Example:
        >>> name("allow-frontend-to-api", "named()")
        'allow-frontend-to-api'
    """
    if not isinstance(value, str):
        msg = f"{where}: got {value!r} (type={type(value).__name__}); expected a policy name"
        raise DslUsageError(msg)
    problems = _rules.dns1123_subdomain(value)
    if problems:
        msg = f"{where}: got {value!r}; expected a policy name, {problems[-1]}"
        raise InvalidPolicyError(msg)
    return value


def namespace_name(value: object, where: str) -> str:
    """Check a namespace name (a DNS-1123 label).

    Raises:
        DslUsageError: not a string.
        InvalidPolicyError: not a valid namespace name.

    Example:
        >>> namespace_name("payments", "PolicySet()")
        'payments'
    """
    return _ns_name(value, where)
