"""The upstream NetworkPolicy e2e conformance tests, transcribed cell by cell.

Source: kubernetes/kubernetes ``test/e2e/network/netpol`` — ``network_policy.go`` (the version
that probes the full 3 x 3 model, ``initializeResources(ctx, f, protocols, ports)``), with
``model.go`` (namespaces, pods, containers, labels), ``policies.go`` (the ``GenNetworkPolicy*``
and ``SetSpec*Rules`` helpers), ``reachability.go`` (``ExpectPeer``/``Expect``/
``ExpectAllIngress``/``ExpectAllEgress`` on a default-true truth table) and ``probe.go``.
Newer upstream versions run the same tests on a subset of these pods; every cell they assert
is one of the cells asserted here.

The model, as ``model.go`` builds it:

- namespaces x, y, z labelled ``ns=<name>`` (plus ``kubernetes.io/metadata.name``, which the
  API server adds);
- pods a, b, c in each, labelled ``pod=<name>``;
- each pod has one container per (port, protocol) of the test, whose container port is named
  ``serve-<port>-<protocol lowercased>`` (e.g. ``serve-80-tcp``).

Every probe asserts every ordered pair of the 9 pods except loopback (``ignoreLoopback = true``
in ``network_policy.go``: "let's just ignore loopback calls for the purposes of deciding test
pass/fail"). Steps that change the cluster (``UpdatePolicy``, ``AddNamespaceLabel``,
``AddPodLabels``, ``CleanNetworkPolicies``) are replayed as a new cluster state.

Not transcribed: "should enforce default-deny ingress policy against LoadBalancer traffic with
ExternalTrafficPolicy: Local" (it probes a LoadBalancer/NodePort from outside the cluster, not a
pod-to-pod truth table).

Each probe runs against the library (``Cluster.allows``, ``Cluster.matrix`` and
``Cluster.connections``, which must agree) and against the
naive reference evaluator in ``tests/evaluate/reference.py``; and the model is built twice: with
the containers the Go test creates for that test, and with every pod serving 80 and 81 on TCP,
UDP and SCTP (the verdicts must not depend on that).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from netpol_dsl.model import NetworkPolicy
from tests.evaluate import reference as ref

NS_LABEL = "kubernetes.io/metadata.name"
NAMESPACES = ("x", "y", "z")
POD_NAMES = ("a", "b", "c")
ALL_PODS = tuple(f"{ns}/{p}" for ns in NAMESPACES for p in POD_NAMES)

TCP, UDP, SCTP = "TCP", "UDP", "SCTP"


def pod_ip(pod: str) -> str:
    """A distinct IPv4 per pod, all inside 10.0.0.0/8 (so inside makeLargeCIDRForIP's /4)."""
    ns, name = pod.split("/")
    return f"10.0.{NAMESPACES.index(ns) + 1}.{POD_NAMES.index(name) + 1}"


# --- reachability.go ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Peer:
    """reachability.go Peer: an empty field matches everything."""

    namespace: str = ""
    pod: str = ""

    def matches(self, pod: str) -> bool:
        ns, name = pod.split("/")
        return (self.namespace in ("", ns)) and (self.pod in ("", name))


class Reachability:
    """reachability.go Reachability with the expected truth table only."""

    def __init__(self, default: bool = True) -> None:
        self.expected = {(f, t): default for f in ALL_PODS for t in ALL_PODS}

    def expect(self, frm: str, to: str, connected: bool) -> None:
        self.expected[frm, to] = connected

    def expect_all_ingress(self, pod: str, connected: bool) -> None:
        # TruthTable.SetAllTo: every item -> pod
        for frm in ALL_PODS:
            self.expected[frm, pod] = connected

    def expect_all_egress(self, pod: str, connected: bool) -> None:
        # TruthTable.SetAllFrom: pod -> every item
        for to in ALL_PODS:
            self.expected[pod, to] = connected

    def expect_peer(self, frm: Peer, to: Peer, connected: bool) -> None:
        for f in ALL_PODS:
            if frm.matches(f):
                for t in ALL_PODS:
                    if to.matches(t):
                        self.expected[f, t] = connected

    def cells(self) -> Iterator[tuple[str, str, bool]]:
        """Every asserted cell: all pairs but loopback (ignoreLoopback)."""
        for (f, t), v in sorted(self.expected.items()):
            if f != t:
                yield f, t, v


# --- policies.go -------------------------------------------------------------------------------

SetFunc = Callable[[dict[str, Any]], None]


def gen_network_policy(*fns: SetFunc) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {},
        "spec": {"podSelector": {}},
    }
    for f in fns:
        f(policy)
    return policy


def set_name(name: str) -> SetFunc:
    def f(p: dict[str, Any]) -> None:
        p["metadata"]["name"] = name

    return f


def set_pod_selector(selector: dict[str, Any]) -> SetFunc:
    def f(p: dict[str, Any]) -> None:
        p["spec"]["podSelector"] = selector

    return f


def set_pod_selector_match_labels(labels: dict[str, str]) -> SetFunc:
    return set_pod_selector({"matchLabels": labels})


