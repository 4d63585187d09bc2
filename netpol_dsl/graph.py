"""Pictures of who can reach whom: Mermaid, DOT, SVG and a self-contained HTML report.

``build_graph(cluster)`` turns an evaluated cluster into a ``Graph``: namespaces as boxes,
workloads (or bare pods) as nodes, allowed flows as edges labelled with their ports, and,
optionally, denied connections and intent probes as dashed edges. Renderers:

- ``to_mermaid`` and ``to_dot``: text, always available.
- ``to_svg``: through Graphviz ``dot`` when installed (``engine="graphviz"``), or laid out by this
  module in pure Python (``engine="builtin"``); ``engine="auto"`` picks Graphviz when present.
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
import json
import math
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from netpol_dsl.errors import RenderError

if TYPE_CHECKING:
    from netpol_dsl.evaluate import Cluster

__all__ = [
    "Cell",
    "ConnectivityTable",
    "Edge",
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

    @property
    def style(self) -> Literal["allowed", "denied"]:
        """``allowed`` or ``denied``.

        Example:
            >>> Edge("a/x", "a/y", "all").style
            'allowed'
        """
        return "allowed" if self.allowed else "denied"


@dataclass(frozen=True)
class Graph:
    """Nodes grouped by namespace and the edges between them.

    Example:
        >>> Graph(nodes=(Node("b", "x"), Node("a", "y"))).namespaces
        ('a', 'b')
    """

    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()
    title: str = "NetworkPolicy connectivity"

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
        return {
            "title": self.title,
            "namespaces": list(self.namespaces),
            "nodes": [{"id": n.id, "namespace": n.namespace, "name": n.name, "kind": n.kind,
                       "labels": dict(n.labels)} for n in self.nodes],
            "edges": [{"from": e.src, "to": e.dst, "label": e.label, "allowed": e.allowed,
                       "probe": e.probe} for e in self.edges],
        }


# ------------------------------------------------------------------------------ cluster side


def _nodes(cluster: Cluster) -> list[Node]:
    """One node per workload (or bare pod), in the cluster's workload order."""
    return [Node(w.namespace, w.name, w.kind, dict(w.labels), w.pod) for w in cluster.workloads()]


def _workload_pairs(cluster: Cluster, port: int | str | None, protocol: str
                    ) -> dict[tuple[int, int], tuple[bool, str]]:
    """``(i, j) -> (allowed, label)`` for ordered pairs of different workloads (by index in
    ``cluster.workloads()``): every connection (port None) or one port, read off the evaluator."""
    ws = cluster.workloads()
    index = {w.id: i for i, w in enumerate(ws)}
    out: dict[tuple[int, int], tuple[bool, str]] = {}
    if port is None:
        for p in cluster.connectivity().workload_pairs(empty=True):
            conns = p.connections
            text = "all ports" if conns.is_all else str(conns)
            if not p.uniform:
                text += " (some pods)"
            out[(index[p.src], index[p.dst])] = (not conns.is_empty, text)
        return out
    m = cluster.matrix(port=port, protocol=protocol)
    label = f"{protocol} {port}"
    for i, a in enumerate(ws):
        for j, b in enumerate(ws):
            if i == j:
                continue
            cells = [m.allowed(x, y) for x in a.pods for y in b.pods if x != y]
            some, every = any(cells), all(cells)
            out[(i, j)] = (some, label if every or not some else f"{label} (some pods)")
    return out


