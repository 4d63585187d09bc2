"""The network-policy-api conformance suites run through the evaluator, every asserted probe.

Each step of each test (``runner.states``) becomes ``Cluster.from_manifests(...)`` over the
objects the cluster holds then (Namespaces, Nodes with labels and InternalIPs, Pods with their
IPs, host-network pods with ``spec.hostNetwork``, ``spec.nodeName`` and ``status.hostIP``, and the
policies after the step's cumulative patches), and every probe asks
``cluster.allows(client, server, port, protocol=...)``: 289 cells at v0.1.8 (v1alpha1), 301 at
0eec1b0 (v1alpha2).
"""

from __future__ import annotations

import pytest

from netpol_dsl import Cluster
from tests.clusterwide.conformance.runner import State, states

VERSIONS = ("v1alpha1", "v1alpha2")
ALL = [s for v in VERSIONS for s in states(v)]


@pytest.mark.parametrize("state", ALL, ids=[s.id for s in ALL])
def test_every_cell(state: State):
    cluster = Cluster.from_manifests(list(state.objects))
    wrong = []
    for p in state.probes:
        verdict = cluster.allows(p.src, p.dst, p.port, protocol=p.protocol)
        if bool(verdict) != p.expected:
            wrong.append(f"{p.label}: got {verdict}")
    assert wrong == [], f"{state.test} / {state.subtest}"


def test_nodes_reach_the_evaluator():
    # the nodes-peer cells depend on it
    (state,) = [s for s in ALL if s.id == "v1alpha1:AdminNetworkPolicyEgressNodePeers:0"]
    assert len(Cluster.from_manifests(list(state.objects)).nodes) == 2
