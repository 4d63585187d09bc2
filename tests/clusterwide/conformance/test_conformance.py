"""The network-policy-api conformance suites, every asserted probe (``v1alpha1.yaml``, ``v1alpha2.yaml``).

What is checked here:

- the transcription is complete: as many probes as ``PokeServer`` calls in upstream's
  ``conformance/tests/*.go`` (289 at v0.1.8, 301 at ``0eec1b0``);
- every policy of every step (base manifests plus cumulative patches) is valid for netpol-dsl's
  models, as it was for the API server that ran the suite;
- a plain evaluator written from the API documentation (``oracle.py``) agrees with every
  expected cell, and one that ignores rule order does not, so the cells pin down semantics.
"""

from __future__ import annotations

import copy

import pytest

from netpol_dsl import load_policy
from netpol_dsl.model import load_cluster_policy
from tests.clusterwide.conformance.oracle import Oracle
from tests.clusterwide.conformance.runner import State, states

VERSIONS = ("v1alpha1", "v1alpha2")
STATES = {v: list(states(v)) for v in VERSIONS}
ALL = [s for v in VERSIONS for s in STATES[v]]


def test_every_probe_is_transcribed():
    # grep -c 'PokeServer(' conformance/tests/*.go, summed: 289 at v0.1.8, 301 at 0eec1b0.
    assert sum(len(s.probes) for s in STATES["v1alpha1"]) == 289
    assert sum(len(s.probes) for s in STATES["v1alpha2"]) == 301
    assert len({s.test for s in STATES["v1alpha1"]}) == 24
    assert len({s.test for s in STATES["v1alpha2"]}) == 24


@pytest.mark.parametrize("state", ALL, ids=[s.id for s in ALL])
def test_policies_are_valid(state: State):
    for obj in state.policies:
        if obj["kind"] == "NetworkPolicy":
            load_policy(obj)
        else:
            policy = load_cluster_policy(obj)
            assert policy.warnings() == []


@pytest.mark.parametrize("state", ALL, ids=[s.id for s in ALL])
def test_oracle_agrees_with_every_cell(state: State):
    oracle = Oracle(state)
    wrong = [p.label for p in state.probes
             if oracle.allows(p.src, p.dst, p.protocol, p.port) != p.expected]
    assert wrong == []


@pytest.mark.parametrize("version", VERSIONS)
def test_cells_depend_on_rule_order(version):
    # Last-match instead of first-match must get cells wrong, or the cells prove nothing.
    wrong = 0
    for state in STATES[version]:
        objects = copy.deepcopy(list(state.objects))
        for o in objects:
            if o["kind"] != "NetworkPolicy" and o["kind"] not in ("Namespace", "Node", "Pod"):
                for d in ("ingress", "egress"):
                    o["spec"][d] = list(reversed(o["spec"].get(d) or []))
        oracle = Oracle(State(state.version, state.test, state.subtest, state.step,
                              tuple(objects), state.probes))
        wrong += sum(oracle.allows(p.src, p.dst, p.protocol, p.port) != p.expected
                     for p in state.probes)
    assert wrong > 50
