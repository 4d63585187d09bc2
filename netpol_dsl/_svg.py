"""The built-in SVG drawing behind ``graph.to_svg(engine="builtin")`` and the HTML report.

Namespaces are boxes side by side, ordered so that most flows run left to right; inside a box
the workloads stand in columns by their place in the namespace's own flows (callers left of
callees). Flows are curves from the right side of the source to the left side of the
destination, their ends spread over the node's side.

Every text is measured before it is placed, with DejaVu Sans' advance widths (the first font the
drawing asks for, and among the widest of its fallbacks), and drawn with ``textLength`` so that
its box is the measured one whatever font the viewer has. Flow labels go to the first free spot
along their curve; a label with no free spot goes to a lane right of the drawing with a leader
line to its curve. The canvas is then sized to hold everything. So no text overlaps another or
leaves the canvas; ``tests/test_graph.py`` checks both in headless Chromium.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netpol_dsl.graph import Edge, Graph, Node

__all__ = ["Box", "builtin_svg", "graphviz_input", "graphviz_svg", "text_width"]

# DejaVu Sans (Book and Bold) advance widths of ASCII 32..126, in 1/2048 em (the fonts' hmtx).
_REGULAR = (
    651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690, 1303,
    1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690, 690, 1716, 1716, 1716, 1087, 2048,
    1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767, 1532, 1612, 1235,
    1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799, 690, 799, 1716, 1024, 1024,
    1255, 1300, 1126, 1300, 1260, 721, 1300, 1298, 569, 569, 1186, 569, 1995, 1298, 1253, 1300,
    1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075, 1303, 690, 1303, 1716,
)
_BOLD = (
    713, 934, 1067, 1716, 1425, 2052, 1786, 627, 936, 936, 1071, 1716, 778, 850, 778, 748, 1425,
    1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 819, 819, 1716, 1716, 1716, 1188, 2048,
    1585, 1561, 1503, 1700, 1399, 1399, 1681, 1714, 762, 762, 1587, 1305, 2038, 1714, 1741, 1501,
    1741, 1577, 1475, 1397, 1663, 1585, 2259, 1579, 1483, 1485, 936, 748, 936, 1716, 1024, 1024,
    1382, 1466, 1214, 1466, 1389, 891, 1466, 1458, 702, 702, 1362, 702, 2134, 1458, 1407, 1466,
    1466, 1010, 1219, 979, 1458, 1335, 1892, 1321, 1335, 1192, 1458, 748, 1458, 1716,
)
_EM = 2048
_ASCENT = 1901 / _EM  # hhea ascender and descender: the height of a text's box
_DESCENT = 483 / _EM
_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"

_GREEN = "#2e7d32"
_RED = "#c62828"
_PALETTE = ("#e8eaf6", "#e0f2f1", "#fff3e0", "#f3e5f5", "#e1f5fe", "#fbe9e7")

_MARGIN = 20
_TOP = 56  # below the title
_NODE_H = 44
_NODE_MIN_W = 150
_NODE_PAD = 12
_ROW_GAP = 26
_BOX_PAD = 22
_BOX_HEAD = 34
_COL_GAP = 70  # at least, between the columns of one namespace
_NS_GAP = 90  # at least, between namespaces
_LABEL_SIZE = 10
_LABEL_PAD = 3
_MAX_NAME = 63
_MAX_LABEL = 48


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The advance width of ``text`` in DejaVu Sans at ``size`` px (1 em for other characters).

    Example:
        >>> round(text_width("TCP 8080", 10), 1)
        47.7
    """
    table = _BOLD if bold else _REGULAR
    units = sum(table[ord(c) - 32] if 32 <= ord(c) < 127 else _EM for c in text)
    return units * size / _EM


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned rectangle: ``(x0, y0)`` top left, ``(x1, y1)`` bottom right.

    Example:
        >>> Box(0, 0, 10, 10).overlaps(Box(10, 0, 20, 10)), Box(0, 0, 10, 10).overlaps(Box(5, 5, 6, 6))
        (False, True)
    """

    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        """Whether the two share any area (touching edges do not count).

        Example:
            >>> Box(0, 0, 1, 1).overlaps(Box(0.5, 0.5, 2, 2))
            True
        """
        return (self.x0 < other.x1 and other.x0 < self.x1
                and self.y0 < other.y1 and other.y0 < self.y1)

    def grown(self, by: float) -> Box:
        """The box with ``by`` added on every side.

        Example:
            >>> Box(1, 1, 2, 2).grown(1)
            Box(x0=0, y0=0, x1=3, y1=3)
        """
        return Box(self.x0 - by, self.y0 - by, self.x1 + by, self.y1 + by)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


class _Drawing:
    """SVG parts, the boxes of everything placed, and the extent of the drawing."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.texts: list[Box] = []  # every text's box: none may overlap another
        self.solid: list[Box] = []  # node rectangles: labels keep off them too
        self.right = 0.0
        self.bottom = 0.0

    def extend(self, x: float, y: float) -> None:
        self.right = max(self.right, x)
        self.bottom = max(self.bottom, y)

    def text(self, x: float, y: float, text: str, size: float, fill: str, *, bold: bool = False,
             anchor: str = "start") -> Box:
        """Draw ``text`` with its baseline at ``y``; ``x`` is its start (or middle)."""
        w = text_width(text, size, bold=bold)
        x0 = x - w / 2 if anchor == "middle" else x
        box = Box(x0, y - _ASCENT * size, x0 + w, y + _DESCENT * size)
        weight = ' font-weight="bold"' if bold else ""
        middle = ' text-anchor="middle"' if anchor == "middle" else ""
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}"{weight}{middle} fill="{fill}" '
            f'textLength="{w:.1f}" lengthAdjust="spacingAndGlyphs">{html.escape(text)}</text>')
        self.texts.append(box)
        self.extend(box.x1, box.y1)
        return box

    def free(self, box: Box) -> bool:
        return box.x0 >= 4 and box.y0 >= _TOP - 14 and not any(
            box.overlaps(b) for b in self.texts) and not any(box.overlaps(b) for b in self.solid)


