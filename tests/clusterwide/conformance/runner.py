"""Replay the transcribed network-policy-api conformance suites (``v1alpha1.yaml``, ``v1alpha2.yaml``).

The cluster is the one ``conformance/base/manifests.yaml`` creates:

- five namespaces ``network-policy-conformance-{gryffindor,slytherin,hufflepuff,ravenclaw,
  forbidden-forrest}`` labelled ``conformance-house: <house>`` (plus ``kubernetes.io/metadata.name``,
  which the API server adds);
- one StatefulSet of two replicas per namespace, so pods ``<name>-0`` and ``<name>-1`` with the
  template's labels and container ports; the forbidden-forrest pods (``centaur-*``) are
  host-network pods, whose IP is their node's;
- nodes: the suite does not create them; a kind cluster (where the suite runs) has Linux nodes
  labelled ``kubernetes.io/os: linux``. Here: two nodes, ``node-0`` and ``node-1``, each replica
  ``-i`` running on ``node-i``.

Templates (``{{ index .HostNetworkPorts N }}``) are filled with the suite's default ports,
34345 + N (``conformance/utils/suite/suite.go``). Pod IPs are assigned here: 10.244.<namespace
index>.<10 + ordinal>; node IPs 172.18.0.<2 + i>.

:func:`states` yields, for every step of every test, the objects the cluster holds then (as
API-shaped dicts: Namespaces, Nodes, Pods and the policies after the step's cumulative patches)
with the step's probes.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
UPSTREAM = {"v1alpha1": HERE / "upstream" / "v0.1.8", "v1alpha2": HERE / "upstream" / "v0.2.0-0eec1b0"}
PREFIX = "network-policy-conformance-"
NS_NAME_LABEL = "kubernetes.io/metadata.name"
#: conformance/utils/suite/suite.go: HostNetworkPortRangeStart = 34345, hostNetworkPortsAmount = 8.
HOST_NETWORK_PORTS = tuple(range(34345, 34345 + 8))
NODES = ("node-0", "node-1")
_TEMPLATE = re.compile(r"\{\{\s*index\s+\.HostNetworkPorts\s+(\d+)\s*\}\}")
#: libyaml's reader when PyYAML has it (the same YAML 1.1 reading, several times faster: the
#: suites are read while pytest collects, in every xdist worker)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def render_template(text: str) -> str:
    """Fill ``{{ index .HostNetworkPorts N }}`` as the suite's applier does."""
    return _TEMPLATE.sub(lambda m: str(HOST_NETWORK_PORTS[int(m.group(1))]), text)


def load_yaml(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.load_all(render_template(path.read_text()), Loader=_LOADER) if d]


def node_ip(i: int) -> str:
    return f"172.18.0.{2 + i}"


@dataclass(frozen=True)
class Probe:
    """One PokeServer call: client pod -> server pod's IP on protocol/port; expected outcome."""

    src: str
    dst: str
    protocol: str
    port: int
    expected: bool

    @property
    def label(self) -> str:
        verdict = "allowed" if self.expected else "denied"
        return f"{self.src} -> {self.dst} {self.protocol}/{self.port} {verdict}"


@dataclass(frozen=True)
class State:
    """The cluster during one step of one test."""

    version: str
    test: str
    subtest: str
    step: int
    objects: tuple[dict[str, Any], ...]
    probes: tuple[Probe, ...]

    @property
    def id(self) -> str:
        return f"{self.version}:{self.test}:{self.step}"

    @property
    def policies(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] not in ("Namespace", "Node", "Pod")]


def full_ns(short: str) -> str:
    return short if short.startswith(PREFIX) or short == "default" else PREFIX + short


def full_pod(ref: str) -> str:
    ns, name = ref.split("/")
    return f"{full_ns(ns)}/{name}"


