"""graph: which tier decided each edge (issue 10 item 7), on a cluster that mixes every tier.

The fixture (tests/fixtures/graph/tiers.yaml) has no egress rules except the admin Deny of
guest -> shop, so every egress side but the visitor's is "default". Expected edges, derived by
hand from the tier order (admin by priority, first match; Pass hands over to NetworkPolicy, or to
the baseline when none selects the pod; then the default):

- ops/mon -> every pod: admin ``allow-monitoring`` (priority 10) allows ingress: admin.
- shop/web -> shop/api: TCP 9090 by admin ``api-metrics`` (priority 1); the rest is passed by
  ``pass-shop`` to the NetworkPolicy ``api-from-web``, which allows TCP 8080 and isolates the
  rest: "TCP 8080,9090", admin + networkpolicy.
- shop/db -> shop/api: TCP 9090 by admin; ``api-from-web`` does not admit db: "TCP 9090", admin.
- shop/* -> shop/web, shop/db: passed, no NetworkPolicy selects web or db: the baseline denies.
- anything -> ops/mon (but mon itself): no admin rule matches, no NetworkPolicy, the baseline
  leaves ops out: default.
- guest/visitor -> shop/*: admin ``deny-guest`` denies egress; on ingress the baseline denies
  web and db, ``api-from-web``'s isolation denies api.
- shop/* -> guest/visitor: nothing before the baseline, which denies.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netpol_dsl import graph as g
from netpol_dsl.errors import EvaluationError
from netpol_dsl.evaluate import Cluster, Pod

FIXTURE = Path(__file__).parent / "fixtures" / "graph" / "tiers.yaml"

ALLOWED = {
    ("ops/mon", "shop/web"): ("all ports", ("admin",)),
    ("ops/mon", "shop/api"): ("all ports", ("admin",)),
    ("ops/mon", "shop/db"): ("all ports", ("admin",)),
    ("ops/mon", "guest/visitor"): ("all ports", ("admin",)),
    ("shop/web", "shop/api"): ("TCP 8080,9090", ("admin", "networkpolicy")),
    ("shop/db", "shop/api"): ("TCP 9090", ("admin",)),
    ("shop/web", "ops/mon"): ("all ports", ("default",)),
    ("shop/api", "ops/mon"): ("all ports", ("default",)),
    ("shop/db", "ops/mon"): ("all ports", ("default",)),
    ("guest/visitor", "ops/mon"): ("all ports", ("default",)),
}
DENIED = {
    ("shop/api", "shop/web"): ("baseline",),
    ("shop/db", "shop/web"): ("baseline",),
    ("shop/web", "shop/db"): ("baseline",),
    ("shop/api", "shop/db"): ("baseline",),
    ("guest/visitor", "shop/web"): ("admin", "baseline"),
    ("guest/visitor", "shop/db"): ("admin", "baseline"),
    ("guest/visitor", "shop/api"): ("admin", "networkpolicy"),
    ("shop/web", "guest/visitor"): ("baseline",),
    ("shop/api", "guest/visitor"): ("baseline",),
    ("shop/db", "guest/visitor"): ("baseline",),
}


@pytest.fixture(scope="module")
def cluster():
    return Cluster.from_manifests([FIXTURE])


def edges(graph):
    return {(e.src, e.dst): e for e in graph.edges}


def test_every_edge_names_the_tier_that_decided_it(cluster):
    graph = g.build_graph(cluster)
    assert graph.show_tiers  # cluster-wide policies: tiers are shown without asking
    assert {k: (e.label, e.tiers) for k, e in edges(graph).items()} == ALLOWED
    assert all(e.allowed for e in graph.edges)


def test_denied_edges_name_the_tiers_that_denied(cluster):
    graph = g.build_graph(cluster, denied=True)
    found = edges(graph)
    assert {k: e.tiers for k, e in found.items() if not e.allowed} == DENIED
    assert {k: (e.label, e.tiers) for k, e in found.items() if e.allowed} == ALLOWED
    # an admin or baseline Deny counts though no NetworkPolicy isolates the destination
    assert cluster.isolated("shop/web") == (False, False)
    assert found[("shop/api", "shop/web")].label == "denied"


def test_one_port(cluster):
    graph = g.build_graph(cluster, port=8080, denied=True)
    found = {k: (e.allowed, e.tiers) for k, e in edges(graph).items()}
    assert found[("shop/web", "shop/api")] == (True, ("networkpolicy",))
    assert found[("shop/db", "shop/api")] == (False, ("networkpolicy",))  # isolation
    assert found[("ops/mon", "shop/api")] == (True, ("admin",))
    graph = g.build_graph(cluster, port=9090)
    assert edges(graph)[("shop/web", "shop/api")].tiers == ("admin",)


def test_tier_of_an_edge_and_its_colour():
    mixed = g.Edge("a/x", "a/y", "TCP 80", tiers=("admin", "networkpolicy"))
    assert (mixed.tier, mixed.colour, mixed.text) == (
        "mixed", g.TIER_COLOURS["mixed"], "TCP 80 [admin+networkpolicy]")
    assert g.Edge("a/x", "a/y", "TCP 80", tiers=("default",)).colour == g.TIER_COLOURS["default"]
    assert g.Edge("a/x", "a/y", "x", allowed=False, tiers=("admin",)).colour == "#c62828"
    assert g.Edge("a/x", "a/y", "TCP 80").tier is None


def test_mermaid_shows_tiers_and_a_legend(cluster):
    text = g.to_mermaid(g.build_graph(cluster))
    assert '-->|"TCP 8080,9090 [admin+networkpolicy]"|' in text
    assert '-->|"all ports [default]"|' in text
    assert 'subgraph legend["edge colour: the tier that decided"]' in text
    for tier, colour in g.TIER_COLOURS.items():
        assert f'["{g.TIER_LEGEND[tier]}"]' in text
        assert f"stroke:{colour},color:{colour}" in text


def test_dot_shows_tiers_and_a_legend(cluster):
    text = g.to_dot(g.build_graph(cluster, denied=True))
    assert ('"shop/db" -> "shop/api" [label="TCP 9090 [admin]", color="#6a1b9a", '
            'fontcolor="#6a1b9a"];') in text
    assert ('"shop/api" -> "shop/web" [label="denied [baseline]", color="#c62828", '
            'fontcolor="#c62828", style=dashed];') in text
    assert "subgraph cluster_legend {" in text
    assert f'"legend:admin" [label="{g.TIER_LEGEND["admin"]}"' in text


def test_svg_and_html_show_tiers(cluster):
    graph = g.build_graph(cluster)
    svg = g.to_svg(graph, engine="builtin")
    assert "TCP 8080,9090 [admin+networkpolicy]" in svg
    assert 'marker-end="url(#arrow-admin)"' in svg and '<marker id="arrow-admin"' in svg
    assert f'stroke="{g.TIER_COLOURS["mixed"]}"' in svg
    assert "decided by:" in svg and g.TIER_LEGEND["baseline"] in svg
    assert "decided by:" in g.to_html(graph, engine="builtin")


def test_json_has_the_tiers(cluster):
    data = json.loads(json.dumps(g.build_graph(cluster).to_dict()))
    assert data["show_tiers"] is True
    assert {"from": "shop/web", "to": "shop/api", "label": "TCP 8080,9090", "allowed": True,
            "probe": False, "tiers": ["admin", "networkpolicy"]} in data["edges"]


def test_networkpolicies_only_show_no_tiers_unless_asked():
    from netpol_dsl import load_policy

    np = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": {"name": "y", "namespace": "a"},
                      "spec": {"podSelector": {"matchLabels": {"app": "y"}},
                               "ingress": [{"from": [{"podSelector": {}}]}]}})
    c = Cluster(pods=[Pod("a", "x", {"app": "x"}), Pod("a", "y", {"app": "y"})], policies=[np])
    plain = g.build_graph(c)
    assert not plain.show_tiers and all(e.tiers == () for e in plain.edges)
    text = g.to_mermaid(plain)
    assert '|"all ports"|' in text and "legend" not in text and "linkStyle" not in text
    # asked: y's ingress is decided by its NetworkPolicy; nothing restricts x at all
    asked = edges(g.build_graph(c, tiers=True))
    assert asked[("a/x", "a/y")].tiers == ("networkpolicy",)
    assert asked[("a/y", "a/x")].tiers == ("default",)


def test_tiers_can_be_turned_off(cluster):
    graph = g.build_graph(cluster, tiers=False)
    assert not graph.show_tiers and all(e.tiers == () for e in graph.edges)


def test_deciding_tiers_agrees_with_the_explanation(cluster):
    # Two reads of the compiled rules: the fold's parts (deciding_tiers) and the rule-by-rule
    # trace behind allows().explain() (decided_by / isolation), side by side for every pair.
    pods = [p.key for p in cluster.pods]
    for port in (80, 8080, 9090):
        for s in pods:
            for d in pods:
                if s == d:
                    continue
                v = cluster.allows(s, d, port)
                sides = []
                for side in (v.egress, v.ingress):
                    if side.decided_by is not None:
                        sides.append(side.decided_by.tier)
                    elif side.isolated:
                        sides.append("networkpolicy")
                    else:
                        sides.append("default")
                t = cluster.deciding_tiers(s, d, port)
                if v.all():
                    want = {x for x in sides if x != "default"} or {"default"}
                    assert (set(t.allowed), t.denied) == (want, ()), (s, d, port)
                else:
                    denying = {tier for side, tier in zip((v.egress, v.ingress), sides, strict=True)
                               if not side.allowed}
                    assert (t.allowed, set(t.denied)) == ((), denying), (s, d, port)


def test_deciding_tiers_named_ports_and_bad_ports():
    c = Cluster(pods=[Pod("a", "x"), Pod("a", "y")])
    assert c.deciding_tiers("a/x", "a/y", "http").allowed == ()  # y declares no such port
    assert c.deciding_tiers("a/x", "a/y", "53/UDP").allowed == ("default",)
    assert c.deciding_tiers("a/x", "a/x").allowed == ()  # a pod with itself: no tier decides
    with pytest.raises(EvaluationError, match="deciding_tiers"):
        c.deciding_tiers("a/x", "a/y", 0)
