"""Hypothesis strategies for random, valid cluster-wide policies (API-shaped dicts).

For the differential test of the evaluator against the naive reference (which reads API-shaped
dicts), and for this folder's properties. Labels, namespaces and ports come from small pools, so
that random policies and random clusters built from the same pools select one another often.

- :func:`anp_dicts`, :func:`banp_dicts` (v1alpha1), :func:`cnp_dicts` (v1alpha2): one object;
- :func:`cluster_policy_dicts`: a list mixing the three kinds with unique names (and, by
  default, unique priorities per tier, since upstream leaves equal ones undefined).
"""

from __future__ import annotations

import functools
from typing import Any

from hypothesis import strategies as st

V1 = "policy.networking.k8s.io/v1alpha1"
V2 = "policy.networking.k8s.io/v1alpha2"
#: Pools shared with cluster strategies: namespace names, pod label values, ports.
NAMESPACES = ("a", "b", "c")
APPS = ("web", "api", "db")
PORTS = (53, 80, 443, 8080)
PORT_NAMES = ("http", "dns", "metrics")
CIDRS = ("10.0.0.0/8", "10.1.0.0/16", "0.0.0.0/0", "192.0.2.0/24", "::/0", "fd00::/8")
NS_LABEL = "kubernetes.io/metadata.name"

Obj = dict[str, Any]


@functools.cache  # one strategy object per arguments (building one costs more than a draw)
def selectors(key: str, values: tuple[str, ...]) -> st.SearchStrategy[Obj]:
    """A label selector over one key: everything, one value, In, NotIn, Exists or DoesNotExist."""
    vals = st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True).map(sorted)
    return st.one_of(
        st.just({}),
        st.sampled_from(values).map(lambda v: {"matchLabels": {key: v}}),
        vals.map(lambda v: {"matchExpressions": [{"key": key, "operator": "In", "values": v}]}),
        vals.map(lambda v: {"matchExpressions": [{"key": key, "operator": "NotIn", "values": v}]}),
        st.sampled_from(("Exists", "DoesNotExist")).map(
            lambda op: {"matchExpressions": [{"key": key, "operator": op}]}),
    )


NS_SELECTORS = selectors(NS_LABEL, NAMESPACES)
POD_SELECTORS = selectors("app", APPS)
NODE_SELECTORS = selectors("role", ("worker", "cp"))


@functools.cache  # one strategy object per arguments (building one costs more than a draw)
def _pods(v1: bool) -> st.SearchStrategy[Obj]:
    if v1:
        return st.builds(lambda n, p: {"namespaceSelector": n, "podSelector": p},
                         NS_SELECTORS, POD_SELECTORS)
    return st.one_of(
        st.builds(lambda n, p: {"namespaceSelector": n, "podSelector": p}, NS_SELECTORS, POD_SELECTORS),
        POD_SELECTORS.map(lambda p: {"podSelector": p}),  # every namespace
    )


@functools.cache  # one strategy object per arguments (building one costs more than a draw)
def subjects(v1: bool) -> st.SearchStrategy[Obj]:
    """``subject``: namespaces or pods."""
    return st.one_of(NS_SELECTORS.map(lambda s: {"namespaces": s}),
                     _pods(v1).map(lambda p: {"pods": p}))


@functools.cache  # one strategy object per arguments (building one costs more than a draw)
def ingress_peers(v1: bool) -> st.SearchStrategy[Obj]:
    return st.one_of(NS_SELECTORS.map(lambda s: {"namespaces": s}), _pods(v1).map(lambda p: {"pods": p}))


@functools.cache  # one strategy object per arguments (building one costs more than a draw)
def egress_peers(v1: bool, *, nodes: bool = True) -> st.SearchStrategy[Obj]:
    options = [ingress_peers(v1),
               st.lists(st.sampled_from(CIDRS), min_size=1, max_size=2, unique=True).map(
                   lambda c: {"networks": c})]
    if nodes:
        options.append(NODE_SELECTORS.map(lambda s: {"nodes": s}))
    return st.one_of(*options)


@functools.cache  # one strategy object per arguments (building one costs more than a draw)
def _v1_port(named: bool) -> st.SearchStrategy[Obj]:
    proto = st.sampled_from(("TCP", "UDP", "SCTP"))
    options = [
        st.builds(lambda p, n: {"portNumber": {"protocol": p, "port": n}}, proto, st.sampled_from(PORTS)),
        st.builds(lambda p, a, b: {"portRange": {"protocol": p, "start": min(a, b), "end": max(a, b)}},
                  proto, st.sampled_from(PORTS), st.sampled_from(PORTS)),
    ]
    if named:
        options.append(st.sampled_from(PORT_NAMES).map(lambda n: {"namedPort": n}))
    return st.one_of(*options)


