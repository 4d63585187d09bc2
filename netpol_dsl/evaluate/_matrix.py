"""Matrix: which pod may reach which, for one port (or any connection), over all ordered pairs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from netpol_dsl.evaluate._allpairs import PodTable, Reduced

__all__ = ["Matrix"]


class Matrix(PodTable):
    """All ordered pod pairs of a cluster: may the source reach the destination?

    Stored per equivalence class, so it stays small for large clusters; ``rows()`` and the
    exporters expand it to pods. A pod always reaches itself.

    Example:
        >>> from netpol_dsl.evaluate import Cluster, Pod
        >>> m = Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).matrix(port=80)
        >>> m.pods, m.allowed("a/x", "a/y")
        (('a/x', 'a/y'), True)
        >>> print(m.to_csv(), end="")
        src\\dst,a/x,a/y
        a/x,1,1
        a/y,1,1
    """

    _what = "matrix"

    def __init__(
        self,
        pods: tuple[str, ...],
        src_index: npt.NDArray[np.int64],
        dst_index: npt.NDArray[np.int64],
        table: npt.NDArray[np.bool_] | Reduced,
        *,
        port: int | str | None,
        protocol: str,
    ) -> None:
        """Made by ``Cluster.matrix``: pod ``i`` is row ``src_index[i]`` / column ``dst_index[i]``
        (``table`` may be kept factored: see ``table``)."""
        super().__init__(pods, src_index, dst_index, table)
        self.port = port
        self.protocol = protocol

    @property
    def table(self) -> npt.NDArray[np.bool_]:
        """The compact table: pod ``i`` may reach pod ``j`` (``i != j``) iff
        ``table[row_index[i], column_index[j]]``. For a large cluster the matrix is kept
        factored (the two sides' decisions) and this table is made on first use; ``allowed``,
        ``row``, ``count`` and the exporters read the factored form.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).matrix(port=80).table.shape
            (1, 1)
        """
        out: npt.NDArray[np.bool_] = self._red.table
        return out

    def allowed(self, src: object, dst: object) -> bool:
        """Whether ``src`` may reach ``dst`` (pods as ``"ns/name"`` or ``Pod``).

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x")]).matrix(port=80).allowed("a/x", "a/x")
            True
        """
        i, j = self._i(src), self._i(dst)
        return i == j or bool(self._red.cells(self._rows[i], self._cols[j]))

    def row(self, src: object) -> tuple[bool, ...]:
        """One source's row, in ``pods`` order.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).matrix().row("a/y")
            (True, True)
        """
        i = self._i(src)
        row = self._red.row(int(self._rows[i]))[self._cols]
        row[i] = True
        return tuple(bool(x) for x in row)

    def rows(self) -> Iterator[tuple[str, tuple[bool, ...]]]:
        """``(source, row)`` for every pod, in ``pods`` order.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> list(Cluster(pods=[Pod("a", "x")]).matrix(port=80).rows())
            [('a/x', (True,))]
        """
        for pod in self.pods:
            yield pod, self.row(pod)

    def pairs(self, allowed: bool = True) -> Iterator[tuple[str, str]]:
        """Every ordered pair (self pairs included) whose verdict equals ``allowed``.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> list(Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).matrix().pairs(False))
            []
        """
        for src, row in self.rows():
            for dst, ok in zip(self.pods, row, strict=True):
                if ok == allowed:
                    yield src, dst

    def count(self) -> int:
        """How many ordered pairs (self pairs included) are allowed, without expanding rows.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).matrix(port=80).count()
            4
        """
        n_rows, n_cols = self._red.shape
        rows = np.bincount(self._rows, minlength=n_rows).astype(np.int64)
        cols = np.bincount(self._cols, minlength=n_cols).astype(np.int64)
        total = 0
        for r, block in self._red.blocks():
            total += int(rows[r] @ (block.astype(np.int64) @ cols))
        diag = self._red.cells(self._rows, self._cols)
        return total + int((~diag.astype(bool)).sum())

    def to_dict(self) -> dict[str, object]:
        """``{"port", "protocol", "pods", "allowed": [[bool, ...], ...]}`` (rows are sources).

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x")]).matrix(port=80).to_dict()["allowed"]
            [[True]]
        """
        return {
            "port": self.port,
            "protocol": self.protocol if self.port is not None else None,
            "pods": list(self.pods),
            "allowed": [list(row) for _, row in self.rows()],
        }

    def to_json(self) -> str:
        """``to_dict()`` as JSON.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x")]).matrix(port=80).to_json()
            '{"port": 80, "protocol": "TCP", "pods": ["a/x"], "allowed": [[true]]}'
        """
        return json.dumps(self.to_dict())

    def to_csv(self) -> str:
        """A CSV table: a header of destinations, then one row per source with 1 (allowed) or 0.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x")]).matrix(port=80).to_csv().splitlines()
            ['src\\\\dst,a/x', 'a/x,1']
        """
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["src\\dst", *self.pods])
        for src, row in self.rows():
            w.writerow([src, *("1" if ok else "0" for ok in row)])
        return buf.getvalue()

    def to_markdown(self) -> str:
        """A Markdown table: rows are sources, columns destinations, ✓ allowed and ✗ denied.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> print(Cluster(pods=[Pod("a", "x")]).matrix(port=80).to_markdown())
            | src \\ dst | a/x |
            |---|---|
            | a/x | ✓ |
        """
        lines = ["| src \\ dst | " + " | ".join(self.pods) + " |",
                 "|---|" + "---|" * len(self.pods)]
        for src, row in self.rows():
            lines.append(f"| {src} | " + " | ".join("✓" if ok else "✗" for ok in row) + " |")
        return "\n".join(lines)

    def __repr__(self) -> str:
        what = "any connection" if self.port is None else f"{self.protocol} {self.port}"
        return f"<Matrix {len(self.pods)} pods, {what}>"
