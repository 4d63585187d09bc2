"""The fast evaluator against the naive reference, on random small clusters (hypothesis).

Every example draws 2-4 namespaces with random labels, 2-8 pods (random labels, zero to two IPs
of both families, named container ports on every protocol, sometimes ``hostNetwork``), and up to
five valid policies drawing every feature of the spec: policyTypes absent / empty / each
combination; ``ingress``/``egress`` absent, ``[]``, ``[{}]`` and real rules; ``from``/``to`` and
``ports`` absent, ``[]`` or lists; peers of every kind (podSelector, namespaceSelector, both
ANDed, ipBlock with ``except`` entries that cut through pod IPs); matchLabels and
matchExpressions with all four operators; protocols absent / TCP / UDP / SCTP; numeric ports,
``endPort`` ranges and named ports (declared or not).

For every ordered pair of pods and every pod with a pool of external addresses, it compares
``Cluster.connections`` (the whole allowed set) and ``Cluster.allows`` at sampled ports, by
number and by name, with ``reference.py``. It runs with ``ipblock_matches_pod_ips`` on and off.
"""

from __future__ import annotations

import functools
import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netpol_dsl.evaluate import Cluster, ContainerPort, Namespace, Pod
from netpol_dsl.model import NetworkPolicy
from tests.evaluate import reference as ref
from tests.strategies import budget

NS_LABEL = "kubernetes.io/metadata.name"
NS_NAMES = ("ns-a", "ns-b", "ns-c", "ns-d")
KEYS = ("app", "tier", "env")
VALUES = ("x", "y", "z")
PROTOCOLS = ("TCP", "UDP", "SCTP")
PORT_NUMBERS = (53, 80, 443, 5000, 8080, 8081)
PORT_NAMES = ("http", "dns", "metrics", "admin")
POD_IPS = ("10.0.0.1", "10.0.0.2", "10.0.0.5", "10.0.1.7", "192.168.1.5", "fd00::1", "fd00::2:3")
EXTERNAL_IPS = ("10.0.0.3", "10.0.2.9", "192.168.7.7", "8.8.8.8", "fd00::9", "2001:db8::1")
#: cidr -> excepts that are strict subsets of it (the API requires that)
BLOCKS = {
    "0.0.0.0/0": ("10.0.0.0/8", "192.168.0.0/16", "10.0.0.1/32"),
    "10.0.0.0/8": ("10.0.0.0/24", "10.0.1.0/24", "10.0.0.2/31"),
    "10.0.0.0/24": ("10.0.0.0/30", "10.0.0.4/31", "10.0.0.1/32"),
    "10.0.0.0/30": ("10.0.0.1/32",),
    "192.168.0.0/16": ("192.168.1.0/24", "192.168.7.7/32"),
    "8.8.8.8/32": (),
    "fd00::/8": ("fd00::/120", "fd00::2:0/112"),
    "::/0": ("fd00::/8",),
}
SAMPLE_PORTS = (53, 80, 443, 8081, 8090)

labels_st = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)

# The strategies below are built once, here, and drawn from inside the composites: building them
# in every draw cost more than drawing (hypothesis validates and analyses each new strategy
# object), about a third of these tests' time. The draws are the same, so are the examples.
_BOOL = st.booleans()
_OPERATORS = st.sampled_from(("In", "NotIn", "Exists", "DoesNotExist"))
_VALUE_LISTS = st.lists(st.sampled_from(VALUES), min_size=1, max_size=2, unique=True)
_UP_TO_2 = st.integers(0, 2)
_NS_NAME = st.sampled_from(NS_NAMES)
_PEER_KIND = st.sampled_from(("pod", "ns", "both", "ip"))
_CIDR = st.sampled_from(sorted(BLOCKS))
_EXCEPTS = {cidr: st.lists(st.sampled_from(excepts), min_size=1, unique=True)
            for cidr, excepts in BLOCKS.items() if excepts}