@functools.cache  # one strategy object per arguments (building one costs more than a draw)
def _v2_port(named: bool) -> st.SearchStrategy[Obj]:
    proto = st.sampled_from(("tcp", "udp", "sctp"))
    pair = st.tuples(st.sampled_from(PORTS), st.sampled_from(PORTS)).filter(lambda ab: ab[0] != ab[1])
    options = [
        st.builds(lambda p, n: {p: {"destinationPort": {"number": n}}}, proto, st.sampled_from(PORTS)),
        st.builds(lambda p, ab: {p: {"destinationPort": {"range": {"start": min(ab), "end": max(ab)}}}},
                  proto, pair),
    ]
    if named:
        options.append(st.sampled_from(PORT_NAMES).map(lambda n: {"destinationNamedPort": n}))
    return st.one_of(*options)


@st.composite
def _rule(draw: st.DrawFn, *, v1: bool, egress: bool, actions: tuple[str, ...],
          nodes: bool = True) -> Obj:
    peers = draw(_lists(egress_peers(v1, nodes=nodes) if egress else ingress_peers(v1), 1, 3))
    # CEL: no named ports in a rule with a networks/nodes peer
    named = not any("networks" in p or "nodes" in p for p in peers)
    rule: Obj = {"action": draw(_sampled(actions)), "to" if egress else "from": peers}
    if draw(_BOOL):
        rule["name"] = draw(_RULE_NAME)
    if draw(_BOOL):
        port = _v1_port(named) if v1 else _v2_port(named)
        rule["ports" if v1 else "protocols"] = draw(_lists(port, 1, 3))
    return rule


_BOOL = st.booleans()
_RULE_NAME = st.sampled_from(("r1", "r2", "rule-with-a-name"))


@functools.cache
def _lists(of: st.SearchStrategy[Obj], min_size: int, max_size: int) -> st.SearchStrategy[list[Obj]]:
    return st.lists(of, min_size=min_size, max_size=max_size)


@functools.cache
def _sampled(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(values)


@functools.cache  # one strategy object per arguments (building one costs more than a draw)
def _rules(v1: bool, actions: tuple[str, ...], nodes: bool = True) -> st.SearchStrategy[Obj]:
    return st.fixed_dictionaries({}, optional={
        "ingress": st.lists(_rule(v1=v1, egress=False, actions=actions), min_size=0, max_size=3),
        "egress": st.lists(_rule(v1=v1, egress=True, actions=actions, nodes=nodes), min_size=0, max_size=3),
    })


@st.composite
def anp_dicts(draw: st.DrawFn, name: str = "anp", priority: int | None = None) -> Obj:
    """A valid AdminNetworkPolicy."""
    spec = {"priority": draw(st.integers(0, 1000)) if priority is None else priority,
            "subject": draw(subjects(True)), **draw(_rules(True, ("Allow", "Deny", "Pass")))}
    return {"apiVersion": V1, "kind": "AdminNetworkPolicy", "metadata": {"name": name}, "spec": spec}


@st.composite
def banp_dicts(draw: st.DrawFn) -> Obj:
    """A valid BaselineAdminNetworkPolicy (named ``default``, actions Allow/Deny)."""
    spec = {"subject": draw(subjects(True)), **draw(_rules(True, ("Allow", "Deny")))}
    return {"apiVersion": V1, "kind": "BaselineAdminNetworkPolicy", "metadata": {"name": "default"},
            "spec": spec}


@st.composite
def cnp_dicts(draw: st.DrawFn, name: str = "cnp", priority: int | None = None,
              tier: str | None = None) -> Obj:
    """A valid ClusterNetworkPolicy."""
    spec = {"tier": draw(st.sampled_from(("Admin", "Baseline"))) if tier is None else tier,
            "priority": draw(st.integers(0, 1000)) if priority is None else priority,
            "subject": draw(subjects(False)), **draw(_rules(False, ("Accept", "Deny", "Pass")))}
    return {"apiVersion": V2, "kind": "ClusterNetworkPolicy", "metadata": {"name": name}, "spec": spec}


@st.composite
def cluster_policy_dicts(draw: st.DrawFn, max_size: int = 4, unique_priorities: bool = True) -> list[Obj]:
    """Several cluster-wide policies of mixed kinds and versions, at most one BANP."""
    n = draw(st.integers(0, max_size))
    priorities = draw(st.lists(st.integers(0, 20), min_size=n, max_size=n,
                               unique=unique_priorities))
    out: list[Obj] = []
    has_banp = False
    for i, prio in enumerate(priorities):
        kind = draw(st.sampled_from(("anp", "cnp-admin", "cnp-baseline", "banp")))
        if kind == "anp":
            out.append(draw(anp_dicts(name=f"p{i}", priority=prio)))
        elif kind == "banp" and not has_banp:
            has_banp = True
            out.append(draw(banp_dicts()))
        else:
            tier = "Baseline" if kind == "cnp-baseline" else "Admin"
            # v1alpha1 ANPs and v1alpha2 Admin CNPs share the admin tier: keep priorities apart
            out.append(draw(cnp_dicts(name=f"p{i}", priority=prio + (100 if tier == "Admin" else 0),
                                      tier=tier)))
    return out
