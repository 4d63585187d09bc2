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


def test_mypy_strict_clean(mypy):
    result = mypy("netpol_dsl")
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
    # every lazily exported name is in __all__, and every name in __all__ resolves
    assert set(names) == set(netpol_dsl._LAZY)
    for name in names:
        assert getattr(netpol_dsl, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = netpol_dsl.nope


def test_plugin_and_package_import_cheaply():
    # The pytest11 plugin is loaded by every pytest run in an environment that has netpol-dsl
    # installed, so importing it must not pull in pydantic, numpy or the library.
    code = (
        "import sys, pytest, netpol_dsl.pytest_plugin, netpol_dsl\n"
        "heavy = [m for m in ('pydantic', 'numpy', 'yaml', 'netpol_dsl.evaluate',"
        " 'netpol_dsl.model') if m in sys.modules]\n"
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"
