"""The canonical model: semantics, immutability, direct construction, round-trip properties."""

from __future__ import annotations

import sys
from pathlib import Path

import kubernetes_validate
import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError

from netpol_dsl import (
    InvalidPolicyError,
    IPBlock,
    LabelSelector,
    LabelSelectorRequirement,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicySpec,
    ObjectMeta,
    load_manifests,
    load_policy,
    to_dict,
    to_yaml,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.strategies import budget, label_maps, selectors, valid_policies

#: The Kubernetes schema version kubernetes-validate checks against (bundled, offline).
K8S_SCHEMA = "1.37"

PROPERTY = settings(max_examples=budget(60), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ------------------------------------------------------------------ selector semantics


@pytest.mark.parametrize(
    ("operator", "values", "labels", "expected"),
    [
        ("In", ("a", "b"), {"k": "b"}, True),
        ("In", ("a",), {"k": "c"}, False),
        ("In", ("a",), {}, False),
        ("NotIn", ("a",), {"k": "b"}, True),
        ("NotIn", ("a",), {}, True),  # a missing key matches NotIn
        ("NotIn", ("a",), {"k": "a"}, False),
        ("Exists", None, {"k": ""}, True),
        ("Exists", None, {}, False),
        ("DoesNotExist", None, {}, True),
        ("DoesNotExist", None, {"k": "x"}, False),
    ],
)
def test_requirement_matches(operator, values, labels, expected):
    req = LabelSelectorRequirement(key="k", operator=operator, values=values)
    assert req.matches(labels) is expected


def test_empty_selector_selects_everything_and_requirements_are_anded():
    assert LabelSelector().matches({})
    assert LabelSelector(match_labels={}).is_empty
    both = LabelSelector(
        match_labels={"app": "api"},
        match_expressions=[LabelSelectorRequirement(key="tier", operator="NotIn",
                                                    values=["db"])],
    )
    assert both.matches({"app": "api"})
    assert not both.matches({"app": "api", "tier": "db"})
    assert not both.matches({"tier": "web"})
    assert not both.is_empty
    assert sorted(both.keys()) == ["app", "tier"]
    assert [(r.key, r.operator) for r in both.requirements()] == [("app", "In"),
                                                                   ("tier", "NotIn")]


@given(selectors(), label_maps())
@PROPERTY
def test_selector_matches_agrees_with_its_requirements(selector, labels):
    assert selector.matches(labels) == all(r.matches(labels) for r in selector.requirements())


# ----------------------------------------------------------------------- IPBlock


def test_ip_block_contains():
    block = IPBlock(cidr="10.0.0.0/8", except_=["10.1.0.0/16"])
    assert block.contains("10.2.3.4")
    assert not block.contains("10.1.2.3")
    assert not block.contains("11.0.0.1")
    assert not block.contains("not an ip")
    assert not block.contains("fd00::1")
    assert [str(n) for n in block.except_networks] == ["10.1.0.0/16"]
    v6 = IPBlock(cidr="fd00::/8")
    assert v6.contains("fd00::1") and not v6.contains("10.0.0.1")


def test_ip_block_contains_ipv4_mapped_pod_ip_as_ipv4():
    assert IPBlock(cidr="10.0.0.0/8").contains("::ffff:10.1.2.3")


# ---------------------------------------------------------------- policy semantics


def test_policy_types_defaulting():
    assert NetworkPolicySpec().effective_policy_types == ("Ingress",)
    assert NetworkPolicySpec(egress=[NetworkPolicyEgressRule()]).effective_policy_types == (
        "Ingress", "Egress")
    only_egress = NetworkPolicySpec(policy_types=["Egress"], ingress=[NetworkPolicyIngressRule()])
    assert only_egress.effective_policy_types == ("Egress",)
    assert not only_egress.isolates_ingress and only_egress.isolates_egress
    assert NetworkPolicySpec(policy_types=[]).effective_policy_types == ("Ingress",)


def test_rule_peers_and_port_protocol_default():
    assert NetworkPolicyIngressRule(from_=[]).peers == ()
    assert NetworkPolicyEgressRule().peers is None
    assert NetworkPolicyPort().effective_protocol == "TCP"
    assert NetworkPolicyPort(protocol="UDP").effective_protocol == "UDP"


def test_policy_identity_properties():
    policy = NetworkPolicy(metadata=ObjectMeta(name="x", namespace="ns"))
    assert (policy.name, policy.namespace, policy.key) == ("x", "ns", "ns/x")
    unnamespaced = NetworkPolicy(metadata=ObjectMeta(name="x"))
    assert (unnamespaced.namespace, unnamespaced.key) == (None, "x")


def test_models_are_immutable_and_hashable():
    selector = LabelSelector(match_labels={"a": "1"})
    with pytest.raises(ValidationError, match="frozen"):
        selector.match_labels = {}  # type: ignore[misc]
    meta = ObjectMeta(name="x", labels={"a": "1"})
    assert len({selector, LabelSelector(match_labels={"a": "1"})}) == 1
    assert len({meta, ObjectMeta(name="x", labels={"a": "1"})}) == 1


def test_extra_metadata_is_kept():
    policy = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                          "metadata": {"name": "x", "namespace": "n", "uid": "u-1",
                                       "resourceVersion": "7"}})
    assert policy.to_dict()["metadata"] == {"name": "x", "namespace": "n", "uid": "u-1",
                                            "resourceVersion": "7"}


