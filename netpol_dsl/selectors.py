"""Typed selectors with explicit AND / OR / NOT, compiled to Kubernetes peers and pod selectors.

A selector names a set of pods (or addresses). Build them with the constructors and combine them
with ``&`` (AND), ``|`` (OR) and ``~`` (NOT):

```python
pods(app="frontend")                          # pods in the policy's own namespace
pods(app=In("a", "b"), tier=NotIn("db"), canary=Exists(), legacy=DoesNotExist())
all_pods()                                    # every pod in the policy's namespace
namespace("monitoring")                       # every pod in the namespace named monitoring
namespaces(team="payments")                   # every pod in namespaces labelled team=payments
all_namespaces()                              # every pod in the cluster
ip_block("10.0.0.0/8", except_=["10.1.0.0/16"])
anywhere()                                    # every peer: pods, nodes and the internet
```

How the algebra maps onto Kubernetes
------------------------------------

* ``namespace("monitoring") & pods(app="prometheus")`` is **one** peer: ``namespaceSelector`` and
  ``podSelector`` in the same ``from``/``to`` item, so both must hold.
* ``a | b`` is **several** peers (several list items), so either may hold.
* ``&`` of two pod selectors (or of two namespace selectors) ANDs their requirements.
* **Scope.** A bare ``pods(...)`` means pods in the *policy's* namespace, exactly as a lone
  ``podSelector`` does in YAML. ``& namespace("x")`` (or ``.in_namespace("x")``) moves it to
  other namespaces; that is the one place where ``&`` qualifies rather than intersects.
* ``~`` on a leaf becomes ``NotIn`` / ``DoesNotExist`` (or ``In`` / ``Exists``), and is pushed
  through ``&``/``|`` by De Morgan's laws. It complements *within the selector's scope*: ``~pods(app="a")``
  is every other pod of the policy's namespace, and ``~(namespace("x") & pods(app="a"))`` is every
  pod of the cluster except those. ``~ip_block(c)`` is the rest of ``c``'s address family.
* A combination Kubernetes cannot express raises ``UnrepresentableError``
  when you write it, with what to write instead: ``ip_block(...) & pods(...)``, a selector that can
  match nothing, ``~all_pods()``, or a ``~`` mixing bare and namespace-qualified pods.

Python's ``and``, ``or``, ``not``, ``if selector:`` and ``x in selector`` cannot be overloaded and
would silently do the wrong thing, so they raise ``TypeError`` naming ``& | ~``.

``&`` binds tighter than ``|`` and ``~`` tighter than both, as in boolean algebra. All three bind
tighter than ``==``, so parenthesise: ``(a | b) == c``.

``==`` and ``hash`` are structural, so selectors work in sets and as dict keys.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NoReturn, TypeAlias

from netpol_dsl import _rules
from netpol_dsl.errors import DslUsageError, InvalidPolicyError, UnrepresentableError
from netpol_dsl.model import (
    IPBlock,
    LabelSelector,
    LabelSelectorRequirement,
    NetworkPolicyPeer,
)

if TYPE_CHECKING:
    from netpol_dsl.evaluate import EndpointSpec

__all__ = [
    "NAMESPACE_NAME_LABEL",
    "Addresses",
    "And",
    "Anywhere",
    "DoesNotExist",
    "Exists",
    "In",
    "LabelMatch",
    "Namespaces",
    "NotIn",
    "Or",
    "Pods",
    "Req",
    "Selector",
    "all_namespaces",
    "all_pods",
    "anywhere",
    "ip_block",
    "namespace",
    "namespaces",
    "pods",
]

#: The label kube-apiserver sets on every namespace to its name (immutable since Kubernetes 1.22):
#: https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-metadata-name
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

Operator = Literal["In", "NotIn", "Exists", "DoesNotExist"]
_NEGATE: dict[Operator, Operator] = {
    "In": "NotIn",
    "NotIn": "In",
    "Exists": "DoesNotExist",
    "DoesNotExist": "Exists",
}
#: Past this many alternatives a ``~`` is almost certainly a mistake (De Morgan multiplies terms).
_MAX_TERMS = 256


# ------------------------------------------------------------------ requirement values


def _check_values(values: tuple[object, ...], where: str) -> tuple[str, ...]:
    if not values:
        msg = f"{where}: got no values; expected at least one label value, e.g. {where}('a', 'b')"
        raise DslUsageError(msg)
    out: list[str] = []
    for value in values:
        if not isinstance(value, str):
            msg = (
                f"{where}: got {value!r} (type={type(value).__name__}); expected a label value "
                f"string. Label values are strings: write {str(value)!r}"
            )
            raise DslUsageError(msg)
        problems = _rules.label_value(value)
        if problems:
            msg = f"{where}: got {value!r}; expected a label value: {problems[0]}"
            raise InvalidPolicyError(msg)
        if value not in out:
            out.append(value)
    return tuple(out)


@dataclass(frozen=True, slots=True, init=False)
class In:
    """The label's value is one of ``values`` (``operator: In``).

    Example:
        >>> pods(env=In("prod", "staging"))
        pods(env=In('prod', 'staging'))
    """

    values: tuple[str, ...]

    def __init__(self, *values: str) -> None:
        object.__setattr__(self, "values", _check_values(values, "In()"))

    def __repr__(self) -> str:
        return f"In({', '.join(map(repr, self.values))})"


@dataclass(frozen=True, slots=True, init=False)
class NotIn:
    """The label is absent or its value is none of ``values`` (``operator: NotIn``).

    Example:
        >>> pods(tier=NotIn("db")).matches({"app": "web"})
        True
    """

    values: tuple[str, ...]

    def __init__(self, *values: str) -> None:
        object.__setattr__(self, "values", _check_values(values, "NotIn()"))

    def __repr__(self) -> str:
        return f"NotIn({', '.join(map(repr, self.values))})"


@dataclass(frozen=True, slots=True)
class Exists:
    """The label is present, with any value (``operator: Exists``).

    Example:
        >>> pods(canary=Exists()).matches({"canary": ""})
        True
    """

    def __repr__(self) -> str:
        return "Exists()"


@dataclass(frozen=True, slots=True)
class DoesNotExist:
    """The label is absent (``operator: DoesNotExist``).

    Example:
        >>> pods(legacy=DoesNotExist()).matches({"legacy": "yes"})
        False
    """

    def __repr__(self) -> str:
        return "DoesNotExist()"


#: What a label may be matched against in ``pods(key=...)``: an exact value or a requirement.
LabelMatch: TypeAlias = "str | In | NotIn | Exists | DoesNotExist"


@dataclass(frozen=True, slots=True, kw_only=True)
class Req:
    """One label requirement: ``key``, ``operator`` and (for In/NotIn) ``values``.

    Example:
        >>> r = Req(key="tier", operator="NotIn", values=("db",))
        >>> r.matches({"tier": "web"}), (~r).operator
        (True, 'In')
    """

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = _rules.qualified_name(self.key)
        if problems:
            msg = f"got label key {self.key!r}; expected a label key: {problems[0]}"
            raise InvalidPolicyError(msg)

    def __invert__(self) -> Req:
        return Req(key=self.key, operator=_NEGATE[self.operator], values=self.values)

    @property
    def is_equality(self) -> bool:
        """True for ``In`` with exactly one value (rendered as ``matchLabels``).

        Example:
            >>> Req(key="app", operator="In", values=("web",)).is_equality
            True
        """
        return self.operator == "In" and len(self.values) == 1

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this requirement (absent keys satisfy NotIn).

        Example:
            >>> Req(key="a", operator="Exists").matches({"a": "1"})
            True
        """
        op = self.operator
        if op == "In":
            return self.key in labels and labels[self.key] in self.values
        if op == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if op == "Exists":
            return self.key in labels
        return self.key not in labels

    def as_match(self) -> LabelMatch:
        """The value you would write for this key in ``pods(key=...)``.

        Example:
            >>> Req(key="app", operator="In", values=("a", "b")).as_match()
            In('a', 'b')
        """
        if self.is_equality:
            return self.values[0]
        if self.operator == "In":
            return In(*self.values)
        if self.operator == "NotIn":
            return NotIn(*self.values)
        return Exists() if self.operator == "Exists" else DoesNotExist()

    def sort_key(self) -> tuple[str, str, tuple[str, ...]]:
        """A total order used when rendering, so output never depends on writing order.

        Example:
            >>> Req(key="b", operator="Exists").sort_key() > Req(key="a", operator="Exists").sort_key()
            True
        """
        return (self.key, self.operator, tuple(sorted(self.values)))


