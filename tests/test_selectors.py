"""Selectors: constructors, & | ~, their mapping onto Kubernetes peers, and every misuse."""

from __future__ import annotations

import dataclasses

import pytest

from netpol_dsl import (
    DoesNotExist,
    DslUsageError,
    Exists,
    In,
    InvalidPolicyError,
    NotIn,
    UnrepresentableError,
    all_namespaces,
    all_pods,
    anywhere,
    ip_block,
    namespace,
    namespaces,
    pods,
)
from netpol_dsl.selectors import NAMESPACE_NAME_LABEL, And, Namespaces, Or, Pods, Req

NS = NAMESPACE_NAME_LABEL


def peer_dicts(sel, policy_namespace="payments", home=None):
    peers = sel.peers(policy_namespace=policy_namespace, home=home)
    return None if peers is None else [p.to_dict() for p in peers]


# ------------------------------------------------------------------ constructors


def test_pods_match_labels_and_expressions():
    sel = pods(app=In("b", "a"), tier=NotIn("db"), canary=Exists(), legacy=DoesNotExist())
    assert peer_dicts(sel) == [
        {
            "podSelector": {
                "matchExpressions": [
                    {"key": "app", "operator": "In", "values": ["a", "b"]},
                    {"key": "canary", "operator": "Exists"},
                    {"key": "legacy", "operator": "DoesNotExist"},
                    {"key": "tier", "operator": "NotIn", "values": ["db"]},
                ]
            }
        }
    ]


def test_pods_exact_values_are_match_labels():
    assert peer_dicts(pods(app="frontend", tier="web")) == [
        {"podSelector": {"matchLabels": {"app": "frontend", "tier": "web"}}}
    ]


def test_pods_takes_a_mapping_for_keys_that_are_not_python_names():
    sel = pods({"app.kubernetes.io/name": "api"}, tier="x")
    assert peer_dicts(sel) == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api", "tier": "x"}}}
    ]


def test_all_pods_is_an_empty_pod_selector():
    assert peer_dicts(all_pods()) == [{"podSelector": {}}]


def test_namespace_by_name_uses_the_metadata_name_label():
    assert peer_dicts(namespace("monitoring")) == [
        {"namespaceSelector": {"matchLabels": {NS: "monitoring"}}}
    ]


def test_namespace_with_several_names_is_in():
    assert peer_dicts(namespace("a", "b")) == [
        {"namespaceSelector": {"matchExpressions": [{"key": NS, "operator": "In", "values": ["a", "b"]}]}}
    ]


def test_namespaces_by_label_and_all_namespaces():
    assert peer_dicts(namespaces(team="payments")) == [
        {"namespaceSelector": {"matchLabels": {"team": "payments"}}}
    ]
    assert peer_dicts(all_namespaces()) == [{"namespaceSelector": {}}]


def test_ip_block_with_except():
    assert peer_dicts(ip_block("10.0.0.0/8", except_=["10.1.0.0/16"])) == [
        {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}
    ]


def test_anywhere_is_no_peer_list():
    assert anywhere().peers(policy_namespace="x") is None
    assert (pods(app="a") | anywhere()).peers(policy_namespace="x") is None


# ------------------------------------------------------------------ AND / OR


def test_namespace_and_pods_is_one_peer():
    # The lesson's Prometheus rule: both selectors in the same `from` item.
    sel = namespace("monitoring") & pods(app="prometheus")
    assert peer_dicts(sel) == [
        {
            "podSelector": {"matchLabels": {"app": "prometheus"}},
            "namespaceSelector": {"matchLabels": {NS: "monitoring"}},
        }
    ]


def test_or_is_several_peers():
    sel = namespace("monitoring") | pods(app="prometheus")
    assert peer_dicts(sel) == [
        {"namespaceSelector": {"matchLabels": {NS: "monitoring"}}},
        {"podSelector": {"matchLabels": {"app": "prometheus"}}},
    ]


def test_and_distributes_over_or():
    sel = (pods(app="a") | pods(app="b")) & namespace("x")
    assert peer_dicts(sel) == [
        {"podSelector": {"matchLabels": {"app": "a"}}, "namespaceSelector": {"matchLabels": {NS: "x"}}},
        {"podSelector": {"matchLabels": {"app": "b"}}, "namespaceSelector": {"matchLabels": {NS: "x"}}},
    ]


def test_and_of_pod_selectors_ands_requirements():
    assert peer_dicts(pods(app="a") & pods(tier=NotIn("db"))) == [
        {
            "podSelector": {
                "matchLabels": {"app": "a"},
                "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}],
            }
        }
    ]


def test_in_namespace_is_and_namespace():
    assert pods(app="a").in_namespace("x") == namespace("x") & pods(app="a")


