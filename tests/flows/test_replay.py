"""Replaying recorded traffic against policy sets: what breaks, grouped, explained and counted."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from netpol_dsl import PolicySet, allow, allow_dns, deny_all, load_policy, pods
from netpol_dsl.evaluate import Cluster, Pod
from netpol_dsl.flows import SKIP_REPLY, flows_from_records, read_flows
from netpol_dsl.replay import SKIP_DROPPED, SKIP_EXTERNAL, SKIP_UNRESOLVED, replay

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lesson():
    return (Cluster.from_manifests(ROOT / "examples" / "payments_cluster.yaml"),
            read_flows(ROOT / "examples" / "payments-flows.json"))


def test_nothing_breaks_without_policies(lesson):
    cluster, log = lesson
    report = replay(log, cluster)
    assert report.ok
    assert (report.records, report.connections, report.evaluated, report.allowed,
            report.denied) == (89, 9, 56, 56, 0)
    assert dict(report.skipped) == {"ICMP (NetworkPolicy ports are TCP, UDP and SCTP)": 1,
                                    SKIP_REPLY: 30, SKIP_UNRESOLVED: 2}
    [u] = report.unresolved
    assert (u.end, u.records) == ("payments/ledger-export-28475510-7xk2p", 2)


def test_default_deny_breaks_every_recorded_payments_flow(lesson):
    cluster, log = lesson
    deny = cluster.with_policies(deny_all("payments").compile())
    report = replay(log, deny, policies="default deny in payments")
    assert not report.ok
    got = [(b.src, b.dst, b.protocol, b.port, b.records, b.connections) for b in report.broken]
    assert got == [
        ("payments/frontend[Deployment]", "payments/api-server[Deployment]", "TCP", 8080, 22, 2),
        ("payments/api-server[Deployment]", "payments/postgres[StatefulSet]", "TCP", 5432, 12, 1),
        ("payments/frontend[Deployment]", "kube-system/coredns[Deployment]", "UDP", 53, 8, 2),
        ("monitoring/prometheus[Deployment]", "payments/api-server[Deployment]", "TCP", 9090, 6,
         1),
        ("payments/api-server[Deployment]", "kube-system/coredns[Deployment]", "UDP", 53, 6, 1),
        ("payments/api-server[Deployment]", "203.0.113.10", "TCP", 443, 2, 1),
    ]
    assert (report.evaluated, report.allowed, report.denied) == (56, 0, 56)
    # each explanation is the evaluator's, for the pair shown
    b = report.broken[0]
    assert b.explain() == deny.allows(*b.example, 8080, "TCP").explain()
    assert b.explain().startswith("DENIED: payments/frontend -> payments/api-server on TCP 8080")


def test_lesson_policies_break_only_the_undocumented_dependency(lesson):
    from examples.payments import policies

    cluster, log = lesson
    report = replay(log, cluster.with_policies(policies.compile()))
    assert [str(b) for b in report.broken] == [
        "payments/api-server[Deployment] -> 203.0.113.10 TCP 443: 2 records"]
    assert "egress from payments/api-server: DENIED" in report.broken[0].explain()


def test_some_pods_of_a_workload_cut_off():
    # a policy on one pod's own label: one replica may still connect, the other may not
    pods_ = [Pod("a", f"web-{i}", {"app": "web", "slot": str(i)}, owner_kind="Deployment",
                 owner_name="web") for i in range(2)] + [Pod("a", "db", {"app": "db"})]
    policy = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                          "metadata": {"name": "db", "namespace": "a"},
                          "spec": {"podSelector": {"matchLabels": {"app": "db"}},
                                   "ingress": [{"from": [{"podSelector": {
                                       "matchLabels": {"slot": "0"}}}]}]}})
    c = Cluster(pods=pods_, policies=[policy])
    recs = [("a/web-0", "a/db", 5432, "TCP")] * 3 + [("a/web-1", "a/db", 5432, "TCP")] * 2
    report = replay(flows_from_records(recs), c)
    [b] = report.broken
    assert (b.records, b.denied_pairs, b.allowed_pairs, b.example) == (2, 1, 1, ("a/web-1", "a/db"))
    assert str(b) == "a/web[Deployment] -> a/db[Pod] TCP 5432: 2 records (1 of 2 pod pairs)"
    # a workload end stands for all its pods
    report = replay(flows_from_records([("a/web", "a/db", 5432, "TCP")]), c)
    [b] = report.broken
    assert (b.records, b.denied_pairs, b.allowed_pairs) == (1, 1, 1)


def test_dropped_records_and_addresses():
    c = Cluster(pods=[Pod("a", "x", {"app": "x"}), Pod("a", "y", {"app": "y"})],
                policies=deny_all("a").compile())
    log = read_flows(io.StringIO("src,dst,port,count,dropped\na/x,a/y,80,0,4\na/x,a/y,81,1,2\n"
                                 "8.8.8.8,1.1.1.1,53,1,0\n1.1.1.1,a/x,443,1,0\n"))
    report = replay(log, c)
    assert [(b.port, b.records) for b in report.broken] == [(443, 1), (81, 1)]
    assert report.skipped == {SKIP_DROPPED: 6, SKIP_EXTERNAL: 1}
    report = replay(log, c, include_dropped=True)
    assert [(b.port, b.records) for b in report.broken] == [(80, 4), (81, 3), (443, 1)]
    assert report.skipped == {SKIP_EXTERNAL: 1}
    assert report.broken[2].src == "1.1.1.1" and report.broken[2].dst == "a/x[Pod]"


def test_replay_against_a_proposed_policy_set(lesson):
    cluster, log = lesson
    frontend, api = pods(app="frontend"), pods(app="api-server")
    proposed = PolicySet(namespace="payments").add(deny_all(), allow_dns(),
                                                   allow(frontend).to(api).on(8080))
    report = replay(log, cluster.with_policies(proposed.compile()))
    assert [(b.src, b.port) for b in report.broken] == [
        ("payments/api-server[Deployment]", 5432), ("monitoring/prometheus[Deployment]", 9090),
        ("payments/api-server[Deployment]", 443)]


def test_formats(lesson):
    cluster, log = lesson
    report = replay(log, cluster.with_policies(deny_all("payments").compile()), policies="deny")
    text = report.to_text(limit=1)
    assert text.splitlines()[:3] == [
        "replayed 56 records of 89 flow records (9 connections) against deny",
        "would break 6 workload pairs and ports (56 records); 0 records allowed",
        "  payments/frontend[Deployment] -> payments/api-server[Deployment] TCP 8080: 22 records "
        "(first " + str(ROOT / "examples" / "payments-flows.json") + ":3)"]
    assert "  ... and 5 more (use --limit or --format json)" in text
    assert text.rstrip().endswith(
        "not evaluated: 30 reply packets (the connection is the other way round); 2 with an end "
        "not in the inventory; 1 ICMP (NetworkPolicy ports are TCP, UDP and SCTP)")
    data = json.loads(report.to_json())
    assert data["ok"] is False and len(data["broken"]) == 6
    assert data["broken"][0]["explanation"] == report.broken[0].explain()
    assert data["unresolved"][0]["records"] == 2
    md = report.to_markdown()
    assert md.startswith("### Replay of recorded traffic against deny\n")
    assert "| `payments/frontend[Deployment]` | `payments/api-server[Deployment]` | TCP 8080 | 22 |" \
        in md
    assert md.count("<details>") == 6
    assert replay(log, cluster).to_markdown().count("✅ **Nothing recorded would break**") == 1
