"""Intent files: who must (and must not) reach whom, checked offline and exported for live tests.

An intent file is YAML: a list of assertions (or a mapping with an ``intents:`` list):

```yaml
intents:
  - from: payments/frontend        # ns/pod or ns/workload (or an IP, as a destination)
    to: payments/api-server
    port: 8080                     # a number or a port name; "53/UDP" also works
    protocol: TCP                  # TCP (default), UDP or SCTP
    expect: allow                  # allow or deny
  - {from: monitoring/rogue-pod, to: payments/api-server, port: 8080, expect: deny}
```

``netpol graph --intent`` draws these probes, ``netpol export netassert`` turns them into
netassert v2 tests for a live cluster, and ``check_intents`` checks them offline.

Example:
    >>> intents = parse_intents('''
    ... - {from: payments/frontend, to: payments/api-server, port: 8080, expect: allow}
    ... - {from: monitoring/rogue-pod, to: payments/api-server, port: 53/UDP, expect: deny}
    ... ''')
    >>> [str(i) for i in intents]
    ['payments/frontend -> payments/api-server TCP 8080: allow', 'monitoring/rogue-pod -> payments/api-server UDP 53: deny']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netpol_dsl.errors import Issue, LoadError
from netpol_dsl.load import parse_documents

__all__ = [
    "Intent",
    "IntentResult",
    "check_intents",
    "load_intents",
    "parse_intents",
    "parse_port",
]

_PORT_RE = re.compile(r"^\s*([^/\s]+)\s*(?:/\s*([A-Za-z]+)\s*)?$")
_EXPECT = {"allow": True, "allowed": True, "true": True, "deny": False, "denied": False,
           "false": False}


def parse_port(text: str | int, protocol: str | None = None) -> tuple[int | str, str]:
    """Parse ``PORT[/PROTO]`` (``8080``, ``53/udp``, ``http``) into (port, protocol), with the
    one port-spec parser (``netpol_dsl._portspec``); a range keeps its text (``8000-8100``).

    Raises:
        LoadError: not a port number 1..65535, a valid port name or a range, or an unknown
            protocol.

    Example:
        >>> parse_port("8080"), parse_port("53/udp"), parse_port("http"), parse_port("80-90/TCP")
        ((8080, 'TCP'), (53, 'UDP'), ('http', 'TCP'), ('80-90', 'TCP'))
        >>> parse_port("70000")
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.LoadError: port: got '70000'; expected 1..65535 or a port name such as 'http'
    """
    from netpol_dsl._portspec import parse_port_spec

    if isinstance(text, bool) or not isinstance(text, (int, str)):
        msg = (f"port: got {text!r} (type={type(text).__name__}); expected 1..65535, a port "
               "name or PORT[/PROTO]")
        raise LoadError(msg)
    spec = parse_port_spec(text, protocol, where="port", error=LoadError)
    if spec.is_range:
        return f"{spec.first}-{spec.last}", spec.protocol
    return spec.value, spec.protocol


@dataclass(frozen=True, slots=True)
class Intent:
    """One assertion: traffic from ``src`` to ``dst`` on ``port``/``protocol`` is (not) allowed.

    Example:
        >>> str(Intent("a/web", "a/api", 8080, "TCP", True))
        'a/web -> a/api TCP 8080: allow'
    """

    src: str
    dst: str
    port: int | str
    protocol: str = "TCP"
    expect: bool = True
    name: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        return (f"{self.src} -> {self.dst} {self.protocol} {self.port}: "
                f"{'allow' if self.expect else 'deny'}")

    @property
    def slug(self) -> str:
        """A stable test name: ``frontend-to-api-server-tcp-8080-allow``.

        Example:
            >>> Intent("a/web", "a/api", 80, "TCP", False).slug
            'a-web-to-a-api-tcp-80-deny'
        """
        if self.name:
            return self.name
        raw = f"{self.src}-to-{self.dst}-{self.protocol}-{self.port}-" \
              f"{'allow' if self.expect else 'deny'}"
        return re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")


@dataclass(frozen=True, slots=True)
class IntentResult:
    """An intent and what the offline evaluation says.

    ``actual`` is None when the ends stand for several pods and some pairs are allowed while
    others are not: that satisfies neither an allow nor a deny intent.

    Example:
        >>> r = IntentResult(Intent("a/web", "a/api", 80), actual=False, explanation="no rule")
        >>> r.ok, str(r)
        (False, 'a/web -> a/api TCP 80: expected allow, got deny')
        >>> str(IntentResult(Intent("a/web", "a/api", 80, expect=False), actual=None))
        'a/web -> a/api TCP 80: expected deny, got allow for some pod pairs and deny for others'
    """

    intent: Intent
    actual: bool | None
    explanation: str = ""

    @property
    def ok(self) -> bool:
        """Whether the evaluation agrees with the intent.

        Example:
            >>> IntentResult(Intent("a/b", "a/c", 1), actual=True).ok
            True
        """
        return self.actual == self.intent.expect

    def __str__(self) -> str:
        i = self.intent
        want = "allow" if i.expect else "deny"
        got = ("allow for some pod pairs and deny for others" if self.actual is None
               else "allow" if self.actual else "deny")
        return f"{i.src} -> {i.dst} {i.protocol} {i.port}: expected {want}, got {got}"


def _one(item: Any, index: int, where: str) -> Intent:
    path = f"intents[{index}]"
    if not isinstance(item, Mapping):
        raise LoadError(issues=[Issue(path, item, "a mapping with from, to, port and expect",
                                      source=where)])
    issues: list[Issue] = []
    unknown = sorted(set(item) - {"from", "to", "port", "protocol", "expect", "name"})
    for key in unknown:
        issues.append(Issue(f"{path}.{key}", item[key], "a known field (from, to, port, "
                            "protocol, expect, name)", source=where))
    ends: dict[str, str] = {}
    for key in ("from", "to"):
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            issues.append(Issue(f"{path}.{key}", value, "'namespace/name' of a pod or workload, "
                                "or an IP", missing=value is None, source=where))
        else:
            ends[key] = value.strip()
    port: int | str = 0
    protocol = "TCP"
    raw_proto = item.get("protocol")
    if raw_proto is not None and not isinstance(raw_proto, str):
        issues.append(Issue(f"{path}.protocol", raw_proto, "one of 'TCP', 'UDP', 'SCTP'",
                            source=where))
        raw_proto = None
    if "port" not in item:
        issues.append(Issue(f"{path}.port", None, "a port number or name", missing=True,
                            source=where))
    else:
        try:
            port, protocol = parse_port(item["port"], raw_proto)
        except LoadError as err:
            issues.append(Issue(f"{path}.port", item["port"], str(err).split("expected ", 1)[-1],
                                source=where))
    expect_raw = item.get("expect", "allow")
    expect = _EXPECT.get(str(expect_raw).lower()) if not isinstance(expect_raw, bool) \
        else expect_raw
    if expect is None:
        issues.append(Issue(f"{path}.expect", expect_raw, "'allow' or 'deny'", source=where))
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        issues.append(Issue(f"{path}.name", name, "a string", source=where))
    if issues:
        raise LoadError(f"{where}: invalid intent", issues=issues, source=where)
    return Intent(ends["from"], ends["to"], port, protocol, bool(expect), name)


def parse_intents(text: str, where: str = "<intent>") -> list[Intent]:
    """Parse intent YAML (see the module docstring).

    Raises:
        LoadError: bad YAML or an invalid entry, with every problem listed.

    Example:
        >>> parse_intents("intents: [{from: a/x, to: a/y, port: 0}]")
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.LoadError: <intent>: invalid intent
        <intent>: intents[0].port: got 0; expected 1..65535 or a port name such as 'http'
    """
    docs = parse_documents(text, where)
    items: list[Any] = []
    for doc in docs:
        if isinstance(doc, Mapping) and "intents" in doc:
            doc = doc["intents"]
        if isinstance(doc, list):
            items.extend(doc)
        else:
            msg = (f"{where}: got {type(doc).__name__}; expected a list of intents (or a mapping "
                   "with an 'intents' list)")
            raise LoadError(msg, source=where)
    if not items:
        msg = f"{where}: got no intents; expected at least one"
        raise LoadError(msg, source=where)
    return [_one(item, i, where) for i, item in enumerate(items)]


def load_intents(path: str | Path) -> list[Intent]:
    """Read an intent file.

    Raises:
        LoadError: missing file, not UTF-8, bad YAML or an invalid entry.

    Example:
        >>> load_intents("no-such-intent.yaml")
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.LoadError: no-such-intent.yaml: got a path that does not exist; expected an intent file
    """
    p = Path(path)
    if not p.is_file():
        msg = f"{path}: got a path that does not exist; expected an intent file"
        raise LoadError(msg, source=str(path))
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        msg = f"{path}: got bytes that are not UTF-8 (at byte {err.start}); expected UTF-8 text"
        raise LoadError(msg, source=str(path)) from None
    return parse_intents(text, str(path))


def check_intents(cluster: Any, intents: Iterable[Intent]) -> list[IntentResult]:
    """Evaluate each intent against a ``Cluster``.

    Example:
        >>> from netpol_dsl.evaluate import Cluster
        >>> c = Cluster.from_manifests('''
        ... {"apiVersion": "v1", "kind": "List", "items": [
        ...   {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "a"}},
        ...   {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "namespace": "a"}}]}
        ... ''')
        >>> [str(r) for r in check_intents(c, parse_intents("- {from: a/web, to: a/db, port: 5432, expect: deny}"))]
        ['a/web -> a/db TCP 5432: expected deny, got allow']
    """
    out = []
    for i in intents:
        verdict = cluster.allows(i.src, i.dst, i.port, protocol=i.protocol)
        actual = None if verdict.mixed else verdict.all()
        out.append(IntentResult(i, actual, verdict.explain()))
    return out