def test_operators_flatten_and_keep_written_order():
    a, b, c = pods(a="1"), pods(b="2"), pods(c="3")
    assert (a & (b & c)) == And(items=(a, b, c))
    assert ((a | b) | c) == Or(items=(a, b, c))
    assert (c & a).items == (c, a)


def test_bare_pods_in_a_policy_of_another_namespace_name_their_home():
    # A bare pods(...) means the set's (home) namespace; rendered elsewhere it must say so.
    assert peer_dicts(pods(app="api"), policy_namespace="db", home="payments") == [
        {"podSelector": {"matchLabels": {"app": "api"}}, "namespaceSelector": {"matchLabels": {NS: "payments"}}}
    ]


def test_bare_pods_without_any_home_raise():
    from netpol_dsl.selectors import _term_peer

    with pytest.raises(DslUsageError, match=r"has no namespace.*in_namespace"):
        _term_peer(pods(app="api")._terms()[0], policy_namespace="db", home=None)


# ------------------------------------------------------------------ NOT


@pytest.mark.parametrize(
    ("sel", "expected"),
    [
        (~pods(app="a"), pods(app=NotIn("a"))),
        (~pods(app=NotIn("a", "b")), pods(app=In("a", "b"))),
        (~pods(canary=Exists()), pods(canary=DoesNotExist())),
        (~pods(legacy=DoesNotExist()), pods(legacy=Exists())),
        (~pods(a="1", b="2"), pods(a=NotIn("1")) | pods(b=NotIn("2"))),
        (~(pods(a="1") | pods(b="2")), pods(a=NotIn("1"), b=NotIn("2"))),
        (~~pods(a="1"), pods(a="1")),
    ],
)
def test_negation_pushes_down_to_requirements(sel, expected):
    assert sel == expected


def test_negating_a_namespace_qualified_selector_complements_in_the_cluster():
    sel = ~(namespace("monitoring") & pods(app="prometheus"))
    assert sel == ~namespace("monitoring") | all_namespaces() & pods(app=NotIn("prometheus"))
    assert peer_dicts(sel) == [
        {"namespaceSelector": {"matchExpressions": [{"key": NS, "operator": "NotIn", "values": ["monitoring"]}]}},
        {"podSelector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["prometheus"]}]},
         "namespaceSelector": {}},
    ]


def test_negating_an_ip_block_is_the_rest_of_its_family():
    sel = ~ip_block("10.0.0.0/8", except_=["10.1.0.0/16"])
    assert sel == ip_block("0.0.0.0/0", except_=["10.0.0.0/8"]) | ip_block("10.1.0.0/16")
    assert ~ip_block("2001:db8::/32") == ip_block("::/0", except_=["2001:db8::/32"])


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda: ~all_pods(), r"negation selects nothing; omit the rule"),
        (lambda: ~all_namespaces(), r"negation selects nothing"),
        (lambda: ~anywhere(), r"~anywhere\(\) selects nothing"),
        (lambda: ~ip_block("0.0.0.0/0"), r"selects no address"),
        (lambda: ~(pods(app="a") | namespace("x")), r"mix of bare pods.*in_namespace"),
        (lambda: ~(pods(app="a") | ip_block("10.0.0.0/8")), r"mix of ip_block"),
    ],
)
def test_unrepresentable_negations(make, pattern):
    with pytest.raises(UnrepresentableError, match=pattern):
        make()


# ------------------------------------------------------------------ misuse


@pytest.mark.parametrize(
    "use",
    [
        lambda a, b: a and b,
        lambda a, b: a or b,
        lambda a, b: not a,
        lambda a, b: bool(a),
        lambda a, b: 1 if a else 0,
    ],
)
def test_python_boolean_operators_raise_naming_the_operators(use):
    with pytest.raises(TypeError, match=r"ambiguous; use & \| ~ instead of and/or/not"):
        use(pods(app="a"), pods(app="b"))


def test_in_operator_raises():
    with pytest.raises(TypeError, match=r"`x in selector` always coerces to bool; use selector.matches"):
        _ = {"app": "a"} in pods(app="a")


@pytest.mark.parametrize(
    ("use", "pattern"),
    [
        (lambda s: s & "tier=db", r"expected a Selector, such as pods\(\{'tier': 'db'\}\), but got other='tier=db' \(type=str\)"),
        (lambda s: "tier=db" | s, r"but got other='tier=db' \(type=str\)"),
        (lambda s: s | {"tier": "db"}, r"such as pods\(\{'tier': 'db'\}\)"),
        (lambda s: {"tier": "db"} & s, r"type=dict"),
    ],
)
def test_str_and_mapping_operands_get_a_hint(use, pattern):
    with pytest.raises(DslUsageError, match=pattern):
        use(pods(app="a"))