def _order(nodes: Sequence[str], edges: Iterable[tuple[str, str]]) -> list[str]:
    """The nodes in an order that most edges follow (Eades, Lin and Smyth's greedy heuristic
    for a small feedback arc set): sinks go last, sources first, and otherwise the node whose
    outgoing edges outnumber its incoming ones the most."""
    weight: dict[tuple[str, str], int] = {}
    for a, b in edges:
        if a != b:
            weight[(a, b)] = weight.get((a, b), 0) + 1
    left: list[str] = []
    right: list[str] = []
    remaining = list(nodes)
    while remaining:
        alive = set(remaining)
        outs = {n: 0 for n in remaining}
        ins = {n: 0 for n in remaining}
        for (a, b), w in weight.items():
            if a in alive and b in alive:
                outs[a] += w
                ins[b] += w
        sinks = [n for n in remaining if outs[n] == 0]
        if sinks:
            right[:0] = sinks
        else:
            sources = [n for n in remaining if ins[n] == 0]
            left += sources or [max(remaining, key=lambda n: outs[n] - ins[n])]
        done = set(sinks) | set(left)
        remaining = [n for n in remaining if n not in done]
    return left + right


def _layers(nodes: Sequence[str], edges: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layers; an edge against ``_order`` (closing a cycle) does not count."""
    pairs = [(a, b) for a, b in edges if a != b]
    order = _order(nodes, pairs)
    pos = {n: i for i, n in enumerate(order)}
    layer = dict.fromkeys(nodes, 0)
    for n in order:
        for a, b in pairs:
            if b == n and pos[a] < pos[b]:
                layer[n] = max(layer[n], layer[a] + 1)
    return layer


@dataclass
class _Place:
    x: float
    y: float
    w: float
    name: str
    kind: str


def _ends(edges: Sequence[Edge], place: Mapping[str, _Place]) -> dict[tuple[int, str], float]:
    """The y of each edge end, spread over the side of its node it leaves or enters."""
    sides: dict[tuple[str, str], list[tuple[float, int, str]]] = {}
    for i, e in enumerate(edges):
        a, b = place[e.src], place[e.dst]
        if abs(a.x - b.x) < 1:
            out_side, in_side = "R", "R"
        elif b.x > a.x:
            out_side, in_side = "R", "L"
        else:
            out_side, in_side = "L", "R"
        sides.setdefault((e.src, out_side), []).append((b.y, i, "src"))
        sides.setdefault((e.dst, in_side), []).append((a.y, i, "dst"))
    out: dict[tuple[int, str], float] = {}
    for (node, _), ends in sides.items():
        ends.sort()
        p = place[node]
        for k, (_, i, which) in enumerate(ends):
            out[(i, which)] = p.y + _NODE_H * (k + 1) / (len(ends) + 1)
    return out


def _at(ctrl: Sequence[tuple[float, float]], t: float) -> tuple[float, float]:
    """The point at ``t`` (0..1) along a path of cubic segments (3k+1 control points)."""
    segments = max(1, (len(ctrl) - 1) // 3)
    k = min(int(t * segments), segments - 1)
    return _bezier(ctrl[3 * k:3 * k + 4], t * segments - k)


def _bezier(p: Sequence[tuple[float, float]], t: float) -> tuple[float, float]:
    u = 1 - t
    x = u**3 * p[0][0] + 3 * u * u * t * p[1][0] + 3 * u * t * t * p[2][0] + t**3 * p[3][0]
    y = u**3 * p[0][1] + 3 * u * u * t * p[1][1] + 3 * u * t * t * p[2][1] + t**3 * p[3][1]
    return x, y


def _namespace_order(graph: Graph) -> list[str]:
    """Namespaces ordered so that most flows between them run left to right."""
    names = list(graph.namespaces)
    ns_of = {n.id: n.namespace for n in graph.nodes}
    pairs = [(ns_of[e.src], ns_of[e.dst]) for e in graph.edges
             if e.src in ns_of and e.dst in ns_of]
    return _order(names, pairs)


@dataclass
class _Layout:
    """Where things go: namespace boxes (title, box), node places, and each edge's curve."""

    boxes: list[tuple[str, Box]]
    place: dict[str, _Place]
    edges: list[Edge]
    curves: list[tuple[tuple[float, float], ...]]
    both: set[int]  # edges drawn as one curve with an arrowhead at each end
    label_at: dict[int, tuple[float, float]] = field(default_factory=dict)  # tried first


def builtin_svg(graph: Graph, external: str) -> str:
    """Draw ``graph`` as SVG with the layout made here; ``external`` is the pseudo-namespace of
    addresses outside the cluster.

    Example:
        >>> from netpol_dsl.graph import Edge, Graph, Node
        >>> svg = builtin_svg(Graph(nodes=(Node("a", "x"), Node("a", "y")),
        ...                         edges=(Edge("a/x", "a/y", "TCP 80"),)), "(external)")
        >>> svg.startswith("<svg") and ">TCP 80</text>" in svg
        True
    """
    return _draw(graph, _own_layout(graph, external))


def _own_layout(graph: Graph, external: str) -> _Layout:
    place: dict[str, _Place] = {}
    ns_of = {n.id: n.namespace for n in graph.nodes}
    cross = [e for e in graph.edges if e.src in ns_of and e.dst in ns_of
             and ns_of[e.src] != ns_of[e.dst]]
    ns_gap = min(320.0, max([_NS_GAP] + [_label_w(e) + 40 for e in cross]))
    # namespaces in columns by their place in the flows between them, stacked in a column
    names = _namespace_order(graph)
    ns_layer = _layers(names, [(ns_of[e.src], ns_of[e.dst]) for e in cross])
    sized = {ns: _namespace_box(graph, ns, external) for ns in names}
    boxes: list[tuple[str, Box]] = []
    x = float(_MARGIN)
    for k in range(max(ns_layer.values(), default=0) + 1):
        column = [ns for ns in names if ns_layer[ns] == k]
        if not column:
            continue
        y = float(_TOP + 4)
        for ns in column:
            title, bw, bh, nodes = sized[ns]
            for node_id, (dx, dy, w, name, kind) in nodes.items():
                place[node_id] = _Place(x + dx, y + dy, w, name, kind)
            boxes.append((title, Box(x, y, x + bw, y + bh)))
            y += bh + 40
        x += max(sized[ns][1] for ns in column) + ns_gap
    edges = [e for e in graph.edges if e.src in place and e.dst in place and e.src != e.dst]
    ends = _ends(edges, place)
    curves = [_curve(e, place[e.src], place[e.dst], ends[(i, "src")], ends[(i, "dst")])
              for i, e in enumerate(edges)]
    return _Layout(boxes, place, edges, curves, set())


def _namespace_box(
    graph: Graph, ns: str, external: str
) -> tuple[str, float, float, dict[str, tuple[float, float, float, str, str]]]:
    """One namespace's title, box width and height, and its nodes' offsets in the box."""
    ns_of = {n.id: n.namespace for n in graph.nodes}
    members: Sequence[Node] = graph.in_namespace(ns)
    ids = [n.id for n in members]
    inner = [e for e in graph.edges if ns_of.get(e.src) == ns == ns_of.get(e.dst)]
    layer = _layers(ids, [(e.src, e.dst) for e in inner])
    columns: list[list[Node]] = [[] for _ in range(max(layer.values(), default=0) + 1)]
    for n in members:
        columns[layer[n.id]].append(n)
    # callers' order first: a node sits near the average row of its callers
    row: dict[str, float] = {}
    for col in columns:
        keys: dict[str, float] = {}
        for n in col:
            ins = [row[e.src] for e in inner if e.dst == n.id and e.src in row]
            keys[n.id] = sum(ins) / len(ins) if ins else float(ids.index(n.id))
        col.sort(key=lambda n: (keys[n.id], ids.index(n.id)))
        for i, n in enumerate(col):
            row[n.id] = float(i)
    title = _ns_title(ns, external)
    widths = [max([_NODE_MIN_W] + [_node_w(n) for n in col]) for col in columns]
    gaps = [min(320.0, max([_COL_GAP] + [_label_w(e) + 40 for e in inner if layer[e.src] == k]))
            for k in range(len(columns) - 1)]
    bw = max(sum(widths) + sum(gaps) + 2 * _BOX_PAD, text_width(title, 14, bold=True) + 24)
    tallest = max(len(col) for col in columns) if members else 0
    bh = _BOX_HEAD + 2 * _BOX_PAD + max(0, tallest * (_NODE_H + _ROW_GAP) - _ROW_GAP)
    nodes: dict[str, tuple[float, float, float, str, str]] = {}
    cx = float(_BOX_PAD)
    for k, col in enumerate(columns):
        for i, n in enumerate(col):
            nodes[n.id] = (cx, _BOX_HEAD + _BOX_PAD + i * (_NODE_H + _ROW_GAP), widths[k],
                           _clip(n.name, _MAX_NAME), n.kind)
        cx += widths[k] + (gaps[k] if k < len(gaps) else 0)
    return title, bw, bh, nodes


def _ns_title(ns: str, external: str) -> str:
    return "external" if ns == external else f"namespace: {ns}"


def _draw(graph: Graph, layout: _Layout) -> str:
    """The SVG of a laid-out graph: every text measured, labels placed where nothing is."""
    d = _Drawing()
    d.text(_MARGIN, 32, graph.title, 18, "#1a237e", bold=True)
    place, edges, curves = layout.place, layout.edges, layout.curves
    for k, (title, b) in enumerate(layout.boxes):
        fill = "#eeeeee" if title == "external" else _PALETTE[k % len(_PALETTE)]
        d.parts.append(f'<g class="namespace"><rect x="{b.x0:.1f}" y="{b.y0:.1f}" '
                       f'width="{b.x1 - b.x0:.1f}" height="{b.y1 - b.y0:.1f}" rx="12" '
                       f'fill="{fill}" stroke="#5c6bc0" stroke-width="2"/>')
        d.text(b.x0 + 12, b.y0 + 22, title, 14, "#283593", bold=True)
        d.parts.append("</g>")
        d.extend(b.x1, b.y1)
    for p in place.values():
        d.solid.append(Box(p.x, p.y, p.x + p.w, p.y + _NODE_H))
        d.extend(p.x + p.w, p.y + _NODE_H)
    for ctrl in curves:
        for cx_, cy_ in ctrl:
            d.extend(cx_, cy_)
    waiting: list[int] = []
    spots: dict[int, Box] = {}
    for i, e in enumerate(edges):
        spot = _spot(d, curves[i], _label(e), layout.label_at.get(i))
        if spot is None:
            waiting.append(i)
        else:
            spots[i] = spot
            d.texts.append(spot)  # reserve it before the next label looks
    # labels without a spot near their curve: a lane right of everything, with leader lines
    lane_x = d.right + 40
    lane_y = float(_TOP)
    for i in waiting:
        w = text_width(_label(edges[i]), _LABEL_SIZE) + 2 * _LABEL_PAD
        h = (_ASCENT + _DESCENT) * _LABEL_SIZE + 2 * _LABEL_PAD
        spots[i] = Box(lane_x, lane_y, lane_x + w, lane_y + h)
        d.texts.append(spots[i])
        d.extend(spots[i].x1, spots[i].y1)
        lane_y += h + 6
    body = d.parts
    edge_parts = [_draw_edge(d, e, curves[i], spots[i], leader=i in waiting,
                             both=i in layout.both) for i, e in enumerate(edges)]
    d.parts = []
    for p in place.values():
        d.parts.append(f'<g class="node"><rect x="{p.x:.1f}" y="{p.y:.1f}" width="{p.w:.1f}" '
                       f'height="{_NODE_H}" rx="8" fill="#bbdefb" stroke="#1565c0" '
                       'stroke-width="1.5"/>')
        d.text(p.x + p.w / 2, p.y + 19, p.name, 13, "#0d47a1", anchor="middle")
        d.text(p.x + p.w / 2, p.y + 35, p.kind, 10, "#455a64", anchor="middle")
        d.parts.append("</g>")
    nodes_svg = d.parts
    d.parts = []
    ly = d.bottom + 30
    d.parts.append(f'<g class="legend"><line x1="{_MARGIN}" y1="{ly:.1f}" x2="{_MARGIN + 40}" '
                   f'y2="{ly:.1f}" stroke="{_GREEN}" stroke-width="2" marker-end="url(#arrow-ok)"/>')
    first = d.text(_MARGIN + 48, ly + 4, "allowed flow", 12, "#333")
    dx = first.x1 + 30
    d.parts.append(f'<line x1="{dx:.1f}" y1="{ly:.1f}" x2="{dx + 40:.1f}" y2="{ly:.1f}" '
                   f'stroke="{_RED}" stroke-width="2" stroke-dasharray="6 4" '
                   'marker-end="url(#arrow-no)"/>')
    last = d.text(dx + 48, ly + 4, "denied", 12, "#333")
    if graph.show_tiers:
        from netpol_dsl.graph import TIER_COLOURS, TIER_LEGEND

        x = last.x1 + 30
        last = d.text(x, ly + 4, "decided by:", 12, "#333")
        for tier, colour in TIER_COLOURS.items():
            x = last.x1 + 16
            d.parts.append(f'<line x1="{x:.1f}" y1="{ly:.1f}" x2="{x + 24:.1f}" y2="{ly:.1f}" '
                           f'stroke="{colour}" stroke-width="3"/>')
            last = d.text(x + 30, ly + 4, TIER_LEGEND[tier], 12, colour)
    d.parts.append("</g>")
    legend = d.parts
    width = round(d.right + _MARGIN)
    height = round(d.bottom + _MARGIN)
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{_FONT}" role="img">',
        f"<title>{html.escape(graph.title)}</title>",
        "<defs>",
        f'<marker id="arrow-ok" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        f'fill="{_GREEN}"/></marker>',
        f'<marker id="arrow-no" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        f'fill="{_RED}"/></marker>',
        *_tier_markers(graph),
        "</defs>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    return "\n".join([*head, *body, *(p for part in edge_parts for p in part), *nodes_svg,
                      *legend, "</svg>"])


