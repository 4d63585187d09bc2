"""Shared setup for the evaluator tests owned here.

Test helper modules in this folder (``reference.py``, ``npguard.py``)
are imported as ``tests.evaluate.<name>``. pytest runs with ``--import-mode=importlib``, which
leaves ``sys.path`` alone, so the repository root is put on it here, once, for those imports.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
