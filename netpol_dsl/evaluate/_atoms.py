"""Port atoms: the ranges of ports on which every rule of a cluster gives the same answer.

Every rule's numeric ports and every number a named port resolves to cut the port space of its
protocol; between two consecutive cuts no rule can tell two ports apart. A set of connections is
then a bit mask over atoms (a Python int: atom ``i`` is bit ``i``), and set operations on
connections are integer operations.
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
        >>> bin(a.mask([("TCP", 80, 80), ("UDP", 1, 65535)]))
        '0b1010'
        >>> str(a.to_connections(a.mask([("TCP", 80, 80), ("UDP", 1, 65535)])))
        'TCP 80; UDP 1-65535'
    """

    __slots__ = ("_bounds", "_offset", "_starts", "full", "n", "spans")

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
        #: every atom
        self.full = (1 << self.n) - 1
        self._bounds = {p: (self._offset[p], self._offset[p] + len(self._starts[p]))
                        for p in PROTOCOLS}

    def index(self, protocol: str, port: int) -> int:
        """The atom that holds ``protocol``/``port``.

        Example:
            >>> Atoms({"UDP": [53, 54]}).index("UDP", 53)  # TCP 1-65535, UDP 1-52, UDP 53
            2
        """
        return self._offset[protocol] + bisect_right(self._starts[protocol], port) - 1

    def mask(self, ranges: Iterable[tuple[str, int, int]]) -> int:
        """The atoms inside ``(protocol, first, last)`` ranges; each range must fall on cuts.

        Example:
            >>> bin(Atoms({"TCP": [80, 90]}).mask([("TCP", 80, 89)]))
            '0b10'
        """
        out = 0
        for proto, first, last in ranges:
            lo, hi = self.index(proto, first), self.index(proto, last)
            out |= ((1 << (hi - lo + 1)) - 1) << lo
        return out

    def protocol_mask(self, protocol: str) -> int:
        """Every atom of one protocol.

        Example:
            >>> bin(Atoms().protocol_mask("UDP"))
            '0b10'
        """
        lo, hi = self._bounds[protocol]
        return ((1 << (hi - lo)) - 1) << lo

    def to_connections(self, mask: int) -> ConnectionSet:
        """The connections a mask of atoms stands for.

        Example:
            >>> a = Atoms({"TCP": [80, 81]})
            >>> str(a.to_connections(a.full)), str(a.to_connections(0b10))
            ('all', 'TCP 80')
        """
        if mask == self.full:
            return ConnectionSet.all()
        ranges: dict[str, list[tuple[int, int]]] = {}
        i = 0
        while mask:
            if mask & 1:
                proto, lo, hi = self.spans[i]
                ranges.setdefault(proto, []).append((lo, hi))
            mask >>= 1
            i += 1
        return ConnectionSet._trusted({p: _merged(r) for p, r in ranges.items()})

    def to_array(self, mask: int) -> BoolArray:
        """The mask as a boolean vector over atoms.

        Example:
            >>> Atoms().to_array(0b101).tolist()
            [True, False, True]
        """
        return np.asarray([(mask >> i) & 1 for i in range(self.n)], dtype=bool)

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
