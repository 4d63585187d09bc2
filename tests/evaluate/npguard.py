"""Read the np-guard/netpol-analyzer peer corpus and put both sides in one comparable form.

The corpus (``../shared/corpus/np-guard``, see its README.md) holds input manifests and the
expected output of ``netpol-analyzer list``. This module parses that output and computes the
same workload-level view from any evaluator that offers ``connections(src, dst)``, after these
named normalisations (the README lists where the peer's conventions differ from upstream
Kubernetes):

N1 ``external-union``: the peer cuts the external address space at every ipBlock edge and does
   not merge neighbouring ranges with equal connections; both sides are compared as, per
   workload and direction, the function "IPv4 address -> allowed connections", with equal
   neighbours merged and empty ranges dropped.
N2 ``no-pod-ip-match``: the peer never matches ipBlocks against pod IPs, so the library runs with
   ``ipblock_matches_pod_ips=False`` (and pods without ``status.podIP`` do not matter).
N3 ``workloads``: a workload with replicas is represented by pods; every pod maps to
   ``ns/<owner name>[<owner kind>]`` (or ``ns/<pod name>[Pod]`` with no owner) and pods of one
   workload are merged.
N4 ``listed-pairs-only``: self pairs, IP-to-IP pairs and pairs with no connection are not listed.
N5 ``missing-namespaces``: namespaces are created with ``kubernetes.io/metadata.name``; objects
   without a namespace go to ``default`` (the library's own ``from_manifests`` behaviour).
N6 ``undeclared-named-port``: a named port that no destination container declares allows
   nothing (upstream semantics; the peer drops it with a warning, the same result).
"""

from __future__ import annotations

import csv
import ipaddress
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _find_corpus() -> Path:
    """``$NPGUARD_CORPUS``, else ``../shared/corpus/np-guard`` next to the checkout (as CI lays
    it out), else the workplace's ``/work/shared`` copy."""
    env = os.environ.get("NPGUARD_CORPUS")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "np-guard"
    fallback = Path("/work/shared/corpus/np-guard")
    return beside if beside.is_dir() or not fallback.is_dir() else fallback


#: The peer corpus; ``AVAILABLE`` is False on a machine that does not have it (a user's clone).
CORPUS = _find_corpus()
AVAILABLE = (CORPUS / "cases.tsv").is_file()
PROTOCOLS = ("TCP", "UDP", "SCTP")
MAX_PORT = 65535
V4_END = 2**32

#: One canonical connection set: ((protocol, ((lo, hi), ...)), ...), sorted, merged, no empties.
Conn = tuple[tuple[str, tuple[tuple[int, int], ...]], ...]
ALL: Conn = tuple((p, ((1, MAX_PORT),)) for p in PROTOCOLS)
NONE: Conn = ()


def canon(ranges: Mapping[str, Iterable[tuple[int, int]]]) -> Conn:
    """Merge ranges per protocol into the canonical form."""
    out = []
    for proto in PROTOCOLS:
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted(ranges.get(proto, ())):
            if merged and lo <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
            else:
                merged.append((lo, hi))
        if merged:
            out.append((proto, tuple(merged)))
    return tuple(out)


def intersect(a: Conn, b: Conn) -> Conn:
    da, db = dict(a), dict(b)
    out: dict[str, list[tuple[int, int]]] = {}
    for proto in PROTOCOLS:
        for lo1, hi1 in da.get(proto, ()):
            for lo2, hi2 in db.get(proto, ()):
                lo, hi = max(lo1, lo2), min(hi1, hi2)
                if lo <= hi:
                    out.setdefault(proto, []).append((lo, hi))
    return canon(out)


def _intersect_all(conns: Iterable[Conn]) -> Conn:
    """The connections common to all (``conns`` are canonical, as ``canon`` returns them)."""
    result: Conn | None = None
    for c in conns:
        result = c if result is None else intersect(result, c)
    return ALL if result is None else result


