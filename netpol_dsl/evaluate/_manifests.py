"""Turn loaded manifests (Namespaces, Pods, workloads, Services, Nodes) into the inventory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from netpol_dsl import _rules
from netpol_dsl._gc import gc_paused
from netpol_dsl.errors import DslUsageError, Issue
from netpol_dsl.evaluate._inventory import (
    ContainerPort,
    Namespace,
    Node,
    NodeAddress,
    Pod,
    Service,
    ServicePort,
)
from netpol_dsl.load import Manifest, Manifests, Source, load_manifests

__all__ = ["WORKLOAD_KINDS", "Inventory", "inventory_from", "load_for_evaluation"]

#: Kinds whose pod template stands for their pods (``spec.template``; CronJob one level deeper).
WORKLOAD_KINDS = frozenset({
    "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
    "ReplicationController",
})


@dataclass
class Inventory:
    """Namespaces, pods, Services and nodes read from manifests, with what was passed over.

    Example:
        >>> Inventory().pods
        []
    """

    namespaces: list[Namespace] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    #: pod key -> the manifest it was read from (the Pod, or the workload it stands for)
    sources: dict[str, Manifest] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)


def _is_map(value: Any) -> TypeGuard[Mapping[str, Any]]:
    # Loaded documents hold dicts; the abstract check is for mappings handed in directly.
    return type(value) is dict or isinstance(value, Mapping)


def _is_list(value: Any) -> TypeGuard[Sequence[Any]]:
    return type(value) is list or (isinstance(value, Sequence) and not isinstance(value, str))


class _Reader:
    """Reads one object's fields, noting what it passes over as warnings."""

    __slots__ = ("m", "out")

    def __init__(self, m: Manifest, out: Inventory) -> None:
        self.m, self.out = m, out

    def warn(self, path: str, value: Any, expected: str, hint: str) -> None:
        self.out.warnings.append(Issue(path, value, expected, hint=hint, source=self.m.where))

    def labels(self, value: Any, path: str) -> dict[str, str]:
        if value is None:
            return {}
        if not _is_map(value):
            self.warn(path, value, "a mapping of labels", "labels ignored")
            return {}
        labels: dict[str, str] = {}
        for k, v in value.items():
            if type(k) is str and type(v) is str:
                labels[k] = v
            else:
                self.warn(path, {k: v}, "string label keys and values", "label ignored")
        return labels

    def ips(self, entries: Any, single: Any) -> tuple[str, ...]:
        # status.podIPs / status.hostIPs ([{ip: ...}]) and the older single-value field; Pod()
        # checks that they are addresses (see valid_ips()).
        found: list[str] = []
        for e in entries if _is_list(entries) else ():
            if _is_map(e) and type(e.get("ip")) is str:
                found.append(e["ip"])
        if type(single) is str:
            found.append(single)
        return tuple(dict.fromkeys(found)) if len(found) > 1 else tuple(found)

    def valid_ips(self, ips: tuple[str, ...], path: str) -> tuple[str, ...]:
        out: list[str] = []
        for ip in ips:
            if _rules.parse_ip(ip) is None:
                self.warn(path, ip, "an IP address", "IP ignored")
            else:
                out.append(ip)
        return tuple(out)

    def container_ports(self, spec: Any, path: str) -> tuple[tuple[ContainerPort, ...], bool]:
        if not _is_map(spec):
            return (), False
        ports: list[ContainerPort] = []
        containers = spec.get("containers")
        for ci, c in enumerate(containers if _is_list(containers) else ()):
            if not _is_map(c):
                continue
            cports = c.get("ports")
            for pi, p in enumerate(cports if _is_list(cports) else ()):
                if not _is_map(p):
                    continue
                number, proto, name = p.get("containerPort"), p.get("protocol", "TCP"), p.get("name")
                if type(number) is not int or not 0 < number < 65536:
                    self.warn(f"{path}.containers[{ci}].ports[{pi}].containerPort", number,
                              "1..65535", "port ignored")
                    continue
                if proto not in _rules.PROTOCOLS:
                    self.warn(f"{path}.containers[{ci}].ports[{pi}].protocol", proto,
                              "one of 'TCP', 'UDP', 'SCTP'", "port ignored")
                    continue
                ports.append(_container_port(number, proto,
                                             name if type(name) is str and name else None))
        return tuple(ports), spec.get("hostNetwork") is True


