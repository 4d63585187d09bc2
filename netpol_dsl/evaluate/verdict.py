"""Verdict: whether one connection is allowed, and why, as text and as data."""

from __future__ import annotations

import re
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from netpol_dsl.errors import AmbiguousResultError

__all__ = ["Decision", "DirectionVerdict", "PairVerdict", "PolicyMiss", "RuleMatch", "RuleMiss",
           "Verdict", "_verdict"]

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
class Decision:
    """A rule of a cluster-wide policy (admin or baseline tier) that decided, or passed.

    Example:
        >>> d = Decision("admin", "AdminNetworkPolicy", "deny-all-egress", 10, "spec.egress[0]",
        ...              "deny", "deny-all")
        >>> d.text
        "admin AdminNetworkPolicy deny-all-egress (priority 10) spec.egress[0] (rule 'deny-all') Deny"
    """

    tier: str
    kind: str
    policy: str
    priority: int
    path: str
    action: str
    rule_name: str | None = None
    peer: str = ""
    port: str = ""

    @property
    def text(self) -> str:
        """One phrase: tier, kind, policy, priority, rule path and action.

        Example:
            >>> Decision("baseline", "BaselineAdminNetworkPolicy", "default", 0, "spec.ingress[1]",
            ...          "allow").text
            'baseline BaselineAdminNetworkPolicy default spec.ingress[1] Allow'
        """
        prio = f" (priority {self.priority})" if self.kind != "BaselineAdminNetworkPolicy" else ""
        name = f" (rule {self.rule_name!r})" if self.rule_name else ""
        return (f"{self.tier} {self.kind} {self.policy}{prio} {self.path}{name} "
                f"{self.action.capitalize()}")

    def to_dict(self) -> dict[str, Any]:
        """As plain data.

        Example:
            >>> Decision("admin", "AdminNetworkPolicy", "p", 1, "spec.egress[0]", "pass").to_dict()["action"]
            'pass'
        """
        return {"tier": self.tier, "kind": self.kind, "policy": self.policy,
                "priority": self.priority, "path": self.path, "action": self.action,
                "rule_name": self.rule_name, "peer": self.peer, "port": self.port}


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
        decided_by: the admin or baseline rule that decided, when one did.
        passes: the Pass rules that handed the decision on, in order.
        tiers: whether cluster-wide (admin/baseline) rules apply to this pod at all.
        undetermined: the answer depends on DNS (a ``domainNames`` peer) and is not known
            offline; ``allowed`` is then the answer when the domain does not match.

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
    decided_by: Decision | None = None
    passes: tuple[Decision, ...] = ()
    tiers: bool = False
    undetermined: bool = False

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
        verdict = "allowed" if self.allowed else "DENIED"
        passed = "".join(f"passed by {p.text}; " for p in self.passes)
        unknown = (" (undetermined offline: a domainNames peer depends on DNS; this is the "
                   "answer when the domain does not match)") if self.undetermined else ""
        note = f" ({self.note})" if self.note else ""
        if self.decided_by is not None:
            d = self.decided_by
            later = ("; NetworkPolicies not consulted" if d.tier == "admin" else
                     f"; no NetworkPolicy selects it for {self.direction}")
            return f"{head}: {verdict}{unknown}: {passed}{d.text}{later}{note}"
        if not self.isolated:
            ns = self.pod.split("/", 1)[0] if self.pod else "?"
            if self.tiers or self.passes:
                return (f"{head}: {verdict}{unknown}: {passed}no cluster-wide rule matches and no "
                        f"NetworkPolicy selects it for {self.direction} (default: allowed){note}")
            return (f"{head}: allowed: not isolated (no policy in namespace {ns} selects it for "
                    f"{self.direction}){note}")
        lines: list[str] = []
        policies = ", ".join(self.isolating)
        count = len(self.isolating)
        iso = f"{passed}isolated by {count} polic{'y' if count == 1 else 'ies'} ({policies})"
        if self.allowed:
            m = self.allowed_by[0]
            lines.append(f"{head}: allowed{unknown}: {iso}; {m.where} allows it: peer "
                         f"{m.peer_text}, port {m.port_text}{note}")
        else:
            lines.append(f"{head}: DENIED{unknown}: {iso}; no rule allows it:{note}")
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
            "decided_by": self.decided_by.to_dict() if self.decided_by else None,
            "passes": [p.to_dict() for p in self.passes],
            "undetermined": self.undetermined,
        }