def _req(key: object, match: object, where: str) -> Req:
    if not isinstance(key, str):
        msg = f"{where}: got label key {key!r} (type={type(key).__name__}); expected a string"
        raise DslUsageError(msg)
    problems = _rules.qualified_name(key)
    if problems:
        msg = f"{where}: got label key {key!r}; expected a label key: {problems[0]}"
        raise InvalidPolicyError(msg)
    if isinstance(match, str):
        problems = _rules.label_value(match)
        if problems:
            msg = f"{where}: got {key}={match!r}; expected a label value: {problems[0]}"
            raise InvalidPolicyError(msg)
        return Req(key=key, operator="In", values=(match,))
    if isinstance(match, In):
        return Req(key=key, operator="In", values=match.values)
    if isinstance(match, NotIn):
        return Req(key=key, operator="NotIn", values=match.values)
    if isinstance(match, Exists):
        return Req(key=key, operator="Exists")
    if isinstance(match, DoesNotExist):
        return Req(key=key, operator="DoesNotExist")
    hint = ""
    if isinstance(match, (int, float, bool)):
        hint = f". Label values are strings: write {key}={str(match).lower() if isinstance(match, bool) else str(match)!r}"
    elif isinstance(match, (list, tuple, set, frozenset)):
        hint = f". For several values write {key}=In(...)"
    msg = (
        f"{where}: got {key}={match!r} (type={type(match).__name__}); expected a label value "
        f"or In(...), NotIn(...), Exists(), DoesNotExist(){hint}"
    )
    raise DslUsageError(msg)


def _reqs(
    where: str, labels: Mapping[str, LabelMatch] | None, kwargs: Mapping[str, LabelMatch]
) -> tuple[Req, ...]:
    if labels is not None and not isinstance(labels, Mapping):
        msg = (
            f"{where}: got {labels!r} (type={type(labels).__name__}); expected a mapping of "
            f"labels, e.g. {where[:-2]}({{'app.kubernetes.io/name': 'web'}}) or {where[:-2]}(app='web')"
        )
        raise DslUsageError(msg)
    out: list[Req] = []
    seen: set[str] = set()
    for source in (labels or {}, kwargs):
        for key, match in source.items():
            if key in seen:
                msg = f"{where}: got label key {key!r} twice; expected each key once"
                raise DslUsageError(msg)
            seen.add(key)
            out.append(_req(key, match, where))
    return tuple(out)


