"""Rendering: API shape, Kubernetes key order, byte-for-byte determinism, golden files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from netpol_dsl import (
    NetworkPolicy,
    ObjectMeta,
    RenderError,
    load_manifests,
    load_policy,
    to_dict,
    to_json,
    to_yaml,
)
from netpol_dsl.model import LabelSelector, NetworkPolicySpec

GOLDEN = Path(__file__).parent / "golden" / "foundation"


def lesson_policies() -> tuple[NetworkPolicy, ...]:
    return load_manifests(GOLDEN / "lesson_input.yaml").policies


def test_yaml_matches_the_golden_file():
    # lesson_input.yaml has its keys out of order; lesson.yaml is the reviewed output.
    assert to_yaml(lesson_policies()) == (GOLDEN / "lesson.yaml").read_text()


def test_json_matches_the_golden_file():
    deny = lesson_policies()[0]
    assert to_json(deny) == (GOLDEN / "deny.json").read_text()


def test_render_load_render_is_byte_identical():
    first = to_yaml(lesson_policies())
    again = to_yaml(load_manifests(first).policies)
    assert again == first


def test_equal_policies_render_identically_whatever_the_map_order():
    a = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": "x", "namespace": "n", "labels": {"b": "2", "a": "1"}},
                     "spec": {"podSelector": {"matchLabels": {"z": "1", "y": "2"}}}})
    b = load_policy({"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1",
                     "spec": {"podSelector": {"matchLabels": {"y": "2", "z": "1"}}},
                     "metadata": {"labels": {"a": "1", "b": "2"}, "namespace": "n", "name": "x"}})
    assert a == b
    assert to_yaml(a) == to_yaml(b)
    assert list(to_dict(a)["metadata"]["labels"]) == ["a", "b"]


def test_to_dict_is_the_api_shape():
    deny = lesson_policies()[0]
    assert to_dict(deny) == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny-all", "namespace": "payments"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    assert list(to_dict(deny)) == ["apiVersion", "kind", "metadata", "spec"]


def test_pod_selector_is_always_present_and_nulls_never_are():
    policy = NetworkPolicy(metadata=ObjectMeta(name="x", namespace="n"),
                           spec=NetworkPolicySpec(pod_selector=LabelSelector()))
    assert policy.to_dict()["spec"] == {"podSelector": {}}
    text = to_yaml(policy)
    assert "null" not in text
    assert yaml.safe_load(text)["spec"] == {"podSelector": {}}


def test_wire_names_from_and_except_round_trip():
    egress = lesson_policies()[2]
    data = to_dict(egress)
    rule = data["spec"]["egress"][0]
    assert rule["to"][0]["ipBlock"] == {"cidr": "10.0.0.0/16", "except": ["10.0.5.0/24"]}
    assert "except_" not in json.dumps(data) and "from_" not in json.dumps(data)
    frontend = to_dict(lesson_policies()[1])
    assert "from" in frontend["spec"]["ingress"][0]
    assert load_policy(data) == egress


def test_single_document_has_no_separator_and_several_do():
    policies = lesson_policies()
    assert not to_yaml(policies[0]).startswith("---")
    assert to_yaml(policies).count("---\n") == len(policies)
    assert to_yaml([]) == ""


def test_json_of_several_is_a_v1_list():
    data = json.loads(to_json(lesson_policies()))
    assert (data["apiVersion"], data["kind"]) == ("v1", "List")
    assert [i["metadata"]["name"] for i in data["items"]] == [
        "default-deny-all", "allow-frontend-to-api", "api-egress"]
    assert to_json(lesson_policies()[0], indent=None).endswith("}")


def test_unicode_stays_readable():
    policy = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                          "metadata": {"name": "x", "namespace": "n",
                                       "annotations": {"note": "café ✓"}}})
    assert "café ✓" in to_yaml(policy)
    assert "café ✓" in to_json(policy)


def test_to_dict_refuses_other_objects():
    with pytest.raises(RenderError, match=r"to_dict\(\): got \{'kind': 'NetworkPolicy'\}") as info:
        to_dict({"kind": "NetworkPolicy"})  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)


def test_to_yaml_refuses_other_objects():
    with pytest.raises(RenderError, match=r"\(type=str\); expected a NetworkPolicy"):
        to_yaml(["not a policy"])  # type: ignore[list-item]
