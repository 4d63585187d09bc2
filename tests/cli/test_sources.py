"""Where policies come from: a git revision wins over a module of the same name, importing a
module needs ``py:``, and every command says that Python sources are executed (issue 11 items
5 and 6)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netpol_dsl.cli import app
from netpol_dsl.errors import LoadError
from netpol_dsl.sources import is_git_revision, load_policies, looks_like_python

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "tests" / "fixtures" / "cli" / "lesson"
INV = ["-m", str(LESSON / "namespaces.yaml"), "-m", str(LESSON / "workloads.yaml")]
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

#: A module that leaves a mark when it runs, and defines policies (so a wrong import succeeds).
MAIN_PY = """\
from pathlib import Path
Path("main.py-was-executed").write_text("yes")
from netpol_dsl import PolicySet, deny_all
k8s = PolicySet(namespace="payments").add(deny_all())
policies = k8s
"""


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def isolated_imports(monkeypatch):
    """Undo what importing a user's module does to sys.path and sys.modules."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name in {"main", "team_policies"}:
            del sys.modules[name]


@pytest.fixture
def repo(tmp_path, monkeypatch, isolated_imports):
    """A git repository with a branch `main`, a file `main.py` and policies in k8s/."""
    root = tmp_path / "repo"
    (root / "k8s").mkdir(parents=True)
    policy = (LESSON / "policies" / "payments.yaml").read_text()
    (root / "k8s" / "p.yaml").write_text(policy)
    (root / "main.py").write_text(MAIN_PY)
    for k in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(k, "t")
    for k in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(k, "t@example.com")
    git = ["git", "-C", str(root)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    subprocess.run([*git, "branch", "-q", "-M", "main"], check=True)
    (root / "k8s" / "p.yaml").write_text(policy.replace("port: 5432", "port: 5433"))
    monkeypatch.chdir(root)
    return root


@needs_git
def test_a_git_revision_wins_over_a_module_of_the_same_name(repo):
    # issue 11 item 5: `main:k8s` imported main.py (cwd on sys.path, "main:k8s" looked like
    # module:attr) instead of reading k8s/ at branch main
    r = _invoke("diff", *INV, "main:k8s", "k8s/")
    assert not (repo / "main.py-was-executed").exists()
    assert r.exit_code == 1, r.output
    assert "- payments/api-server -> payments/postgres: TCP 5432" in r.stdout
    assert "+ payments/api-server -> payments/postgres: TCP 5433" in r.stdout


@needs_git
def test_a_git_revision_wins_for_render_and_lint_too(repo):
    r = _invoke("render", "main:k8s")
    assert r.exit_code == 0, r.output
    assert "port: 5432" in r.stdout and "port: 5433" not in r.stdout
    r = _invoke("lint", "main:k8s")
    assert r.exit_code in (0, 1), r.output
    assert not (repo / "main.py-was-executed").exists()


@needs_git
def test_a_python_file_at_a_revision_is_run_when_named_with_py(repo):
    r = _invoke("render", "main:main.py")
    assert r.exit_code == 0, r.output
    assert "default-deny-all" in r.stdout


def test_module_attr_without_py_is_never_imported(tmp_path, monkeypatch, isolated_imports):
    (tmp_path / "main.py").write_text(MAIN_PY)
    (tmp_path / "k8s").mkdir()
    monkeypatch.chdir(tmp_path)  # not a git repository: no revision resolves
    r = _invoke("render", "main:policies")
    assert r.exit_code == 2
    assert r.stderr == ("error: main:policies: got neither a path nor a git revision; expected a "
                        "file, a directory or REV:path. To import a Python module write "
                        "py:main:policies (that runs its code)\n")
    assert not (tmp_path / "main.py-was-executed").exists()
    r = _invoke("check", "-m", "main:policies", *INV, "--from", "payments/frontend", "--to",
                "payments/api-server", "-p", "8080")
    assert r.exit_code == 2 and "main:policies: got a path that does not exist" in r.stderr
    assert not (tmp_path / "main.py-was-executed").exists()


def test_py_prefix_imports_explicitly(tmp_path, monkeypatch, isolated_imports):
    (tmp_path / "team_policies.py").write_text(MAIN_PY.replace("main.py", "team_policies.py"))
    monkeypatch.chdir(tmp_path)
    r = _invoke("render", "py:team_policies:k8s")
    assert r.exit_code == 0, r.output
    assert "default-deny-all" in r.stdout
    assert (tmp_path / "team_policies.py-was-executed").exists()
    r = _invoke("check", "-m", "py:team_policies", *INV, "--from", "payments/frontend", "--to",
                "payments/api-server", "-p", "8080")
    assert r.exit_code == 1, r.output  # deny-all in payments: denied


@pytest.mark.parametrize(("spec", "message"), [
    ("py:", "py:: got ''; expected py:package.module or py:package.module:attribute"),
    ("py:a b:c", "py:a b:c: got 'a b:c'; expected py:package.module"),
    ("py:os:no_such_attr", "py:os:no_such_attr: got no attribute 'no_such_attr' in module 'os'"),
    ("py:no_such_module_xyz:p", "py:no_such_module_xyz:p: got an import error"),
])
def test_py_prefix_errors(spec, message):
    with pytest.raises(LoadError) as err:
        load_policies(spec)
    assert str(err.value).startswith(message)


@needs_git
def test_option_like_revisions_never_reach_git(repo, tmp_path):
    # "--output=FILE" handed to `git archive` would write FILE
    leak = tmp_path / "leak"
    assert not is_git_revision(f"--output={leak}")
    r = _invoke("render", "--", f"--output={leak}:k8s")
    assert r.exit_code == 2
    assert not leak.exists()


def test_looks_like_python_is_explicit_only():
    assert looks_like_python("x.py") and looks_like_python("py:pkg.mod:attr")
    assert not looks_like_python("pkg.mod:attr") and not looks_like_python("main:k8s")


# ------------------------------------------------------------------ item 6: say it plainly

#: Every command that accepts a Python source, in an argument or in --manifests.
PYTHON_COMMANDS = ["render", "lint", "diff", "check", "matrix", "explain", "graph",
                   "export netassert"]


@pytest.mark.parametrize("cmd", PYTHON_COMMANDS)
def test_help_says_python_sources_are_executed(cmd):
    r = _invoke(*cmd.split(), "--help")
    assert r.exit_code == 0
    text = " ".join(r.stdout.split())
    assert "Python sources (FILE.py, py:module:attr) are executed: use only code you trust." in text


def test_the_cli_reference_matches_the_behaviour():
    page = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    text = " ".join(page.split())
    # it used to say --manifests takes YAML/JSON only and to render Python first
    assert "render Python definitions to a directory first" not in text
    assert "**Python sources are executed.**" in text
    assert "`py:package.module:attr`" in text and "a git revision wins" in text
    assert "--allow-empty" in text and "--prune" in text


@pytest.mark.parametrize("spec", ["/srv:x:", "a: b", "{}", "[x]"])
def test_command_line_paths_are_never_read_as_yaml_text(spec):
    # load_manifests() reads a str that looks like YAML as text; an argument is always a path
    for args in (["validate", spec], ["render", spec],
                 ["check", "-m", spec, *INV, "--from", "payments/frontend", "--to",
                  "payments/api-server", "-p", "80"]):
        r = _invoke(*args)
        assert r.exit_code == 2, (args, r.output)
        assert f"error: {spec}: got a path that does not exist" in r.stderr, (args, r.stderr)