# ------------------------------------------------------------------ normal form


@dataclass(frozen=True, slots=True)
class _Term:
    """One conjunction: a peer. ``namespaces is None`` means the policy's own namespace."""

    pods: tuple[Req, ...] | None = None
    namespaces: tuple[Req, ...] | None = None
    ip: Addresses | None = None
    anywhere: bool = False

    @property
    def is_labels(self) -> bool:
        return self.ip is None and not self.anywhere


def _merge(a: tuple[Req, ...] | None, b: tuple[Req, ...] | None) -> tuple[Req, ...] | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + tuple(r for r in b if r not in a)


def _satisfiable(reqs: tuple[Req, ...] | None) -> bool:
    """False when no label set can meet every requirement (e.g. app=a and app=b)."""
    by_key: dict[str, list[Req]] = {}
    for r in reqs or ():
        by_key.setdefault(r.key, []).append(r)
    for rs in by_key.values():
        allowed: set[str] | None = None
        must_exist = must_not_exist = False
        forbidden: set[str] = set()
        for r in rs:
            if r.operator == "In":
                allowed = set(r.values) if allowed is None else allowed & set(r.values)
                must_exist = True
            elif r.operator == "NotIn":
                forbidden |= set(r.values)
            elif r.operator == "Exists":
                must_exist = True
            else:
                must_not_exist = True
        if must_exist and must_not_exist:
            return False
        if allowed is not None and not (allowed - forbidden):
            return False
    return True


def _and_terms(a: _Term, b: _Term, where: str) -> _Term | None:
    if a.anywhere or b.anywhere:
        msg = (
            f"{where}: anywhere() already includes every peer, so ANDing it changes nothing; "
            "write the other selector alone"
        )
        raise DslUsageError(msg)
    if a.ip is not None or b.ip is not None:
        msg = (
            f"{where}: an ipBlock cannot share a peer with other selectors (Kubernetes requires "
            "ipBlock alone in its from/to item), and two CIDRs cannot be intersected in one "
            "ipBlock; use | to allow either, or write the narrower ip_block(...) yourself"
        )
        raise UnrepresentableError(msg)
    term = _Term(pods=_merge(a.pods, b.pods), namespaces=_merge(a.namespaces, b.namespaces))
    if not (_satisfiable(term.pods) and _satisfiable(term.namespaces)):
        return None
    return term


def _and_dnf(a: tuple[_Term, ...], b: tuple[_Term, ...], where: str) -> tuple[_Term, ...]:
    out: list[_Term] = []
    for x in a:
        for y in b:
            t = _and_terms(x, y, where)
            if t is not None and t not in out:
                out.append(t)
    if len(out) > _MAX_TERMS:
        msg = f"{where}: expands to {len(out)} peers; expected at most {_MAX_TERMS}. Simplify it"
        raise UnrepresentableError(msg)
    return tuple(out)


def _negate_term(t: _Term, where: str) -> tuple[_Term, ...]:
    if t.anywhere:
        msg = f"{where}: ~anywhere() selects nothing; to allow nothing, omit the rule"
        raise UnrepresentableError(msg)
    if t.ip is not None:
        return t.ip._complement()
    out: list[_Term] = []
    if t.namespaces is None:
        # Complement within the policy's namespace: the pods there that fail some requirement.
        out.extend(_Term(pods=(~r,)) for r in t.pods or ())
    else:
        # Complement within the cluster: pods of other namespaces, or pods failing a requirement.
        out.extend(_Term(namespaces=(~r,)) for r in t.namespaces)
        out.extend(_Term(pods=(~r,), namespaces=()) for r in t.pods or ())
    if not out:
        what = "every pod of the cluster" if t.namespaces is not None else "every pod"
        msg = f"{where}: this selector matches {what}, so its negation selects nothing; omit the rule"
        raise UnrepresentableError(msg)
    return tuple(out)


def _negate_dnf(terms: tuple[_Term, ...], where: str) -> tuple[_Term, ...]:
    labelled = [t for t in terms if t.is_labels]
    if labelled and len(labelled) != len(terms):
        msg = (
            f"{where}: cannot negate a mix of ip_block()/anywhere() and label selectors; "
            "negate each part separately"
        )
        raise UnrepresentableError(msg)
    scopes = {t.namespaces is None for t in labelled}
    if len(scopes) > 1:
        msg = (
            f"{where}: cannot negate a mix of bare pods(...) (the policy's namespace) and "
            "namespace-qualified selectors (the whole cluster); qualify the pods with "
            ".in_namespace('...') or & all_namespaces() first"
        )
        raise UnrepresentableError(msg)
    result: tuple[_Term, ...] | None = None
    for t in terms:
        neg = _negate_term(t, where)
        result = neg if result is None else _and_dnf(result, neg, where)
    assert result is not None  # a selector always has at least one term
    if not result:
        msg = f"{where}: the negation selects nothing; omit the rule"
        raise UnrepresentableError(msg)
    return result


