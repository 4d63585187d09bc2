"""Shared helpers for the CLI tests: a runner, the repo root as cwd, and golden files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netpol_dsl.cli import app

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "cli"
LESSON = "tests/fixtures/cli/lesson"


@pytest.fixture
def run(monkeypatch):
    """Run ``netpol ARGS...`` from the repository root; returns the click Result."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("NETPOL_DEBUG", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def golden():
    """Compare text with ``tests/golden/cli/NAME``; NETPOL_UPDATE_GOLDEN=1 rewrites it."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if os.environ.get("NETPOL_UPDATE_GOLDEN"):
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"missing golden file {path}; run with NETPOL_UPDATE_GOLDEN=1"
        assert text == path.read_text(encoding="utf-8")

    return check
