"""File output: one file per policy in every format, atomic writes, no escaping the directory,
no writing through symlinks, and pruning that removes only what netpol-dsl wrote (issue 11
items 1-4)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from netpol_dsl import PolicySet, allow, deny_all, load_manifests, load_policy, pods
from netpol_dsl._files import RECORD_NAME, digest, read_record, safe_file_name, write_output
from netpol_dsl.cli import app
from netpol_dsl.errors import RenderError
from netpol_dsl.render import YAML_HEADER, file_name, to_json, to_yaml, write_policies
from netpol_dsl.sources import load_policies

ROOT = Path(__file__).resolve().parents[1]
PAYMENTS = str(ROOT / "examples" / "payments.py")


def _cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _policy(name: str, namespace: str = "a", port: int | None = None, **kw) -> object:
    spec: dict = {"podSelector": {"matchLabels": {"app": name[:10] or "x"}}}
    if port is not None:
        spec["ingress"] = [{"ports": [{"port": port}]}]
    return load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": {"name": name, "namespace": namespace}, "spec": spec}, **kw)


def _tree(root: Path) -> dict[str, bytes | str]:
    """Every entry under ``root`` (links by target, files by content)."""
    out: dict[str, bytes | str] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_symlink():
            out[rel] = "-> " + os.readlink(p)
        elif p.is_file():
            out[rel] = p.read_bytes()
        else:
            out[rel] = "dir"
    return out


def _policy_files(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name != RECORD_NAME)


# ------------------------------------------------------------------ 1. one file per policy


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_render_writes_one_file_per_policy_in_every_format(tmp_path, fmt):
    # issue 11 item 1: --format json wrote one payments.json holding only the last policy
    expected = load_policies(PAYMENTS)
    r = _cli("render", PAYMENTS, "-o", str(tmp_path / "out"), "--format", fmt)
    assert r.exit_code == 0, r.output
    assert "wrote 7 policies" in r.stderr
    files = _policy_files(tmp_path / "out")
    assert files == sorted(f"payments.{p.name}.{fmt}" for p in expected)
    for p in expected:
        text = (tmp_path / "out" / f"payments.{p.name}.{fmt}").read_text(encoding="utf-8")
        if fmt == "yaml":
            assert text == YAML_HEADER + to_yaml([p])
        else:
            assert text == to_json(p)
            assert json.loads(text)["metadata"]["name"] == p.name
    # reading the directory back gives exactly the policies rendered
    back = load_manifests(str(tmp_path / "out")).policies
    assert sorted(back, key=lambda p: p.key) == sorted(expected, key=lambda p: p.key)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_policyset_write_in_every_format(tmp_path, fmt):
    ps = PolicySet(namespace="payments").add(
        deny_all(), allow(pods(app="frontend")).to(pods(app="api")).on(8080))
    paths = ps.write(tmp_path, format=fmt)
    assert [p.name for p in paths] == [file_name(p, fmt) for p in ps.compile()]
    assert all(p.suffix == f".{fmt}" for p in paths)
    assert sorted(load_manifests(str(tmp_path)).policies, key=lambda p: p.key) == ps.compile()


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_dotted_names_keep_their_own_files(tmp_path, fmt):
    # Path.with_suffix cut "v1.2" to "v1" and "v1.3" to "v1": two policies, one file
    policies = [_policy("allow.v1.2"), _policy("allow.v1.3"), _policy("allow")]
    done = write_policies(policies, tmp_path, format=fmt)
    assert [p.name for p in done.files] == [f"a.allow.v1.2.{fmt}", f"a.allow.v1.3.{fmt}",
                                            f"a.allow.{fmt}"]
    assert len(load_manifests(str(tmp_path)).policies) == 3


def test_file_name_of_valid_names_is_namespace_dot_name():
    p = _policy("x.y")
    assert file_name(p) == "a.x.y.yaml" and file_name(p, "json") == "a.x.y.json"
    with pytest.raises(RenderError, match=r"file_name\(\): got format='toml'; expected 'yaml' or 'json'"):
        file_name(p, "toml")  # type: ignore[arg-type]


def test_the_same_policy_twice_is_refused_before_anything_is_written(tmp_path):
    p = _policy("x")
    with pytest.raises(RenderError, match=r"policies 'a/x' and 'a/x' would both be written to 'a.x.yaml'"):
        write_policies([p, p], tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ 2. atomic, no symlinks


def test_an_interrupted_rewrite_leaves_the_old_file(tmp_path):
    # issue 11 item 2: re-rendering under a file-size limit left a truncated policy file.
    # A child process with RLIMIT_FSIZE (SIGXFSZ ignored, so write() fails with EFBIG).
    pytest.importorskip("resource")
    out = tmp_path / "out"
    script = textwrap.dedent(f"""
        import resource, signal, sys
        from netpol_dsl import PolicySet, allow, deny_all, pods, tcp
        out = {str(out)!r}
        small = PolicySet(namespace="a").add(deny_all(name="p"))
        small.write(out)
        big = PolicySet(namespace="a").add(
            allow(pods(app="w")).to(pods(app="x")).on(*range(1000, 1400)).named("p"))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))
        try:
            big.write(out)
        except OSError as err:
            print("refused", err.errno)
            sys.exit(0)
        print("written")
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("refused"), proc.stdout
    files = _policy_files(out)
    assert files == ["a.p.yaml"]  # no temporary file left behind
    policy = load_manifests(str(out / "a.p.yaml")).policies[0]
    assert policy.name == "p" and policy.spec.ingress is None  # the old, complete policy


