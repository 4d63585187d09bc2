"""Validation = kube-apiserver create validation, case for case.

The first part transcribes upstream's tests:

* ``pkg/apis/networking/validation/validation_test.go`` ``TestValidateNetworkPolicy``: every
  success case and every error case, built with the same tweak functions
  (``makeNetworkPolicyCustom``, ``setIngressFromIPBlockIPV4``, ``makePort`` ...). Upstream only
  asserts that an error case fails; the field paths expected here are the ones
  ``validation.go`` reports for each case (``ValidateNetworkPolicyPort``/``Peer``/``Spec``,
  ``ValidateIPBlock``), which the held-out corpus checks.
* apimachinery helper tests: ``content/dns_test.go`` (``TestIsDNS1123Label``/``Subdomain``),
  ``content/kube_test.go`` (``TestIsLabelKey``, ``TestIsLabelValue``),
  ``util/validation/validation_test.go`` (``TestIsValidPortName``, ``TestIsValidPortNum``) and
  ``api/validation/ip_test.go`` (``TestIsValidCIDR``: legacy and strict columns), each run both
  on the ``_rules`` function and through ``load_policy`` at the field where the rule applies.

The second part tests every rule on both sides of its boundary.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from netpol_dsl import InvalidPolicyError, load_manifests, load_policy
from netpol_dsl import _rules as rules

Policy = dict[str, Any]
Tweak = Callable[[Policy], None]


# ----------------------------------------------------------------------------- helpers


def make_valid() -> Policy:
    """``makeValidNetworkPolicy``: foo in bar, podSelector a=b."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "foo", "namespace": "bar"},
        "spec": {"podSelector": {"matchLabels": {"a": "b"}}},
    }


def custom(*tweaks: Tweak) -> Policy:
    """``makeNetworkPolicyCustom``."""
    policy = make_valid()
    for tweak in tweaks:
        tweak(policy)
    return policy


def port(protocol: str | None, value: int | str, end_port: int = 0) -> dict[str, Any]:
    """``makePort``: port 0, "" and "0" mean no port; endPort 0 means none."""
    out: dict[str, Any] = {}
    if protocol is not None:
        out["protocol"] = protocol
    if value not in (0, "", "0"):
        out["port"] = value
    if end_port:
        out["endPort"] = end_port
    return out


def paths_of(policy: Policy, **kw: Any) -> list[str]:
    with pytest.raises(InvalidPolicyError) as info:
        load_policy(policy, **kw)
    return [i.path for i in info.value.issues]


# Tweaks, named as upstream's closures in TestValidateNetworkPolicy.


def set_ingress_empty_first_element(np: Policy) -> None:
    np["spec"]["ingress"] = [{}]


def set_ingress_from_empty_first_element(np: Policy) -> None:
    if "ingress" not in np["spec"]:
        set_ingress_empty_first_element(np)
    np["spec"]["ingress"][0]["from"] = [{}]


def set_ingress_from_if_empty(np: Policy) -> None:
    if "ingress" not in np["spec"]:
        set_ingress_empty_first_element(np)
    if "from" not in np["spec"]["ingress"][0]:
        set_ingress_from_empty_first_element(np)


def set_ingress_empty_ports(np: Policy) -> None:
    np["spec"]["ingress"] = [{"ports": [{}]}]


def set_ingress_ports(*ports: dict[str, Any]) -> Tweak:
    def tweak(np: Policy) -> None:
        if "ingress" not in np["spec"]:
            set_ingress_empty_first_element(np)
        np["spec"]["ingress"][0]["ports"] = copy.deepcopy(list(ports))

    return tweak


def set_ingress_from_pod_selector(k: str, v: str) -> Tweak:
    def tweak(np: Policy) -> None:
        set_ingress_from_if_empty(np)
        np["spec"]["ingress"][0]["from"][0]["podSelector"] = {"matchLabels": {k: v}}

    return tweak


def set_ingress_from_namespace_selector(np: Policy) -> None:
    set_ingress_from_if_empty(np)
    np["spec"]["ingress"][0]["from"][0]["namespaceSelector"] = {"matchLabels": {"c": "d"}}


def set_ingress_from_ip_block_ipv4(np: Policy) -> None:
    set_ingress_from_if_empty(np)
    np["spec"]["ingress"][0]["from"][0]["ipBlock"] = {
        "cidr": "192.168.0.0/16", "except": ["192.168.3.0/24", "192.168.4.0/24"]}


def set_ingress_from_ip_block_ipv6(np: Policy) -> None:
    set_ingress_from_if_empty(np)
    np["spec"]["ingress"][0]["from"][0]["ipBlock"] = {
        "cidr": "fd00:192:168::/48", "except": ["fd00:192:168:3::/64", "fd00:192:168:4::/64"]}


def set_egress_empty_first_element(np: Policy) -> None:
    np["spec"]["egress"] = [{}]


def set_egress_to_empty_first_element(np: Policy) -> None:
    if "egress" not in np["spec"]:
        set_egress_empty_first_element(np)
    np["spec"]["egress"][0]["to"] = [{}]


def set_egress_to_if_empty(np: Policy) -> None:
    if "egress" not in np["spec"]:
        set_egress_empty_first_element(np)
    if "to" not in np["spec"]["egress"][0]:
        set_egress_to_empty_first_element(np)


def set_egress_to_namespace_selector(np: Policy) -> None:
    set_egress_to_if_empty(np)
    np["spec"]["egress"][0]["to"][0]["namespaceSelector"] = {"matchLabels": {"c": "d"}}


def set_egress_to_pod_selector(np: Policy) -> None:
    set_egress_to_if_empty(np)
    np["spec"]["egress"][0]["to"][0]["podSelector"] = {"matchLabels": {"c": "d"}}


def set_egress_to_ip_block_ipv4(np: Policy) -> None:
    set_egress_to_if_empty(np)
    np["spec"]["egress"][0]["to"][0]["ipBlock"] = {
        "cidr": "192.168.0.0/16", "except": ["192.168.3.0/24", "192.168.4.0/24"]}


def set_egress_to_ip_block_ipv6(np: Policy) -> None:
    set_egress_to_if_empty(np)
    np["spec"]["egress"][0]["to"][0]["ipBlock"] = {
        "cidr": "fd00:192:168::/48", "except": ["fd00:192:168:3::/64", "fd00:192:168:4::/64"]}


def set_egress_ports(*ports: dict[str, Any]) -> Tweak:
    def tweak(np: Policy) -> None:
        if "egress" not in np["spec"]:
            set_egress_empty_first_element(np)
        np["spec"]["egress"][0]["ports"] = copy.deepcopy(list(ports))

    return tweak


