"""Turn loaded manifests (Namespaces, Pods, workloads) into the evaluator's inventory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from netpol_dsl import _rules
from netpol_dsl.errors import Issue
from netpol_dsl.evaluate._inventory import ContainerPort, Namespace, Pod
from netpol_dsl.load import Manifest, Manifests, Source, load_manifests

__all__ = ["WORKLOAD_KINDS", "Inventory", "inventory_from", "load_for_evaluation"]

#: Kinds whose pod template stands for their pods (``spec.template``; CronJob one level deeper).
WORKLOAD_KINDS = frozenset({
    "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
    "ReplicationController",
})


@dataclass
class Inventory:
    """Namespaces and pods read from manifests, with what was passed over."""

    namespaces: list[Namespace] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    #: pod key -> the manifest it was read from (the Pod, or the workload it stands for)
    sources: dict[str, Manifest] = field(default_factory=dict)


def _meta(m: Manifest, out: Inventory) -> tuple[str, str, Mapping[str, Any]] | None:
    meta = m.data.get("metadata")
    if not isinstance(meta, Mapping) or not isinstance(meta.get("name"), str) or not meta["name"]:
        out.warnings.append(Issue("metadata.name", meta.get("name") if isinstance(meta, Mapping)
                                  else meta, "a name", hint=f"{m.kind} skipped", source=m.where))
        return None
    ns = meta.get("namespace")
    return meta["name"], _rules.namespace_of(ns), meta


def _labels(value: Any, path: str, m: Manifest, out: Inventory) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        out.warnings.append(Issue(path, value, "a mapping of labels", hint="labels ignored",
                                  source=m.where))
        return {}
    labels: dict[str, str] = {}
    for k, v in value.items():
        if isinstance(k, str) and isinstance(v, str):
            labels[k] = v
        else:
            out.warnings.append(Issue(path, {k: v}, "string label keys and values",
                                      hint="label ignored", source=m.where))
    return labels


def _owner(meta: Mapping[str, Any]) -> tuple[str, str] | None:
    refs = meta.get("ownerReferences")
    if not isinstance(refs, Sequence) or isinstance(refs, str):
        return None
    good = [r for r in refs if isinstance(r, Mapping) and isinstance(r.get("kind"), str)
            and isinstance(r.get("name"), str)]
    if not good:
        return None
    ref = next((r for r in good if r.get("controller") is True), good[0])
    return ref["kind"], ref["name"]


def _pod_spec_parts(
    spec: Any, path: str, m: Manifest, out: Inventory
) -> tuple[tuple[ContainerPort, ...], bool]:
    if not isinstance(spec, Mapping):
        return (), False
    ports: list[ContainerPort] = []
    containers = spec.get("containers")
    for ci, c in enumerate(containers if isinstance(containers, list) else ()):
        if not isinstance(c, Mapping):
            continue
        for pi, p in enumerate(c.get("ports") or () if isinstance(c.get("ports"), list) else ()):
            where = f"{path}.containers[{ci}].ports[{pi}]"
            if not isinstance(p, Mapping):
                continue
            number, proto, name = p.get("containerPort"), p.get("protocol", "TCP"), p.get("name")
            if isinstance(number, bool) or not isinstance(number, int) or _rules.port_number(number):
                out.warnings.append(Issue(f"{where}.containerPort", number, "1..65535",
                                          hint="port ignored", source=m.where))
                continue
            if proto not in _rules.PROTOCOLS:
                out.warnings.append(Issue(f"{where}.protocol", proto,
                                          "one of 'TCP', 'UDP', 'SCTP'", hint="port ignored",
                                          source=m.where))
                continue
            ports.append(ContainerPort(number, proto, name if isinstance(name, str) and name
                                       else None))
    return tuple(ports), spec.get("hostNetwork") is True


def _pod_ips(data: Mapping[str, Any], m: Manifest, out: Inventory) -> tuple[str, ...]:
    status = data.get("status")
    if not isinstance(status, Mapping):
        return ()
    found: list[str] = []
    entries = status.get("podIPs")
    for e in entries if isinstance(entries, list) else ():
        if isinstance(e, Mapping) and isinstance(e.get("ip"), str):
            found.append(e["ip"])
    if isinstance(status.get("podIP"), str):
        found.append(status["podIP"])
    ips: list[str] = []
    for ip in dict.fromkeys(found):
        if _rules.parse_ip(ip) is None:
            out.warnings.append(Issue("status.podIP", ip, "an IP address", hint="IP ignored",
                                      source=m.where))
        else:
            ips.append(ip)
    return tuple(ips)


def _template(m: Manifest) -> tuple[Any, str]:
    spec = m.data.get("spec")
    if m.kind == "CronJob":
        job = spec.get("jobTemplate") if isinstance(spec, Mapping) else None
        spec = job.get("spec") if isinstance(job, Mapping) else None
        path = "spec.jobTemplate.spec.template"
    else:
        path = "spec.template"
    tpl = spec.get("template") if isinstance(spec, Mapping) else None
    return tpl, path


def inventory_from(manifests: Manifests) -> Inventory:
    """Namespaces, pods and representative pods of workloads, from loaded manifests.

    A workload becomes one representative pod named after it, with its template's labels and
    container ports. A workload that owns pods in the input, or whose owner is in the input, is
    represented by those instead. Objects without a namespace are in ``default``.
    """
    out = Inventory()
    workloads: dict[tuple[str, str, str], tuple[Manifest, tuple[str, str] | None]] = {}
    pods_raw: list[tuple[Manifest, str, str, Mapping[str, Any]]] = []
    for m in manifests.objects:
        parts = _meta(m, out)
        if parts is None:
            continue
        name, ns, meta = parts
        if m.kind == "Namespace":
            # A Namespace's own namespace field is meaningless; its name is what counts.
            out.namespaces.append(Namespace(name, _labels(meta.get("labels"), "metadata.labels",
                                                          m, out)))
        elif m.kind == "Pod":
            pods_raw.append((m, name, ns, meta))
        elif m.kind in WORKLOAD_KINDS:
            workloads[(ns, m.kind, name)] = (m, _owner(meta))

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
    for m, name, ns, meta in pods_raw:
        owner = _owner(meta)
        okind, oname = top(ns, *owner) if owner else (None, None)
        if okind is not None and oname is not None:
            represented.add((ns, okind, oname))
        labels = _labels(meta.get("labels"), "metadata.labels", m, out)
        ports, host = _pod_spec_parts(m.data.get("spec"), "spec", m, out)
        pod = Pod(ns, name, labels, ips=_pod_ips(m.data, m, out), ports=ports, host_network=host,
                  owner_kind=okind, owner_name=oname)
        if pod.key in taken:
            out.warnings.append(Issue("metadata.name", pod.key, "one Pod per name",
                                      hint="duplicate ignored", source=m.where))
            continue
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
        tpl, path = _template(m)
        tmeta = tpl.get("metadata") if isinstance(tpl, Mapping) else None
        labels = _labels(tmeta.get("labels") if isinstance(tmeta, Mapping) else None,
                         f"{path}.metadata.labels", m, out)
        ports, host = _pod_spec_parts(tpl.get("spec") if isinstance(tpl, Mapping) else None,
                                      f"{path}.spec", m, out)
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


def load_for_evaluation(source: Source | Any) -> Manifests:
    """``load_manifests`` for evaluation: CIDRs older API servers stored and names today's API
    server would refuse are read with a warning, since neither changes what a policy allows.
    """
    return load_manifests(source, lenient_cidr=True, lenient_names=True)
