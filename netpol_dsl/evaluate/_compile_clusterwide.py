"""The cluster-wide kinds -> the one rule form (``_ir.PolicyIR``).

Sources (``kubernetes-sigs/network-policy-api``; v1alpha1 at v0.1.8, v1alpha2 at v0.2.0):

- **Tiers.** An AdminNetworkPolicy is in the ``admin`` tier, the BaselineAdminNetworkPolicy in
  the ``baseline`` tier (``apis/v1alpha1/*_types.go``); a ClusterNetworkPolicy in the tier its
  ``spec.tier`` names (``Admin`` -> ``admin``, ``Baseline`` -> ``baseline``;
  ``apis/v1alpha2/clusternetworkpolicy_types.go`` ``Tier``).
- **Priorities.** ``spec.priority``, lower first. A BANP has none (there is one per cluster): 0.
  Equal priorities in a tier are undefined upstream ("the implementation can apply any of the
  matching policies"); ``equal_priority_warnings`` says where.
- **Actions.** ``Allow`` (v1alpha1) and ``Accept`` (v1alpha2) -> ``allow``; ``Deny`` -> ``deny``;
  ``Pass`` -> ``pass``.
- **Subjects.** ``namespaces`` -> every pod of the matching namespaces; ``pods`` -> the pods
  ``podSelector`` selects in the namespaces ``namespaceSelector`` selects (v1alpha2: omitted means
  every namespace).
- **Peers.** ``namespaces``/``pods`` as subjects are; ``networks`` -> one ``IPPeer`` per CIDR that
  also matches pod IPs ("cluster-internal traffic will be checked against the rule as well",
  ``Networks``); ``nodes`` -> ``NodesPeer``; ``domainNames`` -> ``DomainsPeer``. The obsolete
  v1alpha1 ``namespaces: {sameLabels | notSameLabels}`` (v0.1.2) -> ``NamespaceMatch`` with
  ``same_labels``/``not_same_labels``.
- **Ports.** Absent -> every port. v1alpha1 ``portNumber``/``portRange`` -> ``PortRangeIR`` of
  their protocol (default TCP); v1alpha2 ``tcp``/``udp``/``sctp`` ``destinationPort`` ``number`` or
  ``range``; ``namedPort``/``destinationNamedPort`` -> ``NamedPortIR`` without a protocol (the
  container port's own protocol counts).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from netpol_dsl.errors import Issue
from netpol_dsl.evaluate._ir import (
    Action,
    Direction,
    DomainsPeer,
    IPPeer,
    NamedPortIR,
    NamespaceMatch,
    NodesPeer,
    Origin,
    PeerIR,
    PodsPeer,
    PolicyIR,
    PortRangeIR,
    PortsIR,
    RuleIR,
    SubjectIR,
    Tier,
)
from netpol_dsl.model import (
    AdminNetworkPolicy,
    BaselineAdminNetworkPolicy,
    ClusterNetworkPolicy,
    LabelSelector,
)
from netpol_dsl.model._clusterwide import cel_cidr_problem
from netpol_dsl.model.anp import (
    AdminNetworkPolicyPort,
    AdminNetworkPolicySubject,
    LegacyNamespacedPod,
    LegacyNamespaces,
    NamespacedPod,
)
from netpol_dsl.model.clusterwide import ClusterWidePolicy, is_cluster_policy, load_cluster_policy
from netpol_dsl.model.cnp import (
    ClusterNetworkPolicyNamespacedPod,
    ClusterNetworkPolicyProtocol,
    ClusterNetworkPolicySubject,
)

__all__ = ["compile_cluster_policy", "equal_priority_warnings", "is_cluster_policy_object"]

_ACTIONS: dict[str, Action] = {"Allow": "allow", "Accept": "allow", "Deny": "deny", "Pass": "pass"}
_TIERS: dict[str, Tier] = {"Admin": "admin", "Baseline": "baseline"}
_ALL = LabelSelector()


def is_cluster_policy_object(obj: object) -> bool:
    """Whether ``obj`` is one of the cluster-wide model objects.

    Example:
        >>> is_cluster_policy_object("x")
        False
    """
    return isinstance(obj, (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy))


def _namespaces(match: LabelSelector | LegacyNamespaces) -> NamespaceMatch:
    if isinstance(match, LegacyNamespaces):
        if match.same_labels is not None:
            return NamespaceMatch(same_labels=tuple(match.same_labels))
        if match.not_same_labels is not None:
            return NamespaceMatch(not_same_labels=tuple(match.not_same_labels))
        return NamespaceMatch(selector=match.namespace_selector or _ALL)
    return NamespaceMatch(selector=match)


def _pods(pods: NamespacedPod | LegacyNamespacedPod | ClusterNetworkPolicyNamespacedPod) -> PodsPeer:
    if isinstance(pods, LegacyNamespacedPod):
        return PodsPeer(_namespaces(pods.namespaces), pods.pod_selector)
    if isinstance(pods, ClusterNetworkPolicyNamespacedPod):
        # v1alpha2: an omitted namespaceSelector is {}, every namespace.
        return PodsPeer(NamespaceMatch(selector=pods.effective_namespace_selector), pods.pod_selector)
    return PodsPeer(NamespaceMatch(selector=pods.namespace_selector), pods.pod_selector)


def _subject(subject: AdminNetworkPolicySubject | ClusterNetworkPolicySubject) -> SubjectIR:
    if subject.namespaces is not None:
        return SubjectIR(NamespaceMatch(selector=subject.namespaces), None)
    assert subject.pods is not None  # exactly one is set (validated)
    peer = _pods(subject.pods)
    return SubjectIR(peer.namespaces, peer.pods)


def _network(cidr: str) -> str:
    # isCIDR accepts host bits past the prefix (netip.ParsePrefix keeps them); a prefix matches
    # on its first bits only, so the network form is the same set of addresses.
    assert cel_cidr_problem(cidr) is None  # validated
    return str(ipaddress.ip_network(cidr, strict=False))


def _peers(peers: Sequence[Any], base: str) -> tuple[tuple[PeerIR, ...], tuple[str, ...]]:
    out: list[PeerIR] = []
    paths: list[str] = []
    for j, peer in enumerate(peers):
        path = f"{base}[{j}]"
        if peer.namespaces is not None:
            out.append(PodsPeer(_namespaces(peer.namespaces), None))
            paths.append(f"{path}.namespaces")
        elif peer.pods is not None:
            out.append(_pods(peer.pods))
            paths.append(f"{path}.pods")
        elif getattr(peer, "nodes", None) is not None:
            out.append(NodesPeer(peer.nodes))
            paths.append(f"{path}.nodes")
        elif getattr(peer, "networks", None) is not None:
            for k, cidr in enumerate(peer.networks):
                out.append(IPPeer(_network(cidr), (), pod_ips=True))
                paths.append(f"{path}.networks[{k}]")
        elif getattr(peer, "domain_names", None) is not None:
            out.append(DomainsPeer(tuple(peer.domain_names)))
            paths.append(f"{path}.domainNames")
    return tuple(out), tuple(paths)


def _v1_ports(ports: Sequence[AdminNetworkPolicyPort] | None, base: str) -> tuple[PortsIR, tuple[str, ...]]:
    if ports is None:  # "If Ports is not set then the rule does not filter traffic via port"
        return None, ()
    out: list[PortRangeIR | NamedPortIR] = []
    for p in ports:
        if p.port_number is not None:
            n = p.port_number
            out.append(PortRangeIR(n.protocol, n.port, n.port))
        elif p.port_range is not None:
            r = p.port_range
            out.append(PortRangeIR(r.protocol, r.start, r.end))
        else:
            assert p.named_port is not None
            out.append(NamedPortIR(p.named_port, None))
    return tuple(out), tuple(f"{base}[{j}]" for j in range(len(ports)))


def _v2_ports(protocols: Sequence[ClusterNetworkPolicyProtocol] | None, base: str) -> tuple[
        PortsIR, tuple[str, ...]]:
    if protocols is None:  # "If unspecified, protocol-specific attributes will not be used"
        return None, ()
    out: list[PortRangeIR | NamedPortIR] = []
    for p in protocols:
        proto, spec = p.protocol, p.ports
        if proto is None or spec is None:
            assert p.destination_named_port is not None
            out.append(NamedPortIR(p.destination_named_port, None))
            continue
        dest = spec.destination_port
        assert dest is not None  # MinProperties=1 (validated)
        if dest.number is not None:
            out.append(PortRangeIR(proto, dest.number, dest.number))
        else:
            assert dest.range is not None
            out.append(PortRangeIR(proto, dest.range.start, dest.range.end))
    return tuple(out), tuple(f"{base}[{j}]" for j in range(len(protocols)))


def _rules(policy: ClusterWidePolicy, direction: Direction) -> tuple[RuleIR, ...]:
    side = "from" if direction == "ingress" else "to"
    rules: Sequence[Any] = getattr(policy.spec, direction) or ()
    v2 = isinstance(policy, ClusterNetworkPolicy)
    out: list[RuleIR] = []
    for i, rule in enumerate(rules):
        path = f"spec.{direction}[{i}]"
        peers, peer_paths = _peers(rule.peers, f"{path}.{side}")
        if v2:
            ports, port_paths = _v2_ports(rule.protocols, f"{path}.protocols")
        else:
            ports, port_paths = _v1_ports(rule.ports, f"{path}.ports")
        out.append(RuleIR(_ACTIONS[rule.action], peers, ports,
                          Origin(policy.kind, policy.key, path, rule.name), peer_paths, port_paths))
    return tuple(out)


def compile_cluster_policy(obj: ClusterWidePolicy | Mapping[str, Any] | object) -> PolicyIR | None:
    """One AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy in the rule form.

    ``obj`` is a model object or an API-shaped dict of one of the three kinds (validated as the
    API server would: ``InvalidPolicyError`` when it is invalid). Anything else gives None, so
    the caller can say what it expected.

    Raises:
        InvalidPolicyError: an invalid cluster-wide policy dict.

    Example:
        >>> from netpol_dsl.model import load_cluster_policy
        >>> cnp = load_cluster_policy({"apiVersion": "policy.networking.k8s.io/v1alpha2",
        ...     "kind": "ClusterNetworkPolicy", "metadata": {"name": "no-smtp"},
        ...     "spec": {"tier": "Admin", "priority": 10, "subject": {"namespaces": {}},
        ...              "egress": [{"name": "smtp", "action": "Deny",
        ...                          "to": [{"networks": ["0.0.0.0/0"]}],
        ...                          "protocols": [{"tcp": {"destinationPort": {"number": 25}}}]}]}})
        >>> ir = compile_cluster_policy(cnp)
        >>> ir.tier, ir.priority, ir.isolates
        ('admin', 10, ())
        >>> rule = ir.egress[0]
        >>> rule.action, rule.peers, rule.ports
        ('deny', (IPPeer(cidr='0.0.0.0/0', excepts=(), pod_ips=True),), (PortRangeIR(protocol='TCP', first=25, last=25),))
        >>> rule.origin.where, rule.origin.name, rule.peer_paths
        ('no-smtp spec.egress[0]', 'smtp', ('spec.egress[0].to[0].networks[0]',))
        >>> compile_cluster_policy({"kind": "ConfigMap"}) is None
        True
    """
    if isinstance(obj, Mapping):
        if not is_cluster_policy(obj):
            return None
        obj = load_cluster_policy(obj)
    if isinstance(obj, AdminNetworkPolicy):
        tier: Tier = "admin"
        priority = obj.spec.priority
    elif isinstance(obj, BaselineAdminNetworkPolicy):
        tier, priority = "baseline", 0
    elif isinstance(obj, ClusterNetworkPolicy):
        tier, priority = _TIERS[obj.spec.tier], obj.spec.priority
    else:
        return None
    return PolicyIR(obj.kind, obj.key, tier, priority, _subject(obj.spec.subject),
                    _rules(obj, "ingress"), _rules(obj, "egress"))


def equal_priority_warnings(policies: Iterable[PolicyIR]) -> list[Issue]:
    """One warning per group of cluster-wide policies that share a tier and a priority.

    Upstream leaves the order of such policies undefined ("the implementation can apply any of
    the matching policies to the connection"); this evaluator orders them by key. Two policies
    with the same kind and key (the same object given twice) are reported too.

    Example:
        >>> from netpol_dsl.evaluate._ir import SubjectIR, NamespaceMatch
        >>> s = SubjectIR(NamespaceMatch(selector=LabelSelector()))
        >>> irs = [PolicyIR("AdminNetworkPolicy", k, "admin", 5, s, (), ()) for k in ("b", "a")]
        >>> [str(w) for w in equal_priority_warnings(irs)]
        ['spec.priority: got 5; expected a priority no other admin-tier policy has. a, b have it; upstream leaves their order undefined (evaluated here by name: a, b)']
    """
    groups: dict[tuple[Tier, int], list[PolicyIR]] = defaultdict(list)
    for p in policies:
        if p.tier != "networkpolicy":
            groups[(p.tier, p.priority)].append(p)
    out: list[Issue] = []
    for (tier, priority), members in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        if len(members) < 2:
            continue
        keys = sorted(p.key for p in members)
        if len(set(keys)) == 1 and len({p.kind for p in members}) == 1:
            hint = f"{keys[0]} is given {len(keys)} times; only one object of that name can exist"
        elif tier == "baseline" and all(p.kind == "BaselineAdminNetworkPolicy" for p in members):
            hint = ", ".join(keys) + " are all BaselineAdminNetworkPolicies; a cluster has one"
        else:
            hint = (", ".join(keys) + " have it; upstream leaves their order undefined "
                    f"(evaluated here by name: {', '.join(keys)})")
        what = f"a priority no other {tier}-tier policy has"
        out.append(Issue("spec.priority", priority, what, hint=hint, source=None))
    return out
