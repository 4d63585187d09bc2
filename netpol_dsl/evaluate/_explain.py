"""Direct evaluation on the model, rule by rule, recording why each rule did or did not match.

This is the slow path: it serves explanations and ad hoc endpoints (DSL selectors standing for
representative pods). The fast path in ``_engine`` must always agree with it; tests check that.

Semantics, as the NetworkPolicy API reference and the concepts page state them
(https://kubernetes.io/docs/concepts/services-networking/network-policies/):

- a pod is isolated for a direction iff a policy in its namespace selects it (``podSelector``)
  with that direction in its effective ``policyTypes``;
- the connections allowed on an isolated side are the union of the rules of those policies;
- a rule matches when one of its peers matches (absent or empty ``from``/``to``: every peer) and
  one of its ports matches (absent or empty ``ports``: every port);
- ``podSelector`` alone means pods of the policy's namespace; ``namespaceSelector`` means pods of
  the matching namespaces; both in one peer are ANDed; ``ipBlock`` is ``cidr`` minus ``except``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from netpol_dsl.evaluate._connections import ConnectionSet
from netpol_dsl.evaluate._inventory import Pod
from netpol_dsl.evaluate.verdict import Direction, DirectionVerdict, PolicyMiss, RuleMatch, RuleMiss
from netpol_dsl.model import (
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
)

__all__ = ["End", "fmt_labels", "fmt_peer", "fmt_port", "fmt_selector"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class End:
    """One end of a connection: a pod (with its namespace's labels) or an external address."""

    label: str
    pod: Pod | None = None
    ns_labels: Mapping[str, str] = field(default_factory=dict)
    ip: IPAddress | None = None
    #: The cluster's pod key, or None for an external address or a representative pod.
    key: str | None = None


# ----------------------------------------------------------------------------- formatting


def fmt_selector(sel: LabelSelector) -> str:
    """A selector in kubectl's ``-l`` syntax, in braces; ``{}`` selects everything.

    Example:
        >>> from netpol_dsl.model import LabelSelectorRequirement as R
        >>> fmt_selector(LabelSelector(match_labels={"app": "web"}, match_expressions=[
        ...     R(key="tier", operator="In", values=["a", "b"]), R(key="x", operator="DoesNotExist")]))
        '{app=web, tier in (a,b), !x}'
    """
    parts = [f"{k}={v}" for k, v in (sel.match_labels or {}).items()]
    for r in sel.match_expressions or ():
        values = ",".join(r.values or ())
        if r.operator == "In":
            parts.append(f"{r.key} in ({values})")
        elif r.operator == "NotIn":
            parts.append(f"{r.key} notin ({values})")
        elif r.operator == "Exists":
            parts.append(r.key)
        else:
            parts.append(f"!{r.key}")
    return "{" + ", ".join(parts) + "}"


def fmt_labels(labels: Mapping[str, str]) -> str:
    """Labels as ``{k=v, ...}`` sorted by key.

    Example:
        >>> fmt_labels({"tier": "web", "app": "x"})
        '{app=x, tier=web}'
    """
    return "{" + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) + "}"


def _fmt_block(block: IPBlock) -> str:
    text = f"ipBlock {block.cidr}"
    if block.except_:
        text += " except " + ", ".join(block.except_)
    return text


def fmt_peer(peer: NetworkPolicyPeer) -> str:
    """A peer in one phrase.

    Example:
        >>> fmt_peer(NetworkPolicyPeer(namespace_selector=LabelSelector(),
        ...          pod_selector=LabelSelector(match_labels={"app": "dns"})))
        'namespaceSelector {} AND podSelector {app=dns}'
    """
    if peer.ip_block is not None:
        return _fmt_block(peer.ip_block)
    parts = []
    if peer.namespace_selector is not None:
        parts.append(f"namespaceSelector {fmt_selector(peer.namespace_selector)}")
    if peer.pod_selector is not None:
        parts.append(f"podSelector {fmt_selector(peer.pod_selector)}")
    return " AND ".join(parts)


def fmt_port(port: NetworkPolicyPort) -> str:
    """A rule port in one phrase.

    Example:
        >>> fmt_port(NetworkPolicyPort(port=8000, end_port=8100)), fmt_port(NetworkPolicyPort(protocol="UDP"))
        ('TCP 8000-8100', 'UDP (every port)')
        >>> fmt_port(NetworkPolicyPort(port="http"))
        "TCP named port 'http'"
    """
    proto = port.effective_protocol
    if port.port is None:
        return f"{proto} (every port)"
    if isinstance(port.port, str):
        return f"{proto} named port {port.port!r}"
    if port.end_port is not None:
        return f"{proto} {port.port}-{port.end_port}"
    return f"{proto} {port.port}"


