"""PolicySet: collect flows and baselines, compile them to a minimal, deterministic list of policies.

Compilation rules
-----------------

* **Namespace scope.** ``PolicySet(namespace="payments")`` is *home* for bare ``pods(...)`` and the
  only namespace it writes into: a half that would land elsewhere (e.g. the egress half of a flow
  from Prometheus in ``monitoring``) is an error at ``add()`` that says to write
  ``.ingress_only()``/``.egress_only()``. Each team writes its own side. ``PolicySet()`` without a
  namespace may write anywhere, but then every pod selector must name its namespace.
* **Merging.** Fragments with the same namespace and name become one object. Unnamed fragments
  are named after their target and direction (``allow-ingress-to-api-server``,
  ``allow-egress-from-frontend``), so flows sharing a target and direction merge, and adding or
  removing a flow never renames an object. ``Flow.named()`` and baseline ``name=`` override it.
* **Rules.** Within a policy, rules with the same ports merge their peers, rules with the same
  peers merge their ports; rules, peers, ports and label requirements are sorted. Statement order
  never changes the output, so GitOps diffs stay small.
* **kube-system.** A policy selecting pods in ``kube-system`` isolates them, which can cut the
  whole cluster's DNS; it is refused unless ``unsafe_kube_system=True`` (set or statement).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import types
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from typing_extensions import Self

from netpol_dsl import _coerce
from netpol_dsl.builder import Context, Fragment, Halves, Site, Statement
from netpol_dsl.errors import DslUsageError, InvalidPolicyError, RenderError
from netpol_dsl.model import (
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicySpec,
    ObjectMeta,
    PolicyType,
)
from netpol_dsl.model._clusterwide import ClusterPolicyBase
from netpol_dsl.model.clusterwide import ClusterWidePolicy
from netpol_dsl.model.selector import check_labels
from netpol_dsl.render import OutputFormat, file_name, to_yaml, write_policies

__all__ = ["PolicySet", "collect", "collect_objects", "file_name", "policy_name", "statement_sites"]

#: Label keys whose value alone names a workload well (``app=api-server`` -> ``api-server``).
_NAMING_KEYS = frozenset(
    {"app", "app.kubernetes.io/name", "k8s-app", "name", "component", "app.kubernetes.io/component"}
)
_NAME_MAX = 63  # shorter than the 253 allowed, so names stay readable in kubectl output
_HALVES = ("both", "ingress", "egress")


#: Each policy a PolicySet compiled -> the fragments merged into it, for as long as the policy
#: object lives; read by ``statement_sites``.
_ORIGINS: weakref.WeakKeyDictionary[NetworkPolicy, tuple[Fragment, ...]] = weakref.WeakKeyDictionary()


def statement_sites(policy: NetworkPolicy) -> dict[str, Site]:
    """Where the DSL statements behind a compiled policy were written, by field path.

    ``""`` is the policy (its first statement); ``spec.ingress[0]`` is a rule,
    ``spec.ingress[0].from[1]`` one of its peers and ``spec.ingress[0].ports[0]`` one of its
    ports, each mapped to the first statement that contributed it. Lint uses this to give a
    finding in a ``.py`` source the line of the statement. Empty for a policy that a
    ``PolicySet`` in this process did not compile (one loaded from YAML, say).

    Example:
        >>> from netpol_dsl import allow, deny_all, pods
        >>> ps = PolicySet(namespace="a").add(deny_all(), allow(pods(app="x")).to(pods(app="y")))
        >>> sites = statement_sites(ps.compile()[1])  # a/allow-ingress-to-y
        >>> sorted(sites), sites["spec.ingress[0].from[0]"][1] > 0
        (['', 'spec.ingress', 'spec.ingress[0]', 'spec.ingress[0].from[0]'], True)
    """
    sited = [(f.site, f) for f in _ORIGINS.get(policy, ()) if f.site is not None]
    if not sited:
        return {}
    out: dict[str, Site] = {"": sited[0][0]}

    def within(part: tuple[Any, ...] | None, whole: tuple[Any, ...] | None) -> bool:
        # None (absent) means "all"; merging only ever widens a rule's peers and ports.
        return whole is None or (part is not None and set(part) <= set(whole))

    def peers_of(rule: Any) -> tuple[Any, ...] | None:
        return rule.from_ if isinstance(rule, NetworkPolicyIngressRule) else rule.to

    for direction, key in (("ingress", "from"), ("egress", "to")):
        rules: tuple[Any, ...] = getattr(policy.spec, direction) or ()
        made: list[tuple[Site, Any]] = [(site, r) for site, f in sited
                                        for r in getattr(f, direction)]
        if not made or not rules:
            continue
        out[f"spec.{direction}"] = made[0][0]
        for i, rule in enumerate(rules):
            base = f"spec.{direction}[{i}]"
            peers, ports = peers_of(rule), rule.ports
            rule_site = next((site for site, r in made
                              if within(peers_of(r), peers) and within(r.ports, ports)),
                             made[0][0])
            out[base] = rule_site
            for j, peer in enumerate(peers or ()):
                out[f"{base}.{key}[{j}]"] = next(
                    (site for site, r in made
                     if peer in (peers_of(r) or ()) and within(r.ports, ports)), rule_site)
            for k, port in enumerate(ports or ()):
                out[f"{base}.ports[{k}]"] = next(
                    (site for site, r in made
                     if port in (r.ports or ()) and within(peers_of(r), peers)), rule_site)
    return out


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _slug(selector: LabelSelector) -> str:
    parts: list[str] = []
    for key, value in sorted((selector.match_labels or {}).items()):
        parts.append(value if key in _NAMING_KEYS and value else f"{key.rsplit('/', 1)[-1]}-{value}")
    for req in selector.match_expressions or ():
        parts.append("-".join([req.key.rsplit("/", 1)[-1], req.operator.lower(), *(req.values or ())]))
    text = re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")
    return text or "all-pods"


def policy_name(direction: PolicyType, pod_selector: LabelSelector) -> str:
    """The automatic name of the policy holding ``direction`` rules for ``pod_selector``.

    Readable and stable: it depends only on the target and direction, never on the flows, and
    is cut to 63 characters with a hash of the selector when longer.

    Example:
        >>> policy_name("Ingress", LabelSelector(match_labels={"app": "api-server"}))
        'allow-ingress-to-api-server'
        >>> policy_name("Egress", LabelSelector())
        'allow-egress-from-all-pods'
    """
    prefix = "allow-ingress-to-" if direction == "Ingress" else "allow-egress-from-"
    name = prefix + _slug(pod_selector)
    if len(name) > _NAME_MAX:
        digest = hashlib.sha256(_canonical(pod_selector.to_dict()).encode()).hexdigest()[:8]
        name = name[: _NAME_MAX - len(digest) - 1].rstrip("-") + "-" + digest
    return name


def _port_key(port: NetworkPolicyPort) -> tuple[str, int, int, str, int]:
    p = port.port
    if p is None:
        return (port.effective_protocol, 0, 0, "", 0)
    if isinstance(p, int):
        return (port.effective_protocol, 1, p, "", port.end_port or 0)
    return (port.effective_protocol, 2, 0, p, 0)


_P = TypeVar("_P")


def _union(groups: Iterable[tuple[_P, ...] | None], key: Callable[[_P], Any]) -> tuple[_P, ...] | None:
    """Union of lists where None (or empty) means 'all'; sorted and deduplicated."""
    seen: dict[Any, _P] = {}
    for g in groups:
        if not g:
            return None
        for item in g:
            seen.setdefault(key(item), item)
    return tuple(seen[k] for k in sorted(seen))


def _drop_covered(
    ports: tuple[NetworkPolicyPort, ...] | None,
) -> tuple[NetworkPolicyPort, ...] | None:
    """Drop ports that an every-port entry of the same protocol already allows."""
    if ports is None:
        return None
    whole = {p.effective_protocol for p in ports if p.port is None}
    return tuple(p for p in ports if p.port is None or p.effective_protocol not in whole)


def _peer_key(peer: NetworkPolicyPeer) -> str:
    return _canonical(peer.to_dict())


def _merge_rules(
    rules: Iterable[tuple[tuple[NetworkPolicyPeer, ...] | None, tuple[NetworkPolicyPort, ...] | None]],
) -> list[tuple[tuple[NetworkPolicyPeer, ...] | None, tuple[NetworkPolicyPort, ...] | None]]:
    """Merge rules exactly: same ports -> union of peers, then same peers -> union of ports."""

    def ports_id(ports: tuple[NetworkPolicyPort, ...] | None) -> Any:
        norm = _union([ports], _port_key)
        return None if norm is None else tuple(_port_key(p) for p in norm)

    def peers_id(peers: tuple[NetworkPolicyPeer, ...] | None) -> Any:
        norm = _union([peers], _peer_key)
        return None if norm is None else tuple(_peer_key(p) for p in norm)

    by_ports: dict[Any, list[Any]] = {}
    port_of: dict[Any, Any] = {}
    for peers, ports in rules:
        k = ports_id(ports)
        by_ports.setdefault(k, []).append(peers)
        port_of[k] = _union([ports], _port_key)
    stage = [(_union(ps, _peer_key), port_of[k]) for k, ps in by_ports.items()]
    by_peers: dict[Any, list[Any]] = {}
    peer_of: dict[Any, Any] = {}
    for peers, ports in stage:
        k = peers_id(peers)
        by_peers.setdefault(k, []).append(ports)
        peer_of[k] = peers
    merged = [(peer_of[k], _drop_covered(_union(ps, _port_key))) for k, ps in by_peers.items()]

    def order(rule: Any) -> str:
        peers, ports = rule
        return _canonical([[_port_key(p) for p in ports or ()], [p.to_dict() for p in peers or ()]])

    return sorted(merged, key=order)


def _pairs(value: object, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        msg = f"{where}: got {value!r} (type={type(value).__name__}); expected a mapping"
        raise DslUsageError(msg)
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            msg = f"{where}: got {k!r}: {v!r}; expected string keys and values"
            raise DslUsageError(msg)
    return tuple(sorted(value.items()))


def _merge_pairs(
    pairs: Iterable[tuple[tuple[str, str], ...]], what: str, where: str
) -> dict[str, str]:
    out: dict[str, str] = {}
    for group in pairs:
        for k, v in group:
            if out.setdefault(k, v) != v:
                msg = f"{where}: {what} {k!r} is set to both {out[k]!r} and {v!r}; expected one value"
                raise DslUsageError(msg)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySet(Statement):
    """An immutable collection of flows and baselines, optionally scoped to one namespace.

    Args:
        namespace: home of bare ``pods(...)``, and the only namespace written into.
            None: cluster-wide; every selector must then name its namespace.
        halves: the default halves of flows that do not choose (``"both"``, ``"ingress"``,
            ``"egress"``); ``"ingress"`` suits namespaces without egress isolation.
        labels: ``metadata.labels`` for every policy (pairs; see `with_labels`).
        annotations: ``metadata.annotations`` for every policy.
        unsafe_kube_system: allow policies that select pods in ``kube-system``.
        statements: what the set holds, in the order added (order does not affect output).

    Example:
        >>> from netpol_dsl import allow, pods, deny_all, allow_dns
        >>> ps = PolicySet(namespace="payments").add(
        ...     deny_all(), allow_dns(),
        ...     allow(pods(app="frontend")).to(pods(app="api-server")).on(8080),
        ... )
        >>> [p.name for p in ps.compile()]
        ['allow-dns-egress', 'allow-egress-from-frontend', 'allow-ingress-to-api-server', 'default-deny-all']
    """

    namespace: str | None = None
    halves: Halves = "both"
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    unsafe_kube_system: bool = False
    statements: tuple[Statement, ...] = ()

    def __post_init__(self) -> None:
        if self.namespace is not None:
            _coerce.namespace_name(self.namespace, "PolicySet()")
        if self.halves not in _HALVES:
            msg = f"PolicySet(): got halves={self.halves!r}; expected one of 'both', 'ingress', 'egress'"
            raise DslUsageError(msg)
        for s in self.statements:
            if not isinstance(s, Statement):
                msg = (
                    f"PolicySet(): got {s!r} (type={type(s).__name__}); expected a flow such as "
                    "allow(a).to(b), a baseline such as deny_all(), or a PolicySet"
                )
                raise DslUsageError(msg)
        issues = check_labels(dict(self.labels), "labels")
        if issues:
            raise InvalidPolicyError(issues=issues, source="PolicySet()")

    def add(self, *statements: Statement) -> Self:
        """A new set with ``statements`` added; each is compiled now, so errors point here.

        Accepts flows, baselines and other PolicySets (which keep their own namespace).

        Raises:
            DslUsageError: not a statement (e.g. an unfinished ``allow(a)``), a half outside
                the set's namespace, or a policy in kube-system.
            UnrepresentableError: a flow Kubernetes cannot express.

        Example:
            >>> from netpol_dsl import allow, pods
            >>> base = PolicySet(namespace="a")
            >>> bigger = base.add(allow(pods(app="x")).to(pods(app="y")))
            >>> len(base.statements), len(bigger.statements)
            (0, 1)
        """
        for s in statements:
            if not isinstance(s, Statement):
                hint = ""
                if type(s).__name__ == "AllowFrom":
                    hint = ". An allow(...) needs .to(...) to be a flow"
                msg = (
                    f"add(): got {s!r} (type={type(s).__name__}); expected a flow such as "
                    f"allow(a).to(b), a baseline such as deny_all(), or a PolicySet{hint}"
                )
                raise DslUsageError(msg)
        new = dataclasses.replace(self, statements=self.statements + tuple(statements))
        for s in statements:
            new._checked(s)
        new._policies()  # name clashes between statements surface here, at the add() call
        return new

    def with_labels(self, labels: Mapping[str, str] | None = None, /, **more: str) -> Self:
        """A new set whose policies carry these labels too.

        Raises:
            InvalidPolicyError: a label Kubernetes would reject.

        Example:
            >>> PolicySet(namespace="a").with_labels(team="payments").labels
            (('team', 'payments'),)
        """
        merged = dict(self.labels) | dict(_pairs(labels or {}, "with_labels()")) | more
        return dataclasses.replace(self, labels=_pairs(merged, "with_labels()"))

    def with_annotations(self, annotations: Mapping[str, str] | None = None, /, **more: str) -> Self:
        """A new set whose policies carry these annotations too.

        Example:
            >>> PolicySet().with_annotations({"owner": "payments@example.com"}).annotations
            (('owner', 'payments@example.com'),)
        """
        merged = dict(self.annotations) | dict(_pairs(annotations or {}, "with_annotations()")) | more
        return dataclasses.replace(self, annotations=_pairs(merged, "with_annotations()"))

    # -- compilation --------------------------------------------------------------

    def _context(self) -> Context:
        return Context(namespace=self.namespace, halves=self.halves)

    def _checked(self, statement: Statement) -> tuple[Fragment, ...]:
        frags = statement.fragments(self._context())
        for f in frags:
            if self.namespace is not None and f.namespace != self.namespace:
                half = "/".join(t.lower() for t in f.policy_types)
                fix = {
                    "ingress": "Write .egress_only() to emit only the source's side",
                    "egress": "Write .ingress_only() to emit only the destination's side",
                }.get(half, "Add it to a PolicySet for that namespace")
                msg = (
                    f"{f.origin}: its {half} policy belongs in namespace {f.namespace!r}, outside "
                    f"PolicySet(namespace={self.namespace!r}). {fix}, or add it to PolicySet() "
                    "without a namespace to write every side"
                )
                raise DslUsageError(msg)
            if f.namespace == "kube-system" and not (f.unsafe_kube_system or self.unsafe_kube_system):
                msg = (
                    f"{f.origin}: would select pods in kube-system, which isolates them: every "
                    "client not listed (cluster DNS for every namespace, the control plane's "
                    "add-ons) is cut off. Use .egress_only() for traffic *to* kube-system, or "
                    "PolicySet(unsafe_kube_system=True) if you really mean it"
                )
                raise DslUsageError(msg)
        extra_labels = self.labels
        extra_annotations = self.annotations
        site = getattr(statement, "site", None)
        return tuple(
            dataclasses.replace(
                f,
                labels=extra_labels + f.labels,
                annotations=extra_annotations + f.annotations,
                unsafe_kube_system=f.unsafe_kube_system or self.unsafe_kube_system,
                site=f.site or site,
            )
            for f in frags
        )

    def fragments(self, ctx: Context) -> tuple[Fragment, ...]:
        """Every fragment of the set, compiled with the set's own namespace and defaults.

        A nested set ignores the outer ``ctx``: it keeps its own namespace and halves.

        Example:
            >>> from netpol_dsl import deny_all
            >>> inner = PolicySet(namespace="a").add(deny_all())
            >>> [f.namespace for f in inner.fragments(Context(namespace="b"))]
            ['a']
        """
        out: list[Fragment] = []
        for s in self.statements:
            out.extend(self._checked(s))
        return tuple(out)

    def _policies(self) -> list[NetworkPolicy]:
        groups: dict[tuple[str, str], list[Fragment]] = {}
        for f in self.fragments(self._context()):
            if f.name is not None:
                name = f.name
            elif len(f.policy_types) == 1:
                name = policy_name(f.policy_types[0], f.pod_selector)
            else:
                name = "allow-" + _slug(f.pod_selector)
            groups.setdefault((f.namespace, name), []).append(f)
        out = []
        for (ns, name), frags in groups.items():
            policy = self._policy(ns, name, frags)
            _ORIGINS[policy] = tuple(frags)
            out.append(policy)
        return sorted(out, key=lambda p: (p.namespace or "", p.name))

    def _policy(self, ns: str, name: str, frags: list[Fragment]) -> NetworkPolicy:
        target = frags[0].pod_selector
        for f in frags[1:]:
            if f.pod_selector != target:
                msg = (
                    f"two policies named {name!r} in namespace {ns!r} select different pods "
                    f"({_canonical(target.to_dict())} from {frags[0].origin} and "
                    f"{_canonical(f.pod_selector.to_dict())} from {f.origin}); give one of "
                    "them another name with .named(...) or name=..."
                )
                raise DslUsageError(msg)
        types_: tuple[PolicyType, ...] = ("Ingress", "Egress")
        present = tuple(t for t in types_ if any(t in f.policy_types for f in frags))
        ingress = _merge_rules(
            (r.from_, r.ports) for f in frags for r in f.ingress
        )
        egress = _merge_rules((r.to, r.ports) for f in frags for r in f.egress)
        where = f"policy {ns}/{name}"
        labels = _merge_pairs((f.labels for f in frags), "label", where)
        annotations = _merge_pairs((f.annotations for f in frags), "annotation", where)
        return NetworkPolicy(
            metadata=ObjectMeta(
                name=name,
                namespace=ns,
                labels=labels or None,
                annotations=annotations or None,
            ),
            spec=NetworkPolicySpec(
                pod_selector=target,
                policy_types=present,
                ingress=tuple(NetworkPolicyIngressRule(from_=p, ports=q) for p, q in ingress)
                or None,
                egress=tuple(NetworkPolicyEgressRule(to=p, ports=q) for p, q in egress) or None,
            ),
        )

    def compile(self, namespace: str | None = None) -> list[NetworkPolicy]:
        """The policies, sorted by namespace then name; the same set always gives the same list.

        ``namespace`` is accepted for symmetry with ``Statement.compile`` and must be None or the
        set's own namespace.

        Raises:
            DslUsageError: two different targets would get the same name.

        Example:
            >>> from netpol_dsl import deny_all
            >>> [p.key for p in PolicySet(namespace="a").add(deny_all()).compile()]
            ['a/default-deny-all']
        """
        if namespace is not None and namespace != self.namespace:
            msg = (
                f"compile(): got namespace={namespace!r}; expected the set's own "
                f"({self.namespace!r}). Set it with PolicySet(namespace=...)"
            )
            raise DslUsageError(msg)
        return self._policies()

    def to_yaml(self) -> str:
        """Every policy as one multi-document YAML stream, deterministic to the byte.

        Example:
            >>> from netpol_dsl import deny_all
            >>> print(PolicySet(namespace="a").add(deny_all(direction="ingress")).to_yaml(), end="")
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: default-deny-ingress
              namespace: a
            spec:
              podSelector: {}
              policyTypes:
              - Ingress
        """
        return to_yaml(self.compile())

    def write(self, directory: str | Path, *, format: OutputFormat = "yaml",
              prune: bool = False) -> list[Path]:
        """Write one file per policy into ``directory`` (created if missing).

        Files are named ``<namespace>.<name>.yaml`` (``file_name``), so a policy keeps its file
        across runs. Writing is atomic per file and never follows a symlink; the directory's
        ``.netpol-dsl-files`` lists what was written (see ``netpol_dsl.render.write_policies``).
        Files of policies no longer in the set are left alone unless ``prune=True``, which
        removes those this tool wrote and nobody edited since, and nothing else.

        Args:
            directory: where to write.
            format: ``"yaml"`` (default) or ``"json"``.
            prune: remove files written earlier that this set no longer produces.

        Returns:
            The paths written, in `compile` order.

        Raises:
            RenderError: a symlink or directory where a file would go, or an unreadable record.

        Example:
            >>> import tempfile
            >>> from netpol_dsl import deny_all
            >>> with tempfile.TemporaryDirectory() as d:
            ...     [p.name for p in PolicySet(namespace="a").add(deny_all()).write(d)]
            ['a.default-deny-all.yaml']
        """
        return list(write_policies(self.compile(), directory, format=format, prune=prune).files)

    def __len__(self) -> int:
        return len(self.statements)

    def __repr__(self) -> str:
        args: list[str] = []
        if self.namespace is not None:
            args.append(f"namespace={self.namespace!r}")
        if self.halves != "both":
            args.append(f"halves={self.halves!r}")
        if self.unsafe_kube_system:
            args.append("unsafe_kube_system=True")
        text = f"PolicySet({', '.join(args)})"
        if self.labels:
            text += f".with_labels({dict(self.labels)!r})"
        if self.annotations:
            text += f".with_annotations({dict(self.annotations)!r})"
        if self.statements:
            text += f".add({', '.join(map(repr, self.statements))})"
        return text


# ------------------------------------------------------------------ collect


def collect(source: object) -> list[NetworkPolicy]:
    """Every NetworkPolicy a Python module (or object) defines.

    What `collect_objects` finds, without the cluster-wide policies (the commands that read
    NetworkPolicies only). See there for the convention.

    Raises:
        DslUsageError: nothing to collect, or an object of another kind.
        RenderError: two different policies share a ``namespace/name``.

    Example:
        >>> from netpol_dsl import deny_all
        >>> ps = PolicySet(namespace="a").add(deny_all())
        >>> [p.key for p in collect({"policies": ps, "_ignored": 1})]
        ['a/default-deny-all']
    """
    return [p for p in collect_objects(source) if isinstance(p, NetworkPolicy)]


def collect_objects(source: object) -> list[NetworkPolicy | ClusterWidePolicy]:
    """Every policy a Python module (or object) defines, cluster-wide ones included, for
    ``netpol render``.

    The convention, in order:

    1. A module, or its namespace mapping (``vars(module)``), with a ``policies`` attribute:
       only ``policies`` is collected.
    2. Otherwise every public (not ``_``-prefixed) attribute that is a ``PolicySet``, a
       ``NetworkPolicy``, a cluster-wide policy (``admin(...)``/``baseline(...)`` from
       ``netpol_dsl.admin``, ``cluster_default_deny()``, or an AdminNetworkPolicy,
       BaselineAdminNetworkPolicy or ClusterNetworkPolicy object), or a list/tuple of those.
    3. A ``PolicySet`` or statement compiles; a policy object is itself; a cluster-wide
       builder renders its model (``to_model()``: v1alpha2 ClusterNetworkPolicy; build the
       v1alpha1 kinds with ``to_model("v1alpha1")``); a list/tuple collects each item; a
       zero-argument callable (a ``module:function`` target) is called and its result collected.

    The NetworkPolicies come first, sorted by namespace and name, then the cluster-wide
    policies, sorted by kind and name. The same policy reached twice is kept once; two different
    policies with one ``namespace/name`` (one kind and name for cluster-wide ones) are an error.

    Raises:
        DslUsageError: nothing to collect, or an object of another kind.
        RenderError: two different policies share a name.

    Example:
        >>> from netpol_dsl import deny_all
        >>> from netpol_dsl import ip_block
        >>> from netpol_dsl.admin import admin
        >>> guard = admin("guardrails", priority=10).deny_to(ip_block("0.0.0.0/0"))
        >>> [(p.kind, p.key) for p in collect_objects({"ps": PolicySet(namespace="a").add(deny_all()),
        ...                                            "guard": guard})]
        [('NetworkPolicy', 'a/default-deny-all'), ('ClusterNetworkPolicy', 'guardrails')]
    """
    found = _collect(source, depth=0)
    by_key: dict[tuple[str, str, str], NetworkPolicy | ClusterWidePolicy] = {}
    for p in found:
        if isinstance(p, NetworkPolicy):
            key = ("", p.namespace or "", p.name)
            what = f"policies are named {p.key!r}"
        else:
            key = (p.kind, "", p.name)
            what = f"{p.kind} objects are named {p.name!r}"
        if by_key.setdefault(key, p) != p:
            msg = f"collect(): two different {what}; expected unique names"
            raise RenderError(msg)
    return [by_key[k] for k in sorted(by_key)]


def _cluster_wide(source: object) -> list[ClusterWidePolicy] | None:
    """The models of a cluster-wide policy or builder; None for anything else."""
    from netpol_dsl.admin import ClusterDefaultDeny, ClusterPolicy

    if isinstance(source, ClusterPolicyBase):
        return [source]  # type: ignore[list-item]  # the three kinds are its only subclasses
    if isinstance(source, ClusterPolicy):
        return [source.to_model()]
    if isinstance(source, ClusterDefaultDeny):
        return list(source.to_models())
    return None


def _collect(source: object, depth: int) -> list[NetworkPolicy | ClusterWidePolicy]:
    if depth > 4:
        msg = f"collect(): {source!r} nests too deeply; expected policies, sets or lists of them"
        raise DslUsageError(msg)
    if isinstance(source, NetworkPolicy):
        return [source]
    if isinstance(source, Statement):
        return list(source.compile())
    cluster = _cluster_wide(source)
    if cluster is not None:
        return list(cluster)
    if isinstance(source, types.ModuleType):
        return _collect_namespace(vars(source), getattr(source, "__name__", "module"))
    if isinstance(source, Mapping):
        return _collect_namespace(source, "namespace")
    if isinstance(source, (list, tuple)):
        return [p for item in source for p in _collect(item, depth + 1)]
    if callable(source) and not isinstance(source, type):
        return _collect(source(), depth + 1)
    msg = (
        f"collect(): got {source!r} (type={type(source).__name__}); expected a PolicySet, a "
        "NetworkPolicy, a cluster-wide policy, a list of those, a function returning one, or a "
        "module defining `policies`"
    )
    raise DslUsageError(msg)


def _collectable(value: object) -> bool:
    def one(v: object) -> bool:
        return isinstance(v, (PolicySet, NetworkPolicy)) or _cluster_wide_type(v)

    if one(value):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and all(one(v) for v in value)


def _cluster_wide_type(value: object) -> bool:
    from netpol_dsl.admin import ClusterDefaultDeny, ClusterPolicy

    return isinstance(value, (ClusterPolicyBase, ClusterPolicy, ClusterDefaultDeny))


def _collect_namespace(ns: Mapping[Any, Any], what: str) -> list[NetworkPolicy | ClusterWidePolicy]:
    if "policies" in ns:
        return _collect(ns["policies"], depth=1)
    values = [v for k, v in ns.items() if isinstance(k, str) and not k.startswith("_") and _collectable(v)]
    if not values:
        msg = (
            f"collect(): {what} defines no policies; expected a module-level `policies` "
            "(a PolicySet) or PolicySet / NetworkPolicy / cluster-wide policy attributes"
        )
        raise DslUsageError(msg)
    return [p for v in values for p in _collect(v, depth=1)]
