"""One syntax for ports everywhere (API, CLI, intent files, pytest helper).

A port spec is a number (``8080``), a port name (``http``), or either with a protocol
(``53/UDP``, ``http/tcp``), or a range with a protocol or not (``8000-8100/TCP``). Protocols are
case-insensitive and default to TCP.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

from netpol_dsl import _rules
from netpol_dsl.errors import NetpolError

__all__ = ["PortSpec", "parse_port_spec"]

_SPEC_RE = re.compile(r"\s*([^/\s-]+)(?:\s*-\s*([^/\s]+))?\s*(?:/\s*([A-Za-z]+)\s*)?")


@dataclass(frozen=True, slots=True)
class PortSpec:
    """A parsed port spec: ports ``first``..``last`` or the port called ``name``, on ``protocol``.

    Example:
        >>> parse_port_spec("53/udp")
        PortSpec(protocol='UDP', first=53, last=53, name=None)
        >>> str(parse_port_spec("8000-8100")), str(parse_port_spec("http"))
        ('TCP 8000-8100', "TCP 'http'")
    """

    protocol: str
    first: int | None = None
    last: int | None = None
    name: str | None = None

    @property
    def is_range(self) -> bool:
        """More than one port.

        Example:
            >>> parse_port_spec(80).is_range, parse_port_spec("80-81").is_range
            (False, True)
        """
        return self.first is not None and self.last != self.first

    @property
    def value(self) -> int | str:
        """The port number or name (the first port of a range).

        Example:
            >>> parse_port_spec("http/TCP").value, parse_port_spec(53).value
            ('http', 53)
        """
        if self.name is not None:
            return self.name
        assert self.first is not None
        return self.first

    def __str__(self) -> str:
        if self.name is not None:
            return f"{self.protocol} {self.name!r}"
        if self.is_range:
            return f"{self.protocol} {self.first}-{self.last}"
        return f"{self.protocol} {self.first}"


def _protocol(text: object, where: str, error: type[NetpolError]) -> str:
    if not isinstance(text, str):
        from netpol_dsl.errors import DslUsageError

        msg = (f"{where}: got protocol={text!r} (type={type(text).__name__}); expected one of "
               "'TCP', 'UDP', 'SCTP'")
        raise DslUsageError(msg)
    if text.upper() not in _rules.PROTOCOLS:
        if not where.endswith("()"):  # a field or an option: "protocol: got 'HTTP'"
            msg = f"protocol: got {text!r}; expected one of 'TCP', 'UDP', 'SCTP'"
            raise error(msg)
        msg = f"{where}: got protocol={text!r}; expected one of 'TCP', 'UDP', 'SCTP'"
        raise error(msg)
    return text.upper()


def _got(spec: object, where: str) -> str:
    """``got port=80`` for an argument of a function, ``got '80'`` for a field or option."""
    return f"{where}: got port={spec!r}" if where.endswith("()") else f"{where}: got {spec!r}"


def _number(text: str, spec: object, where: str, error: type[NetpolError]) -> int:
    if not text.isascii() or not text.isdigit():
        msg = (f"{_got(spec, where)}; expected 1..65535, a port name such as 'http', or a range "
               "such as 8000-8100")
        raise error(msg)
    number = int(text)
    if _rules.port_number(number):
        msg = f"{_got(spec, where)}; expected 1..65535 or a port name such as 'http'"
        raise error(msg)
    return number


def parse_port_spec(
    value: object,
    protocol: object = None,
    *,
    where: str = "port",
    error: type[NetpolError] | None = None,
) -> PortSpec:
    """Parse a port spec (see the module docstring); ``protocol`` applies when the spec has none.

    Args:
        value: an int (or an integer-like number), or text.
        protocol: ``TCP``, ``UDP`` or ``SCTP`` in any case; None for TCP or the spec's own.
        where: how to name the value in errors (``allows()``, ``--port``, a file path...).
        error: the exception class to raise (default ``EvaluationError``); a value of the wrong
            type always raises ``DslUsageError``.

    Raises:
        EvaluationError: (or ``error``) not a port, a name or a range, a bad protocol, a
            protocol that contradicts the spec's, or a range with ``last < first``.

    Example:
        >>> parse_port_spec("53/UDP") == parse_port_spec(53, "udp")
        True
        >>> parse_port_spec("8080/UDP", "TCP")
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.EvaluationError: port: got '8080/UDP' with protocol='TCP'; expected one protocol
    """
    if error is None:
        from netpol_dsl.errors import EvaluationError

        error = EvaluationError
    default = None if protocol is None else _protocol(protocol, where, error)
    if isinstance(value, bool) or (not isinstance(value, (int, str)) and not hasattr(
            value, "__index__")):
        from netpol_dsl.errors import DslUsageError

        msg = (f"{where}: got port={value!r} (type={type(value).__name__}); expected an int "
               "such as 8080, a port name such as 'http', or text such as '53/UDP'")
        raise DslUsageError(msg)
    if not isinstance(value, str):
        number = operator.index(value)
        if _rules.port_number(number):
            msg = f"{_got(number, where)}; expected 1..65535 or a port name such as 'http'"
            raise error(msg)
        return PortSpec(default or "TCP", number, number)
    m = _SPEC_RE.fullmatch(value)
    if not m:
        msg = (f"{where}: got {value!r}; expected PORT[/PROTO] such as 8080, 53/UDP, http or "
               "8000-8100/TCP")
        raise error(msg)
    first_text, last_text, proto_text = m.groups()
    proto = default or "TCP"
    if proto_text is not None:
        proto = _protocol(proto_text, where, error)
        if default is not None and default != proto:
            msg = f"{where}: got {value!r} with protocol={protocol!r}; expected one protocol"
            raise error(msg)
    if last_text is not None:
        first = _number(first_text, value, where, error)
        last = _number(last_text, value, where, error)
        if last < first:
            msg = f"{where}: got range {value!r}; expected first <= last"
            raise error(msg)
        return PortSpec(proto, first, last)
    if first_text.isascii() and first_text.isdigit():
        number = _number(first_text, value, where, error)
        return PortSpec(proto, number, number)
    if _rules.port_name(first_text):
        msg = (f"{_got(value, where)}; expected 1..65535 or a port name (lowercase letters, "
               "digits and '-', at most 15 characters, at least one letter)")
        raise error(msg)
    return PortSpec(proto, name=first_text)