_PROTOCOL_OR_NONE = st.sampled_from((None, *PROTOCOLS))
_PORT_KIND = st.sampled_from(("none", "number", "range", "name"))
_PORT_NUMBER = st.sampled_from(PORT_NUMBERS)
_RANGE_WIDTH = st.sampled_from((0, 1, 10, 500))
_PORT_NAME = st.sampled_from(PORT_NAMES)
_MODE = st.sampled_from(("absent", "empty", "list"))
_LIST_MODE = st.sampled_from(("absent", "empty", "allow-all", "rules"))
_PROTOCOL = st.sampled_from(PROTOCOLS)
_PORT_NAME_LISTS = st.lists(st.sampled_from(PORT_NAMES), max_size=3, unique=True)
_NS_NAME_LISTS = st.lists(st.sampled_from(NS_NAMES), min_size=2, max_size=4, unique=True)
_NS_LABELS = st.dictionaries(st.sampled_from(("team", "env")), st.sampled_from(VALUES), max_size=2)
_POD_COUNT = st.integers(2, 8)
_POD_IP_ORDER = st.permutations(POD_IPS)
_ONE_IN_TEN = st.integers(0, 9)
_POLICY_COUNT = st.integers(0, 5)


@functools.cache
def _selector_parts(keys: tuple[str, ...]) -> tuple[st.SearchStrategy, st.SearchStrategy]:
    return (st.dictionaries(st.sampled_from(keys), st.sampled_from(VALUES), max_size=2),
            st.sampled_from(keys))


@st.composite
def selectors(draw, keys=KEYS):
    match_labels, key = _selector_parts(keys)
    out: dict = {}
    if draw(_BOOL):
        out["matchLabels"] = draw(match_labels)
    if draw(_BOOL):
        exprs = []
        for _ in range(draw(_UP_TO_2)):
            op = draw(_OPERATORS)
            req = {"key": draw(key), "operator": op}
            if op in ("In", "NotIn"):
                req["values"] = draw(_VALUE_LISTS)
            exprs.append(req)
        out["matchExpressions"] = exprs
    return out


NS_KEYS = ("team", "env", NS_LABEL)
_POD_SELECTORS = selectors()
_NS_SELECTOR_BASE = selectors(keys=NS_KEYS)


@st.composite
def ns_selectors(draw):
    sel = draw(_NS_SELECTOR_BASE)
    # namespace names as values, so kubernetes.io/metadata.name selectors can match
    if draw(_BOOL):
        sel["matchLabels"] = {NS_LABEL: draw(_NS_NAME)}
    return sel


_NS_SELECTORS = ns_selectors()


@st.composite
def peers(draw):
    kind = draw(_PEER_KIND)
    if kind == "ip":
        cidr = draw(_CIDR)
        block = {"cidr": cidr}
        if BLOCKS[cidr] and draw(_BOOL):
            block["except"] = draw(_EXCEPTS[cidr])
        return {"ipBlock": block}
    peer = {}
    if kind in ("pod", "both"):
        peer["podSelector"] = draw(_POD_SELECTORS)
    if kind in ("ns", "both"):
        peer["namespaceSelector"] = draw(_NS_SELECTORS)
    return peer


@st.composite
def policy_ports(draw):
    port: dict = {}
    proto = draw(_PROTOCOL_OR_NONE)
    if proto is not None:
        port["protocol"] = proto
    kind = draw(_PORT_KIND)
    if kind == "number":
        port["port"] = draw(_PORT_NUMBER)
    elif kind == "range":
        lo = draw(_PORT_NUMBER)
        port["port"] = lo
        port["endPort"] = lo + draw(_RANGE_WIDTH)
    elif kind == "name":
        port["port"] = draw(_PORT_NAME)
    return port


_PEER_LISTS = st.lists(peers(), min_size=1, max_size=3)
_PORT_LISTS = st.lists(policy_ports(), min_size=1, max_size=3)


@st.composite
def rules(draw, peer_key):
    rule: dict = {}
    peer_mode = draw(_MODE)
    if peer_mode == "empty":
        rule[peer_key] = []
    elif peer_mode == "list":
        rule[peer_key] = draw(_PEER_LISTS)
    port_mode = draw(_MODE)
    if port_mode == "empty":
        rule["ports"] = []
    elif port_mode == "list":
        rule["ports"] = draw(_PORT_LISTS)
    return rule


