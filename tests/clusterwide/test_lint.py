"""Lint rules for cluster-wide policies (NP013-NP018): each fires on its mistake and not next to it."""

from __future__ import annotations

import json

import pytest
import yaml

from netpol_dsl.lint import lint_text

V1 = "policy.networking.k8s.io/v1alpha1"
V2 = "policy.networking.k8s.io/v1alpha2"


def cnp(name, spec, **meta):
    return {"apiVersion": V2, "kind": "ClusterNetworkPolicy", "metadata": {"name": name, **meta},
            "spec": {"tier": "Admin", "priority": 1, "subject": {"namespaces": {}}, **spec}}


def anp(name, spec, kind="AdminNetworkPolicy"):
    base = {"subject": {"namespaces": {}}} if kind != "AdminNetworkPolicy" else {
        "priority": 1, "subject": {"namespaces": {}}}
    return {"apiVersion": V1, "kind": kind, "metadata": {"name": name}, "spec": {**base, **spec}}


def run(*objs, rule, manifests=None):
    report = lint_text(yaml.safe_dump_all(objs), manifests=manifests)
    return [(f.object, f.path) for f in report.findings if f.rule.id == rule]


NP_DENY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": "np", "namespace": "a"}, "spec": {"podSelector": {}}}


def test_np013_equal_priority():
    a, b = cnp("a", {"priority": 5}), cnp("b", {"priority": 5})
    assert run(a, b, rule="NP013") == [("a", "spec.priority"), ("b", "spec.priority")]
    assert run(a, cnp("b", {"priority": 6}), rule="NP013") == []
    # a different tier with the same number is not a clash
    assert run(a, cnp("b", {"priority": 5, "tier": "Baseline"}), rule="NP013") == []
    # v1alpha1 ANPs and v1alpha2 admin CNPs share the admin tier
    assert run(a, anp("c", {"priority": 5}), rule="NP013") == [("a", "spec.priority"),
                                                                 ("c", "spec.priority")]
    banp = anp("default", {}, kind="BaselineAdminNetworkPolicy")
    assert run(banp, banp, rule="NP013") == [("default", "metadata.name")] * 2
    assert run(banp, rule="NP013") == []


def test_np014_pass_to_nothing():
    pass_rule = {"ingress": [{"action": "Pass", "from": [{"namespaces": {}}]}]}
    assert run(cnp("a", {"tier": "Baseline", **pass_rule}), rule="NP014") == [
        ("a", "spec.ingress[0].action")]
    assert run(cnp("a", pass_rule), rule="NP014") == [("a", "spec.ingress[0].action")]
    # something to hand over to: a NetworkPolicy, or a baseline policy
    assert run(cnp("a", pass_rule), NP_DENY, rule="NP014") == []
    assert run(cnp("a", pass_rule), cnp("b", {"tier": "Baseline"}), rule="NP014") == []
    assert run(cnp("a", {"ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}]}),
               rule="NP014") == []


def test_np015_networks_deny_cuts_pods():
    deny = {"action": "Deny", "to": [{"networks": ["0.0.0.0/0", "203.0.113.0/24"]}]}
    assert run(cnp("a", {"egress": [deny]}), rule="NP015") == [
        ("a", "spec.egress[0].to[0].networks[0]")]
    passed = {"action": "Pass", "to": [{"namespaces": {}}]}
    assert run(cnp("a", {"egress": [passed, deny]}), rule="NP015") == []
    assert run(anp("a", {"egress": [{"action": "Deny", "to": [{"networks": ["10.0.0.0/8"]}]}]}),
               rule="NP015") == [("a", "spec.egress[0].to[0].networks[0]")]
    assert run(anp("a", {"egress": [{"action": "Allow", "to": [{"networks": ["10.0.0.0/8"]}]}]}),
               rule="NP015") == []
    # a policy that says it denies means it (name, or the intent annotation)
    assert run(cnp("default-deny", {"egress": [deny]}), rule="NP015") == []
    intent = {"netpol-dsl.io/intent": "deny everything"}
    assert run(cnp("a", {"egress": [deny]}, annotations=intent), rule="NP015") == []


def test_np015_with_an_inventory_counts_pods(tmp_path):
    inv = tmp_path / "pods.yaml"
    inv.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Pod",
                                   "metadata": {"name": "p", "namespace": "a"},
                                   "spec": {"containers": [{"name": "c"}]},
                                   "status": {"podIP": "192.0.2.7"}}))
    deny = cnp("a", {"egress": [{"action": "Deny", "to": [{"networks": ["192.0.2.0/24",
                                                                         "10.0.0.0/8"]}]}]})
    report = lint_text(yaml.safe_dump(deny), manifests=[inv])
    (f,) = [f for f in report.findings if f.rule.id == "NP015"]
    assert f.path == "spec.egress[0].to[0].networks[0]" and "1 pod IP of the inventory" in f.message


