"""Lint rules: each with a case that fires and a case that does not."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from netpol_dsl.errors import LoadError
from netpol_dsl.lint import IGNORE_ANNOTATION, RULES, lint, lint_text

FIXTURES = Path(__file__).parent / "fixtures" / "cli" / "lesson"
INVENTORY = [str(FIXTURES / "namespaces.yaml"), str(FIXTURES / "workloads.yaml")]


def policy(name="p", ns="payments", spec="podSelector: {}", annotations=None):
    meta = f"name: {name}, namespace: {ns}"
    if annotations:
        meta += ", annotations: " + json.dumps(annotations)
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata: {{{meta}}}\nspec:\n" + textwrap.indent(textwrap.dedent(spec).strip(), "  ")
        + "\n"
    )


def ids(report, rule=None):
    found = [f.rule.id for f in report.findings]
    return [i for i in found if i == rule] if rule else found


def lint_inv(text, tmp_path):
    f = tmp_path / "policies.yaml"
    f.write_text(text)
    return lint(f, manifests=INVENTORY)


# ---------------------------------------------------------------------------- NP001


OR_SPEC = """
podSelector: {matchLabels: {app: api-server}}
ingress:
  - from:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
      - podSelector: {matchLabels: {app: prometheus}}
"""


def test_np001_fires_on_or_that_looks_like_and():
    r = lint_text(policy(spec=OR_SPEC))
    (f,) = [f for f in r.findings if f.rule.id == "NP001"]
    assert f.severity == "warning"
    assert f.path == "spec.ingress[0].from[1]"
    assert f.line == 9
    assert "ORed" in f.message


def test_np001_is_an_error_when_the_namespace_selector_is_empty():
    spec = OR_SPEC.replace("{matchLabels: {kubernetes.io/metadata.name: monitoring}}", "{}")
    (f,) = [f for f in lint_text(policy(spec=spec)).findings if f.rule.id == "NP001"]
    assert f.severity == "error"
    assert "every pod in every namespace" in f.message


def test_np001_quiet_for_one_anded_peer():
    spec = """
    podSelector: {matchLabels: {app: api-server}}
    ingress:
      - from:
          - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
            podSelector: {matchLabels: {app: prometheus}}
    """
    assert ids(lint_text(policy(spec=spec)), "NP001") == []


# ---------------------------------------------------------------------------- NP002


DENY_ALL = "podSelector: {}\npolicyTypes: [Ingress, Egress]"
DNS = """
podSelector: {}
policyTypes: [Egress]
egress:
  - to:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
        podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports:
      - {protocol: UDP, port: 53}
      - {protocol: TCP, port: 53}
