"""The one rule form every policy kind compiles to, before the engine binds it to pod classes.

Every policy (a NetworkPolicy, an AdminNetworkPolicy, a BaselineAdminNetworkPolicy, a
ClusterNetworkPolicy) becomes a ``PolicyIR``: a tier, a priority, a subject (which pods it applies
to) and ordered ingress and egress ``RuleIR`` values, each with an action, peers and ports, and an
``Origin`` (policy and field path) that explanations quote. The engine (``_engine``) turns subjects
and peers into vectors over pod classes and folds the tiers per direction, in this precedence
(``network-policy-api`` ``site-src/api-overview.md``; ``apis/v1alpha2/clusternetworkpolicy_types.go``):

1. the **admin** tier: policies by ascending priority, rules in written order, the first rule whose
   peer and port match decides. ``allow`` and ``deny`` are final; ``pass`` skips the rest of the
   admin tier;
2. the **networkpolicy** tier: when some NetworkPolicy selects the pod for this direction, it
   decides: allowed iff one of their rules matches, denied otherwise (the implicit deny of
   isolation);
3. the **baseline** tier: like the admin tier (``pass`` skips the rest of it);
4. the default: allowed.

A connection is allowed when the source's egress and the destination's ingress both allow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from netpol_dsl.model import LabelSelector

__all__ = [
    "ACTIONS",
    "TIERS",
    "Action",
    "AnyPeer",
    "Direction",
    "DomainsPeer",
    "IPPeer",
    "NamedPortIR",
    "NamespaceMatch",
    "NodesPeer",
    "Origin",
    "PeerIR",
    "PodsPeer",
    "PolicyIR",
    "PortRangeIR",
    "PortsIR",
    "RuleIR",
    "SubjectIR",
    "Tier",
]

Tier = Literal["admin", "networkpolicy", "baseline"]
#: Tiers in precedence order.
TIERS: tuple[Tier, ...] = ("admin", "networkpolicy", "baseline")
Action = Literal["allow", "deny", "pass"]
ACTIONS: tuple[Action, ...] = ("allow", "deny", "pass")
Direction = Literal["ingress", "egress"]


@dataclass(frozen=True, slots=True)
class NamespaceMatch:
    """Which namespaces: exactly one of a name, a selector over namespace labels, or (the
    obsolete v1alpha1 shape before v0.1.3) the namespaces that have the same (``same_labels``) or
    different (``not_same_labels``) values as the *subject's* namespace for these label keys.

    Example:
        >>> NamespaceMatch(name="payments").name
        'payments'
    """

    name: str | None = None
    selector: LabelSelector | None = None
    same_labels: tuple[str, ...] | None = None
    not_same_labels: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class PodsPeer:
    """Pods of the matching namespaces that ``pods`` selects (``None``: every pod there).

    Host-network pods never match a ``PodsPeer`` of a cluster-wide policy, and NetworkPolicy does
    not govern traffic with a host-network pod at either end (see ``netpol_dsl.evaluate.cluster``).

    Example:
        >>> PodsPeer(NamespaceMatch(selector=LabelSelector()), None).pods is None
        True
    """

    namespaces: NamespaceMatch
    pods: LabelSelector | None = None


@dataclass(frozen=True, slots=True)
class IPPeer:
    """Addresses in ``cidr`` and in none of ``excepts`` (a NetworkPolicy ``ipBlock`` or one CIDR
    of a cluster-wide policy's ``networks``).

    ``pod_ips`` says whether pod IPs match too: ``None`` follows the cluster's
    ``ipblock_matches_pod_ips`` (NetworkPolicy ipBlocks); ``True`` always (``networks`` match any
    IP, pod IPs included: ``network-policy-api`` ``apis/v1alpha1/shared_types.go`` ``Networks``).

    Example:
        >>> IPPeer("10.0.0.0/8", ("10.1.0.0/16",)).excepts
        ('10.1.0.0/16',)
    """

    cidr: str
    excepts: tuple[str, ...] = ()
    pod_ips: bool | None = None


@dataclass(frozen=True, slots=True)
class NodesPeer:
    """Nodes whose labels ``selector`` matches: their addresses and the host-network pods on them.

    Example:
        >>> NodesPeer(LabelSelector()).selector.is_empty
        True
    """

    selector: LabelSelector


@dataclass(frozen=True, slots=True)
class DomainsPeer:
    """Fully qualified domain names (``*.`` wildcards allowed). Which addresses they stand for
    depends on DNS at the time of the connection, so an offline evaluation cannot decide a match
    against an external address; it never matches a pod.

    Example:
        >>> DomainsPeer(("*.example.com",)).names
        ('*.example.com',)
    """

    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AnyPeer:
    """Every peer, in the cluster or not (a NetworkPolicy rule with absent or empty ``from``/``to``).

    Example:
        >>> AnyPeer() == AnyPeer()
        True
    """


PeerIR = PodsPeer | IPPeer | NodesPeer | DomainsPeer | AnyPeer


@dataclass(frozen=True, slots=True)
class PortRangeIR:
    """``protocol`` ports ``first``..``last`` (inclusive).

    Example:
        >>> PortRangeIR("UDP", 53, 53)
        PortRangeIR(protocol='UDP', first=53, last=53)
    """

    protocol: str
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class NamedPortIR:
    """A named port, resolved on the destination pod's container ports with that name; with a
    ``protocol`` (NetworkPolicy) only a container port of that protocol counts, without one
    (cluster-wide policies' ``namedPort``) the container port's own protocol is used.

    Example:
        >>> NamedPortIR("http", "TCP").name
        'http'
    """

    name: str
    protocol: str | None


#: A rule's ports; ``None`` means every port of every protocol.
PortsIR = tuple[PortRangeIR | NamedPortIR, ...] | None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a rule comes from: the policy (kind and key) and the field path of the rule.

    Example:
        >>> Origin("NetworkPolicy", "payments/allow-api", "spec.ingress[0]").where
        'payments/allow-api spec.ingress[0]'
    """

    kind: str
    key: str
    path: str
    name: str | None = None

    @property
    def where(self) -> str:
        """``key path``, as explanations quote it.

        Example:
            >>> Origin("AdminNetworkPolicy", "deny-all", "spec.egress[0]", "d").where
            'deny-all spec.egress[0]'
        """
        return f"{self.key} {self.path}"


@dataclass(frozen=True, slots=True)
class RuleIR:
    """One rule: when the other end matches one of ``peers`` and the connection one of ``ports``,
    ``action`` decides (within its tier; see the module docstring).

    ``peer_paths`` are the field paths of the peers (``spec.ingress[0].from[1]``), in order.

    Example:
        >>> r = RuleIR("allow", (AnyPeer(),), None, Origin("NetworkPolicy", "a/p", "spec.ingress[0]"))
        >>> r.action, r.ports
        ('allow', None)
    """

    action: Action
    peers: tuple[PeerIR, ...]
    ports: PortsIR
    origin: Origin
    peer_paths: tuple[str, ...] = ()
    port_paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SubjectIR:
    """The pods a policy applies to: pods of the matching namespaces that ``pods`` selects
    (``None``: all of them). Host-network pods are never subjects.

    Example:
        >>> SubjectIR(NamespaceMatch(name="a"), LabelSelector()).namespaces.name
        'a'
    """

    namespaces: NamespaceMatch
    pods: LabelSelector | None = None


@dataclass(frozen=True, slots=True)
class PolicyIR:
    """A policy in the one rule form.

    ``isolates`` lists the directions for which a NetworkPolicy isolates the pods it selects (its
    effective ``policyTypes``); cluster-wide policies leave it empty. Within a tier, policies are
    ordered by ``priority`` and then by ``key`` (upstream leaves equal priorities undefined; this
    evaluator orders them by name and warns).

    Example:
        >>> p = PolicyIR("NetworkPolicy", "a/deny", "networkpolicy", 0,
        ...              SubjectIR(NamespaceMatch(name="a"), LabelSelector()), (), (),
        ...              isolates=("ingress",))
        >>> p.tier, p.isolates
        ('networkpolicy', ('ingress',))
    """

    kind: str
    key: str
    tier: Tier
    priority: int
    subject: SubjectIR
    ingress: tuple[RuleIR, ...]
    egress: tuple[RuleIR, ...]
    isolates: tuple[Direction, ...] = ()
