"""Verdict: whether one connection is allowed, and why, as text and as data."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DirectionVerdict", "PolicyMiss", "RuleMatch", "RuleMiss", "Verdict", "_verdict"]

Direction = Literal["ingress", "egress"]

#: The last verdicts whose truth value was asked for, with a sequence number; the pytest plugin
#: reads it to print the explanation of a verdict that failed an ``assert``. Bounded, so it never
#: keeps more than a few verdicts (and their clusters) alive.
_TRUTH_LOG: deque[tuple[int, Verdict]] = deque(maxlen=32)
_truth_seq = [0]
_PLUGIN = "netpol_dsl.pytest_plugin"


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that allows the connection: policy, direction, rule index and the peer that matched.

    ``peer`` is the index in ``from``/``to``, or None when the rule has no peers (all sources or
    destinations). ``port`` is the index in ``ports``, or None when the rule has no ports.

    Example:
        >>> m = RuleMatch("payments/allow-web", "ingress", 0, 1, "podSelector {app=web}", None, "all ports")
        >>> m.where
        'payments/allow-web spec.ingress[0].from[1]'
    """

    policy: str
    direction: Direction
    rule: int
    peer: int | None
    peer_text: str
    port: int | None
    port_text: str

    @property
    def where(self) -> str:
        """The field path of the matching peer (or rule) inside the policy.

        Example:
            >>> RuleMatch("a/p", "egress", 2, None, "any", None, "all ports").where
            'a/p spec.egress[2]'
        """
        base = f"{self.policy} spec.{self.direction}[{self.rule}]"
        if self.peer is None:
            return base
        side = "from" if self.direction == "ingress" else "to"
        return f"{base}.{side}[{self.peer}]"

    def to_dict(self) -> dict[str, Any]:
        """This match as plain data.

        Example:
            >>> RuleMatch("a/p", "egress", 0, None, "any", None, "all ports").to_dict()["rule"]
            0
        """
        return {
            "policy": self.policy, "direction": self.direction, "rule": self.rule,
            "peer": self.peer, "peer_text": self.peer_text, "port": self.port,
            "port_text": self.port_text,
        }


@dataclass(frozen=True, slots=True)
class RuleMiss:
    """Why one rule (or a policy without rules) did not allow the connection.

    ``kind`` is ``"no-rules"``, ``"peer"`` (no peer matched), ``"port"`` (no port matched),
    ``"named-port"`` (a named port the destination does not declare, or declares on another
    number), or ``"peer+port"``. ``details`` gives one sentence per peer or port that failed.

    Example:
        >>> RuleMiss(0, "port", ("TCP 80 is not in TCP 8080",)).text
        'rule 0: port not in rule: TCP 80 is not in TCP 8080'
    """

    rule: int | None
    kind: str
    details: tuple[str, ...]

    @property
    def text(self) -> str:
        """One line: which rule, the kind of mismatch, and the details.

        Example:
            >>> RuleMiss(None, "no-rules", ("it has no ingress rules",)).text
            'it has no ingress rules'
        """
        detail = "; ".join(self.details)
        if self.rule is None:
            return detail
        label = {
            "peer": "peer selector did not match",
            "port": "port not in rule",
            "named-port": "named port not declared on destination",
            "peer+port": "neither peer nor port matched",
        }.get(self.kind, self.kind)
        return f"rule {self.rule}: {label}: {detail}"

    def to_dict(self) -> dict[str, Any]:
        """This miss as plain data.

        Example:
            >>> RuleMiss(1, "peer", ("x",)).to_dict()
            {'rule': 1, 'kind': 'peer', 'details': ['x']}
        """
        return {"rule": self.rule, "kind": self.kind, "details": list(self.details)}


@dataclass(frozen=True, slots=True)
class PolicyMiss:
    """A policy that isolates the pod but none of whose rules allows the connection.

    Example:
        >>> PolicyMiss("a/deny", (RuleMiss(None, "no-rules", ("it has no ingress rules",)),)).to_dict()
        {'policy': 'a/deny', 'rules': [{'rule': None, 'kind': 'no-rules', 'details': ['it has no ingress rules']}]}
    """

    policy: str
    misses: tuple[RuleMiss, ...]

    def to_dict(self) -> dict[str, Any]:
        """This policy's misses as plain data.

        Example:
            >>> PolicyMiss("a/p", ()).to_dict()
            {'policy': 'a/p', 'rules': []}
        """
        return {"policy": self.policy, "rules": [m.to_dict() for m in self.misses]}


