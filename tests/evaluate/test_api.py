"""The public API: ConnectionSet, Matrix, Exposure, endpoints, ports, errors, re-exports."""

from __future__ import annotations

import json

import numpy
import pytest

import netpol_dsl
from netpol_dsl import DslUsageError, load_policy
from netpol_dsl.errors import UnknownEndpointError
from netpol_dsl.evaluate import (
    Cluster,
    ConnectionSet,
    ContainerPort,
    EndpointSpec,
    Namespace,
    Pod,
    expect_reachability,
)


def pol(ns, name, **spec):
    spec.setdefault("podSelector", {})
    return load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": {"name": name, "namespace": ns}, "spec": spec})


# ------------------------------------------------------------------------- ConnectionSet


def test_connection_set_text_forms():
    assert str(ConnectionSet.all()) == "all"
    assert str(ConnectionSet.none()) == "none"
    cs = ConnectionSet({"UDP": [(53, 53)], "TCP": [(8080, 8090), (80, 80), (8091, 8095)]})
    assert str(cs) == "TCP 80,8080-8095; UDP 53"
    assert dict(cs.ranges) == {"TCP": ((80, 80), (8080, 8095)), "UDP": ((53, 53),)}
    assert repr(cs) == "ConnectionSet('TCP 80,8080-8095; UDP 53')"
    assert str(ConnectionSet.of("TCP") | ConnectionSet.of("UDP")) == "TCP 1-65535; UDP 1-65535"
    assert (ConnectionSet.of("TCP") | ConnectionSet.of("UDP") | ConnectionSet.of("SCTP")).is_all


def test_connection_set_algebra_equality_and_hash():
    a = ConnectionSet.of("TCP", 80, 90)
    b = ConnectionSet.of("TCP", 85, 100) | ConnectionSet.of("UDP", 53)
    assert str(a | b) == "TCP 80-100; UDP 53"
    assert str(a & b) == "TCP 85-90"
    assert a.union(b) == a | b and a.intersection(b) == a & b
    assert (a & ConnectionSet.of("UDP")).is_empty and not (a & ConnectionSet.of("UDP"))
    assert ConnectionSet.of("TCP", 80) == ConnectionSet({"TCP": [(80, 80)]})
    assert len({ConnectionSet.of("TCP", 80), ConnectionSet({"TCP": [(80, 80)]})}) == 1
    assert ConnectionSet.of("TCP", 80) != ConnectionSet.of("TCP", 81)
    assert [a.allows("TCP", p) for p in (79, 80, 90, 91)] == [False, True, True, False]
    assert a.__or__(5) is NotImplemented and a.__and__("x") is NotImplemented
    assert a.to_dict() == {"TCP": [[80, 90]]}
    assert str(b - a) == "TCP 91-100; UDP 53"
    assert str(ConnectionSet.of("TCP", 1, 100) - ConnectionSet({"TCP": [(5, 9), (20, 30), (100, 100)]})) == (
        "TCP 1-4,10-19,31-99")
    assert (a - ConnectionSet.all()).is_empty and a - ConnectionSet.none() == a
    assert a.__sub__(1) is NotImplemented


def test_connection_set_rejects_bad_values():
    with pytest.raises(DslUsageError, match=r"got protocol='ICMP'; expected one of 'TCP', 'UDP', 'SCTP'"):
        ConnectionSet.of("ICMP")
    with pytest.raises(DslUsageError, match=r"got port range 0-5; expected 1 <= first <= last <= 65535"):
        ConnectionSet({"TCP": [(0, 5)]})
    with pytest.raises(DslUsageError, match=r"got port range 9-8"):
        ConnectionSet({"TCP": [(9, 8)]})


# ------------------------------------------------------------------------- inventory types