def _node_w(n: Node) -> float:
    name = _clip(n.name, _MAX_NAME)
    return max(text_width(name, 13), text_width(n.kind, 10)) + 2 * _NODE_PAD


def _tier_markers(graph: Graph) -> list[str]:
    """An arrowhead in each tier's colour (pictures that show tiers)."""
    if not any(e.tiers for e in graph.edges):
        return []
    from netpol_dsl.graph import TIER_COLOURS

    return [f'<marker id="arrow-{tier}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
            f'markerHeight="8" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
            f'fill="{colour}"/></marker>' for tier, colour in TIER_COLOURS.items()]


def _label(e: Edge) -> str:
    return _clip(e.text, _MAX_LABEL)


def _label_w(e: Edge) -> float:
    return text_width(_label(e), _LABEL_SIZE)


def _curve(e: Edge, a: _Place, b: _Place, ya: float, yb: float) -> tuple[tuple[float, float], ...]:
    """The four control points of the edge's cubic curve."""
    if abs(a.x - b.x) < 1:  # one column: loop out to the right and back
        x1, x2 = a.x + a.w, b.x + b.w
        bend = 40 + 12 * abs(yb - ya) / (_NODE_H + _ROW_GAP)
        return (x1, ya), (x1 + bend, ya), (x2 + bend, yb), (x2, yb)
    if b.x > a.x:
        x1, x2 = a.x + a.w, b.x
    else:
        x1, x2 = a.x, b.x + b.w
    dx = (x2 - x1) / 2
    return (x1, ya), (x1 + dx, ya), (x2 - dx, yb), (x2, yb)


