"""Intent tests for egress to external addresses and to the Kubernetes API server.

Addresses in these tests are external endpoints: only the pod's egress side is checked, as for
real traffic leaving the pod network. Paths are relative to this file.
"""

import runpy
from pathlib import Path

import pytest

from netpol_dsl import Cluster

HERE = Path(__file__).parent
policies = runpy.run_path(str(HERE / "policies.py"))["policies"].compile()
cluster = Cluster.from_manifests([HERE / "cluster.yaml", *policies])

UPLOADER = "reports/uploader"
OPERATOR = "reports/report-operator"


def test_uploader_reaches_the_internet_on_https_only(expect_reachability):
    expect_reachability(cluster, {
        (UPLOADER, "203.0.113.10", 443): True,      # the partner
        (UPLOADER, "198.51.100.200", 443): True,    # anything else outside the cluster
        (UPLOADER, "203.0.113.10", 80): False,      # HTTPS only
        (UPLOADER, "203.0.113.10", 22): False,
    })


@pytest.mark.parametrize("address", [
    "169.254.169.254",   # cloud metadata: credentials live there
    "10.244.3.7",        # a pod IP: pods are reached by selector, not by address
    "10.96.0.1",         # the API server's Service IP
    "192.168.10.10",     # a control-plane node
])
def test_uploader_cannot_reach_inside_addresses(address):
    verdict = cluster.allows(UPLOADER, address, 443)
    assert not verdict
    assert "except" in verdict.explain() or "does not" in verdict.explain()


def test_operator_reaches_the_api_server_before_and_after_dnat(expect_reachability):
    expect_reachability(cluster, {
        (OPERATOR, "10.96.0.1", 443): True,          # the Service IP and port (pre-DNAT CNIs)
        (OPERATOR, "192.168.10.10", 6443): True,     # an endpoint (most CNIs: post-DNAT)
        (OPERATOR, "192.168.10.12", 6443): True,
        (OPERATOR, "192.168.10.10", 443): False,     # the endpoint listens on 6443, not 443
        (OPERATOR, "10.96.0.1", 6443): False,        # and the Service on 443, not 6443
        (OPERATOR, "203.0.113.10", 443): False,      # the operator has no internet access
    })


def test_dns_goes_to_kube_dns_only(expect_reachability):
    expect_reachability(cluster, {
        (UPLOADER, "kube-system/coredns", 53, "UDP"): True,
        (OPERATOR, "kube-system/coredns", 53, "TCP"): True,
        (UPLOADER, "8.8.8.8", 53, "UDP"): False,     # no resolver outside the cluster
    })
