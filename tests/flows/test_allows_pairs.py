"""``Cluster.allows_pairs``: the bulk answers equal ``allows()`` one by one (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from netpol_dsl.errors import EvaluationError, UnknownEndpointError
from netpol_dsl.evaluate import Cluster, Pod
from tests.evaluate.test_differential import PROTOCOLS, SAMPLE_PORTS, clusters
from tests.strategies import budget


@pytest.mark.heavy(2.5)
# CI: 75 clusters (was 150); HYPOTHESIS_PROFILE=long: 1500.
@settings(max_examples=budget(150, ci=75), deadline=None)
@given(data=clusters())
def test_allows_pairs_agrees_with_allows(data):
    namespaces, pods, pols = data
    cluster = Cluster(namespaces=namespaces, pods=pods, policies=pols)
    queries = [(s.key, d.key, port, protocol) for s in pods for d in pods
               for protocol in PROTOCOLS for port in SAMPLE_PORTS]
    got = cluster.allows_pairs(queries)
    want = [bool(cluster.allows(s, d, port, protocol)) for s, d, port, protocol in queries]
    assert got == want


def test_allows_pairs_accepts_lowercase_protocols_and_port_text():
    c = Cluster(pods=[Pod("a", "x"), Pod("a", "y")])
    assert c.allows_pairs([("a/x", "a/y", "53", "udp"), ("a/x", "a/x", 1, "TCP")]) == [True, True]


def test_allows_pairs_refuses_unknown_pods_and_bad_ports():
    c = Cluster(pods=[Pod("a", "x"), Pod("a", "y")])
    with pytest.raises(UnknownEndpointError, match="got pod 'a/z'; expected one of the cluster's pods"):
        c.allows_pairs([("a/x", "a/z", 80, "TCP")])
    with pytest.raises(EvaluationError, match=r"allows_pairs\(\): got port=0; expected 1\.\.65535"):
        c.allows_pairs([("a/x", "a/y", 0, "TCP")])
    with pytest.raises(EvaluationError, match="got port='http'; expected one port number"):
        c.allows_pairs([("a/x", "a/y", "http", "TCP")])
    with pytest.raises(EvaluationError, match="expected one of 'TCP', 'UDP', 'SCTP'"):
        c.allows_pairs([("a/x", "a/y", 80, "ICMP")])
