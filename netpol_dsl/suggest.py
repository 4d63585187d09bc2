"""Suggest least-privilege NetworkPolicies from recorded traffic, as DSL code and as YAML.

``suggest(flows, cluster)`` writes, for each namespace the recorded pods live in (or those
asked for): a default deny of both directions, DNS (``allow_dns()``), and one flow per recorded
workload pair, protocol and port, both halves where both namespaces are written. The result is
checked before it is returned: the recording is replayed against it (`netpol_dsl.replay`), and
``Suggestion.check`` says what, if anything, it would still deny (only policies of namespaces
it does not write can: their own isolation, such as a default deny in ``kube-system``).

Granularity:

- ``"workload"`` (default): a workload is selected by the smallest set of its stable labels that
  tells it apart from every other workload of its namespace (see `workload_selector`). Then the
  policies allow exactly the recorded workload pairs and ports (and DNS): nothing else.
- ``"namespace"``: every pod of a namespace stands for it: rules name namespaces
  (``namespace("monitoring")``) and ``all_pods()``. Coarser, and stable as workloads come and go.

External addresses are allowed one by one (``/32``, ``/128``), or grouped into the networks of
``group_external`` bits (IPv6 ones into ``/64``) when asked. Cross-namespace peers are one AND
peer (``namespace("monitoring") & pods(app="prometheus")``, written
``prometheus.in_namespace("monitoring")``).

``kube-system`` is never written: a default deny there cuts the cluster's DNS and add-ons off
(the lesson: "Do not apply it to kube-system unless you fully understand the implications").

Example:
    >>> import io
    >>> from netpol_dsl.evaluate import Cluster, Pod
    >>> from netpol_dsl.flows import read_flows
    >>> cluster = Cluster(pods=[Pod("shop", "web", {"app": "web"}), Pod("shop", "db", {"app": "db"})])
    >>> s = suggest(read_flows(io.StringIO("shop/web,shop/db,5432,TCP,40\\n")), cluster, dns=False)
    >>> code = s.to_python()
    >>> print(code[code.index("from netpol_dsl"):], end="")
    from netpol_dsl import PolicySet, allow, deny_all, pods, tcp
    <BLANKLINE>
    # Workloads. A bare pods(...) stands for pods of the PolicySet's own namespace;
    # .in_namespace(...) names another one.
    # shop/db[Pod]
    db = pods(app="db")
    # shop/web[Pod]
    web = pods(app="web")
    <BLANKLINE>
    shop = PolicySet(namespace="shop").add(
        deny_all(),
        # shop/web[Pod] -> shop/db[Pod] TCP 5432: 40 records
        allow(web).to(db).on(tcp(5432)),
    )
    <BLANKLINE>
    policies = [shop]
    >>> s.check.ok, [p.name for p in s.policies]
    (True, ['allow-egress-from-web', 'allow-ingress-to-db', 'default-deny-all'])
"""

from __future__ import annotations

import builtins
import hashlib
import ipaddress
import json
import keyword
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any, Literal

from netpol_dsl.baselines import KUBE_DNS, allow_dns, deny_all
from netpol_dsl.builder import Flow, Port, allow, sctp, tcp, udp
from netpol_dsl.errors import DslUsageError
from netpol_dsl.flows import FlowLog, ResolvedFlows
from netpol_dsl.policyset import PolicySet, policy_name
from netpol_dsl.render import to_yaml
from netpol_dsl.replay import ReplayReport, replay
from netpol_dsl.selectors import (
    DoesNotExist,
    Selector,
    all_pods,
    ip_block,
    namespace,
    pods,
)

if TYPE_CHECKING:
    from netpol_dsl.builder import Statement
    from netpol_dsl.evaluate import Cluster, Workload
    from netpol_dsl.model import NetworkPolicy, PolicyType

__all__ = [
    "UNSTABLE_LABELS",
    "Granularity",
    "SuggestedFlow",
    "Suggestion",
    "WorkloadSelector",
    "suggest",
    "workload_selector",
]

Granularity = Literal["workload", "namespace"]

#: Labels a controller sets per pod or per revision, never used to select a workload: a selector
#: on them would miss the next rollout's pods (or all but one pod). They are the controller labels
#: Cilium leaves out of its security identities (cilium/cilium ``pkg/labelsfilter/filter.go``,
#: ``defaultLabelPrefixCfg``), as set by Kubernetes' controllers: Deployment's
#: ``pod-template-hash`` (``apps/v1`` ``DefaultDeploymentUniqueLabelKey``), StatefulSet's and
#: DaemonSet's ``controller-revision-hash`` (``ControllerRevisionHashLabelKey``), DaemonSet's
#: ``pod-template-generation``, StatefulSet's per-pod ``statefulset.kubernetes.io/pod-name`` and
#: ``apps.kubernetes.io/pod-index``, and Job's ``batch.kubernetes.io/job-completion-index``,
#: ``batch.kubernetes.io/controller-uid`` / ``controller-uid`` and ``batch.kubernetes.io/job-name``
#: / ``job-name`` (new for every run of a CronJob); see
#: https://kubernetes.io/docs/reference/labels-annotations-taints/.
UNSTABLE_LABELS = frozenset({
    "pod-template-hash",
    "controller-revision-hash",
    "pod-template-generation",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "batch.kubernetes.io/job-completion-index",
    "batch.kubernetes.io/controller-uid",
    "controller-uid",
    "batch.kubernetes.io/job-name",
    "job-name",
})

