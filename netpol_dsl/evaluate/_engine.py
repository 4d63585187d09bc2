"""The fast path: pods grouped into equivalence classes, policies compiled once per cluster.

Two pods are in one class when nothing a policy can look at tells them apart: the same
namespace, the same values for every label key that some selector able to meet them mentions
(a policy's podSelector and a peer's lone podSelector only meet pods of the policy's namespace), the same set of
ipBlocks their IPs fall in (when ipBlocks match pod IPs), the same numbers for every named port
some policy mentions, and the same ``hostNetwork`` flag. Every verdict is a function of the two
ends' classes, so the engine evaluates classes, never pods x policies.

Label selectors are evaluated once per distinct selector over all distinct label projections
with numpy masks (an inverted index of ``key=value`` postings). Each rule becomes a boolean
vector over classes (the peers it admits) and a port specification.
"""

from __future__ import annotations

import ipaddress
import socket
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from netpol_dsl import _rules
from netpol_dsl.evaluate._connections import PROTOCOLS, ConnectionSet
from netpol_dsl.evaluate._inventory import Namespace, Pod
from netpol_dsl.model import (
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
)

__all__ = ["Engine"]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
PortMap = Mapping[tuple[str, str], tuple[int, ...]]
_NO_PORTS: PortMap = {}


def _ip_int(text: str) -> tuple[int, int] | None:
    try:
        # Fast path for plain dotted quads; glibc's inet_pton refuses leading zeros, so what it
        # accepts means the same to Go's parser. Everything else takes the exact slow path.
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError, TypeError):
        pass
    addr = _rules.parse_ip(text)
    if addr is None:
        return None
    return addr.version, int(addr)


def _net_range(net: _rules.IPNetwork) -> tuple[int, int, int]:
    return net.version, int(net.network_address), int(net.broadcast_address)


@dataclass(frozen=True, slots=True)
class _Block:
    """An ipBlock as integer ranges: ``cidr`` minus each ``except``."""

    version: int
    lo: int
    hi: int
    excepts: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, block: IPBlock) -> _Block:
        version, lo, hi = _net_range(block.network)
        excepts = tuple(
            (e_lo, e_hi) for v, e_lo, e_hi in map(_net_range, block.except_networks) if v == version
        )
        return cls(version, lo, hi, excepts)

    def contains(self, version: int, ip: int) -> bool:
        if version != self.version or not (self.lo <= ip <= self.hi):
            return False
        return not any(lo <= ip <= hi for lo, hi in self.excepts)


class _PortSpec:
    """The ``ports`` of one rule: all, numeric ranges per protocol, and named ports."""

    __slots__ = ("all", "named", "numeric")

    def __init__(self, ports: Sequence[NetworkPolicyPort] | None) -> None:
        self.all = not ports
        ranges: dict[str, list[tuple[int, int]]] = {}
        named: list[tuple[str, str]] = []
        for p in ports or ():
            proto = p.effective_protocol  # protocol defaults to TCP (networking/v1 defaults.go)
            if p.port is None:
                ranges.setdefault(proto, []).append((1, 65535))
            elif isinstance(p.port, int):
                end = p.end_port if p.end_port is not None else p.port
                ranges.setdefault(proto, []).append((p.port, end))
            else:
                named.append((p.port, proto))
        self.numeric = ConnectionSet(ranges)
        self.named = tuple(dict.fromkeys(named))

    def allows(self, protocol: str, port: int, portmap: PortMap) -> bool:
        if self.all or self.numeric.allows(protocol, port):
            return True
        # Named ports resolve against the destination pod's container ports with that name and
        # protocol; no such port means no match (API reference, NetworkPolicyPort.port).
        return any(
            proto == protocol and port in portmap.get((name, proto), ())
            for name, proto in self.named
        )

    def resolve(self, portmap: PortMap) -> ConnectionSet:
        if self.all:
            return ConnectionSet.all()
        if not self.named:
            return self.numeric
        extra: dict[str, list[tuple[int, int]]] = {}
        for name, proto in self.named:
            for n in portmap.get((name, proto), ()):
                extra.setdefault(proto, []).append((n, n))
        return self.numeric | ConnectionSet(extra) if extra else self.numeric