def _fmt_ports(ports: Iterable[NetworkPolicyPort]) -> str:
    return ", ".join(fmt_port(p) for p in ports)


# ----------------------------------------------------------------------------- matching


def selects(policy: NetworkPolicy, pod: Pod, direction: Direction) -> bool:
    """Whether ``policy`` isolates ``pod`` for ``direction``."""
    types = policy.spec.effective_policy_types
    wanted = "Ingress" if direction == "ingress" else "Egress"
    return (
        wanted in types
        and (policy.namespace or "default") == pod.namespace
        and policy.spec.pod_selector.matches(pod.labels)
    )


def peer_matches(
    policy_ns: str, peer: NetworkPolicyPeer, other: End, ipblock_pods: bool
) -> tuple[bool, str]:
    """Whether ``other`` is this peer, with the reason when it is not."""
    if peer.ip_block is not None:
        block = peer.ip_block
        if other.pod is None:
            assert other.ip is not None
            if block.contains(str(other.ip)):
                return True, ""
            return False, f"{_fmt_block(block)} does not contain {other.ip}"
        if not ipblock_pods:
            return False, (f"{_fmt_block(block)} is not matched against pod IPs "
                           "(ipblock_matches_pod_ips=False)")
        if not other.pod.ips:
            return False, f"{_fmt_block(block)}: {other.label} has no IP, so no ipBlock matches it"
        if any(block.contains(ip) for ip in other.pod.ips):
            return True, ""
        return False, f"{_fmt_block(block)} does not contain {other.label}'s IPs ({', '.join(other.pod.ips)})"
    if other.pod is None:
        return False, (f"{fmt_peer(peer)} selects pods, and {other.ip} is an external address "
                       "(only ipBlock peers match those)")
    pod = other.pod
    reasons = []
    if peer.namespace_selector is not None:
        if not peer.namespace_selector.matches(other.ns_labels):
            reasons.append(f"namespaceSelector {fmt_selector(peer.namespace_selector)} does not "
                           f"match namespace {pod.namespace} (labels {fmt_labels(other.ns_labels)})")
    elif pod.namespace != policy_ns:
        # A podSelector without namespaceSelector selects pods in the policy's own namespace.
        reasons.append(f"podSelector {fmt_selector(peer.pod_selector or LabelSelector())} "
                       f"selects pods in namespace {policy_ns} only, and {other.label} is in "
                       f"namespace {pod.namespace}")
    if peer.pod_selector is not None and not peer.pod_selector.matches(pod.labels) and not (
        peer.namespace_selector is None and pod.namespace != policy_ns
    ):
        reasons.append(f"podSelector {fmt_selector(peer.pod_selector)} does not match "
                       f"{other.label} (labels {fmt_labels(pod.labels)})")
    if reasons:
        return False, " and ".join(reasons)
    return True, ""


def port_connections(port: NetworkPolicyPort, dst: End) -> ConnectionSet:
    """The connections one rule port allows towards ``dst`` (named ports resolved on ``dst``)."""
    proto = port.effective_protocol
    if port.port is None:
        return ConnectionSet.of(proto)
    if isinstance(port.port, int):
        return ConnectionSet.of(proto, port.port, port.end_port)
    # A named port means the destination pod's container port of that name and protocol, for
    # ingress and egress alike; nothing when the destination declares none (or is external).
    if dst.pod is None:
        return ConnectionSet.none()
    numbers = [(cp.port, cp.port) for cp in dst.pod.ports
               if cp.name == port.port and cp.protocol == proto]
    return ConnectionSet({proto: numbers}) if numbers else ConnectionSet.none()


def _port_miss(
    port: NetworkPolicyPort, protocol: str, number: int, dst: End
) -> tuple[bool, str]:
    """(is_named_port_problem, sentence) for a rule port that does not match."""
    proto = port.effective_protocol
    wanted = f"{protocol} {number}"
    if proto != protocol or not isinstance(port.port, str):
        return False, f"{wanted} is not in {fmt_port(port)}"
    if dst.pod is None:
        return True, (f"named port {port.port!r} cannot be resolved on {dst.label}, which is not "
                      "a pod")
    declared = sorted(cp.port for cp in dst.pod.ports if cp.name == port.port and cp.protocol == proto)
    if not declared:
        return True, (f"named port {port.port!r} ({proto}) is not declared on destination "
                      f"{dst.label}")
    return False, (f"named port {port.port!r} is {proto} {', '.join(map(str, declared))} on "
                   f"destination {dst.label}, not {number}")


