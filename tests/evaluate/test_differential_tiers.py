"""The evaluator against the naive reference with tiers, on random clusters that mix every kind.

Each example draws namespaces, pods (some host-network, on labelled nodes with addresses),
NetworkPolicies (``test_differential``'s strategy) and cluster-wide policies given as API dicts:
AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1, the obsolete ``sameLabels`` shape
included) and ClusterNetworkPolicy (v1alpha2, both tiers), with every action (Allow/Accept, Deny,
Pass), every peer (namespaces, pods, networks, nodes) and every port form, equal priorities
included. The library reads the dicts through its models; the reference reads them as dicts.
Every ordered pair of pods (and each pod with external and node addresses) is compared on
``connections`` (every port at once), ``allows`` at sampled ports, and the all-pairs
``connectivity()``.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netpol_dsl.evaluate import Cluster, Namespace, Pod
from netpol_dsl.evaluate._inventory import Node, NodeAddress
from netpol_dsl.model import AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy
from tests.evaluate import reference as ref
from tests.evaluate.test_differential import (
    NS_LABEL,
    NS_NAMES,
    PORT_NAMES,
    PORT_NUMBERS,
    PROTOCOLS,
    VALUES,
    canon_fast,
    container_ports,
    labels_st,
    policies,
    selectors,
)
from tests.strategies import budget

V1 = "policy.networking.k8s.io/v1alpha1"
V2 = "policy.networking.k8s.io/v1alpha2"
NODES = {
    "node-1": ({"zone": "a", "role": "worker"}, ("172.16.0.1",)),
    "node-2": ({"zone": "b", "role": "worker"}, ("172.16.0.2",)),
    "node-3": ({"zone": "b", "role": "infra"}, ("172.16.0.3",)),
}
POD_IPS = ("10.0.0.1", "10.0.0.2", "10.0.1.7", "10.0.2.9", "192.168.1.5", "fd00::1")
EXTERNAL = ("8.8.8.8", "10.9.9.9", "172.16.0.2", "fd00::9")  # 172.16.0.2 is node-2's address
NETWORKS = ("0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/24", "10.0.1.7/32", "172.16.0.0/24",
            "172.16.0.2/32", "8.8.8.0/24", "fd00::/8", "::/0")
NODE_KEYS = ("zone", "role")
SAMPLE = (53, 80, 443, 8081)


# Strategies built once and drawn inside the composites (as in test_differential: building them
# per draw cost more than the draws; the examples are the same).
_BOOL = st.booleans()
_NS_NAME = st.sampled_from(NS_NAMES)
_NS_SELECTOR_BASE = selectors(keys=("team", "env", NS_LABEL))
_POD_SELECTORS = selectors()
_NODE_SELECTORS = selectors(keys=NODE_KEYS)
_NETWORK_LISTS = st.lists(st.sampled_from(NETWORKS), min_size=1, max_size=2, unique=True)
_LEGACY_HOW = st.sampled_from(("namespaceSelector", "sameLabels", "notSameLabels"))
_SAME_LABELS = st.lists(st.sampled_from(("team", "env")), min_size=1, unique=True)
_ONE_OR_TWO = st.integers(1, 2)
_PORT_KINDS = {True: st.sampled_from(("number", "range", "name")),
               False: st.sampled_from(("number", "range"))}
_PROTOCOL = st.sampled_from(PROTOCOLS)
_PORT_NUMBER = st.sampled_from(PORT_NUMBERS)
_V1_WIDTH = st.sampled_from((0, 1, 100))
_V2_WIDTH = st.sampled_from((1, 100))
_PORT_NAME = st.sampled_from(PORT_NAMES)
_V2_PROTOCOL_KEY = st.sampled_from(("tcp", "udp", "sctp"))
_ACTIONS = {"ANP": st.sampled_from(("Allow", "Deny", "Pass")),
            "BANP": st.sampled_from(("Allow", "Deny")),
            "CNP": st.sampled_from(("Accept", "Deny", "Pass"))}
_UP_TO_3 = st.integers(0, 3)
_CW_KIND = st.sampled_from(("ANP", "CNP"))
_ONE_IN_FIVE = st.integers(0, 4)
_PRIORITY = st.sampled_from((1, 5, 5, 10))
_TIER = st.sampled_from(("Admin", "Baseline"))
_PEER_KINDS = {False: st.sampled_from(["namespaces", "pods"]),
               True: st.sampled_from(["namespaces", "pods", "networks", "nodes"])}


@st.composite
def ns_sel(draw):
    sel = draw(_NS_SELECTOR_BASE)
    if draw(_BOOL):
        sel["matchLabels"] = {NS_LABEL: draw(_NS_NAME)}
    return sel


_NS_SEL = ns_sel()


@st.composite
def subjects(draw, v2):
    if draw(_BOOL):
        return {"namespaces": draw(_NS_SEL)}
    pods = {"podSelector": draw(_POD_SELECTORS)}
    if not v2 or draw(_BOOL):
        pods["namespaceSelector"] = draw(_NS_SEL)
    return {"pods": pods}


@st.composite
def peer(draw, v2, egress, legacy):
    kind = draw(_PEER_KINDS[egress])
    if kind == "networks":
        return {"networks": draw(_NETWORK_LISTS)}
    if kind == "nodes":
        return {"nodes": draw(_NODE_SELECTORS)}
    if kind == "namespaces":
        if legacy:  # the obsolete v1alpha1 shape (before v0.1.3)
            how = draw(_LEGACY_HOW)
            value = draw(_NS_SEL) if how == "namespaceSelector" else draw(_SAME_LABELS)
            return {"namespaces": {how: value}}
        return {"namespaces": draw(_NS_SEL)}
    pods = {"podSelector": draw(_POD_SELECTORS)}
    if not v2 or draw(_BOOL):
        pods["namespaceSelector"] = draw(_NS_SEL)
    return {"pods": pods}


@st.composite
def v1_ports(draw, named_ok):
    items = []
    for _ in range(draw(_ONE_OR_TWO)):
        kind = draw(_PORT_KINDS[named_ok])
        proto = draw(_PROTOCOL)
        if kind == "number":
            items.append({"portNumber": {"protocol": proto, "port": draw(_PORT_NUMBER)}})
        elif kind == "range":
            lo = draw(_PORT_NUMBER)
            items.append({"portRange": {"protocol": proto, "start": lo,
                                        "end": lo + draw(_V1_WIDTH)}})
        else:
            items.append({"namedPort": draw(_PORT_NAME)})
    return items


@st.composite
def v2_protocols(draw, named_ok):
    items = []
    for _ in range(draw(_ONE_OR_TWO)):
        kind = draw(_PORT_KINDS[named_ok])
        if kind == "name":
            items.append({"destinationNamedPort": draw(_PORT_NAME)})
            continue
        key = draw(_V2_PROTOCOL_KEY)
        lo = draw(_PORT_NUMBER)
        if kind == "number":
            items.append({key: {"destinationPort": {"number": lo}}})
        else:  # v1alpha2 requires start < end
            items.append({key: {"destinationPort": {"range": {"start": lo, "end": lo + draw(
                _V2_WIDTH)}}}})
    return items


_FLAGS = [(v2, egress, legacy) for v2 in (False, True) for egress in (False, True)
          for legacy in (False, True)]
_PEER_LISTS = {f: st.lists(peer(*f), min_size=1, max_size=2) for f in _FLAGS}
_V1_PORTS = {named_ok: v1_ports(named_ok) for named_ok in (False, True)}
_V2_PROTOCOLS = {named_ok: v2_protocols(named_ok) for named_ok in (False, True)}


@st.composite
def cw_rules(draw, kind, v2, egress, legacy):
    actions = _ACTIONS[kind]
    rules = []
    for i in range(draw(_UP_TO_3)):
        peers = draw(_PEER_LISTS[v2, egress, legacy])
        rule = {"name": f"r{i}", "action": draw(actions),
                "to" if egress else "from": peers}
        # named ports do not go with networks/nodes peers (CEL)
        named_ok = not any("networks" in p or "nodes" in p for p in peers)
        if draw(_BOOL):
            if v2:
                rule["protocols"] = draw(_V2_PROTOCOLS[named_ok])
            else:
                rule["ports"] = draw(_V1_PORTS[named_ok])
        rules.append(rule)
    return rules


_SUBJECTS = {v2: subjects(v2) for v2 in (False, True)}
_CW_RULES = {(kind, v2, egress, legacy): cw_rules(kind, v2, egress, legacy)
             for kind, v2 in (("ANP", False), ("CNP", True), ("BANP", False))
             for egress in (False, True) for legacy in (False, True)}


@st.composite
def cluster_policies(draw):
    out = []
    for i in range(draw(_UP_TO_3)):
        kind = draw(_CW_KIND)
        v2 = kind == "CNP"
        legacy = not v2 and draw(_ONE_IN_FIVE) == 0
        spec = {"priority": draw(_PRIORITY),
                "subject": draw(_SUBJECTS[v2])}
        if v2:
            spec = {"tier": draw(_TIER), **spec}
        ingress = draw(_CW_RULES[kind, v2, False, legacy])
        egress = draw(_CW_RULES[kind, v2, True, legacy])
        if ingress:
            spec["ingress"] = ingress
        if egress:
            spec["egress"] = egress
        out.append({"apiVersion": V2 if v2 else V1,
                    "kind": "ClusterNetworkPolicy" if v2 else "AdminNetworkPolicy",
                    "metadata": {"name": f"{kind.lower()}{i}"}, "spec": spec})
    if draw(_BOOL):
        spec = {"subject": draw(_SUBJECTS[False])}
        ingress = draw(_CW_RULES["BANP", False, False, False])
        egress = draw(_CW_RULES["BANP", False, True, False])
        if ingress:
            spec["ingress"] = ingress
        if egress:
            spec["egress"] = egress
        out.append({"apiVersion": V1, "kind": "BaselineAdminNetworkPolicy",
                    "metadata": {"name": "default"}, "spec": spec})
    return out


_NS_NAME_LISTS = st.lists(st.sampled_from(NS_NAMES), min_size=2, max_size=3, unique=True)
_NS_LABELS = st.dictionaries(st.sampled_from(("team", "env")), st.sampled_from(VALUES), max_size=2)
_POD_IP_ORDER = st.permutations(POD_IPS)
_POD_COUNT = st.integers(2, 6)
_NODE = st.sampled_from(sorted(NODES))
_UP_TO_1 = st.integers(0, 1)
_CONTAINER_PORTS = container_ports()
_NP_COUNT = st.integers(0, 2)
_CLUSTER_POLICIES = cluster_policies()


@st.composite
def tiered_clusters(draw):
    ns_names = draw(_NS_NAME_LISTS)
    namespaces = [Namespace(n, {**draw(_NS_LABELS), NS_LABEL: n}) for n in ns_names]
    ips = draw(_POD_IP_ORDER)
    in_namespace = st.sampled_from(ns_names)
    pods = []
    for i in range(draw(_POD_COUNT)):
        hn = draw(_ONE_IN_FIVE) == 0
        node = draw(_NODE)
        pod_ips = NODES[node][1] if hn else tuple(ips[i:i + draw(_UP_TO_1)])
        pods.append(Pod(draw(in_namespace), f"pod-{i}", draw(labels_st),
                        ips=pod_ips, ports=draw(_CONTAINER_PORTS), host_network=hn,
                        node_name=node))
    nps = [draw(policies(i, ns_names)) for i in range(draw(_NP_COUNT))]
    return namespaces, pods, nps, draw(_CLUSTER_POLICIES)


def _model(data):
    cls = {"AdminNetworkPolicy": AdminNetworkPolicy,
           "BaselineAdminNetworkPolicy": BaselineAdminNetworkPolicy,
           "ClusterNetworkPolicy": ClusterNetworkPolicy}[data["kind"]]
    return cls.model_validate(data)


NODE_OBJECTS = [Node(name, labels, tuple(NodeAddress("InternalIP", a) for a in addrs))
                for name, (labels, addrs) in NODES.items()]


@pytest.mark.heavy(12)
# CI: the same 100 clusters every run (was 200, at ~0.12 s CPU each the suite's longest test);
# HYPOTHESIS_PROFILE=long: 2000.
@settings(max_examples=budget(200, ci=100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=tiered_clusters())
def test_tiers_agree_with_reference(data) -> None:
    namespaces, pods, nps, cw = data
    fast = Cluster(namespaces, pods, [*nps, *(_model(d) for d in cw)], nodes=NODE_OBJECTS)
    slow = ref.RefCluster(namespaces, pods, nps, cluster_policies=cw, nodes=NODES)
    conn = fast.connectivity()
    ends = [*pods, *EXTERNAL]
    expects: dict[tuple[str, str, str, int], bool] = {}  # the one-port matrices ask them again
    for src in ends:
        for dst in ends:
            if isinstance(src, str) and isinstance(dst, str):
                continue
            s = src if isinstance(src, str) else src.key
            d = dst if isinstance(dst, str) else dst.key
            want = ref.connections(slow, src, dst)
            got = canon_fast(fast.connections(s, d))
            assert got == want, f"connections({s!r}, {d!r}): fast {got}, reference {want}"
            if not isinstance(src, str) and not isinstance(dst, str):
                assert canon_fast(conn.between(s, d)) == want
            for protocol in PROTOCOLS:
                for port in SAMPLE:
                    expect = expects[s, d, protocol, port] = ref.allowed(
                        slow, src, dst, protocol, port)
                    v = fast.allows(s, d, port, protocol=protocol)
                    assert bool(v) == expect, (
                        f"allows({s!r}, {d!r}, {port}, {protocol}): fast {bool(v)}, reference "
                        f"{expect}\n" + v.explain())
    # the one-port matrix (all pairs for one atom, named-port profiles reduced to that atom)
    for protocol, port in (("TCP", 80), ("UDP", 53)):
        matrix = fast.matrix(port=port, protocol=protocol)
        for src in pods:
            for dst in pods:
                assert bool(matrix.allowed(src.key, dst.key)) == expects[
                    src.key, dst.key, protocol, port], (src.key, dst.key, protocol, port)


@pytest.mark.parametrize("action, allowed", [("Deny", False), ("Allow", True), ("Pass", False)])
def test_an_admin_rule_decides_before_network_policies(action, allowed) -> None:
    # A default-deny NetworkPolicy isolates a/db; an admin rule for the same traffic overrides
    # it (Allow), confirms it (Deny), or hands over to it (Pass), as the explanation says.
    from netpol_dsl import load_policy

    deny = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": {"name": "deny", "namespace": "a"},
                        "spec": {"podSelector": {}}})
    anp = _model({"apiVersion": V1, "kind": "AdminNetworkPolicy", "metadata": {"name": "admin"},
                  "spec": {"priority": 10, "subject": {"namespaces": {}},
                           "ingress": [{"name": "r", "action": action,
                                        "from": [{"namespaces": {}}]}]}})
    c = Cluster(pods=[Pod("a", "web"), Pod("a", "db")], policies=[deny, anp])
    v = c.allows("a/web", "a/db", 80)
    assert bool(v) is allowed
    text = v.ingress.text()
    if action == "Pass":
        assert "passed by admin AdminNetworkPolicy admin (priority 10) spec.ingress[0]" in text
        assert "isolated by 1 policy (a/deny)" in text
    else:
        assert f"admin AdminNetworkPolicy admin (priority 10) spec.ingress[0] (rule 'r') {action}" in text
        assert "NetworkPolicies not consulted" in text


def test_rules_with_the_same_named_port_keep_their_own_numeric_ports() -> None:
    # Found by the cluster-wide engineer's oracle: an Allow on the named port 'http' followed by
    # a Deny on [UDP 53, named port 'http'] must deny UDP 53 (the second rule's numeric port was
    # lost when the named-port resolution was cached per named port instead of per rule).
    anp = _model({"apiVersion": V1, "kind": "AdminNetworkPolicy", "metadata": {"name": "a"},
                  "spec": {"priority": 1, "subject": {"namespaces": {}}, "ingress": [
                      {"name": "web", "action": "Allow", "from": [{"namespaces": {}}],
                       "ports": [{"namedPort": "http"}]},
                      {"name": "rest", "action": "Deny", "from": [{"namespaces": {}}],
                       "ports": [{"portNumber": {"protocol": "UDP", "port": 53}},
                                 {"namedPort": "http"}]}]}})
    from netpol_dsl.evaluate import ContainerPort

    ports = (ContainerPort(80, "TCP", "http"), ContainerPort(53, "UDP", "dns"))
    c = Cluster(pods=[Pod("a", "x", ports=ports), Pod("a", "y", ports=ports)], policies=[anp])
    v = c.allows("a/x", "a/y", 53, "UDP")
    assert not v
    assert "spec.ingress[1] (rule 'rest') Deny" in v.explain()
    assert c.allows("a/x", "a/y", 80)


@pytest.mark.parametrize(("field", "keys", "admitted"), [
    ("sameLabels", ["team"], ["a/x"]),            # same team as the subject's namespace
    ("sameLabels", [], []),                       # empty: nothing
    ("notSameLabels", ["team"], ["b/y"]),         # has the key with another value (c lacks it)
    ("notSameLabels", [], []),
])
def test_obsolete_same_labels_shape(field, keys, admitted) -> None:
    anp = _model({"apiVersion": V1, "kind": "AdminNetworkPolicy", "metadata": {"name": "a"},
                  "spec": {"priority": 1, "subject": {"namespaces": {"matchLabels": {
                      NS_LABEL: "a"}}},
                      "ingress": [{"name": "r", "action": "Allow",
                                   "from": [{"namespaces": {field: keys}}]},
                                  {"name": "rest", "action": "Deny",
                                   "from": [{"namespaces": {}}]}]}})
    c = Cluster([Namespace("a", {"team": "t1"}), Namespace("b", {"team": "t2"}), Namespace("c")],
                [Pod("a", "x"), Pod("a", "target"), Pod("b", "y"), Pod("c", "z")], [anp])
    assert [p for p in ("a/x", "b/y", "c/z") if c.allows(p, "a/target", 80)] == admitted
