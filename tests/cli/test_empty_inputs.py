"""No silent passes: every command on input without a NetworkPolicy (or without pods, where it
evaluates an inventory) exits 2 unless --allow-empty (issue 11 item 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

LESSON = "tests/fixtures/cli/lesson"
PODS = ["-m", f"{LESSON}/namespaces.yaml", "-m", f"{LESSON}/workloads.yaml"]
POLICIES = f"{LESSON}/policies"
INTENT = f"{LESSON}/intent.yaml"
HINT = "; pass --allow-empty if that is expected\n"


@pytest.fixture
def empties(tmp_path) -> dict[str, str]:
    """Inputs with no NetworkPolicy: an empty file, an empty directory, other kinds only."""
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "emptydir").mkdir()
    (tmp_path / "other.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n"
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: s}\n")
    (tmp_path / "comments.yaml").write_text("# nothing here\n---\n---\n")
    return {
        "file": str(tmp_path / "empty.yaml"),
        "dir": str(tmp_path / "emptydir"),
        "other": str(tmp_path / "other.yaml"),
        "comments": str(tmp_path / "comments.yaml"),
    }


@pytest.mark.parametrize("kind", ["file", "dir", "other", "comments"])
@pytest.mark.parametrize("cmd", ["validate", "lint", "render"])
def test_policy_commands_refuse_input_without_policies(run, empties, cmd, kind):
    path = empties[kind]
    r = run(cmd, path)
    assert r.exit_code == 2, r.output
    skipped = " (skipped: ConfigMap 1, Widget 1)" if kind == "other" and cmd == "validate" else ""
    assert r.stderr == f"error: no NetworkPolicy found in {path}{skipped}{HINT}"
    assert r.stdout == ""
    r = run(cmd, path, "--allow-empty")
    assert r.exit_code == 0, r.output


def test_render_of_an_empty_python_definition(run, tmp_path):
    src = tmp_path / "defs.py"
    src.write_text("from netpol_dsl import PolicySet\npolicies = PolicySet(namespace='a')\n")
    r = run("render", str(src))
    assert r.exit_code == 2 and r.stderr == f"error: no NetworkPolicy found in {src}{HINT}"
    assert run("render", str(src), "--allow-empty").exit_code == 0


def test_validate_reports_invalid_policies_not_emptiness(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                   "metadata: {name: x, namespace: a}\nspec: {podSelector: 3}\n")
    r = run("validate", str(bad))
    assert r.exit_code == 1 and "spec.podSelector" in r.stdout


def test_validate_several_paths_are_named(run, empties):
    r = run("validate", empties["file"], empties["dir"])
    assert r.exit_code == 2
    assert f"no NetworkPolicy found in {empties['file']}, {empties['dir']}" in r.stderr


# ------------------------------------------------------------------ commands on an inventory

_CLUSTER_COMMANDS = {
    "check": ["check", "--from", "payments/frontend", "--to", "payments/api-server", "-p", "8080"],
    "matrix": ["matrix", "-p", "8080"],
    "explain": ["explain", "payments/api-server"],
    "graph": ["graph"],
    "export": ["export", "netassert", "--intent", INTENT, "--no-verify"],
}


@pytest.mark.parametrize("cmd", sorted(_CLUSTER_COMMANDS))
def test_inventory_commands_refuse_an_inventory_without_policies(run, cmd):
    r = run(*_CLUSTER_COMMANDS[cmd], *PODS)
    assert r.exit_code == 2, r.output
    where = f"{LESSON}/namespaces.yaml, {LESSON}/workloads.yaml"
    assert r.stderr == f"error: no NetworkPolicy found in {where}{HINT}"
    r = run(*_CLUSTER_COMMANDS[cmd], *PODS, "--allow-empty")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("cmd", sorted(_CLUSTER_COMMANDS))
def test_inventory_commands_refuse_an_inventory_without_pods(run, cmd, empties):
    r = run(*_CLUSTER_COMMANDS[cmd], "-m", POLICIES)
    assert r.exit_code == 2, r.output
    assert r.stderr == f"error: no pods or workloads found in {POLICIES}{HINT}"
    r = run(*_CLUSTER_COMMANDS[cmd], "-m", empties["dir"])
    assert r.exit_code == 2
    assert r.stderr == f"error: no pods or workloads found in {empties['dir']}{HINT}"


def test_matrix_and_graph_on_nothing_with_allow_empty(run, empties):
    for args in (["matrix"], ["matrix", "-f", "json"], ["graph"], ["graph", "-f", "json"]):
        r = run(*args, "-m", empties["dir"], "--allow-empty")
        assert r.exit_code == 0, (args, r.output)
        assert "Traceback" not in r.output


def test_diff_refuses_sides_without_policies(run, empties):
    r = run("diff", empties["dir"], empties["file"], *PODS)
    assert r.exit_code == 2
    assert r.stderr == (f"error: no NetworkPolicy found in OLD {empties['dir']}; pass "
                        "--allow-empty (or allow_empty=True) if that is expected\n")
    r = run("diff", POLICIES, empties["dir"], *PODS)
    assert r.exit_code == 2 and f"no NetworkPolicy found in NEW {empties['dir']}" in r.stderr
    # with --allow-empty: nothing vs nothing is unchanged; removing every policy is a change
    assert run("diff", empties["dir"], empties["file"], *PODS, "--allow-empty").exit_code == 0
    assert run("diff", POLICIES, empties["dir"], *PODS, "--allow-empty").exit_code == 1


def test_diff_refuses_an_inventory_without_pods(run, empties):
    r = run("diff", POLICIES, POLICIES, "-m", empties["dir"])
    assert r.exit_code == 2
    assert r.stderr == f"error: no pods or workloads found in {empties['dir']}{HINT}"


def test_diff_policies_in_the_inventory_are_not_required(run):
    # --manifests of diff is the inventory; OLD and NEW bring the policies
    r = run("diff", POLICIES, "examples/payments.py", *PODS)
    assert r.exit_code == 1 and "connectivity unchanged" in r.stdout


@pytest.mark.parametrize("cmd", ["validate", "lint", "render", "check", "matrix", "explain",
                                 "diff", "graph", "export netassert"])
def test_every_command_offers_allow_empty(run, cmd):
    r = run(*cmd.split(), "--help")
    assert "--allow-empty" in r.stdout


def test_an_empty_directory_argument_is_still_a_directory(run, tmp_path):
    # the check counts policies; a path that does not exist stays its own, clearer error
    r = run("validate", str(Path(tmp_path) / "missing"))
    assert r.exit_code == 2 and "does not exist" in r.stderr


def test_cluster_wide_policies_count_as_policies():
    # one helper counts policies for every command; the cluster-wide kinds count too, once the
    # loader's registry reads them into Manifests.resources
    from netpol_dsl.load import KindSpec, Manifest, Manifests, Resource
    from netpol_dsl.model import AdminNetworkPolicy
    from netpol_dsl.sources import count_policies

    anp = AdminNetworkPolicy.model_validate({"metadata": {"name": "x"}, "spec": {
        "priority": 1, "subject": {"namespaces": {}}}})
    spec = KindSpec("policy.networking.k8s.io", "AdminNetworkPolicy", ("v1alpha1",),
                    namespaced=False)
    found = Manifests(resources=(Resource(spec, anp, Manifest(anp.to_dict(), None, None)),))
    assert count_policies(found) == 1
    assert count_policies(Manifests()) == 0
    assert count_policies([anp]) == 1
