"""Lint findings read right for where the policy came from: DSL advice and lines for ``.py``
sources, did-you-means that are near misses, fix texts that fit the key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from netpol_dsl.lint import lint, lint_text

ROOT = Path(__file__).resolve().parent.parent
INVENTORY = [str(ROOT / "examples" / "payments_cluster.yaml")]

#: Line numbers below are those of this text (line 1 is the import).
DSL = textwrap.dedent('''\
    from netpol_dsl import PolicySet, allow, allow_dns, deny_all, namespace, pods

    api = pods(app="api-server")
    policies = PolicySet(namespace="payments").add(
        deny_all(),
        allow_dns(),
        allow(pods(app="frontend")).to(api).on(8080).ingress_only(),
        allow(namespace("monitoring")).to(api).on(9090).ingress_only(),
        allow(pods(app="prometheus")).to(api).on(9090).ingress_only(),
    )
''')


@pytest.fixture
def dsl_report(tmp_path):
    src = tmp_path / "payments_policies.py"
    src.write_text(DSL, encoding="utf-8")
    return src, lint(src, manifests=INVENTORY)


def _one(report, rule):
    found = [f for f in report.findings if f.rule.id == rule]
    assert len(found) == 1, [str(f) for f in report.findings]
    return found[0]


def test_np001_in_a_dsl_source_says_use_and_instead_of_or(dsl_report):
    _, report = dsl_report
    finding = _one(report, "NP001")
    assert finding.fix is not None and "use `&` instead of `|`" in finding.fix
    assert "drop the second '-'" not in str(finding.to_dict())


def test_np001_in_yaml_keeps_the_yaml_advice(tmp_path):
    report = lint_text(textwrap.dedent('''\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: p, namespace: payments}
        spec:
          podSelector: {}
          ingress:
          - from:
            - namespaceSelector: {matchLabels: {team: a}}
            - podSelector: {matchLabels: {app: b}}
        '''))
    finding = _one(report, "NP001")
    assert finding.fix is None and "drop the second '-'" in finding.rule.fix


def test_findings_in_a_dsl_source_point_at_the_statement_line(dsl_report):
    src, report = dsl_report
    by_rule = {f.rule.id: f for f in report.findings if f.file == str(src)}
    # The stray podSelector peer comes from the prometheus flow on line 9, not the first flow.
    assert by_rule["NP001"].line == 9, str(by_rule["NP001"])
    assert by_rule["NP003"].line == 9, str(by_rule["NP003"])
    assert by_rule["NP001"].location == f"{src}:9"


def test_a_policy_from_several_statements_points_at_each_part(tmp_path):
    from netpol_dsl.lint import _dsl_manifest
    from netpol_dsl.sources import load_policies

    src = tmp_path / "p.py"
    src.write_text(DSL, encoding="utf-8")
    policies = {p.name: p for p in load_policies(str(src))}
    m = _dsl_manifest(policies["allow-ingress-to-api-server"], str(src))
    assert m.line == 7  # its first statement
    assert m.line_of("spec.ingress[0].ports[0]") == 7  # frontend on 8080
    assert m.line_of("spec.ingress[1].from[0]") == 8  # namespace('monitoring') on 9090
    assert m.line_of("spec.ingress[1].from[1].podSelector") == 9
    deny = _dsl_manifest(policies["default-deny-all"], str(src))
    assert deny.line == 5 and deny.line_of("spec.policyTypes") == 5


def test_np003_did_you_mean_offers_only_near_misses(tmp_path):
    def finding(labels: str):
        f = tmp_path / "p.yaml"
        f.write_text(textwrap.dedent(f'''\
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {{name: p, namespace: payments}}
            spec:
              podSelector: {{matchLabels: {labels}}}
            '''), encoding="utf-8")
        return _one(lint(f, manifests=INVENTORY), "NP003").message

    # app=prometheus shares "app=" with app=frontend, and nothing else: no suggestion
    assert "Did you mean" not in finding("{app: prometheus}")
    assert finding("{app: frontnd}").endswith("Did you mean app=frontend?")
    assert finding("{ap: frontend}").endswith("Did you mean app=frontend?")
    assert finding("{app: api}").endswith("Did you mean app=api-server?")  # one word of it
    assert "Did you mean" not in finding("{tier: frontend-x}")


def test_np003_names_the_namespace_where_a_lone_pod_selector_would_match(dsl_report):
    _, report = dsl_report
    finding = _one(report, "NP003")
    assert "Pods matching it run in namespace 'monitoring'" in finding.message
    assert "Did you mean app=frontend" not in finding.message
    assert finding.fix is not None and "namespace('monitoring') & pods(...)" in finding.fix


@pytest.mark.parametrize(
    ("body", "key", "fix"),
    [
        ("spec:\n  podSelector: {}\n  ingress: []\n  ingress: [{}]\n", "ingress",
         "keep one 'ingress' key in spec and move the items of both lists under it"),
        ("spec:\n  podSelector:\n    matchLabels:\n      app: a\n      app: b\n", "app",
         "keep one 'app' in matchLabels: a label has one value, and matchLabels ANDs its "
         "entries; for either value use matchExpressions with operator In"),
        ("spec:\n  podSelector: {}\n  ingress:\n  - from:\n    - podSelector: {}\n"
         "      podSelector: {matchLabels: {a: b}}\n", "podSelector",
         "keep one 'podSelector' key in from and merge what both held into it"),
    ],
)
def test_np012_fix_fits_the_duplicated_key(body, key, fix):
    head = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\n"
    finding = _one(lint_text(head + body), "NP012")
    assert f"duplicate key {key!r}" in finding.message
    assert finding.fix == fix
    assert ("matchLabels" in fix) == (key == "app")
