"""NetworkPolicyPort: protocol, port (number or name) and endPort."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, StrictInt, StrictStr
from pydantic_core import PydanticCustomError

from netpol_dsl import _rules
from netpol_dsl.errors import Issue
from netpol_dsl.model._base import Context, K8sModel

__all__ = ["NetworkPolicyPort", "Protocol"]

Protocol = Literal["TCP", "UDP", "SCTP"]


def _int_or_string(value: Any) -> Any:
    # IntOrString: JSON numbers are ints, JSON strings are names ("80" quoted stays a name).
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PydanticCustomError(
            "int_or_string", "an integer or a string (type={type_name})",
            {"type_name": type(value).__name__},
        )
    return value


IntOrString = Annotated[StrictInt | StrictStr, BeforeValidator(_int_or_string)]


class NetworkPolicyPort(K8sModel):
    """A port (or range) and protocol that a rule allows.

    ``protocol`` absent means TCP (``pkg/apis/networking/v1/defaults.go``); ``port`` absent means
    every port of that protocol; ``endPort`` makes ``port..endPort`` a range.

    Example:
        >>> NetworkPolicyPort(port=8080).effective_protocol
        'TCP'
        >>> NetworkPolicyPort(protocol="UDP", port=53).to_dict()
        {'protocol': 'UDP', 'port': 53}
    """

    protocol: StrictStr | None = None
    port: IntOrString | None = None
    end_port: StrictInt | None = None

    @property
    def effective_protocol(self) -> str:
        """The protocol after defaulting: TCP when absent.

        Example:
            >>> NetworkPolicyPort(protocol="SCTP").effective_protocol
            'SCTP'
        """
        return self.protocol if self.protocol is not None else "TCP"

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        # pkg/apis/networking/validation ValidateNetworkPolicyPort. Protocol is case-sensitive.
        out: list[Issue] = []
        if (
            "protocol" not in broken
            and self.protocol is not None
            and self.protocol not in _rules.PROTOCOLS
        ):
            out.append(Issue("protocol", self.protocol, "one of 'TCP', 'UDP', 'SCTP'"))
        if "port" in broken:
            return out  # every endPort rule depends on what port is
        port = self.port
        end = None if "end_port" in broken else self.end_port
        if isinstance(port, int):
            if _rules.port_number(port):
                out.append(Issue("port", port, "1..65535 or a port name such as 'http'"))
            if end is not None:
                if end < port:
                    out.append(Issue("endPort", end, f"a number >= `port` ({port})"))
                if _rules.port_number(end):
                    out.append(Issue("endPort", end, "1..65535"))
        elif isinstance(port, str):
            if end is not None:
                out.append(Issue("endPort", end, "no endPort when `port` is a name",
                                 hint="Use a numeric port with endPort"))
            msgs = _rules.port_name(port)
            if msgs:
                hint = None
                if port.isascii() and port.isdigit():
                    hint = f"A quoted {port!r} is a port name, not a number; write {int(port)} unquoted"
                out.append(Issue("port", port, "1..65535 or a port name (IANA_SVC_NAME: "
                                 + ", ".join(msgs) + ")", hint=hint))
        elif end is not None:
            out.append(Issue("endPort", end, "no endPort when `port` is not specified"))
        return out