def build_graph(
    cluster: Cluster,
    *,
    port: int | str | None = None,
    protocol: str = "TCP",
    denied: bool = False,
    probes: Iterable[Any] = (),
    title: str | None = None,
) -> Graph:
    """The picture of a cluster: workloads as nodes, the evaluator's allowed flows as edges.

    Args:
        cluster: an evaluator ``Cluster``.
        port: draw only flows on this port (and protocol); None draws every allowed flow,
            labelled with its ports.
        protocol: the protocol of ``port``.
        denied: also draw, dashed, the pairs that are denied because the destination (or source)
            is isolated.
        probes: intents (``netpol_dsl.intent.Intent``) to draw as probes; denied ones dashed.
        title: the picture's title.

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
    pairs = _workload_pairs(cluster, port, protocol)
    iso = [cluster.isolated(n.query) for n in nodes]
    edges: list[Edge] = []
    for (i, j), (ok, label) in sorted(pairs.items()):
        a, b = nodes[i], nodes[j]
        if ok:
            edges.append(Edge(a.id, b.id, label))
        elif denied and (iso[j][0] or iso[i][1]):
            edges.append(Edge(a.id, b.id, "denied" if port is None else label, allowed=False))
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
        ok = verdict.all()
        mark = "" if ok == intent.expect and not verdict.mixed else " (unexpected)"
        edges.append(Edge(ends[0].id, ends[1].id,
                          f"{'ALLOW' if ok else 'DENY'} {intent.protocol} {intent.port}{mark}",
                          allowed=ok, probe=True))
    return Graph(tuple(nodes) + tuple(extra.values()), tuple(edges),
                 title or ("NetworkPolicy connectivity" if port is None
                           else f"NetworkPolicy connectivity on {protocol} {port}"))


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
    pairs = _workload_pairs(cluster, port, protocol)
    rows = []
    for i in range(len(nodes)):
        row = []
        for j in range(len(nodes)):
            if i == j:
                row.append(Cell(True, "-"))
                continue
            ok, label = pairs[(i, j)]
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
    for i, e in enumerate(graph.edges):
        arrow = "-->" if e.allowed else "-.->"
        lines.append(f'  {ids[e.src]} {arrow}|"{_mermaid_text(e.label)}"| {ids[e.dst]}')
        if not e.allowed:
            styles.append(f"  linkStyle {i} stroke:#c62828,color:#c62828")
    return "\n".join(lines + styles)


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


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
    for e in graph.edges:
        attrs = f'label="{_dot_text(e.label)}"'
        attrs += ', color="#2e7d32"' if e.allowed else ', color="#c62828", fontcolor="#c62828", ' \
                                                       'style=dashed'
        lines.append(f'  "{_dot_text(e.src)}" -> "{_dot_text(e.dst)}" [{attrs}];')
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
    """The picture as SVG: through Graphviz, or laid out here in pure Python.

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
    proc = subprocess.run([dot, "-Tsvg"], input=to_dot(graph).encode("utf-8"),
                          capture_output=True, check=False, timeout=120)
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip()
        msg = f"svg: Graphviz `dot` failed ({detail or proc.returncode})"
        raise RenderError(msg)
    svg = proc.stdout.decode("utf-8", "replace")
    return svg[svg.index("<svg"):] if "<svg" in svg else svg


_GREEN = "#2e7d32"
_RED = "#c62828"