def set_policy_types_egress(np: Policy) -> None:
    np["spec"]["policyTypes"] = ["Egress"]


def set_policy_types_ingress_egress(np: Policy) -> None:
    np["spec"]["policyTypes"] = ["Ingress", "Egress"]


def setter(path: str, value: Any) -> Tweak:
    """Set ``value`` at a dotted path of keys and list indexes (``spec.ingress.0.from``)."""
    def tweak(np: Policy) -> None:
        node: Any = np
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        last = parts[-1]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return tweak


INVALID_SELECTOR = {"NoUppercaseOrSpecialCharsLike=Equals": "b"}
TCP, UDP, SCTP, ICMP = "TCP", "UDP", "SCTP", "ICMP"

# ------------------------------------------------- upstream TestValidateNetworkPolicy

UPSTREAM_SUCCESS: list[Policy] = [
    custom(set_ingress_empty_first_element),
    custom(set_ingress_from_empty_first_element, set_ingress_empty_ports),
    custom(set_ingress_ports(port(None, 80), port(TCP, 0), port(TCP, 443), port(UDP, "dns"),
                             port(SCTP, 7777))),
    custom(set_ingress_from_pod_selector("c", "d")),
    custom(set_ingress_from_namespace_selector),
    custom(set_ingress_from_pod_selector("e", "f"), set_ingress_from_namespace_selector),
    custom(set_egress_to_namespace_selector, set_ingress_from_ip_block_ipv4),
    custom(set_ingress_from_ip_block_ipv4),
    custom(set_egress_to_ip_block_ipv4, set_policy_types_egress),
    custom(set_egress_to_ip_block_ipv4, set_policy_types_ingress_egress),
    custom(set_egress_ports(port(None, 80), port(TCP, 0), port(TCP, 443), port(UDP, "dns"),
                            port(SCTP, 7777))),
    custom(set_egress_to_namespace_selector, set_ingress_from_ip_block_ipv6),
    custom(set_ingress_from_ip_block_ipv6),
    custom(set_egress_to_ip_block_ipv6, set_policy_types_egress),
    custom(set_egress_to_ip_block_ipv6, set_policy_types_ingress_egress),
    custom(set_egress_ports(port(None, 32000, 32768), port(UDP, "dns"))),
    custom(set_egress_to_namespace_selector,
           set_egress_ports(port(None, 30000, 32768), port(None, 32000, 32768)),
           set_ingress_from_pod_selector("e", "f"),
           set_ingress_ports(port(TCP, 32768, 32768))),
]


@pytest.mark.parametrize("policy", UPSTREAM_SUCCESS, ids=lambda p: str(p["spec"])[:60])
def test_upstream_success_cases_load(policy):
    loaded = load_policy(policy)
    assert loaded.key == "bar/foo"
    assert loaded.spec.pod_selector.match_labels == {"a": "b"}


def _replace_spec_with_invalid_pod_selector(np: Policy) -> None:
    np["spec"] = {"podSelector": {"matchLabels": dict(INVALID_SELECTOR)}}


def _from0(key: str, value: Any) -> Tweak:
    return setter(f"spec.ingress.0.from.0.{key}", value)


#: name -> (policy, field paths validation.go reports for it)
UPSTREAM_ERRORS: dict[str, tuple[Policy, list[str]]] = {
    "namespaceSelector and ipBlock": (
        custom(set_ingress_from_namespace_selector, set_ingress_from_ip_block_ipv4),
        ["spec.ingress[0].from[0]"]),
    "podSelector and ipBlock": (
        custom(set_egress_to_pod_selector, set_egress_to_ip_block_ipv4),
        ["spec.egress[0].to[0]"]),
    "missing from and to type": (
        custom(set_ingress_from_empty_first_element, set_egress_to_empty_first_element),
        ["spec.ingress[0].from[0]", "spec.egress[0].to[0]"]),
    "invalid spec.podSelector": (
        custom(set_ingress_from_namespace_selector, _replace_spec_with_invalid_pod_selector),
        ["spec.podSelector.matchLabels"]),
    "invalid ingress.ports.protocol": (
        custom(set_ingress_ports(port(ICMP, 80))), ["spec.ingress[0].ports[0].protocol"]),
    "invalid ingress.ports.port (int)": (
        custom(set_ingress_ports(port(TCP, 123456789))), ["spec.ingress[0].ports[0].port"]),
    "invalid ingress.ports.port (str)": (
        custom(set_ingress_ports(port(TCP, "!@#$"))), ["spec.ingress[0].ports[0].port"]),
    "invalid ingress.from.podSelector": (
        custom(set_ingress_from_empty_first_element,
               _from0("podSelector", {"matchLabels": dict(INVALID_SELECTOR)})),
        ["spec.ingress[0].from[0].podSelector.matchLabels"]),
    "invalid egress.to.podSelector": (
        custom(set_egress_to_empty_first_element,
               setter("spec.egress.0.to.0.podSelector",
                      {"matchLabels": dict(INVALID_SELECTOR)})),
        ["spec.egress[0].to[0].podSelector.matchLabels"]),
    "invalid egress.ports.protocol": (
        custom(set_egress_ports(port(ICMP, 80))), ["spec.egress[0].ports[0].protocol"]),
    "invalid egress.ports.port (int)": (
        custom(set_egress_ports(port(TCP, 123456789))), ["spec.egress[0].ports[0].port"]),
    "invalid egress.ports.port (str)": (
        custom(set_egress_ports(port(TCP, "!@#$"))), ["spec.egress[0].ports[0].port"]),
    "invalid ingress.from.namespaceSelector": (
        custom(set_ingress_from_empty_first_element,
               _from0("namespaceSelector", {"matchLabels": dict(INVALID_SELECTOR)})),
        ["spec.ingress[0].from[0].namespaceSelector.matchLabels"]),
    "missing cidr field": (
        custom(set_ingress_from_ip_block_ipv4, _from0("ipBlock.cidr", "")),
        ["spec.ingress[0].from[0].ipBlock.cidr"]),
    "invalid cidr format": (
        custom(set_ingress_from_ip_block_ipv4, _from0("ipBlock.cidr", "192.168.5.6")),
        ["spec.ingress[0].from[0].ipBlock.cidr"]),
    "invalid ipv6 cidr format": (
        custom(set_ingress_from_ip_block_ipv6, _from0("ipBlock.cidr", "fd00:192:168::")),
        ["spec.ingress[0].from[0].ipBlock.cidr"]),
    "except field is an empty string": (
        custom(set_ingress_from_ip_block_ipv4, _from0("ipBlock.except", [""])),
        ["spec.ingress[0].from[0].ipBlock.except[0]"]),
    "except field is an space string": (
        custom(set_ingress_from_ip_block_ipv4, _from0("ipBlock.except", [" "])),
        ["spec.ingress[0].from[0].ipBlock.except[0]"]),
    "except field is an invalid ip": (
        custom(set_ingress_from_ip_block_ipv4, _from0("ipBlock.except", ["300.300.300.300"])),
        ["spec.ingress[0].from[0].ipBlock.except[0]"]),
    "except IP is outside of CIDR range": (
        custom(set_ingress_from_empty_first_element,
               _from0("ipBlock", {"cidr": "192.168.8.0/24", "except": ["192.168.9.1/32"]})),
        ["spec.ingress[0].from[0].ipBlock.except[0]"]),
    "except IP is not strictly within CIDR range": (
        custom(set_ingress_from_empty_first_element,
               _from0("ipBlock", {"cidr": "192.168.0.0/24", "except": ["192.168.0.0/24"]})),
        ["spec.ingress[0].from[0].ipBlock.except[0]"]),
    "except IPv6 is outside of CIDR range": (
        custom(set_ingress_from_empty_first_element,
               _from0("ipBlock", {"cidr": "fd00:192:168:1::/64",
                                  "except": ["fd00:192:168:2::/64"]})),
        ["spec.ingress[0].from[0].ipBlock.except[0]"]),
    "invalid policyTypes": (
        custom(set_egress_to_ip_block_ipv4, setter("spec.policyTypes", ["foo", "bar"])),
        ["spec.policyTypes[0]", "spec.policyTypes[1]"]),
    "too many policyTypes": (
        custom(set_egress_to_ip_block_ipv4, setter("spec.policyTypes", ["foo", "bar", "baz"])),
        ["spec.policyTypes"]),
    "multiple ports defined, one port range is invalid": (
        custom(set_egress_to_namespace_selector,
               set_egress_ports(port(UDP, 35000, 32768), port(None, 32000, 32768))),
        ["spec.egress[0].ports[0].endPort"]),
    "endPort defined with named/string port": (
        custom(set_egress_to_namespace_selector,
               set_egress_ports(port(UDP, "dns", 32768), port(None, 32000, 32768))),
        ["spec.egress[0].ports[0].endPort"]),
    "endPort defined without port defined": (
        custom(set_egress_to_namespace_selector, set_egress_ports(port(TCP, 0, 32768))),
        ["spec.egress[0].ports[0].endPort"]),
    "port is greater than endPort": (
        custom(set_egress_to_namespace_selector, set_egress_ports(port(SCTP, 35000, 32768))),
        ["spec.egress[0].ports[0].endPort"]),
    "multiple invalid port ranges defined": (
        custom(set_egress_to_namespace_selector,
               set_egress_ports(port(UDP, 35000, 32768), port(TCP, 0, 32768),
                                port(TCP, "https", 32768))),
        ["spec.egress[0].ports[0].endPort", "spec.egress[0].ports[1].endPort",
         "spec.egress[0].ports[2].endPort"]),
    "invalid endport range defined": (
        custom(set_egress_to_namespace_selector, set_egress_ports(port(TCP, 30000, 65537))),
        ["spec.egress[0].ports[0].endPort"]),
}


