"""All pairs at once: every class pair's allowed atoms (or one atom), as array operations.

The answer for classes ``s -> d`` is ``egress[group(s)][d] & ingress[group(d)][s]``, where a
*side group* is a rule list (for ingress, with the subject's named-port profile).

1. **Rows and columns.** A source's row is fixed by its egress group, its host-network flag and
   which ingress rules admit it (the bits of the rules' peer vectors at that class); a
   destination's column by its ingress group, host-network flag, named-port profile and which
   egress rules admit it. Classes with the same key behave alike in every pair, so the table is
   computed once per distinct row and column, not per class. For one atom only the rules whose
   ports can match it count, which merges far more.
2. **Side tables.** For each group, its decision against every column (or row) representative.
   Representatives that none of the group's rules admit share one decision (per host-network
   flag); the others are folded once per distinct pattern of rule bits (``Engine.decisions``).
3. **Combine** the two sides block by block (through a table of every value combination).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from netpol_dsl.evaluate._ir import Direction

if TYPE_CHECKING:
    from netpol_dsl.evaluate._engine import Engine, Rule, RuleList

__all__ = ["Reduced", "all_pairs"]

IntArray = npt.NDArray[np.int64]


@dataclass
class Reduced:
    """``table[row_of[s], col_of[d]]`` is the value for classes ``s -> d``."""

    table: npt.NDArray[Any]
    row_of: IntArray
    col_of: IntArray


class _Group:
    """A side group: a rule list (its relevant rules) and the subject profile."""

    __slots__ = ("lst", "prof", "rules")

    def __init__(self, lst: RuleList, prof: int, rules: tuple[int, ...]) -> None:
        self.lst = lst
        self.prof = prof
        self.rules = rules


def _relevant(engine: Engine, atom: int | None) -> Callable[[Rule], bool]:
    """Whether a rule's ports can match ``atom`` (every rule when ``atom`` is None)."""
    if atom is None:
        return lambda rule: True
    proto = engine.atoms.spans[atom][0]

    def test(rule: Rule) -> bool:
        return bool((rule.numeric >> atom) & 1) or any(
            p is None or p == proto for _, p in rule.named)

    return test


def _groups(engine: Engine, direction: Direction, relevant: Callable[[Rule], bool]
            ) -> tuple[IntArray, list[_Group]]:
    """Each class's side group: its rule list reduced to the relevant rules (and the subject's
    named-port profile for ingress)."""
    lists = engine.in_list if direction == "ingress" else engine.eg_list
    prof_list = engine.class_prof_list
    rules = engine.rules
    by_list: dict[int, tuple[int, ...]] = {}
    keys: dict[tuple[Any, ...], int] = {}
    group_of = np.empty(engine.n, dtype=np.int64)
    groups: list[_Group] = []
    for c in range(engine.n):
        lst = lists[c]
        kept = by_list.get(lst.id)
        if kept is None:
            kept = by_list[lst.id] = tuple(r for r in lst.all if relevant(rules[r]))
        named = any(rules[r].named for r in kept)
        prof = prof_list[c] if direction == "ingress" and named else 0
        # lists that differ only in rules that cannot match decide alike (rule ids fix their
        # tiers and actions; isolation still counts)
        key: tuple[Any, ...] = ((lst.id, prof) if len(kept) == len(lst.all)
                                else (kept, lst.isolated, prof))
        g = keys.get(key)
        if g is None:
            g = keys[key] = len(groups)
            groups.append(_Group(lst, prof, kept))
        group_of[c] = g
    return group_of, groups


def _admitted(engine: Engine, rule_ids: Sequence[int], classes: IntArray | None
              ) -> dict[int, IntArray]:
    """For each rule, the positions (in ``classes``, or all classes) its peers admit."""
    out = {}
    for r in rule_ids:
        vec = engine.rules[r].vec
        out[r] = np.flatnonzero(vec if classes is None else vec[classes])
    return out


def _number(columns: Sequence[npt.NDArray[Any]], n: int) -> tuple[IntArray, IntArray]:
    """Number the distinct rows of the byte columns ``columns`` (each ``[n, k]``); return each
    item's number and the first item of each number."""
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    parts = [np.ascontiguousarray(c).view(np.uint8).reshape(n, -1) for c in columns]
    sig = np.ascontiguousarray(np.concatenate(parts, axis=1))
    if sig.shape[1] == 0:
        return np.zeros(n, dtype=np.int64), np.zeros(1, dtype=np.int64)
    keys = sig.view(np.dtype((np.void, sig.shape[1]))).reshape(-1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), first.astype(np.int64)


