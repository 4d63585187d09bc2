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
``port``, ``protocol``, ``name``), ``host_network`` and optionally ``node_name``; policies are
``netpol_dsl.model.NetworkPolicy``.

Cluster-wide policies (``cluster_policies``) are read straight from their API shape (plain
dicts), not through the library's models: AdminNetworkPolicy and BaselineAdminNetworkPolicy
(``policy.networking.k8s.io/v1alpha1``, with the obsolete ``namespaces: {namespaceSelector |
sameLabels | notSameLabels}`` shape too) and ClusterNetworkPolicy (``v1alpha2``). Sources:
``kubernetes-sigs/network-policy-api`` ``apis/v1alpha1/*_types.go``,
``apis/v1alpha2/clusternetworkpolicy_types.go`` and ``site-src/api-overview.md``:

- each side (source egress, destination ingress) is decided on its own; both must allow;
- admin tier (ANP, CNP ``tier: Admin``): policies whose subject selects the pod, by ascending
  priority (then name, since equal priorities are undefined upstream), rules in written order;
  the first rule whose peer and port match decides: Allow/Accept and Deny are final, Pass skips
  the rest of the admin tier;
- then NetworkPolicies, if any selects the pod for that direction (allowed iff a rule matches);
- otherwise the baseline tier (BANP, CNP ``tier: Baseline``) likewise (Pass: the default);
- otherwise allowed.

Host-network pods are never subjects and never ``namespaces``/``pods`` peers; they match
``networks`` by their IPs and ``nodes`` by their node's labels; NetworkPolicies do not govern
traffic with a host-network pod at either end. ``domainNames`` never match (offline, a domain
cannot be resolved; the library reports such answers as undetermined).
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
    #: API-shaped dicts of AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy
    cluster_policies: Sequence[Mapping[str, Any]] = ()
    #: node name -> (labels, addresses)
    nodes: Mapping[str, tuple[Mapping[str, str], tuple[str, ...]]] = field(default_factory=dict)

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


# --- cluster-wide policies (API dicts) ----------------------------------------------------------


class _Sel:
    """A label selector read from its API dict, for ``selector_matches``."""

    def __init__(self, data: Mapping[str, Any] | None) -> None:
        data = data or {}
        self.match_labels = data.get("matchLabels")
        self.match_expressions = [_Req(r) for r in data.get("matchExpressions") or ()]


class _Req:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.key = data["key"]
        self.operator = data["operator"]
        self.values = data.get("values")


def _tier(policy: Mapping[str, Any]) -> str:
    kind = policy["kind"]
    if kind == "AdminNetworkPolicy":
        return "admin"
    if kind == "BaselineAdminNetworkPolicy":
        return "baseline"
    return "admin" if policy["spec"]["tier"] == "Admin" else "baseline"


def _ns_matches(cluster: RefCluster, namespaces: Any, pod: Any, subject: Any) -> bool:
    """A ``namespaces`` peer or subject: a selector, or the obsolete (v0.1.2) shape."""
    labels = cluster.namespace_labels(pod.namespace)
    if isinstance(namespaces, Mapping) and (
            "sameLabels" in namespaces or "notSameLabels" in namespaces
            or "namespaceSelector" in namespaces):
        if "namespaceSelector" in namespaces:
            return selector_matches(_Sel(namespaces["namespaceSelector"]), labels)
        # v0.1.2 NamespacedPeer: SameLabels - every key present with the subject's value;
        # NotSameLabels - every key present and at least one value different; empty: nothing.
        mine = cluster.namespace_labels(subject.namespace)
        if "sameLabels" in namespaces:
            keys = namespaces["sameLabels"] or ()
            return bool(keys) and all(k in labels and k in mine and labels[k] == mine[k]
                                      for k in keys)
        keys = namespaces["notSameLabels"] or ()
        return bool(keys) and all(k in labels for k in keys) and any(
            labels[k] != mine.get(k) for k in keys)
    return selector_matches(_Sel(namespaces), labels)


def _pods_matches(cluster: RefCluster, pods: Mapping[str, Any], pod: Any, subject: Any,
                  v2: bool) -> bool:
    if "namespaces" in pods:  # the obsolete v0.1.2 shape: {namespaces: {...}, podSelector}
        ns_ok = _ns_matches(cluster, pods["namespaces"], pod, subject)
    elif "namespaceSelector" in pods:
        ns_ok = selector_matches(_Sel(pods["namespaceSelector"]),
                                 cluster.namespace_labels(pod.namespace))
    else:  # v1alpha2: an omitted namespaceSelector means every namespace
        ns_ok = v2
    return ns_ok and selector_matches(_Sel(pods.get("podSelector")), pod.labels)


def _cw_subject(cluster: RefCluster, policy: Mapping[str, Any], pod: Any) -> bool:
    if pod.host_network:
        return False
    subject = policy["spec"]["subject"]
    if "namespaces" in subject:
        return _ns_matches(cluster, subject["namespaces"], pod, pod)
    return _pods_matches(cluster, subject["pods"], pod, pod, policy["apiVersion"].endswith("v1alpha2"))


def _node_of(cluster: RefCluster, other: Any) -> list[Mapping[str, str]]:
    """Labels of the node(s) an end is: a host-network pod's node, or a node address."""
    if isinstance(other, str):
        return [labels for labels, addrs in cluster.nodes.values()
                if any(ipaddress.ip_address(a) == ipaddress.ip_address(other) for a in addrs)]
    if other.host_network:
        node = cluster.nodes.get(getattr(other, "node_name", None) or "")
        return [node[0]] if node else []
    return []


def _cw_peer(cluster: RefCluster, policy: Mapping[str, Any], peer: Mapping[str, Any],
             other: Any, subject: Any) -> bool:
    v2 = policy["apiVersion"].endswith("v1alpha2")
    if "networks" in peer:
        ips = [other] if isinstance(other, str) else list(other.ips)
        return any(ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)
                   for ip in ips for cidr in peer["networks"]
                   if ipaddress.ip_address(ip).version == ipaddress.ip_network(cidr, strict=False).version)
    if "nodes" in peer:
        return any(selector_matches(_Sel(peer["nodes"]), labels)
                   for labels in _node_of(cluster, other))
    if "domainNames" in peer:
        return False
    if isinstance(other, str) or other.host_network:
        return False
    if "namespaces" in peer:
        return _ns_matches(cluster, peer["namespaces"], other, subject)
    return _pods_matches(cluster, peer["pods"], other, subject, v2)


def _cw_port(policy: Mapping[str, Any], item: Mapping[str, Any], protocol: str, port: int,
             dst: Any) -> bool:
    named = item.get("namedPort") or item.get("destinationNamedPort")
    if named is not None:
        return not isinstance(dst, str) and any(
            cp.name == named and cp.protocol == protocol and cp.port == port for cp in dst.ports)
    if "portNumber" in item:
        p = item["portNumber"]
        return (p.get("protocol") or "TCP") == protocol and p["port"] == port
    if "portRange" in item:
        p = item["portRange"]
        return (p.get("protocol") or "TCP") == protocol and p["start"] <= port <= p["end"]
    for key, proto in (("tcp", "TCP"), ("udp", "UDP"), ("sctp", "SCTP")):
        if key in item:
            dp = item[key].get("destinationPort")
            if proto != protocol:
                return False
            if dp is None:
                return True
            if "number" in dp:
                return dp["number"] == port
            return dp["range"]["start"] <= port <= dp["range"]["end"]
    msg = f"unknown port entry {item!r}"
    raise ValueError(msg)


def _cw_rule_matches(cluster: RefCluster, policy: Mapping[str, Any], rule: Mapping[str, Any],
                     direction: str, other: Any, subject: Any, protocol: str, port: int,
                     dst: Any) -> bool:
    peers = rule.get("from") if direction == "Ingress" else rule.get("to")
    if not any(_cw_peer(cluster, policy, peer, other, subject) for peer in peers or ()):
        return False
    ports = rule.get("ports") if "ports" in rule else rule.get("protocols")
    return ports is None or any(_cw_port(policy, p, protocol, port, dst) for p in ports)


def _tier_decision(cluster: RefCluster, tier: str, pod: Any, direction: str, other: Any,
                   protocol: str, port: int, dst: Any) -> str | None:
    """"allow", "deny", "pass" or None (no rule matched) for one tier."""
    chosen = [p for p in cluster.cluster_policies if _tier(p) == tier
              and _cw_subject(cluster, p, pod)]
    chosen.sort(key=lambda p: (p["spec"].get("priority", 0), p["metadata"]["name"]))
    for policy in chosen:
        for rule in policy["spec"].get(direction.lower()) or ():
            if _cw_rule_matches(cluster, policy, rule, direction, other, pod, protocol, port, dst):
                action = rule["action"]
                return {"Allow": "allow", "Accept": "allow", "Deny": "deny", "Pass": "pass"}[action]
    return None


def _np_side(cluster: RefCluster, pod: Any, direction: str, other: Any, protocol: str,
             port: int, dst: Any) -> bool | None:
    """The NetworkPolicy tier: True/False when a policy selects the pod, else None."""
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
    return False if isolated else None


def _tiered_side(cluster: RefCluster, pod: Any, direction: str, other: Any, protocol: str,
                 port: int, dst: Any) -> bool:
    if pod.host_network:
        return True  # never a subject of any tier
    admin = _tier_decision(cluster, "admin", pod, direction, other, protocol, port, dst)
    if admin in ("allow", "deny"):
        return admin == "allow"
    # NetworkPolicy does not govern traffic with a host-network pod at either end.
    if isinstance(other, str) or not other.host_network:
        np_side = _np_side(cluster, pod, direction, other, protocol, port, dst)
        if np_side is not None:
            return np_side
    baseline = _tier_decision(cluster, "baseline", pod, direction, other, protocol, port, dst)
    return baseline != "deny"


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
    if cluster.cluster_policies:
        ok = True
        if not isinstance(src, str):
            ok = _tiered_side(cluster, src, "Egress", dst, protocol, port, dst)
        if ok and not isinstance(dst, str):
            ok = _tiered_side(cluster, dst, "Ingress", src, protocol, port, dst)
        return ok
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
    for policy in cluster.cluster_policies:
        spec = policy["spec"]
        for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
            for item in rule.get("ports") or rule.get("protocols") or ():
                for key in ("portNumber", "portRange", "tcp", "udp", "sctp"):
                    if key not in item:
                        continue
                    v = item[key]
                    if key == "portNumber":
                        points.update((v["port"], v["port"] + 1))
                    elif key == "portRange":
                        points.update((v["start"], v["end"] + 1))
                    elif v.get("destinationPort"):
                        dp = v["destinationPort"]
                        lo, hi = ((dp["number"], dp["number"]) if "number" in dp
                                  else (dp["range"]["start"], dp["range"]["end"]))
                        points.update((lo, hi + 1))
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