@pytest.mark.parametrize("name", sorted(UPSTREAM_ERRORS))
def test_upstream_error_cases_report_upstream_paths(name):
    policy, expected = UPSTREAM_ERRORS[name]
    # Exactly upstream's errors: every expected path, and nothing else.
    assert sorted(paths_of(policy)) == sorted(expected)


def test_upstream_error_issue_carries_value_and_expectation():
    policy, _ = UPSTREAM_ERRORS["invalid ingress.ports.port (int)"]
    with pytest.raises(InvalidPolicyError, match=r"ports\[0\]\.port: got 123456789") as info:
        load_policy(policy)
    (issue,) = info.value.issues
    assert issue.value == 123456789
    assert issue.expected == "1..65535 or a port name such as 'http'"
    assert issue.source == "bar/foo"


# ------------------------------------------------ questions the brief asks of upstream


def test_empty_from_list_is_valid_and_means_all_sources():
    # validation.go loops over ingress.From; zero peers is no error (success case 2 upstream).
    policy = load_policy(custom(setter("spec.ingress", [{"from": []}])))
    assert policy.spec.ingress is not None
    assert policy.spec.ingress[0].peers == ()


def test_duplicated_policy_types_are_valid():
    # ValidateNetworkPolicySpec: len <= 2 and each allowed; duplicates are not checked.
    policy = load_policy(custom(setter("spec.policyTypes", ["Ingress", "Ingress"])))
    assert policy.spec.effective_policy_types == ("Ingress",)


def test_three_policy_types_even_if_valid_is_one_error_on_the_list():
    paths = paths_of(custom(setter("spec.policyTypes", ["Ingress", "Egress", "Ingress"])))
    assert paths == ["spec.policyTypes"]


def test_exists_with_values_is_forbidden_at_values():
    expr = {"key": "tier", "operator": "Exists", "values": ["x"]}
    paths = paths_of(custom(setter("spec.podSelector", {"matchExpressions": [expr]})))
    assert paths == ["spec.podSelector.matchExpressions[0].values"]


def test_does_not_exist_with_values_is_forbidden_at_values():
    expr = {"key": "tier", "operator": "DoesNotExist", "values": ["x"]}
    paths = paths_of(custom(setter("spec.podSelector", {"matchExpressions": [expr]})))
    assert paths == ["spec.podSelector.matchExpressions[0].values"]


@pytest.mark.parametrize("values", [None, []])
def test_in_without_values_is_required_at_values(values):
    expr: dict[str, Any] = {"key": "tier", "operator": "In"}
    if values is not None:
        expr["values"] = values
    with pytest.raises(InvalidPolicyError, match="at least one value") as info:
        load_policy(custom(setter("spec.podSelector", {"matchExpressions": [expr]})))
    (issue,) = info.value.issues
    assert issue.path == "spec.podSelector.matchExpressions[0].values"
    assert issue.missing


def test_empty_match_expressions_key_is_invalid_at_key():
    expr = {"key": "", "operator": "Exists"}
    paths = paths_of(custom(setter("spec.podSelector", {"matchExpressions": [expr]})))
    assert paths == ["spec.podSelector.matchExpressions[0].key"]


def test_unknown_operator_is_invalid_at_operator():
    expr = {"key": "a", "operator": "Equals", "values": ["b"]}
    paths = paths_of(custom(setter("spec.podSelector", {"matchExpressions": [expr]})))
    assert paths == ["spec.podSelector.matchExpressions[0].operator"]


