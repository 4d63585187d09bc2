"""The cluster-wide DSL (``netpol_dsl.admin``): rendering to both versions, immutability, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from netpol_dsl import (
    DslUsageError,
    UnrepresentableError,
    all_namespaces,
    all_pods,
    anywhere,
    ip_block,
    namespace,
    namespaces,
    pods,
    tcp,
    tcp_range,
    to_yaml,
    udp,
)
from netpol_dsl.admin import (
    admin,
    baseline,
    cluster_default_deny,
    domains,
    named_port,
    nodes,
)
from netpol_dsl.builder import all_udp, sctp
from netpol_dsl.model import load_cluster_policy

GOLDEN = Path(__file__).parent / "golden"


def guardrails():
    return (admin("guardrails", priority=10)
            .allow_to(namespace("kube-system") & pods({"k8s-app": "kube-dns"}), udp(53), tcp(53),
                      name="dns")
            .pass_to(namespaces(team="payments") | pods(app="db"))
            .deny_to(ip_block("10.0.0.0/8", except_=["10.1.0.0/16"]) | nodes(role="cp"),
                     tcp_range(1, 1024), all_udp())
            .allow_to(domains("*.example.com"), tcp(443))
            .deny_from(all_namespaces(), tcp(22)))


@pytest.mark.parametrize("version", ["v1alpha2", "v1alpha1"])
def test_golden(version):
    text = to_yaml([guardrails().to_model(version), *cluster_default_deny().to_models(version)])
    assert text == (GOLDEN / f"guardrails-{version}.yaml").read_text()
    # and it loads back to the same objects, rendering the same bytes
    again = [load_cluster_policy(d) for d in yaml.safe_load_all(text)]
    assert to_yaml(again) == text


def test_repr_rebuilds_the_policy():
    p = guardrails()
    ns = {n: globals()[n] for n in ("admin", "namespace", "pods", "udp", "tcp", "namespaces",
                                    "ip_block", "nodes", "tcp_range", "all_udp", "domains",
                                    "all_namespaces")}
    assert eval(repr(p), ns) == p  # our own repr


def test_methods_return_new_policies_and_leave_the_receiver_alone():
    p = admin("a", priority=1)
    q = p.deny_to(all_namespaces())
    r = q.applies_to(namespaces(env="prod"))
    assert p.rules == () and len(q.rules) == 1 and q.subject == all_namespaces()
    assert r.subject == namespaces(env="prod") and r.rules == q.rules
    with pytest.raises(AttributeError):
        p.name = "b"  # type: ignore[misc]


def test_rule_order_is_kept():
    p = admin("a", priority=1).deny_to(namespace("x")).allow_to(namespace("x")).pass_to(namespace("x"))
    assert [r["action"] for r in p.to_dict()["spec"]["egress"]] == ["Deny", "Accept", "Pass"]
    assert [r["action"] for r in p.to_dict("v1alpha1")["spec"]["egress"]] == ["Deny", "Allow", "Pass"]


@pytest.mark.parametrize(("subject", "v2", "v1"), [
    (all_namespaces(), {"namespaces": {}}, {"namespaces": {}}),
    (all_pods(), {"namespaces": {}}, {"namespaces": {}}),
    (namespaces(team="a"), {"namespaces": {"matchLabels": {"team": "a"}}},
     {"namespaces": {"matchLabels": {"team": "a"}}}),
    (pods(app="x"), {"pods": {"podSelector": {"matchLabels": {"app": "x"}}}},
     {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "x"}}}}),
    (namespace("a") & pods(app="x"),
     {"pods": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "a"}},
               "podSelector": {"matchLabels": {"app": "x"}}}},
     {"pods": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "a"}},
               "podSelector": {"matchLabels": {"app": "x"}}}}),
])
def test_subjects(subject, v2, v1):
    p = admin("a", priority=1, subject=subject)
    assert p.to_dict()["spec"]["subject"] == v2
    assert p.to_dict("v1alpha1")["spec"]["subject"] == v1


@pytest.mark.parametrize(("port", "v2", "v1"), [
    (tcp(80), {"tcp": {"destinationPort": {"number": 80}}}, {"portNumber": {"protocol": "TCP", "port": 80}}),
    (sctp(9003), {"sctp": {"destinationPort": {"number": 9003}}},
     {"portNumber": {"protocol": "SCTP", "port": 9003}}),
    (tcp_range(80, 81), {"tcp": {"destinationPort": {"range": {"start": 80, "end": 81}}}},
     {"portRange": {"protocol": "TCP", "start": 80, "end": 81}}),
    # v1alpha2 refuses a range of one port (start < end): it is a number
    (tcp_range(80, 80), {"tcp": {"destinationPort": {"number": 80}}},
     {"portNumber": {"protocol": "TCP", "port": 80}}),
    (all_udp(), {"udp": {"destinationPort": {"range": {"start": 1, "end": 65535}}}},
     {"portRange": {"protocol": "UDP", "start": 1, "end": 65535}}),
    (named_port("web"), {"destinationNamedPort": "web"}, {"namedPort": "web"}),
    (8080, {"tcp": {"destinationPort": {"number": 8080}}}, {"portNumber": {"protocol": "TCP", "port": 8080}}),
])
def test_ports(port, v2, v1):
    p = admin("a", priority=1).allow_to(all_namespaces(), port)
    assert p.to_dict()["spec"]["egress"][0]["protocols"] == [v2]
    assert p.to_dict("v1alpha1")["spec"]["egress"][0]["ports"] == [v1]


def test_anywhere_and_ip_blocks_are_networks():
    p = admin("a", priority=1).deny_to(anywhere())
    assert p.to_dict()["spec"]["egress"][0]["to"] == [{"networks": ["0.0.0.0/0", "::/0"]}]
    many = admin("a", priority=1).deny_to(ip_block("0.0.0.0/0", except_=["10.0.0.0/32"]))
    (peer1, peer2) = many.to_dict()["spec"]["egress"][0]["to"]  # 32 CIDRs: two peers of <= 25
    assert len(peer1["networks"]) == 25 and len(peer2["networks"]) == 7
    assert "10.0.0.1/32" in peer2["networks"] + peer1["networks"]


def test_baseline_versions():
    b = baseline().deny_to(anywhere())
    assert b.to_dict("v1alpha1")["kind"] == "BaselineAdminNetworkPolicy"
    assert b.to_dict()["spec"] == {"tier": "Baseline", "priority": 0, "subject": {"namespaces": {}},
                                   "egress": [{"action": "Deny", "to": [{"networks": ["0.0.0.0/0", "::/0"]}]}]}
    assert "priority" not in b.to_dict("v1alpha1")["spec"]


@pytest.mark.parametrize(("build", "version", "match"), [
    (lambda: baseline().pass_to(all_namespaces()), "v1alpha1", "cannot pass"),
    (lambda: baseline("mine").deny_to(anywhere()), "v1alpha1", "must be named 'default'"),
    (lambda: baseline(priority=3), "v1alpha1", "has no priority"),
    (lambda: baseline().allow_to(domains("a.io")), "v1alpha1", "no domainNames"),
    (lambda: admin("a", priority=1, subject=namespaces(a="1") | namespaces(b="2")), "v1alpha2",
     "one policy per alternative"),
    (lambda: admin("a", priority=1, subject=ip_block("10.0.0.0/8")), "v1alpha2", "not addresses"),
    (lambda: admin("a", priority=1).deny_from(ip_block("10.0.0.0/8")), "v1alpha2", "sources can only be pods"),
    (lambda: admin("a", priority=1).deny_from(nodes()), "v1alpha2", "sources can only be pods"),
    (lambda: admin("a", priority=1).allow_from(anywhere()), "v1alpha2", "sources can only be pods"),
    (lambda: admin("a", priority=1).deny_to(domains("a.io")), "v1alpha2", "only supported in allow rules"),
    (lambda: admin("a", priority=1).allow_to(nodes(), named_port("web")), "v1alpha2", "no named ports"),
    (lambda: admin("a", priority=1).allow_to(ip_block("1.2.3.0/24"), named_port("web")), "v1alpha2",
     "no named ports"),
    (lambda: admin("a", priority=1).allow_to(all_namespaces(), tcp("web")), "v1alpha2",
     r"named_port\('web'\)"),
    (lambda: domains("localhost"), "v1alpha2", "domain name matching"),
])
def test_unrepresentable(build, version, match):
    with pytest.raises(UnrepresentableError, match=match):
        build().to_model(version)


@pytest.mark.parametrize(("build", "match"), [
    (lambda: admin("a", priority=1001), r"priority=1001; expected an integer 0\.\.1000"),
    (lambda: admin("a", priority=True), "priority=True"),
    (lambda: admin("a", priority=1).allow_to("app=web"), "expected a Selector"),
    (lambda: admin("a", priority=1).allow_to(all_namespaces(), "http"), r"named_port\('http'\)"),
    (lambda: admin("a", priority=1).deny_to(all_namespaces(), name="x" * 101), "at most 100"),
    (lambda: admin("a", priority=1).to_model("v1"), "expected 'v1alpha2' or 'v1alpha1'"),
    (lambda: named_port("Not_A_Name"), "expected a port name"),
    (lambda: domains(), "got no names"),
    (lambda: nodes() | "x", "expected a selector"),
])
def test_usage_errors(build, match):
    with pytest.raises(DslUsageError, match=match):
        build()


def test_peer_unions_mix_selectors_nodes_and_domains():
    peers = namespace("a") | nodes() | domains("a.io")
    assert repr(peers) == "namespace('a') | nodes() | domains('a.io')"
    rule = admin("a", priority=1).allow_to(peers).to_dict()["spec"]["egress"][0]
    assert rule["to"] == [{"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}},
                          {"nodes": {}}, {"domainNames": ["a.io"]}]


def test_crd_limits_still_apply():
    p = admin("a", priority=1)
    for i in range(26):
        p = p.deny_to(namespace(f"n{i}"))
    with pytest.raises(Exception, match=r"spec\.egress: got '<26 egress rules>'; expected at most 25"):
        p.to_model()
    assert len(p.to_model("v1alpha1").spec.egress or ()) == 26  # v1alpha1 allows 100


def test_default_deny_shape():
    d = cluster_default_deny(system_namespaces=["kube-system", "calico-system"], dns_priority=5)
    dns, base = d.to_models()
    assert (dns.spec.tier, dns.spec.priority, base.spec.tier, base.spec.priority) == ("Admin", 5, "Baseline", 1000)
    assert base.spec.subject.to_dict() == {"namespaces": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["calico-system", "kube-system"]}]}}
    assert [m.kind for m in cluster_default_deny(dns=False).to_models("v1alpha1")] == ["BaselineAdminNetworkPolicy"]
