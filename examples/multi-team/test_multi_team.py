"""Intent tests for the multi-team cluster: who may talk across team boundaries, and on what.

Paths are relative to this file (``multi-team`` is not an importable package name).
"""

import runpy
from pathlib import Path

import pytest

from netpol_dsl import Cluster
from netpol_dsl.lint import lint

HERE = Path(__file__).parent
policies = runpy.run_path(str(HERE / "policies.py"))["policies"].compile()
cluster = Cluster.from_manifests([HERE / "cluster.yaml", *policies])


def test_the_request_path(expect_reachability):
    # internet -> ingress controller -> shop/web -> orders-api -> (orders-db, billing-api)
    expect_reachability(cluster, {
        ("198.51.100.7", "ingress-nginx/ingress-nginx-controller", 443): True,
        ("ingress-nginx/ingress-nginx-controller", "shop/web", 8080): True,
        ("shop/web", "orders/orders-api", 8080): True,
        ("orders/orders-api", "orders/orders-db", 5432): True,
        ("orders/orders-api", "billing/billing-api", 8443): True,
    })


def test_no_shortcuts_across_teams(expect_reachability):
    expect_reachability(cluster, {
        ("shop/web", "orders/orders-db", 5432): False,           # only orders-api reads its db
        ("shop/web", "billing/billing-api", 8443): False,        # billing is called by orders only
        ("billing/billing-api", "orders/orders-api", 8080): False,
        ("198.51.100.7", "shop/web", 8080): False,               # the internet comes via ingress
        ("ingress-nginx/ingress-nginx-controller", "orders/orders-api", 8080): False,
    })


@pytest.mark.parametrize(("pod", "port"), [
    ("shop/web", 9102),
    ("orders/orders-api", 9102),
    ("orders/orders-db", 9187),      # same port name, another number: named ports follow the pod
    ("billing/billing-api", 9102),
])
def test_prometheus_scrapes_the_port_named_metrics(pod, port):
    assert cluster.allows("monitoring/prometheus", pod, "metrics")
    assert cluster.allows("monitoring/prometheus", pod, port)
    assert not cluster.allows("monitoring/prometheus", pod, 8080)


def test_every_namespace_is_default_deny():
    for key in ("shop/web", "orders/orders-db", "billing/billing-api", "monitoring/prometheus",
                "ingress-nginx/ingress-nginx-controller"):
        verdict = cluster.allows(key, "203.0.113.50", 443)
        assert not verdict, verdict.explain()


def test_dns_everywhere(expect_reachability):
    expect_reachability(cluster, {
        (pod.key, "kube-system/coredns", 53, proto): True
        for pod in cluster.pods if pod.namespace != "kube-system"
        for proto in ("UDP", "TCP")
    })


def test_lint_is_clean(tmp_path):
    from netpol_dsl import to_yaml

    (tmp_path / "policies.yaml").write_text(to_yaml(policies))
    report = lint(tmp_path, manifests=[HERE / "cluster.yaml"])
    assert not report.findings, report.to_text()
