"""User text on the console prints as written: no rich markup, no emoji codes, no terminal
control sequences, on a pipe and on a (fake) terminal alike (issue 11 item 11)."""

from __future__ import annotations

import shutil

import pytest

from netpol_dsl import cli

LESSON = "tests/fixtures/cli/lesson"


@pytest.fixture(params=[False, True], ids=["pipe", "terminal"])
def terminal(request, monkeypatch):
    """Run once as on a pipe and once as on a terminal (rich's force_terminal=True)."""
    monkeypatch.setattr(cli, "_FORCE_TERMINAL", True if request.param else None, raising=False)
    return request.param


def _styled(text: str) -> bool:
    return "\x1b[" in text


def test_an_emoji_code_in_an_error_prints_as_written(run, terminal):
    # issue 11 item 11: an error quoting --git-dir=/srv:x printed an emoji for ":x:"
    r = run("validate", "--", "--git-dir=/srv:x")
    assert r.exit_code == 2
    assert "\N{CROSS MARK}" not in r.stderr
    assert "--git-dir=/srv:x: got a path that does not exist; expected a file or directory" in r.stderr
    assert _styled(r.stderr) is terminal  # "error:" is red on a terminal only
    # only "error:" is styled; the message itself is plain
    assert r.stderr.endswith(" --git-dir=/srv:x: got a path that does not exist; expected a "
                             "file or directory\n")
    if not terminal:
        assert r.stderr == ("error: --git-dir=/srv:x: got a path that does not exist; expected a "
                            "file or directory\n")


def test_markup_in_an_error_prints_as_written(run, terminal):
    r = run("validate", "x[bold]y[/bold]:thumbs_up:/p.yaml")
    assert r.exit_code == 2
    assert "x[bold]y[/bold]:thumbs_up:/p.yaml: got a path that does not exist" in r.stderr
    assert "\N{THUMBS UP SIGN}" not in r.stderr


def test_terminal_control_sequences_in_user_text_are_escaped(run, terminal):
    r = run("validate", "a\x1b[2Jb.yaml")
    assert r.exit_code == 2
    assert "a\x1b[2J" not in r.stderr
    assert "a\\x1b[2Jb.yaml: got a path that does not exist" in r.stderr


def test_lint_findings_quote_paths_as_written(run, terminal, tmp_path):
    d = tmp_path / "[red]team:x:"
    shutil.copytree(LESSON, d)
    r = run("lint", str(d / "policies"), "-m", str(d))
    assert r.exit_code == 1, r.output
    assert f"{d}/workloads.yaml:56: " in r.stdout
    assert "\N{CROSS MARK}" not in r.stdout
    assert _styled(r.stdout) is terminal


def test_check_prints_field_paths_with_brackets(run, terminal):
    r = run("check", "-m", LESSON, "--from", "payments/frontend", "--to", "payments/api-server",
            "-p", "8080")
    assert r.exit_code == 0, r.output
    assert "spec.ingress[0].from[0] allows it" in r.stdout
    assert _styled(r.stdout) is terminal


def test_matrix_prints_pod_names_as_written(run, terminal, tmp_path):
    inv = tmp_path / "inv.yaml"
    inv.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: '[bold]web:x:', namespace: a, labels: {app: w}}\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: db, namespace: a, labels: {app: d}}\n"
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny, namespace: a}\nspec: {podSelector: {}}\n")
    r = run("matrix", "-m", str(inv), "-p", "80")
    assert r.exit_code == 0, r.output
    assert "a/[bold]web:x:" in r.stdout
    assert "\N{CROSS MARK}" not in r.stdout


def test_notes_print_paths_as_written(run, terminal, tmp_path):
    out = tmp_path / "out:x:[i]"
    r = run("render", "examples/payments.py", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert r.stderr == f"wrote 7 policies to {out}\n"
