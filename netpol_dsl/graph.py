"""Pictures of who can reach whom: Mermaid, DOT, SVG and a self-contained HTML report.

``build_graph(cluster)`` turns an evaluated cluster into a ``Graph``: namespaces as boxes,
workloads (or bare pods) as nodes, allowed flows as edges labelled with their ports, and,
optionally, denied connections and intent probes as dashed edges. Renderers:

- ``to_mermaid`` and ``to_dot``: text, always available.
- ``to_svg``: laid out by Graphviz ``dot`` (``engine="graphviz"``) or in pure Python
  (``engine="builtin"``; ``engine="auto"`` picks Graphviz when present), then drawn with measured
  text, so no label overlaps another or leaves the picture.
- ``to_html``: one file with the diagram as inline SVG and the matrix; it fetches nothing.

Example:
    >>> g = Graph(
    ...     nodes=(Node("payments", "frontend", "Deployment"), Node("payments", "api", "Deployment")),
    ...     edges=(Edge("payments/frontend", "payments/api", "TCP 8080"),))
    >>> print(to_mermaid(g))
    flowchart LR
      subgraph ns_payments["namespace: payments"]
        n0["frontend<br/><small>Deployment</small>"]
        n1["api<br/><small>Deployment</small>"]
      end
      n0 -->|"TCP 8080"| n1
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import numpy.typing as npt

from netpol_dsl.errors import RenderError

if TYPE_CHECKING:
    from netpol_dsl.evaluate import Cluster

__all__ = [
    "TIER_COLOURS",
    "TIER_LEGEND",
    "Cell",
    "ConnectivityTable",
    "Edge",
    "EdgeColumns",
    "Graph",
    "Node",
    "build_graph",
    "connectivity_table",
    "graphviz_available",
    "to_dot",
    "to_html",
    "to_mermaid",
    "to_svg",
]

EXTERNAL = "(external)"

#: Edge colours by deciding tier, in pictures that show tiers (``mixed``: several tiers decided
#: the edge's connections). Denied edges stay red and dashed, whatever tier denied them.
TIER_COLOURS: Mapping[str, str] = {
    "admin": "#6a1b9a",
    "networkpolicy": "#2e7d32",
    "baseline": "#1565c0",
    "default": "#757575",
    "mixed": "#ef6c00",
}
#: How the legends name each tier.
TIER_LEGEND: Mapping[str, str] = {
    "admin": "admin tier (cluster-wide)",
    "networkpolicy": "NetworkPolicy",
    "baseline": "baseline tier (cluster-wide)",
    "default": "default (no rule decided)",
    "mixed": "several tiers",
}
_ALLOWED = "#2e7d32"
_DENIED = "#c62828"

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Node:
    """A workload, bare pod or external address in the picture.

    Example:
        >>> Node("payments", "api", "Deployment").id
        'payments/api'
    """

    namespace: str
    name: str
    kind: str = "Pod"
    labels: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    pod: str | None = field(default=None, compare=False, hash=False)

    @property
    def id(self) -> str:
        """``namespace/name`` (the name alone for an external address).

        Example:
            >>> Node(EXTERNAL, "10.0.0.1", "External").id
            '10.0.0.1'
        """
        return self.name if self.namespace == EXTERNAL else f"{self.namespace}/{self.name}"

    @property
    def query(self) -> str:
        """What to ask the evaluator about: the representative pod's key, or the address.

        Example:
            >>> Node("a", "web", "Deployment", pod="a/web-0").query
            'a/web-0'
        """
        return self.pod or self.id


@dataclass(frozen=True, slots=True)
class Edge:
    """A connection between two nodes (by id): allowed, or denied (drawn dashed).

    Example:
        >>> Edge("a/web", "a/db", "TCP 5432", allowed=False).style
        'denied'
    """

    src: str
    dst: str
    label: str
    allowed: bool = True
    probe: bool = False
    #: the tiers that decided it (``admin``, ``networkpolicy``, ``baseline``, ``default``; for
    #: a denied edge, those that denied), in precedence order; empty when not computed
    tiers: tuple[str, ...] = ()

    @property
    def tier(self) -> str | None:
        """The one tier that decided it, ``mixed`` when several did, None when not computed.

        Example:
            >>> Edge("a/x", "a/y", "TCP 80", tiers=("admin",)).tier
            'admin'
            >>> Edge("a/x", "a/y", "all ports", tiers=("admin", "networkpolicy")).tier
            'mixed'
        """
        if not self.tiers:
            return None
        return self.tiers[0] if len(self.tiers) == 1 else "mixed"

    @property
    def text(self) -> str:
        """The label with the deciding tiers, as pictures that show tiers print it.

        Example:
            >>> Edge("a/x", "a/y", "TCP 80", tiers=("admin", "networkpolicy")).text
            'TCP 80 [admin+networkpolicy]'
        """
        return f"{self.label} [{'+'.join(self.tiers)}]" if self.tiers else self.label

    @property
    def colour(self) -> str:
        """Red for a denied edge; for an allowed one, its tier's (`TIER_COLOURS`), or green.

        Example:
            >>> Edge("a/x", "a/y", "TCP 80", tiers=("baseline",)).colour
            '#1565c0'
        """
        if not self.allowed:
            return _DENIED
        tier = self.tier
        return TIER_COLOURS[tier] if tier is not None else _ALLOWED

    @property
    def style(self) -> Literal["allowed", "denied"]:
        """``allowed`` or ``denied``.

        Example:
            >>> Edge("a/x", "a/y", "all").style
            'allowed'
        """
        return "allowed" if self.allowed else "denied"


class EdgeColumns(Sequence[Edge]):
    """Edges held as columns (what ``build_graph`` makes): a read-only sequence of ``Edge``.

    Edge ``k`` goes from ``node_ids[src[k]]`` to ``node_ids[dst[k]]``, labelled
    ``labels[label[k]]``, allowed when ``allowed[k]``, decided by the tiers
    ``tier_sets[tier[k]]``; these edges are never probes. ``tail`` (probes, for instance)
    follows them. ``Edge`` objects are made only when read, so a picture of a million flows
    is a few arrays, and ``to_mermaid``, ``to_dot`` and ``Graph.to_dict`` write straight from
    them. It compares equal to any sequence of the same edges.

    Example:
        >>> cols = EdgeColumns(("a/x", "a/y"), src=[0, 1], dst=[1, 0], label=[0, 0],
        ...                    labels=("TCP 80",), allowed=[True, False])
        >>> len(cols), cols[1]
        (2, Edge(src='a/y', dst='a/x', label='TCP 80', allowed=False, probe=False, tiers=()))
        >>> cols == (Edge("a/x", "a/y", "TCP 80"), Edge("a/y", "a/x", "TCP 80", allowed=False))
        True
    """

    __slots__ = ("allowed", "dst", "label", "labels", "node_ids", "src", "tail", "tier",
                 "tier_sets")

    def __init__(self, node_ids: Sequence[str], *, src: npt.ArrayLike, dst: npt.ArrayLike,
                 label: npt.ArrayLike, labels: Sequence[str], allowed: npt.ArrayLike,
                 tier: npt.ArrayLike | None = None,
                 tier_sets: Sequence[tuple[str, ...]] = ((),),
                 tail: Iterable[Edge] = ()) -> None:
        """Columns of one length; ``tier`` None means tier set 0 (no tiers) throughout."""
        self.node_ids = tuple(node_ids)
        self.src: IntArray = _frozen(np.asarray(src, dtype=np.int64))
        self.dst: IntArray = _frozen(np.asarray(dst, dtype=np.int64))
        self.label: IntArray = _frozen(np.asarray(label, dtype=np.int64))
        self.allowed: BoolArray = _frozen(np.asarray(allowed, dtype=bool))
        self.tier: IntArray = _frozen(np.zeros(self.src.size, dtype=np.int64) if tier is None
                                      else np.asarray(tier, dtype=np.int64))
        self.labels = tuple(labels)
        self.tier_sets = tuple(tuple(t) for t in tier_sets)
        self.tail = tuple(tail)
        sizes = {a.size for a in (self.src, self.dst, self.label, self.allowed, self.tier)}
        if len(sizes) != 1:
            msg = f"EdgeColumns(): got columns of lengths {sorted(sizes)}; expected one length"
            raise ValueError(msg)

    def __len__(self) -> int:
        return int(self.src.size) + len(self.tail)

    @overload
    def __getitem__(self, k: int) -> Edge: ...
    @overload
    def __getitem__(self, k: slice) -> tuple[Edge, ...]: ...
    def __getitem__(self, k: int | slice) -> Edge | tuple[Edge, ...]:
        if isinstance(k, slice):
            return tuple(self[i] for i in range(*k.indices(len(self))))
        n = int(self.src.size)
        i = k + len(self) if k < 0 else k
        if not 0 <= i < len(self):
            msg = "EdgeColumns index out of range"
            raise IndexError(msg)
        if i >= n:
            return self.tail[i - n]
        return Edge(self.node_ids[self.src[i]], self.node_ids[self.dst[i]],
                    self.labels[self.label[i]], bool(self.allowed[i]),
                    tiers=self.tier_sets[self.tier[i]])

    def __iter__(self) -> Iterator[Edge]:
        ids, labels, tiers = self.node_ids, self.labels, self.tier_sets
        for s, d, lab, ok, t in zip(self.src.tolist(), self.dst.tolist(), self.label.tolist(),
                                    self.allowed.tolist(), self.tier.tolist(), strict=True):
            yield Edge(ids[s], ids[d], labels[lab], ok, tiers=tiers[t])
        yield from self.tail

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"<EdgeColumns {int(self.src.size)} edges + {len(self.tail)}>"

    def _kinds(self) -> tuple[IntArray, list[Edge]]:
        """Each column edge's kind (label, allowed, tiers), and one edge of each kind, whose
        ``text``, ``colour`` and style every edge of that kind shares."""
        kinds, inverse = _distinct((self.label * len(self.tier_sets) + self.tier) * 2
                                   + self.allowed)
        reps = []
        for k in kinds.tolist():
            rest, ok = divmod(k, 2)
            lab, tier = divmod(rest, len(self.tier_sets))
            reps.append(Edge("", "", self.labels[lab], bool(ok), tiers=self.tier_sets[tier]))
        return inverse, reps


def _distinct(key: IntArray) -> tuple[IntArray, IntArray]:
    """``np.unique(key, return_inverse=True)`` for small non-negative keys, without sorting."""
    top = int(key.max(initial=-1)) + 1
    if top > 4 * key.size + (1 << 16):
        kinds, inverse = np.unique(key, return_inverse=True)
        return kinds.astype(np.int64), inverse.reshape(-1).astype(np.int64)
    present = np.zeros(top, dtype=bool)
    present[key] = True
    kinds = np.flatnonzero(present).astype(np.int64)
    number = np.zeros(top, dtype=np.int64)
    number[kinds] = np.arange(kinds.size, dtype=np.int64)
    out: IntArray = number[key]
    return kinds, out


def _joined(edges: EdgeColumns, kind: IntArray, heads: Sequence[str],
            tail: Callable[[int, int], str], sep: str = "\n") -> list[str]:
    """The column edges' lines, ``heads[src] + tail(kind, dst)``: one text per source, its
    lines joined by ``sep`` (join those by ``sep`` too).

    Each distinct tail is made once (a picture has far fewer (kind, destination) pairs than
    edges), and the lines of one source, which are consecutive, are joined at once.
    """
    if not edges.src.size:
        return []
    n = len(heads)
    keys, which = _distinct(kind * n + edges.dst)
    texts = [tail(k // n, k % n) for k in keys.tolist()]
    tails: list[str] = np.asarray(texts, dtype=object)[which].tolist()
    starts = np.flatnonzero(np.diff(edges.src, prepend=-1))
    cuts = [*starts.tolist(), int(edges.src.size)]
    return [heads[s] + (sep + heads[s]).join(tails[a:b]) for s, a, b in
            zip(edges.src[starts].tolist(), cuts[:-1], cuts[1:], strict=True)]


def _frozen(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    a = a.reshape(-1)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Graph:
    """Nodes grouped by namespace and the edges between them.

    Example:
        >>> Graph(nodes=(Node("b", "x"), Node("a", "y"))).namespaces
        ('a', 'b')
    """

    nodes: tuple[Node, ...] = ()
    #: a tuple, or (from ``build_graph``) ``EdgeColumns``
    edges: Sequence[Edge] = ()
    title: str = "NetworkPolicy connectivity"
    #: draw the deciding tier of each edge (colour, label and legend)
    show_tiers: bool = False

    @property
    def namespaces(self) -> tuple[str, ...]:
        """The namespaces, sorted (external addresses last).

        Example:
            >>> Graph(nodes=(Node(EXTERNAL, "1.2.3.4", "External"), Node("a", "y"))).namespaces
            ('a', '(external)')
        """
        names = sorted({n.namespace for n in self.nodes if n.namespace != EXTERNAL})
        if any(n.namespace == EXTERNAL for n in self.nodes):
            names.append(EXTERNAL)
        return tuple(names)

    def in_namespace(self, namespace: str) -> tuple[Node, ...]:
        """The nodes of one namespace, in the graph's order.

        Example:
            >>> [n.name for n in Graph(nodes=(Node("a", "x"), Node("b", "y"))).in_namespace("a")]
            ['x']
        """
        return tuple(n for n in self.nodes if n.namespace == namespace)

    def to_dict(self) -> dict[str, Any]:
        """The graph as plain data (``netpol graph --format json``).

        Example:
            >>> Graph(nodes=(Node("a", "x"),)).to_dict()["nodes"][0]["id"]
            'a/x'
        """
        return {**self._head(), "edges": _edge_dicts(self.edges), "show_tiers": self.show_tiers}

    def to_json(self) -> str:
        """``to_dict()`` as JSON with a two-space indent, as ``json.dumps(..., indent=2)``
        writes it (``netpol graph --format json``), the edges written from their columns.

        Example:
            >>> g = Graph(nodes=(Node("a", "x"), Node("a", "y")), edges=(Edge("a/x", "a/y", "TCP 80"),))
            >>> g.to_json() == json.dumps(g.to_dict(), indent=2)
            True
        """
        # json.dumps(indent=2) nests by prefixing: an edge (at depth 2) is its own dump with
        # every line indented by four spaces, which is what is written here without the
        # (pure-Python, with an indent) encoder walking a million dicts
        head = json.dumps(self._head(), indent=2)
        edges = self.edges
        items = []
        if isinstance(edges, EdgeColumns) and edges.src.size:
            kind, reps = edges._kinds()
            rest = [",\n".join([f'      "label": {json.dumps(e.label)}',
                                 f'      "allowed": {json.dumps(e.allowed)}',
                                 '      "probe": false',
                                 "      \"tiers\": " + _indented(list(e.tiers), 6)]) + "\n    }"
                    for e in reps]
            ends = [json.dumps(x) for x in edges.node_ids]
            items.extend(_joined(edges, kind, [f'    {{\n      "from": {x},\n      "to": '
                                               for x in ends],
                                 lambda k, d: f"{ends[d]},\n{rest[k]}", sep=",\n"))
            edges = edges.tail
        items.extend(_indented(d, 4) for d in _edge_dicts(edges))
        body = "[\n" + ",\n".join(items) + "\n  ]" if items else "[]"
        return (head[:-2] + f',\n  "edges": {body},\n  "show_tiers": '
                f"{json.dumps(self.show_tiers)}\n}}")

    def _head(self) -> dict[str, Any]:
        """The title, namespaces and nodes of ``to_dict()`` (the keys before the edges)."""
        return {
            "title": self.title,
            "namespaces": list(self.namespaces),
            "nodes": [{"id": n.id, "namespace": n.namespace, "name": n.name, "kind": n.kind,
                       "labels": dict(n.labels)} for n in self.nodes],
        }


def _indented(value: Any, depth: int) -> str:
    """``value`` as ``json.dumps(indent=2)`` writes it ``depth`` spaces deep (its first line
    included, where a list item starts)."""
    text = json.dumps(value, indent=2)
    return (" " * depth if isinstance(value, dict) else "") + text.replace("\n", "\n" + " " * depth)


def _edge_dicts(edges: Sequence[Edge]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    rest = edges
    if isinstance(edges, EdgeColumns):
        ids, labels, tiers = edges.node_ids, edges.labels, edges.tier_sets
        out = [{"from": ids[s], "to": ids[d], "label": labels[lab], "allowed": ok,
                "probe": False, "tiers": list(tiers[t])}
               for s, d, lab, ok, t in zip(edges.src.tolist(), edges.dst.tolist(),
                                           edges.label.tolist(), edges.allowed.tolist(),
                                           edges.tier.tolist(), strict=True)]
        rest = edges.tail
    out.extend({"from": e.src, "to": e.dst, "label": e.label, "allowed": e.allowed,
                "probe": e.probe, "tiers": list(e.tiers)} for e in rest)
    return out


# ------------------------------------------------------------------------------ cluster side


def _nodes(cluster: Cluster) -> list[Node]:
    """One node per workload (or bare pod), in the cluster's workload order."""
    return [Node(w.namespace, w.name, w.kind, dict(w.labels), w.pod) for w in cluster.workloads()]