#: Where along a curve to try a label, nearest the middle first, and how far to shift it.
_ALONG = (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82)
_SHIFTS = (0.0, -13.0, 13.0, -26.0, 26.0)


def _spot(d: _Drawing, ctrl: Sequence[tuple[float, float]], label: str,
          prefer: tuple[float, float] | None = None) -> Box | None:
    """The first free box for ``label`` near its curve (or centred on ``prefer``), or None."""
    w = text_width(label, _LABEL_SIZE) + 2 * _LABEL_PAD
    h = (_ASCENT + _DESCENT) * _LABEL_SIZE + 2 * _LABEL_PAD
    if prefer is not None:
        box = Box(prefer[0] - w / 2, prefer[1] - h / 2, prefer[0] + w / 2, prefer[1] + h / 2)
        if d.free(box):
            return box
    loop = len(ctrl) == 4 and abs(ctrl[0][0] - ctrl[3][0]) < 1
    for t in _ALONG:
        px, py = _at(ctrl, t)
        for shift in _SHIFTS:
            # a loop's label sits outside it, to the right; others are centred on the curve
            x0 = px + 4 if loop else px - w / 2
            box = Box(x0, py - h / 2 + shift, x0 + w, py + h / 2 + shift)
            if d.free(box):
                return box
    return None