def show(conn: Conn) -> str:
    """The peer's text form, for readable failure messages."""
    if conn == ALL:
        return "All Connections"
    if not conn:
        return "No Connections"
    parts = []
    for proto, ranges in conn:
        ports = ",".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)
        parts.append(f"{proto} {ports}")
    return ",".join(parts)


def parse_conn(text: str) -> Conn:
    """``All Connections`` or ``SCTP 7070,TCP 8080-8081,UDP 9090`` (ports after a protocol)."""
    text = text.strip()
    if text == "All Connections":
        return ALL
    ranges: dict[str, list[tuple[int, int]]] = {}
    proto: str | None = None
    for token in text.split(","):
        token = token.strip()
        head, _, rest = token.partition(" ")
        if head in PROTOCOLS:
            proto, token = head, rest.strip()
        if proto is None or not re.fullmatch(r"\d+(-\d+)?", token):
            msg = f"cannot read connection {text!r} at {token!r}"
            raise ValueError(msg)
        lo, _, hi = token.partition("-")
        ranges.setdefault(proto, []).append((int(lo), int(hi or lo)))
    return canon(ranges)


# --- endpoints ---------------------------------------------------------------------------------

_EXTERNAL = re.compile(r"^(\d+\.\d+\.\d+\.\d+)-(\d+\.\d+\.\d+\.\d+)\[External\]$")


def parse_external(name: str) -> tuple[int, int] | None:
    m = _EXTERNAL.match(name)
    if not m:
        return None
    return int(ipaddress.IPv4Address(m[1])), int(ipaddress.IPv4Address(m[2]))


@dataclass(frozen=True)
class View:
    """Workload-level connectivity: pod pairs, and per (workload, direction) the address map.

    ``external[(workload, "in")]`` is a tuple of (first, last, conn) over IPv4 addresses (as
    ints), merged and without empty ranges (N1).
    """

    pairs: Mapping[tuple[str, str], Conn]
    external: Mapping[tuple[str, str], tuple[tuple[int, int, Conn], ...]]


def merge_ranges(items: Iterable[tuple[int, int, Conn]]) -> tuple[tuple[int, int, Conn], ...]:
    """N1: sort, cut overlaps is not needed (both sides are disjoint), merge equal neighbours."""
    out: list[tuple[int, int, Conn]] = []
    for lo, hi, conn in sorted(items):
        if not conn:
            continue
        if out and out[-1][1] + 1 == lo and out[-1][2] == conn:
            out[-1] = (out[-1][0], hi, conn)
        else:
            out.append((lo, hi, conn))
    return tuple(out)


def view_from_lines(lines: Iterable[tuple[str, str, str]]) -> View:
    pairs: dict[tuple[str, str], Conn] = {}
    ext: dict[tuple[str, str], list[tuple[int, int, Conn]]] = {}
    for src, dst, conn_text in lines:
        conn = parse_conn(conn_text)
        s_ext, d_ext = parse_external(src), parse_external(dst)
        if s_ext and d_ext:
            msg = f"IP-to-IP line {src} => {dst}"
            raise ValueError(msg)
        if s_ext:
            ext.setdefault((dst, "in"), []).append((*s_ext, conn))
        elif d_ext:
            ext.setdefault((src, "out"), []).append((*d_ext, conn))
        else:
            if (src, dst) in pairs:
                msg = f"pair listed twice: {src} => {dst}"
                raise ValueError(msg)
            pairs[src, dst] = conn
    return View(pairs, {k: merge_ranges(v) for k, v in ext.items() if merge_ranges(v)})


# --- the expected side -------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    outputs: tuple[str, ...]
    notes: str

    @property
    def path(self) -> Path:
        return CORPUS / "tests" / self.name


def cases() -> list[Case]:
    if not AVAILABLE:
        return []
    with (CORPUS / "cases.tsv").open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [
        Case(r["case"], tuple(x for x in r["expected_list_outputs"].split(",") if x), r["notes"] or "")
        for r in rows
    ]