#: Label keys preferred, in this order, when several label sets are equally small: the
#: recommended ``app.kubernetes.io/name`` and the usual names of an application.
_PREFERRED = ("app.kubernetes.io/name", "app", "k8s-app", "name", "app.kubernetes.io/instance",
              "app.kubernetes.io/component", "component", "tier", "role")
_MAX_LABELS = 4  # the largest label set searched exhaustively (then: all stable labels)
_LINE = 100  # the line length the generated code is formatted for (ruff format)
_DNS_PORTS = frozenset({("UDP", 53), ("TCP", 53)})


# ------------------------------------------------------------------ selectors


@dataclass(frozen=True, slots=True)
class WorkloadSelector:
    """How a workload's pods are selected: label values they all have, and label keys none of
    them has (``DoesNotExist``), in the workload's namespace.

    Attributes:
        workload: the workload (``namespace/name[Kind]``).
        namespace: its namespace.
        labels: ``(key, value)`` pairs, in the order chosen.
        absent: keys the workload's pods lack and the pods it must be told apart from have.
        also_selects: other workloads of the namespace this selector cannot leave out (empty
            unless no stable labels tell them apart).

    Example:
        >>> ws = WorkloadSelector("a/web[Deployment]", "a", (("app", "web"),), ("canary",))
        >>> ws.selector(), ws.code()
        (pods(app='web', canary=DoesNotExist()), 'pods(app="web", canary=DoesNotExist())')
    """

    workload: str
    namespace: str
    labels: tuple[tuple[str, str], ...] = ()
    absent: tuple[str, ...] = ()
    also_selects: tuple[str, ...] = ()

    def selector(self) -> Selector:
        """The DSL selector (bare: the pods of the policy's own namespace).

        Example:
            >>> WorkloadSelector("a/x[Pod]", "a").selector()
            all_pods()
        """
        if not self.labels and not self.absent:
            return all_pods()
        match: dict[str, Any] = dict(self.labels)
        match.update((k, DoesNotExist()) for k in self.absent)
        return pods(match)

    def code(self) -> str:
        """The selector as DSL source code, formatted as ``ruff format`` would keep it on one
        line.

        Example:
            >>> WorkloadSelector("a/x[Pod]", "a", (("app.kubernetes.io/name", "x"),)).code()
            'pods({"app.kubernetes.io/name": "x"})'
        """
        items = [(k, json.dumps(v)) for k, v in self.labels]
        items += [(k, "DoesNotExist()") for k in self.absent]
        if not items:
            return "all_pods()"
        if all(k.isidentifier() and not keyword.iskeyword(k) for k, _ in items):
            return "pods(" + ", ".join(f"{k}={v}" for k, v in items) + ")"
        return "pods({" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in items) + "})"

    def code_lines(self) -> list[str]:
        """The selector as DSL source split one label per line (for lines too long for one).

        Example:
            >>> WorkloadSelector("a/x[Pod]", "a", (("app", "x"),)).code_lines()
            ['pods(', '    app="x",', ')']
        """
        items = [(k, json.dumps(v)) for k, v in self.labels]
        items += [(k, "DoesNotExist()") for k in self.absent]
        if all(k.isidentifier() and not keyword.iskeyword(k) for k, _ in items):
            return ["pods(", *(f"    {k}={v}," for k, v in items), ")"]
        return ["pods(", "    {", *(f"        {json.dumps(k)}: {v}," for k, v in items),
                "    }", ")"]


def workload_selector(cluster: Cluster, workload: str | Workload) -> WorkloadSelector:
    """The smallest set of stable labels that tells a workload apart in its namespace.

    Stable labels are those every pod of the workload has with the same value, except the
    controller labels of `UNSTABLE_LABELS` (``pod-template-hash``, per-pod StatefulSet labels,
    ...). Among label sets that no pod of another workload in the namespace matches, the
    smallest is chosen (preferring ``app.kubernetes.io/name``, ``app``, ``k8s-app``, ...); a
    workload alone in its namespace gets its best single label. When no set of its labels
    tells it apart (another workload's pods have all of them), label keys that none of its
    pods has but those pods have are added as ``DoesNotExist``; when even that cannot tell them
    apart, all its stable labels are used and ``also_selects`` names the workloads that the
    selector also covers (give the workload a label of its own).

    Raises:
        UnknownEndpointError: no such workload.

    Example:
        >>> from netpol_dsl.evaluate import Cluster, Pod
        >>> c = Cluster(pods=[
        ...     Pod("a", "web-1", {"app": "web", "tier": "front", "pod-template-hash": "1"},
        ...         owner_kind="Deployment", owner_name="web"),
        ...     Pod("a", "web-canary-1", {"app": "web", "tier": "front", "track": "canary"},
        ...         owner_kind="Deployment", owner_name="web-canary"),
        ...     Pod("a", "api-1", {"app": "api", "tier": "front"}, owner_kind="Deployment",
        ...         owner_name="api")])
        >>> workload_selector(c, "a/api").code(), workload_selector(c, "a/web-canary").code()
        ('pods(app="api")', 'pods(track="canary")')
        >>> workload_selector(c, "a/web").code()
        'pods(app="web", track=DoesNotExist())'
    """
    w = cluster.workload(workload if isinstance(workload, str) else workload.id)
    return _Selectors(cluster).of(w)