def _from_terms(terms: tuple[_Term, ...]) -> Selector:
    parts: list[Selector] = []
    for t in terms:
        if t.anywhere:
            parts.append(Anywhere())
            continue
        if t.ip is not None:
            parts.append(t.ip)
            continue
        leaves: list[Selector] = []
        if t.namespaces is not None:
            leaves.extend(Namespaces(requirements=g) for g in _split_by_key(t.namespaces))
        if t.pods is not None:
            leaves.extend(Pods(requirements=g) for g in _split_by_key(t.pods))
        parts.append(leaves[0] if len(leaves) == 1 else And(items=tuple(leaves)))
    return parts[0] if len(parts) == 1 else Or(items=tuple(parts))


def _split_by_key(reqs: tuple[Req, ...]) -> list[tuple[Req, ...]]:
    """Group requirements so that no group repeats a key (each becomes one keyword call)."""
    if not reqs:
        return [()]
    groups: list[list[Req]] = []
    for r in reqs:
        for g in groups:
            if all(x.key != r.key for x in g):
                g.append(r)
                break
        else:
            groups.append([r])
    return [tuple(g) for g in groups]


# ------------------------------------------------------------------ rendering helpers


def _label_selector(reqs: tuple[Req, ...]) -> LabelSelector:
    """Requirements as a LabelSelector: equalities in matchLabels, the rest sorted expressions."""
    match_labels: dict[str, str] = {}
    exprs: list[Req] = []
    for r in sorted(set(reqs), key=Req.sort_key):
        if r.is_equality and r.key not in match_labels:
            match_labels[r.key] = r.values[0]
        else:
            exprs.append(r)
    return LabelSelector(
        match_labels=match_labels or None,
        match_expressions=tuple(
            LabelSelectorRequirement(
                key=r.key,
                operator=r.operator,
                values=tuple(sorted(r.values)) if r.values else None,
            )
            for r in exprs
        )
        or None,
    )


def _ns_name_selector(name: str) -> LabelSelector:
    return LabelSelector(match_labels={NAMESPACE_NAME_LABEL: name})


def _term_peer(term: _Term, *, policy_namespace: str, home: str | None) -> NetworkPolicyPeer:
    """One term as a peer of a policy living in ``policy_namespace``."""
    if term.ip is not None:
        return NetworkPolicyPeer(ip_block=term.ip._model())
    pod_sel = _label_selector(term.pods) if term.pods is not None else None
    if term.namespaces is not None:
        ns_sel: LabelSelector | None = _label_selector(term.namespaces)
    elif home is None:
        msg = (
            f"{_from_terms((term,))!r} has no namespace: a bare pods(...) means the policy's own "
            f"namespace, but this peer is rendered into a policy in {policy_namespace!r} and no "
            "home namespace is set; write .in_namespace('...') or use PolicySet(namespace=...)"
        )
        raise DslUsageError(msg)
    elif home == policy_namespace:
        ns_sel = None
    else:
        # The peer lives in the set's namespace but the policy in another one: say which.
        ns_sel = _ns_name_selector(home)
    return NetworkPolicyPeer(pod_selector=pod_sel, namespace_selector=ns_sel)


def _term_target(term: _Term, *, home: str | None) -> tuple[str, LabelSelector] | str:
    """Where a policy selecting this term's pods lives, or why it cannot be placed."""
    if not term.is_labels:
        return "it is outside the cluster's pods"
    pod_sel = _label_selector(term.pods) if term.pods is not None else LabelSelector()
    if term.namespaces is None:
        if home is None:
            return "it has no namespace (write .in_namespace('...') or use PolicySet(namespace=...))"
        return home, pod_sel
    names = [r for r in term.namespaces if r.key == NAMESPACE_NAME_LABEL and r.is_equality]
    if not names:
        return "its namespaceSelector names no single namespace (use namespace('...'))"
    ns_name = names[0].values[0]
    rest = [r for r in term.namespaces if r != names[0]]
    if any(r.key != NAMESPACE_NAME_LABEL or not r.matches({r.key: ns_name}) for r in rest):
        return "its namespace requirements go beyond the namespace's name"
    return ns_name, pod_sel


# ------------------------------------------------------------------ the AST


def _operand_error(op: str, other: object) -> DslUsageError:
    hint = ""
    if isinstance(other, str) and "=" in other:
        k, _, v = other.partition("=")
        hint = f", such as pods({{{k.strip()!r}: {v.strip()!r}}})"
    elif isinstance(other, Mapping):
        hint = f", such as pods({dict(other)!r})"
    return DslUsageError(
        f"{op}: expected a Selector{hint or ', such as pods(app=...)'}, but got "
        f"other={other!r} (type={type(other).__name__})"
    )