class _Rule:
    __slots__ = ("all_peers", "blocks", "direction", "id", "policy", "ports", "rule", "vb", "vec")

    def __init__(self, rid: int, policy: int, rule: int, direction: str, all_peers: bool,
                 vec: BoolArray, blocks: tuple[_Block, ...], ports: _PortSpec) -> None:
        self.id = rid
        self.policy = policy
        self.rule = rule
        self.direction = direction
        self.all_peers = all_peers
        self.vec = vec
        #: the same vector as bytes, which index faster than numpy scalars in single queries
        self.vb = vec.tobytes()
        self.blocks = blocks
        self.ports = ports

    def admits_ip(self, version: int, ip: int) -> bool:
        return self.all_peers or any(b.contains(version, ip) for b in self.blocks)


class _LabelIndex:
    """Evaluates label selectors over a fixed list of label sets at once."""

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

    def mask(self, sel: LabelSelector) -> BoolArray:
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


def _transpose(a: BoolArray, tile: int = 512) -> BoolArray:
    """``a.T`` as a contiguous array, copied tile by tile so that both sides stay in cache."""
    n, m = a.shape
    out = np.empty((m, n), dtype=a.dtype)
    for i in range(0, n, tile):
        for j in range(0, m, tile):
            out[j:j + tile, i:i + tile] = a[i:i + tile, j:j + tile].T
    return out


def _distinct(
    group: IntArray, admits: BoolArray, hn: BoolArray
) -> tuple[IntArray, list[int]]:
    """Number the distinct (group[c], admits[:, c]) of classes ``c``; hostNetwork classes apart.

    Returns each class's number and one representative class per number.
    """
    k = len(group)
    packed = np.packbits(_transpose(admits), axis=1)  # [c, bits of admits[:, c]]
    width = packed.shape[1]
    raw = packed.tobytes()
    groups = group.tolist()
    hns = hn.tolist()
    seen: dict[Any, int] = {}
    reps: list[int] = []
    out = np.empty(k, dtype=np.int64)
    for c in range(k):
        key: Any = ("hn", c) if hns[c] else (groups[c], raw[c * width:(c + 1) * width])
        n = seen.get(key)
        if n is None:
            n = seen[key] = len(reps)
            reps.append(c)
        out[c] = n
    return out, reps