_RULE_LISTS = {key: st.lists(rules(key), min_size=1, max_size=3) for key in ("from", "to")}


@st.composite
def rule_lists(draw, peer_key):
    mode = draw(_LIST_MODE)
    if mode == "absent":
        return None
    if mode == "empty":
        return []
    if mode == "allow-all":
        return [{}]
    return draw(_RULE_LISTS[peer_key])


POLICY_TYPES = (None, [], ["Ingress"], ["Egress"], ["Ingress", "Egress"], ["Egress", "Ingress"])
_POLICY_TYPES = st.sampled_from(POLICY_TYPES)
_INGRESS, _EGRESS = rule_lists("from"), rule_lists("to")


@st.composite
def policies(draw, index, namespaces):
    spec: dict = {"podSelector": draw(_POD_SELECTORS)}
    types = draw(_POLICY_TYPES)
    if types is not None:
        spec["policyTypes"] = types
    ingress = draw(_INGRESS)
    if ingress is not None:
        spec["ingress"] = ingress
    egress = draw(_EGRESS)
    if egress is not None:
        spec["egress"] = egress
    ns = draw(st.sampled_from(namespaces))
    data = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"p{index}", "namespace": ns},
        "spec": spec,
    }
    return NetworkPolicy.model_validate(data)


@st.composite
def container_ports(draw):
    ports = []
    names = draw(_PORT_NAME_LISTS)
    for name in names:
        ports.append(ContainerPort(draw(_PORT_NUMBER), draw(_PROTOCOL), name))
    if draw(_BOOL):  # an unnamed port too
        ports.append(ContainerPort(draw(_PORT_NUMBER), draw(_PROTOCOL)))
    return tuple(ports)


_CONTAINER_PORTS = container_ports()


@st.composite
def clusters(draw):
    ns_names = draw(_NS_NAME_LISTS)
    namespaces = [Namespace(n, {**draw(_NS_LABELS), NS_LABEL: n}) for n in ns_names]
    n_pods = draw(_POD_COUNT)
    ips = draw(_POD_IP_ORDER)
    in_namespace = st.sampled_from(ns_names)
    pods = []
    for i in range(n_pods):
        n_ips = draw(_UP_TO_2) if i < len(ips) // 2 else 0
        pod_ips = tuple(ips[2 * i : 2 * i + n_ips])
        pods.append(
            Pod(
                draw(in_namespace),
                f"pod-{i}",
                draw(labels_st),
                ips=pod_ips,
                ports=draw(_CONTAINER_PORTS),
                host_network=draw(_ONE_IN_TEN) == 0,
            )
        )
    n_policies = draw(_POLICY_COUNT)
    pols = [draw(policies(i, ns_names)) for i in range(n_policies)]
    return namespaces, pods, pols


def canon_fast(conns) -> dict[str, tuple[tuple[int, int], ...]]:
    if conns.is_all:
        return dict(ref.ALL_CONNECTIONS)
    return {p: tuple(tuple(r) for r in rs) for p, rs in conns.ranges.items() if rs}


