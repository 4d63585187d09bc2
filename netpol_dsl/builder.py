"""Flows: ``allow(frontend).to(api).on(8080)``, and the ports they are allowed on.

One flow states one allowed connection and compiles to **both halves** by default:

* the *ingress* half, a rule on the destination's pods admitting the source, and
* the *egress* half, a rule on the source's pods letting them reach the destination,

so the connection works under a namespace-wide default-deny of both directions (the lesson's point:
"egress from api-server is not mentioned ... we need a separate egress policy"). An end outside the
cluster (``ip_block(...)``, ``anywhere()``) has no pods to put a rule on, so only the other half is
emitted for it.

Choose halves per flow with ``Flow.ingress_only`` / ``Flow.egress_only``, or for a whole
``PolicySet`` with ``PolicySet(halves="ingress")``, e.g. for namespaces that
do not isolate egress, or when the other side belongs to another team's namespace.

The stages are types: ``allow()`` returns ``AllowFrom``, which only offers ``.to()``; that returns
a ``Flow`` with ``.on()``. ``allow(a).on(80)`` is therefore a type error for mypy, and at run time a
``DslUsageError`` that says to call ``.to(...)`` first.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from typing_extensions import Self

from netpol_dsl import _coerce
from netpol_dsl.errors import DslUsageError, InvalidPolicyError, UnrepresentableError
from netpol_dsl.model import (
    LabelSelector,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    PolicyType,
    Protocol,
)
from netpol_dsl.selectors import Selector, _Term, _term_peer, _term_target

if TYPE_CHECKING:
    from netpol_dsl._coerce import IntoPort, IntoSelector
    from netpol_dsl.model import NetworkPolicy

__all__ = [
    "AllowFrom",
    "Flow",
    "Halves",
    "Port",
    "Site",
    "Statement",
    "all_sctp",
    "all_tcp",
    "all_udp",
    "allow",
    "caller_site",
    "sctp",
    "sctp_range",
    "tcp",
    "tcp_range",
    "udp",
    "udp_range",
]

#: Which halves of a flow to emit: both (the default), only the ingress rule, or only the egress rule.
Halves = Literal["both", "ingress", "egress"]
_HALVES: tuple[Halves, ...] = ("both", "ingress", "egress")

#: Where a DSL statement was written: ``(file, line)``.
Site = tuple[str, int]


def caller_site() -> Site | None:
    """The file and line of the nearest caller outside netpol-dsl (where a statement is written).

    Statements record it when they are created, so that lint can point at the DSL line that
    produced a finding in a ``.py`` source.

    Example:
        >>> from netpol_dsl import pods
        >>> allow(pods(app="a")).site[1] > 0
        True
    """
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not (module == "netpol_dsl" or module.startswith("netpol_dsl.")):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    return None


# ------------------------------------------------------------------ ports


@dataclass(frozen=True, slots=True, kw_only=True)
class Port:
    """A protocol with a port, a port range (``end_port``) or every port (``port=None``).

    Build with ``tcp``, ``udp``, ``sctp``, ``tcp_range``, ``all_tcp``, ...

    Example:
        >>> Port(protocol="UDP", port=53)
        udp(53)
        >>> tcp_range(8000, 9000).to_model().to_dict()
        {'protocol': 'TCP', 'port': 8000, 'endPort': 9000}
    """

    protocol: Protocol = "TCP"
    port: int | str | None = None
    end_port: int | None = None

    def __post_init__(self) -> None:
        self._validate("Port()")

    @classmethod
    def build(
        cls, protocol: Protocol, port: int | str | None, end_port: int | None, where: str
    ) -> Port:
        """Validate with errors attributed to ``where`` (e.g. ``"on()"``), then construct.

        Raises:
            DslUsageError: a value of the wrong type.
            InvalidPolicyError: a port Kubernetes would reject.

        Example:
            >>> Port.build("TCP", 70000, None, "tcp()")
            Traceback (most recent call last):
            ...
            netpol_dsl.errors.InvalidPolicyError: tcp(): port: got 70000; expected 1..65535 or a port name such as 'http'
        """
        _check_port(protocol, port, end_port, where)
        return cls(protocol=protocol, port=port, end_port=end_port)

    def _validate(self, where: str) -> None:
        _check_port(self.protocol, self.port, self.end_port, where)

    def to_model(self) -> NetworkPolicyPort:
        """This port as the model's ``NetworkPolicyPort`` (protocol always written out).

        Example:
            >>> tcp("http").to_model().to_dict()
            {'protocol': 'TCP', 'port': 'http'}
        """
        return NetworkPolicyPort(protocol=self.protocol, port=self.port, end_port=self.end_port)

    def sort_key(self) -> tuple[str, int, int, str, int]:
        """Rendering order: protocol, then numbers before names, then range end.

        Example:
            >>> sorted([udp(53), tcp(53), tcp("dns")], key=Port.sort_key)
            [tcp(53), tcp('dns'), udp(53)]
        """
        port = self.port
        if port is None:
            return (self.protocol, 0, 0, "", 0)
        if isinstance(port, int):
            return (self.protocol, 1, port, "", self.end_port or 0)
        return (self.protocol, 2, 0, port, 0)

    def __repr__(self) -> str:
        proto = self.protocol.lower()
        if self.port is None:
            return f"all_{proto}()"
        if self.end_port is not None:
            return f"{proto}_range({self.port!r}, {self.end_port!r})"
        return f"{proto}({self.port!r})"


def _check_port(protocol: object, port: object, end_port: object, where: str) -> None:
    if protocol not in ("TCP", "UDP", "SCTP"):
        msg = f"{where}: got protocol={protocol!r}; expected one of 'TCP', 'UDP', 'SCTP'"
        raise DslUsageError(msg)
    for label, value in (("port", port), ("end_port", end_port)):
        allowed = (int, str) if label == "port" else (int,)
        if value is not None and (isinstance(value, bool) or not isinstance(value, allowed)):
            kind = "a port number or name" if label == "port" else "a port number"
            msg = f"{where}: got {label}={value!r} (type={type(value).__name__}); expected {kind}"
            raise DslUsageError(msg)
    try:
        NetworkPolicyPort(protocol=protocol, port=port, end_port=end_port)
    except InvalidPolicyError as err:
        raise InvalidPolicyError(issues=err.issues, source=where) from None


def tcp(port: int | str) -> Port:
    """TCP on one port number or named container port.

    Raises:
        DslUsageError: not an int or str.
        InvalidPolicyError: outside 1..65535, or not a valid port name.

    Example:
        >>> tcp(8080), tcp("http")
        (tcp(8080), tcp('http'))
    """
    return Port.build("TCP", port, None, "tcp()")


def udp(port: int | str) -> Port:
    """UDP on one port number or named container port.

    Example:
        >>> udp(53).to_model().to_dict()
        {'protocol': 'UDP', 'port': 53}
    """
    return Port.build("UDP", port, None, "udp()")


def sctp(port: int | str) -> Port:
    """SCTP on one port number or named container port.

    Example:
        >>> sctp(3868)
        sctp(3868)
    """
    return Port.build("SCTP", port, None, "sctp()")


def tcp_range(start: int, end: int) -> Port:
    """TCP on ports ``start..end`` inclusive (``port`` + ``endPort``).

    Raises:
        InvalidPolicyError: ``end < start`` or a number outside 1..65535.

    Example:
        >>> tcp_range(8000, 9000)
        tcp_range(8000, 9000)
    """
    return Port.build("TCP", start, end, "tcp_range()")


def udp_range(start: int, end: int) -> Port:
    """UDP on ports ``start..end`` inclusive.

    Example:
        >>> udp_range(30000, 30100).to_model().to_dict()
        {'protocol': 'UDP', 'port': 30000, 'endPort': 30100}
    """
    return Port.build("UDP", start, end, "udp_range()")


def sctp_range(start: int, end: int) -> Port:
    """SCTP on ports ``start..end`` inclusive.

    Example:
        >>> sctp_range(3868, 3870)
        sctp_range(3868, 3870)
    """
    return Port.build("SCTP", start, end, "sctp_range()")


def all_tcp() -> Port:
    """Every TCP port (``protocol: TCP`` without ``port``).

    Example:
        >>> all_tcp().to_model().to_dict()
        {'protocol': 'TCP'}
    """
    return Port(protocol="TCP")


def all_udp() -> Port:
    """Every UDP port.

    Example:
        >>> all_udp()
        all_udp()
    """
    return Port(protocol="UDP")


def all_sctp() -> Port:
    """Every SCTP port.

    Example:
        >>> all_sctp()
        all_sctp()
    """
    return Port(protocol="SCTP")


# ------------------------------------------------------------------ compilation units


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What a statement compiles against: the home namespace and the default halves.

    Example:
        >>> Context(namespace="payments").halves
        'both'
    """

    namespace: str | None = None
    halves: Halves = "both"


