"""Connectivity: every pod pair's allowed connections, stored per class pair.

``Cluster.connectivity()`` computes, for every ordered pair of pod classes, the id of the set of
connections allowed (both sides' verdicts, all tiers, every port atom), as array operations over
the engine's decision tables. Pods and workloads are expanded only when iterated or exported.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from netpol_dsl.evaluate._allpairs import PodTable, Reduced, Spans
from netpol_dsl.evaluate._connections import PROTOCOLS, ConnectionSet
from netpol_dsl.evaluate._endpoints import Workload

__all__ = ["Connectivity", "PairConnections", "WorkloadPairArrays", "connlist_text"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class PairConnections:
    """The connections allowed from one pod (or workload) to another.

    ``uniform`` is False for a workload pair whose pods do not all have the same connections;
    ``connections`` is then what *some* pod pair may do (the union) and ``common`` what every
    pod pair may do.

    Example:
        >>> p = PairConnections("a/web", "a/db", ConnectionSet.of("TCP", 5432))
        >>> str(p.connections), p.uniform
        ('TCP 5432', True)
    """

    src: str
    dst: str
    connections: ConnectionSet
    common: ConnectionSet | None = None

    @property
    def uniform(self) -> bool:
        """Every pod pair behind it has the same connections.

        Example:
            >>> PairConnections("a/x", "a/y", ConnectionSet.all()).uniform
            True
        """
        return self.common is None or self.common == self.connections


@dataclass(frozen=True, slots=True, eq=False)
class WorkloadPairArrays:
    """``Connectivity.workload_pairs()`` as columns: one entry per ordered pair of different
    workloads, in the same (workload-major) order, without a Python object per pair.

    ``src[k]`` and ``dst[k]`` index ``Connectivity.workloads``; ``connections[k]`` indexes
    ``sets`` (the union of the pod pairs' connections) and ``common[k]`` what every pod pair
    may do. ``sets`` begins with ``Connectivity.sets``; unions and intersections of workload
    pairs whose pods differ follow, each set once, so a pair is uniform exactly when its two
    ids are equal.

    Example:
        >>> from netpol_dsl.evaluate import Cluster, Pod
        >>> arr = Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).connectivity().workload_pair_arrays()
        >>> arr.src.tolist(), arr.dst.tolist(), [str(arr.sets[k]) for k in arr.connections]
        ([0, 1], [1, 0], ['all', 'all'])
        >>> arr.uniform.tolist(), len(arr)
        ([True, True], 2)
    """

    src: IntArray
    dst: IntArray
    connections: IntArray
    common: IntArray
    sets: tuple[ConnectionSet, ...]

    @property
    def uniform(self) -> BoolArray:
        """Per pair: every pod pair behind it has the same connections.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x")]).connectivity().workload_pair_arrays().uniform.size
            0
        """
        out: BoolArray = self.connections == self.common
        return out

    def __len__(self) -> int:
        return int(self.src.size)


def _np_guard_conn(conns: ConnectionSet) -> str:
    """np-guard's spelling: ``All Connections`` or ``SCTP 7070,TCP 8080-8081,UDP 9090``."""
    if conns.is_all:
        return "All Connections"
    parts = []
    for proto in sorted(PROTOCOLS):
        ranges = conns.ports(proto)
        if ranges:
            parts.append(f"{proto} " + ",".join(str(lo) if lo == hi else f"{lo}-{hi}"
                                                for lo, hi in ranges))
    return ",".join(parts)


def connlist_text(pairs: Sequence[PairConnections]) -> str:
    """Allowed pairs only, one line each: ``SRC => DST : CONN``, sorted (np-guard's ``list``).

    Example:
        >>> print(connlist_text([PairConnections("a/x[Pod]", "a/y[Pod]", ConnectionSet.of("TCP", 80))]))
        a/x[Pod] => a/y[Pod] : TCP 80
    """
    lines = sorted(f"{p.src} => {p.dst} : {_np_guard_conn(p.connections)}"
                   for p in pairs if not p.connections.is_empty)
    return "\n".join(lines)