def test_inventory_types():
    ns = Namespace("pay")
    assert dict(ns.labels) == {"kubernetes.io/metadata.name": "pay"}
    # the name label is kept equal to the name, as kube-apiserver does
    assert Namespace("pay", {"kubernetes.io/metadata.name": "other"}).labels[
        "kubernetes.io/metadata.name"] == "pay"
    p = Pod("pay", "api-0", {"app": "api"}, ips=["10.0.0.1"], ports=[ContainerPort(80)])
    assert p.ips == ("10.0.0.1",) and p.ports == (ContainerPort(80, "TCP", None),)
    assert p.key == "pay/api-0" and p.workload == "pay/api-0[Pod]"
    assert hash(p) == hash(Pod("pay", "api-0", {"app": "api"}))
    with pytest.raises(DslUsageError, match=r"Pod\(\): got ips='10.0.0.1'; expected a tuple"):
        Pod("a", "b", ips="10.0.0.1")
    with pytest.raises(DslUsageError, match=r"Pod\(\): got ips entry 'nope'; expected an IPv4"):
        Pod("a", "b", ips=("nope",))
    with pytest.raises(DslUsageError, match=r"got labels=\['x'\] \(type=list\)"):
        Pod("a", "b", ["x"])
    with pytest.raises(DslUsageError, match=r"ContainerPort\(\): got port=0; expected 1..65535"):
        ContainerPort(0)
    with pytest.raises(DslUsageError, match=r"got protocol='tcp'"):
        ContainerPort(80, "tcp")


# ------------------------------------------------------------------------- endpoints & ports

DENY_B = pol("b", "deny")
PODS = (Pod("a", "web", {"app": "web"}, ips=("10.0.0.1",),
            ports=(ContainerPort(8080, "TCP", "http"), ContainerPort(53, "UDP", "dns"))),
        Pod("b", "web", {"app": "web"}), Pod("b", "db", {"app": "db"}))


def test_endpoints_by_key_bare_name_pod_ip_and_selector_object():
    c = Cluster(pods=PODS, policies=[DENY_B])
    assert c.allows("db", "a/web", 80).src == "b/db"  # a unique bare name
    assert c.allows(PODS[0], "b/db", 80).dst == "b/db"
    assert c.allows("1.2.3.4", "a/web", 80).allowed
    assert not c.allows("1.2.3.4", "b/db", 80).allowed

    class Sel:
        def __init__(self, app):
            self.app = app

        def __netpol_endpoint__(self):
            return EndpointSpec("b", {"app": self.app}, namespace_labels={"team": "t"})

    # A selector endpoint stands for the inventory pods it matches (issue 12 item 1)...
    v = c.allows("a/web", Sel("db"), 80)
    assert not v.allowed and v.dst == "b/db"
    # ... and one that matches none is an error, not an invented pod.
    with pytest.raises(UnknownEndpointError, match=r"got b/\{app=x\}, which matches no pod"):
        c.allows("a/web", Sel("x"), 80)


def test_endpoint_errors():
    c = Cluster(pods=PODS)
    with pytest.raises(KeyError, match=r"got pod name 'web', which is ambiguous \(a/web, b/web\)"):
        c.allows("web", "b/db", 80)
    with pytest.raises(KeyError, match=r"got endpoint 'a/nope'; expected a pod of the cluster"):
        c.allows("a/nope", "b/db", 80)
    with pytest.raises(DslUsageError, match=r"got endpoint 3 \(type=int\)"):
        c.allows(3, "b/db", 80)
    with pytest.raises(DslUsageError, match=r"got two IP addresses \(1.1.1.1, 2.2.2.2\)"):
        c.allows("1.1.1.1", "2.2.2.2", 80)
    with pytest.raises(DslUsageError, match=r"got two IP addresses"):
        c.connections("1.1.1.1", "2.2.2.2")

    class Bad:
        def __netpol_endpoint__(self):
            return {"namespace": "a"}

    with pytest.raises(DslUsageError, match=r"Bad.__netpol_endpoint__\(\) = .*; expected an EndpointSpec"):
        c.allows(Bad(), "b/db", 80)
    with pytest.raises(KeyError, match=r"got pod 'x/y'; expected one of the cluster's pods"):
        c.pod("x/y")