class Selector:
    """Base class of every selector; combine with ``&``, ``|`` and ``~``.

    Example:
        >>> s = namespace("monitoring") & pods(app="prometheus")
        >>> s
        namespace('monitoring') & pods(app='prometheus')
        >>> s.matches({"app": "prometheus"}, {"kubernetes.io/metadata.name": "monitoring"})
        True
        >>> len(s.peers(policy_namespace="payments"))
        1
    """

    __slots__ = ()

    # -- algebra -------------------------------------------------------------------

    def __and__(self, other: Selector) -> Selector:
        # Typed Selector so mypy rejects `sel & "app=web"`; runtime still checks and hints.
        if not isinstance(other, Selector):
            if isinstance(other, (str, Mapping)):
                raise _operand_error(f"{self!r} & ...", other)
            return NotImplemented
        return And.of(self, other)

    def __rand__(self, other: object) -> Selector:
        if isinstance(other, (str, Mapping)):
            raise _operand_error(f"... & {self!r}", other)
        return NotImplemented

    def __or__(self, other: Selector) -> Selector:
        if not isinstance(other, Selector):
            if isinstance(other, (str, Mapping)):
                raise _operand_error(f"{self!r} | ...", other)
            return NotImplemented
        return Or.of(self, other)

    def __ror__(self, other: object) -> Selector:
        if isinstance(other, (str, Mapping)):
            raise _operand_error(f"... | {self!r}", other)
        return NotImplemented

    def __invert__(self) -> Selector:
        return _from_terms(_negate_dnf(self._terms(), f"~({self!r})"))

    def __bool__(self) -> NoReturn:
        msg = (
            "the truth value of a Selector is ambiguous; use & | ~ instead of and/or/not, "
            "and compare selectors with == only inside parentheses"
        )
        raise TypeError(msg)

    def __contains__(self, item: object) -> NoReturn:
        msg = (
            "`x in selector` always coerces to bool; use selector.matches(labels) to test a "
            "label set, or In(...) to match one of several values"
        )
        raise TypeError(msg)

    def in_namespace(self, name: str) -> Selector:
        """These pods, in the namespace called ``name`` instead of the policy's own.

        Same as ``self & namespace(name)``.

        Raises:
            DslUsageError: the selector already names its namespaces.

        Example:
            >>> pods(app="api").in_namespace("payments")
            namespace('payments') & pods(app='api')
        """
        if any(t.namespaces is not None for t in self._terms()):
            msg = (
                f"in_namespace(): {self!r} already has a namespace; in_namespace() "
                "can only qualify bare pods(...)"
            )
            raise DslUsageError(msg)
        return And.of(namespace(name), self)

    # -- meaning -------------------------------------------------------------------

    def matches(
        self, labels: Mapping[str, str], namespace_labels: Mapping[str, str] | None = None
    ) -> bool:
        """Whether a pod with ``labels``, in a namespace with ``namespace_labels``, is selected.

        Only labels are tested. *Where* bare ``pods(...)`` live (the policy's namespace) is the
        selector's scope, which this method does not see; ip blocks match no label set.

        Example:
            >>> (pods(app="a") | pods(app="b")).matches({"app": "b"})
            True
        """
        raise NotImplementedError  # every concrete subclass overrides this

    def _terms(self) -> tuple[_Term, ...]:
        raise NotImplementedError  # every concrete subclass overrides this

    def peers(
        self, *, policy_namespace: str, home: str | None = None
    ) -> tuple[NetworkPolicyPeer, ...] | None:
        """The ``from``/``to`` list for a policy in ``policy_namespace``; None means every peer.

        ``home`` is the namespace bare ``pods(...)`` belong to (default: ``policy_namespace``).

        Example:
            >>> [p.to_dict() for p in (pods(app="a") | pods(app="b")).peers(policy_namespace="x")]
            [{'podSelector': {'matchLabels': {'app': 'a'}}}, {'podSelector': {'matchLabels': {'app': 'b'}}}]
            >>> anywhere().peers(policy_namespace="x") is None
            True
        """
        home = policy_namespace if home is None else home
        terms = self._terms()
        if any(t.anywhere for t in terms):
            return None
        out: list[NetworkPolicyPeer] = []
        for t in terms:
            peer = _term_peer(t, policy_namespace=policy_namespace, home=home)
            if peer not in out:
                out.append(peer)
        return tuple(out)

    def targets(self, *, home: str | None = None) -> tuple[tuple[str, LabelSelector], ...]:
        """The (namespace, podSelector) pairs a policy must select to cover these pods.

        One pair per OR alternative. ``home`` is the namespace of bare ``pods(...)``.

        Raises:
            UnrepresentableError: an alternative is not a set of pods in one named namespace.

        Example:
            >>> [(ns, s.to_dict()) for ns, s in pods(app="api").targets(home="payments")]
            [('payments', {'matchLabels': {'app': 'api'}})]
        """
        out: list[tuple[str, LabelSelector]] = []
        for t in self._terms():
            placed = _term_target(t, home=home)
            if isinstance(placed, str):
                msg = f"{_from_terms((t,))!r} cannot be selected by a policy: {placed}"
                raise UnrepresentableError(msg)
            if placed not in out:
                out.append(placed)
        return tuple(out)

    def __netpol_endpoint__(self) -> EndpointSpec:
        """A representative pod of this selector, for the evaluator.

        Needs one alternative, a namespace named with ``namespace("...")`` (or
        ``.in_namespace("...")``), and pod labels given as exact values (``DoesNotExist`` is met
        by leaving the label off). ``In`` with several values, ``NotIn``, ``Exists`` or ``|`` have
        no single representative pod, so they raise.

        Raises:
            DslUsageError: no single representative pod exists.

        Example:
            >>> sel = namespace("monitoring") & pods(app="prometheus")
            >>> ep = sel.__netpol_endpoint__()
            >>> (ep.namespace, dict(ep.labels))
            ('monitoring', {'app': 'prometheus'})
        """
        from netpol_dsl.evaluate import EndpointSpec

        namespace_name, labels, ns_labels = self._representative()
        return EndpointSpec(
            namespace=namespace_name,
            labels=labels,
            namespace_labels=ns_labels,
        )

    def _representative(self) -> tuple[str, dict[str, str], dict[str, str] | None]:
        """(namespace, pod labels, namespace labels or None) of one pod this selector selects.

        Example:
            >>> pods(app="api").in_namespace("payments")._representative()
            ('payments', {'app': 'api'}, None)
        """
        terms = self._terms()
        where = f"{self!r} as an endpoint"
        if len(terms) != 1:
            msg = f"{where}: an OR has no single representative pod; use one of its alternatives"
            raise DslUsageError(msg)
        t = terms[0]
        if not t.is_labels:
            msg = f"{where}: expected pods; an ip_block()/anywhere() is not a pod"
            raise DslUsageError(msg)
        if t.namespaces is None:
            msg = f"{where}: expected a namespace; write .in_namespace('...') or & namespace('...')"
            raise DslUsageError(msg)
        pod_labels = self._exact(t.pods or (), where, "pod")
        ns_labels = self._exact(t.namespaces, where, "namespace")
        name = ns_labels.get(NAMESPACE_NAME_LABEL)
        if name is None:
            msg = f"{where}: expected a namespace named with namespace('...')"
            raise DslUsageError(msg)
        extra = ns_labels if len(ns_labels) > 1 else None
        return name, pod_labels, extra

    @staticmethod
    def _exact(reqs: tuple[Req, ...], where: str, what: str) -> dict[str, str]:
        labels: dict[str, str] = {}
        for r in reqs:
            if r.is_equality:
                labels[r.key] = r.values[0]
            elif r.operator != "DoesNotExist":
                msg = (
                    f"{where}: {what} label {r.key!r} {r.operator} {list(r.values)!r} has no "
                    "single representative value; write the exact label value"
                )
                raise DslUsageError(msg)
        if not all(r.matches(labels) for r in reqs):
            msg = f"{where}: its {what} requirements contradict each other"
            raise DslUsageError(msg)
        return labels


