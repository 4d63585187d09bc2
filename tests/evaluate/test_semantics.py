"""Upstream NetworkPolicy semantics, one rule per test, with hand-written expectations.

Sources: the API reference and concepts page
(https://kubernetes.io/docs/concepts/services-networking/network-policies/) and the e2e
conformance tests in kubernetes/kubernetes test/e2e/network/netpol.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netpol_dsl import load_policy
from netpol_dsl.evaluate import Cluster, ContainerPort, EndpointSpec, Namespace, Pod
from tests.strategies import budget


def pol(ns: str, name: str, **spec):
    spec.setdefault("podSelector", {})
    return load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": {"name": name, "namespace": ns}, "spec": spec})


def sel(**labels):
    return {"matchLabels": labels}


WEB = Pod("a", "web", {"app": "web"}, ips=("10.0.0.1",))
API = Pod("a", "api", {"app": "api"}, ips=("10.0.0.2",),
          ports=(ContainerPort(8080, "TCP", "http"), ContainerPort(53, "UDP", "dns")))
OTHER = Pod("b", "cli", {"app": "web"}, ips=("10.1.0.1",))
NAMESPACES = (Namespace("a", {"team": "x"}), Namespace("b", {"team": "y"}))


def cluster(*policies, pods=(WEB, API, OTHER), **kw):
    return Cluster(NAMESPACES, pods, policies, **kw)


def ok(c, src, dst, port=80, protocol="TCP"):
    return c.allows(src, dst, port, protocol).allowed


# ------------------------------------------------------------------------- isolation


def test_pods_not_selected_by_any_policy_are_not_isolated():
    c = cluster()
    assert ok(c, "a/web", "a/api") and ok(c, "b/cli", "a/web") and ok(c, "a/api", "b/cli", 53, "UDP")


def test_a_policy_isolates_only_the_pods_it_selects_in_its_namespace():
    c = cluster(pol("a", "deny-api", podSelector=sel(app="api")))
    assert not ok(c, "a/web", "a/api")
    assert ok(c, "a/api", "a/web")  # web is not selected
    assert ok(c, "a/web", "b/cli")  # b/cli has app=web too, but the policy is in namespace a


def test_policy_types_default_to_ingress_only_without_egress_rules():
    c = cluster(pol("a", "deny", podSelector=sel(app="web")))
    assert not ok(c, "a/api", "a/web")
    assert ok(c, "a/web", "a/api")  # egress is not isolated


def test_policy_types_default_to_both_when_there_are_egress_rules():
    c = cluster(pol("a", "p", podSelector=sel(app="web"), egress=[{"ports": [{"port": 443}]}]))
    assert not ok(c, "a/api", "a/web", 443)  # ingress isolated, no ingress rules
    assert ok(c, "a/web", "a/api", 443) and not ok(c, "a/web", "a/api", 80)


def test_egress_only_policy_does_not_isolate_ingress_and_its_ingress_rules_are_ignored():
    c = cluster(pol("a", "p", podSelector=sel(app="web"), policyTypes=["Egress"],
                    ingress=[{"from": [{"podSelector": sel(app="nobody")}]}]))
    assert ok(c, "a/api", "a/web")
    assert not ok(c, "a/web", "a/api")


def test_policies_are_a_union_of_allows():
    c = cluster(pol("a", "p80", podSelector=sel(app="api"), ingress=[{"ports": [{"port": 80}]}]),
                pol("a", "p81", podSelector=sel(app="api"), ingress=[{"ports": [{"port": 81}]}]))
    assert ok(c, "a/web", "a/api", 80) and ok(c, "a/web", "a/api", 81)
    assert not ok(c, "a/web", "a/api", 82)


def test_empty_ingress_list_allows_nothing_but_one_empty_rule_allows_everything():
    deny = cluster(pol("a", "p", podSelector=sel(app="api"), ingress=[]))
    allow = cluster(pol("a", "p", podSelector=sel(app="api"), ingress=[{}]))
    assert not ok(deny, "a/web", "a/api") and not ok(deny, "8.8.8.8", "a/api")
    assert ok(allow, "a/web", "a/api", 1, "SCTP") and ok(allow, "b/cli", "a/api", 65535, "UDP")
    assert ok(allow, "8.8.8.8", "a/api")


def test_absent_or_empty_from_means_every_source_and_absent_ports_every_port():
    for rule in ({"ports": [{"port": 80}]}, {"from": [], "ports": [{"port": 80}]}):
        c = cluster(pol("a", "p", podSelector=sel(app="api"), ingress=[rule]))
        assert ok(c, "b/cli", "a/api", 80) and ok(c, "203.0.113.9", "a/api", 80)
        assert not ok(c, "b/cli", "a/api", 81)
    c = cluster(pol("a", "p", podSelector=sel(app="api"),
                    ingress=[{"from": [{"podSelector": sel(app="web")}]}]))
    assert ok(c, "a/web", "a/api", 9999, "UDP") and ok(c, "a/web", "a/api", 9999, "TCP")
    assert not ok(c, "b/cli", "a/api", 9999, "UDP")


def test_empty_egress_to_means_every_destination():
    c = cluster(pol("a", "p", podSelector=sel(app="web"), policyTypes=["Egress"],
                    egress=[{"to": [], "ports": [{"protocol": "UDP", "port": 53}]}]))
    assert ok(c, "a/web", "b/cli", 53, "UDP") and ok(c, "a/web", "1.1.1.1", 53, "UDP")
    assert not ok(c, "a/web", "b/cli", 53, "TCP")


# ------------------------------------------------------------------------- peers


def test_pod_selector_alone_selects_pods_in_the_policy_namespace_only():
    c = cluster(pol("a", "p", podSelector=sel(app="api"),
                    ingress=[{"from": [{"podSelector": sel(app="web")}]}]))
    assert ok(c, "a/web", "a/api")
    assert not ok(c, "b/cli", "a/api")  # app=web, but in namespace b


def test_namespace_selector_alone_selects_every_pod_of_matching_namespaces():
    c = cluster(pol("a", "p", podSelector=sel(app="api"),
                    ingress=[{"from": [{"namespaceSelector": sel(team="y")}]}]))
    assert ok(c, "b/cli", "a/api")
    assert not ok(c, "a/web", "a/api")  # namespace a has team=x


def test_namespace_and_pod_selector_in_one_peer_are_anded():
    peer = {"namespaceSelector": sel(team="y"), "podSelector": sel(app="db")}
    c = cluster(pol("a", "p", podSelector=sel(app="api"), ingress=[{"from": [peer]}]))
    assert not ok(c, "b/cli", "a/api")  # right namespace, wrong labels
    db = Pod("b", "db", {"app": "db"})
    c2 = cluster(pol("a", "p", podSelector=sel(app="api"), ingress=[{"from": [peer]}]),
                 pods=(WEB, API, OTHER, db, Pod("a", "db", {"app": "db"})))
    assert ok(c2, "b/db", "a/api") and not ok(c2, "a/db", "a/api")


def test_two_peers_are_ored():
    peers = [{"namespaceSelector": sel(team="y")}, {"podSelector": sel(app="db")}]
    c = cluster(pol("a", "p", podSelector=sel(app="api"), ingress=[{"from": peers}]),
                pods=(WEB, API, OTHER, Pod("a", "db", {"app": "db"})))
    assert ok(c, "b/cli", "a/api") and ok(c, "a/db", "a/api") and not ok(c, "a/web", "a/api")


def test_empty_selectors_select_everything_in_their_scope():
    all_ns = cluster(pol("a", "p", podSelector=sel(app="api"),
                         ingress=[{"from": [{"namespaceSelector": {}}]}]))
    same_ns = cluster(pol("a", "p", podSelector=sel(app="api"),
                          ingress=[{"from": [{"podSelector": {}}]}]))
    assert ok(all_ns, "b/cli", "a/api") and ok(all_ns, "a/web", "a/api")
    assert not ok(all_ns, "8.8.8.8", "a/api")  # selectors never match external addresses
    assert ok(same_ns, "a/web", "a/api") and not ok(same_ns, "b/cli", "a/api")


def test_namespace_name_label_is_always_present():
    # Namespace "b" was declared with team=y only; "c" is not declared at all.
    c = Cluster(NAMESPACES, (WEB, API, OTHER, Pod("c", "x")), [
        pol("a", "p", podSelector=sel(app="api"), ingress=[{"from": [
            {"namespaceSelector": sel(**{"kubernetes.io/metadata.name": "b"})},
            {"namespaceSelector": sel(**{"kubernetes.io/metadata.name": "c"})}]}])])
    assert ok(c, "b/cli", "a/api") and ok(c, "c/x", "a/api") and not ok(c, "a/web", "a/api")


@pytest.mark.parametrize(("expr", "web", "api", "nolabel"), [
    ({"key": "app", "operator": "In", "values": ["web", "x"]}, True, False, False),
    ({"key": "app", "operator": "NotIn", "values": ["web"]}, False, True, True),
    ({"key": "app", "operator": "Exists"}, True, True, False),
    ({"key": "app", "operator": "DoesNotExist"}, False, False, True),
])
def test_match_expressions(expr, web, api, nolabel):
    bare = Pod("a", "bare", {})
    target = Pod("a", "t", {"role": "target"})
    c = Cluster(NAMESPACES, (WEB, API, bare, target), [pol(
        "a", "p", podSelector=sel(role="target"),
        ingress=[{"from": [{"podSelector": {"matchExpressions": [expr]}}]}])])
    assert (ok(c, "a/web", "a/t"), ok(c, "a/api", "a/t"), ok(c, "a/bare", "a/t")) == (web, api, nolabel)


def test_match_labels_and_match_expressions_are_anded():
    c = cluster(pol("a", "p", podSelector=sel(app="api"), ingress=[{"from": [{"podSelector": {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "Exists"}]}}]}]),
        pods=(WEB, API, Pod("a", "web2", {"app": "web", "tier": "1"})))
    assert ok(c, "a/web2", "a/api") and not ok(c, "a/web", "a/api")


# ------------------------------------------------------------------------- ipBlocks


def test_ip_block_minus_except_for_external_sources():
    c = cluster(pol("a", "p", podSelector=sel(app="api"), ingress=[{"from": [{"ipBlock": {
        "cidr": "192.168.0.0/16", "except": ["192.168.1.0/24"]}}]}]))
    assert ok(c, "192.168.0.7", "a/api")
    assert not ok(c, "192.168.1.7", "a/api")
    assert not ok(c, "192.169.0.1", "a/api")
    assert not ok(c, "2001:db8::1", "a/api")  # another family never matches


def test_ip_block_matches_pod_ips_unless_turned_off():
    p = pol("a", "p", podSelector=sel(app="api"),
            ingress=[{"from": [{"ipBlock": {"cidr": "10.1.0.0/16"}}]}])
    assert ok(cluster(p), "b/cli", "a/api")  # b/cli is 10.1.0.1
    assert not ok(cluster(p), "a/web", "a/api")  # 10.0.0.1
    assert not ok(cluster(p, ipblock_matches_pod_ips=False), "b/cli", "a/api")


def test_pods_without_ips_never_match_an_ip_block():
    p = pol("a", "p", podSelector=sel(app="api"),
            ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}]}])
    c = cluster(p, pods=(API, Pod("b", "noip", {"app": "web"}), OTHER))
    assert not ok(c, "b/noip", "a/api") and ok(c, "b/cli", "a/api")


def test_egress_ip_block_to_external_and_ipv6():
    c = cluster(pol("a", "p", podSelector=sel(app="web"), policyTypes=["Egress"], egress=[
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}],
         "ports": [{"port": 443}]},
        {"to": [{"ipBlock": {"cidr": "2001:db8::/32"}}]}]))
    assert ok(c, "a/web", "93.184.216.34", 443) and not ok(c, "a/web", "93.184.216.34", 80)
    assert not ok(c, "a/web", "10.9.9.9", 443)
    assert not ok(c, "a/web", "a/api", 443)  # a/api's IP 10.0.0.2 is in the except
    assert ok(c, "a/web", "2001:db8::5", 22, "SCTP") and not ok(c, "a/web", "2001:db9::5", 22)


def test_dual_stack_pod_matches_through_either_address():
    dual = Pod("b", "dual", {"app": "x"}, ips=("10.9.0.1", "fd00::1"))
    c = cluster(pol("a", "p", podSelector=sel(app="api"),
                    ingress=[{"from": [{"ipBlock": {"cidr": "fd00::/8"}}]}]),
                pods=(API, dual))
    assert ok(c, "b/dual", "a/api")


# ------------------------------------------------------------------------- ports


def test_protocol_defaults_to_tcp_and_a_udp_only_policy_still_isolates_tcp():
    c = cluster(pol("a", "p", podSelector=sel(app="api"),
                    ingress=[{"ports": [{"protocol": "UDP", "port": 53}]}]))
    assert ok(c, "a/web", "a/api", 53, "UDP")
    assert not ok(c, "a/web", "a/api", 53, "TCP") and not ok(c, "a/web", "a/api", 53, "SCTP")
    c2 = cluster(pol("a", "p", podSelector=sel(app="api"), ingress=[{"ports": [{"port": 53}]}]))
    assert ok(c2, "a/web", "a/api", 53, "TCP") and not ok(c2, "a/web", "a/api", 53, "UDP")


def test_port_without_number_means_every_port_of_that_protocol():
    c = cluster(pol("a", "p", podSelector=sel(app="api"),
                    ingress=[{"ports": [{"protocol": "SCTP"}]}]))
    assert ok(c, "a/web", "a/api", 1, "SCTP") and ok(c, "a/web", "a/api", 65535, "SCTP")
    assert not ok(c, "a/web", "a/api", 1, "TCP")


def test_end_port_range_is_inclusive():
    c = cluster(pol("a", "p", podSelector=sel(app="api"),
                    ingress=[{"ports": [{"port": 32000, "endPort": 32768}]}]))
    assert [ok(c, "a/web", "a/api", p) for p in (31999, 32000, 32500, 32768, 32769)] == [
        False, True, True, True, False]


def test_named_ingress_port_resolves_on_the_destination_with_its_protocol():
    c = cluster(pol("a", "p", podSelector=sel(app="api"), ingress=[{"ports": [
        {"port": "http"}, {"protocol": "TCP", "port": "dns"}]}]))
    assert ok(c, "a/web", "a/api", 8080)
    assert ok(c, "a/web", "a/api", "http")
    assert not ok(c, "a/web", "a/api", 8081)
    assert not ok(c, "a/web", "a/api", 53, "TCP")  # dns is declared as UDP only
    assert not ok(c, "a/web", "a/api", 53, "UDP")  # and the rule names TCP


def test_named_egress_port_resolves_on_the_destination_not_the_source():
    src = Pod("a", "src", {"app": "src"}, ports=(ContainerPort(9000, "TCP", "http"),))
    c = cluster(pol("a", "p", podSelector=sel(app="src"), policyTypes=["Egress"],
                    egress=[{"ports": [{"port": "http"}]}]), pods=(src, API, WEB))
    assert ok(c, "a/src", "a/api", 8080)  # api declares http=8080
    assert not ok(c, "a/src", "a/api", 9000)  # the source's own http port does not count
    assert not ok(c, "a/src", "a/web", 8080)  # web declares no http port
    assert not ok(c, "a/src", "1.2.3.4", 8080)  # an external end declares nothing


# ------------------------------------------------------------------------- both ends


def test_a_connection_needs_both_the_source_egress_and_the_destination_ingress():
    eg = pol("a", "web-egress", podSelector=sel(app="web"), policyTypes=["Egress"],
             egress=[{"ports": [{"port": 80}]}])
    ing = pol("a", "api-ingress", podSelector=sel(app="api"), ingress=[{"ports": [{"port": 81}]}])
    c = cluster(eg, ing)
    assert not ok(c, "a/web", "a/api", 80)  # ingress refuses
    assert not ok(c, "a/web", "a/api", 81)  # egress refuses
    c2 = cluster(eg, pol("a", "api-ingress", podSelector=sel(app="api"),
                         ingress=[{"ports": [{"port": 80}]}]))
    assert ok(c2, "a/web", "a/api", 80)


def test_an_external_end_only_faces_the_pod_side():
    deny_all = pol("a", "deny", policyTypes=["Ingress", "Egress"])
    c = cluster(deny_all)
    assert not ok(c, "8.8.8.8", "a/api") and not ok(c, "a/api", "8.8.8.8")
    assert ok(c, "8.8.8.8", "b/cli") and ok(c, "b/cli", "8.8.8.8")


def test_a_pod_always_reaches_itself():
    c = cluster(pol("a", "deny", policyTypes=["Ingress", "Egress"]))
    assert ok(c, "a/api", "a/api", 1, "SCTP")
    assert str(c.connections("a/api", "a/api")) == "all"
    assert c.matrix(port=80).allowed("a/api", "a/api")
    assert not ok(c, "a/web", "a/api")


def test_host_network_pods_are_outside_network_policy():
    host = Pod("a", "node-agent", {"app": "api"}, ips=("192.168.0.10",), host_network=True)
    c = cluster(pol("a", "deny", policyTypes=["Ingress", "Egress"]), pods=(WEB, API, host))
    assert ok(c, "a/node-agent", "a/api") and ok(c, "a/api", "a/node-agent")
    assert ok(c, "8.8.8.8", "a/node-agent") and ok(c, "a/node-agent", "8.8.8.8")
    assert not ok(c, "a/web", "a/api")
    m = c.matrix(port=80)
    assert m.allowed("a/node-agent", "a/web") and m.allowed("a/web", "a/node-agent")
    assert not m.allowed("a/web", "a/api")


# ------------------------------------------------------------------------- consistency

_LABELS = st.dictionaries(st.sampled_from(["app", "tier"]), st.sampled_from(["x", "y"]), max_size=2)
_SEL = st.one_of(
    st.just({}),
    _LABELS.map(lambda d: {"matchLabels": d}),
    st.tuples(st.sampled_from(["app", "tier"]),
              st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"])).map(
        lambda t: {"matchExpressions": [
            {"key": t[0], "operator": t[1], **({"values": ["x"]} if t[1] in ("In", "NotIn") else {})}]}),
)
_PEER = st.one_of(
    _SEL.map(lambda s: {"podSelector": s}),
    _SEL.map(lambda s: {"namespaceSelector": s}),
    st.tuples(_SEL, _SEL).map(lambda t: {"namespaceSelector": t[0], "podSelector": t[1]}),
    st.sampled_from([{"ipBlock": {"cidr": "10.0.0.0/24"}},
                     {"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/24"]}}]),
)
_PORT = st.one_of(
    st.builds(lambda p, e: {"port": p, **({"endPort": p + e} if e else {})},
              st.sampled_from([80, 81]), st.sampled_from([0, 1])),
    st.sampled_from([{"port": "http"}, {"protocol": "UDP", "port": "http"}, {"protocol": "UDP"},
                     {"protocol": "UDP", "port": 80}]),
)
_RULE = st.fixed_dictionaries({}, optional={"peers": st.lists(_PEER, max_size=2),
                                            "ports": st.lists(_PORT, max_size=2)})


_POD_COUNT = st.integers(2, 4)
_CONTAINER_PORTS = st.sampled_from([(), (ContainerPort(80, "TCP", "http"),),
                                    (ContainerPort(81, "UDP", "http"),)])
_POD_IPS = st.sampled_from([(), ("10.0.0.5",), ("10.0.1.5",), ("192.168.0.1",)])
_NAMESPACE = st.sampled_from(["a", "b"])
_BOOL = st.booleans()
_POLICY_COUNT = st.integers(0, 3)
_TYPES = st.sampled_from([None, ["Ingress"], ["Egress"], ["Ingress", "Egress"]])
_RULES = st.none() | st.lists(_RULE, max_size=2)


@st.composite
def small_clusters(draw):
    # (the strategies above are built once: building them per draw cost more than the draws)
    nss = [Namespace(n, draw(_LABELS)) for n in ("a", "b")]
    pods = []
    for i in range(draw(_POD_COUNT)):
        ports = draw(_CONTAINER_PORTS)
        ips = draw(_POD_IPS)
        pods.append(Pod(draw(_NAMESPACE), f"p{i}", draw(_LABELS), ips=ips,
                        ports=ports, host_network=draw(_BOOL) and i == 0))
    policies = []
    for i in range(draw(_POLICY_COUNT)):
        types = draw(_TYPES)
        spec = {"podSelector": draw(_SEL)}
        if types:
            spec["policyTypes"] = types
        for direction, side in (("ingress", "from"), ("egress", "to")):
            rules = draw(_RULES)
            if rules is not None:
                spec[direction] = [{**({side: r["peers"]} if "peers" in r else {}),
                                    **({"ports": r["ports"]} if "ports" in r else {})} for r in rules]
        policies.append(pol(draw(_NAMESPACE), f"p{i}", **spec))
    return Cluster(nss, pods, policies, ipblock_matches_pod_ips=draw(_BOOL))


@settings(max_examples=budget(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_clusters())
def test_fast_path_agrees_with_rule_by_rule_explanation_matrix_and_connections(c):
    """The class engine, the explanation walk, the matrix and connections are four routes."""
    for port, proto in ((80, "TCP"), (81, "TCP"), (80, "UDP"), (81, "UDP")):
        m = c.matrix(port=port, protocol=proto)
        for s in c.pods:
            for d in [*c.pods, "10.0.0.9", "192.168.0.1"]:
                v = c.allows(s.key, getattr(d, "key", d), port, proto)
                assert v.allowed == (v.egress.allowed and v.ingress.allowed), v.explain()
                if isinstance(d, Pod):
                    assert m.allowed(s.key, d.key) == v.allowed
                    assert c.connections(s.key, d.key).allows(proto, port) == v.allowed
                    rev = c.allows(d.key, "10.0.0.9", port, proto)
                    assert rev.allowed == (rev.egress.allowed and rev.ingress.allowed)
                    if s.key != d.key:
                        # a pod outside the cluster with the same identity takes the slow path
                        twin = dataclasses.replace(s, name=s.name + "-twin")
                        assert c.allows(twin, d.key, port, proto).allowed == v.allowed
    any_m = c.matrix()
    for s in c.pods:
        for d in c.pods:
            assert any_m.allowed(s.key, d.key) == (not c.connections(s.key, d.key).is_empty)


def test_representative_endpoint_is_evaluated_like_a_pod_with_those_labels():
    class Selector:
        def __init__(self, ns, **labels):
            self.spec = EndpointSpec(ns, labels)

        def __netpol_endpoint__(self):
            return self.spec

    c = cluster(pol("a", "p", podSelector=sel(app="api"), ingress=[{"from": [
        {"podSelector": sel(app="web")}], "ports": [{"port": 8080}]}]))
    assert c.allows(Selector("a", app="web"), Selector("a", app="api"), 8080)
    assert not c.allows(Selector("b", app="web"), Selector("a", app="api"), 8080)
    assert not c.allows(Selector("a", app="web"), "a/api", 9090)
