"""The engine: every policy compiled once into rules over pod classes, tiers folded per direction.

**Classes.** Two pods are in one class when nothing a rule can look at tells them apart: the same
namespace; the same values for every label key that some selector able to meet them mentions (a
NetworkPolicy's podSelector and a peer's lone podSelector only meet pods of the policy's
namespace); the same *set* of IP peers their IPs fall in; the same numbers for every named port
some rule mentions; the same ``hostNetwork`` flag and, for host-network pods, the same set of
node selectors their node matches. Every verdict is a function of the two ends' classes.

**Rules.** Each ``RuleIR`` becomes a ``_Rule``: a boolean vector over classes (the peers it
admits), its IP ranges (for external addresses), its node selectors, and its ports as a mask over
port atoms (``_atoms``) plus named ports resolved on the destination. Each class has, per
direction, an ordered rule list: admin rules (policies by ascending priority, then key; rules in
written order), whether NetworkPolicies isolate it and their rules, baseline rules.

**One fold.** ``fold`` decides a rule list against the other end for many cells at once (atoms
of one pair, or one atom for many peers): the deciding rule per cell, or ``DEFAULT`` (nothing
decided: allowed) or ``ISOLATED`` (the implicit deny of NetworkPolicy isolation). Single queries,
one-port matrices, all-pairs connection sets and explanations all call it.
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import ipaddress
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from netpol_dsl import _rules
from netpol_dsl._rules import ip_int
from netpol_dsl.evaluate._atoms import Atoms
from netpol_dsl.evaluate._inventory import Namespace, Pod
from netpol_dsl.evaluate._ir import (
    AnyPeer,
    Direction,
    DomainsPeer,
    IPPeer,
    NamedPortIR,
    NamespaceMatch,
    NodesPeer,
    PeerIR,
    PodsPeer,
    PolicyIR,
    PortRangeIR,
    RuleIR,
)
from netpol_dsl.model import LabelSelector

if TYPE_CHECKING:
    from netpol_dsl.evaluate._allpairs import Reduced

__all__ = ["ALLOW", "DEFAULT", "DENY", "ISOLATED", "PASS", "Engine", "RuleList"]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
I32Array = npt.NDArray[np.int32]

#: Decisions that are not a rule: nothing decided (allowed by default) and NetworkPolicy
#: isolation's implicit deny.
DEFAULT = -1
ISOLATED = -2
#: Actions as numbers.
ALLOW, DENY, PASS = 0, 1, 2
_ACTION = {"allow": ALLOW, "deny": DENY, "pass": PASS}
_TIER = {"admin": 0, "networkpolicy": 1, "baseline": 2}


def _net_range(net: _rules.IPNetwork) -> tuple[int, int, int]:
    return net.version, int(net.network_address), int(net.broadcast_address)


@dataclass(frozen=True, slots=True)
class Block:
    """An IP peer as integer ranges: ``cidr`` minus each ``except``, read as kube-apiserver reads
    CIDRs (``_rules.parse_cidr``)."""

    version: int
    lo: int
    hi: int
    excepts: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, cidr: str, excepts: Sequence[str]) -> Block:
        net = _rules.parse_cidr(cidr).network
        if net is None:  # validation refuses it before it gets here; match nothing if not
            return cls(4, 1, 0, ())
        version, lo, hi = _net_range(net)
        cut = []
        for text in excepts:
            sub = _rules.parse_cidr(text).network
            if sub is not None and sub.version == version:
                cut.append(_net_range(sub)[1:])
        return cls(version, lo, hi, tuple(cut))

    def contains(self, version: int, ip: int) -> bool:
        if version != self.version or not (self.lo <= ip <= self.hi):
            return False
        return not any(lo <= ip <= hi for lo, hi in self.excepts)

    def regions(self) -> list[tuple[int, int, int]]:
        """The block as disjoint ``(version, first, last)`` ranges."""
        out = []
        lo = self.lo
        for e_lo, e_hi in sorted(self.excepts):
            if e_lo > lo:
                out.append((self.version, lo, e_lo - 1))
            lo = max(lo, e_hi + 1)
        if lo <= self.hi:
            out.append((self.version, lo, self.hi))
        return out


class LabelIndex:
    """Evaluates label selectors over a fixed list of label sets at once (numpy masks)."""

    def __init__(self, labelsets: Sequence[Mapping[str, str]]) -> None:
        self.n = len(labelsets)
        kv: dict[tuple[str, str], list[int]] = {}
        keys: dict[str, list[int]] = {}
        for i, labels in enumerate(labelsets):
            for k, v in labels.items():
                kv.setdefault((k, v), []).append(i)
                keys.setdefault(k, []).append(i)
        self._kv = {k: np.asarray(v, dtype=np.int64) for k, v in kv.items()}
        self._keys = {k: np.asarray(v, dtype=np.int64) for k, v in keys.items()}
        self._cache: dict[Any, BoolArray] = {}

    def _postings(self, table: Mapping[Any, IntArray], *keys: Any) -> BoolArray:
        mask = np.zeros(self.n, dtype=bool)
        for key in keys:
            idx = table.get(key)
            if idx is not None:
                mask[idx] = True
        return mask

    def mask(self, sel: LabelSelector | None) -> BoolArray:
        """The label sets ``sel`` matches (``None``: all), as ``LabelSelector.matches`` decides."""
        if sel is None:
            sel = _EVERYTHING
        key = (tuple(sorted((sel.match_labels or {}).items())), sel.match_expressions)
        found = self._cache.get(key)
        if found is not None:
            return found
        mask = np.ones(self.n, dtype=bool)
        for k, v in key[0]:
            mask &= self._postings(self._kv, (k, v))
        # Operators as apimachinery labels.Selector: NotIn and DoesNotExist match a missing key.
        for r in sel.match_expressions or ():
            if r.operator == "In":
                mask &= self._postings(self._kv, *((r.key, v) for v in r.values or ()))
            elif r.operator == "NotIn":
                mask &= ~self._postings(self._kv, *((r.key, v) for v in r.values or ()))
            elif r.operator == "Exists":
                mask &= self._postings(self._keys, r.key)
            else:
                mask &= ~self._postings(self._keys, r.key)
        mask.setflags(write=False)
        self._cache[key] = mask
        return mask


_EVERYTHING = LabelSelector()


class RuleList:
    """The rules that apply to a class for one direction, in precedence order.

    ``admin`` and ``baseline`` are rule ids in evaluation order; ``isolated`` says whether
    NetworkPolicies select the class for this direction, and ``np`` lists their rules.
    """

    __slots__ = ("admin", "all", "baseline", "free", "has_named", "id", "isolated", "np",
                 "policies")

    def __init__(self, lid: int, admin: tuple[int, ...], isolated: bool, np_rules: tuple[int, ...],
                 baseline: tuple[int, ...], policies: tuple[int, ...], has_named: bool) -> None:
        self.id = lid
        self.admin = admin
        self.isolated = isolated
        self.np = np_rules
        self.baseline = baseline
        #: every rule id, in order
        self.all = admin + np_rules + baseline
        #: the policies (indices) that apply, in the order their rules are tried
        self.policies = policies
        self.has_named = has_named
        #: nothing applies: everything is allowed
        self.free = not self.all and not isolated


@dataclass(slots=True)
class Rule:
    """One compiled rule (see the module docstring)."""

    id: int
    policy: int
    tier: int
    action: int
    direction: Direction
    ir: RuleIR
    vec: BoolArray
    #: ``vec`` as bytes, for single-cell reads (made on first use: empty until then)
    vb: bytes
    any_peer: bool
    blocks: tuple[Block, ...]
    node_selectors: tuple[LabelSelector, ...]
    domains: bool
    all_ports: bool
    #: the atoms of its numeric ports (a bit mask)
    numeric: int
    named: tuple[tuple[str, str | None], ...]
    #: the namespace the rule was specialised for (obsolete sameLabels peers), or None
    subject_ns: int | None = None
    #: the classes ``vec`` admits, as indices (made on first use: ``Engine.admitted``)
    idx: IntArray | None = None


class Other:
    """The other end of a connection as a rule list sees it: a class, or an ad hoc end (a pod
    that is not in the inventory, an external address) with its own peer test."""

    __slots__ = ("bits", "cls", "hn", "peer", "profile")

    def __init__(self, cls: int, hn: bool, profile: int,
                 peer: Callable[[PeerIR, int | None], bool] | None = None) -> None:
        self.cls = cls
        self.hn = hn
        self.profile = profile
        #: for ends that are not a class of the engine: is this end the peer?
        self.peer = peer
        #: for such ends: which rules of a rule list (by id) admit it, once worked out
        self.bits: dict[int, tuple[bool, ...]] = {}


@dataclass(frozen=True, slots=True)
class _Features:
    """What a set of rules looks at, as far as pod classes are concerned."""

    global_keys: frozenset[str]
    local_keys: Mapping[str, frozenset[str]]
    #: the ipBlocks that match pod IPs, ``(cidr, excepts)``, in the order the rules name them
    pod_blocks: tuple[tuple[str, tuple[str, ...]], ...]
    named: frozenset[str]
    #: the node selectors of ``nodes`` peers, in the order the rules name them
    node_selectors: tuple[LabelSelector, ...]

    def __le__(self, other: object) -> bool:
        if not isinstance(other, _Features):
            return NotImplemented
        if not (self.global_keys <= other.global_keys
                and set(self.pod_blocks) <= set(other.pod_blocks)
                and self.named <= other.named
                and set(self.node_selectors) <= set(other.node_selectors)):
            return False
        return all(keys <= other.local_keys.get(ns, frozenset()) | other.global_keys
                   for ns, keys in self.local_keys.items())


def _features(policies: Sequence[PolicyIR], ipblock_pods: bool,
              cuts: dict[str, set[int]] | None = None) -> _Features:
    """The features of ``policies`` (and, into ``cuts``, where their port ranges cut the port
    space)."""
    global_keys: set[str] = set()
    local_keys: dict[str, set[str]] = {}
    blocks: dict[tuple[str, tuple[str, ...]], None] = {}  # ordered sets
    named: set[str] = set()
    nodes: dict[LabelSelector, None] = {}

    def scope(nm: NamespaceMatch, sel: LabelSelector | None) -> None:
        if sel is None:
            return
        if nm.name is not None:
            local_keys.setdefault(nm.name, set()).update(sel.keys())
        else:
            global_keys.update(sel.keys())

    for pol in policies:
        scope(pol.subject.namespaces, pol.subject.pods)
        for rule in pol.ingress + pol.egress:
            for peer in rule.peers:
                if isinstance(peer, PodsPeer):
                    scope(peer.namespaces, peer.pods)
                elif isinstance(peer, IPPeer):
                    if peer.pod_ips or (peer.pod_ips is None and ipblock_pods):
                        blocks[(peer.cidr, peer.excepts)] = None
                elif isinstance(peer, NodesPeer):
                    nodes[peer.selector] = None
            for port in rule.ports or ():
                if isinstance(port, PortRangeIR):
                    if cuts is not None:
                        cuts.setdefault(port.protocol, set()).update((port.first, port.last + 1))
                else:
                    named.add(port.name)
    return _Features(frozenset(global_keys), {ns: frozenset(k) for ns, k in local_keys.items()},
                     tuple(blocks), frozenset(named), tuple(nodes))


class Folded:
    """What ``Engine.fold`` decided: ``(code, cells)`` parts and the allowed cells."""

    __slots__ = ("allowed", "parts")

    def __init__(self, parts: tuple[tuple[int, Any], ...], allowed: Any) -> None:
        self.parts = parts
        self.allowed = allowed

    def code_at(self, cell: int) -> int:
        """The deciding code of one cell (cells are bits of int masks)."""
        for code, cells in self.parts:
            if (cells >> cell) & 1:
                return code
        return DEFAULT  # pragma: no cover - the parts cover every cell


class Engine:
    """Compiled form of one cluster; every question is answered per class."""

    def __init__(
        self,
        namespaces: Mapping[str, Namespace],
        pods: Sequence[Pod],
        policies: Sequence[PolicyIR],
        ipblock_pods: bool,
        nodes: Mapping[str, tuple[Mapping[str, str], Sequence[str]]] | None = None,
    ) -> None:
        self.ipblock_pods = ipblock_pods
        self.policies = tuple(policies)
        #: node name -> labels, and node name -> its addresses as (version, integer)
        self.nodes: dict[str, Mapping[str, str]] = {n: v[0] for n, v in (nodes or {}).items()}
        self.node_addresses: dict[str, set[tuple[int, int]]] = {
            n: {p for p in map(ip_int, v[1]) if p is not None} for n, v in (nodes or {}).items()}
        self.pods = pods
        # ---------------------------------------------------------------- namespaces
        self.ns_names: list[str] = list(namespaces)
        self.ns_id = {n: i for i, n in enumerate(self.ns_names)}
        self.ns_labels = [namespaces[n].labels for n in self.ns_names]
        self._ns_index = LabelIndex(self.ns_labels)
        # ---------------------------------------------------------------- what rules look at
        cuts: dict[str, set[int]] = {}
        #: what the rules look at; a policy set that looks at no more can reuse these classes
        self.features = feats = _features(self.policies, ipblock_pods, cuts)
        global_keys, local_keys, named_names = feats.global_keys, feats.local_keys, feats.named
        self._blocks: dict[tuple[str, tuple[str, ...]], Block] = {}
        self.node_selectors = feats.node_selectors
        node_sels = {sel: j for j, sel in enumerate(feats.node_selectors)}
        # ---------------------------------------------------------------- pod IPs -> IP peer sets
        block_list = [self._block(key) for key in feats.pod_blocks]
        bounds: dict[int, set[int]] = {4: set(), 6: set()}
        for b in block_list:
            bounds[b.version].update((b.lo, b.hi + 1))
            for lo, hi in b.excepts:
                bounds[b.version].update((lo, hi + 1))
        edges = {v: sorted(xs) for v, xs in bounds.items()}
        # Between two consecutive edges every block holds all addresses or none: number the
        # distinct *sets* of blocks, so pods in different intervals of the same set share a class.
        ipset_of: dict[frozenset[int], int] = {frozenset(): 0}
        self.ipsets: list[frozenset[int]] = [frozenset()]
        interval_set: dict[tuple[int, int], frozenset[int]] = {}

        def interval_blocks(version: int, pos: int) -> frozenset[int]:
            found = interval_set.get((version, pos))
            if found is None:
                if pos < 0:
                    found = frozenset()
                else:
                    start = edges[version][pos]
                    found = frozenset(i for i, b in enumerate(block_list)
                                      if b.contains(version, start))
                interval_set[(version, pos)] = found
            return found

        def ipset(ips: Sequence[str]) -> int:
            members: frozenset[int] = frozenset()
            for text in ips:
                parsed = ip_int(text)
                if parsed is not None:
                    ver, val = parsed
                    members |= interval_blocks(ver, bisect_right(edges[ver], val) - 1)
            sid = ipset_of.get(members)
            if sid is None:
                sid = ipset_of[members] = len(self.ipsets)
                self.ipsets.append(members)
            return sid

        self._block_list = block_list
        # ---------------------------------------------------------------- classes
        class_of: dict[tuple[Any, ...], int] = {}
        class_rows: list[tuple[int, int, int, int, bool, int]] = []
        lp_of: dict[tuple[tuple[str, str], ...], int] = {}
        lp_list: list[dict[str, str]] = []
        prof_of: dict[tuple[tuple[str, str, int], ...], int] = {(): 0}
        self.profiles: list[dict[str, tuple[tuple[str, int], ...]]] = [{}]
        nodesig_of: dict[tuple[int, ...], int] = {(): 0}
        self.nodesigs: list[tuple[int, ...]] = [()]
        keys_of = {ns: k | global_keys for ns, k in local_keys.items()}
        no_local = global_keys
        use_ips = bool(block_list)
        port_cache: dict[int, int] = {}
        ip_cache: dict[tuple[str, ...], int] = {}
        node_cache: dict[str | None, int] = {}
        pod_class: list[int] = []
        self.pod_index: dict[str, int] = {}
        for i, pod in enumerate(pods):
            self.pod_index[pod.key] = i
            hn = pod.host_network
            if hn:
                lp: tuple[tuple[str, str], ...] = ()  # pod selectors never match them
            else:
                refkeys = keys_of.get(pod.namespace, no_local)
                lp = tuple(sorted([kv for kv in pod.labels.items() if kv[0] in refkeys]))
            lpid = lp_of.get(lp)
            if lpid is None:
                lpid = lp_of[lp] = len(lp_list)
                lp_list.append(dict(lp))
            sid = 0
            if use_ips and pod.ips:
                found = ip_cache.get(pod.ips)
                sid = found if found is not None else ip_cache.setdefault(pod.ips, ipset(pod.ips))
            prof = 0
            if named_names and pod.ports:
                # Pods of one workload share their ports tuple; the pods keep it alive, so its
                # id is stable for the duration of this loop.
                got = port_cache.get(id(pod.ports))
                if got is None:
                    sig = tuple(sorted((cp.name, cp.protocol, cp.port) for cp in pod.ports
                                       if cp.name in named_names))
                    got = prof_of.get(sig)
                    if got is None:
                        got = prof_of[sig] = len(self.profiles)
                        table: dict[str, list[tuple[str, int]]] = {}
                        for name, proto, number in sig:
                            table.setdefault(name, []).append((proto, number))
                        self.profiles.append({k: tuple(v) for k, v in table.items()})
                    port_cache[id(pod.ports)] = got
                prof = got
            nsig = 0
            if hn and node_sels:
                node = getattr(pod, "node_name", None)
                got = node_cache.get(node)
                if got is None:
                    labels = self.nodes.get(node or "")
                    nsig_t = () if labels is None else tuple(
                        j for sel, j in node_sels.items() if sel.matches(labels))
                    got = nodesig_of.get(nsig_t)
                    if got is None:
                        got = nodesig_of[nsig_t] = len(self.nodesigs)
                        self.nodesigs.append(nsig_t)
                    node_cache[node] = got
                nsig = got
            nsi = self.ns_id[pod.namespace]
            ckey = (nsi, lpid, sid, prof, hn, nsig)
            cid = class_of.get(ckey)
            if cid is None:
                cid = class_of[ckey] = len(class_rows)
                class_rows.append((nsi, lpid, sid, prof, hn, nsig))
            pod_class.append(cid)
        k = self.n = len(class_rows)
        rows = np.asarray(class_rows, dtype=np.int64).reshape(k, 6)
        self.class_ns: IntArray = rows[:, 0].copy()
        self.class_lp: IntArray = rows[:, 1].copy()
        self.class_ip: IntArray = rows[:, 2].copy()
        self.class_prof: IntArray = rows[:, 3].copy()
        self.class_hn: BoolArray = rows[:, 4].astype(bool)
        self.class_node: IntArray = rows[:, 5].copy()
        self.class_hn_list: list[bool] = self.class_hn.tolist()
        self.class_prof_list: list[int] = self.class_prof.tolist()
        self.pod_class: IntArray = np.asarray(pod_class, dtype=np.int64)
        self.pod_class_list = pod_class
        self._lp_list = lp_list
        self._lp_index = LabelIndex(lp_list)
        self.ns_classes: dict[int, IntArray] = {}
        if k:
            order = np.argsort(self.class_ns, kind="stable")
            split = np.flatnonzero(np.diff(self.class_ns[order])) + 1
            for part in np.split(order, split):
                self.ns_classes[int(self.class_ns[part[0]])] = part
        self._zeros = np.zeros(k, dtype=bool)
        self._zeros.setflags(write=False)
        self._ones = np.ones(k, dtype=bool)
        self._ones.setflags(write=False)
        #: classes that can be pod peers (host-network pods never are)
        self._pod_peer: BoolArray = ~self.class_hn
        self._pod_peer.setflags(write=False)
        # ---------------------------------------------------------------- port atoms
        for prof_table in self.profiles:
            for entries in prof_table.values():
                for proto, number in entries:
                    cuts.setdefault(proto, set()).update((number, number + 1))
        self.atoms = Atoms(cuts)
        # ---------------------------------------------------------------- rules
        self.rules: list[Rule] = []
        self._peer_cache: dict[Any, BoolArray] = {}
        self._named_cache: dict[tuple[tuple[tuple[str, str | None], ...], int], int] = {}
        self._rule_cache: dict[Any, Rule] = {}
        #: ``id(vec)`` -> ``(vec, flatnonzero(vec))``: see ``admitted``
        self._admitted: dict[int, tuple[BoolArray, IntArray]] = {}
        self.warnings: list[str] = []
        self._shared: dict[Any, RuleList] = {}
        self.rule_lists: list[RuleList] = []
        self.free = self._make_list([[], [], [], []], False)
        self._subject_cache: dict[Any, frozenset[int]] = {}
        self._subject_arrays: dict[Any, IntArray] = {}
        self._rank(range(len(self.policies)))
        self.in_list: list[RuleList] = [self.free] * k
        self.eg_list: list[RuleList] = [self.free] * k
        self._assign(range(k))
        self.has_tiers = any(self.policies[pi].tier != "networkpolicy" for pi in self.live)
        #: decisions per (rule list, other end's signature), shared by every kind of query
        self._dec_cache: dict[Any, Folded] = {}
        #: allowed atoms per (rule list, other class, destination profile), for single queries
        self._pair_cache: dict[tuple[int, int, int], int] = {}
        #: external addresses as other ends (see ``external``)
        self._externals: dict[tuple[tuple[int, int], bool], Other] = {}
        #: addresses that every peer sees alike share one ``Other`` (see ``external``)
        self._external_kinds: dict[tuple[Any, ...], Other] = {}
        #: the ends of the policies' IP blocks, IPv4 and IPv6 (see ``external``)
        self._all_blocks: tuple[tuple[int, ...], tuple[int, ...]] | None = None

        self._free = Folded(((DEFAULT, self.atoms.full),), self.atoms.full)

    # ------------------------------------------------------------------ rule lists

    def _rank(self, live: Iterable[int]) -> None:
        """Order the live policies: tier, then ascending priority, then key (NetworkPolicies
        keep the order given), and note equal priorities."""
        pols = self.policies
        # Within a tier, policies go by ascending priority; equal priorities are undefined
        # upstream (network-policy-api apis/v1alpha2/clusternetworkpolicy_types.go: "the
        # implementation can apply any of the matching policies"): ordered by key here.
        self.live = sorted(live, key=lambda i: (_TIER[pols[i].tier], pols[i].priority,
                                                pols[i].key if pols[i].tier != "networkpolicy"
                                                else "", i))
        self.policy_rank = {pi: r for r, pi in enumerate(self.live)}
        self.warnings = []
        seen: dict[tuple[str, int], str] = {}
        for pi in self.live:
            pol = pols[pi]
            if pol.tier != "networkpolicy":
                other = seen.setdefault((pol.tier, pol.priority), pol.key)
                if other != pol.key:
                    self.warnings.append(
                        f"{pol.kind} {pol.key!r} and {other!r} both have priority "
                        f"{pol.priority} in the {pol.tier} tier; upstream leaves their order "
                        f"undefined, this evaluator tries {other!r} first (ordered by name)")

    def _subject_array(self, pol: PolicyIR) -> IntArray:
        found = self._subject_arrays.get(pol.subject)
        if found is None:
            found = self._subject_arrays[pol.subject] = self._subject_classes(pol)
        return found

    def _subject_set(self, pol: PolicyIR) -> frozenset[int]:
        found = self._subject_cache.get(pol.subject)
        if found is None:
            found = self._subject_cache[pol.subject] = frozenset(
                self._subject_array(pol).tolist())
        return found

    def _assign(self, classes: Iterable[int]) -> None:
        """(Re)build the rule lists of ``classes`` from the live policies, in rank order.

        Classes are grouped by the policies that select them (per direction): one rule list
        is made per distinct group (and namespace, where a rule's peers are relative to the
        subject's namespace), not one per class and policy.
        """
        wanted = sorted(set(classes))
        if not wanted:
            return
        chosen: BoolArray | None = None
        if len(wanted) != self.n:
            chosen = np.zeros(self.n, dtype=bool)
            chosen[wanted] = True
        for side, direction in enumerate(("ingress", "egress")):
            target = self.in_list if side == 0 else self.eg_list
            # (rank, policy, rules, isolates, relative) of the policies affecting this direction
            entries: list[tuple[int, PolicyIR, tuple[RuleIR, ...], bool, bool]] = []
            parts: list[IntArray] = []
            for pi in self.live:
                pol = self.policies[pi]
                rules_ir = pol.ingress if side == 0 else pol.egress
                isolates = direction in pol.isolates
                if not rules_ir and not isolates:
                    continue  # a policy without rules of a direction does not affect it
                members = self._subject_array(pol)
                if chosen is not None:
                    members = members[chosen[members]]
                if not len(members):
                    continue
                parts.append(members)
                entries.append((pi, pol, tuple(rules_ir), isolates, self._relative(rules_ir)))
            if not parts:
                for c in wanted:
                    target[c] = self.free
                continue
            cls = np.concatenate(parts)
            # entries are in rank order: the entry index orders each class's policies
            which = np.repeat(np.arange(len(parts), dtype=np.int64),
                              [len(x) for x in parts])
            order = np.lexsort((which, cls))
            cls_sorted = cls[order]
            which_sorted = which[order]
            starts = np.flatnonzero(np.diff(cls_sorted)) + 1
            firsts_a = np.concatenate(([0], starts))
            # whether any of a class's policies has rules relative to the subject's namespace
            relative_of = np.asarray([e[4] for e in entries], dtype=bool)
            any_relative = np.logical_or.reduceat(relative_of[which_sorted], firsts_a).tolist()
            firsts = firsts_a.tolist()
            ends = [*firsts[1:], len(which_sorted)]
            which_list = which_sorted.tolist()
            present = cls_sorted[firsts_a].tolist()
            span = {c: (a, b, r) for c, a, b, r in zip(present, firsts, ends, any_relative,
                                                        strict=True)}
            made: dict[tuple[tuple[int, ...], int | None], RuleList] = {}
            class_ns = self.class_ns.tolist()
            for c in wanted:
                abr = span.get(c)
                if abr is None:
                    target[c] = self.free
                    continue
                sig = tuple(which_list[abr[0]:abr[1]])
                relative_ns = class_ns[c] if abr[2] else None
                key = (sig, relative_ns)
                got = made.get(key)
                if got is None:
                    acc: list[list[int]] = [[], [], [], []]
                    isolated = False
                    for e in sig:
                        pi, pol, rules_ir, isolates, relative = entries[e]
                        sub_ns = relative_ns if relative else None
                        acc[_TIER[pol.tier]].extend(
                            self._rule(pi, direction, r, sub_ns).id  # type: ignore[arg-type]
                            for r in rules_ir)
                        acc[3].append(pi)
                        isolated = isolated or isolates
                    got = made[key] = self._make_list(acc, isolated)
                target[c] = got

    def derive(self, policies: Sequence[PolicyIR]) -> Engine | None:
        """This engine with ``policies`` instead, re-evaluating only what changed; None when the
        new policies look at something these classes cannot tell apart (rebuild instead).

        Classes, selectors, peer vectors, compiled rules of unchanged policies and every cached
        decision are shared; only the classes that a removed or added policy applies to get new
        rule lists.
        """
        by_id = {id(self.policies[pi]): pi for pi in self.live}
        unused: dict[PolicyIR, list[int]] | None = None
        taken: set[int] = set()
        kept: list[int] = []
        added: list[PolicyIR] = []
        position: dict[int, int] = {}
        for pos, pol in enumerate(policies):
            pi = by_id.get(id(pol))  # the same compiled policy object: unchanged
            if pi is None or pi in taken:
                if unused is None:
                    unused = {}
                    for i in self.live:
                        unused.setdefault(self.policies[i], []).append(i)
                old = [i for i in unused.get(pol, ()) if i not in taken]
                pi = old[0] if old else None
            if pi is None:
                added.append(pol)
                continue
            taken.add(pi)
            kept.append(pi)
            position[pi] = pos
        # Only new policies can look at something these classes cannot tell apart.
        cuts: dict[str, set[int]] = {}
        if not _features(added, self.ipblock_pods, cuts) <= self.features:
            return None
        missing = {proto: {c for c in points if not self._starts_ok(proto, c)}
                   for proto, points in cuts.items()}
        # NetworkPolicies keep the order given: a reordering could reorder explanations.
        np_kept = [pi for pi in kept if self.policies[pi].tier == "networkpolicy"]
        if np_kept != sorted(np_kept, key=self.policy_rank.__getitem__):
            return None
        removed = [pi for pi in self.live if pi not in taken]
        new = copy.copy(self)
        new._externals = {}
        new._external_kinds = {}
        new._all_blocks = None
        if any(missing.values()):
            new._refine_atoms(missing)
        new.policies = self.policies + tuple(added)
        first_new = len(self.policies)
        new._rank(kept + list(range(first_new, len(new.policies))))
        # NetworkPolicies rank in the order given (new ones after the kept ones they follow).
        order = {pi: position[pi] for pi in kept}
        kept_at = set(position.values())
        new_positions = [pos for pos in range(len(policies)) if pos not in kept_at]
        order.update({first_new + i: pos for i, pos in enumerate(new_positions)})
        new.live = sorted(new.live, key=lambda i: (_TIER[new.policies[i].tier],
                                                   new.policies[i].priority,
                                                   new.policies[i].key
                                                   if new.policies[i].tier != "networkpolicy"
                                                   else "", order[i]))
        new.policy_rank = {pi: r for r, pi in enumerate(new.live)}
        touched: set[int] = set()
        for pi in removed + list(range(first_new, len(new.policies))):
            touched |= new._subject_set(new.policies[pi])
        new.in_list = list(self.in_list)
        new.eg_list = list(self.eg_list)
        new._assign(touched)
        new.has_tiers = any(new.policies[pi].tier != "networkpolicy" for pi in new.live)
        return new

    def _refine_atoms(self, missing: Mapping[str, set[int]]) -> None:
        """Cut the port space at more points (new ports in a derived engine): recompile every
        rule's numeric ports on the finer atoms and start the decision caches afresh (they are
        masks over the old atoms). Classes, peer vectors and rule lists stay."""
        cuts = {p: set(self.atoms._starts[p]) | missing.get(p, set()) for p in self.atoms._starts}
        self.atoms = Atoms(cuts)
        full = self.atoms.full
        rules = []
        for r in self.rules:
            ports = r.ir.ports
            numeric = full if ports is None else self.atoms.mask(
                (p.protocol, p.first, p.last) for p in ports if isinstance(p, PortRangeIR))
            rules.append(dataclasses.replace(r, numeric=numeric))
        self.rules = rules
        self._rule_cache = {k: rules[v.id] for k, v in self._rule_cache.items()}
        self._named_cache = {}
        self._dec_cache = {}
        self._pair_cache = {}
        self._free = Folded(((DEFAULT, full),), full)

    def _starts_ok(self, protocol: str, port: int) -> bool:
        """Whether an atom starts at ``port`` (65536 closes the last one)."""
        return port > 65535 or port in self.atoms._starts[protocol]

    # ------------------------------------------------------------------ compilation

    def _make_list(self, acc: list[list[int]], isolated: bool) -> RuleList:
        """The shared ``RuleList`` of ``[admin ids, NetworkPolicy ids, baseline ids, policies]``
        (each in precedence order)."""
        key = (tuple(acc[0]), isolated, tuple(acc[1]), tuple(acc[2]), tuple(acc[3]))
        found = self._shared.get(key)
        if found is None:
            admin, _, nprules, base, pols = key
            has_named = any(self.rules[r].named for r in admin + nprules + base)
            found = self._shared[key] = RuleList(len(self.rule_lists), admin, isolated, nprules,
                                                 base, pols, has_named)
            self.rule_lists.append(found)
        return found

    def namespace_mask(self, nm: NamespaceMatch, subject_ns: int | None = None) -> BoolArray:
        """The namespaces (by id) a ``NamespaceMatch`` stands for."""
        if nm.name is not None:
            out = np.zeros(len(self.ns_names), dtype=bool)
            i = self.ns_id.get(nm.name)
            if i is not None:
                out[i] = True
            return out
        if nm.selector is not None:
            return self._ns_index.mask(nm.selector)
        # The obsolete v1alpha1 (v0.1.2) sameLabels / notSameLabels, relative to the subject's
        # namespace (apis/v1alpha1/shared_types.go NamespacedPeer): "To be selected a Namespace
        # must have all of the labels defined in SameLabels, and they must all have the same
        # value as the subject of this policy"; NotSameLabels: it "must have all of the labels
        # defined in NotSameLabels, AND at least one of them must have different values than
        # the subject"; either one empty selects nothing.
        assert subject_ns is not None
        mine = self.ns_labels[subject_ns]
        if nm.same_labels is not None:
            keys = nm.same_labels
            return np.asarray([bool(keys) and all(
                k in labels and k in mine and labels[k] == mine[k] for k in keys)
                for labels in self.ns_labels], dtype=bool)
        keys = nm.not_same_labels or ()
        return np.asarray([bool(keys) and all(k in labels for k in keys) and any(
            labels[k] != mine.get(k) for k in keys) for labels in self.ns_labels], dtype=bool)

    def subject_classes(self, pol: PolicyIR) -> IntArray:
        """The classes a policy applies to (its subject), host-network pods excluded."""
        return self._subject_classes(pol)

    def _subject_classes(self, pol: PolicyIR) -> IntArray:
        nm = pol.subject.namespaces
        if nm.name is not None:
            i = self.ns_id.get(nm.name)
            members = self.ns_classes.get(i) if i is not None else None
            if members is None:
                return np.zeros(0, dtype=np.int64)
            chosen = members[self._lp_index.mask(pol.subject.pods)[self.class_lp[members]]]
        else:
            mask = self.namespace_mask(nm)[self.class_ns] & self._lp_index.mask(
                pol.subject.pods)[self.class_lp]
            chosen = np.flatnonzero(mask)
        # Host-network pods are never subjects: NetworkPolicy does not isolate them and the
        # cluster-wide APIs exclude them (network-policy-api site-src/api-overview.md).
        return chosen[~self.class_hn[chosen]]

    @staticmethod
    def _relative(rules: Sequence[RuleIR]) -> bool:
        return any(isinstance(p, PodsPeer) and p.namespaces.name is None
                   and p.namespaces.selector is None for r in rules for p in r.peers)

    def peer_vector(self, peer: PeerIR, subject_ns: int | None = None) -> BoolArray:
        """The classes one peer admits as the other end of a connection."""
        key = (peer, subject_ns if isinstance(peer, PodsPeer) else None)
        vec = self._peer_cache.get(key)
        if vec is not None:
            return vec
        if isinstance(peer, AnyPeer):
            vec = self._ones
        elif isinstance(peer, PodsPeer):
            nm = peer.namespaces
            ns_mask = None
            if nm.name is not None:
                i = self.ns_id.get(nm.name)
                chosen = [i] if i is not None else []
            else:
                ns_mask = self.namespace_mask(nm, subject_ns)
                chosen = np.flatnonzero(ns_mask).tolist()
            if ns_mask is not None and len(chosen) * 4 > len(self.ns_names):
                # many namespaces: one pass over every class
                vec = (ns_mask[self.class_ns] & self._lp_index.mask(peer.pods)[self.class_lp]
                       & self._pod_peer)
            else:
                vec = np.zeros(self.n, dtype=bool)
                parts = [m for m in map(self.ns_classes.get, chosen) if m is not None]
                members = (parts[0] if len(parts) == 1 else np.concatenate(parts) if parts
                           else np.zeros(0, dtype=np.int64))
                # host-network pods are never pod peers
                vec[members] = (self._lp_index.mask(peer.pods)[self.class_lp[members]]
                                & self._pod_peer[members])
        elif isinstance(peer, IPPeer):
            b = self.block(peer)
            matches_pods = peer.pod_ips or (peer.pod_ips is None and self.ipblock_pods)
            if not matches_pods or b not in self._block_list:
                vec = self._zeros
            else:
                bi = self._block_list.index(b)
                member = np.asarray([bi in s for s in self.ipsets], dtype=bool)
                vec = member[self.class_ip]
        elif isinstance(peer, NodesPeer):
            j = self.node_selectors.index(peer.selector)
            member = np.asarray([j in s for s in self.nodesigs], dtype=bool)
            vec = member[self.class_node] & self.class_hn
        else:  # DomainsPeer: never a pod (see DomainsPeer)
            vec = self._zeros
        vec.setflags(write=False)
        self._peer_cache[key] = vec
        return vec

    def _rule(self, pi: int, direction: Direction, rule: RuleIR, subject_ns: int | None) -> Rule:
        key = (pi, direction, id(rule), subject_ns)
        found = self._rule_cache.get(key)
        if found is not None:
            return found
        pol = self.policies[pi]
        vecs = [self.peer_vector(p, subject_ns) for p in rule.peers]
        if not vecs:
            vec = self._zeros
        else:
            vec = vecs[0]
            for v in vecs[1:]:
                vec = vec | v
        any_peer = any(isinstance(p, AnyPeer) for p in rule.peers)
        blocks = tuple(self.block(p) for p in rule.peers
                       if isinstance(p, IPPeer))
        node_sels = tuple(p.selector for p in rule.peers if isinstance(p, NodesPeer))
        domains = any(isinstance(p, DomainsPeer) for p in rule.peers)
        named: tuple[tuple[str, str | None], ...] = ()
        if rule.ports is None:
            all_ports, numeric = True, self.atoms.full
        else:
            all_ports = False
            numeric = self.atoms.mask((p.protocol, p.first, p.last) for p in rule.ports
                                      if isinstance(p, PortRangeIR))
            named = tuple(dict.fromkeys((p.name, p.protocol) for p in rule.ports
                                        if isinstance(p, NamedPortIR)))
        r = Rule(len(self.rules), pi, _TIER[pol.tier], _ACTION[rule.action], direction, rule,
                 vec, b"", any_peer, blocks, node_sels, domains,
                 all_ports, numeric, named, subject_ns)
        self.rules.append(r)
        self._rule_cache[key] = r
        return r

    def admitted(self, rule: Rule) -> IntArray:
        """The classes ``rule``'s peers admit, as indices (``flatnonzero(rule.vec)``), kept on
        the rule. Rules with one peer share its cached vector, and then these indices too (at
        100k pods, 9,309 rules have 5,685 vectors between them)."""
        if rule.idx is None:
            found = self._admitted.get(id(rule.vec))
            if found is None or found[0] is not rule.vec:  # (the entry keeps its vec alive)
                found = self._admitted[id(rule.vec)] = (rule.vec, np.flatnonzero(rule.vec))
            rule.idx = found[1]
        return rule.idx

    def block(self, peer: IPPeer) -> Block:
        """The integer ranges of an IP peer (parsed once)."""
        return self._block((peer.cidr, peer.excepts))

    def _block(self, key: tuple[str, tuple[str, ...]]) -> Block:
        found = self._blocks.get(key)
        if found is None:
            found = self._blocks[key] = Block.of(*key)
        return found

    def port_mask(self, rule: Rule, profile: int) -> int:
        """The atoms ``rule``'s ports allow towards a destination with port profile ``profile``.

        A named port means the destination's container ports with that name (and, for a
        NetworkPolicy, that protocol); none means no match (API reference,
        NetworkPolicyPort.port).
        """
        if not rule.named:
            return rule.numeric
        # (cached for the named part only: rules with the same named ports may differ in their
        # numeric ones)
        key = (rule.named, profile)
        named = self._named_cache.get(key)
        if named is None:
            table = self.profiles[profile]
            named = 0
            for name, proto in rule.named:
                for p, number in table.get(name, ()):
                    if proto is None or proto == p:
                        named |= 1 << self.atoms.index(p, number)
            self._named_cache[key] = named
        return rule.numeric | named

    # ------------------------------------------------------------------ the fold

    def fold(self, lst: RuleList, hit: Callable[[Rule], Any], full: Any,
             np_applies: Any) -> Folded:
        """Decide ``lst`` for many cells at once: which rule decides which cells.

        Cells are bits of a mask: atoms of one pair (masks are ints) or, for one atom, the
        other ends (masks are numpy bool vectors over classes). ``hit(rule)`` gives the cells
        where the rule's peer and port both match, or None where it matches none; ``full`` is
        every cell; ``np_applies`` the cells where NetworkPolicy governs the traffic (not when
        the other end is a host-network pod).

        Returns ``(code, cells)`` parts, disjoint and covering ``full``: a rule id, ``ISOLATED``
        (the implicit deny of NetworkPolicy isolation) or ``DEFAULT`` (nothing decided:
        allowed).
        """
        some: Callable[[Any], bool] = bool if isinstance(full, int) else _any_cell
        rules = self.rules
        parts: list[tuple[int, Any]] = []
        undecided = full
        # Admin tier: first match decides; Pass ends the tier for that cell (network-policy-api
        # apis/v1alpha1/adminnetworkpolicy_types.go AdminNetworkPolicyRuleAction).
        if lst.admin:
            tier_open = undecided
            for rid in lst.admin:
                m = hit(rules[rid])
                if m is None:
                    continue
                h = m & tier_open
                if not some(h):
                    continue
                tier_open = tier_open & ~h
                if rules[rid].action != PASS:
                    parts.append((rid, h))
                    undecided = undecided & ~h
                if not some(tier_open):
                    break
        # NetworkPolicy tier: when it isolates the pod, allowed iff a rule matches.
        if lst.isolated:
            cells = undecided & np_applies
            if some(cells):
                remaining = cells
                for rid in lst.np:
                    m = hit(rules[rid])
                    if m is None:
                        continue
                    h = m & remaining
                    if some(h):
                        parts.append((rid, h))
                        remaining = remaining & ~h
                        if not some(remaining):
                            break
                if some(remaining):
                    parts.append((ISOLATED, remaining))
                undecided = undecided & ~cells
        # Baseline tier: first match decides; Pass leaves the default.
        if lst.baseline and some(undecided):
            tier_open = undecided
            for rid in lst.baseline:
                m = hit(rules[rid])
                if m is None:
                    continue
                h = m & tier_open
                if not some(h):
                    continue
                tier_open = tier_open & ~h
                if rules[rid].action != PASS:
                    parts.append((rid, h))
                    undecided = undecided & ~h
                if not some(tier_open):
                    break
        if some(undecided):
            parts.append((DEFAULT, undecided))
        allowed = full & 0 if isinstance(full, int) else np.zeros_like(full)
        for code, cells in parts:
            if code == DEFAULT or (code >= 0 and rules[code].action == ALLOW):
                allowed = allowed | cells
        return Folded(tuple(parts), allowed)

    # ------------------------------------------------------------------ per pair

    def lists(self, direction: Direction) -> list[RuleList]:
        return self.in_list if direction == "ingress" else self.eg_list

    def other_class(self, cls: int) -> Other:
        return Other(cls, self.class_hn_list[cls], self.class_prof_list[cls])

    def decisions(self, lst: RuleList, other: Other, dst_profile: int) -> Folded:
        """What ``lst`` decides per atom against ``other`` (``dst_profile``: the port profile
        of the connection's destination, on which named ports resolve)."""
        if lst.free:
            return self._free
        rules = self.rules
        if other.peer is None:
            c = other.cls
            try:
                bits = tuple(rules[r].vb[c] for r in lst.all)
            except IndexError:  # a rule's byte view not made yet (made on first use)
                for r in lst.all:
                    if not rules[r].vb:
                        rules[r].vb = np.ascontiguousarray(rules[r].vec).tobytes()
                bits = tuple(rules[r].vb[c] for r in lst.all)
        else:
            found_bits = other.bits.get(lst.id)
            if found_bits is None:
                test = other.peer
                found_bits = other.bits[lst.id] = tuple(
                    any(test(p, rules[r].subject_ns) for p in rules[r].ir.peers)
                    for r in lst.all)
            bits = found_bits
        prof = dst_profile if lst.has_named else 0
        key = (lst.id, bits, prof, other.hn and lst.isolated)
        found = self._dec_cache.get(key)
        if found is None:
            member = dict(zip(lst.all, bits, strict=True))

            def hit(rule: Rule) -> int | None:
                return self.port_mask(rule, prof) if member[rule.id] else None

            full = self.atoms.full
            found = self.fold(lst, hit, full, 0 if other.hn else full)
            self._dec_cache[key] = found
        return found

    def decision(self, direction: Direction, subject: int, other: Other, atom: int,
                 dst_profile: int) -> int:
        """The deciding rule (or ``DEFAULT``/``ISOLATED``) on ``subject``'s side for one atom."""
        lst = (self.in_list if direction == "ingress" else self.eg_list)[subject]
        if lst.free:
            return DEFAULT
        return self.decisions(lst, other, dst_profile).code_at(atom)

    def _class_allowed(self, lst: RuleList, other: int, prof: int) -> int:
        """The atoms ``lst`` allows against class ``other`` (single queries' cache)."""
        key = (lst.id, other, prof if lst.has_named else 0)
        found = self._pair_cache.get(key)
        if found is None:
            if len(self._pair_cache) > 1_000_000:
                self._pair_cache.clear()
            found = self._pair_cache[key] = self.decisions(
                lst, Other(other, self.class_hn_list[other], self.class_prof_list[other]),
                prof).allowed
        return found

    def allowed(self, s: int, d: int, protocol: str, port: int) -> bool:
        """Class ``s`` to class ``d`` on ``protocol``/``port`` (two different pods)."""
        atoms = self.atoms
        atom = atoms._offset[protocol] + bisect_right(atoms._starts[protocol], port) - 1
        prof = self.class_prof_list[d]
        eg = self.eg_list[s]
        if not eg.free and not (self._class_allowed(eg, d, prof) >> atom) & 1:
            return False
        ing = self.in_list[d]
        return ing.free or bool((self._class_allowed(ing, s, prof) >> atom) & 1)

    def connection_mask(self, s: Other, d: Other, s_list: RuleList | None,
                        d_list: RuleList | None) -> int:
        """Atoms allowed from ``s`` to ``d``; a side without a rule list (external) allows all."""
        out: int = self.atoms.full
        prof = d.profile
        if s_list is not None and not s_list.free:
            out &= self.decisions(s_list, d, prof).allowed
        if d_list is not None and not d_list.free:
            out &= self.decisions(d_list, s, prof).allowed
        return out

    # ------------------------------------------------------------------ external ends

    def external(self, ip: tuple[int, int], domains_match: bool = False) -> Other:
        """An external address as the other end: it matches IP peers that contain it, node
        peers when it is the address of a matching node, and ``domains_match`` says how to read
        domain-name peers (they cannot be decided offline)."""
        key = (ip, domains_match)
        found = self._externals.get(key)
        if found is not None:
            return found
        if len(self._externals) >= 4096:  # kept for repeated questions about a few addresses
            self._externals.clear()
        version, value = ip
        nodes = tuple(n for n, addrs in self.node_addresses.items()
                      if (version, value) in addrs and n in self.nodes)
        # Every peer sees an address through the IP blocks that contain it, the nodes it is
        # an address of, and domains_match. Between two consecutive ends of the policies' IP
        # blocks (and their excepts) every address is in the same blocks, so addresses with
        # the same stretch, nodes and domains_match share one Other, and so its per-rule-list
        # answers (replaying recorded traffic asks about thousands of addresses).
        if self._all_blocks is None:
            ends: dict[int, set[int]] = {4: set(), 6: set()}
            for pol in self.policies:
                for rule in (*pol.ingress, *pol.egress):
                    for p in rule.peers:
                        if isinstance(p, IPPeer):
                            b = self.block(p)
                            for lo, hi in ((b.lo, b.hi), *b.excepts):
                                ends[b.version].update((lo, hi + 1))
            self._all_blocks = (tuple(sorted(ends[4])), tuple(sorted(ends[6])))
        stretch = bisect.bisect_right(self._all_blocks[version == 6], value)
        kind = (version, stretch, nodes, domains_match)
        found = self._external_kinds.get(kind)
        if found is None:
            if len(self._external_kinds) >= 4096:
                self._external_kinds.clear()
            node_labels = [self.nodes[n] for n in nodes]

            def peer(p: PeerIR, subject_ns: int | None) -> bool:
                if isinstance(p, AnyPeer):
                    return True
                if isinstance(p, IPPeer):
                    return self.block(p).contains(version, value)
                if isinstance(p, NodesPeer):
                    return any(p.selector.matches(labels) for labels in node_labels)
                if isinstance(p, DomainsPeer):
                    return domains_match
                return False

            found = self._external_kinds[kind] = Other(-1, False, 0, peer)
        self._externals[key] = found
        return found

    def peer_admits(self, peer: PeerIR, subject_ns: int | None, other: Other) -> bool:
        """Whether one peer of a rule admits ``other``."""
        if other.peer is not None:
            return other.peer(peer, subject_ns)
        return bool(self.peer_vector(peer, subject_ns)[other.cls])

    # ------------------------------------------------------------------ ad hoc pods

    def adhoc(self, pod: Pod, ns_labels: Mapping[str, str],
              node_labels: Mapping[str, str] | None = None) -> tuple[Other, RuleList, RuleList]:
        """A pod that is not in the inventory: its membership in every rule's peers and its own
        rule lists, decided with the same peer and subject rules as the classes."""
        ns_i = self.ns_id.get(pod.namespace)
        ip_parsed = [p for p in map(ip_int, pod.ips) if p is not None]
        hn = pod.host_network

        def ns_ok(nm: NamespaceMatch, subject_ns: int | None) -> bool:
            if nm.name is not None:
                return nm.name == pod.namespace
            if nm.selector is not None:
                return nm.selector.matches(ns_labels)
            if ns_i is None or subject_ns is None:
                return False
            return bool(self.namespace_mask(nm, subject_ns)[ns_i])

        def peer_ok(peer: PeerIR, subject_ns: int | None) -> bool:
            if isinstance(peer, AnyPeer):
                return True
            if isinstance(peer, PodsPeer):
                return (not hn and ns_ok(peer.namespaces, subject_ns)
                        and (peer.pods is None or peer.pods.matches(pod.labels)))
            if isinstance(peer, IPPeer):
                if not (peer.pod_ips or (peer.pod_ips is None and self.ipblock_pods)):
                    return False
                b = self.block(peer)
                return any(b.contains(v, x) for v, x in ip_parsed)
            if isinstance(peer, NodesPeer):
                return hn and node_labels is not None and peer.selector.matches(node_labels)
            return False

        profile = self._adhoc_profile(pod)
        other = Other(-1, hn, profile, peer_ok)
        lists: dict[str, list[list[int]]] = {"ingress": [[], [], [], []],
                                             "egress": [[], [], [], []]}
        iso = {"ingress": False, "egress": False}
        if not hn:
            for pi in self.live:
                pol = self.policies[pi]
                subj = pol.subject
                if not ns_ok(subj.namespaces, ns_i) or not (
                        subj.pods is None or subj.pods.matches(pod.labels)):
                    continue
                for direction in ("ingress", "egress"):
                    rules_ir = pol.ingress if direction == "ingress" else pol.egress
                    isolates = direction in pol.isolates
                    if not rules_ir and not isolates:
                        continue
                    sub_ns = ns_i if self._relative(rules_ir) else None
                    acc = lists[direction]
                    acc[_TIER[pol.tier]].extend(self._rule(pi, direction, r, sub_ns).id
                                                for r in rules_ir)
                    acc[3].append(pi)
                    iso[direction] = iso[direction] or isolates
        made = [self._make_list(lists[d], iso[d]) for d in ("ingress", "egress")]
        return other, made[0], made[1]

    def _adhoc_profile(self, pod: Pod) -> int:
        names = {n for r in self.rules for n, _ in r.named}
        sig = tuple(sorted((cp.name, cp.protocol, cp.port) for cp in pod.ports if cp.name in names))
        if not sig:
            return 0
        table: dict[str, list[tuple[str, int]]] = {}
        for name, proto, number in sig:
            table.setdefault(name, []).append((proto, number))
        frozen = {k: tuple(v) for k, v in table.items()}
        for i, existing in enumerate(self.profiles):
            if existing == frozen:
                return i
        self.profiles.append(frozen)
        return len(self.profiles) - 1

    # ------------------------------------------------------------------ one port, all pairs

    def for_atom(self, atom: int) -> Engine:
        """This engine as one port atom sees it: each class's named-port profile replaced by
        the first profile that resolves the same named ports into ``atom``.

        A named port only decides on ``atom`` through whether it resolves into it, so classes
        whose container ports differ elsewhere decide alike there; without this, every
        profile splits rows, columns and side groups (a baseline rule on one named port made
        144 profiles of the 10k benchmark cluster count, where 2 decide on TCP 8080). Shares
        every table and cache with this engine (decisions are cached per real profile).
        """
        names = sorted({n for r in self.rules for n in r.named}, key=repr)
        if not names or len(self.profiles) < 2:
            return self
        index = self.atoms.index
        first: dict[tuple[bool, ...], int] = {}
        rep = np.empty(len(self.profiles), dtype=np.int64)
        for p, table in enumerate(self.profiles):
            key = tuple(any((proto is None or proto == pp) and index(pp, number) == atom
                            for pp, number in table.get(name, ())) for name, proto in names)
            rep[p] = first.setdefault(key, p)
        if len(first) == len(self.profiles):
            return self
        view = copy.copy(self)
        view._externals = {}
        view._external_kinds = {}
        view._all_blocks = None
        view.class_prof = rep[self.class_prof]
        view.class_prof_list = view.class_prof.tolist()
        return view

    def atom_matrix(self, atom: int) -> Reduced:
        """Class ``s`` may reach class ``d`` on ``atom`` iff ``cells(row_of[s], col_of[d])``
        (factored: nothing of size rows x columns is made)."""
        from netpol_dsl.evaluate._allpairs import all_pairs

        def bit(mask: int) -> int:
            return (mask >> atom) & 1

        def both(e: BoolArray, i: BoolArray) -> BoolArray:
            out: BoolArray = e & i
            return out

        return all_pairs(self.for_atom(atom), bit, both, bool, atom=atom, side_dtype=bool)


def _any_cell(cells: BoolArray) -> bool:
    """Whether a vector of cells has one set (``ndarray.any``: ``np.any``'s wrapper costs as
    much again as the test, and folds over class vectors make thousands of them)."""
    return bool(cells.any())


def _NO_PEER(peer: PeerIR, subject_ns: int | None) -> bool:
    """An other end that no peer admits."""
    return False


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address as Kubernetes reads it, or None."""
    return _rules.parse_ip(text)
