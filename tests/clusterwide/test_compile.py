"""Cluster-wide kinds compiled to the one rule form (``_compile_clusterwide``), construct by construct."""

from __future__ import annotations

import pytest

from netpol_dsl import InvalidPolicyError
from netpol_dsl.evaluate._compile_clusterwide import (
    compile_cluster_policy,
    equal_priority_warnings,
)
from netpol_dsl.evaluate._ir import (
    DomainsPeer,
    IPPeer,
    NamedPortIR,
    NamespaceMatch,
    NodesPeer,
    Origin,
    PodsPeer,
    PortRangeIR,
    SubjectIR,
)
from netpol_dsl.model import LabelSelector, load_cluster_policy

V1 = "policy.networking.k8s.io/v1alpha1"
V2 = "policy.networking.k8s.io/v1alpha2"
ALL = LabelSelector()


def sel(**labels):
    return LabelSelector(match_labels=labels)


def anp(spec, kind="AdminNetworkPolicy", name="p"):
    return load_cluster_policy({"apiVersion": V1, "kind": kind, "metadata": {"name": name}, "spec": spec})


def cnp(spec, name="p"):
    return load_cluster_policy({"apiVersion": V2, "kind": "ClusterNetworkPolicy",
                                "metadata": {"name": name}, "spec": spec})


def test_tiers_priorities_and_kinds():
    a = compile_cluster_policy(anp({"priority": 7, "subject": {"namespaces": {}}}))
    b = compile_cluster_policy(anp({"subject": {"namespaces": {}}},
                                   kind="BaselineAdminNetworkPolicy", name="default"))
    c = compile_cluster_policy(cnp({"tier": "Admin", "priority": 3, "subject": {"namespaces": {}}}))
    d = compile_cluster_policy(cnp({"tier": "Baseline", "priority": 9, "subject": {"namespaces": {}}}))
    assert [(x.kind, x.key, x.tier, x.priority, x.isolates) for x in (a, b, c, d)] == [
        ("AdminNetworkPolicy", "p", "admin", 7, ()),
        ("BaselineAdminNetworkPolicy", "default", "baseline", 0, ()),
        ("ClusterNetworkPolicy", "p", "admin", 3, ()),
        ("ClusterNetworkPolicy", "p", "baseline", 9, ()),
    ]


@pytest.mark.parametrize(("subject", "expected"), [
    ({"namespaces": {"matchLabels": {"a": "b"}}}, SubjectIR(NamespaceMatch(selector=sel(a="b")), None)),
    ({"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "x"}}}},
     SubjectIR(NamespaceMatch(selector=ALL), sel(app="x"))),
])
def test_v1alpha1_subjects(subject, expected):
    assert compile_cluster_policy(anp({"priority": 1, "subject": subject})).subject == expected


def test_v1alpha2_pods_subject_without_namespace_selector_is_every_namespace():
    ir = compile_cluster_policy(cnp({"tier": "Admin", "priority": 1,
                                     "subject": {"pods": {"podSelector": {"matchLabels": {"app": "x"}}}}}))
    assert ir.subject == SubjectIR(NamespaceMatch(selector=ALL), sel(app="x"))


def test_actions():
    rule = {"from": [{"namespaces": {}}]}
    a = compile_cluster_policy(anp({"priority": 1, "subject": {"namespaces": {}}, "ingress": [
        {"action": x, **rule} for x in ("Allow", "Deny", "Pass")]}))
    c = compile_cluster_policy(cnp({"tier": "Baseline", "priority": 1, "subject": {"namespaces": {}},
                                    "ingress": [{"action": x, **rule} for x in ("Accept", "Deny", "Pass")]}))
    assert [r.action for r in a.ingress] == ["allow", "deny", "pass"]
    assert [r.action for r in c.ingress] == ["allow", "deny", "pass"]
    assert a.egress == c.egress == ()


def test_v1alpha1_peers_ports_and_origins():
    ir = compile_cluster_policy(anp({"priority": 1, "subject": {"namespaces": {}}, "egress": [
        {"name": "r0", "action": "Deny", "to": [
            {"namespaces": {"matchLabels": {"a": "b"}}},
            {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "x"}}}},
            {"nodes": {"matchLabels": {"role": "cp"}}},
            {"networks": ["10.0.0.1/8", "fd00::/8"]},
            {"domainNames": ["*.example.com", "example.com"]}],
         "ports": [{"portNumber": {"port": 80}}, {"portRange": {"protocol": "UDP", "start": 5, "end": 9}},
                   {"portNumber": {"protocol": "SCTP", "port": 9003}}]},
        {"action": "Allow", "to": [{"namespaces": {}}], "ports": [{"namedPort": "web"}]},
        {"action": "Pass", "to": [{"namespaces": {}}]},
    ]}))
    r0, r1, r2 = ir.egress
    assert r0.peers == (
        PodsPeer(NamespaceMatch(selector=sel(a="b")), None),
        PodsPeer(NamespaceMatch(selector=ALL), sel(app="x")),
        NodesPeer(sel(role="cp")),
        IPPeer("10.0.0.0/8", (), pod_ips=True),  # host bits cleared (isCIDR keeps them)
        IPPeer("fd00::/8", (), pod_ips=True),
        DomainsPeer(("*.example.com", "example.com")),
    )
    assert r0.peer_paths == (
        "spec.egress[0].to[0].namespaces", "spec.egress[0].to[1].pods", "spec.egress[0].to[2].nodes",
        "spec.egress[0].to[3].networks[0]", "spec.egress[0].to[3].networks[1]",
        "spec.egress[0].to[4].domainNames")
    assert r0.ports == (PortRangeIR("TCP", 80, 80), PortRangeIR("UDP", 5, 9), PortRangeIR("SCTP", 9003, 9003))
    assert r0.port_paths == ("spec.egress[0].ports[0]", "spec.egress[0].ports[1]", "spec.egress[0].ports[2]")
    assert r0.origin == Origin("AdminNetworkPolicy", "p", "spec.egress[0]", "r0")
    assert r1.ports == (NamedPortIR("web", None),)
    assert r1.origin.name is None
    assert r2.ports is None and r2.port_paths == ()