def test_a_failed_replace_keeps_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch):
    write_policies([_policy("x", port=80)], tmp_path)
    before = (tmp_path / "a.x.yaml").read_bytes()

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="No space left"):
        write_policies([_policy("x", port=81)], tmp_path)
    monkeypatch.undo()
    assert (tmp_path / "a.x.yaml").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_symlink_in_place_of_a_policy_file_is_refused(tmp_path):
    # writing through the link would overwrite whatever it points at, outside the directory
    outside = tmp_path / "victim.txt"
    outside.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.x.yaml").symlink_to(outside)
    with pytest.raises(RenderError, match=r"a\.x\.yaml: got a symbolic link \(to '.*victim\.txt'\); "
                                          r"expected a regular file or nothing\. Refusing"):
        write_policies([_policy("x")], out)
    assert outside.read_text() == "precious\n"
    assert (out / "a.x.yaml").is_symlink()


def test_a_symlink_in_place_of_a_policy_file_is_refused_by_policyset_write(tmp_path):
    outside = tmp_path / "victim.txt"
    outside.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.default-deny-all.yaml").symlink_to(outside)
    with pytest.raises(RenderError, match="symbolic link"):
        PolicySet(namespace="a").add(deny_all()).write(out)
    assert outside.read_text() == "precious\n"


def test_the_cli_refuses_a_symlink_cleanly(tmp_path):
    outside = tmp_path / "victim.txt"
    outside.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "payments.default-deny-all.yaml").symlink_to(outside)
    r = _cli("render", PAYMENTS, "-o", str(out))
    assert r.exit_code == 2
    assert r.stderr.startswith(f"error: {out}/payments.default-deny-all.yaml: got a symbolic link")
    assert "Traceback" not in r.output
    assert outside.read_text() == "precious\n"


def test_a_symlinked_record_is_refused(tmp_path):
    outside = tmp_path / "victim.txt"
    outside.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / RECORD_NAME).symlink_to(outside)
    with pytest.raises(RenderError, match="symbolic link"):
        write_policies([_policy("x")], out)
    assert outside.read_text() == "precious\n"


def test_a_directory_in_place_of_a_policy_file_is_refused(tmp_path):
    (tmp_path / "a.x.yaml").mkdir()
    with pytest.raises(RenderError, match=r"a\.x\.yaml: got a directory; expected a regular file"):
        write_policies([_policy("x")], tmp_path)


def test_rewriting_keeps_the_permission_bits(tmp_path):
    write_policies([_policy("x")], tmp_path)
    (tmp_path / "a.x.yaml").chmod(0o640)
    write_policies([_policy("x", port=80)], tmp_path)
    assert (tmp_path / "a.x.yaml").stat().st_mode & 0o777 == 0o640


