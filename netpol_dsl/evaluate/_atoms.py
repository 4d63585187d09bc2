"""Port atoms: the ranges of ports on which every rule of a cluster gives the same answer.

Every rule's numeric ports and every number a named port resolves to cut the port space of its
protocol; between two consecutive cuts no rule can tell two ports apart. A set of connections is
then a boolean vector over atoms, and all-pairs connection sets are array operations.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt

from netpol_dsl.evaluate._connections import MAX_PORT, PROTOCOLS, ConnectionSet

__all__ = ["Atoms"]

BoolArray = npt.NDArray[np.bool_]


class Atoms:
    """The atoms of the port space, numbered protocol by protocol in ``PROTOCOLS`` order.

    Args:
        cuts: per protocol, ports at which a new atom starts (1 is always one).

    Example:
        >>> a = Atoms({"TCP": [80, 81]})
        >>> a.n, a.index("TCP", 80), a.index("TCP", 8080), a.index("UDP", 53)
        (5, 1, 2, 3)
        >>> str(a.to_connections(a.mask([("TCP", 80, 80), ("UDP", 1, 65535)])))
        'TCP 80; UDP 1-65535'
    """

    __slots__ = ("_bounds", "_offset", "_starts", "n", "spans")

    def __init__(self, cuts: Mapping[str, Iterable[int]] | None = None) -> None:
        """Number the atoms cut at ``cuts`` (see the class docstring)."""
        cuts = cuts or {}
        self._starts: dict[str, list[int]] = {}
        self._offset: dict[str, int] = {}
        #: (protocol, first, last) of every atom, by atom number
        self.spans: list[tuple[str, int, int]] = []
        for proto in PROTOCOLS:
            starts = sorted({1} | {c for c in cuts.get(proto, ()) if 1 <= c <= MAX_PORT})
            self._starts[proto] = starts
            self._offset[proto] = len(self.spans)
            ends = [*starts[1:], MAX_PORT + 1]
            self.spans.extend((proto, lo, hi - 1) for lo, hi in zip(starts, ends, strict=True))
        self.n = len(self.spans)
        self._bounds = {p: (self._offset[p], self._offset[p] + len(self._starts[p]))
                        for p in PROTOCOLS}

    def index(self, protocol: str, port: int) -> int:
        """The atom that holds ``protocol``/``port``.

        Example:
            >>> Atoms({"UDP": [53, 54]}).index("UDP", 53)  # TCP 1-65535, UDP 1-52, UDP 53
            2
        """
        return self._offset[protocol] + bisect_right(self._starts[protocol], port) - 1

    def mask(self, ranges: Iterable[tuple[str, int, int]]) -> BoolArray:
        """The atoms inside ``(protocol, first, last)`` ranges; each range must fall on cuts.

        Example:
            >>> Atoms({"TCP": [80, 90]}).mask([("TCP", 80, 89)]).tolist()
            [False, True, False, False, False]
        """
        out = np.zeros(self.n, dtype=bool)
        for proto, first, last in ranges:
            out[self.index(proto, first):self.index(proto, last) + 1] = True
        return out

    def protocol_mask(self, protocol: str) -> BoolArray:
        """Every atom of one protocol.

        Example:
            >>> Atoms().protocol_mask("UDP").tolist()
            [False, True, False]
        """
        out = np.zeros(self.n, dtype=bool)
        lo, hi = self._bounds[protocol]
        out[lo:hi] = True
        return out

    def to_connections(self, mask: BoolArray) -> ConnectionSet:
        """The connections a mask of atoms stands for.

        Example:
            >>> a = Atoms({"TCP": [80, 81]})
            >>> str(a.to_connections(np.ones(a.n, dtype=bool)))
            'all'
        """
        if mask.all():
            return ConnectionSet.all()
        ranges: dict[str, list[tuple[int, int]]] = {}
        for i in np.flatnonzero(mask).tolist():
            proto, lo, hi = self.spans[i]
            ranges.setdefault(proto, []).append((lo, hi))
        return ConnectionSet._trusted({p: _merged(r) for p, r in ranges.items()})

    def __repr__(self) -> str:
        return f"<Atoms {self.n}>"


def _merged(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for lo, hi in ranges:  # already sorted and disjoint
        if out and out[-1][1] + 1 == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)
