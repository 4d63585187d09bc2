"""render, validate and lint through the Typer runner: examples, goldens and bad input."""

from __future__ import annotations

import json

import pytest
import yaml

LESSON = "tests/fixtures/cli/lesson"


def test_help_lists_every_command(run):
    r = run("--help")
    assert r.exit_code == 0
    for cmd in ("render", "validate", "check", "matrix", "explain", "lint", "diff", "graph",
                "export"):
        assert cmd in r.stdout
    assert "Exit codes" in r.stdout


@pytest.mark.parametrize("cmd", ["render", "validate", "check", "matrix", "explain", "lint",
                                 "diff", "graph", "export netassert"])
def test_each_command_has_help_with_examples(run, cmd):
    r = run(*cmd.split(), "--help")
    assert r.exit_code == 0
    assert "netpol " in r.stdout and "Example" in r.stdout


def test_no_arguments_shows_usage(run):
    r = run()
    assert r.exit_code == 2
    assert "Usage" in r.output


def test_version(run):
    r = run("--version")
    assert r.exit_code == 0 and r.stdout.startswith("netpol ")


# ------------------------------------------------------------------------------ render


def test_render_example_yaml(run):
    r = run("render", "examples/payments.py")
    assert r.exit_code == 0, r.output
    docs = list(yaml.safe_load_all(r.stdout))
    assert {d["metadata"]["name"] for d in docs} >= {"default-deny-all", "allow-frontend-to-api"}


def test_render_golden(run, golden):
    r = run("render", "tests/fixtures/cli/dsl_policies.py")
    assert r.exit_code == 0, r.output
    golden("render-dsl.yaml", r.stdout)