class Engine:
    """Compiled form of one cluster; every query is answered per class."""

    def __init__(
        self,
        namespaces: Mapping[str, Namespace],
        pods: Sequence[Pod],
        policies: Sequence[NetworkPolicy],
        ipblock_pods: bool,
        keys: Mapping[str, Pod] | None = None,
    ) -> None:
        self.ipblock_pods = ipblock_pods
        self.policies = policies
        # ---- what policies look at
        # Label keys that selectors look at: those of a policy's podSelector and of peers with a
        # podSelector alone only ever meet pods of the policy's namespace; those of peers with a
        # namespaceSelector meet pods anywhere.
        global_keys: set[str] = set()
        local_keys: dict[str, set[str]] = {}
        port_names: set[str] = set()
        blocks: dict[IPBlock, _Block] = {}
        for pol in policies:
            local = local_keys.setdefault(pol.namespace or "default", set())
            local |= pol.spec.pod_selector.keys()
            rules: list[tuple[Sequence[NetworkPolicyPeer] | None,
                              Sequence[NetworkPolicyPort] | None]] = [
                (r.from_, r.ports) for r in pol.spec.ingress or ()]
            rules += [(r.to, r.ports) for r in pol.spec.egress or ()]
            for peers, rule_ports in rules:
                for peer in peers or ():
                    if peer.pod_selector is not None:
                        if peer.namespace_selector is None:
                            local |= peer.pod_selector.keys()
                        else:
                            global_keys |= peer.pod_selector.keys()
                    if peer.ip_block is not None and peer.ip_block not in blocks:
                        blocks[peer.ip_block] = _Block.of(peer.ip_block)
                for p in rule_ports or ():
                    if isinstance(p.port, str):
                        port_names.add(p.port)
        # ---- ipBlock intervals: between two consecutive edges every block contains all or none
        bounds: dict[int, list[int]] = {4: [], 6: []}
        for b in blocks.values():
            bounds[b.version] += [b.lo, b.hi + 1]
            for lo, hi in b.excepts:
                bounds[b.version] += [lo, hi + 1]
        edges = {v: sorted(set(xs)) for v, xs in bounds.items()}
        use_ips = ipblock_pods and bool(blocks)
        # ---- namespaces
        self.ns_names: list[str] = list(namespaces)
        self.ns_id = {n: i for i, n in enumerate(self.ns_names)}
        # ---- classes
        class_of: dict[tuple[Any, ...], int] = {}
        class_keys: list[tuple[Any, ...]] = []
        pod_class: list[int] = []
        lp_of: dict[tuple[tuple[str, str], ...], int] = {}
        port_sigs: dict[int, tuple[tuple[str, str, int], ...]] = {}
        ip_sigs: dict[int, tuple[tuple[int, int], ...]] = {}
        edges4 = edges[4]
        keys_of = {ns: frozenset(keys | global_keys) for ns, keys in local_keys.items()}
        no_local = frozenset(global_keys)
        for pod in pods:
            refkeys = keys_of.get(pod.namespace, no_local)
            lp = tuple(sorted([kv for kv in pod.labels.items() if kv[0] in refkeys]))
            ipsig: tuple[tuple[int, int], ...] = ()
            ips = pod.ips
            if use_ips and ips:
                if len(ips) == 1:
                    parsed = _ip_int(ips[0])
                    if parsed is not None:
                        ver, val = parsed
                        pos = bisect_right(edges4 if ver == 4 else edges[6], val) - 1
                        # one small tuple per interval, shared by the pods in it
                        ipsig = ip_sigs.get(pos * 2 + (ver == 6), ())
                        if not ipsig:
                            ipsig = ip_sigs[pos * 2 + (ver == 6)] = ((ver, pos),)
                else:
                    sig = set()
                    for text in ips:
                        parsed = _ip_int(text)
                        if parsed is not None:
                            ver, val = parsed
                            sig.add((ver, bisect_right(edges[ver], val) - 1))
                    ipsig = tuple(sorted(sig))
            portsig: tuple[tuple[str, str, int], ...] = ()
            ports = pod.ports
            if port_names and ports:
                # Pods of one workload share their ports tuple; the pods keep it alive, so its
                # id is stable for the duration of this loop.
                found = port_sigs.get(id(ports))
                if found is None:
                    found = port_sigs[id(ports)] = tuple(sorted(
                        (cp.name, cp.protocol, cp.port) for cp in ports
                        if cp.name in port_names
                    ))
                portsig = found
            key = (pod.namespace, lp, ipsig, portsig, pod.host_network)
            cid = class_of.get(key)
            if cid is None:
                cid = class_of[key] = len(class_keys)
                class_keys.append(key)
                if lp not in lp_of:
                    lp_of[lp] = len(lp_of)
            pod_class.append(cid)
        self.class_of = class_of
        self.pod_class = np.asarray(pod_class, dtype=np.int64)
        self.pod_class_list = pod_class
        self.pod_index = {k: i for i, k in enumerate(keys if keys is not None else
                                                      (p.key for p in pods))}
        k = self.n = len(class_keys)
        self.class_ns = np.asarray([self.ns_id[c[0]] for c in class_keys], dtype=np.int64)
        self.class_lp = np.asarray([lp_of[c[1]] for c in class_keys], dtype=np.int64)
        self.class_hn = [bool(c[4]) for c in class_keys]
        self.class_portmap: list[PortMap] = []
        portmaps: dict[tuple[tuple[str, str, int], ...], PortMap] = {}
        for c in class_keys:
            shared_pm = portmaps.get(c[3])
            if shared_pm is None:
                pm: dict[tuple[str, str], tuple[int, ...]] = {}
                for name, proto, num in c[3]:
                    pm[(name, proto)] = (*pm.get((name, proto), ()), num)
                shared_pm = portmaps[c[3]] = pm
            self.class_portmap.append(shared_pm)
        ns_members: dict[int, list[int]] = {}
        for cid, ns in enumerate(self.class_ns.tolist()):
            ns_members.setdefault(ns, []).append(cid)
        self.ns_classes = {ns: np.asarray(m, dtype=np.int64) for ns, m in ns_members.items()}
        # ---- selector indexes
        self._lp_index = _LabelIndex([dict(lp) for lp in lp_of])
        self._ns_index = _LabelIndex([namespaces[n].labels for n in self.ns_names])
        # ---- ipBlock membership per class
        sigs: dict[tuple[tuple[int, int], ...], int] = {}
        class_sig: list[int] = []
        for c in class_keys:
            if c[2]:
                class_sig.append(sigs.setdefault(c[2], len(sigs)))
            else:
                class_sig.append(-1)
        self._sigs = list(sigs)
        self._class_sig = np.asarray(class_sig, dtype=np.int64)
        self._edges = edges
        self._blocks = blocks
        # ---- compile rules
        self._ones = np.ones(k, dtype=bool)
        self._zeros = np.zeros(k, dtype=bool)
        self._ones.setflags(write=False)
        self._zeros.setflags(write=False)
        self._peer_cache: dict[Any, BoolArray] = {}
        self._union_cache: dict[tuple[int, ...], BoolArray] = {}
        self._port_cache: dict[Any, _PortSpec] = {}
        #: connections() per (source class, destination class), as asked
        self._conn_cache: dict[tuple[int, int], ConnectionSet] = {}
        self.rules: list[_Rule] = []
        in_rules: list[list[_Rule]] = [[] for _ in range(k)]
        eg_rules: list[list[_Rule]] = [[] for _ in range(k)]
        self.in_iso = [False] * k
        self.eg_iso = [False] * k
        self.in_policies: list[list[int]] = [[] for _ in range(k)]
        self.eg_policies: list[list[int]] = [[] for _ in range(k)]
        for pi, pol in enumerate(policies):
            ns = pol.namespace or "default"
            ns_i = self.ns_id[ns]
            members = self.ns_classes.get(ns_i)
            if members is None:
                continue
            # A policy selects pods of its own namespace matched by spec.podSelector.
            chosen = members[self._lp_index.mask(pol.spec.pod_selector)[self.class_lp[members]]]
            # hostNetwork pods are outside NetworkPolicy's reach: never isolated.
            selected = [c for c in chosen.tolist() if not self.class_hn[c]]
            if not selected:
                continue
            if pol.spec.isolates_ingress:
                compiled = [self._rule(pi, ri, "ingress", ns_i, r.from_, r.ports)
                            for ri, r in enumerate(pol.spec.ingress or ())]
                for c in selected:
                    self.in_iso[c] = True
                    self.in_policies[c].append(pi)
                    in_rules[c].extend(compiled)
            if pol.spec.isolates_egress:
                compiled = [self._rule(pi, ri, "egress", ns_i, r.to, r.ports)
                            for ri, r in enumerate(pol.spec.egress or ())]
                for c in selected:
                    self.eg_iso[c] = True
                    self.eg_policies[c].append(pi)
                    eg_rules[c].extend(compiled)
        # Classes with the same rules share one tuple (and below, one port map), so per-port
        # work in class_matrix is done once per distinct object.
        shared: dict[tuple[_Rule, ...], tuple[_Rule, ...]] = {}
        self.in_rules = [shared.setdefault(t, t) for t in map(tuple, in_rules)]
        self.eg_rules = [shared.setdefault(t, t) for t in map(tuple, eg_rules)]

    # ------------------------------------------------------------------ compilation

    def _ports(self, ports: Sequence[NetworkPolicyPort] | None) -> _PortSpec:
        key = tuple(ports or ())
        spec = self._port_cache.get(key)
        if spec is None:
            spec = self._port_cache[key] = _PortSpec(ports)
        return spec

    def _peer_vec(self, ns_i: int, peer: NetworkPolicyPeer) -> BoolArray:
        key = (ns_i if peer.namespace_selector is None and peer.ip_block is None else -1, peer)
        vec = self._peer_cache.get(key)
        if vec is not None:
            return vec
        if peer.ip_block is not None:
            vec = self._block_vec(peer.ip_block)
        elif peer.namespace_selector is None:
            # podSelector alone: pods of the policy's namespace that match it.
            vec = np.zeros(self.n, dtype=bool)
            members = self.ns_classes.get(ns_i)
            if members is not None:
                assert peer.pod_selector is not None
                vec[members] = self._lp_index.mask(peer.pod_selector)[self.class_lp[members]]
        else:
            vec = self._ns_index.mask(peer.namespace_selector)[self.class_ns]
            if peer.pod_selector is not None:
                vec = vec & self._lp_index.mask(peer.pod_selector)[self.class_lp]
        vec.setflags(write=False)
        self._peer_cache[key] = vec
        return vec

    def _block_vec(self, block: IPBlock) -> BoolArray:
        if not self.ipblock_pods or not self._sigs:
            return self._zeros
        b = self._blocks.get(block) or _Block.of(block)
        member = np.zeros(len(self._sigs) + 1, dtype=bool)  # the last slot is "no IP"
        for i, sig in enumerate(self._sigs):
            for ver, interval in sig:
                edges = self._edges[ver]
                if interval >= 0 and b.contains(ver, edges[interval]):
                    member[i] = True
                    break
        out: BoolArray = member[self._class_sig]
        return out

    def _rule(self, pi: int, ri: int, direction: str, ns_i: int,
              peers: Sequence[NetworkPolicyPeer] | None, ports: Sequence[NetworkPolicyPort] | None,
              ) -> _Rule:
        blocks: tuple[_Block, ...] = ()
        if not peers:  # absent or empty from/to: every peer, in the cluster or not
            vec, all_peers = self._ones, True
        else:
            vecs = [self._peer_vec(ns_i, p) for p in peers]
            vec = vecs[0]
            for v in vecs[1:]:
                vec = vec | v
            blocks = tuple(self._blocks.get(p.ip_block) or _Block.of(p.ip_block)
                           for p in peers if p.ip_block is not None)
            all_peers = False
        r = _Rule(len(self.rules), pi, ri, direction, all_peers, vec, blocks, self._ports(ports))
        self.rules.append(r)
        return r

    # ------------------------------------------------------------------ single queries

    def allowed(self, s: int, d: int, protocol: str, port: int) -> bool:
        """Pod class ``s`` to pod class ``d`` (neither hostNetwork)."""
        pm = self.class_portmap[d]
        if self.eg_iso[s]:
            for r in self.eg_rules[s]:
                if r.vb[d] and r.ports.allows(protocol, port, pm):
                    break
            else:
                return False
        if self.in_iso[d]:
            for r in self.in_rules[d]:  # noqa: SIM110 (a plain loop is faster than any())
                if r.vb[s] and r.ports.allows(protocol, port, pm):
                    return True
            return False
        return True

    def allowed_from_ip(self, ip: tuple[int, int], d: int, protocol: str, port: int) -> bool:
        if not self.in_iso[d]:
            return True
        pm = self.class_portmap[d]
        return any(r.admits_ip(*ip) and r.ports.allows(protocol, port, pm) for r in self.in_rules[d])

    def allowed_to_ip(self, s: int, ip: tuple[int, int], protocol: str, port: int) -> bool:
        if not self.eg_iso[s]:
            return True
        return any(r.admits_ip(*ip) and r.ports.allows(protocol, port, _NO_PORTS)
                   for r in self.eg_rules[s])

    def connections(self, s: int, d: int) -> ConnectionSet:
        found = self._conn_cache.get((s, d))
        if found is None:
            found = self._conn_cache[(s, d)] = self._connections(s, d)
        return found

    def _connections(self, s: int, d: int) -> ConnectionSet:
        pm = self.class_portmap[d]
        out = ConnectionSet.all()
        if self.eg_iso[s]:
            out = ConnectionSet.none().union(
                *(r.ports.resolve(pm) for r in self.eg_rules[s] if r.vec[d]))
        if self.in_iso[d] and not out.is_empty:
            out = out & ConnectionSet.none().union(
                *(r.ports.resolve(pm) for r in self.in_rules[d] if r.vec[s]))
        return out

    def connections_from_ip(self, ip: tuple[int, int], d: int) -> ConnectionSet:
        if not self.in_iso[d]:
            return ConnectionSet.all()
        pm = self.class_portmap[d]
        return ConnectionSet.none().union(
            *(r.ports.resolve(pm) for r in self.in_rules[d] if r.admits_ip(*ip)))

    def connections_to_ip(self, s: int, ip: tuple[int, int]) -> ConnectionSet:
        if not self.eg_iso[s]:
            return ConnectionSet.all()
        return ConnectionSet.none().union(
            *(r.ports.resolve(_NO_PORTS) for r in self.eg_rules[s] if r.admits_ip(*ip)))

    # ------------------------------------------------------------------ all pairs

    def _union(self, rules: Sequence[_Rule]) -> BoolArray:
        key = tuple(r.id for r in rules)
        vec = self._union_cache.get(key)
        if vec is None:
            if not rules:
                vec = self._zeros
            else:
                vec = rules[0].vec.copy()
                for r in rules[1:]:
                    if r.all_peers:
                        vec = self._ones
                        break
                    vec |= r.vec
            self._union_cache[key] = vec
        return vec

    def _named_mask(self, spec: _PortSpec, protocol: str, port: int) -> BoolArray:
        """Destination classes on which ``spec``'s named ports give ``protocol``/``port``."""
        out = np.zeros(self.n, dtype=bool)
        for name, proto in spec.named:
            if proto != protocol:
                continue
            for d, pm in enumerate(self.class_portmap):
                if port in pm.get((name, proto), ()):
                    out[d] = True
        return out

    def class_matrix(self, protocol: str, port: int) -> tuple[BoolArray, IntArray, IntArray]:
        """``(A, row_pos, col_pos)``: class ``s`` may reach class ``d`` on ``protocol``/``port``
        iff ``A[row_pos[s], col_pos[d]]``."""
        k = self.n
        # Ingress: one column of allowed sources per distinct set of applicable rules.
        cols: dict[tuple[int, ...] | None, int] = {None: 0}
        col_vecs: list[BoolArray] = [self._ones]
        memo: dict[tuple[int, int], int] = {}
        in_list = [0] * k
        for d in range(k):
            if not self.in_iso[d]:
                continue
            rules, pm = self.in_rules[d], self.class_portmap[d]
            j = memo.get((id(rules), id(pm)))
            if j is None:
                sig = tuple(r.id for r in rules if r.ports.allows(protocol, port, pm))
                j = cols.get(sig)
                if j is None:
                    j = cols[sig] = len(col_vecs)
                    col_vecs.append(self._union([self.rules[i] for i in sig]))
                memo[(id(rules), id(pm))] = j
            in_list[d] = j
        in_idx = np.asarray(in_list, dtype=np.int64)
        # Egress: one row of allowed destinations per distinct rule list.
        rows: dict[int, int] = {}
        row_vecs: list[BoolArray] = [self._ones]
        eg_list = [0] * k
        named_cache: dict[int, BoolArray] = {}
        for s in range(k):
            if not self.eg_iso[s]:
                continue
            rules = self.eg_rules[s]
            j = rows.get(id(rules))
            if j is None:
                j = rows[id(rules)] = len(row_vecs)
                row = np.zeros(k, dtype=bool)
                for r in rules:
                    spec = r.ports
                    if spec.all or spec.numeric.allows(protocol, port):
                        row |= r.vec
                    elif spec.named:
                        nm = named_cache.get(id(spec))
                        if nm is None:
                            nm = named_cache[id(spec)] = self._named_mask(spec, protocol, port)
                        row |= r.vec & nm
                row_vecs.append(row)
            eg_list[s] = j
        eg_idx = np.asarray(eg_list, dtype=np.int64)
        egress = np.stack(row_vecs)                                 # [egress group, d]
        ingress = np.stack(col_vecs)                                # [ingress group, s]
        hn = np.asarray(self.class_hn, dtype=bool)
        # Row s of the answer is a function of (egress group of s, which ingress groups admit
        # s); column d of (ingress group of d, which egress groups admit d). Classes that agree
        # on those share a row (column), so only distinct ones are computed. hostNetwork
        # classes get rows and columns of their own, all allowed.
        row_of, row_reps = _distinct(eg_idx, ingress, hn)
        col_of, col_reps = _distinct(in_idx, egress, hn)
        rs = np.asarray(row_reps, dtype=np.int64)
        rd = np.asarray(col_reps, dtype=np.int64)
        # Columns first: the group arrays have fewer rows than there are classes.
        out: BoolArray = egress[:, rd][eg_idx[rs]]                  # [s rep, d rep]
        ing = ingress[:, rs][in_idx[rd]]                            # [d rep, s rep]
        # out &= ing.T, tile by tile: a whole-array transpose misses the cache on every
        # element once the arrays are large; tiles of 256 x 256 stay in it.
        tile = 256
        for s0 in range(0, len(rs), tile):
            for d0 in range(0, len(rd), tile):
                out[s0:s0 + tile, d0:d0 + tile] &= ing[d0:d0 + tile, s0:s0 + tile].T
        del ing
        out[hn[rs], :] = True
        out[:, hn[rd]] = True
        return out, row_of, col_of

    def class_matrix_ordered(self, protocol: str, port: int) -> BoolArray:
        """``class_matrix`` with rows and columns in class order."""
        table, row_pos, col_pos = self.class_matrix(protocol, port)
        out: BoolArray = table[np.ix_(row_pos, col_pos)]
        return out

    def port_atoms(self) -> Iterator[tuple[str, int]]:
        """One (protocol, port) per range of ports on which every rule gives the same answer."""
        cuts: dict[str, set[int]] = {p: {1} for p in PROTOCOLS}
        for spec in self._port_cache.values():
            for proto, ranges in spec.numeric.ranges.items():
                for lo, hi in ranges:
                    cuts[proto].update((lo, hi + 1))
            for name, proto in spec.named:
                for pm in self.class_portmap:
                    for n in pm.get((name, proto), ()):
                        cuts[proto].update((n, n + 1))
        for proto in PROTOCOLS:
            for p in sorted(cuts[proto]):
                if p <= 65535:
                    yield proto, p

    def class_matrix_any(self) -> BoolArray:
        """``A[s, d]``: class ``s`` may reach class ``d`` on some protocol and port."""
        out = np.zeros((self.n, self.n), dtype=bool)
        specs = list(self._port_cache.values())
        named = sorted({pair for spec in specs for pair in spec.named})
        portmaps = list({id(pm): pm for pm in self.class_portmap}.values())
        seen: set[tuple[tuple[bool, ...], tuple[bool, ...]]] = set()
        for proto, port in self.port_atoms():
            # Two ports on which every rule port and every named port answer alike give the
            # same matrix; compute it once.
            sig = (tuple(spec.all or spec.numeric.allows(proto, port) for spec in specs),
                   tuple(p == proto and port in pm.get((name, p), ())
                         for name, p in named for pm in portmaps))
            if sig in seen:
                continue
            seen.add(sig)
            out |= self.class_matrix_ordered(proto, port)
        return out

    def ip_of(self, text: str) -> tuple[int, int] | None:
        """Parse an external address for the single-query methods."""
        return _ip_int(text)


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address as Kubernetes reads it, or None."""
    return _rules.parse_ip(text)