@dataclass(frozen=True, slots=True)
class PairVerdict:
    """The answer for one pod pair of a question asked about several.

    Example:
        >>> PairVerdict("a/web-0", "a/api-0", True).text
        'ALLOWED: a/web-0 -> a/api-0'
    """

    src: str
    dst: str
    allowed: bool

    @property
    def text(self) -> str:
        """``ALLOWED|DENIED: src -> dst``.

        Example:
            >>> PairVerdict("a/x", "a/y", False).text
            'DENIED: a/x -> a/y'
        """
        return f"{'ALLOWED' if self.allowed else 'DENIED'}: {self.src} -> {self.dst}"


class Verdict:
    """Whether ``src`` may open a connection to ``dst`` on ``protocol``/``port``, and why.

    True in a boolean context when allowed, so ``assert cluster.allows(...)`` reads naturally;
    the pytest plugin prints ``explain()`` when such an assertion fails. The per-direction
    details (``ingress``, ``egress``) are worked out on first access.

    When an end stands for several pods (a selector, a workload with replicas, a Service), the
    verdict covers every pod pair: it is true only if every pair is allowed and false only if
    none is; when some are and some are not, using it as a bool raises ``AmbiguousResultError``
    (ask ``.all()``, ``.none()``, ``.any()`` or ``.pairs()``), and ``explain()`` names the pairs
    on each side.

    Example:
        >>> from netpol_dsl.evaluate import Cluster, Pod
        >>> cluster = Cluster(pods=[Pod("a", "web"), Pod("a", "db")])
        >>> v = cluster.allows("a/web", "a/db", 5432)
        >>> bool(v), str(v)
        (True, 'ALLOWED: a/web -> a/db on TCP 5432')
        >>> v.to_dict()["ingress"]["isolated"]
        False
    """

    __slots__ = ("_allowed", "_detail", "_pairs", "_sides", "dst", "notes", "port", "port_name",
                 "protocol", "src", "undetermined")

    def __init__(
        self,
        *,
        allowed: bool | None,
        src: str,
        dst: str,
        port: int,
        protocol: str,
        detail: Callable[[], tuple[DirectionVerdict, DirectionVerdict]],
        port_name: str | None = None,
        pairs: Callable[[], tuple[tuple[PairVerdict, ...], Verdict | None, Verdict | None]]
        | None = None,
        notes: tuple[str, ...] = (),
        undetermined: bool = False,
    ) -> None:
        """Made by ``Cluster.allows``; ``detail`` computes (egress, ingress) when first needed.

        ``allowed`` is None when some pairs are allowed and some are not; ``pairs`` then gives
        every pair's answer and one allowed and one denied pair's verdicts.
        """
        self._allowed = allowed
        self.src = src
        self.dst = dst
        self.port = port
        self.protocol = protocol
        self.port_name = port_name
        self._detail: Any = detail
        self._sides: tuple[DirectionVerdict, DirectionVerdict] | None = None
        self._pairs: Any = pairs
        #: sentences about how the question was read (a Service port mapped to its targetPort...)
        self.notes = notes
        #: whether the answer depends on DNS (domainNames peers) and cannot be known offline
        self.undetermined = undetermined

    # ------------------------------------------------------------------ the answer

    @property
    def mixed(self) -> bool:
        """True when some pod pairs are allowed and some are not.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 80).mixed
            False
        """
        return self._allowed is None

    @property
    def allowed(self) -> bool:
        """Whether the connection is allowed (for every pod pair the ends stand for).

        Raises:
            AmbiguousResultError: some pairs are allowed and some are not.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 80).allowed
            True
        """
        if self._allowed is None:
            raise AmbiguousResultError(self._ambiguity())
        return self._allowed

    def _ambiguity(self) -> str:
        pairs = self.pairs()
        ok = sum(p.allowed for p in pairs)
        return (f"{ok} of {len(pairs)} pod pairs allowed ({self.src} -> {self.dst} on "
                f"{self.protocol} {self.port}); ask .all() / .none() / .any() / .pairs(), or name "
                "one pod")

    def all(self) -> bool:
        """Every pod pair is allowed.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 80).all()
            True
        """
        return self._allowed is True

    def none(self) -> bool:
        """No pod pair is allowed.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 80).none()
            False
        """
        return self._allowed is False

    def any(self) -> bool:
        """Some pod pair is allowed.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 80).any()
            True
        """
        return self._allowed is not False

    def _load_pairs(self) -> tuple[tuple[PairVerdict, ...], Verdict | None, Verdict | None]:
        if callable(self._pairs):
            self._pairs = self._pairs()
        if self._pairs is None:
            me = PairVerdict(self.src, self.dst, bool(self._allowed))
            return (me,), (self if self._allowed else None), (None if self._allowed else self)
        out: tuple[tuple[PairVerdict, ...], Verdict | None, Verdict | None] = self._pairs
        return out

    def pairs(self) -> tuple[PairVerdict, ...]:
        """Every pod pair's answer (one pair when both ends are single pods).

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> [p.text for p in Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 80).pairs()]
            ['ALLOWED: a/x -> a/y']
        """
        return self._load_pairs()[0]

    def _one(self) -> Verdict:
        """A single-pair verdict to explain: this one, or a representative pair of a group."""
        if self._pairs is None:
            return self
        _, ok, bad = self._load_pairs()
        one = bad if self._allowed is False or (self._allowed is None and bad) else ok
        assert one is not None
        return one

    def _load(self) -> tuple[DirectionVerdict, DirectionVerdict]:
        if self._sides is None:
            if self._pairs is not None:
                self._sides = self._one()._load()
                return self._sides
            source = self._detail
            if callable(source):
                self._sides = source()
            else:  # a Cluster, asked lazily by pod keys (see ``_verdict``)
                self._sides = source._detail_keys(self.src, self.dst, self.protocol, self.port)
            self._detail = None
        return self._sides

    @property
    def egress(self) -> DirectionVerdict:
        """The source's side: its egress policies (of a representative pair, for a group).

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 80).egress.isolated
            False
        """
        return self._load()[0]

    @property
    def ingress(self) -> DirectionVerdict:
        """The destination's side: its ingress policies (of a representative pair, for a group).

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
        """One line: ALLOWED/DENIED (or MIXED), the two ends, protocol and port.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 53, "UDP").summary
            'ALLOWED: a/x -> a/y on UDP 53'
        """
        if self._allowed is None:
            pairs = self.pairs()
            word = f"MIXED ({sum(p.allowed for p in pairs)} of {len(pairs)} pod pairs allowed)"
        else:
            word = "ALLOWED" if self._allowed else "DENIED"
            if self._pairs is not None and len(self.pairs()) > 1:
                word += f" (all {len(self.pairs())} pod pairs)"
        if self.undetermined:
            word += " (undetermined offline: depends on DNS)"
        port = f"{self.port} ({self.port_name})" if self.port_name else str(self.port)
        return f"{word}: {self.src} -> {self.dst} on {self.protocol} {port}"

    def explain(self) -> str:
        """Why the connection is allowed or denied, one paragraph per side.

        For a denial: the policies that isolate the pod and, for each, why no rule matched; a
        cluster-wide rule that decided, with its tier, priority and every Pass before it. For an
        allow: the deciding policy, rule and peer. For several pod pairs: which pairs are
        allowed and which denied, then one pair of each kind explained.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> print(Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 80).explain())
            ALLOWED: a/x -> a/y on TCP 80
              egress from a/x: allowed: not isolated (no policy in namespace a selects it for egress)
              ingress to a/y: allowed: not isolated (no policy in namespace a selects it for ingress)
        """
        lines = [self.summary]
        lines.extend("  " + n for n in self.notes)
        if self._pairs is None or len(self.pairs()) == 1:
            one = self._one()
            for side in (one.egress, one.ingress):
                lines.extend("  " + line for line in side.text().splitlines())
            return "\n".join(lines)
        pairs, ok, bad = self._load_pairs()
        for title, want in (("allowed", True), ("denied", False)):
            chosen = [p for p in pairs if p.allowed == want]
            if not chosen:
                continue
            shown = ", ".join(f"{p.src} -> {p.dst}" for p in chosen[:10])
            more = f" and {len(chosen) - 10} more" if len(chosen) > 10 else ""
            lines.append(f"  {title} ({len(chosen)}): {shown}{more}")
        for example in (bad, ok):
            if example is None:
                continue
            lines.append(f"  for example, {example.summary}")
            for side in (example.egress, example.ingress):
                lines.extend("    " + line for line in side.text().splitlines())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The verdict and both sides' reasons as plain data (JSON-serialisable).

        ``allowed`` is None for a mixed answer; ``pairs`` lists every pod pair when the ends
        stand for several pods.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> d = Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 80).to_dict()
            >>> d["allowed"], d["src"], d["port"], d["egress"]["applies"]
            (True, 'a/x', 80, True)
        """
        out: dict[str, Any] = {
            "allowed": self._allowed,
            "src": self.src,
            "dst": self.dst,
            "port": self.port,
            "port_name": self.port_name,
            "protocol": self.protocol,
            "egress": self.egress.to_dict(),
            "ingress": self.ingress.to_dict(),
        }
        if self.notes:
            out["notes"] = list(self.notes)
        if self.undetermined:
            out["undetermined"] = True
        if self._pairs is not None and len(self.pairs()) > 1:
            out["pairs"] = [{"src": p.src, "dst": p.dst, "allowed": p.allowed}
                            for p in self.pairs()]
        return out

    def __str__(self) -> str:
        return self.summary

    def __repr__(self) -> str:
        return f"<Verdict {self.summary}>"

    def __rich__(self) -> str:
        # A markup string is a rich renderable; the content is escaped so that names with
        # brackets are printed as they are.
        body = _escape_markup(self.explain())
        colour = "green" if self._allowed else ("yellow" if self._allowed is None else "red")
        head, _, rest = body.partition("\n")
        return f"[bold {colour}]{head}[/]\n{rest}" if rest else f"[bold {colour}]{head}[/]"


_MARKUP = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")


def _escape_markup(text: str) -> str:
    """Text that rich prints as is: a ``[`` that could open a tag is escaped, and backslashes
    before it doubled (rich's own ``markup.escape`` rule, without importing rich here)."""
    return _MARKUP.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)


def _verdict(allowed: bool, src: str, dst: str, port: int, protocol: str, cluster: Any) -> Verdict:
    """A Verdict without keyword parsing, for ``Cluster.allows``'s hot path; the details come
    from ``cluster._detail_keys(src, dst, protocol, port)`` when first asked for."""
    v = _new(Verdict)
    v._allowed = allowed
    v.src = src
    v.dst = dst
    v.port = port
    v.protocol = protocol
    v.port_name = None
    v._detail = cluster
    v._sides = None
    v._pairs = None
    v.notes = ()
    v.undetermined = False
    return v


_new = object.__new__
