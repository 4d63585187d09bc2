"""What a policy change does to connectivity: the flows gained and lost between two policy sets.

The inventory (namespaces and pods) stays; the policies are replaced by the old set, then by the
new one, and every ordered pair of workloads is compared. ``netpol diff`` prints the result and
exits 1 when anything changed, so CI can gate a pull request on it.

Example:
    >>> from netpol_dsl.evaluate import Cluster
    >>> from netpol_dsl import load_policy
    >>> c = Cluster.from_manifests('''
    ... {"apiVersion": "v1", "kind": "List", "items": [
    ...   {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "a",
    ...    "labels": {"app": "web"}}},
    ...   {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "namespace": "a",
    ...    "labels": {"app": "db"}}}]}
    ... ''')
    >>> deny = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    ...     "metadata": {"name": "deny", "namespace": "a"},
    ...     "spec": {"podSelector": {"matchLabels": {"app": "db"}}}})
    >>> d = diff_policies(c, [], [deny])
    >>> print(d.to_text())
    connectivity: (old) -> (new)
    lost (1):
      a -> a
        - a/web -> a/db: all (now none)
    policies: 1 added (a/deny)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from netpol_dsl.errors import LoadError
from netpol_dsl.graph import workloads
from netpol_dsl.model import NetworkPolicy
from netpol_dsl.sources import count_policies, git_revision_files, is_git_revision, load_policies

__all__ = ["ConnectivityDiff", "FlowChange", "diff_policies", "diff_sources", "subtract"]


def subtract(a: Any, b: Any) -> Any:
    """``a`` minus ``b`` for two evaluator ``ConnectionSet`` values.

    Example:
        >>> from netpol_dsl.evaluate import ConnectionSet
        >>> str(subtract(ConnectionSet.of("TCP", 80, 90), ConnectionSet.of("TCP", 85)))
        'TCP 80-84,86-90'
    """
    out: dict[str, list[tuple[int, int]]] = {}
    for proto, ranges in a.ranges.items():
        cuts = sorted(b.ranges.get(proto, ()))
        kept: list[tuple[int, int]] = []
        for lo, hi in ranges:
            start = lo
            for clo, chi in cuts:
                if chi < start or clo > hi:
                    continue
                if clo > start:
                    kept.append((start, clo - 1))
                start = max(start, chi + 1)
                if start > hi:
                    break
            if start <= hi:
                kept.append((start, hi))
        if kept:
            out[proto] = kept
    return type(a)(out)


@dataclass(frozen=True, slots=True)
class FlowChange:
    """One ordered pair whose allowed connections changed.

    Example:
        >>> FlowChange("a/x", "a/y", "none", "TCP 80", "TCP 80", "none").src_namespace
        'a'
    """

    src: str
    dst: str
    before: str
    after: str
    gained: str
    lost: str

    @property
    def src_namespace(self) -> str:
        """The source's namespace.

        Example:
            >>> FlowChange("b/x", "a/y", "", "", "", "").src_namespace
            'b'
        """
        return self.src.split("/", 1)[0]

    @property
    def dst_namespace(self) -> str:
        """The destination's namespace.

        Example:
            >>> FlowChange("b/x", "a/y", "", "", "", "").dst_namespace
            'a'
        """
        return self.dst.split("/", 1)[0]


@dataclass(frozen=True)
class ConnectivityDiff:
    """Flows gained and lost, and which policy objects were added, removed or changed.

    Example:
        >>> ConnectivityDiff().changed
        False
    """

    gained: tuple[FlowChange, ...] = ()
    lost: tuple[FlowChange, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    old_label: str = "(old)"
    new_label: str = "(new)"

    @property
    def changed(self) -> bool:
        """Whether connectivity or any policy object changed.

        Example:
            >>> ConnectivityDiff(added=("a/x",)).changed
            True
        """
        return bool(self.gained or self.lost or self.added or self.removed or self.modified)

    def _policy_line(self) -> str | None:
        parts = []
        for word, keys in (("added", self.added), ("removed", self.removed),
                           ("changed", self.modified)):
            if keys:
                parts.append(f"{len(keys)} {word} ({', '.join(keys)})")
        return "; ".join(parts) if parts else None

    def to_text(self) -> str:
        """Gained and lost flows grouped by namespace pair, then the policy objects changed.

        Example:
            >>> print(ConnectivityDiff().to_text())
            connectivity: (old) -> (new)
            no change
        """
        lines = [f"connectivity: {self.old_label} -> {self.new_label}"]
        for title, sign, items in (("gained", "+", self.gained), ("lost", "-", self.lost)):
            if not items:
                continue
            lines.append(f"{title} ({len(items)}):")
            group = None
            for c in items:
                key = (c.src_namespace, c.dst_namespace)
                if key != group:
                    lines.append(f"  {key[0]} -> {key[1]}")
                    group = key
                what = c.gained if sign == "+" else c.lost
                now = c.after if sign == "-" else c.before
                note = f" (now {now})" if sign == "-" else (
                    f" (was {now})" if now != "none" else "")
                lines.append(f"    {sign} {c.src} -> {c.dst}: {what}{note}")
        policies = self._policy_line()
        if policies:
            lines.append(f"policies: {policies}")
        if not self.gained and not self.lost:
            lines.append("no change" if not policies else
                         "connectivity unchanged (the policy objects differ)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The diff as plain data.

        Example:
            >>> ConnectivityDiff().to_dict()["changed"]
            False
        """
        def flows(items: Sequence[FlowChange]) -> list[dict[str, str]]:
            return [{"from": c.src, "to": c.dst, "before": c.before, "after": c.after,
                     "gained": c.gained, "lost": c.lost} for c in items]

        return {
            "old": self.old_label,
            "new": self.new_label,
            "changed": self.changed,
            "gained": flows(self.gained),
            "lost": flows(self.lost),
            "policies": {"added": list(self.added), "removed": list(self.removed),
                         "changed": list(self.modified)},
        }

    def to_json(self) -> str:
        """The diff as JSON.

        Example:
            >>> json.loads(ConnectivityDiff().to_json())["gained"]
            []
        """
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_markdown(self) -> str:
        """Markdown ready for a pull-request comment.

        Example:
            >>> print(ConnectivityDiff().to_markdown())
            ### NetworkPolicy connectivity: `(old)` → `(new)`
            <BLANKLINE>
            No change in connectivity.
        """
        lines = [f"### NetworkPolicy connectivity: `{self.old_label}` → `{self.new_label}`", ""]
        if not self.gained and not self.lost:
            lines.append("No change in connectivity." if not self._policy_line() else
                         "Connectivity is unchanged, but the policy objects differ.")
        else:
            lines.append(f"**{len(self.gained)} gained**, **{len(self.lost)} lost** flows.")
        for title, icon, items, col in (("Gained", "🟢", self.gained, "Newly allowed"),
                                        ("Lost", "🔴", self.lost, "No longer allowed")):
            if not items:
                continue
            lines += ["", f"#### {icon} {title} ({len(items)})", "",
                      f"| From | To | {col} | Now allowed |", "|---|---|---|---|"]
            for c in items:
                what = c.gained if items is self.gained else c.lost
                lines.append(f"| `{c.src}` | `{c.dst}` | {what} | {c.after} |")
        policies = self._policy_line()
        if policies:
            lines += ["", f"Policies: {policies}."]
        return "\n".join(lines)