@dataclass(frozen=True, slots=True, kw_only=True)
class Fragment:
    """Part of one policy: the target, its directions and rules; merged by ``PolicySet``.

    ``name`` is None for an automatically named fragment (named after target and direction).

    Example:
        >>> Fragment(namespace="a", pod_selector=LabelSelector(), policy_types=("Ingress",),
        ...          origin="deny_all('a')").name is None
        True
    """

    namespace: str
    pod_selector: LabelSelector
    policy_types: tuple[PolicyType, ...]
    ingress: tuple[NetworkPolicyIngressRule, ...] = ()
    egress: tuple[NetworkPolicyEgressRule, ...] = ()
    name: str | None = None
    origin: str
    unsafe_kube_system: bool = False
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    #: where the statement behind this fragment was written (filled in by ``PolicySet``)
    site: Site | None = dataclasses.field(default=None, compare=False)


class Statement:
    """Something a ``PolicySet`` can hold: a flow or a baseline.

    Example:
        >>> from netpol_dsl import pods
        >>> isinstance(allow(pods(app="a")).to(pods(app="b")), Statement)
        True
    """

    __slots__ = ()

    def fragments(self, ctx: Context) -> tuple[Fragment, ...]:
        """The policy fragments this statement contributes under ``ctx``.

        Example:
            >>> from netpol_dsl import pods
            >>> f = allow(pods(app="a")).to(pods(app="b")).fragments(Context(namespace="x"))
            >>> [x.policy_types for x in f]
            [('Ingress',), ('Egress',)]
        """
        raise NotImplementedError  # every concrete statement overrides this

    def compile(self, namespace: str | None = None) -> list[NetworkPolicy]:
        """Compile this statement alone, with bare ``pods(...)`` in ``namespace``.

        Same as ``PolicySet(namespace=namespace).add(self).compile()``.

        Example:
            >>> from netpol_dsl import pods
            >>> [p.name for p in allow(pods(app="a")).to(pods(app="b")).compile("x")]
            ['allow-egress-from-a', 'allow-ingress-to-b']
        """
        from netpol_dsl.policyset import PolicySet

        return PolicySet(namespace=namespace).add(self).compile()