_PORTS: dict[tuple[int, str, str | None], ContainerPort] = {}


def _container_port(number: int, proto: str, name: str | None) -> ContainerPort:
    # Replicas declare the same ports: share one (frozen) object per distinct port.
    key = (number, proto, name)
    port = _PORTS.get(key)
    if port is None:
        if len(_PORTS) > 100_000:
            _PORTS.clear()
        port = _PORTS[key] = ContainerPort(number, proto, name)
    return port


def _meta(m: Manifest, out: Inventory) -> tuple[str, str, Mapping[str, Any]] | None:
    meta = m.data.get("metadata")
    if not _is_map(meta):
        out.warnings.append(Issue("metadata.name", meta, "a name", hint=f"{m.kind} skipped",
                                  source=m.where))
        return None
    name = meta.get("name")
    if type(name) is not str or not name:
        out.warnings.append(Issue("metadata.name", name, "a name", hint=f"{m.kind} skipped",
                                  source=m.where))
        return None
    ns = meta.get("namespace")
    return name, _rules.namespace_of(ns), meta


def _owner(meta: Mapping[str, Any]) -> tuple[str, str] | None:
    refs = meta.get("ownerReferences")
    if not _is_list(refs):
        return None
    good = [r for r in refs if _is_map(r) and type(r.get("kind")) is str
            and type(r.get("name")) is str]
    if not good:
        return None
    ref = next((r for r in good if r.get("controller") is True), good[0])
    return ref["kind"], ref["name"]


def _template(m: Manifest) -> tuple[Any, str]:
    spec = m.data.get("spec")
    if m.kind == "CronJob":
        job = spec.get("jobTemplate") if _is_map(spec) else None
        spec = job.get("spec") if _is_map(job) else None
        path = "spec.jobTemplate.spec.template"
    else:
        path = "spec.template"
    tpl = spec.get("template") if _is_map(spec) else None
    return tpl, path


def _pod(m: Manifest, name: str, ns: str, meta: Mapping[str, Any], owner: tuple[str, str] | None,
         out: Inventory) -> Pod:
    r = _Reader(m, out)
    data = m.data
    labels = r.labels(meta.get("labels"), "metadata.labels")
    spec = data.get("spec")
    ports, host_network = r.container_ports(spec, "spec")
    node = spec.get("nodeName") if _is_map(spec) else None
    status = data.get("status")
    if _is_map(status):
        ips = r.ips(status.get("podIPs"), status.get("podIP"))
        host_ips = r.ips(status.get("hostIPs"), status.get("hostIP"))
    else:
        ips = host_ips = ()
    node_name = node if type(node) is str and node else None
    for attempt in range(2):
        if host_network and not ips:
            # A hostNetwork pod has its node's addresses (the kubelet reports them as its pod
            # IPs; a dump may carry only hostIP).
            ips = host_ips
        try:
            return Pod(ns, name, labels, ips=ips, ports=ports, host_network=host_network,
                       owner_kind=owner[0] if owner else None,
                       owner_name=owner[1] if owner else None,
                       node_name=node_name, host_ips=host_ips)
        except DslUsageError:
            if attempt:
                raise
            ips = r.valid_ips(ips, "status.podIP")  # drop what is not an address, and say so
            host_ips = r.valid_ips(host_ips, "status.hostIP")
    raise AssertionError("unreachable")  # pragma: no cover


