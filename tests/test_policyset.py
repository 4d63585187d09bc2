"""PolicySet: merging, naming, scoping, determinism, writing, and collect() for the CLI."""

from __future__ import annotations

import dataclasses
import types

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol_dsl import (
    DslUsageError,
    InvalidPolicyError,
    NetworkPolicy,
    ObjectMeta,
    PolicySet,
    RenderError,
    allow,
    allow_dns,
    deny_all,
    load_manifests,
    namespace,
    pods,
    udp,
)
from netpol_dsl.policyset import collect, file_name, policy_name
from tests.strategies import budget

NS = "kubernetes.io/metadata.name"
FRONTEND, API, DB = pods(app="frontend"), pods(app="api-server"), pods(app="postgres")


def by_name(ps):
    return {p.name: p.to_dict() for p in ps.compile()}


def test_same_target_and_direction_merge_into_one_policy():
    ps = PolicySet(namespace="p").add(
        allow(FRONTEND).to(API).on(8080).ingress_only(),
        allow(pods(app="batch")).to(API).on(8080).ingress_only(),
        allow(pods(app="admin")).to(API).on(9000).ingress_only(),
    )
    got = by_name(ps)
    assert list(got) == ["allow-ingress-to-api-server"]
    # Same ports: peers merged into one rule; different ports: separate rules, sorted by port.
    assert got["allow-ingress-to-api-server"]["spec"]["ingress"] == [
        {"ports": [{"protocol": "TCP", "port": 8080}],
         "from": [{"podSelector": {"matchLabels": {"app": "batch"}}},
                  {"podSelector": {"matchLabels": {"app": "frontend"}}}]},
        {"ports": [{"protocol": "TCP", "port": 9000}],
         "from": [{"podSelector": {"matchLabels": {"app": "admin"}}}]},
    ]


