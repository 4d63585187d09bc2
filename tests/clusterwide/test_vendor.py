"""Calico and Cilium renderings of the cluster-wide default deny.

Calico's output is validated against Calico's published CRD schema, vendored in
``netpol_dsl/vendor/schemas/calico/`` (projectcalico/calico ``api/config/crd/
projectcalico.org_globalnetworkpolicies.yaml``), and Cilium's against Cilium's (1.18.2, as JSON
Schema, in ``netpol_dsl/vendor/schemas/cilium/``), as kube-apiserver's structural validation with
strict field validation would: types, enums, limits, required fields, ``oneOf``/``anyOf`` and no
unknown fields (CEL rules are not evaluated here). Both outputs are compared with the documented
examples.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from netpol_dsl import DslUsageError, UnrepresentableError
from netpol_dsl.admin import admin, cluster_default_deny
from netpol_dsl.vendor import to_calico, to_cilium

SCHEMAS = Path(__file__).resolve().parents[2] / "netpol_dsl" / "vendor" / "schemas"


def strict(schema: Any) -> Any:
    """An OpenAPI v3 CRD schema as JSON Schema that also refuses unknown fields."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out and not out.get(
                "x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def crd_validator(path: Path) -> jsonschema.Draft7Validator:
    # libyaml when PyYAML has it: the same YAML 1.1 reading of the CRD, several times faster
    crd = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    (version,) = [v for v in crd["spec"]["versions"] if v.get("storage")]
    schema = strict(version["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}
    return jsonschema.Draft7Validator(schema)


@functools.cache
def calico_validator() -> jsonschema.Draft7Validator:
    """Built when a test first needs it (not while pytest collects, in every xdist worker)."""
    return crd_validator(SCHEMAS / "calico" / "projectcalico.org_globalnetworkpolicies.yaml")


def calico_errors(obj):
    return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in calico_validator().iter_errors(obj)]


@pytest.mark.parametrize("baseline", [
    cluster_default_deny(),
    cluster_default_deny(system_namespaces=("kube-system", "calico-system", "calico-apiserver")),
    cluster_default_deny(system_namespaces=(), dns=False),
    cluster_default_deny(dns_labels={"k8s-app": "kube-dns", "app": "a.b-c_D9"}),
])
def test_calico_is_valid_against_the_crd(baseline):
    assert calico_errors(to_calico(baseline)) == []


def test_the_schema_check_can_fail():
    gnp = to_calico(cluster_default_deny())
    bad = copy.deepcopy(gnp)
    bad["spec"]["egress"][0]["action"] = "Accept"
    assert any("'Accept' is not one of" in e for e in calico_errors(bad))
    bad = copy.deepcopy(gnp)
    bad["spec"]["egress"][0]["destination"]["port"] = [53]
    assert any("Additional properties" in e for e in calico_errors(bad))
    bad = copy.deepcopy(gnp)
    bad["spec"]["types"] = ["Ingress", "Egress", "Forward"]
    assert calico_errors(bad)


def test_calico_matches_the_documented_policy():
    # Calico docs, kubernetes-default-deny.mdx (deny-app-policy), with the DNS destination pinned
    # to kube-system and the policy's name.
    expected = yaml.safe_load('''
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: default-deny}
spec:
  namespaceSelector: has(projectcalico.org/name) && projectcalico.org/name not in {"kube-system"}
  types: [Ingress, Egress]
  egress:
  - action: Allow
    protocol: UDP
    destination:
      selector: k8s-app == "kube-dns"
      namespaceSelector: projectcalico.org/name == "kube-system"
      ports: [53]
  - action: Allow
    protocol: TCP
    destination:
      selector: k8s-app == "kube-dns"
      namespaceSelector: projectcalico.org/name == "kube-system"
      ports: [53]
''')
    assert to_calico(cluster_default_deny()) == expected


def test_calico_selector_values_are_quoted():
    gnp = to_calico(cluster_default_deny(dns_labels={"app": "a.b-c"}))
    assert gnp["spec"]["egress"][0]["destination"]["selector"] == 'app == "a.b-c"'


@pytest.mark.parametrize(("labels", "ok"), [
    ({"app": "a" * 63}, True), ({"app": "a" * 64}, False),
    ({"app": "a.b-c_d"}, True), ({"app": 'a"b'}, False), ({"app": "-a"}, False),
    ({"example.com/app": ""}, True), ({"bad key!": "x"}, False),
])
def test_dns_labels_are_kubernetes_labels(labels, ok):
    # they become matchLabels in the ANP/CNP, Calico and Cilium renderings alike
    if ok:
        assert cilium_errors(to_cilium(cluster_default_deny(dns_labels=labels))) == []
    else:
        with pytest.raises(DslUsageError, match="dns_labels"):
            cluster_default_deny(dns_labels=labels)


def test_cilium_matches_the_documented_policy():
    # Cilium examples/kubernetes/servicemesh/policy/default-deny.yaml, both directions denied
    # with enableDefaultDeny (pkg/policy/api/rule.go), as the design note writes it.
    expected = yaml.safe_load('''
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: default-deny}
spec:
  endpointSelector:
    matchExpressions:
    - {key: io.kubernetes.pod.namespace, operator: NotIn, values: [kube-system]}
    - {key: io.kubernetes.pod.namespace, operator: Exists}
  enableDefaultDeny: {ingress: true, egress: true}
  egress:
  - toEndpoints:
    - matchLabels: {io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}
    toPorts:
    - ports: [{port: "53", protocol: UDP}, {port: "53", protocol: TCP}]
''')
    assert to_cilium(cluster_default_deny()) == expected


def test_cilium_without_dns_or_system_namespaces():
    spec = to_cilium(cluster_default_deny(system_namespaces=(), dns=False))["spec"]
    # the CRD wants some rule section; an empty egress rule allows nothing
    assert spec == {"endpointSelector": {"matchExpressions": [
        {"key": "io.kubernetes.pod.namespace", "operator": "Exists"}]},
        "enableDefaultDeny": {"ingress": True, "egress": True}, "egress": [{}]}


CILIUM = jsonschema.Draft7Validator(json.loads(
    (SCHEMAS / "cilium" / "ciliumclusterwidenetworkpolicy_v2.json").read_text()))


def cilium_errors(obj):
    return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in CILIUM.iter_errors(obj)]


