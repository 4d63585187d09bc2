"""NetworkPolicy, its spec, rules and metadata."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, StrictStr

from netpol_dsl import _rules
from netpol_dsl.errors import Issue
from netpol_dsl.model._base import Context, K8sModel
from netpol_dsl.model.peer import NetworkPolicyPeer
from netpol_dsl.model.port import NetworkPolicyPort
from netpol_dsl.model.selector import LabelSelector, check_labels

__all__ = [
    "NetworkPolicy",
    "NetworkPolicyEgressRule",
    "NetworkPolicyIngressRule",
    "NetworkPolicySpec",
    "ObjectMeta",
    "PolicyType",
]

PolicyType = Literal["Ingress", "Egress"]


class NetworkPolicyIngressRule(K8sModel):
    """Traffic allowed *to* the selected pods: from any peer in ``from`` on any of ``ports``.

    Absent or empty ``from`` means every source; absent or empty ``ports`` means every port.

    Example:
        >>> NetworkPolicyIngressRule().to_dict()
        {}
    """

    _NULL_ITEMS: ClassVar[Mapping[str, Callable[[], Any]]] = {"ports": dict, "from": dict}

    # ``from: []`` is valid upstream (ValidateNetworkPolicySpec loops over zero peers) and,
    # like no ``from``, means every source.
    ports: tuple[NetworkPolicyPort, ...] | None = None
    from_: Annotated[tuple[NetworkPolicyPeer, ...] | None, Field(alias="from")] = None

    @property
    def peers(self) -> tuple[NetworkPolicyPeer, ...] | None:
        """The peers of this rule (``from``); None or empty means all.

        Example:
            >>> NetworkPolicyIngressRule().peers is None
            True
        """
        return self.from_


class NetworkPolicyEgressRule(K8sModel):
    """Traffic allowed *from* the selected pods: to any peer in ``to`` on any of ``ports``.

    Example:
        >>> NetworkPolicyEgressRule(ports=[NetworkPolicyPort(protocol="UDP", port=53)]).to_dict()
        {'ports': [{'protocol': 'UDP', 'port': 53}]}
    """

    _NULL_ITEMS: ClassVar[Mapping[str, Callable[[], Any]]] = {"ports": dict, "to": dict}

    ports: tuple[NetworkPolicyPort, ...] | None = None
    to: tuple[NetworkPolicyPeer, ...] | None = None

    @property
    def peers(self) -> tuple[NetworkPolicyPeer, ...] | None:
        """The peers of this rule (``to``); None or empty means all.

        Example:
            >>> NetworkPolicyEgressRule().peers is None
            True
        """
        return self.to


class NetworkPolicySpec(K8sModel):
    """Which pods a policy selects, for which directions, and what it allows.

    Example:
        >>> NetworkPolicySpec().effective_policy_types
        ('Ingress',)
        >>> NetworkPolicySpec(egress=[NetworkPolicyEgressRule()]).effective_policy_types
        ('Ingress', 'Egress')
    """

    pod_selector: LabelSelector = Field(default_factory=lambda: LabelSelector())
    policy_types: tuple[StrictStr, ...] | None = None
    ingress: tuple[NetworkPolicyIngressRule, ...] | None = None
    egress: tuple[NetworkPolicyEgressRule, ...] | None = None

    _ZERO: ClassVar[Mapping[str, Callable[[], Any]]] = {"podSelector": dict}
    _NULL_ITEMS: ClassVar[Mapping[str, Callable[[], Any]]] = {
        "policyTypes": str, "ingress": dict, "egress": dict}

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        # pkg/apis/networking/validation ValidateNetworkPolicySpec: more than two policyTypes is
        # one error on the list (and nothing else is checked); otherwise each entry must be
        # Ingress or Egress. Duplicates (["Ingress", "Ingress"]) pass upstream, and so here.
        if "policy_types" in broken:
            return []
        types = self.policy_types or ()
        if len(types) > 2:
            return [Issue("policyTypes", list(types), "at most two policyTypes",
                          hint="Use 'Ingress', 'Egress' or both")]
        return [
            Issue(f"policyTypes[{i}]", t, "one of 'Ingress', 'Egress'")
            for i, t in enumerate(types)
            if t not in _rules.POLICY_TYPES
        ]

    @property
    def effective_policy_types(self) -> tuple[PolicyType, ...]:
        """policyTypes after the API server's defaulting (``networking/v1/defaults.go``).

        Absent or empty: Ingress, plus Egress when there are egress rules.

        Example:
            >>> NetworkPolicySpec(policy_types=["Egress"]).effective_policy_types
            ('Egress',)
        """
        if self.policy_types:
            out: list[PolicyType] = []
            types: tuple[PolicyType, PolicyType] = ("Ingress", "Egress")
            for t in types:
                if t in self.policy_types:
                    out.append(t)
            return tuple(out)
        return ("Ingress", "Egress") if self.egress else ("Ingress",)

    @property
    def isolates_ingress(self) -> bool:
        """Whether selected pods are isolated for ingress.

        Example:
            >>> NetworkPolicySpec(policy_types=["Egress"]).isolates_ingress
            False
        """
        return "Ingress" in self.effective_policy_types

    @property
    def isolates_egress(self) -> bool:
        """Whether selected pods are isolated for egress.

        Example:
            >>> NetworkPolicySpec(policy_types=["Ingress", "Egress"]).isolates_egress
            True
        """
        return "Egress" in self.effective_policy_types


class ObjectMeta(K8sModel):
    """The metadata netpol-dsl reads: name, namespace, labels, annotations.

    Other metadata fields of real objects (uid, resourceVersion, ...) are accepted and kept.

    Example:
        >>> ObjectMeta(name="allow-api", namespace="payments").to_dict()
        {'name': 'allow-api', 'namespace': 'payments'}
    """

    model_config = ConfigDict(extra="allow")

    name: StrictStr | None = None
    namespace: StrictStr | None = None
    labels: dict[StrictStr, StrictStr] | None = None
    annotations: dict[StrictStr, StrictStr] | None = None

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    _NULL_ITEMS: ClassVar[Mapping[str, Callable[[], Any]]] = {"labels": str, "annotations": str}

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        # apimachinery/pkg/api/validation/objectmeta.go ValidateObjectMetaAccessor with
        # ValidateNetworkPolicyName = NameIsDNSSubdomain, namespaces NameIsDNSLabel.
        out: list[Issue] = []
        extra = self.model_extra or {}
        generate = extra.get("generateName")
        if generate is not None and not isinstance(generate, str):
            out.append(Issue("generateName", generate, "a string"))
            generate = None
        if generate:
            for msg in _rules.dns1123_subdomain(_rules.mask_trailing_dash(generate)):
                out.append(Issue("generateName", generate, msg))
        if "name" not in broken:
            if self.name:
                if not ctx.lenient_names:
                    for msg in _rules.dns1123_subdomain(self.name):
                        out.append(Issue("name", self.name, msg))
            elif generate:
                # The API server names the object before validating it (names.SimpleNameGenerator:
                # at most 58 characters of generateName, then 5 random alphanumerics).
                generated = generate[:58] + "b2b2b"
                for msg in _rules.dns1123_subdomain(generated):
                    out.append(Issue("name", generated, msg))
            else:
                out.append(Issue("name", self.name, "a name (a DNS-1123 subdomain)",
                                 hint="Set metadata.name (or metadata.generateName)",
                                 missing=True))
        if "namespace" not in broken:
            if self.namespace:
                for msg in _rules.dns1123_label(self.namespace):
                    out.append(Issue("namespace", self.namespace, msg))
            elif ctx.require_namespace:
                # Upstream requires it; kubectl and the API server fill it in from the request
                # namespace before validating, which ``load_policy(namespace=...)`` mirrors.
                out.append(Issue("namespace", self.namespace, "a namespace (a DNS-1123 label)",
                                 hint="Set metadata.namespace, or pass namespace= as "
                                      "`kubectl -n` does", missing=True))
        if "labels" not in broken:
            out.extend(check_labels(self.labels, "labels"))
        if "annotations" not in broken:
            out.extend(_check_annotations(self.annotations or {}))
        out.extend(_check_extra_meta(extra))
        return out


def _check_annotations(annotations: Mapping[str, str]) -> list[Issue]:
    # apimachinery ValidateAnnotations: keys are qualified names compared in lowercase; the
    # total size of keys and values is at most 256 KiB (Go len(), so UTF-8 bytes).
    out: list[Issue] = []
    total = 0
    for key, value in annotations.items():
        for msg in _rules.qualified_name(key.lower()):
            out.append(Issue("annotations", key, f"an annotation key: {msg}"))
        total += len(key.encode()) + len(value.encode())
    if total > _rules.ANNOTATIONS_TOTAL_MAX:
        out.append(Issue("annotations", f"<{total} bytes>",
                         f"at most {_rules.ANNOTATIONS_TOTAL_MAX} bytes in all"))
    return out


#: apimachinery metav1.FinalizerOrphanDependents and FinalizerDeleteDependents.
_FINALIZER_ORPHAN = "orphan"
_FINALIZER_DELETE = "foregroundDeletion"


def _check_extra_meta(extra: Mapping[str, Any]) -> list[Issue]:
    # The rest of validateObjectMetaAccessorWithOptsCommon for fields kept from real objects:
    # generation >= 0, finalizers (qualified names, not both orphan and foregroundDeletion),
    # ownerReferences (apiVersion with a version, kind, name and uid set; at most one
    # controller). Their paths carry no index, as upstream's do.
    out: list[Issue] = []
    generation = extra.get("generation")
    if generation is not None:
        if not isinstance(generation, int) or isinstance(generation, bool):
            out.append(Issue("generation", generation, "an integer"))
        elif generation < 0:
            out.append(Issue("generation", generation, "must be greater than or equal to 0"))
    finalizers = extra.get("finalizers")
    if finalizers is not None:
        if not isinstance(finalizers, list) or not all(isinstance(f, str) for f in finalizers):
            out.append(Issue("finalizers", finalizers, "a list of strings"))
        else:
            for f in finalizers:
                for msg in _rules.qualified_name(f):
                    out.append(Issue("finalizers", f, f"a finalizer name: {msg}"))
            if _FINALIZER_ORPHAN in finalizers and _FINALIZER_DELETE in finalizers:
                out.append(Issue("finalizers", finalizers,
                                 f"not both {_FINALIZER_ORPHAN!r} and {_FINALIZER_DELETE!r}"))
    refs = extra.get("ownerReferences")
    if refs is not None:
        if not isinstance(refs, list) or not all(isinstance(r, Mapping) for r in refs):
            out.append(Issue("ownerReferences", refs, "a list of owner references"))
        else:
            controllers = 0
            for ref in refs:
                out.extend(_check_owner_reference(ref))
                if ref.get("controller") is True:
                    controllers += 1
                    if controllers == 2:
                        out.append(Issue("ownerReferences", refs,
                                         "at most one reference with controller: true"))
    return out


def _check_owner_reference(ref: Mapping[str, Any]) -> list[Issue]:
    out: list[Issue] = []
    api_version = ref.get("apiVersion")
    parts = api_version.split("/") if isinstance(api_version, str) else []
    version = parts[-1] if 1 <= len(parts) <= 2 else ""
    if not version:
        out.append(Issue("ownerReferences.apiVersion", api_version, "a version, such as 'v1'"))
    for key in ("kind", "name", "uid"):
        value = ref.get(key)
        if not isinstance(value, str) or not value:
            out.append(Issue(f"ownerReferences.{key}", value, "a non-empty string"))
    if version == "v1" and len(parts) == 1 and ref.get("kind") == "Event":
        out.append(Issue("ownerReferences", dict(ref), "an owner other than a v1 Event"))
    return out


class NetworkPolicy(K8sModel):
    """A ``networking.k8s.io/v1`` NetworkPolicy, valid as kube-apiserver validates it on create.

    Example:
        >>> from netpol_dsl.model import LabelSelector, NetworkPolicyPeer
        >>> p = NetworkPolicy(
        ...     metadata=ObjectMeta(name="allow-frontend-to-api", namespace="payments"),
        ...     spec=NetworkPolicySpec(
        ...         pod_selector=LabelSelector(match_labels={"app": "api-server"}),
        ...         policy_types=["Ingress"],
        ...         ingress=[NetworkPolicyIngressRule(
        ...             from_=[NetworkPolicyPeer(pod_selector=LabelSelector(
        ...                 match_labels={"app": "frontend"}))],
        ...             ports=[NetworkPolicyPort(protocol="TCP", port=8080)])]))
        >>> p.key
        'payments/allow-frontend-to-api'
        >>> p.to_dict()["spec"]["ingress"][0]["from"]
        [{'podSelector': {'matchLabels': {'app': 'frontend'}}}]
    """

    _ZERO: ClassVar[Mapping[str, Callable[[], Any]]] = {"metadata": dict, "spec": dict}

    api_version: Literal["networking.k8s.io/v1"] = "networking.k8s.io/v1"
    kind: Literal["NetworkPolicy"] = "NetworkPolicy"
    metadata: ObjectMeta
    spec: NetworkPolicySpec = Field(default_factory=NetworkPolicySpec)

    @property
    def name(self) -> str:
        """The object's name.

        Example:
            >>> NetworkPolicy(metadata=ObjectMeta(name="x")).name
            'x'
        """
        return self.metadata.name or ""

    @property
    def namespace(self) -> str | None:
        """The object's namespace, or None when it has none yet.

        Example:
            >>> NetworkPolicy(metadata=ObjectMeta(name="x", namespace="a")).namespace
            'a'
        """
        return self.metadata.namespace

    @property
    def key(self) -> str:
        """``namespace/name`` (or just the name when there is no namespace).

        Example:
            >>> NetworkPolicy(metadata=ObjectMeta(name="x")).key
            'x'
        """
        ns = self.metadata.namespace
        return f"{ns}/{self.name}" if ns else self.name

    def to_dict(self) -> dict[str, Any]:
        """The API shape: camelCase, no nulls, ``podSelector`` always present.

        Example:
            >>> NetworkPolicy(metadata=ObjectMeta(name="deny")).to_dict()["spec"]
            {'podSelector': {}}
        """
        data = super().to_dict()
        data.setdefault("spec", {}).setdefault("podSelector", {})
        return data
