"""Replay recorded traffic against a policy set: what would it cut, and why?

The question before the first default deny in a running namespace ("apply default-deny-all in
staging, watch what breaks", as the lesson puts it), answered offline: every recorded connection
(`netpol_dsl.flows`) is asked of the evaluator against the policies of a ``Cluster``: the current
manifests, a proposed ``PolicySet`` (``cluster.with_policies(...)``), or the current ones plus a
proposed default deny. The connections it would deny are listed grouped by workload pair,
protocol and port, each with how often it was recorded and the evaluator's explanation.

Only connections that got through are replayed unless asked (``include_dropped``): a record
whose verdict was ``DROPPED`` did not work before either, so denying it breaks nothing.

Example:
    >>> import io
    >>> from netpol_dsl import PolicySet, deny_all
    >>> from netpol_dsl.evaluate import Cluster, Pod
    >>> from netpol_dsl.flows import read_flows
    >>> cluster = Cluster(pods=[Pod("shop", "web", {"app": "web"}), Pod("shop", "db", {"app": "db"})])
    >>> log = read_flows(io.StringIO("shop/web,shop/db,5432,TCP,40\\n"))
    >>> replay(log, cluster).ok
    True
    >>> report = replay(log, cluster.with_policies(PolicySet(namespace="shop").add(deny_all()).compile()))
    >>> [(b.src, b.dst, b.port, b.records) for b in report.broken]
    [('shop/web[Pod]', 'shop/db[Pod]', 5432, 40)]
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netpol_dsl.flows import FlowLog, ResolvedFlows, Unresolved

if TYPE_CHECKING:
    from netpol_dsl.evaluate import Cluster

__all__ = ["BrokenFlow", "ReplayReport", "replay"]

SKIP_DROPPED = "dropped when recorded (verdict DROPPED or ERROR)"
SKIP_EXTERNAL = "neither end is a pod of the inventory"
SKIP_UNRESOLVED = "with an end not in the inventory"


@dataclass(frozen=True, slots=True)
class BrokenFlow:
    """Recorded connections from one workload (or address) to another on one port that the
    policies would deny.

    Attributes:
        src: the source workload (``namespace/name[Kind]``) or address.
        dst: the destination workload or address.
        protocol: ``TCP``, ``UDP`` or ``SCTP``.
        port: the destination port.
        records: how many records of these connections there are.
        connections: how many distinct recorded connections (pod pairs as recorded).
        denied_pairs: pod pairs (or pod and address) denied.
        allowed_pairs: pod pairs of the same workloads and port that stay allowed (when only
            some pods are cut off).
        example: a denied pair, ``(src, dst)``, whose explanation `explain` gives.
        where: the first record, ``file:line``.

    Example:
        >>> b = BrokenFlow("a/web[Deployment]", "a/db[StatefulSet]", "TCP", 5432, 40, 2, 2, 0,
        ...                ("a/web-1", "a/db-0"), "f.json:3")
        >>> str(b)
        'a/web[Deployment] -> a/db[StatefulSet] TCP 5432: 40 records'
    """

    src: str
    dst: str
    protocol: str
    port: int
    records: int
    connections: int
    denied_pairs: int
    allowed_pairs: int
    example: tuple[str, str]
    where: str
    _cluster: Any = field(default=None, repr=False, compare=False)

    def explain(self) -> str:
        """Why the example pair is denied: the evaluator's explanation.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> print(BrokenFlow("a/x[Pod]", "a/y[Pod]", "TCP", 80, 1, 1, 1, 0, ("a/x", "a/y"),
            ...                  "-").explain())
            (no cluster to explain with)
        """
        if self._cluster is None:
            return "(no cluster to explain with)"
        s, d = self.example
        text: str = self._cluster.allows(s, d, self.port, self.protocol).explain()
        return text

    def to_dict(self, *, explain: bool = True) -> dict[str, Any]:
        """A JSON-ready dict (with the explanation unless ``explain=False``).

        Example:
            >>> b = BrokenFlow("a/x[Pod]", "8.8.8.8", "UDP", 53, 3, 1, 1, 0, ("a/x", "8.8.8.8"), "f:1")
            >>> sorted(b.to_dict(explain=False))
            ['allowed_pairs', 'connections', 'denied_pairs', 'dst', 'example', 'first_seen', 'port', 'protocol', 'records', 'src']
        """
        out: dict[str, Any] = {
            "src": self.src, "dst": self.dst, "protocol": self.protocol, "port": self.port,
            "records": self.records, "connections": self.connections,
            "denied_pairs": self.denied_pairs, "allowed_pairs": self.allowed_pairs,
            "example": list(self.example), "first_seen": self.where,
        }
        if explain:
            out["explanation"] = self.explain()
        return out

    def __str__(self) -> str:
        partial = (f" ({self.denied_pairs} of {self.denied_pairs + self.allowed_pairs} pod pairs)"
                   if self.allowed_pairs else "")
        return (f"{self.src} -> {self.dst} {self.protocol} {self.port}: {self.records} "
                f"record{'s' if self.records != 1 else ''}{partial}")


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What replaying recorded traffic against a policy set found.

    Attributes:
        policies: what was replayed against, in words.
        records: flow records read.
        connections: distinct recorded connections read.
        evaluated: records asked of the evaluator.
        allowed: records the policies allow.
        denied: records the policies deny.
        broken: the denied connections, grouped by workload pair, protocol and port; most
            records first.
        unresolved: ends not in the inventory, whose records could not be evaluated.
        skipped: records not evaluated, by reason (those of the flow log included).
        include_dropped: whether records dropped when recorded were replayed too.

    Example:
        >>> ReplayReport("nothing").ok
        True
    """

    policies: str
    records: int = 0
    connections: int = 0
    evaluated: int = 0
    allowed: int = 0
    denied: int = 0
    broken: tuple[BrokenFlow, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()
    skipped: Mapping[str, int] = field(default_factory=dict)
    include_dropped: bool = False

    @property
    def ok(self) -> bool:
        """Nothing recorded would be denied.

        Example:
            >>> ReplayReport("x", broken=(BrokenFlow("a", "b", "TCP", 1, 1, 1, 1, 0, ("a", "b"), ""),)).ok
            False
        """
        return not self.broken

    def to_dict(self, *, explain: bool = True) -> dict[str, Any]:
        """A JSON-ready dict; explanations included unless ``explain=False``.

        Example:
            >>> ReplayReport("p").to_dict()["ok"]
            True
        """
        return {
            "policies": self.policies,
            "ok": self.ok,
            "records": self.records,
            "connections": self.connections,
            "evaluated": self.evaluated,
            "allowed": self.allowed,
            "denied": self.denied,
            "include_dropped": self.include_dropped,
            "broken": [b.to_dict(explain=explain) for b in self.broken],
            "unresolved": [{"end": u.end, "reason": u.reason, "connections": u.flows,
                            "records": u.records, "first_seen": u.where}
                           for u in self.unresolved],
            "skipped": dict(self.skipped),
        }

    def to_json(self) -> str:
        """`to_dict` as indented JSON.

        Example:
            >>> print(ReplayReport("p").to_json()[:34])
            {
              "policies": "p",
              "ok": true,
        """
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def _summary(self) -> list[str]:
        n_broken = sum(b.records for b in self.broken)
        lines = [f"replayed {_n(self.evaluated, 'record')} of {_n(self.records, 'flow record')} "
                 f"({_n(self.connections, 'connection')}) against {self.policies}"]
        if self.broken:
            lines.append(f"would break {_n(len(self.broken), 'workload pair and port', 's')} "
                         f"({_n(n_broken, 'record')}); {_n(self.allowed, 'record')} allowed")
        else:
            lines.append(f"nothing recorded would break: {_n(self.allowed, 'record')} allowed")
        return lines

    def _tail(self) -> list[str]:
        lines = []
        if self.unresolved:
            total = sum(u.records for u in self.unresolved)
            lines.append(f"not in the inventory ({_n(total, 'record')} not evaluated):")
            lines.extend(f"  {u}" for u in self.unresolved)
        if self.skipped:
            lines.append("not evaluated: " + "; ".join(
                f"{v:,} {k}" for k, v in sorted(self.skipped.items(), key=lambda kv: -kv[1])))
        return lines

    def to_text(self, *, limit: int | None = None) -> str:
        """A report for people: the summary, each broken flow with its explanation (the first
        ``limit``), ends not in the inventory and what was not evaluated.

        Example:
            >>> print(ReplayReport("p", records=2, connections=1, evaluated=2, allowed=2).to_text(), end="")
            replayed 2 records of 2 flow records (1 connection) against p
            nothing recorded would break: 2 records allowed
        """
        lines = self._summary()
        shown = self.broken if limit is None else self.broken[:limit]
        for b in shown:
            lines.append(f"  {b} (first {b.where})")
            lines.extend("      " + ln for ln in b.explain().splitlines())
        if len(shown) < len(self.broken):
            lines.append(f"  ... and {len(self.broken) - len(shown)} more (use --limit or "
                         "--format json)")
        lines.extend(self._tail())
        return "\n".join(lines) + "\n"

    def to_markdown(self, *, limit: int | None = None) -> str:
        """A Markdown report (for a pull request comment): a table of what would break, then
        each explanation in a collapsed section.

        Example:
            >>> print(ReplayReport("p").to_markdown().splitlines()[0])
            ### Replay of recorded traffic against p
        """
        lines = [f"### Replay of recorded traffic against {_md(self.policies)}", ""]
        summary = self._summary()
        lines.append(f"{summary[0].replace('replayed', 'Replayed', 1)}.")
        lines.append("")
        if not self.broken:
            lines.append(f"✅ **Nothing recorded would break** ({_n(self.allowed, 'record')} "
                         "allowed).")
        else:
            n_broken = sum(b.records for b in self.broken)
            lines.append(f"❌ **{_n(len(self.broken), 'workload pair and port', 's')} would "
                         f"break** ({_n(n_broken, 'record')}).")
            lines += ["", "| From | To | Port | Records | First seen |", "|---|---|---|---|---|"]
            shown = self.broken if limit is None else self.broken[:limit]
            for b in shown:
                part = (f" ({b.denied_pairs} of {b.denied_pairs + b.allowed_pairs} pod pairs)"
                        if b.allowed_pairs else "")
                lines.append(f"| `{_md(b.src)}` | `{_md(b.dst)}` | {b.protocol} {b.port} | "
                             f"{b.records:,}{part} | `{_md(b.where)}` |")
            if len(shown) < len(self.broken):
                lines.append(f"| ... | {len(self.broken) - len(shown)} more | | | |")
            for b in shown:
                lines += ["", f"<details><summary>Why {_md(b.src)} → {_md(b.dst)} "
                          f"{b.protocol} {b.port} is denied</summary>", "", "```text",
                          b.explain(), "```", "", "</details>"]
        tail = self._tail()
        if tail:
            lines += ["", "```text", *tail, "```"]
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return "\n".join(self._summary())


def _n(count: int, noun: str, plural: str = "s") -> str:
    if noun.endswith("pair and port"):
        word = "workload pairs and ports" if count != 1 else noun
        return f"{count:,} {word}"
    return f"{count:,} {noun}{plural if count != 1 else ''}"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def replay(
    flows: FlowLog | ResolvedFlows,
    cluster: Cluster,
    *,
    include_dropped: bool = False,
    policies: str | None = None,
) -> ReplayReport:
    """Evaluate every recorded connection against ``cluster``'s policies.

    Args:
        flows: flows read with ``read_flows`` (matched against ``cluster`` here), or already
            matched against an inventory with the same pods (``FlowLog.resolve``).
        cluster: the inventory and the policies to replay against; ``cluster.with_policies``
            gives the same pods other policies.
        include_dropped: replay records whose verdict was ``DROPPED``/``ERROR`` too.
        policies: how to name the policy set in the report (default: a count).

    Returns:
        The report; ``report.ok`` is true when nothing recorded would be denied.

    Example:
        >>> import io
        >>> from netpol_dsl.evaluate import Cluster, Pod
        >>> from netpol_dsl.flows import read_flows
        >>> log = read_flows(io.StringIO("a/x,1.1.1.1,443,TCP\\nb/gone,a/x,80,TCP\\n"))
        >>> r = replay(log, Cluster(pods=[Pod("a", "x")]))
        >>> r.ok, r.evaluated, [u.end for u in r.unresolved]
        (True, 1, ['b/gone'])
    """
    resolved = flows if isinstance(flows, ResolvedFlows) else flows.resolve(cluster)
    log = resolved.log
    skipped: Counter[str] = Counter(log.skipped)
    workload_of = {key: w.id for w in cluster.workloads() for key in w.pods}
    queries: list[tuple[str, str, int, str]] = []
    external: dict[tuple[str, str, int, str], bool] = {}
    plans: list[tuple[Any, list[tuple[str, str, int]]]] = []  # flow, [(s, d, query or -1)]
    for rf in resolved.flows:
        f = rf.flow
        if not include_dropped and f.dropped:
            skipped[SKIP_DROPPED] += f.dropped
        weight = f.weight(include_dropped=include_dropped)
        if not weight:
            continue
        src, dst = rf.src, rf.dst
        if isinstance(src, str) and isinstance(dst, str):
            skipped[SKIP_EXTERNAL] += weight
            continue
        pairs: list[tuple[str, str, int]] = []
        for s in (src,) if isinstance(src, str) else src:
            for d in (dst,) if isinstance(dst, str) else dst:
                if isinstance(src, str) or isinstance(dst, str):
                    ext = (s, d, f.port, f.protocol)
                    if ext not in external:
                        external[ext] = bool(cluster.allows(s, d, f.port, f.protocol))
                    pairs.append((s, d, -1 if external[ext] else -2))
                else:
                    pairs.append((s, d, len(queries)))
                    queries.append((s, d, f.port, f.protocol))
        plans.append((rf, pairs))
    answers = cluster.allows_pairs(queries)
    for u in resolved.unresolved:
        skipped[SKIP_UNRESOLVED] += u.records
    groups: dict[tuple[str, str, str, int], list[Any]] = {}
    evaluated = allowed = denied = 0
    for rf, pairs in plans:
        f = rf.flow
        weight = f.weight(include_dropped=include_dropped)
        evaluated += weight
        bad = [(s, d) for s, d, q in pairs if (q == -2 if q < 0 else not answers[q])]
        s0, d0 = bad[0] if bad else pairs[0][:2]
        key = (workload_of.get(s0, s0), workload_of.get(d0, d0), f.protocol, f.port)
        entry = groups.get(key)
        if entry is None:
            entry = groups[key] = [0, 0, 0, 0, None, ""]
        entry[3] += len(pairs) - len(bad)
        if not bad:
            allowed += weight
            continue
        denied += weight
        entry[0] += weight
        entry[1] += 1
        entry[2] += len(bad)
        if entry[4] is None:
            entry[4], entry[5] = (s0, d0), f.where
    broken = [BrokenFlow(s, d, proto, port, e[0], e[1], e[2], e[3], e[4], e[5], cluster)
              for (s, d, proto, port), e in groups.items() if e[0]]
    broken.sort(key=lambda b: (-b.records, b.src, b.dst, b.protocol, b.port))
    label = policies if policies is not None else (
        f"{len(cluster.policies)} polic{'y' if len(cluster.policies) == 1 else 'ies'}")
    return ReplayReport(
        policies=label, records=log.records, connections=len(log.flows), evaluated=evaluated,
        allowed=allowed, denied=denied, broken=tuple(broken), unresolved=resolved.unresolved,
        skipped=dict(sorted(skipped.items())), include_dropped=include_dropped)