def test_output_file_option_is_atomic_and_refuses_symlinks(tmp_path):
    lesson = str(ROOT / "tests/fixtures/cli/lesson")
    target = tmp_path / "victim.md"
    target.write_text("precious\n")
    link = tmp_path / "matrix.md"
    link.symlink_to(target)
    r = _cli("matrix", "-m", lesson, "--format", "md", "-o", str(link))
    assert r.exit_code == 2 and "got a symbolic link" in r.stderr
    assert target.read_text() == "precious\n"
    out = tmp_path / "new" / "matrix.md"
    r = _cli("matrix", "-m", lesson, "--format", "md", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert out.read_text().startswith("|") and sorted(p.name for p in out.parent.iterdir()) == ["matrix.md"]


def test_output_file_option_writes_to_devices(tmp_path):
    # -o /dev/stdout and the like: a device (or a pipe) is written directly, even through a link
    link = tmp_path / "null"
    link.symlink_to(os.devnull)
    write_output(link, b"x\n")
    write_output(Path(os.devnull), b"x\n")
    assert link.is_symlink()


# ------------------------------------------------------------------ 3. names never escape


def test_lenient_names_cannot_escape_the_directory(tmp_path):
    # issue 11 item 3: a policy named ../../../../escaped-outside was written above -o out/
    definition = tmp_path / "src" / "defs.py"
    definition.parent.mkdir()
    definition.write_text(textwrap.dedent("""
        from netpol_dsl import load_manifests
        policies = list(load_manifests('''
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: ../../../../escaped-outside, namespace: a}
        spec: {podSelector: {}}
        ''', lenient_names=True).policies)
    """))
    out = tmp_path / "deep" / "er" / "out"
    before = _tree(tmp_path)
    r = _cli("render", str(definition), "-o", str(out))
    assert r.exit_code == 0, r.output
    after = _tree(tmp_path)
    new = sorted(set(after) - set(before))
    assert new[:4] == ["deep", "deep/er", "deep/er/out", f"deep/er/out/{RECORD_NAME}"]
    assert len(new) == 5
    assert re.fullmatch(r"deep/er/out/a\.\.\._\.\._\.\._\.\._escaped-outside_[0-9a-f]{12}\.yaml", new[4])
    assert {k: v for k, v in after.items() if k in before} == before
    back = load_manifests(str(out), lenient_names=True).policies
    assert [p.name for p in back] == ["../../../../escaped-outside"]


def test_valid_names_too_long_for_a_file_system_are_shortened(tmp_path):
    # a 63-character namespace and a 253-character name are valid; the file name would be 322
    # bytes, over the 255 most file systems allow
    ns, name = "n" * 63, ".".join(["x" * 63] * 3 + ["y" * 61])
    policy = _policy(name, namespace=ns)
    done = write_policies([policy], tmp_path)
    (written,) = done.files
    assert len(written.name) <= 200 and written.parent == tmp_path
    assert load_manifests(str(written)).policies == (policy,)


_ANY_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=300)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(namespace=_ANY_TEXT, name=_ANY_TEXT)
def test_any_name_gives_one_plain_file_name(namespace, name):
    for suffix in (".yaml", ".json"):
        fn = safe_file_name(namespace, name, suffix)
        assert fn.endswith(suffix) and fn not in {".", ".."} and not fn.startswith(".")
        assert "/" not in fn and "\\" not in fn and "\x00" not in fn
        assert len(fn.encode()) <= 200
        assert Path(fn).name == fn and len(Path(fn).parts) == 1


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(a=st.tuples(_ANY_TEXT, _ANY_TEXT), b=st.tuples(_ANY_TEXT, _ANY_TEXT))
def test_different_names_never_share_a_file(a, b):
    # also on case-insensitive file systems (macOS, Windows)
    if a != b:
        assert safe_file_name(*a, ".yaml").casefold() != safe_file_name(*b, ".yaml").casefold()


# ------------------------------------------------------------------ 4. --prune


