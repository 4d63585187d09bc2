"""The workload-level grid (``netpol matrix``) against its pods' single queries.

A workload's pods can behave differently (different IPs inside and outside an ipBlock,
different labels): its cell must be the union of its pod pairs' connections, marked mixed
exactly when they differ. Drawn from the differential tests' clusters, with pods grouped
into Deployments.
"""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from netpol_dsl import load_policy
from netpol_dsl._grid import reachability
from netpol_dsl.evaluate import Cluster, Pod
from netpol_dsl.evaluate._connections import ConnectionSet
from tests.evaluate.test_differential import clusters
from tests.strategies import budget


@st.composite
def grouped(draw):
    namespaces, pods, pols = draw(clusters())
    owners = draw(st.lists(st.sampled_from(["api", "api", "web", None]), min_size=len(pods),
                           max_size=len(pods)))
    pods = [dataclasses.replace(p, owner_kind="Deployment", owner_name=o) if o else p
            for p, o in zip(pods, owners, strict=True)]
    return namespaces, pods, pols


# Two replicas that one policy tells apart: cli -> api is mixed (one allowed, one isolated).
_SPLIT = ([], [Pod("a", "api-1", {"x": "1"}, owner_kind="Deployment", owner_name="api"),
               Pod("a", "api-2", {"x": "2"}, owner_kind="Deployment", owner_name="api"),
               Pod("b", "cli")],
          [load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": {"name": "deny", "namespace": "a"},
                        "spec": {"podSelector": {"matchLabels": {"x": "1"}}}})])


@settings(max_examples=budget(150, ci=60), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(grouped(), st.sampled_from([None, 80]))
@example(_SPLIT, None)
@example(_SPLIT, 80)
def test_workload_cells_are_the_union_of_their_pod_pairs(case, port):
    namespaces, pods, pols = case
    cluster = Cluster(namespaces=namespaces, pods=pods, policies=pols)
    grid = reachability(cluster, port=port, level="workload")
    by_id = {w.id: w for w in cluster.workloads()}
    for i, a in enumerate(grid.ids):
        for j, b in enumerate(grid.ids):
            pairs = [(x, y) for x in by_id[a].pods for y in by_id[b].pods if x != y]
            if not pairs:
                assert grid.conns(i, j) is None
                continue
            if port is None:
                seen = [cluster.connections(x, y) for x, y in pairs]
            else:
                seen = [ConnectionSet.all() if cluster.allows(x, y, port) else
                        ConnectionSet.none() for x, y in pairs]
            want = ConnectionSet.none().union(*seen)
            got = grid.conns(i, j)
            assert got is not None
            assert (got.is_empty, got.is_all) == (want.is_empty, want.is_all) if port else \
                got == want, (a, b, got, want)
            assert ((i, j) in grid.mixed) == (len(set(seen)) > 1), (a, b, seen)


@settings(max_examples=budget(150, ci=60), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(grouped())
@example(_SPLIT)
def test_connectivity_workload_pairs_are_union_and_common_of_their_pod_pairs(case):
    namespaces, pods, pols = case
    cluster = Cluster(namespaces=namespaces, pods=pods, policies=pols)
    by_id = {w.id: w for w in cluster.workloads()}
    got = {(p.src, p.dst): p for p in cluster.connectivity().workload_pairs(empty=True)}
    nonempty = {(p.src, p.dst) for p in cluster.connectivity().workload_pairs()}
    for a, wa in by_id.items():
        for b, wb in by_id.items():
            if a == b:
                assert (a, b) not in got
                continue
            seen = [cluster.connections(x, y) for x in wa.pods for y in wb.pods]
            union = ConnectionSet.none().union(*seen)
            common = ConnectionSet.all().intersection(*seen)
            pair = got[(a, b)]
            assert pair.connections == union, (a, b)
            assert pair.common == (None if len(set(seen)) == 1 else common), (a, b)
            assert ((a, b) in nonempty) == (not union.is_empty), (a, b)
