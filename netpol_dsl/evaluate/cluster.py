"""Cluster: namespaces, pods and policies, and the questions asked of them.

Semantics are upstream Kubernetes' (API reference, the concepts page
https://kubernetes.io/docs/concepts/services-networking/network-policies/, and the e2e
conformance tests in ``test/e2e/network/netpol``), and for cluster-wide policies the
sig-network Network Policy API's (``kubernetes-sigs/network-policy-api``):

- Every policy compiles to one rule form with tiers (``netpol_dsl.evaluate._ir``): admin
  (AdminNetworkPolicy, ClusterNetworkPolicy tier Admin), NetworkPolicy, baseline
  (BaselineAdminNetworkPolicy, ClusterNetworkPolicy tier Baseline), then allow by default.
- A pod is isolated for ingress (egress) iff some NetworkPolicy in its namespace selects it with
  ``Ingress`` (``Egress``) in its effective ``policyTypes``; an isolated side allows the union of
  those policies' rules; a side that is not isolated allows everything (unless another tier
  decides).
- A connection between two pods is allowed iff the source's egress AND the destination's
  ingress allow it. An external address has no policies: only the pod side is checked.
- A pod always reaches itself: "a pod cannot block access to itself" (concepts page), and the
  conformance tests expect loopback to be allowed whatever the policies
  (``Reachability.AllowLoopback``: "loopback logic follows no policy"); cluster-wide policies do
  not apply to a pod's traffic to itself either (``site-src/api-overview.md``, hairpin).
- ipBlocks match external addresses and, by default, pod IPs, as conformance expects
  (``ipblock_matches_pod_ips=False`` turns the latter off for plugins that differ). A pod
  without IPs never matches an ipBlock. Cluster-wide ``networks`` always match pod IPs.
- hostNetwork pods are outside NetworkPolicy's reach. Upstream leaves their behaviour undefined
  (concepts page, "Pod lifecycle" / hostNetwork), and most plugins treat their traffic as the
  node's, which NetworkPolicies do not govern: a connection with a hostNetwork pod at either end
  skips the NetworkPolicy tier. Cluster-wide policies never select them and match them only
  through ``nodes`` and ``networks`` peers. ``explain()`` says so.
"""

from __future__ import annotations

import copy
import difflib
import importlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from netpol_dsl import _rules
from netpol_dsl._gc import gc_paused
from netpol_dsl._portspec import PortSpec, parse_port_spec
from netpol_dsl._rules import ip_int
from netpol_dsl.errors import (
    AmbiguousResultError,
    DslUsageError,
    EvaluationError,
    Issue,
    UnknownEndpointError,
)
from netpol_dsl.evaluate._compile import compile_network_policy, policy_namespace
from netpol_dsl.evaluate._connections import PROTOCOLS, ConnectionSet
from netpol_dsl.evaluate._connectivity import Connectivity
from netpol_dsl.evaluate._endpoints import Endpoint, Workload
from netpol_dsl.evaluate._engine import Engine, Other, RuleList
from netpol_dsl.evaluate._exposure import Exposure, address_ranges, whole_space
from netpol_dsl.evaluate._inventory import EndpointSpec, Namespace, Pod
from netpol_dsl.evaluate._ir import PolicyIR
from netpol_dsl.evaluate._manifests import inventory_from, load_for_evaluation
from netpol_dsl.evaluate._matrix import Matrix
from netpol_dsl.evaluate._tiers import DecidingTiers
from netpol_dsl.evaluate._trace import TraceEnd, explain_side, fmt_labels
from netpol_dsl.evaluate.verdict import DirectionVerdict, PairVerdict, Verdict, _verdict
from netpol_dsl.load import Source, load_policy
from netpol_dsl.model import LabelSelector, NetworkPolicy

__all__ = ["Cluster"]

_PROTOCOL_SET = frozenset(PROTOCOLS)
_POD, _ADHOC, _EXT = 0, 1, 2
IntArray = npt.NDArray[np.int64]


class _End:
    """A resolved single end: a pod of the cluster, a hypothetical pod, or an address."""

    __slots__ = (
        "_trace",
        "cls",
        "egress",
        "hn",
        "ingress",
        "ip",
        "key",
        "kind",
        "label",
        "ns_labels",
        "pod",
        "view",
        "view_domains",
    )

    def __init__(self, kind: int, label: str, view: Other, pod: Pod | None = None,
                 cls: int = -1, ip: tuple[int, int] | None = None,
                 ns_labels: Mapping[str, str] | None = None, key: str | None = None,
                 ingress: RuleList | None = None, egress: RuleList | None = None,
                 view_domains: Other | None = None) -> None:
        self.kind = kind
        self.label = label
        self.view = view
        self.pod = pod
        self.cls = cls
        self.ip = ip
        self.ns_labels = ns_labels or {}
        self.key = key
        self.ingress = ingress
        self.egress = egress
        self.view_domains = view_domains
        self.hn = pod is not None and pod.host_network
        self._trace: TraceEnd | None = None

    @property
    def trace(self) -> TraceEnd:
        if self._trace is None:
            addr = _rules.parse_ip(self.label) if self.kind == _EXT else None
            self._trace = TraceEnd(self.label, self.view, self.pod, self.ns_labels, addr,
                                   self.key, self.ingress, self.egress, self.view_domains)
        return self._trace


def _labels_text(labels: Mapping[str, str]) -> str:
    return fmt_labels(labels)


def _node_parts(node: Any) -> tuple[str, Mapping[str, str], tuple[str, ...]]:
    """(name, labels, addresses) of a node given as the inventory's Node or a mapping."""
    if isinstance(node, Mapping):
        name, labels, addrs = node.get("name"), node.get("labels") or {}, node.get("addresses", ())
    else:
        name = getattr(node, "name", None)
        labels = getattr(node, "labels", None) or {}
        addrs = getattr(node, "addresses", ())
    if not isinstance(name, str):
        msg = f"Cluster(): got nodes entry {node!r}; expected a Node with a name"
        raise DslUsageError(msg)
    out = []
    for a in addrs or ():
        text = a if isinstance(a, str) else getattr(a, "address", None)
        if text is None and isinstance(a, (tuple, list)) and a:
            text = a[-1]
        if isinstance(text, str):
            out.append(text)
    return name, dict(labels), tuple(out)


#: the most (egress mask, ingress mask) combinations ``connectivity()`` intersects up front into
#: a lookup table; beyond, it intersects only the combinations that occur, cell block by block
_LOOKUP_LIMIT = 1 << 24


