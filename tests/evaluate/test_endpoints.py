"""Endpoints mean inventory pods (issue 12 items 1, 3, 4): selectors, workloads, mixed answers,
hypothetical pods on request, one port syntax, typed errors."""

from __future__ import annotations

import pytest

from netpol_dsl import hypothetical, load_policy, namespace, pods
from netpol_dsl.errors import (
    AmbiguousResultError,
    EvaluationError,
    NetpolError,
    UnknownEndpointError,
)
from netpol_dsl.evaluate import Cluster, Namespace, Pod, expect_reachability
from netpol_dsl.intent import check_intents, parse_intents

PROM_TEAM = load_policy({
    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    "metadata": {"name": "metrics", "namespace": "payments"},
    "spec": {"podSelector": {"matchLabels": {"app": "api-server"}},
             "ingress": [{"from": [{"namespaceSelector": {},
                                    "podSelector": {"matchLabels": {"team": "obs"}}}],
                          "ports": [{"port": 9090}]}]}})


@pytest.fixture
def cluster():
    return Cluster(
        [Namespace("payments"), Namespace("monitoring")],
        [Pod("monitoring", "prometheus", {"app": "prometheus", "team": "obs"}),
         Pod("monitoring", "grafana", {"app": "grafana"}),
         Pod("payments", "api-server", {"app": "api-server"}),
         Pod("payments", "frontend", {"app": "frontend"}),
         Pod("payments", "web-0", {"app": "web"}, ips=("10.0.0.1",),
             owner_kind="Deployment", owner_name="web"),
         Pod("payments", "web-1", {"app": "web"}, ips=("10.9.0.1",),
             owner_kind="Deployment", owner_name="web")],
        [PROM_TEAM])


def test_one_pod_named_two_ways_gets_one_answer(cluster):
    # The reproduction of issue 12 item 1: the selector used to stand for an invented pod
    # {app: prometheus} without team=obs, and was DENIED while the real pod is ALLOWED.
    by_name = cluster.allows("monitoring/prometheus", "payments/api-server", 9090)
    by_selector = cluster.allows(namespace("monitoring") & pods(app="prometheus"),
                                 pods(app="api-server").in_namespace("payments"), 9090)
    assert bool(by_name) and bool(by_selector)


def test_a_selector_that_matches_no_pod_is_an_error_with_a_did_you_mean(cluster):
    # A typo in a "must be denied" test must not pass silently.
    with pytest.raises(UnknownEndpointError, match=r"matches no pod of the cluster.*"
                                                   r"'app=frontnd': did you mean 'app=frontend'\?"):
        cluster.allows(pods(app="frontnd").in_namespace("payments"),
                       pods(app="api-server").in_namespace("payments"), 8080)


def test_hypothetical_pods_only_on_request(cluster):
    newcomer = hypothetical(namespace("monitoring") & pods(app="newcomer", team="obs"))
    assert cluster.allows(newcomer, "payments/api-server", 9090)
    assert not cluster.allows(newcomer, "payments/api-server", 8080)
    assert cluster.resolve(newcomer).hypothetical == newcomer


def test_mixed_answers_satisfy_neither_assertion(cluster):
    # Both web pods are sources; an ipBlock policy admits only one of them.
    only_one = load_policy({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "front", "namespace": "payments"},
        "spec": {"podSelector": {"matchLabels": {"app": "frontend"}},
                 "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/16"}}]}]}})
    c = cluster.with_policies([PROM_TEAM, only_one])
    v = c.allows("payments/web", "payments/frontend", 80)  # the workload: both pods
    assert v.mixed and v.any() and not v.all() and not v.none()
    with pytest.raises(AmbiguousResultError, match=r"1 of 2 pod pairs allowed .*; ask \.all\(\) / "
                                                   r"\.none\(\) / \.any\(\) / \.pairs\(\)"):
        bool(v)
    with pytest.raises(AmbiguousResultError):
        assert not v
    assert [(p.src, p.allowed) for p in v.pairs()] == [("payments/web-0", True),
                                                       ("payments/web-1", False)]
    text = v.explain()
    assert text.startswith("MIXED (1 of 2 pod pairs allowed): payments/web -> payments/frontend")
    assert "allowed (1): payments/web-0 -> payments/frontend" in text
    assert "denied (1): payments/web-1 -> payments/frontend" in text
    # expect_reachability and intent files report it as a failure either way
    for expected in (True, False):
        with pytest.raises(AssertionError, match="MIXED"):
            expect_reachability(c, {("payments/web", "payments/frontend", 80): expected})
    results = check_intents(c, parse_intents(
        "- {from: payments/web, to: payments/frontend, port: 80, expect: allow}\n"
        "- {from: payments/web, to: payments/frontend, port: 80, expect: deny}"))
    assert [r.ok for r in results] == [False, False]
    assert "got allow for some pod pairs and deny for others" in str(results[1])


def test_one_port_syntax_everywhere(cluster):
    a, b = "monitoring/prometheus", "payments/api-server"
    assert cluster.allows(a, b, "9090/TCP") and cluster.allows(a, b, "9090/tcp")
    assert cluster.allows(a, b, 9090, protocol="tcp")
    assert not cluster.allows(a, b, "53/UDP")
    assert not cluster.allows(a, b, 53, "udp")
    # a range holds only when every port in it is allowed
    assert cluster.allows(a, b, "9090-9090").all()
    assert cluster.allows(a, b, "9089-9091").none()
    with pytest.raises(EvaluationError, match=r"got '80/UDP' with protocol='TCP'; expected one protocol"):
        cluster.allows(a, b, "80/UDP", protocol="TCP")


def test_evaluator_errors_are_typed(cluster):
    with pytest.raises(UnknownEndpointError) as err:
        cluster.allows("payments/nope", "payments/frontend", 80)
    assert isinstance(err.value, KeyError) and isinstance(err.value, NetpolError)
    assert "'" not in str(err.value)[:4]  # not KeyError's quoted repr
    with pytest.raises(EvaluationError, match=r"got port=0; expected 1..65535"):
        cluster.allows("payments/frontend", "payments/api-server", 0)
    with pytest.raises(UnknownEndpointError):
        cluster.matrix(port=80).allowed("x/y", "payments/frontend")
    with pytest.raises(UnknownEndpointError):
        cluster.connectivity().between("x/y", "payments/frontend")
