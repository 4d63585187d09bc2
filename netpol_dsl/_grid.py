"""The reachability matrix of ``netpol matrix``: workloads (or pods) by workloads, read off the
evaluator's all-pairs results and printed as a fitted text table, a list, np-guard's connlist,
CSV, Markdown or JSON.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from netpol_dsl.errors import EvaluationError
from netpol_dsl.evaluate._allpairs import Spans
from netpol_dsl.evaluate._connections import ConnectionSet
from netpol_dsl.evaluate._connectivity import PairConnections, connlist_text

if TYPE_CHECKING:
    from netpol_dsl.evaluate import Cluster

__all__ = ["Grid", "reachability"]

#: Above this many rows, only the list formats are produced (a full matrix would be
#: millions of cells nobody reads).
MAX_FULL = 3000


@dataclass
class Grid:
    """Rows and columns (sorted by namespace, then name) and what each pair may do.

    ``ids[i, j]`` indexes ``sets``: the pair's connections (or what *some* of its pod pairs may
    do, when ``(i, j)`` is in ``mixed``); on one port, ``sets`` is ``[none, all]``. The diagonal
    is a workload's pods reaching each other, or -1 when it has a single pod.
    """

    names: list[str]
    ids: list[str]
    namespaces: list[str]
    cells: npt.NDArray[np.int64]
    sets: list[ConnectionSet]
    mixed: set[tuple[int, int]] = field(default_factory=set)
    port: int | str | None = None
    protocol: str = "TCP"
    level: str = "workload"

    # ------------------------------------------------------------------ cells

    def conns(self, i: int, j: int) -> ConnectionSet | None:
        """The pair's connections, or None on the diagonal of a single-pod row.

        Example:
            >>> _demo().conns(0, 1)
            ConnectionSet('TCP 80')
        """
        k = int(self.cells[i, j])
        return None if k < 0 else self.sets[k]

    def _cell(self, i: int, j: int) -> str:
        c = self.conns(i, j)
        if c is None:
            return "-"
        star = "*" if (i, j) in self.mixed else ""
        if self.port is not None:
            return ("yes" if not c.is_empty else "no") + star
        return str(c) + star

    def _allowed(self) -> npt.NDArray[np.bool_]:
        some = np.asarray([not c.is_empty for c in self.sets] + [False], dtype=bool)
        out: npt.NDArray[np.bool_] = some[self.cells]  # -1 reads the trailing False
        return out

    def allowed_count(self) -> int:
        """Ordered pairs of different rows with something allowed.

        Example:
            >>> _demo().allowed_count()
            1
        """
        allowed = self._allowed()
        return int(allowed.sum() - np.trace(allowed))

    def check_size(self) -> None:
        """Refuse a full matrix of more than ``MAX_FULL`` rows.

        Example:
            >>> _demo().check_size()
        """
        if len(self.names) > MAX_FULL:
            msg = (f"matrix: got {len(self.names)} {self.level}s; expected at most {MAX_FULL} "
                   "for a full matrix. Use --format list or connlist, or --level workload")
            raise EvaluationError(msg)

    @property
    def title(self) -> str:
        """What the matrix shows.

        Example:
            >>> _demo().title
            'Reachability: allowed ports (rows: from, columns: to)'
        """
        if self.port is not None:
            return f"Reachability on {self.protocol} {self.port} (rows: from, columns: to)"
        return "Reachability: allowed ports (rows: from, columns: to)"

    # ------------------------------------------------------------------ text

    def to_text(self, width: int) -> str | None:
        """A plain table with numbered columns, a blank line between namespaces; None when it
        is wider than ``width``.

        Example:
            >>> print(_demo().to_text(80))
            Reachability: allowed ports (rows: from, columns: to)
                    1     2
            1  a/x  -     TCP 80
            <BLANKLINE>
            2  b/y  none  -
        """
        n = len(self.names)
        label_w = max((len(x) for x in self.names), default=0)
        idx_w = len(str(n))
        if idx_w + label_w + 4 + 3 * n > width:  # not even one character per column fits
            return None
        cells = [[self._cell(i, j) for j in range(n)] for i in range(n)]
        num = [str(i + 1) for i in range(n)]
        col_w = [max([len(num[j])] + [len(cells[i][j]) for i in range(n)]) for j in range(n)]
        head = " " * (idx_w + 2 + label_w + 2) + "  ".join(num[j].ljust(col_w[j]) for j in range(n))
        lines = [self.title, head.rstrip()]
        for i in range(n):
            if i and self.namespaces[i] != self.namespaces[i - 1]:
                lines.append("")
            row = (num[i].ljust(idx_w) + "  " + self.names[i].ljust(label_w) + "  "
                   + "  ".join(cells[i][j].ljust(col_w[j]) for j in range(n)))
            lines.append(row.rstrip())
        if self.mixed:
            lines.append("* some pod pairs only")
        if max(len(x) for x in lines) > width:
            return None
        return "\n".join(lines)

    def _pairs(self) -> list[tuple[int, int]]:
        """Allowed pairs, row-major."""
        i, j = np.nonzero(self._allowed())
        return list(zip(i.tolist(), j.tolist(), strict=True))

    def to_list(self) -> str:
        """The allowed pairs, grouped by namespace pair.

        Example:
            >>> print(_demo().to_list())
            a -> b
              a/x -> b/y: TCP 80
        """
        rows, cols = np.nonzero(self._allowed())
        if rows.size == 0:
            return "no pair is allowed"
        # grouped by (source namespace, destination namespace), sorted; row-major inside
        spaces = sorted(set(self.namespaces))
        space_id = {n: k for k, n in enumerate(spaces)}
        ns_of = np.asarray([space_id[n] for n in self.namespaces], dtype=np.int64)
        order = np.lexsort((cols, rows, ns_of[cols], ns_of[rows]))
        rows, cols = rows[order], cols[order]
        ids = self.cells[rows, cols]
        texts = {int(k): (f"{self.protocol} {self.port}" if self.port is not None
                          else str(self.sets[int(k)])) for k in np.unique(ids).tolist()}
        mixed = self.mixed
        names = self.names
        items = [f"  {names[i]} (between its own pods): {texts[k]}" if i == j else
                 f"  {names[i]} -> {names[j]}: {texts[k]}"
                 for i, j, k in zip(rows.tolist(), cols.tolist(), ids.tolist(), strict=True)]
        if mixed:
            for n, (i, j) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
                if (i, j) in mixed:
                    items[n] += " (some pod pairs only)"
        # a header line before each namespace pair
        pair_key = ns_of[rows] * len(spaces) + ns_of[cols]
        starts = np.flatnonzero(np.diff(pair_key, prepend=-1)).tolist()
        lines: list[str] = []
        for a, b in zip(starts, [*starts[1:], len(items)], strict=True):
            lines.append(f"{self.namespaces[int(rows[a])]} -> {self.namespaces[int(cols[a])]}")
            lines.extend(items[a:b])
        return "\n".join(lines) if lines else "no pair is allowed"

    def to_connlist(self) -> str:
        """Allowed pairs of different rows in np-guard's ``list`` format.

        Example:
            >>> print(_demo().to_connlist())
            a/x[Pod] => b/y[Pod] : TCP 80
        """
        pairs = []
        for i, j in self._pairs():
            c = self.conns(i, j)
            if i != j and c is not None:
                conns = c if self.port is None else ConnectionSet.of(
                    self.protocol, self.port) if isinstance(self.port, int) else c
                pairs.append(PairConnections(self.ids[i], self.ids[j], conns))
        return connlist_text(pairs)

    def to_csv(self) -> str:
        """A CSV table: a header of destinations, then one row per source (1/0 on one port).

        Example:
            >>> print(_demo(port=80).to_csv(), end="")
            src\\dst,a/x,b/y
            a/x,-,1
            b/y,0,-
        """
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["src\\dst", *self.names])
        for i, src in enumerate(self.names):
            w.writerow([src, *(self._csv_cell(i, j) for j in range(len(self.names)))])
        return buf.getvalue()

    def _csv_cell(self, i: int, j: int) -> str:
        c = self.conns(i, j)
        if c is None:
            return "-"
        if self.port is not None:
            return ("some" if (i, j) in self.mixed else "1") if not c.is_empty else "0"
        return str(c) + ("*" if (i, j) in self.mixed else "")

    def to_markdown(self) -> str:
        """A Markdown table: ✓ allowed, ✗ denied (one port), or the allowed ports.

        Example:
            >>> print(_demo(port=80).to_markdown())
            | src \\ dst | a/x | b/y |
            |---|---|---|
            | a/x | - | ✓ |
            | b/y | ✗ | - |
        """
        lines = ["| src \\ dst | " + " | ".join(self.names) + " |",
                 "|---|" + "---|" * len(self.names)]
        for i, src in enumerate(self.names):
            cells = []
            for j in range(len(self.names)):
                c = self.conns(i, j)
                if c is None:
                    cells.append("-")
                elif self.port is not None:
                    cells.append(("~" if (i, j) in self.mixed else "✓") if not c.is_empty else "✗")
                else:
                    cells.append(str(c) + ("*" if (i, j) in self.mixed else ""))
            lines.append(f"| {src} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def to_json(self) -> str:
        """``{"port", "protocol", "level", "names", "allowed" | "connections"}`` as JSON; the
        diagonal of a single-pod row is null; a pair with only some pod pairs allowed is
        ``"some"`` (one port) or ``{"some": ...}``.

        Example:
            >>> json.loads(_demo(port=80).to_json())["allowed"]
            [[None, True], [False, None]]
        """
        rows: list[list[Any]] = []
        for i in range(len(self.names)):
            row: list[Any] = []
            for j in range(len(self.names)):
                c = self.conns(i, j)
                if c is None:
                    row.append(None)
                elif self.port is not None:
                    row.append("some" if (i, j) in self.mixed and not c.is_empty
                               else not c.is_empty)
                else:
                    row.append({"some": str(c)} if (i, j) in self.mixed else str(c))
            rows.append(row)
        key = "allowed" if self.port is not None else "connections"
        return json.dumps({"port": self.port, "protocol": self.protocol if self.port else None,
                           "level": self.level, "names": self.names, key: rows})


def _demo(port: int | None = None) -> Grid:
    """A two-row grid for the examples."""
    sets = [ConnectionSet.none(), ConnectionSet.of("TCP", 80)] if port is None else [
        ConnectionSet.none(), ConnectionSet.all()]
    return Grid(["a/x", "b/y"], ["a/x[Pod]", "b/y[Pod]"], ["a", "b"],
                np.asarray([[-1, 1], [0, -1]], dtype=np.int64), sets, port=port)


def reachability(cluster: Cluster, *, port: int | str | None = None, protocol: str = "TCP",
                 level: str = "workload") -> Grid:
    """The matrix of a cluster by workload (or pod), on one port or for every connection.

    Example:
        >>> from netpol_dsl.evaluate import Cluster, Pod
        >>> g = reachability(Cluster(pods=[Pod("b", "y"), Pod("a", "x")]), port=80)
        >>> g.names, g.to_csv().splitlines()[1]
        (['a/x', 'b/y'], 'a/x,-,1')
    """
    if level == "workload":
        groups = [(w.key, w.id, w.namespace, w.pods) for w in cluster.workloads()]
    else:
        groups = [(p.key, p.key, p.namespace, (p.key,))
                  for p in sorted(cluster.pods, key=lambda p: (p.namespace, p.name))]
    n = len(groups)
    mixed: set[tuple[int, int]] = set()
    if port is None:
        conn = cluster.connectivity()
        index = {k: i for i, k in enumerate(conn.pods)}
        rows, cols = conn.row_index, conn.column_index
        red = conn.reduced
        sets = list(conn.sets)
    else:
        m = cluster.matrix(port=port, protocol=protocol)
        index = {k: i for i, k in enumerate(m.pods)}
        rows, cols = m.row_index, m.column_index
        # 0 or 1, read as int8 (a view of the booleans, not a copy)
        red = m.reduced.mapped(lambda cells: cells.view(np.int8), np.int8)
        sets = [ConnectionSet.none(), ConnectionSet.all()]
    # Rows of one class (columns of one column class) read one table entry; groups whose pods
    # differ are combined pair by pair (a pair is what some of its pod pairs may do).
    members = [[index[p] for p in g[3]] for g in groups]
    rcls = [np.unique(rows[m]) for m in members]
    ccls = [np.unique(cols[m]) for m in members]
    rrep = np.asarray([int(r[0]) for r in rcls], dtype=np.int64)
    crep = np.asarray([int(c[0]) for c in ccls], dtype=np.int64)
    cells = (red.cells(rrep[:, None], crep[None, :]).astype(np.int64) if n
             else np.zeros((0, 0), dtype=np.int64))
    by_set = {c: i for i, c in enumerate(sets)}

    def combine(ids: set[int]) -> int:
        union = ConnectionSet.none().union(*(sets[i] for i in ids))
        k = by_set.get(union)
        if k is None:
            k = by_set[union] = len(sets)
            sets.append(union)
        return k

    multi = [i for i in range(n) if len(rcls[i]) > 1 or len(ccls[i]) > 1]
    if multi:
        # For a group whose pods fall in several rows (columns), read its rows against every
        # group's columns at once: a pair whose cells all hold one set takes it; only pairs
        # with cells that differ are combined (and marked mixed).
        row_spans, col_spans = Spans(rcls), Spans(ccls)
        for i in multi:
            for a_side in (True, False):
                spans = col_spans if a_side else row_spans
                block = (red.cells(rcls[i][:, None], col_spans.flat[None, :]) if a_side
                         else red.cells(row_spans.flat[:, None], ccls[i][None, :]).T)
                lo, hi = spans.bounds(block)
                uniform = lo == hi
                if a_side:
                    cells[i, uniform] = lo[uniform]
                else:
                    cells[uniform, i] = lo[uniform]
                for j in np.flatnonzero(~uniform).tolist():
                    a, b = (i, j) if a_side else (j, i)
                    if a == b:
                        continue  # the group with itself: below
                    ids = set(spans.part(block, j).ravel().tolist())
                    cells[a, b] = combine(ids)
                    mixed.add((a, b))
    # A group with itself: what its pods may do to each other (every ordered pair of two
    # different pods; a large group by its rows and columns). The small groups' pairs are
    # read in one call.
    small = [i for i in range(n) if 2 <= len(members[i]) <= 64]
    pairs = [(x, y) for i in small for x in members[i] for y in members[i] if x != y]
    diagonal: list[int] = []
    if pairs:
        xs, ys = np.asarray(pairs, dtype=np.int64).T
        diagonal = np.asarray(red.cells(rows[xs], cols[ys])).astype(np.int64).tolist()
    at = 0
    small_ids: dict[int, set[int]] = {}
    for i in small:
        k = len(members[i])
        small_ids[i] = set(diagonal[at:at + k * (k - 1)])
        at += k * (k - 1)
    for i in range(n):
        pods = members[i]
        if len(pods) < 2:
            cells[i, i] = -1
            continue
        ids = small_ids[i] if i in small_ids else set(
            red.cells(rcls[i][:, None], ccls[i][None, :]).ravel().tolist())
        cells[i, i] = combine(ids)
        if len({sets[k] for k in ids}) > 1:
            mixed.add((i, i))
    return Grid([g[0] for g in groups], [g[1] for g in groups], [g[2] for g in groups], cells,
                sets, mixed, port, protocol, level)