@dataclass(frozen=True, slots=True)
class DirectionVerdict:
    """One side of a connection: the source's egress or the destination's ingress.

    Args:
        direction: ``"ingress"`` (the destination's policies) or ``"egress"`` (the source's).
        pod: the pod whose policies decide, or None when that end is not a pod.
        applies: False when no NetworkPolicy can apply to this side (an external end, a
            hostNetwork pod, or a pod talking to itself); ``note`` says which.
        isolated: whether some policy selects the pod for this direction.
        allowed: whether this side lets the connection through.
        isolating: keys of the policies that isolate the pod for this direction.
        allowed_by: every rule that allows it (the first one is quoted as deciding).
        denied_by: for each isolating policy, why none of its rules allowed it (on a denial).
        note: a sentence for the cases that need no policy.

    Example:
        >>> d = DirectionVerdict("ingress", "a/web", True, False, True)
        >>> d.text()
        'ingress to a/web: allowed: not isolated (no policy in namespace a selects it for ingress)'
    """

    direction: Direction
    pod: str | None
    applies: bool
    isolated: bool
    allowed: bool
    isolating: tuple[str, ...] = ()
    allowed_by: tuple[RuleMatch, ...] = ()
    denied_by: tuple[PolicyMiss, ...] = ()
    note: str = ""

    @property
    def deciding(self) -> RuleMatch | None:
        """The rule quoted as allowing the connection (the first that does), if any.

        Example:
            >>> DirectionVerdict("egress", "a/web", True, False, True).deciding is None
            True
        """
        return self.allowed_by[0] if self.allowed_by else None

    def text(self) -> str:
        """A short paragraph: allowed or denied on this side, and why.

        Example:
            >>> print(DirectionVerdict("egress", None, False, False, True, note="the source is external").text())
            egress: not applicable: the source is external
        """
        word = "to" if self.direction == "ingress" else "from"
        head = f"{self.direction} {word} {self.pod}" if self.pod else self.direction
        if not self.applies:
            return f"{head}: not applicable: {self.note}"
        if not self.isolated:
            ns = self.pod.split("/", 1)[0] if self.pod else "?"
            return (f"{head}: allowed: not isolated (no policy in namespace {ns} selects it for "
                    f"{self.direction})")
        lines: list[str] = []
        policies = ", ".join(self.isolating)
        count = len(self.isolating)
        iso = f"isolated by {count} polic{'y' if count == 1 else 'ies'} ({policies})"
        if self.allowed:
            m = self.allowed_by[0]
            lines.append(f"{head}: allowed: {iso}; {m.where} allows it: peer {m.peer_text}, "
                         f"port {m.port_text}")
        else:
            lines.append(f"{head}: DENIED: {iso}; no rule allows it:")
            for pm in self.denied_by:
                lines.append(f"  - {pm.policy}:")
                lines.extend(f"      {m.text}" for m in pm.misses)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """This side as plain data.

        Example:
            >>> DirectionVerdict("ingress", "a/web", True, False, True).to_dict()["allowed"]
            True
        """
        return {
            "direction": self.direction,
            "pod": self.pod,
            "applies": self.applies,
            "isolated": self.isolated,
            "allowed": self.allowed,
            "isolating": list(self.isolating),
            "allowed_by": [m.to_dict() for m in self.allowed_by],
            "denied_by": [p.to_dict() for p in self.denied_by],
            "note": self.note,
        }