def read_expected_lines(rel: str) -> list[tuple[str, str, str]]:
    """One expected output file: the whole ``list`` output, or the first section of exposure."""
    path = CORPUS / rel
    text = path.read_text()
    if path.suffix == ".json":
        data = json.loads(text)
        items = data["connlist_results"] if isinstance(data, dict) else data
        return [(i["src"], i["dst"], i["conn"]) for i in items]
    out = []
    for line in text.splitlines():
        if line.startswith("Exposure Analysis Result:"):
            break
        if not line.strip():
            continue
        left, _, conn = line.partition(" : ")
        src, _, dst = left.partition(" => ")
        if not conn or not dst:
            msg = f"{rel}: cannot read line {line!r}"
            raise ValueError(msg)
        out.append((src.strip(), dst.strip(), conn.strip()))
    return out


def expected_view(case: Case) -> View:
    """The expected view; every output file of the case (txt and json) must say the same."""
    views = [view_from_lines(read_expected_lines(rel)) for rel in case.outputs]
    if not views:
        msg = f"{case.name}: no expected list output"
        raise ValueError(msg)
    for v in views[1:]:
        if v != views[0]:
            msg = f"{case.name}: the expected outputs disagree with each other"
            raise ValueError(msg)
    return views[0]


def connections_map(case: Case, pattern: str = "connections_map*.txt") -> dict[tuple[str, str], str]:
    """``connections_map*.txt``: pod pairs with ``allowed conns: <value>``, value as written.

    In the boolean maps ``true`` means *all* connections, not "any": ``tests/onlineboutique``
    has both forms of one map, and its ``true`` pairs are exactly its ``All Connections`` pairs
    (``test_bool_map_means_all_connections``).
    """
    out: dict[tuple[str, str], str] = {}
    for f in sorted(case.path.glob(pattern)):
        for line in f.read_text().splitlines():
            m = re.match(r"src: (\S+), dest: (\S+), allowed conns: (.+)$", line.strip())
            if m:
                out[m[1], m[2]] = m[3]
    return out


# --- the computed side -------------------------------------------------------------------------


def workload_of(pod: Any) -> str:
    """N3: ``ns/<owner>[<Kind>]`` for an owned pod or a workload's representative pod.

    A static pod's mirror is "owned" by its Node; that is not a workload, so it stays a Pod.
    """
    if getattr(pod, "owner_name", None) and getattr(pod, "owner_kind", None) != "Node":
        return f"{pod.namespace}/{pod.owner_name}[{pod.owner_kind or 'Pod'}]"
    return f"{pod.namespace}/{pod.name}[Pod]"


def ipblock_edges(policies: Iterable[Any]) -> list[int]:
    """Every IPv4 address where an ipBlock (cidr or except) starts or ends+1."""
    edges = {0}
    for policy in policies:
        for rule in (policy.spec.ingress or ()) + (policy.spec.egress or ()):
            for peer in (getattr(rule, "from_", None) or getattr(rule, "to", None) or ()):
                block = peer.ip_block
                if block is None:
                    continue
                for text in (block.cidr, *(block.except_ or ())):
                    net = ipaddress.ip_network(text, strict=False)
                    if net.version == 4:
                        edges.add(int(net.network_address))
                        edges.add(int(net.broadcast_address) + 1)
    return sorted(e for e in edges if e < V4_END)


