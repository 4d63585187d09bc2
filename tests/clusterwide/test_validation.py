"""Every rule of the cluster-wide CRDs, on both sides of its boundary.

Rules come from ``kubernetes-sigs/network-policy-api``: v1alpha1 at v0.1.8
(``config/crd/experimental/policy.networking.k8s.io_{adminnetworkpolicies,
baselineadminnetworkpolicies}.yaml``), v1alpha2 at v0.2.0
(``config/crd/experimental/policy.networking.k8s.io_clusternetworkpolicies.yaml``), and the obsolete
v1alpha1 peer shape at v0.1.2 (``apis/v1alpha1/shared_types.go``). Each case starts from a valid
object, applies one tweak and names the field path the error must carry (None: still valid).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from netpol_dsl import InvalidPolicyError, to_yaml
from netpol_dsl.model import (
    AdminNetworkPolicy,
    BaselineAdminNetworkPolicy,
    ClusterNetworkPolicy,
    load_cluster_policy,
)
from netpol_dsl.model._clusterwide import cel_cidr_problem, domain_name_problem
from netpol_dsl.model.clusterwide import parse_cluster_policy

Obj = dict[str, Any]
V1 = "policy.networking.k8s.io/v1alpha1"
V2 = "policy.networking.k8s.io/v1alpha2"


def anp() -> Obj:
    return {
        "apiVersion": V1, "kind": "AdminNetworkPolicy", "metadata": {"name": "anp"},
        "spec": {
            "priority": 10,
            "subject": {"namespaces": {"matchLabels": {"team": "a"}}},
            "ingress": [{"name": "in", "action": "Deny", "from": [{"namespaces": {}}],
                         "ports": [{"portNumber": {"protocol": "TCP", "port": 80}}]}],
            "egress": [{"name": "out", "action": "Pass",
                        "to": [{"pods": {"namespaceSelector": {}, "podSelector": {}}}],
                        "ports": [{"portRange": {"protocol": "UDP", "start": 1, "end": 2}}]}],
        },
    }


def banp() -> Obj:
    obj = anp()
    obj["kind"] = "BaselineAdminNetworkPolicy"
    obj["metadata"]["name"] = "default"
    del obj["spec"]["priority"]
    obj["spec"]["egress"][0]["action"] = "Allow"
    return obj


def cnp() -> Obj:
    return {
        "apiVersion": V2, "kind": "ClusterNetworkPolicy", "metadata": {"name": "cnp"},
        "spec": {
            "tier": "Admin", "priority": 10,
            "subject": {"namespaces": {"matchLabels": {"team": "a"}}},
            "ingress": [{"name": "in", "action": "Deny", "from": [{"namespaces": {}}],
                         "protocols": [{"tcp": {"destinationPort": {"number": 80}}}]}],
            "egress": [{"name": "out", "action": "Accept",
                        "to": [{"pods": {"podSelector": {}}}],
                        "protocols": [{"udp": {"destinationPort": {"range": {"start": 1, "end": 2}}}}]}],
        },
    }


BASES: dict[str, Callable[[], Obj]] = {"anp": anp, "banp": banp, "cnp": cnp}


def paths(obj: Obj) -> list[str]:
    with pytest.raises(InvalidPolicyError) as info:
        load_cluster_policy(obj)
    return [i.path for i in info.value.issues]


def setter(path: str, value: Any) -> Callable[[Obj], None]:
    """Set (or, with ``...``, delete) the value at a dotted path with [i] indexes."""

    def tweak(obj: Obj) -> None:
        parts: list[str | int] = []
        for chunk in path.split("."):
            name, _, rest = chunk.partition("[")
            parts.append(name)
            if rest:
                parts.append(int(rest.rstrip("]")))
        node: Any = obj
        for part in parts[:-1]:
            node = node[part]
        if value is ...:
            del node[parts[-1]]
        else:
            node[parts[-1]] = copy.deepcopy(value)

    return tweak


def many(n: int, item: Any) -> list[Any]:
    return [copy.deepcopy(item) for _ in range(n)]


def cidrs(n: int) -> list[str]:
    return [f"10.{i // 256}.{i % 256}.0/24" for i in range(n)]


NS_PEER = {"namespaces": {}}
V1_PORT = {"portNumber": {"port": 80}}
V2_PROTO = {"tcp": {"destinationPort": {"number": 80}}}

# (base, tweak path, value, expected error path or None when still valid)
CASES: list[tuple[str, str, Any, str | None]] = [
    # --- priority: Minimum=0, Maximum=1000 (ANP, CNP); required
    *[(b, "spec.priority", v, p) for b in ("anp", "cnp") for v, p in
      ((0, None), (1000, None), (-1, "spec.priority"), (1001, "spec.priority"),
       (..., "spec.priority"), (None, "spec.priority"), ("5", "spec.priority"),
       (5.0, "spec.priority"), (True, "spec.priority"))],
    ("banp", "spec.priority", 5, "spec.priority"),  # BANP has no priority (unknown field)
    # --- BANP name: CEL self.metadata.name == 'default'
    ("banp", "metadata.name", "default", None),
    ("banp", "metadata.name", "baseline", "metadata.name"),
    ("anp", "metadata.name", "baseline", None),
    ("cnp", "metadata.name", "default-x", None),
    ("anp", "metadata.name", "Bad_Name", "metadata.name"),
    ("anp", "metadata", ..., "metadata"),
    ("anp", "spec", ..., "spec"),
    # --- tier (CNP): required enum Admin/Baseline
    ("cnp", "spec.tier", "Baseline", None),
    ("cnp", "spec.tier", "admin", "spec.tier"),
    ("cnp", "spec.tier", ..., "spec.tier"),
    ("anp", "spec.tier", "Admin", "spec.tier"),
    # --- subject: exactly one of namespaces, pods
    *[(b, "spec.subject", {}, "spec.subject") for b in BASES],
    *[(b, "spec.subject", {"namespaces": {}, "pods": {"namespaceSelector": {}, "podSelector": {}}},
       "spec.subject") for b in BASES],
    *[(b, "spec.subject", ..., "spec.subject") for b in BASES],
    # v1alpha1 NamespacedPod: both selectors required; v1alpha2: namespaceSelector optional
    ("anp", "spec.subject", {"pods": {"podSelector": {}}}, "spec.subject.pods.namespaceSelector"),
    ("banp", "spec.subject", {"pods": {"namespaceSelector": {}}}, "spec.subject.pods.podSelector"),
    ("cnp", "spec.subject", {"pods": {"podSelector": {}}}, None),
    ("cnp", "spec.subject", {"pods": {"namespaceSelector": {}}}, "spec.subject.pods.podSelector"),
    # --- rule lists: MaxItems 100 (v1alpha1) / 25 (v1alpha2)
    *[(b, "spec.ingress", many(100, anp()["spec"]["ingress"][0]), None) for b in ("anp", "banp")],
    *[(b, "spec.ingress", many(101, anp()["spec"]["ingress"][0]), "spec.ingress")
      for b in ("anp", "banp")],
    ("anp", "spec.egress", many(101, anp()["spec"]["egress"][0]), "spec.egress"),
    ("cnp", "spec.ingress", many(25, cnp()["spec"]["ingress"][0]), None),
    ("cnp", "spec.ingress", many(26, cnp()["spec"]["ingress"][0]), "spec.ingress"),
    ("cnp", "spec.egress", many(26, cnp()["spec"]["egress"][0]), "spec.egress"),
    *[(b, "spec.ingress", [], None) for b in BASES],
    # --- rule name: MaxLength=100
    *[(b, "spec.ingress[0].name", "x" * 100, None) for b in BASES],
    *[(b, "spec.egress[0].name", "x" * 101, "spec.egress[0].name") for b in BASES],
    *[(b, "spec.ingress[0].name", "é" * 100, None) for b in BASES],  # characters, not bytes
    *[(b, "spec.ingress[0].name", ..., None) for b in BASES],
    # --- actions per kind
    *[("anp", "spec.egress[0].action", a, None) for a in ("Allow", "Deny", "Pass")],
    ("anp", "spec.egress[0].action", "Accept", "spec.egress[0].action"),
    *[("banp", "spec.ingress[0].action", a, None) for a in ("Allow", "Deny")],
    ("banp", "spec.ingress[0].action", "Pass", "spec.ingress[0].action"),
    *[("cnp", "spec.ingress[0].action", a, None) for a in ("Accept", "Deny", "Pass")],
    ("cnp", "spec.ingress[0].action", "Allow", "spec.ingress[0].action"),
    ("cnp", "spec.ingress[0].action", "deny", "spec.ingress[0].action"),
    *[(b, "spec.ingress[0].action", ..., "spec.ingress[0].action") for b in BASES],
    # --- peers per rule: MinItems=1, MaxItems 100 / 25; from/to required
    *[(b, "spec.ingress[0].from", many(100, NS_PEER), None) for b in ("anp", "banp")],
    *[(b, "spec.ingress[0].from", many(101, NS_PEER), "spec.ingress[0].from")
      for b in ("anp", "banp")],
    ("cnp", "spec.ingress[0].from", many(25, NS_PEER), None),
    ("cnp", "spec.ingress[0].from", many(26, NS_PEER), "spec.ingress[0].from"),
    ("cnp", "spec.egress[0].to", many(26, NS_PEER), "spec.egress[0].to"),
    *[(b, "spec.ingress[0].from", [], "spec.ingress[0].from") for b in BASES],
    *[(b, "spec.egress[0].to", ..., "spec.egress[0].to") for b in BASES],
    # --- ports / protocols per rule: MinItems=1, MaxItems 100 / 25; optional
    *[(b, "spec.ingress[0].ports", many(100, V1_PORT), None) for b in ("anp", "banp")],
    *[(b, "spec.ingress[0].ports", many(101, V1_PORT), "spec.ingress[0].ports")
      for b in ("anp", "banp")],
    *[(b, "spec.ingress[0].ports", [], "spec.ingress[0].ports") for b in ("anp", "banp")],
    *[(b, "spec.ingress[0].ports", ..., None) for b in ("anp", "banp")],
    ("cnp", "spec.ingress[0].protocols", many(25, V2_PROTO), None),
    ("cnp", "spec.ingress[0].protocols", many(26, V2_PROTO), "spec.ingress[0].protocols"),
    ("cnp", "spec.ingress[0].protocols", [], "spec.ingress[0].protocols"),
    ("cnp", "spec.ingress[0].protocols", ..., None),
    ("anp", "spec.ingress[0].protocols", [V2_PROTO], "spec.ingress[0].protocols"),
    ("cnp", "spec.ingress[0].ports", [V1_PORT], "spec.ingress[0].ports"),
    # --- peers: exactly one field
    *[(b, "spec.ingress[0].from", [{}], "spec.ingress[0].from[0]") for b in BASES],
    *[(b, "spec.ingress[0].from", [{"namespaces": {}, "pods": {"namespaceSelector": {},
                                                                "podSelector": {}}}],
       "spec.ingress[0].from[0]") for b in BASES],
    *[(b, "spec.egress[0].to", [{"namespaces": {}, "networks": ["10.0.0.0/8"]}],
       "spec.egress[0].to[0]") for b in BASES],
    # ingress peers are pods only (nodes/networks/domainNames are unknown there)
    *[(b, "spec.ingress[0].from", [{f: v}], f"spec.ingress[0].from[0].{f}") for b in BASES
      for f, v in (("nodes", {}), ("networks", ["10.0.0.0/8"]), ("domainNames", ["a.io"]))],
    # egress peers: nodes everywhere, domainNames in ANP and CNP only
    *[(b, "spec.egress[0].to", [{"nodes": {}}], None) for b in BASES],
    ("anp", "spec.egress[0].to", [{"domainNames": ["kubernetes.io"]}], None),
    ("cnp", "spec.egress[0].to", [{"domainNames": ["kubernetes.io"]}], None),
    ("banp", "spec.egress[0].to", [{"domainNames": ["kubernetes.io"]}],
     "spec.egress[0].to[0].domainNames"),
    # --- networks: MinItems=1, MaxItems=25, set, each MaxLength=43 and isCIDR
    *[(b, "spec.egress[0].to", [{"networks": cidrs(25)}], None) for b in BASES],
    *[(b, "spec.egress[0].to", [{"networks": cidrs(26)}], "spec.egress[0].to[0].networks")
      for b in BASES],
    *[(b, "spec.egress[0].to", [{"networks": []}], "spec.egress[0].to[0].networks")
      for b in BASES],
    *[(b, "spec.egress[0].to", [{"networks": ["10.0.0.0/8", "10.0.0.0/8"]}],
       "spec.egress[0].to[0].networks[1]") for b in BASES],
    *[(b, "spec.egress[0].to", [{"networks": ["10.0.0.1"]}], "spec.egress[0].to[0].networks[0]")
      for b in BASES],
    # 43 characters is the longest IPv6 CIDR text; 44 is refused before isCIDR is asked
    *[(b, "spec.egress[0].to", [{"networks": ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"]}],
       None) for b in BASES],
    *[(b, "spec.egress[0].to", [{"networks": ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:0ffff/128"]}],
       "spec.egress[0].to[0].networks[0]") for b in BASES],
    # --- domainNames: MinItems=1, MaxItems=25, set, pattern
    ("cnp", "spec.egress[0].to", [{"domainNames": [f"h{i}.example.com" for i in range(25)]}], None),
    ("cnp", "spec.egress[0].to", [{"domainNames": [f"h{i}.example.com" for i in range(26)]}],
     "spec.egress[0].to[0].domainNames"),
    ("anp", "spec.egress[0].to", [{"domainNames": []}], "spec.egress[0].to[0].domainNames"),
    ("anp", "spec.egress[0].to", [{"domainNames": ["a.io", "a.io"]}],
     "spec.egress[0].to[0].domainNames[1]"),
    ("anp", "spec.egress[0].to", [{"domainNames": ["*.a.io"]}], None),
    ("anp", "spec.egress[0].to", [{"domainNames": ["a.*.io"]}], "spec.egress[0].to[0].domainNames[0]"),
    ("cnp", "spec.egress[0].to", [{"domainNames": ["localhost"]}], "spec.egress[0].to[0].domainNames[0]"),
    # --- v1alpha1 ports: exactly one of portNumber, portRange, namedPort
    *[(b, "spec.ingress[0].ports", [{}], "spec.ingress[0].ports[0]") for b in ("anp", "banp")],
    *[(b, "spec.ingress[0].ports", [{"portNumber": {"port": 80}, "namedPort": "web"}],
       "spec.ingress[0].ports[0]") for b in ("anp", "banp")],
    *[(b, "spec.ingress[0].ports", [{"namedPort": "web"}], None) for b in ("anp", "banp")],
    # port numbers 1..65535; portNumber.port required; protocol defaults to TCP
    *[("anp", "spec.ingress[0].ports", [{"portNumber": {"port": v}}], p) for v, p in
      ((1, None), (65535, None), (0, "spec.ingress[0].ports[0].portNumber.port"),
       (65536, "spec.ingress[0].ports[0].portNumber.port"),
       ("80", "spec.ingress[0].ports[0].portNumber.port"))],
    ("anp", "spec.ingress[0].ports", [{"portNumber": {"protocol": "UDP"}}],
     "spec.ingress[0].ports[0].portNumber.port"),
    # portRange: start and end required, each 1..65535; v1alpha1 has no start < end rule
    *[("anp", "spec.ingress[0].ports", [{"portRange": r}], p) for r, p in
      (({"start": 1, "end": 65535}, None), ({"start": 5, "end": 5}, None),
       ({"start": 9, "end": 5}, None),
       ({"start": 0, "end": 5}, "spec.ingress[0].ports[0].portRange.start"),
       ({"start": 1, "end": 65536}, "spec.ingress[0].ports[0].portRange.end"),
       ({"start": 1}, "spec.ingress[0].ports[0].portRange.end"))],
    # --- v1alpha2 protocols: exactly one of tcp, udp, sctp, destinationNamedPort
    ("cnp", "spec.ingress[0].protocols", [{}], "spec.ingress[0].protocols[0]"),
    ("cnp", "spec.ingress[0].protocols", [{"tcp": {"destinationPort": {"number": 1}},
                                           "udp": {"destinationPort": {"number": 1}}}],
     "spec.ingress[0].protocols[0]"),
    ("cnp", "spec.ingress[0].protocols", [{"destinationNamedPort": "web"}], None),
    ("cnp", "spec.ingress[0].protocols", [{"sctp": {"destinationPort": {"number": 9003}}}], None),
    # tcp: {} is refused (MinProperties=1)
    ("cnp", "spec.ingress[0].protocols", [{"tcp": {}}],
     "spec.ingress[0].protocols[0].tcp.destinationPort"),
    # destinationPort: exactly one of number, range
    ("cnp", "spec.ingress[0].protocols", [{"tcp": {"destinationPort": {}}}],
     "spec.ingress[0].protocols[0].tcp.destinationPort"),
    ("cnp", "spec.ingress[0].protocols",
     [{"tcp": {"destinationPort": {"number": 1, "range": {"start": 1, "end": 2}}}}],
     "spec.ingress[0].protocols[0].tcp.destinationPort"),
    *[("cnp", "spec.ingress[0].protocols", [{"udp": {"destinationPort": {"number": v}}}], p)
      for v, p in ((1, None), (65535, None),
                   (0, "spec.ingress[0].protocols[0].udp.destinationPort.number"),
                   (65536, "spec.ingress[0].protocols[0].udp.destinationPort.number"))],
    # range: CEL self.start < self.end
    *[("cnp", "spec.ingress[0].protocols", [{"tcp": {"destinationPort": {"range": r}}}], p)
      for r, p in (({"start": 1, "end": 2}, None), ({"start": 1, "end": 65535}, None),
                   ({"start": 2, "end": 2}, "spec.ingress[0].protocols[0].tcp.destinationPort.range"),
                   ({"start": 3, "end": 2}, "spec.ingress[0].protocols[0].tcp.destinationPort.range"),
                   ({"start": 0, "end": 2},
                    "spec.ingress[0].protocols[0].tcp.destinationPort.range.start"),
                   ({"start": 1, "end": 65536},
                    "spec.ingress[0].protocols[0].tcp.destinationPort.range.end"))],
    # --- named ports never with networks/nodes/domainNames (CEL on the egress rule)
    ("anp", "spec.egress[0].ports", [{"namedPort": "web"}], None),
    *[(b, "spec.egress[0]", {"action": "Deny", "to": [NS_PEER, peer],
                             "ports": [{"portNumber": {"port": 1}}, {"namedPort": "web"}]},
       p) for b, peer, p in (
        ("anp", {"networks": ["10.0.0.0/8"]}, "spec.egress[0]"),
        ("anp", {"nodes": {}}, "spec.egress[0]"),
        ("anp", {"domainNames": ["a.io"]}, "spec.egress[0]"),
        ("banp", {"networks": ["10.0.0.0/8"]}, "spec.egress[0]"),
        ("banp", {"nodes": {}}, "spec.egress[0]"),
        ("anp", {"pods": {"namespaceSelector": {}, "podSelector": {}}}, None))],
    *[("cnp", "spec.egress[0]", {"action": "Deny", "to": [peer],
                                 "protocols": [{"destinationNamedPort": "web"}]}, p)
      for peer, p in (({"networks": ["10.0.0.0/8"]}, "spec.egress[0]"),
                      ({"nodes": {}}, "spec.egress[0]"),
                      ({"domainNames": ["a.io"]}, "spec.egress[0]"),
                      ({"namespaces": {}}, None))],
    # --- label selectors are checked as apimachinery does
    ("anp", "spec.subject", {"namespaces": {"matchExpressions": [{"key": "a", "operator": "Is"}]}},
     "spec.subject.namespaces.matchExpressions[0].operator"),
    ("cnp", "spec.egress[0].to", [{"nodes": {"matchLabels": {"a b": "c"}}}],
     "spec.egress[0].to[0].nodes.matchLabels"),
    # --- unknown fields are refused (kubectl's strict field validation)
    *[(b, "spec.ingress[0].frm", [NS_PEER], "spec.ingress[0].frm") for b in BASES],
    # --- null is a pruned field: optional fields may be null, required ones are then missing
    *[(b, "spec.ingress", None, None) for b in BASES],
    *[(b, "spec.ingress[0].name", None, None) for b in BASES],
    *[(b, "spec.subject", None, "spec.subject") for b in BASES],
]


@pytest.mark.parametrize(("base", "path", "value", "expected"), CASES,
                         ids=[f"{b}:{p}={str(v)[:30]}" for b, p, v, _ in CASES])
def test_rule(base, path, value, expected):
    obj = BASES[base]()
    setter(path, value)(obj)
    if expected is None:
        load_cluster_policy(obj)
    else:
        assert expected in paths(obj)


@pytest.mark.parametrize("base", list(BASES))
def test_bases_are_valid_and_round_trip_byte_stable(base):
    obj = BASES[base]()
    policy = load_cluster_policy(obj)
    text = to_yaml(policy)
    again = load_cluster_policy(__import__("yaml").safe_load(text))
    assert again == policy
    assert to_yaml(again) == text


def test_every_problem_is_reported():
    obj = anp()
    obj["spec"]["priority"] = 2000
    obj["spec"]["ingress"][0]["action"] = "Nope"
    obj["spec"]["egress"][0]["to"] = [{"networks": ["300.0.0.0/8"]}]
    assert paths(obj) == ["spec.ingress[0].action", "spec.egress[0].to[0].networks[0]",
                          "spec.priority"]


def test_message_names_source_path_value_and_expectation():
    obj = cnp()
    obj["spec"]["priority"] = 1001
    with pytest.raises(InvalidPolicyError, match=r"^cnp: spec\.priority: got 1001; expected 0\.\.1000$"):
        load_cluster_policy(obj)


def test_banp_name_message():
    obj = banp()
    obj["metadata"]["name"] = "mine"
    with pytest.raises(InvalidPolicyError) as info:
        load_cluster_policy(obj)
    (issue,) = info.value.issues
    assert (issue.path, issue.value, issue.expected) == ("metadata.name", "mine", "'default'")
    assert 'metadata.name="default"' in (issue.hint or "")


def test_kinds_and_versions():
    obj = anp()
    obj["apiVersion"] = V2
    with pytest.raises(InvalidPolicyError, match=r"apiVersion: got '.*v1alpha2'; expected .*v1alpha1"):
        load_cluster_policy(obj)
    obj = cnp()
    obj["apiVersion"] = V1
    with pytest.raises(InvalidPolicyError, match=r"expected policy\.networking\.k8s\.io/v1alpha2"):
        load_cluster_policy(obj)
    with pytest.raises(InvalidPolicyError, match="expected one of"):
        load_cluster_policy({"apiVersion": V1, "kind": "NetworkPolicy"})
    assert isinstance(load_cluster_policy(anp()), AdminNetworkPolicy)
    assert isinstance(load_cluster_policy(banp()), BaselineAdminNetworkPolicy)
    assert isinstance(load_cluster_policy(cnp()), ClusterNetworkPolicy)


def test_snake_case_names_are_not_fields_on_the_wire():
    obj = cnp()
    obj["spec"]["egress"][0]["to"] = [{"domain_names": ["a.io"]}]
    assert "spec.egress[0].to[0].domain_names" in paths(obj)


def test_status_is_dropped_and_namespace_warned():
    obj = anp()
    obj["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    obj["metadata"]["namespace"] = "x"
    policy, warnings = parse_cluster_policy(obj)
    assert "status" not in policy.to_dict()
    assert [w.path for w in warnings] == ["metadata.namespace"]
    assert policy.key == "anp"


def test_protocol_outside_tcp_udp_sctp_loads_with_a_warning():
    # v1alpha1 protocol is v1.Protocol without an enum marker: the CRD accepts any string.
    obj = anp()
    obj["spec"]["ingress"][0]["ports"] = [{"portNumber": {"protocol": "ICMP", "port": 1}}]
    policy, warnings = parse_cluster_policy(obj)
    assert [w.path for w in warnings] == ["spec.ingress[0].ports[0].portNumber.protocol"]
    assert policy.spec.ingress is not None


def test_protocol_defaults_to_tcp_and_renders_explicitly():
    obj = anp()
    obj["spec"]["ingress"][0]["ports"] = [{"portNumber": {"port": 80}}, {"portRange": {"start": 1, "end": 9}}]
    policy = load_cluster_policy(obj)
    assert policy.to_dict()["spec"]["ingress"][0]["ports"] == [
        {"portNumber": {"protocol": "TCP", "port": 80}},
        {"portRange": {"protocol": "TCP", "start": 1, "end": 9}}]


# ------------------------------------------------------------------ obsolete v1alpha1 shape


LEGACY_PEERS = [
    {"namespaces": {"namespaceSelector": {"matchLabels": {"a": "b"}}}},
    {"namespaces": {"sameLabels": ["tenant"]}},
    {"namespaces": {"notSameLabels": ["tenant", "env"]}},
    {"pods": {"namespaces": {"sameLabels": ["tenant"]}, "podSelector": {}}},
    {"pods": {"namespaces": {"namespaceSelector": {}}, "podSelector": {"matchLabels": {"a": "b"}}}},
]


@pytest.mark.parametrize("peer", LEGACY_PEERS)
@pytest.mark.parametrize("base", ["anp", "banp"])
def test_obsolete_shape_loads_warns_and_round_trips(base, peer):
    obj = BASES[base]()
    obj["spec"]["ingress"][0]["from"] = [peer]
    policy, warnings = parse_cluster_policy(obj)
    (w,) = warnings
    assert w.path == "spec.ingress[0].from[0]." + next(iter(peer))
    assert "obsolete" in (w.hint or "")
    assert policy.to_dict()["spec"]["ingress"][0]["from"] == [peer]
    assert to_yaml(load_cluster_policy(__import__("yaml").safe_load(to_yaml(policy)))) == to_yaml(policy)


@pytest.mark.parametrize(("peer", "path"), [
    ({"namespaces": {"sameLabels": ["a"], "notSameLabels": ["b"]}}, "spec.ingress[0].from[0].namespaces"),
    ({"namespaces": {"sameLabels": ["a"] * 101}}, "spec.ingress[0].from[0].namespaces.sameLabels"),
    ({"pods": {"namespaces": {}, "podSelector": {}}}, "spec.ingress[0].from[0].pods.namespaces"),
    ({"pods": {"namespaces": {"sameLabels": ["a"]}}}, "spec.ingress[0].from[0].pods.podSelector"),
])
def test_obsolete_shape_rules(peer, path):
    obj = anp()
    obj["spec"]["ingress"][0]["from"] = [peer]
    assert path in paths(obj)


def test_obsolete_shape_is_not_a_v1alpha2_shape():
    obj = cnp()
    obj["spec"]["ingress"][0]["from"] = [{"namespaces": {"sameLabels": ["a"]}}]
    assert "spec.ingress[0].from[0].namespaces.sameLabels" in paths(obj)


def test_experimental_fields_are_listed():
    obj = anp()
    obj["spec"]["egress"] = [
        {"action": "Allow", "to": [{"nodes": {}}, {"domainNames": ["a.io"]}]},
        {"action": "Allow", "to": [NS_PEER], "ports": [{"namedPort": "web"}]}]
    assert load_cluster_policy(obj).experimental_fields() == (
        "spec.egress[0].to[0].nodes", "spec.egress[0].to[1].domainNames",
        "spec.egress[1].ports[0].namedPort")
    assert load_cluster_policy(anp()).experimental_fields() == ()


# ------------------------------------------------------------------ isCIDR and DomainName


@pytest.mark.parametrize(("text", "ok"), [
    ("10.0.0.0/8", True), ("0.0.0.0/0", True), ("::/0", True), ("fd00::/8", True),
    ("10.0.0.1/8", True),  # netip.ParsePrefix keeps host bits; isCIDR does not refuse them
    ("10.0.0.0/32", True), ("10.0.0.0/33", False), ("::/128", True), ("::/129", False),
    ("10.0.0.0", False), ("10.0.0.0/", False), ("10.0.0.0/08", False), ("10.0.0.0/+8", False),
    ("010.0.0.0/8", False), ("10.0.0/8", False), ("fe80::1%eth0/64", False),
    ("::ffff:10.0.0.0/104", False),  # IPv4-mapped IPv6 refused by the CEL library
    ("::10.0.0.0/104", True), ("", False), ("10.0.0.0/8/8", False),
])
def test_is_cidr(text, ok):
    assert (cel_cidr_problem(text) is None) is ok


@pytest.mark.parametrize(("text", "ok"), [
    ("kubernetes.io", True), ("*.kubernetes.io", True), ("a.b.c.d", True), ("kubernetes.io.", True),
    ("a_b.io", True), ("a-b.io", True), ("kubernetes", False), ("*.io", False), ("a.*.io", False),
    ("-a.io", False), ("a-.io", False), ("*kubernetes.io", False), ("kubernetes.io\n", False),
    ("a^b.io", False), ("[.io", True),  # upstream's [a-zA-z0-9] also admits [ \ ] ^ _ `
])
def test_domain_name_pattern(text, ok):
    assert (domain_name_problem(text) is None) is ok