@pytest.mark.parametrize("baseline", [
    cluster_default_deny(),
    cluster_default_deny(system_namespaces=("kube-system", "cilium")),
    cluster_default_deny(system_namespaces=(), dns=False),
    cluster_default_deny(dns=False),
    cluster_default_deny(dns_labels={"k8s-app": "kube-dns", "app": "a.b-c_D9"}),
])
def test_cilium_is_valid_against_the_crd(baseline):
    assert cilium_errors(to_cilium(baseline)) == []


def test_the_cilium_schema_check_can_fail():
    ccnp = to_cilium(cluster_default_deny())
    bad = copy.deepcopy(ccnp)
    del bad["spec"]["egress"]  # no rule section at all: the CRD's anyOf refuses it
    assert cilium_errors(bad)
    bad = copy.deepcopy(ccnp)
    bad["spec"]["endpointSelector"]["matchExpressions"][0]["operator"] = "In-ish"
    assert any("is not one of" in e for e in cilium_errors(bad))
    bad = copy.deepcopy(ccnp)
    bad["spec"]["egress"][0]["toPorts"][0]["ports"][0]["proto"] = "UDP"
    assert any("Additional properties" in e for e in cilium_errors(bad))
    bad = copy.deepcopy(ccnp)
    bad["spec"]["nodeSelector"] = {}  # endpointSelector and nodeSelector: exactly one
    assert cilium_errors(bad)


@pytest.mark.parametrize(("render", "match"), [
    (to_calico, "Calico 3.32 implements ClusterNetworkPolicy"),
    (to_cilium, "no rule order and no Pass"),
])
def test_general_policies_are_refused(render, match):
    with pytest.raises(UnrepresentableError, match=match):
        render(admin("a", priority=1))
    with pytest.raises(DslUsageError, match="expected the baseline from cluster_default_deny"):
        render("default-deny")
