"""Hubble's flow records as msgspec structs: only the fields ``netpol_dsl.flows`` reads.

The names are those of cilium/cilium ``api/v1/flow/flow.proto`` (``message Flow``, ``Endpoint``,
``Layer4``, ``TCP``/``UDP``/``SCTP``, ``TCPFlags``, ``Layer7``, ``Workload``) as ``hubble observe
-o json`` prints them (proto names: ``pod_name``), and, where protobuf's JSON mapping names a
field differently (lowerCamelCase: ``podName``, ``destinationPort``, ``isReply``), that name too,
so one decoder reads both (and files that mix them). Every other field is skipped by the decoder
without being built, which is what makes a million lines cheap to read. No ``from __future__
import annotations`` here: msgspec reads the annotations when the decoder is built.
"""

import functools
from typing import Any

import msgspec

__all__ = ["Line", "hubble_decoder"]


class Flags(msgspec.Struct, gc=False):
    """``TCPFlags``: a SYN with an ACK answers a connection."""

    SYN: bool = False
    ACK: bool = False


class Ports(msgspec.Struct, gc=False):
    """``TCP``, ``UDP`` and ``SCTP``: the destination port."""

    destination_port: int = 0
    destinationPort: int = 0  # protobuf's JSON name
    flags: Flags | None = None

    @property
    def port(self) -> int:
        """The destination port, under either name.

        Example:
            >>> Ports(destinationPort=53).port
            53
        """
        return self.destination_port or self.destinationPort


class Layer4(msgspec.Struct, gc=False):
    """``Layer4``: one of TCP, UDP, SCTP, ICMPv4, ICMPv6 (the ICMP ones are only noticed)."""

    TCP: Ports | None = None
    UDP: Ports | None = None
    SCTP: Ports | None = None
    ICMPv4: msgspec.Raw = msgspec.Raw()
    ICMPv6: msgspec.Raw = msgspec.Raw()


class Layer7(msgspec.Struct, gc=False):
    """``Layer7``: its ``type`` (``RESPONSE`` goes the other way from the connection)."""

    type: Any = ""


class Workload(msgspec.Struct, gc=False):
    """``Workload``: the pod's owner as Hubble knows it."""

    name: str = ""
    kind: str = ""


class Endpoint(msgspec.Struct, gc=False):
    """``Endpoint``: namespace, pod name, workloads."""

    namespace: str = ""
    pod_name: str = ""
    podName: str = ""  # protobuf's JSON name
    workloads: list[Workload] = []


class Addresses(msgspec.Struct, gc=False):
    """``IP``: source and destination addresses."""

    source: str = ""
    destination: str = ""


class Flow(msgspec.Struct, gc=False):
    """``Flow``: what a record says about one packet or message."""

    verdict: str | int = ""
    IP: Addresses | None = None
    l4: Layer4 | None = None
    l7: Layer7 | None = None
    source: Endpoint | None = None
    destination: Endpoint | None = None
    is_reply: bool | None = None
    isReply: bool | None = None  # protobuf's JSON name
    reply: bool = False


class Line(Flow, gc=False):
    """One line: a ``GetFlowsResponse`` (``flow``, or another event) or a bare ``Flow``."""

    flow: Flow | None = None
    node_status: msgspec.Raw = msgspec.Raw()
    nodeStatus: msgspec.Raw = msgspec.Raw()  # protobuf's JSON name
    lost_events: msgspec.Raw = msgspec.Raw()
    lostEvents: msgspec.Raw = msgspec.Raw()  # protobuf's JSON name
    agent_event: msgspec.Raw = msgspec.Raw()
    agentEvent: msgspec.Raw = msgspec.Raw()  # protobuf's JSON name
    debug_event: msgspec.Raw = msgspec.Raw()
    debugEvent: msgspec.Raw = msgspec.Raw()  # protobuf's JSON name

    @property
    def other_event(self) -> bool:
        """A response that is not a flow (node status, lost events, agent or debug events).

        Example:
            >>> hubble_decoder().decode(b'{"lostEvents": {"numEventsLost": 2}}').other_event
            True
        """
        return bool(self.node_status or self.nodeStatus or self.lost_events or self.lostEvents
                    or self.agent_event or self.agentEvent or self.debug_event
                    or self.debugEvent)


@functools.cache
def hubble_decoder() -> "msgspec.json.Decoder[Line]":
    """The decoder of one line (both naming conventions).

    Example:
        >>> dec = hubble_decoder()
        >>> dec.decode(b'{"flow": {"source": {"pod_name": "web"}}}').flow.source.pod_name
        'web'
        >>> dec.decode(b'{"flow": {"source": {"podName": "web"}}}').flow.source.podName
        'web'
    """
    return msgspec.json.Decoder(Line)