def set_spec_ingress_rules(*rules: dict[str, Any]) -> SetFunc:
    """SetSpecIngressRules: the first call creates ``ingress: []`` and appends "Ingress"."""

    def f(p: dict[str, Any]) -> None:
        spec = p["spec"]
        if "ingress" not in spec:
            spec["ingress"] = []
            spec.setdefault("policyTypes", []).append("Ingress")
        spec["ingress"].extend(copy.deepcopy(list(rules)))

    return f


def set_spec_egress_rules(*rules: dict[str, Any]) -> SetFunc:
    def f(p: dict[str, Any]) -> None:
        spec = p["spec"]
        if "egress" not in spec:
            spec["egress"] = []
            spec.setdefault("policyTypes", []).append("Egress")
        spec["egress"].extend(copy.deepcopy(list(rules)))

    return f


def with_name_and_pod_match_label(name: str, labels: dict[str, str], *fns: SetFunc) -> dict[str, Any]:
    """GenNetworkPolicyWithNameAndPodMatchLabel."""
    return gen_network_policy(*fns, set_name(name), set_pod_selector_match_labels(labels))


def with_name_and_pod_selector(name: str, selector: dict[str, Any], *fns: SetFunc) -> dict[str, Any]:
    """GenNetworkPolicyWithNameAndPodSelector."""
    return gen_network_policy(*fns, set_name(name), set_pod_selector(selector))


def ns_is(ns: str) -> dict[str, Any]:
    return {"matchLabels": {NS_LABEL: ns}}


def expr(key: str, op: str, *values: str) -> dict[str, Any]:
    req: dict[str, Any] = {"key": key, "operator": op}
    if values:
        req["values"] = list(values)
    return {"matchExpressions": [req]}


# --- the cluster state of one step -------------------------------------------------------------


@dataclass
class State:
    protocols: tuple[str, ...]
    ports: tuple[int, ...]
    policies: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    ns_labels: dict[str, dict[str, str]] = field(
        default_factory=lambda: {ns: {"ns": ns, NS_LABEL: ns} for ns in NAMESPACES}
    )
    pod_labels: dict[str, dict[str, str]] = field(
        default_factory=lambda: {p: {"pod": p.split("/")[1]} for p in ALL_PODS}
    )

    def create_policy(self, policy: dict[str, Any], ns: str) -> None:
        """CreatePolicy / UpdatePolicy: the object keyed by namespace and name."""
        p = copy.deepcopy(policy)
        p["metadata"]["namespace"] = ns
        self.policies[ns, p["metadata"]["name"]] = p

    update_policy = create_policy

    def clean_policies(self) -> None:
        self.policies.clear()

    def add_namespace_label(self, ns: str, key: str, value: str) -> None:
        self.ns_labels[ns][key] = value

    def add_pod_labels(self, pod: str, labels: dict[str, str]) -> None:
        # kubemanager AddPodLabels: sets each key on the existing labels
        self.pod_labels[pod].update(labels)

    def snapshot(self) -> State:
        return copy.deepcopy(self)


@dataclass(frozen=True)
class Probe:
    """One ValidateOrFail call: a TestCase and the cluster as it was then."""

    state: State
    port: int
    protocol: str
    reachability: Reachability


class Run:
    """Collects the probes of one transcribed test."""

    def __init__(self, protocols: list[str], ports: list[int]) -> None:
        self.state = State(tuple(protocols), tuple(ports))
        self.probes: list[Probe] = []

    def validate(self, port: int, protocol: str, reachability: Reachability) -> None:
        self.probes.append(Probe(self.state.snapshot(), port, protocol, copy.deepcopy(reachability)))


TESTS: dict[str, Callable[[], Run]] = {}


def upstream(name: str) -> Callable[[Callable[[], Run]], Callable[[], Run]]:
    def register(fn: Callable[[], Run]) -> Callable[[], Run]:
        assert name not in TESTS
        TESTS[name] = fn
        return fn

    return register


def nsx_a() -> Peer:
    return Peer("x", "a")


# --- the tests of network_policy.go, in file order ------------------------------------------------
# Context "NetworkPolicy between server and client"


@upstream("should support a 'default-deny-ingress' policy")
def _t01() -> Run:
    k = Run([TCP], [80])
    policy = with_name_and_pod_selector("deny-ingress", {}, set_spec_ingress_rules())
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_peer(Peer(), Peer("x"), False)
    k.validate(80, TCP, r)
    return k


@upstream("should support a 'default-deny-all' policy")
def _t02() -> Run:
    policy = with_name_and_pod_selector("deny-all", {}, set_spec_ingress_rules(), set_spec_egress_rules())
    k = Run([TCP], [80])
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_peer(Peer(), Peer("x"), False)
    r.expect_peer(Peer("x"), Peer(), False)
    k.validate(80, TCP, r)
    return k


