"""Run mypy --strict over the typing checks in this directory and over examples/."""

from __future__ import annotations


def test_dsl_typing_checks_pass_and_every_misuse_is_rejected(mypy):
    result = mypy("tests/typing/dsl_types.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_removing_an_ignore_surfaces_the_error(mypy, tmp_path):
    # Guard against a vacuous check: the same misuse without its ignore must fail.
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from netpol_dsl import allow, pods\n"
        "allow(pods(app='a')).on(8080)\n",
        encoding="utf-8",
    )
    result = mypy(str(bad))
    assert result.returncode == 1
    assert '"AllowFrom" has no attribute "on"' in result.stdout