# ----------------------------------------------------------- direct construction


def test_direct_construction_raises_with_wire_paths():
    with pytest.raises(InvalidPolicyError, match=r"from\[0\]: got \{\}") as info:
        NetworkPolicyIngressRule(from_=[{}])
    assert [i.path for i in info.value.issues] == ["from[0]"]
    with pytest.raises(InvalidPolicyError) as info:
        NetworkPolicyIngressRule(from_=[{"ipBlock": {"cidr": "10.0.0.0/8", "except_": ["x"]}}])
    assert [i.path for i in info.value.issues] == ["from[0].ipBlock.except[0]"]


def test_direct_construction_by_name_reports_camel_case_paths():
    with pytest.raises(InvalidPolicyError) as info:
        NetworkPolicySpec(pod_selector={"match_labels": {"a": 5}}, policy_types=["Up"])
    assert sorted(i.path for i in info.value.issues) == ["podSelector.matchLabels",
                                                          "policyTypes[0]"]


def test_direct_construction_validates_every_field():
    with pytest.raises(InvalidPolicyError) as info:
        NetworkPolicyPort(protocol="tcp", port=0, end_port=70000)
    assert sorted((i.path, i.value) for i in info.value.issues) == [
        ("endPort", 70000), ("port", 0), ("protocol", "tcp")]


def test_unknown_field_is_reported_with_a_hint():
    with pytest.raises(InvalidPolicyError, match="Unknown field 'cidrs'") as info:
        IPBlock.model_validate({"cidr": "10.0.0.0/8", "cidrs": []})
    assert info.value.issues[0].path == "cidrs"


def test_model_validate_of_an_instance_returns_it():
    block = IPBlock(cidr="10.0.0.0/8")
    assert NetworkPolicyPeer(ip_block=block).ip_block is block


# ---------------------------------------------------------------------- properties


@given(valid_policies())
@PROPERTY
def test_load_of_to_dict_is_the_policy(policy):
    assert load_policy(policy.to_dict()) == policy


@given(valid_policies())
@PROPERTY
def test_render_load_render_is_byte_identical(policy):
    text = to_yaml(policy)
    (again,) = load_manifests(text).policies
    assert again == policy
    assert to_yaml(again) == text


@given(valid_policies())
@settings(max_examples=budget(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_rendered_policies_pass_kubernetes_validate_strict(policy):
    # kubernetes-validate ships the OpenAPI-derived JSON schemas, so this runs offline;
    # strict mode refuses properties the schema does not define.
    assert kubernetes_validate.validate(to_dict(policy), K8S_SCHEMA, strict=True) == K8S_SCHEMA


def test_kubernetes_validate_strict_refuses_what_we_would_never_render():
    data = to_dict(NetworkPolicy(metadata=ObjectMeta(name="x", namespace="n")))
    data["spec"]["podSelectors"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="podSelectors"):
        kubernetes_validate.validate(data, K8S_SCHEMA, strict=True)
