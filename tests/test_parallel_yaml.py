"""Large texts are read by helper processes as well as this one (``_yaml._fast_docs_parallel``):
the result is what one process reads, document for document, line for line, error for error;
a helper that cannot start or fails leaves its piece to this process."""

from __future__ import annotations

import itertools
import random
import sys

import pytest

from netpol_dsl import LoadError, _yaml
from tests.test_fast_yaml import lines_by_path, same
from tests.yaml_texts import stream

pytestmark = pytest.mark.skipif(_yaml._ryml is None, reason="rapidyaml is not installed")


def long_stream(seed: int, docs: int = 60) -> str:
    """Many documents of every kind the fast-reading tests make: plain ones, ones the pre-scan
    sends the exact way, empty ones, comments."""
    rnd = random.Random(seed)
    parts: list[str] = []
    while len(parts) < docs:
        piece = stream(rnd, risk=rnd.choice([0.0, 0.05, 0.3]))
        try:
            _yaml.parse_exact(piece, "piece")
        except LoadError:
            continue  # an error is tested on its own below
        parts.append(piece)
        if rnd.random() < 0.1:
            parts.append("# only a comment\n")
    return "---\n".join(parts)


def read(text: str, *, parallel: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[str, object]:
    with monkeypatch.context() as m:
        m.setattr(_yaml, "FAST_MIN_CHARS", 0)
        m.setattr(_yaml, "PARALLEL_MIN_CHARS", 0 if parallel else 10**12)
        try:
            return "ok", _yaml.parse_yaml(text, "big.yaml")
        except LoadError as err:
            return "error", str(err)


def assert_same(a: tuple[str, object], b: tuple[str, object]) -> None:
    assert a[0] == b[0]
    if a[0] == "error":
        assert a[1] == b[1]
        return
    docs_a, docs_b = a[1], b[1]
    assert isinstance(docs_a, list) and isinstance(docs_b, list)
    assert len(docs_a) == len(docs_b)
    for x, y in zip(docs_a, docs_b, strict=True):
        assert same(x.data, y.data)
        assert x.line == y.line
        assert (x.located is None) == (y.located is None)
        if x.located is not None and y.located is not None:
            data_x, tables_x = x.located.tables()
            data_y, tables_y = y.located.tables()
            assert lines_by_path(data_x, tables_x) == lines_by_path(data_y, tables_y)
        else:
            assert lines_by_path(x.data, x.lines) == lines_by_path(y.data, y.lines)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The pieces this process reads itself."""
    pieces: list[tuple[int, int]] = []
    own = _yaml._fast_docs_piece

    def piece(text, starts, ends, a, b):  # type: ignore[no-untyped-def]
        pieces.append((a, b))
        return own(text, starts, ends, a, b)

    monkeypatch.setattr(_yaml, "_fast_docs_piece", piece)
    return pieces


@pytest.mark.parametrize("seed", [1, 2])
def test_helpers_read_what_one_process_reads(seed, monkeypatch, counted):
    monkeypatch.setenv(_yaml.WORKERS_ENV, "3")
    text = long_stream(seed)
    alone = read(text, parallel=False, monkeypatch=monkeypatch)
    assert counted == []
    assert alone[0] == "ok"
    kinds = {d.located is None for d in alone[1]}  # type: ignore[union-attr]
    assert kinds == {True, False}  # documents read both ways
    together = read(text, parallel=True, monkeypatch=monkeypatch)
    assert_same(together, alone)
    assert counted == [(0, counted[0][1])]  # the helpers read the other pieces


def test_an_error_in_a_helpers_piece_is_reported_as_one_process_reports_it(monkeypatch):
    monkeypatch.setenv(_yaml.WORKERS_ENV, "2")
    good = long_stream(3, docs=30)
    text = good + "---\nkey: [unclosed\n" + "---\n" + good
    alone = read(text, parallel=False, monkeypatch=monkeypatch)
    assert alone[0] == "error" and "big.yaml:" in str(alone[1])
    assert read(text, parallel=True, monkeypatch=monkeypatch) == alone
    dup = good + "---\na: 1\na: 2\n---\n" + good
    alone = read(dup, parallel=False, monkeypatch=monkeypatch)
    assert alone[0] == "error" and "duplicate" in str(alone[1])
    assert read(dup, parallel=True, monkeypatch=monkeypatch) == alone


@pytest.mark.parametrize("program", ["/bin/false", "/nonexistent/python"])
def test_a_helper_that_fails_leaves_its_piece_to_this_process(program, monkeypatch, counted):
    monkeypatch.setenv(_yaml.WORKERS_ENV, "3")
    monkeypatch.setattr(sys, "executable", program)
    text = long_stream(4)
    alone = read(text, parallel=False, monkeypatch=monkeypatch)
    assert alone[0] == "ok"
    together = read(text, parallel=True, monkeypatch=monkeypatch)
    assert_same(together, alone)
    assert len(counted) == 3 and counted[0][0] == 0  # every piece read here
    assert [b for _, b in counted[:-1]] == [a for a, _ in counted[1:]]


@pytest.mark.parametrize(("setting", "helpers"), [("1", 0), ("3", 2), ("0", 0), ("many", 0),
                                                  ("100", 15)])
def test_how_many_helpers(setting, helpers, monkeypatch):
    monkeypatch.setenv(_yaml.WORKERS_ENV, setting)
    assert _yaml._helpers() == helpers


@pytest.mark.parametrize(("cpus", "load", "helpers"), [
    (2, 0.0, 1), (2, 1.0, 1), (2, 1.4, 1), (2, 1.6, 0), (2, 5.0, 0),
    (8, 1.0, 3), (8, 6.0, 2), (8, 7.6, 0), (1, 0.0, 0)])
def test_by_default_one_process_per_idle_cpu_at_most_four(cpus, load, helpers, monkeypatch):
    import os

    monkeypatch.delenv(_yaml.WORKERS_ENV, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert _yaml._helpers() == helpers


def test_small_texts_stay_in_this_process(monkeypatch, counted):
    monkeypatch.setenv(_yaml.WORKERS_ENV, "3")
    monkeypatch.setattr(_yaml, "FAST_MIN_CHARS", 0)
    _yaml.parse_yaml(long_stream(5, docs=10), "small.yaml")  # far below PARALLEL_MIN_CHARS
    assert counted == []


def test_pieces_cover_the_documents_in_order():
    starts = list(range(0, 1000, 10))
    ends = [*starts[1:], 1000]
    for helpers in (1, 2, 3, 15):
        parts = _yaml._segments(starts, ends, helpers)
        assert len(parts) == helpers + 1
        assert parts[0][0] == 0 and parts[-1][1] == len(starts)
        assert all(a < b for a, b in parts)
        assert all(x[1] == y[0] for x, y in itertools.pairwise(parts))
    # this process takes a larger share: a helper first has to start and to receive its piece
    (a0, b0), (a1, b1) = _yaml._segments(starts, ends, 1)
    assert b0 - a0 > b1 - a1
    assert _yaml._segments([0, 5], [5, 10], 1) == [(0, 1), (1, 2)]


def test_helpers_run_this_package_not_one_in_the_working_directory(tmp_path, monkeypatch,
                                                                    counted):
    impostor = tmp_path / "netpol_dsl"
    impostor.mkdir()
    (impostor / "__init__.py").write_text("raise SystemExit(3)\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(_yaml.WORKERS_ENV, "2")
    text = long_stream(6)
    alone = read(text, parallel=False, monkeypatch=monkeypatch)
    assert_same(read(text, parallel=True, monkeypatch=monkeypatch), alone)
    assert len(counted) == 1  # the helper read its piece
