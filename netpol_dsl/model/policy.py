"""NetworkPolicy, its spec, rules and metadata."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StrictStr

from netpol_dsl import _rules
from netpol_dsl.errors import Issue
from netpol_dsl.model._base import Context, K8sModel, ObjectMeta
from netpol_dsl.model.peer import NetworkPolicyPeer
from netpol_dsl.model.port import NetworkPolicyPort
from netpol_dsl.model.selector import LabelSelector

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