def _kwargs_repr(reqs: tuple[Req, ...]) -> str:
    simple = all(r.key.isidentifier() and not keyword.iskeyword(r.key) for r in reqs)
    if simple:
        return ", ".join(f"{r.key}={r.as_match()!r}" for r in reqs)
    body = ", ".join(f"{r.key!r}: {r.as_match()!r}" for r in reqs)
    return "{" + body + "}"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Pods(Selector):
    """Pods whose labels meet every requirement; in the policy's namespace unless qualified.

    Build with ``pods`` or ``all_pods``.

    Example:
        >>> Pods(requirements=()) == all_pods()
        True
    """

    requirements: tuple[Req, ...] = ()

    def __post_init__(self) -> None:
        if not _satisfiable(self.requirements):
            msg = f"{self!r}: can never match; its requirements contradict each other"
            raise UnrepresentableError(msg)

    def __repr__(self) -> str:
        if not self.requirements:
            return "all_pods()"
        return f"pods({_kwargs_repr(self.requirements)})"

    def matches(
        self, labels: Mapping[str, str], namespace_labels: Mapping[str, str] | None = None
    ) -> bool:
        """Whether ``labels`` meet every requirement.

        Example:
            >>> pods(app="web").matches({"app": "web", "tier": "x"})
            True
        """
        return all(r.matches(labels) for r in self.requirements)

    def _terms(self) -> tuple[_Term, ...]:
        return (_Term(pods=self.requirements),)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Namespaces(Selector):
    """Every pod in the namespaces whose labels meet every requirement.

    Build with ``namespace``, ``namespaces`` or ``all_namespaces``.

    Example:
        >>> Namespaces(requirements=()) == all_namespaces()
        True
    """

    requirements: tuple[Req, ...] = ()

    def __post_init__(self) -> None:
        if not _satisfiable(self.requirements):
            msg = f"{self!r}: can never match; its requirements contradict each other"
            raise UnrepresentableError(msg)

    def __repr__(self) -> str:
        reqs = self.requirements
        if not reqs:
            return "all_namespaces()"
        if len(reqs) == 1 and reqs[0].key == NAMESPACE_NAME_LABEL:
            r = reqs[0]
            if r.operator == "In":
                return f"namespace({', '.join(map(repr, r.values))})"
            if r.operator == "NotIn":
                return f"~namespace({', '.join(map(repr, r.values))})"
        return f"namespaces({_kwargs_repr(reqs)})"

    def matches(
        self, labels: Mapping[str, str], namespace_labels: Mapping[str, str] | None = None
    ) -> bool:
        """Whether ``namespace_labels`` meet every requirement (pod labels are not looked at).

        Example:
            >>> namespace("a").matches({}, {"kubernetes.io/metadata.name": "a"})
            True
        """
        ns = namespace_labels or {}
        return all(r.matches(ns) for r in self.requirements)

    def _terms(self) -> tuple[_Term, ...]:
        return (_Term(namespaces=self.requirements),)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Addresses(Selector):
    """An ``ipBlock``: the addresses in ``cidr`` except those in ``except_``.

    Build with ``ip_block``. It stands alone in its peer, so it combines only with ``|``.

    Example:
        >>> ip_block("10.0.0.0/8").contains("10.2.3.4")
        True
    """

    cidr: str
    except_: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self._model()

    def _model(self) -> IPBlock:
        try:
            return IPBlock(cidr=self.cidr, except_=self.except_ or None)
        except InvalidPolicyError as err:
            raise InvalidPolicyError(issues=err.issues, source="ip_block()") from None

    def __repr__(self) -> str:
        if self.except_:
            return f"ip_block({self.cidr!r}, except_={list(self.except_)!r})"
        return f"ip_block({self.cidr!r})"

    def contains(self, ip: str) -> bool:
        """Whether ``ip`` is in the block.

        Example:
            >>> ip_block("10.0.0.0/8", except_=["10.1.0.0/16"]).contains("10.1.0.1")
            False
        """
        return self._model().contains(ip)

    def matches(
        self, labels: Mapping[str, str], namespace_labels: Mapping[str, str] | None = None
    ) -> bool:
        """Always False: an ipBlock selects addresses, not labelled pods (see ``contains``).

        Example:
            >>> ip_block("0.0.0.0/0").matches({"app": "x"})
            False
        """
        return False

    def _terms(self) -> tuple[_Term, ...]:
        return (_Term(ip=self),)

    def _complement(self) -> tuple[_Term, ...]:
        net = self._model().network
        whole = "0.0.0.0/0" if net.version == 4 else "::/0"
        out: list[_Term] = []
        if net.prefixlen > 0:
            out.append(_Term(ip=Addresses(cidr=whole, except_=(str(net),))))
        out.extend(_Term(ip=Addresses(cidr=e)) for e in self.except_)
        if not out:
            msg = f"~{self!r}: selects no address; omit the rule"
            raise UnrepresentableError(msg)
        return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Anywhere(Selector):
    """Every peer: all pods of every namespace and every address. Renders as no ``from``/``to``.

    Build with ``anywhere``.

    Example:
        >>> anywhere().matches({})
        True
    """

    def __repr__(self) -> str:
        return "anywhere()"

    def matches(
        self, labels: Mapping[str, str], namespace_labels: Mapping[str, str] | None = None
    ) -> bool:
        """Always True.

        Example:
            >>> anywhere().matches({"any": "thing"})
            True
        """
        return True

    def _terms(self) -> tuple[_Term, ...]:
        return (_Term(anywhere=True),)