@dataclass(frozen=True)
class _Pairs:
    """Ordered pairs of different workloads (by index in ``cluster.workloads()``), row-major:
    whether anything is allowed, and the label (an index into ``labels``)."""

    src: IntArray
    dst: IntArray
    label: IntArray
    allowed: BoolArray
    labels: tuple[str, ...]

    def row_major(self) -> _Pairs:
        """Row-major (already, or sorted here)."""
        key = self.src * (int(self.dst.max(initial=0)) + 1) + self.dst
        if key.size < 2 or bool((key[1:] > key[:-1]).all()):
            return self
        order = np.argsort(key, kind="stable")
        return _Pairs(self.src[order], self.dst[order], self.label[order], self.allowed[order],
                      self.labels)


def _workload_pairs(cluster: Cluster, port: int | str | None, protocol: str, empty: bool
                    ) -> _Pairs:
    """The ordered pairs of different workloads: every connection (port None) or one port,
    read off the evaluator as arrays; pairs with nothing allowed only when ``empty``."""
    ws = cluster.workloads()
    index = {w.id: i for i, w in enumerate(ws)}
    if port is None:
        conn = cluster.connectivity()
        arr = conn.workload_pair_arrays(empty=empty)
        at = np.asarray([index[w.id] for w in conn.workloads], dtype=np.int64)
        # one label per distinct (set, uniform)
        kinds, inverse = _distinct(arr.connections * 2 + arr.uniform)
        labels = []
        for k in kinds.tolist():
            conns = arr.sets[k // 2]
            text = "all ports" if conns.is_all else str(conns)
            labels.append(text if k % 2 else text + " (some pods)")
        nonempty = np.asarray([not x.is_empty for x in arr.sets], dtype=bool)
        return _Pairs(at[arr.src], at[arr.dst], inverse,
                      nonempty[arr.connections], tuple(labels)).row_major()
    from netpol_dsl._grid import reachability

    grid = reachability(cluster, port=port, protocol=protocol, level="workload")
    label = f"{protocol} {port}"
    at = np.asarray([index[w] for w in grid.ids], dtype=np.int64)
    allowed = np.asarray([not s.is_empty for s in grid.sets], dtype=bool)
    gi, gj = np.nonzero(grid.cells >= 0)
    ok = allowed[grid.cells[gi, gj]]
    keep = (gi != gj) & (ok | empty)
    gi, gj, ok = gi[keep], gj[keep], ok[keep]
    mixed = np.zeros(grid.cells.shape, dtype=bool)
    for i, j in grid.mixed:
        mixed[i, j] = True
    return _Pairs(at[gi], at[gj], mixed[gi, gj].astype(np.int64), ok,
                  (label, f"{label} (some pods)")).row_major()


def build_graph(
    cluster: Cluster,
    *,
    port: int | str | None = None,
    protocol: str = "TCP",
    denied: bool = False,
    probes: Iterable[Any] = (),
    title: str | None = None,
    tiers: bool | None = None,
) -> Graph:
    """The picture of a cluster: workloads as nodes, the evaluator's allowed flows as edges.

    Args:
        cluster: an evaluator ``Cluster``.
        port: draw only flows on this port (and protocol); None draws every allowed flow,
            labelled with its ports.
        protocol: the protocol of ``port``.
        denied: also draw, dashed, the pairs with nothing allowed (on ``port``): denied by
            NetworkPolicy isolation of the destination (or source), or, with tiers, by an admin
            or baseline Deny.
        probes: intents (``netpol_dsl.intent.Intent``) to draw as probes; denied ones dashed.
        title: the picture's title.
        tiers: give each edge the tiers that decided it (``Cluster.deciding_tiers``: ``admin``,
            ``networkpolicy``, ``baseline`` or ``default``; for a denied edge, those that denied
            it) and draw them; None (the default) does so when the cluster has cluster-wide
            policies.

    Example:
        >>> from netpol_dsl.evaluate import Cluster
        >>> c = Cluster.from_manifests('''
        ... {"apiVersion": "v1", "kind": "List", "items": [
        ...   {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x"}},
        ...   {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b", "namespace": "x"}}]}
        ... ''')
        >>> [(e.src, e.dst, e.label) for e in build_graph(c).edges]
        [('x/a', 'x/b', 'all ports'), ('x/b', 'x/a', 'all ports')]
    """
    nodes = _nodes(cluster)
    pairs = _workload_pairs(cluster, port, protocol, empty=denied)
    show = tiers if tiers is not None else any(
        getattr(p, "kind", "NetworkPolicy") != "NetworkPolicy" for p in cluster.policies)
    ws = cluster.workloads()
    src, dst, label, ok = pairs.src, pairs.dst, pairs.label, pairs.allowed
    labels = list(pairs.labels)
    if denied:
        if not show:
            # without tiers, only pairs where NetworkPolicies isolate the destination's
            # ingress or the source's egress (with tiers, every pair with nothing allowed: an
            # admin or baseline Deny denies pods NetworkPolicies do not isolate)
            iso = [cluster.isolated(n.query) for n in nodes]
            iso_in = np.asarray([x[0] for x in iso], dtype=bool)
            iso_out = np.asarray([x[1] for x in iso], dtype=bool)
            keep = ok | iso_in[dst] | iso_out[src]
            src, dst, label, ok = src[keep], dst[keep], label[keep], ok[keep]
        if port is None:
            label = np.where(ok, label, len(labels))
            labels.append("denied")
    tier = None
    tier_sets: list[tuple[str, ...]] = [()]
    if show:
        tier_id: dict[tuple[str, ...], int] = {(): 0}
        found_ids = []
        for i, j, allowed in zip(src.tolist(), dst.tolist(), ok.tolist(), strict=True):
            t = cluster.deciding_tiers(ws[i], ws[j], port, protocol)
            found = t.allowed if allowed else t.denied
            found_ids.append(tier_id.setdefault(found, len(tier_id)))
        tier_sets = list(tier_id)
        tier = np.asarray(found_ids, dtype=np.int64)
    node_ids = [n.id for n in nodes]
    probe_edges: list[Edge] = []
    by_key = {n.id: n for n in nodes}
    extra: dict[str, Node] = {}
    for intent in probes:
        ends = []
        for ref in (intent.src, intent.dst):
            node = _node_for(cluster, ref, by_key)
            if node.id not in by_key:
                extra.setdefault(node.id, node)
            ends.append(node)
        verdict = cluster.allows(intent.src, intent.dst, intent.port, protocol=intent.protocol)
        passed = verdict.all()
        mark = "" if passed == intent.expect and not verdict.mixed else " (unexpected)"
        found = ()
        if show:
            t = cluster.deciding_tiers(intent.src, intent.dst, intent.port, intent.protocol)
            found = t.allowed if passed else t.denied
        probe_edges.append(Edge(
            ends[0].id, ends[1].id,
            f"{'ALLOW' if passed else 'DENY'} {intent.protocol} {intent.port}{mark}",
            allowed=passed, probe=True, tiers=found))
    edges = EdgeColumns(node_ids, src=src, dst=dst, label=label, labels=labels, allowed=ok,
                        tier=tier, tier_sets=tier_sets, tail=probe_edges)
    return Graph(tuple(nodes) + tuple(extra.values()), edges,
                 title or ("NetworkPolicy connectivity" if port is None
                           else f"NetworkPolicy connectivity on {protocol} {port}"),
                 show_tiers=show)


def _node_for(cluster: Cluster, ref: str, by_key: Mapping[str, Node]) -> Node:
    ep = cluster.resolve(ref)
    if ep.address is not None:
        return Node(EXTERNAL, ep.address, "External")
    w = cluster.workload(ep.pods[0])
    return by_key.get(w.key) or Node(w.namespace, w.name, w.kind, dict(w.labels), w.pod)


# ------------------------------------------------------------------------------ matrix


@dataclass(frozen=True, slots=True)
class Cell:
    """One matrix cell: whether anything is allowed, and what.

    Example:
        >>> Cell(True, "TCP 8080").text
        'TCP 8080'
    """

    allowed: bool
    text: str


@dataclass(frozen=True)
class ConnectivityTable:
    """Workload-by-workload reachability (rows: sources, columns: destinations).

    Example:
        >>> t = ConnectivityTable(("a/x", "a/y"), ((Cell(True, "-"), Cell(True, "all")),
        ...                                        (Cell(False, "none"), Cell(True, "-"))))
        >>> print(t.to_csv(), end="")
        from\\to,a/x,a/y
        a/x,-,all
        a/y,none,-
    """

    labels: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]
    title: str = "Reachability"

    def to_json(self) -> str:
        """``{"pods": [...], "allowed": {src: {dst: text}}}`` as JSON.

        Example:
            >>> t = ConnectivityTable(("a/x",), ((Cell(True, "-"),),))
            >>> json.loads(t.to_json())["pods"]
            ['a/x']
        """
        data = {
            "title": self.title,
            "pods": list(self.labels),
            "connections": {
                src: {dst: self.cells[i][j].text for j, dst in enumerate(self.labels) if i != j}
                for i, src in enumerate(self.labels)
            },
        }
        return json.dumps(data, indent=2) + "\n"

    def to_csv(self) -> str:
        """CSV with a header row of destinations.

        Example:
            >>> ConnectivityTable((), ()).to_csv()
            'from\\\\to\\r\\n'
        """
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["from\\to", *self.labels])
        for i, src in enumerate(self.labels):
            w.writerow([src, *(c.text for c in self.cells[i])])
        return buf.getvalue().replace("\r\n", "\n") if self.labels else buf.getvalue()

    def to_markdown(self) -> str:
        """A Markdown table.

        Example:
            >>> print(ConnectivityTable(("a/x",), ((Cell(True, "-"),),)).to_markdown(), end="")
            | from \\ to | a/x |
            |---|---|
            | **a/x** | - |
        """
        lines = ["| from \\ to | " + " | ".join(self.labels) + " |",
                 "|---|" + "---|" * len(self.labels)]
        for i, src in enumerate(self.labels):
            lines.append(f"| **{src}** | " + " | ".join(c.text for c in self.cells[i]) + " |")
        return "\n".join(lines) + "\n"

    def to_text(self) -> str:
        """A plain fixed-width table.

        Example:
            >>> print(ConnectivityTable(("a/x",), ((Cell(True, "-"),),)).to_text(), end="")
            from \\ to  a/x
            a/x        -
        """
        head = ["from \\ to", *self.labels]
        rows = [[src, *(c.text for c in self.cells[i])] for i, src in enumerate(self.labels)]
        widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
        out = []
        for r in [head, *rows]:
            out.append("  ".join(v.ljust(widths[k]) for k, v in enumerate(r)).rstrip())
        return "\n".join(out) + "\n"