def test_invalid_selector_value_is_reported_at_its_index():
    # AllowInvalidLabelValueInSelector is false on create.
    expr = {"key": "a", "operator": "In", "values": ["ok", "not ok"]}
    paths = paths_of(custom(setter("spec.podSelector", {"matchExpressions": [expr]})))
    assert paths == ["spec.podSelector.matchExpressions[0].values[1]"]


@pytest.mark.parametrize("name", ["Foo", "FOO", "foo_bar", "foo.", "-foo", "foo bar"])
def test_uppercase_and_other_bad_names_are_invalid_at_metadata_name(name):
    assert paths_of(custom(setter("metadata.name", name))) == ["metadata.name"]


@pytest.mark.parametrize("namespace", ["Bar", "bar.baz", "-bar", "b" * 64])
def test_bad_namespaces_are_invalid_at_metadata_namespace(namespace):
    assert paths_of(custom(setter("metadata.namespace", namespace))) == ["metadata.namespace"]


def test_missing_name_is_required():
    policy = make_valid()
    del policy["metadata"]["name"]
    with pytest.raises(InvalidPolicyError, match=r"metadata\.name: got nothing") as info:
        load_policy(policy)
    assert [(i.path, i.missing) for i in info.value.issues] == [("metadata.name", True)]


def test_missing_namespace_is_required_by_load_policy():
    # ValidateObjectMeta(requiresNamespace=true) reports Required at metadata.namespace.
    policy = make_valid()
    del policy["metadata"]["namespace"]
    with pytest.raises(InvalidPolicyError, match="pass namespace=") as info:
        load_policy(policy)
    assert [(i.path, i.missing) for i in info.value.issues] == [("metadata.namespace", True)]


def test_namespace_argument_fills_in_a_missing_namespace_as_the_request_does():
    policy = make_valid()
    del policy["metadata"]["namespace"]
    assert load_policy(policy, namespace="payments").key == "payments/foo"
    assert load_policy(make_valid(), namespace="bar").key == "bar/foo"


def test_namespace_argument_that_disagrees_is_an_error():
    with pytest.raises(InvalidPolicyError, match="request namespace 'other'") as info:
        load_policy(make_valid(), namespace="other")
    (issue,) = info.value.issues
    assert (issue.path, issue.value) == ("metadata.namespace", "bar")


def test_load_manifests_accepts_policies_without_namespace():
    # Manifest files usually leave the namespace to `kubectl -n`; see also test_load.py.
    policy = make_valid()
    del policy["metadata"]["namespace"]
    (loaded,) = load_manifests(policy).policies
    assert loaded.namespace is None
    (filled,) = load_manifests(policy, namespace="ns").policies
    assert filled.namespace == "ns"


def test_generate_name_is_validated_as_a_prefix_and_names_the_object():
    policy = make_valid()
    del policy["metadata"]["name"]
    policy["metadata"]["generateName"] = "allow-"
    assert load_policy(policy).metadata.generate_name == "allow-"
    policy["metadata"]["generateName"] = "Allow-"
    assert sorted(paths_of(policy)) == ["metadata.generateName", "metadata.name"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("generation", -1), ("finalizers", ["a/b/c"]),
     ("finalizers", ["orphan", "foregroundDeletion"]), ("generateName", 5)],
)
def test_other_metadata_rules(field, value):
    assert paths_of(custom(setter(f"metadata.{field}", value))) == [f"metadata.{field}"]


def test_owner_references_are_checked_without_an_index():
    ref = {"apiVersion": "", "kind": "", "name": "x", "uid": ""}
    paths = paths_of(custom(setter("metadata.ownerReferences", [ref])))
    assert sorted(paths) == ["metadata.ownerReferences.apiVersion",
                             "metadata.ownerReferences.kind", "metadata.ownerReferences.uid"]


def test_owner_reference_rules_on_controller_and_events():
    good = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "x", "uid": "1",
            "controller": True}
    load_policy(custom(setter("metadata.ownerReferences", [good])))
    event = {"apiVersion": "v1", "kind": "Event", "name": "x", "uid": "1"}
    assert paths_of(custom(setter("metadata.ownerReferences", [good, good, event]))) == [
        "metadata.ownerReferences", "metadata.ownerReferences"]
    assert paths_of(custom(setter("metadata.ownerReferences", "x"))) == [
        "metadata.ownerReferences"]


def test_finalizers_of_the_wrong_type():
    assert paths_of(custom(setter("metadata.finalizers", "x"))) == ["metadata.finalizers"]
    assert paths_of(custom(setter("metadata.generation", "1"))) == ["metadata.generation"]


# --------------------------------------------------- defaulting and Go's null decoding


def test_protocol_defaults_to_tcp_and_policy_types_to_ingress_plus_egress_rules():
    # pkg/apis/networking/v1/defaults.go: SetDefaults_NetworkPolicyPort/Spec.
    policy = load_policy(custom(set_egress_ports(port(None, 53))))
    assert policy.spec.egress is not None and policy.spec.egress[0].ports is not None
    assert policy.spec.egress[0].ports[0].effective_protocol == "TCP"
    assert policy.spec.effective_policy_types == ("Ingress", "Egress")
    assert load_policy(make_valid()).spec.effective_policy_types == ("Ingress",)


@pytest.mark.parametrize(
    ("tweak", "expected"),
    [
        (setter("spec", None), None),
        (setter("spec.podSelector", None), None),
        (setter("spec.ingress", None), None),
        (setter("spec.ingress", [None]), None),
        (setter("spec.ingress", [{"from": None, "ports": [None]}]), None),
        (setter("metadata.labels", {"a": None}), None),
        (setter("spec.ingress", [{"from": [None]}]), ["spec.ingress[0].from[0]"]),
        (setter("spec.ingress", [{"from": [{"ipBlock": {"cidr": None}}]}]),
         ["spec.ingress[0].from[0].ipBlock.cidr"]),
        (setter("spec.ingress", [{"from": [{"ipBlock": {}}]}]),
         ["spec.ingress[0].from[0].ipBlock.cidr"]),
        (setter("spec.podSelector", {"matchExpressions": [{}]}),
         ["spec.podSelector.matchExpressions[0].key",
          "spec.podSelector.matchExpressions[0].operator"]),
        (setter("metadata", None), ["metadata.name", "metadata.namespace"]),
    ],
)
def test_null_and_missing_decode_to_go_zero_values(tweak, expected):
    policy = custom(tweak)
    if expected is None:
        load_policy(policy)
    else:
        assert sorted(paths_of(policy)) == expected