def _draw_edge(d: _Drawing, e: Edge, ctrl: Sequence[tuple[float, float]], spot: Box, *,
               leader: bool, both: bool = False) -> list[str]:
    colour = e.colour
    tier = e.tier
    marker = "arrow-no" if not e.allowed else (f"arrow-{tier}" if tier else "arrow-ok")
    dash = "" if e.allowed else ' stroke-dasharray="6 4"'
    path = f"M{ctrl[0][0]:.1f},{ctrl[0][1]:.1f} C" + " ".join(
        f"{x:.1f},{y:.1f}" for x, y in ctrl[1:])
    arrow = "\u2194" if both else "\u2192"
    start = f' marker-start="url(#{marker})"' if both else ""
    parts = [f'<g class="edge {e.style}"><title>{html.escape(f"{e.src} {arrow} {e.dst}: {e.text}")}'
             f'</title><path d="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}'
             f'{start} marker-end="url(#{marker})"/>']
    if leader:
        mx, my = _at(ctrl, 0.5)
        parts.append(f'<line x1="{mx:.1f}" y1="{my:.1f}" x2="{spot.x0:.1f}" '
                     f'y2="{(spot.y0 + spot.y1) / 2:.1f}" stroke="{colour}" stroke-width="1" '
                     'stroke-dasharray="2 3" opacity="0.6"/>')
    parts.append(f'<rect x="{spot.x0:.1f}" y="{spot.y0:.1f}" width="{spot.x1 - spot.x0:.1f}" '
                 f'height="{spot.y1 - spot.y0:.1f}" rx="3" fill="#ffffff" fill-opacity="0.9"/>')
    saved = d.parts
    d.parts = parts
    d.text(spot.x0 + _LABEL_PAD, spot.y1 - _LABEL_PAD - _DESCENT * _LABEL_SIZE, _label(e),
           _LABEL_SIZE, colour)
    d.parts = saved
    parts.append("</g>")
    return parts


