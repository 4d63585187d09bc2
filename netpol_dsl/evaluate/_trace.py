"""Explanations: the trace of the compiled rules that decided one side of one connection.

The decision itself comes from ``Engine.decisions`` (the same fold that answers every query);
this module walks the same compiled rules in the same order, with the same peer and port tests,
and says in words what each one did: the Pass rules that handed over, the rule that decided, or,
for NetworkPolicy isolation, every rule that allows and why each of the others does not.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from netpol_dsl.evaluate._engine import (
    ALLOW,
    DEFAULT,
    DENY,
    ISOLATED,
    PASS,
    Engine,
    Other,
    Rule,
    RuleList,
)
from netpol_dsl.evaluate._inventory import Pod
from netpol_dsl.evaluate._ir import (
    AnyPeer,
    Direction,
    DomainsPeer,
    IPPeer,
    NamedPortIR,
    NodesPeer,
    PeerIR,
    PortRangeIR,
)
from netpol_dsl.evaluate.verdict import (
    Decision,
    DirectionVerdict,
    PolicyMiss,
    RuleMatch,
    RuleMiss,
)
from netpol_dsl.model import LabelSelector

__all__ = ["TraceEnd", "explain_side", "fmt_labels", "fmt_peer", "fmt_port", "fmt_selector"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_INDEX = re.compile(r"\[(\d+)\]$")
_ACTION_WORD = {ALLOW: "allow", DENY: "deny", PASS: "pass"}
_TIER_WORD = {0: "admin", 1: "networkpolicy", 2: "baseline"}
_SELF_NOTE = ("a pod always reaches itself: NetworkPolicy cannot block a pod's traffic to "
              "itself (concepts page: 'a pod cannot block access to itself'; e2e "
              "Reachability.AllowLoopback)")


@dataclass(frozen=True, slots=True)
class TraceEnd:
    """One end of a connection, as the explanation describes it."""

    label: str
    view: Other
    pod: Pod | None = None
    ns_labels: Mapping[str, str] = field(default_factory=dict)
    ip: IPAddress | None = None
    key: str | None = None
    ingress: RuleList | None = None
    egress: RuleList | None = None
    #: the same end with ``domainNames`` peers read as matching (external ends only)
    view_domains: Other | None = None


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


def _fmt_block(peer: IPPeer, cluster_wide: bool) -> str:
    text = f"{'networks' if cluster_wide else 'ipBlock'} {peer.cidr}"
    if peer.excepts:
        text += " except " + ", ".join(peer.excepts)
    return text


def fmt_peer(peer: PeerIR, kind: str = "NetworkPolicy", direction: Direction = "ingress") -> str:
    """A peer in one phrase, in the field names of the policy kind it comes from.

    Example:
        >>> from netpol_dsl.evaluate._ir import NamespaceMatch, PodsPeer
        >>> fmt_peer(PodsPeer(NamespaceMatch(selector=LabelSelector()),
        ...                   LabelSelector(match_labels={"app": "dns"})))
        'namespaceSelector {} AND podSelector {app=dns}'
        >>> fmt_peer(PodsPeer(NamespaceMatch(selector=LabelSelector()), None), "AdminNetworkPolicy")
        'namespaces {}'
    """
    np_kind = kind == "NetworkPolicy"
    if isinstance(peer, AnyPeer):
        return ("any (no `from`/`to`: every source)" if direction == "ingress"
                else "any (no `to`: every destination)")
    if isinstance(peer, IPPeer):
        return _fmt_block(peer, not np_kind)
    if isinstance(peer, NodesPeer):
        return f"nodes {fmt_selector(peer.selector)}"
    if isinstance(peer, DomainsPeer):
        return "domainNames " + ", ".join(peer.names)
    nm = peer.namespaces
    parts = []
    if nm.selector is not None:
        parts.append(f"{'namespaceSelector' if np_kind or peer.pods is not None else 'namespaces'} "
                     f"{fmt_selector(nm.selector)}")
    elif nm.same_labels is not None:
        parts.append(f"namespaces sameLabels {list(nm.same_labels)}")
    elif nm.not_same_labels is not None:
        parts.append(f"namespaces notSameLabels {list(nm.not_same_labels)}")
    if peer.pods is not None:
        parts.append(f"podSelector {fmt_selector(peer.pods)}")
    return " AND ".join(parts) if parts else f"pods of namespace {nm.name}"


def fmt_port(port: PortRangeIR | NamedPortIR) -> str:
    """A rule port in one phrase.

    Example:
        >>> fmt_port(PortRangeIR("TCP", 8000, 8100)), fmt_port(PortRangeIR("UDP", 1, 65535))
        ('TCP 8000-8100', 'UDP (every port)')
        >>> fmt_port(NamedPortIR("http", "TCP")), fmt_port(NamedPortIR("dns", None))
        ("TCP named port 'http'", "named port 'dns'")
    """
    if isinstance(port, NamedPortIR):
        return f"{port.protocol + ' ' if port.protocol else ''}named port {port.name!r}"
    if (port.first, port.last) == (1, 65535):
        return f"{port.protocol} (every port)"
    if port.first != port.last:
        return f"{port.protocol} {port.first}-{port.last}"
    return f"{port.protocol} {port.first}"


# ----------------------------------------------------------------------------- peers


def _peer_reason(engine: Engine, peer: PeerIR, rule: Rule, other: TraceEnd) -> str:
    """Why ``other`` is not this peer (the match itself is the engine's)."""
    pol = engine.policies[rule.policy]
    kind = pol.kind
    np_kind = kind == "NetworkPolicy"
    if isinstance(peer, IPPeer):
        text = _fmt_block(peer, not np_kind)
        if other.pod is None:
            return f"{text} does not contain {other.ip}"
        matches_pods = peer.pod_ips or (peer.pod_ips is None and engine.ipblock_pods)
        if not matches_pods:
            return f"{text} is not matched against pod IPs (ipblock_matches_pod_ips=False)"
        if not other.pod.ips:
            return f"{text}: {other.label} has no IP, so no {'ipBlock' if np_kind else 'CIDR'} matches it"
        return f"{text} does not contain {other.label}'s IPs ({', '.join(other.pod.ips)})"
    if isinstance(peer, NodesPeer):
        what = "a node address" if other.pod is None else "a host-network pod"
        return f"nodes {fmt_selector(peer.selector)}: {other.label} is not {what} of a matching node"
    if isinstance(peer, DomainsPeer):
        return (f"domainNames {', '.join(peer.names)} match only external addresses, through "
                "DNS" if other.pod is not None else
                f"domainNames {', '.join(peer.names)}: not known offline whether {other.ip} is one")
    if isinstance(peer, AnyPeer):  # pragma: no cover - AnyPeer always matches
        return "matches everything"
    text = fmt_peer(peer, kind)
    if other.pod is None:
        only = "ipBlock" if np_kind else "networks/nodes"
        return (f"{text} selects pods, and {other.ip} is an external address (only {only} peers "
                "match those)")
    pod = other.pod
    if pod.host_network:
        return f"{text} selects pods, and {other.label} uses the host network"
    nm = peer.namespaces
    reasons = []
    policy_ns = nm.name
    if nm.name is not None:
        if pod.namespace != nm.name:
            # A podSelector without namespaceSelector selects pods in the policy's namespace.
            sel = peer.pods or LabelSelector()
            reasons.append(f"podSelector {fmt_selector(sel)} selects pods in namespace "
                           f"{policy_ns} only, and {other.label} is in namespace {pod.namespace}")
    else:
        ns_i = engine.ns_id.get(pod.namespace)
        in_ns = ns_i is not None and bool(engine.namespace_mask(nm, rule.subject_ns)[ns_i])
        if not in_ns:
            if nm.selector is not None:
                field_name = "namespaceSelector" if np_kind or peer.pods is not None else "namespaces"
                reasons.append(f"{field_name} {fmt_selector(nm.selector)} does not match namespace "
                               f"{pod.namespace} (labels {fmt_labels(other.ns_labels)})")
            else:
                reasons.append(f"{fmt_peer(peer, kind).split(' AND ')[0]} does not match namespace "
                               f"{pod.namespace} (labels {fmt_labels(other.ns_labels)})")
    if peer.pods is not None and not peer.pods.matches(pod.labels) and not (
            nm.name is not None and pod.namespace != nm.name):
        reasons.append(f"podSelector {fmt_selector(peer.pods)} does not match {other.label} "
                       f"(labels {fmt_labels(pod.labels)})")
    return " and ".join(reasons) or f"{text} does not match {other.label}"


def _peer_hit(engine: Engine, peer: PeerIR, rule: Rule, other: TraceEnd, view: Other) -> bool:
    return engine.peer_admits(peer, rule.subject_ns, view)


# ----------------------------------------------------------------------------- ports


def _port_hit(engine: Engine, port: PortRangeIR | NamedPortIR, protocol: str, number: int,
              dst: TraceEnd) -> bool:
    if isinstance(port, PortRangeIR):
        return port.protocol == protocol and port.first <= number <= port.last
    # A named port means the destination's container port of that name (and, for a
    # NetworkPolicy, that protocol); nothing when the destination declares none or is external.
    if dst.pod is None:
        return False
    return any(cp.name == port.name and cp.protocol == protocol and cp.port == number
               and (port.protocol is None or port.protocol == cp.protocol)
               for cp in dst.pod.ports)


def _port_miss(port: PortRangeIR | NamedPortIR, protocol: str, number: int,
               dst: TraceEnd) -> tuple[bool, str]:
    """(is_named_port_problem, sentence) for a rule port that does not match."""
    wanted = f"{protocol} {number}"
    if isinstance(port, PortRangeIR) or (port.protocol is not None and port.protocol != protocol):
        return False, f"{wanted} is not in {fmt_port(port)}"
    if dst.pod is None:
        return True, (f"named port {port.name!r} cannot be resolved on {dst.label}, which is not "
                      "a pod")
    proto = port.protocol or protocol
    declared = sorted(cp.port for cp in dst.pod.ports if cp.name == port.name
                      and cp.protocol == proto)
    if not declared:
        return True, (f"named port {port.name!r} ({proto}) is not declared on destination "
                      f"{dst.label}")
    return False, (f"named port {port.name!r} is {proto} {', '.join(map(str, declared))} on "
                   f"destination {dst.label}, not {number}")


# ----------------------------------------------------------------------------- the trace


def _index(path: str) -> int:
    m = _INDEX.search(path)
    return int(m.group(1)) if m else 0


def _decision(engine: Engine, rule: Rule, peer_text: str, port_text: str) -> Decision:
    pol = engine.policies[rule.policy]
    return Decision(_TIER_WORD[rule.tier], pol.kind, pol.key, pol.priority, rule.ir.origin.path,
                    _ACTION_WORD[rule.action], rule.ir.origin.name, peer_text, port_text)


def _first_hits(engine: Engine, rule: Rule, other: TraceEnd, view: Other, dst: TraceEnd,
                protocol: str, number: int, direction: Direction
                ) -> tuple[tuple[int | None, str] | None, tuple[int | None, str] | None,
                           list[str], list[str], bool]:
    """The first matching peer and port of a rule (index, text), and the reasons of the misses."""
    kind = engine.policies[rule.policy].kind
    side = "from" if direction == "ingress" else "to"
    peer_hit: tuple[int | None, str] | None = None
    peer_reasons: list[str] = []
    peers = rule.ir.peers
    if len(peers) == 1 and isinstance(peers[0], AnyPeer):
        peer_hit = (None, fmt_peer(peers[0], kind, direction))
    else:
        for j, peer in enumerate(peers):
            if _peer_hit(engine, peer, rule, other, view):
                peer_hit = (j, fmt_peer(peer, kind, direction))
                break
            peer_reasons.append(f"{side}[{j}]: {_peer_reason(engine, peer, rule, other)}")
    port_hit: tuple[int | None, str] | None = None
    port_reasons: list[str] = []
    named_problem = False
    if rule.ir.ports is None:
        port_hit = (None, "every port (no `ports`)")
    else:
        field_name = "ports" if kind != "ClusterNetworkPolicy" else "protocols"
        for j, p in enumerate(rule.ir.ports):
            if _port_hit(engine, p, protocol, number, dst):
                port_hit = (j, fmt_port(p))
                break
            named, why = _port_miss(p, protocol, number, dst)
            named_problem = named_problem or named
            port_reasons.append(f"{field_name}[{j}]: {why}")
    return peer_hit, port_hit, peer_reasons, port_reasons, named_problem


def explain_side(
    engine: Engine,
    direction: Direction,
    subject: TraceEnd,
    other: TraceEnd,
    dst: TraceEnd,
    protocol: str,
    port: int,
) -> DirectionVerdict:
    """One side of a connection: what the subject's rules decided, and why."""
    pod_label = subject.label if subject.pod is not None else None
    if subject.pod is None:
        role = "source" if direction == "egress" else "destination"
        return DirectionVerdict(direction, None, False, False, True, note=(
            f"the {role} {subject.label} is an external address; only the pod side's "
            "policies apply"))
    if subject.key is not None and subject.key == other.key:
        return DirectionVerdict(direction, pod_label, False, False, True, note=_SELF_NOTE)
    lst = subject.ingress if direction == "ingress" else subject.egress
    assert lst is not None
    hn_note = None
    for end in (subject, other):
        if end.pod is not None and end.pod.host_network:
            hn_note = (f"{end.label} uses the host network; NetworkPolicy does not apply to "
                       "hostNetwork pods' traffic (upstream leaves it undefined; this evaluator "
                       "allows it)")
            break
    tiers = bool(lst.admin or lst.baseline)
    if hn_note is not None and not tiers:
        return DirectionVerdict(direction, pod_label, False, False, True, note=hn_note)
    atom = engine.atoms.index(protocol, port)
    prof = dst.view.profile
    folded = engine.decisions(lst, other.view, prof)
    dec = folded.code_at(atom)
    allowed = bool((folded.allowed >> atom) & 1)
    undetermined = False
    if other.view_domains is not None:
        alt = engine.decisions(lst, other.view_domains, prof)
        undetermined = bool((alt.allowed >> atom) & 1) != allowed
    rules = engine.rules
    view = other.view
    passes: list[Decision] = []
    note = hn_note.replace("this evaluator allows it", "the NetworkPolicy tier is skipped") \
        if hn_note else ""

    def walk(ids: tuple[int, ...]) -> Decision | None:
        for rid in ids:
            rule = rules[rid]
            peer_hit, port_hit, *_ = _first_hits(engine, rule, other, view, dst, protocol, port,
                                                 direction)
            if peer_hit is None or port_hit is None:
                continue
            d = _decision(engine, rule, peer_hit[1], port_hit[1])
            if rule.action == PASS:
                passes.append(d)
                return None
            assert dec == rid, f"trace and fold disagree: {rid} vs {dec}"
            return d
        return None

    decided = walk(lst.admin)
    if decided is not None:
        return DirectionVerdict(direction, pod_label, True, lst.isolated, allowed,
                                decided_by=decided, passes=tuple(passes), tiers=True,
                                undetermined=undetermined, note=note)
    np_applies = lst.isolated and not (other.pod is not None and other.pod.host_network)
    if np_applies:
        return _np_tier(engine, direction, lst, subject, other, dst, protocol, port, dec,
                        allowed, tuple(passes), tiers, undetermined, note)
    decided = walk(lst.baseline)
    if decided is None:
        assert dec == DEFAULT, f"trace and fold disagree: default vs {dec}"
    return DirectionVerdict(direction, pod_label, True, False, allowed, decided_by=decided,
                            passes=tuple(passes), tiers=tiers, undetermined=undetermined,
                            note=note)


def _np_tier(engine: Engine, direction: Direction, lst: RuleList, subject: TraceEnd,
             other: TraceEnd, dst: TraceEnd, protocol: str, port: int, dec: int, allowed: bool,
             passes: tuple[Decision, ...], tiers: bool, undetermined: bool,
             note: str) -> DirectionVerdict:
    rules = engine.rules
    by_policy: dict[int, list[Rule]] = {}
    isolating = [pi for pi in lst.policies if engine.policies[pi].tier == "networkpolicy"
                 and direction in engine.policies[pi].isolates]
    for rid in lst.np:
        by_policy.setdefault(rules[rid].policy, []).append(rules[rid])
    matches: list[RuleMatch] = []
    misses: list[PolicyMiss] = []
    for pi in isolating:
        pol = engine.policies[pi]
        prules = by_policy.get(pi, [])
        if not prules:
            # An isolating policy without rules of this direction allows nothing.
            what = "to" if direction == "ingress" else "from"
            misses.append(PolicyMiss(pol.key, (RuleMiss(None, "no-rules", (
                f"it has no {direction} rules, so it allows no {direction} {what} the pods "
                "it selects",)),)))
            continue
        policy_misses: list[RuleMiss] = []
        for rule in prules:
            peer_hit, port_hit, peer_reasons, port_reasons, named = _first_hits(
                engine, rule, other, other.view, dst, protocol, port, direction)
            i = _index(rule.ir.origin.path)
            if peer_hit is not None and port_hit is not None:
                matches.append(RuleMatch(pol.key, direction, i, peer_hit[0], peer_hit[1],
                                         port_hit[0], port_hit[1]))
                continue
            if peer_hit is None and port_hit is None:
                kind = "peer+port"
            elif peer_hit is None:
                kind = "peer"
            else:
                kind = "named-port" if named else "port"
            policy_misses.append(RuleMiss(i, kind, tuple(peer_reasons + port_reasons)))
        if policy_misses and not any(m.policy == pol.key for m in matches):
            misses.append(PolicyMiss(pol.key, tuple(policy_misses)))
    assert bool(matches) == allowed and (dec != ISOLATED) == allowed, \
        f"trace and fold disagree: {matches} vs {dec}"
    return DirectionVerdict(
        direction, subject.label, True, True, allowed,
        isolating=tuple(engine.policies[pi].key for pi in isolating),
        allowed_by=tuple(matches),
        denied_by=() if allowed else tuple(misses),
        passes=passes, tiers=tiers, undetermined=undetermined, note=note,
    )
