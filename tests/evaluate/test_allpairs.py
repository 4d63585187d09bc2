"""The all-pairs code (``_allpairs``) on inputs wider than one batch of its exact partition.

The hypothesis differential tests draw at most a few policies, so they never need more than one
word of rule bits; these cases have more rules than fit beside a class number in 62 bits.
"""

from __future__ import annotations

import numpy as np
import pytest

from netpol_dsl import load_policy
from netpol_dsl.evaluate import Cluster, ContainerPort, Namespace, Pod, _allpairs
from netpol_dsl.evaluate._allpairs import _refine, _renumber

N_NS = 40


@pytest.mark.parametrize("hashed", [True, False], ids=["summed-weights", "packed-bits"])
def test_refine_matches_a_naive_partition_over_many_columns(hashed, monkeypatch):
    if not hashed:  # the exact fallback taken when two weight sums collide
        monkeypatch.setattr(_allpairs, "_refine_hashed", lambda *a: None)
    rng = np.random.default_rng(7)
    n = 400
    label = _renumber(rng.integers(0, 9, n))
    columns = [np.flatnonzero(rng.random(n) < p) for p in rng.uniform(0.01, 0.6, 300)]
    got, held = _refine(label, columns, n)
    member = np.zeros((len(columns), n), dtype=bool)
    for j, idx in enumerate(columns):
        member[j, idx] = True
    keys = [(int(label[i]), member[:, i].tobytes()) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            assert (got[i] == got[j]) == (keys[i] == keys[j]), (i, j)
    # each column's numbers: exactly the parts its items fall in
    assert [h.tolist() for h in held] == [sorted(set(got[idx].tolist())) for idx in columns]


def _policies() -> list:
    out = []
    for i in range(N_NS):
        ingress = [
            {"from": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": f"ns-{(i + 1) % N_NS}"}}}],
             "ports": [{"port": 80}]},
            {"from": [{"namespaceSelector": {"matchLabels": {"team": f"t{i % 5}"}},
                       "podSelector": {"matchLabels": {"role": "b"}}}],
             "ports": [{"port": "http"}]},
        ]
        out.append(load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                "metadata": {"name": "in", "namespace": f"ns-{i}"},
                                "spec": {"podSelector": {"matchLabels": {"role": "a"}},
                                         "ingress": ingress}}))
        if i % 3 == 0:
            egress = [{"to": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": f"ns-{(i + 2) % N_NS}"}}}],
                "ports": [{"port": 80}, {"port": "http"}]}]
            out.append(load_policy({"apiVersion": "networking.k8s.io/v1",
                                    "kind": "NetworkPolicy",
                                    "metadata": {"name": "out", "namespace": f"ns-{i}"},
                                    "spec": {"podSelector": {"matchLabels": {"role": "b"}},
                                             "policyTypes": ["Egress"], "egress": egress}}))
    return out


def test_matrix_and_connectivity_agree_with_single_queries_over_many_rules():
    namespaces = [Namespace(f"ns-{i}", {"team": f"t{i % 5}"}) for i in range(N_NS)]
    pods = [Pod(f"ns-{i}", role, {"role": role},
                ports=(ContainerPort(8080 if role == "a" else 9090, name="http"),))
            for i in range(N_NS) for role in ("a", "b")]
    cluster = Cluster(namespaces=namespaces, pods=pods, policies=_policies())
    assert len(cluster._engine.rules) > 62  # wider than one batch of rule bits
    by_80 = cluster.matrix(port=80)
    by_name = cluster.matrix(port="http")
    conn = cluster.connectivity()
    allowed_80 = 0
    for src in pods:
        for dst in pods:
            s, d = src.key, dst.key
            one = bool(cluster.allows(s, d, 80))
            allowed_80 += one
            assert by_80.allowed(s, d) == (one or s == d), (s, d)
            assert by_name.allowed(s, d) == (bool(cluster.allows(s, d, "http")) or s == d), (s, d)
            if s != d:
                assert conn.between(s, d) == cluster.connections(s, d), (s, d)
    # the count comes from the factored table, the loop from single queries
    assert by_80.count() == allowed_80 + sum(
        not cluster.allows(p.key, p.key, 80) for p in pods)
    assert 0 < allowed_80 < len(pods) ** 2


def test_connectivity_without_a_lookup_table_gives_the_same_sets(monkeypatch):
    # beyond _LOOKUP_LIMIT mask combinations, connectivity() intersects only those that occur
    from netpol_dsl.evaluate import cluster as cluster_module

    namespaces = [Namespace(f"ns-{i}", {"team": f"t{i % 5}"}) for i in range(N_NS)]
    pods = [Pod(f"ns-{i}", role, {"role": role},
                ports=(ContainerPort(8080 if role == "a" else 9090, name="http"),))
            for i in range(N_NS) for role in ("a", "b")]
    with_table = Cluster(namespaces=namespaces, pods=pods, policies=_policies()).connectivity()
    monkeypatch.setattr(cluster_module, "_LOOKUP_LIMIT", 0)
    without = Cluster(namespaces=namespaces, pods=pods, policies=_policies()).connectivity()
    keys = [p.key for p in pods]
    assert any(not with_table.between(a, b).is_all for a in keys for b in keys if a != b)
    for a in keys:
        for b in keys:
            assert without.between(a, b) == with_table.between(a, b), (a, b)
    assert without.count() == with_table.count()
