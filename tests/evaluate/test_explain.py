"""Explanations: what a reviewer needs to act on, as text and as the same data in to_dict()."""

from __future__ import annotations

import json

from rich.console import Console

from netpol_dsl import load_policy
from netpol_dsl.evaluate import Cluster, ContainerPort, EndpointSpec, Namespace, Pod


def pol(ns, name, **spec):
    spec.setdefault("podSelector", {})
    return load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": {"name": name, "namespace": ns}, "spec": spec})


FRONT = Pod("pay", "frontend", {"app": "frontend"}, ips=("10.0.0.1",))
API = Pod("pay", "api", {"app": "api"}, ips=("10.0.0.2",),
          ports=(ContainerPort(8080, "TCP", "http"),))
PROM = Pod("mon", "prom", {"app": "prometheus"}, ips=("10.0.1.1",))

DENY = pol("pay", "default-deny", policyTypes=["Ingress", "Egress"])
ALLOW_FRONT = pol("pay", "allow-frontend", podSelector={"matchLabels": {"app": "api"}},
                  ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}],
                            "ports": [{"port": 8080}]}])
ALLOW_PROM = pol("pay", "allow-prom", podSelector={"matchLabels": {"app": "api"}},
                 ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "mon"}},
                                     "podSelector": {"matchLabels": {"app": "prometheus"}}}],
                           "ports": [{"port": "metrics"}]}])
FRONT_EGRESS = pol("pay", "frontend-egress", podSelector={"matchLabels": {"app": "frontend"}},
                   policyTypes=["Egress"], egress=[{"to": [{"podSelector": {}}]}])


def cluster(*policies, pods=(FRONT, API, PROM)):
    return Cluster([Namespace("pay"), Namespace("mon", {"team": "mon"})], pods, policies)


def test_allow_names_the_deciding_policy_rule_and_peer():
    c = cluster(DENY, ALLOW_FRONT, FRONT_EGRESS)
    v = c.allows("pay/frontend", "pay/api", 8080)
    assert v.allowed
    m = v.ingress.deciding
    assert (m.policy, m.direction, m.rule, m.peer, m.port) == ("pay/allow-frontend", "ingress", 0, 0, 0)
    assert m.peer_text == "podSelector {app=frontend}" and m.port_text == "TCP 8080"
    assert v.ingress.isolating == ("pay/default-deny", "pay/allow-frontend")
    e = v.egress.deciding
    assert (e.policy, e.rule, e.peer, e.port) == ("pay/frontend-egress", 0, 0, None)
    assert v.explain() == (
        "ALLOWED: pay/frontend -> pay/api on TCP 8080\n"
        "  egress from pay/frontend: allowed: isolated by 2 policies (pay/default-deny, "
        "pay/frontend-egress); pay/frontend-egress spec.egress[0].to[0] allows it: peer "
        "podSelector {}, port every port (no `ports`)\n"
        "  ingress to pay/api: allowed: isolated by 2 policies (pay/default-deny, "
        "pay/allow-frontend); pay/allow-frontend spec.ingress[0].from[0] allows it: peer "
        "podSelector {app=frontend}, port TCP 8080"
    )


def test_denial_lists_each_isolating_policy_and_why_each_rule_missed():
    c = cluster(DENY, ALLOW_FRONT, ALLOW_PROM)
    v = c.allows("mon/prom", "pay/api", 8080)
    assert not v.allowed
    assert v.egress.applies and not v.egress.isolated and v.egress.allowed
    ing = v.ingress
    assert not ing.allowed and ing.isolated
    by_policy = {p.policy: p.misses for p in ing.denied_by}
    assert list(by_policy) == ["pay/default-deny", "pay/allow-frontend", "pay/allow-prom"]
    assert by_policy["pay/default-deny"][0].kind == "no-rules"
    front = by_policy["pay/allow-frontend"][0]
    assert (front.rule, front.kind) == (0, "peer")
    assert front.details == (
        "from[0]: podSelector {app=frontend} selects pods in namespace pay only, and mon/prom is "
        "in namespace mon",)
    prom = by_policy["pay/allow-prom"][0]
    assert (prom.rule, prom.kind) == (0, "named-port")
    assert prom.details == ("ports[0]: named port 'metrics' (TCP) is not declared on destination pay/api",)
    text = v.explain()
    assert "ingress to pay/api: DENIED: isolated by 3 policies" in text
    assert "rule 0: named port not declared on destination: ports[0]: named port 'metrics'" in text
    assert "it has no ingress rules, so it allows no ingress to the pods it selects" in text


def test_peer_and_port_mismatches_are_both_reported():
    c = cluster(ALLOW_FRONT, pods=(FRONT, API, Pod("pay", "batch", {"app": "batch"})))
    v = c.allows("pay/batch", "pay/api", 9090)
    (miss,) = v.ingress.denied_by[0].misses
    assert miss.kind == "peer+port"
    assert miss.details == (
        "from[0]: podSelector {app=frontend} does not match pay/batch (labels {app=batch})",
        "ports[0]: TCP 9090 is not in TCP 8080",
    )
    assert miss.text.startswith("rule 0: neither peer nor port matched: ")


