"""The progress display: only on a terminal, only for work that takes a while."""

from __future__ import annotations

import io
import sys
import time

from netpol_dsl import cli


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_for_slow_work(monkeypatch):
    fake = _Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    monkeypatch.setattr(cli, "_PROGRESS_DELAY", 0.05)
    with cli._progress("loading the inventory"):
        time.sleep(0.5)
    assert "loading the inventory" in fake.getvalue()


def test_progress_stays_quiet_for_quick_work(monkeypatch):
    fake = _Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    with cli._progress("loading the inventory"):
        pass
    assert "loading the inventory" not in fake.getvalue()


def test_progress_never_shows_off_a_terminal(monkeypatch):
    fake = io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    monkeypatch.setattr(cli, "_PROGRESS_DELAY", 0.0)
    with cli._progress("loading the inventory"):
        time.sleep(0.2)
    assert fake.getvalue() == ""
