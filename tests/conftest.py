"""Suite-wide setup: hypothesis profiles, and every cache kept out of the checkout.

Hypothesis profiles (``HYPOTHESIS_PROFILE=<name>`` or ``pytest --hypothesis-profile=<name>``):

- ``ci`` (the default, and what CI runs): derandomized, no example database, no deadline and no
  timing health check, so a run is the same every time and on every machine; each test runs its
  own fixed number of examples.
- ``long``: random exploration with ten times the examples (``tests.strategies.budget`` scales
  the tests that set their own count) and a database that replays failures on the next run.
  Use it to look for new bugs: ``HYPOTHESIS_PROFILE=long python -m pytest tests -n 2``.

The suite runs on two xdist workers (``-n 2`` in pyproject.toml); pass ``-n 0`` to run in one
process, which ``--pdb`` and seeing output with ``-s`` need. Tests marked
``@pytest.mark.heavy(seconds)`` (the few that take seconds each) are started first on every
worker, spread so that the workers' shares of them are about equal (``pytest_collection_modifyitems``
below); the others follow in collection order and work stealing evens out the end.

Nothing a test run caches lands in the checkout: hypothesis' storage (database, constants
cache), mypy's and ruff's caches go to ``$NETPOL_TEST_CACHE`` (default: a per-checkout folder in
the user's cache directory), through the environment, so the subprocesses that the quality,
typing and docs tests start use it too.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import py_compile
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

import netpol_dsl

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs may then overlap, which is only slower
    fcntl = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent
# Tests import their shared helpers as ``tests.<module>`` (``tests.strategies``); with
# ``--import-mode=importlib`` pytest leaves sys.path alone, so the checkout goes on it here.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from tests._caches import CACHE  # noqa: E402 - sets the tools' cache variables first

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    # too_slow is a timing check: on a shared 2-core machine it would make the suite flaky.
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    derandomize=False,
    max_examples=1000,
    database=DirectoryBasedExampleDatabase(CACHE / "hypothesis" / "examples"),
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection(session: pytest.Session) -> None:
    """Import the whole public API before collecting.

    pytester's in-process runs (the plugin tests) put sys.modules back as it was before each
    run. A module first imported inside one run would be imported again in the next, and then
    numpy refuses ("cannot load module more than once per process") and the library's classes
    are new objects (a NetworkPolicy from the first import is not one of the second). So the
    whole public API is imported here, once, so no inner run is the first to import it, whatever
    order the tests run in (one file alone, or on an xdist worker). Only processes that run
    tests collect: the xdist controller, which only reports, does not pay for the import.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") == "gw1":
        _write_bytecode_last_file_first(session.config)
    for name in netpol_dsl.__all__:
        getattr(netpol_dsl, name)


def _write_bytecode_last_file_first(config: pytest.Config) -> None:
    """Write the bytecode of the files collection imports, last file first (second worker only).

    Both xdist workers import every module while collecting, in the same order, so on a fresh
    checkout (as on CI) both compiled every file, test modules with pytest's assertion rewriting
    (~3 CPU-s each). Going the other way, this worker writes the bytecode the other reaches
    last, and each then finds what the other wrote: about half the compiling each. Nothing is
    imported here: the bytecode is what pytest's import hook (test modules, conftests) or Python
    (other modules) would write, through their own functions; a cached file that is already
    valid is left alone. If pytest's internals differ (another version), nothing is done.
    """
    if sys.dont_write_bytecode:  # PYTHONDONTWRITEBYTECODE: nothing is written, nothing to share
        return
    try:
        from _pytest.assertion.rewrite import (
            PYC_TAIL,
            _read_pyc,
            _rewrite_test,
            _write_pyc,
            assertstate_key,
            get_cache_dir,
        )

        state = config.stash[assertstate_key]
    except (ImportError, KeyError):
        return
    rewritten = [*config.getini("python_files"), "conftest.py"]
    files = sorted(p for where in config.getini("testpaths") for p in (ROOT / where).rglob("*.py")
                   if "__pycache__" not in p.parts)
    for path in reversed(files):
        try:
            if any(fnmatch.fnmatch(path.name, pattern) for pattern in rewritten):
                pyc = get_cache_dir(path) / (path.name[:-3] + PYC_TAIL)
                if _read_pyc(path, pyc, state.trace) is None:
                    get_cache_dir(path).mkdir(exist_ok=True)
                    source, code = _rewrite_test(path, config)
                    _write_pyc(state, code, source, pyc)
            else:
                cached = Path(importlib.util.cache_from_source(str(path)))
                if not cached.exists() or cached.stat().st_mtime < path.stat().st_mtime:
                    py_compile.compile(str(path), cfile=str(cached), doraise=True)
        except Exception:  # an optimisation only: collection compiles what is left
            continue