def _service(m: Manifest, name: str, ns: str, out: Inventory) -> Service | None:
    r = _Reader(m, out)
    spec = m.data.get("spec")
    if spec is None:
        spec = {}
    if not _is_map(spec):
        r.warn("spec", spec, "a mapping", "Service skipped")
        return None
    selector = spec.get("selector")
    labels = r.labels(selector, "spec.selector") if selector is not None else None
    ports: list[ServicePort] = []
    sports = spec.get("ports")
    for i, p in enumerate(sports if _is_list(sports) else ()):
        where = f"spec.ports[{i}]"
        if not _is_map(p):
            r.warn(where, p, "a mapping", "port ignored")
            continue
        number, proto = p.get("port"), p.get("protocol", "TCP")
        name_, target = p.get("name"), p.get("targetPort")
        if type(number) is not int or _rules.port_number(number):
            r.warn(f"{where}.port", number, "1..65535", "port ignored")
            continue
        if proto not in _rules.PROTOCOLS:
            r.warn(f"{where}.protocol", proto, "one of 'TCP', 'UDP', 'SCTP'", "port ignored")
            continue
        if target is not None and not (
                (type(target) is int and not _rules.port_number(target))
                or (type(target) is str and target)):
            r.warn(f"{where}.targetPort", target, "a port number or a container port's name",
                   "the Service's port is used")
            target = None
        ports.append(ServicePort(number, proto, name_ if type(name_) is str and name_ else None,
                                 target))
    kind = spec.get("type")
    ips = spec.get("clusterIPs")
    cluster_ips = [ip for ip in ips if type(ip) is str] if _is_list(ips) else []
    single = spec.get("clusterIP")
    if type(single) is str and single and single not in cluster_ips:
        cluster_ips.insert(0, single)
    return Service(ns, name, labels or None, tuple(ports),
                   kind if type(kind) is str and kind else "ClusterIP", tuple(cluster_ips))


def _node(m: Manifest, name: str, meta: Mapping[str, Any], out: Inventory) -> Node:
    r = _Reader(m, out)
    labels = r.labels(meta.get("labels"), "metadata.labels")
    status = m.data.get("status")
    entries = status.get("addresses") if _is_map(status) else None
    addresses: list[NodeAddress] = []
    for i, a in enumerate(entries if _is_list(entries) else ()):
        if not _is_map(a) or type(a.get("type")) is not str or type(a.get("address")) is not str:
            r.warn(f"status.addresses[{i}]", a, "a type and an address", "address ignored")
            continue
        kind, address = a["type"], a["address"]
        if kind in ("InternalIP", "ExternalIP") and _rules.parse_ip(address) is None:
            r.warn(f"status.addresses[{i}].address", address, "an IP address", "address ignored")
            continue
        addresses.append(NodeAddress(kind, address))
    return Node(name, labels, tuple(addresses))


def inventory_from(manifests: Manifests) -> Inventory:
    """Namespaces, pods, representative pods of workloads, Services and nodes, from manifests.

    A workload becomes one representative pod named after it, with its template's labels and
    container ports. A workload that owns pods in the input, or whose owner is in the input, is
    represented by those instead. Objects without a namespace are in ``default``. Of two objects
    with the same kind, namespace and name, the last one counts, as ``kubectl apply`` keeps it.

    Example:
        >>> inv = inventory_from(load_manifests('''
        ... kind: Pod
        ... metadata: {name: web, namespace: a, labels: {app: web}}
        ... spec: {nodeName: node-1, containers: [{name: c, ports: [{containerPort: 80}]}]}
        ... status: {podIP: 10.0.0.5, hostIP: 192.168.0.7}
        ... '''))
        >>> pod = inv.pods[0]
        >>> pod.key, pod.ips, pod.node_name, pod.host_ips
        ('a/web', ('10.0.0.5',), 'node-1', ('192.168.0.7',))
    """
    return _inventory_from(manifests)