RuleParts = tuple[tuple[NetworkPolicyPeer, ...] | None, tuple[NetworkPolicyPort, ...] | None]


def rule_parts(policy: NetworkPolicy, direction: Direction) -> tuple[RuleParts, ...]:
    """(peers, ports) of each rule of one direction."""
    if direction == "ingress":
        return tuple((r.from_, r.ports) for r in policy.spec.ingress or ())
    return tuple((r.to, r.ports) for r in policy.spec.egress or ())


def explain_direction(
    direction: Direction,
    subject: End,
    other: End,
    dst: End,
    protocol: str,
    port: int,
    candidates: Iterable[NetworkPolicy],
    ipblock_pods: bool,
) -> DirectionVerdict:
    """Evaluate one side rule by rule; ``subject`` is the pod whose policies decide."""
    assert subject.pod is not None
    pod = subject.pod
    policies = [p for p in candidates if selects(p, pod, direction)]
    if not policies:
        return DirectionVerdict(direction, subject.label, True, False, True)
    matches: list[RuleMatch] = []
    misses: list[PolicyMiss] = []
    for policy in policies:
        policy_ns = policy.namespace or "default"
        rules = rule_parts(policy, direction)
        if not rules:
            # An isolating policy without rules of this direction allows nothing (``ingress: []``
            # or absent, with the direction in policyTypes).
            misses.append(PolicyMiss(policy.key, (RuleMiss(
                None, "no-rules", (f"it has no {direction} rules, so it allows no {direction} "
                                   "to the pods it selects" if direction == "ingress" else
                                   f"it has no {direction} rules, so it allows no {direction} "
                                   "from the pods it selects",)),)))
            continue
        policy_misses: list[RuleMiss] = []
        for i, (peers, ports) in enumerate(rules):
            peer_hit: tuple[int | None, str] | None = None
            peer_reasons: list[str] = []
            if not peers:
                peer_hit = (None, "any (no `from`/`to`: every source)" if direction == "ingress"
                            else "any (no `to`: every destination)")
            else:
                for j, peer in enumerate(peers):
                    ok, why = peer_matches(policy_ns, peer, other, ipblock_pods)
                    if ok:
                        peer_hit = (j, fmt_peer(peer))
                        break
                    side = "from" if direction == "ingress" else "to"
                    peer_reasons.append(f"{side}[{j}]: {why}")
            port_hit: tuple[int | None, str] | None = None
            port_reasons: list[str] = []
            named_problem = False
            if not ports:
                port_hit = (None, "every port (no `ports`)")
            else:
                for j, rp in enumerate(ports):
                    if port_connections(rp, dst).allows(protocol, port):
                        port_hit = (j, fmt_port(rp))
                        break
                    named, why = _port_miss(rp, protocol, port, dst)
                    named_problem = named_problem or named
                    port_reasons.append(f"ports[{j}]: {why}")
            if peer_hit is not None and port_hit is not None:
                matches.append(RuleMatch(policy.key, direction, i, peer_hit[0], peer_hit[1],
                                         port_hit[0], port_hit[1]))
                continue
            if peer_hit is None and port_hit is None:
                kind = "peer+port"
            elif peer_hit is None:
                kind = "peer"
            else:
                kind = "named-port" if named_problem else "port"
            policy_misses.append(RuleMiss(i, kind, tuple(peer_reasons + port_reasons)))
        if policy_misses and not any(m.policy == policy.key for m in matches):
            misses.append(PolicyMiss(policy.key, tuple(policy_misses)))
    allowed = bool(matches)
    return DirectionVerdict(
        direction, subject.label, True, True, allowed,
        isolating=tuple(p.key for p in policies),
        allowed_by=tuple(matches),
        denied_by=() if allowed else tuple(misses),
    )


def direction_connections(
    direction: Direction,
    subject: End,
    other: End,
    dst: End,
    candidates: Iterable[NetworkPolicy],
    ipblock_pods: bool,
) -> ConnectionSet:
    """Everything one side allows between the two ends (all when the pod is not isolated)."""
    assert subject.pod is not None
    policies = [p for p in candidates if selects(p, subject.pod, direction)]
    if not policies:
        return ConnectionSet.all()
    out = ConnectionSet.none()
    for policy in policies:
        policy_ns = policy.namespace or "default"
        for peers, ports in rule_parts(policy, direction):
            if peers and not any(peer_matches(policy_ns, pr, other, ipblock_pods)[0]
                                 for pr in peers):
                continue
            if not ports:
                return ConnectionSet.all()
            for rp in ports:
                out = out | port_connections(rp, dst)
    return out
