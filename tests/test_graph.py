"""graph: the picture's model, its text formats, the built-in SVG, and the HTML report in Chromium."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from netpol_dsl import graph as g
from netpol_dsl.errors import RenderError, UnknownEndpointError
from netpol_dsl.evaluate import Cluster
from netpol_dsl.intent import parse_intents

LESSON = Path(__file__).parent / "fixtures" / "cli" / "lesson"


@pytest.fixture(scope="module")
def cluster():
    return Cluster.from_manifests([LESSON])


def edge(graph, src, dst):
    return next((e for e in graph.edges if (e.src, e.dst) == (src, dst)), None)


def test_nodes_are_workloads_grouped_by_namespace(cluster):
    graph = g.build_graph(cluster)
    assert graph.namespaces == ("kube-system", "monitoring", "payments")
    assert [n.name for n in graph.in_namespace("payments")] == ["api-server", "frontend",
                                                                 "postgres"]
    assert {n.kind for n in graph.nodes} == {"Deployment", "StatefulSet", "Pod"}


def test_edges_are_labelled_with_ports(cluster):
    graph = g.build_graph(cluster)
    assert edge(graph, "payments/frontend", "payments/api-server").label == "TCP 8080"
    assert edge(graph, "monitoring/prometheus", "payments/api-server").label == "TCP 9090"
    assert edge(graph, "payments/api-server", "kube-system/coredns").label == "TCP 53; UDP 53"
    assert edge(graph, "monitoring/rogue-pod", "payments/api-server") is None


def test_denied_edges_only_into_isolated_pods(cluster):
    graph = g.build_graph(cluster, port=9090, denied=True)
    rogue = edge(graph, "monitoring/rogue-pod", "payments/api-server")
    assert rogue is not None and not rogue.allowed and rogue.style == "denied"
    # Neither end isolated (monitoring, kube-system have no policies): never drawn as denied.
    open_ns = {"monitoring", "kube-system"}
    assert not [e for e in graph.edges if not e.allowed
                and e.src.split("/")[0] in open_ns and e.dst.split("/")[0] in open_ns]
    # frontend's egress is isolated, so its blocked probe to prometheus is drawn dashed
    assert not edge(graph, "payments/frontend", "monitoring/prometheus").allowed


def test_probes_from_intent(cluster):
    probes = parse_intents("- {from: monitoring/rogue-pod, to: payments/api-server, port: 9090,"
                           " expect: deny}\n- {from: payments/frontend, to: 10.0.0.1, port: 443,"
                           " expect: allow}")
    graph = g.build_graph(cluster, port=9090, probes=probes)
    rogue = [e for e in graph.edges if e.probe and e.src == "monitoring/rogue-pod"]
    assert [(e.label, e.allowed) for e in rogue] == [("DENY TCP 9090", False)]
    ext = [e for e in graph.edges if e.probe and e.dst == "10.0.0.1"]
    assert ext[0].label == "DENY TCP 443 (unexpected)"
    assert g.EXTERNAL in graph.namespaces


def test_workload_lookup_and_did_you_mean(cluster):
    # The lookup is the evaluator's (one resolver, one error type), not graph's.
    assert cluster.workload("payments/frontend[Deployment]").namespace == "payments"
    with pytest.raises(UnknownEndpointError, match="Did you mean 'payments/postgres'"):
        cluster.resolve("payments/postgre")


def test_mermaid_and_dot_styles(cluster):
    graph = g.build_graph(cluster, port=9090, denied=True)
    mmd = g.to_mermaid(graph)
    assert mmd.startswith("flowchart LR") and "-.->" in mmd and "linkStyle" in mmd
    dot = g.to_dot(graph)
    assert "subgraph cluster_2" in dot and "style=dashed" in dot
    assert dot.count("{") == dot.count("}")


def test_text_escaping():
    graph = g.Graph(nodes=(g.Node("a", 'we"b'),), title='x "y"')
    assert '#quot;' in g.to_mermaid(graph)
    assert 'label="x \\"y\\""' in g.to_dot(graph)
    assert "&quot;" in g.to_svg(graph, engine="builtin")


def test_builtin_svg_draws_boxes_nodes_edges(cluster):
    svg = g.to_svg(g.build_graph(cluster, port=9090, denied=True), engine="builtin")
    assert svg.count('class="namespace"') == 3
    assert svg.count('class="node"') == 6
    assert 'class="edge allowed"' in svg and 'class="edge denied"' in svg


def test_svg_graphviz_missing(monkeypatch):
    monkeypatch.setattr(g.shutil, "which", lambda _: None)
    with pytest.raises(RenderError, match="got no Graphviz `dot` on PATH"):
        g.to_svg(g.Graph(), engine="graphviz")
    assert g.to_svg(g.Graph(), engine="auto").startswith("<svg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_svg_through_graphviz(cluster):
    svg = g.to_svg(g.build_graph(cluster), engine="graphviz")
    assert svg.startswith("<svg") and "frontend" in svg and "<?xml" not in svg


def test_connectivity_table(cluster):
    t = g.connectivity_table(cluster)
    i, j = t.labels.index("payments/frontend"), t.labels.index("payments/api-server")
    assert t.cells[i][j].text == "TCP 8080" and t.cells[j][i].text == "none"
    assert "| **payments/frontend** |" in t.to_markdown()
    assert t.to_csv().splitlines()[0].startswith("from\\to,")


def test_html_is_one_self_contained_page(cluster):
    graph = g.build_graph(cluster)
    page = g.to_html(graph, g.connectivity_table(cluster), engine="builtin")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and " src=" not in page and "href=" not in page
    assert "default-src 'none'" in page
    assert page.count("<svg") == 1 and "<table" in page


# ------------------------------------------------------------------------------ Chromium


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes) into rows of raw pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, bpp, rows


@pytest.mark.parametrize("engine", ["auto"])  # the labels test below draws both engines
def test_html_report_renders_in_headless_chromium(cluster, tmp_path, engine):
    from tests import browser

    page = tmp_path / "report.html"
    page.write_text(g.to_html(g.build_graph(cluster, port=9090, denied=True),
                              g.connectivity_table(cluster), engine=engine), encoding="utf-8")
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [browser.chromium(), *browser.FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1400,1000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert shot.exists(), proc.stderr[-2000:]
    width, bpp, rows = _png_pixels(shot.read_bytes())
    assert width == 1400
    colours = set()
    for row in rows[::2]:
        for x in range(0, len(row), bpp * 2):
            colours.add(row[x:x + 3])
    assert len(colours) > 200, f"screenshot looks blank: {len(colours)} colours"
    # the diagram is drawn: the allowed-flow green and the denied red are on screen
    greens = sum(1 for c in colours if c[1] > 100 and c[0] < 90 and c[2] < 90)
    reds = sum(1 for c in colours if c[0] > 150 and c[1] < 90 and c[2] < 90)
    assert greens > 3 and reds > 3


def test_isolation_agrees_with_the_evaluator_for_a_policy_without_namespace():
    # A policy with no metadata.namespace is read into "default", like pods without one.
    c = Cluster.from_manifests("""
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress}
spec: {podSelector: {}, policyTypes: [Egress]}
""")
    policies = [p for p, _ in c.selecting("default/web")]
    ingress, egress = c.isolated("default/web")
    assert ([p.name for p in policies], ingress, egress) == (["deny-egress"], False, True)
    assert c.allows("default/web", "8.8.8.8", 53).egress.isolating == ("deny-egress",)


# ------------------------------------------------------------------------------ label layout

ROOT = Path(__file__).resolve().parent.parent

#: The pictures whose labels are checked: the examples, and np-guard's onlineboutique manifests.
PICTURES = {
    "lesson": ([str(LESSON)], False),
    "payments": (["examples/payments_cluster.yaml", "examples/payments.py"], False),
    "payments-denied": (["examples/payments_cluster.yaml", "examples/payments.py"], True),
    "multi-team": (["examples/multi-team/cluster.yaml", "examples/multi-team/policies.py"], False),
    "egress-external": (["examples/egress-external/cluster.yaml",
                         "examples/egress-external/policies.py"], False),
    "bring-your-own-yaml": (["examples/bring-your-own-yaml/cluster",
                             "examples/bring-your-own-yaml/policies"], False),
}


def _npguard_pictures() -> dict[str, tuple[list[str], bool]]:
    from tests.evaluate.npguard import AVAILABLE, CORPUS

    if not AVAILABLE:
        return {}
    found = sorted(p for p in (CORPUS / "tests").glob("onlineboutique*") if p.is_dir())
    out = {p.name: ([str(p)], False) for p in found}
    if found:
        out[found[0].name + "-denied"] = ([str(found[0])], True)
    return out


_MEASURE = """(function () {
  var out = {};
  document.querySelectorAll("div.case").forEach(function (div) {
    var svg = div.querySelector("svg");
    var c = svg.getBoundingClientRect();
    var texts = [];
    svg.querySelectorAll("text").forEach(function (t) {
      if (!t.textContent.trim()) { return; }
      var r = t.getBoundingClientRect();
      texts.push([t.textContent, r.left - c.left, r.top - c.top, r.right - c.left, r.bottom - c.top]);
    });
    out[div.dataset.name] = {width: c.width, height: c.height, texts: texts};
  });
  return out;
})()"""


@pytest.mark.parametrize("engine", ["builtin", "graphviz"])
def test_every_label_is_inside_the_canvas_and_none_overlaps(tmp_path, engine):
    # The HTML report and `--format svg`, as Chromium lays out their text.
    from netpol_dsl.sources import inventory_sources
    from tests import browser

    if engine == "graphviz" and not g.graphviz_available():
        if os.environ.get("NETPOL_REQUIRE_CHROMIUM") == "1":  # CI installs both
            pytest.fail("Graphviz `dot` is not installed")
        pytest.skip("Graphviz is not installed")
    cases = {**PICTURES, **_npguard_pictures()}
    parts = ['<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>']
    for name, (paths, denied) in cases.items():
        cluster = Cluster.from_manifests(inventory_sources([str(ROOT / p) for p in paths]))
        svg = g.to_svg(g.build_graph(cluster, denied=denied), engine=engine)  # type: ignore[arg-type]
        parts.append(f'<div class="case" data-name="{name}">{svg}</div>')
    parts.append(browser.report_script("document.fonts.status === 'loaded'", _MEASURE))
    parts.append("</body></html>")
    page = tmp_path / "pictures.html"
    page.write_text("\n".join(parts), encoding="utf-8")
    report = browser.read_report(browser.dump_dom(page, tmp_path / "profile", width=3000))
    assert set(report) == set(cases)
    problems = []
    slack = 0.5  # sub-pixel rounding
    for name, found in report.items():
        w, h = found["width"], found["height"]
        texts = found["texts"]
        for text, x0, y0, x1, y1 in texts:
            if x0 < -slack or y0 < -slack or x1 > w + slack or y1 > h + slack:
                problems.append(f"{name}: {text!r} at x={x0:.0f}..{x1:.0f}, y={y0:.0f}..{y1:.0f} "
                                f"is outside the {w:.0f}x{h:.0f} canvas")
        for i, (ta, ax0, ay0, ax1, ay1) in enumerate(texts):
            for tb, bx0, by0, bx1, by1 in texts[i + 1:]:
                if (ax0 < bx1 - slack and bx0 < ax1 - slack
                        and ay0 < by1 - slack and by0 < ay1 - slack):
                    problems.append(f"{name}: {ta!r} ({ax0:.0f},{ay0:.0f}) overlaps {tb!r} "
                                    f"({bx0:.0f},{by0:.0f})")
    assert len(report) >= len(PICTURES) and all(r["texts"] for r in report.values())
    assert not problems, f"{len(problems)} label problems:\n" + "\n".join(problems[:40])