def _wrap(sel: Selector) -> str:
    return f"({sel!r})" if isinstance(sel, Or) else repr(sel)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class And(Selector):
    """All of ``items`` hold: one peer per alternative after distributing over ``|``.

    Build with ``a & b``; nested ANDs are flattened in the order written.

    Example:
        >>> (pods(app="a") & (pods(tier="x") & pods(env="y"))).items[2]
        pods(env='y')
    """

    items: tuple[Selector, ...]

    def __post_init__(self) -> None:
        if len(self.items) < 2:
            msg = (
                f"And(): got {len(self.items)} item(s); expected at least two. For every pod "
                "write all_pods(), for one selector use it directly"
            )
            raise DslUsageError(msg)
        terms = self._terms()
        if not terms:
            msg = (
                f"{self!r}: can never match; its requirements contradict each other. Did you "
                "mean | (either), or In(...) for one of several values?"
            )
            raise UnrepresentableError(msg)

    @staticmethod
    def of(*items: Selector) -> Selector:
        """AND of ``items``, flattening nested ANDs and keeping the written order.

        Example:
            >>> And.of(pods(a="1"), pods(b="2"))
            pods(a='1') & pods(b='2')
        """
        flat: list[Selector] = []
        for item in items:
            flat.extend(item.items if isinstance(item, And) else (item,))
        return And(items=tuple(flat)) if len(flat) > 1 else flat[0]

    def __repr__(self) -> str:
        return " & ".join(_wrap(i) for i in self.items)

    def matches(
        self, labels: Mapping[str, str], namespace_labels: Mapping[str, str] | None = None
    ) -> bool:
        """Whether every item matches.

        Example:
            >>> (pods(a="1") & pods(b="2")).matches({"a": "1"})
            False
        """
        return all(i.matches(labels, namespace_labels) for i in self.items)

    def _terms(self) -> tuple[_Term, ...]:
        where = repr(self)
        terms = self.items[0]._terms()
        for item in self.items[1:]:
            terms = _and_dnf(terms, item._terms(), where)
        return terms


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Or(Selector):
    """Any of ``items`` holds: several peers.

    Build with ``a | b``; nested ORs are flattened in the order written.

    Example:
        >>> len((pods(app="a") | pods(app="b") | pods(app="c")).items)
        3
    """

    items: tuple[Selector, ...]

    def __post_init__(self) -> None:
        if len(self.items) < 2:
            msg = f"Or(): got {len(self.items)} item(s); expected at least two"
            raise DslUsageError(msg)

    @staticmethod
    def of(*items: Selector) -> Selector:
        """OR of ``items``, flattening nested ORs and keeping the written order.

        Example:
            >>> Or.of(pods(a="1"), pods(b="2"))
            pods(a='1') | pods(b='2')
        """
        flat: list[Selector] = []
        for item in items:
            flat.extend(item.items if isinstance(item, Or) else (item,))
        return Or(items=tuple(flat)) if len(flat) > 1 else flat[0]

    def __repr__(self) -> str:
        return " | ".join(repr(i) for i in self.items)

    def matches(
        self, labels: Mapping[str, str], namespace_labels: Mapping[str, str] | None = None
    ) -> bool:
        """Whether any item matches.

        Example:
            >>> (pods(a="1") | pods(b="2")).matches({"b": "2"})
            True
        """
        return any(i.matches(labels, namespace_labels) for i in self.items)

    def _terms(self) -> tuple[_Term, ...]:
        out: list[_Term] = []
        for item in self.items:
            for t in item._terms():
                if t not in out:
                    out.append(t)
        return tuple(out)


# ------------------------------------------------------------------ constructors


