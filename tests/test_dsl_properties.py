"""Properties of the DSL, checked against references written here, not against the DSL itself.

1. The selector algebra agrees with Python's and/or/not over a hand-written label matcher, for
   ``matches()`` and for the rendered peers (evaluated with the model's ``LabelSelector.matches``),
   on every label set of a small universe; De Morgan's laws hold.
2. A compiled PolicySet allows exactly the stated flows and nothing more, judged by the evaluator
   (``Cluster.allows``) on representative pods and an external address.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from netpol_dsl import (
    DoesNotExist,
    Exists,
    In,
    NotIn,
    PolicySet,
    UnrepresentableError,
    all_namespaces,
    allow,
    deny_all,
    ip_block,
    namespace,
    namespaces,
    pods,
    tcp,
)
from netpol_dsl.evaluate import Cluster, hypothetical
from tests.strategies import budget

# ------------------------------------------------------------------ 1. the algebra

KEYS = ("a", "b")
VALUES = ("1", "2")
#: Every label set over KEYS with values in VALUES or absent: 9 sets.
LABEL_SETS = [
    {k: v for k, v in zip(KEYS, combo, strict=True) if v is not None}
    for combo in itertools.product((None, *VALUES), repeat=len(KEYS))
]


def ref_req(kind, key, values, labels):
    """Kubernetes' requirement semantics, written out independently of the library."""
    present = key in labels
    if kind == "eq":
        return present and labels[key] == values[0]
    if kind == "in":
        return present and labels[key] in values
    if kind == "notin":
        return not present or labels[key] not in values
    if kind == "exists":
        return present
    return not present


def build_match(kind, values):
    return {
        "eq": lambda: values[0],
        "in": lambda: In(*values),
        "notin": lambda: NotIn(*values),
        "exists": Exists,
        "absent": DoesNotExist,
    }[kind]()


requirement = st.tuples(
    st.sampled_from(("eq", "in", "notin", "exists", "absent")),
    st.sampled_from(KEYS),
    st.lists(st.sampled_from(VALUES), min_size=1, max_size=2, unique=True).map(tuple),
)
# A leaf: ("pods" | "ns" | "qualified-pods", requirements with distinct keys)
leaf = st.tuples(
    st.sampled_from(("pods", "ns", "qualified-pods")),
    st.lists(requirement, min_size=1, max_size=2, unique_by=lambda r: r[1]),
)
tree = st.recursive(
    leaf,
    lambda children: st.one_of(
        st.tuples(st.just("and"), children, children),
        st.tuples(st.just("or"), children, children),
        st.tuples(st.just("not"), children),
    ),
    max_leaves=5,
)


def build(t):
    if t[0] in ("pods", "ns", "qualified-pods"):
        kind, reqs = t
        labels = {key: build_match(k, values) for k, key, values in reqs}
        if kind == "pods":
            return pods(labels)
        if kind == "ns":
            return namespaces(labels)
        return all_namespaces() & pods(labels)
    if t[0] == "and":
        return build(t[1]) & build(t[2])
    if t[0] == "or":
        return build(t[1]) | build(t[2])
    return ~build(t[1])


def ref(t, labels, ns_labels):
    if t[0] in ("pods", "ns", "qualified-pods"):
        kind, reqs = t
        target = ns_labels if kind == "ns" else labels
        return all(ref_req(k, key, values, target) for k, key, values in reqs)
    if t[0] == "and":
        return ref(t[1], labels, ns_labels) and ref(t[2], labels, ns_labels)
    if t[0] == "or":
        return ref(t[1], labels, ns_labels) or ref(t[2], labels, ns_labels)
    return not ref(t[1], labels, ns_labels)


def subtrees(t):
    yield t
    if t[0] in ("and", "or", "not"):
        for child in t[1:]:
            yield from subtrees(child)


def rendered(sel):
    """Render once; the result is evaluated on every label set."""
    return sel.peers(policy_namespace="x")


def peers_match(peers, labels, ns_labels):
    """Evaluate rendered peers with the model's matcher (scope aside: labels only)."""
    for peer in peers:
        pod_ok = peer.pod_selector is None or peer.pod_selector.matches(labels)
        ns_ok = peer.namespace_selector is None or peer.namespace_selector.matches(ns_labels)
        if pod_ok and ns_ok:
            return True
    return False


def everywhere():
    return itertools.product(LABEL_SETS, LABEL_SETS)


# CI: 150 expressions (was 300); HYPOTHESIS_PROFILE=long: 3000.
@settings(max_examples=budget(300, ci=150), deadline=None)
@given(tree)
def test_algebra_agrees_with_python_boolean_logic(t):
    try:
        sel = build(t)
    except UnrepresentableError as err:
        # A refusal is a ~ over mixed scopes, or some part of the expression selects nothing.
        if "mix of" not in str(err):
            assert any(
                not any(ref(sub, pl, nl) for pl, nl in everywhere()) for sub in subtrees(t)
            ), str(err)
        return
    peers = rendered(sel)
    for pod_labels, ns_labels in everywhere():
        expected = ref(t, pod_labels, ns_labels)
        assert sel.matches(pod_labels, ns_labels) == expected, (sel, pod_labels, ns_labels)
        assert peers_match(peers, pod_labels, ns_labels) == expected, (sel, pod_labels, ns_labels)