@pytest.fixture(scope="session")
def once_per_run(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Callable[[str, Callable[[Path], subprocess.CompletedProcess[str]]],
              tuple[subprocess.CompletedProcess[str], Path]]:
    """``once_per_run(name, build)``: ``build(folder)`` run once per test run, its result shared.

    Under xdist the first worker to ask runs it (under a lock, in the run's temporary directory
    that all workers share) and records the completed process; the others wait for it and read
    the record. Returns ``(result, folder)``; ``folder`` is where ``build`` could write files.
    """

    def run(name: str, build: Callable[[Path], subprocess.CompletedProcess[str]]
            ) -> tuple[subprocess.CompletedProcess[str], Path]:
        if worker_id == "master" or fcntl is None:
            where = tmp_path_factory.mktemp(name)
            return build(where), where
        shared = tmp_path_factory.getbasetemp().parent  # this run's, common to its workers
        where, record = shared / name, shared / f"{name}.json"
        with open(shared / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not record.exists():
                where.mkdir(exist_ok=True)
                result = build(where)
                record.write_text(json.dumps([result.args, result.returncode, result.stdout,
                                              result.stderr]), encoding="utf-8")
        args, code, out, err = json.loads(record.read_text(encoding="utf-8"))
        return subprocess.CompletedProcess(args, code, out, err), where

    return run


@pytest.fixture(scope="session")
def mypy_package(once_per_run: Callable[..., tuple[subprocess.CompletedProcess[str], Path]]
                 ) -> subprocess.CompletedProcess[str]:
    """``mypy --strict netpol_dsl``, run once per test run (shared by the xdist workers).

    It fills the shared mypy cache (``$MYPY_CACHE_DIR``) with the whole package checked under
    the project's options; the ``mypy`` fixture waits for it, so every other mypy run in the
    suite (the typing checks, the examples, the installed package) reads the package from that
    cache instead of checking it, pydantic and numpy's stubs again from cold.
    """
    result, _ = once_per_run("mypy-package", lambda _where: _mypy_run("netpol_dsl"))
    return result


def _mypy_run(*args: str, cwd: Path = ROOT,
              env: Mapping[str, str | None] | None = None) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    CACHE.mkdir(parents=True, exist_ok=True)
    # one mypy at a time: two runs writing one cache would each check everything from cold
    with open(CACHE / "mypy.lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        return subprocess.run([sys.executable, "-m", "mypy", "--strict", *args], cwd=cwd,
                              env=environ, capture_output=True, text=True, check=False)


@pytest.fixture(scope="session")
def mypy(mypy_package: subprocess.CompletedProcess[str]
         ) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``mypy --strict ARGS...`` (in the checkout unless ``cwd=`` is given), one at a time.

    The package check (``mypy_package``) has run first and filled the shared cache, and xdist
    workers take turns (an advisory lock in the cache directory), so no two runs check the
    package from a cold cache. ``env=`` adds or (with ``None``) removes variables.
    """
    return _mypy_run


def _heavy_seconds(item: pytest.Item) -> float:
    mark = item.get_closest_marker("heavy")
    return float(mark.args[0]) if mark is not None and mark.args else 0.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, put the ``heavy`` tests at the head of every worker's initial share.

    ``--dist worksteal`` hands worker *i* the *i*-th contiguous slice of the collection, and an
    idle worker steals from the end of another's queue; a long test left near the end of a
    queue would then run alone while the other worker waits. So the heavy tests are dealt out
    first (longest first, each to the worker with the least so far) and placed at the front of
    their worker's slice; the remaining tests keep their order. Every worker computes the same
    order (xdist requires it), and outside xdist nothing changes. (The other ``--dist`` modes
    schedule by file or scope whatever the order, or send every test everywhere.)
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))  # set in xdist workers only
    if workers < 2:
        return
    heavy = sorted((it for it in items if _heavy_seconds(it) > 0),
                   key=_heavy_seconds, reverse=True)
    if not heavy:
        return
    bins: list[list[pytest.Item]] = [[] for _ in range(workers)]
    load = [0.0] * workers
    for item in heavy:
        i = load.index(min(load))
        bins[i].append(item)
        load[i] += _heavy_seconds(item)
    chosen = {id(it) for it in heavy}
    light = [it for it in items if id(it) not in chosen]
    ordered: list[pytest.Item] = []
    remaining = len(items)
    for i, share in enumerate(bins):
        size = remaining // (workers - i)  # the slice xdist's worksteal sends worker i
        take = max(0, size - len(share))
        ordered += share + light[:take]
        del light[:take]
        remaining -= size
    ordered += light
    items[:] = ordered
