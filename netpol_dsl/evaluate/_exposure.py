"""Exposure: what can reach one pod, and what it can reach, on which connections."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from netpol_dsl.evaluate._connections import ConnectionSet

__all__ = ["Exposure", "ExternalExposure", "address_ranges"]

_SPACE = {4: (0, (1 << 32) - 1), 6: (0, (1 << 128) - 1)}


@dataclass(frozen=True, slots=True)
class ExternalExposure:
    """External addresses (as CIDRs) and the connections allowed with them.

    Example:
        >>> e = ExternalExposure(("10.0.0.0/8",), ConnectionSet.of("TCP", 443))
        >>> e.to_dict()
        {'cidrs': ['10.0.0.0/8'], 'connections': 'TCP 443'}
    """

    cidrs: tuple[str, ...]
    connections: ConnectionSet

    def to_dict(self) -> dict[str, Any]:
        """As plain data, connections as text.

        Example:
            >>> ExternalExposure(("::/0",), ConnectionSet.all()).to_dict()["connections"]
            'all'
        """
        return {"cidrs": list(self.cidrs), "connections": str(self.connections)}


def address_ranges(
    regions: Iterable[tuple[int, int, int, ConnectionSet]],
) -> tuple[ExternalExposure, ...]:
    """Cut the address space at every region edge, union the connections of overlapping regions,
    and return disjoint CIDR groups, one per distinct connection set.

    Each region is ``(ip_version, first, last, connections)`` with addresses as integers.

    Example:
        >>> tcp, udp = ConnectionSet.of("TCP", 80), ConnectionSet.of("UDP", 53)
        >>> out = address_ranges([(4, 0, 2**32 - 1, tcp), (4, 10 << 24, (11 << 24) - 1, udp)])
        >>> [(e.cidrs[:2], str(e.connections)) for e in out]
        [(('0.0.0.0/5', '8.0.0.0/7'), 'TCP 80'), (('10.0.0.0/8',), 'TCP 80; UDP 53')]
    """
    by_version: dict[int, list[tuple[int, int, ConnectionSet]]] = {4: [], 6: []}
    for version, lo, hi, conns in regions:
        if not conns.is_empty:
            by_version[version].append((lo, hi, conns))
    groups: dict[ConnectionSet, list[str]] = {}
    for version, items in by_version.items():
        if not items:
            continue
        cuts = sorted({lo for lo, _, _ in items} | {hi + 1 for _, hi, _ in items})
        merged: list[tuple[int, int, ConnectionSet]] = []
        for a, b in pairwise(cuts):
            conns = ConnectionSet.none().union(*(c for lo, hi, c in items if lo <= a <= hi))
            if conns.is_empty:
                continue
            if merged and merged[-1][1] + 1 == a and merged[-1][2] == conns:
                merged[-1] = (merged[-1][0], b - 1, conns)
            else:
                merged.append((a, b - 1, conns))
        cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
        for lo, hi, conns in merged:
            nets = ipaddress.summarize_address_range(cls(lo), cls(hi))
            groups.setdefault(conns, []).extend(str(n) for n in nets)
    return tuple(ExternalExposure(tuple(c), conns) for conns, c in groups.items())


def whole_space(conns: ConnectionSet) -> tuple[ExternalExposure, ...]:
    """Every IPv4 and IPv6 address with ``conns``."""
    return address_ranges([(v, lo, hi, conns) for v, (lo, hi) in _SPACE.items()])


@dataclass(frozen=True)
class Exposure:
    """What may connect to a pod and what it may connect to.

    Args:
        pod: the pod's key.
        ingress_isolated: whether a policy isolates it for ingress.
        egress_isolated: whether a policy isolates it for egress.
        external_ingress: external addresses that may connect to it, as disjoint CIDR groups
            (only its own ingress policies count: nothing restricts an external source).
        external_egress: external addresses it may connect to (its egress policies).
        namespace_ingress: per namespace, what its policies allow from *any* pod of that
            namespace, whatever its labels (including pods that do not exist yet).
        namespace_egress: the same for destinations; named ports are left out, as they
            resolve on each destination pod's own container ports.
        pod_ingress: the cluster's pods that may connect to it, with the connections both
            sides' policies allow (pods with none left out; itself left out).
        pod_egress: the pods it may connect to.

    Example:
        >>> from netpol_dsl.evaluate import Cluster, Pod
        >>> e = Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).exposure("a/x")
        >>> [str(x.connections) for x in e.external_ingress], dict(e.pod_ingress)
        (['all'], {'a/y': ConnectionSet('all')})
    """

    pod: str
    ingress_isolated: bool
    egress_isolated: bool
    external_ingress: tuple[ExternalExposure, ...] = ()
    external_egress: tuple[ExternalExposure, ...] = ()
    namespace_ingress: Mapping[str, ConnectionSet] = field(default_factory=dict)
    namespace_egress: Mapping[str, ConnectionSet] = field(default_factory=dict)
    pod_ingress: Mapping[str, ConnectionSet] = field(default_factory=dict)
    pod_egress: Mapping[str, ConnectionSet] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """As plain data; connection sets as text.

        Example:
            >>> from netpol_dsl.evaluate import Cluster, Pod
            >>> Cluster(pods=[Pod("a", "x")]).exposure("a/x").to_dict()["namespace_ingress"]
            {'a': 'all'}
        """
        return {
            "pod": self.pod,
            "ingress_isolated": self.ingress_isolated,
            "egress_isolated": self.egress_isolated,
            "external_ingress": [e.to_dict() for e in self.external_ingress],
            "external_egress": [e.to_dict() for e in self.external_egress],
            "namespace_ingress": {k: str(v) for k, v in self.namespace_ingress.items()},
            "namespace_egress": {k: str(v) for k, v in self.namespace_egress.items()},
            "pod_ingress": {k: str(v) for k, v in self.pod_ingress.items()},
            "pod_egress": {k: str(v) for k, v in self.pod_egress.items()},
        }
