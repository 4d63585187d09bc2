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

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from netpol_dsl.evaluate._ir import Direction

if TYPE_CHECKING:
    from netpol_dsl.evaluate._engine import Engine, Rule, RuleList

__all__ = ["PodTable", "Reduced", "Spans", "all_pairs"]

IntArray = npt.NDArray[np.int64]


def _not_combined(e: npt.NDArray[Any], i: npt.NDArray[Any]) -> npt.NDArray[Any]:
    msg = "a Reduced table read before its combine was given (Reduced.with_sides)"
    raise AssertionError(msg)


class Reduced:
    """``value(s, d)`` for classes ``s -> d`` is ``table[row_of[s], col_of[d]]``.

    Kept factored: the table's cell ``(r, c)`` is ``combine(e_side[e_rows[r], c],
    i_side[i_cols[c], r])`` (the source's egress decision against the destination's column,
    the destination's ingress decision against the source's row). ``table`` materialises it
    (block by block, once); ``cells``, ``row`` and ``column`` read it without doing so, which
    is what keeps a 100k-pod cluster's one-port matrix small.
    """

    def __init__(self, row_of: IntArray, col_of: IntArray, e_side: npt.NDArray[Any],
                 e_rows: IntArray, i_side: npt.NDArray[Any], i_cols: IntArray,
                 combine: Callable[[npt.NDArray[Any], npt.NDArray[Any]], npt.NDArray[Any]] | None,
                 dtype: Any, block_cells: int = 8_000_000) -> None:
        self.row_of = row_of
        self.col_of = col_of
        #: ``[egress group, column]`` and ``[ingress group, row]`` decisions; ``e_rows`` (``i_cols``)
        #: is each row's (column's) group
        self.e_side, self._e_rows = e_side, e_rows
        self.i_side, self._i_cols = i_side, i_cols
        self._combine = combine if combine is not None else _not_combined
        self._dtype = dtype
        self._block_cells = block_cells
        self._table: npt.NDArray[Any] | None = None
        self.shape = (int(e_rows.size), int(i_cols.size))

    @classmethod
    def dense(cls, table: npt.NDArray[Any], row_of: IntArray, col_of: IntArray) -> Reduced:
        """A table already made."""
        empty = np.zeros(0, dtype=np.int64)
        out = cls(row_of, col_of, table[:0], empty, table[:0], empty, np.logical_and, table.dtype)
        out._table = table
        out.shape = (int(table.shape[0]), int(table.shape[1]))
        return out

    def with_sides(self, e_side: npt.NDArray[Any], i_side: npt.NDArray[Any],
                   combine: Callable[[npt.NDArray[Any], npt.NDArray[Any]], npt.NDArray[Any]],
                   dtype: Any) -> Reduced:
        """The same rows and columns with other side values and ``combine``."""
        return Reduced(self.row_of, self.col_of, e_side, self._e_rows, i_side, self._i_cols,
                       combine, dtype, self._block_cells)

    def mapped(self, fn: Callable[[npt.NDArray[Any]], npt.NDArray[Any]], dtype: Any) -> Reduced:
        """``fn`` applied to every cell (kept factored)."""
        if self._table is not None:
            return Reduced.dense(fn(self._table), self.row_of, self.col_of)
        combine = self._combine

        def both(e: npt.NDArray[Any], i: npt.NDArray[Any]) -> npt.NDArray[Any]:
            out: npt.NDArray[Any] = fn(combine(e, i))
            return out

        return self.with_sides(self.e_side, self.i_side, both, dtype)

    def cells(self, rows: IntArray, cols: IntArray) -> npt.NDArray[Any]:
        """The cells ``(rows[k], cols[k])`` (arrays of one shape, broadcast).

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> red = Cluster(pods=[Pod("a", "x"), Pod("b", "y")]).matrix(port=80).reduced
            >>> red.cells(np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64)).tolist()
            [True, True]
        """
        if self._table is not None:
            out: npt.NDArray[Any] = self._table[rows, cols]
            return out
        return self._combine(self.e_side[self._e_rows[rows], cols],
                             self.i_side[self._i_cols[cols], rows])

    def row(self, r: int) -> npt.NDArray[Any]:
        """Row ``r`` over every column.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> red = Cluster(pods=[Pod("a", "x"), Pod("b", "y")]).matrix(port=80).reduced
            >>> red.row(0).tolist()
            [True]
        """
        if self._table is not None:
            out: npt.NDArray[Any] = self._table[r]
            return out
        return self._combine(self.e_side[self._e_rows[r]], self.i_side[self._i_cols, r])

    def column(self, c: int) -> npt.NDArray[Any]:
        """Column ``c`` over every row.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> red = Cluster(pods=[Pod("a", "x"), Pod("b", "y")]).matrix(port=80).reduced
            >>> red.column(0).tolist()
            [True]
        """
        if self._table is not None:
            return self._table[:, c]
        return self._combine(self.e_side[self._e_rows, c], self.i_side[self._i_cols[c]])

    def blocks(self) -> Iterator[tuple[slice, npt.NDArray[Any]]]:
        """The table a block of rows at a time (``(rows, block)``), without keeping it.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> red = Cluster(pods=[Pod("a", "x"), Pod("b", "y")]).matrix(port=80).reduced
            >>> [(r, b.tolist()) for r, b in red.blocks()]
            [(slice(0, 1, None), [[True]])]
        """
        n_rows, n_cols = self.shape
        if self._table is not None:
            yield slice(0, n_rows), self._table
            return
        step = max(1, self._block_cells // max(n_cols, 1))
        for r0 in range(0, n_rows, step):
            r = slice(r0, min(n_rows, r0 + step))
            yield r, self._combine(self.e_side[self._e_rows[r]], self.i_side[:, r][self._i_cols].T)

    @property
    def table(self) -> npt.NDArray[Any]:
        """The whole table (made on first use).

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> red = Cluster(pods=[Pod("a", "x"), Pod("b", "y")]).matrix(port=80).reduced
            >>> red.table.shape, red.shape
            ((1, 1), (1, 1))
        """
        if self._table is None:
            table = np.empty(self.shape, dtype=self._dtype)
            for r, block in self.blocks():
                table[r] = block
            self._table = table
        return self._table


class Spans:
    """Groups of row (or column) indices laid end to end, so that a block of cells read against
    all of them at once can be summed up per group.

    Example:
        >>> sp = Spans([np.array([0, 1]), np.array([2])])
        >>> block = np.array([[5, 5, 7], [5, 6, 7]])
        >>> [x.tolist() for x in sp.bounds(block)], sp.part(block, 0).tolist()
        ([[5, 7], [6, 7]], [[5, 5], [5, 6]])
    """

    def __init__(self, groups: Sequence[IntArray]) -> None:
        self.flat: IntArray = (np.concatenate(groups) if groups
                               else np.zeros(0, dtype=np.int64))
        self.sizes = [len(g) for g in groups]
        self.starts: IntArray = np.cumsum([0, *self.sizes])[:-1].astype(np.int64)

    def bounds(self, block: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
        """Per group, the least and the greatest cell of ``block`` (its columns follow
        ``flat``): a group whose two are equal holds one value throughout."""
        return (np.minimum.reduceat(block.min(axis=0), self.starts),
                np.maximum.reduceat(block.max(axis=0), self.starts))

    def part(self, block: npt.NDArray[Any], j: int) -> npt.NDArray[Any]:
        """The columns of ``block`` that belong to group ``j``."""
        start = int(self.starts[j])
        return block[:, start:start + self.sizes[j]]


class PodTable:
    """Every ordered pod pair, looked up through a (factored) table: pod ``i`` is row
    ``row_index[i]`` and column ``column_index[i]``. The common part of ``Matrix`` and
    ``Connectivity``."""

    #: what the error for an unknown pod names (``matrix``, ``connectivity``)
    _what = "table"

    def __init__(self, pods: Sequence[str], rows: IntArray, columns: IntArray,
                 table: npt.NDArray[Any] | Reduced) -> None:
        self.pods = tuple(pods)
        self._rows = rows
        self._cols = columns
        self._red = table if isinstance(table, Reduced) else Reduced.dense(
            table, np.arange(table.shape[0]), np.arange(table.shape[1]))
        self._index_map: dict[str, int] | None = None

    @property
    def _index(self) -> dict[str, int]:
        """Each pod key's position in ``pods`` (made on first use)."""
        if self._index_map is None:
            self._index_map = {p: i for i, p in enumerate(self.pods)}
        return self._index_map

    @property
    def reduced(self) -> Reduced:
        """The factored table (see ``table``): ``cells``, ``row``, ``column`` and ``blocks``
        read it without making the whole table.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> m = Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).matrix(port=80)
            >>> bool(m.reduced.cells(m.row_index[0], m.column_index[1]))
            True
        """
        return self._red

    @property
    def row_index(self) -> IntArray:
        """Each pod's row in ``table`` (in ``pods`` order).

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).connectivity().row_index.tolist()
            [0, 0]
        """
        return self._rows

    @property
    def column_index(self) -> IntArray:
        """Each pod's column in ``table`` (in ``pods`` order).

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x")]).matrix(port=80).column_index.tolist()
            [0]
        """
        return self._cols

    def _i(self, pod: object) -> int:
        key = getattr(pod, "key", pod)
        try:
            return self._index[key]  # type: ignore[index]
        except KeyError:
            from netpol_dsl.errors import UnknownEndpointError

            msg = (f"{self._what}: got pod {key!r}; expected one of the cluster's pods "
                   "('namespace/name')")
            raise UnknownEndpointError(msg) from None


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
    rules = engine.rules
    list_of = np.fromiter((lst.id for lst in lists), dtype=np.int64, count=engine.n)
    present, inverse = np.unique(list_of, return_inverse=True)
    inverse = inverse.reshape(-1)
    is_relevant = [relevant(r) for r in rules]
    base_of: dict[tuple[Any, ...], int] = {}
    bases: list[tuple[RuleList, tuple[int, ...]]] = []
    base = np.empty(present.size, dtype=np.int64)
    by_prof = np.zeros(present.size, dtype=bool)  # ingress lists with named ports: per profile
    for u, lid in enumerate(present.tolist()):
        lst = engine.rule_lists[lid]
        kept = tuple(r for r in lst.all if is_relevant[r])
        # lists that differ only in rules that cannot match decide alike (rule ids fix their
        # tiers and actions; isolation still counts)
        key: tuple[Any, ...] = (lst.id,) if len(kept) == len(lst.all) else (kept, lst.isolated)
        found = base_of.get(key)
        if found is None:
            found = base_of[key] = len(bases)
            bases.append((lst, kept))
        base[u] = found
        by_prof[u] = direction == "ingress" and any(rules[r].named for r in kept)
    prof = np.where(by_prof[inverse], engine.class_prof, 0)
    group_of = _renumber(base[inverse] * (len(engine.profiles) + 1) + prof)
    groups: list[_Group] = []
    for c in _first(group_of).tolist():
        lst, kept = bases[int(base[inverse[c]])]
        groups.append(_Group(lst, int(prof[c]), kept))
    return group_of, groups


def _renumber(key: IntArray) -> IntArray:
    """Number the distinct values of ``key`` 0, 1, ... (in sorted order)."""
    _, inverse = np.unique(key, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


def _refine(label: IntArray, columns: Sequence[IntArray], n: int, held: bool = True
            ) -> tuple[IntArray, list[IntArray]]:
    """Split the numbering ``label`` (over ``n`` items) by membership in each of ``columns``
    (index arrays): items keep one number iff they had one and are in the same columns. Also
    returns, per column, the numbers it holds (whole parts, by construction), ascending
    (with ``held`` False, maybe an empty list instead).

    Exact. Many columns: each item's columns are summed as random 64-bit weights (one pass),
    and the partition that gives is checked against every column (each column must hold all
    of a part or none of it); only if a sum collided, the columns are packed as bits beside
    the number a few dozen at a time (one sort per few dozen columns).
    """
    if n == 0:
        return label, [label[:0] for _ in columns]
    width = 62 - n.bit_length()  # numbers stay below n: number << width fits in 62 bits
    if len(columns) > width:
        found = _refine_hashed(label, columns, n)
        if found is not None:
            return found
    for c0 in range(0, len(columns), width):
        bits = np.zeros(n, dtype=np.int64)
        for j, idx in enumerate(columns[c0:c0 + width]):
            bits[idx] |= np.int64(1) << j
        label = _renumber((label << width) | bits)
    if not held:
        return label, []
    mark = np.zeros(int(label.max()) + 1, dtype=bool)
    parts = []
    for idx in columns:
        mark[label[idx]] = True
        got = np.flatnonzero(mark)
        mark[got] = False
        parts.append(got)
    return label, parts


def _refine_hashed(label: IntArray, columns: Sequence[IntArray], n: int
                   ) -> tuple[IntArray, list[IntArray]] | None:
    """``_refine`` by summed random weights, verified; None if the sums merged two parts."""
    weights = np.random.default_rng(0x6E70).integers(1, 1 << 62, size=len(columns),
                                                       dtype=np.int64).astype(np.uint64)
    total = np.zeros(n, dtype=np.uint64)
    for w, idx in zip(weights.tolist(), columns, strict=True):
        total[idx] += np.uint64(w)  # wraps modulo 2**64
    number = _renumber(label * np.int64(n) + _renumber(total.view(np.int64)))
    sizes = np.bincount(number)
    parts = sizes.size
    held = []
    for idx in columns:
        if idx.size == 0:
            held.append(idx)
            continue
        hit = number[idx]
        if idx.size * 8 > parts:
            counts = np.bincount(hit, minlength=parts)
            got = np.flatnonzero(counts)
            ok = bool(np.all(counts[got] == sizes[got]))
        else:
            got, counts = np.unique(hit, return_counts=True)
            ok = bool(np.all(counts == sizes[got]))
        if not ok:  # pragma: no cover - a 64-bit collision
            return None
        held.append(got)
    return number, held


def _first(label: IntArray) -> IntArray:
    """The first item of each number (numbers 0..k-1 all present)."""
    _, first = np.unique(label, return_index=True)
    return first.astype(np.int64)


def _partition(engine: Engine, own: IntArray, other_rules: Sequence[int], named: bool
               ) -> tuple[IntArray, IntArray, dict[int, IntArray]]:
    """Rows (or columns): classes numbered by (own group, host-network flag, [named-port
    profile], which of the other direction's rules admit them); each class's number, the
    first class of each number, and per rule of ``other_rules`` the numbers it admits (a
    number's classes are all admitted or none, so these are where the rule's bit is set in
    a side table over the first classes)."""
    key = own.astype(np.int64) * 2 + engine.class_hn.astype(np.int64)
    if named:
        key = key * (len(engine.profiles) + 1) + engine.class_prof.astype(np.int64)
    # rules that share a peer vector share its index array: refine by each array once
    slot: dict[int, int] = {}
    columns: list[IntArray] = []
    where = []
    for r in other_rules:
        idx = engine.admitted(engine.rules[r])
        k = slot.setdefault(id(idx), len(columns))
        if k == len(columns):
            columns.append(idx)
        where.append(k)
    label, held = _refine(_renumber(key), columns, engine.n)
    return label, _first(label), {r: held[k] for r, k in zip(other_rules, where, strict=True)}


def _side(engine: Engine, direction: Direction, groups: list[_Group], reps: IntArray,
          held: Mapping[int, IntArray], value: Callable[[int], int], dtype: Any
          ) -> npt.NDArray[Any]:
    """``[group, representative]``: each group's decision against each representative class
    (as the other end), as values; ``held``: each rule's admitted representatives, as
    positions in ``reps`` (``_partition``)."""
    from netpol_dsl.evaluate._engine import _NO_PEER, Other

    hn = engine.class_hn[reps]
    prof = engine.class_prof[reps]
    prof_list = prof.tolist()
    hn_list = hn.tolist()
    rep_list = reps.tolist()
    # representatives no rule of a group admits: one decision per host-network flag
    defaults = np.asarray([[value(engine.decisions(g.lst, Other(-1, bool(f), 0, _NO_PEER),
                                                   g.prof).allowed) for f in (0, 1)]
                           for g in groups], dtype=np.int64).reshape(len(groups), 2)
    out = np.empty((len(groups), reps.size), dtype=dtype)
    out[:] = defaults[:, :1]
    hn_pos = np.flatnonzero(hn)
    if hn_pos.size:
        out[:, hn_pos] = defaults[:, 1:]
    seen = np.zeros(reps.size, dtype=bool)
    local = np.full(reps.size, -1, dtype=np.int64)
    for gi, g in enumerate(groups):
        lst, sprof = g.lst, g.prof
        if not g.rules:
            continue
        idx = [held[r] for r in g.rules]
        for i in idx:
            seen[i] = True
        touched = np.flatnonzero(seen)
        seen[touched] = False
        if touched.size == 0:
            continue
        key = np.zeros(touched.size, dtype=np.int64)
        if direction == "egress" and any(engine.rules[r].named for r in g.rules):
            key = prof[touched].astype(np.int64)
        if lst.isolated:
            key = key * 2 + hn[touched]
        number = _renumber(key) if key.any() else key
        if len(idx) > 1:  # one rule admits every touched representative: nothing to split
            local[touched] = np.arange(touched.size)
            number, _ = _refine(number, [local[i] for i in idx], touched.size, held=False)
            local[touched] = -1
        first = _first(number) if number.any() else np.zeros(1, dtype=np.int64)
        vals = np.empty(first.size, dtype=np.int64)
        for u, i in enumerate(first.tolist()):
            j = int(touched[i])
            other = Other(rep_list[j], hn_list[j], prof_list[j])
            p = sprof if direction == "ingress" else prof_list[j]
            vals[u] = value(engine.decisions(lst, other, p).allowed)
        out[gi, touched] = vals[number]
    return out


def _side_atom(engine: Engine, direction: Direction, groups: list[_Group], reps: IntArray,
               held: Mapping[int, IntArray], atom: int) -> npt.NDArray[np.bool_]:
    """``_side`` for one atom: each group's rules folded over all representatives at once
    (``Engine.fold`` on vectors), so no representative is visited in Python."""
    hn = engine.class_hn[reps]
    prof = engine.class_prof[reps]
    ones = np.ones(reps.size, dtype=bool)
    np_applies = ~hn
    vecs: dict[int, npt.NDArray[np.bool_]] = {}
    covers: dict[int, npt.NDArray[np.bool_]] = {}
    out = np.empty((len(groups), reps.size), dtype=bool)

    def vec(r: int) -> npt.NDArray[np.bool_]:
        got = vecs.get(r)
        if got is None:
            got = vecs[r] = engine.rules[r].vec[reps]
        return got

    def cover(rule: Rule) -> npt.NDArray[np.bool_]:
        """Per representative (as destination): whether the rule's ports take in ``atom``."""
        got = covers.get(rule.id)
        if got is None:
            table = np.asarray([(engine.port_mask(rule, p) >> atom) & 1
                                for p in range(len(engine.profiles))], dtype=bool)
            got = covers[rule.id] = table[prof]
        return got

    # NetworkPolicy-only groups: allowed where not governed (a host-network other end), where
    # the list does not isolate, or where a rule admits the other end on the atom (the fold
    # below, unrolled): written only at the positions each rule admits.
    out[:] = hn
    for gi, g in enumerate(groups):
        lst, sprof = g.lst, g.prof
        if not lst.isolated and not lst.admin and not lst.baseline:
            out[gi] = True  # nothing can deny: NetworkPolicy rules only add to "allowed"
            continue
        if not lst.admin and not lst.baseline:
            for r in g.rules:
                rule = engine.rules[r]
                if direction == "egress" and rule.named:
                    at = held[r]
                    out[gi, at[cover(rule)[at]]] = True
                elif (engine.port_mask(rule, sprof) >> atom) & 1:
                    out[gi, held[r]] = True
            continue

        def hit(rule: Rule, sprof: int = sprof, kept: tuple[int, ...] = g.rules
                ) -> npt.NDArray[np.bool_] | None:
            if rule.id not in kept:
                return None  # its ports cannot match the atom
            if direction == "egress" and rule.named:
                return vec(rule.id) & cover(rule)
            if (engine.port_mask(rule, sprof) >> atom) & 1:
                return vec(rule.id)
            return None

        out[gi] = engine.fold(lst, hit, ones, np_applies).allowed
    return out


def all_pairs(engine: Engine, value: Callable[[int], int],
              combine: Callable[[npt.NDArray[Any], npt.NDArray[Any]], npt.NDArray[Any]] | None,
              dtype: Any, atom: int | None = None, side_dtype: Any = np.int32,
              block_cells: int = 8_000_000,
              value_ingress: Callable[[int], int] | None = None) -> Reduced:
    """Every (row, column) of distinct source and destination behaviours, combined; with
    ``atom``, for that atom only (only the rules whose ports can match it count, and the
    sides are boolean). ``combine`` None: the caller gives it later (``Reduced.with_sides``),
    once it has seen the side values."""
    relevant = _relevant(engine, atom)
    e_group, e_groups = _groups(engine, "egress", relevant)
    i_group, i_groups = _groups(engine, "ingress", relevant)
    e_rules = sorted({r for g in e_groups for r in g.rules})
    i_rules = sorted({r for g in i_groups for r in g.rules})
    named = any(engine.rules[r].named for r in e_rules)
    row_of, rows, i_held = _partition(engine, e_group, i_rules, False)
    col_of, cols, e_held = _partition(engine, i_group, e_rules, named)
    if atom is None:
        e_side = _side(engine, "egress", e_groups, cols, e_held, value,
                       side_dtype)  # [group, column]
        i_side = _side(engine, "ingress", i_groups, rows, i_held, value_ingress or value,
                       side_dtype)  # [group, row]
    else:
        e_side = _side_atom(engine, "egress", e_groups, cols, e_held, atom)
        i_side = _side_atom(engine, "ingress", i_groups, rows, i_held, atom)
    return Reduced(row_of, col_of, e_side, e_group[rows], i_side, i_group[cols], combine, dtype,
                   block_cells)
