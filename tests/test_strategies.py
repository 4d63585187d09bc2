"""The shared strategies generate what they promise, and the suite's hypothesis settings hold.

A wrong strategy makes every property built on it vacuous or, as with IPv4 excepts inside an IPv6
block, fails at random; the profiles live in ``tests/conftest.py``.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.strategies import cidrs, ip_blocks  # noqa: E402


def _check(block) -> None:
    net = ipaddress.ip_network(block.cidr)
    for text in block.except_ or ():
        sub = ipaddress.ip_network(text)
        assert sub.version == net.version, f"{text} is not in the family of {block.cidr}"
        assert sub.subnet_of(net) and sub != net, f"{text} is not a strict subset of {block.cidr}"


@given(ip_blocks(st.sampled_from(["::/1", "::/0", "0.0.0.0/1", "::/120"])))
def test_ip_block_excepts_keep_the_family_of_low_networks(block):
    # Regression: `ip_network((0, 2))` is the IPv4 0.0.0.0/2, so `::/1` got IPv4 excepts.
    _check(block)


@given(ip_blocks())
def test_ip_block_excepts_are_strict_subsets_in_the_same_family(block):
    _check(block)


@given(cidrs())
def test_cidrs_are_canonical(text):
    assert str(ipaddress.ip_network(text)) == text


def test_default_profile_is_reproducible():
    # CI and a plain `pytest` run the same examples every time, and remember nothing between runs.
    ci = settings.get_profile("ci")
    assert ci.derandomize and ci.database is None and ci.deadline is None
    if os.environ.get("HYPOTHESIS_PROFILE", "ci") == "ci":
        assert settings.default.derandomize and settings.default.database is None


def test_long_profile_explores_and_remembers():
    long = settings.get_profile("long")
    assert not long.derandomize and long.max_examples > settings.get_profile("ci").max_examples
    assert long.database is not None


def test_nothing_the_tools_cache_lands_in_the_checkout():
    from hypothesis.configuration import storage_directory

    where = {
        "hypothesis": storage_directory("examples", intent_to_write=False).path,
        "mypy": Path(os.environ["MYPY_CACHE_DIR"]),
        "ruff": Path(os.environ["RUFF_CACHE_DIR"]),
    }
    inside = {k: p for k, p in where.items() if p.resolve().is_relative_to(ROOT)}
    assert not inside, f"caches inside the checkout: {inside}"


def _seed_codec_tables(storage: Path) -> set[Path]:
    """Copy hypothesis' cached Unicode codec tables from this run's storage into ``storage``.

    Each table costs a fresh process ~2 CPU-s to compute (every code point encoded) before it
    can draw ``st.text()``; the suite's storage has them once any test has drawn text. Returns
    the files copied (none when hypothesis keeps them elsewhere; the script then computes them).
    """

    @settings(max_examples=1, database=None)
    @given(st.text(max_size=1))
    def draw_text(_text: str) -> None:  # makes sure this process has written the tables
        pass

    draw_text()
    ours = Path(os.environ["HYPOTHESIS_STORAGE_DIRECTORY"])
    copied = set()
    for table in ours.glob("unicode_data/*/codec-*"):
        target = storage / table.relative_to(ours)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(table, target)
        copied.add(target)
    return copied


def test_the_fuzz_script_keeps_hypothesis_state_out_of_its_working_directory(tmp_path):
    # scripts/fuzz.py draws policies with the suite's strategies outside pytest: its hypothesis
    # storage goes where the suite's does, not into a .hypothesis/ where it runs (the checkout)
    script = ROOT / "scripts" / "fuzz.py"
    code = (f"import runpy; m = runpy.run_path({str(script)!r}, run_name='fuzz'); "
            "assert len(m['_policies'](2, 1)) == 2")
    env = {**os.environ, "NETPOL_TEST_CACHE": str(tmp_path / "cache")}
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)  # as when run by hand
    seeded = _seed_codec_tables(tmp_path / "cache" / "hypothesis")
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run([sys.executable, "-c", code], cwd=work, env=env, check=True)
    assert not (work / ".hypothesis").exists()
    written = {f for f in (tmp_path / "cache" / "hypothesis").rglob("*") if f.is_file()}
    assert written - seeded, "the script wrote nothing to NETPOL_TEST_CACHE"