def compare(namespaces, pods, pols, ip_match: bool) -> None:
    fast = Cluster(namespaces=namespaces, pods=pods, policies=pols, ipblock_matches_pod_ips=ip_match)
    slow = ref.RefCluster(namespaces, pods, pols, ipblock_matches_pod_ips=ip_match)
    ends = [*pods, *EXTERNAL_IPS]
    # the reference's answers, each computed once (the all-pairs checks below ask them again)
    wants: dict[tuple[str, str], dict[str, tuple[tuple[int, int], ...]]] = {}
    expects: dict[tuple[str, str, str, int], bool] = {}
    for src in ends:
        for dst in ends:
            if isinstance(src, str) and isinstance(dst, str):
                continue
            s = src if isinstance(src, str) else src.key
            d = dst if isinstance(dst, str) else dst.key
            want = wants[s, d] = ref.connections(slow, src, dst)
            got = canon_fast(fast.connections(s, d))
            assert got == want, f"connections({s!r}, {d!r}): fast {got}, reference {want}"
            # connections() above covers every port; allows() is sampled (fewer for external ends)
            sample = SAMPLE_PORTS if not (isinstance(src, str) or isinstance(dst, str)) else (80, 8090)
            for protocol in PROTOCOLS:
                for port in sample:
                    expect = expects[s, d, protocol, port] = ref.allowed(slow, src, dst, protocol, port)
                    v = fast.allows(s, d, port, protocol=protocol)
                    assert bool(v) == expect, (
                        f"allows({s!r}, {d!r}, {port}, {protocol}): fast {bool(v)}, reference {expect}\n"
                        + v.explain()
                    )
            if not isinstance(dst, str):
                for cp in dst.ports:
                    if cp.name:
                        expect = ref.allowed(slow, src, dst, cp.protocol, cp.port)
                        v = fast.allows(s, d, cp.name, protocol=cp.protocol)
                        assert bool(v) == expect, (
                            f"allows({s!r}, {d!r}, {cp.name!r}, {cp.protocol}): fast {bool(v)}, "
                            f"reference {expect}\n" + v.explain()
                        )
    matrix = fast.matrix(port=80, protocol="TCP")
    conn = fast.connectivity()
    for src in pods:
        for dst in pods:
            assert bool(matrix.allowed(src.key, dst.key)) == expects[src.key, dst.key, "TCP", 80]
            # the all-pairs result (array operations over classes and port atoms) agrees too
            assert canon_fast(conn.between(src.key, dst.key)) == wants[src.key, dst.key]


@pytest.mark.heavy(7)
@pytest.mark.parametrize("ip_match", [True, False], ids=["ipblocks-match-pod-ips", "no-pod-ip-match"])
# CI checks the same 100 clusters per mode every run (200 in all; was 150 per mode: ~0.1 s CPU
# each); HYPOTHESIS_PROFILE=long explores 3000 per mode.
@settings(max_examples=budget(300, ci=100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=clusters())
def test_fast_evaluator_agrees_with_reference(data, ip_match: bool) -> None:
    namespaces, pods, pols = data
    compare(namespaces, pods, pols, ip_match)


@st.composite
def policy_changes(draw):
    """A cluster, and a second policy set: some of the first kept (in order), some dropped,
    some new ones added."""
    namespaces, pods, pols = draw(clusters())
    ns_names = [n.name for n in namespaces]
    kept = [p for p in pols if draw(st.booleans())]
    added = [draw(policies(10 + i, ns_names)) for i in range(draw(st.integers(0, 2)))]
    return namespaces, pods, pols, kept + added


@pytest.mark.heavy(3)
# CI: the same 75 changes every run (was 150); HYPOTHESIS_PROFILE=long: 1500.
@settings(max_examples=budget(150, ci=75), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=policy_changes())
def test_with_policies_agrees_with_a_fresh_build(data) -> None:
    # Incremental re-evaluation (shared classes, rules and cached decisions) must answer exactly
    # as a cluster built from scratch with the new policies, explanations included.
    namespaces, pods, before, after = data
    derived = Cluster(namespaces=namespaces, pods=pods, policies=before).with_policies(after)
    fresh = Cluster(namespaces=namespaces, pods=pods, policies=after)
    assert derived.policies == fresh.policies
    d_conn, f_conn = derived.connectivity(), fresh.connectivity()
    for src in pods:
        for dst in pods:
            assert d_conn.between(src.key, dst.key) == f_conn.between(src.key, dst.key)
            assert derived.connections(src.key, dst.key) == fresh.connections(src.key, dst.key)
            for port in (80, 8081):
                a = derived.allows(src.key, dst.key, port)
                b = fresh.allows(src.key, dst.key, port)
                assert bool(a) == bool(b) and a.explain() == b.explain()
        assert [(p.key, d) for p, d in derived.selecting(src.key)] == [
            (p.key, d) for p, d in fresh.selecting(src.key)]


def test_external_pool_is_external() -> None:
    # The external addresses must never be pod IPs, or "external" would be ambiguous.
    assert not set(EXTERNAL_IPS) & set(POD_IPS)
    for cidr, excepts in BLOCKS.items():
        net = ipaddress.ip_network(cidr)
        for e in excepts:
            sub = ipaddress.ip_network(e)
            assert sub.version == net.version and sub.subnet_of(net) and sub != net