def test_port_names_and_port_errors():
    c = Cluster(pods=PODS)
    v = c.allows("b/db", "a/web", "http")
    assert (v.port, v.port_name, str(v)) == (8080, "http", "ALLOWED: b/db -> a/web on TCP 8080 (http)")
    assert c.allows("b/db", "a/web", "dns", "UDP").port == 53
    with pytest.raises(ValueError, match=r"allows\(\): got port='dns'; expected a port number or a "
                                         r"TCP port name declared on a/web \(declared: http \(TCP 8080\), dns \(UDP 53\)\)"):
        c.allows("b/db", "a/web", "dns")
    with pytest.raises(ValueError, match=r"got port='http'; expected a number, since the destination 1.1.1.1 is not a pod"):
        c.allows("a/web", "1.1.1.1", "http")
    with pytest.raises(ValueError, match=r"got port=0; expected 1..65535"):
        c.allows("a/web", "b/db", 0)
    with pytest.raises(DslUsageError, match=r"got port=True \(type=bool\)"):
        c.allows("a/web", "b/db", True)
    # Protocols are case-insensitive everywhere (issue 12 item 3).
    assert c.allows("a/web", "b/db", 80, "tcp").protocol == "TCP"
    with pytest.raises(ValueError, match=r"got protocol='HTTP'; expected one of 'TCP', 'UDP', 'SCTP'"):
        c.allows("a/web", "b/db", 80, "HTTP")
    with pytest.raises(DslUsageError, match=r"got protocol=\['TCP'\] \(type=list\); expected one of"):
        c.allows("a/web", "b/db", 80, ["TCP"])
    assert c.allows("a/web", "b/db", numpy.int64(80)).port == 80


# ------------------------------------------------------------------------- connections


def test_connections_between_pods_and_with_external_ends():
    p = pol("a", "p", podSelector={"matchLabels": {"app": "web"}}, ingress=[
        {"from": [{"podSelector": {}}], "ports": [{"port": "http"}, {"protocol": "UDP", "port": 53}]},
        {"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 443}]}])
    c = Cluster(pods=(*PODS, Pod("a", "cli", {})), policies=[p])
    assert str(c.connections("a/cli", "a/web")) == "TCP 8080; UDP 53"
    assert str(c.connections("10.1.1.1", "a/web")) == "TCP 443"
    assert str(c.connections("11.1.1.1", "a/web")) == "none"
    assert str(c.connections("a/web", "11.1.1.1")) == "all"
    assert str(c.connections("b/db", "a/web")) == "none"


# ------------------------------------------------------------------------- matrix


def _matrix_cluster():
    return Cluster(pods=(Pod("a", "x", {"app": "x"}), Pod("a", "y", {"app": "y"},
                                                            ports=(ContainerPort(81, "TCP", "web"),)),
                         Pod("b", "z", {"app": "z"}, ports=(ContainerPort(80, "TCP", "web"),))),
                   policies=[pol("a", "y-from-x", podSelector={"matchLabels": {"app": "y"}},
                                 ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "x"}}}],
                                           "ports": [{"port": 80}]}])])


def test_matrix_exports():
    m = _matrix_cluster().matrix(port=80)
    assert m.pods == ("a/x", "a/y", "b/z")
    # only a/y is isolated (ingress from app=x in namespace a on 80): b/z -> a/y is the one denial
    assert list(m.rows()) == [("a/x", (True, True, True)), ("a/y", (True, True, True)),
                              ("b/z", (True, False, True))]
    assert m.count() == 8
    assert list(m.pairs(allowed=False)) == [("b/z", "a/y")]
    assert json.loads(m.to_json()) == {"port": 80, "protocol": "TCP", "pods": ["a/x", "a/y", "b/z"],
                                       "allowed": [[True, True, True], [True, True, True],
                                                   [True, False, True]]}
    assert m.to_csv() == "src\\dst,a/x,a/y,b/z\na/x,1,1,1\na/y,1,1,1\nb/z,1,0,1\n"
    assert m.to_markdown().splitlines() == [
        "| src \\ dst | a/x | a/y | b/z |", "|---|---|---|---|",
        "| a/x | ✓ | ✓ | ✓ |", "| a/y | ✓ | ✓ | ✓ |", "| b/z | ✓ | ✗ | ✓ |"]
    assert not _matrix_cluster().matrix(port=81).allowed("a/x", "a/y")
    assert repr(m) == "<Matrix 3 pods, TCP 80>"
    with pytest.raises(KeyError, match=r"matrix: got pod 'q/q'"):
        m.allowed("q/q", "a/x")


def test_matrix_for_any_connection_and_for_a_named_port():
    c = _matrix_cluster()
    any_m = c.matrix()
    assert any_m.allowed("a/x", "a/y") and not any_m.allowed("b/z", "a/y")
    assert any_m.to_dict()["protocol"] is None
    named = c.matrix(port="web")
    # a/y declares web=81, which y-from-x does not allow; b/z declares web=80; a/x declares none
    assert named.row("a/x") == (True, False, True)
    assert named.row("b/z") == (False, False, True)
    with pytest.raises(ValueError, match=r"matrix\(\): got port=70000"):
        c.matrix(port=70000)
    with pytest.raises(DslUsageError, match=r"matrix\(\): got port=1.5 \(type=float\)"):
        c.matrix(port=1.5)


