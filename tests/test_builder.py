"""Flows and ports: allow(...).to(...).on(...), halves, names, immutability, errors."""

from __future__ import annotations

import dataclasses

import pytest

from netpol_dsl import (
    DslUsageError,
    InvalidPolicyError,
    UnrepresentableError,
    all_pods,
    all_sctp,
    all_tcp,
    all_udp,
    allow,
    anywhere,
    ip_block,
    namespace,
    namespaces,
    pods,
    sctp,
    sctp_range,
    tcp,
    tcp_range,
    udp,
    udp_range,
)
from netpol_dsl.builder import AllowFrom, Context, Flow, Port

NS = "kubernetes.io/metadata.name"
FRONTEND = pods(app="frontend")
API = pods(app="api-server")


def specs(statement, namespace="payments"):
    """{name: spec dict} of the compiled statement."""
    return {p.name: p.to_dict()["spec"] for p in statement.compile(namespace)}


# ------------------------------------------------------------------ ports


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        (tcp(8080), {"protocol": "TCP", "port": 8080}),
        (tcp("http"), {"protocol": "TCP", "port": "http"}),
        (udp(53), {"protocol": "UDP", "port": 53}),
        (sctp(3868), {"protocol": "SCTP", "port": 3868}),
        (tcp_range(8000, 9000), {"protocol": "TCP", "port": 8000, "endPort": 9000}),
        (udp_range(1, 2), {"protocol": "UDP", "port": 1, "endPort": 2}),
        (sctp_range(5, 5), {"protocol": "SCTP", "port": 5, "endPort": 5}),
        (all_tcp(), {"protocol": "TCP"}),
        (all_udp(), {"protocol": "UDP"}),
        (all_sctp(), {"protocol": "SCTP"}),
    ],
)
def test_port_constructors(port, expected):
    assert port.to_model().to_dict() == expected
    env = {f.__name__: f for f in (tcp, udp, sctp, tcp_range, udp_range, sctp_range,
                                    all_tcp, all_udp, all_sctp)}
    assert eval(repr(port), env) == port


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: tcp(70000), InvalidPolicyError,
         "tcp(): port: got 70000; expected 1..65535 or a port name such as 'http'"),
        (lambda: udp(0), InvalidPolicyError,
         "udp(): port: got 0; expected 1..65535 or a port name such as 'http'"),
        (lambda: tcp_range(9000, 8000), InvalidPolicyError,
         "tcp_range(): endPort: got 8000; expected a number >= `port` (9000)"),
        (lambda: tcp("80"), InvalidPolicyError, "write 80 unquoted"),
        (lambda: tcp("HTTP"), InvalidPolicyError, "only lowercase letters"),
        (lambda: tcp(True), DslUsageError, "tcp(): got port=True (type=bool); expected a port number or name"),
        (lambda: tcp(80.0), DslUsageError, "got port=80.0 (type=float)"),
        (lambda: tcp_range(1, "2"), DslUsageError, "got end_port='2' (type=str); expected a port number"),
        (lambda: Port(protocol="HTTP", port=80), DslUsageError,
         "Port(): got protocol='HTTP'; expected one of 'TCP', 'UDP', 'SCTP'"),
    ],
)
def test_port_errors(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert message in str(info.value)


def test_port_error_carries_issue_data():
    with pytest.raises(InvalidPolicyError) as info:
        allow(FRONTEND).to(API).on(70000)
    (issue,) = info.value.issues
    assert (issue.path, issue.value, issue.source) == ("port", 70000, "on()")


# ------------------------------------------------------------------ flows


def test_a_flow_yields_both_halves():
    got = specs(allow(FRONTEND).to(API).on(8080))
    assert got == {
        "allow-ingress-to-api-server": {
            "podSelector": {"matchLabels": {"app": "api-server"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"ports": [{"protocol": "TCP", "port": 8080}],
                         "from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}]}],
        },
        "allow-egress-from-frontend": {
            "podSelector": {"matchLabels": {"app": "frontend"}},
            "policyTypes": ["Egress"],
            "egress": [{"ports": [{"protocol": "TCP", "port": 8080}],
                        "to": [{"podSelector": {"matchLabels": {"app": "api-server"}}}]}],
        },
    }


def test_no_on_means_every_port():
    got = specs(allow(FRONTEND).to(API).ingress_only())
    assert got["allow-ingress-to-api-server"]["ingress"] == [
        {"from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}]}
    ]


def test_on_accumulates_and_coerces():
    flow = allow(FRONTEND).to(API).on(8080).on("metrics", udp(53)).on(8080)
    assert flow.ports == (tcp(8080), tcp("metrics"), udp(53))


def test_ingress_only_and_egress_only():
    assert list(specs(allow(FRONTEND).to(API).ingress_only())) == ["allow-ingress-to-api-server"]
    assert list(specs(allow(FRONTEND).to(API).egress_only())) == ["allow-egress-from-frontend"]


def test_external_source_yields_only_the_ingress_half():
    got = specs(allow(ip_block("10.0.0.0/8")).to(API).on(443))
    assert got == {
        "allow-ingress-to-api-server": {
            "podSelector": {"matchLabels": {"app": "api-server"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"ports": [{"protocol": "TCP", "port": 443}],
                         "from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}],
        }
    }


def test_anywhere_destination_yields_an_egress_rule_without_to():
    got = specs(allow(API).to(anywhere()).on(443))
    assert got == {
        "allow-egress-from-api-server": {
            "podSelector": {"matchLabels": {"app": "api-server"}},
            "policyTypes": ["Egress"],
            "egress": [{"ports": [{"protocol": "TCP", "port": 443}]}],
        }
    }


def test_cross_namespace_flow_in_a_cluster_wide_set():
    prom = namespace("monitoring") & pods(app="prometheus")
    api = API.in_namespace("payments")
    got = {p.key: p.to_dict()["spec"] for p in allow(prom).to(api).on(9090).compile()}
    assert got == {
        "monitoring/allow-egress-from-prometheus": {
            "podSelector": {"matchLabels": {"app": "prometheus"}},
            "policyTypes": ["Egress"],
            "egress": [{"ports": [{"protocol": "TCP", "port": 9090}],
                        "to": [{"podSelector": {"matchLabels": {"app": "api-server"}},
                                "namespaceSelector": {"matchLabels": {NS: "payments"}}}]}],
        },
        "payments/allow-ingress-to-api-server": {
            "podSelector": {"matchLabels": {"app": "api-server"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"ports": [{"protocol": "TCP", "port": 9090}],
                         "from": [{"podSelector": {"matchLabels": {"app": "prometheus"}},
                                   "namespaceSelector": {"matchLabels": {NS: "monitoring"}}}]}],
        },
    }


def test_or_target_yields_one_policy_per_alternative():
    got = specs(allow(FRONTEND).to(pods(app="a") | pods(app="b")).on(80))
    assert sorted(got) == ["allow-egress-from-frontend", "allow-ingress-to-a", "allow-ingress-to-b"]
    assert got["allow-egress-from-frontend"]["egress"][0]["to"] == [
        {"podSelector": {"matchLabels": {"app": "a"}}},
        {"podSelector": {"matchLabels": {"app": "b"}}},
    ]


def test_named_flow():
    got = specs(allow(FRONTEND).to(API).on(8080).named("allow-frontend-to-api"))
    assert sorted(got) == ["allow-frontend-to-api", "allow-frontend-to-api-egress"]
    assert got["allow-frontend-to-api"]["policyTypes"] == ["Ingress"]
    assert got["allow-frontend-to-api-egress"]["policyTypes"] == ["Egress"]
    got = specs(allow(FRONTEND).to(API).named("fe-api", egress="fe-out"))
    assert sorted(got) == ["fe-api", "fe-out"]
    assert list(specs(allow(FRONTEND).to(API).egress_only().named("x"))) == ["x"]


def test_flow_halves_override_the_set_default():
    ctx = Context(namespace="payments", halves="ingress")
    flow = allow(FRONTEND).to(API)
    assert [f.policy_types for f in flow.fragments(ctx)] == [("Ingress",)]
    assert [f.policy_types for f in flow.both_halves().fragments(ctx)] == [("Ingress",), ("Egress",)]
    assert [f.policy_types for f in flow.egress_only().fragments(ctx)] == [("Egress",)]


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: allow(FRONTEND).to(API).on(), DslUsageError, r"on\(\): got no ports.*Leave .on\(\) out"),
        (lambda: allow(FRONTEND).to(API).on(8080.5), DslUsageError, r"type=float"),
        (lambda: allow(FRONTEND).to(API).on(True), DslUsageError, r"type=bool"),
        (lambda: allow(FRONTEND).to(API).ingress_only().egress_only(), DslUsageError,
         r"halves of this flow are already chosen \('ingress'\)"),
        (lambda: allow(FRONTEND).to(API).named("a").named("b"), DslUsageError, r"already named 'a'"),
        (lambda: allow(FRONTEND).to(API).named("Bad_Name"), InvalidPolicyError, r"named\(\): got 'Bad_Name'"),
        (lambda: allow("app=web"), DslUsageError, r"Did you mean pods\(\{'app': 'web'\}\)\?"),
        (lambda: allow(FRONTEND).to("api"), DslUsageError, r"to\(\): got 'api'.*namespace\('api'\)"),
        (lambda: allow(3), DslUsageError, r"allow\(\): got 3 \(type=int\)"),
        (lambda: Flow(source=FRONTEND, destination=API, halves="sideways"), DslUsageError, r"halves='sideways'"),
        (lambda: Flow(source=FRONTEND, destination=API, ports=(8080,)), DslUsageError, r"expected a Port"),
        (lambda: Flow(source="x", destination=API), DslUsageError, r"source='x'"),
        (lambda: AllowFrom(source="x"), DslUsageError, r"source='x'"),
    ],
)
def test_flow_misuse(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


@pytest.mark.parametrize(
    ("flow", "namespace", "error", "pattern"),
    [
        (allow(ip_block("10.0.0.0/8")).to(anywhere()), "x", UnrepresentableError,
         r"neither end is a set of pods"),
        (allow(ip_block("10.0.0.0/8")).to(API).egress_only(), "x", UnrepresentableError,
         r"egress half needs a policy on the source's pods.*outside the cluster's pods"),
        (allow(namespaces(team="a")).to(API), "x", UnrepresentableError,
         r"names no single namespace.*Write .ingress_only\(\)"),
        (allow(FRONTEND).to(all_pods().in_namespace("a") | namespaces(team="b")).on(80), "x",
         UnrepresentableError, r"ingress half.*Write .egress_only\(\)"),
        (allow(FRONTEND).to(API), None, UnrepresentableError, r"has no namespace"),
        (allow(FRONTEND).to(pods(app="a") | pods(app="b")).named("n"), "x", UnrepresentableError,
         r"a named flow is one policy per half, but the destination is an OR of 2"),
    ],
)
def test_flows_that_cannot_compile(flow, namespace, error, pattern):
    with pytest.raises(error, match=pattern):
        flow.compile(namespace)


@pytest.mark.parametrize("method", ["on", "ingress_only", "egress_only", "named"])
def test_a_flow_method_before_to_says_to_call_to_first(method):
    # mypy rejects `allow(a).on(80)`; at run time it is a usage error that names the fix.
    stage = allow(FRONTEND)
    with pytest.raises(DslUsageError, match=r"Call \.to\(\.\.\.\) first") as info:
        getattr(stage, method)
    assert isinstance(info.value, TypeError)
    assert str(info.value).startswith(f"allow(pods(app='frontend')).{method}(): got a flow "
                                      "without a destination; expected allow(pods(app='frontend'))"
                                      f".to(destination).{method}(...)")


def test_the_first_stage_still_lacks_other_attributes():
    stage = allow(FRONTEND)
    with pytest.raises(AttributeError, match="'AllowFrom' object has no attribute 'nope'"):
        _ = stage.nope
    assert not hasattr(stage, "nope")


def test_bare_peer_in_a_cluster_wide_set_must_name_its_namespace():
    flow = allow(FRONTEND).to(API.in_namespace("payments")).ingress_only()
    with pytest.raises(DslUsageError, match=r"pods\(app='frontend'\) has no namespace"):
        flow.compile()


def test_builders_never_mutate():
    start = allow(FRONTEND)
    flow = start.to(API)
    snapshot = dataclasses.astuple(flow)
    derived = [flow.on(80), flow.ingress_only(), flow.egress_only(), flow.named("n"), flow.both_halves()]
    assert dataclasses.astuple(flow) == snapshot
    assert all(d is not flow for d in derived)
    assert start == allow(FRONTEND)
    with pytest.raises(dataclasses.FrozenInstanceError):
        flow.ports = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    "flow",
    [
        allow(FRONTEND).to(API),
        allow(FRONTEND).to(API).on(8080, udp(53)),
        allow(FRONTEND).to(API).on(tcp_range(8000, 9000)).ingress_only(),
        allow(FRONTEND).to(API).egress_only().named("a", egress="b"),
        allow(FRONTEND).to(API).both_halves().named("a"),
        allow(ip_block("10.0.0.0/8")).to(API | pods(app="x")),
    ],
)
def test_flow_repr_rebuilds_it(flow):
    import netpol_dsl

    env = {name: getattr(netpol_dsl, name) for name in netpol_dsl.__all__}
    assert eval(repr(flow), env) == flow


def test_flow_repr_example():
    assert repr(allow(FRONTEND).to(API).on(8080).ingress_only().named("x")) == (
        "allow(pods(app='frontend')).to(pods(app='api-server')).on(tcp(8080)).ingress_only().named('x')"
    )


def test_mapping_means_pods_in_the_policy_namespace():
    assert allow({"app": "frontend"}).to({"app": "api-server"}) == allow(FRONTEND).to(API)


# ------------------------------------------------------------------ golden YAML

GOLDEN = __import__("pathlib").Path(__file__).parent / "golden" / "dsl"


def _golden_cases():
    from netpol_dsl import (
        DoesNotExist,
        Exists,
        In,
        NotIn,
        PolicySet,
        allow_dns,
        allow_same_namespace,
        deny_all,
    )

    home = PolicySet(namespace="payments")
    prom = namespace("monitoring") & pods(app="prometheus")
    return {
        "and-is-one-peer": home.add(allow(prom).to(API).on(9090).ingress_only()),
        "or-is-several-peers": home.add(
            allow(FRONTEND | namespace("monitoring") | ip_block("10.0.0.0/8")).to(API).ingress_only()
        ),
        "requirements": home.add(
            allow(pods(app=In("web", "mobile"), tier=NotIn("db"), canary=Exists(),
                       legacy=DoesNotExist())).to(API).ingress_only()
        ),
        "negation": home.add(allow(~pods(app="attacker")).to(API).on(8080).ingress_only()),
        "ports": home.add(
            allow(FRONTEND).to(API)
            .on(8080, "http", udp(53), tcp_range(8000, 9000), sctp(3868), all_udp())
            .ingress_only()
        ),
        "flow-both-halves": home.add(allow(FRONTEND).to(API).on(8080)),
        "flow-named": home.add(allow(FRONTEND).to(API).on(8080).named("allow-frontend-to-api")),
        "external-ends": home.add(
            allow(ip_block("203.0.113.0/24", except_=["203.0.113.128/25"])).to(API).on(443),
            allow(API).to(anywhere()).on(443),
        ),
        "merged-target": home.add(
            allow(FRONTEND).to(API).on(8080),
            allow(pods(app="batch")).to(API).on(8080),
            allow(prom).to(API).on(9090).ingress_only(),
        ),
        "cross-namespace": PolicySet().add(allow(prom).to(API.in_namespace("payments")).on(9090)),
        "nested-sets": PolicySet().add(
            PolicySet(namespace="payments").add(allow(API).to(pods(app="postgres")).on(5432)),
            allow(pods(app="api").in_namespace("shop")).to(API.in_namespace("payments")).on(8080),
        ),
        "baselines": home.add(deny_all(), allow_dns(), allow_same_namespace()),
        "deny-one-direction": home.add(deny_all(direction="ingress")),
        "labels-annotations": home.with_labels(team="payments")
        .with_annotations(owner="payments@example.com")
        .add(deny_all()),
    }


@pytest.mark.parametrize("name", sorted(_golden_cases()))
def test_golden_yaml(name):
    import os

    rendered = _golden_cases()[name].to_yaml()
    path = GOLDEN / f"{name}.yaml"
    if os.environ.get("NETPOL_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; review it after NETPOL_UPDATE_GOLDEN=1"
    assert rendered == path.read_text(encoding="utf-8")