def _builtin_svg(graph: Graph) -> str:
    """Namespaces side by side as boxes, nodes stacked in them, edges as curves with labels."""
    node_w, node_h, gap, pad, head = 170, 44, 26, 22, 34
    col_w = node_w + 2 * pad
    col_gap = 90
    pos: dict[str, tuple[float, float]] = {}
    boxes: list[tuple[str, float, float, float]] = []
    heights = []
    for k, ns in enumerate(graph.namespaces):
        members = graph.in_namespace(ns)
        x = 20 + k * (col_w + col_gap)
        h = head + len(members) * (node_h + gap) - gap + 2 * pad
        heights.append(h)
        boxes.append((ns, x, 60, h))
        for i, n in enumerate(members):
            pos[n.id] = (x + pad, 60 + head + pad + i * (node_h + gap))
    width = 40 + max(1, len(graph.namespaces)) * (col_w + col_gap) - col_gap
    height = 60 + (max(heights) if heights else 0) + 80
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" '
        'role="img">',
        f"<title>{html.escape(graph.title)}</title>",
        "<defs>",
        f'<marker id="arrow-ok" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        f'fill="{_GREEN}"/></marker>',
        f'<marker id="arrow-no" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        f'fill="{_RED}"/></marker>',
        "</defs>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="20" y="32" font-size="18" font-weight="bold" fill="#1a237e">'
        f"{html.escape(graph.title)}</text>",
    ]
    palette = ["#e8eaf6", "#e0f2f1", "#fff3e0", "#f3e5f5", "#e1f5fe", "#fbe9e7"]
    for k, (ns, bx, by, bh) in enumerate(boxes):
        fill = "#eeeeee" if ns == EXTERNAL else palette[k % len(palette)]
        title = "external" if ns == EXTERNAL else f"namespace: {ns}"
        out.append(f'<g class="namespace"><rect x="{bx}" y="{by}" width="{col_w}" height="{bh}" '
                   f'rx="12" fill="{fill}" stroke="#5c6bc0" stroke-width="2"/>'
                   f'<text x="{bx + 12}" y="{by + 22}" font-size="14" font-weight="bold" '
                   f'fill="#283593">{html.escape(title)}</text></g>')
    for i, e in enumerate(graph.edges):
        if e.src not in pos or e.dst not in pos:
            continue
        out.append(_svg_edge(e, pos[e.src], pos[e.dst], node_w, node_h, i))
    for n in graph.nodes:
        if n.id not in pos:
            continue
        nx, ny = pos[n.id]
        out.append(f'<g class="node"><rect x="{nx}" y="{ny}" width="{node_w}" height="{node_h}" '
                   f'rx="8" fill="#bbdefb" stroke="#1565c0" stroke-width="1.5"/>'
                   f'<text x="{nx + node_w / 2}" y="{ny + 19}" font-size="13" text-anchor="middle" '
                   f'fill="#0d47a1">{html.escape(_clip(n.name, 22))}</text>'
                   f'<text x="{nx + node_w / 2}" y="{ny + 35}" font-size="10" text-anchor="middle" '
                   f'fill="#455a64">{html.escape(n.kind)}</text></g>')
    ly = height - 30
    out.append(f'<g class="legend"><line x1="20" y1="{ly}" x2="60" y2="{ly}" stroke="{_GREEN}" '
               f'stroke-width="2" marker-end="url(#arrow-ok)"/><text x="68" y="{ly + 4}" '
               f'font-size="12" fill="#333">allowed flow</text>'
               f'<line x1="180" y1="{ly}" x2="220" y2="{ly}" stroke="{_RED}" stroke-width="2" '
               f'stroke-dasharray="6 4" marker-end="url(#arrow-no)"/><text x="228" y="{ly + 4}" '
               f'font-size="12" fill="#333">denied</text></g>')
    out.append("</svg>")
    return "\n".join(out)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def _svg_edge(e: Edge, a: tuple[float, float], b: tuple[float, float], w: float, h: float,
              index: int) -> str:
    ax, ay = a
    bx, by = b
    colour = _GREEN if e.allowed else _RED
    marker = "arrow-ok" if e.allowed else "arrow-no"
    dash = "" if e.allowed else ' stroke-dasharray="6 4"'
    if abs(ax - bx) < 1:  # same column: loop out to the right side
        x1, y1 = ax + w, ay + h / 2 + (-6 if ay < by else 6)
        x2, y2 = bx + w, by + h / 2 + (-6 if ay < by else 6)
        bend = 40 + 12 * (abs(y2 - y1) / (h + 26))
        c1x, c1y, c2x, c2y = x1 + bend, y1, x2 + bend, y2
        mx, my = x1 + bend * 0.75, (y1 + y2) / 2
    else:
        right = bx > ax
        x1 = ax + (w if right else 0)
        x2 = bx + (0 if right else w)
        offset = 7 if right else -7  # keep the two directions of a pair apart
        y1, y2 = ay + h / 2 + offset, by + h / 2 + offset
        dx = (x2 - x1) / 2
        c1x, c1y, c2x, c2y = x1 + dx, y1, x2 - dx, y2
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2 - 4 + (index % 3 - 1) * 11
    label = html.escape(_clip(e.label, 30))
    tw = 6.2 * min(len(e.label), 30) + 8
    angle = math.degrees(math.atan2(y2 - y1, x2 - x1))
    return (f'<g class="edge {e.style}" data-angle="{angle:.0f}"><path d="M{x1:.1f},{y1:.1f} '
            f'C{c1x:.1f},{c1y:.1f} {c2x:.1f},{c2y:.1f} {x2:.1f},{y2:.1f}" fill="none" '
            f'stroke="{colour}" stroke-width="2"{dash} marker-end="url(#{marker})"/>'
            f'<rect x="{mx - tw / 2:.1f}" y="{my - 10:.1f}" width="{tw:.1f}" height="14" rx="3" '
            f'fill="#ffffff" fill-opacity="0.9"/>'
            f'<text x="{mx:.1f}" y="{my + 1:.1f}" font-size="10" text-anchor="middle" '
            f'fill="{colour}">{label}</text></g>')


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