# ------------------------------------------------------------------------- exposure


def test_exposure_external_namespaces_and_pods():
    p = pol("a", "api", podSelector={"matchLabels": {"app": "api"}}, policyTypes=["Ingress", "Egress"],
            ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}],
                      "ports": [{"port": 443}]},
                     {"from": [{"namespaceSelector": {"matchLabels": {"team": "t"}}}],
                      "ports": [{"port": "http"}]},
                     {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}],
            egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"protocol": "UDP", "port": 53}]}])
    api = Pod("a", "api", {"app": "api"}, ips=("10.0.0.9",), ports=(ContainerPort(8080, name="http"),))
    c = Cluster([Namespace("b", {"team": "t"})],
                (api, Pod("a", "web", {"app": "web"}), Pod("b", "cli", {}, ips=("10.0.0.7",))), [p])
    e = c.exposure("a/api")
    assert e.ingress_isolated and e.egress_isolated
    assert [(x.cidrs, str(x.connections)) for x in e.external_ingress] == [
        (("0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4", "32.0.0.0/3",
          "64.0.0.0/2", "128.0.0.0/1"), "TCP 443")]
    assert [(x.cidrs, str(x.connections)) for x in e.external_egress] == [(("10.0.0.0/24",), "UDP 53")]
    assert {k: str(v) for k, v in e.namespace_ingress.items()} == {"b": "TCP 8080"}
    assert e.namespace_egress == {}
    assert {k: str(v) for k, v in e.pod_ingress.items()} == {"a/web": "all", "b/cli": "TCP 8080"}
    assert {k: str(v) for k, v in e.pod_egress.items()} == {"b/cli": "UDP 53"}  # pod IP in 10.0.0.0/24
    d = e.to_dict()
    assert d["pod"] == "a/api" and d["pod_egress"] == {"b/cli": "UDP 53"}
    assert json.loads(json.dumps(d)) == d
    with pytest.raises(DslUsageError, match=r"exposure\(\): got '1.1.1.1'; expected a pod of the cluster"):
        c.exposure("1.1.1.1")


def test_exposure_of_an_unisolated_pod_is_everything():
    e = Cluster(pods=(Pod("a", "x"), Pod("b", "y"))).exposure("a/x")
    assert [(x.cidrs, str(x.connections)) for x in e.external_egress] == [(("0.0.0.0/0", "::/0"), "all")]
    assert {k: str(v) for k, v in e.namespace_egress.items()} == {"a": "all", "b": "all"}
    assert {k: str(v) for k, v in e.pod_egress.items()} == {"b/y": "all"}


# ------------------------------------------------------------------------- expect_reachability


def test_expect_reachability_reports_every_mismatch_with_explanations():
    c = Cluster(pods=PODS, policies=[DENY_B])
    expect_reachability(c, {("a/web", "b/db", 80): False, ("b/db", "a/web", 80): True})
    expect_reachability(c, [(("b/db", "a/web", 53, "UDP"), True)])
    with pytest.raises(AssertionError) as err:
        expect_reachability(c, {("a/web", "b/db", 80): True, ("b/db", "a/web", 80): True,
                                ("a/web", "b/web", 443): True})
    text = str(err.value)
    assert text.startswith("2 of 3 reachability expectations failed:\n\n1. expected ALLOWED, got "
                           "DENIED: a/web -> b/db on TCP 80\n")
    assert "\n\n2. expected ALLOWED, got DENIED: a/web -> b/web on TCP 443\n" in text
    assert "ingress to b/web: DENIED: isolated by 1 policy (b/deny)" in text
    with pytest.raises(DslUsageError, match=r"got key \('a/web',\); expected \(src, dst, port\)"):
        expect_reachability(c, {("a/web",): True})
    with pytest.raises(DslUsageError, match=r"got \('a/web', 'b/db', 80\): 'yes'; expected True or False"):
        expect_reachability(c, {("a/web", "b/db", 80): "yes"})


def test_top_level_reexports():
    assert netpol_dsl.Cluster is Cluster and netpol_dsl.ConnectionSet is ConnectionSet
    assert netpol_dsl.Verdict is type(Cluster(pods=PODS).allows("a/web", "b/db", 80))
