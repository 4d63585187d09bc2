"""Interop with the official ``kubernetes`` Python client (no cluster needed)."""

from __future__ import annotations

import datetime

import pytest

from netpol_dsl import (
    InvalidPolicyError,
    NetworkPolicy,
    from_client_object,
    load_manifests,
    load_policy,
    to_dict,
)

client = pytest.importorskip("kubernetes.client")


def client_policy(**spec_overrides: object) -> object:
    spec = {
        "pod_selector": client.V1LabelSelector(match_labels={"app": "api"}),
        "policy_types": ["Ingress"],
        "ingress": [client.V1NetworkPolicyIngressRule(
            _from=[
                client.V1NetworkPolicyPeer(
                    ip_block=client.V1IPBlock(cidr="10.0.0.0/8", _except=["10.1.0.0/16"])),
                client.V1NetworkPolicyPeer(
                    namespace_selector=client.V1LabelSelector(match_expressions=[
                        client.V1LabelSelectorRequirement(
                            key="kubernetes.io/metadata.name", operator="In",
                            values=["monitoring"])]),
                    pod_selector=client.V1LabelSelector(match_labels={"app": "prometheus"})),
            ],
            ports=[client.V1NetworkPolicyPort(protocol="TCP", port=8080, end_port=8090),
                   client.V1NetworkPolicyPort(port="metrics")],
        )],
    }
    spec.update(spec_overrides)
    return client.V1NetworkPolicy(
        api_version="networking.k8s.io/v1",
        kind="NetworkPolicy",
        metadata=client.V1ObjectMeta(
            name="allow-api", namespace="payments", labels={"team": "a"},
            creation_timestamp=datetime.datetime(2024, 5, 1, 10, 0,
                                                 tzinfo=datetime.timezone.utc)),
        spec=client.V1NetworkPolicySpec(**spec),
    )


EXPECTED_SPEC = {
    "podSelector": {"matchLabels": {"app": "api"}},
    "policyTypes": ["Ingress"],
    "ingress": [{
        "ports": [{"protocol": "TCP", "port": 8080, "endPort": 8090}, {"port": "metrics"}],
        "from": [
            {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
            {"podSelector": {"matchLabels": {"app": "prometheus"}},
             "namespaceSelector": {"matchExpressions": [
                 {"key": "kubernetes.io/metadata.name", "operator": "In",
                  "values": ["monitoring"]}]}},
        ],
    }],
}


def test_sanitize_for_serialization_output_loads():
    data = client.ApiClient().sanitize_for_serialization(client_policy())
    policy = load_policy(data)
    assert policy.key == "payments/allow-api"
    assert to_dict(policy)["spec"] == EXPECTED_SPEC


def test_client_object_loads_directly():
    policy = load_policy(client_policy())
    assert isinstance(policy, NetworkPolicy)
    assert to_dict(policy)["spec"] == EXPECTED_SPEC
    assert policy.metadata.creation_timestamp == "2024-05-01T10:00:00+00:00"


def test_conversion_agrees_with_the_client_serializer():
    obj = client_policy()
    assert from_client_object(obj) == client.ApiClient().sanitize_for_serialization(obj)


def test_snake_case_to_dict_is_refused_with_hints():
    # The client's to_dict() uses Python attribute names, not the API's: not an API object.
    with pytest.raises(InvalidPolicyError, match="Unknown field 'api_version'") as info:
        load_policy(client_policy().to_dict())
    paths = {i.path for i in info.value.issues}
    assert {"api_version", "spec.pod_selector", "spec.policy_types"} <= paths


def test_invalid_client_object_reports_api_paths():
    bad = client_policy(ingress=[client.V1NetworkPolicyIngressRule(
        ports=[client.V1NetworkPolicyPort(port=70000)])])
    with pytest.raises(InvalidPolicyError, match=r"ports\[0\]\.port: got 70000") as info:
        load_policy(bad)
    assert [i.path for i in info.value.issues] == ["spec.ingress[0].ports[0].port"]
    assert info.value.issues[0].source == "payments/allow-api"


def test_list_response_items_without_kind_load_through_load_manifests():
    # list_namespaced_network_policy() returns items with kind and apiVersion unset.
    item = client_policy()
    item.kind = None
    item.api_version = None
    response = client.V1NetworkPolicyList(items=[item], metadata=client.V1ListMeta())
    manifests = load_manifests(response)
    assert [p.key for p in manifests.policies] == ["payments/allow-api"]
    pods = client.V1PodList(items=[client.V1Pod(metadata=client.V1ObjectMeta(
        name="web", namespace="payments", labels={"app": "web"}))])
    (pod,) = load_manifests([pods]).objects
    assert (pod.kind, pod.data["apiVersion"]) == ("Pod", "v1")


def test_from_client_object_leaves_plain_values_alone():
    assert from_client_object({"a": [1, "x", None]}) == {"a": [1, "x", None]}
    assert from_client_object(datetime.date(2024, 1, 2)) == "2024-01-02"


def test_client_objects_of_other_kinds_are_counted_not_loaded():
    config = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c"), data={"k": "v"})
    manifests = load_manifests(config)
    assert manifests.policies == () and manifests.objects == ()
    assert dict(manifests.skipped) == {"<no kind>": 1}