def test_render_module_attr_and_json(run):
    r = run("render", "py:examples.payments:policies", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["kind"] == "List" and len(data["items"]) == 7


def test_render_bare_module_attr_is_not_imported(run):
    # importing runs code, so it must be asked for with py:
    r = run("render", "examples.payments:policies")
    assert r.exit_code == 2
    assert r.stderr == (
        "error: examples.payments:policies: got neither a path nor a git revision; expected a "
        "file, a directory or REV:path. To import a Python module write "
        "py:examples.payments:policies (that runs its code)\n")


def test_render_to_directory(run, tmp_path):
    r = run("render", "examples/payments.py", "-o", str(tmp_path / "out"))
    assert r.exit_code == 0
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files[0] == ".netpol-dsl-files"
    assert "payments.default-deny-all.yaml" in files and len(files[1:]) == 7
    assert "wrote 7 policies" in r.stderr


def test_render_yaml_passthrough_is_deterministic(run):
    a = run("render", f"{LESSON}/policies")
    b = run("render", f"{LESSON}/policies/payments.yaml")
    assert a.exit_code == b.exit_code == 0 and a.stdout == b.stdout


def test_render_missing_file(run):
    r = run("render", "nope/missing.py")
    assert r.exit_code == 2
    assert r.stderr == "error: nope/missing.py: got a path that does not exist; expected a Python file\n"


def test_render_python_that_raises(run, tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("raise RuntimeError('boom')\n")
    r = run("render", str(bad))
    assert r.exit_code == 2
    assert "running the policy definition raised RuntimeError: boom" in r.stderr
    assert "Traceback" not in r.output


def test_render_python_syntax_error(run, tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("policies = (\n")
    r = run("render", str(bad))
    assert r.exit_code == 2 and "syntax error" in r.stderr


def test_render_python_without_policies(run, tmp_path):
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    r = run("render", str(empty))
    assert r.exit_code == 2 and "defines no policies" in r.stderr


def test_render_bad_format(run):
    r = run("render", "examples/payments.py", "--format", "toml")
    assert r.exit_code == 2 and "Invalid value" in r.output


# ------------------------------------------------------------------------------ validate


def test_validate_lesson_ok(run):
    r = run("validate", LESSON)
    assert r.exit_code == 0 and r.stdout == "" and "7 valid policies" in r.stderr


def test_validate_invalid_policy_lists_every_problem(run, tmp_path, golden):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: x, namespace: a}\nspec:\n  ingress:\n"
        "  - ports: [{port: 70000, protocol: HTTP}]\n"
        "    from: [{ipBlock: {cidr: 10.0.0.1}}]\n")
    r = run("validate", str(bad))
    assert r.exit_code == 1
    golden("validate-bad.txt", r.stdout.replace(str(bad), "bad.yaml"))
    assert all(line.startswith(f"{bad}:") for line in r.stdout.splitlines())


def test_validate_json(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                   "metadata: {name: x, namespace: a}\nspec: {podSelector: 3}\n")
    r = run("validate", str(bad), "--format", "json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert data["valid"] is False and data["errors"][0]["path"] == "spec.podSelector"


@pytest.mark.parametrize(("content", "message"), [
    (b"a: [1,\n", "got invalid YAML"),
    (b"kind: caf\xe9\n", "not UTF-8"),
    (b"kind: A\nkind: B\n", "duplicate key 'kind'"),
    (b"\x00\x01\x02", "binary data"),
])
def test_validate_unreadable_input(run, tmp_path, content, message):
    f = tmp_path / "in.yaml"
    f.write_bytes(content)
    r = run("validate", str(f))
    assert r.exit_code == 2
    assert r.stderr.startswith("error: ") and message in r.stderr
    assert "Traceback" not in r.output


def test_validate_missing_path(run):
    r = run("validate", "no/such/dir")
    assert r.exit_code == 2 and "does not exist" in r.stderr


def test_validate_directory_as_file_argument_is_an_error(run, tmp_path):
    r = run("validate")
    assert r.exit_code == 2 and "Missing argument" in r.output


# ------------------------------------------------------------------------------ lint


def test_lint_lesson_with_inventory(run, golden):
    r = run("lint", f"{LESSON}/policies", "--manifests", f"{LESSON}/namespaces.yaml",
            "--manifests", f"{LESSON}/workloads.yaml")
    assert r.exit_code == 1
    golden("lint-lesson.txt", r.stdout)
    assert "2 findings (2 warnings) in 7 policies" in r.stderr


def test_lint_lesson_json(run, golden):
    r = run("lint", f"{LESSON}/policies", "-m", LESSON, "--format", "json")
    assert r.exit_code == 1
    golden("lint-lesson.json", r.stdout)


def test_lint_sarif(run, tmp_path):
    out = tmp_path / "lint.sarif"
    r = run("lint", f"{LESSON}/policies", "-m", LESSON, "--format", "sarif", "-o", str(out))
    assert r.exit_code == 1
    sarif = json.loads(out.read_text())
    assert [x["ruleId"] for x in sarif["runs"][0]["results"]] == ["NP010", "NP010"]


def test_lint_clean_exits_zero(run):
    r = run("lint", f"{LESSON}/policies")
    assert r.exit_code == 0
    assert "no findings in 7 policies" in r.stderr
    assert "not run" in r.stderr


def test_lint_fail_on_error_ignores_warnings(run):
    r = run("lint", f"{LESSON}/policies", "-m", LESSON, "--fail-on", "error")
    assert r.exit_code == 0


def test_lint_python_definition(run):
    r = run("lint", "examples/payments.py", "-m", LESSON, "--ignore", "NP010")
    assert r.exit_code == 0, r.output


def test_lint_duplicate_keys_is_a_finding_not_a_crash(run, tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                 "metadata: {name: x, namespace: a}\nspec:\n  podSelector:\n    matchLabels:\n"
                 "      app: web\n      app: api\n")
    r = run("lint", str(f))
    assert r.exit_code == 1
    assert f"{f}:8: NP012 error: a/x: got duplicate key 'app' (first at line 7)" in r.stdout


def test_lint_unknown_rule_id(run):
    r = run("lint", f"{LESSON}/policies", "--select", "NP999")
    assert r.exit_code == 2 and "got 'NP999'; expected a rule id" in r.stderr


def test_lint_bad_yaml(run, tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("spec: {a: 1\n")
    r = run("lint", str(f))
    assert r.exit_code == 2 and "invalid YAML" in r.stderr and "Traceback" not in r.output


def test_no_colour_codes_when_not_a_terminal(run):
    r = run("lint", f"{LESSON}/policies", "-m", LESSON)
    assert "\x1b[" not in r.output
    r = run("check", "-m", LESSON, "--from", "monitoring/rogue-pod", "--to",
            "payments/api-server", "-p", "9090")
    assert "\x1b[" not in r.output and r.stdout.startswith("DENIED")


def test_lint_refuses_deeply_nested_yaml_cleanly(run, tmp_path):
    # lint reads YAML through its own duplicate-tolerant loader; it must keep the foundation's
    # depth guard (the C composer would otherwise overflow the stack on input like this)
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    r = run("lint", str(deep))
    assert r.exit_code == 2
    assert "nested too deeply" in r.output


# ------------------------------------------------------------------------------ render: cluster-wide

_CLUSTER_DEF = """\
from netpol_dsl import PolicySet, deny_all, ip_block, namespace, pods, tcp, udp
from netpol_dsl.admin import admin, baseline

shop = PolicySet(namespace="shop").add(deny_all())
guard = (admin("guardrails", priority=10)
         .allow_to(namespace("kube-system") & pods({"k8s-app": "kube-dns"}), udp(53), tcp(53))
         .deny_to(ip_block("0.0.0.0/0")))
fallback = baseline().deny_from(namespace("sandbox"))
legacy = admin("legacy", priority=20).deny_to(ip_block("10.0.0.0/8")).to_model("v1alpha1")
_private = admin("not-collected", priority=30).deny_to(ip_block("10.0.0.0/8"))
"""


def _kinds_and_names(text: str) -> list[tuple[str, str]]:
    return [(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(text)]


def test_render_python_collects_cluster_wide_policies(run, tmp_path):
    # Before: only the NetworkPolicy was rendered; admin()/baseline() objects were dropped.
    src = tmp_path / "cluster.py"
    src.write_text(_CLUSTER_DEF)
    r = run("render", str(src))
    assert r.exit_code == 0, r.output
    # NetworkPolicies first, then cluster-wide policies by kind and name; builders render
    # v1alpha2 (ClusterNetworkPolicy, the baseline named "default"), a model stays as it is.
    assert _kinds_and_names(r.stdout) == [
        ("NetworkPolicy", "default-deny-all"),
        ("AdminNetworkPolicy", "legacy"),
        ("ClusterNetworkPolicy", "default"),
        ("ClusterNetworkPolicy", "guardrails"),
    ]
    docs = {d["metadata"]["name"]: d for d in yaml.safe_load_all(r.stdout)}
    assert docs["guardrails"]["spec"]["tier"] == "Admin"
    assert [rule["action"] for rule in docs["guardrails"]["spec"]["egress"]] == ["Accept", "Deny"]
    assert docs["default"]["spec"]["tier"] == "Baseline"


def test_render_python_module_policies_list_with_cluster_wide(run, tmp_path):
    src = tmp_path / "listed.py"
    src.write_text(_CLUSTER_DEF + "policies = [shop, guard]\n")
    r = run("render", str(src))
    assert r.exit_code == 0, r.output
    assert _kinds_and_names(r.stdout) == [("NetworkPolicy", "default-deny-all"),
                                          ("ClusterNetworkPolicy", "guardrails")]


def test_render_python_only_cluster_wide_to_directory(run, tmp_path):
    src = tmp_path / "only.py"
    src.write_text("from netpol_dsl.admin import cluster_default_deny\nbase = cluster_default_deny()\n")
    out = tmp_path / "out"
    r = run("render", str(src), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".netpol-dsl-files", "clusternetworkpolicy_default-deny-allow-dns.yaml",
        "clusternetworkpolicy_default-deny.yaml"]
    assert "wrote 2 policies" in r.stderr


def test_render_yaml_keeps_cluster_wide_policies(run, tmp_path):
    src = tmp_path / "mixed.yaml"
    src.write_text("""\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: deny-metadata}
spec:
  priority: 5
  subject: {namespaces: {}}
  egress: [{action: Deny, to: [{networks: [169.254.169.254/32]}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: a}
spec: {podSelector: {}}
""")
    r = run("render", str(src))
    assert r.exit_code == 0, r.output
    assert _kinds_and_names(r.stdout) == [("NetworkPolicy", "deny"),
                                          ("AdminNetworkPolicy", "deny-metadata")]


def test_commands_reading_network_policies_leave_cluster_wide_ones_out(tmp_path):
    from netpol_dsl import collect
    from netpol_dsl.policyset import collect_objects
    from netpol_dsl.sources import load_policies

    src = tmp_path / "cluster.py"
    src.write_text(_CLUSTER_DEF)
    assert [p.key for p in load_policies(str(src))] == ["shop/default-deny-all"]
    ns: dict[str, object] = {}
    exec(compile(_CLUSTER_DEF, "<def>", "exec"), ns)
    assert [p.key for p in collect(ns)] == ["shop/default-deny-all"]
    assert len(collect_objects(ns)) == 4


# ------------------------------------------------------------------------------ validate: duplicates

_NP = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
       "metadata: {{name: {name}, namespace: {ns}}}\nspec: {{podSelector: {{}}}}\n")
_ANP = ("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
        "metadata: {{name: {name}}}\nspec:\n  priority: {priority}\n  subject: {{namespaces: {{}}}}\n"
        "  egress: [{{action: Deny, to: [{{networks: [169.254.169.254/32]}}]}}]\n")


def test_validate_reports_a_duplicate_as_an_error_naming_both_places(run, tmp_path):
    (tmp_path / "a.yaml").write_text(_NP.format(name="deny", ns="shop"))
    (tmp_path / "b.yaml").write_text("# copy\n" + _NP.format(name="deny", ns="shop"))
    r = run("validate", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"))
    assert r.exit_code == 1
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert r.stdout == (
        f"{b}:2: metadata.name: got 'NetworkPolicy shop/deny'; expected one NetworkPolicy per "
        f"name. also defined at {a}:1; kubectl apply keeps the last one ({b}:2)\n")
    assert "1 valid policy; 1 problem" in r.stderr


def test_validate_reports_duplicate_cluster_wide_policies(run, tmp_path):
    f = tmp_path / "anp.yaml"
    f.write_text(_ANP.format(name="guard", priority=1) + "---\n" + _ANP.format(name="guard", priority=2))
    r = run("validate", str(f), "--format", "json")
    assert r.exit_code == 1
    (err,) = json.loads(r.stdout)["errors"]
    # the second document starts on line 9 (7 lines, then "---")
    assert (err["source"], err["path"], err["hint"]) == (
        f"{f}:9", "metadata.name", f"also defined at {f}:1; kubectl apply keeps the last one ({f}:9)")


def test_validate_same_name_in_another_namespace_or_kind_is_fine(run, tmp_path):
    f = tmp_path / "ok.yaml"
    f.write_text("---\n".join([_NP.format(name="deny", ns="shop"), _NP.format(name="deny", ns="bank"),
                               _ANP.format(name="deny", priority=1),
                               "apiVersion: v1\nkind: Pod\nmetadata: {name: deny, namespace: shop}\n"]))
    r = run("validate", str(f))
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
