"""Pod peers over many namespaces: a peer's classes are found through the namespaces it selects
(few of them: only their classes are visited; many: one pass over every class). Both ways must
give the reference's answers, host-network pods never being ``pods`` peers (network-policy-api
``apis/v1alpha1``: NamespacedPeer/pods select pods, and host-network pods are not pods a peer
stands for; NetworkPolicy does not govern traffic with a host-network pod at all)."""

from __future__ import annotations

import pytest

from netpol_dsl import load_manifests
from netpol_dsl.evaluate import Cluster, Namespace, Pod
from tests.evaluate import reference as ref

NS_LABEL = "kubernetes.io/metadata.name"
NAMESPACES = [f"ns{i}" for i in range(9)]


def ns_labels(name: str) -> dict[str, str]:
    i = int(name[2:])
    return {NS_LABEL: name, "team": f"t{i % 3}"}


def peers() -> list[dict[str, object]]:
    return [
        # one namespace of nine: the classes of that namespace only
        {"namespaceSelector": {"matchLabels": {NS_LABEL: "ns1"}}, "podSelector": {"matchLabels": {"app": "a"}}},
        # two of nine
        {"namespaceSelector": {"matchExpressions": [
            {"key": NS_LABEL, "operator": "In", "values": ["ns2", "ns4"]}]}},
        # three of nine: one pass over every class
        {"namespaceSelector": {"matchLabels": {"team": "t0"}}, "podSelector": {"matchLabels": {"app": "b"}}},
    ]


def build() -> tuple[Cluster, ref.RefCluster, list[ref.RefPod]]:
    pods: list[Pod] = []
    rpods: list[ref.RefPod] = []
    for ns in NAMESPACES:
        for name, app, hn in (("a", "a", False), ("b", "b", False), ("h", "a", True), ("g", "b", True)):
            pods.append(Pod(ns, name, {"app": app}, host_network=hn))
            rpods.append(ref.RefPod(ns, name, {"app": app}, host_network=hn))
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "from-peers", "namespace": "ns0"},
              "spec": {"podSelector": {}, "ingress": [{"from": peers()}]}}
    anp = {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
           "metadata": {"name": "deny-peers"},
           "spec": {"priority": 10, "subject": {"namespaces": {"matchLabels": {NS_LABEL: "ns5"}}},
                    "ingress": [{"name": "deny", "action": "Deny", "from": [
                        {"namespaces": {"matchLabels": {NS_LABEL: "ns1"}}},
                        # every pod of three namespaces (a selector that matches every
                        # label set, host-network pods' too: only the peer mask leaves
                        # them out)
                        {"namespaces": {"matchLabels": {"team": "t0"}}}]}]}}
    loaded = load_manifests([policy, anp])
    cluster = Cluster([Namespace(n, ns_labels(n)) for n in NAMESPACES], pods,
                      [*loaded.policies, *loaded.cluster_policies])
    slow = ref.RefCluster([ref.RefNamespace(n, ns_labels(n)) for n in NAMESPACES], rpods,
                          list(loaded.policies), cluster_policies=[anp])
    return cluster, slow, rpods


@pytest.fixture(scope="module")
def clusters() -> tuple[Cluster, ref.RefCluster, list[ref.RefPod]]:
    return build()


def test_pod_peers_over_many_namespaces_are_the_references(clusters):
    cluster, slow, rpods = clusters
    differ = []
    for s in rpods:
        for d in rpods:
            if s is d:
                continue
            want = ref.allowed(slow, s, d, "TCP", 80)
            if bool(cluster.allows(s.key, d.key, 80)) != want:
                differ.append((s.key, d.key, want))
    assert differ == []


def test_the_cases_both_ways_of_finding_peers_decide(clusters):
    cluster, _, _ = clusters
    # few namespaces: ns1's app=a pod is a peer, its host-network twin is not governed at all
    assert cluster.allows("ns1/a", "ns0/a", 80)
    assert not cluster.allows("ns1/b", "ns0/a", 80)
    assert cluster.allows("ns2/b", "ns0/a", 80) and cluster.allows("ns4/a", "ns0/a", 80)
    assert not cluster.allows("ns6/a", "ns0/a", 80)
    # many namespaces (team t0: ns0, ns3, ns6)
    assert cluster.allows("ns3/b", "ns0/a", 80) and not cluster.allows("ns3/a", "ns0/a", 80)
    # the admin Deny never takes in host-network pods, through either way
    assert not cluster.allows("ns1/a", "ns5/a", 80)
    assert cluster.allows("ns1/h", "ns5/a", 80)
    assert not cluster.allows("ns3/a", "ns5/a", 80) and not cluster.allows("ns3/b", "ns5/a", 80)
    assert cluster.allows("ns3/h", "ns5/a", 80) and cluster.allows("ns3/g", "ns5/a", 80)
