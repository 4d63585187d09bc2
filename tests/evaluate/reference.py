"""A naive reference evaluator, written straight from the NetworkPolicy spec.

It exists only to check the fast evaluator (``netpol_dsl.evaluate``) and the transcribed
expectations of the upstream conformance tests. It is deliberately slow and plain: every
question loops over every policy, there is no caching, no grouping of pods, and it shares no
matching code with the library (label selectors, ipBlocks and policyTypes defaulting are
re-implemented here from the API reference).

Spec sources, quoted where a line encodes them:

- API reference, ``networking.k8s.io/v1`` NetworkPolicy and ``NetworkPolicySpec``
  (https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/).
- Concepts page, https://kubernetes.io/docs/concepts/services-networking/network-policies/.
- ``pkg/apis/networking/v1/defaults.go`` (policyTypes and protocol defaulting).
- ``apimachinery/pkg/labels`` (selector operators).
- e2e conformance ``test/e2e/network/netpol`` (ipBlocks match pod IPs; SCTP/UDP-only rules
  still isolate TCP; named ports).

Inputs are duck-typed so that both this module's small dataclasses and the fast evaluator's
``Namespace``/``Pod``/``ContainerPort`` objects can be passed: a namespace has ``name`` and
``labels``; a pod has ``namespace``, ``name``, ``labels``, ``ips``, ``ports`` (each with
``port``, ``protocol``, ``name``) and ``host_network``; policies are
``netpol_dsl.model.NetworkPolicy``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PROTOCOLS = ("TCP", "UDP", "SCTP")
MAX_PORT = 65535


@dataclass(frozen=True)
class RefPort:
    port: int
    protocol: str = "TCP"
    name: str | None = None


@dataclass(frozen=True)
class RefNamespace:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RefPod:
    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ips: tuple[str, ...] = ()
    ports: tuple[RefPort, ...] = ()
    host_network: bool = False

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class RefCluster:
    """What the reference needs to know: namespaces, pods, policies, and one option."""

    namespaces: Sequence[Any]
    pods: Sequence[Any]
    policies: Sequence[Any]
    ipblock_matches_pod_ips: bool = True

    def namespace_labels(self, name: str) -> Mapping[str, str]:
        for ns in self.namespaces:
            if ns.name == name:
                return ns.labels
        # Every namespace carries kubernetes.io/metadata.name (NamespaceDefaultLabelName);
        # the reference requires callers to list every namespace a pod lives in.
        msg = f"namespace {name!r} is not in the cluster"
        raise KeyError(msg)


# --- label selectors (apimachinery labels.Selector semantics) -------------------------------


def requirement_matches(req: Any, labels: Mapping[str, str]) -> bool:
    """One matchExpressions entry. NotIn and DoesNotExist match a missing key."""
    key, op, values = req.key, req.operator, tuple(req.values or ())
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    msg = f"unknown operator {op!r}"
    raise ValueError(msg)


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """A LabelSelector: matchLabels AND matchExpressions; an empty selector matches all."""
    for key, value in (selector.match_labels or {}).items():
        if key not in labels or labels[key] != value:
            return False
    return all(requirement_matches(r, labels) for r in selector.match_expressions or ())


# --- ipBlocks --------------------------------------------------------------------------------


def ip_in_block(ip: str, block: Any) -> bool:
    """``cidr`` minus every ``except``; an address of the other family never matches."""
    addr = ipaddress.ip_address(ip)
    net = ipaddress.ip_network(block.cidr, strict=False)
    if addr.version != net.version or addr not in net:
        return False
    for text in block.except_ or ():
        ex = ipaddress.ip_network(text, strict=False)
        if ex.version == addr.version and addr in ex:
            return False
    return True


# --- policies ---------------------------------------------------------------------------------


def policy_types(policy: Any) -> tuple[str, ...]:
    """policyTypes after defaulting (networking/v1/defaults.go SetDefaults_NetworkPolicy).

    Absent or empty: Ingress, plus Egress when the policy has at least one egress rule.
    """
    spec = policy.spec
    if spec.policy_types:
        return tuple(t for t in ("Ingress", "Egress") if t in spec.policy_types)
    return ("Ingress", "Egress") if spec.egress else ("Ingress",)


def selects(policy: Any, pod: Any) -> bool:
    """A policy applies to pods in its own namespace matched by spec.podSelector."""
    return policy.metadata.namespace == pod.namespace and selector_matches(
        policy.spec.pod_selector, pod.labels
    )


def peer_matches(cluster: RefCluster, policy: Any, peer: Any, other: Any) -> bool:
    """Whether the other end (a pod, or an IP string for an external endpoint) is this peer.

    - ipBlock: the address (external) or one of the pod's IPs, when pod-IP matching is on.
      A pod without IPs never matches.
    - podSelector alone: pods in the policy's namespace.
    - namespaceSelector alone: every pod in a matching namespace.
    - both: matching pods in matching namespaces.
    Selectors never match an external address.
    """
    if peer.ip_block is not None:
        if isinstance(other, str):
            return ip_in_block(other, peer.ip_block)
        if not cluster.ipblock_matches_pod_ips:
            return False
        return any(ip_in_block(ip, peer.ip_block) for ip in other.ips)
    if isinstance(other, str):
        return False
    if peer.namespace_selector is not None:
        ns_ok = selector_matches(peer.namespace_selector, cluster.namespace_labels(other.namespace))
    else:
        ns_ok = other.namespace == policy.metadata.namespace
    pod_ok = peer.pod_selector is None or selector_matches(peer.pod_selector, other.labels)
    return ns_ok and pod_ok


def port_matches(rule_port: Any, protocol: str, port: int, dst: Any) -> bool:
    """One NetworkPolicyPort against traffic (protocol, port) to ``dst``.

    Protocol defaults to TCP. No port: every port of that protocol. A number, optionally with
    endPort: that range. A name: resolved against the destination pod's container ports with
    the same name and protocol (for ingress and egress alike); an external destination or a
    pod without such a port never matches.
    """
    rule_protocol = rule_port.protocol or "TCP"
    if rule_protocol != protocol:
        return False
    if rule_port.port is None:
        return True
    if isinstance(rule_port.port, int):
        end = rule_port.end_port if rule_port.end_port is not None else rule_port.port
        return rule_port.port <= port <= end
    if isinstance(dst, str):
        return False
    return any(
        cp.name == rule_port.port and cp.protocol == protocol and cp.port == port
        for cp in dst.ports
    )


def rule_matches(
    cluster: RefCluster, policy: Any, rule: Any, peers: Any, other: Any,
    protocol: str, port: int, dst: Any,
) -> bool:
    """A rule allows the traffic iff some peer matches (absent/empty: all) AND some port does."""
    if peers and not any(peer_matches(cluster, policy, p, other) for p in peers):
        return False
    ports = rule.ports
    return not ports or any(port_matches(p, protocol, port, dst) for p in ports)


def _side_allows(
    cluster: RefCluster, pod: Any, direction: str, other: Any, protocol: str, port: int, dst: Any
) -> bool:
    """The ingress (or egress) side of ``pod``: not isolated, or some rule of some policy allows."""
    isolated = False
    for policy in cluster.policies:
        if not selects(policy, pod) or direction not in policy_types(policy):
            continue
        isolated = True
        rules = policy.spec.ingress if direction == "Ingress" else policy.spec.egress
        for rule in rules or ():
            peers = rule.from_ if direction == "Ingress" else rule.to
            if rule_matches(cluster, policy, rule, peers, other, protocol, port, dst):
                return True
    return not isolated


def allowed(cluster: RefCluster, src: Any, dst: Any, protocol: str, port: int) -> bool:
    """Whether ``src`` may open a connection to ``dst`` on (protocol, port).

    ``src``/``dst`` are pods or IP strings (external endpoints), not both IPs. A pod always
    reaches itself. A hostNetwork pod at either end: allowed, as ``netpol_dsl.evaluate``
    documents (upstream leaves hostNetwork pods undefined; the library keeps them outside
    NetworkPolicy's reach). Otherwise the source's egress AND the destination's ingress must
    allow it; an external end has no policies, so only the pod side counts.
    """
    if protocol not in PROTOCOLS:
        msg = f"unknown protocol {protocol!r}"
        raise ValueError(msg)
    if isinstance(src, str) and isinstance(dst, str):
        msg = "at least one end must be a pod"
        raise ValueError(msg)
    if not isinstance(src, str) and not isinstance(dst, str) and src.key == dst.key:
        return True
    if any(not isinstance(end, str) and end.host_network for end in (src, dst)):
        return True
    ok = True
    if not isinstance(src, str):
        ok = _side_allows(cluster, src, "Egress", dst, protocol, port, dst)
    if ok and not isinstance(dst, str):
        ok = _side_allows(cluster, dst, "Ingress", src, protocol, port, dst)
    return ok


# --- full connection sets ----------------------------------------------------------------------


def _breakpoints(cluster: RefCluster, dst: Any) -> list[int]:
    """Ports where ``allowed`` can change value: every rule port, endPort+1, container port.

    Between two consecutive breakpoints every rule port matches either all or none of the
    ports, so the verdict is constant there.
    """
    points = {1}
    for policy in cluster.policies:
        for rule in (policy.spec.ingress or ()) + (policy.spec.egress or ()):
            for p in rule.ports or ():
                if isinstance(p.port, int):
                    points.add(p.port)
                    end = p.end_port if p.end_port is not None else p.port
                    points.add(end + 1)
    if not isinstance(dst, str):
        for cp in dst.ports:
            points.update((cp.port, cp.port + 1))
    return sorted(x for x in points if 1 <= x <= MAX_PORT)


def connections(cluster: RefCluster, src: Any, dst: Any) -> dict[str, tuple[tuple[int, int], ...]]:
    """Every allowed (protocol, port) from src to dst, as merged inclusive ranges per protocol.

    Protocols with nothing allowed are left out, so ``{}`` means no connection.
    """
    points = _breakpoints(cluster, dst)
    out: dict[str, tuple[tuple[int, int], ...]] = {}
    for protocol in PROTOCOLS:
        ranges: list[tuple[int, int]] = []
        for i, lo in enumerate(points):
            hi = points[i + 1] - 1 if i + 1 < len(points) else MAX_PORT
            if allowed(cluster, src, dst, protocol, lo):
                if ranges and ranges[-1][1] + 1 == lo:
                    ranges[-1] = (ranges[-1][0], hi)
                else:
                    ranges.append((lo, hi))
        if ranges:
            out[protocol] = tuple(ranges)
    return out


ALL_CONNECTIONS = {p: ((1, MAX_PORT),) for p in PROTOCOLS}