def computed_view(
    pods: list[Any],
    policies: Iterable[Any],
    conns: Callable[[Any, Any], Conn],
) -> tuple[View, list[str]]:
    """The workload-level view from an evaluator; also notes where pods of one workload differ.

    Pods of one workload are merged by intersecting their connections (a connection the
    workload has is one every replica has); where replicas differ the difference is reported.
    """
    notes: list[str] = []
    groups: dict[str, list[Any]] = {}
    for pod in pods:
        groups.setdefault(workload_of(pod), []).append(pod)
    pairs: dict[tuple[str, str], Conn] = {}
    for w1, ps1 in groups.items():
        for w2, ps2 in groups.items():
            if w1 == w2:
                continue  # N4: self pairs are not listed
            seen = {conns(p1, p2) for p1 in ps1 for p2 in ps2}
            result = _intersect_all(seen)
            if len(seen) > 1:
                notes.append(f"{w1} => {w2}: replicas differ: {sorted(show(c) for c in seen)}")
            if result:
                pairs[w1, w2] = result  # N4: no-connection pairs are not listed
    edges = ipblock_edges(policies)
    spans = [(lo, (edges[i + 1] if i + 1 < len(edges) else V4_END) - 1,
              str(ipaddress.IPv4Address(lo))) for i, lo in enumerate(edges)]
    external: dict[tuple[str, str], tuple[tuple[int, int, Conn], ...]] = {}
    for w, ps in groups.items():
        for direction in ("in", "out"):
            items = []
            for lo, hi, ip in spans:
                result = _intersect_all(
                    conns(ip, p) if direction == "in" else conns(p, ip) for p in ps)
                items.append((lo, hi, result))
            merged = merge_ranges(items)
            if merged:
                external[w, direction] = merged
    return View(pairs, external), notes


def diff(expected: View, got: View) -> list[str]:
    """Readable differences, empty when the views agree."""
    out = []
    for key in sorted(set(expected.pairs) | set(got.pairs)):
        e, g = expected.pairs.get(key, NONE), got.pairs.get(key, NONE)
        if e != g:
            out.append(f"{key[0]} => {key[1]}: expected {show(e)!r}, got {show(g)!r}")
    for key in sorted(set(expected.external) | set(got.external)):
        e2, g2 = expected.external.get(key, ()), got.external.get(key, ())
        if e2 != g2:
            arrow = "<=" if key[1] == "in" else "=>"

            def fmt(items: tuple[tuple[int, int, Conn], ...]) -> list[str]:
                return [
                    f"{ipaddress.IPv4Address(lo)}-{ipaddress.IPv4Address(hi)}: {show(c)}"
                    for lo, hi, c in items
                ]

            out.append(f"{key[0]} {arrow} external: expected {fmt(e2)}, got {fmt(g2)}")
    return out


# --- an independent manifest reader for the reference evaluator --------------------------------

WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController")


def raw_objects(directory: Path) -> list[dict[str, Any]]:
    """Every object in the case folder's YAML/JSON files, ``List`` kinds expanded.

    Files that are not manifests (stale outputs in some folders) are skipped.
    """
    from netpol_dsl.load import parse_documents

    out: list[dict[str, Any]] = []

    def expand(doc: Any) -> None:
        if isinstance(doc, list):
            for d in doc:
                expand(d)
        elif isinstance(doc, dict):
            kind = doc.get("kind")
            if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
                item_kind = kind[: -len("List")] if kind != "List" else None
                for item in doc["items"]:
                    if isinstance(item, dict) and "kind" not in item and item_kind:
                        item = {"kind": item_kind, **item}
                    expand(item)
            elif isinstance(kind, str):
                out.append(doc)

    for f in sorted(directory.rglob("*")):
        if f.suffix.lower() not in (".yaml", ".yml", ".json") or not f.is_file():
            continue
        try:
            docs = parse_documents(f.read_text(), str(f))
        except Exception:  # a stray non-manifest file
            continue
        for d in docs:
            expand(d)
    return out


