"""What a policy change does to connectivity: the flows gained and lost between two policy sets.

The inventory (namespaces and pods) stays; the policies are replaced by the old set, then by the
new one, and the evaluator's all-pairs connections are compared per class pair and reported per
pair of workloads (with what *some* of their pods gained or lost), along with what each changed
workload may exchange with external addresses. ``netpol diff`` prints the result and exits 1 when
anything changed, so CI can gate a pull request on it.

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
    external addresses (1):
        0.0.0.0/0, ::/0 -> a/db: -all (was all, now none)
    policies: 1 added (a/deny)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np

from netpol_dsl.errors import LoadError
from netpol_dsl.evaluate._connections import ConnectionSet
from netpol_dsl.sources import count_policies, git_revision_files, is_git_revision, load_objects

if TYPE_CHECKING:
    from netpol_dsl.evaluate import Cluster

__all__ = ["ConnectivityDiff", "ExternalChange", "FlowChange", "diff_policies", "diff_sources",
           "subtract"]


def subtract(a: ConnectionSet, b: ConnectionSet) -> ConnectionSet:
    """``a`` minus ``b`` (``ConnectionSet.difference``).

    Example:
        >>> str(subtract(ConnectionSet.of("TCP", 80, 90), ConnectionSet.of("TCP", 85)))
        'TCP 80-84,86-90'
    """
    return a - b


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


@dataclass(frozen=True, slots=True)
class ExternalChange:
    """What a workload may exchange with some external addresses, before and after.

    ``direction`` is ``ingress`` (from those addresses) or ``egress`` (to them).

    Example:
        >>> c = ExternalChange("a/web", "egress", ("0.0.0.0/0",), "all", "TCP 443", "none", "...")
        >>> c.text
        'a/web -> 0.0.0.0/0'
    """

    workload: str
    direction: str
    cidrs: tuple[str, ...]
    before: str
    after: str
    gained: str
    lost: str

    @property
    def text(self) -> str:
        """``workload -> addresses`` (egress) or ``addresses -> workload`` (ingress).

        Example:
            >>> ExternalChange("a/db", "ingress", ("10.0.0.0/8",), "", "", "", "").text
            '10.0.0.0/8 -> a/db'
        """
        where = ", ".join(self.cidrs[:4]) + (f" (+{len(self.cidrs) - 4} more)"
                                             if len(self.cidrs) > 4 else "")
        return (f"{self.workload} -> {where}" if self.direction == "egress"
                else f"{where} -> {self.workload}")


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
    external: tuple[ExternalChange, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether connectivity or any policy object changed.

        Example:
            >>> ConnectivityDiff(added=("a/x",)).changed
            True
        """
        return bool(self.gained or self.lost or self.added or self.removed or self.modified
                    or self.external)

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
        if self.external:
            lines.append(f"external addresses ({len(self.external)}):")
            for e in self.external:
                parts = [f"+{e.gained}" if e.gained != "none" else "",
                         f"-{e.lost}" if e.lost != "none" else ""]
                change = ", ".join(x for x in parts if x)
                lines.append(f"    {e.text}: {change} (was {e.before}, now {e.after})")
        policies = self._policy_line()
        if policies:
            lines.append(f"policies: {policies}")
        if not self.gained and not self.lost and not self.external:
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
            "external": [{"workload": e.workload, "direction": e.direction,
                          "cidrs": list(e.cidrs), "before": e.before, "after": e.after,
                          "gained": e.gained, "lost": e.lost} for e in self.external],
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
        if not self.gained and not self.lost and not self.external:
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
        if self.external:
            lines += ["", f"#### 🌐 External addresses ({len(self.external)})", "",
                      "| Flow | Gained | Lost | Now allowed |", "|---|---|---|---|"]
            for e in self.external:
                lines.append(f"| `{e.text}` | {e.gained} | {e.lost} | {e.after} |")
        policies = self._policy_line()
        if policies:
            lines += ["", f"Policies: {policies}."]
        return "\n".join(lines)


def _canon(p: Any) -> str:
    return json.dumps(p.to_dict(), sort_keys=True)


def _key(p: Any) -> str:
    key: str = getattr(p, "key", None) or str(getattr(p, "name", p))
    kind = getattr(p, "kind", "NetworkPolicy")
    return key if kind in (None, "NetworkPolicy") else f"{kind}/{key}"


