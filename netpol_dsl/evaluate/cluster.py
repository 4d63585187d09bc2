"""Cluster: namespaces, pods and policies, and the questions asked of them.

Semantics are upstream Kubernetes' (API reference, the concepts page
https://kubernetes.io/docs/concepts/services-networking/network-policies/, and the e2e
conformance tests in ``test/e2e/network/netpol``):

- A pod is isolated for ingress (egress) iff some policy in its namespace selects it with
  ``Ingress`` (``Egress``) in its effective ``policyTypes``; an isolated side allows the union of
  those policies' rules; a side that is not isolated allows everything.
- A connection between two pods is allowed iff the source's egress AND the destination's
  ingress allow it. An external address has no policies: only the pod side is checked.
- A pod always reaches itself: "a pod cannot block access to itself" (concepts page), and the
  conformance tests expect loopback to be allowed whatever the policies
  (``Reachability.AllowLoopback``: "loopback logic follows no policy").
- ipBlocks match external addresses and, by default, pod IPs, as conformance expects
  (``ipblock_matches_pod_ips=False`` turns the latter off for plugins that differ). A pod
  without IPs never matches an ipBlock.
- hostNetwork pods are outside NetworkPolicy's reach. Upstream leaves their behaviour undefined
  (concepts page, "Pod lifecycle" / hostNetwork), and most plugins treat their traffic as the
  node's, which policies do not govern. This evaluator decides consistently: a connection with a
  hostNetwork pod at either end is not subject to pod policies and is allowed; ``explain()``
  says so. Such pods are never isolated.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from netpol_dsl import _rules
from netpol_dsl.errors import DslUsageError, Issue
from netpol_dsl.evaluate._connections import PROTOCOLS, ConnectionSet
from netpol_dsl.evaluate._engine import Engine
from netpol_dsl.evaluate._explain import (
    End,
    direction_connections,
    explain_direction,
    fmt_labels,
)
from netpol_dsl.evaluate._exposure import Exposure, address_ranges, whole_space
from netpol_dsl.evaluate._inventory import EndpointSpec, Namespace, Pod
from netpol_dsl.evaluate._manifests import inventory_from, load_for_evaluation
from netpol_dsl.evaluate._matrix import Matrix
from netpol_dsl.evaluate.verdict import DirectionVerdict, Verdict, _verdict
from netpol_dsl.load import Source, load_policy
from netpol_dsl.model import NetworkPolicy

__all__ = ["Cluster"]

_POD, _ADHOC, _EXT = 0, 1, 2
_PROTOCOL_SET = frozenset(PROTOCOLS)
_SELF_NOTE = ("a pod always reaches itself: NetworkPolicy cannot block a pod's traffic to "
              "itself (concepts page: 'a pod cannot block access to itself'; e2e "
              "Reachability.AllowLoopback)")


class _Ref:
    """A resolved endpoint: a pod of the cluster, a representative pod, or an address."""

    __slots__ = ("_end", "cls", "fast", "host_network", "ip", "key", "kind", "label", "ns_labels",
                 "pod")

    def __init__(self, kind: int, label: str, pod: Pod | None = None, cls: int = -1,
                 ip: tuple[int, int] | None = None, ns_labels: Mapping[str, str] | None = None,
                 key: str | None = None) -> None:
        self.kind = kind
        self.label = label
        self.pod = pod
        self.cls = cls
        self.ip = ip
        self.ns_labels = ns_labels or {}
        self.key = key
        self._end: End | None = None
        self.host_network = pod is not None and pod.host_network
        #: a pod of the cluster that policies apply to: the engine answers for it directly
        self.fast = kind == _POD and not self.host_network

    @property
    def end(self) -> End:
        if self._end is None:
            addr = _rules.parse_ip(self.label) if self.kind == _EXT else None
            self._end = End(self.label, self.pod, self.ns_labels, addr, self.key)
        return self._end


def _check_protocol(protocol: object) -> str:
    if not isinstance(protocol, str) or protocol not in _PROTOCOL_SET:
        msg = f"got protocol={protocol!r}; expected one of 'TCP', 'UDP', 'SCTP'"
        if isinstance(protocol, str) and protocol.upper() in _PROTOCOL_SET:
            msg += f". Did you mean {protocol.upper()!r}?"
        raise DslUsageError(msg)
    return protocol


class Cluster:
    """Namespaces, pods and policies: ask who may reach whom, on what, and why.

    Args:
        namespaces: ``Namespace`` objects (or names, or a mapping of name to ``Namespace``).
            Namespaces that pods or policies live in but that are not given are created with
            only the ``kubernetes.io/metadata.name`` label, as kube-apiserver would.
        pods: ``Pod`` objects (keys ``namespace/name`` must be unique).
        policies: ``NetworkPolicy`` objects or API-shaped dicts. A policy without a namespace is
            in ``default``.
        ipblock_matches_pod_ips: whether ipBlocks match pod IPs (upstream conformance: yes).

    Example:
        >>> from netpol_dsl import load_policy
        >>> deny = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        ...     "metadata": {"name": "deny", "namespace": "a"}, "spec": {"podSelector": {}}})
        >>> c = Cluster(pods=[Pod("a", "web"), Pod("b", "cli")], policies=[deny])
        >>> bool(c.allows("b/cli", "a/web", 80)), bool(c.allows("a/web", "b/cli", 80))
        (False, True)
    """

    def __init__(
        self,
        namespaces: Iterable[Namespace | str] | Mapping[str, Namespace] = (),
        pods: Iterable[Pod] = (),
        policies: Iterable[NetworkPolicy | Mapping[str, Any]] = (),
        *,
        ipblock_matches_pod_ips: bool = True,
    ) -> None:
        """Build and compile a cluster (see the class docstring)."""
        ns_map: dict[str, Namespace] = {}
        if isinstance(namespaces, Mapping):  # e.g. another cluster's ``namespaces``
            namespaces = namespaces.values()
        for ns in namespaces:
            if isinstance(ns, str):
                ns = Namespace(ns)
            if not isinstance(ns, Namespace):
                msg = (f"Cluster(): got namespaces entry {ns!r} (type={type(ns).__name__}); "
                       "expected a Namespace or a name")
                raise DslUsageError(msg)
            ns_map[ns.name] = ns
        pod_list = tuple(pods)
        by_key: dict[str, Pod] = {}
        for pod in pod_list:
            if type(pod) is not Pod and not isinstance(pod, Pod):
                msg = (f"Cluster(): got pods entry {pod!r} (type={type(pod).__name__}); "
                       "expected a Pod")
                raise DslUsageError(msg)
            key = f"{pod.namespace}/{pod.name}"
            if key in by_key:
                msg = f"Cluster(): got pod {key!r} twice; expected unique namespace/name keys"
                raise ValueError(msg)
            by_key[key] = pod
        pol_list: list[NetworkPolicy] = []
        for p in policies:
            if isinstance(p, NetworkPolicy):
                pol_list.append(p)
            elif isinstance(p, Mapping):
                meta = p.get("metadata")
                pns = meta.get("namespace") if isinstance(meta, Mapping) else None
                # Like kubectl without -n: a policy without a namespace is in "default".
                pol_list.append(load_policy(
                    p, lenient_cidr=True, namespace=pns if isinstance(pns, str) and pns else "default"))
            else:
                msg = (f"Cluster(): got policies entry {p!r} (type={type(p).__name__}); "
                       "expected a NetworkPolicy or an API-shaped dict")
                raise DslUsageError(msg)
        wanted = dict.fromkeys(p.namespace for p in pod_list)
        wanted.update(dict.fromkeys(p.namespace or "default" for p in pol_list))
        for name in wanted:
            if name not in ns_map:
                ns_map[name] = Namespace(name)
        self.namespaces: Mapping[str, Namespace] = MappingProxyType(ns_map)
        self.pods: tuple[Pod, ...] = pod_list
        self.policies: tuple[NetworkPolicy, ...] = tuple(pol_list)
        self.ipblock_matches_pod_ips = ipblock_matches_pod_ips
        self.warnings: tuple[Issue, ...] = ()
        self.skipped: Counter[str] = Counter()
        self._by_key = by_key
        by_ns: dict[str, list[NetworkPolicy]] = {}
        for p in self.policies:
            by_ns.setdefault(p.namespace or "default", []).append(p)
        self._by_ns = {k: tuple(v) for k, v in by_ns.items()}
        self._engine = Engine(ns_map, pod_list, self.policies, ipblock_matches_pod_ips,
                              keys=by_key)
        self._refs: dict[str, _Ref] = {}
        # bound once for allows()'s hot path
        self._pod_index = self._engine.pod_index
        self._pod_class = self._engine.pod_class_list
        self._class_hn = self._engine.class_hn
        self._allowed = self._engine.allowed
        self._by_name: dict[str, list[str]] | None = None
        self._class_pods: list[list[int]] | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_manifests(
        cls,
        source: Source | Iterable[Source],
        *,
        ipblock_matches_pod_ips: bool = True,
    ) -> Cluster:
        """Build a cluster from manifests: paths, directories, YAML/JSON text, dicts, policies.

        Namespaces, Pods (with ``ownerReferences``), Deployments, ReplicaSets, StatefulSets,
        DaemonSets, Jobs, CronJobs and ReplicationControllers are read, ``List`` kinds and
        ``kubectl get -o yaml`` dumps included. A workload becomes one representative pod named
        after it, with its template's labels and container ports, unless pods it owns are in
        the input. Objects without a namespace go to ``default``; namespaces that are
        referenced but not given are created with the default label. Other kinds are counted
        in ``skipped``; odd objects are passed over with a note in ``warnings``. Policies are
        read leniently about what does not change their meaning: non-canonical CIDRs that
        older API servers stored and names today's API server would refuse, each noted in
        ``warnings``; a stale ``status`` field (Kubernetes 1.24-1.27 dumps) is dropped, as the
        API server drops it.

        Raises:
            LoadError: unreadable input.
            InvalidPolicyError: a policy kube-apiserver would reject.

        Example:
            >>> c = Cluster.from_manifests('''
            ... apiVersion: apps/v1
            ... kind: Deployment
            ... metadata: {name: api, namespace: payments}
            ... spec:
            ...   template:
            ...     metadata: {labels: {app: api}}
            ...     spec: {containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]}
            ... ''')
            >>> pod = c.pod("payments/api")
            >>> pod.workload, pod.ports[0].name
            ('payments/api[Deployment]', 'http')
        """
        m = load_for_evaluation(source)
        inv = inventory_from(m)
        out = cls(inv.namespaces, inv.pods, m.policies,
                  ipblock_matches_pod_ips=ipblock_matches_pod_ips)
        out.warnings = tuple(m.warnings) + tuple(inv.warnings)
        out.skipped = Counter(m.skipped)
        return out

    def with_policies(self, policies: Iterable[NetworkPolicy | Mapping[str, Any]]) -> Cluster:
        """The same namespaces and pods with other policies (for comparing two policy sets).

        Example:
            >>> c = Cluster(pods=[Pod("a", "x"), Pod("a", "y")])
            >>> c.with_policies([]).pods == c.pods
            True
        """
        out = Cluster(self.namespaces.values(), self.pods, policies,
                      ipblock_matches_pod_ips=self.ipblock_matches_pod_ips)
        out.warnings = self.warnings
        out.skipped = Counter(self.skipped)
        return out

    def __repr__(self) -> str:
        return (f"<Cluster {len(self.namespaces)} namespaces, {len(self.pods)} pods, "
                f"{len(self.policies)} policies>")

    # ------------------------------------------------------------------ endpoints

    def pod(self, key: str) -> Pod:
        """The pod with key ``namespace/name``.

        Raises:
            KeyError: no such pod.

        Example:
            >>> Cluster(pods=[Pod("a", "x")]).pod("a/x").name
            'x'
        """
        try:
            return self._by_key[key]
        except KeyError:
            msg = f"got pod {key!r}; expected one of the cluster's pods ('namespace/name')"
            raise KeyError(msg) from None

    def _ns_labels(self, name: str) -> Mapping[str, str]:
        ns = self.namespaces.get(name)
        return ns.labels if ns is not None else Namespace(name).labels

    def _pod_ref(self, key: str) -> _Ref:
        ref = self._refs.get(key)
        if ref is None:
            pod = self._by_key[key]
            idx = self._engine.pod_index[key]
            ref = _Ref(_POD, key, pod, self._engine.pod_class_list[idx],
                       ns_labels=self._ns_labels(pod.namespace), key=key)
            self._refs[key] = ref
        return ref

    def _ref(self, obj: object) -> _Ref:
        if isinstance(obj, str):
            ref = self._refs.get(obj)
            if ref is not None:
                return ref
            if obj in self._by_key:
                return self._pod_ref(obj)
            ip = self._engine.ip_of(obj)
            if ip is not None:
                return _Ref(_EXT, obj, ip=ip)
            if "/" not in obj:
                if self._by_name is None:
                    self._by_name = {}
                    for p in self.pods:
                        self._by_name.setdefault(p.name, []).append(p.key)
                found = self._by_name.get(obj, [])
                if len(found) == 1:
                    return self._pod_ref(found[0])
                if found:
                    msg = (f"got pod name {obj!r}, which is ambiguous ({', '.join(found)}); "
                           "expected 'namespace/name'")
                    raise KeyError(msg)
            msg = (f"got endpoint {obj!r}; expected a pod of the cluster ('namespace/name'), "
                   "or an IP address")
            raise KeyError(msg)
        if isinstance(obj, Pod):
            if self._by_key.get(obj.key) == obj:
                return self._pod_ref(obj.key)
            return _Ref(_ADHOC, obj.key, obj, ns_labels=self._ns_labels(obj.namespace))
        hook = getattr(obj, "__netpol_endpoint__", None)
        if hook is not None:
            spec = hook()
            if not isinstance(spec, EndpointSpec):
                msg = (f"got {type(obj).__name__}.__netpol_endpoint__() = {spec!r}; expected an "
                       "EndpointSpec")
                raise DslUsageError(msg)
            labels = (self._ns_labels(spec.namespace) if spec.namespace_labels is None
                      else Namespace(spec.namespace, spec.namespace_labels).labels)
            pod = Pod(spec.namespace, fmt_labels(spec.labels), spec.labels)
            return _Ref(_ADHOC, f"{spec.namespace}/{fmt_labels(spec.labels)}", pod,
                        ns_labels=labels)
        msg = (f"got endpoint {obj!r} (type={type(obj).__name__}); expected 'namespace/name', an "
               "IP address, a Pod, or a selector such as pods(app='web').in_namespace('a')")
        raise DslUsageError(msg)

    @staticmethod
    def _port_number(port: object, dst: _Ref, protocol: str, where: str) -> tuple[int, str | None]:
        if not isinstance(port, (bool, str)) and hasattr(port, "__index__"):
            port = operator.index(port)  # numpy integers and the like
        if type(port) is int:
            if 1 <= port <= 65535:
                return port, None
            msg = f"{where}: got port={port!r}; expected 1..65535 or a port name such as 'http'"
            raise ValueError(msg)
        if isinstance(port, str) and not isinstance(port, bool):
            if dst.pod is None:
                msg = (f"{where}: got port={port!r}; expected a number, since the destination "
                       f"{dst.label} is not a pod and declares no named ports")
                raise ValueError(msg)
            for cp in dst.pod.ports:
                if cp.name == port and cp.protocol == protocol:
                    return cp.port, port
            declared = ", ".join(f"{cp.name} ({cp.protocol} {cp.port})"
                                 for cp in dst.pod.ports if cp.name) or "none"
            msg = (f"{where}: got port={port!r}; expected a port number or a {protocol} port name "
                   f"declared on {dst.label} (declared: {declared})")
            raise ValueError(msg)
        msg = (f"{where}: got port={port!r} (type={type(port).__name__}); expected an int such "
               "as 8080 or a port name such as 'http'")
        raise DslUsageError(msg)

    # ------------------------------------------------------------------ questions

    def allows(self, src: object, dst: object, port: int | str, protocol: str = "TCP") -> Verdict:
        """May ``src`` open a connection to ``dst`` on ``protocol``/``port``?

        Args:
            src: ``"namespace/name"`` (or a bare pod name when unique), a ``Pod``, an IP address
                (always an external endpoint, even when a pod has that IP: name the pod to ask
                about it), or an object with ``__netpol_endpoint__()`` such as a DSL selector,
                which stands for a representative pod with those labels (and no IPs or ports).
            dst: the same kinds.
            port: a number, or a port name resolved on the destination pod.
            protocol: ``"TCP"`` (default), ``"UDP"`` or ``"SCTP"``.

        Returns:
            A ``Verdict``: true when allowed; ``explain()`` says why.

        Raises:
            KeyError: an unknown pod.
            ValueError: a port out of range, or a name the destination does not declare.
            DslUsageError: two IP addresses, or arguments of the wrong type.

        Example:
            >>> from netpol_dsl import load_policy
            >>> allow = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            ...     "metadata": {"name": "api", "namespace": "a"},
            ...     "spec": {"podSelector": {"matchLabels": {"app": "api"}},
            ...              "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
            ...                           "ports": [{"port": 8080}]}]}})
            >>> c = Cluster(pods=[Pod("a", "web", {"app": "web"}), Pod("a", "api", {"app": "api"})],
            ...             policies=[allow])
            >>> print(c.allows("a/web", "a/api", 8080).ingress.text())
            ingress to a/api: allowed: isolated by 1 policy (a/api); a/api spec.ingress[0].from[0] allows it: peer podSelector {app=web}, port TCP 8080
            >>> print(c.allows("a/web", "a/api", 9090).ingress.text())
            ingress to a/api: DENIED: isolated by 1 policy (a/api); no rule allows it:
              - a/api:
                  rule 0: port not in rule: ports[0]: TCP 9090 is not in TCP 8080
        """
        if (type(src) is str and type(dst) is str and type(port) is int and 0 < port < 65536
                and type(protocol) is str and protocol in _PROTOCOL_SET):
            # The common case, kept lean: two pods of the cluster by key, a port number.
            i = self._pod_index.get(src)
            j = self._pod_index.get(dst)
            if i is not None and j is not None:
                cs = self._pod_class[i]
                cd = self._pod_class[j]
                if not (self._class_hn[cs] or self._class_hn[cd]):
                    return _verdict(i == j or self._allowed(cs, cd, protocol, port), src, dst,
                                    port, protocol, self)
        _check_protocol(protocol)
        refs = self._refs
        s = refs.get(src) if type(src) is str else None
        if s is None:
            s = self._ref(src)
        d = refs.get(dst) if type(dst) is str else None
        if d is None:
            d = self._ref(dst)
        if type(port) is int and 0 < port < 65536:
            number, name = port, None
        else:
            number, name = self._port_number(port, d, protocol, "allows()")
        if s.fast and d.fast:
            # Refs of the cluster's pods are cached, so one pod is one object.
            allowed = s is d or self._engine.allowed(s.cls, d.cls, protocol, number)
        else:
            if s.kind == _EXT and d.kind == _EXT:
                msg = (f"allows(): got two IP addresses ({s.label}, {d.label}); expected at least "
                       "one pod")
                raise DslUsageError(msg)
            eng = self._engine
            if (s.kind == _POD and d.kind == _POD and s.key == d.key) or s.host_network or d.host_network:
                allowed = True
            elif s.kind == _EXT and d.kind == _POD:
                assert s.ip is not None
                allowed = eng.allowed_from_ip(s.ip, d.cls, protocol, number)
            elif d.kind == _EXT and s.kind == _POD:
                assert d.ip is not None
                allowed = eng.allowed_to_ip(s.cls, d.ip, protocol, number)
            else:
                egress, ingress = self._detail(s, d, protocol, number)
                return Verdict(allowed=egress.allowed and ingress.allowed, src=s.label,
                               dst=d.label, port=number, protocol=protocol, port_name=name,
                               detail=lambda: (egress, ingress))
        return Verdict(allowed=allowed, src=s.label, dst=d.label, port=number, protocol=protocol,
                       port_name=name, detail=lambda: self._detail(s, d, protocol, number))

    def _detail_keys(self, src: str, dst: str, protocol: str, port: int) -> tuple[
        DirectionVerdict, DirectionVerdict
    ]:
        return self._detail(self._pod_ref(src), self._pod_ref(dst), protocol, port)

    def _not_applicable(self, direction: str, subject: _Ref, other: _Ref) -> str | None:
        """Why no policy applies to ``subject``'s side, or None when policies apply."""
        if subject.kind == _EXT:
            role = "source" if direction == "egress" else "destination"
            return (f"the {role} {subject.label} is an external address; only the pod side's "
                    "policies apply")
        if subject.key is not None and subject.key == other.key:
            return _SELF_NOTE
        for ref in (subject, other):
            if ref.host_network:
                return (f"{ref.label} uses the host network; NetworkPolicy does not apply to "
                        "hostNetwork pods' traffic (upstream leaves it undefined; this evaluator "
                        "allows it)")
        return None

    def _detail(self, s: _Ref, d: _Ref, protocol: str, port: int) -> tuple[
        DirectionVerdict, DirectionVerdict
    ]:
        out: list[DirectionVerdict] = []
        for direction, subject, other in (("egress", s, d), ("ingress", d, s)):
            note = self._not_applicable(direction, subject, other)
            pod_label = subject.label if subject.kind != _EXT else None
            if note is not None:
                out.append(DirectionVerdict(direction, pod_label, False, False, True,  # type: ignore[arg-type]
                                            note=note))
                continue
            assert subject.pod is not None
            out.append(explain_direction(
                direction, subject.end, other.end, d.end, protocol, port,  # type: ignore[arg-type]
                self._by_ns.get(subject.pod.namespace, ()), self.ipblock_matches_pod_ips,
            ))
        return out[0], out[1]

    def connections(self, src: object, dst: object) -> ConnectionSet:
        """Every connection ``src`` may open to ``dst``: protocols and port ranges.

        Example:
            >>> from netpol_dsl import load_policy
            >>> p = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            ...     "metadata": {"name": "p", "namespace": "a"}, "spec": {"podSelector": {},
            ...     "ingress": [{"ports": [{"port": 80}, {"port": 8080, "endPort": 8090},
            ...                            {"protocol": "UDP", "port": 53}]}]}})
            >>> c = Cluster(pods=[Pod("a", "x"), Pod("a", "y")], policies=[p])
            >>> str(c.connections("a/x", "a/y")), str(c.connections("a/x", "a/x"))
            ('TCP 80,8080-8090; UDP 53', 'all')
        """
        s = self._ref(src)
        d = self._ref(dst)
        if s.kind == _EXT and d.kind == _EXT:
            msg = (f"connections(): got two IP addresses ({s.label}, {d.label}); expected at "
                   "least one pod")
            raise DslUsageError(msg)
        eng = self._engine
        if (s.kind == _POD and d.kind == _POD and s.key == d.key) or s.host_network or d.host_network:
            return ConnectionSet.all()
        if s.kind == _POD and d.kind == _POD:
            return eng.connections(s.cls, d.cls)
        if s.kind == _EXT and d.kind == _POD:
            assert s.ip is not None
            return eng.connections_from_ip(s.ip, d.cls)
        if d.kind == _EXT and s.kind == _POD:
            assert d.ip is not None
            return eng.connections_to_ip(s.cls, d.ip)
        out = ConnectionSet.all()
        for direction, subject, other in (("egress", s, d), ("ingress", d, s)):
            if subject.pod is None:
                continue
            out = out & direction_connections(
                direction, subject.end, other.end, d.end,  # type: ignore[arg-type]
                self._by_ns.get(subject.pod.namespace, ()), self.ipblock_matches_pod_ips)
        return out

    def matrix(self, port: int | str | None = None, protocol: str = "TCP") -> Matrix:
        """Every ordered pair of pods: may the first reach the second?

        Args:
            port: a number; a name (resolved on each destination pod, and a pod that does not
                declare it cannot be reached on it); or None for "any connection at all".
            protocol: the protocol when ``port`` is given.

        Example:
            >>> from netpol_dsl import load_policy
            >>> deny = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            ...     "metadata": {"name": "deny", "namespace": "a"}, "spec": {"podSelector": {}}})
            >>> m = Cluster(pods=[Pod("a", "x"), Pod("b", "y")], policies=[deny]).matrix(port=80)
            >>> print(m.to_markdown())
            | src \\ dst | a/x | b/y |
            |---|---|---|
            | a/x | ✓ | ✓ |
            | b/y | ✗ | ✓ |
        """
        _check_protocol(protocol)
        eng = self._engine
        keys = tuple(p.key for p in self.pods)
        if port is None:
            table = eng.class_matrix_any()
            return Matrix(keys, eng.pod_class, eng.pod_class, table, port=None, protocol=protocol)
        if isinstance(port, int) and not isinstance(port, bool):
            if not 1 <= port <= 65535:
                msg = f"matrix(): got port={port!r}; expected 1..65535 or a port name"
                raise ValueError(msg)
            table, row_pos, col_pos = eng.class_matrix(protocol, port)
            return Matrix(keys, row_pos[eng.pod_class], col_pos[eng.pod_class], table, port=port,
                          protocol=protocol)
        if not isinstance(port, str):
            msg = f"matrix(): got port={port!r} (type={type(port).__name__}); expected an int, a name or None"
            raise DslUsageError(msg)
        # A named port: each destination pod resolves it on its own container ports.
        columns: dict[tuple[int, int], int] = {}
        dst_index = np.empty(len(self.pods), dtype=np.int64)
        numbers: list[int] = []
        for i, pod in enumerate(self.pods):
            n = next((cp.port for cp in pod.ports if cp.name == port and cp.protocol == protocol), 0)
            key = (eng.pod_class_list[i], n)
            if key not in columns:
                columns[key] = len(columns)
                numbers.append(n)
            dst_index[i] = columns[key]
        by_number = {n: eng.class_matrix_ordered(protocol, n) for n in set(numbers) if n}
        table = np.zeros((eng.n, len(columns)), dtype=bool)
        for (c, n), j in columns.items():
            if n:
                table[:, j] = by_number[n][:, c]
        return Matrix(keys, eng.pod_class, dst_index, table, port=port, protocol=protocol)

    def _pods_of_class(self) -> list[list[int]]:
        if self._class_pods is None:
            self._class_pods = [[] for _ in range(self._engine.n)]
            for i, c in enumerate(self._engine.pod_class_list):
                self._class_pods[c].append(i)
        return self._class_pods

    def exposure(self, pod: object) -> Exposure:
        """What may connect to ``pod`` and what it may connect to, on which connections.

        External addresses are given as disjoint CIDR groups; namespaces as what the pod's own
        policies allow to or from any pod there; pods with what both sides allow.

        Example:
            >>> from netpol_dsl import load_policy
            >>> p = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            ...     "metadata": {"name": "p", "namespace": "a"}, "spec": {"podSelector": {},
            ...     "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 443}]}]}})
            >>> e = Cluster(pods=[Pod("a", "x"), Pod("b", "y")], policies=[p]).exposure("a/x")
            >>> [(x.cidrs, str(x.connections)) for x in e.external_ingress]
            [(('10.0.0.0/8',), 'TCP 443')]
            >>> dict(e.pod_ingress), [str(x.connections) for x in e.external_egress]
            ({}, ['all'])
        """
        ref = self._ref(pod)
        if ref.kind != _POD:
            msg = f"exposure(): got {ref.label!r}; expected a pod of the cluster"
            raise DslUsageError(msg)
        eng = self._engine
        c = ref.cls
        assert ref.pod is not None and ref.key is not None
        hn = ref.pod.host_network
        out: dict[str, Any] = {"pod": ref.key}
        for direction in ("ingress", "egress"):
            iso = (eng.in_iso if direction == "ingress" else eng.eg_iso)[c] and not hn
            rules = (eng.in_rules if direction == "ingress" else eng.eg_rules)[c]
            pm = eng.class_portmap[c] if direction == "ingress" else {}
            out[f"{direction}_isolated"] = iso
            if not iso:
                out[f"external_{direction}"] = whole_space(ConnectionSet.all())
                out[f"namespace_{direction}"] = {n: ConnectionSet.all() for n in self.namespaces}
                continue
            regions: list[tuple[int, int, int, ConnectionSet]] = []
            ns_conns: dict[str, ConnectionSet] = {n: ConnectionSet.none() for n in self.namespaces}
            for r in rules:
                conns = r.ports.resolve(pm)
                if r.all_peers:
                    regions += [(4, 0, (1 << 32) - 1, conns), (6, 0, (1 << 128) - 1, conns)]
                    for n in ns_conns:
                        ns_conns[n] = ns_conns[n] | conns
                    continue
                for b in r.blocks:
                    lo = b.lo
                    for e_lo, e_hi in sorted(b.excepts):
                        if e_lo > lo:
                            regions.append((b.version, lo, e_lo - 1, conns))
                        lo = max(lo, e_hi + 1)
                    if lo <= b.hi:
                        regions.append((b.version, lo, b.hi, conns))
                policy = self.policies[r.policy]
                spec_rules = policy.spec.ingress if direction == "ingress" else policy.spec.egress
                assert spec_rules is not None
                rule = spec_rules[r.rule]
                peers = rule.from_ if direction == "ingress" else rule.to  # type: ignore[union-attr]
                for peer in peers or ():
                    if peer.ip_block is not None:
                        continue
                    if peer.pod_selector is not None and not peer.pod_selector.is_empty:
                        continue  # not every pod of the namespace
                    for n, ns in self.namespaces.items():
                        if (peer.namespace_selector.matches(ns.labels)
                                if peer.namespace_selector is not None
                                else n == (policy.namespace or "default")):
                            ns_conns[n] = ns_conns[n] | conns
            out[f"external_{direction}"] = address_ranges(regions)
            out[f"namespace_{direction}"] = {n: v for n, v in ns_conns.items() if not v.is_empty}
        members = self._pods_of_class()
        pod_in: dict[str, ConnectionSet] = {}
        pod_out: dict[str, ConnectionSet] = {}
        me = eng.pod_index[ref.key]
        for other in range(eng.n):
            idx = [i for i in members[other] if i != me]
            if not idx:
                continue
            other_hn = eng.class_hn[other]
            cin = ConnectionSet.all() if hn or other_hn else eng.connections(other, c)
            cout = ConnectionSet.all() if hn or other_hn else eng.connections(c, other)
            for i in idx:
                key = self.pods[i].key
                if not cin.is_empty:
                    pod_in[key] = cin
                if not cout.is_empty:
                    pod_out[key] = cout
        order = {p.key: i for i, p in enumerate(self.pods)}
        out["pod_ingress"] = dict(sorted(pod_in.items(), key=lambda kv: order[kv[0]]))
        out["pod_egress"] = dict(sorted(pod_out.items(), key=lambda kv: order[kv[0]]))
        return Exposure(**out)
