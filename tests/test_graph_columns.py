"""graph's columnar path: ``Connectivity.workload_pair_arrays`` and ``EdgeColumns``.

``build_graph`` reads the workload pairs as arrays and keeps its edges as columns; the text
formats are written straight from them. Each is checked here against a per-pair reading that
does not use them: the ``PairConnections`` objects of ``Connectivity.workload_pairs()``, the
single queries of every pod pair, and the per-edge renderers (a graph whose edges are a tuple).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from netpol_dsl import graph as g
from netpol_dsl import load_policy
from netpol_dsl.evaluate import Cluster, Pod
from netpol_dsl.evaluate._connections import ConnectionSet
from tests.evaluate.test_differential_tiers import _model, tiered_clusters
from tests.evaluate.test_grid_workloads import _SPLIT, grouped
from tests.strategies import budget

SLOW = settings(max_examples=budget(100, ci=50), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _only_port(name, x, port):
    return load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": {"name": name, "namespace": "a"},
                        "spec": {"podSelector": {"matchLabels": {"x": x}},
                                 "ingress": [{"ports": [{"port": port}]}]}})


# Two replicas open on different ports: cli -> api is TCP 80 for one, TCP 443 for the other,
# so the workload pair's union (TCP 80,443) and common part (nothing) are neither pod pair's.
_PORTS = ([], [Pod("a", "api-1", {"x": "1"}, owner_kind="Deployment", owner_name="api"),
               Pod("a", "api-2", {"x": "2"}, owner_kind="Deployment", owner_name="api"),
               Pod("b", "cli")],
          [_only_port("one", "1", 80), _only_port("two", "2", 443)])


def _node_ids(cluster):
    return {w.id: g.Node(w.namespace, w.name, w.kind, pod=w.pod) for w in cluster.workloads()}


# ------------------------------------------------------------------------------ the arrays


@SLOW
@given(grouped(), st.booleans())
@example(_SPLIT, False)
@example(_SPLIT, True)
@example(_PORTS, False)
def test_workload_pair_arrays_are_the_workload_pairs(case, empty):
    namespaces, pods, pols = case
    conn = Cluster(namespaces=namespaces, pods=pods, policies=pols).connectivity()
    arr = conn.workload_pair_arrays(empty=empty)
    want = list(conn.workload_pairs(empty=empty))
    assert len(arr) == len(want)
    ws = conn.workloads
    got = [(ws[s].id, ws[d].id, arr.sets[u], bool(same), arr.sets[c])
           for s, d, u, same, c in zip(arr.src.tolist(), arr.dst.tolist(),
                                       arr.connections.tolist(), arr.uniform.tolist(),
                                       arr.common.tolist(), strict=True)]
    assert got == [(p.src, p.dst, p.connections, p.uniform,
                    p.common if p.common is not None else p.connections) for p in want]


@SLOW
@given(grouped())
@example(_SPLIT)
@example(_PORTS)
def test_workload_pair_arrays_are_union_and_common_of_the_pod_pairs(case):
    namespaces, pods, pols = case
    cluster = Cluster(namespaces=namespaces, pods=pods, policies=pols)
    arr = cluster.connectivity().workload_pair_arrays(empty=True)
    ws = cluster.workloads()
    expected = []
    for a, wa in enumerate(ws):
        for b, wb in enumerate(ws):
            if a != b:
                seen = [cluster.connections(x, y) for x in wa.pods for y in wb.pods]
                expected.append((a, b, ConnectionSet.none().union(*seen),
                                 ConnectionSet.all().intersection(*seen), len(set(seen)) == 1))
    got = [(s, d, arr.sets[u], arr.sets[c], same)
           for s, d, u, c, same in zip(arr.src.tolist(), arr.dst.tolist(),
                                       arr.connections.tolist(), arr.common.tolist(),
                                       arr.uniform.tolist(), strict=True)]
    assert got == expected
    # without empty: the same pairs, less those with nothing allowed
    some = cluster.connectivity().workload_pair_arrays()
    assert list(zip(some.src.tolist(), some.dst.tolist(), strict=True)) == [
        (a, b) for a, b, union, _, _ in expected if not union.is_empty]


def test_workload_pair_arrays_of_an_empty_cluster():
    arr = Cluster().connectivity().workload_pair_arrays(empty=True)
    assert len(arr) == 0 and arr.src.dtype == np.int64 and arr.uniform.size == 0


# ------------------------------------------------------------------------------ the edges


def _reference_edges(cluster, port, denied):
    """The picture's edges, pair by pair: the connectivity's pair objects for every
    connection; the single queries of every pod pair on one port."""
    nodes = _node_ids(cluster)
    iso = {w: cluster.isolated(n.query) for w, n in nodes.items()}
    edges = []
    if port is None:
        for p in cluster.connectivity().workload_pairs(empty=denied):
            a, b = nodes[p.src].id, nodes[p.dst].id
            if not p.connections.is_empty:
                text = "all ports" if p.connections.is_all else str(p.connections)
                edges.append(g.Edge(a, b, text if p.uniform else text + " (some pods)"))
            elif iso[p.dst][0] or iso[p.src][1]:
                edges.append(g.Edge(a, b, "denied", allowed=False))
        return edges
    ws = cluster.workloads()
    for wa in ws:
        for wb in ws:
            if wa is wb:
                continue
            seen = {bool(cluster.allows(x, y, port)) for x in wa.pods for y in wb.pods}
            text = f"TCP {port}" if len(seen) == 1 else f"TCP {port} (some pods)"
            if True in seen:
                edges.append(g.Edge(nodes[wa.id].id, nodes[wb.id].id, text))
            elif denied and (iso[wb.id][0] or iso[wa.id][1]):
                edges.append(g.Edge(nodes[wa.id].id, nodes[wb.id].id, text, allowed=False))
    return edges


def _per_edge(graph):
    """The same graph with its edges as a plain tuple: the renderers' per-edge path."""
    return dataclasses.replace(graph, edges=tuple(graph.edges))