def _base(version: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Namespaces, Nodes and Pods of the base manifests; and pod key -> IP."""
    objs: list[dict[str, Any]] = []
    ips: dict[str, str] = {}
    docs = load_yaml(UPSTREAM[version] / "manifests.yaml")
    namespaces = [d for d in docs if d["kind"] == "Namespace"]
    for d in namespaces:
        ns = copy.deepcopy(d)
        ns["metadata"]["labels"] = {**ns["metadata"].get("labels", {}), NS_NAME_LABEL: ns["metadata"]["name"]}
        objs.append(ns)
    for i, name in enumerate(NODES):
        objs.append({"apiVersion": "v1", "kind": "Node",
                     "metadata": {"name": name, "labels": {"kubernetes.io/os": "linux",
                                                           "kubernetes.io/arch": "amd64",
                                                           "kubernetes.io/hostname": name}},
                     "status": {"addresses": [{"type": "InternalIP", "address": node_ip(i)},
                                              {"type": "Hostname", "address": name}]}})
    ns_index = {d["metadata"]["name"]: k for k, d in enumerate(namespaces)}
    for d in docs:
        if d["kind"] != "StatefulSet":
            continue
        ns = d["metadata"]["namespace"]
        template = d["spec"]["template"]
        host = bool(template["spec"].get("hostNetwork"))
        for i in range(d["spec"]["replicas"]):
            pod_name = f"{d['metadata']['name']}-{i}"
            ip = node_ip(i) if host else f"10.244.{ns_index[ns]}.{10 + i}"
            spec = copy.deepcopy(template["spec"])
            spec["nodeName"] = NODES[i]
            objs.append({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": pod_name, "namespace": ns,
                                      "labels": dict(template["metadata"]["labels"])},
                         "spec": spec,
                         "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                                    "hostIP": node_ip(i), "hostIPs": [{"ip": node_ip(i)}]}})
            ips[f"{ns}/{pod_name}"] = ip
    return objs, ips


def _key(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    if obj["kind"] in ("NetworkPolicy", "Pod"):
        return f"{obj['kind']}/{meta['namespace']}/{meta['name']}"
    if obj["kind"] == "Namespace":
        return f"Namespace/{meta['name']}"
    return f"{obj['kind']}/{meta['name']}"


def _target(ref: str) -> str:
    kind, _, rest = ref.partition("/")
    if kind == "Namespace" or kind == "NetworkPolicy":
        if kind == "NetworkPolicy":
            ns, _, name = rest.partition("/")
            return f"NetworkPolicy/{full_ns(ns)}/{name}"
        return f"Namespace/{full_ns(rest)}"
    return ref


def _walk(obj: Any, path: str) -> tuple[Any, str | int]:
    parts: list[str | int] = []
    for chunk in path.split("."):
        name, _, rest = chunk.partition("[")
        parts.append(name)
        while rest:
            idx, _, rest = rest.partition("]")
            parts.append(int(idx))
            rest = rest.removeprefix("[")
    node = obj
    for p in parts[:-1]:
        node = node[p]
    return node, parts[-1]


def _substitute(value: Any, ips: dict[str, str]) -> Any:
    if isinstance(value, str):
        def cidr(m: re.Match[str]) -> str:
            ip = ips[full_pod(m.group(1))]
            return ip + ("/128" if ":" in ip else "/32")
        return re.sub(r"\$\{cidr:([^}]+)\}", cidr, value)
    if isinstance(value, list):
        return [_substitute(v, ips) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, ips) for k, v in value.items()}
    return value


def apply_patch(objects: dict[str, dict[str, Any]], op: dict[str, Any], ips: dict[str, str]) -> None:
    """Apply one transcribed patch op to the objects (keyed ``Kind/[ns/]name``).

    The patched object is replaced by a patched copy; the dict it was is left as it was.
    """
    (name, args), = op.items()
    if name == "delete":
        del objects[_target(args)]
        return
    # copy on write: the states already taken share the object as it was
    key = _target(args[0])
    target = objects[key] = copy.deepcopy(objects[key])
    if name == "swap":
        node, last = _walk(target, args[1])
        lst = node[last]
        i, j = args[2], args[3]
        lst[i], lst[j] = lst[j], lst[i]
    elif name == "set":
        node, last = _walk(target, args[1])
        node[last] = _substitute(copy.deepcopy(args[2]), ips)
    elif name == "insert":
        node, last = _walk(target, args[1])
        node[last].insert(args[2], _substitute(copy.deepcopy(args[3]), ips))
    elif name == "labels":
        # SetLabels replaces the map; the API server puts kubernetes.io/metadata.name back
        # (pkg/registry/core/namespace/strategy.go PrepareForUpdate).
        target["metadata"]["labels"] = {**args[1], NS_NAME_LABEL: target["metadata"]["name"]}
    else:  # pragma: no cover - the data only has the ops above
        raise ValueError(f"unknown patch op {name!r}")


def load_suite(version: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = yaml.load((HERE / f"{version}.yaml").read_text(), Loader=_LOADER)
    return data


@functools.cache
def states(version: str) -> tuple[State, ...]:
    """Every step of every test of a suite, with the objects after its cumulative patches.

    Computed once per process (both conformance test files parametrize over it while pytest
    collects, in every xdist worker). The states share the objects a step left unchanged: treat
    them as read-only (copy before changing one, as ``test_cells_depend_on_rule_order`` does).
    """
    return tuple(_states(version))


def _states(version: str) -> Iterator[State]:
    base, ips = _base(version)
    for test in load_suite(version):
        objects = {_key(o): o for o in base}
        for manifest in test["manifests"]:
            for doc in load_yaml(UPSTREAM[version] / manifest):
                objects[_key(doc)] = doc
        for n, step in enumerate(test["steps"]):
            for op in step.get("patch", ()):
                apply_patch(objects, op, ips)
            probes = []
            for src, dst, proto, port, expected in step["probes"]:
                if isinstance(port, str):
                    port = HOST_NETWORK_PORTS[int(port.removeprefix("hostport"))]
                probes.append(Probe(full_pod(src), full_pod(dst), proto, port, expected))
            yield State(version, test["test"], step["subtest"], n, tuple(objects.values()),
                        tuple(probes))