class Cluster:
    """Namespaces, pods and policies: ask who may reach whom, on what, and why.

    Args:
        namespaces: ``Namespace`` objects (or names, or a mapping of name to ``Namespace``).
            Namespaces that pods or policies live in but that are not given are created with
            only the ``kubernetes.io/metadata.name`` label, as kube-apiserver would.
        pods: ``Pod`` objects (keys ``namespace/name`` must be unique).
        policies: ``NetworkPolicy`` objects or API-shaped dicts, cluster-wide policies, or
            compiled ``PolicyIR``. A NetworkPolicy without a namespace is in ``default``. Two
            policies of one kind with the same namespace and name: the last one counts, as
            ``kubectl apply`` would keep it, with a warning.
        ipblock_matches_pod_ips: whether ipBlocks match pod IPs (upstream conformance: yes).
        nodes: the cluster's nodes (name, labels, addresses), for ``nodes`` peers of
            cluster-wide policies and host-network pods.
        services: Services, as destinations (``svc/namespace/name``).

    Example:
        >>> from netpol_dsl import load_policy
        >>> deny = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        ...     "metadata": {"name": "deny", "namespace": "a"}, "spec": {"podSelector": {}}})
        >>> c = Cluster(pods=[Pod("a", "web"), Pod("b", "cli")], policies=[deny])
        >>> bool(c.allows("b/cli", "a/web", 80)), bool(c.allows("a/web", "b/cli", 80))
        (False, True)
    """

    @gc_paused
    def __init__(
        self,
        namespaces: Iterable[Namespace | str] | Mapping[str, Namespace] = (),
        pods: Iterable[Pod] = (),
        policies: Iterable[Any] = (),
        *,
        ipblock_matches_pod_ips: bool = True,
        nodes: Iterable[Any] = (),
        services: Iterable[Any] = (),
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
            if not isinstance(pod, Pod):
                msg = (f"Cluster(): got pods entry {pod!r} (type={type(pod).__name__}); "
                       "expected a Pod")
                raise DslUsageError(msg)
            key = f"{pod.namespace}/{pod.name}"
            if key in by_key:
                msg = f"Cluster(): got pod {key!r} twice; expected unique namespace/name keys"
                raise EvaluationError(msg)
            by_key[key] = pod
        warnings: list[Issue] = []
        originals, irs = self._compile_policies(policies, warnings)
        wanted = dict.fromkeys(p.namespace for p in pod_list)
        wanted.update(dict.fromkeys(policy_namespace(p) for p in originals
                                    if isinstance(p, NetworkPolicy)))
        for name in wanted:
            if name not in ns_map:
                ns_map[name] = Namespace(name)
        self.namespaces: Mapping[str, Namespace] = MappingProxyType(ns_map)
        self.pods: tuple[Pod, ...] = pod_list
        #: the policies as given (NetworkPolicy objects and cluster-wide policies), duplicates
        #: resolved
        self.policies: tuple[Any, ...] = tuple(originals)
        self.ipblock_matches_pod_ips = ipblock_matches_pod_ips
        self.nodes: tuple[Any, ...] = tuple(nodes)
        self.services: tuple[Any, ...] = tuple(services)
        self.skipped: Counter[str] = Counter()
        self._by_key = by_key
        self._irs = tuple(irs)
        node_table = {}
        for n in self.nodes:
            name, labels, addrs = _node_parts(n)
            node_table[name] = (labels, addrs)
        self._node_table = node_table
        self._engine = Engine(ns_map, pod_list, self._irs, ipblock_matches_pod_ips,
                              nodes=node_table)
        #: the policy object behind each of the engine's policy indices
        self._engine_originals: tuple[Any, ...] = self.policies
        warnings.extend(Issue("spec.priority", None, "distinct priorities", hint=w)
                        for w in self._engine.warnings)
        self.warnings: tuple[Issue, ...] = tuple(warnings)
        self._refs: dict[str, _End] = {}
        #: ``_ends`` of endpoint texts asked about (addresses, workloads, Services)
        self._text_ends: dict[str, tuple[Endpoint, list[_End]]] = {}
        #: id() of each policy -> its index (the policies are kept, so ids stay theirs)
        self._by_identity: dict[int, int] | None = None
        self._keys: tuple[str, ...] | None = None
        # bound once for allows()'s hot path
        self._pod_index = self._engine.pod_index
        self._pod_class = self._engine.pod_class_list
        self._class_hn = self._engine.class_hn_list
        self._allowed = self._engine.allowed
        self._by_name: dict[str, list[str]] | None = None
        self._workloads: tuple[Workload, ...] | None = None
        self._workload_index: dict[str, Workload] | None = None
        self._class_pods: list[list[int]] | None = None
        self._connectivity: Connectivity | None = None

    @staticmethod
    def _compile_policies(policies: Iterable[Any], warnings: list[Issue],
                          known: Mapping[int, PolicyIR] | None = None,
                          ) -> tuple[list[Any], list[PolicyIR]]:
        chosen: dict[tuple[str, str], tuple[Any, PolicyIR]] = {}
        for p in policies:
            ir_known = known.get(id(p)) if known else None
            if ir_known is not None:
                item: tuple[Any, PolicyIR] = (p, ir_known)
            elif isinstance(p, NetworkPolicy):
                item = (p, compile_network_policy(p))
            elif isinstance(p, PolicyIR):
                item = (p, p)
            elif isinstance(p, Mapping) and p.get("kind", "NetworkPolicy") == "NetworkPolicy":
                meta = p.get("metadata")
                pns = meta.get("namespace") if isinstance(meta, Mapping) else None
                # Like kubectl without -n: a policy without a namespace is in "default".
                pol = load_policy(p, lenient_cidr=True, namespace=_rules.namespace_of(pns))
                item = (pol, compile_network_policy(pol))
            else:
                ir = _compile_other(p)
                if ir is None:
                    msg = (f"Cluster(): got policies entry {p!r} (type={type(p).__name__}); "
                           "expected a NetworkPolicy, a cluster-wide policy, or an API-shaped dict")
                    raise DslUsageError(msg)
                item = (p, ir)
            key = (item[1].kind, item[1].key)
            if key in chosen:
                warnings.append(Issue("metadata.name", item[1].key, f"one {key[0]} per name",
                                      hint="the last one counts, as kubectl apply would keep it"))
                del chosen[key]
            chosen[key] = item
        return [o for o, _ in chosen.values()], [ir for _, ir in chosen.values()]

    # ------------------------------------------------------------------ construction

    @classmethod
    @gc_paused
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
        policies: list[Any] = list(m.policies)
        policies.extend(getattr(m, "cluster_policies", ()))
        out = cls(inv.namespaces, inv.pods, policies,
                  ipblock_matches_pod_ips=ipblock_matches_pod_ips,
                  nodes=getattr(inv, "nodes", ()), services=getattr(inv, "services", ()))
        out.warnings = tuple(m.warnings) + tuple(inv.warnings) + out.warnings
        out.skipped = Counter(m.skipped)
        return out

    def with_policies(self, policies: Iterable[Any]) -> Cluster:
        """The same namespaces, pods, nodes and Services with other policies (for comparing two
        policy sets).

        Incremental: pod classes, selectors, compiled rules of unchanged policies and cached
        decisions are reused, and only the pods that an added or removed policy applies to are
        re-evaluated, unless the new policies look at something the old ones did not (a new
        label key, named port, port boundary, IP block, node selector or namespace), which
        rebuilds.

        Example:
            >>> c = Cluster(pods=[Pod("a", "x"), Pod("a", "y")])
            >>> c.with_policies([]).pods == c.pods
            True
        """
        warnings: list[Issue] = []
        # Policies given again (the same objects) are not compiled again.
        known = {id(o): ir for o, ir in zip(self.policies, self._irs, strict=True)}
        originals, irs = self._compile_policies(policies, warnings, known)
        namespaces = {policy_namespace(p) for p in originals if isinstance(p, NetworkPolicy)}
        self.workloads()
        engine = None
        if namespaces <= set(self.namespaces):
            engine = self._engine.derive(irs)
        if engine is None:
            out = Cluster(self.namespaces.values(), self.pods, originals,
                          ipblock_matches_pod_ips=self.ipblock_matches_pod_ips,
                          nodes=self.nodes, services=self.services)
        else:
            out = copy.copy(self)
            out.policies = tuple(originals)
            out._irs = tuple(irs)
            out._engine = engine
            out._allowed = engine.allowed
            out._refs = {}
            out._text_ends = {}
            out._by_identity = None
            out._connectivity = None
            out._class_pods = self._class_pods
            by_ir = {ir: o for o, ir in zip(originals, irs, strict=True)}
            live = set(engine.live)
            out._engine_originals = tuple(by_ir.get(ir) if i in live else None
                                          for i, ir in enumerate(engine.policies))
            warnings.extend(Issue("spec.priority", None, "distinct priorities", hint=w)
                            for w in engine.warnings)
            out.warnings = tuple(warnings)
        inventory = tuple(w for w in self.warnings if w.path not in ("spec.priority",
                                                                      "metadata.name"))
        out.warnings = inventory + tuple(out.warnings)
        out.skipped = Counter(self.skipped)
        out._workloads = self._workloads
        out._workload_index = self._workload_index
        return out

    def __repr__(self) -> str:
        return (f"<Cluster {len(self.namespaces)} namespaces, {len(self.pods)} pods, "
                f"{len(self.policies)} policies>")

    # ------------------------------------------------------------------ workloads

    def workloads(self) -> tuple[Workload, ...]:
        """One ``Workload`` per workload (a Deployment's pods are one) or bare pod, sorted by
        namespace and name.

        Example:
            >>> c = Cluster(pods=[Pod("a", "web-1", {"app": "web", "pod": "1"}, owner_kind="Deployment",
            ...                       owner_name="web"),
            ...                   Pod("a", "web-2", {"app": "web", "pod": "2"}, owner_kind="Deployment",
            ...                       owner_name="web"),
            ...                   Pod("a", "db")])
            >>> [(w.id, w.pods, dict(w.labels)) for w in c.workloads()]
            [('a/db[Pod]', ('a/db',), {}), ('a/web[Deployment]', ('a/web-1', 'a/web-2'), {'app': 'web'})]
        """
        if self._workloads is None:
            groups: dict[tuple[str, str, str], list[Pod]] = {}
            for pod in self.pods:
                name = pod.owner_name or pod.name
                kind = pod.owner_kind if pod.owner_name else "Pod"
                groups.setdefault((pod.namespace, name, kind or "Pod"), []).append(pod)
            out = []
            for (ns, name, kind), members in sorted(groups.items()):
                common = dict(members[0].labels)
                for p in members[1:]:
                    common = {k: v for k, v in common.items() if p.labels.get(k) == v}
                out.append(Workload(ns, name, kind, tuple(p.key for p in members), common))
            self._workloads = tuple(out)
        return self._workloads

    def workload(self, ref: str) -> Workload:
        """The workload ``ns/name`` or ``ns/name[Kind]`` (or the one a pod ``ns/pod`` belongs to).

        Raises:
            UnknownEndpointError: no such workload (with a did-you-mean).

        Example:
            >>> c = Cluster(pods=[Pod("a", "web-1", owner_kind="Deployment", owner_name="web")])
            >>> c.workload("a/web").kind, c.workload("a/web-1").name
            ('Deployment', 'web')
        """
        index = self._workload_map()
        found = index.get(ref.strip())
        if found is None and ref.strip() in self._by_key:
            pod = self._by_key[ref.strip()]
            found = index.get(f"{pod.namespace}/{pod.owner_name or pod.name}")
        if found is None:
            raise UnknownEndpointError(self._unknown(ref, "a workload"))
        return found

    def _workload_map(self) -> dict[str, Workload]:
        if self._workload_index is None:
            index: dict[str, Workload] = {}
            for w in self.workloads():
                index.setdefault(w.key, w)
                index[w.id] = w
            self._workload_index = index
        return self._workload_index

    def select(self, selector: Any, namespace: str | None = None) -> tuple[Pod, ...]:
        """The inventory pods a selector matches, in inventory order.

        Args:
            selector: a DSL selector (``namespace("a") & pods(app="web")``; bare ``pods(...)``
                match in every namespace), a ``LabelSelector`` (with ``namespace``), or an
                ``EndpointSpec``.
            namespace: restrict to one namespace.

        Example:
            >>> from netpol_dsl import namespace, pods
            >>> c = Cluster(pods=[Pod("a", "web", {"app": "web"}), Pod("b", "web", {"app": "web"})])
            >>> [p.key for p in c.select(pods(app="web"))], [p.key for p in c.select(
            ...     namespace("b") & pods(app="web"))]
            (['a/web', 'b/web'], ['b/web'])
        """
        if isinstance(selector, EndpointSpec):
            spec = selector
            want = dict(spec.labels)

            def test(pod: Pod, ns_labels: Mapping[str, str]) -> bool:
                return pod.namespace == spec.namespace and all(
                    pod.labels.get(k) == v for k, v in want.items())
        elif isinstance(selector, LabelSelector):
            def test(pod: Pod, ns_labels: Mapping[str, str]) -> bool:
                return selector.matches(pod.labels)
        elif callable(getattr(selector, "matches", None)) and hasattr(selector, "_terms"):
            terms = selector._terms()
            if any(not t.is_labels for t in terms):
                msg = (f"select(): got {selector!r}; expected pods (an ip_block()/anywhere() "
                       "selects addresses, not pods)")
                raise DslUsageError(msg)

            def test(pod: Pod, ns_labels: Mapping[str, str]) -> bool:
                return bool(selector.matches(pod.labels, ns_labels))
        else:
            msg = (f"select(): got {selector!r} (type={type(selector).__name__}); expected a "
                   "selector such as namespace('a') & pods(app='web'), or a LabelSelector")
            raise DslUsageError(msg)
        out = []
        for pod in self.pods:
            if namespace is not None and pod.namespace != namespace:
                continue
            if pod.host_network:
                continue  # selectors never match host-network pods
            if test(pod, self._ns_labels(pod.namespace)):
                out.append(pod)
        return tuple(out)

    def resolve(self, endpoint: object) -> Endpoint:
        """What an endpoint stands for: pods of the inventory, a hypothetical pod, or an address.

        Accepted: ``"namespace/pod"``; ``"namespace/workload"`` or ``"namespace/workload[Kind]"``
        (all its pods); a bare pod name when unique; an IP address (always external, even when
        a pod has that IP); ``"svc/namespace/name"`` (the pods a Service selects); a ``Pod``
        (one of the inventory's, or a hypothetical one built with ``hypothetical()``); a
        ``Workload``; a DSL selector or ``EndpointSpec`` (the inventory pods it matches).

        Raises:
            UnknownEndpointError: nothing by that name, or a selector that matches no pod (with
                a did-you-mean over the inventory's names or labels).

        Example:
            >>> c = Cluster(pods=[Pod("a", "web-1", owner_kind="Deployment", owner_name="web"),
            ...                   Pod("a", "web-2", owner_kind="Deployment", owner_name="web")])
            >>> c.resolve("a/web").pods, c.resolve("10.0.0.1").address
            (('a/web-1', 'a/web-2'), '10.0.0.1')
        """
        if isinstance(endpoint, str):
            text = endpoint.strip()
            if text in self._by_key:
                return Endpoint(text, pods=(text,))
            if ip_int(text) is not None:
                return Endpoint(text, address=text)
            service = self._service_ref(text)
            if service is not None:
                return service
            index = self._workload_map()
            w = index.get(text)
            if w is not None:
                return Endpoint(text, pods=w.pods)
            if "/" not in text:
                if self._by_name is None:
                    self._by_name = {}
                    for p in self.pods:
                        self._by_name.setdefault(p.name, []).append(p.key)
                found = self._by_name.get(text, [])
                if len(found) == 1:
                    return Endpoint(text, pods=(found[0],))
                if found:
                    msg = (f"got pod name {text!r}, which is ambiguous ({', '.join(found)}); "
                           "expected 'namespace/name'")
                    raise UnknownEndpointError(msg)
            raise UnknownEndpointError(self._unknown(text, "a pod"))
        if isinstance(endpoint, Pod):
            if self._by_key.get(endpoint.key) == endpoint:
                return Endpoint(endpoint.key, pods=(endpoint.key,))
            return Endpoint(endpoint.key, hypothetical=endpoint)
        if isinstance(endpoint, Workload):
            return Endpoint(endpoint.id, pods=endpoint.pods)
        if isinstance(endpoint, Endpoint):
            return endpoint
        spec: Any = endpoint
        if not isinstance(endpoint, EndpointSpec) and not hasattr(endpoint, "_terms"):
            hook = getattr(endpoint, "__netpol_endpoint__", None)
            if hook is None:
                msg = (f"got endpoint {endpoint!r} (type={type(endpoint).__name__}); expected "
                       "'namespace/name', an IP address, a Pod, a Workload, or a selector such "
                       "as pods(app='web').in_namespace('a')")
                raise DslUsageError(msg)
            spec = hook()
            if not isinstance(spec, EndpointSpec):
                msg = (f"got {type(endpoint).__name__}.__netpol_endpoint__() = {spec!r}; "
                       "expected an EndpointSpec")
                raise DslUsageError(msg)
        matched = self.select(spec)
        label = repr(endpoint) if not isinstance(spec, EndpointSpec) else (
            f"{spec.namespace}/{_labels_text(spec.labels)}")
        if not matched:
            raise UnknownEndpointError(self._no_match(endpoint, label))
        return Endpoint(label, pods=tuple(p.key for p in matched))

    def _unknown(self, ref: str, what: str) -> str:
        names = sorted(set(self._by_key) | {w.key for w in self.workloads()})
        near = difflib.get_close_matches(ref.split("[", 1)[0], names, n=1, cutoff=0.6)
        hint = (f" Did you mean {near[0]!r}?" if near else
                " The cluster has no pods." if not names else "")
        return (f"got endpoint {ref!r}; expected {what} of the cluster ('namespace/name'), a "
                f"workload ('namespace/name[Kind]'), a Service ('svc/namespace/name') or an IP "
                f"address.{hint}")

    def _no_match(self, endpoint: object, label: str) -> str:
        wanted: list[tuple[str, str]] = []
        terms = endpoint._terms() if hasattr(endpoint, "_terms") else ()
        for t in terms:
            for r in t.pods or ():
                wanted.extend((r.key, v) for v in r.values)
        if isinstance(endpoint, EndpointSpec):
            wanted = list(endpoint.labels.items())
        have = sorted({f"{k}={v}" for p in self.pods for k, v in p.labels.items()})
        hints = []
        for k, v in wanted:
            text = f"{k}={v}"
            if text in have:
                continue
            same_key = [h for h in have if h.startswith(f"{k}=")]
            near = difflib.get_close_matches(text, same_key or have, n=1, cutoff=0.6)
            if near:
                hints.append(f"{text!r}: did you mean {near[0]!r}?")
        hint = (" " + " ".join(hints)) if hints else ""
        return (f"got {label}, which matches no pod of the cluster; expected a selector of "
                f"existing pods (for a pod that does not exist yet, use hypothetical(...)).{hint}")

    def _service_ref(self, text: str) -> Endpoint | None:
        if not self.services:
            return None
        ns_name = text
        explicit = False
        for prefix in ("svc/", "service/", "services/"):
            if text.startswith(prefix):
                ns_name, explicit = text[len(prefix):], True
        found = None
        for svc in self.services:
            if f"{svc.namespace}/{svc.name}" == ns_name:
                found = svc
        if found is None:
            if explicit:
                names = sorted(f"svc/{s.namespace}/{s.name}" for s in self.services)
                near = difflib.get_close_matches(text, names, n=1, cutoff=0.6)
                hint = f" Did you mean {near[0]!r}?" if near else ""
                raise UnknownEndpointError(f"got Service {text!r}; expected one of the "
                                           f"cluster's Services ('svc/namespace/name').{hint}")
            return None
        if not explicit and (ns_name in self._by_key or ns_name in self._workload_map()):
            return None  # a pod or workload of that name wins; name the Service with svc/
        selector = getattr(found, "selector", None)
        if not selector:
            return Endpoint(f"svc/{ns_name}", pods=(), service=found)
        pods = tuple(p.key for p in self.pods if p.namespace == found.namespace
                     and not p.host_network
                     and all(p.labels.get(k) == v for k, v in selector.items()))
        return Endpoint(f"svc/{ns_name}", pods=pods, service=found)

    def pod(self, key: str) -> Pod:
        """The pod with key ``namespace/name``.

        Raises:
            UnknownEndpointError: no such pod (also a ``KeyError``).

        Example:
            >>> Cluster(pods=[Pod("a", "x")]).pod("a/x").name
            'x'
        """
        try:
            return self._by_key[key]
        except KeyError:
            near = difflib.get_close_matches(key, list(self._by_key), n=1, cutoff=0.6)
            hint = f" Did you mean {near[0]!r}?" if near else ""
            msg = f"got pod {key!r}; expected one of the cluster's pods ('namespace/name').{hint}"
            raise UnknownEndpointError(msg) from None

    def selecting(self, pod: object) -> tuple[tuple[Any, tuple[str, ...]], ...]:
        """The policies that apply to one pod, each with the directions it applies to
        (``"ingress"``, ``"egress"``), in the order they are tried (NetworkPolicies in the
        order given).

        Example:
            >>> from netpol_dsl import load_policy
            >>> deny = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            ...     "metadata": {"name": "deny", "namespace": "default"}, "spec": {"podSelector": {}}})
            >>> c = Cluster(pods=[Pod("default", "web")], policies=[deny])
            >>> [(p.name, d) for p, d in c.selecting("default/web")]
            [('deny', ('ingress',))]
        """
        me = self._single_pod(pod, "selecting()")
        found: dict[int, list[str]] = {}
        for direction, lst in (("ingress", me.ingress), ("egress", me.egress)):
            assert lst is not None
            for pi in lst.policies:
                found.setdefault(pi, []).append(direction)
        originals = self._engine_originals
        rank = self._engine.policy_rank
        return tuple((originals[pi], tuple(d)) for pi, d in sorted(
            found.items(), key=lambda kv: rank[kv[0]]))

    def _policy_index(self, policy: Any) -> int:
        if self._by_identity is None:
            self._by_identity = {id(p): i for i, p in enumerate(self.policies)}
        found = self._by_identity.get(id(policy))
        if found is not None:
            return found
        for i, p in enumerate(self.policies):
            if p == policy:
                return i
        msg = f"got policy {getattr(policy, 'key', policy)!r}; expected one of the cluster's policies"
        raise UnknownEndpointError(msg)

    def _class_members(self, classes: Iterable[int]) -> tuple[str, ...]:
        members = self._pods_of_class()
        keys = sorted(i for c in classes for i in members[c])
        return tuple(self.pods[i].key for i in keys)

    def selected_by(self, policy: Any) -> tuple[str, ...]:
        """The pods one of the cluster's policies applies to (its subject), in inventory order.

        Example:
            >>> from netpol_dsl import load_policy
            >>> deny = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            ...     "metadata": {"name": "deny", "namespace": "a"},
            ...     "spec": {"podSelector": {"matchLabels": {"app": "db"}}}})
            >>> c = Cluster(pods=[Pod("a", "web", {"app": "web"}), Pod("a", "db", {"app": "db"})],
            ...             policies=[deny])
            >>> c.selected_by(deny)
            ('a/db',)
        """
        ir = self._irs[self._policy_index(policy)]
        return self._class_members(self._engine.subject_classes(ir).tolist())

    def peer_pods(self, policy: Any, direction: str, rule: int, peer: int | None = None
                  ) -> tuple[str, ...]:
        """The pods a rule's peers (or one peer, by index) admit as the other end.

        Example:
            >>> from netpol_dsl import load_policy
            >>> p = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            ...     "metadata": {"name": "db", "namespace": "a"},
            ...     "spec": {"podSelector": {}, "ingress": [{"from": [
            ...         {"podSelector": {"matchLabels": {"app": "web"}}}]}]}})
            >>> c = Cluster(pods=[Pod("a", "web", {"app": "web"}), Pod("a", "db", {"app": "db"})],
            ...             policies=[p])
            >>> c.peer_pods(p, "ingress", 0)
            ('a/web',)
        """
        ir = self._irs[self._policy_index(policy)]
        rules = ir.ingress if direction == "ingress" else ir.egress
        if not 0 <= rule < len(rules):
            msg = f"peer_pods(): got rule {rule}; expected 0..{len(rules) - 1} ({direction})"
            raise EvaluationError(msg)
        peers = rules[rule].peers if peer is None else (rules[rule].peers[peer],)
        eng = self._engine
        # Peers relative to the subject's namespace (the obsolete sameLabels) depend on it:
        # take every namespace the subject has pods in.
        spaces: list[int | None] = [None]
        if eng._relative((rules[rule],)):
            spaces = [*sorted({int(eng.class_ns[c]) for c in eng.subject_classes(ir).tolist()})]
        vec = np.zeros(eng.n, dtype=bool)
        for p in peers:
            for ns_i in spaces:
                vec |= eng.peer_vector(p, ns_i)
        return self._class_members(np.flatnonzero(vec).tolist())

    def isolated(self, pod: object) -> tuple[bool, bool]:
        """Whether NetworkPolicies isolate one pod for (ingress, egress).

        Example:
            >>> Cluster(pods=[Pod("a", "web")]).isolated("a/web")
            (False, False)
        """
        me = self._single_pod(pod, "isolated()")
        assert me.ingress is not None and me.egress is not None
        return me.ingress.isolated, me.egress.isolated

    def _single_pod(self, pod: object, where: str) -> _End:
        ep, ends = self._ends(pod)
        if len(ends) != 1 or ends[0].kind == _EXT:
            msg = f"{where}: got {ep.label!r}; expected one pod"
            raise DslUsageError(msg)
        return ends[0]

    def _ns_labels(self, name: str) -> Mapping[str, str]:
        ns = self.namespaces.get(name)
        return ns.labels if ns is not None else Namespace(name).labels

    # ------------------------------------------------------------------ single ends

    def _pod_end(self, key: str) -> _End:
        ref = self._refs.get(key)
        if ref is None:
            pod = self._by_key[key]
            eng = self._engine
            c = eng.pod_class_list[eng.pod_index[key]]
            ref = _End(_POD, key, eng.other_class(c), pod, c,
                       ns_labels=self._ns_labels(pod.namespace), key=key,
                       ingress=eng.in_list[c], egress=eng.eg_list[c])
            self._refs[key] = ref
        return ref

    def _adhoc_end(self, pod: Pod) -> _End:
        eng = self._engine
        ns_labels = self._ns_labels(pod.namespace)
        node = self._node_table.get(getattr(pod, "node_name", None) or "")
        view, ingress, egress = eng.adhoc(pod, ns_labels, node[0] if node else None)
        return _End(_ADHOC, pod.key, view, pod, ns_labels=ns_labels, key=None,
                    ingress=ingress, egress=egress)

    def _ext_end(self, text: str) -> _End:
        ip = ip_int(text)
        assert ip is not None
        eng = self._engine
        return _End(_EXT, text, eng.external(ip), ip=ip,
                    view_domains=eng.external(ip, domains_match=True))

    def _ends(self, obj: object) -> tuple[Endpoint, list[_End]]:
        """What an endpoint stands for, as single ends (see ``resolve``); kept per text
        (callers do not change the list)."""
        if isinstance(obj, str):
            if obj in self._by_key:
                return Endpoint(obj, pods=(obj,)), [self._pod_end(obj)]
            found = self._text_ends.get(obj)
            if found is None:
                if len(self._text_ends) >= 4096:  # kept for repeated questions
                    self._text_ends.clear()
                found = self._text_ends[obj] = self._resolve_ends(obj)
            return found
        if isinstance(obj, Pod) and self._by_key.get(obj.key) is obj:  # one of the inventory's
            return Endpoint(obj.key, pods=(obj.key,)), [self._pod_end(obj.key)]
        return self._resolve_ends(obj)

    def _resolve_ends(self, obj: object) -> tuple[Endpoint, list[_End]]:
        ep = self.resolve(obj)
        if ep.address is not None:
            return ep, [self._ext_end(ep.address)]
        if ep.hypothetical is not None:
            return ep, [self._adhoc_end(ep.hypothetical)]
        if not ep.pods:
            svc = ep.service
            msg = (f"got {ep.label}, which stands for no pod"
                   + (": the Service has no selector or selects no pod of the cluster"
                      if svc is not None else ""))
            raise UnknownEndpointError(msg)
        return ep, [self._pod_end(k) for k in ep.pods]

    @staticmethod
    def _port_number(spec: PortSpec, dst: _End, where: str) -> tuple[int, str | None]:
        if spec.name is None:
            assert spec.first is not None
            return spec.first, None
        if dst.pod is None:
            msg = (f"{where}: got port={spec.name!r}; expected a number, since the destination "
                   f"{dst.label} is not a pod and declares no named ports")
            raise EvaluationError(msg)
        for cp in dst.pod.ports:
            if cp.name == spec.name and cp.protocol == spec.protocol:
                return cp.port, spec.name
        declared = ", ".join(f"{cp.name} ({cp.protocol} {cp.port})"
                             for cp in dst.pod.ports if cp.name) or "none"
        msg = (f"{where}: got port={spec.name!r}; expected a port number or a {spec.protocol} "
               f"port name declared on {dst.label} (declared: {declared})")
        raise EvaluationError(msg)

    # ------------------------------------------------------------------ questions

    def allows(self, src: object, dst: object, port: int | str,
               protocol: str | None = None) -> Verdict:
        """May ``src`` open a connection to ``dst`` on ``protocol``/``port``?

        Args:
            src: ``"namespace/name"`` of a pod or a workload (or a bare pod name when unique), a
                ``Pod`` (hypothetical ones with ``hypothetical()``), a ``Workload``, an IP
                address (always an external endpoint, even when a pod has that IP: name the pod
                to ask about it), or a DSL selector, which stands for the inventory pods it
                matches.
            dst: the same kinds, or a Service (``"svc/namespace/name"``, or
                ``"namespace/name"`` when only a Service has that name), whose port is mapped to
                its ``targetPort`` on each selected pod.
            port: a number, a name resolved on the destination pod, or a spec such as
                ``"53/UDP"`` or ``"8000-8100/TCP"`` (every port of a range must be allowed).
            protocol: ``"TCP"``, ``"UDP"`` or ``"SCTP"``, in any case; by default the port
                spec's own (``"53/UDP"``), else TCP.

        Returns:
            A ``Verdict``: true when allowed for every pod pair the ends stand for, false when
            for none; ``explain()`` says why. When some pairs are allowed and some are not, using
            it as a bool raises ``AmbiguousResultError``.

        Raises:
            UnknownEndpointError: an unknown pod, workload or Service, or a selector that
                matches no pod (also a ``KeyError``).
            EvaluationError: a port out of range, or a name the destination does not declare.
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
        if protocol is None and type(port) is int:
            protocol = "TCP"
        if (type(src) is str and type(dst) is str and type(port) is int and 0 < port < 65536
                and type(protocol) is str and protocol in _PROTOCOL_SET):
            # The common case, kept lean: two pods of the cluster by key, a port number.
            i = self._pod_index.get(src)
            j = self._pod_index.get(dst)
            if i is not None and j is not None:
                ok = i == j or self._allowed(self._pod_class[i], self._pod_class[j],
                                             protocol, port)
                if ok or not self.services:  # (a denial may need a Service hint below)
                    return _verdict(ok, src, dst, port, protocol, self)
        spec = parse_port_spec(port, protocol, where="allows()")
        s_ep, s_ends = self._ends(src)
        d_ep, d_ends = self._ends(dst)
        if s_ends[0].kind == _EXT and d_ends[0].kind == _EXT:
            msg = (f"allows(): got two IP addresses ({s_ends[0].label}, {d_ends[0].label}); "
                   "expected at least one pod")
            raise DslUsageError(msg)
        notes: list[str] = []
        service = d_ep.service
        # One cell per pod pair; a range checks every atom of it on the pair (all must allow),
        # and the pair is explained at its first denied port (or its first port).
        cells: list[tuple[_End, _End, list[tuple[int, str | None]]]] = []
        for d in d_ends:
            targets = self._targets(spec, d, service, notes)
            for s in s_ends:
                if s is d and (len(s_ends) > 1 or len(d_ends) > 1):
                    continue  # a pod's traffic to itself says nothing about the group
                cells.append((s, d, targets))
        if not cells:  # the same single pod at both ends
            cells = [(s_ends[0], d_ends[0], self._targets(spec, d_ends[0], None, notes))]
        results: list[tuple[_End, _End, int, str | None, tuple[bool, bool]]] = []
        for s, d, targets in cells:
            found = [(n, name, self._cell(s, d, spec.protocol, n)) for n, name in targets]
            bad = next((x for x in found if not x[2][0]), None)
            n, name, _ = bad or found[0]
            results.append((s, d, n, name, (bad is None, any(x[2][1] for x in found))))
            if spec.is_range and len(found) > 1 and len(cells) == 1:
                reached = [str(x[0]) for x in found if x[2][0]]
                if reached and bad is not None:
                    notes.append(f"of {spec}, the pods reach {spec.protocol} "
                                 + ", ".join(reached) + " (and the ranges they start) but not all"
                                 " of it")
        undetermined = any(r[4][1] for r in results)
        hint = self._service_hint(spec, d_ends, results, service)
        if hint:
            notes.append(hint)
        if len(results) == 1:
            s, d, number, name, (allowed, _) = results[0]
            return Verdict(allowed=allowed, src=s.label if len(s_ends) == 1 else s_ep.label,
                           dst=d.label if len(d_ends) == 1 and service is None else d_ep.label,
                           port=number if service is None else (spec.first or number),
                           protocol=spec.protocol, port_name=name,
                           detail=lambda: self._detail(s, d, spec.protocol, number),
                           notes=tuple(dict.fromkeys(notes)), undetermined=undetermined)
        n_ok = sum(r[4][0] for r in results)
        overall: bool | None = True if n_ok == len(results) else (False if n_ok == 0 else None)

        def pairs() -> tuple[tuple[PairVerdict, ...], Verdict | None, Verdict | None]:
            out = tuple(PairVerdict(s.label, d.label, ok) for s, d, _, _, (ok, _) in results)
            ok_v = bad_v = None
            for s, d, n, name, (ok, _) in results:
                if ok and ok_v is None:
                    ok_v = self._pair_verdict(s, d, n, name, spec.protocol, ok)
                if not ok and bad_v is None:
                    bad_v = self._pair_verdict(s, d, n, name, spec.protocol, ok)
            return out, ok_v, bad_v

        first = results[0]
        return Verdict(allowed=overall, src=s_ep.label, dst=d_ep.label,
                       port=spec.first if spec.first is not None else first[2],
                       protocol=spec.protocol, port_name=spec.name,
                       detail=lambda: self._detail(first[0], first[1], spec.protocol, first[2]),
                       pairs=pairs, notes=tuple(dict.fromkeys(notes)), undetermined=undetermined)

    def _pair_verdict(self, s: _End, d: _End, number: int, name: str | None, protocol: str,
                      ok: bool) -> Verdict:
        return Verdict(allowed=ok, src=s.label, dst=d.label, port=number, protocol=protocol,
                       port_name=name, detail=lambda: self._detail(s, d, protocol, number))

    def _targets(self, spec: PortSpec, d: _End, service: Any, notes: list[str]
                 ) -> list[tuple[int, str | None]]:
        """The destination ports to check on pod ``d``: the spec's (every atom of a range), or
        for a Service port its targetPort on that pod."""
        if service is not None:
            port = self._service_port(service, spec)
            target = getattr(port, "target_port", None)
            if target is None:
                target = getattr(port, "port", None)
            if isinstance(target, str):
                number = next((cp.port for cp in (d.pod.ports if d.pod else ())
                               if cp.name == target and cp.protocol == spec.protocol), None)
                if number is None:
                    msg = (f"allows(): Service {service.namespace}/{service.name} port "
                           f"{getattr(port, 'port', '?')} targets the named port {target!r}, "
                           f"which {d.label} does not declare")
                    raise EvaluationError(msg)
                notes.append(f"Service {service.namespace}/{service.name} port "
                             f"{getattr(port, 'port', '?')}/{spec.protocol} -> targetPort "
                             f"{target!r} ({number} on {d.label})")
                return [(number, target)]
            assert isinstance(target, int)
            notes.append(f"Service {service.namespace}/{service.name} port "
                         f"{getattr(port, 'port', '?')}/{spec.protocol} -> targetPort {target}")
            return [(target, None)]
        if spec.is_range:
            assert spec.first is not None and spec.last is not None
            atoms = self._engine.atoms
            out: list[tuple[int, str | None]] = []
            lo, hi = atoms.index(spec.protocol, spec.first), atoms.index(spec.protocol, spec.last)
            for a in range(lo, hi + 1):
                out.append((max(atoms.spans[a][1], spec.first), None))
            return out
        return [self._port_number(spec, d, "allows()")]

    @staticmethod
    def _service_port(service: Any, spec: PortSpec) -> Any:
        ports = getattr(service, "ports", ())
        for p in ports:
            proto = getattr(p, "protocol", "TCP") or "TCP"
            if proto != spec.protocol:
                continue
            if spec.name is not None and getattr(p, "name", None) == spec.name:
                return p
            if spec.first is not None and getattr(p, "port", None) == spec.first:
                return p
        declared = ", ".join(f"{getattr(p, 'port', '?')}/{getattr(p, 'protocol', 'TCP')}"
                             + (f" ({p.name})" if getattr(p, "name", None) else "")
                             for p in ports) or "none"
        msg = (f"allows(): got port {spec.value!r}/{spec.protocol} for Service "
               f"{service.namespace}/{service.name}; expected one of its ports ({declared})")
        raise EvaluationError(msg)

    def _service_hint(self, spec: PortSpec, d_ends: Sequence[_End],
                      results: Sequence[tuple[Any, ...]], service: Any) -> str | None:
        """A denial on a port that is a Service port of the destination: name the targetPort."""
        if service is not None or spec.first is None or all(r[4][0] for r in results):
            return None
        for d in d_ends:
            if d.pod is None:
                continue
            for svc in self.services:
                selector = getattr(svc, "selector", None)
                if (not selector or svc.namespace != d.pod.namespace or not all(
                        d.pod.labels.get(k) == v for k, v in selector.items())):
                    continue
                for p in getattr(svc, "ports", ()):
                    if getattr(p, "port", None) == spec.first and (
                            getattr(p, "protocol", "TCP") or "TCP") == spec.protocol:
                        target = getattr(p, "target_port", None) or p.port
                        if target != spec.first:
                            return (f"hint: {spec.protocol} {spec.first} is a port of Service "
                                    f"{svc.namespace}/{svc.name}, which forwards it to "
                                    f"targetPort {target!r} on {d.label}; NetworkPolicies see "
                                    f"the targetPort (ask about port {target!r}, or name the "
                                    f"Service: svc/{svc.namespace}/{svc.name})")
        return None

    def _cell(self, s: _End, d: _End, protocol: str, number: int) -> tuple[bool, bool]:
        """(allowed, undetermined) for one pair of single ends."""
        if s.kind == _POD and d.kind == _POD:
            if s.key == d.key:
                return True, False
            return self._engine.allowed(s.cls, d.cls, protocol, number), False
        mask = self._mask(s, d)
        atom = self._engine.atoms.index(protocol, number)
        allowed = bool((mask >> atom) & 1)
        undetermined = False
        if s.view_domains is not None or d.view_domains is not None:
            alt = self._mask(s, d, domains=True)
            undetermined = bool((alt >> atom) & 1) != allowed
        return allowed, undetermined

    def _mask(self, s: _End, d: _End, domains: bool = False) -> int:
        sv = s.view_domains if domains and s.view_domains is not None else s.view
        dv = d.view_domains if domains and d.view_domains is not None else d.view
        return self._engine.connection_mask(sv, dv, s.egress, d.ingress)

    def _detail_keys(self, src: str, dst: str, protocol: str, port: int) -> tuple[
        DirectionVerdict, DirectionVerdict
    ]:
        return self._detail(self._pod_end(src), self._pod_end(dst), protocol, port)

    def _detail(self, s: _End, d: _End, protocol: str, port: int) -> tuple[
        DirectionVerdict, DirectionVerdict
    ]:
        eng = self._engine
        return (explain_side(eng, "egress", s.trace, d.trace, d.trace, protocol, port),
                explain_side(eng, "ingress", d.trace, s.trace, d.trace, protocol, port))

    def allows_pairs(self, queries: Iterable[tuple[str, str, int, str]]) -> list[bool]:
        """Many yes/no questions about pods of the cluster at once: for each
        ``(src, dst, port, protocol)`` of two pod keys and a port number, ``bool(allows(...))``.

        The bulk path for replaying recorded traffic: each answer is computed once per pair of
        equivalence classes, protocol and port (pods with the same labels, namespace and named
        ports answer alike), and no ``Verdict`` is built. Ask ``allows()`` for the explanation
        of an answer that needs one.

        Raises:
            UnknownEndpointError: a key that is not a pod of the cluster (also a ``KeyError``).
            EvaluationError: a port that is not one number in 1..65535, or a bad protocol.

        Example:
            >>> from netpol_dsl import load_policy
            >>> deny = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            ...     "metadata": {"name": "deny", "namespace": "a"}, "spec": {"podSelector": {}}})
            >>> c = Cluster(pods=[Pod("a", "web"), Pod("b", "cli")], policies=[deny])
            >>> c.allows_pairs([("b/cli", "a/web", 80, "TCP"), ("a/web", "b/cli", 53, "udp")])
            [False, True]
        """
        index = self._pod_index
        classes = self._pod_class
        allowed = self._allowed
        cache: dict[tuple[int, int, str, int], bool] = {}
        out: list[bool] = []
        for src, dst, port, protocol in queries:
            i = index.get(src)
            j = index.get(dst)
            if i is None or j is None:
                self.pod(src if i is None else dst)  # raises UnknownEndpointError with a hint
            assert i is not None and j is not None
            if i == j:  # a pod always reaches itself (see the module docstring)
                out.append(True)
                continue
            if type(port) is not int or not 0 < port < 65536 or protocol not in _PROTOCOL_SET:
                spec = parse_port_spec(port, protocol, where="allows_pairs()")
                if spec.first is None or spec.is_range:
                    msg = f"allows_pairs(): got port={port!r}; expected one port number"
                    raise EvaluationError(msg)
                port, protocol = spec.first, spec.protocol
            key = (classes[i], classes[j], protocol, port)
            answer = cache.get(key)
            if answer is None:
                answer = cache[key] = allowed(*key)
            out.append(answer)
        return out

    def connections(self, src: object, dst: object) -> ConnectionSet:
        """Every connection ``src`` may open to ``dst``: protocols and port ranges.

        Raises:
            AmbiguousResultError: the ends stand for several pods whose pairs differ.

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
        s_ep, s_ends = self._ends(src)
        d_ep, d_ends = self._ends(dst)
        if s_ends[0].kind == _EXT and d_ends[0].kind == _EXT:
            msg = (f"connections(): got two IP addresses ({s_ends[0].label}, {d_ends[0].label}); "
                   "expected at least one pod")
            raise DslUsageError(msg)
        found: dict[ConnectionSet, int] = {}
        for s in s_ends:
            for d in d_ends:
                if s.key is not None and s.key == d.key:
                    if len(s_ends) == 1 and len(d_ends) == 1:
                        return ConnectionSet.all()
                    continue
                conns = self._engine.atoms.to_connections(self._mask(s, d))
                found[conns] = found.get(conns, 0) + 1
        if len(found) > 1:
            parts = "; ".join(f"{n} pair{'s' if n > 1 else ''}: {c}" for c, n in found.items())
            msg = (f"connections(): the pod pairs of {s_ep.label} -> {d_ep.label} differ ({parts}); "
                   "ask about single pods, or use connectivity()")
            raise AmbiguousResultError(msg)
        return next(iter(found)) if found else ConnectionSet.all()

    def deciding_tiers(self, src: object, dst: object, port: int | str | None = None,
                       protocol: str | None = None) -> DecidingTiers:
        """Which tiers decided what ``src`` may open to ``dst``: on every port (``port`` None) or
        on one, over every pod pair the ends stand for.

        ``allowed`` lists the tiers (``admin``, ``networkpolicy``, ``baseline``, ``default``)
        whose rules decided the allowed connections, ``denied`` those that denied the others;
        see ``netpol_dsl.evaluate._tiers`` for how both sides of a connection count.

        Args:
            src: as for `allows`.
            dst: as for `allows`.
            port: a number, a name (resolved on each destination pod; one that does not declare
                it is left out) or a spec such as ``"53/UDP"``; None for every port.
            protocol: the protocol of ``port`` (default TCP, or the spec's own).

        Example:
            >>> from netpol_dsl import load_policy
            >>> deny = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            ...     "metadata": {"name": "deny", "namespace": "a"}, "spec": {"podSelector": {}}})
            >>> c = Cluster(pods=[Pod("a", "x"), Pod("b", "y")], policies=[deny])
            >>> c.deciding_tiers("b/y", "a/x", 80)  # a/x is isolated for ingress
            DecidingTiers(allowed=(), denied=('networkpolicy',))
            >>> c.deciding_tiers("a/x", "b/y").allowed  # nothing restricts either side
            ('default',)
        """
        from netpol_dsl.evaluate._tiers import deciding_tiers

        atoms = self._engine.atoms
        spec = None if port is None else parse_port_spec(port, protocol, where="deciding_tiers()")
        d_ends = self._ends(dst)[1]
        interest: list[int | None] = []
        for d in d_ends:
            if spec is None:
                interest.append(atoms.full)
            elif spec.name is not None and (d.pod is None or not any(
                    cp.name == spec.name and cp.protocol == spec.protocol for cp in d.pod.ports)):
                interest.append(None)  # no such port on this destination: no connection
            elif spec.name is not None:
                number = self._port_number(spec, d, "deciding_tiers()")[0]
                interest.append(1 << atoms.index(spec.protocol, number))
            else:  # a number or a range: the atoms it spans
                assert spec.first is not None and spec.last is not None
                lo, hi = atoms.index(spec.protocol, spec.first), atoms.index(spec.protocol, spec.last)
                interest.append(((1 << (hi + 1)) - 1) ^ ((1 << lo) - 1))
        return deciding_tiers(self._engine, self._ends(src)[1], d_ends, interest)

    @gc_paused
    def connectivity(self) -> Connectivity:
        """Every ordered pod pair's allowed connections, computed at once (compact: per class pair).

        Example:
            >>> c = Cluster(pods=[Pod("a", "x"), Pod("b", "y")])
            >>> str(c.connectivity().between("a/x", "b/y"))
            'all'
        """
        if self._connectivity is None:
            from netpol_dsl.evaluate._allpairs import all_pairs

            eng = self._engine
            # each side's distinct allowed-atom masks, numbered apart
            e_masks: list[int] = []
            i_masks: list[int] = []

            def numbering(masks: list[int]) -> Callable[[int], int]:
                ids: dict[int, int] = {}

                def ident(mask: int) -> int:
                    found = ids.get(mask)
                    if found is None:
                        found = ids[mask] = len(masks)
                        masks.append(mask)
                    return found

                return ident

            sets: list[ConnectionSet] = []
            set_id: dict[int, int] = {}

            def set_of(mask: int) -> int:
                sid = set_id.get(mask)
                if sid is None:
                    sid = set_id[mask] = len(sets)
                    sets.append(eng.atoms.to_connections(mask))
                return sid

            red = all_pairs(eng, numbering(e_masks), None, np.int32, side_dtype=np.int32,
                            value_ingress=numbering(i_masks))
            # A cell is (source's egress mask) & (destination's ingress mask): every combination
            # of the two sides' masks intersected once, into a lookup table.
            width = max(1, len(i_masks))
            if len(e_masks) * width <= _LOOKUP_LIMIT:
                lut = np.asarray([set_of(em & im) for em in e_masks for im in i_masks],
                                 dtype=np.int32)
                if len(sets) < 1 << 15:
                    lut = lut.astype(np.int16)
                lut.setflags(write=False)

                def combine(e: npt.NDArray[Any], i: npt.NDArray[Any]) -> npt.NDArray[Any]:
                    out: npt.NDArray[Any] = lut[e * width + i]
                    return out

                red = red.with_sides(red.e_side, red.i_side, combine, lut.dtype)
            else:  # too many combinations for a table: only those that occur
                def combine(e: npt.NDArray[Any], i: npt.NDArray[Any]) -> npt.NDArray[Any]:
                    pair = e.astype(np.int64) * width + i
                    uniq, inverse = np.unique(pair, return_inverse=True)
                    ids = np.asarray([set_of(e_masks[k // width] & i_masks[k % width])
                                      for k in uniq.tolist()], dtype=np.int32)
                    found: npt.NDArray[Any] = ids[inverse.reshape(pair.shape)]
                    return found

                red = red.with_sides(red.e_side, red.i_side, combine, np.int32)
                red.table  # noqa: B018 - made now, so that ``sets`` is complete
            self._connectivity = Connectivity(self._pod_keys(), red.row_of[eng.pod_class],
                                              red.col_of[eng.pod_class], red, sets,
                                              self.workloads())
        return self._connectivity

    def _pod_keys(self) -> tuple[str, ...]:
        """Every pod's key, in inventory order (made once)."""
        if self._keys is None:
            self._keys = tuple(p.key for p in self.pods)
        return self._keys

    @gc_paused
    def matrix(self, port: int | str | None = None, protocol: str = "TCP") -> Matrix:
        """Every ordered pair of pods: may the first reach the second?

        Args:
            port: a number; a name (resolved on each destination pod, and a pod that does not
                declare it cannot be reached on it); a spec such as ``"53/UDP"``; or None for
                "any connection at all".
            protocol: the protocol when ``port`` is given (any case).

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
        eng = self._engine
        keys = self._pod_keys()
        if port is None:
            parse_port_spec(1, protocol, where="matrix()")
            conn = self.connectivity()
            some = np.asarray([not s.is_empty for s in conn.sets], dtype=bool)
            return Matrix(keys, conn.row_index, conn.column_index, conn.reduced.mapped(
                some.__getitem__, bool), port=None, protocol=protocol)
        spec = parse_port_spec(port, protocol, where="matrix()")
        if spec.is_range:
            msg = f"matrix(): got port={port!r}; expected one port (a number or a name)"
            raise EvaluationError(msg)
        if spec.name is None:
            assert spec.first is not None
            red = eng.atom_matrix(eng.atoms.index(spec.protocol, spec.first))
            return Matrix(keys, red.row_of[eng.pod_class], red.col_of[eng.pod_class], red,
                          port=spec.first, protocol=spec.protocol)
        # A named port: each destination pod resolves it on its own container ports.
        columns: dict[tuple[int, int], int] = {}
        dst_index = np.empty(len(self.pods), dtype=np.int64)
        numbers: list[int] = []
        for i, pod in enumerate(self.pods):
            n = next((cp.port for cp in pod.ports if cp.name == spec.name
                      and cp.protocol == spec.protocol), 0)
            key = (eng.pod_class_list[i], n)
            if key not in columns:
                columns[key] = len(columns)
                numbers.append(n)
            dst_index[i] = columns[key]
        by_number = {}
        for n in set(numbers):
            if n:
                by_number[n] = eng.atom_matrix(eng.atoms.index(spec.protocol, n))
        table = np.zeros((eng.n, len(columns)), dtype=bool)
        for (cls, n), j in columns.items():
            if n:
                red = by_number[n]
                table[:, j] = red.column(int(red.col_of[cls]))[red.row_of]
        return Matrix(keys, eng.pod_class, dst_index, table, port=spec.name,
                      protocol=spec.protocol)

    def _pods_of_class(self) -> list[list[int]]:
        if self._class_pods is None:
            self._class_pods = [[] for _ in range(self._engine.n)]
            for i, c in enumerate(self._engine.pod_class_list):
                self._class_pods[c].append(i)
        return self._class_pods

    def exposure(self, pod: object, *, pods: bool = True, namespaces: bool = True) -> Exposure:
        """What may connect to ``pod`` and what it may connect to, on which connections.

        External addresses are given as disjoint CIDR groups; namespaces as what the pod's own
        policies allow to or from any pod there; pods with what both sides allow (``pods=False``
        leaves them out, which is quicker on large clusters; ``namespaces=False`` leaves the
        namespaces out, for a question about external addresses only).

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
            >>> only = Cluster(pods=[Pod("a", "x")], policies=[p]).exposure(
            ...     "a/x", pods=False, namespaces=False)
            >>> dict(only.namespace_ingress), [x.cidrs for x in only.external_ingress]
            ({}, [('10.0.0.0/8',)])
        """
        ep, ends = self._ends(pod)
        if len(ends) != 1 or ends[0].kind != _POD:
            msg = f"exposure(): got {ep.label!r}; expected a pod of the cluster"
            raise DslUsageError(msg)
        me = ends[0]
        assert me.pod is not None and me.key is not None
        eng = self._engine
        out: dict[str, Any] = {"pod": me.key}
        for direction in ("ingress", "egress"):
            lst = me.ingress if direction == "ingress" else me.egress
            assert lst is not None
            out[f"{direction}_isolated"] = lst.isolated
            if lst.free:
                out[f"external_{direction}"] = whole_space(ConnectionSet.all())
                out[f"namespace_{direction}"] = ({n: ConnectionSet.all() for n in self.namespaces}
                                                 if namespaces else {})
                continue
            out[f"external_{direction}"] = self._external_exposure(me, lst, direction)
            out[f"namespace_{direction}"] = (self._namespace_exposure(me, lst, direction)
                                             if namespaces else {})
        if not pods:
            return Exposure(**out)
        members = self._pods_of_class()
        pod_in: dict[str, ConnectionSet] = {}
        pod_out: dict[str, ConnectionSet] = {}
        mine = eng.pod_index[me.key]
        atoms = eng.atoms
        for other in range(eng.n):
            idx = [i for i in members[other] if i != mine]
            if not idx:
                continue
            o = self._pod_end(self.pods[idx[0]].key)
            cin = atoms.to_connections(self._mask(o, me))
            cout = atoms.to_connections(self._mask(me, o))
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

    def _external_exposure(self, me: _End, lst: RuleList, direction: str) -> Any:
        """External addresses cut at every edge the pod's rules draw, each piece decided by the
        same fold as any query (domain-name peers read as not matching)."""
        eng = self._engine
        space = {4: (0, (1 << 32) - 1), 6: (0, (1 << 128) - 1)}
        cuts: dict[int, set[int]] = {4: {0}, 6: {0}}
        for rid in lst.all:
            r = eng.rules[rid]
            for b in r.blocks:
                for v, lo, hi in b.regions():
                    cuts[v].update((lo, hi + 1))
            if r.node_selectors:
                for addrs in eng.node_addresses.values():
                    for v, x in addrs:
                        cuts[v].update((x, x + 1))
        regions = []
        for v, points in cuts.items():
            edges = sorted(p for p in points if p <= space[v][1])
            for i, lo in enumerate(edges):
                hi = edges[i + 1] - 1 if i + 1 < len(edges) else space[v][1]
                view = eng.external((v, lo))
                ext = _End(_EXT, "", view)
                mask = (self._mask(me, ext) if direction == "egress" else self._mask(ext, me))
                regions.append((v, lo, hi, eng.atoms.to_connections(mask)))
        return address_ranges(regions)

    def _namespace_exposure(self, me: _End, lst: RuleList, direction: str
                            ) -> dict[str, ConnectionSet]:
        """What the pod's own rules allow with *any* pod of each namespace, whatever its labels:
        allow rules count when their peer covers the whole namespace, deny and pass rules when
        they might match some pod there (named ports are left out: they resolve per pod)."""
        from netpol_dsl.evaluate._ir import AnyPeer, PodsPeer

        eng = self._engine
        out: dict[str, ConnectionSet] = {}
        for name in self.namespaces:
            ns_i = eng.ns_id.get(name)

            def covers(peer: Any, subject_ns: int | None, every: bool, ns_i: int | None = ns_i
                       ) -> bool:
                if isinstance(peer, AnyPeer):
                    return True
                if not isinstance(peer, PodsPeer) or ns_i is None:
                    return False
                if not bool(eng.namespace_mask(peer.namespaces, subject_ns)[ns_i]):
                    return False
                return peer.pods is None or peer.pods.is_empty or not every

            def peer_test(peer: Any, subject_ns: int | None) -> bool:
                return covers(peer, subject_ns, True)

            view = Other(-1, False, 0, peer_test)
            strict = Other(-1, False, 0, lambda p, sn: covers(p, sn, False))
            # Named ports resolve on the destination: the pod itself for ingress; for egress they
            # depend on each destination pod, so they are left out.
            prof = me.view.profile if direction == "ingress" else 0
            allowed = eng.decisions(lst, view, prof).allowed
            if any(eng.rules[r].action != 0 for r in lst.all):
                # deny/pass rules that may match some pod there count against "any pod"
                allowed &= eng.decisions(lst, strict, prof).allowed
            conns = eng.atoms.to_connections(allowed)
            if not conns.is_empty:
                out[name] = conns
        return out


def _compile_other(obj: Any) -> PolicyIR | None:
    """Cluster-wide policy objects, compiled by ``_compile_clusterwide`` (when present)."""
    try:
        module = importlib.import_module("netpol_dsl.evaluate._compile_clusterwide")
    except ImportError:
        return None
    try:
        compiled: PolicyIR | None = module.compile_cluster_policy(obj)
    except TypeError:  # not one of its kinds
        return None
    return compiled