def test_null_label_value_is_the_empty_string():
    policy = load_policy(custom(setter("metadata.labels", {"a": None})))
    assert policy.metadata.labels == {"a": ""}


# ------------------------------------------------------------ every problem reported


def test_type_error_in_a_map_does_not_hide_sibling_rules():
    policy = custom(setter("metadata.labels", {"app": 1.0, "bad key!": "x"}),
                    setter("metadata.name", "Bad_Name"))
    with pytest.raises(InvalidPolicyError) as info:
        load_policy(policy)
    got = sorted(((i.path, i.value) for i in info.value.issues), key=repr)
    assert got == sorted([("metadata.labels", 1.0), ("metadata.labels", "bad key!"),
                          ("metadata.name", "Bad_Name")], key=repr)


def test_peer_reports_selector_problems_and_its_own_rule_together():
    peer = {"podSelector": {"matchLabels": dict(INVALID_SELECTOR)},
            "ipBlock": {"cidr": "10.0.0.0/8"}}
    paths = paths_of(custom(setter("spec.ingress", [{"from": [peer]}])))
    assert sorted(paths) == ["spec.ingress[0].from[0]",
                             "spec.ingress[0].from[0].podSelector.matchLabels"]


def test_peer_with_a_broken_ip_block_still_counts_it_as_present():
    peer = {"namespaceSelector": {}, "ipBlock": {"cidr": 10}}
    paths = paths_of(custom(setter("spec.egress", [{"to": [peer]}])))
    assert sorted(paths) == ["spec.egress[0].to[0]", "spec.egress[0].to[0].ipBlock.cidr"]


def test_unknown_field_in_a_peer_leaves_an_empty_peer():
    # Strict decoding refuses "pod_selector" (the wire name is podSelector); what is left is
    # an empty peer, which ValidateNetworkPolicyPeer refuses too.
    with pytest.raises(InvalidPolicyError, match="Unknown field 'pod_selector'") as info:
        load_policy(custom(setter("spec.ingress", [{"from": [{"pod_selector": {}}]}])))
    assert sorted(i.path for i in info.value.issues) == [
        "spec.ingress[0].from[0]", "spec.ingress[0].from[0].pod_selector"]


def test_many_problems_across_the_object_are_all_listed():
    policy = custom(
        setter("metadata.name", "UPPER"),
        setter("spec.policyTypes", ["Ingress", "Sideways"]),
        setter("spec.ingress", [{"ports": [{"port": 0, "protocol": "tcp"}, {"port": 1.5}],
                                 "from": [{}, {"ipBlock": {"cidr": "10.0.0.1/8",
                                                           "except": ["11.0.0.0/16"]}}]}]),
    )
    assert sorted(paths_of(policy)) == [
        "metadata.name",
        "spec.ingress[0].from[0]",
        "spec.ingress[0].from[1].ipBlock.cidr",
        "spec.ingress[0].from[1].ipBlock.except[0]",
        "spec.ingress[0].ports[0].port",
        "spec.ingress[0].ports[0].protocol",
        "spec.ingress[0].ports[1].port",
        "spec.policyTypes[1]",
    ]


def test_broken_port_skips_the_end_port_rules_that_need_it():
    paths = paths_of(custom(set_ingress_ports({"port": [80], "endPort": 1})))
    assert paths == ["spec.ingress[0].ports[0].port"]


def test_broken_end_port_keeps_the_port_rules():
    paths = paths_of(custom(set_ingress_ports({"port": 0, "endPort": "90"})))
    assert sorted(paths) == ["spec.ingress[0].ports[0].endPort", "spec.ingress[0].ports[0].port"]


def test_broken_values_skip_the_operator_rule():
    expr = {"key": "a b", "operator": "In", "values": [1]}
    paths = paths_of(custom(setter("spec.podSelector", {"matchExpressions": [expr]})))
    assert sorted(paths) == ["spec.podSelector.matchExpressions[0].key",
                             "spec.podSelector.matchExpressions[0].values[0]"]


def test_broken_except_list_keeps_the_cidr_rule():
    block = {"cidr": "10.0.0.1/8", "except": "10.1.0.0/16"}
    paths = paths_of(custom(set_ingress_from_empty_first_element, _from0("ipBlock", block)))
    assert sorted(paths) == ["spec.ingress[0].from[0].ipBlock.cidr",
                             "spec.ingress[0].from[0].ipBlock.except"]


def test_broken_policy_types_entry_is_a_type_error_at_its_index():
    assert paths_of(custom(setter("spec.policyTypes", ["Ingress", 7]))) == [
        "spec.policyTypes[1]"]


# --------------------------------------------- apimachinery helper tests, transcribed

DNS1123_LABEL_GOOD = ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a",
                      "1-a", "1--a--b--2", "a" * 63]
DNS1123_LABEL_BAD = ["", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1",
                     "_", "a_", "_a", "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "a.b", "1.",
                     ".1", "1.2", " ", "a ", " a", "a b", "1 ", " 1", "1 2", "a" * 64,
                     "a\n"]

DNS1123_SUBDOMAIN_GOOD = [
    "a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a", "1--a--b--2",
    "a.a", "ab.a", "abc.a", "a1.a", "a-1.a", "a--1--2--b.a", "a.1", "ab.1", "abc.1", "a1.1",
    "a-1.1", "a--1--2--b.1", "0.a", "01.a", "012.a", "1a.a", "1-a.a", "0.1", "01.1", "012.1",
    "1a.1", "1-a.1", "1--a--b--2.1", "a.b.c.d.e", "aa.bb.cc.dd.ee", "1.2.3.4.5",
    "11.22.33.44.55", "a" * 253,
]
DNS1123_SUBDOMAIN_BAD = [
    "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_", "_a",
    "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "a..b", "1.", ".1", "1..2", " ", "a ", " a",
    "a b", "1 ", " 1", "1 2", "A.a", "aB.a", "ab.A", "A1.a", "a1.A", "A.1", "aB.1", "A1.1",
    "1A.1", "0.A", "01.A", "012.A", "1A.a", "1a.A", "A.B.C.D.E", "AA.BB.CC.DD.EE",
    "a.B.c.d.e", "aa.bB.cc.dd.ee", "a@b", "a,b", "a;b", "a:b", "a%b", "a?b", "a$b", "a" * 254,
]

LABEL_KEY_GOOD = ["simple", "now-with-dashes", "1-starts-with-num", "1234", "simple/simple",
                  "now-with-dashes/simple", "now-with-dashes/now-with-dashes",
                  "now.with.dots/simple", "now-with.dashes-and.dots/simple", "1-num.2-num/3-num",
                  "1234/5678", "1.2.3.4/5678", "Uppercase_Is_OK_123",
                  "example.com/Uppercase_Is_OK_123", "requests.storage-foo", "a" * 63,
                  "a" * 253 + "/" + "b" * 63]
