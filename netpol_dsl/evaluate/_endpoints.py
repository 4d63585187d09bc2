"""The workload layer: workloads, endpoints (what a name or a selector stands for), hypotheticals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from netpol_dsl.errors import DslUsageError
from netpol_dsl.evaluate._inventory import ContainerPort, Pod

__all__ = ["Endpoint", "Workload", "hypothetical"]


@dataclass(frozen=True, slots=True)
class Workload:
    """A workload (Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet,
    ReplicationController) or a bare pod, with its pods.

    ``labels`` are the labels every one of its pods has (with the same value).

    Example:
        >>> w = Workload("payments", "api", "Deployment", ("payments/api-1", "payments/api-2"),
        ...              {"app": "api"})
        >>> w.key, w.id
        ('payments/api', 'payments/api[Deployment]')
    """

    namespace: str
    name: str
    kind: str
    pods: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        """``namespace/name``.

        Example:
            >>> Workload("a", "web", "Pod", ("a/web",)).key
            'a/web'
        """
        return f"{self.namespace}/{self.name}"

    @property
    def id(self) -> str:
        """``namespace/name[Kind]``, as np-guard and ``netpol matrix`` print it.

        Example:
            >>> Workload("a", "db", "StatefulSet", ("a/db-0",)).id
            'a/db[StatefulSet]'
        """
        return f"{self.namespace}/{self.name}[{self.kind}]"

    @property
    def pod(self) -> str:
        """The key of its first pod (its representative).

        Example:
            >>> Workload("a", "web", "Deployment", ("a/web-x", "a/web-y")).pod
            'a/web-x'
        """
        return self.pods[0]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What an endpoint given to the evaluator stands for: pods of the inventory (one, a
    workload's, a selector's or a Service's), a hypothetical pod, or an external address.

    Example:
        >>> e = Endpoint("payments/api", pods=("payments/api-1",))
        >>> e.is_address, len(e.pods)
        (False, 1)
    """

    label: str
    pods: tuple[str, ...] = ()
    address: str | None = None
    hypothetical: Pod | None = None
    service: Any = None

    @property
    def is_address(self) -> bool:
        """An external address (or a node's address).

        Example:
            >>> Endpoint("10.0.0.1", address="10.0.0.1").is_address
            True
        """
        return self.address is not None


def hypothetical(
    selector: Any,
    *,
    name: str | None = None,
    ips: tuple[str, ...] = (),
    ports: tuple[ContainerPort, ...] = (),
) -> Pod:
    """A pod that is not in the inventory, built from a selector, to ask "what if?".

    Selector endpoints stand for the inventory pods they match; a pod that does not exist yet
    must be asked for explicitly, with this. The selector must name one namespace and give exact
    label values (``namespace("a") & pods(app="web")``).

    Raises:
        DslUsageError: the selector has no single representative pod.

    Example:
        >>> from netpol_dsl import namespace, pods
        >>> p = hypothetical(namespace("payments") & pods(app="new"))
        >>> p.namespace, dict(p.labels), p.name
        ('payments', {'app': 'new'}, 'new')
    """
    hook = getattr(selector, "__netpol_endpoint__", None)
    if hook is None:
        msg = (f"hypothetical(): got {selector!r} (type={type(selector).__name__}); expected a "
               "selector such as namespace('a') & pods(app='web')")
        raise DslUsageError(msg)
    spec = hook()
    labels = dict(spec.labels)
    default = "-".join(v for _, v in sorted(labels.items()) if v) or "pod"
    return Pod(spec.namespace, name or default, labels, ips=ips, ports=ports)