# ------------------------------------------------------------------ flows


def allow(source: IntoSelector) -> AllowFrom:
    """Start a flow from ``source``; continue with ``.to(destination)``.

    A mapping means pods with those labels in the policy's namespace: ``allow({"app": "web"})``.

    Raises:
        DslUsageError: ``source`` is not a selector or a label mapping.

    Example:
        >>> from netpol_dsl import pods
        >>> allow(pods(app="frontend")).to(pods(app="api-server")).on(8080)
        allow(pods(app='frontend')).to(pods(app='api-server')).on(tcp(8080))
    """
    return AllowFrom(source=_coerce.into_selector(source, "allow()"))


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowFrom:
    """The first stage of a flow: its source. Only ``to`` continues it.

    Example:
        >>> from netpol_dsl import pods
        >>> allow(pods(app="a"))
        allow(pods(app='a'))
    """

    source: Selector
    #: where it was written (not part of its value: equal statements on two lines are equal)
    site: Site | None = dataclasses.field(default_factory=caller_site, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.source, Selector):
            msg = f"AllowFrom(): got source={self.source!r}; expected a Selector"
            raise DslUsageError(msg)

    def to(self, destination: IntoSelector) -> Flow:
        """The destination of the flow.

        Raises:
            DslUsageError: ``destination`` is not a selector or a label mapping.

        Example:
            >>> from netpol_dsl import pods, anywhere
            >>> allow(pods(app="api")).to(anywhere())
            allow(pods(app='api')).to(anywhere())
        """
        return Flow(source=self.source, destination=_coerce.into_selector(destination, "to()"),
                    site=self.site)

    def __repr__(self) -> str:
        return f"allow({self.source!r})"

    if not TYPE_CHECKING:  # for mypy, AllowFrom has no .on(): calling it is a type error

        def __getattr__(self, name: str) -> object:
            # Only reached for names the class lacks. A Flow's methods on the first stage are
            # the likely slip `allow(a).on(80)`: say what to call instead of a bare
            # AttributeError.
            if name in _FLOW_METHODS:
                msg = (f"{self!r}.{name}(): got a flow without a destination; expected "
                       f"{self!r}.to(destination).{name}(...). Call .to(...) first")
                raise DslUsageError(msg)
            msg = f"{type(self).__name__!r} object has no attribute {name!r}"
            raise AttributeError(msg, name=name, obj=self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow(Statement):
    """One allowed connection: ``source`` may open connections to ``destination`` on ``ports``.

    No ports means every port. ``halves=None`` takes the set's default (``"both"`` unless the
    ``PolicySet`` says otherwise).

    Naming: by default each half lands in a policy named after its target and direction
    (``allow-ingress-to-api-server``, ``allow-egress-from-frontend``), shared with every other flow
    on the same target, so adding a flow never renames an object. ``named`` gives the flow its
    own policies instead.

    Example:
        >>> from netpol_dsl import pods
        >>> f = allow(pods(app="a")).to(pods(app="b")).on(80).on(udp(53))
        >>> f.ports
        (tcp(80), udp(53))
    """

    source: Selector
    destination: Selector
    ports: tuple[Port, ...] = ()
    halves: Halves | None = None
    name: str | None = None
    egress_name: str | None = None
    #: where it was written (not part of its value: equal statements on two lines are equal)
    site: Site | None = dataclasses.field(default_factory=caller_site, compare=False, repr=False)

    def __post_init__(self) -> None:
        for label in ("source", "destination"):
            if not isinstance(getattr(self, label), Selector):
                msg = f"Flow(): got {label}={getattr(self, label)!r}; expected a Selector"
                raise DslUsageError(msg)
        if self.halves is not None and self.halves not in _HALVES:
            msg = f"Flow(): got halves={self.halves!r}; expected one of 'both', 'ingress', 'egress'"
            raise DslUsageError(msg)
        for p in self.ports:
            if not isinstance(p, Port):
                msg = f"Flow(): got port {p!r} (type={type(p).__name__}); expected a Port"
                raise DslUsageError(msg)
        if self.name is not None:
            _coerce.name(self.name, "named()")
        if self.egress_name is not None:
            _coerce.name(self.egress_name, "named()")

    def on(self, *ports: IntoPort) -> Self:
        """Allow these ports (added to any given before). A bare int or name means TCP.

        Raises:
            DslUsageError: no ports, or a value of the wrong type.
            InvalidPolicyError: a port Kubernetes would reject, reported at this call.

        Example:
            >>> from netpol_dsl import pods
            >>> allow(pods(app="a")).to(pods(app="b")).on(8080, "metrics", udp(53)).ports
            (tcp(8080), tcp('metrics'), udp(53))
        """
        if not ports:
            msg = "on(): got no ports; expected at least one. Leave .on() out to allow every port"
            raise DslUsageError(msg)
        new = list(self.ports)
        for p in ports:
            port = _coerce.into_port(p, "on()")
            if port not in new:
                new.append(port)
        return dataclasses.replace(self, ports=tuple(new))

    def _set_halves(self, halves: Halves, method: str) -> Self:
        if self.halves is not None:
            msg = (
                f"{method}: the halves of this flow are already chosen ({self.halves!r}); "
                "choose with ingress_only(), egress_only() or both_halves() once"
            )
            raise DslUsageError(msg)
        return dataclasses.replace(self, halves=halves)

    def ingress_only(self) -> Self:
        """Emit only the ingress rule on the destination's pods.

        For a destination whose namespace does not isolate egress of the source, or when the
        source's namespace belongs to someone else (e.g. Prometheus in ``monitoring``).

        Raises:
            DslUsageError: the halves were already chosen.

        Example:
            >>> from netpol_dsl import pods
            >>> [p.name for p in allow(pods(app="a")).to(pods(app="b")).ingress_only().compile("x")]
            ['allow-ingress-to-b']
        """
        return self._set_halves("ingress", "ingress_only()")

    def egress_only(self) -> Self:
        """Emit only the egress rule on the source's pods.

        Raises:
            DslUsageError: the halves were already chosen.

        Example:
            >>> from netpol_dsl import pods
            >>> [p.name for p in allow(pods(app="a")).to(pods(app="b")).egress_only().compile("x")]
            ['allow-egress-from-a']
        """
        return self._set_halves("egress", "egress_only()")

    def both_halves(self) -> Self:
        """Emit both halves even in a set whose default is one (``PolicySet(halves="ingress")``).

        Raises:
            DslUsageError: the halves were already chosen.

        Example:
            >>> from netpol_dsl import pods
            >>> allow(pods(app="a")).to(pods(app="b")).both_halves().halves
            'both'
        """
        return self._set_halves("both", "both_halves()")

    def named(self, name: str, *, egress: str | None = None) -> Self:
        """Put this flow in policies of its own, named ``name``.

        When both halves are emitted the ingress half is ``name`` and the egress half is
        ``egress`` (default ``f"{name}-egress"``); when one half is, it is ``name``. Other flows
        with the same name and target merge into it. A named half needs a single target, so an OR
        in that end is an error.

        Raises:
            DslUsageError: already named.
            InvalidPolicyError: not a valid object name.

        Example:
            >>> from netpol_dsl import pods
            >>> f = allow(pods(app="frontend")).to(pods(app="api-server")).on(8080)
            >>> [p.name for p in f.named("allow-frontend-to-api").compile("payments")]
            ['allow-frontend-to-api', 'allow-frontend-to-api-egress']
        """
        if self.name is not None:
            msg = f"named(): this flow is already named {self.name!r}; call named() once"
            raise DslUsageError(msg)
        return dataclasses.replace(self, name=name, egress_name=egress)

    def __repr__(self) -> str:
        text = f"allow({self.source!r}).to({self.destination!r})"
        if self.ports:
            text += f".on({', '.join(map(repr, self.ports))})"
        if self.halves == "ingress":
            text += ".ingress_only()"
        elif self.halves == "egress":
            text += ".egress_only()"
        elif self.halves == "both":
            text += ".both_halves()"
        if self.name is not None:
            extra = f", egress={self.egress_name!r}" if self.egress_name is not None else ""
            text += f".named({self.name!r}{extra})"
        return text

    # -- compilation ----------------------------------------------------------------

    def fragments(self, ctx: Context) -> tuple[Fragment, ...]:
        """The ingress fragment(s) on the destination and egress fragment(s) on the source.

        Raises:
            UnrepresentableError: a half cannot be placed (no pods, or no single namespace),
                or a named half has more than one target.
            DslUsageError: a bare ``pods(...)`` with no home namespace.

        Example:
            >>> from netpol_dsl import pods, ip_block
            >>> f = allow(ip_block("10.0.0.0/8")).to(pods(app="b"))
            >>> [x.policy_types for x in f.fragments(Context(namespace="x"))]
            [('Ingress',)]
        """
        halves = self.halves or ctx.halves
        ports = tuple(p.to_model() for p in sorted(self.ports, key=Port.sort_key)) or None
        emit_in = halves in ("both", "ingress")
        emit_eg = halves in ("both", "egress")
        ingress = self._half(ctx, "Ingress", ports) if emit_in else ()
        egress = self._half(ctx, "Egress", ports) if emit_eg else ()
        if not ingress and not egress:
            msg = (
                f"{self!r}: neither end is a set of pods in the cluster, so there is no pod to "
                "put a rule on; at least one end must be pods(...) or namespace(...)"
            )
            raise UnrepresentableError(msg)
        if self.name is not None:
            both = bool(ingress) and bool(egress)
            eg_name = self.egress_name or (f"{self.name}-egress" if both else self.name)
            ingress = tuple(dataclasses.replace(f, name=self.name) for f in ingress)
            egress = tuple(dataclasses.replace(f, name=eg_name) for f in egress)
        return ingress + egress

    def _half(
        self,
        ctx: Context,
        direction: PolicyType,
        ports: tuple[NetworkPolicyPort, ...] | None,
    ) -> tuple[Fragment, ...]:
        owner, other = (
            (self.destination, self.source)
            if direction == "Ingress"
            else (self.source, self.destination)
        )
        side = "destination" if direction == "Ingress" else "source"
        explicit = self.halves == direction.lower() or ctx.halves == direction.lower()
        out: list[Fragment] = []
        owner_terms = owner._terms()
        for term in owner_terms:
            placed = _term_target(term, home=ctx.namespace)
            if isinstance(placed, str):
                if not term.is_labels and not explicit:
                    continue  # an external end: the other half is the whole flow
                opposite = ".egress_only()" if direction == "Ingress" else ".ingress_only()"
                msg = (
                    f"{self!r}: the {direction.lower()} half needs a policy on the {side}'s pods, "
                    f"but {_alt(term)} cannot be selected by one: {placed}. Write {opposite} "
                    "if the other namespace is not yours to isolate"
                )
                raise UnrepresentableError(msg)
            ns, pod_selector = placed
            peers = _peers(other._terms(), policy_namespace=ns, home=ctx.namespace)
            if direction == "Ingress":
                rule_in = NetworkPolicyIngressRule(from_=peers, ports=ports)
                frag = Fragment(namespace=ns, pod_selector=pod_selector, policy_types=("Ingress",),
                                ingress=(rule_in,), origin=repr(self))
            else:
                rule_eg = NetworkPolicyEgressRule(to=peers, ports=ports)
                frag = Fragment(namespace=ns, pod_selector=pod_selector, policy_types=("Egress",),
                                egress=(rule_eg,), origin=repr(self))
            out.append(frag)
        if self.name is not None and len(out) > 1:
            msg = (
                f"{self!r}: a named flow is one policy per half, but the {side} is an OR of "
                f"{len(out)} pod selectors; split it into one named flow per alternative, or "
                "leave it unnamed"
            )
            raise UnrepresentableError(msg)
        return tuple(out)


def _alt(term: _Term) -> str:
    from netpol_dsl.selectors import _from_terms

    return repr(_from_terms((term,)))


def _peers(
    terms: Iterable[_Term], *, policy_namespace: str, home: str | None
) -> tuple[NetworkPolicyPeer, ...] | None:
    out: list[NetworkPolicyPeer] = []
    for t in terms:
        if t.anywhere:
            return None
        peer = _term_peer(t, policy_namespace=policy_namespace, home=home)
        if peer not in out:
            out.append(peer)
    return tuple(out)


#: The methods of a Flow, which ``allow(...)`` alone does not have yet.
_FLOW_METHODS = frozenset(
    n for n in vars(Flow) if not n.startswith("_") and callable(getattr(Flow, n))
) - frozenset(vars(AllowFrom))
