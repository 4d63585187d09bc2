"""Intent tests for the lesson's payments namespace (``examples/payments.py``).

The policies come from the DSL; the pods and namespaces from ``payments_cluster.yaml``. Paths are
relative to this file, so ``pytest examples/test_payments_intent.py`` works from anywhere.
"""

import importlib.util
from pathlib import Path

from netpol_dsl import Cluster, namespace, pods

HERE = Path(__file__).parent


def _load_policies():
    spec = importlib.util.spec_from_file_location("payments_example", HERE / "payments.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.policies


policies = _load_policies()
cluster = Cluster.from_manifests([HERE / "payments_cluster.yaml", *policies.compile()])


def test_the_lesson_picture(expect_reachability):
    # The lesson's diagram: three allowed flows, the rogue pod blocked.
    expect_reachability(cluster, {
        ("payments/frontend", "payments/api-server", 8080): True,
        ("payments/api-server", "payments/postgres", 5432): True,
        ("monitoring/prometheus", "payments/api-server", 9090): True,
        ("monitoring/rogue-pod", "payments/api-server", 9090): False,
    })


def test_dns_works_under_default_deny(expect_reachability):
    expect_reachability(cluster, {
        (f"payments/{pod}", "kube-system/coredns", 53, proto): True
        for pod in ("frontend", "api-server", "postgres")
        for proto in ("UDP", "TCP")
    })


def test_nothing_else_is_open(expect_reachability):
    expect_reachability(cluster, {
        ("payments/frontend", "payments/postgres", 5432): False,     # no skipping the API
        ("payments/frontend", "payments/api-server", 9090): False,   # metrics are Prometheus's
        ("payments/api-server", "payments/frontend", 80): False,     # flows have a direction
        ("payments/postgres", "payments/api-server", 8080): False,
        ("monitoring/rogue-pod", "payments/postgres", 5432): False,
        ("payments/api-server", "203.0.113.10", 443): False,         # no egress to the internet
    })


def test_selectors_can_stand_for_pods():
    # The same objects that wrote the policies can ask the questions.
    frontend = pods(app="frontend").in_namespace("payments")
    api = pods(app="api-server").in_namespace("payments")
    assert cluster.allows(frontend, api, 8080)
    assert cluster.allows(namespace("monitoring") & pods(app="prometheus"), api, 9090)
    assert not cluster.allows(namespace("monitoring") & pods(app="attacker"), api, 9090)


def test_every_pod_is_isolated_both_ways():
    for name in ("frontend", "api-server", "postgres"):
        verdict = cluster.allows(f"payments/{name}", "monitoring/rogue-pod", 80)
        assert not verdict
        assert "payments/default-deny-all" in verdict.explain()
