"""Hubble's flow records as msgspec structs: only the fields ``netpol_dsl.flows`` reads.

The names are those of cilium/cilium ``api/v1/flow/flow.proto`` (``message Flow``, ``Endpoint``,
``Layer4``, ``TCP``/``UDP``/``SCTP``, ``TCPFlags``, ``Layer7``, ``Workload``), as ``hubble observe
-o json`` prints them (proto names: ``pod_name``), or as protobuf's JSON mapping names them
(``rename="camel"``: ``podName``). Every other field is skipped by the decoder without being
built, which is what makes a million lines cheap to read. No ``from __future__ import
annotations`` here: msgspec evaluates the annotations of these function-local classes when the
decoder is built.
"""

import functools
from typing import Any, Literal

import msgspec

__all__ = ["hubble_decoders"]


@functools.cache
def hubble_decoders() -> tuple[msgspec.json.Decoder[Any], msgspec.json.Decoder[Any]]:
    """The decoders of one line: proto field names, and protobuf JSON (camelCase) names.

    Example:
        >>> snake, camel = hubble_decoders()
        >>> snake.decode(b'{"flow": {"source": {"pod_name": "web"}}}').flow.source.pod_name
        'web'
        >>> camel.decode(b'{"flow": {"source": {"podName": "web"}}}').flow.source.pod_name
        'web'
    """
    return _decoder(None), _decoder("camel")



def _decoder(rename: Literal["camel"] | None) -> "msgspec.json.Decoder[Any]":
    """A decoder of Hubble lines that reads only the fields used (``flow.proto``'s names, or
    protobuf's camelCase JSON names with ``rename="camel"``); the rest is skipped unread."""

    class Flags(msgspec.Struct, rename=rename, gc=False):
        SYN: bool = False
        ACK: bool = False

    class Ports(msgspec.Struct, rename=rename, gc=False):
        destination_port: int = 0
        flags: Flags | None = None

    class Layer4(msgspec.Struct, rename=rename, gc=False):
        TCP: Ports | None = None
        UDP: Ports | None = None
        SCTP: Ports | None = None
        ICMPv4: msgspec.Raw = msgspec.Raw()  # present or not: its fields are not read
        ICMPv6: msgspec.Raw = msgspec.Raw()

    class Layer7(msgspec.Struct, rename=rename, gc=False):
        type: str | int = ""

    class Workload(msgspec.Struct, rename=rename, gc=False):
        name: str = ""
        kind: str = ""

    class Endpoint(msgspec.Struct, rename=rename, gc=False):
        namespace: str = ""
        pod_name: str = ""
        workloads: list[Workload] = []

    class Addresses(msgspec.Struct, rename=rename, gc=False):
        source: str = ""
        destination: str = ""

    class Flow(msgspec.Struct, rename=rename, gc=False):
        verdict: str | int = ""
        IP: Addresses | None = None
        l4: Layer4 | None = None
        l7: Layer7 | None = None
        source: Endpoint | None = None
        destination: Endpoint | None = None
        is_reply: bool | None = None
        reply: bool = False

    class Line(Flow, rename=rename, gc=False):
        flow: Flow | None = None
        node_status: msgspec.Raw = msgspec.Raw()
        lost_events: msgspec.Raw = msgspec.Raw()
        agent_event: msgspec.Raw = msgspec.Raw()
        debug_event: msgspec.Raw = msgspec.Raw()

    return msgspec.json.Decoder(Line)
