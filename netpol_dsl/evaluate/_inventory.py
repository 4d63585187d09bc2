"""What the evaluator knows about a cluster besides policies: namespaces, pods, their ports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from netpol_dsl import _rules
from netpol_dsl.errors import DslUsageError

__all__ = [
    "NAMESPACE_NAME_LABEL",
    "ContainerPort",
    "EndpointSpec",
    "Namespace",
    "Node",
    "NodeAddress",
    "Pod",
    "Service",
    "ServicePort",
]

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
        node_name: the node it is scheduled on (``spec.nodeName``), if known.
        host_ips: its node's IPs (``status.hostIPs``); a ``hostNetwork`` pod has these IPs.

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
    node_name: str | None = None
    host_ips: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _frozen_labels(self, "labels", self.labels)
        if isinstance(self.host_ips, str):
            msg = f"Pod(): got host_ips={self.host_ips!r}; expected a tuple of IP strings"
            raise DslUsageError(msg)
        object.__setattr__(self, "host_ips", tuple(self.host_ips))
        for ip in self.host_ips:
            if not _rules.is_ip(ip):
                msg = f"Pod(): got host_ips entry {ip!r}; expected an IPv4 or IPv6 address"
                raise DslUsageError(msg)
        if isinstance(self.ips, str):
            msg = f"Pod(): got ips={self.ips!r}; expected a tuple of IP strings such as ('10.0.0.1',)"
            raise DslUsageError(msg)
        object.__setattr__(self, "ips", tuple(self.ips))
        object.__setattr__(self, "ports", tuple(self.ports))
        for ip in self.ips:
            if not _rules.is_ip(ip):
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


@dataclass(frozen=True, slots=True)
class ServicePort:
    """One port of a Service: clients connect to ``port``, the selected pods get ``target``.

    Args:
        port: the Service's port.
        protocol: ``TCP`` (the API default), ``UDP`` or ``SCTP``.
        name: the port's name (required by the API when a Service has several ports).
        target_port: the pods' port, a number or a container port's name; ``None`` means the
            same number as ``port`` (the API default).

    Example:
        >>> ServicePort(80, target_port="http").target, ServicePort(53, "UDP").target
        ('http', 53)
    """

    port: int
    protocol: str = "TCP"
    name: str | None = None
    target_port: int | str | None = None

    def __post_init__(self) -> None:
        if type(self.port) is not int or _rules.port_number(self.port):
            msg = f"ServicePort(): got port={self.port!r}; expected 1..65535"
            raise DslUsageError(msg)
        if self.protocol not in _rules.PROTOCOLS:
            msg = (f"ServicePort(): got protocol={self.protocol!r}; expected one of 'TCP', "
                   "'UDP', 'SCTP'")
            raise DslUsageError(msg)

    @property
    def target(self) -> int | str:
        """The pods' port: ``target_port``, or ``port`` when it is not set.

        Example:
            >>> ServicePort(8080).target
            8080
        """
        return self.port if self.target_port is None else self.target_port


@dataclass(frozen=True, slots=True)
class Service:
    """A Service: which pods it sends traffic to, on which ports, at which cluster IPs.

    Args:
        namespace: the Service's namespace (it selects pods in this namespace only).
        name: its name.
        selector: the labels its pods carry. ``None`` (no selector, or an empty one) selects no
            pods: "If empty or not present, the service is assumed to have an external process
            managing its endpoints" (``ServiceSpec.selector``, core/v1 types.go).
        ports: its ports.
        type: ``ClusterIP`` (the API default), ``NodePort``, ``LoadBalancer`` or ``ExternalName``.
        cluster_ips: ``spec.clusterIPs`` (or ``spec.clusterIP``); ``("None",)`` for a headless one.

    Example:
        >>> s = Service("pay", "api", {"app": "api"}, (ServicePort(80, target_port=8080),))
        >>> s.key, s.selects(Pod("pay", "api-0", {"app": "api", "v": "1"})), s.headless
        ('pay/api', True, False)
    """

    namespace: str
    name: str
    selector: Mapping[str, str] | None = None
    ports: tuple[ServicePort, ...] = ()
    type: str = "ClusterIP"
    cluster_ips: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.selector is not None:
            _frozen_labels(self, "selector", self.selector)
            if not self.selector:
                object.__setattr__(self, "selector", None)
        object.__setattr__(self, "ports", tuple(self.ports))
        object.__setattr__(self, "cluster_ips", tuple(self.cluster_ips))

    def __hash__(self) -> int:
        return hash((self.namespace, self.name))

    @property
    def key(self) -> str:
        """``namespace/name``.

        Example:
            >>> Service("a", "web").key
            'a/web'
        """
        return f"{self.namespace}/{self.name}"

    @property
    def headless(self) -> bool:
        """Whether the Service has no cluster IP (``clusterIP: None``).

        Example:
            >>> Service("a", "db", cluster_ips=("None",)).headless
            True
        """
        return self.cluster_ips[:1] == ("None",)

    def selects(self, pod: Pod) -> bool:
        """Whether ``pod`` is one of this Service's endpoints (same namespace, labels match).

        Example:
            >>> Service("a", "web").selects(Pod("a", "web-0"))  # no selector: no pods
            False
        """
        if self.selector is None or pod.namespace != self.namespace:
            return False
        labels = pod.labels
        return all(labels.get(k) == v for k, v in self.selector.items())


@dataclass(frozen=True, slots=True)
class NodeAddress:
    """One of a node's addresses (``status.addresses``): its type and value.

    Example:
        >>> NodeAddress("InternalIP", "10.0.0.7")
        NodeAddress(type='InternalIP', address='10.0.0.7')
    """

    type: str
    address: str


@dataclass(frozen=True, slots=True)
class Node:
    """A node: its name, labels and addresses (``InternalIP``, ``ExternalIP``, ``Hostname``...).

    Example:
        >>> n = Node("node-1", {"zone": "a"}, (NodeAddress("InternalIP", "10.0.0.7"),
        ...                                    NodeAddress("Hostname", "node-1")))
        >>> n.ips
        ('10.0.0.7',)
    """

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    addresses: tuple[NodeAddress, ...] = ()

    def __post_init__(self) -> None:
        _frozen_labels(self, "labels", self.labels)
        object.__setattr__(self, "addresses", tuple(self.addresses))

    def __hash__(self) -> int:
        return hash(self.name)

    @property
    def ips(self) -> tuple[str, ...]:
        """The node's ``InternalIP`` and ``ExternalIP`` addresses, in the order given.

        Example:
            >>> Node("n", addresses=(NodeAddress("ExternalIP", "203.0.113.9"),)).ips
            ('203.0.113.9',)
        """
        return tuple(a.address for a in self.addresses if a.type in ("InternalIP", "ExternalIP"))
