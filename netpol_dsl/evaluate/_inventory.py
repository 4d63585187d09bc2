"""What the evaluator knows about a cluster besides policies: namespaces, pods, their ports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from netpol_dsl import _rules
from netpol_dsl.errors import DslUsageError

__all__ = ["NAMESPACE_NAME_LABEL", "ContainerPort", "EndpointSpec", "Namespace", "Pod"]

#: Set by kube-apiserver on every namespace (``NamespaceDefaultLabelName``, Kubernetes >= 1.21).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def _frozen_labels(obj: Any, attr: str, value: Any) -> None:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        msg = f"{type(obj).__name__}(): got {attr}={value!r} (type={type(value).__name__}); expected a mapping of str to str"
        raise DslUsageError(msg)
    object.__setattr__(obj, attr, dict(value))


@dataclass(frozen=True, slots=True)
class Namespace:
    """A namespace and its labels; ``kubernetes.io/metadata.name`` is always among them.

    Example:
        >>> ns = Namespace("payments", {"team": "pay"})
        >>> dict(ns.labels)
        {'team': 'pay', 'kubernetes.io/metadata.name': 'payments'}
    """

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _frozen_labels(self, "labels", self.labels)
        # kube-apiserver sets this label on every namespace and keeps it equal to the name
        # (https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-metadata-name).
        labels = dict(self.labels)
        labels[NAMESPACE_NAME_LABEL] = self.name
        object.__setattr__(self, "labels", labels)

    def __hash__(self) -> int:
        return hash(self.name)


@dataclass(frozen=True, slots=True)
class ContainerPort:
    """A port a pod's container declares: number, protocol and optional name.

    Named ports in policies resolve against these (on the destination pod).

    Example:
        >>> ContainerPort(8080, name="http")
        ContainerPort(port=8080, protocol='TCP', name='http')
    """

    port: int
    protocol: str = "TCP"
    name: str | None = None

    def __post_init__(self) -> None:
        if type(self.port) is not int or _rules.port_number(self.port):
            msg = f"ContainerPort(): got port={self.port!r}; expected 1..65535"
            raise DslUsageError(msg)
        if self.protocol not in _rules.PROTOCOLS:
            msg = f"ContainerPort(): got protocol={self.protocol!r}; expected one of 'TCP', 'UDP', 'SCTP'"
            raise DslUsageError(msg)


@dataclass(frozen=True, slots=True)
class Pod:
    """A pod (or the representative pod of a workload) as the evaluator sees it.

    Args:
        namespace: the pod's namespace.
        name: the pod's name (a workload's name for its representative pod).
        labels: the pod's labels.
        ips: its IPs (``status.podIPs``); a pod without IPs never matches an ipBlock.
        ports: its containers' ports, which named ports in policies resolve against.
        host_network: ``spec.hostNetwork``; such pods are outside NetworkPolicy's reach.
        owner_kind: the kind of the workload it stands for (``Deployment``, ...), if any.
        owner_name: that workload's name.

    Example:
        >>> p = Pod("payments", "api-0", {"app": "api"}, ips=("10.0.0.5",),
        ...         ports=(ContainerPort(8080, name="http"),))
        >>> p.key, p.workload
        ('payments/api-0', 'payments/api-0[Pod]')
    """

    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ips: tuple[str, ...] = ()
    ports: tuple[ContainerPort, ...] = ()
    host_network: bool = False
    owner_kind: str | None = None
    owner_name: str | None = None

    def __post_init__(self) -> None:
        _frozen_labels(self, "labels", self.labels)
        if isinstance(self.ips, str):
            msg = f"Pod(): got ips={self.ips!r}; expected a tuple of IP strings such as ('10.0.0.1',)"
            raise DslUsageError(msg)
        object.__setattr__(self, "ips", tuple(self.ips))
        object.__setattr__(self, "ports", tuple(self.ports))
        for ip in self.ips:
            if _rules.parse_ip(ip) is None:
                msg = f"Pod(): got ips entry {ip!r}; expected an IPv4 or IPv6 address"
                raise DslUsageError(msg)

    def __hash__(self) -> int:
        return hash((self.namespace, self.name))

    @property
    def key(self) -> str:
        """``namespace/name``.

        Example:
            >>> Pod("a", "web").key
            'a/web'
        """
        return f"{self.namespace}/{self.name}"

    @property
    def workload(self) -> str:
        """``namespace/name[Kind]`` of the workload it stands for (``[Pod]`` for a bare pod).

        Example:
            >>> Pod("a", "web", owner_kind="Deployment", owner_name="web").workload
            'a/web[Deployment]'
        """
        if self.owner_kind and self.owner_name:
            return f"{self.namespace}/{self.owner_name}[{self.owner_kind}]"
        return f"{self.key}[Pod]"


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    """What an object that stands for pods (a DSL selector) returns from ``__netpol_endpoint__()``.

    The evaluator treats it as a representative pod with ``labels`` in ``namespace``. When
    ``namespace_labels`` is None the cluster's labels of that namespace are used.

    Example:
        >>> class Frontend:
        ...     def __netpol_endpoint__(self):
        ...         return EndpointSpec("payments", {"app": "frontend"})
        >>> Frontend().__netpol_endpoint__().labels
        {'app': 'frontend'}
    """

    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace_labels: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        _frozen_labels(self, "labels", self.labels)
        if self.namespace_labels is not None:
            _frozen_labels(self, "namespace_labels", self.namespace_labels)

    def __hash__(self) -> int:
        return hash((self.namespace, tuple(sorted(self.labels.items()))))