@SLOW
@given(grouped(), st.sampled_from([None, 80]), st.booleans())
@example(_SPLIT, None, True)
@example(_SPLIT, 80, True)
@example(_PORTS, None, False)
@example(_PORTS, 443, True)
def test_build_graph_edges_are_the_pairs_in_order(case, port, denied):
    namespaces, pods, pols = case
    cluster = Cluster(namespaces=namespaces, pods=pods, policies=pols)
    graph = g.build_graph(cluster, port=port, denied=denied)
    assert isinstance(graph.edges, g.EdgeColumns)
    want = _reference_edges(cluster, port, denied)
    assert list(graph.edges) == want
    assert graph.edges == want and len(graph.edges) == len(want)
    plain = _per_edge(graph)
    assert g.to_mermaid(graph) == g.to_mermaid(plain)
    assert g.to_dot(graph) == g.to_dot(plain)
    assert graph.to_dict() == plain.to_dict()


@settings(max_examples=budget(40, ci=20), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(tiered_clusters(), st.sampled_from([None, 80]), st.booleans())
def test_columns_with_tiers_render_like_the_edges(data, port, denied):
    from tests.evaluate.test_differential_tiers import NODE_OBJECTS

    namespaces, pods, nps, cw = data
    cluster = Cluster(namespaces, pods, [*nps, *(_model(d) for d in cw)], nodes=NODE_OBJECTS)
    graph = g.build_graph(cluster, port=port, denied=denied, tiers=True)
    ws = cluster.workloads()
    by_id = {n.id: w for n, w in zip(graph.nodes, ws, strict=True)}
    for e in graph.edges:  # each edge's tiers are the evaluator's for its pair
        t = cluster.deciding_tiers(by_id[e.src], by_id[e.dst], port)
        assert e.tiers == (t.allowed if e.allowed else t.denied)
    plain = _per_edge(graph)
    assert g.to_mermaid(graph) == g.to_mermaid(plain)
    assert g.to_dot(graph) == g.to_dot(plain)
    assert json.dumps(graph.to_dict()) == json.dumps(plain.to_dict())


def test_probes_follow_the_columns():
    from netpol_dsl.intent import parse_intents
    from tests.test_graph import LESSON

    cluster = Cluster.from_manifests([LESSON])
    probes = parse_intents("- {from: monitoring/rogue-pod, to: payments/api-server, port: 9090,"
                           " expect: deny}")
    graph = g.build_graph(cluster, port=9090, denied=True, probes=probes)
    assert isinstance(graph.edges, g.EdgeColumns) and len(graph.edges.tail) == 1
    assert graph.edges[-1].probe and not any(e.probe for e in graph.edges[:-1])
    mmd = g.to_mermaid(graph)
    assert mmd == g.to_mermaid(_per_edge(graph))
    # the probe is the last edge, numbered after the columns in its linkStyle
    assert f"linkStyle {len(graph.edges) - 1} " in mmd


# ------------------------------------------------------------------------------ EdgeColumns


def _columns():
    return g.EdgeColumns(("a/x", "a/y", "b/z"), src=[0, 1, 2], dst=[1, 2, 0], label=[0, 1, 0],
                         labels=("TCP 80", "all ports"), allowed=[True, True, False],
                         tier=[1, 0, 2], tier_sets=((), ("admin",), ("baseline", "admin")),
                         tail=(g.Edge("a/x", "10.0.0.1", "DENY TCP 443", allowed=False,
                                      probe=True),))


def test_edge_columns_are_a_sequence_of_edges():
    cols = _columns()
    want = (g.Edge("a/x", "a/y", "TCP 80", tiers=("admin",)),
            g.Edge("a/y", "b/z", "all ports"),
            g.Edge("b/z", "a/x", "TCP 80", allowed=False, tiers=("baseline", "admin")),
            g.Edge("a/x", "10.0.0.1", "DENY TCP 443", allowed=False, probe=True))
    assert len(cols) == 4 and tuple(cols) == want
    assert [cols[i] for i in range(4)] == list(want)
    assert cols[-1] == want[-1] and cols[-4] == want[0]
    assert cols[1:3] == want[1:3] and cols[::-1] == want[::-1]
    assert cols == want and cols == list(want) and cols != want[:3]
    assert hash(cols) == hash(want)
    assert cols.index(want[2]) == 2 and want[3] in cols
    assert (cols == "abc") is False
    assert repr(cols) == "<EdgeColumns 3 edges + 1>"


@pytest.mark.parametrize("k", [4, -5, 100])
def test_edge_columns_index_out_of_range(k):
    with pytest.raises(IndexError, match="EdgeColumns index out of range"):
        _columns()[k]


def test_edge_columns_are_read_only():
    cols = _columns()
    with pytest.raises(ValueError, match="read-only"):
        cols.src[0] = 2


def test_edge_columns_of_different_lengths():
    with pytest.raises(ValueError, match=r"got columns of lengths \[1, 2\]; expected one length"):
        g.EdgeColumns(("a/x", "a/y"), src=[0, 1], dst=[1], label=[0, 0], labels=("x",),
                      allowed=[True, True])


def test_columns_render_like_their_edges():
    nodes = (g.Node("a", "x"), g.Node("a", "y"), g.Node("b", "z"),
             g.Node(g.EXTERNAL, "10.0.0.1", "External"))
    graph = g.Graph(nodes, _columns(), show_tiers=True)
    plain = _per_edge(graph)
    assert g.to_mermaid(graph) == g.to_mermaid(plain)
    assert g.to_dot(graph) == g.to_dot(plain)
    assert graph.to_dict() == plain.to_dict()
    assert g.to_svg(graph, engine="builtin") == g.to_svg(plain, engine="builtin")
    assert graph == plain


# ------------------------------------------------------------------------------ JSON

_TEXT = st.text(max_size=6)  # quotes, backslashes, control and non-ASCII characters included


@st.composite
def graphs(draw):
    """Graphs with edges as a tuple or as columns (and a tail), over arbitrary texts."""
    nodes = tuple(draw(st.lists(st.builds(g.Node, _TEXT, _TEXT, _TEXT,
                                          st.dictionaries(_TEXT, _TEXT, max_size=2)),
                                min_size=1, max_size=4)))
    ids = [n.id for n in nodes]
    tier_sets = [(), *draw(st.lists(st.lists(_TEXT, min_size=1, max_size=2).map(tuple),
                                    max_size=2))]
    labels = draw(st.lists(_TEXT, min_size=1, max_size=3))
    n = draw(st.integers(0, 6))
    ints = st.lists(st.integers(0, len(ids) - 1), min_size=n, max_size=n)
    tail = tuple(draw(st.lists(st.builds(g.Edge, st.sampled_from(ids), _TEXT, _TEXT,
                                         st.booleans(), st.booleans(),
                                         st.sampled_from(tier_sets)), max_size=2)))
    cols = g.EdgeColumns(
        ids, src=draw(ints), dst=draw(ints),
        label=draw(st.lists(st.integers(0, len(labels) - 1), min_size=n, max_size=n)),
        labels=labels, allowed=draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        tier=draw(st.lists(st.integers(0, len(tier_sets) - 1), min_size=n, max_size=n)),
        tier_sets=tier_sets, tail=tail)
    edges = cols if draw(st.booleans()) else tuple(cols)
    return g.Graph(nodes, edges, draw(_TEXT), show_tiers=draw(st.booleans()))


@settings(max_examples=budget(300, ci=150), deadline=None)
@given(graphs())
def test_to_json_is_json_dumps_of_to_dict(graph):
    assert graph.to_json() == json.dumps(graph.to_dict(), indent=2)


def test_to_json_of_an_empty_graph():
    assert json.loads(g.Graph().to_json()) == g.Graph().to_dict()
    assert g.Graph().to_json() == json.dumps(g.Graph().to_dict(), indent=2)
