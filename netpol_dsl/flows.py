"""Observed traffic: read flow records from files, and find what their ends are in an inventory.

Two formats are read, one record per line:

- **Hubble's JSON export**, ``hubble observe -o json`` (or ``--output jsonpb``, and Hubble's flow
  exporter): each line is a ``GetFlowsResponse`` (``{"flow": {...}, "node_name": ...}``) or a bare
  ``Flow``. The fields read are those of ``flow.proto`` (cilium/cilium ``api/v1/flow/flow.proto``):
  ``source``/``destination`` (``Endpoint``: ``namespace``, ``pod_name``, ``workloads``),
  ``IP.source``/``IP.destination``, ``l4.TCP|UDP|SCTP.destination_port``, ``verdict``,
  ``is_reply`` and ``l4.TCP.flags``. Field names may be the proto names Hubble prints
  (``pod_name``) or protobuf's JSON names (``podName``); enums may be names or numbers. Every
  other field is ignored, and so are lines of other response types (``node_status``,
  ``lost_events``).
- **CSV**, ``src,dst,port,protocol[,count]``, an end being ``namespace/pod``,
  ``namespace/workload`` (or ``namespace/workload[Kind]``) or an IP address; ``port`` may carry
  its protocol (``53/UDP``) and ``protocol`` may then be left empty. A first row naming its
  columns (``src,dst,port,protocol,count``) is a header; with one, columns are taken by name and
  other columns are ignored, in any order. Blank lines and lines starting with ``#`` are skipped.

A record is a *connection*: its source opened it to its destination's port. What NetworkPolicy
does not decide is counted in ``FlowLog.skipped`` rather than read: reply packets (``is_reply``,
or a TCP SYN-ACK when ``is_reply`` is absent, or an L7 response: the connection is the other
way round), ICMP (NetworkPolicy ports are TCP, UDP and SCTP; ICMP is left to the plugin),
records without a destination port. Records whose ``verdict`` is ``DROPPED`` or ``ERROR`` did
not get through; they are kept apart (``ObservedFlow.dropped``), so that replay and suggestion
can leave them out.

Hubble sees a connection at each end it passes (``traffic_direction`` ``EGRESS`` on the source's
node, ``INGRESS`` on the destination's), so one connection is usually two records; both are
counted (the direction field itself is not needed: ``source`` is always who sent the packet).
Identical records are counted, not kept one by one: a ``FlowLog`` holds one ``ObservedFlow``
per source, destination, protocol and port, with how often it was seen and where first.

A bad line is an error naming the file and line (``LoadError``, with every problem in
``issues``); an unknown field never is.

Example:
    >>> import io
    >>> log = read_flows(io.StringIO('''src,dst,port,protocol,count
    ... payments/frontend,payments/api-server,8080,TCP,12
    ... payments/api-server,10.0.0.7,5432,TCP,3
    ... '''), name="flows.csv")
    >>> [(str(f.src), str(f.dst), f.protocol, f.port, f.count) for f in log.flows]
    [('payments/frontend', 'payments/api-server', 'TCP', 8080, 12), ('payments/api-server', '10.0.0.7', 'TCP', 5432, 3)]
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Literal

import msgspec

from netpol_dsl import _rules
from netpol_dsl._hubble import hubble_decoder
from netpol_dsl._portspec import parse_port_spec
from netpol_dsl.errors import Issue, LoadError, NetpolError

if TYPE_CHECKING:
    from netpol_dsl.evaluate import Cluster

__all__ = [
    "FlowEnd",
    "FlowFormat",
    "FlowLog",
    "ObservedFlow",
    "ResolvedFlow",
    "ResolvedFlows",
    "Unresolved",
    "flows_from_records",
    "read_flows",
]

#: ``"auto"`` picks by file suffix (``.csv``; ``.json``, ``.jsonl``, ``.ndjson``), else by the
#: first character (``{`` is JSON).
FlowFormat = Literal["auto", "hubble", "csv"]

#: Verdicts (``flow.proto`` ``enum Verdict``) of records that did not get through.
_NOT_DELIVERED = frozenset({"DROPPED", "ERROR"})
_VERDICTS = {0: "VERDICT_UNKNOWN", 1: "FORWARDED", 2: "DROPPED", 3: "ERROR", 4: "AUDIT",
             5: "REDIRECTED", 6: "TRACED", 7: "TRANSLATED"}
#: ``enum L7FlowType``: a RESPONSE goes the other way from the connection.
_L7_RESPONSE = ("RESPONSE", 2)

_MAX_ISSUES = 50

SKIP_REPLY = "reply packets (the connection is the other way round)"
SKIP_ICMP = "ICMP (NetworkPolicy ports are TCP, UDP and SCTP)"
SKIP_NO_PORT = "no TCP, UDP or SCTP destination port"
SKIP_NO_ENDS = "no source or destination (neither pod nor IP)"
SKIP_OTHER = "other Hubble events (node status, lost events)"


# ------------------------------------------------------------------ values


@dataclass(frozen=True, slots=True)
class FlowEnd:
    """One end of a recorded flow, as recorded.

    Args:
        ref: ``namespace/pod`` of a pod (Hubble), or the ``namespace/name`` a CSV line gives
            (a pod or a workload, ``namespace/name[Kind]`` allowed); None for a bare address.
        ip: its IP address, when recorded.
        workload: the workload Hubble names for the pod (``namespace/name[Kind]``), if any.

    Example:
        >>> str(FlowEnd("payments/api-7d4b9-x2x9k", "10.0.0.7")), str(FlowEnd(None, "8.8.8.8"))
        ('payments/api-7d4b9-x2x9k', '8.8.8.8')
    """

    ref: str | None = None
    ip: str | None = None
    workload: str | None = None

    def __str__(self) -> str:
        return self.ref or self.ip or "?"


@dataclass(frozen=True, slots=True)
class ObservedFlow:
    """A connection seen ``count`` times (plus ``dropped`` times without getting through).

    Args:
        src: who opened it.
        dst: who it went to.
        protocol: ``TCP``, ``UDP`` or ``SCTP``.
        port: the destination port.
        count: records that got through (any verdict but ``DROPPED``/``ERROR``, or none given).
        dropped: records with verdict ``DROPPED`` or ``ERROR``.
        where: the first record, ``file:line``.

    Example:
        >>> f = ObservedFlow(FlowEnd("a/x"), FlowEnd("a/y"), "TCP", 80, count=3, dropped=1)
        >>> f.records, f.weight(include_dropped=False)
        (4, 3)
    """

    src: FlowEnd
    dst: FlowEnd
    protocol: str
    port: int
    count: int = 1
    dropped: int = 0
    where: str = ""

    @property
    def records(self) -> int:
        """Every record of this connection, dropped ones included.

        Example:
            >>> ObservedFlow(FlowEnd("a/x"), FlowEnd("a/y"), "UDP", 53, 2, 5).records
            7
        """
        return self.count + self.dropped

    def weight(self, *, include_dropped: bool) -> int:
        """The records that count: those that got through, and the dropped ones if asked.

        Example:
            >>> ObservedFlow(FlowEnd("a/x"), FlowEnd("a/y"), "UDP", 53, 0, 5).weight(include_dropped=True)
            5
        """
        return self.count + (self.dropped if include_dropped else 0)

    def __str__(self) -> str:
        return f"{self.src} -> {self.dst} {self.protocol} {self.port}"


@dataclass(frozen=True, slots=True)
class FlowLog:
    """Flows read from files: one ``ObservedFlow`` per connection, with counts.

    Attributes:
        flows: the connections, in the order first seen.
        records: flow records read, skipped ones included.
        skipped: records not read as connections, by reason.
        sources: the files (or stream names) read.

    Example:
        >>> import io
        >>> log = read_flows(io.StringIO("a/x,a/y,80,TCP\\na/x,a/y,80,TCP,2\\n"))
        >>> len(log), log.records, log.flows[0].count
        (1, 2, 3)
    """

    flows: tuple[ObservedFlow, ...] = ()
    records: int = 0
    skipped: Mapping[str, int] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.flows)

    def __iter__(self) -> Iterator[ObservedFlow]:
        return iter(self.flows)

    def resolve(self, cluster: Cluster) -> ResolvedFlows:
        """What each flow's ends are in ``cluster``'s inventory (see `ResolvedFlows`).

        Example:
            >>> import io
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> c = Cluster(pods=[Pod("a", "web-1", owner_kind="Deployment", owner_name="web"),
            ...                   Pod("a", "db-0", owner_kind="StatefulSet", owner_name="db")])
            >>> r = read_flows(io.StringIO("a/web,a/db-0,5432,TCP\\n")).resolve(c)
            >>> r.flows[0].src, r.flows[0].dst
            (('a/web-1',), ('a/db-0',))
        """
        return _resolve(self, cluster)

    def to_csv(self) -> str:
        """The flows as CSV with a header (``src,dst,port,protocol,count,dropped``), which
        ``read_flows`` reads back.

        Example:
            >>> import io
            >>> print(read_flows(io.StringIO("a/x,8.8.8.8,53,UDP,4\\n")).to_csv(), end="")
            src,dst,port,protocol,count,dropped
            a/x,8.8.8.8,53,UDP,4,0
        """
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["src", "dst", "port", "protocol", "count", "dropped"])
        for f in self.flows:
            w.writerow([str(f.src), str(f.dst), f.port, f.protocol, f.count, f.dropped])
        return out.getvalue()


# ------------------------------------------------------------------ reading


Source = str | os.PathLike[str] | IO[str] | IO[bytes]


def read_flows(
    source: Source | Sequence[Source],
    *,
    format: FlowFormat = "auto",
    name: str | None = None,
) -> FlowLog:
    """Read flow records (Hubble JSON lines or CSV) from files or streams.

    Args:
        source: a path (``.gz`` files are decompressed), an open text or binary stream, or a
            list of those; ``"-"`` is standard input.
        format: ``"hubble"``, ``"csv"`` or ``"auto"`` (by suffix, then by content).
        name: how to name a stream in messages (default: its ``name`` or ``<stream>``).

    Returns:
        The flows, counted per connection (see the module docstring).

    Raises:
        LoadError: a line that is not a record of the format (every bad line is in ``issues``,
            as ``file:line``), or a file that cannot be read.

    Example:
        >>> import io
        >>> line = ('{"flow": {"verdict": "FORWARDED", "IP": {"source": "10.0.0.5", '
        ...         '"destination": "10.0.0.9"}, "l4": {"TCP": {"source_port": 40112, '
        ...         '"destination_port": 8080}}, "source": {"namespace": "a", "pod_name": "web-0"}, '
        ...         '"destination": {"namespace": "a", "pod_name": "api-0"}, "is_reply": false}}')
        >>> f = read_flows(io.StringIO(line + "\\n")).flows[0]
        >>> str(f), f.src.ip
        ('a/web-0 -> a/api-0 TCP 8080', '10.0.0.5')
        >>> read_flows(io.StringIO('{"flow": {"l4": {"TCP": {"destination_port": "x"}}}}\\n'),
        ...            name="f.json")
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.LoadError: f.json:1: flow.l4.TCP.destination_port: got 'x'; expected int
    """
    sources: list[Any] = (
        [source] if isinstance(source, (str, os.PathLike)) or hasattr(source, "read")
        else list(source))
    reader = _Reader()
    for src in sources:
        reader.read(src, format, name)
    return reader.result()


class _Reader:
    """Accumulates records from several sources into one count per connection."""

    def __init__(self) -> None:
        # key -> [count, dropped, where]
        self.counts: dict[tuple[Any, ...], list[Any]] = {}
        self.records = 0
        self.skipped: Counter[str] = Counter()
        self.sources: list[str] = []
        self.issues: list[Issue] = []
        self.more_issues = 0

    def issue(self, issue: Issue) -> None:
        if len(self.issues) < _MAX_ISSUES:
            self.issues.append(issue)
        else:
            self.more_issues += 1

    def read(self, src: Source, fmt: FlowFormat, name: str | None) -> None:
        with _open(src, name) as (label, stream):
            if not hasattr(stream, "peek"):
                stream = io.BufferedReader(stream)  # type: ignore[type-var]
            self.sources.append(label)
            first = _peek(stream)
            chosen = fmt
            if chosen == "auto":
                suffix = label.removesuffix(".gz").rsplit(".", 1)[-1].lower() if "." in label \
                    else ""
                if suffix == "csv":
                    chosen = "csv"
                elif suffix in ("json", "jsonl", "ndjson"):
                    chosen = "hubble"
                else:
                    chosen = "hubble" if first.lstrip()[:1] == b"{" else "csv"
            if chosen == "hubble":
                self._hubble(label, stream)
            elif chosen == "csv":
                self._csv(label, stream)
            else:
                msg = f"read_flows(): got format={fmt!r}; expected 'auto', 'hubble' or 'csv'"
                raise LoadError(msg)

    def add(self, key: tuple[Any, ...], count: int, dropped: bool, where: Any) -> None:
        entry = self.counts.get(key)
        if entry is None:
            entry = self.counts[key] = [0, 0, where]
        entry[1 if dropped else 0] += count

    # -- Hubble ----------------------------------------------------------------------

    def _hubble(self, label: str, stream: IO[bytes]) -> None:
        # The hot loop of reading a million lines: locals, no helper calls on the common path.
        # Lines are cut out of blocks as memoryviews and decoded in place: copying a million
        # 1 KB lines into bytes objects would cost more than decoding them.
        decode = hubble_decoder().decode
        counts = self.counts
        skipped = self.skipped
        records = replies = lineno = 0
        for data in _blocks(stream):
            view = memoryview(data)
            find = data.find
            end = -1
            while True:
                start = end + 1
                end = find(b"\n", start)
                if end < 0:
                    break
                lineno += 1
                raw = view[start:end]
                if end - start < 3 and not bytes(raw).strip():
                    continue
                try:
                    line = decode(raw)
                except (msgspec.ValidationError, msgspec.DecodeError) as err:
                    self.issue(_json_issue(err, bytes(raw), f"{label}:{lineno}"))
                    continue
                flow = line.flow
                if flow is None:
                    flow = line
                    if flow.l4 is None and flow.IP is None and flow.source is None and (
                            flow.destination is None):
                        if line.other_event:
                            skipped[SKIP_OTHER] += 1
                            continue
                        self.issue(Issue("record", _short(bytes(raw)), "a Hubble flow (an "
                                         "object with 'flow', or with 'IP', 'l4', 'source' or "
                                         "'destination')", source=f"{label}:{lineno}"))
                        continue
                records += 1
                reply = flow.is_reply
                if reply is None:
                    reply = flow.isReply
                if reply:
                    replies += 1
                    continue
                l4 = flow.l4
                if l4 is None:
                    skipped[SKIP_NO_PORT] += 1
                    continue
                ports = l4.TCP
                if ports is not None:
                    protocol = "TCP"
                else:
                    ports = l4.UDP
                    if ports is not None:
                        protocol = "UDP"
                    else:
                        ports = l4.SCTP
                        protocol = "SCTP"
                        if ports is None:
                            skipped[SKIP_ICMP if l4.ICMPv4 or l4.ICMPv6 else SKIP_NO_PORT] += 1
                            continue
                port = ports.destination_port or ports.destinationPort
                if not 0 < port < 65536:
                    if port:
                        self.issue(Issue(f"flow.l4.{protocol}.destination_port", port,
                                         "1..65535", source=f"{label}:{lineno}"))
                    else:
                        skipped[SKIP_NO_PORT] += 1
                    continue
                if reply is None:  # unknown: a SYN-ACK, an L7 response or the legacy flag says
                    flags = ports.flags
                    if flow.reply or (flags is not None and flags.SYN and flags.ACK) or (
                            flow.l7 is not None and flow.l7.type in _L7_RESPONSE):
                        replies += 1
                        continue
                ip = flow.IP
                s, d = flow.source, flow.destination
                if ip is not None:
                    s_ip, d_ip = ip.source, ip.destination
                else:
                    s_ip = d_ip = ""
                s_pod = (s.pod_name or s.podName) if s is not None else ""
                d_pod = (d.pod_name or d.podName) if d is not None else ""
                if not (s_pod or s_ip) or not (d_pod or d_ip):
                    skipped[SKIP_NO_ENDS] += 1
                    continue
                verdict = flow.verdict
                if type(verdict) is int:
                    verdict = _VERDICTS.get(verdict, str(verdict))
                # The key is flat and cheap; the ends' workloads are taken from the first record.
                key = (s.namespace if s_pod else "", s_pod, s_ip,  # type: ignore[union-attr]
                       d.namespace if d_pod else "", d_pod, d_ip,  # type: ignore[union-attr]
                       protocol, port)
                entry = counts.get(key)
                if entry is None:
                    entry = counts[key] = [0, 0, (label, lineno), s, d]
                entry[1 if verdict in _NOT_DELIVERED else 0] += 1
        if replies:
            skipped[SKIP_REPLY] += replies
        self.records += records

    # -- CSV -------------------------------------------------------------------------

    def _csv(self, label: str, stream: IO[bytes]) -> None:
        text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
        try:
            self._csv_lines(label, text)
        finally:
            text.detach()  # the stream is closed by whoever opened it

    def _csv_lines(self, label: str, text: IO[str]) -> None:
        columns: dict[str, int] | None = None
        first = True
        for lineno, line in enumerate(text, 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            row = [c.strip() for c in next(csv.reader([line]))]
            where = f"{label}:{lineno}"
            if first:
                first = False
                head = [c.lower() for c in row]
                if {"src", "source"} & set(head) and {"dst", "destination"} & set(head):
                    columns = _csv_columns(head, where, self)
                    if columns is None:
                        return
                    continue
            self.records += 1
            self._csv_row(row, columns, (label, lineno), where)

    def _csv_row(self, row: list[str], columns: dict[str, int] | None, pos: tuple[str, int],
                 where: str) -> None:
        if columns is None:
            if not 3 <= len(row) <= 5:
                self.issue(Issue("record", ",".join(row), "src,dst,port,protocol[,count] (3 to 5 "
                                 f"columns; got {len(row)})", source=where))
                return
            values = dict(zip(("src", "dst", "port", "protocol", "count"), row, strict=False))
        else:
            values = {k: row[i] if i < len(row) else "" for k, i in columns.items()}
        problems = 0
        ends = []
        for col in ("src", "dst"):
            end = _csv_end(values.get(col, ""))
            if isinstance(end, str):
                self.issue(Issue(col, values.get(col, ""), end, source=where))
                problems += 1
            else:
                ends.append(end)
        port_text = values.get("port", "")
        proto_text = values.get("protocol") or None
        spec = None
        try:
            spec = parse_port_spec(port_text, proto_text, where="port", error=LoadError)
        except NetpolError:
            if proto_text is not None and proto_text.upper() not in _rules.PROTOCOLS:
                self.issue(Issue("protocol", proto_text, "one of 'TCP', 'UDP', 'SCTP'",
                                 source=where))
            else:
                self.issue(Issue("port", port_text, "a port number in 1..65535, with its "
                                 "protocol if the protocol column is empty (53/UDP)",
                                 source=where))
            problems += 1
        if spec is not None and (spec.first is None or spec.is_range):
            self.issue(Issue("port", port_text, "one port number (a recorded flow has one)",
                             source=where))
            problems += 1
        counts = [1, 0]
        for i, col in enumerate(("count", "dropped")):
            text = values.get(col, "")
            if not text:
                continue
            if not (text.isascii() and text.isdigit()):
                self.issue(Issue(col, text, "a whole number of records", source=where))
                problems += 1
            else:
                counts[i] = int(text)
        if not problems and counts[0] + counts[1] < 1:
            self.issue(Issue("count", values.get("count", ""), "at least 1 record (with "
                             "dropped)", source=where))
            problems += 1
        if problems:
            return
        assert spec is not None and spec.first is not None
        key = (*_end_tuple(ends[0]), *_end_tuple(ends[1]), spec.protocol, spec.first)
        if counts[0]:
            self.add(key, counts[0], False, pos)
        if counts[1]:
            self.add(key, counts[1], True, pos)

    # -- result ----------------------------------------------------------------------

    def result(self) -> FlowLog:
        flows = []
        ip_ok: dict[str, bool] = {}
        made: dict[tuple[str, str, str, str, str], tuple[FlowEnd, Any]] = {}
        for key, entry in self.counts.items():
            count, dropped, (label, lineno) = entry[:3]
            where = f"{label}:{lineno}"
            ends = []
            for side, end_key in (("source", _end_key(key[0:3], entry, 3)),
                                  ("destination", _end_key(key[3:6], entry, 4))):
                hit = made.get(end_key)
                if hit is None:
                    hit = made[end_key] = _end_from_key(end_key, ip_ok)
                end, problem = hit
                if problem:
                    self.issue(Issue(side, problem[0], problem[1], source=where))
                ends.append(end)
            flows.append(ObservedFlow(ends[0], ends[1], key[6], key[7], count, dropped, where))
        if self.issues:
            total = len(self.issues) + self.more_issues
            shown = f" (the first {len(self.issues)} shown)" if self.more_issues else ""
            raise LoadError(f"{total} bad flow records{shown}:" if total > 1 else "",
                            issues=self.issues)
        return FlowLog(tuple(flows), self.records, dict(sorted(self.skipped.items())),
                       tuple(self.sources))


def _blocks(stream: IO[bytes], size: int = 1 << 22) -> Iterator[bytes]:
    """The stream in blocks that end with a newline (the last one given one if it lacks it)."""
    pending = b""
    while True:
        chunk = stream.read(size)
        if not chunk:
            if pending:
                yield pending + b"\n"
            return
        cut = chunk.rfind(b"\n")
        if cut < 0:
            pending += chunk
            continue
        yield pending + chunk[:cut + 1]
        pending = chunk[cut + 1:]


class _open:
    """A peekable binary stream for a path, ``-`` or an open stream, and its name in messages."""

    def __init__(self, src: Source, name: str | None) -> None:
        self.src = src
        self.name = name
        self.close: IO[bytes] | None = None

    def __enter__(self) -> tuple[str, IO[bytes]]:
        src = self.src
        if isinstance(src, (str, os.PathLike)):
            text = os.fspath(src)
            if text == "-":
                import sys

                return self.name or "<stdin>", sys.stdin.buffer
            try:
                stream: IO[bytes] = (gzip.open(text, "rb")  # type: ignore[assignment]
                                     if text.endswith(".gz") else open(text, "rb"))
            except OSError as err:
                msg = f"{text}: {err.strerror or err}; expected a readable flow file"
                raise LoadError(msg) from None
            self.close = stream
            return self.name or text, stream
        label = self.name or str(getattr(src, "name", "") or "<stream>")
        buffer = getattr(src, "buffer", None)
        if buffer is not None:  # a text file: read its bytes
            return label, buffer
        data = src.read()
        raw = data.encode("utf-8") if isinstance(data, str) else data
        return label, io.BufferedReader(io.BytesIO(raw))

    def __exit__(self, *exc: object) -> None:
        if self.close is not None:
            self.close.close()


def _peek(stream: IO[bytes]) -> bytes:
    peek = getattr(stream, "peek", None)
    if peek is not None:
        try:
            data: bytes = peek(64)
            return data
        except (OSError, ValueError):
            return b""
    return b""


def _short(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    return text if len(text) <= 60 else text[:57] + "..."


_MSGSPEC_ERROR = re.compile(r"^(?P<detail>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def _json_issue(err: Exception, raw: bytes, where: str) -> Issue:
    """A decoding error as an ``Issue``: the path in the record, the value, what was expected."""
    text = str(err)
    if not isinstance(err, msgspec.ValidationError):  # malformed JSON
        try:
            json.loads(raw)
        except ValueError as bad:
            reason = getattr(bad, "msg", str(bad))
            return Issue("record", _short(raw), f"one JSON object per line (invalid JSON: "
                         f"{reason})", source=where)
        return Issue("record", _short(raw), f"one JSON object per line ({text})", source=where)
    m = _MSGSPEC_ERROR.match(text)
    assert m is not None  # the pattern matches any text
    path = (m["path"] or "").lstrip(".")
    detail = m["detail"]
    expected = detail
    got = re.match(r"Expected (.+?), got (.+)$", detail)
    if got:
        expected = got[1].replace("`", "")
    value: Any = _short(raw)
    try:
        value = json.loads(raw)
        for key, index in _PATH_PART.findall("." + path if path else ""):
            value = value[int(index)] if index else value[key]
    except (ValueError, KeyError, IndexError, TypeError):
        pass
    if not path:
        path, expected = "record", "a JSON object (a Hubble flow)" if got else expected
    return Issue(path, value, expected, source=where)


def _end_tuple(end: FlowEnd) -> tuple[str, str, str]:
    """A CSV end in the key form of Hubble ends: (namespace, name, ip)."""
    if end.ref is None:
        return ("", "", end.ip or "")
    ns, name = end.ref.split("/", 1)
    return (ns, name, "")


def _end_key(part: tuple[Any, ...], entry: list[Any], index: int
             ) -> tuple[str, str, str, str, str]:
    """(namespace, pod, ip, workload name, workload kind): the key's end and, for a pod, the
    workload Hubble named in the first record (``entry[index]``, its ``Endpoint``)."""
    ns, pod, ip = part
    endpoint = entry[index] if len(entry) > index else None
    workloads = endpoint.workloads if endpoint is not None and pod else ()
    if workloads:
        return (ns, pod, ip, workloads[0].name, workloads[0].kind)
    return (ns, pod, ip, "", "")


def _end_from_key(key: tuple[str, str, str, str, str], ip_ok: dict[str, bool]
                  ) -> tuple[FlowEnd, tuple[Any, str] | None]:
    ns, pod, ip, wl_name, wl_kind = key
    problem = None
    valid = ip_ok.get(ip) if ip else True
    if valid is None:
        valid = ip_ok[ip] = _rules.parse_ip(ip) is not None
    if not valid:
        problem = (ip, "an IP address")
        ip = ""
    if pod and not ns:
        problem = (pod, "a pod with its namespace")
    workload = f"{ns}/{wl_name}[{wl_kind}]" if wl_name and wl_kind else (
        f"{ns}/{wl_name}" if wl_name else None)
    ref = f"{ns}/{pod}" if pod else None
    return FlowEnd(ref, ip or None, workload), problem


_WORKLOAD_REF = re.compile(r"[^/\s]+/[^/\s\[\]]+(\[[A-Za-z]+\])?")


def _csv_end(text: str) -> FlowEnd | str:
    """A CSV end, or what was expected instead."""
    if _rules.parse_ip(text) is not None:
        return FlowEnd(None, text)
    if _WORKLOAD_REF.fullmatch(text):
        return FlowEnd(text)
    return "'namespace/pod', 'namespace/workload' or an IP address"


def _csv_columns(head: list[str], where: str, reader: _Reader) -> dict[str, int] | None:
    aliases = {"src": "src", "source": "src", "dst": "dst", "destination": "dst",
               "port": "port", "dport": "port", "protocol": "protocol", "proto": "protocol",
               "count": "count", "dropped": "dropped"}
    columns: dict[str, int] = {}
    for i, h in enumerate(head):
        key = aliases.get(h)
        if key is not None and key not in columns:
            columns[key] = i
    missing = [need for need in ("src", "dst", "port") if need not in columns]
    if missing:
        reader.issue(Issue("header", ",".join(head), "columns src, dst and port (and protocol, "
                           "count); missing: " + ", ".join(missing), source=where))
        return None
    return columns


# ------------------------------------------------------------------ resolution


Ends = tuple[str, ...] | str


@dataclass(frozen=True, slots=True)
class ResolvedFlow:
    """A flow whose ends are known: pod keys of the inventory, or an address.

    Example:
        >>> f = ObservedFlow(FlowEnd("a/web"), FlowEnd(None, "8.8.8.8"), "UDP", 53)
        >>> ResolvedFlow(f, ("a/web-1", "a/web-2"), "8.8.8.8").dst
        '8.8.8.8'
    """

    flow: ObservedFlow
    src: Ends
    dst: Ends


@dataclass(frozen=True, slots=True)
class Unresolved:
    """An end that is not in the inventory, with the flows it takes out of the picture.

    Example:
        >>> str(Unresolved("a/gone-1", "no such pod or workload in the inventory", 2, 9, "f.json:3"))
        'a/gone-1: no such pod or workload in the inventory (2 connections, 9 records; first f.json:3)'

    """

    end: str
    reason: str
    flows: int
    records: int
    where: str

    def __str__(self) -> str:
        return (f"{self.end}: {self.reason} ({self.flows} connection"
                f"{'s' if self.flows != 1 else ''}, "
                f"{self.records} record{'s' if self.records != 1 else ''}; first {self.where})")


@dataclass(frozen=True, slots=True)
class ResolvedFlows:
    """A ``FlowLog`` matched against an inventory.

    An end is matched, in this order: to the pod of that ``namespace/name``; to the workload of
    that name (all its pods); to the workload Hubble names for the pod; to a workload whose name
    the pod's name starts with (``api-7d4b9c8f6-x2x9k`` is a pod of ``api-7d4b9c8f6``, a
    ReplicaSet, or of ``api``, a Deployment; ``db-0`` of ``db``), for an inventory of workloads
    whose live pods are not listed; to the one pod that has its IP. An address that is no pod's
    IP is external. Ends that match nothing are ``unresolved``, with the flows they take out.

    Attributes:
        flows: the flows with both ends known.
        unresolved: ends not found in the inventory.
        matched: how many ends were matched each way (``pod``, ``workload``, ``Hubble
            workload``, ``pod-name prefix``, ``pod IP``, ``address``).
        log: the flows as read.

    Example:
        >>> import io
        >>> from netpol_dsl.evaluate import Cluster, Pod
        >>> c = Cluster(pods=[Pod("a", "web", ips=("10.0.0.5",))])
        >>> r = read_flows(io.StringIO("10.0.0.5,1.1.1.1,443,TCP\\na/gone,a/web,80,TCP\\n")).resolve(c)
        >>> [(f.src, f.dst) for f in r.flows], [u.end for u in r.unresolved], dict(r.matched)
        ([(('a/web',), '1.1.1.1')], ['a/gone'], {'address': 1, 'pod': 1, 'pod IP': 1})
    """

    flows: tuple[ResolvedFlow, ...]
    unresolved: tuple[Unresolved, ...]
    matched: Mapping[str, int]
    log: FlowLog


def _resolve(log: FlowLog, cluster: Cluster) -> ResolvedFlows:
    by_ip: dict[str, list[str]] = {}
    for pod in cluster.pods:
        if not pod.host_network:
            for ip in pod.ips:
                by_ip.setdefault(_canonical_ip(ip), []).append(pod.key)
    keys = {p.key for p in cluster.pods}
    cache: dict[FlowEnd, tuple[Ends | None, str]] = {}
    matched: Counter[str] = Counter()

    workloads: dict[str, tuple[str, ...]] = {}
    for w in cluster.workloads():
        workloads.setdefault(w.key, w.pods)
        workloads[w.id] = w.pods

    def workload_pods(ref: str) -> tuple[str, ...] | None:
        return workloads.get(ref)

    by_namespace: dict[str, list[str]] = {}

    def find(end: FlowEnd) -> tuple[Ends | None, str]:
        if end.ref is not None:
            ref = end.ref
            if ref in keys:
                return (ref,), "pod"
            found = workload_pods(ref)
            if found:
                return found, "workload"
            if end.workload is not None:
                found = workload_pods(end.workload) or workload_pods(end.workload.split("[")[0])
                if found:
                    return found, "Hubble workload"
            ns, name = ref.split("/", 1)
            parts = name.split("[")[0].split("-")
            for cut in (1, 2):
                if len(parts) > cut:
                    found = workload_pods(f"{ns}/{'-'.join(parts[:-cut])}")
                    if found:
                        return found, "pod-name prefix"
            if end.ip is not None:
                owners = by_ip.get(_canonical_ip(end.ip), [])
                if len(owners) == 1:
                    return (owners[0],), "pod IP"
            hubble = f" (Hubble: {end.workload})" if end.workload is not None else ""
            if not by_namespace:  # for the did-you-mean, built once when first needed
                for name in sorted(keys | set(workloads)):
                    if "[" not in name:
                        by_namespace.setdefault(name.split("/", 1)[0], []).append(name)
            return None, f"no such pod or workload in the inventory{hubble}{_near(ref, by_namespace)}"
        assert end.ip is not None
        owners = by_ip.get(_canonical_ip(end.ip), [])
        if len(owners) == 1:
            return (owners[0],), "pod IP"
        return end.ip, "address"

    flows: list[ResolvedFlow] = []
    missing: dict[str, list[Any]] = {}
    for f in log.flows:
        ends: list[Ends | None] = []
        for end in (f.src, f.dst):
            hit = cache.get(end)
            if hit is None:
                hit = cache[end] = find(end)
                if hit[0] is not None:
                    matched[hit[1]] += 1
            ends.append(hit[0])
            if hit[0] is None:
                entry = missing.setdefault(str(end), [hit[1], 0, 0, f.where])
                entry[1] += 1
                entry[2] += f.records
        if ends[0] is not None and ends[1] is not None:
            flows.append(ResolvedFlow(f, ends[0], ends[1]))
    unresolved = tuple(Unresolved(end, reason, n, records, where)
                       for end, (reason, n, records, where) in sorted(missing.items()))
    return ResolvedFlows(tuple(flows), unresolved, dict(sorted(matched.items())), log)


def _near(ref: str, names: Mapping[str, list[str]]) -> str:
    near = difflib.get_close_matches(ref, names.get(ref.split("/", 1)[0], ()), n=1, cutoff=0.8)
    return f"; did you mean {near[0]!r}?" if near else ""


def _canonical_ip(text: str) -> str:
    ip = _rules.parse_ip(text)
    return str(ip) if ip is not None else text


def flows_from_records(records: Iterable[tuple[str, str, int, str]]) -> FlowLog:
    """A ``FlowLog`` from ``(src, dst, port, protocol)`` tuples, ends written as in CSV.

    Raises:
        LoadError: an end or a port that is not valid (as for a CSV line).

    Example:
        >>> log = flows_from_records([("a/x", "a/y", 80, "TCP"), ("a/x", "a/y", 80, "TCP")])
        >>> len(log), log.flows[0].count
        (1, 2)
    """
    reader = _Reader()
    reader.sources.append("<records>")
    for i, (src, dst, port, protocol) in enumerate(records, 1):
        reader.records += 1
        reader._csv_row([src, dst, str(port), protocol], None, ("<records>", i),
                        f"<records>:{i}")
    return reader.result()
