"""Which tier decided a connection: a read of the engine's fold (``Folded.parts``).

For one side of a connection (the source's egress or the destination's ingress), the fold says,
per port atom, which rule decided: an admin or baseline rule, a NetworkPolicy rule, the implicit
deny of NetworkPolicy isolation, or nothing (the default: allowed). This module sorts those
decisions by tier, so pictures can say which tier decided each edge:

- an **allowed** connection was decided by the tiers whose rules allowed it on either side; a side
  where nothing decided (the default) counts only when neither side had a deciding rule, so a
  NetworkPolicy allowing ingress to a pod nothing restricts on egress is ``networkpolicy``, and
  a pair no policy touches is ``default``. A Pass is never a decision: it hands over to the tier
  that then decides;
- a **denied** connection was decided by the tiers that denied it: an admin or baseline Deny, or
  NetworkPolicy isolation (``networkpolicy``). A side that allowed it does not count.

The tiers come back in precedence order (``TIER_NAMES``).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from netpol_dsl.evaluate._engine import DEFAULT, ISOLATED, Engine, Folded, Other, RuleList

__all__ = ["TIER_NAMES", "DecidingTiers", "deciding_tiers"]

#: The tiers a connection can be decided by, in precedence order.
TIER_NAMES: tuple[str, ...] = ("admin", "networkpolicy", "baseline", "default")
_DEFAULT_TIER = 3


@dataclass(frozen=True, slots=True)
class DecidingTiers:
    """Which tiers decided the connections between two endpoints (see the module docstring).

    Attributes:
        allowed: the tiers that decided the allowed connections, in precedence order.
        denied: the tiers that denied the others (never ``default``).

    Example:
        >>> t = DecidingTiers(("networkpolicy",), ("admin",))
        >>> t.allowed, t.denied
        (('networkpolicy',), ('admin',))
    """

    allowed: tuple[str, ...] = ()
    denied: tuple[str, ...] = ()


class _End(Protocol):
    """What this module reads of one end (``cluster._End``)."""

    @property
    def key(self) -> str | None: ...
    @property
    def cls(self) -> int: ...
    @property
    def view(self) -> Other: ...
    @property
    def egress(self) -> RuleList | None: ...
    @property
    def ingress(self) -> RuleList | None: ...


class _Reader:
    """Tier masks per folded side and tier bits per class pair, cached for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sides: dict[int, tuple[Folded, tuple[int, int, int, int]]] = {}
        self._pairs: dict[tuple[int, int], tuple[int, int, int, int, int, int, int, int, int, int]] = {}

    def side(self, folded: Folded) -> tuple[int, int, int, int]:
        """The atoms each tier decided on one side (admin, networkpolicy, baseline, default)."""
        found = self._sides.get(id(folded))
        if found is not None and found[0] is folded:
            return found[1]
        rules = self.engine.rules
        masks = [0, 0, 0, 0]
        for code, cells in folded.parts:
            if code >= 0:
                masks[rules[code].tier] |= cells
            elif code == ISOLATED:
                masks[1] |= cells  # the implicit deny of NetworkPolicy isolation
            else:
                assert code == DEFAULT
                masks[_DEFAULT_TIER] |= cells
        out = (masks[0], masks[1], masks[2], masks[3])
        self._sides[id(folded)] = (folded, out)
        return out

    def sides(self, s: _End, d: _End) -> tuple[int, int, int, int, int, int, int, int, int, int]:
        """Both sides' allowed atoms and tier masks: ``(eg_allowed, in_allowed, *eg, *in)``."""
        key = (s.cls, d.cls)
        pod_pair = s.cls >= 0 and d.cls >= 0
        if pod_pair:
            found = self._pairs.get(key)
            if found is not None:
                return found
        eng = self.engine
        full = eng.atoms.full
        prof = d.view.profile
        if s.egress is not None:
            eg = eng.decisions(s.egress, d.view, prof)
            eg_allowed, eg_m = eg.allowed, self.side(eg)
        else:  # not a pod: no policy applies on this side
            eg_allowed, eg_m = full, (0, 0, 0, full)
        if d.ingress is not None:
            ing = eng.decisions(d.ingress, s.view, prof)
            in_allowed, in_m = ing.allowed, self.side(ing)
        else:
            in_allowed, in_m = full, (0, 0, 0, full)
        out = (eg_allowed, in_allowed, *eg_m, *in_m)
        if pod_pair:
            self._pairs[key] = out
        return out


_READERS: weakref.WeakKeyDictionary[Engine, _Reader] = weakref.WeakKeyDictionary()


def _reader(engine: Engine) -> _Reader:
    found = _READERS.get(engine)
    if found is None:
        found = _READERS[engine] = _Reader(engine)
    return found


def deciding_tiers(engine: Engine, sources: Sequence[_End], destinations: Sequence[_End],
                   interest: Sequence[int | None]) -> DecidingTiers:
    """The tiers that decided every pair of ``sources`` x ``destinations`` (a pod with itself
    excluded), over the atoms in ``interest`` (one mask per destination; None: skip it).

    Example:
        >>> from netpol_dsl.evaluate import Cluster, Pod
        >>> c = Cluster(pods=[Pod("a", "x"), Pod("a", "y")])
        >>> c.deciding_tiers("a/x", "a/y")
        DecidingTiers(allowed=('default',), denied=())
    """
    reader = _reader(engine)
    allowed_bits = denied_bits = 0
    # pods of one class decide alike: one of each, plus every pod that is also a destination
    # (its pair with itself is left out, so another pod of its class may still count)
    keys = {d.key for d in destinations if d.key is not None}
    by_class: dict[int, _End] = {}
    ends: list[_End] = []
    for s in sources:
        if s.cls < 0 or s.key in keys:
            ends.append(s)
        elif s.cls not in by_class:
            by_class[s.cls] = s
    ends.extend(by_class.values())
    seen: set[tuple[int, int, int]] = set()
    for di, d in enumerate(destinations):
        atoms = interest[di]
        if atoms is None:
            continue
        for s in ends:
            if s.key is not None and s.key == d.key:
                continue  # a pod always reaches itself; no tier decides that
            if s.cls >= 0 and d.cls >= 0:
                if (s.cls, d.cls, atoms) in seen:
                    continue
                seen.add((s.cls, d.cls, atoms))
            eg_allowed, in_allowed, *masks = reader.sides(s, d)
            eg_m, in_m = masks[:4], masks[4:]
            ok = eg_allowed & in_allowed & atoms
            no = atoms & ~ok
            for t in range(3):
                if (eg_m[t] | in_m[t]) & ok:
                    allowed_bits |= 1 << t
                if (eg_m[t] & no & ~eg_allowed) | (in_m[t] & no & ~in_allowed):
                    denied_bits |= 1 << t
            if eg_m[_DEFAULT_TIER] & in_m[_DEFAULT_TIER] & ok:
                allowed_bits |= 1 << _DEFAULT_TIER
    return DecidingTiers(tuple(n for t, n in enumerate(TIER_NAMES) if allowed_bits >> t & 1),
                         tuple(n for t, n in enumerate(TIER_NAMES) if denied_bits >> t & 1))