def test_other_operands_are_not_implemented():
    with pytest.raises(TypeError, match="unsupported operand"):
        _ = pods(app="a") & 3


def test_ip_block_and_pods_says_use_or():
    with pytest.raises(UnrepresentableError, match=r"ipBlock cannot share a peer.*use \|"):
        ip_block("10.0.0.0/8") & pods(app="x")
    with pytest.raises(UnrepresentableError, match=r"use \|"):
        namespace("x") & ip_block("10.0.0.0/8")


def test_contradiction_is_refused_with_a_hint():
    with pytest.raises(UnrepresentableError, match=r"can never match.*Did you mean \| \(either\), or In"):
        pods(app="a") & pods(app="b")
    with pytest.raises(UnrepresentableError, match="can never match"):
        pods(canary=Exists()) & pods(canary=DoesNotExist())


def test_anywhere_and_x_is_refused():
    with pytest.raises(DslUsageError, match=r"anywhere\(\) already includes every peer"):
        anywhere() & pods(app="a")


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: pods(), DslUsageError, r"pods\(\): got no labels.*all_pods\(\)"),
        (lambda: namespaces(), DslUsageError, r"namespaces\(\): got no labels.*all_namespaces\(\)"),
        (lambda: namespace(), DslUsageError, r"namespace\(\): got no name"),
        (lambda: pods(app=3), DslUsageError, r"got app=3 \(type=int\).*write app='3'"),
        (lambda: pods(app=["a", "b"]), DslUsageError, r"For several values write app=In"),
        (lambda: pods(app="bad value!"), InvalidPolicyError, r"got app='bad value!'; expected a label value"),
        (lambda: pods({"a/b/c": "x"}), InvalidPolicyError, r"got label key 'a/b/c'; expected a label key"),
        (lambda: pods({"app": "a"}, app="b"), DslUsageError, r"got label key 'app' twice"),
        (lambda: pods("app=web"), DslUsageError, r"expected a mapping of labels"),
        (lambda: namespace("Payments"), InvalidPolicyError, r"namespace\(\): got 'Payments'; expected a namespace name"),
        (lambda: namespace(3), DslUsageError, r"got 3 \(type=int\)"),
        (lambda: In(), DslUsageError, r"In\(\): got no values"),
        (lambda: NotIn(1), DslUsageError, r"NotIn\(\): got 1 \(type=int\).*write '1'"),
        (lambda: In("a b"), InvalidPolicyError, r"expected a label value"),
        (lambda: ip_block("10.0.0.1"), InvalidPolicyError, r"Did you mean '10.0.0.1/32'\?"),
        (lambda: ip_block("10.0.0.0/8", except_="10.1.0.0/16"), DslUsageError, r"except_=\['10.1.0.0/16'\]"),
        (lambda: ip_block("10.0.0.0/8", except_=["11.0.0.0/16"]), InvalidPolicyError, r"strict subset"),
        (lambda: ip_block(10), DslUsageError, r"type=int"),
        (lambda: ip_block("10.0.0.0/8", except_=[1]), DslUsageError, r"except_ entry 1"),
        (lambda: namespace("x").in_namespace("y"), DslUsageError, r"already has a namespace"),
        (lambda: And(items=(pods(a="1"),)), DslUsageError, r"expected at least two.*all_pods"),
        (lambda: Or(items=()), DslUsageError, r"expected at least two"),
    ],
)
def test_misuse_raises_with_hint(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_selectors_are_immutable():
    sel = pods(app="a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        sel.requirements = ()  # type: ignore[misc]
    before = repr(sel)
    _ = sel & pods(b="1"), sel | pods(b="1"), ~sel, sel.in_namespace("x")
    assert repr(sel) == before


def test_equality_and_hash_are_structural():
    assert pods(app="a") == pods(app="a")
    assert {pods(app="a"), pods(app="a"), namespace("x")} == {pods(app="a"), namespace("x")}
    assert pods(app="a") != namespaces(app="a")


# ------------------------------------------------------------------ repr


@pytest.mark.parametrize(
    "sel",
    [
        pods(app="frontend"),
        pods({"app.kubernetes.io/name": "api"}, tier=NotIn("db")),
        pods(app=In("a", "b"), canary=Exists(), legacy=DoesNotExist()),
        pods({"class": "x"}),
        all_pods(),
        namespace("monitoring"),
        namespace("a", "b"),
        ~namespace("a"),
        namespaces(team="payments"),
        all_namespaces(),
        ip_block("10.0.0.0/8", except_=["10.1.0.0/16"]),
        anywhere(),
        namespace("monitoring") & pods(app="prometheus"),
        (pods(a="1") | pods(b="2")) & namespace("x"),
        pods(a="1") | pods(b="2") & namespace("x"),
        ~(namespace("monitoring") & pods(app="prometheus")),
        ~(pods(a="1") | pods(a="2")),
        ~pods(a="1", b="2"),
        pods(a=NotIn("1")) & pods(a=NotIn("2")),
    ],
)
def test_repr_is_dsl_code_that_rebuilds_the_object(sel):
    env = {
        name: obj
        for name, obj in globals().items()
        if name in {"pods", "all_pods", "namespace", "namespaces", "all_namespaces", "ip_block",
                    "anywhere", "In", "NotIn", "Exists", "DoesNotExist"}
    }
    assert eval(repr(sel), env) == sel


def test_repr_examples():
    assert repr(namespace("monitoring") & pods(app="prometheus")) == (
        "namespace('monitoring') & pods(app='prometheus')"
    )
    assert repr((pods(a="1") | pods(b="2")) & namespace("x")) == (
        "(pods(a='1') | pods(b='2')) & namespace('x')"
    )
    assert repr(pods({"class": "x"})) == "pods({'class': 'x'})"


# ------------------------------------------------------------------ matches / targets


def test_matches_follows_kubernetes_semantics():
    sel = pods(tier=NotIn("db"))
    assert sel.matches({}) and sel.matches({"tier": "web"}) and not sel.matches({"tier": "db"})
    both = namespace("monitoring") & pods(app="prometheus")
    assert both.matches({"app": "prometheus"}, {NS: "monitoring"})
    assert not both.matches({"app": "prometheus"}, {NS: "payments"})
    assert not both.matches({"app": "attacker"}, {NS: "monitoring"})
    assert not ip_block("0.0.0.0/0").matches({})
    assert anywhere().matches({"x": "y"})


def test_targets_name_a_namespace_and_pod_selector():
    got = [(ns, s.to_dict()) for ns, s in (namespace("m") & pods(app="p")).targets(home="x")]
    assert got == [("m", {"matchLabels": {"app": "p"}})]
    assert [(ns, s.to_dict()) for ns, s in namespace("m").targets()] == [("m", {})]


@pytest.mark.parametrize(
    ("sel", "pattern"),
    [
        (namespaces(team="a") & pods(app="p"), "names no single namespace"),
        (all_namespaces(), "names no single namespace"),
        (pods(app="p"), "has no namespace"),
        (ip_block("10.0.0.0/8"), "outside the cluster"),
        (namespace("a") & namespaces(team="x"), "beyond the namespace's name"),
    ],
)
def test_targets_that_cannot_be_placed(sel, pattern):
    with pytest.raises(UnrepresentableError, match=pattern):
        sel.targets()


# ------------------------------------------------------------------ representative pods


def test_representative_pod():
    assert (namespace("monitoring") & pods(app="prometheus"))._representative() == (
        "monitoring", {"app": "prometheus"}, None
    )
    assert pods(app="api", legacy=DoesNotExist()).in_namespace("payments")._representative() == (
        "payments", {"app": "api"}, None
    )
    assert (namespace("x") & namespaces(team="t"))._representative() == (
        "x", {}, {NS: "x", "team": "t"}
    )


@pytest.mark.parametrize(
    ("sel", "pattern"),
    [
        (pods(app="a").in_namespace("x") | pods(app="b").in_namespace("x"), "an OR has no single representative"),
        (pods(tier=NotIn("db")).in_namespace("x"), r"label 'tier' NotIn \['db'\] has no single representative"),
        (pods(app=In("a", "b")).in_namespace("x"), "has no single representative"),
        (pods(canary=Exists()).in_namespace("x"), "has no single representative"),
        (pods(app="a"), r"expected a namespace; write .in_namespace"),
        (namespaces(team="a") & pods(app="b"), "expected a namespace named with namespace"),
        (ip_block("10.0.0.0/8"), "is not a pod"),
    ],
)
def test_no_representative_pod(sel, pattern):
    with pytest.raises(DslUsageError, match=pattern):
        sel._representative()


def test_req_rejects_bad_keys():
    with pytest.raises(InvalidPolicyError, match="expected a label key"):
        Req(key="", operator="Exists")


def test_leaf_constructors_validate_too():
    with pytest.raises(UnrepresentableError, match="can never match"):
        Pods(requirements=(Req(key="a", operator="Exists"), Req(key="a", operator="DoesNotExist")))
    with pytest.raises(UnrepresentableError, match="can never match"):
        Namespaces(requirements=(Req(key="a", operator="In", values=("1",)),
                                 Req(key="a", operator="NotIn", values=("1",))))