def test_v1alpha2_protocols_and_pods_peer():
    ir = compile_cluster_policy(cnp({"tier": "Admin", "priority": 1, "subject": {"namespaces": {}}, "ingress": [
        {"action": "Accept", "from": [{"pods": {"podSelector": {"matchLabels": {"app": "x"}}}},
                                      {"pods": {"namespaceSelector": {"matchLabels": {"a": "b"}},
                                                "podSelector": {}}}],
         "protocols": [{"tcp": {"destinationPort": {"number": 80}}},
                       {"udp": {"destinationPort": {"range": {"start": 53, "end": 54}}}},
                       {"sctp": {"destinationPort": {"number": 9003}}},
                       {"destinationNamedPort": "dns"}]}]}))
    (r,) = ir.ingress
    assert r.peers == (PodsPeer(NamespaceMatch(selector=ALL), sel(app="x")),
                       PodsPeer(NamespaceMatch(selector=sel(a="b")), ALL))
    assert r.peer_paths == ("spec.ingress[0].from[0].pods", "spec.ingress[0].from[1].pods")
    assert r.ports == (PortRangeIR("TCP", 80, 80), PortRangeIR("UDP", 53, 54),
                       PortRangeIR("SCTP", 9003, 9003), NamedPortIR("dns", None))
    assert r.port_paths == tuple(f"spec.ingress[0].protocols[{i}]" for i in range(4))
    assert r.origin == Origin("ClusterNetworkPolicy", "p", "spec.ingress[0]", None)


def test_obsolete_v1alpha1_peers():
    ir = compile_cluster_policy(anp({"priority": 1, "subject": {"namespaces": {}}, "ingress": [
        {"action": "Deny", "from": [
            {"namespaces": {"sameLabels": ["tenant"]}},
            {"namespaces": {"notSameLabels": ["tenant", "env"]}},
            {"namespaces": {"namespaceSelector": {"matchLabels": {"a": "b"}}}},
            {"pods": {"namespaces": {"sameLabels": ["tenant"]}, "podSelector": {"matchLabels": {"app": "x"}}}},
        ]}]}))
    assert ir.ingress[0].peers == (
        PodsPeer(NamespaceMatch(same_labels=("tenant",)), None),
        PodsPeer(NamespaceMatch(not_same_labels=("tenant", "env")), None),
        PodsPeer(NamespaceMatch(selector=sel(a="b")), None),
        PodsPeer(NamespaceMatch(same_labels=("tenant",)), sel(app="x")),
    )


def test_equal_priorities_warn_per_tier():
    irs = [compile_cluster_policy(x) for x in (
        anp({"priority": 5, "subject": {"namespaces": {}}}, name="a"),
        cnp({"tier": "Admin", "priority": 5, "subject": {"namespaces": {}}}, name="c"),
        cnp({"tier": "Baseline", "priority": 5, "subject": {"namespaces": {}}}, name="d"),
        anp({"priority": 6, "subject": {"namespaces": {}}}, name="e"),
    )]
    (w,) = equal_priority_warnings(irs)
    assert (w.path, w.value) == ("spec.priority", 5)
    assert "admin-tier" in w.expected and "a, c" in (w.hint or "")


def test_the_same_object_twice_is_named():
    irs = [compile_cluster_policy(anp({"priority": 5, "subject": {"namespaces": {}}}, name="a"))] * 2
    (w,) = equal_priority_warnings(irs)
    assert "a is given 2 times" in (w.hint or "")


def test_other_objects_give_none_and_dicts_are_validated():
    assert compile_cluster_policy("nope") is None
    assert compile_cluster_policy({"apiVersion": "v1", "kind": "Pod"}) is None
    obj = {"apiVersion": V2, "kind": "ClusterNetworkPolicy", "metadata": {"name": "p"},
           "spec": {"tier": "Admin", "priority": 1, "subject": {"namespaces": {}}}}
    assert compile_cluster_policy(obj) == compile_cluster_policy(load_cluster_policy(obj))
    obj["spec"]["priority"] = -1
    with pytest.raises(InvalidPolicyError, match=r"spec\.priority"):
        compile_cluster_policy(obj)