def test_rules_with_the_same_peers_merge_their_ports():
    ps = PolicySet(namespace="p").add(
        allow(FRONTEND).to(API).on(8080).ingress_only(),
        allow(FRONTEND).to(API).on(udp(53), 8080).ingress_only(),
    )
    assert by_name(ps)["allow-ingress-to-api-server"]["spec"]["ingress"] == [
        {"ports": [{"protocol": "TCP", "port": 8080}, {"protocol": "UDP", "port": 53}],
         "from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}]},
    ]


def test_an_all_ports_rule_absorbs_port_lists():
    ps = PolicySet(namespace="p").add(
        allow(FRONTEND).to(API).on(8080).ingress_only(),
        allow(FRONTEND).to(API).ingress_only(),
    )
    assert by_name(ps)["allow-ingress-to-api-server"]["spec"]["ingress"] == [
        {"from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}]},
    ]


def test_named_statements_keep_their_own_policy():
    ps = PolicySet(namespace="p").add(
        allow(FRONTEND).to(API).on(8080).ingress_only().named("allow-frontend-to-api"),
        allow(pods(app="x")).to(API).on(8080).ingress_only(),
    )
    assert sorted(by_name(ps)) == ["allow-frontend-to-api", "allow-ingress-to-api-server"]


def test_automatic_names():
    from netpol_dsl.model import LabelSelector, LabelSelectorRequirement

    assert policy_name("Ingress", LabelSelector(match_labels={"app": "api-server"})) == (
        "allow-ingress-to-api-server"
    )
    assert policy_name("Egress", LabelSelector(match_labels={"app.kubernetes.io/name": "web",
                                                             "tier": "front"})) == (
        "allow-egress-from-web-tier-front"
    )
    sel = LabelSelector(match_expressions=[
        LabelSelectorRequirement(key="tier", operator="NotIn", values=["db"])
    ])
    assert policy_name("Ingress", sel) == "allow-ingress-to-tier-notin-db"
    long = policy_name("Ingress", LabelSelector(match_labels={"app": "x" * 60}))
    assert len(long) == 63 and long.startswith("allow-ingress-to-xxx")
    # The hash keeps two long, different selectors apart.
    other = policy_name("Ingress", LabelSelector(match_labels={"app": "x" * 59 + "y"}))
    assert other != long and len(other) == 63


def test_name_collision_between_different_targets_is_an_error():
    ps = PolicySet(namespace="p").add(allow(FRONTEND).to(API).ingress_only().named("n"))
    with pytest.raises(DslUsageError, match=r"two policies named 'n' in namespace 'p' select different pods.*\.named"):
        ps.add(allow(FRONTEND).to(DB).ingress_only().named("n"))


def test_reordering_statements_does_not_change_the_output():
    statements = [
        deny_all(),
        allow_dns(),
        allow(FRONTEND).to(API).on(8080),
        allow(API).to(DB).on(5432),
        allow(pods(app="batch")).to(DB).on(5432),
        allow(namespace("monitoring") & pods(app="prometheus")).to(API | DB).on(9090).ingress_only(),
    ]
    forward = PolicySet(namespace="payments").add(*statements).to_yaml()
    backward = PolicySet(namespace="payments").add(*reversed(statements)).to_yaml()
    assert forward == backward


@settings(max_examples=budget(40), deadline=None)
@given(st.permutations(range(6)))
def test_any_statement_order_gives_identical_yaml(order):
    statements = [
        deny_all(),
        allow_dns(),
        allow(FRONTEND).to(API).on(8080, 8443),
        allow(API).to(DB).on(5432),
        allow(pods(app="batch")).to(DB | API).on(5432),
        allow(FRONTEND).to(API).on(udp(53)).ingress_only(),
    ]
    reference = PolicySet(namespace="payments").add(*statements).to_yaml()
    shuffled = PolicySet(namespace="payments").add(*(statements[i] for i in order)).to_yaml()
    assert shuffled == reference


def test_a_half_outside_the_set_namespace_is_refused_with_the_fix():
    prom = namespace("monitoring") & pods(app="prometheus")
    with pytest.raises(DslUsageError) as info:
        PolicySet(namespace="payments").add(allow(prom).to(API).on(9090))
    msg = str(info.value)
    assert "its egress policy belongs in namespace 'monitoring', outside PolicySet(namespace='payments')" in msg
    assert "Write .ingress_only()" in msg
    with pytest.raises(DslUsageError, match=r"ingress policy belongs in namespace 'db'.*Write .egress_only\(\)"):
        PolicySet(namespace="payments").add(allow(API).to(DB.in_namespace("db")))
    with pytest.raises(DslUsageError, match=r"belongs in namespace 'other'.*Add it to a PolicySet for that namespace"):
        PolicySet(namespace="payments").add(deny_all("other"))


def test_a_cluster_wide_set_writes_every_side():
    prom = namespace("monitoring") & pods(app="prometheus")
    ps = PolicySet().add(allow(prom).to(API.in_namespace("payments")).on(9090))
    assert [p.key for p in ps.compile()] == [
        "monitoring/allow-egress-from-prometheus",
        "payments/allow-ingress-to-api-server",
    ]


def test_a_flow_isolating_kube_system_pods_is_refused():
    dns = namespace("kube-system") & pods({"k8s-app": "kube-dns"})
    with pytest.raises(DslUsageError, match=r"would select pods in kube-system, which isolates them.*\.egress_only\(\)"):
        PolicySet().add(allow(API.in_namespace("payments")).to(dns).on(udp(53)))
    ok = PolicySet().add(allow(API.in_namespace("payments")).to(dns).on(udp(53)).egress_only())
    assert [p.key for p in ok.compile()] == ["payments/allow-egress-from-api-server"]
    forced = PolicySet(unsafe_kube_system=True).add(allow(API.in_namespace("payments")).to(dns))
    assert "kube-system/allow-ingress-to-kube-dns" in [p.key for p in forced.compile()]


def test_set_default_halves():
    ps = PolicySet(namespace="p", halves="ingress").add(allow(FRONTEND).to(API))
    assert [p.name for p in ps.compile()] == ["allow-ingress-to-api-server"]
    ps = PolicySet(namespace="p", halves="ingress").add(allow(FRONTEND).to(API).both_halves())
    assert [p.name for p in ps.compile()] == ["allow-egress-from-frontend", "allow-ingress-to-api-server"]


def test_labels_and_annotations():
    ps = (
        PolicySet(namespace="p")
        .with_labels(team="payments")
        .with_annotations({"owner": "payments@example.com"})
        .add(deny_all())
    )
    (policy,) = ps.compile()
    assert policy.to_dict()["metadata"] == {
        "name": "default-deny-all",
        "namespace": "p",
        "labels": {"team": "payments"},
        "annotations": {"owner": "payments@example.com"},
    }


def test_nested_sets_keep_their_namespace():
    payments = PolicySet(namespace="payments").add(deny_all())
    orders = PolicySet(namespace="orders").add(deny_all(), allow(FRONTEND).to(API).ingress_only())
    cluster = PolicySet().add(payments, orders)
    assert [p.key for p in cluster.compile()] == [
        "orders/allow-ingress-to-api-server",
        "orders/default-deny-all",
        "payments/default-deny-all",
    ]
    with pytest.raises(DslUsageError, match="outside PolicySet"):
        PolicySet(namespace="payments").add(orders)


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: PolicySet(namespace="a").add(allow(FRONTEND)), DslUsageError,
         r"add\(\): got allow\(pods\(app='frontend'\)\) \(type=AllowFrom\).*needs .to\(...\)"),
        (lambda: PolicySet(namespace="a").add(FRONTEND), DslUsageError, r"type=Pods"),
        (lambda: PolicySet(namespace="A"), InvalidPolicyError, r"PolicySet\(\): got 'A'"),
        (lambda: PolicySet(halves="all"), DslUsageError, r"got halves='all'"),
        (lambda: PolicySet(statements=(1,)), DslUsageError, r"got 1 \(type=int\)"),
        (lambda: PolicySet().with_labels(team="a b"), InvalidPolicyError, r"PolicySet\(\): labels"),
        (lambda: PolicySet().with_labels({"team": 1}), DslUsageError, r"expected string keys and values"),
        (lambda: PolicySet(namespace="a").compile("b"), DslUsageError, r"got namespace='b'"),
    ],
)
def test_policyset_misuse(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_add_never_mutates():
    base = PolicySet(namespace="a")
    grown = base.add(deny_all())
    assert base.statements == () and len(grown) == 1
    assert base.with_labels(x="y").labels == (("x", "y"),) and base.labels == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.namespace = "b"  # type: ignore[misc]


def test_repr_rebuilds_the_set():
    import netpol_dsl

    ps = (
        PolicySet(namespace="a", halves="ingress")
        .with_labels(team="x")
        .with_annotations(note="y")
        .add(deny_all(), allow(FRONTEND).to(API).on(80))
    )
    env = {name: getattr(netpol_dsl, name) for name in netpol_dsl.__all__}
    assert eval(repr(ps), env) == ps


def test_to_yaml_and_write_round_trip(tmp_path):
    ps = PolicySet(namespace="payments").add(deny_all(), allow(FRONTEND).to(API).on(8080))
    docs = [d for d in yaml.safe_load_all(ps.to_yaml())]
    assert [d["metadata"]["name"] for d in docs] == [p.name for p in ps.compile()]
    paths = ps.write(tmp_path / "out")
    assert [p.name for p in paths] == [
        "payments.allow-egress-from-frontend.yaml",
        "payments.allow-ingress-to-api-server.yaml",
        "payments.default-deny-all.yaml",
    ]
    loaded = load_manifests([str(p) for p in paths]).policies
    assert sorted(loaded, key=lambda p: p.name) == ps.compile()


def test_file_name():
    assert file_name(NetworkPolicy(metadata=ObjectMeta(name="x.y", namespace="a"))) == "a.x.y.yaml"


# ------------------------------------------------------------------ collect


def _module(**attrs):
    mod = types.ModuleType("policies_mod")
    for k, v in attrs.items():
        setattr(mod, k, v)
    return mod


def test_collect_prefers_policies():
    a = PolicySet(namespace="a").add(deny_all())
    b = PolicySet(namespace="b").add(deny_all())
    assert [p.key for p in collect(_module(policies=a, other=b))] == ["a/default-deny-all"]


def test_collect_gathers_public_sets_and_policies():
    a = PolicySet(namespace="a").add(deny_all())
    raw = NetworkPolicy(metadata=ObjectMeta(name="raw", namespace="z"))
    got = collect({"team_a": a, "raw": raw, "_private": PolicySet(namespace="q").add(deny_all()),
                   "frontend": FRONTEND, "n": 3, "many": [raw]})
    assert [p.key for p in got] == ["a/default-deny-all", "z/raw"]


def test_collect_accepts_callables_lists_and_statements():
    assert [p.key for p in collect(lambda: PolicySet(namespace="a").add(deny_all()))] == ["a/default-deny-all"]
    assert [p.key for p in collect([deny_all("b"), deny_all("a")])] == ["a/default-deny-all", "b/default-deny-all"]
    assert [p.key for p in collect(deny_all("a"))] == ["a/default-deny-all"]


@pytest.mark.parametrize(
    ("source", "error", "pattern"),
    [
        ({"x": 1}, DslUsageError, r"defines no policies; expected a module-level `policies`"),
        (_module(), DslUsageError, r"policies_mod defines no policies"),
        (42, DslUsageError, r"collect\(\): got 42 \(type=int\)"),
        ([deny_all("a"), deny_all("a", direction="egress", name="default-deny-all")], RenderError,
         r"two different policies are named 'a/default-deny-all'"),
    ],
)
def test_collect_errors(source, error, pattern):
    with pytest.raises(error, match=pattern):
        collect(source)


def test_collect_keeps_one_copy_of_the_same_policy():
    a = PolicySet(namespace="a").add(deny_all())
    assert [p.key for p in collect({"x": a, "y": a})] == ["a/default-deny-all"]


def test_an_every_port_entry_covers_numbered_ports_of_its_protocol():
    from netpol_dsl import all_udp

    ps = PolicySet(namespace="p").add(allow(FRONTEND).to(API).on(udp(53), all_udp(), 80).ingress_only())
    assert by_name(ps)["allow-ingress-to-api-server"]["spec"]["ingress"][0]["ports"] == [
        {"protocol": "TCP", "port": 80},
        {"protocol": "UDP"},
    ]