def _partition(engine: Engine, own: IntArray, other_rules: Sequence[int], named: bool
               ) -> tuple[IntArray, IntArray]:
    """Rows (or columns): classes numbered by (own group, host-network flag, [named-port
    profile], which of the other direction's rules admit them)."""
    n = engine.n
    cols: list[npt.NDArray[Any]] = [own.astype(np.int64)[:, None],
                                    engine.class_hn.astype(np.uint8)[:, None]]
    if named:
        cols.append(engine.class_prof.astype(np.int64)[:, None])
    # the admitting rules of each class, hashed exactly: bits packed in chunks of rules
    for r0 in range(0, len(other_rules), 2048):
        block = np.stack([engine.rules[r].vec for r in other_rules[r0:r0 + 2048]])
        cols.append(np.packbits(block, axis=0).T)
    return _number(cols, n)


def _side(engine: Engine, direction: Direction, groups: list[_Group], reps: IntArray,
          value: Callable[[int], int], dtype: Any) -> npt.NDArray[Any]:
    """``[group, representative]``: each group's decision against each representative class
    (as the other end), as values."""
    from netpol_dsl.evaluate._engine import _NO_PEER, Other

    hn = engine.class_hn[reps]
    prof = engine.class_prof[reps]
    prof_list = prof.tolist()
    hn_list = hn.tolist()
    rep_list = reps.tolist()
    admitted = _admitted(engine, sorted({r for g in groups for r in g.rules}), reps)
    out = np.empty((len(groups), reps.size), dtype=dtype)
    hn_i = hn.astype(np.int64)
    for gi, g in enumerate(groups):
        lst, sprof = g.lst, g.prof
        # representatives no rule of the group admits: one decision per host-network flag
        defaults = np.asarray([value(engine.decisions(lst, Other(-1, bool(f), 0, _NO_PEER),
                                                      sprof).allowed) for f in (0, 1)])
        out[gi] = defaults[hn_i]
        if not g.rules:
            continue
        idx = [admitted[r] for r in g.rules]
        touched = np.unique(np.concatenate(idx)) if idx else np.zeros(0, dtype=np.int64)
        if touched.size == 0:
            continue
        cols: list[npt.NDArray[Any]] = [np.packbits(
            np.stack([engine.rules[r].vec[reps[touched]] for r in g.rules]), axis=0).T]
        if direction == "egress" and any(engine.rules[r].named for r in g.rules):
            cols.append(prof[touched].astype(np.int64)[:, None])
        if lst.isolated:
            cols.append(hn[touched].astype(np.uint8)[:, None])
        number, first = _number(cols, touched.size)
        vals = np.empty(first.size, dtype=np.int64)
        for u, i in enumerate(first.tolist()):
            j = int(touched[i])
            other = Other(rep_list[j], hn_list[j], prof_list[j])
            p = sprof if direction == "ingress" else prof_list[j]
            vals[u] = value(engine.decisions(lst, other, p).allowed)
        out[gi, touched] = vals[number]
    return out


def all_pairs(engine: Engine, value: Callable[[int], int],
              combine: Callable[[npt.NDArray[Any], npt.NDArray[Any]], npt.NDArray[Any]],
              dtype: Any, atom: int | None = None, side_dtype: Any = np.int32,
              block_cells: int = 8_000_000) -> Reduced:
    """Every (row, column) of distinct source and destination behaviours, combined; with
    ``atom``, for that atom only (only the rules whose ports can match it count)."""
    relevant = _relevant(engine, atom)
    e_group, e_groups = _groups(engine, "egress", relevant)
    i_group, i_groups = _groups(engine, "ingress", relevant)
    e_rules = sorted({r for g in e_groups for r in g.rules})
    i_rules = sorted({r for g in i_groups for r in g.rules})
    named = any(engine.rules[r].named for r in e_rules)
    row_of, rows = _partition(engine, e_group, i_rules, False)
    col_of, cols = _partition(engine, i_group, e_rules, named)
    e_side = _side(engine, "egress", e_groups, cols, value, side_dtype)   # [group, column]
    i_side = _side(engine, "ingress", i_groups, rows, value, side_dtype)  # [group, row]
    e_rows = e_group[rows]
    i_cols = i_group[cols]
    table = np.empty((rows.size, cols.size), dtype=dtype)
    block = max(1, block_cells // max(cols.size, 1))
    for r0 in range(0, rows.size, block):
        r = slice(r0, min(rows.size, r0 + block))
        table[r] = combine(e_side[e_rows[r]], i_side[:, r][i_cols].T)
    return Reduced(table, row_of, col_of)
