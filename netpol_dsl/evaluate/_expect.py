"""expect_reachability: a table of intended verdicts, checked all at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from netpol_dsl.errors import DslUsageError
from netpol_dsl.evaluate.verdict import Verdict

__all__ = ["expect_reachability"]


class _Allows(Protocol):
    def allows(self, src: Any, dst: Any, port: int | str,
               protocol: str | None = None) -> Verdict: ...


def _split(key: object) -> tuple[Any, Any, int | str, str | None]:
    if not isinstance(key, tuple) or len(key) not in (3, 4):
        msg = (f"expect_reachability(): got key {key!r}; expected (src, dst, port) or "
               "(src, dst, port, protocol)")
        raise DslUsageError(msg)
    protocol = key[3] if len(key) == 4 else None
    return key[0], key[1], key[2], protocol


def expect_reachability(
    cluster: _Allows,
    expectations: Mapping[tuple[Any, ...], bool] | Iterable[tuple[tuple[Any, ...], bool]],
) -> None:
    """Check a table of intended verdicts and report every mismatch at once.

    Args:
        cluster: a ``Cluster``.
        expectations: ``{(src, dst, port): allowed, ...}``; a key may add a protocol as a fourth
            item. Ends are anything ``Cluster.allows`` takes.

    Raises:
        AssertionError: listing every expectation that does not hold, each with its explanation.

    Example:
        >>> from netpol_dsl.evaluate import Cluster, Pod
        >>> c = Cluster(pods=[Pod("a", "web"), Pod("a", "api")])
        >>> expect_reachability(c, {("a/web", "a/api", 8080): True})
        >>> expect_reachability(c, {("a/web", "a/api", 8080): False, ("a/api", "a/web", 53, "UDP"): True})
        Traceback (most recent call last):
        ...
        AssertionError: 1 of 2 reachability expectations failed:
        <BLANKLINE>
        1. expected DENIED, got ALLOWED: a/web -> a/api on TCP 8080
             egress from a/web: allowed: not isolated (no policy in namespace a selects it for egress)
             ingress to a/api: allowed: not isolated (no policy in namespace a selects it for ingress)
    """
    # pytest leaves this frame out of a failure's traceback, so the report starts at the user's
    # call and its message, not at this function's source.
    __tracebackhide__ = True
    items = list(expectations.items() if isinstance(expectations, Mapping) else expectations)
    failures: list[str] = []
    for key, expected in items:
        if not isinstance(expected, bool):
            msg = f"expect_reachability(): got {key!r}: {expected!r}; expected True or False"
            raise DslUsageError(msg)
        src, dst, port, protocol = _split(key)
        verdict = cluster.allows(src, dst, port, protocol)
        # Ends that stand for several pods: allowed means every pair, denied means none; a
        # mixed answer satisfies neither.
        if not (verdict.all() if expected else verdict.none()):
            want = "ALLOWED" if expected else "DENIED"
            lines = verdict.explain().splitlines()
            body = "\n".join("   " + line for line in lines[1:])
            failures.append(f"{len(failures) + 1}. expected {want}, got {lines[0]}\n{body}")
    if failures:
        head = f"{len(failures)} of {len(items)} reachability expectations failed:"
        raise AssertionError(head + "\n\n" + "\n\n".join(failures))
