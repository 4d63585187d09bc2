"""Baselines: deny_all, allow_dns, allow_same_namespace, and the kube-system guard."""

from __future__ import annotations

import pytest

import netpol_dsl
from netpol_dsl import (
    DslUsageError,
    InvalidPolicyError,
    PolicySet,
    allow_dns,
    allow_same_namespace,
    deny_all,
    ip_block,
    namespace,
    pods,
    tcp,
    udp,
)

NS = "kubernetes.io/metadata.name"


def only(statement, ns=None):
    (policy,) = statement.compile(ns)
    return policy.to_dict()


@pytest.mark.parametrize(
    ("direction", "name", "types"),
    [
        ("both", "default-deny-all", ["Ingress", "Egress"]),
        ("ingress", "default-deny-ingress", ["Ingress"]),
        ("egress", "default-deny-egress", ["Egress"]),
    ],
)
def test_deny_all(direction, name, types):
    assert only(deny_all("payments", direction=direction)) == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": "payments"},
        "spec": {"podSelector": {}, "policyTypes": types},
    }


def test_deny_all_takes_the_set_namespace_and_a_name():
    got = PolicySet(namespace="a").add(deny_all(name="lockdown")).compile()
    assert [p.key for p in got] == ["a/lockdown"]


def test_deny_all_refuses_kube_system():
    with pytest.raises(DslUsageError) as info:
        deny_all("kube-system")
    message = str(info.value)
    assert message.startswith("deny_all(): got namespace='kube-system'; expected an application namespace")
    assert "blocks cluster DNS" in message and "unsafe_kube_system=True" in message


def test_deny_all_refuses_kube_system_from_the_set_too():
    with pytest.raises(DslUsageError, match=r"got namespace='kube-system'"):
        PolicySet(namespace="kube-system").add(deny_all())


def test_deny_all_in_kube_system_with_the_override():
    got = PolicySet(namespace="kube-system").add(deny_all(unsafe_kube_system=True)).compile()
    assert [p.key for p in got] == ["kube-system/default-deny-all"]
    assert [p.key for p in deny_all("kube-system", unsafe_kube_system=True).compile()] == [
        "kube-system/default-deny-all"
    ]


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: deny_all(direction="up"), DslUsageError, r"got direction='up'"),
        (lambda: deny_all("Payments"), InvalidPolicyError, r"deny_all\(\): got 'Payments'"),
        (lambda: deny_all("a", name="x_y"), InvalidPolicyError, r"got 'x_y'"),
        (lambda: deny_all().compile(), DslUsageError, r"deny_all\(\): got no namespace.*deny_all\('payments'\)"),
        (lambda: allow_dns().compile(), DslUsageError, r"allow_dns\(\): got no namespace"),
        (lambda: allow_same_namespace().compile(), DslUsageError, r"got no namespace"),
        (lambda: allow_dns("a", ports=()), DslUsageError, r"got ports=\(\)"),
        (lambda: allow_dns("A"), InvalidPolicyError, r"got 'A'"),
        (lambda: allow_same_namespace(direction="x"), DslUsageError, r"got direction='x'"),
    ],
)
def test_baseline_misuse(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_allow_dns_is_the_lessons_policy():
    # Transcribed from the lesson's allow-dns-egress; port order is not significant.
    got = only(allow_dns("payments"))
    egress = got["spec"].pop("egress")
    assert got == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-dns-egress", "namespace": "payments"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"]},
    }
    (rule,) = egress
    assert rule["to"] == [
        {"namespaceSelector": {"matchLabels": {NS: "kube-system"}},
         "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
    ]
    assert sorted(rule["ports"], key=str) == sorted(
        [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}], key=str
    )


def test_allow_dns_overrides():
    node_local = only(allow_dns("a", dns=ip_block("169.254.20.10/32"), ports=[udp(53)]))
    assert node_local["spec"]["egress"] == [
        {"ports": [{"protocol": "UDP", "port": 53}], "to": [{"ipBlock": {"cidr": "169.254.20.10/32"}}]}
    ]
    coredns = only(allow_dns("a", dns=namespace("kube-system") & pods({"k8s-app": "coredns"}),
                             select=pods(app="api"), name="dns"))
    assert coredns["metadata"]["name"] == "dns"
    assert coredns["spec"]["podSelector"] == {"matchLabels": {"app": "api"}}
    assert coredns["spec"]["egress"][0]["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "coredns"}}


def test_allow_same_namespace():
    assert only(allow_same_namespace("a"))["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"podSelector": {}}]}],
        "egress": [{"to": [{"podSelector": {}}]}],
    }
    assert only(allow_same_namespace("a", direction="ingress"))["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {}}]}],
    }


@pytest.mark.parametrize(
    "statement",
    [
        deny_all(),
        deny_all("a", direction="egress", name="x"),
        deny_all("kube-system", unsafe_kube_system=True),
        allow_dns(),
        allow_dns("a", dns=ip_block("169.254.20.10/32"), ports=[udp(53), tcp(53)], name="dns"),
        allow_dns(select=pods(app="api"), ports=[udp(53)]),
        allow_same_namespace(),
        allow_same_namespace("a", direction="ingress", name="same"),
    ],
)
def test_baseline_repr_rebuilds_it(statement):
    env = {name: getattr(netpol_dsl, name) for name in netpol_dsl.__all__}
    assert eval(repr(statement), env) == statement