# CI: 75 pairs (was 150); HYPOTHESIS_PROFILE=long: 1500.
@settings(max_examples=budget(150, ci=75), deadline=None)
@given(tree, tree)
def test_de_morgan(t1, t2):
    try:
        a, b = build(t1), build(t2)
        left_and, right_and = ~(a & b), ~a | ~b
        left_or, right_or = ~(a | b), ~a & ~b
    except UnrepresentableError:
        return
    la, ra, lo, ro = map(rendered, (left_and, right_and, left_or, right_or))
    for pod_labels, ns_labels in everywhere():
        assert peers_match(la, pod_labels, ns_labels) == peers_match(ra, pod_labels, ns_labels)
        assert peers_match(lo, pod_labels, ns_labels) == peers_match(ro, pod_labels, ns_labels)
        assert left_or.matches(pod_labels, ns_labels) == (
            not a.matches(pod_labels, ns_labels) and not b.matches(pod_labels, ns_labels)
        )


@settings(max_examples=budget(100), deadline=None)
@given(tree)
def test_negation_is_an_involution_on_meaning(t):
    try:
        sel = build(t)
        twice = ~~sel
    except UnrepresentableError:
        return
    for pod_labels, ns_labels in everywhere():
        assert twice.matches(pod_labels, ns_labels) == sel.matches(pod_labels, ns_labels)


# ------------------------------------------------------------------ 2. exactly the stated flows

#: (namespace, app) pods; the same app name in two namespaces checks that scope is kept.
PODS = [("payments", "frontend"), ("payments", "api"), ("shop", "web"), ("shop", "api")]
EXTERNAL = "203.0.113.5"
EXTERNAL_BLOCK = "203.0.113.0/24"
#: Flow ends: a pod, all pods of a namespace (app None), or the external block.
ENDS = [*PODS, ("payments", None), ("shop", None), ("external", None)]
PORTS = (80, 5432, None)  # None: every port
PROBE_PORTS = (80, 5432, 9999)

flow_spec = st.tuples(st.sampled_from(ENDS), st.sampled_from(ENDS), st.sampled_from(PORTS)).filter(
    lambda f: not (f[0][0] == "external" and f[1][0] == "external")
)


def end_selector(end, home):
    ns, app = end
    if ns == "external":
        return ip_block(EXTERNAL_BLOCK)
    if app is None:
        return namespace(ns)
    if ns == home:
        return pods(app=app)  # bare: the home namespace of the set it is added to
    return pods(app=app).in_namespace(ns)


def covers(end, probe):
    """Does the flow end ``end`` include the probed endpoint? (The test's own model.)"""
    ns, app = end
    if ns == "external":
        return probe == ("external", None)
    return probe[0] == ns and probe[1] is not None and (app is None or app == probe[1])


def probe_endpoint(probe):
    if probe[0] == "external":
        return EXTERNAL
    return pods(app=probe[1]).in_namespace(probe[0])


@settings(max_examples=budget(60), deadline=None)
@given(st.lists(flow_spec, max_size=6), st.booleans())
def test_compiled_set_allows_exactly_the_stated_flows(flows, bare_in_payments):
    # Flows wholly inside payments go into a payments set with bare pods(...), the rest into
    # the cluster-wide set; both get default-deny, so only the stated flows may pass.
    payments = PolicySet(namespace="payments").add(deny_all())
    cluster = PolicySet().add(deny_all("shop"))
    for src, dst, port in flows:
        inside = bare_in_payments and src[0] == "payments" and dst[0] == "payments"
        home = "payments" if inside else None
        flow = allow(end_selector(src, home)).to(end_selector(dst, home))
        if port is not None:
            flow = flow.on(tcp(port))
        if inside:
            payments = payments.add(flow)
        else:
            cluster = cluster.add(flow)
    policies = PolicySet().add(payments, cluster).compile()
    # One inventory pod per probe: selector endpoints stand for the pods they match.
    inventory = [hypothetical(probe_endpoint(p)) for p in PODS]
    c = Cluster(namespaces=["payments", "shop"], pods=inventory, policies=policies)
    probes = [*PODS, ("external", None)]
    for src, dst in itertools.product(probes, probes):
        if (src[0] == "external" and dst[0] == "external") or src == dst:
            continue  # (a pod always reaches itself)
        for port in PROBE_PORTS:
            expected = any(
                covers(fs, src) and covers(fd, dst) and fp in (None, port)
                for fs, fd, fp in flows
            )
            verdict = c.allows(probe_endpoint(src), probe_endpoint(dst), port)
            assert bool(verdict) == expected, (src, dst, port, flows, verdict.explain())
