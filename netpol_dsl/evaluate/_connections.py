"""ConnectionSet: a set of (protocol, port) pairs, kept as merged port ranges per protocol."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from netpol_dsl.errors import DslUsageError

__all__ = ["MAX_PORT", "PROTOCOLS", "ConnectionSet"]

#: The protocols a NetworkPolicy can name (``NetworkPolicyPort.protocol``), in display order.
PROTOCOLS: tuple[str, ...] = ("TCP", "UDP", "SCTP")
MAX_PORT = 65535

Ranges = tuple[tuple[int, int], ...]
_FULL: Ranges = ((1, MAX_PORT),)


def _merge(ranges: Iterable[tuple[int, int]]) -> Ranges:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def _intersect(a: Ranges, b: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _subtract(a: Ranges, b: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    for lo, hi in a:
        for b_lo, b_hi in b:
            if b_hi < lo or b_lo > hi:
                continue
            if b_lo > lo:
                out.append((lo, b_lo - 1))
            lo = b_hi + 1
            if lo > hi:
                break
        if lo <= hi:
            out.append((lo, hi))
    return tuple(out)


def _check_protocol(protocol: str) -> str:
    if protocol not in PROTOCOLS:
        msg = f"got protocol={protocol!r}; expected one of 'TCP', 'UDP', 'SCTP'"
        raise DslUsageError(msg)
    return protocol


class ConnectionSet:
    """An immutable set of connections: for each protocol, the ports allowed.

    Port sets are stored as sorted, merged, inclusive ranges. ``str()`` gives ``"all"``, ``"none"``
    or a list such as ``"TCP 80,8080-8090; UDP 53"``. ``|`` is union, ``&`` intersection and ``-``
    difference.

    Example:
        >>> web = ConnectionSet.of("TCP", 80) | ConnectionSet.of("TCP", 8080, 8090)
        >>> str(web | ConnectionSet.of("UDP", 53))
        'TCP 80,8080-8090; UDP 53'
        >>> web.allows("TCP", 8085), web.allows("UDP", 80)
        (True, False)
        >>> str(ConnectionSet.all() & web), str(ConnectionSet.none())
        ('TCP 80,8080-8090', 'none')
    """

    __slots__ = ("_hash", "_ranges")

    def __init__(self, ranges: Mapping[str, Iterable[tuple[int, int]]] | None = None) -> None:
        """Build a set from ``{protocol: [(first, last), ...]}`` (inclusive ranges, any order).

        Example:
            >>> str(ConnectionSet({"UDP": [(53, 53)], "TCP": [(81, 90), (80, 80)]}))
            'TCP 80-90; UDP 53'
        """
        data: dict[str, Ranges] = {}
        for proto, items in (ranges or {}).items():
            _check_protocol(proto)
            checked = []
            for lo, hi in items:
                if not (1 <= lo <= hi <= MAX_PORT):
                    msg = f"got port range {lo}-{hi}; expected 1 <= first <= last <= {MAX_PORT}"
                    raise DslUsageError(msg)
                checked.append((lo, hi))
            merged = _merge(checked)
            if merged:
                data[proto] = merged
        self._ranges: Mapping[str, Ranges] = MappingProxyType(
            {p: data[p] for p in PROTOCOLS if p in data}
        )
        self._hash: int | None = None

    # ------------------------------------------------------------------ constructors

    @classmethod
    def all(cls) -> ConnectionSet:
        """Every port of every protocol.

        Example:
            >>> ConnectionSet.all().is_all
            True
        """
        return _ALL

    @classmethod
    def none(cls) -> ConnectionSet:
        """No connection at all.

        Example:
            >>> ConnectionSet.none().is_empty
            True
        """
        return _NONE

    @classmethod
    def of(cls, protocol: str, port: int | None = None, end_port: int | None = None) -> ConnectionSet:
        """One protocol: every port (``port`` None), one port, or ``port..end_port``.

        Example:
            >>> str(ConnectionSet.of("SCTP")), str(ConnectionSet.of("TCP", 8000, 8100))
            ('SCTP 1-65535', 'TCP 8000-8100')
        """
        _check_protocol(protocol)
        if port is None:
            return cls({protocol: _FULL})
        return cls({protocol: [(port, port if end_port is None else end_port)]})

    @classmethod
    def _trusted(cls, data: Mapping[str, Ranges]) -> ConnectionSet:
        obj = cls.__new__(cls)
        obj._ranges = MappingProxyType({p: data[p] for p in PROTOCOLS if data.get(p)})
        obj._hash = None
        return obj

    # ------------------------------------------------------------------ queries

    @property
    def ranges(self) -> Mapping[str, Ranges]:
        """``{protocol: ((first, last), ...)}``, sorted and merged; empty protocols left out.

        Example:
            >>> dict(ConnectionSet.of("UDP", 53).ranges)
            {'UDP': ((53, 53),)}
        """
        return self._ranges

    @property
    def is_all(self) -> bool:
        """True when every port of TCP, UDP and SCTP is in the set.

        Example:
            >>> ConnectionSet.of("TCP").is_all
            False
        """
        return all(self._ranges.get(p) == _FULL for p in PROTOCOLS)

    @property
    def is_empty(self) -> bool:
        """True when the set holds no connection.

        Example:
            >>> (ConnectionSet.of("TCP", 80) & ConnectionSet.of("TCP", 81)).is_empty
            True
        """
        return not self._ranges

    def allows(self, protocol: str, port: int) -> bool:
        """Whether ``protocol``/``port`` is in the set.

        Example:
            >>> ConnectionSet.of("TCP", 80, 90).allows("TCP", 85)
            True
        """
        for lo, hi in self._ranges.get(protocol, ()):
            if port < lo:
                return False
            if port <= hi:
                return True
        return False

    def ports(self, protocol: str) -> Ranges:
        """The port ranges of one protocol (empty when none).

        Example:
            >>> ConnectionSet.of("TCP", 80).ports("UDP")
            ()
        """
        return self._ranges.get(protocol, ())

    # ------------------------------------------------------------------ algebra

    def __or__(self, other: object) -> ConnectionSet:
        if not isinstance(other, ConnectionSet):
            return NotImplemented
        if self.is_empty or other.is_all:
            return other
        if other.is_empty or self.is_all:
            return self
        return ConnectionSet._trusted({
            p: _merge(self.ports(p) + other.ports(p)) for p in PROTOCOLS
        })

    def __and__(self, other: object) -> ConnectionSet:
        if not isinstance(other, ConnectionSet):
            return NotImplemented
        if self.is_all or other.is_empty:
            return other
        if other.is_all or self.is_empty:
            return self
        return ConnectionSet._trusted({
            p: _intersect(self.ports(p), other.ports(p)) for p in PROTOCOLS
        })

    def __sub__(self, other: object) -> ConnectionSet:
        if not isinstance(other, ConnectionSet):
            return NotImplemented
        if other.is_empty:
            return self
        return ConnectionSet._trusted({
            p: _subtract(self.ports(p), other.ports(p)) for p in PROTOCOLS
        })

    def difference(self, *others: ConnectionSet) -> ConnectionSet:
        """The connections of this set that are in none of ``others``.

        Example:
            >>> str(ConnectionSet.of("TCP", 80, 90).difference(ConnectionSet.of("TCP", 85)))
            'TCP 80-84,86-90'
            >>> str(ConnectionSet.all() - ConnectionSet.of("TCP"))
            'UDP 1-65535; SCTP 1-65535'
        """
        out = self
        for o in others:
            out = out - o
        return out

    def union(self, *others: ConnectionSet) -> ConnectionSet:
        """The union of this set and ``others``.

        Example:
            >>> str(ConnectionSet.of("TCP", 80).union(ConnectionSet.of("TCP", 81)))
            'TCP 80-81'
        """
        out = self
        for o in others:
            out = out | o
        return out

    def intersection(self, *others: ConnectionSet) -> ConnectionSet:
        """The intersection of this set and ``others``.

        Example:
            >>> str(ConnectionSet.of("TCP").intersection(ConnectionSet.of("TCP", 443)))
            'TCP 443'
        """
        out = self
        for o in others:
            out = out & o
        return out

    # ------------------------------------------------------------------ dunder

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConnectionSet):
            return NotImplemented
        return dict(self._ranges) == dict(other._ranges)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(sorted(self._ranges.items())))
        return self._hash

    def __bool__(self) -> bool:
        return bool(self._ranges)

    def __str__(self) -> str:
        if self.is_all:
            return "all"
        if self.is_empty:
            return "none"
        parts = []
        for proto, ranges in self._ranges.items():
            text = ",".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)
            parts.append(f"{proto} {text}")
        return "; ".join(parts)

    def __repr__(self) -> str:
        return f"ConnectionSet({str(self)!r})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form: ``{protocol: [[first, last], ...]}``.

        Example:
            >>> ConnectionSet.of("TCP", 80).to_dict()
            {'TCP': [[80, 80]]}
        """
        return {p: [list(r) for r in rs] for p, rs in self._ranges.items()}


_ALL = ConnectionSet({p: _FULL for p in PROTOCOLS})
_NONE = ConnectionSet()