@pytest.mark.parametrize(("rules", "shadowed"), [
    ([{"action": "Deny", "to": [{"namespaces": {}}]},
      {"action": "Accept", "to": [{"namespaces": {"matchLabels": {"a": "b"}}}]}], ["spec.egress[1]"]),
    ([{"action": "Deny", "to": [{"networks": ["10.0.0.0/8"]}]},
      {"action": "Accept", "to": [{"networks": ["10.1.0.0/16"]}],
       "protocols": [{"tcp": {"destinationPort": {"number": 80}}}]}], ["spec.egress[1]"]),
    ([{"action": "Deny", "to": [{"networks": ["10.0.0.0/8"]}],
       "protocols": [{"tcp": {"destinationPort": {"range": {"start": 1, "end": 1024}}}}]},
      {"action": "Deny", "to": [{"networks": ["10.1.0.0/16"]}],
       "protocols": [{"tcp": {"destinationPort": {"number": 80}}}]}], ["spec.egress[1]"]),
    # narrower first: nothing shadowed
    ([{"action": "Accept", "to": [{"namespaces": {"matchLabels": {"a": "b"}}}]},
      {"action": "Deny", "to": [{"namespaces": {}}]}], []),
    # ports of the earlier rule do not cover the later rule's
    ([{"action": "Deny", "to": [{"namespaces": {}}], "protocols": [{"tcp": {"destinationPort": {"number": 80}}}]},
      {"action": "Accept", "to": [{"namespaces": {}}]}], []),
    ([{"action": "Deny", "to": [{"networks": ["10.0.0.0/8"]}]},
      {"action": "Accept", "to": [{"networks": ["11.0.0.0/8"]}]}], []),
    ([{"action": "Deny", "to": [{"pods": {"podSelector": {"matchLabels": {"app": "x"}}}}]},
      {"action": "Accept", "to": [{"pods": {"namespaceSelector": {"matchLabels": {"a": "b"}},
                                            "podSelector": {"matchLabels": {"app": "x"}}}}]}],
     ["spec.egress[1]"]),
])
def test_np016_shadowed(rules, shadowed):
    assert [p for _, p in run(cnp("a", {"egress": rules}), rule="NP016")] == shadowed


def test_np016_v1alpha1_ports():
    rules = [{"action": "Deny", "to": [{"namespaces": {}}],
              "ports": [{"portRange": {"protocol": "TCP", "start": 1, "end": 100}}, {"namedPort": "web"}]},
             {"action": "Allow", "to": [{"namespaces": {}}],
              "ports": [{"portNumber": {"protocol": "TCP", "port": 80}}, {"namedPort": "web"}]},
             {"action": "Allow", "to": [{"namespaces": {}}],
              "ports": [{"portNumber": {"protocol": "UDP", "port": 80}}]}]
    assert [p for _, p in run(anp("a", {"egress": rules}), rule="NP016")] == ["spec.egress[1]"]


def test_np017_baseline_not_default():
    bad = anp("base", {}, kind="BaselineAdminNetworkPolicy")
    report = lint_text(yaml.safe_dump(bad))
    assert [(f.rule.id, f.path) for f in report.findings] == [("NP017", "metadata.name")]
    assert run(anp("default", {}, kind="BaselineAdminNetworkPolicy"), rule="NP017") == []
    assert run(cnp("base", {"tier": "Baseline"}), rule="NP017") == []  # v1alpha2 has no such rule


def test_np018_domain_names_not_allow():
    assert run(cnp("a", {"egress": [{"action": "Deny", "to": [{"domainNames": ["a.io"]}]}]}),
               rule="NP018") == [("a", "spec.egress[0].to[0].domainNames")]
    assert run(cnp("a", {"egress": [{"action": "Accept", "to": [{"domainNames": ["a.io"]}]}]}),
               rule="NP018") == []


def test_invalid_cluster_policies_are_np000_and_suppressible():
    text = yaml.safe_dump(cnp("a", {"priority": 5000}))
    report = lint_text(text)
    line = text.splitlines().index("  priority: 5000") + 1
    assert [(f.rule.id, f.path, f.line) for f in report.findings] == [("NP000", "spec.priority", line)]
    ignored = cnp("a", {"priority": 5000}, annotations={"netpol-dsl.io/lint-ignore": "NP000"})
    report = lint_text(yaml.safe_dump(ignored))
    assert report.findings == () and report.suppressed == 1


def test_suppressing_a_cluster_rule():
    a = cnp("a", {"priority": 5}, annotations={"netpol-dsl.io/lint-ignore": "NP013"})
    report = lint_text(yaml.safe_dump_all([a, cnp("b", {"priority": 5})]))
    assert [(f.rule.id, f.object) for f in report.findings] == [("NP013", "b")]
    assert report.suppressed == 1 and report.policies == 2


def test_np010_counts_pods_a_cluster_wide_policy_governs(tmp_path):
    inv = tmp_path / "pods.yaml"
    inv.write_text(yaml.safe_dump_all([
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": {"env": e}}}
        for n, e in (("a", "prod"), ("b", "dev"))] + [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": n},
         "spec": {"containers": [{"name": "c"}]}} for n in ("a", "b")]))
    prod_only = cnp("prod", {"subject": {"namespaces": {"matchLabels": {"env": "prod"}}}})
    report = lint_text(yaml.safe_dump(prod_only), manifests=[inv])
    assert [f.object for f in report.findings if f.rule.id == "NP010"] == ["b/p"]


def test_cluster_wide_policies_written_in_python_are_linted(tmp_path):
    # `netpol lint FILE.py` reads the DSL's cluster-wide policies as it reads YAML ones
    from typer.testing import CliRunner

    from netpol_dsl.cli import app

    src = tmp_path / "guardrails.py"
    src.write_text(
        "from netpol_dsl.admin import admin\n"
        "from netpol_dsl import ip_block\n"
        "a = admin('a', priority=5).deny_to(ip_block('169.254.169.254/32'))\n"
        "b = admin('b', priority=5).deny_to(ip_block('10.0.0.0/8'))\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["lint", str(src), "--format", "json"])
    found = {(f["rule"], f["object"]) for f in json.loads(r.stdout)["findings"]}
    assert {("NP013", "a"), ("NP013", "b")} <= found, r.output
    src.write_text(src.read_text().replace("priority=5).deny_to(ip_block('10", "priority=6)"
                                           ".deny_to(ip_block('10"), encoding="utf-8")
    r = CliRunner().invoke(app, ["lint", str(src), "--format", "json"])
    assert not any(f["rule"] == "NP013" for f in json.loads(r.stdout)["findings"])