def _render(out: Path, source: Path, *extra: str):
    return _cli("render", str(source), "-o", str(out), *extra)


def _defs(tmp_path: Path, *names: str, stem: str = "defs") -> Path:
    """A Python definition with one deny-all policy per name in namespace a."""
    path = tmp_path / f"{stem}.py"
    body = ", ".join(f"deny_all(name={n!r})" for n in names)
    path.write_text("from netpol_dsl import PolicySet, deny_all\n"
                    f"policies = PolicySet(namespace='a').add({body})\n")
    return path


def test_prune_removes_only_files_it_wrote_that_are_no_longer_produced(tmp_path):
    out = tmp_path / "out"
    r = _render(out, _defs(tmp_path, "one", "two", "three"))
    assert r.exit_code == 0, r.output
    (out / "hand-written.yaml").write_text("kind: ConfigMap\n")
    (out / "README.md").write_text("generated\n")
    r = _render(out, _defs(tmp_path, "one", "four", stem="defs2"), "--prune")
    assert r.exit_code == 0, r.output
    assert _policy_files(out) == ["README.md", "a.four.yaml", "a.one.yaml", "hand-written.yaml"]
    assert "removed 2 stale files: a.three.yaml, a.two.yaml" in r.stderr
    assert read_record(out) == {
        "a.four.yaml": digest((out / "a.four.yaml").read_bytes()),
        "a.one.yaml": digest((out / "a.one.yaml").read_bytes()),
    }


def test_without_prune_stale_files_stay_and_a_later_prune_removes_them(tmp_path):
    out = tmp_path / "out"
    _render(out, _defs(tmp_path, "one", "two"))
    r = _render(out, _defs(tmp_path, "one", stem="b"))
    assert r.exit_code == 0 and _policy_files(out) == ["a.one.yaml", "a.two.yaml"]
    assert set(read_record(out)) == {"a.one.yaml", "a.two.yaml"}
    r = _render(out, _defs(tmp_path, "one", stem="c"), "--prune")
    assert r.exit_code == 0 and _policy_files(out) == ["a.one.yaml"]


def test_prune_keeps_a_stale_file_edited_by_hand(tmp_path):
    out = tmp_path / "out"
    _render(out, _defs(tmp_path, "one", "two"))
    (out / "a.two.yaml").write_text("# mine now\n" + (out / "a.two.yaml").read_text())
    r = _render(out, _defs(tmp_path, "one", stem="b"), "--prune")
    assert r.exit_code == 0, r.output
    assert _policy_files(out) == ["a.one.yaml", "a.two.yaml"]
    assert f"kept {out}/a.two.yaml: changed since netpol-dsl wrote it" in r.stderr
    assert set(read_record(out)) == {"a.one.yaml"}  # no longer ours: never pruned later


def test_prune_keeps_a_stale_name_that_is_now_a_symlink(tmp_path):
    out = tmp_path / "out"
    _render(out, _defs(tmp_path, "one", "two"))
    (tmp_path / "victim.yaml").write_bytes((out / "a.two.yaml").read_bytes())
    (out / "a.two.yaml").unlink()
    (out / "a.two.yaml").symlink_to(tmp_path / "victim.yaml")
    r = _render(out, _defs(tmp_path, "one", stem="b"), "--prune")
    assert r.exit_code == 0, r.output
    assert (out / "a.two.yaml").is_symlink() and (tmp_path / "victim.yaml").exists()
    assert "not a regular file" in r.stderr


def test_prune_across_formats(tmp_path):
    out = tmp_path / "out"
    _cli("render", PAYMENTS, "-o", str(out))
    r = _cli("render", PAYMENTS, "-o", str(out), "--format", "json", "--prune")
    assert r.exit_code == 0, r.output
    assert {Path(f).suffix for f in _policy_files(out)} == {".json"}
    assert len(_policy_files(out)) == 7


