"""Properties of the cluster-wide models on random valid objects (``strategies.py``)."""

from __future__ import annotations

import yaml
from hypothesis import given, settings

from netpol_dsl import to_yaml
from netpol_dsl.evaluate._compile_clusterwide import compile_cluster_policy
from netpol_dsl.model import load_cluster_policy
from tests.clusterwide.strategies import anp_dicts, banp_dicts, cluster_policy_dicts, cnp_dicts


@settings(max_examples=60, deadline=None)
@given(anp_dicts() | banp_dicts() | cnp_dicts())
def test_valid_objects_load_and_round_trip_byte_stably(obj):
    policy = load_cluster_policy(obj)
    text = to_yaml(policy)
    again = load_cluster_policy(yaml.safe_load(text))
    assert again == policy
    assert to_yaml(again) == text
    assert policy.warnings() == []


@settings(max_examples=60, deadline=None)
@given(anp_dicts() | banp_dicts() | cnp_dicts())
def test_compiled_rules_mirror_the_object(obj):
    ir = compile_cluster_policy(load_cluster_policy(obj))
    spec = obj["spec"]
    for direction in ("ingress", "egress"):
        rules = spec.get(direction, [])
        compiled = getattr(ir, direction)
        assert len(compiled) == len(rules)
        for i, (rule, c) in enumerate(zip(rules, compiled, strict=True)):
            assert c.origin.path == f"spec.{direction}[{i}]"
            assert c.origin.name == rule.get("name")
            assert c.action == {"Allow": "allow", "Accept": "allow", "Deny": "deny",
                                "Pass": "pass"}[rule["action"]]
            peers = rule["from" if direction == "ingress" else "to"]
            assert len(c.peers) == sum(len(p["networks"]) if "networks" in p else 1 for p in peers)
            ports = rule.get("ports", rule.get("protocols"))
            assert (c.ports is None) == (ports is None)
            assert len(c.ports or ()) == len(ports or ())


@settings(max_examples=25, deadline=None)
@given(cluster_policy_dicts())
def test_mixed_sets_have_unique_names_and_priorities(objs):
    irs = [compile_cluster_policy(load_cluster_policy(o)) for o in objs]
    assert len({(p.kind, p.key) for p in irs}) == len(irs)
    seen = [(p.tier, p.priority) for p in irs if p.kind != "BaselineAdminNetworkPolicy"]
    assert len(seen) == len(set(seen))