def _pod_changes(before: Cluster, after: Cluster) -> list[FlowChange]:
    """Workload pairs whose connections differ, from the two all-pairs results compared per
    class pair (pods that are in one class in both are compared once)."""
    cb, ca = before.connectivity(), after.connectivity()
    # Pods with the same row and column in both results are interchangeable: compare those
    # joint groups once.
    parts = np.stack([cb.row_index, cb.column_index, ca.row_index, ca.column_index], axis=1)
    joint, jid = np.unique(parts, axis=0, return_inverse=True)
    jid = jid.reshape(-1)
    rb, kb_, ra, ka_ = (joint[:, i] for i in range(4))
    canon: dict[ConnectionSet, int] = {}
    sets: list[ConnectionSet] = []

    def ids(items: Sequence[ConnectionSet]) -> Any:
        out = []
        for c in items:
            i = canon.get(c)
            if i is None:
                i = canon[c] = len(sets)
                sets.append(c)
            out.append(i)
        return np.asarray(out, dtype=np.int64)

    canon_b, canon_a = ids(cb.sets), ids(ca.sets)
    # which workloads have pods in each joint class
    workloads = before.workloads()
    w_of_pod = {p: i for i, w in enumerate(workloads) for p in w.pods}
    members: dict[int, set[int]] = {}
    pod_keys = cb.pods
    for i, j in enumerate(jid.tolist()):
        members.setdefault(j, set()).add(w_of_pod[pod_keys[i]])
    count = np.bincount(jid, minlength=len(joint))
    acc: dict[tuple[int, int], list[ConnectionSet]] = {}
    block = max(1, 2_000_000 // max(len(joint), 1))
    for x0 in range(0, len(joint), block):
        xs = slice(x0, min(len(joint), x0 + block))
        old = canon_b[cb.reduced.cells(rb[xs][:, None], kb_[None, :])]
        new = canon_a[ca.reduced.cells(ra[xs][:, None], ka_[None, :])]
        for x, y in zip(*np.nonzero(old != new), strict=True):
            x_, y_ = int(x) + x0, int(y)
            if x_ == y_ and count[x_] < 2:
                continue  # a pod and itself
            before_set, after_set = sets[int(old[x, y])], sets[int(new[x, y])]
            for wa in members[x_]:
                for wb in members[y_]:
                    if wa == wb:
                        continue
                    got = acc.setdefault((wa, wb), [ConnectionSet.none()] * 4)
                    got[0] = got[0] | before_set
                    got[1] = got[1] | after_set
                    got[2] = got[2] | (after_set - before_set)
                    got[3] = got[3] | (before_set - after_set)
    out = []
    for (wa, wb), (b, a, plus, minus) in acc.items():
        out.append(FlowChange(workloads[wa].key, workloads[wb].key, str(b), str(a), str(plus),
                              str(minus)))
    return out


def _external_changes(before: Cluster, after: Cluster) -> list[ExternalChange]:
    """External addresses each workload may exchange, compared where the policies that apply
    to it differ (a pod's traffic with an external address depends on its own policies only)."""
    out: list[ExternalChange] = []
    for w in before.workloads():
        pod = w.pod
        sb, sa = before.selecting(pod), after.selecting(pod)
        if len(sb) == len(sa) and all((p is q or p == q) and d == e
                                      for (p, d), (q, e) in zip(sb, sa, strict=True)):
            continue
        eb = before.exposure(pod, pods=False, namespaces=False)
        ea = after.exposure(pod, pods=False, namespaces=False)
        for direction, xb, xa in (("ingress", eb.external_ingress, ea.external_ingress),
                                  ("egress", eb.external_egress, ea.external_egress)):
            if xb == xa:
                continue
            out.extend(_external_delta(w.key, direction, xb, xa))
    return out


def _external_delta(workload: str, direction: str, before: Sequence[Any],
                    after: Sequence[Any]) -> list[ExternalChange]:
    """Cut both sides' CIDR groups into common address ranges; one change per connection pair."""
    import ipaddress

    def ranges(groups: Sequence[Any]) -> list[tuple[int, int, int, ConnectionSet]]:
        out: list[tuple[int, int, int, ConnectionSet]] = []
        for g in groups:
            for cidr in g.cidrs:
                net = ipaddress.ip_network(cidr)
                out.append((net.version, int(net.network_address), int(net.broadcast_address),
                            g.connections))
        return out

    rb, ra = ranges(before), ranges(after)
    cuts: dict[int, set[int]] = {4: set(), 6: set()}
    for v, lo, hi, _ in rb + ra:
        cuts[v].update((lo, hi + 1))
    found: dict[tuple[ConnectionSet, ConnectionSet], list[tuple[int, int, int]]] = {}
    for v, points in cuts.items():
        edges = sorted(points)
        for lo, nxt in pairwise(edges):
            x = next((c for vv, a, b, c in rb if vv == v and a <= lo <= b), ConnectionSet.none())
            y = next((c for vv, a, b, c in ra if vv == v and a <= lo <= b), ConnectionSet.none())
            if x != y:
                found.setdefault((x, y), []).append((v, lo, nxt - 1))
    out = []
    for (x, y), spans in found.items():
        cidrs: list[str] = []
        for v, lo, hi in spans:
            cls = ipaddress.IPv4Address if v == 4 else ipaddress.IPv6Address
            cidrs.extend(str(n) for n in ipaddress.summarize_address_range(cls(lo), cls(hi)))
        out.append(ExternalChange(workload, direction, tuple(cidrs), str(x), str(y),
                                  str(y - x), str(x - y)))
    return out


def diff_policies(
    cluster: Cluster,
    old: Sequence[Any],
    new: Sequence[Any],
    *,
    old_label: str = "(old)",
    new_label: str = "(new)",
) -> ConnectivityDiff:
    """Compare connectivity under two policy sets, over the cluster's pods and external addresses.

    Args:
        cluster: an evaluator ``Cluster`` (its own policies are ignored).
        old: the policies before (NetworkPolicies and cluster-wide policies).
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
    changes = _pod_changes(before, after)
    gained = [c for c in changes if c.gained != "none"]
    lost = [c for c in changes if c.lost != "none"]
    old_keys = {_key(p): _canon(p) for p in old}
    new_keys = {_key(p): _canon(p) for p in new}

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
        external=tuple(sorted(_external_changes(before, after),
                              key=lambda e: (e.workload, e.direction, e.cidrs))),
    )


def _resolve(spec: str, other: str) -> list[Any]:
    """Load a spec's policies, NetworkPolicies and cluster-wide ones; a bare git revision means
    ``other``'s path at that revision."""
    if is_git_revision(spec) and not is_git_revision(other):
        with git_revision_files(spec, other) as local:
            return list(load_objects(str(local)))
    return list(load_objects(spec))


def diff_sources(old: str, new: str, cluster: Cluster, *,
                 allow_empty: bool = True) -> ConnectivityDiff:
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
