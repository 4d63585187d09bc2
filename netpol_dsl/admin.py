"""Cluster-wide policies: ``admin(...)`` and ``baseline(...)`` with ordered allow/deny/pass rules.

A cluster-wide policy applies to pods in every namespace its subject selects, and its rules are
tried **in the order written**; the first rule whose peer and port match decides:

```python
admin("guardrails", priority=10)                          # subject: every pod
    .allow_to(namespace("kube-system") & pods(k8s_app="kube-dns"), udp(53), tcp(53))
    .pass_to(namespaces(team="payments"))                  # let NetworkPolicies decide
    .deny_to(ip_block("0.0.0.0/0"))                        # everything else, pods included
```

- ``admin(...)`` policies run before every NetworkPolicy (lower ``priority`` first): ``allow`` and
  ``deny`` are final, ``pass`` hands the connection to the NetworkPolicies (or, when none selects
  the pod, to the baseline).
- ``baseline(...)`` policies run when no admin rule decided and no NetworkPolicy selects the pod
  in that direction: a default that namespace owners override with NetworkPolicies.

Peers are the DSL's selectors. In a cluster-wide policy a bare ``pods(...)`` means those pods in
**every** namespace (there is no "policy's namespace"), ``namespace(...)``/``namespaces(...)``
every pod of those namespaces, ``ip_block(...)`` addresses (pod IPs too: a ``networks`` peer
matches in-cluster traffic), plus `nodes` and `domains`. ``|`` gives several peers.
Sources (``*_from``) can only be pods. Ports are ``tcp(...)``, ``udp(...)``, ``sctp(...)``, their
ranges and ``all_*()``, and `named_port` (a container port name, whatever its protocol).

``to_model()`` renders ``policy.networking.k8s.io/v1alpha2`` ClusterNetworkPolicy by default, or
``to_model("v1alpha1")`` an AdminNetworkPolicy / BaselineAdminNetworkPolicy. What a version cannot
express raises `UnrepresentableError` naming it.

`cluster_default_deny` is the ready baseline: deny everything outside the system
namespaces, with DNS to kube-dns always allowed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from typing_extensions import Self

from netpol_dsl import _coerce, _rules
from netpol_dsl.builder import Port, tcp, udp
from netpol_dsl.errors import DslUsageError, UnrepresentableError
from netpol_dsl.model import LabelSelector, ObjectMeta
from netpol_dsl.model._clusterwide import domain_name_problem
from netpol_dsl.model.anp import BANP_NAME
from netpol_dsl.model.clusterwide import ClusterWidePolicy, load_cluster_policy
from netpol_dsl.selectors import (
    NAMESPACE_NAME_LABEL,
    Addresses,
    LabelMatch,
    NotIn,
    Req,
    Selector,
    _label_selector,
    _reqs,
    _Term,
    all_namespaces,
    ip_block,
    namespace,
    namespaces,
    pods,
)

__all__ = [
    "Action",
    "ClusterDefaultDeny",
    "ClusterPolicy",
    "ClusterRule",
    "Domains",
    "NamedPort",
    "Nodes",
    "Peers",
    "Version",
    "admin",
    "baseline",
    "cluster_default_deny",
    "domains",
    "named_port",
    "nodes",
]

Action = Literal["allow", "deny", "pass"]
Version = Literal["v1alpha1", "v1alpha2"]
Tier = Literal["admin", "baseline"]
_VERSIONS: tuple[Version, ...] = ("v1alpha2", "v1alpha1")
_GROUP = "policy.networking.k8s.io"
_PORT_MAX = 65535
#: Both address families: what ``anywhere()`` is as ``networks``.
_EVERY_ADDRESS = ("0.0.0.0/0", "::/0")


# ------------------------------------------------------------------ peers beyond selectors


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Nodes:
    """Nodes whose labels meet every requirement: their addresses (and host-network pods).

    Build with `nodes`. Combine with selectors using ``|``.

    Example:
        >>> nodes(role="control-plane")
        nodes(role='control-plane')
    """

    requirements: tuple[Req, ...] = ()

    def __repr__(self) -> str:
        from netpol_dsl.selectors import _kwargs_repr

        return f"nodes({_kwargs_repr(self.requirements)})"

    def __or__(self, other: object) -> Peers:
        return Peers.of(self, other, "|")

    def __ror__(self, other: object) -> Peers:
        return Peers.of(other, self, "|")

    def selector(self) -> LabelSelector:
        """The node label selector.

        Example:
            >>> nodes(role="cp").selector().to_dict()
            {'matchLabels': {'role': 'cp'}}
        """
        return _label_selector(self.requirements)


def nodes(labels: Mapping[str, LabelMatch] | None = None, /, **match: LabelMatch) -> Nodes:
    """Nodes by label, as a destination (``nodes()`` with no labels: every node).

    Example:
        >>> nodes()
        nodes()
        >>> nodes({"kubernetes.io/os": "linux"}).selector().to_dict()
        {'matchLabels': {'kubernetes.io/os': 'linux'}}
    """
    return Nodes(requirements=_reqs("nodes()", labels, match))


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Domains:
    """Fully qualified domain names (``*.`` prefixes allowed), as a destination of allow rules.

    Build with `domains`.

    Example:
        >>> domains("*.example.com", "example.com")
        domains('*.example.com', 'example.com')
    """

    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.names:
            msg = "domains(): got no names; expected at least one, e.g. domains('example.com')"
            raise DslUsageError(msg)
        for name in self.names:
            if not isinstance(name, str):
                msg = f"domains(): got {name!r} (type={type(name).__name__}); expected a domain name"
                raise DslUsageError(msg)
            problem = domain_name_problem(name)
            if problem is not None:
                msg = f"domains(): got {name!r}; expected {problem}"
                raise UnrepresentableError(msg)

    def __repr__(self) -> str:
        return f"domains({', '.join(repr(n) for n in self.names)})"

    def __or__(self, other: object) -> Peers:
        return Peers.of(self, other, "|")

    def __ror__(self, other: object) -> Peers:
        return Peers.of(other, self, "|")


def domains(*names: str) -> Domains:
    """Domain names as a destination (experimental upstream; allow rules only).

    Example:
        >>> domains("api.example.com").names
        ('api.example.com',)
    """
    return Domains(names=tuple(dict.fromkeys(names)))


Peer: TypeAlias = "Selector | Nodes | Domains"


@dataclass(frozen=True, slots=True, repr=False)
class Peers:
    """An OR of peers mixing selectors, `Nodes` and `Domains` (from ``|``).

    Example:
        >>> pods(app="db") | nodes()
        pods(app='db') | nodes()
    """

    items: tuple[Peer, ...]

    @staticmethod
    def of(a: object, b: object, op: str) -> Peers:
        """``a | b`` flattened (keeps the order written).

        Example:
            >>> Peers.of(nodes(), domains("a.io"), "|").items
            (nodes(), domains('a.io'))
        """
        out: list[Peer] = []
        for x in (a, b):
            if isinstance(x, Peers):
                out.extend(x.items)
            elif isinstance(x, (Selector, Nodes, Domains)):
                out.append(x)
            else:
                msg = (f"{op}: expected a selector, nodes(...) or domains(...), but got "
                       f"other={x!r} (type={type(x).__name__})")
                raise DslUsageError(msg)
        return Peers(tuple(out))

    def __or__(self, other: object) -> Peers:
        return Peers.of(self, other, "|")

    def __ror__(self, other: object) -> Peers:
        return Peers.of(other, self, "|")

    def __repr__(self) -> str:
        return " | ".join(repr(x) for x in self.items)


IntoPeers: TypeAlias = "Selector | Nodes | Domains | Peers | Mapping[str, LabelMatch]"


@dataclass(frozen=True, slots=True)
class NamedPort:
    """A container port name of the destination pod, whatever its protocol.

    Build with `named_port`.

    Example:
        >>> named_port("web")
        named_port('web')
    """

    name: str

    def __post_init__(self) -> None:
        name: object = self.name
        problems = _rules.port_name(name) if isinstance(name, str) else ["a string"]
        if problems:
            msg = f"named_port(): got {self.name!r}; expected a port name ({', '.join(problems)})"
            raise DslUsageError(msg)

    def __repr__(self) -> str:
        return f"named_port({self.name!r})"


def named_port(name: str) -> NamedPort:
    """A named container port (resolved on the destination pod, with that port's protocol).

    Example:
        >>> named_port("dns").name
        'dns'
    """
    return NamedPort(name)


IntoClusterPort: TypeAlias = "Port | NamedPort | int"


def _into_ports(values: tuple[object, ...], where: str) -> tuple[Port | NamedPort, ...]:
    out: list[Port | NamedPort] = []
    for v in values:
        if isinstance(v, NamedPort):
            out.append(v)
            continue
        if isinstance(v, str):
            msg = (f"{where}: got {v!r}; expected a port number or tcp(...)/udp(...). A named port "
                   f"of a cluster-wide policy has no protocol: write named_port({v!r})")
            raise DslUsageError(msg)
        port = _coerce.into_port(v, where)
        if isinstance(port.port, str):
            msg = (f"{where}: got {port!r}; a cluster-wide named port has no protocol (it takes the "
                   f"container port's). Write named_port({port.port!r})")
            raise UnrepresentableError(msg)
        out.append(port)
    return tuple(out)


def _into_peers(value: object, where: str) -> tuple[Peer, ...]:
    if isinstance(value, Peers):
        return value.items
    if isinstance(value, (Nodes, Domains)):
        return (value,)
    return (_coerce.into_selector(value, where),)


# ------------------------------------------------------------------ rules and policies


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterRule:
    """One rule: ``action`` for traffic ``direction`` (to/from) ``peers`` on ``ports``.

    Example:
        >>> admin("p", priority=1).deny_to(nodes(), tcp(22)).rules[0]
        .deny_to(nodes(), tcp(22))
    """

    action: Action
    direction: Literal["ingress", "egress"]
    peers: tuple[Peer, ...]
    ports: tuple[Port | NamedPort, ...] = ()
    name: str | None = None

    def __post_init__(self) -> None:
        where = f"{self.action}_{'from' if self.direction == 'ingress' else 'to'}()"
        name: object = self.name
        if name is not None and (not isinstance(name, str) or len(name) > 100):
            msg = f"{where}: got name={self.name!r}; expected a rule name of at most 100 characters"
            raise DslUsageError(msg)
        if self.direction == "ingress":
            for p in self.peers:
                if isinstance(p, (Nodes, Domains)) or any(not t.is_labels for t in _terms(p)):
                    msg = (f"{where}: got {p!r}; a cluster-wide policy's sources can only be pods "
                           "(namespaces/pods peers): addresses, nodes and domain names are "
                           "destinations only. For every pod write all_namespaces()")
                    raise UnrepresentableError(msg)
        if any(isinstance(p, Domains) for p in self.peers) and self.action != "allow":
            msg = (f"{where}: domains() is only supported in allow rules (DomainNames: \"only "
                   "supported for Allow/Accept rules\"); deny the rest with a lower rule")
            raise UnrepresentableError(msg)
        named = [p for p in self.ports if isinstance(p, NamedPort)]
        if named and any(isinstance(p, (Nodes, Domains)) or any(t.ip is not None or t.anywhere
                                                               for t in _terms(p))
                         for p in self.peers):
            msg = (f"{where}: {named[0]!r} cannot be used with addresses, nodes or domain names "
                   "(they have no named ports); use a port number")
            raise UnrepresentableError(msg)

    def __repr__(self) -> str:
        side = "from" if self.direction == "ingress" else "to"
        method = "pass_" if self.action == "pass" else f"{self.action}_"
        args = [" | ".join(repr(p) for p in self.peers), *(repr(p) for p in self.ports)]
        if self.name is not None:
            args.append(f"name={self.name!r}")
        return f".{method}{side}({', '.join(args)})"


def _terms(peer: Peer) -> tuple[_Term, ...]:
    return peer._terms() if isinstance(peer, Selector) else ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterPolicy:
    """A cluster-wide policy being built: tier, name, priority, subject and ordered rules.

    Build with `admin` or `baseline`; every method returns a new policy.

    Example:
        >>> p = admin("no-ssh", priority=5).deny_from(all_namespaces(), tcp(22))
        >>> p
        admin('no-ssh', priority=5).deny_from(all_namespaces(), tcp(22))
        >>> p.to_model().spec.ingress[0].action
        'Deny'
    """

    tier: Tier
    name: str
    priority: int | None = None
    subject: Selector = dataclasses.field(default_factory=all_namespaces)
    rules: tuple[ClusterRule, ...] = ()

    def __post_init__(self) -> None:
        where = f"{self.tier}()"
        _coerce.name(self.name, where)
        priority: object = self.priority
        if priority is not None and (
            isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 1000
        ):
            msg = f"{where}: got priority={self.priority!r}; expected an integer 0..1000"
            raise DslUsageError(msg)
        subject: object = self.subject
        if not isinstance(subject, Selector):
            msg = (f"{where}: got subject={self.subject!r} (type={type(self.subject).__name__}); "
                   "expected a selector such as namespaces(team='a')")
            raise DslUsageError(msg)
        _subject_term(self.subject, where)

    # -- rules --------------------------------------------------------------------------

    def _add(self, action: Action, direction: Literal["ingress", "egress"], peers: object,
             ports: tuple[object, ...], name: str | None) -> Self:
        side = "from" if direction == "ingress" else "to"
        where = f"{action}_{side}()"
        rule = ClusterRule(action=action, direction=direction, peers=_into_peers(peers, where),
                           ports=_into_ports(ports, where), name=name)
        return dataclasses.replace(self, rules=(*self.rules, rule))

    def allow_to(self, peers: IntoPeers, *ports: IntoClusterPort, name: str | None = None) -> Self:
        """Allow egress to ``peers`` (on ``ports``; none: every port). Final in its tier.

        Example:
            >>> admin("a", priority=1).allow_to(namespace("kube-system"), udp(53)).rules[0].action
            'allow'
        """
        return self._add("allow", "egress", peers, ports, name)

    def deny_to(self, peers: IntoPeers, *ports: IntoClusterPort, name: str | None = None) -> Self:
        """Deny egress to ``peers`` (on ``ports``).

        Example:
            >>> admin("a", priority=1).deny_to(ip_block("0.0.0.0/0")).rules[0].direction
            'egress'
        """
        return self._add("deny", "egress", peers, ports, name)

    def pass_to(self, peers: IntoPeers, *ports: IntoClusterPort, name: str | None = None) -> Self:
        """Pass egress to ``peers`` on to the next tier (NetworkPolicies, then the baseline).

        Example:
            >>> admin("a", priority=1).pass_to(namespaces(team="x")).rules[0].action
            'pass'
        """
        return self._add("pass", "egress", peers, ports, name)

    def allow_from(self, peers: IntoPeers, *ports: IntoClusterPort, name: str | None = None) -> Self:
        """Allow ingress from ``peers`` (pods only) on ``ports`` of the subject pods.

        Example:
            >>> admin("a", priority=1).allow_from(namespace("monitoring")).rules[0].direction
            'ingress'
        """
        return self._add("allow", "ingress", peers, ports, name)

    def deny_from(self, peers: IntoPeers, *ports: IntoClusterPort, name: str | None = None) -> Self:
        """Deny ingress from ``peers`` (pods only).

        Example:
            >>> admin("a", priority=1).deny_from(all_namespaces()).rules[0].action
            'deny'
        """
        return self._add("deny", "ingress", peers, ports, name)

    def pass_from(self, peers: IntoPeers, *ports: IntoClusterPort, name: str | None = None) -> Self:
        """Pass ingress from ``peers`` on to the next tier.

        Example:
            >>> admin("a", priority=1).pass_from(pods(app="x")).rules[0].action
            'pass'
        """
        return self._add("pass", "ingress", peers, ports, name)

    def applies_to(self, subject: Selector) -> Self:
        """These pods instead of every pod (``namespaces(...)``, ``pods(...)`` or both ANDed).

        Example:
            >>> admin("a", priority=1).applies_to(namespaces(env="prod")).subject
            namespaces(env='prod')
        """
        return dataclasses.replace(self, subject=subject)

    def __repr__(self) -> str:
        head = f"{self.tier}({self.name!r}"
        if self.priority is not None:
            head += f", priority={self.priority}"
        head += ")"
        if self.subject != all_namespaces():
            head += f".applies_to({self.subject!r})"
        return head + "".join(repr(r) for r in self.rules)

    # -- rendering ----------------------------------------------------------------------

    def to_dict(self, version: Version = "v1alpha2") -> dict[str, Any]:
        """The API-shaped object (validated): a ClusterNetworkPolicy (``v1alpha2``), or an
        AdminNetworkPolicy / BaselineAdminNetworkPolicy (``v1alpha1``).

        Raises:
            UnrepresentableError: a construct the version cannot express.
            InvalidPolicyError: the result breaks a rule of the CRD (e.g. too many rules).

        Example:
            >>> admin("a", priority=3).to_dict("v1alpha1")["kind"]
            'AdminNetworkPolicy'
        """
        return self.to_model(version).to_dict()

    def to_model(self, version: Version = "v1alpha2") -> ClusterWidePolicy:
        """The validated model object for ``version``.

        Raises:
            UnrepresentableError: a construct the version cannot express.
            InvalidPolicyError: the result breaks a rule of the CRD.

        Example:
            >>> baseline("default").deny_to(ip_block("0.0.0.0/0")).to_model("v1alpha1").kind
            'BaselineAdminNetworkPolicy'
        """
        if version not in _VERSIONS:
            msg = f"to_model(): got version={version!r}; expected 'v1alpha2' or 'v1alpha1'"
            raise DslUsageError(msg)
        v1 = version == "v1alpha1"
        where = f"{self!r} as {version}"
        spec: dict[str, Any] = {}
        if v1:
            kind = "AdminNetworkPolicy" if self.tier == "admin" else "BaselineAdminNetworkPolicy"
            if self.tier == "admin":
                spec["priority"] = 0 if self.priority is None else self.priority
            else:
                if self.name != BANP_NAME:
                    msg = (f"{where}: a v1alpha1 BaselineAdminNetworkPolicy must be named "
                           f"{BANP_NAME!r} (there is one per cluster); got {self.name!r}")
                    raise UnrepresentableError(msg)
                if self.priority is not None:
                    msg = (f"{where}: a v1alpha1 BaselineAdminNetworkPolicy has no priority; got "
                           f"priority={self.priority}. Leave it out")
                    raise UnrepresentableError(msg)
        else:
            kind = "ClusterNetworkPolicy"
            spec["tier"] = "Admin" if self.tier == "admin" else "Baseline"
            spec["priority"] = 0 if self.priority is None else self.priority
        spec["subject"] = _subject(self.subject, v1, where)
        for direction in ("ingress", "egress"):
            rules = [_rule(r, v1, self.tier, where) for r in self.rules if r.direction == direction]
            if rules:
                spec[direction] = rules
        data = {"apiVersion": f"{_GROUP}/{version}", "kind": kind,
                "metadata": ObjectMeta(name=self.name).to_dict(), "spec": spec}
        return load_cluster_policy(data)


def _subject_term(subject: Selector, where: str) -> _Term:
    terms = subject._terms()
    if len(terms) != 1:
        msg = (f"{where}: got subject {subject!r}; a cluster-wide policy has one subject "
               "(namespaces, or pods in namespaces), so an OR needs one policy per alternative")
        raise UnrepresentableError(msg)
    t = terms[0]
    if not t.is_labels:
        msg = f"{where}: got subject {subject!r}; the subject must be pods, not addresses"
        raise UnrepresentableError(msg)
    return t


def _pods_peer(t: _Term, v1: bool) -> dict[str, Any]:
    pod_sel = _label_selector(t.pods or ()).to_dict()
    if t.namespaces is not None:
        return {"namespaceSelector": _label_selector(t.namespaces).to_dict(), "podSelector": pod_sel}
    # A bare pods(...) is those pods in every namespace: v1alpha2 omits namespaceSelector
    # (NamespacedPod: "if empty, it selects all Namespaces"); v1alpha1 requires it, as {}.
    return {"namespaceSelector": {}, "podSelector": pod_sel} if v1 else {"podSelector": pod_sel}


def _selection(t: _Term, v1: bool) -> dict[str, Any]:
    if not t.pods:  # no pod requirements: every pod of the namespaces
        if t.namespaces is None:
            return {"namespaces": {}}
        return {"namespaces": _label_selector(t.namespaces).to_dict()}
    return {"pods": _pods_peer(t, v1)}


def _subject(subject: Selector, v1: bool, where: str) -> dict[str, Any]:
    return _selection(_subject_term(subject, where), v1)


def _cidrs(block: Addresses) -> list[str]:
    """An ipBlock as CIDRs without exceptions (``networks`` has no ``except``)."""
    first = _rules.parse_cidr(block.cidr).network
    assert first is not None  # validated by ip_block()
    nets: list[Any] = [first]
    for ex in block.except_:
        hole: Any = _rules.parse_cidr(ex).network
        assert hole is not None
        out: list[Any] = []
        for n in nets:
            if n.version == hole.version and hole.subnet_of(n):
                out.extend(n.address_exclude(hole))
            elif n.version == hole.version and n.subnet_of(hole):
                continue
            else:
                out.append(n)
        nets = sorted(out)
    return [str(n) for n in nets]


def _peers(rule: ClusterRule, v1: bool, tier: Tier, where: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    networks: list[str] = []
    for peer in rule.peers:
        if isinstance(peer, Nodes):
            out.append({"nodes": peer.selector().to_dict()})
            continue
        if isinstance(peer, Domains):
            if v1 and tier == "baseline":
                msg = (f"{where}: {peer!r}: a v1alpha1 BaselineAdminNetworkPolicy has no "
                       "domainNames peer")
                raise UnrepresentableError(msg)
            out.append({"domainNames": list(peer.names)})
            continue
        for t in peer._terms():
            if t.anywhere:
                networks.extend(_EVERY_ADDRESS)
            elif t.ip is not None:
                networks.extend(_cidrs(t.ip))
            else:
                sel = _selection(t, v1)
                if sel not in out:
                    out.append(sel)
    unique = list(dict.fromkeys(networks))
    for i in range(0, len(unique), 25):  # networks: MaxItems=25 per peer
        out.append({"networks": unique[i:i + 25]})
    return out


def _port(port: Port | NamedPort, v1: bool) -> dict[str, Any]:
    if isinstance(port, NamedPort):
        return {"namedPort": port.name} if v1 else {"destinationNamedPort": port.name}
    assert not isinstance(port.port, str)
    first = 1 if port.port is None else port.port
    last = _PORT_MAX if port.port is None else (port.end_port or port.port)
    if v1:
        if first == last:
            return {"portNumber": {"protocol": port.protocol, "port": first}}
        return {"portRange": {"protocol": port.protocol, "start": first, "end": last}}
    # v1alpha2: a range needs start < end (CEL), so one port is a number.
    dest: dict[str, Any] = ({"number": first} if first == last
                            else {"range": {"start": first, "end": last}})
    return {port.protocol.lower(): {"destinationPort": dest}}


def _rule(rule: ClusterRule, v1: bool, tier: Tier, where: str) -> dict[str, Any]:
    if rule.action == "pass" and v1 and tier == "baseline":
        msg = (f"{where}: {rule!r}: a v1alpha1 BaselineAdminNetworkPolicy cannot pass (its actions "
               "are Allow and Deny); render v1alpha2, where a baseline Pass means the default")
        raise UnrepresentableError(msg)
    action = {"allow": "Allow" if v1 else "Accept", "deny": "Deny", "pass": "Pass"}[rule.action]
    out: dict[str, Any] = {}
    if rule.name is not None:
        out["name"] = rule.name
    out["action"] = action
    out["from" if rule.direction == "ingress" else "to"] = _peers(rule, v1, tier, where)
    if rule.ports:
        out["ports" if v1 else "protocols"] = [_port(p, v1) for p in rule.ports]
    return out


def admin(name: str, *, priority: int, subject: Selector | None = None) -> ClusterPolicy:
    """An admin-tier policy: evaluated before NetworkPolicies, lower ``priority`` first.

    ``subject`` defaults to every pod (``all_namespaces()``).

    Example:
        >>> admin("guardrails", priority=10).deny_to(ip_block("169.254.169.254/32"))
        admin('guardrails', priority=10).deny_to(ip_block('169.254.169.254/32'))
    """
    return ClusterPolicy(tier="admin", name=name, priority=priority,
                         subject=all_namespaces() if subject is None else subject)


def baseline(name: str = BANP_NAME, *, priority: int | None = None,
             subject: Selector | None = None) -> ClusterPolicy:
    """A baseline-tier policy: the default where no NetworkPolicy selects the pod.

    v1alpha1 has one baseline per cluster, named ``default``, without a priority; v1alpha2 allows
    several, ordered by ``priority`` (0 when not given).

    Example:
        >>> baseline().deny_from(all_namespaces()).to_model("v1alpha1").name
        'default'
    """
    return ClusterPolicy(tier="baseline", name=name, priority=priority,
                         subject=all_namespaces() if subject is None else subject)


# ------------------------------------------------------------------ the ready baseline


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterDefaultDeny:
    """Cluster-wide default deny outside ``system_namespaces``, with DNS to kube-dns allowed.

    Two policies (see `policies`):

    * an **admin** policy (``<name>-allow-dns``, ``dns_priority``) accepting egress from every pod
      to the kube-dns pods (``k8s-app=kube-dns`` in ``kube-system``) on UDP and TCP 53, so no
      NetworkPolicy or baseline can cut DNS;
    * a **baseline** policy denying ingress from every pod and egress to every address to the pods
      outside the system namespaces. Namespace owners open what they need with NetworkPolicies:
      a pod selected by a NetworkPolicy in a direction is no longer governed by the baseline there.

    Upstream's ingress peers are pods only, so traffic from outside the cluster (and from
    host-network pods) to a pod is not denied by this baseline; NetworkPolicies (or a vendor
    policy, see `netpol_dsl.vendor`) cover that.

    Example:
        >>> [p.name for p in cluster_default_deny().policies()]
        ['default-deny-allow-dns', 'default-deny']
    """

    name: str = "default-deny"
    system_namespaces: tuple[str, ...] = ("kube-system",)
    dns: bool = True
    dns_namespace: str = "kube-system"
    dns_labels: tuple[tuple[str, str], ...] = (("k8s-app", "kube-dns"),)
    dns_priority: int = 0
    baseline_priority: int = 1000

    def __post_init__(self) -> None:
        where = "cluster_default_deny()"
        _coerce.name(self.name, where)
        for ns in (*self.system_namespaces, self.dns_namespace):
            _coerce.namespace_name(ns, where)

    @property
    def dns_peer(self) -> Selector:
        """The kube-dns pods.

        Example:
            >>> cluster_default_deny().dns_peer
            namespace('kube-system') & pods({'k8s-app': 'kube-dns'})
        """
        return namespace(self.dns_namespace) & pods(dict(self.dns_labels))

    @property
    def subject(self) -> Selector:
        """Every pod outside the system namespaces.

        Example:
            >>> cluster_default_deny(system_namespaces=("kube-system", "calico-system")).subject
            ~namespace('calico-system', 'kube-system')
        """
        if not self.system_namespaces:
            return all_namespaces()
        return namespaces({NAMESPACE_NAME_LABEL: NotIn(*sorted(self.system_namespaces))})

    def policies(self, version: Version = "v1alpha2") -> tuple[ClusterPolicy, ...]:
        """The admin DNS policy (when ``dns``) and the baseline deny.

        In v1alpha1 the baseline is the cluster's BaselineAdminNetworkPolicy, named ``default``.

        Example:
            >>> [p.tier for p in cluster_default_deny().policies()]
            ['admin', 'baseline']
        """
        out: list[ClusterPolicy] = []
        if self.dns:
            out.append(admin(f"{self.name}-allow-dns", priority=self.dns_priority).allow_to(
                self.dns_peer, udp(53), tcp(53), name="allow-dns-to-kube-dns"))
        if version == "v1alpha1":
            base = baseline()
        else:
            base = baseline(self.name, priority=self.baseline_priority)
        out.append(base.applies_to(self.subject)
                   .deny_from(all_namespaces(), name="deny-all-ingress-from-pods")
                   .deny_to(ip_block_everywhere(), name="deny-all-egress"))
        return tuple(out)

    def to_models(self, version: Version = "v1alpha2") -> tuple[ClusterWidePolicy, ...]:
        """The validated model objects for ``version``.

        Example:
            >>> [m.kind for m in cluster_default_deny().to_models("v1alpha1")]
            ['AdminNetworkPolicy', 'BaselineAdminNetworkPolicy']
        """
        return tuple(p.to_model(version) for p in self.policies(version))


def ip_block_everywhere() -> Selector:
    """Every IPv4 and IPv6 address (pods, nodes and the internet), as ``networks``.

    Example:
        >>> ip_block_everywhere()
        ip_block('0.0.0.0/0') | ip_block('::/0')
    """
    return ip_block(_EVERY_ADDRESS[0]) | ip_block(_EVERY_ADDRESS[1])


def cluster_default_deny(
    *,
    name: str = "default-deny",
    system_namespaces: Iterable[str] = ("kube-system",),
    dns: bool = True,
    dns_namespace: str = "kube-system",
    dns_labels: Mapping[str, str] | None = None,
    dns_priority: int = 0,
    baseline_priority: int = 1000,
) -> ClusterDefaultDeny:
    """The ready baseline: default deny for every pod outside ``system_namespaces``, DNS allowed.

    Example:
        >>> from netpol_dsl import to_yaml
        >>> print(to_yaml(cluster_default_deny().to_models()[1]), end="")
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata:
          name: default-deny
        spec:
          tier: Baseline
          priority: 1000
          subject:
            namespaces:
              matchExpressions:
              - key: kubernetes.io/metadata.name
                operator: NotIn
                values:
                - kube-system
          ingress:
          - name: deny-all-ingress-from-pods
            action: Deny
            from:
            - namespaces: {}
          egress:
          - name: deny-all-egress
            action: Deny
            to:
            - networks:
              - 0.0.0.0/0
              - ::/0
    """
    labels = dict(dns_labels) if dns_labels is not None else {"k8s-app": "kube-dns"}
    # the labels become a pod selector's matchLabels in every target: apimachinery's
    # ValidateLabels rules (key a qualified name, value 63 characters of [A-Za-z0-9_.-])
    from netpol_dsl.model.selector import check_labels

    problems = check_labels(labels, "dns_labels")
    if problems:
        msg = f"cluster_default_deny(): {problems[0]}"
        raise DslUsageError(msg)
    return ClusterDefaultDeny(
        name=name, system_namespaces=tuple(dict.fromkeys(system_namespaces)), dns=dns,
        dns_namespace=dns_namespace, dns_labels=tuple(sorted(labels.items())),
        dns_priority=dns_priority, baseline_priority=baseline_priority)