"""


def test_np002_fires_when_egress_is_isolated_without_dns():
    r = lint_text(policy("default-deny-all", spec=DENY_ALL))
    (f,) = [f for f in r.findings if f.rule.id == "NP002"]
    assert "UDP 53 and TCP 53" in f.message
    assert f.path == "spec.policyTypes"


def test_np002_names_the_missing_protocol():
    text = policy("default-deny-all", spec=DENY_ALL) + "---\n" + policy(
        "dns", spec=DNS.replace("      - {protocol: TCP, port: 53}\n", ""))
    (f,) = [f for f in lint_text(text).findings if f.rule.id == "NP002"]
    assert "TCP 53" in f.message and "UDP" not in f.message.split("on ")[-1]


def test_np002_quiet_with_dns_allowed():
    text = policy("default-deny-all", spec=DENY_ALL) + "---\n" + policy("dns", spec=DNS)
    assert ids(lint_text(text), "NP002") == []


def test_np002_quiet_when_egress_is_not_isolated():
    assert ids(lint_text(policy(spec="podSelector: {}\npolicyTypes: [Ingress]")), "NP002") == []


# ---------------------------------------------------------------------------- NP003


def test_np003_fires_with_did_you_mean(tmp_path):
    spec = """
    podSelector: {matchLabels: {app: api-sever}}
    ingress:
      - from:
          - podSelector: {matchLabels: {app: frontnd}}
    """
    r = lint_inv(policy(spec=spec), tmp_path)
    found = [f for f in r.findings if f.rule.id == "NP003"]
    assert [f.path for f in found] == ["spec.podSelector", "spec.ingress[0].from[0].podSelector"]
    assert "Did you mean app=api-server?" in found[0].message
    assert "Did you mean app=frontend?" in found[1].message


def test_np003_fires_for_a_namespace_selector_matching_nothing(tmp_path):
    spec = """
    podSelector: {}
    ingress:
      - from:
          - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitorng}}
    """
    (f,) = [f for f in lint_inv(policy(spec=spec), tmp_path).findings if f.rule.id == "NP003"]
    assert "matches no namespace" in f.message
    assert "monitoring" in f.message


def test_np003_quiet_when_selectors_match(tmp_path):
    spec = """
    podSelector: {matchLabels: {app: api-server}}
    ingress:
      - from:
          - podSelector: {matchLabels: {app: frontend}}
    """
    assert ids(lint_inv(policy(spec=spec), tmp_path), "NP003") == []


def test_inventory_rules_are_skipped_without_an_inventory():
    r = lint_text(policy(spec="podSelector: {matchLabels: {app: nothing}}"))
    assert ids(r, "NP003") == []
    assert r.skipped_rules == ("NP003", "NP004", "NP008", "NP009", "NP010")
    assert "need an inventory" in r.summary()


# ---------------------------------------------------------------------------- NP004


def test_np004_fires_on_name_instead_of_metadata_name(tmp_path):
    spec = """
    podSelector: {}
    ingress:
      - from:
          - namespaceSelector: {matchLabels: {name: monitoring}}
    """
    (f,) = [f for f in lint_inv(policy(spec=spec), tmp_path).findings if f.rule.id == "NP004"]
    assert "'name'" in f.message
    assert "kubernetes.io/metadata.name" in f.message


def test_np004_quiet_for_a_known_key(tmp_path):
    spec = """
    podSelector: {}
    ingress:
      - from:
          - namespaceSelector: {matchLabels: {team: payments}}
    """
    assert ids(lint_inv(policy(spec=spec), tmp_path), "NP004") == []


# ---------------------------------------------------------------------------- NP005


def test_np005_fires_on_allow_all_in_a_deny_policy():
    r = lint_text(policy("default-deny-ingress", spec="podSelector: {}\ningress:\n  - {}"))
    (f,) = [f for f in r.findings if f.rule.id == "NP005"]
    assert f.severity == "error" and f.path == "spec.ingress[0]" and f.line == 7


def test_np005_reads_the_intent_annotation():
    r = lint_text(policy("lockme", spec="podSelector: {}\ningress:\n  - {}",
                         annotations={"netpol-dsl.io/intent": "deny all ingress"}))
    assert ids(r, "NP005") == ["NP005"]


def test_np005_quiet_for_an_allow_policy():
    r = lint_text(policy("allow-all-ingress", spec="podSelector: {}\ningress:\n  - {}"))
    assert ids(r, "NP005") == []


# ---------------------------------------------------------------------------- NP006


def test_np006_fires_on_rules_for_a_missing_policy_type():
    spec = "podSelector: {}\npolicyTypes: [Ingress]\negress:\n  - ports: [{port: 53, protocol: UDP}]"
    (f,) = [f for f in lint_text(policy(spec=spec)).findings if f.rule.id == "NP006"]
    assert "ignored" in f.message and f.path == "spec.egress"


def test_np006_fires_on_empty_egress_without_policy_types():
    (f,) = [f for f in lint_text(policy(spec="podSelector: {}\negress: []")).findings
            if f.rule.id == "NP006"]
    assert "does not isolate egress" in f.message


def test_np006_quiet_when_types_match_rules():
    spec = "podSelector: {}\npolicyTypes: [Egress]\negress:\n  - ports: [{port: 53, protocol: UDP}]"
    assert ids(lint_text(policy(spec=spec)), "NP006") == []


# ---------------------------------------------------------------------------- NP007


def test_np007_fires_on_default_deny_in_kube_system():
    r = lint_text(policy("default-deny", ns="kube-system", spec="podSelector: {}"))
    assert ids(r, "NP007") == ["NP007"]


def test_np007_quiet_for_a_scoped_kube_system_policy():
    r = lint_text(policy("metrics", ns="kube-system",
                         spec="podSelector: {matchLabels: {app: metrics}}"))
    assert ids(r, "NP007") == []


# ---------------------------------------------------------------------------- NP008


def test_np008_fires_on_an_undeclared_named_port(tmp_path):
    spec = """
    podSelector: {matchLabels: {app: api-server}}
    ingress:
      - ports: [{port: metrcs}]
    """
    (f,) = [f for f in lint_inv(policy(spec=spec), tmp_path).findings if f.rule.id == "NP008"]
    assert "Did you mean 'metrics'?" in f.message
    assert f.path == "spec.ingress[0].ports[0].port"


def test_np008_fires_on_a_protocol_mismatch(tmp_path):
    spec = """
    podSelector: {matchLabels: {app: api-server}}
    ingress:
      - ports: [{port: metrics, protocol: UDP}]
    """
    (f,) = [f for f in lint_inv(policy(spec=spec), tmp_path).findings if f.rule.id == "NP008"]
    assert "declared for TCP, not UDP" in f.message


def test_np008_checks_egress_against_destination_pods(tmp_path):
    spec = """
    podSelector: {matchLabels: {app: api-server}}
    policyTypes: [Egress]
    egress:
      - to: [{podSelector: {matchLabels: {app: postgres}}}]
        ports: [{port: postgres}]
      - to: [{podSelector: {matchLabels: {app: postgres}}}]
        ports: [{port: http}]
    """
    found = [f for f in lint_inv(policy(spec=spec), tmp_path).findings if f.rule.id == "NP008"]
    assert [f.path for f in found] == ["spec.egress[1].ports[0].port"]


def test_lint_reads_the_inventory_as_the_evaluator_does(tmp_path):
    # Named ports declared in a ReplicationController's template and in a CronJob's
    # jobTemplate count, as they do for the evaluator; an undeclared one is still reported.
    inv = tmp_path / "inv.yaml"
    inv.write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: ReplicationController
        metadata: {name: legacy, namespace: payments}
        spec:
          template:
            metadata: {labels: {app: legacy}}
            spec: {containers: [{name: c, ports: [{containerPort: 7000, name: legacy-http}]}]}
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: report, namespace: payments}
        spec:
          schedule: "* * * * *"
          jobTemplate:
            spec:
              template:
                metadata: {labels: {app: report}}
                spec: {containers: [{name: c, ports: [{containerPort: 7100, name: report-http}]}]}
        """), encoding="utf-8")
    spec = """
    podSelector: {}
    ingress:
      - ports: [{port: legacy-http}, {port: report-http}, {port: nowhere}]
    """
    f = tmp_path / "p.yaml"
    f.write_text(policy(spec=spec), encoding="utf-8")
    found = [x for x in lint(f, manifests=[str(inv)]).findings if x.rule.id == "NP008"]
    assert [x.path for x in found] == ["spec.ingress[0].ports[2].port"]