# ------------------------------------------------------------------------------ Graphviz layout


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _drawn_edges(graph: Graph, ids: Mapping[str, int]) -> tuple[list[Edge], set[int]]:
    """The edges to draw, a pair with the same label both ways merged into one (``both``)."""
    by_pair = {(e.src, e.dst): e for e in graph.edges}
    out: list[Edge] = []
    both: set[int] = set()
    merged: set[tuple[str, str]] = set()
    for e in graph.edges:
        if e.src not in ids or e.dst not in ids or e.src == e.dst or (e.src, e.dst) in merged:
            continue
        back = by_pair.get((e.dst, e.src))
        if back is not None and (back.label, back.allowed, back.tiers) == (
                e.label, e.allowed, e.tiers):
            merged.add((e.dst, e.src))
            both.add(len(out))
        out.append(e)
    return out, both


def graphviz_input(graph: Graph, external: str) -> str:
    """DOT for Graphviz to lay out: boxes of the sizes drawn here, labels as wide as drawn here.

    Graphviz places nodes and routes edges (``dot -Tjson``); ``graphviz_svg`` then draws with
    the same measured text as the built-in layout, so the same guarantees hold.

    Example:
        >>> from netpol_dsl.graph import Graph, Node
        >>> print(graphviz_input(Graph(nodes=(Node("a", "x"),)), "(external)"))  # doctest: +ELLIPSIS
        digraph netpol {
        ...
          subgraph cluster_0 {
            label="namespace: a  "; ...
            n0 [width=2.083, height=0.611];
          }
        }
    """
    ids = {n.id: i for i, n in enumerate(graph.nodes)}
    lines = [
        "digraph netpol {",
        "  graph [rankdir=LR, nodesep=0.35, ranksep=0.9, labeljust=l, labelloc=t];",
        '  node [shape=box, fixedsize=true, label=""];',
        '  edge [fontname="DejaVu Sans", fontsize=10];',
    ]
    for k, ns in enumerate(graph.namespaces):
        title = _ns_title(ns, external)
        lines.append(f"  subgraph cluster_{k} {{")
        # two spaces more: room for the title where Graphviz measures fonts a little narrower
        lines.append(f'    label="{_dot_text(title)}  "; fontname="DejaVu Sans Bold"; fontsize=14; '
                     "margin=16;")
        for n in graph.in_namespace(ns):
            w = max(_NODE_MIN_W, _node_w(n))
            lines.append(f"    n{ids[n.id]} [width={w / 72:.3f}, height={_NODE_H / 72:.3f}];")
        lines.append("  }")
    edges, both = _drawn_edges(graph, ids)
    for i, e in enumerate(edges):
        extra = ", dir=both" if i in both else ""
        lines.append(f'  n{ids[e.src]} -> n{ids[e.dst]} [label="{_dot_text(_label(e))}"{extra}];')
    lines.append("}")
    return "\n".join(lines)