def test_namespace_selector_mismatch_shows_the_namespace_labels():
    c = cluster(ALLOW_PROM, pods=(API, Pod("pay", "prometheus", {"app": "prometheus"})))
    v = c.allows("pay/prometheus", "pay/api", 8080)
    (miss,) = v.ingress.denied_by[0].misses
    assert miss.details[0] == (
        "from[0]: namespaceSelector {team=mon} does not match namespace pay (labels "
        "{kubernetes.io/metadata.name=pay})")


def test_named_port_declared_on_another_number():
    p = pol("pay", "http-only", podSelector={"matchLabels": {"app": "api"}},
            ingress=[{"ports": [{"port": "http"}]}])
    (miss,) = cluster(p).allows("pay/frontend", "pay/api", 9000).ingress.denied_by[0].misses
    assert (miss.kind, miss.details) == ("port", (
        "ports[0]: named port 'http' is TCP 8080 on destination pay/api, not 9000",))


def test_ip_block_reasons_for_external_and_pod_ends():
    p = pol("pay", "from-office", podSelector={"matchLabels": {"app": "api"}},
            ingress=[{"from": [{"ipBlock": {"cidr": "192.168.0.0/16", "except": ["192.168.9.0/24"]}}]}])
    c = cluster(p)
    (miss,) = c.allows("192.168.9.9", "pay/api", 80).ingress.denied_by[0].misses
    assert miss.details == ("from[0]: ipBlock 192.168.0.0/16 except 192.168.9.0/24 does not contain 192.168.9.9",)
    (miss,) = c.allows("pay/frontend", "pay/api", 80).ingress.denied_by[0].misses
    assert miss.details == ("from[0]: ipBlock 192.168.0.0/16 except 192.168.9.0/24 does not contain "
                            "pay/frontend's IPs (10.0.0.1)",)
    off = Cluster(pods=(FRONT, API), policies=[p], ipblock_matches_pod_ips=False)
    (miss,) = off.allows("pay/frontend", "pay/api", 80).ingress.denied_by[0].misses
    assert "is not matched against pod IPs (ipblock_matches_pod_ips=False)" in miss.details[0]


def test_selector_peer_against_external_address():
    (miss,) = cluster(ALLOW_FRONT).allows("8.8.8.8", "pay/api", 8080).ingress.denied_by[0].misses
    assert miss.details == ("from[0]: podSelector {app=frontend} selects pods, and 8.8.8.8 is an "
                            "external address (only ipBlock peers match those)",)


def test_egress_denial_is_explained_on_the_source_side():
    c = cluster(DENY)
    v = c.allows("pay/api", "8.8.8.8", 443)
    assert not v.allowed and not v.egress.allowed
    assert not v.ingress.applies
    assert v.ingress.note == ("the destination 8.8.8.8 is an external address; only the pod "
                              "side's policies apply")
    assert "egress from pay/api: DENIED: isolated by 1 policy (pay/default-deny)" in v.explain()
    assert ("it has no egress rules, so it allows no egress from the pods it selects"
            in v.explain())


def test_self_and_host_network_notes():
    c = cluster(DENY, pods=(FRONT, API, Pod("pay", "agent", {}, host_network=True)))
    v = c.allows("pay/api", "pay/api", 1)
    assert v.allowed and not v.egress.applies and not v.ingress.applies
    assert "a pod always reaches itself" in v.ingress.note
    h = c.allows("pay/agent", "pay/api", 80)
    assert h.allowed
    assert h.ingress.note.startswith("pay/agent uses the host network; NetworkPolicy does not apply")


def test_to_dict_carries_the_same_content_and_is_json():
    c = cluster(DENY, ALLOW_FRONT)
    d = c.allows("pay/frontend", "pay/api", "http").to_dict()
    assert json.loads(json.dumps(d)) == d
    assert (d["allowed"], d["port"], d["port_name"], d["protocol"]) == (False, 8080, "http", "TCP")
    assert d["egress"]["denied_by"] == [{"policy": "pay/default-deny", "rules": [
        {"rule": None, "kind": "no-rules",
         "details": ["it has no egress rules, so it allows no egress from the pods it selects"]}]}]
    assert d["ingress"]["allowed_by"] == [{
        "policy": "pay/allow-frontend", "direction": "ingress", "rule": 0, "peer": 0,
        "peer_text": "podSelector {app=frontend}", "port": 0, "port_text": "TCP 8080"}]
    assert d["ingress"]["isolating"] == ["pay/default-deny", "pay/allow-frontend"]


def test_representative_endpoint_label_and_explanation():
    class Api:
        def __netpol_endpoint__(self):
            return EndpointSpec("pay", {"app": "api"})

    # The endpoint stands for the one inventory pod it matches.
    v = cluster(ALLOW_FRONT).allows(FRONT, Api(), 8080)
    assert v.allowed and v.dst == "pay/api"
    assert v.ingress.deciding.policy == "pay/allow-frontend"


def test_str_repr_and_rich_rendering():
    v = cluster(DENY).allows("mon/prom", "pay/api", 8080)
    assert str(v) == "DENIED: mon/prom -> pay/api on TCP 8080"
    assert repr(v) == "<Verdict DENIED: mon/prom -> pay/api on TCP 8080>"
    console = Console(color_system=None, width=200, record=True)
    console.print(v)
    assert console.export_text().splitlines() == v.explain().splitlines()
