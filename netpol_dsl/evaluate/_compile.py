"""NetworkPolicy -> the one rule form (``_ir.PolicyIR``).

The NetworkPolicy tier is an allow list with an implicit deny where it isolates
(https://kubernetes.io/docs/concepts/services-networking/network-policies/, "The two sorts of pod
isolation"): every rule compiles to an ``allow`` rule, and the directions in the policy's effective
``policyTypes`` are the ones it isolates.
"""

from __future__ import annotations

from collections.abc import Sequence

from netpol_dsl import _rules
from netpol_dsl.evaluate._ir import (
    AnyPeer,
    Direction,
    IPPeer,
    NamedPortIR,
    NamespaceMatch,
    Origin,
    PeerIR,
    PodsPeer,
    PolicyIR,
    PortRangeIR,
    PortsIR,
    RuleIR,
    SubjectIR,
)
from netpol_dsl.model import (
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
)

__all__ = ["DEFAULT_NAMESPACE", "compile_network_policy", "policy_namespace"]

DEFAULT_NAMESPACE = _rules.DEFAULT_NAMESPACE


def policy_namespace(policy: NetworkPolicy) -> str:
    """The namespace a policy applies in: its own, or ``default`` when it has none.

    Example:
        >>> from netpol_dsl.model import ObjectMeta
        >>> policy_namespace(NetworkPolicy(metadata=ObjectMeta(name="x")))
        'default'
    """
    return _rules.namespace_of(policy.namespace)


def _peer(peer: NetworkPolicyPeer, namespace: str) -> PeerIR:
    if peer.ip_block is not None:
        return IPPeer(peer.ip_block.cidr, tuple(peer.ip_block.except_ or ()), pod_ips=None)
    if peer.namespace_selector is not None:
        # namespaceSelector (AND podSelector when both are in one peer): pods of the matching
        # namespaces (API reference, NetworkPolicyPeer).
        return PodsPeer(NamespaceMatch(selector=peer.namespace_selector), peer.pod_selector)
    # podSelector alone: pods of the policy's own namespace.
    return PodsPeer(NamespaceMatch(name=namespace), peer.pod_selector)


def _ports(ports: Sequence[NetworkPolicyPort] | None) -> PortsIR:
    if not ports:  # absent or empty: every port (API reference, NetworkPolicyIngressRule.ports)
        return None
    out: list[PortRangeIR | NamedPortIR] = []
    for p in ports:
        proto = p.effective_protocol  # protocol defaults to TCP (networking/v1 defaults.go)
        if p.port is None:  # a protocol without a port: every port of it
            out.append(PortRangeIR(proto, 1, 65535))
        elif isinstance(p.port, int):
            out.append(PortRangeIR(proto, p.port, p.end_port if p.end_port is not None else p.port))
        else:
            out.append(NamedPortIR(p.port, proto))
    return tuple(out)


def _rule_irs(policy: NetworkPolicy, namespace: str, direction: Direction) -> tuple[RuleIR, ...]:
    side = "from" if direction == "ingress" else "to"
    rules: Sequence[NetworkPolicyIngressRule | NetworkPolicyEgressRule] = (
        (policy.spec.ingress or ()) if direction == "ingress" else (policy.spec.egress or ()))
    out = []
    for i, rule in enumerate(rules):
        path = f"spec.{direction}[{i}]"
        peers = rule.peers
        if not peers:  # absent or empty from/to: every peer, in the cluster or not
            compiled: tuple[PeerIR, ...] = (AnyPeer(),)
            peer_paths: tuple[str, ...] = (path,)
        else:
            compiled = tuple(_peer(p, namespace) for p in peers)
            peer_paths = tuple(f"{path}.{side}[{j}]" for j in range(len(peers)))
        port_paths = tuple(f"{path}.ports[{j}]" for j in range(len(rule.ports or ())))
        out.append(RuleIR("allow", compiled, _ports(rule.ports),
                          Origin("NetworkPolicy", policy.key, path), peer_paths, port_paths))
    return tuple(out)


def compile_network_policy(policy: NetworkPolicy) -> PolicyIR:
    """One NetworkPolicy in the rule form: allow rules, isolating its effective policyTypes.

    Example:
        >>> from netpol_dsl import load_policy
        >>> p = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        ...     "metadata": {"name": "api", "namespace": "a"},
        ...     "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]}})
        >>> ir = compile_network_policy(p)
        >>> ir.isolates, ir.ingress[0].action, ir.ingress[0].ports
        (('ingress',), 'allow', (PortRangeIR(protocol='TCP', first=80, last=80),))
    """
    ns = policy_namespace(policy)
    types = policy.spec.effective_policy_types
    isolates: list[Direction] = []
    if "Ingress" in types:
        isolates.append("ingress")
    if "Egress" in types:
        isolates.append("egress")
    return PolicyIR(
        "NetworkPolicy", policy.key, "networkpolicy", 0, SubjectIR(NamespaceMatch(name=ns), policy.spec.pod_selector),
        _rule_irs(policy, ns, "ingress") if "ingress" in isolates else (),
        _rule_irs(policy, ns, "egress") if "egress" in isolates else (),
        isolates=tuple(isolates),
    )