@gc_paused
def _inventory_from(manifests: Manifests) -> Inventory:
    out = Inventory()
    workloads: dict[tuple[str, str, str], tuple[Manifest, tuple[str, str] | None]] = {}
    pods_raw: dict[tuple[str, str], tuple[Manifest, str, str, Mapping[str, Any]]] = {}
    namespaces: dict[str, Namespace] = {}
    services: dict[tuple[str, str], Service] = {}
    nodes: dict[str, Node] = {}
    for m in manifests.objects:
        parts = _meta(m, out)
        if parts is None:
            continue
        name, ns, meta = parts
        kind = m.kind
        if kind == "Pod":
            key = (ns, name)
            if key in pods_raw:
                _replaced(out, m, f"Pod {ns}/{name}")
                del pods_raw[key]  # the last one counts, in its own place
            pods_raw[key] = (m, name, ns, meta)
        elif kind == "Namespace":
            # A Namespace's own namespace field is meaningless; its name is what counts.
            if name in namespaces:
                _replaced(out, m, f"Namespace {name}")
                del namespaces[name]
            namespaces[name] = Namespace(name, _Reader(m, out).labels(meta.get("labels"),
                                                                      "metadata.labels"))
        elif kind in WORKLOAD_KINDS:
            if (ns, kind, name) in workloads:
                _replaced(out, m, f"{kind} {ns}/{name}")
                del workloads[(ns, kind, name)]
            workloads[(ns, kind, name)] = (m, _owner(meta))
        elif kind == "Service":
            service = _service(m, name, ns, out)
            if service is not None:
                if (ns, name) in services:
                    _replaced(out, m, f"Service {ns}/{name}")
                    del services[(ns, name)]
                services[(ns, name)] = service
        elif kind == "Node":
            if name in nodes:
                _replaced(out, m, f"Node {name}")
                del nodes[name]
            nodes[name] = _node(m, name, meta, out)
    out.namespaces = list(namespaces.values())
    out.services = list(services.values())
    out.nodes = list(nodes.values())

    def top(ns: str, kind: str, name: str) -> tuple[str, str]:
        seen = set()
        while (ns, kind, name) in workloads and (kind, name) not in seen:
            seen.add((kind, name))
            owner = workloads[(ns, kind, name)][1]
            if owner is None:
                break
            kind, name = owner
        return kind, name

    taken: set[str] = set()
    represented: set[tuple[str, str, str]] = set()
    for m, name, ns, meta in pods_raw.values():
        owner = _owner(meta)
        if owner is not None:
            owner = top(ns, *owner)
            represented.add((ns, *owner))
        pod = _pod(m, name, ns, meta, owner, out)
        taken.add(pod.key)
        out.pods.append(pod)
        out.sources[pod.key] = m
    for (ns, kind, name), (m, _) in workloads.items():
        tkind, tname = top(ns, kind, name)
        if (ns, tkind, tname) in represented:
            continue
        if (tkind, tname) != (kind, name) and (ns, tkind, tname) in workloads:
            continue  # the owner in the input stands for it
        represented.add((ns, tkind, tname))
        r = _Reader(m, out)
        tpl, path = _template(m)
        tmeta = tpl.get("metadata") if _is_map(tpl) else None
        labels = r.labels(tmeta.get("labels") if _is_map(tmeta) else None,
                          f"{path}.metadata.labels")
        ports, host = r.container_ports(tpl.get("spec") if _is_map(tpl) else None,
                                        f"{path}.spec")
        pname = tname
        if f"{ns}/{pname}" in taken:
            pname = f"{tname}-{tkind.lower()}"
            out.warnings.append(Issue("metadata.name", f"{ns}/{tname}", "a name no Pod has",
                                      hint=f"representative pod named {pname!r}", source=m.where))
        taken.add(f"{ns}/{pname}")
        out.pods.append(Pod(ns, pname, labels, ports=ports, host_network=host, owner_kind=tkind,
                            owner_name=tname))
        out.sources[f"{ns}/{pname}"] = m
    return out


def _replaced(out: Inventory, m: Manifest, key: str) -> None:
    out.warnings.append(Issue("metadata.name", key, "one object per kind and name",
                              hint="the earlier one is replaced, as kubectl apply replaces it",
                              source=m.where))


def load_for_evaluation(source: Source | Any) -> Manifests:
    """``load_manifests`` for evaluation: CIDRs older API servers stored and names today's API
    server would refuse are read with a warning, since neither changes what a policy allows.

    Example:
        >>> load_for_evaluation("kind: Pod\\nmetadata: {name: a}\\n").objects[0].kind
        'Pod'
    """
    return load_manifests(source, lenient_cidr=True, lenient_names=True)
