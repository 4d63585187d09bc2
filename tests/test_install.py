"""The README's editable install is usable by a user's type checker, outside the checkout."""

from __future__ import annotations

import importlib.metadata
import json
import os
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _editable_location() -> Path | None:
    """The checkout an editable install of netpol-dsl points at (PEP 610 direct_url.json)."""
    text = importlib.metadata.distribution("netpol-dsl").read_text("direct_url.json")
    info = json.loads(text) if text else {}
    if not info.get("dir_info", {}).get("editable"):
        return None
    return Path(urllib.parse.urlparse(info["url"]).path).resolve()


def test_installed_package_is_visible_to_mypy_from_outside_the_checkout(mypy, tmp_path):
    # The README installs with `pip install -e .`; a user then type-checks their own project,
    # somewhere else. setuptools' import-hook editable install is invisible to mypy ("Cannot find
    # implementation or library stub"); the .pth install that pyproject.toml asks for is not.
    user = tmp_path / "user_project.py"
    user.write_text(
        "from netpol_dsl import Cluster, allow, pods\n"
        "rule = allow(pods(app='a')).to(pods(app='b')).on(80)\n"
        "def check(c: Cluster) -> bool:\n"
        "    return bool(c.allows('a/x', 'b/y', 80))\n"
        # --strict warns about unused ignores: this one is used only if mypy sees real types.
        "allow(pods(app='a')).on(80)  # type: ignore[attr-defined]\n",
        encoding="utf-8",
    )
    # Nothing but the installation may tell mypy where the package is: no PYTHONPATH, no
    # MYPYPATH, and a working directory outside the checkout. A cache of its own unless the
    # installation is this checkout (another tree's modules would invalidate the shared cache).
    # The project's own mypy options (pyproject.toml's [tool.mypy]: strictness, error codes, the
    # pydantic plugin; nothing in it says where modules are) so that the cache entries
    # test_mypy_strict_clean wrote serve this run too: with other options mypy re-checks the
    # package, pydantic and numpy's stubs from cold (~6 CPU-s; 0.5 s with the cache).
    cache = os.environ["MYPY_CACHE_DIR"] + ("" if _editable_location() == ROOT else "-installed")
    result = mypy("--config-file", str(ROOT / "pyproject.toml"), str(user), cwd=tmp_path,
                  env={"PYTHONPATH": None, "MYPYPATH": None, "MYPY_CACHE_DIR": cache})
    assert result.returncode == 0, result.stdout + result.stderr