LABEL_KEY_BAD = ["nospecialchars%^=@", "cantendwithadash-", "-cantstartwithadash-",
                 "only/one/slash", "Example.com/abc", "example_com/abc", "example.com/",
                 "/simple", "a" * 64, "a" * 254 + "/abc", "", "NoUppercaseOrSpecialCharsLike=Equals"]

LABEL_VALUE_GOOD = ["simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234",
                    "a" * 63, ""]
LABEL_VALUE_BAD = ["nospecialchars%^=@", "Tama-nui-te-rā.is.Māori.sun", "\\backslashes\\are\\bad",
                   "-starts-with-dash", "ends-with-dash-", ".starts.with.dot", "ends.with.dot.",
                   "a" * 64]

PORT_NAME_GOOD = ["telnet", "re-mail-ck", "pop3", "a", "a-1", "1-a", "a-1-b-2-c", "1-a-2-b-3"]
PORT_NAME_BAD = ["longerthan15characters", "", "a" * 16, "12345", "1-2-3-4", "-begin", "end-",
                 "two--hyphens", "whois++", "1-2"]

PORT_NUM_GOOD = [1, 2, 1000, 16384, 32768, 65535]
PORT_NUM_BAD = [0, -1, 65536, 100000]


@pytest.mark.parametrize("value", DNS1123_LABEL_GOOD)
def test_dns1123_label_good(value):
    assert rules.dns1123_label(value) == []
    load_policy(custom(setter("metadata.namespace", value)))


@pytest.mark.parametrize("value", [v for v in DNS1123_LABEL_BAD if v])
def test_dns1123_label_bad(value):
    assert rules.dns1123_label(value)
    assert paths_of(custom(setter("metadata.namespace", value))) == ["metadata.namespace"]


@pytest.mark.parametrize("value", DNS1123_SUBDOMAIN_GOOD)
def test_dns1123_subdomain_good(value):
    assert rules.dns1123_subdomain(value) == []
    load_policy(custom(setter("metadata.name", value)))


@pytest.mark.parametrize("value", DNS1123_SUBDOMAIN_BAD)
def test_dns1123_subdomain_bad(value):
    assert rules.dns1123_subdomain(value)
    assert paths_of(custom(setter("metadata.name", value))) == ["metadata.name"]


@pytest.mark.parametrize("key", LABEL_KEY_GOOD)
def test_label_key_good(key):
    assert rules.qualified_name(key) == []
    load_policy(custom(setter("spec.podSelector.matchLabels", {key: "v"}),
                       setter("metadata.labels", {key: "v"})))
    expr = {"key": key, "operator": "Exists"}
    load_policy(custom(setter("spec.podSelector.matchExpressions", [expr])))


@pytest.mark.parametrize("key", LABEL_KEY_BAD)
def test_label_key_bad(key):
    assert rules.qualified_name(key)
    assert set(paths_of(custom(setter("spec.podSelector.matchLabels", {key: "v"}),
                               setter("metadata.labels", {key: "v"})))) == {
        "spec.podSelector.matchLabels", "metadata.labels"}
    expr = {"key": key, "operator": "Exists"}
    assert set(paths_of(custom(setter("spec.podSelector.matchExpressions", [expr])))) == {
        "spec.podSelector.matchExpressions[0].key"}


@pytest.mark.parametrize("value", LABEL_VALUE_GOOD)
def test_label_value_good(value):
    assert rules.label_value(value) == []
    load_policy(custom(setter("spec.podSelector.matchLabels", {"k": value})))


@pytest.mark.parametrize("value", LABEL_VALUE_BAD)
def test_label_value_bad(value):
    assert rules.label_value(value)
    assert set(paths_of(custom(setter("spec.podSelector.matchLabels", {"k": value}),
                               setter("metadata.labels", {"k": value})))) == {
        "spec.podSelector.matchLabels", "metadata.labels"}


@pytest.mark.parametrize("name", PORT_NAME_GOOD)
def test_port_name_good(name):
    assert rules.port_name(name) == []
    load_policy(custom(set_ingress_ports({"port": name})))


@pytest.mark.parametrize("name", PORT_NAME_BAD)
def test_port_name_bad(name):
    assert rules.port_name(name)
    if name:  # makePort treats "" as no port; an explicit "" is still a bad name
        assert paths_of(custom(set_ingress_ports({"port": name}))) == [
            "spec.ingress[0].ports[0].port"]


@pytest.mark.parametrize("number", PORT_NUM_GOOD)
def test_port_number_good(number):
    assert rules.port_number(number) == []
    load_policy(custom(set_ingress_ports({"port": number, "endPort": number})))


@pytest.mark.parametrize("number", PORT_NUM_BAD)
def test_port_number_bad(number):
    assert rules.port_number(number) == ["between 1 and 65535, inclusive"]
    assert paths_of(custom(set_ingress_ports({"port": number}))) == [
        "spec.ingress[0].ports[0].port"]


# ip_test.go TestIsValidCIDR: (value, legacy error, strict error); None means valid.
CIDR_CASES: list[tuple[str, str | None, str | None]] = [
    ("1.0.0.0/8", None, None),
    ("0.0.0.0/0", None, None),
    ("1.1.1.1/32", None, None),
    ("2001:4860:4860::/48", None, None),
    ("::/0", None, None),
    ("::1/128", None, None),
    ("2a00:79e0:2:0::/64", None, None),  # non-canonical, fine for legacy fields
    ("2001:DB8::/64", None, None),
    ("1.1.01.0/24", None, "must not have leading 0s in IP"),
    ("::ffff:1.1.1.0/24", None, "must not have an IPv4-mapped IPv6 address"),
    ("::ffff:1.1.1.0/120", None, "must not have an IPv4-mapped IPv6 address"),
    ("1.2.3.4/24", None, "must not have bits set beyond the prefix length"),
    ("2001:db8::1/64", None, "must not have bits set beyond the prefix length"),
    ("192.168.0.0/016", None, "must not have leading 0s"),
    ("", "must be a valid CIDR value", "must be a valid CIDR value"),
    ("aaaaaaa", "must be a valid CIDR value", "must be a valid CIDR value"),
    ("1.2.3.4", "must be a valid CIDR value", "must be a valid CIDR value"),
    ("192.168.0.1/healthz", "must be a valid CIDR value", "must be a valid CIDR value"),
    ("192.168.0.1/0/99", "must be a valid CIDR value", "must be a valid CIDR value"),
    ("192.168.0.0/-16", "must be a valid CIDR value", "must be a valid CIDR value"),
    ("192.168.0.0/+16", "must be a valid CIDR value", "must be a valid CIDR value"),
]


