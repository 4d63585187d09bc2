"""Run mypy --strict over the typing checks in this directory and over examples/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _mypy(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", *paths],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )


def test_dsl_typing_checks_pass_and_every_misuse_is_rejected():
    result = _mypy("tests/typing/dsl_types.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_removing_an_ignore_surfaces_the_error(tmp_path):
    # Guard against a vacuous check: the same misuse without its ignore must fail.
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from netpol_dsl import allow, pods\n"
        "allow(pods(app='a')).on(8080)\n",
        encoding="utf-8",
    )
    result = _mypy(str(bad))
    assert result.returncode == 1
    assert '"AllowFrom" has no attribute "on"' in result.stdout