def repaired(
    objs: list[dict[str, Any]], *, host_network: bool = False
) -> tuple[list[dict[str, Any]], set[str]]:
    """Undo the input conventions where the peer reads objects differently; say which applied.

    N7 (no longer applied): ``status: {}`` on a NetworkPolicy and policy names with ``_`` load
    as they are: the loader drops a stale status as the API server does, and evaluation reads
    names today's API server refuses with a warning (``lenient_names``).
    N8 ``host-network``: the peer applies policies to ``hostNetwork: true`` pods like to any
    pod; upstream leaves that undefined and this library documents such pods as outside
    NetworkPolicy's reach (always allowed). ``hostNetwork`` is removed so both sides apply
    policies to those pods.
    N9 ``kindless-owner``: an ownerReference without ``kind`` (the API server rejects it) is read
    by the peer as an owner shown as ``<name>[Pod]``; the library ignores such a reference, so
    it is given ``kind: Pod``.

    ``host_network=True`` keeps ``hostNetwork`` (skips N8).
    """
    applied: set[str] = set()
    out = []
    for obj in objs:
        obj = json.loads(json.dumps(obj))  # a deep copy
        kind = obj.get("kind")
        meta = obj.get("metadata")
        if kind != "NetworkPolicy":
            spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
            specs = [spec]
            tpl = spec.get("template") or ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
            if isinstance(tpl, dict) and isinstance(tpl.get("spec"), dict):
                specs.append(tpl["spec"])
            for sp in specs:
                if sp.get("hostNetwork") is True and not host_network:
                    del sp["hostNetwork"]
                    applied.add("N8")
            for r in (meta or {}).get("ownerReferences") or ():
                if isinstance(r, dict) and "kind" not in r:
                    r["kind"] = "Pod"
                    applied.add("N9")
        out.append(obj)
    return out, applied


def reference_cluster(objs: list[dict[str, Any]]) -> Any:
    """A reference cluster from raw objects, read straight from the API shapes (no library code
    but the policy model)."""
    from netpol_dsl.load import load_policy
    from tests.evaluate import reference as ref

    ns_labels: dict[str, dict[str, str]] = {}
    pods: list[Any] = []
    policies = []

    def ns_of(obj: dict[str, Any]) -> str:
        return (obj.get("metadata") or {}).get("namespace") or "default"  # N5

    def ports_of(spec: dict[str, Any]) -> tuple[Any, ...]:
        out = []
        for c in spec.get("containers") or ():
            for p in c.get("ports") or ():
                if "containerPort" in p:
                    out.append(ref.RefPort(int(p["containerPort"]), p.get("protocol") or "TCP", p.get("name")))
        return tuple(out)

    for obj in objs:
        kind, meta = obj["kind"], obj.get("metadata") or {}
        if kind == "Namespace":
            ns_labels[meta["name"]] = dict(meta.get("labels") or {})
        elif kind == "NetworkPolicy":
            p = {**obj, "metadata": {**(obj.get("metadata") or {})}}
            p["metadata"].setdefault("namespace", "default")
            policies.append(load_policy(p, lenient_cidr=True, lenient_names=True))
        elif kind == "Pod":
            refs = meta.get("ownerReferences") or []
            owner = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
            spec = obj.get("spec") or {}
            pod = RefOwnedPod(
                ns_of(obj), meta["name"], dict(meta.get("labels") or {}), (), ports_of(spec),
                bool(spec.get("hostNetwork")),
                owner.get("kind") if owner else None, owner.get("name") if owner else None,
            )
            pods.append(pod)
        elif kind in (*WORKLOAD_KINDS, "CronJob"):
            spec = obj.get("spec") or {}
            if kind == "CronJob":
                spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
            template = spec.get("template") or {}
            tmeta, tspec = template.get("metadata") or {}, template.get("spec") or {}
            pods.append(RefOwnedPod(
                ns_of(obj), meta["name"], dict(tmeta.get("labels") or {}), (), ports_of(tspec),
                bool(tspec.get("hostNetwork")), kind, meta["name"],
            ))
    for pod in pods:
        ns_labels.setdefault(pod.namespace, {})
    namespaces = [
        ref.RefNamespace(n, {**labels, "kubernetes.io/metadata.name": n})
        for n, labels in sorted(ns_labels.items())
    ]
    return ref.RefCluster(namespaces, pods, policies, ipblock_matches_pod_ips=False)  # N2


@dataclass(frozen=True)
class RefOwnedPod:
    namespace: str
    name: str
    labels: Mapping[str, str]
    ips: tuple[str, ...]
    ports: tuple[Any, ...]
    host_network: bool
    owner_kind: str | None
    owner_name: str | None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}[{self.owner_kind}/{self.owner_name}]"