class _Selectors:
    """Selectors of workloads, computed per namespace on first use."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.done: dict[str, WorkloadSelector] = {}
        self._pods: dict[str, _NamespaceIndex] | None = None
        self._owner: dict[str, str] = {}

    def of(self, w: Workload) -> WorkloadSelector:
        found = self.done.get(w.id)
        if found is None:
            found = self.done[w.id] = self._choose(w)
        return found

    def _namespace(self, ns: str) -> _NamespaceIndex:
        if self._pods is None:
            self._pods = {}
            for wl in self.cluster.workloads():
                for key in wl.pods:
                    self._owner[key] = wl.id
            by_ns: dict[str, list[Any]] = {}
            for p in self.cluster.pods:
                if not p.host_network:  # selectors never match host-network pods
                    by_ns.setdefault(p.namespace, []).append(p)
            self._pods = {n: _NamespaceIndex(members) for n, members in by_ns.items()}
        return self._pods.get(ns) or _NamespaceIndex([])

    def _choose(self, w: Workload) -> WorkloadSelector:
        index = self._namespace(w.namespace)
        own = {index.position[k] for k in w.pods if k in index.position}
        stable = sorted(((k, v) for k, v in w.labels.items() if k not in UNSTABLE_LABELS),
                        key=_rank)
        if len(own) == len(index.pods):  # alone in its namespace
            return WorkloadSelector(w.id, w.namespace, tuple(stable[:1]))

        def matching(labels: tuple[tuple[str, str], ...]) -> list[int]:
            return sorted(index.matching(labels) - own)

        candidates = _subsets(stable)
        for subset in candidates:
            if subset and not matching(subset):
                return WorkloadSelector(w.id, w.namespace, subset)
        # No label set alone: add keys that the workload's pods lack and the others have.
        own_keys = {k for i in own for k in index.pods[i].labels}
        best: tuple[int, tuple[tuple[str, str], ...], tuple[str, ...]] | None = None
        for subset in candidates:
            if best is not None and len(subset) >= best[0]:
                continue
            confusers = [index.pods[i].labels for i in matching(subset)]
            cover = _cover(confusers, own_keys)
            if cover is not None and (best is None or len(subset) + len(cover) < best[0]):
                best = (len(subset) + len(cover), subset, cover)
        if best is not None:
            return WorkloadSelector(w.id, w.namespace, best[1], best[2])
        full = tuple(stable)
        also = sorted({self._owner.get(index.pods[i].key, index.pods[i].key)
                       for i in matching(full)})
        return WorkloadSelector(w.id, w.namespace, full, (), tuple(also))


class _NamespaceIndex:
    """The pods of one namespace with a postings list per label: which pods a label set matches
    is an intersection of sets."""

    def __init__(self, pods: list[Any]) -> None:
        self.pods = pods
        self.position = {p.key: i for i, p in enumerate(pods)}
        self.postings: dict[tuple[str, str], set[int]] = {}
        for i, p in enumerate(pods):
            for item in p.labels.items():
                self.postings.setdefault(item, set()).add(i)

    def matching(self, labels: tuple[tuple[str, str], ...]) -> set[int]:
        if not labels:
            return set(range(len(self.pods)))
        sets = sorted((self.postings.get(item, set()) for item in labels), key=len)
        return sets[0].intersection(*sets[1:])


def _rank(item: tuple[str, str]) -> tuple[int, str, str]:
    key = item[0]
    return (_PREFERRED.index(key) if key in _PREFERRED else len(_PREFERRED), key, item[1])


def _subsets(stable: list[tuple[str, str]]) -> list[tuple[tuple[str, str], ...]]:
    """Label sets to try, smallest first (the empty set, then in preference order), up to
    `_MAX_LABELS` labels, then the whole set."""
    out: list[tuple[tuple[str, str], ...]] = [()]
    limit = min(len(stable), _MAX_LABELS if len(stable) <= 12 else 2)
    for size in range(1, limit + 1):
        out.extend(combinations(stable, size))
    if len(stable) > limit:
        out.append(tuple(stable))
    return out


def _cover(confusers: list[Mapping[str, str]], own_keys: set[str]) -> tuple[str, ...] | None:
    """Label keys (as ``DoesNotExist``) that rule out every confuser, greedily few; None when
    some confuser has no key the workload lacks."""
    options = [{k for k in labels if k not in own_keys and k not in UNSTABLE_LABELS}
               for labels in confusers]
    if any(not o for o in options):
        return None
    chosen: list[str] = []
    left = list(range(len(options)))
    while left:
        counts = Counter(k for i in left for k in options[i])
        key = min(counts, key=lambda k: (-counts[k], _rank((k, ""))))
        chosen.append(key)
        left = [i for i in left if key not in options[i]]
    return tuple(sorted(chosen, key=lambda k: _rank((k, ""))))


# ------------------------------------------------------------------ the suggestion


@dataclass(frozen=True, slots=True)
class SuggestedFlow:
    """One allowed flow of a suggestion, with the traffic behind it.

    Attributes:
        src: the source: a workload (``namespace/name[Kind]``), a namespace (``namespace``
            granularity) or a CIDR.
        dst: the destination, likewise.
        protocol: ``TCP``, ``UDP`` or ``SCTP``.
        port: the port.
        records: how many records were seen.
        connections: how many distinct recorded connections (pod pairs as recorded).
        where: the first record, ``file:line``.

    Example:
        >>> str(SuggestedFlow("a/web[Deployment]", "a/db[StatefulSet]", "TCP", 5432, 1204, 3, "f:1"))
        'a/web[Deployment] -> a/db[StatefulSet] TCP 5432: 1,204 records'
    """

    src: str
    dst: str
    protocol: str
    port: int
    records: int
    connections: int
    where: str

    def __str__(self) -> str:
        return (f"{self.src} -> {self.dst} {self.protocol} {self.port}: {self.records:,} "
                f"record{'s' if self.records != 1 else ''}")


@dataclass(frozen=True, slots=True)
class _Ref:
    """An end of a suggested rule: a workload, a whole namespace, or a CIDR."""

    kind: Literal["workload", "namespace", "cidr"]
    value: str  # workload id, namespace name, or CIDR
    namespace: str = ""  # where the pods are (workload, namespace)


@dataclass(frozen=True, slots=True)
class _Stmt:
    kind: Literal["deny", "dns", "flow"]
    comment: str | None = None
    src: _Ref | None = None
    dst: _Ref | None = None
    protocol: str = "TCP"
    port: int = 0
    halves: Literal["both", "ingress", "egress"] = "both"
    name: str | None = None


@dataclass(frozen=True)
class Suggestion:
    """Suggested policies, as ``PolicySet`` objects, DSL code and YAML, with what they rest on.

    Attributes:
        granularity: ``"workload"`` or ``"namespace"``.
        namespaces: the namespaces given policies.
        flows: the allowed flows, one per workload (or namespace) pair, protocol and port.
        dns: records of DNS lookups covered by ``allow_dns()``, per namespace.
        selectors: the selector chosen for each workload named in a rule.
        notes: what the suggestion leaves out or could not do exactly.
        policy_sets: one ``PolicySet`` per namespace.
        check: the recording replayed against the suggestion (with the policies of namespaces
            it does not write); ``check.ok`` when it breaks nothing.

    Example:
        >>> Suggestion("workload").policies
        []
    """

    granularity: Granularity
    namespaces: tuple[str, ...] = ()
    flows: tuple[SuggestedFlow, ...] = ()
    dns: Mapping[str, int] = field(default_factory=dict)
    selectors: Mapping[str, WorkloadSelector] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    policy_sets: tuple[PolicySet, ...] = ()
    check: ReplayReport | None = None
    _code: str = field(default="", repr=False)
    _compiled: tuple[NetworkPolicy, ...] | None = field(default=None, repr=False, compare=False)

    @property
    def policies(self) -> list[NetworkPolicy]:
        """Every suggested NetworkPolicy, sorted by namespace and name.

        Example:
            >>> Suggestion("namespace").policies
            []
        """
        if self._compiled is not None:
            return list(self._compiled)
        return _compile(self.policy_sets)

    def to_yaml(self) -> str:
        """The policies as one multi-document YAML stream.

        Example:
            >>> Suggestion("workload").to_yaml()
            ''
        """
        return to_yaml(self.policies)

    def to_python(self) -> str:
        """The policies as a DSL module: readable, formatted (``ruff format``), importable,
        with a comment per flow saying how often it was seen; ``netpol render FILE.py`` renders
        it to the same YAML as `to_yaml`.

        Example:
            >>> Suggestion("workload").to_python().splitlines()[0][3:]
            'Least-privilege NetworkPolicies for recorded traffic, suggested by netpol-dsl.'
        """
        return self._code or _empty_module()


def suggest(
    flows: FlowLog | ResolvedFlows,
    cluster: Cluster,
    *,
    granularity: Granularity = "workload",
    namespaces: Iterable[str] | None = None,
    dns: bool = True,
    group_external: int | None = None,
    include_dropped: bool = False,
    check: bool = True,
) -> Suggestion:
    """Least-privilege policies that allow exactly the recorded traffic (see the module docs).

    Args:
        flows: the recording (``read_flows``), or one already matched against ``cluster``.
        cluster: the inventory (its pods and workloads; its policies are what the namespaces
            the suggestion does not write keep).
        granularity: ``"workload"`` or ``"namespace"``.
        namespaces: the namespaces to write policies for (default: those of the recorded pods,
            except ``kube-system``).
        dns: add ``allow_dns()`` to every namespace; recorded lookups to kube-dns are then
            counted there instead of getting flows of their own.
        group_external: group external addresses into networks of this many bits (IPv4; IPv6
            addresses into /64); None allows each address alone.
        include_dropped: also allow connections recorded only as ``DROPPED``.
        check: replay the recording against the suggestion (``Suggestion.check``).

    Raises:
        DslUsageError: a bad granularity or prefix, or ``kube-system`` among ``namespaces``.

    Example:
        >>> import io
        >>> from netpol_dsl.evaluate import Cluster, Pod
        >>> from netpol_dsl.flows import read_flows
        >>> c = Cluster(pods=[Pod("a", "web", {"app": "web"}), Pod("b", "db", {"app": "db"})])
        >>> s = suggest(read_flows(io.StringIO("a/web,b/db,5432,TCP\\na/web,8.8.8.8,443,TCP\\n")),
        ...             c, granularity="namespace", dns=False)
        >>> [str(f) for f in s.flows]
        ['a -> 8.8.8.8/32 TCP 443: 1 record', 'a -> b TCP 5432: 1 record']
    """
    if granularity not in ("workload", "namespace"):
        msg = f"suggest(): got granularity={granularity!r}; expected 'workload' or 'namespace'"
        raise DslUsageError(msg)
    if group_external is not None and (type(group_external) is not int
                                       or not 0 <= group_external <= 32):
        msg = (f"suggest(): got group_external={group_external!r}; expected a prefix length "
               "0..32 (IPv4; IPv6 addresses are grouped into /64)")
        raise DslUsageError(msg)
    resolved = flows if isinstance(flows, ResolvedFlows) else flows.resolve(cluster)
    return _Builder(cluster, resolved, granularity, dns, group_external, include_dropped
                    ).build(namespaces, check)


class _Builder:
    def __init__(self, cluster: Cluster, resolved: ResolvedFlows, granularity: Granularity,
                 dns: bool, group_external: int | None, include_dropped: bool) -> None:
        self.cluster = cluster
        self.resolved = resolved
        self.granularity = granularity
        self.dns = dns
        self.group_external = group_external
        self.include_dropped = include_dropped
        self.notes: list[str] = []
        self.workload_of: dict[str, Workload] = {}
        for w in cluster.workloads():
            for key in w.pods:
                self.workload_of[key] = w
        self.host_network = {p.key for p in cluster.pods if p.host_network}
        self.dns_pods = {p.key for p in cluster.select(KUBE_DNS)} if dns else set()
        self.selectors = _Selectors(cluster)
        self._made: dict[tuple[_Ref, str], Selector] = {}

    # -- what was seen -------------------------------------------------------------------

    def _ref(self, end: tuple[str, ...] | str) -> _Ref:
        if isinstance(end, str):
            ip = ipaddress.ip_address(end)
            prefix: int
            if self.group_external is None:
                prefix = ip.max_prefixlen
            else:
                prefix = self.group_external if ip.version == 4 else 64
            net = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
            return _Ref("cidr", str(net))
        w = self.workload_of[end[0]]
        if self.granularity == "namespace":
            return _Ref("namespace", w.namespace, w.namespace)
        return _Ref("workload", w.id, w.namespace)

    def observed(self) -> tuple[dict[tuple[_Ref, _Ref, str, int], list[Any]], Counter[str]]:
        seen: dict[tuple[_Ref, _Ref, str, int], list[Any]] = {}
        dns: Counter[str] = Counter()
        dns_sources: dict[str, set[str]] = {}
        self.dns_sources = dns_sources
        skipped: Counter[str] = Counter()
        for rf in self.resolved.flows:
            f = rf.flow
            weight = f.weight(include_dropped=self.include_dropped)
            if not weight:
                skipped["recorded only as dropped"] += f.dropped
                continue
            src, dst = rf.src, rf.dst
            if isinstance(src, str) and isinstance(dst, str):
                skipped["between two addresses outside the inventory"] += weight
                continue
            if src == dst and not isinstance(src, str) and len(src) == 1:
                continue  # a pod always reaches itself: nothing to allow
            if any(not isinstance(e, str) and any(k in self.host_network for k in e)
                   for e in (src, dst)):
                skipped["with a host-network pod (outside NetworkPolicy's reach)"] += weight
                continue
            if (self.dns and not isinstance(src, str) and not isinstance(dst, str)
                    and (f.protocol, f.port) in _DNS_PORTS
                    and all(k in self.dns_pods for k in dst)):
                ns = self.workload_of[src[0]].namespace
                dns[ns] += weight
                dns_sources.setdefault(ns, set()).add(self.workload_of[src[0]].id)
                continue
            key = (self._ref(src), self._ref(dst), f.protocol, f.port)
            entry = seen.get(key)
            if entry is None:
                seen[key] = [weight, 1, f.where]
            else:
                entry[0] += weight
                entry[1] += 1
        for reason, n in sorted(skipped.items()):
            self.notes.append(f"{n:,} record{'s' if n != 1 else ''} not allowed: {reason}")
        return seen, dns

    # -- building ------------------------------------------------------------------------

    def build(self, wanted: Iterable[str] | None, check: bool) -> Suggestion:
        seen, dns = self.observed()
        unresolved = self.resolved.unresolved
        if unresolved:
            n = sum(u.records for u in unresolved)
            self.notes.append(f"{n:,} record{'s' if n != 1 else ''} not allowed: "
                              f"{len(unresolved)} end{'s' if len(unresolved) != 1 else ''} "
                              "not in the inventory (see the replay report)")
        if wanted is None:
            names = {r.namespace for key in seen for r in key[:2] if r.kind != "cidr"}
            names.update(dns)
            if "kube-system" in names:
                names.discard("kube-system")
                self.notes.append("kube-system is not given policies: a default deny there cuts "
                                  "the cluster's DNS and add-ons off")
        else:
            names = set(wanted)
            if "kube-system" in names:
                msg = ("suggest(): got namespace 'kube-system'; expected application namespaces "
                       "(a default deny in kube-system cuts the cluster's DNS and add-ons off)")
                raise DslUsageError(msg)
        written = tuple(sorted(names))
        active = {r.namespace for key in seen for r in key[:2] if r.kind != "cidr"} | set(dns)
        for ns in written:
            if ns not in active:
                self.notes.append(f"{ns}: no recorded traffic; it gets a default deny "
                                  "(and DNS) only")
        flows: list[SuggestedFlow] = []
        plan: dict[str, list[_Stmt]] = {ns: [_Stmt("deny")] for ns in written}
        if self.dns:
            for ns in written:
                n = dns.get(ns, 0)
                who = len(self.dns_sources.get(ns, ()))
                comment = (f"DNS: {n:,} record{'s' if n != 1 else ''} from {who} "
                           f"workload{'s' if who != 1 else ''}" if n else None)
                if self.granularity == "namespace" and n:
                    comment = f"DNS: {n:,} record{'s' if n != 1 else ''}"
                plan[ns].append(_Stmt("dns", comment))
        selectors: dict[str, WorkloadSelector] = {}
        for ref in {r for key in seen for r in key[:2] if r.kind == "workload"}:
            selectors[ref.value] = self.selectors.of(self.cluster.workload(ref.value))
        names_in, names_eg = self._policy_names(seen, written, selectors)
        for key in sorted(seen, key=_order):
            src, dst, protocol, port = key
            records, connections, where = seen[key]
            s_ns = src.namespace if src.kind != "cidr" else None
            d_ns = dst.namespace if dst.kind != "cidr" else None
            s_in = s_ns in plan
            d_in = d_ns in plan
            if not s_in and not d_in:
                continue
            sf = SuggestedFlow(_label(src), _label(dst), protocol, port, records, connections,
                               where)
            flows.append(sf)
            comment = str(sf)
            n_in = names_in.get((d_ns, dst)) if d_in else None
            n_eg = names_eg.get((s_ns, src)) if s_in else None
            base = _Stmt("flow", comment, src, dst, protocol, port)
            if s_in and d_in and s_ns == d_ns:
                assert s_ns is not None
                if n_in is None and n_eg is None:
                    plan[s_ns].append(base)
                else:
                    plan[s_ns].append(_with(base, halves="ingress", name=n_in))
                    plan[s_ns].append(_with(base, comment=None, halves="egress", name=n_eg))
                continue
            if d_in:
                assert d_ns is not None
                plan[d_ns].append(_with(base, halves="both" if s_ns is None else "ingress",
                                        name=n_in))
            if s_in:
                assert s_ns is not None
                plan[s_ns].append(_with(base, halves="both" if d_ns is None else "egress",
                                        name=n_eg))
        for w, sel in sorted(selectors.items()):
            if sel.also_selects:
                self.notes.append(
                    f"{w}: no stable labels tell it apart from {', '.join(sel.also_selects)}; "
                    "its rules cover those pods too (give its pod template a label of its own)")
        sets = tuple(self._policy_set(ns, plan[ns], selectors) for ns in written)
        policies = tuple(_compile(sets))  # compiled once: every statement is checked here
        code = _Code(self, written, plan, selectors).module()
        report = None
        if check:
            kept = [p for p in self.cluster.policies
                    if getattr(p, "kind", "NetworkPolicy") != "NetworkPolicy"
                    or (getattr(p, "namespace", None) or "default") not in plan]
            # A fresh build: with_policies() is made for small changes, and is slower when
            # whole namespaces' policies are replaced.
            c = self.cluster
            after = type(c)(c.namespaces, c.pods, [*kept, *policies],
                            ipblock_matches_pod_ips=c.ipblock_matches_pod_ips, nodes=c.nodes,
                            services=c.services)
            label = (f"the suggestion ({len(policies)} policies in "
                     f"{len(written)} namespace{'s' if len(written) != 1 else ''})")
            report = replay(self.resolved, after, include_dropped=self.include_dropped,
                            policies=label)
        return Suggestion(self.granularity, written, tuple(flows), dict(sorted(dns.items())),
                          dict(sorted(selectors.items())), tuple(self.notes), sets, report, code,
                          policies)

    def _policy_names(self, seen: Mapping[tuple[_Ref, _Ref, str, int], Any],
                      written: tuple[str, ...], selectors: Mapping[str, WorkloadSelector]
                      ) -> tuple[dict[tuple[str | None, _Ref], str],
                                 dict[tuple[str | None, _Ref], str]]:
        """Explicit names for targets whose automatic policy names would clash (two selectors
        with the same slug, such as ``app=web`` and ``name=web``)."""
        out: list[dict[tuple[str | None, _Ref], str]] = []
        sides: tuple[tuple[PolicyType, int], ...] = (("Ingress", 1), ("Egress", 0))
        for direction, side in sides:
            targets: dict[tuple[str, str], dict[str, list[_Ref]]] = {}
            refs = {key[0] if side == 0 else key[1] for key in seen}
            for ref in sorted(refs, key=lambda r: (r.kind, r.value)):
                if ref.kind == "cidr" or ref.namespace not in written:
                    continue
                sel = self._selector(ref, ref.namespace, selectors)
                label_sel = sel.targets(home=ref.namespace)[0][1]
                auto = policy_name(direction, label_sel)
                canon = json.dumps(label_sel.to_dict(), sort_keys=True)
                targets.setdefault((ref.namespace, auto), {}).setdefault(canon, []).append(ref)
            names: dict[tuple[str | None, _Ref], str] = {}
            for (ns, auto), by_sel in targets.items():
                if len(by_sel) < 2:
                    continue
                for canon in sorted(by_sel)[1:]:
                    digest = hashlib.sha256(canon.encode()).hexdigest()[:8]
                    name = auto[:54].rstrip("-") + "-" + digest
                    for ref in by_sel[canon]:
                        names[(ns, ref)] = name
            out.append(names)
        return out[0], out[1]

    def _selector(self, ref: _Ref, home: str, selectors: Mapping[str, WorkloadSelector]
                  ) -> Selector:
        key = (ref, home)
        found = self._made.get(key)
        if found is None:
            found = self._made[key] = self._new_selector(ref, home, selectors)
        return found

    def _new_selector(self, ref: _Ref, home: str, selectors: Mapping[str, WorkloadSelector]
                      ) -> Selector:
        if ref.kind == "cidr":
            return ip_block(ref.value)
        if ref.kind == "namespace":
            return all_pods() if ref.value == home else namespace(ref.value)
        sel = selectors[ref.value].selector()
        return sel if ref.namespace == home else sel.in_namespace(ref.namespace)

    def _policy_set(self, ns: str, stmts: list[_Stmt],
                    selectors: Mapping[str, WorkloadSelector]) -> PolicySet:
        out: list[Statement] = []
        for st in stmts:
            if st.kind == "deny":
                out.append(deny_all())
            elif st.kind == "dns":
                out.append(allow_dns())
            else:
                assert st.src is not None and st.dst is not None
                flow: Flow = allow(self._selector(st.src, ns, selectors)).to(
                    self._selector(st.dst, ns, selectors)).on(_port(st.protocol, st.port))
                if st.halves == "ingress":
                    flow = flow.ingress_only()
                elif st.halves == "egress":
                    flow = flow.egress_only()
                if st.name is not None:
                    flow = flow.named(st.name)
                out.append(flow)
        # Built whole rather than with add(), which would compile every statement once more
        # to report errors at the call; these statements are checked when the set is compiled.
        return PolicySet(namespace=ns, statements=tuple(out))


def _compile(sets: Iterable[PolicySet]) -> list[NetworkPolicy]:
    return sorted((p for ps in sets for p in ps.compile()),
                  key=lambda p: (p.namespace or "", p.name))


def _with(st: _Stmt, **changes: Any) -> _Stmt:
    values = {f: getattr(st, f) for f in _Stmt.__dataclass_fields__}
    values.update(changes)
    return _Stmt(**values)


def _label(ref: _Ref) -> str:
    return ref.value


def _order(key: tuple[_Ref, _Ref, str, int]) -> tuple[str, str, str, int]:
    return (key[0].value, key[1].value, key[2], key[3])


def _port(protocol: str, port: int) -> Port:
    return {"TCP": tcp, "UDP": udp, "SCTP": sctp}[protocol](port)


# ------------------------------------------------------------------ code generation


_HEADER = '''"""Least-privilege NetworkPolicies for recorded traffic, suggested by netpol-dsl.