# ---------------------------------------------------------------------------- NP009


def test_np009_fires_when_an_ipblock_covers_pod_ips(tmp_path):
    inv = tmp_path / "pods.yaml"
    inv.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: db, namespace: payments}\n"
                   "status: {podIP: 10.1.2.3}\n")
    pol = tmp_path / "p.yaml"
    pol.write_text(policy(spec="podSelector: {}\ningress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8}}]"))
    (f,) = [f for f in lint(pol, manifests=[inv]).findings if f.rule.id == "NP009"]
    assert "payments/db (10.1.2.3)" in f.message


def test_np009_quiet_when_the_pod_range_is_excepted(tmp_path):
    inv = tmp_path / "pods.yaml"
    inv.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: db, namespace: payments}\n"
                   "status: {podIP: 10.1.2.3}\n")
    pol = tmp_path / "p.yaml"
    pol.write_text(policy(spec="podSelector: {}\ningress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8,"
                               " except: [10.1.0.0/16]}}]"))
    assert ids(lint(pol, manifests=[inv]), "NP009") == []


# ---------------------------------------------------------------------------- NP010


def test_np010_fires_for_pods_no_policy_selects():
    r = lint(FIXTURES / "policies", manifests=INVENTORY)
    found = [f for f in r.findings if f.rule.id == "NP010"]
    assert [f.object for f in found] == ["monitoring/prometheus", "monitoring/rogue-pod"]
    assert found[0].file == str(FIXTURES / "workloads.yaml")
    assert found[0].kind == "Deployment"