@upstream("should enforce policy to allow traffic from pods within server namespace based on PodSelector")
def _t03() -> Run:
    rule = {"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}
    policy = with_name_and_pod_match_label("x-a-allows-x-b", {"pod": "a"}, set_spec_ingress_rules(rule))
    k = Run([TCP], [80])
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_all_ingress("x/a", False)
    r.expect("x/b", "x/a", True)
    k.validate(80, TCP, r)
    return k


@upstream("should enforce policy to allow ingress traffic for a target")
def _t04() -> Run:
    k = Run([TCP], [80])
    k.state.create_policy(with_name_and_pod_selector("deny-all", {}, set_spec_ingress_rules()), "x")
    rule = {"from": [{"podSelector": {}, "namespaceSelector": {}}]}
    allow = with_name_and_pod_match_label("allow-all-to-a", {"pod": "a"}, set_spec_ingress_rules(rule))
    k.state.create_policy(allow, "x")
    r = Reachability()
    r.expect_all_ingress("x/a", True)
    r.expect_all_ingress("x/b", False)
    r.expect_all_ingress("x/c", False)
    k.validate(80, TCP, r)
    return k


@upstream("should enforce policy to allow ingress traffic from pods in all namespaces")
def _t05() -> Run:
    k = Run([TCP], [80])
    rule = {"from": [{"namespaceSelector": {"matchLabels": {}}}]}
    policy = with_name_and_pod_match_label("allow-from-another-ns", {"pod": "a"}, set_spec_ingress_rules(rule))
    k.state.create_policy(policy, "x")
    k.validate(80, TCP, Reachability())
    return k


@upstream("should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector")
def _t06() -> Run:
    k = Run([TCP], [80])
    rule = {"from": [{"namespaceSelector": ns_is("y")}]}
    policy = with_name_and_pod_match_label("allow-client-a-via-ns-selector", {"pod": "a"}, set_spec_ingress_rules(rule))
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_peer(Peer("x"), nsx_a(), False)
    r.expect_peer(Peer("z"), nsx_a(), False)
    k.validate(80, TCP, r)
    return k


@upstream("should enforce policy based on PodSelector with MatchExpressions")
def _t07() -> Run:
    rule = {"from": [{"podSelector": expr("pod", "In", "b")}]}
    policy = with_name_and_pod_match_label("x-a-allows-x-b", {"pod": "a"}, set_spec_ingress_rules(rule))
    k = Run([TCP], [80])
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_all_ingress("x/a", False)
    r.expect("x/b", "x/a", True)
    k.validate(80, TCP, r)
    return k


@upstream("should enforce policy based on NamespaceSelector with MatchExpressions")
def _t08() -> Run:
    k = Run([TCP], [80])
    rule = {"from": [{"namespaceSelector": expr(NS_LABEL, "In", "y")}]}
    policy = with_name_and_pod_match_label("allow-ns-y-match-selector", {"pod": "a"}, set_spec_ingress_rules(rule))
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_peer(Peer("x"), nsx_a(), False)
    r.expect_peer(Peer("z"), nsx_a(), False)
    k.validate(80, TCP, r)
    return k


@upstream("should enforce policy based on PodSelector or NamespaceSelector")
def _t09() -> Run:
    k = Run([TCP], [80])
    rule = {
        "from": [
            {"namespaceSelector": expr(NS_LABEL, "NotIn", "x")},
            {"podSelector": {"matchLabels": {"pod": "b"}}},
        ]
    }
    policy = with_name_and_pod_match_label("allow-ns-y-match-selector", {"pod": "a"}, set_spec_ingress_rules(rule))
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect("x/a", "x/a", False)
    r.expect("x/c", "x/a", False)
    k.validate(80, TCP, r)
    return k


@upstream("should enforce policy based on PodSelector and NamespaceSelector")
def _t10() -> Run:
    k = Run([TCP], [80])
    rule = {
        "from": [
            {
                "namespaceSelector": expr(NS_LABEL, "NotIn", "x"),
                "podSelector": {"matchLabels": {"pod": "b"}},
            }
        ]
    }
    policy = with_name_and_pod_match_label(
        "allow-ns-y-podselector-and-nsselector", {"pod": "a"}, set_spec_ingress_rules(rule)
    )
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_all_ingress("x/a", False)
    r.expect("y/b", "x/a", True)
    r.expect("z/b", "x/a", True)
    k.validate(80, TCP, r)
    return k


@upstream("should enforce policy based on Multiple PodSelectors and NamespaceSelectors")
def _t11() -> Run:
    k = Run([TCP], [80])
    rule = {
        "from": [
            {
                "namespaceSelector": expr(NS_LABEL, "NotIn", "x"),
                "podSelector": expr("pod", "In", "b", "c"),
            }
        ]
    }
    policy = with_name_and_pod_match_label("allow-ns-y-z-pod-b-c", {"pod": "a"}, set_spec_ingress_rules(rule))
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_peer(Peer("x"), nsx_a(), False)
    r.expect("y/a", "x/a", False)
    r.expect("z/a", "x/a", False)
    k.validate(80, TCP, r)
    return k


@upstream("should enforce policy based on any PodSelectors")
def _t12() -> Run:
    k = Run([TCP], [80])
    rule = {"from": [{"podSelector": {"matchLabels": {"pod": p}}} for p in ("b", "c")]}
    policy = with_name_and_pod_match_label("allow-ns-x-pod-b-c", {"pod": "a"}, set_spec_ingress_rules(rule))
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_all_ingress("x/a", False)
    r.expect("x/b", "x/a", True)
    r.expect("x/c", "x/a", True)
    k.validate(80, TCP, r)
    return k


def _from_ns_y_pod_a(protocol: str) -> Run:
    k = Run([protocol], [80])
    rule = {"from": [{"namespaceSelector": ns_is("y"), "podSelector": {"matchLabels": {"pod": "a"}}}]}
    policy = with_name_and_pod_match_label(
        "allow-ns-y-pod-a-via-namespace-pod-selector", {"pod": "a"}, set_spec_ingress_rules(rule)
    )
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_all_ingress("x/a", False)
    r.expect("y/a", "x/a", True)
    k.validate(80, protocol, r)
    return k


@upstream(
    "should enforce policy to allow traffic only from a pod in a different namespace based on "
    "PodSelector and NamespaceSelector"
)
def _t13() -> Run:
    return _from_ns_y_pod_a(TCP)


def _allow_port_81_from_y(protocol: str, name: str) -> dict[str, Any]:
    rule = {"from": [{"namespaceSelector": ns_is("y")}], "ports": [{"port": 81, "protocol": protocol}]}
    return with_name_and_pod_match_label(name, {"pod": "a"}, set_spec_ingress_rules(rule))


@upstream("should enforce policy based on Ports")
def _t14() -> Run:
    k = Run([TCP], [81])
    k.state.create_policy(_allow_port_81_from_y(TCP, "allow-client-a-via-ns-selector"), "x")
    r = Reachability()
    r.expect_peer(Peer("x"), nsx_a(), False)
    r.expect_peer(Peer("y"), nsx_a(), True)
    r.expect_peer(Peer("z"), nsx_a(), False)
    k.validate(81, TCP, r)
    return k


@upstream("should enforce multiple, stacked policies with overlapping podSelectors")
def _t15() -> Run:
    k = Run([TCP], [80, 81])
    k.state.create_policy(_allow_port_81_from_y(TCP, "allow-client-a-via-ns-selector"), "x")
    allow = Reachability()
    allow.expect_peer(Peer("x"), nsx_a(), False)
    allow.expect_peer(Peer("y"), nsx_a(), True)
    allow.expect_peer(Peer("z"), nsx_a(), False)
    k.validate(81, TCP, allow)
    deny = Reachability()
    deny.expect_all_ingress("x/a", False)
    k.validate(80, TCP, deny)
    rule = {"from": [{"namespaceSelector": ns_is("y")}], "ports": [{"port": 80, "protocol": TCP}]}
    policy80 = with_name_and_pod_match_label(
        "allow-client-a-via-ns-selector-80", {"pod": "a"}, set_spec_ingress_rules(rule)
    )
    k.state.create_policy(policy80, "x")
    k.validate(80, TCP, allow)
    return k


@upstream("should support allow-all policy")
def _t16() -> Run:
    policy = with_name_and_pod_match_label("allow-all", {}, set_spec_ingress_rules({}))
    k = Run([TCP], [80, 81])
    k.state.create_policy(policy, "x")
    r = Reachability()
    k.validate(80, TCP, r)
    k.validate(81, TCP, r)
    return k


@upstream("should allow ingress access on one named port")
def _t17() -> Run:
    rule = {"ports": [{"port": "serve-81-tcp"}]}
    policy = with_name_and_pod_match_label("allow-all", {}, set_spec_ingress_rules(rule))
    k = Run([TCP], [80, 81])
    k.state.create_policy(policy, "x")
    k.validate(81, TCP, Reachability())
    r80 = Reachability()
    r80.expect_peer(Peer(), Peer("x"), False)
    k.validate(80, TCP, r80)
    return k


@upstream("should allow ingress access from namespace on one named port")
def _t18() -> Run:
    k = Run([TCP], [80, 81])
    rule = {"from": [{"namespaceSelector": ns_is("y")}], "ports": [{"port": "serve-80-tcp", "protocol": TCP}]}
    policy = with_name_and_pod_match_label(
        "allow-client-a-via-ns-selector-80", {"pod": "a"}, set_spec_ingress_rules(rule)
    )
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_peer(Peer("x"), nsx_a(), False)
    r.expect_peer(Peer("z"), nsx_a(), False)
    k.validate(80, TCP, r)
    fail = Reachability()
    fail.expect_all_ingress("x/a", False)
    k.validate(81, TCP, fail)
    return k


@upstream("should allow egress access on one named port")
def _t19() -> Run:
    rule = {"ports": [{"port": "serve-80-tcp"}]}
    policy = with_name_and_pod_match_label("allow-egress", {}, set_spec_egress_rules(rule))
    k = Run([TCP], [80, 81])
    k.state.create_policy(policy, "x")
    k.validate(80, TCP, Reachability())
    r81 = Reachability()
    r81.expect_peer(Peer("x"), Peer(), False)
    k.validate(81, TCP, r81)
    return k


@upstream("should enforce updated policy")
def _t20() -> Run:
    policy = with_name_and_pod_match_label("allow-all-mutate-to-deny-all", {}, set_spec_ingress_rules({}))
    k = Run([TCP], [81])
    k.state.create_policy(policy, "x")
    k.validate(81, TCP, Reachability())
    policy["spec"]["ingress"] = []
    k.state.update_policy(policy, "x")
    deny = Reachability()
    deny.expect_peer(Peer(), Peer("x"), False)
    k.validate(81, TCP, deny)
    return k


@upstream("should allow ingress access from updated namespace")
def _t21() -> Run:
    k = Run([TCP], [80])
    rule = {"from": [{"namespaceSelector": {"matchLabels": {"ns2": "updated"}}}]}
    policy = with_name_and_pod_match_label("allow-client-a-via-ns-selector", {"pod": "a"}, set_spec_ingress_rules(rule))
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_all_ingress("x/a", False)
    k.validate(80, TCP, r)
    k.state.add_namespace_label("y", "ns2", "updated")
    with_label = Reachability()
    with_label.expect_all_ingress("x/a", False)
    with_label.expect_peer(Peer("y"), Peer(), True)
    k.validate(80, TCP, with_label)
    return k


@upstream("should allow ingress access from updated pod")
def _t22() -> Run:
    k = Run([TCP], [80])
    match_labels = {"pod": "b", "pod2": "updated"}
    rule = {"from": [{"podSelector": {"matchLabels": match_labels}}]}
    policy = with_name_and_pod_match_label("allow-client-a-via-pod-selector", {"pod": "a"}, set_spec_ingress_rules(rule))
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_all_ingress("x/a", False)
    k.validate(80, TCP, r)
    k.state.add_pod_labels("x/b", match_labels)
    with_label = Reachability()
    with_label.expect_all_ingress("x/a", False)
    with_label.expect("x/b", "x/a", True)
    k.validate(80, TCP, with_label)
    return k


@upstream("should deny ingress from pods on other namespaces")
def _t23() -> Run:
    k = Run([TCP], [80])
    rule = {"from": [{"podSelector": {"matchLabels": {}}}]}
    policy = with_name_and_pod_selector("deny-empty-policy", {}, set_spec_ingress_rules(rule))
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_peer(Peer("y"), Peer("x"), False)
    r.expect_peer(Peer("z"), Peer("x"), False)
    k.validate(80, TCP, r)
    return k


@upstream("should deny ingress access to updated pod")
def _t24() -> Run:
    k = Run([TCP], [80])
    policy = with_name_and_pod_selector(
        "deny-ingress-via-label-selector", {"matchLabels": {"target": "isolated"}}, set_spec_ingress_rules()
    )
    k.state.create_policy(policy, "x")
    k.validate(80, TCP, Reachability())
    k.state.add_pod_labels("x/a", {"target": "isolated"})
    isolated = Reachability()
    isolated.expect_all_ingress("x/a", False)
    k.validate(80, TCP, isolated)
    return k


@upstream("should deny egress from pods based on PodSelector")
def _t25() -> Run:
    k = Run([TCP], [80])
    policy = with_name_and_pod_selector("deny-egress-pod-a", {"matchLabels": {"pod": "a"}}, set_spec_egress_rules())
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_all_egress("x/a", False)
    k.validate(80, TCP, r)
    return k


@upstream("should deny egress from all pods in a namespace")
def _t26() -> Run:
    k = Run([TCP], [80])
    policy = with_name_and_pod_selector("deny-egress-ns-x", {}, set_spec_egress_rules())
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_peer(Peer("x"), Peer(), False)
    k.validate(80, TCP, r)
    return k


@upstream("should work with Ingress, Egress specified together")
def _t27() -> Run:
    rule = {"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}
    policy = with_name_and_pod_match_label("allow-client-a-via-pod-selector", {"pod": "a"}, set_spec_ingress_rules(rule))
    # "add an egress rule on to it..." -- don't use named ports
    policy["spec"]["egress"] = [{"ports": [{"port": 80}]}]
    policy["spec"]["policyTypes"] = ["Egress", "Ingress"]
    k = Run([TCP], [80, 81])
    k.state.create_policy(policy, "x")
    r80 = Reachability()
    r80.expect_all_ingress("x/a", False)
    r80.expect("x/b", "x/a", True)
    k.validate(80, TCP, r80)
    r81 = Reachability()
    r81.expect_all_ingress("x/a", False)
    r81.expect_all_egress("x/a", False)
    r81.expect("x/b", "x/a", True)
    k.validate(81, TCP, r81)
    return k


@upstream(
    "should support denying of egress traffic on the client side (even if the server explicitly "
    "allows this traffic)"
)
def _t28() -> Run:
    k = Run([TCP], [80])
    egress = {"to": [{"namespaceSelector": ns_is("y"), "podSelector": {"matchLabels": {"pod": "a"}}}]}
    k.state.create_policy(
        with_name_and_pod_match_label("allow-to-ns-y-pod-a", {"pod": "a"}, set_spec_egress_rules(egress)), "x"
    )
    ingress = {"from": [{"namespaceSelector": ns_is("x"), "podSelector": {"matchLabels": {"pod": "a"}}}]}
    pod_a = with_name_and_pod_match_label("allow-from-xa-on-ya-match-selector", {"pod": "a"}, set_spec_ingress_rules(ingress))
    pod_b = with_name_and_pod_match_label("allow-from-xa-on-yb-match-selector", {"pod": "b"}, set_spec_ingress_rules(ingress))
    k.state.create_policy(pod_a, "y")
    k.state.create_policy(pod_b, "y")
    r = Reachability()
    r.expect_peer(Peer("x", "a"), Peer(), False)
    r.expect_peer(Peer(), Peer("y", "a"), False)
    r.expect_peer(Peer("x", "a"), Peer("y", "a"), True)
    r.expect_peer(Peer(), Peer("y", "b"), False)
    k.validate(80, TCP, r)
    return k


@upstream(
    "should enforce egress policy allowing traffic to a server in a different namespace based on "
    "PodSelector and NamespaceSelector"
)
def _t29() -> Run:
    k = Run([TCP], [80])
    egress = {"to": [{"namespaceSelector": ns_is("y"), "podSelector": {"matchLabels": {"pod": "a"}}}]}
    k.state.create_policy(
        with_name_and_pod_match_label("allow-to-ns-y-pod-a", {"pod": "a"}, set_spec_egress_rules(egress)), "x"
    )
    r = Reachability()
    r.expect_all_egress("x/a", False)
    r.expect("x/a", "y/a", True)
    k.validate(80, TCP, r)
    return k


@upstream("should enforce ingress policy allowing any port traffic to a server on a specific protocol")
def _t30() -> Run:
    k = Run([TCP, UDP], [80])
    rule = {"ports": [{"protocol": TCP}]}
    k.state.create_policy(
        with_name_and_pod_match_label("allow-ingress-by-proto", {"pod": "a"}, set_spec_ingress_rules(rule)), "x"
    )
    k.validate(80, TCP, Reachability())
    r_udp = Reachability()
    r_udp.expect_peer(Peer(), nsx_a(), False)
    k.validate(80, UDP, r_udp)
    return k


@upstream("should enforce multiple ingress policies with ingress allow-all policy taking precedence")
def _t31() -> Run:
    k = Run([TCP], [81])
    rule = {"ports": [{"port": 80}]}
    k.state.create_policy(with_name_and_pod_match_label("allow-ingress-port-80", {}, set_spec_ingress_rules(rule)), "x")
    r = Reachability()
    r.expect_peer(Peer(), Peer("x"), False)
    k.validate(81, TCP, r)
    k.state.create_policy(with_name_and_pod_match_label("allow-ingress", {}, set_spec_ingress_rules({})), "x")
    k.validate(81, TCP, Reachability())
    return k


@upstream("should enforce multiple egress policies with egress allow-all policy taking precedence")
def _t32() -> Run:
    rule = {"ports": [{"port": 80}]}
    policy80 = with_name_and_pod_match_label("allow-egress-port-80", {}, set_spec_egress_rules(rule))
    k = Run([TCP], [81])
    k.state.create_policy(policy80, "x")
    r = Reachability()
    r.expect_peer(Peer("x"), Peer(), False)
    k.validate(81, TCP, r)
    k.state.create_policy(with_name_and_pod_match_label("allow-egress", {}, set_spec_egress_rules({})), "x")
    k.validate(81, TCP, Reachability())
    return k


@upstream("should stop enforcing policies after they are deleted")
def _t33() -> Run:
    policy = with_name_and_pod_selector("deny-all", {}, set_spec_ingress_rules(), set_spec_egress_rules())
    k = Run([TCP], [80])
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_peer(Peer("x"), Peer(), False)
    r.expect_peer(Peer(), Peer("x"), False)
    k.validate(80, TCP, r)
    k.state.clean_policies()
    k.validate(80, TCP, Reachability())
    return k


@upstream("should allow egress access to server in CIDR block")
def _t34() -> Run:
    k = Run([TCP], [80])
    cidr = f"{pod_ip('y/b')}/32"
    rule = {"to": [{"ipBlock": {"cidr": cidr}}]}
    k.state.create_policy(
        with_name_and_pod_match_label("allow-client-a-via-cidr-egress-rule", {"pod": "a"}, set_spec_egress_rules(rule)),
        "x",
    )
    r = Reachability()
    r.expect_all_egress("x/a", False)
    r.expect("x/a", "y/b", True)
    k.validate(80, TCP, r)
    return k


def make_large_cidr_for_ip(ip: str) -> str:
    """makeLargeCIDRForIP: the /4 that contains the IP."""
    import ipaddress

    return str(ipaddress.ip_network(f"{ip}/4", strict=False))


def _except_policy() -> dict[str, Any]:
    ip = pod_ip("x/b")
    rule = {"to": [{"ipBlock": {"cidr": make_large_cidr_for_ip(ip), "except": [f"{ip}/32"]}}]}
    return with_name_and_pod_match_label(
        "allow-client-a-via-cidr-egress-rule", {"pod": "a"}, set_spec_egress_rules(rule)
    )


@upstream("should enforce except clause while egress access to server in CIDR block")
def _t35() -> Run:
    k = Run([TCP], [80])
    k.state.create_policy(_except_policy(), "x")
    r = Reachability()
    r.expect("x/a", "x/b", False)
    k.validate(80, TCP, r)
    return k


@upstream("should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed")
def _t36() -> Run:
    k = Run([TCP], [80])
    k.state.create_policy(_except_policy(), "x")
    r = Reachability()
    r.expect("x/a", "x/b", False)
    k.validate(80, TCP, r)
    rule = {"to": [{"ipBlock": {"cidr": f"{pod_ip('x/b')}/32"}}]}
    allow = with_name_and_pod_match_label(
        "allow-client-a-via-cidr-egress-rule", {"pod": "a"}, set_spec_egress_rules(rule)
    )
    k.state.update_policy(allow, "x")  # same name: replaces the first policy
    r2 = Reachability()
    r2.expect_all_egress("x/a", False)
    r2.expect("x/a", "x/b", True)
    k.validate(80, TCP, r2)
    return k


@upstream(
    "should enforce policies to check ingress and egress policies can be controlled independently "
    "based on PodSelector"
)
def _t37() -> Run:
    target = {"matchLabels": {"pod": "a"}}
    allow_egress = with_name_and_pod_selector("allow-egress-for-target", target, set_spec_egress_rules({}))
    k = Run([TCP], [80])
    k.state.create_policy(allow_egress, "x")
    k.validate(80, TCP, Reachability())
    deny = with_name_and_pod_selector("deny-ingress-via-label-selector", target, set_spec_ingress_rules())
    k.state.create_policy(deny, "x")
    r = Reachability()
    r.expect_all_ingress("x/a", False)
    k.validate(80, TCP, r)
    return k


@upstream("should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP")
def _t38() -> Run:
    k = Run([TCP], [81])
    k.state.create_policy(with_name_and_pod_selector("deny-ingress", {}, set_spec_ingress_rules()), "x")
    rule = {"ports": [{"port": 81, "protocol": SCTP}]}
    k.state.create_policy(
        with_name_and_pod_match_label("allow-only-sctp-ingress-on-port-81", {"pod": "a"}, set_spec_ingress_rules(rule)),
        "x",
    )
    r = Reachability()
    r.expect_peer(Peer(), Peer("x"), False)
    k.validate(81, TCP, r)
    return k


@upstream(
    "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin "
    "doesn't support SCTP"
)
def _t39() -> Run:
    rule = {"ports": [{"port": 80, "protocol": SCTP}]}
    policy = with_name_and_pod_match_label("allow-only-sctp-ingress-on-port-80", {"pod": "a"}, set_spec_ingress_rules(rule))
    k = Run([TCP], [81])
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_all_ingress("x/a", False)
    k.validate(81, TCP, r)
    return k


@upstream("should not allow access by TCP when a policy specifies only UDP")
def _t40() -> Run:
    rule = {"ports": [{"port": 81, "protocol": UDP}]}
    policy = with_name_and_pod_match_label("allow-only-udp-ingress-on-port-81", {"pod": "a"}, set_spec_ingress_rules(rule))
    k = Run([TCP], [81])
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_all_ingress("x/a", False)
    k.validate(81, TCP, r)
    return k


@upstream("should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label")
def _t41() -> Run:
    k = Run([TCP], [80])
    rule = {"from": [{"namespaceSelector": {"matchLabels": {NS_LABEL: "y"}}}]}
    policy = with_name_and_pod_match_label(
        "allow-client-a-via-ns-selector-for-immutable-ns-label", {"pod": "a"}, set_spec_ingress_rules(rule)
    )
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_peer(Peer("x"), nsx_a(), False)
    r.expect_peer(Peer("z"), nsx_a(), False)
    k.validate(80, TCP, r)
    return k


@upstream("should enforce policy based on NamespaceSelector with MatchExpressions using default ns label")
def _t42() -> Run:
    k = Run([TCP], [80])
    rule = {"to": [{"namespaceSelector": expr(NS_LABEL, "NotIn", "y")}]}
    policy = with_name_and_pod_match_label(
        "allow-ns-y-match-selector-for-immutable-ns-label", {"pod": "a"}, set_spec_egress_rules(rule)
    )
    k.state.create_policy(policy, "x")
    r = Reachability()
    r.expect_peer(Peer("x", "a"), Peer("y"), False)
    k.validate(80, TCP, r)
    return k


# Contexts "NetworkPolicy between server and client using UDP" and "... using SCTP"


def _default_deny_ingress(protocol: str) -> Run:
    k = Run([protocol], [80])
    k.state.create_policy(with_name_and_pod_selector("deny-all", {}, set_spec_ingress_rules()), "x")
    r = Reachability()
    r.expect_peer(Peer(), Peer("x"), False)
    k.validate(80, protocol, r)
    return k


def _ports_81(protocol: str) -> Run:
    k = Run([protocol], [81])
    k.state.create_policy(_allow_port_81_from_y(protocol, "allow-ingress-on-port-81-ns-x"), "x")
    r = Reachability()
    r.expect_peer(Peer("x"), nsx_a(), False)
    r.expect_peer(Peer("z"), nsx_a(), False)
    k.validate(81, protocol, r)
    return k


for _proto in (UDP, SCTP):
    upstream(f"[{_proto}] should support a 'default-deny-ingress' policy")(
        lambda p=_proto: _default_deny_ingress(p)
    )
    upstream(f"[{_proto}] should enforce policy based on Ports")(lambda p=_proto: _ports_81(p))
    upstream(
        f"[{_proto}] should enforce policy to allow traffic only from a pod in a different namespace "
        "based on PodSelector and NamespaceSelector"
    )(lambda p=_proto: _from_ns_y_pod_a(p))


# --- running a probe ---------------------------------------------------------------------------

ALL_PORT_MODEL = ((80, 81), (TCP, UDP, SCTP))


@dataclass(frozen=True)
class Built:
    namespaces: list[tuple[str, dict[str, str]]]
    pods: list[tuple[str, str, dict[str, str], str, list[tuple[int, str, str]]]]
    policies: list[NetworkPolicy]


def build(state: State, full_ports: bool) -> Built:
    ports, protocols = ALL_PORT_MODEL if full_ports else (state.ports, state.protocols)
    containers = [(port, proto, f"serve-{port}-{proto.lower()}") for port in ports for proto in protocols]
    pods = []
    for pod in ALL_PODS:
        ns, name = pod.split("/")
        pods.append((ns, name, dict(state.pod_labels[pod]), pod_ip(pod), containers))
    policies = [NetworkPolicy.model_validate(p) for _, p in sorted(state.policies.items())]
    return Built([(ns, dict(state.ns_labels[ns])) for ns in NAMESPACES], pods, policies)


def reference_verdicts(built: Built, port: int, protocol: str) -> dict[tuple[str, str], bool]:
    cluster = ref.RefCluster(
        namespaces=[ref.RefNamespace(n, labels) for n, labels in built.namespaces],
        pods=[
            ref.RefPod(ns, name, labels, (ip,), tuple(ref.RefPort(p, pr, nm) for p, pr, nm in conts))
            for ns, name, labels, ip, conts in built.pods
        ],
        policies=built.policies,
    )
    by_key = {p.key: p for p in cluster.pods}
    return {
        (f, t): ref.allowed(cluster, by_key[f], by_key[t], protocol, port)
        for f in ALL_PODS
        for t in ALL_PODS
        if f != t
    }


def library_verdicts(built: Built, port: int, protocol: str) -> dict[tuple[str, str], bool]:
    from netpol_dsl.evaluate import Cluster, ContainerPort, Namespace, Pod

    cluster = Cluster(
        namespaces=[Namespace(n, labels) for n, labels in built.namespaces],
        pods=[
            Pod(ns, name, labels, ips=(ip,), ports=tuple(ContainerPort(p, pr, nm) for p, pr, nm in conts))
            for ns, name, labels, ip, conts in built.pods
        ],
        policies=built.policies,
    )
    verdicts = {
        (f, t): bool(cluster.allows(f, t, port, protocol=protocol))
        for f in ALL_PODS
        for t in ALL_PODS
        if f != t
    }
    matrix = cluster.matrix(port=port, protocol=protocol)
    from_matrix = {(f, t): bool(matrix.allowed(f, t)) for f, t in verdicts}
    assert from_matrix == verdicts, "cluster.matrix() disagrees with cluster.allows()"
    from_connections = {
        (f, t): cluster.connections(f, t).allows(protocol, port) for f, t in verdicts
    }
    assert from_connections == verdicts, "cluster.connections() disagrees with cluster.allows()"
    return verdicts


EVALUATORS = {"library": library_verdicts, "reference": reference_verdicts}

CASES = [
    pytest.param(name, i, id=f"{name} [probe {i + 1}]")
    for name, fn in TESTS.items()
    for i in range(len(fn().probes))
]


def test_transcription_is_complete() -> None:
    # 42 tests in the TCP context (the LoadBalancer one is not a truth table), 3 UDP, 3 SCTP.
    assert len(TESTS) == 48
    assert len(CASES) == 65


@pytest.mark.parametrize("full_ports", [False, True], ids=["go-containers", "80-81-all-protocols"])
@pytest.mark.parametrize("evaluator", sorted(EVALUATORS))
@pytest.mark.parametrize(("name", "index"), CASES)
def test_upstream_probe(name: str, index: int, evaluator: str, full_ports: bool) -> None:
    probe = TESTS[name]().probes[index]
    built = build(probe.state, full_ports)
    got = EVALUATORS[evaluator](built, probe.port, probe.protocol)
    wrong = [
        f"{f} -> {t}: expected {'allowed' if want else 'denied'}"
        for f, t, want in probe.reachability.cells()
        if got[f, t] != want
    ]
    assert not wrong, f"{probe.protocol}/{probe.port}: {len(wrong)} of 72 cells differ:\n" + "\n".join(wrong)