@pytest.mark.parametrize(("value", "legacy", "strict"), CIDR_CASES)
def test_cidr_rules_as_upstream(value, legacy, strict):
    parsed = rules.parse_cidr(value)
    if legacy is None:
        assert parsed.network is not None
    else:
        assert parsed.network is None and parsed.error is not None
        assert legacy in parsed.error
    if strict is None:
        assert parsed.strict_errors == ()
    elif legacy is None:
        assert len(parsed.strict_errors) == 1 and strict in parsed.strict_errors[0]
    policy = custom(set_ingress_from_empty_first_element, _from0("ipBlock", {"cidr": value}))
    if strict is None:
        load_policy(policy)
    else:
        assert paths_of(policy) == ["spec.ingress[0].from[0].ipBlock.cidr"]
    if legacy is None:
        load_policy(policy, lenient_cidr=True)
    else:
        assert paths_of(policy, lenient_cidr=True) == ["spec.ingress[0].from[0].ipBlock.cidr"]


# ---------------------------------------------------------- both sides of every bound


def _ingress_port(**fields: Any) -> Policy:
    return custom(set_ingress_ports(fields))


BOUNDARIES: list[tuple[str, Policy, list[str]]] = [
    ("label name 63", custom(setter("metadata.labels", {"a" * 63: "v"})), []),
    ("label name 64", custom(setter("metadata.labels", {"a" * 64: "v"})), ["metadata.labels"]),
    ("label value 63", custom(setter("metadata.labels", {"k": "v" * 63})), []),
    ("label value 64", custom(setter("metadata.labels", {"k": "v" * 64})), ["metadata.labels"]),
    ("label value empty", custom(setter("metadata.labels", {"k": ""})), []),
    ("label prefix 253", custom(setter("metadata.labels", {"a" * 253 + "/k": ""})), []),
    ("label prefix 254", custom(setter("metadata.labels", {"a" * 254 + "/k": ""})),
     ["metadata.labels"]),
    ("name 253", custom(setter("metadata.name", "a" * 253)), []),
    ("name 254", custom(setter("metadata.name", "a" * 254)), ["metadata.name"]),
    ("namespace 63", custom(setter("metadata.namespace", "n" * 63)), []),
    ("namespace 64", custom(setter("metadata.namespace", "n" * 64)), ["metadata.namespace"]),
    ("port 0", _ingress_port(port=0), ["spec.ingress[0].ports[0].port"]),
    ("port 1", _ingress_port(port=1), []),
    ("port 65535", _ingress_port(port=65535), []),
    ("port 65536", _ingress_port(port=65536), ["spec.ingress[0].ports[0].port"]),
    ("port negative", _ingress_port(port=-1), ["spec.ingress[0].ports[0].port"]),
    ("endPort < port", _ingress_port(port=80, endPort=79), ["spec.ingress[0].ports[0].endPort"]),
    ("endPort == port", _ingress_port(port=80, endPort=80), []),
    ("endPort 65535", _ingress_port(port=80, endPort=65535), []),
    ("endPort 65536", _ingress_port(port=80, endPort=65536), ["spec.ingress[0].ports[0].endPort"]),
    ("endPort < port and 0", _ingress_port(port=80, endPort=0),
     ["spec.ingress[0].ports[0].endPort", "spec.ingress[0].ports[0].endPort"]),
    ("endPort with name", _ingress_port(port="http", endPort=90),
     ["spec.ingress[0].ports[0].endPort"]),
    ("endPort alone", _ingress_port(endPort=90), ["spec.ingress[0].ports[0].endPort"]),
    ("port name 15", _ingress_port(port="a" * 15), []),
    ("port name 16", _ingress_port(port="a" * 16), ["spec.ingress[0].ports[0].port"]),
    ("port name --", _ingress_port(port="a--b"), ["spec.ingress[0].ports[0].port"]),
    ("port name -x", _ingress_port(port="-ab"), ["spec.ingress[0].ports[0].port"]),
    ("port name x-", _ingress_port(port="ab-"), ["spec.ingress[0].ports[0].port"]),
    ("port name digits", _ingress_port(port="8080"), ["spec.ingress[0].ports[0].port"]),
    ("port quoted 80", _ingress_port(port="80"), ["spec.ingress[0].ports[0].port"]),
    ("port name upper", _ingress_port(port="HTTP"), ["spec.ingress[0].ports[0].port"]),
    ("port float", _ingress_port(port=80.0), ["spec.ingress[0].ports[0].port"]),
    ("port bool", _ingress_port(port=True), ["spec.ingress[0].ports[0].port"]),
    ("protocol lowercase", _ingress_port(protocol="tcp"), ["spec.ingress[0].ports[0].protocol"]),
    ("protocol UDP", _ingress_port(protocol="UDP"), []),
    ("protocol SCTP", _ingress_port(protocol="SCTP"), []),
    ("policyTypes 2", custom(set_policy_types_ingress_egress), []),
    ("policyTypes 3", custom(setter("spec.policyTypes", ["Ingress", "Egress", "Egress"])),
     ["spec.policyTypes"]),
    ("policyTypes lowercase", custom(setter("spec.policyTypes", ["ingress"])),
     ["spec.policyTypes[0]"]),
    ("policyTypes empty", custom(setter("spec.policyTypes", [])), []),
]

