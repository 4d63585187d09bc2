"""Pausing the cyclic garbage collector while big inputs are built."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import TypeVar

from typing_extensions import ParamSpec

__all__ = ["gc_paused"]

P = ParamSpec("P")
R = TypeVar("R")


def gc_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` with the cyclic collector off while it runs (and back on after, if it was).

    Loading and compiling 100k pods creates millions of container objects and no cycles worth
    collecting; the collector's repeated passes over them were a quarter of the build time.
    Reference counting still frees everything as usual.

    Example:
        >>> @gc_paused
        ... def build() -> bool:
        ...     return gc.isenabled()
        >>> build(), gc.isenabled()
        (False, True)
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        was = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was:
                gc.enable()

    return wrapper