def test_np010_quiet_when_every_pod_is_covered(tmp_path):
    text = policy("deny", ns="monitoring", spec=DENY_ALL) + "---\n" + policy(
        "dns", ns="monitoring", spec=DNS)
    (tmp_path / "mon.yaml").write_text(text)
    r = lint([FIXTURES / "policies", tmp_path / "mon.yaml"], manifests=INVENTORY)
    assert ids(r, "NP010") == []


def test_np010_suppressed_by_annotation_on_the_pod(tmp_path):
    pod = tmp_path / "pod.yaml"
    pod.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  namespace: payments2\n"
                   f"  annotations: {{{IGNORE_ANNOTATION}: NP010}}\n")
    r = lint(FIXTURES / "policies", manifests=[pod])
    assert ids(r, "NP010") == [] and r.suppressed == 1


# ---------------------------------------------------------------------------- NP011


def test_np011_fires_on_a_repeated_rule_and_port():
    spec = """
    podSelector: {matchLabels: {app: api}}
    ingress:
      - from: [{podSelector: {matchLabels: {app: web}}}]
        ports: [{port: 80}, {port: 80}]
      - from: [{podSelector: {matchLabels: {app: web}}}]
        ports: [{port: 80}]
    """
    found = [f for f in lint_text(policy(spec=spec)).findings if f.rule.id == "NP011"]
    assert [f.path for f in found] == ["spec.ingress[0].ports[1]", "spec.ingress[1]"]


def test_np011_fires_on_a_policy_that_adds_nothing():
    spec = "podSelector: {matchLabels: {app: api}}\ningress:\n  - ports: [{port: 80}]"
    wide = "podSelector: {matchLabels: {app: api}}\ningress:\n  - {}"
    text = policy("narrow", spec=spec) + "---\n" + policy("wide", spec=wide)
    (f,) = [f for f in lint_text(text).findings if f.rule.id == "NP011"]
    assert f.object == "payments/narrow" and "payments/wide" in f.message


def test_np011_quiet_for_distinct_rules():
    spec = """
    podSelector: {matchLabels: {app: api}}
    ingress:
      - from: [{podSelector: {matchLabels: {app: web}}}]
        ports: [{port: 80}]
      - from: [{podSelector: {matchLabels: {app: admin}}}]
        ports: [{port: 80}]
    """
    assert ids(lint_text(policy(spec=spec)), "NP011") == []


# ---------------------------------------------------------------------------- NP012


def test_np012_reports_duplicate_selector_keys_with_line():
    spec = "podSelector:\n  matchLabels:\n    app: web\n    app: api"
    r = lint_text(policy(spec=spec))
    (f,) = [f for f in r.findings if f.rule.id == "NP012"]
    assert f.line == 8 and "first at line 7" in f.message and f.object == "payments/p"


def test_np012_quiet_without_duplicates():
    spec = "podSelector:\n  matchLabels:\n    app: web\n    tier: api"
    assert ids(lint_text(policy(spec=spec)), "NP012") == []


def test_np012_in_json_files(tmp_path):
    f = tmp_path / "p.json"
    f.write_text('{"kind": "NetworkPolicy", "kind": "NetworkPolicy"}')
    assert ids(lint(f), "NP012") == ["NP012"]


# ---------------------------------------------------------------------------- NP000 & engine


def test_np000_reports_invalid_policies_with_line():
    r = lint_text(policy(spec="podSelector: {}\ningress:\n  - ports: [{port: 70000}]"))
    (f,) = r.findings
    assert f.rule.id == "NP000" and f.line == 7 and "70000" in f.message


def test_np000_quiet_for_a_valid_policy():
    assert ids(lint_text(policy(spec="podSelector: {}")), "NP000") == []


def test_suppression_annotation_on_a_policy():
    r = lint_text(policy("default-deny-all", spec=DENY_ALL,
                         annotations={IGNORE_ANNOTATION: "NP002"}))
    assert ids(r) == [] and r.suppressed == 1


def test_suppression_all():
    r = lint_text(policy("default-deny-all", spec=DENY_ALL, annotations={IGNORE_ANNOTATION: "all"}))
    assert ids(r) == []