def connectivity_table(cluster: Cluster, *, port: int | str | None = None,
                       protocol: str = "TCP") -> ConnectivityTable:
    """The workload reachability matrix: each cell the allowed ports, or yes/no on one port.

    Example:
        >>> from netpol_dsl.evaluate import Cluster
        >>> c = Cluster.from_manifests('''
        ... {"apiVersion": "v1", "kind": "List", "items": [
        ...   {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x"}},
        ...   {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b", "namespace": "x"}}]}
        ... ''')
        >>> print(connectivity_table(c, port=80).to_text(), end="")
        from \\ to  x/a      x/b
        x/a        -        allowed
        x/b        allowed  -
    """
    nodes = _nodes(cluster)
    pairs = _workload_pairs(cluster, port, protocol, empty=True)
    n = len(nodes)
    texts = np.full((n, n), -1, dtype=np.int64)
    texts[pairs.src, pairs.dst] = pairs.label
    allowed = np.zeros((n, n), dtype=bool)
    allowed[pairs.src, pairs.dst] = pairs.allowed
    rows = []
    for i in range(n):  # every pair of different workloads is there (empty=True)
        row = []
        t_row, ok_row = texts[i].tolist(), allowed[i].tolist()
        for j in range(n):
            if i == j:
                row.append(Cell(True, "-"))
                continue
            ok, label = ok_row[j], pairs.labels[t_row[j]]
            if port is None:
                row.append(Cell(ok, "none" if not ok else
                                ("all" if label == "all ports" else label)))
            else:
                row.append(Cell(ok, "allowed" if ok and not label.endswith("(some pods)") else
                                ("some pods" if ok else "denied")))
        rows.append(tuple(row))
    title = "Reachability (allowed ports)" if port is None else f"Reachability on {protocol} {port}"
    return ConnectivityTable(tuple(n.id for n in nodes), tuple(rows), title)


