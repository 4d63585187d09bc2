"""Where test tools keep their state: outside the checkout, one folder per checkout.

Imported (before hypothesis writes anything) by ``tests/conftest.py`` and by scripts that use
the suite's strategies outside pytest (``scripts/fuzz.py``), so neither leaves a ``.hypothesis/``
(database, constants cache), ``.mypy_cache/`` or ``.ruff_cache/`` in the checkout.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """``$NETPOL_TEST_CACHE``, or a per-checkout folder in the user's cache directory."""
    if explicit := os.environ.get("NETPOL_TEST_CACHE"):
        return Path(explicit)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "netpol-dsl-tests" / hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]


CACHE = cache_dir()
# setdefault: a developer's own choice wins. Each tool reads its variable when it first writes,
# and the subprocesses the tests start inherit them.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(CACHE / "hypothesis"))
os.environ.setdefault("MYPY_CACHE_DIR", str(CACHE / "mypy"))
os.environ.setdefault("RUFF_CACHE_DIR", str(CACHE / "ruff"))