def pods(labels: Mapping[str, LabelMatch] | None = None, /, **match: LabelMatch) -> Pods:
    """Pods whose labels match, in the policy's namespace (like a lone ``podSelector``).

    Each value is an exact label value or a requirement: ``In(...)``, ``NotIn(...)``,
    ``Exists()``, ``DoesNotExist()``. Keys that are not Python names go in a mapping.
    With no labels at all, write ``all_pods``.

    Raises:
        DslUsageError: no labels, or a value of the wrong type.
        InvalidPolicyError: a label key or value Kubernetes would reject.

    Example:
        >>> pods(app="frontend")
        pods(app='frontend')
        >>> pods({"app.kubernetes.io/name": "api"}, tier=NotIn("db"))
        pods({'app.kubernetes.io/name': 'api', 'tier': NotIn('db')})
    """
    reqs = _reqs("pods()", labels, match)
    if not reqs:
        msg = "pods(): got no labels; expected at least one, e.g. pods(app='web'). For every pod write all_pods()"
        raise DslUsageError(msg)
    return Pods(requirements=reqs)


def all_pods() -> Pods:
    """Every pod in the policy's namespace (``podSelector: {}``).

    Example:
        >>> all_pods().peers(policy_namespace="a")[0].to_dict()
        {'podSelector': {}}
    """
    return Pods(requirements=())


def _ns_name(name: object, where: str) -> str:
    if not isinstance(name, str):
        msg = f"{where}: got {name!r} (type={type(name).__name__}); expected a namespace name"
        raise DslUsageError(msg)
    problems = _rules.dns1123_label(name)
    if problems:
        msg = f"{where}: got {name!r}; expected a namespace name, {problems[-1]}"
        raise InvalidPolicyError(msg)
    return name


def namespace(*names: str) -> Namespaces:
    """Every pod in the namespace(s) with these names.

    Matches the ``kubernetes.io/metadata.name`` label, which the API server sets on every
    namespace to its name (Kubernetes >= 1.21), so no labelling is needed.

    Raises:
        DslUsageError: no name, or not a string.
        InvalidPolicyError: not a valid namespace name.

    Example:
        >>> namespace("monitoring").peers(policy_namespace="payments")[0].to_dict()
        {'namespaceSelector': {'matchLabels': {'kubernetes.io/metadata.name': 'monitoring'}}}
    """
    if not names:
        msg = "namespace(): got no name; expected a namespace name such as namespace('monitoring')"
        raise DslUsageError(msg)
    checked = tuple(dict.fromkeys(_ns_name(n, "namespace()") for n in names))
    return Namespaces(requirements=(Req(key=NAMESPACE_NAME_LABEL, operator="In", values=checked),))


def namespaces(labels: Mapping[str, LabelMatch] | None = None, /, **match: LabelMatch) -> Namespaces:
    """Every pod in the namespaces whose labels match (like a lone ``namespaceSelector``).

    Raises:
        DslUsageError: no labels (write ``all_namespaces``), or a value of the wrong type.

    Example:
        >>> namespaces(team="payments")
        namespaces(team='payments')
    """
    reqs = _reqs("namespaces()", labels, match)
    if not reqs:
        msg = (
            "namespaces(): got no labels; expected at least one, e.g. namespaces(team='a'). "
            "For every namespace write all_namespaces()"
        )
        raise DslUsageError(msg)
    return Namespaces(requirements=reqs)


def all_namespaces() -> Namespaces:
    """Every pod in every namespace (``namespaceSelector: {}``); not addresses outside the cluster.

    Example:
        >>> all_namespaces().peers(policy_namespace="a")[0].to_dict()
        {'namespaceSelector': {}}
    """
    return Namespaces(requirements=())


def ip_block(cidr: str, except_: Iterable[str] = ()) -> Addresses:
    """The addresses in ``cidr`` except those in ``except_`` (an ``ipBlock`` peer).

    Raises:
        DslUsageError: ``cidr`` is not a string.
        InvalidPolicyError: the CIDR (or an exception) is invalid or not inside ``cidr``.

    Example:
        >>> ip_block("10.0.0.0/8", except_=["10.1.0.0/16"])
        ip_block('10.0.0.0/8', except_=['10.1.0.0/16'])
        >>> ip_block("10.0.0.1")
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.InvalidPolicyError: ip_block(): cidr: got '10.0.0.1'; expected a CIDR such as '10.0.0.0/8' or '2001:db8::/64'. Did you mean '10.0.0.1/32'?
    """
    if not isinstance(cidr, str):
        msg = f"ip_block(): got cidr={cidr!r} (type={type(cidr).__name__}); expected a CIDR string such as '10.0.0.0/8'"
        raise DslUsageError(msg)
    if isinstance(except_, str):
        msg = f"ip_block(): got except_={except_!r}; expected a list of CIDRs, e.g. except_=[{except_!r}]"
        raise DslUsageError(msg)
    excepts = tuple(except_)
    for e in excepts:
        if not isinstance(e, str):
            msg = f"ip_block(): got except_ entry {e!r} (type={type(e).__name__}); expected a CIDR string"
            raise DslUsageError(msg)
    return Addresses(cidr=cidr, except_=excepts)


def anywhere() -> Anywhere:
    """Every peer: pods in all namespaces, nodes and external addresses (no ``from``/``to``).

    Example:
        >>> anywhere()
        anywhere()
    """
    return Anywhere()