_BLOCK = "spec.ingress[0].from[0].ipBlock"
CIDR_BOUNDARIES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("except == cidr", {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}, [f"{_BLOCK}.except[0]"]),
    ("except one bit longer", {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/9"]}, []),
    ("except shorter", {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/7"]}, [f"{_BLOCK}.except[0]"]),
    ("except outside", {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]},
     [f"{_BLOCK}.except[0]"]),
    ("except /32 inside", {"cidr": "10.0.0.0/8", "except": ["10.255.255.255/32"]}, []),
    ("except v6 in v4", {"cidr": "0.0.0.0/0", "except": ["::/64"]}, [f"{_BLOCK}.except[0]"]),
    ("except v4 in v6", {"cidr": "::/0", "except": ["10.0.0.0/8"]}, [f"{_BLOCK}.except[0]"]),
    ("second except bad", {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16", "10.0.0.0/8"]},
     [f"{_BLOCK}.except[1]"]),
    ("cidr host bits", {"cidr": "10.0.0.1/8"}, [f"{_BLOCK}.cidr"]),
    ("cidr /32 host", {"cidr": "10.0.0.1/32"}, []),
    ("cidr v6 host bits", {"cidr": "fd00::1/64"}, [f"{_BLOCK}.cidr"]),
    ("cidr leading zero", {"cidr": "010.0.0.0/8"}, [f"{_BLOCK}.cidr"]),
    ("cidr prefix leading zero", {"cidr": "10.0.0.0/08"}, [f"{_BLOCK}.cidr"]),
    ("cidr prefix 0", {"cidr": "0.0.0.0/0"}, []),
    ("cidr prefix 33", {"cidr": "10.0.0.0/33"}, [f"{_BLOCK}.cidr"]),
    ("cidr v6 prefix 128", {"cidr": "fd00::1/128"}, []),
    ("cidr v6 prefix 129", {"cidr": "fd00::/129"}, [f"{_BLOCK}.cidr"]),
    ("cidr mapped", {"cidr": "::ffff:10.0.0.0/104"}, [f"{_BLOCK}.cidr"]),
    ("cidr zone", {"cidr": "fe80::%eth0/64"}, [f"{_BLOCK}.cidr"]),
    ("cidr netmask form", {"cidr": "10.0.0.0/255.0.0.0"}, [f"{_BLOCK}.cidr"]),
    ("cidr no prefix", {"cidr": "10.0.0.0"}, [f"{_BLOCK}.cidr"]),
    ("cidr trailing newline", {"cidr": "10.0.0.0/8\n"}, [f"{_BLOCK}.cidr"]),
    ("cidr unicode digits", {"cidr": "10.0.0.0/\u0668"}, [f"{_BLOCK}.cidr"]),
    ("cidr spaces", {"cidr": " 10.0.0.0/8"}, [f"{_BLOCK}.cidr"]),
    ("except with host bits", {"cidr": "10.0.0.0/8", "except": ["10.1.0.1/16"]},
     [f"{_BLOCK}.except[0]"]),
    ("bad cidr skips except", {"cidr": "nope", "except": ["also nope"]}, [f"{_BLOCK}.cidr"]),
    # Strict cidr errors still leave the subset check to run (ParseCIDRSloppy succeeded); an
    # IPv4-mapped cidr keeps its 128-bit mask length, so a /16 except is not "longer".
    ("mapped cidr with v4 except", {"cidr": "::ffff:10.0.0.0/104", "except": ["10.1.0.0/16"]},
     [f"{_BLOCK}.cidr", f"{_BLOCK}.except[0]"]),
]


@pytest.mark.parametrize(("case", "policy", "expected"), BOUNDARIES,
                         ids=[b[0] for b in BOUNDARIES])
def test_boundaries(case, policy, expected):
    if expected:
        assert sorted(paths_of(policy)) == sorted(expected)
    else:
        load_policy(policy)


@pytest.mark.parametrize(("case", "block", "expected"), CIDR_BOUNDARIES,
                         ids=[b[0] for b in CIDR_BOUNDARIES])
def test_ip_block_boundaries(case, block, expected):
    policy = custom(set_ingress_from_empty_first_element, _from0("ipBlock", block))
    if expected:
        assert sorted(paths_of(policy)) == sorted(expected)
    else:
        load_policy(policy)


def test_annotation_size_bound_is_in_bytes():
    limit = rules.ANNOTATIONS_TOTAL_MAX
    load_policy(custom(setter("metadata.annotations", {"k": "v" * (limit - 1)})))
    assert paths_of(custom(setter("metadata.annotations", {"k": "v" * limit}))) == [
        "metadata.annotations"]
    # "é" is two bytes in UTF-8, as Go's len() counts it.
    half = (limit - 1) // 2 + 1
    assert paths_of(custom(setter("metadata.annotations", {"k": "é" * half}))) == [
        "metadata.annotations"]


def test_annotation_keys_are_case_insensitive_qualified_names():
    load_policy(custom(setter("metadata.annotations", {"Example.COM/Key": "x"})))
    assert paths_of(custom(setter("metadata.annotations", {"a/b/c": "x"}))) == [
        "metadata.annotations"]


def test_lenient_cidr_means_the_network_go_parses_and_warns():
    manifests = load_manifests(custom(set_ingress_from_empty_first_element,
                                      _from0("ipBlock", {"cidr": "10.0.1.1/4"})),
                               lenient_cidr=True)
    (policy,) = manifests.policies
    assert policy.spec.ingress is not None and policy.spec.ingress[0].peers is not None
    block = policy.spec.ingress[0].peers[0].ip_block
    assert block is not None and str(block.network) == "0.0.0.0/4"
    (warning,) = manifests.warnings
    assert warning.path == "spec.ingress[0].from[0].ipBlock.cidr"
    assert "0.0.0.0/4" in warning.expected


def test_mapped_cidr_means_its_ipv4_network_when_lenient():
    parsed = rules.parse_cidr("::ffff:10.1.0.0/112")
    assert str(parsed.network) == "10.1.0.0/16" and parsed.bits == 112
    short = rules.parse_cidr("::ffff:1.1.1.0/24")
    assert str(short.network) == "::/24"


def test_cidr_hint_for_a_bare_address():
    policy = custom(set_ingress_from_empty_first_element, _from0("ipBlock", {"cidr": "10.0.0.1"}))
    with pytest.raises(InvalidPolicyError, match=r"Did you mean '10\.0\.0\.1/32'\?") as info:
        load_policy(policy)
    assert info.value.issues[0].value == "10.0.0.1"


def test_quoted_port_number_hint():
    with pytest.raises(InvalidPolicyError, match="write 80 unquoted") as info:
        load_policy(_ingress_port(port="80"))
    assert info.value.issues[0].value == "80"


def test_mask_trailing_dash_as_upstream():
    assert rules.mask_trailing_dash("ab-") == "aa"
    assert rules.mask_trailing_dash("-") == "-"
    assert rules.mask_trailing_dash("") == ""


def test_match_labels_that_is_not_a_map_is_one_type_error():
    assert paths_of(custom(setter("spec.podSelector", {"matchLabels": "app=web"}))) == [
        "spec.podSelector.matchLabels"]


def test_metadata_rules_still_run_when_a_sibling_field_has_a_type_error():
    policy = custom(setter("metadata", {"generateName": "Web-", "namespace": "bar",
                                        "labels": ["not", "a", "map"]}))
    assert sorted(paths_of(policy)) == ["metadata.generateName", "metadata.labels",
                                        "metadata.name"]


def test_missing_metadata_with_a_request_namespace():
    policy = make_valid()
    del policy["metadata"]
    assert paths_of(policy, namespace="bar") == ["metadata.name"]
