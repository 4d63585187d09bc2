"""Shared setup for the cluster-wide policy tests.

Helper modules here (``strategies.py``, ``conformance/runner.py``) are imported as
``tests.clusterwide.<name>``; pytest runs with ``--import-mode=importlib``, which leaves
``sys.path`` alone, so the repository root is put on it here, once.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