def test_policyset_write_prune(tmp_path):
    a = PolicySet(namespace="a").add(deny_all(), allow(pods(app="x")).to(pods(app="y")))
    a.write(tmp_path)
    (tmp_path / "mine.yaml").write_text("kind: ConfigMap\n")
    b = PolicySet(namespace="a").add(deny_all())
    assert [p.name for p in b.write(tmp_path, prune=True)] == ["a.default-deny-all.yaml"]
    assert _policy_files(tmp_path) == ["a.default-deny-all.yaml", "mine.yaml"]


def test_a_tampered_record_cannot_delete_outside_the_directory(tmp_path):
    out = tmp_path / "out"
    _render(out, _defs(tmp_path, "one"))
    victim = tmp_path / "victim.yaml"
    victim.write_text("x")
    data = json.loads((out / RECORD_NAME).read_text())
    data["files"]["../victim.yaml"] = digest(b"x")
    (out / RECORD_NAME).write_text(json.dumps(data))
    r = _render(out, _defs(tmp_path, "one"), "--prune")
    assert r.exit_code == 2
    assert "got file name '../victim.yaml'; expected a plain file name in this directory" in r.stderr
    assert victim.exists()


@pytest.mark.parametrize("content", ["not json", "[]", '{"version": 1}', '{"version": 2, "files": {}}',
                                     '{"version": 1, "files": {"a.yaml": 3}}'])
def test_an_unreadable_record_is_an_error_not_a_guess(tmp_path, content):
    (tmp_path / RECORD_NAME).write_text(content)
    with pytest.raises(RenderError, match=r"\.netpol-dsl-files: "):
        write_policies([_policy("x")], tmp_path, prune=True)
    assert not (tmp_path / "a.x.yaml").exists()


def test_the_record_is_deterministic_and_not_a_manifest(tmp_path):
    out = tmp_path / "out"
    _cli("render", PAYMENTS, "-o", str(out))
    first = (out / RECORD_NAME).read_bytes()
    _cli("render", PAYMENTS, "-o", str(out))
    assert (out / RECORD_NAME).read_bytes() == first
    # kubectl apply -f DIR reads only .json/.yaml/.yml files; the record has no such suffix
    assert Path(RECORD_NAME).suffix not in {".json", ".yaml", ".yml"}
    assert load_manifests(str(out)).skipped == {}
    # every YAML file is marked as generated by a comment, which changes no object
    for f in out.glob("*.yaml"):
        assert f.read_text().startswith(YAML_HEADER)
        assert yaml.safe_load(f.read_text())["kind"] == "NetworkPolicy"


def test_prune_needs_an_output_directory():
    r = _cli("render", PAYMENTS, "--prune")
    assert r.exit_code == 2
    assert r.stderr == "error: --prune: got no --output-dir; expected -o DIR (pruning removes stale files there)\n"


def test_names_differing_only_in_case_get_different_files(tmp_path):
    # "X" is refused by the API server but read with lenient_names; on macOS "a.X.yaml" and
    # "a.x.yaml" would be one file
    upper = _policy("X", lenient_names=True)
    lower = _policy("x")
    done = write_policies([upper, lower], tmp_path)
    assert len({p.name.casefold() for p in done.files}) == 2
    assert len(load_manifests(str(tmp_path), lenient_names=True).policies) == 2


def test_cluster_scoped_kinds_get_their_own_files(tmp_path):
    from netpol_dsl.model import AdminNetworkPolicy, BaselineAdminNetworkPolicy

    anp = AdminNetworkPolicy.model_validate({"metadata": {"name": "x"}, "spec": {
        "priority": 1, "subject": {"namespaces": {}}}})
    banp = BaselineAdminNetworkPolicy.model_validate({"metadata": {"name": "default"}, "spec": {
        "subject": {"namespaces": {}}}})
    # a namespace named like the kind, and a policy named like the object
    np = _policy("x", namespace="adminnetworkpolicy")
    done = write_policies([anp, banp, np], tmp_path)
    assert [p.name for p in done.files] == ["adminnetworkpolicy_x.yaml",
                                            "baselineadminnetworkpolicy_default.yaml",
                                            "adminnetworkpolicy.x.yaml"]
    assert (tmp_path / "adminnetworkpolicy_x.yaml").read_text().startswith(YAML_HEADER)