class Connectivity(PodTable):
    """All ordered pod pairs of a cluster and the connections each may open.

    Compact: ``table[row_index[src], column_index[dst]]`` is an index into ``sets``, where rows
    are the distinct behaviours of sources and columns of destinations. A pod always reaches
    itself; two different pods of one row and column are looked up like any other pair.

    Example:
        >>> from netpol_dsl.evaluate import Cluster, Pod
        >>> from netpol_dsl import load_policy
        >>> p = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        ...     "metadata": {"name": "db", "namespace": "a"},
        ...     "spec": {"podSelector": {"matchLabels": {"app": "db"}},
        ...              "ingress": [{"ports": [{"port": 5432}]}]}})
        >>> c = Cluster(pods=[Pod("a", "web", {"app": "web"}), Pod("a", "db", {"app": "db"})],
        ...             policies=[p])
        >>> conn = c.connectivity()
        >>> str(conn.between("a/web", "a/db")), str(conn.between("a/db", "a/web"))
        ('TCP 5432', 'all')
        >>> print(conn.connlist())
        a/db[Pod] => a/web[Pod] : All Connections
        a/web[Pod] => a/db[Pod] : TCP 5432
    """

    _what = "connectivity"

    def __init__(self, pods: Sequence[str], rows: IntArray, columns: IntArray,
                 table: npt.NDArray[np.integer] | Reduced, sets: Sequence[ConnectionSet],
                 workloads: Sequence[Workload]) -> None:
        """Made by ``Cluster.connectivity()``: ``pods`` are their keys, in inventory order."""
        super().__init__(pods, rows, columns, table)
        #: the distinct connection sets; ``table`` holds indices into this
        self.sets = tuple(sets)
        self.workloads = tuple(workloads)

    @property
    def table(self) -> npt.NDArray[np.integer]:
        """The compact table: ``table[row_index[src], column_index[dst]]`` indexes ``sets``.

        Kept factored (each side's decisions, combined on read) and made on first use: at
        100k pods it can take gigabytes; ``between``, ``pairs``, ``workload_pairs``, ``count``
        and the exporters read the factored form instead.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).connectivity().table.shape
            (1, 1)
        """
        out: npt.NDArray[np.integer] = self._red.table
        return out

    def between(self, src: object, dst: object) -> ConnectionSet:
        """The connections pod ``src`` may open to pod ``dst`` (keys or ``Pod`` objects).

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> str(Cluster(pods=[Pod("a", "x")]).connectivity().between("a/x", "a/x"))
            'all'
        """
        i, j = self._i(src), self._i(dst)
        if i == j:
            return ConnectionSet.all()
        return self.sets[int(self._red.cells(self._rows[i], self._cols[j]))]

    def pairs(self, *, empty: bool = False) -> Iterator[PairConnections]:
        """Every ordered pair of different pods with its connections (``empty``: also pairs
        with none), in pod order. There are n*(n-1) of them: iterate, don't collect, at scale.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> [(p.src, p.dst, str(p.connections)) for p in
            ...  Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).connectivity().pairs()]
            [('a/x', 'a/y', 'all'), ('a/y', 'a/x', 'all')]
        """
        rows = self._rows.tolist()
        sets = self.sets
        red = self._red
        for i, src in enumerate(self.pods):
            ids = red.row(rows[i])[self._cols].tolist()
            for j, dst in enumerate(self.pods):
                if i == j:
                    continue
                conns = sets[ids[j]]
                if empty or not conns.is_empty:
                    yield PairConnections(src, dst, conns)

    def workload_pairs(self, *, empty: bool = False) -> Iterator[PairConnections]:
        """Every ordered pair of different workloads: the union of their pods' connections and
        what all of them have in common, in workload order.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> [(p.src, p.dst) for p in Cluster(pods=[Pod("a", "x"), Pod("a", "y")]
            ...                                  ).connectivity().workload_pairs()]
            [('a/x[Pod]', 'a/y[Pod]'), ('a/y[Pod]', 'a/x[Pod]')]
        """
        ws = self.workloads
        members = [[self._index[k] for k in w.pods] for w in ws]
        rows = [np.unique(self._rows[m]) for m in members]
        cols = [np.unique(self._cols[m]) for m in members]
        nonempty = np.asarray([not x.is_empty for x in self.sets], dtype=bool)
        sets = self.sets
        cache: dict[tuple[int, ...], tuple[ConnectionSet, ConnectionSet]] = {}
        wid = [w.id for w in ws]
        if not ws:
            return
        # Each source workload's rows against every workload's columns at once: a pair whose
        # cells all hold one set is uniform; only the others are combined.
        spans = Spans(cols)
        for a in range(len(ws)):
            block = self._red.cells(rows[a][:, None], spans.flat[None, :])
            lo, hi = spans.bounds(block)
            some = spans.bounds(nonempty[block])[1]
            for b in np.flatnonzero(np.ones(len(ws), dtype=bool) if empty else some).tolist():
                if b == a:
                    continue
                if lo[b] == hi[b]:
                    yield PairConnections(wid[a], wid[b], sets[int(lo[b])])
                    continue
                key = tuple(sorted(set(spans.part(block, b).reshape(-1).tolist())))
                found = cache.get(key)
                if found is None:
                    items = [sets[i] for i in key]
                    found = cache[key] = (ConnectionSet.none().union(*items),
                                          ConnectionSet.all().intersection(*items))
                union, common = found
                yield PairConnections(wid[a], wid[b], union,
                                      None if common == union else common)

    def workload_pair_arrays(self, *, empty: bool = False) -> WorkloadPairArrays:
        """``workload_pairs()`` as arrays (``WorkloadPairArrays``): the same pairs, order,
        unions and common parts, for callers that handle a million pairs at once.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> arr = Cluster(pods=[Pod("a", "x"), Pod("b", "y")]).connectivity().workload_pair_arrays()
            >>> [(int(s), int(d), str(arr.sets[k]))
            ...  for s, d, k in zip(arr.src, arr.dst, arr.connections, strict=True)]
            [(0, 1, 'all'), (1, 0, 'all')]
        """
        ws = self.workloads
        n = len(ws)
        sets = list(self.sets)
        by_set: dict[ConnectionSet, int] = {}
        for k, s in enumerate(sets):
            by_set.setdefault(s, k)

        def ident(s: ConnectionSet) -> int:
            found = by_set.get(s)
            if found is None:
                found = by_set[s] = len(sets)
                sets.append(s)
            return found

        rows, cols = self._workload_sides()
        nonempty = np.asarray([not x.is_empty for x in self.sets], dtype=bool)
        n_cols = self._red.shape[1]
        # A workload's cells against a destination workload are read in the destination's
        # first column; only workloads with pods in several columns are reduced over them.
        first = np.asarray([c[0] for c in cols], dtype=np.int64)
        multi = np.asarray([b for b in range(n) if cols[b].size > 1], dtype=np.int64)
        spans = Spans([cols[b] for b in multi.tolist()])
        # Workloads whose pods fall in the same rows read the same cells: one group each.
        group_of: dict[bytes, int] = {}
        gid = np.asarray([group_of.setdefault(r.tobytes(), len(group_of)) for r in rows],
                         dtype=np.int64)
        n_rows = np.asarray([r.size for r in rows], dtype=np.int64)
        cache: dict[tuple[int, ...], tuple[int, int]] = {}
        out: list[tuple[IntArray, IntArray, IntArray, IntArray]] = []

        def per_workload(by_col: npt.NDArray[Any], ufunc: np.ufunc) -> npt.NDArray[Any]:
            """``[group, column]`` -> ``[group, destination workload]``."""
            found: npt.NDArray[Any] = by_col[:, first]
            if multi.size:
                found[:, multi] = ufunc.reduceat(by_col[:, spans.flat], spans.starts, axis=1)
            return found

        # A few source workloads at a time, so that each chunk's cells stay a few million.
        budget = max(1, 4_000_000 // max(1, n_cols))
        a0 = 0
        while a0 < n:
            a1 = a0 + 1
            total = int(n_rows[a0])
            while a1 < n and total + int(n_rows[a1]) <= budget:
                total += int(n_rows[a1])
                a1 += 1
            local, inverse = np.unique(gid[a0:a1], return_inverse=True)
            rep = {int(g): a for a, g in zip(range(a1 - 1, a0 - 1, -1),
                                              gid[a0:a1][::-1].tolist(), strict=True)}
            g_rows = [rows[rep[g]] for g in local.tolist()]
            g_starts = np.cumsum([0] + [r.size for r in g_rows])[:-1]
            # every row of the chunk's groups against every column at once; per group and
            # destination workload, the least and greatest set id and whether any is
            # non-empty: a pair whose cells all hold one set is uniform, the others combined
            block = self._red.cells(np.concatenate(g_rows)[:, None],
                                    np.arange(n_cols, dtype=np.int64)[None, :])
            some = nonempty[block]
            g_lo, g_hi, g_some = block[g_starts], block[g_starts], some[g_starts]
            several = np.flatnonzero(np.diff(np.append(g_starts, block.shape[0])) > 1)
            if several.size:  # groups of several rows: reduced over their rows
                at = np.concatenate([np.arange(g_starts[g], g_starts[g] + g_rows[g].size)
                                     for g in several.tolist()])
                starts = np.cumsum([0] + [g_rows[g].size for g in several.tolist()])[:-1]
                g_lo[several] = np.minimum.reduceat(block[at], starts, axis=0)
                g_hi[several] = np.maximum.reduceat(block[at], starts, axis=0)
                g_some[several] = np.logical_or.reduceat(some[at], starts, axis=0)
            lo = per_workload(g_lo, np.minimum)
            hi = per_workload(g_hi, np.maximum)
            picked = (np.ones(lo.shape, dtype=bool) if empty
                      else per_workload(g_some, np.logical_or))
            union = lo.astype(np.int64)
            common = union.copy()
            for g, b in zip(*np.nonzero(picked & (lo != hi)), strict=True):
                r0 = int(g_starts[g])
                key = tuple(np.unique(block[r0:r0 + g_rows[g].size][:, cols[b]]).tolist())
                found = cache.get(key)
                if found is None:
                    items = [self.sets[i] for i in key]
                    found = cache[key] = (ident(ConnectionSet.none().union(*items)),
                                          ident(ConnectionSet.all().intersection(*items)))
                union[g, b], common[g, b] = found
            # each group's picked destinations once, then laid out for each of its workloads
            # (in workload order), less the workload itself
            g_at, g_dst = np.nonzero(picked)
            g_union, g_common = union[g_at, g_dst], common[g_at, g_dst]
            g_first = np.searchsorted(g_at, np.arange(len(g_rows)))
            g_count = np.bincount(g_at, minlength=len(g_rows))
            count = g_count[inverse]
            src = np.repeat(np.arange(a0, a1, dtype=np.int64), count)
            ends = np.cumsum(count)
            picks = (np.arange(int(ends[-1]) if ends.size else 0, dtype=np.int64)
                     - np.repeat(ends - count - g_first[inverse], count))
            dst = g_dst[picks]
            keep = dst != src
            picks = picks[keep]
            out.append((src[keep], dst[keep], g_union[picks], g_common[picks]))
            a0 = a1
        if not out:
            empty_ids = np.zeros(0, dtype=np.int64)
            return WorkloadPairArrays(empty_ids, empty_ids, empty_ids, empty_ids, tuple(sets))
        src, dst, union, common = (np.concatenate([o[k] for o in out]).astype(np.int64)
                                   for k in range(4))
        return WorkloadPairArrays(src, dst, union, common, tuple(sets))

    def _workload_sides(self) -> tuple[list[IntArray], list[IntArray]]:
        """Each workload's distinct rows and distinct columns (sorted)."""
        ws = self.workloads
        if not ws:
            return [], []
        index = self._index
        owner = np.repeat(np.arange(len(ws), dtype=np.int64), [len(w.pods) for w in ws])
        pods = np.asarray([index[k] for w in ws for k in w.pods], dtype=np.int64)

        def distinct(side: IntArray) -> list[IntArray]:
            width = int(side.max()) + 1 if side.size else 1
            keys = np.unique(owner * width + side[pods])
            bounds = np.searchsorted(keys // width, np.arange(1, len(ws)))
            return np.split(keys % width, bounds)

        return distinct(self._rows), distinct(self._cols)

    def count(self) -> int:
        """How many ordered pairs of different pods have some allowed connection.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).connectivity().count()
            2
        """
        some = np.asarray([not s.is_empty for s in self.sets], dtype=bool)
        n_rows, n_cols = self._red.shape
        r_sizes = np.bincount(self._rows, minlength=n_rows).astype(np.int64)
        c_sizes = np.bincount(self._cols, minlength=n_cols).astype(np.int64)
        total = 0
        for r, block in self._red.blocks():
            total += int(r_sizes[r] @ (some[block].astype(np.int64) @ c_sizes))
        # minus each pod's pair with itself where its row and column allow something
        self_pairs = int(some[self._red.cells(self._rows, self._cols)].sum())
        return total - self_pairs

    def connlist(self, level: str = "workload") -> str:
        """Allowed pairs only, ``SRC => DST : CONN`` (np-guard's ``list`` format), by workload
        (``ns/name[Kind]``) or by pod.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> print(Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).connectivity().connlist("pod"))
            a/x => a/y : All Connections
            a/y => a/x : All Connections
        """
        pairs = self.workload_pairs() if level == "workload" else self.pairs()
        return connlist_text(list(pairs))

    def to_csv(self, level: str = "workload") -> str:
        """``src,dst,connections`` for every pair with some allowed connection.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> print(Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).connectivity().to_csv("pod"), end="")
            src,dst,connections
            a/x,a/y,all
            a/y,a/x,all
        """
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["src", "dst", "connections"])
        pairs = self.workload_pairs() if level == "workload" else self.pairs()
        for p in pairs:
            w.writerow([p.src, p.dst, str(p.connections)])
        return buf.getvalue()

    def to_json(self, level: str = "workload") -> str:
        """``[{"src", "dst", "connections": {protocol: [[first, last], ...]}}, ...]`` as JSON.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> json.loads(Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).connectivity().to_json())[0]["src"]
            'a/x[Pod]'
        """
        pairs = self.workload_pairs() if level == "workload" else self.pairs()
        return json.dumps([{"src": p.src, "dst": p.dst, "connections": p.connections.to_dict(),
                            **({} if p.uniform else {"common": p.common.to_dict()
                                                     if p.common is not None else None})}
                           for p in pairs], indent=1)

    def __repr__(self) -> str:
        n_rows, n_cols = self._red.shape
        return (f"<Connectivity {len(self.pods)} pods, {n_rows} x {n_cols} behaviours, "
                f"{len(self.sets)} connection sets>")
