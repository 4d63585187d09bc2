"""The np-guard/netpol-analyzer peer corpus, one test per case.

For every case folder, ``Cluster.from_manifests(tests/<case>/)`` is built and its workload-level
connectivity must equal the expected ``netpol-analyzer list`` output, after the normalisations
named in ``tests/evaluate/npguard.py`` (N1..N7; the README of the corpus lists the differences in
convention they undo):

- N1 external-union: external addresses compared per workload and direction as the union of
  addresses per connection (neighbouring ranges with equal connections merged).
- N2 no-pod-ip-match: ``ipblock_matches_pod_ips=False``, because the peer never matches ipBlocks
  against pod IPs (so pods without ``status.podIP`` do not matter either).
- N3 workloads: pods map to ``ns/<owner>[<Kind>]`` (``Pod.workload``); replicas are merged; a
  mirror pod owned by a Node stays a Pod.
- N4 listed-pairs-only: self pairs, IP-to-IP pairs and empty connections are not compared.
- N5 missing-namespaces: created with the default label; objects without namespace in ``default``.
- N6 undeclared-named-port: a named port no destination declares allows nothing.
- N7 (no repair any more): ``status: {}`` on a NetworkPolicy and policy names with ``_`` load
  as they are; evaluation reads them leniently, with warnings, as the loader documents.
- N8 host-network: the peer applies policies to ``hostNetwork`` pods like any pod; upstream
  leaves that undefined and the library keeps such pods outside NetworkPolicy's reach, so
  ``hostNetwork`` is removed first. ``test_library_host_network_is_the_only_difference``
  checks, on the original objects, that every remaining difference involves such a pod.
- N9 kindless-owner: an ownerReference without ``kind`` (invalid) is given ``kind: Pod``, the
  way the peer shows it.

Cases that need no repair are loaded from their folder as they are
(``Cluster.from_manifests(tests/<case>/)``); the others from the repaired objects. ``REPAIRS``
names, per case, which of N8..N9 applied, and the test checks that list.

Two cases (``onlineboutique_with_replicas*``) have no ``list`` output; they are compared with
their boolean ``connections_map*.txt`` instead (pod pairs, ``true`` = all connections allowed).

The same comparison also runs the naive reference evaluator (``reference.py``, fed by an
independent manifest reader in ``npguard.py``) on every case, which checks the normalisations
themselves.
"""

from __future__ import annotations

import pytest

from tests.evaluate import npguard as ng
from tests.evaluate import reference as ref

CASES = ng.cases()
if not ng.AVAILABLE:
    pytest.skip(f"the np-guard corpus is not at {ng.CORPUS}", allow_module_level=True)

#: Cases where the peer's answer differs from upstream semantics: case -> reason (FINDINGS.md).
PEER_DIFFERS: dict[str, str] = {}

#: The naive reference needs minutes on this one (a hundred ipBlocks x dozens of pods, every
#: port range re-derived per query); it was run by hand while writing this file (217 s) and
#: agreed with the peer.
REFERENCE_TOO_SLOW = {"ipblockstest_4"}
#: Cases whose library check takes seconds (scheduling only: started first, tests/conftest.py).
HEAVY = {"ipblockstest_4": 3}


def _heavy(name: str) -> list[pytest.MarkDecorator]:
    return [pytest.mark.heavy(HEAVY[name])] if name in HEAVY else []


def test_corpus_is_complete() -> None:
    assert len(CASES) == 98
    assert sum(1 for c in CASES if c.outputs) == 96


#: Which input repairs (N8, N9, see npguard.repaired) each case needs; every other case is
#: loaded from its folder untouched.
REPAIRS: dict[str, set[str]] = {
    "example_pods_w_same_owner_and_labels_gap_no_policy": {"N9"},
    "example_pods_w_same_owner_and_labels_gap_with_good_match_expression": {"N9"},
    "example_pods_w_same_owner_and_labels_gap_with_good_match_expression2": {"N9"},
    "example_pods_w_same_owner_and_labels_gap_with_policy_selector_not_in_gap": {"N9"},
    **{
        name: {"N8"}
        for name in (
            "ipblockstest", "ipblockstest_2", "ipblockstest_3", "ipblockstest_4",
            "minikube_resources",
            "multiple_topology_resources_1", "multiple_topology_resources_2",
            "multiple_topology_resources_3", "multiple_topology_resources_4",
            "semanticDiff-same-topologies-new1", "semanticDiff-same-topologies-new1a",
            "semanticDiff-same-topologies-new2", "semanticDiff-same-topologies-new3",
            "semanticDiff-same-topologies-old1", "semanticDiff-same-topologies-old2",
            "semanticDiff-same-topologies-old3",
        )
    },
}