class Verdict:
    """Whether ``src`` may open a connection to ``dst`` on ``protocol``/``port``, and why.

    True in a boolean context when allowed, so ``assert cluster.allows(...)`` reads naturally;
    the pytest plugin prints ``explain()`` when such an assertion fails. The per-direction
    details (``ingress``, ``egress``) are worked out on first access.

    Example:
        >>> from netpol_dsl.evaluate import Cluster, Pod
        >>> cluster = Cluster(pods=[Pod("a", "web"), Pod("a", "db")])
        >>> v = cluster.allows("a/web", "a/db", 5432)
        >>> bool(v), str(v)
        (True, 'ALLOWED: a/web -> a/db on TCP 5432')
        >>> v.to_dict()["ingress"]["isolated"]
        False
    """

    __slots__ = ("_detail", "_sides", "allowed", "dst", "port", "port_name", "protocol", "src")

    def __init__(
        self,
        *,
        allowed: bool,
        src: str,
        dst: str,
        port: int,
        protocol: str,
        detail: Callable[[], tuple[DirectionVerdict, DirectionVerdict]],
        port_name: str | None = None,
    ) -> None:
        """Made by ``Cluster.allows``; ``detail`` computes (egress, ingress) when first needed."""
        self.allowed = allowed
        self.src = src
        self.dst = dst
        self.port = port
        self.protocol = protocol
        self.port_name = port_name
        self._detail: Any = detail
        self._sides: tuple[DirectionVerdict, DirectionVerdict] | None = None

    def _load(self) -> tuple[DirectionVerdict, DirectionVerdict]:
        if self._sides is None:
            source = self._detail
            if callable(source):
                self._sides = source()
            else:  # a Cluster, asked lazily by pod keys (see ``_verdict``)
                self._sides = source._detail_keys(self.src, self.dst, self.protocol, self.port)
            self._detail = None
        return self._sides

    @property
    def egress(self) -> DirectionVerdict:
        """The source's side: its egress policies.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 80).egress.isolated
            False
        """
        return self._load()[0]

    @property
    def ingress(self) -> DirectionVerdict:
        """The destination's side: its ingress policies.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 80).ingress.pod
            'a/y'
        """
        return self._load()[1]

    def __bool__(self) -> bool:
        if _PLUGIN in sys.modules:  # only under pytest with the plugin: see _TRUTH_LOG
            _truth_seq[0] += 1
            _TRUTH_LOG.append((_truth_seq[0], self))
        return self.allowed

    @property
    def summary(self) -> str:
        """One line: ALLOWED/DENIED, the two ends, protocol and port.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 53, "UDP").summary
            'ALLOWED: a/x -> a/y on UDP 53'
        """
        word = "ALLOWED" if self.allowed else "DENIED"
        port = f"{self.port} ({self.port_name})" if self.port_name else str(self.port)
        return f"{word}: {self.src} -> {self.dst} on {self.protocol} {port}"

    def explain(self) -> str:
        """Why the connection is allowed or denied, one paragraph per side.

        For a denial: the policies that isolate the pod and, for each, why no rule matched. For
        an allow: the deciding policy, rule and peer.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> print(Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 80).explain())
            ALLOWED: a/x -> a/y on TCP 80
              egress from a/x: allowed: not isolated (no policy in namespace a selects it for egress)
              ingress to a/y: allowed: not isolated (no policy in namespace a selects it for ingress)
        """
        lines = [self.summary]
        for side in (self.egress, self.ingress):
            lines.extend("  " + line for line in side.text().splitlines())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The verdict and both sides' reasons as plain data (JSON-serialisable).

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> d = Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 80).to_dict()
            >>> d["allowed"], d["src"], d["port"], d["egress"]["applies"]
            (True, 'a/x', 80, True)
        """
        return {
            "allowed": self.allowed,
            "src": self.src,
            "dst": self.dst,
            "port": self.port,
            "port_name": self.port_name,
            "protocol": self.protocol,
            "egress": self.egress.to_dict(),
            "ingress": self.ingress.to_dict(),
        }

    def __str__(self) -> str:
        return self.summary

    def __repr__(self) -> str:
        return f"<Verdict {self.summary}>"

    def __rich__(self) -> str:
        # A markup string is a rich renderable; the content is escaped so that names with
        # brackets are printed as they are.
        body = self.explain().replace("[", r"\[")
        colour = "green" if self.allowed else "red"
        head, _, rest = body.partition("\n")
        return f"[bold {colour}]{head}[/]\n{rest}" if rest else f"[bold {colour}]{head}[/]"


def _verdict(allowed: bool, src: str, dst: str, port: int, protocol: str, cluster: Any) -> Verdict:
    """A Verdict without keyword parsing, for ``Cluster.allows``'s hot path; the details come
    from ``cluster._detail_keys(src, dst, protocol, port)`` when first asked for."""
    v = _new(Verdict)
    v.allowed = allowed
    v.src = src
    v.dst = dst
    v.port = port
    v.protocol = protocol
    v.port_name = None
    v._detail = cluster
    v._sides = None
    return v


_new = object.__new__
