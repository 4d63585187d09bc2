"""pytest plugin for intent tests (registered through the ``pytest11`` entry point).

It must import cheaply: nothing from netpol_dsl is imported until a test uses it.

- ``assert cluster.allows(...)`` (or ``assert not ...``) that fails gets the verdict's
  explanation appended to the assertion message.
- ``assert connections == expected`` between two ``ConnectionSet`` values shows what is missing
  and what is extra.
- The ``expect_reachability`` fixture returns ``netpol_dsl.evaluate.expect_reachability``, which
  checks a whole table of intended verdicts and reports every mismatch at once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator
from typing import Any

import pytest

__all__ = ["expect_reachability", "pytest_assertrepr_compare", "pytest_runtest_call"]

_VERDICT_MODULE = "netpol_dsl.evaluate.verdict"


def _truth_seq() -> int:
    mod = sys.modules.get(_VERDICT_MODULE)
    return int(mod._truth_seq[0]) if mod is not None else 0


def _explanations(message: str, since: int) -> list[str]:
    """Explanations of the verdicts tested for truth since ``since`` that the message shows."""
    mod = sys.modules.get(_VERDICT_MODULE)
    if mod is None:
        return []
    out: list[str] = []
    seen: set[int] = set()
    for seq, verdict in list(mod._TRUTH_LOG):
        if seq <= since or id(verdict) in seen:
            continue
        # pytest shows the verdict's repr (possibly cut short) in the assertion message.
        if repr(verdict)[:80] in message:
            seen.add(id(verdict))
            out.append(verdict.explain())
    return out


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """Append the explanation of a failed verdict assertion to its message.

    Example:
        >>> callable(pytest_runtest_call)
        True
    """
    since = _truth_seq()
    try:
        return (yield)
    except AssertionError as err:
        extra = _explanations(str(err), since)
        if extra:
            err.args = (str(err) + "\n\n" + "\n\n".join(extra), *err.args[1:])
        raise


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: Any, right: Any) -> list[str] | None:
    """Explain ``assert cluster.connections(a, b) == expected`` by what is missing or extra.

    Example:
        >>> pytest_assertrepr_compare(None, "==", 1, 2) is None
        True
    """
    mod = sys.modules.get("netpol_dsl.evaluate._connections")
    if mod is None or op != "==":
        return None
    cls = mod.ConnectionSet
    if not (isinstance(left, cls) and isinstance(right, cls)):
        return None
    return [
        f"{left} == {right}",
        f"only on the left: {left - right}",
        f"only on the right: {right - left}",
    ]


@pytest.fixture
def expect_reachability() -> Callable[..., None]:
    """``expect_reachability(cluster, {(src, dst, port): allowed, ...})``, as a fixture.

    Example:
        >>> expect_reachability.__name__
        'expect_reachability'
    """
    from netpol_dsl.evaluate import expect_reachability as check

    return check