def _inputs(case: ng.Case, *, keep_host_network: bool = False):
    objs, applied = ng.repaired(ng.raw_objects(case.path))
    assert applied == REPAIRS.get(case.name, set()), f"{case.name}: repairs {sorted(applied)}"
    if keep_host_network:
        objs, _ = ng.repaired(ng.raw_objects(case.path), host_network=True)
    return objs, applied


def _library_cluster(case: ng.Case, *, keep_host_network: bool = False):
    from netpol_dsl.evaluate import Cluster

    objs, applied = _inputs(case, keep_host_network=keep_host_network)
    source = objs if applied else case.path
    return Cluster.from_manifests(source, ipblock_matches_pod_ips=False)  # N2


def _library_conns(cluster):
    def conns(a, b) -> ng.Conn:
        c = cluster.connections(a, b)
        if c.is_all:
            return ng.ALL
        return ng.canon(c.ranges)

    return conns


def _params():
    for case in CASES:
        marks = []
        if case.name in PEER_DIFFERS:
            marks.append(pytest.mark.xfail(strict=True, reason=PEER_DIFFERS[case.name]))
        marks += _heavy(case.name)
        yield pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_library_matches_peer(case: ng.Case) -> None:
    cluster = _library_cluster(case)
    pods = list(cluster.pods)
    if not case.outputs:
        _check_connections_map(case, pods, _library_conns(cluster))
        return
    got, notes = ng.computed_view(pods, cluster.policies, _library_conns(cluster))
    problems = ng.diff(ng.expected_view(case), got)
    assert not problems, f"{case.name}: {len(problems)} differences\n" + "\n".join(problems[:40]) + (
        "\nreplica notes:\n" + "\n".join(notes[:10]) if notes else ""
    )


def test_bool_map_means_all_connections() -> None:
    case = next(c for c in CASES if c.name == "onlineboutique")
    detailed = ng.connections_map(case, "connections_map_output.txt")
    boolean = ng.connections_map(case, "connections_map_output_bool.txt")
    assert set(detailed) == set(boolean)
    assert len(boolean) == 144
    assert {k for k, v in boolean.items() if v == "true"} == {
        k for k, v in detailed.items() if v == "All Connections"
    }
    assert any(v not in ("All Connections", "No Connections") for v in detailed.values())


def _check_connections_map(case: ng.Case, pods, conns) -> None:
    """Pod pairs of a boolean map: ``true`` iff all connections are allowed (self pairs too)."""
    expected = {k: v == "true" for k, v in ng.connections_map(case).items()}
    assert expected, f"{case.name}: no connections map"
    by_name = {f"{p.namespace}/{p.name}": p for p in pods}
    missing = sorted({n for pair in expected for n in pair} - set(by_name))
    assert not missing, f"pods of the map not in the cluster: {missing}"
    wrong = [
        f"{s} -> {d}: expected {'all connections' if want else 'not all connections'}, "
        f"got {ng.show(conns(by_name[s], by_name[d]))}"
        for (s, d), want in sorted(expected.items())
        if (conns(by_name[s], by_name[d]) == ng.ALL) != want
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.name) for c in CASES if c.name not in REFERENCE_TOO_SLOW]
)
def test_reference_matches_peer(case: ng.Case) -> None:
    cluster = ng.reference_cluster(_inputs(case)[0])

    def conns(a, b) -> ng.Conn:
        return ng.canon(ref.connections(cluster, a, b))

    if not case.outputs:
        _check_connections_map(case, list(cluster.pods), conns)
        return
    got, _ = ng.computed_view(list(cluster.pods), cluster.policies, conns)
    problems = ng.diff(ng.expected_view(case), got)
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.name, marks=_heavy(c.name))
             for c in CASES if "N8" in REPAIRS.get(c.name, ())]
)
def test_library_host_network_is_the_only_difference(case: ng.Case) -> None:
    """Without N8, every difference from the peer has a hostNetwork workload at one end."""
    cluster = _library_cluster(case, keep_host_network=True)
    pods = list(cluster.pods)
    host = {ng.workload_of(p) for p in pods if p.host_network}
    assert host, "N8 applied but no hostNetwork pod"
    got, _ = ng.computed_view(pods, cluster.policies, _library_conns(cluster))
    expected = ng.expected_view(case)
    problems = ng.diff(expected, got)
    other = [line for line in problems if not any(w in line for w in host)]
    assert not other, "\n".join(other[:40])
