"""Static checks run as part of the test suite, so the README's one test command covers them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_clean():
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_clean():
    result = _run("mypy", "--strict", "netpol_dsl")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not (ROOT / "mkdocs.yml").exists(), reason="no mkdocs.yml yet")
def test_mkdocs_build_strict(tmp_path):
    if shutil.which("mkdocs") is None and os.environ.get("CI"):
        pytest.fail("mkdocs is not installed; `pip install -e '.[test]'` installs it")
    result = _run("mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_all_is_sorted_and_complete():
    import netpol_dsl

    names = netpol_dsl.__all__
    assert names == sorted(names)
    public = {n for n in vars(netpol_dsl) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(netpol_dsl, n)).__name__ == "module"}
    assert public - modules == set(names)