def test_select_and_ignore(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(policy("default-deny", ns="kube-system", spec="podSelector: {}\negress: []"))
    assert set(ids(lint(f))) == {"NP006", "NP007"}
    assert ids(lint(f, select=["np007"])) == ["NP007"]
    assert ids(lint(f, ignore=["NP007"])) == ["NP006"]
    with pytest.raises(LoadError, match="got 'NP999'; expected a rule id"):
        lint(f, select=["NP999"])


def test_lesson_policies_are_clean_statically():
    r = lint(FIXTURES / "policies")
    assert r.findings == () and r.policies == 7


def test_every_rule_has_docs_and_fix():
    for rule in RULES.values():
        assert rule.doc == f"docs/lint/{rule.id}.md"
        assert rule.fix and rule.summary


def test_outputs_json_and_sarif():
    r = lint_text(policy("default-deny-all", spec=DENY_ALL))
    data = json.loads(r.to_json())
    assert data["findings"][0]["rule"] == "NP002" and data["counts"]["warning"] == 1
    sarif = json.loads(r.to_sarif())
    assert sarif["runs"][0]["results"][0]["ruleId"] == "NP002"
    assert sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 6}
    assert r.failed("warning") and not r.failed("error")


def test_bad_input_raises_load_error(tmp_path):
    with pytest.raises(LoadError, match="does not exist"):
        lint(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(LoadError, match=r"bad.yaml:\d+: got invalid YAML"):
        lint(bad)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"kind: \xff\xfe\n")
    with pytest.raises(LoadError, match="not UTF-8"):
        lint(binary)


def test_np003_quiet_for_kube_dns_when_the_inventory_has_no_kube_system_pods(tmp_path):
    pods = tmp_path / "pods.yaml"
    pods.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: payments}\n")
    pol = tmp_path / "p.yaml"
    pol.write_text(policy(spec=DNS))
    assert ids(lint(pol, manifests=[pods]), "NP003") == []
    pol.write_text(policy(spec=DNS.replace("kube-dns", "kube-dnz")))
    assert ids(lint(pol, manifests=[pods]), "NP003") == ["NP003"]


# ---------------------------------------------------------------------------- NP019


def _anp(name="guard", priority=10):
    return ("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
            f"metadata: {{name: {name}}}\nspec:\n  priority: {priority}\n"
            "  subject: {namespaces: {}}\n"
            "  egress: [{action: Deny, to: [{networks: [169.254.169.254/32]}]}]\n")


def test_np019_names_both_places_of_a_duplicate_policy(tmp_path):
    (tmp_path / "a.yaml").write_text(policy())
    (tmp_path / "b.yaml").write_text("# the same policy, changed\n"
                                     + policy(spec="podSelector: {matchLabels: {app: b}}"))
    r = lint(tmp_path, select=["NP019"])
    (f,) = r.findings
    # the later input (b.yaml, metadata on line 4) is the one reported; a.yaml's metadata is on 3
    assert (f.rule.id, f.severity, f.file, f.line, f.object, f.path) == (
        "NP019", "error", str(tmp_path / "b.yaml"), 4, "payments/p", "metadata.name")
    assert f.message == (
        f"NetworkPolicy payments/p is given twice: at {tmp_path / 'a.yaml'}:3 and again at "
        f"{tmp_path / 'b.yaml'}:4; kubectl apply keeps only the last one, so the first is "
        "silently replaced")
    assert r.failed()


def test_np019_within_one_file_and_for_cluster_wide_kinds():
    text = policy() + "---\n" + _anp() + "---\n" + policy() + "---\n" + _anp(priority=20)
    found = [(f.object, f.line) for f in lint_text(text).findings if f.rule.id == "NP019"]
    # policy(): 5 lines, _anp(): 7, each "---" one: the second policy's metadata is on line
    # 5 + 1 + 7 + 1 + 3 = 17, the second ANP's on 17 + 2 + 1 + 3 = 23
    assert found == [("payments/p", 17), ("guard", 23)]


def test_np019_quiet_for_other_namespaces_names_and_kinds():
    text = "---\n".join([
        policy(), policy(ns="billing"), policy(name="q"), _anp("p"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: payments}\n",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: payments}\n",
    ])
    assert ids(lint_text(text), "NP019") == []


def test_np019_a_policy_without_namespace_is_in_default():
    text = policy(ns="default") + "---\n" + (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\n"
        "spec: {podSelector: {}}\n")
    assert ids(lint_text(text), "NP019") == ["NP019"]


def test_np019_suppressed_on_the_later_object():
    text = policy() + "---\n" + policy(annotations={IGNORE_ANNOTATION: "NP019"})
    r = lint_text(text)
    assert ids(r, "NP019") == [] and r.suppressed == 1
