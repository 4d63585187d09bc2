"""YAML/JSON -> model. Safe loading only; every problem reported with file and line."""

from __future__ import annotations

import datetime
import difflib
import importlib
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from netpol_dsl import _rules, _yaml
from netpol_dsl._gc import gc_paused
from netpol_dsl.errors import InvalidPolicyError, Issue, LoadError
from netpol_dsl.model import NetworkPolicy, NetworkPolicyPeer
from netpol_dsl.model._base import Context

__all__ = [
    "KINDS",
    "Duplicate",
    "KindLoader",
    "KindSpec",
    "LoadOptions",
    "Manifest",
    "Manifests",
    "Resource",
    "classify",
    "cluster_kinds",
    "from_client_object",
    "load_manifests",
    "load_policy",
    "parse_documents",
    "register_kind",
]

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

# The limits and readers live in _yaml; these names stay for callers of the loader.
MAX_EXPANDED_NODES = _yaml.MAX_EXPANDED_NODES
MAX_DEPTH = _yaml.MAX_DEPTH
_Loader = _yaml._Loader
_Doc = _yaml.Doc


def _decode(raw: bytes, where: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        msg = f"{where}: got UTF-16 text; expected UTF-8 (re-save the file as UTF-8)"
        raise LoadError(msg, source=where)
    if b"\x00" in raw[:8192]:
        msg = f"{where}: got binary data; expected YAML or JSON text (UTF-8)"
        raise LoadError(msg, source=where)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        msg = f"{where}: got bytes that are not UTF-8 (at byte {err.start}); expected UTF-8 text"
        raise LoadError(msg, source=where) from None


def _parse_text(text: str, where: str,
                on_duplicate: _yaml.OnDuplicate | None = None) -> list[_yaml.Doc]:
    """The documents of YAML text (empty ones dropped); see `netpol_dsl._yaml.parse_yaml`."""
    return [d for d in _yaml.parse_yaml(text, where, on_duplicate=on_duplicate)
            if d.data is not None]


def _parse_json(text: str, where: str) -> list[_yaml.Doc]:
    return _yaml.parse_json(text, where)


def parse_documents(text: str, where: str = "<text>") -> list[Any]:
    """Parse YAML (or JSON) text into plain Python documents, safely.

    Duplicate keys, alias bombs and Python tags are refused with a ``LoadError``.

    Example:
        >>> parse_documents("a: 1\\n---\\nb: 2\\n")
        [{'a': 1}, {'b': 2}]
        >>> parse_documents("a: 1\\na: 2\\n")
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.LoadError: <text>:2: got duplicate key 'a' (first at line 1); expected each key once in a mapping. YAML would silently keep only the last one
    """
    return [d.data for d in _parse_text(text, where)]


# --------------------------------------------------------------------------- objects


class Manifest:
    """One Kubernetes object read from input, with where it came from.

    ``line`` is the line the object starts on and `line_of` the line of a field in it.
    For objects read the fast way (large files), lines inside them are computed when first
    asked for, by reading that one document again with the line-recording reader.

    Example:
        >>> m = Manifest({"kind": "Pod", "metadata": {"name": "a"}}, "pods.yaml", 3)
        >>> m.kind, m.where
        ('Pod', 'pods.yaml:3')
    """

    __slots__ = ("_line", "_located", "_path", "data", "file", "lines")

    data: Mapping[str, Any]
    file: str | None
    lines: Mapping[int, Any]
    _line: int | None
    _located: _yaml.Lines | None
    _path: tuple[str | int, ...]

    def __init__(self, data: Mapping[str, Any], file: str | None = None,
                 line: int | None = None, lines: Mapping[int, Any] | None = None, *,
                 located: _yaml.Lines | None = None, path: tuple[str | int, ...] = ()) -> None:
        set_ = object.__setattr__
        set_(self, "data", data)
        set_(self, "file", file)
        set_(self, "_line", line)
        set_(self, "lines", {} if lines is None else lines)
        set_(self, "_located", located)
        set_(self, "_path", path)

    def __setattr__(self, name: str, value: Any) -> None:
        msg = f"Manifest is immutable; got an assignment to {name!r}"
        raise AttributeError(msg)

    def __repr__(self) -> str:
        return f"Manifest({self.data!r}, {self.file!r}, {self.line!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Manifest):
            return NotImplemented
        return (self.data, self.file, self.line) == (other.data, other.file, other.line)

    __hash__ = None  # type: ignore[assignment]

    @property
    def kind(self) -> str:
        """The object's ``kind`` (empty when missing).

        Example:
            >>> Manifest({"kind": "Namespace"}).kind
            'Namespace'
        """
        kind = self.data.get("kind")
        return kind if isinstance(kind, str) else ""

    @property
    def line(self) -> int | None:
        """The line the object starts on, when it came from a file or text.

        Example:
            >>> load_manifests("# pods\\nkind: Pod\\nmetadata: {name: a}\\n").objects[0].line
            2
        """
        if self._line is None and self._located is not None:
            object.__setattr__(self, "_line", self._line_in_document(()))
        return self._line

    @property
    def where(self) -> str | None:
        """``file:line`` of the object's first line, when it came from a file.

        Example:
            >>> Manifest({}, None).where is None
            True
        """
        if self.file is None:
            return None
        line = self.line
        return f"{self.file}:{line}" if line else self.file

    def line_of(self, path: str) -> int | None:
        """The line of a field path inside this object, as near as is known.

        Example:
            >>> m = load_manifests("kind: Pod\\nmetadata:\\n  name: a\\n").objects[0]
            >>> m.line_of("metadata.name")
            3
        """
        parts = tuple(_split_path(path))
        if self._located is not None:
            return self._line_in_document(parts)
        return _walk_lines(self.data, self.lines, parts, self.line)[1]

    def _line_in_document(self, parts: tuple[str | int, ...]) -> int | None:
        assert self._located is not None
        data, tables = self._located.tables()
        if not tables:
            return self._line
        node, own = _walk_lines(data, tables, self._path, None)
        if self._line is not None:
            own = self._line
        return _walk_lines(node, tables, parts, own)[1]


def _walk_lines(node: Any, tables: Mapping[int, Any], parts: tuple[str | int, ...],
                line: int | None) -> tuple[Any, int | None]:
    """Follow ``parts`` from ``node``: the deepest node found, and the line of its key or item
    (``line`` when none of the parts is found)."""
    for part in parts:
        table = tables.get(id(node))
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                break
            if isinstance(table, list) and part < len(table):
                line = table[part]
        else:
            if not isinstance(node, dict) or part not in node:
                break
            if isinstance(table, dict) and part in table:
                line = table[part]
        node = node[part]
    return node, line


def _split_path(path: str) -> Iterator[str | int]:
    for chunk in path.split("."):
        if not chunk:
            continue
        name, _, rest = chunk.partition("[")
        if name:
            yield name
        while rest:
            idx, _, rest = rest.partition("]")
            if idx.isdigit():
                yield int(idx)
            rest = rest.removeprefix("[")


def _policy_label(data: Mapping[str, Any]) -> str | None:
    meta = data.get("metadata")
    if not isinstance(meta, Mapping):
        return None
    name, ns = meta.get("name"), meta.get("namespace")
    if not isinstance(name, str):
        return None
    return f"{ns}/{name}" if isinstance(ns, str) and ns else name


def _validate(
    data: Any,
    *,
    lenient_cidr: bool,
    source: str | None,
    lenient_names: bool = False,
    require_namespace: bool = False,
    namespace: str | None = None,
) -> tuple[NetworkPolicy, list[Issue]]:
    if not isinstance(data, Mapping):
        msg = (f"got {type(data).__name__}; expected a NetworkPolicy mapping "
               "(an API-shaped dict, or a kubernetes client V1NetworkPolicy)")
        raise InvalidPolicyError(msg, source=source)
    extra: list[Issue] = []
    data = dict(data)
    # networking/v1 NetworkPolicy had a `status` (1.24-1.27; `kubectl get -o yaml` prints
    # `status: {}`). The API server resets status on create, so it is read and dropped.
    if isinstance(data.get("status"), Mapping):
        del data["status"]
    if namespace is not None:
        meta = data.get("metadata")
        if isinstance(meta, Mapping):
            given = meta.get("namespace")
            if not given:
                data["metadata"] = {**meta, "namespace": namespace}
            elif given != namespace:
                # apiserver rest.BeforeCreate: the object's namespace must match the request's.
                extra.append(Issue("metadata.namespace", given,
                                   f"the request namespace {namespace!r}",
                                   hint="the namespace of the object does not match the "
                                        "namespace it is loaded into"))
        elif meta is None:
            data["metadata"] = {"namespace": namespace}
    ctx = Context(
        lenient_cidr=lenient_cidr, lenient_names=lenient_names,
        require_namespace=require_namespace, wire_names_only=True,
    )
    try:
        policy = NetworkPolicy.model_validate(
            data, context={"netpol": ctx}, by_alias=True, by_name=False
        )
    except InvalidPolicyError as err:
        raise InvalidPolicyError(issues=[*err.issues, *extra], source=source) from None
    if extra:
        raise InvalidPolicyError(issues=extra, source=source)
    warnings = _cidr_warnings(policy) if lenient_cidr else []
    if lenient_names:
        warnings.extend(
            Issue("metadata.name", policy.name, msg,
                  hint="Kept as written; today's API server would refuse this name")
            for msg in _rules.dns1123_subdomain(policy.name)
        )
    return policy, warnings


def _cidr_warnings(policy: NetworkPolicy) -> list[Issue]:
    out: list[Issue] = []
    spec = policy.spec
    rules: list[tuple[str, tuple[NetworkPolicyPeer, ...] | None]] = [
        (f"spec.ingress[{i}].from", r.from_) for i, r in enumerate(spec.ingress or ())
    ] + [(f"spec.egress[{i}].to", r.to) for i, r in enumerate(spec.egress or ())]
    for where, peers in rules:
        for j, peer in enumerate(peers or ()):
            if peer.ip_block is not None:
                prefix = f"{where}[{j}].ipBlock"
                out.extend(w.with_prefix(prefix) for w in peer.ip_block.cidr_warnings())
    return out


def _is_client_model(obj: Any) -> bool:
    # The official client's generated models (kubernetes.client.V1NetworkPolicy, ...) carry
    # ``openapi_types`` (attribute -> type) and ``attribute_map`` (attribute -> wire name).
    return (
        not isinstance(obj, (Mapping, str, bytes, type))
        and isinstance(getattr(obj, "openapi_types", None), Mapping)
        and isinstance(getattr(obj, "attribute_map", None), Mapping)
    )


def from_client_object(obj: Any) -> Any:
    """Convert an official ``kubernetes`` client model to its API-shaped (camelCase) dict.

    Duck-typed on ``openapi_types``/``attribute_map`` (``kubernetes`` is not imported), this
    does what ``ApiClient().sanitize_for_serialization(obj)`` does: wire names, ``None``
    dropped, dates in ISO format. Other values are returned as they are, lists and dicts
    converted item by item. Do not use the client's ``to_dict()``: its keys are snake_case
    (``pod_selector``), which the API (and ``load_policy``) does not accept.

    Example:
        >>> class V1IPBlock:  # the shape of kubernetes.client.V1IPBlock
        ...     openapi_types = {"cidr": "str", "_except": "list[str]"}
        ...     attribute_map = {"cidr": "cidr", "_except": "except"}
        ...     def __init__(self, cidr, _except=None):
        ...         self.cidr, self._except = cidr, _except
        >>> from_client_object(V1IPBlock("10.0.0.0/8"))
        {'cidr': '10.0.0.0/8'}
    """
    if _is_client_model(obj):
        out: dict[str, Any] = {}
        for attr in obj.openapi_types:
            wire = obj.attribute_map.get(attr, attr)
            value = getattr(obj, attr, None)
            if value is not None:
                out[wire] = from_client_object(value)
        if "kind" in obj.attribute_map.values():
            _fill_type_meta(type(obj).__name__, out)
        return out
    if isinstance(obj, (list, tuple)):
        return [from_client_object(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: from_client_object(v) for k, v in obj.items()}
    if isinstance(obj, (datetime.datetime, datetime.date)):
        return obj.isoformat()
    return obj


#: API groups of the kinds netpol-dsl reads, to name objects the API returned without a kind
#: (items of a list response carry neither ``kind`` nor ``apiVersion``).
_GROUPS = {"NetworkPolicy": "networking.k8s.io", "Namespace": "", "Pod": "", "Deployment": "apps",
           "ReplicaSet": "apps", "StatefulSet": "apps", "DaemonSet": "apps", "Job": "batch",
           "CronJob": "batch", "ReplicationController": ""}
_CLIENT_CLASS = re.compile(r"(V[0-9]+(?:alpha[0-9]+|beta[0-9]+)?)([A-Z][A-Za-z0-9]*)")


def _fill_type_meta(class_name: str, out: dict[str, Any]) -> None:
    # kubernetes.client names classes <Version><Kind>: V1NetworkPolicy, V1NetworkPolicyList.
    m = _CLIENT_CLASS.fullmatch(class_name)
    if m is None or "kind" in out:
        return
    version, kind = m.group(1).lower(), m.group(2)
    group = _GROUPS.get(kind.removesuffix("List"))
    if group is None:
        return
    out["kind"] = kind
    out.setdefault("apiVersion", f"{group}/{version}" if group else version)


def load_policy(
    obj: Mapping[str, Any] | NetworkPolicy | Any,
    *,
    namespace: str | None = None,
    lenient_cidr: bool = False,
    lenient_names: bool = False,
) -> NetworkPolicy:
    """Load one API-shaped NetworkPolicy, validated as kube-apiserver validates it on create.

    Defaulting happens as upstream's does before validation (``protocol`` TCP, ``policyTypes``
    from the rules; see ``effective_protocol`` and ``effective_policy_types``), and JSON
    ``null`` reads as Go's zero value. Every problem is reported, not just the first.

    Args:
        obj: a dict in the API's shape (camelCase keys), e.g. from ``yaml.safe_load`` or the
            official client's ``ApiClient().sanitize_for_serialization(obj)``; or a client
            model object such as ``kubernetes.client.V1NetworkPolicy`` itself.
        namespace: the namespace of the request, as ``kubectl -n`` gives it: it fills in a
            missing ``metadata.namespace``, and a different one is an error. Without it a
            missing namespace is an error, as ``ValidateObjectMeta`` requires one.
        lenient_cidr: accept CIDRs that older API servers stored (``10.0.1.1/4`` meaning
            ``0.0.0.0/4``), as evaluation of live objects needs; authoring stays strict.
        lenient_names: accept a name today's API server refuses (``allow_web``), as evaluation
            of hand-written files may need; a name does not change what a policy allows.

    Returns:
        The frozen ``NetworkPolicy``.

    Raises:
        InvalidPolicyError: listing every problem, each with its field path.

    Example:
        >>> p = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        ...     "metadata": {"name": "deny", "namespace": "a"}, "spec": {}})
        >>> p.spec.effective_policy_types
        ('Ingress',)
        >>> load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        ...     "metadata": {"name": "deny"}}, namespace="payments").key
        'payments/deny'
    """
    if isinstance(obj, NetworkPolicy):
        if namespace is None or obj.namespace == namespace:
            return obj
        obj = obj.to_dict()
    if _is_client_model(obj):
        obj = from_client_object(obj)
    policy, _ = _validate(obj, lenient_cidr=lenient_cidr, source=_label_of(obj),
                          lenient_names=lenient_names, require_namespace=True,
                          namespace=namespace)
    return policy


def _label_of(obj: Any) -> str | None:
    return _policy_label(obj) if isinstance(obj, Mapping) else None


@dataclass(frozen=True)
class Manifests:
    """What ``load_manifests`` read: the policies, every other object, and what it passed over.

    Attributes:
        policies: the valid NetworkPolicies (the last input of each, as ``kubectl apply`` keeps).
        objects: the objects kept for the evaluator (Namespaces, Pods, workloads, Services, ...).
        policy_sources: the manifest each policy was read from.
        skipped: kinds netpol-dsl does not read, with how many of each.
        warnings: problems that did not stop loading.
        errors: invalid objects' issues (with ``collect_errors=True``; otherwise raised).
        resources: every object a registered kind's loader validated, in input order.
        duplicates: objects given more than once (same kind, namespace and name).

    Example:
        >>> m = load_manifests("kind: ConfigMap\\nmetadata: {name: x}\\n")
        >>> m.policies, dict(m.skipped)
        ((), {'ConfigMap': 1})
    """

    policies: tuple[NetworkPolicy, ...] = ()
    objects: tuple[Manifest, ...] = ()
    policy_sources: tuple[Manifest, ...] = ()
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: tuple[Issue, ...] = ()
    errors: tuple[Issue, ...] = ()
    resources: tuple[Resource, ...] = ()
    duplicates: tuple[Duplicate, ...] = ()

    def of_kind(self, *kinds: str) -> tuple[Manifest, ...]:
        """The non-policy objects of the given kinds.

        Example:
            >>> load_manifests("kind: Pod\\nmetadata: {name: a}\\n").of_kind("Pod")[0].kind
            'Pod'
        """
        return tuple(m for m in self.objects if m.kind in kinds)

    @property
    def cluster_policies(self) -> tuple[Any, ...]:
        """The valid cluster-wide policies (AdminNetworkPolicy, BaselineAdminNetworkPolicy,
        ClusterNetworkPolicy), in input order; the evaluator compiles them with the
        NetworkPolicies.

        Example:
            >>> load_manifests("kind: Pod\\nmetadata: {name: a}\\n").cluster_policies
            ()
        """
        return tuple(r.obj for r in self.resources if r.spec.group == "policy.networking.k8s.io")

    def resources_of(self, kind: str) -> tuple[Any, ...]:
        """The validated objects of one registered kind (``"NetworkPolicy"``, ...).

        Example:
            >>> load_manifests("kind: Pod\\nmetadata: {name: a}\\n").resources_of("Pod")
            ()
        """
        return tuple(r.obj for r in self.resources if r.spec.kind == kind)


# --------------------------------------------------------------------------- kinds


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How ``load_manifests`` was asked to read objects, handed to every kind's loader.

    Example:
        >>> LoadOptions(namespace="payments").lenient_cidr
        False
    """

    namespace: str | None = None
    lenient_cidr: bool = False
    lenient_names: bool = False


#: A kind's loader: validates one API-shaped object and returns the model and any warnings
#: (issues with paths relative to the object). It raises ``InvalidPolicyError`` listing every
#: problem when the API server would refuse the object.
KindLoader = Callable[[Mapping[str, Any], LoadOptions], "tuple[Any, list[Issue]]"]


@dataclass(frozen=True, slots=True)
class KindSpec:
    """What ``load_manifests`` does with one kind: which versions it accepts, how it loads them.

    Args:
        group: the API group (``""`` for the core group of ``v1`` objects).
        kind: the kind, as written in ``kind:``.
        versions: the versions served today (``("v1",)``).
        loader: validates the object into a model (a ``KindLoader``, or ``"module:function"``
            imported on first use, so that a model module may register itself without an import
            cycle). ``None`` keeps the object as it is, for the evaluator's inventory.
        namespaced: whether the kind lives in a namespace (duplicates are found per namespace).
        removed: other ``apiVersion`` values this kind had, mapped to a note on their removal;
            an object in one of them is an error naming the version to use.

    Example:
        >>> spec = KINDS["networking.k8s.io", "NetworkPolicy"]
        >>> spec.api_versions, spec.removed["extensions/v1beta1"]
        (('networking.k8s.io/v1',), 'no longer served since Kubernetes 1.16')
    """

    group: str
    kind: str
    versions: tuple[str, ...]
    loader: KindLoader | str | None = None
    namespaced: bool = True
    removed: Mapping[str, str] = field(default_factory=dict)

    @property
    def api_versions(self) -> tuple[str, ...]:
        """The ``apiVersion`` values accepted (``group/version``, or ``version`` in the core group).

        Example:
            >>> KINDS["", "Pod"].api_versions
            ('v1',)
        """
        return tuple(f"{self.group}/{v}" if self.group else v for v in self.versions)

    def load(self, data: Mapping[str, Any], options: LoadOptions) -> tuple[Any, list[Issue]]:
        """Run this kind's loader on ``data`` (the object itself when there is none).

        Example:
            >>> KINDS["", "Pod"].load({"kind": "Pod"}, LoadOptions())
            ({'kind': 'Pod'}, [])
        """
        loader = self.loader
        if loader is None:
            return data, []
        if isinstance(loader, str):
            module, _, attr = loader.partition(":")
            loader = getattr(importlib.import_module(module), attr)
            assert callable(loader)
        return loader(data, options)


#: The kind registry: ``(group, kind) -> KindSpec``. ``load_manifests`` loads the kinds with a
#: loader, keeps those without one for the evaluator, refuses unknown or removed versions of
#: them and kinds that look like a misspelling of one of them, and counts every other kind in
#: ``Manifests.skipped``. Add kinds with ``register_kind``.
KINDS: dict[tuple[str, str], KindSpec] = {}


def register_kind(spec: KindSpec) -> None:
    """Add a kind to the registry that ``load_manifests`` reads (see ``KindSpec``).

    Registering the same spec twice is harmless; a different spec for a registered kind is an
    error (two modules disagreeing about one kind).

    Raises:
        ValueError: ``(group, kind)`` is registered already with a different spec.

    Example:
        >>> register_kind(KINDS["", "Pod"])  # the same spec again: no change
        >>> register_kind(KindSpec("", "Pod", ("v2",)))
        Traceback (most recent call last):
        ...
        ValueError: register_kind(): got a second spec for kind 'Pod' in group ''; expected each kind registered once
    """
    key = (spec.group, spec.kind)
    known = KINDS.get(key)
    if known is not None and known != spec:
        msg = (f"register_kind(): got a second spec for kind {spec.kind!r} in group "
               f"{spec.group!r}; expected each kind registered once")
        raise ValueError(msg)
    KINDS[key] = spec


def _load_network_policy(data: Mapping[str, Any], options: LoadOptions) -> tuple[Any, list[Issue]]:
    return _validate(data, lenient_cidr=options.lenient_cidr, source=None,
                     lenient_names=options.lenient_names, namespace=options.namespace)


# https://kubernetes.io/docs/reference/using-api/deprecation-guide/ (v1.16: extensions/v1beta1
# NetworkPolicy, DaemonSet, Deployment, ReplicaSet and apps/v1beta1, apps/v1beta2 no longer
# served; v1.25: batch/v1beta1 CronJob).
_GONE_1_16 = "no longer served since Kubernetes 1.16"
register_kind(KindSpec("networking.k8s.io", "NetworkPolicy", ("v1",), _load_network_policy,
                       removed={"extensions/v1beta1": _GONE_1_16}))
register_kind(KindSpec("", "Namespace", ("v1",), namespaced=False))
register_kind(KindSpec("", "Node", ("v1",), namespaced=False))
for _kind in ("Pod", "Service", "ReplicationController"):
    register_kind(KindSpec("", _kind, ("v1",)))
register_kind(KindSpec("apps", "Deployment", ("v1",), removed={
    "extensions/v1beta1": _GONE_1_16, "apps/v1beta1": _GONE_1_16, "apps/v1beta2": _GONE_1_16}))
register_kind(KindSpec("apps", "StatefulSet", ("v1",), removed={
    "apps/v1beta1": _GONE_1_16, "apps/v1beta2": _GONE_1_16}))
for _kind in ("DaemonSet", "ReplicaSet"):
    register_kind(KindSpec("apps", _kind, ("v1",), removed={
        "extensions/v1beta1": _GONE_1_16, "apps/v1beta2": _GONE_1_16}))
register_kind(KindSpec("batch", "Job", ("v1",)))
# The cluster-wide kinds of kubernetes-sigs/network-policy-api (netpol_dsl.model.anp, .cnp).
for _kind, _version in (("AdminNetworkPolicy", "v1alpha1"), ("BaselineAdminNetworkPolicy", "v1alpha1"),
                        ("ClusterNetworkPolicy", "v1alpha2")):
    register_kind(KindSpec("policy.networking.k8s.io", _kind, (_version,),
                           "netpol_dsl.model.clusterwide:load_kind", namespaced=False))
register_kind(KindSpec("batch", "CronJob", ("v1",), removed={
    "batch/v1beta1": "no longer served since Kubernetes 1.25",
    "batch/v2alpha1": "an alpha version, no longer served"}))


def cluster_kinds() -> frozenset[str]:
    """The kinds ``load_manifests`` keeps as they are, for the evaluator's inventory.

    Example:
        >>> sorted(cluster_kinds())[:3]
        ['CronJob', 'DaemonSet', 'Deployment']
    """
    return frozenset(s.kind for s in KINDS.values() if s.loader is None)


_BY_KIND: dict[str, tuple[int, list[KindSpec]]] = {}


def _specs_of(kind: str) -> list[KindSpec]:
    # classify() runs once per object: index the registry by kind (rebuilt when it grows)
    cached = _BY_KIND.get(kind)
    if cached is None or cached[0] != len(KINDS):
        cached = _BY_KIND[kind] = (len(KINDS), [s for s in KINDS.values() if s.kind == kind])
    return cached[1]


def _split_api_version(value: Any) -> tuple[str, str] | None:
    if not isinstance(value, str) or not value:
        return None
    group, _, version = value.rpartition("/")
    return group, version


def _is_kubernetes_group(group: str) -> bool:
    # Built-in groups are the core group, single words (apps, batch, policy, extensions) and
    # *.k8s.io. Anything else with a dot belongs to an extension (crd.projectcalico.org,
    # cilium.io), which may well define a kind of the same name.
    return "." not in group or group.endswith((".k8s.io", ".kubernetes.io"))


def _plural_forms(kind: str) -> set[str]:
    low = kind.lower()
    out = {low + "s", low + "es"}
    if low.endswith("y"):
        out.add(low[:-1] + "ies")
    return out


def _near_kind(kind: str) -> str | None:
    """A registered kind that ``kind`` looks like a misspelling of, if any."""
    known = sorted({s.kind for s in KINDS.values()})
    low = kind.lower()
    for k in known:
        if low == k.lower() or low in _plural_forms(k):
            return k
    # A tight cutoff: CiliumNetworkPolicy or GlobalNetworkPolicy (0.81 to NetworkPolicy) are
    # other projects' kinds, not typos.
    close = difflib.get_close_matches(kind, known, n=1, cutoff=0.9)
    return close[0] if close else None


def _api_version_issue(spec: KindSpec, given: Any) -> Issue:
    expected = " or ".join(repr(v) for v in spec.api_versions)
    if given is None:
        return Issue("apiVersion", None, expected, missing=True,
                     hint=f"Set apiVersion: {spec.api_versions[-1]}")
    note = spec.removed.get(given) if isinstance(given, str) else None
    if note:
        return Issue("apiVersion", given, expected,
                     hint=f"{given} {spec.kind} is {note}; use {spec.api_versions[-1]}")
    return Issue("apiVersion", given, expected, hint=f"Did you mean {spec.api_versions[-1]!r}?")


def classify(m: Manifest) -> tuple[KindSpec | None, Issue | None]:
    """Find the registered kind of an object, or the problem with its ``kind``/``apiVersion``.

    Returns ``(spec, None)`` for a registered kind in a served version, ``(None, issue)`` for a
    near miss (a misspelt kind, an unknown or removed version of a known kind), and
    ``(None, None)`` for a kind netpol-dsl does not read (counted in ``skipped``). Objects the
    evaluator keeps (Pods, Namespaces, ...) may leave ``apiVersion`` out.

    Example:
        >>> classify(Manifest({"apiVersion": "v1", "kind": "ConfigMap"}))
        (None, None)
        >>> _, issue = classify(Manifest({"apiVersion": "networking.k8s.io/v1",
        ...                               "kind": "Networkpolicy"}))
        >>> str(issue)
        "kind: got 'Networkpolicy'; expected a kind netpol-dsl reads. Did you mean 'NetworkPolicy'?"
    """
    kind = m.kind
    given = m.data.get("apiVersion")
    api = _split_api_version(given)
    specs = _specs_of(kind)
    if not specs:
        near = _near_kind(kind)
        if near is None:
            return None, None
        return None, Issue("kind", kind, "a kind netpol-dsl reads", hint=f"Did you mean {near!r}?")
    if api is not None:
        group, version = api
        spec = KINDS.get((group, kind))
        if spec is not None:
            if version in spec.versions:
                return spec, None
            return None, _api_version_issue(spec, given)
        for s in specs:
            if given in s.removed:
                return None, _api_version_issue(s, given)
        groups = [s.group for s in specs]
        close = difflib.get_close_matches(group, groups, n=1, cutoff=0.8)
        if close or _is_kubernetes_group(group):
            spec = KINDS[(close[0] if close else groups[0], kind)]
            return None, _api_version_issue(spec, given)
        return None, None  # another project's kind of the same name (Calico's NetworkPolicy)
    if given is None and len(specs) == 1 and specs[0].loader is None:
        return specs[0], None  # an inventory object written without apiVersion
    return None, _api_version_issue(specs[0], given if given is not None else None)


@dataclass(frozen=True, slots=True)
class Resource:
    """An object a registered kind's loader validated, with where it came from.

    Example:
        >>> m = load_manifests("apiVersion: networking.k8s.io/v1\\nkind: NetworkPolicy\\n"
        ...                    "metadata: {name: a, namespace: n}\\n")
        >>> r = m.resources[0]
        >>> r.spec.kind, r.obj.key
        ('NetworkPolicy', 'n/a')
    """

    spec: KindSpec
    obj: Any
    source: Manifest


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Two inputs for one object (same kind, namespace and name): ``kubectl apply`` keeps the last.

    Example:
        >>> m = load_manifests("kind: Pod\\nmetadata: {name: a}\\n---\\n"
        ...                    "kind: Pod\\nmetadata: {name: a}\\n")
        >>> d = m.duplicates[0]
        >>> d.key, d.first.line, d.last.line
        ('Pod default/a', 1, 4)
    """

    kind: str
    namespace: str | None
    name: str
    first: Manifest
    last: Manifest

    @property
    def key(self) -> str:
        """``Kind namespace/name`` (``Kind name`` for cluster-scoped kinds).

        Example:
            >>> Duplicate("Namespace", None, "a", Manifest({}), Manifest({})).key
            'Namespace a'
        """
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"

    def issue(self) -> Issue:
        """The duplicate as an issue on the later input, naming both places.

        Example:
            >>> Duplicate("Pod", "a", "web", Manifest({}, "x.yaml", 1),
            ...           Manifest({}, "y.yaml", 5)).issue().hint
            'also defined at x.yaml:1; kubectl apply keeps the last one (y.yaml:5)'
        """
        first = self.first.where or "an earlier input"
        last = self.last.where or "the later input"
        return Issue("metadata.name", self.key, f"one {self.kind} per name",
                     hint=f"also defined at {first}; kubectl apply keeps the last one ({last})",
                     source=self.last.where)


def _identity(spec: KindSpec, data: Mapping[str, Any],
              namespace: str | None) -> tuple[str | None, str] | None:
    meta = data.get("metadata")
    if not isinstance(meta, Mapping):
        return None
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        return None  # generateName objects are never the same object
    if not spec.namespaced:
        return None, name
    ns = meta.get("namespace")
    # Without a namespace, `kubectl apply` puts an object in the request namespace: -n, else
    # the context's, which is "default" unless configured.
    return (ns if isinstance(ns, str) and ns else _rules.namespace_of(namespace)), name


#: What ``load_manifests`` reads: a path, YAML/JSON text (or bytes), an API-shaped dict, a
#: model, or an official ``kubernetes`` client object (duck-typed).
Source = str | bytes | os.PathLike[str] | Mapping[str, Any] | NetworkPolicy | Any


def _iter_sources(source: Source | Iterable[Source]) -> Iterator[tuple[Any, str | None]]:
    if isinstance(source, (str, bytes, os.PathLike, Mapping, NetworkPolicy)) or _is_client_model(
        source
    ):
        items: Iterable[Any] = [source]
    elif isinstance(source, Iterable):
        items = source
    else:  # None, a number...: the same error as for such an item in a list
        raise LoadError(_bad_source(source))
    for item in items:
        if _is_client_model(item):
            item = from_client_object(item)
        if isinstance(item, (NetworkPolicy, Mapping, bytes)):
            yield item, None
        elif isinstance(item, os.PathLike) or (
            isinstance(item, str) and "\n" not in item and _looks_like_path(item)
        ):
            path = Path(item)
            try:
                is_dir, is_file = path.is_dir(), path.is_file()
            except OSError as err:  # e.g. a name too long for the file system
                shown = str(item) if len(str(item)) <= 80 else str(item)[:77] + "..."
                msg = (f"{shown}: got a path that cannot be read ({err.strerror}); expected a "
                       "file, a directory, or YAML/JSON text (text needs a newline or ': ')")
                raise LoadError(msg, source=shown) from None
            if is_dir:
                for f in sorted(path.rglob("*")):
                    if f.is_file() and f.suffix.lower() in MANIFEST_SUFFIXES:
                        yield f, str(f)
            elif is_file:
                yield path, str(path)
            else:
                msg = f"{item}: got a path that does not exist; expected a file or directory"
                raise LoadError(msg, source=str(item))
        elif isinstance(item, str):
            yield item, None
        else:
            raise LoadError(_bad_source(item))


def _bad_source(item: Any) -> str:
    shown = repr(item)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return (f"load_manifests(): got {shown} (type={type(item).__name__}); expected a path, "
            "YAML/JSON text or bytes, a dict, a NetworkPolicy or a kubernetes client object, or "
            "an iterable of them")


def _looks_like_path(text: str) -> bool:
    stripped = text.strip()
    return not (
        not stripped or stripped[0] in "{[" or ": " in stripped or stripped.endswith(":")
    )


def _expand(doc: Any, file: str | None, line: int | None, lines: Mapping[int, Any],
            out: list[Manifest], skipped: Counter[str], located: _yaml.Lines | None = None,
            path: tuple[str | int, ...] = ()) -> None:
    # Each object of a document; `path` is where it is in the document (items[3] of a List),
    # `located` finds its lines on demand when the document was read the fast way.
    if isinstance(doc, list):  # a bare JSON array of objects
        table = lines.get(id(doc))
        for i, item in enumerate(doc):
            ln = table[i] if isinstance(table, list) and i < len(table) else None
            if ln is None and located is None:
                ln = line
            _expand(item, file, ln, lines, out, skipped, located, (*path, i))
        return
    if not isinstance(doc, Mapping):
        skipped[f"<{type(doc).__name__}>"] += 1
        return
    kind = doc.get("kind")
    items = doc.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        # A typed list from the API (NetworkPolicyList) leaves kind and apiVersion off its items.
        item_kind = kind[: -len("List")] if kind != "List" else None
        list_version = doc.get("apiVersion")
        table = lines.get(id(items))
        for i, item in enumerate(items):
            if isinstance(item, Mapping) and "kind" not in item and item_kind:
                item = {"kind": item_kind, **item}
                if "apiVersion" not in item and isinstance(list_version, str):
                    item = {"apiVersion": list_version, **item}
            ln = table[i] if isinstance(table, list) and i < len(table) else None
            if ln is None and located is None:
                ln = line
            _expand(item, file, ln, lines, out, skipped, located, (*path, "items", i))
        return
    if not isinstance(kind, str) or not kind:
        skipped["<no kind>"] += 1
        return
    out.append(Manifest(doc, file, line, lines, located=located, path=path))


def load_manifests(
    source: Source | Iterable[Source],
    *,
    namespace: str | None = None,
    lenient_cidr: bool = False,
    lenient_names: bool = False,
    collect_errors: bool = False,
) -> Manifests:
    """Read manifests from paths, directories, YAML/JSON text, dicts or model objects.

    Multi-document YAML and ``List`` kinds (``kubectl get -o yaml``) are expanded. NetworkPolicies
    are validated; Namespaces, Pods and workloads are kept for the evaluator; other kinds, and
    documents without a kind (stray JSON arrays), are counted in ``skipped``, never an error.

    Args:
        source: one source or an iterable of them: a path (a directory is read for
            ``*.yaml``/``*.yml``/``*.json``), YAML/JSON text or UTF-8 bytes, an API-shaped dict,
            a model object, or an official ``kubernetes`` client object (a list response too).
            A string is a path unless it looks like YAML.
        namespace: fills in policies' missing ``metadata.namespace`` (``kubectl -n``); a
            different one is an error. Without it a policy may have no namespace.
        lenient_cidr: accept CIDRs older API servers stored, with a warning (for evaluation).
        lenient_names: accept policy names today's API server refuses (``allow_web``), with a
            warning (for evaluation: a name does not change what a policy allows).
        collect_errors: put invalid policies' issues in ``errors`` instead of raising.

    Raises:
        LoadError: unreadable input (bad YAML/JSON, duplicate keys, binary data), or a source
            of no accepted type (``None``, a number, ...).
        InvalidPolicyError: invalid policies, every issue with ``file:line``.

    Example:
        >>> m = load_manifests('''
        ... apiVersion: networking.k8s.io/v1
        ... kind: NetworkPolicy
        ... metadata: {name: deny, namespace: a}
        ... spec: {podSelector: {}}
        ... ''')
        >>> [p.key for p in m.policies]
        ['a/deny']
    """
    return _load_manifests(source, namespace, lenient_cidr, lenient_names, collect_errors)


@gc_paused
def _load_manifests(source: Source | Iterable[Source], namespace: str | None, lenient_cidr: bool,
                    lenient_names: bool, collect_errors: bool) -> Manifests:
    found: list[Manifest] = []
    skipped: Counter[str] = Counter()
    for item, file in _iter_sources(source):
        if isinstance(item, NetworkPolicy):
            found.append(Manifest(item.to_dict(), None, None))
            continue
        if isinstance(item, Mapping):
            _expand(item, None, None, {}, found, skipped)
            continue
        if isinstance(item, Path):
            text = _decode(item.read_bytes(), str(item))
            where = str(item)
        elif isinstance(item, bytes):
            text, where = _decode(item, "<bytes>"), "<bytes>"
        else:
            text, where = item, "<text>"
        stripped = text.lstrip()
        if (file and file.lower().endswith(".json")) or stripped.startswith(("{", "[")):
            try:
                docs = _parse_json(text, where)
            except LoadError:
                if file and file.lower().endswith(".json"):
                    raise
                docs = _parse_text(text, where)
        else:
            docs = _parse_text(text, where)
        for d in docs:
            _expand(d.data, file, d.line, d.lines, found, skipped, d.located)

    options = LoadOptions(namespace, lenient_cidr, lenient_names)
    loaded: list[Resource] = []
    objects: list[tuple[KindSpec, Manifest]] = []
    warnings: list[Issue] = []
    errors: list[Issue] = []
    for m in found:
        spec, problem = classify(m)
        if problem is not None:
            errors.append(_locate(problem, m, _policy_label(m.data)))
            continue
        if spec is None:
            skipped[m.kind] += 1
            continue
        if spec.loader is None:
            objects.append((spec, m))
            continue
        label = _policy_label(m.data)
        try:
            obj, warns = spec.load(m.data, options)
        except InvalidPolicyError as err:
            errors.extend(_locate(i, m, label) for i in err.issues)
            continue
        loaded.append(Resource(spec, obj, m))
        warnings.extend(_locate(w, m, label) for w in warns)
    # Two inputs for one object: `kubectl apply` applies both in turn, so the last one is what
    # the cluster holds. Keep it; report the earlier one (an error for validation).
    loaded, kept, duplicates = _last_wins(loaded, objects, namespace)
    (errors if collect_errors else warnings).extend(d.issue() for d in duplicates)
    if errors and not collect_errors:
        raise InvalidPolicyError(issues=errors)
    policies = [r for r in loaded if isinstance(r.obj, NetworkPolicy)]
    return Manifests(tuple(r.obj for r in policies), tuple(kept),
                     tuple(r.source for r in policies), skipped, tuple(warnings), tuple(errors),
                     tuple(loaded), tuple(duplicates))


def _last_wins(
    loaded: list[Resource], objects: list[tuple[KindSpec, Manifest]], namespace: str | None
) -> tuple[list[Resource], list[Manifest], list[Duplicate]]:
    seen: dict[tuple[str, str, str | None, str], Manifest] = {}
    dropped: set[int] = set()
    duplicates: list[Duplicate] = []
    for spec, m in [(r.spec, r.source) for r in loaded] + objects:
        ident = _identity(spec, m.data, namespace)
        if ident is None:
            continue
        key = (spec.group, spec.kind, *ident)
        before = seen.get(key)
        if before is not None:
            duplicates.append(Duplicate(spec.kind, ident[0], ident[1], before, m))
            dropped.add(id(before))
        seen[key] = m
    return ([r for r in loaded if id(r.source) not in dropped],
            [m for _, m in objects if id(m) not in dropped], duplicates)


def _locate(issue: Issue, m: Manifest, label: str | None) -> Issue:
    parts = []
    if m.file is not None:
        line = m.line_of(issue.path)
        parts.append(f"{m.file}:{line}" if line else m.file)
    if label:
        parts.append(label)
    if not parts:
        return issue
    return replace(issue, source=": ".join(parts))