def _canon(p: NetworkPolicy) -> str:
    return json.dumps(p.to_dict(), sort_keys=True)


def diff_policies(
    cluster: Any,
    old: Sequence[NetworkPolicy],
    new: Sequence[NetworkPolicy],
    *,
    old_label: str = "(old)",
    new_label: str = "(new)",
) -> ConnectivityDiff:
    """Compare connectivity under two policy sets, over the cluster's pods.

    Args:
        cluster: an evaluator ``Cluster`` (its own policies are ignored).
        old: the policies before.
        new: the policies after.
        old_label: how to name ``old`` in the output.
        new_label: how to name ``new``.

    Example:
        >>> from netpol_dsl.evaluate import Cluster
        >>> c = Cluster.from_manifests("kind: Pod\\napiVersion: v1\\nmetadata: {name: w, namespace: a}\\n")
        >>> diff_policies(c, [], []).changed
        False
    """
    before = cluster.with_policies(list(old))
    after = cluster.with_policies(list(new))
    nodes = workloads(cluster)
    gained: list[FlowChange] = []
    lost: list[FlowChange] = []
    for a in nodes:
        for b in nodes:
            if a.id == b.id:
                continue
            x = before.connections(a.query, b.query)
            y = after.connections(a.query, b.query)
            if x == y:
                continue
            plus, minus = subtract(y, x), subtract(x, y)
            change = FlowChange(a.id, b.id, str(x), str(y), str(plus), str(minus))
            if not plus.is_empty:
                gained.append(change)
            if not minus.is_empty:
                lost.append(change)
    old_keys = {p.key: _canon(p) for p in old}
    new_keys = {p.key: _canon(p) for p in new}

    def order(c: FlowChange) -> tuple[str, str, str, str]:
        return (c.src_namespace, c.dst_namespace, c.src, c.dst)

    return ConnectivityDiff(
        gained=tuple(sorted(gained, key=order)),
        lost=tuple(sorted(lost, key=order)),
        added=tuple(sorted(new_keys.keys() - old_keys.keys())),
        removed=tuple(sorted(old_keys.keys() - new_keys.keys())),
        modified=tuple(sorted(k for k in old_keys.keys() & new_keys.keys()
                              if old_keys[k] != new_keys[k])),
        old_label=old_label,
        new_label=new_label,
    )