# ------------------------------------------------------------------------------ text formats


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(graph: Graph) -> str:
    """Mermaid ``flowchart``: namespaces as subgraphs, denied flows dashed.

    Example:
        >>> print(to_mermaid(Graph(nodes=(Node("a", "x"), Node("a", "y")),
        ...                        edges=(Edge("a/x", "a/y", "TCP 80", allowed=False),))))
        flowchart LR
          subgraph ns_a["namespace: a"]
            n0["x<br/><small>Pod</small>"]
            n1["y<br/><small>Pod</small>"]
          end
          n0 -.->|"TCP 80"| n1
          linkStyle 0 stroke:#c62828,color:#c62828
    """
    ids = {n.id: f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for k, ns in enumerate(graph.namespaces):
        safe = re.sub(r"[^A-Za-z0-9_]", "_", ns) if ns != EXTERNAL else f"external{k}"
        title = "external" if ns == EXTERNAL else f"namespace: {ns}"
        lines.append(f'  subgraph ns_{safe}["{_mermaid_text(title)}"]')
        for n in graph.in_namespace(ns):
            lines.append(f'    {ids[n.id]}["{_mermaid_text(n.name)}<br/><small>'
                         f'{_mermaid_text(n.kind)}</small>"]')
        lines.append("  end")
    styles = []
    edges, first = graph.edges, 0
    if isinstance(edges, EdgeColumns):
        # written from the columns: one text per node and per kind of edge, joined per edge
        names = [ids[x] for x in edges.node_ids]
        kind, reps = edges._kinds()
        arrows = [f'{"-->" if e.allowed else "-.->"}|"{_mermaid_text(e.text)}"| ' for e in reps]
        lines.extend(_joined(edges, kind, [f"  {x} " for x in names],
                             lambda k, d: arrows[k] + names[d]))
        # a linkStyle line per painted edge (denied, or with tiers), in edge order; a run of
        # edges painted alike is one join of their numbers
        paints = list(dict.fromkeys(f"stroke:{e.colour},color:{e.colour}" for e in reps))
        paint = np.asarray([paints.index(f"stroke:{e.colour},color:{e.colour}")
                            if not e.allowed or e.tiers else -1 for e in reps], dtype=np.int64)
        at = np.flatnonzero(paint[kind] >= 0) if kind.size else kind
        run_paint = paint[kind[at]]
        cuts = [0, *(np.flatnonzero(np.diff(run_paint)) + 1).tolist(), int(at.size)]
        for a, b in itertools.pairwise(cuts):
            if a < b:
                tail = f" {paints[run_paint[a]]}"
                styles.append("  linkStyle " + f"{tail}\n  linkStyle ".join(
                    map(str, at[a:b].tolist())) + tail)
        edges, first = edges.tail, len(kind)
    texts: dict[str, str] = {}
    for i, e in enumerate(edges, first):
        arrow = "-->" if e.allowed else "-.->"
        text = texts.get(e.text)
        if text is None:
            text = texts[e.text] = _mermaid_text(e.text)
        lines.append(f'  {ids[e.src]} {arrow}|"{text}"| {ids[e.dst]}')
        if not e.allowed or e.tiers:
            styles.append(f"  linkStyle {i} stroke:{e.colour},color:{e.colour}")
    if graph.show_tiers:
        # Mermaid has no legend: a box of one coloured node per tier
        lines.append('  subgraph legend["edge colour: the tier that decided"]')
        for k, tier in enumerate(TIER_COLOURS):
            lines.append(f'    tier{k}["{_mermaid_text(TIER_LEGEND[tier])}"]')
            styles.append(f"  style tier{k} fill:#ffffff,stroke:{TIER_COLOURS[tier]},"
                          f"color:{TIER_COLOURS[tier]}")
        lines.append("  end")
    return "\n".join(lines + styles)


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _dot_attrs(e: Edge) -> str:
    attrs = f'label="{_dot_text(e.text)}"'
    if not e.allowed:
        attrs += ', color="#c62828", fontcolor="#c62828", style=dashed'
    elif e.tiers:
        attrs += f', color="{e.colour}", fontcolor="{e.colour}"'
    else:
        attrs += ', color="#2e7d32"'
    return attrs


def to_dot(graph: Graph) -> str:
    """Graphviz DOT: namespaces as clusters, denied flows dashed red.

    Example:
        >>> print(to_dot(Graph(nodes=(Node("a", "x"),))))
        digraph netpol {
          graph [rankdir=LR, fontname="Helvetica", label="NetworkPolicy connectivity", labelloc=t];
          node [shape=box, style="rounded,filled", fillcolor="#e3f2fd", fontname="Helvetica"];
          edge [fontname="Helvetica", fontsize=10];
          subgraph cluster_0 {
            label="namespace: a"; style="rounded"; color="#5c6bc0";
            "a/x" [label="x\\nPod"];
          }
        }
    """
    lines = [
        "digraph netpol {",
        f'  graph [rankdir=LR, fontname="Helvetica", label="{_dot_text(graph.title)}", '
        "labelloc=t];",
        '  node [shape=box, style="rounded,filled", fillcolor="#e3f2fd", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for k, ns in enumerate(graph.namespaces):
        title = "external" if ns == EXTERNAL else f"namespace: {ns}"
        lines.append(f"  subgraph cluster_{k} {{")
        lines.append(f'    label="{_dot_text(title)}"; style="rounded"; color="#5c6bc0";')
        for n in graph.in_namespace(ns):
            lines.append(f'    "{_dot_text(n.id)}" [label="{_dot_text(n.name)}\\n'
                         f'{_dot_text(n.kind)}"];')
        lines.append("  }")
    edges = graph.edges
    if isinstance(edges, EdgeColumns):
        # written from the columns: one text per node and per kind of edge, joined per edge
        ends = [_dot_text(x) for x in edges.node_ids]
        kind, reps = edges._kinds()
        attrs = [_dot_attrs(e) + "];" for e in reps]
        lines.extend(_joined(edges, kind, [f'  "{x}" -> "' for x in ends],
                             lambda k, d: f'{ends[d]}" [{attrs[k]}'))
        edges = edges.tail
    for e in edges:
        lines.append(f'  "{_dot_text(e.src)}" -> "{_dot_text(e.dst)}" [{_dot_attrs(e)}];')
    if graph.show_tiers:
        lines.append("  subgraph cluster_legend {")
        lines.append('    label="edge colour: the tier that decided"; style="rounded"; '
                     'color="#9e9e9e";')
        for tier, colour in TIER_COLOURS.items():
            lines.append(f'    "legend:{tier}" [label="{_dot_text(TIER_LEGEND[tier])}", '
                         f'shape=plaintext, style="", fontcolor="{colour}"];')
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ SVG


def graphviz_available() -> bool:
    """Whether Graphviz ``dot`` is on PATH.

    Example:
        >>> isinstance(graphviz_available(), bool)
        True
    """
    return shutil.which("dot") is not None


def to_svg(graph: Graph, *, engine: Literal["auto", "graphviz", "builtin"] = "auto") -> str:
    """The picture as SVG, laid out by Graphviz or here in pure Python, drawn here.

    Either way every text is measured before it is placed: flow labels go where no other text
    is, and the canvas holds them all (``netpol_dsl._svg``).

    Raises:
        RenderError: ``engine="graphviz"`` and Graphviz is not installed, or it failed.

    Example:
        >>> svg = to_svg(Graph(nodes=(Node("a", "x"),)), engine="builtin")
        >>> svg.startswith("<svg") and "namespace: a" in svg
        True
    """
    if engine == "builtin" or (engine == "auto" and not graphviz_available()):
        return _builtin_svg(graph)
    dot = shutil.which("dot")
    if dot is None:
        msg = ("svg: got no Graphviz `dot` on PATH; expected Graphviz installed (e.g. `apt-get "
               "install graphviz` or `brew install graphviz`). Use --format dot, mermaid or html "
               "instead: html draws without Graphviz")
        raise RenderError(msg)
    from netpol_dsl._svg import graphviz_input, graphviz_svg

    # Graphviz lays out (places nodes, routes edges); the drawing, with measured text and
    # labels where nothing else is, is the same as the built-in engine's.
    proc = subprocess.run([dot, "-Tjson"], input=graphviz_input(graph, EXTERNAL).encode("utf-8"),
                          capture_output=True, check=False, timeout=120)
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip()
        msg = f"svg: Graphviz `dot` failed ({detail or proc.returncode})"
        raise RenderError(msg)
    return graphviz_svg(graph, EXTERNAL, proc.stdout.decode("utf-8", "replace"))


def _builtin_svg(graph: Graph) -> str:
    """Laid out here, in pure Python: see ``netpol_dsl._svg``."""
    from netpol_dsl._svg import builtin_svg

    return builtin_svg(graph, EXTERNAL)


# ------------------------------------------------------------------------------ HTML


_CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px; color: #212121;
       background: #fafafa; }
h1 { color: #1a237e; font-size: 22px; }
h2 { color: #283593; font-size: 17px; margin-top: 28px; }
.diagram { background: #fff; border: 1px solid #c5cae9; border-radius: 8px; padding: 8px;
           overflow: auto; }
table.matrix { border-collapse: collapse; background: #fff; font-size: 12px; }
table.matrix th, table.matrix td { border: 1px solid #c5cae9; padding: 4px 8px; text-align: left; }
table.matrix th { background: #e8eaf6; }
td.ok { background: #e8f5e9; color: #1b5e20; }
td.no { background: #ffebee; color: #b71c1c; }
td.self { background: #f5f5f5; color: #9e9e9e; }
p.note { color: #616161; font-size: 12px; }
"""


def to_html(graph: Graph, table: ConnectivityTable | None = None, *,
            engine: Literal["auto", "graphviz", "builtin"] = "auto") -> str:
    """One self-contained HTML page: the diagram (inline SVG) and the matrix. No scripts, no fetches.

    Example:
        >>> page = to_html(Graph(nodes=(Node("a", "x"),)), engine="builtin")
        >>> page.startswith("<!DOCTYPE html>") and "<svg" in page and "<script" not in page
        True
    """
    svg = to_svg(graph, engine=engine)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(graph.title)}</title>",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(graph.title)}</h1>",
        f'<p class="note">{len(graph.nodes)} workloads in {len(graph.namespaces)} namespaces; '
        f"{sum(e.allowed for e in graph.edges)} allowed flows drawn"
        + (f", {sum(not e.allowed for e in graph.edges)} denied (dashed)"
           if any(not e.allowed for e in graph.edges) else "") + ".</p>",
        f'<div class="diagram">{svg}</div>',
    ]
    if table is not None:
        parts.append(f"<h2>{html.escape(table.title)}</h2>")
        parts.append('<table class="matrix"><thead><tr><th>from \\ to</th>'
                     + "".join(f"<th>{html.escape(x)}</th>" for x in table.labels)
                     + "</tr></thead><tbody>")
        for i, src in enumerate(table.labels):
            cells = []
            for j, c in enumerate(table.cells[i]):
                cls = "self" if i == j else ("ok" if c.allowed else "no")
                cells.append(f'<td class="{cls}">{html.escape(c.text)}</td>')
            parts.append(f"<tr><th>{html.escape(src)}</th>{''.join(cells)}</tr>")
        parts.append("</tbody></table>")
    parts.append('<p class="note">Generated by netpol-dsl.</p></body></html>')
    return "\n".join(parts) + "\n"