{what}

Review before applying: each flow below was seen in the recording (the comments say how often),
and nothing else is allowed but DNS where allow_dns() says so. Render with `netpol render`; check
with `netpol replay`.
"""'''


def _empty_module(what: str = "Nothing was recorded.") -> str:
    return (_HEADER.format(what=_wrap(what + " No namespace is given policies."))
            + "\n\npolicies: list[object] = []\n")


class _Code:
    """The suggestion as a formatted DSL module."""

    def __init__(self, builder: _Builder, written: tuple[str, ...],
                 plan: Mapping[str, list[_Stmt]], selectors: Mapping[str, WorkloadSelector]
                 ) -> None:
        self.b = builder
        self.written = written
        self.plan = plan
        self.selectors = selectors
        self.imports: set[str] = {"PolicySet"}
        self.names: dict[str, str] = {}  # workload id -> variable
        self.set_names: dict[str, str] = {}  # namespace -> variable
        self.qualified: dict[tuple[str, str], str] = {}  # (workload id, namespace) -> variable
        self._taken: set[str] = set()
        self._name_things()

    def _name_things(self) -> None:
        taken = self._taken
        taken.update({"allow", "allow_dns", "deny_all", "pods", "all_pods", "namespace",
                      "ip_block", "tcp", "udp", "sctp", "PolicySet", "DoesNotExist", "policies"})
        for ns in self.written:
            self.set_names[ns] = _identifier(ns, taken)
        short = {w: self._short_name(w) for w in self.selectors}
        by_name: Counter[str] = Counter(short.values())
        for w in sorted(self.selectors):
            ns = w.split("/", 1)[0]
            name = short[w]
            base = name if by_name[name] == 1 else f"{ns}_{name}"
            self.names[w] = _identifier(base, taken)

    def _short_name(self, workload: str) -> str:
        """A workload's name without the ``pod-template-hash`` a ReplicaSet's name ends with
        (``web-7d4b9c8f6`` is the Deployment ``web``'s)."""
        name = workload.split("/", 1)[1].split("[")[0]
        h = self.b.cluster.workload(workload).labels.get("pod-template-hash")
        if h and name.endswith(f"-{h}") and len(name) > len(h) + 1:
            return name[:-len(h) - 1]
        return name

    def _ref(self, ref: _Ref, home: str, *, short: bool = False) -> str:
        if ref.kind == "cidr":
            self.imports.add("ip_block")
            return f"ip_block({json.dumps(ref.value)})"
        if ref.kind == "namespace":
            if ref.value == home:
                self.imports.add("all_pods")
                return "all_pods()"
            self.imports.add("namespace")
            return f"namespace({json.dumps(ref.value)})"
        var = self.names[ref.value]
        if ref.namespace == home:
            return var
        if short:  # a variable of its own for the pods in the other namespace
            key = (ref.value, ref.namespace)
            if key not in self.qualified:
                self.qualified[key] = _identifier(f"{var}_{ref.namespace}", self._taken)
            return self.qualified[key]
        return f"{var}.in_namespace({json.dumps(ref.namespace)})"

    def _statement(self, st: _Stmt, home: str) -> list[str]:
        if st.kind == "deny":
            self.imports.add("deny_all")
            return ["    deny_all(),"]
        if st.kind == "dns":
            self.imports.add("allow_dns")
            return [f"    allow_dns(),  # {st.comment}" if st.comment else "    allow_dns(),"]
        assert st.src is not None and st.dst is not None
        self.imports.add("allow")
        proto = st.protocol.lower()
        self.imports.add(proto)
        tail = [f".on({proto}({st.port}))"]
        if st.halves == "ingress":
            tail.append(".ingress_only()")
        elif st.halves == "egress":
            tail.append(".egress_only()")
        if st.name is not None:
            tail.append(f".named({json.dumps(st.name)})")
        lines = [f"    # {st.comment}"] if st.comment else []
        parts = [f"allow({self._ref(st.src, home)})", f".to({self._ref(st.dst, home)})", *tail]
        flat = "    " + "".join(parts) + ","
        if len(flat) <= _LINE:
            return [*lines, flat]
        # One call per line (ruff's layout of a parenthesised call chain); a reference to pods
        # of another namespace too long for its line gets a variable of its own.
        for i, (name, ref) in enumerate((("allow", st.src), (".to", st.dst))):
            if len(f"        {parts[i]}") > _LINE:
                parts[i] = f"{name}({self._ref(ref, home, short=True)})"
        flat = "    " + "".join(parts) + ","
        if len(flat) <= _LINE:
            return [*lines, flat]
        return [*lines, "    (", *(f"        {p}" for p in parts), "    ),"]

    def module(self) -> str:
        if not self.written:
            return _empty_module(self._what())
        body: list[str] = []
        for ns in self.written:
            body.append("")
            head = f"{self.set_names[ns]} = PolicySet(namespace={json.dumps(ns)}).add("
            if len(head) <= _LINE:
                body.append(head)
            else:  # as ruff format splits it
                body += [f"{self.set_names[ns]} = PolicySet(", f"    namespace={json.dumps(ns)}",
                         ").add("]
            for st in self.plan[ns]:
                body.extend(self._statement(st, ns))
            body.append(")")
        body += ["", f"policies = [{', '.join(self.set_names[ns] for ns in self.written)}]"]
        if len("".join(body[-1])) > _LINE:
            body[-1:] = ["policies = [", *(f"    {self.set_names[ns]}," for ns in self.written),
                         "]"]
        defs: list[str] = []
        if self.selectors:
            defs += ["", "# Workloads. A bare pods(...) stands for pods of the PolicySet's own "
                     "namespace;", "# .in_namespace(...) names another one."]
        for w in sorted(self.selectors, key=lambda w: self.names[w]):
            sel = self.selectors[w]
            if sel.absent:
                self.imports.add("DoesNotExist")
            if not sel.labels and not sel.absent:
                self.imports.add("all_pods")
            else:
                self.imports.add("pods")
            var = self.names[w]
            defs.append(f"# {w}" + (f" (also selects {', '.join(sel.also_selects)})"
                                    if sel.also_selects else ""))
            flat = f"{var} = {sel.code()}"
            if len(flat) <= _LINE:
                defs.append(flat)
            else:
                lines = sel.code_lines()
                defs += [f"{var} = {lines[0]}", *lines[1:]]
        for (w, ns), qvar in sorted(self.qualified.items(), key=lambda kv: kv[1]):
            defs.append(f"# {w}, from other namespaces")
            flat = f"{qvar} = {self.names[w]}.in_namespace({json.dumps(ns)})"
            if len(flat) <= _LINE:
                defs.append(flat)
            else:
                defs += [f"{qvar} = {self.names[w]}.in_namespace(", f"    {json.dumps(ns)}", ")"]
        header = _HEADER.format(what=_wrap(self._what()))
        names = sorted(self.imports, key=lambda n: (not n[0].isupper(), n))
        imports = f"from netpol_dsl import {', '.join(names)}"
        if len(imports) > _LINE:
            imports = "from netpol_dsl import (\n" + "".join(f"    {n},\n" for n in names) + ")"
        return "\n".join([header, "", imports, *defs, *body]) + "\n"


    def _what(self) -> str:
        log = self.b.resolved.log
        return (f"Granularity: {self.b.granularity}. Recorded in "
                f"{', '.join(log.sources) or 'no file'}: {log.records:,} flow record"
                f"{'s' if log.records != 1 else ''}.")


def _wrap(text: str, width: int = _LINE) -> str:
    words = text.split()
    lines: list[str] = []
    line = ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return "\n".join(lines)


def _identifier(text: str, taken: set[str]) -> str:
    """A fresh Python identifier from a Kubernetes name (``api-server`` -> ``api_server``)."""
    # at most 30 characters (with a suffix, 33), so that every generated line fits in 100
    name = re.sub(r"\W+", "_", text.lower()).strip("_")[:30].rstrip("_") or "workload"
    if name[0].isdigit():
        name = f"w_{name}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or hasattr(builtins, name):
        name += "_"
    candidate = name
    n = 2
    while candidate in taken:
        candidate = f"{name}_{n}"
        n += 1
    taken.add(candidate)
    return candidate