def _resolve(spec: str, other: str) -> list[NetworkPolicy]:
    """Load a spec; a bare git revision means ``other``'s path at that revision."""
    if is_git_revision(spec) and not is_git_revision(other):
        with git_revision_files(spec, other) as local:
            return load_policies(str(local))
    return load_policies(spec)


def diff_sources(old: str, new: str, cluster: Any, *, allow_empty: bool = True) -> ConnectivityDiff:
    """``diff_policies`` on two source specs: files, directories, ``FILE.py``, ``REV:path`` or ``REV``.

    A bare revision (``main``) stands for the other side's path at that revision, so
    ``diff_sources("main", "k8s/netpol/", c)`` compares the committed policies with the working tree.

    Raises:
        LoadError: a source cannot be read; or, with ``allow_empty=False``, a side holds no
            policy (``netpol diff`` without ``--allow-empty``: two wrong paths must not compare
            equal).

    Example:
        >>> from netpol_dsl.evaluate import Cluster
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "p.yaml").write_text('''apiVersion: networking.k8s.io/v1
        ... kind: NetworkPolicy
        ... metadata: {name: deny, namespace: a}
        ... spec: {podSelector: {}}
        ... ''')
        >>> c = Cluster.from_manifests("kind: Pod\\napiVersion: v1\\nmetadata: {name: w, namespace: a}\\n")
        >>> diff_sources(str(d / "p.yaml"), str(d / "p.yaml"), c).changed
        False
    """
    old_policies, new_policies = _resolve(old, new), _resolve(new, old)
    if not allow_empty:
        for side, spec, found in (("OLD", old, old_policies), ("NEW", new, new_policies)):
            if count_policies(found) == 0:
                msg = (f"no NetworkPolicy found in {side} {spec}; pass --allow-empty (or "
                       "allow_empty=True) if that is expected")
                raise LoadError(msg, source=spec)
    return diff_policies(cluster, old_policies, new_policies, old_label=old, new_label=new)