def _points(spec: str) -> tuple[list[tuple[float, float]], tuple[float, float] | None,
                                 tuple[float, float] | None]:
    """A Graphviz spline ``pos``: its control points, and its start and end arrow tips."""
    points: list[tuple[float, float]] = []
    start = end = None
    for token in spec.split():
        kind, _, rest = token.partition(",") if token[:2] in ("e,", "s,") else ("", "", token)
        x, y = (float(v) for v in rest.split(",")[:2])
        if kind == "e":
            end = (x, y)
        elif kind == "s":
            start = (x, y)
        else:
            points.append((x, y))
    return points, start, end


def _straight(a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
    """The control points after ``a`` of a straight cubic segment from ``a`` to ``b``."""
    return [(a[0] + (b[0] - a[0]) / 3, a[1] + (b[1] - a[1]) / 3),
            (a[0] + 2 * (b[0] - a[0]) / 3, a[1] + 2 * (b[1] - a[1]) / 3), b]


def graphviz_svg(graph: Graph, external: str, layout_json: str) -> str:
    """Draw ``graph`` as SVG where Graphviz put things (``dot -Tjson`` of ``graphviz_input``).

    Example:
        >>> import json
        >>> from netpol_dsl.graph import Graph, Node
        >>> laid = {"bb": "0,0,170,80", "objects": [
        ...     {"name": "cluster_0", "bb": "0,0,170,80", "nodes": [1]},
        ...     {"_gvid": 1, "name": "n0", "pos": "85,30", "width": "2", "height": "0.61"}]}
        >>> svg = graphviz_svg(Graph(nodes=(Node("a", "x"),)), "(external)", json.dumps(laid))
        >>> ">namespace: a</text>" in svg and ">x</text>" in svg
        True
    """
    import json

    data = json.loads(layout_json)
    top = float(data["bb"].split(",")[3])
    ox, oy = float(_MARGIN), float(_TOP + 4)

    def at(x: float, y: float) -> tuple[float, float]:  # Graphviz's y grows upwards
        return ox + x, oy + top - y

    nodes = list(graph.nodes)
    ids = {n.id: i for i, n in enumerate(nodes)}
    gvid: dict[int, str] = {}
    place: dict[str, _Place] = {}
    clusters: dict[int, Box] = {}
    for obj in data.get("objects", ()):
        name = str(obj.get("name", ""))
        if name.startswith("cluster_") and "bb" in obj:
            x0, y0, x1, y1 = (float(v) for v in obj["bb"].split(","))
            (bx0, by0), (bx1, by1) = at(x0, y1), at(x1, y0)
            clusters[int(name.removeprefix("cluster_"))] = Box(bx0, by0, bx1, by1)
        elif name.startswith("n") and name[1:].isdigit() and "pos" in obj:
            n = nodes[int(name[1:])]
            cx, cy = (float(v) for v in obj["pos"].split(","))
            w = float(obj["width"]) * 72
            px, py = at(cx, cy)
            place[n.id] = _Place(px - w / 2, py - _NODE_H / 2, w, _clip(n.name, _MAX_NAME), n.kind)
            gvid[int(obj["_gvid"])] = n.id
    boxes = [(_ns_title(ns, external), clusters[k]) for k, ns in enumerate(graph.namespaces)
             if k in clusters]
    edges, both = _drawn_edges(graph, ids)
    curves: list[tuple[tuple[float, float], ...]] = []
    label_at: dict[int, tuple[float, float]] = {}
    laid = {(gvid.get(int(e["tail"])), gvid.get(int(e["head"]))): e for e in data.get("edges", ())}
    for i, e in enumerate(edges):
        spec = laid.get((e.src, e.dst))
        if spec is None or "pos" not in spec:  # not laid out: a straight line
            a, b = place[e.src], place[e.dst]
            p0 = (a.x + a.w, a.y + _NODE_H / 2)
            curves.append((p0, *_straight(p0, (b.x, b.y + _NODE_H / 2))))
            continue
        raw, start, end = _points(str(spec["pos"]))
        pts = [at(x, y) for x, y in raw]
        if start is not None:
            s0 = at(*start)
            pts = [s0, *_straight(s0, pts[0])[:-1], *pts]
        if end is not None:
            pts = [*pts, *_straight(pts[-1], at(*end))]
        curves.append(tuple(pts))
        if "lp" in spec:
            lx, ly = (float(v) for v in str(spec["lp"]).split(","))
            label_at[i] = at(lx, ly)
    return _draw(graph, _Layout(boxes, place, edges, curves, both, label_at))
