"""AdminNetworkPolicy and BaselineAdminNetworkPolicy, ``policy.networking.k8s.io/v1alpha1``.

Exact shapes and rules of ``kubernetes-sigs/network-policy-api`` at tag v0.1.8 (``5a629542``):
``apis/v1alpha1/{adminnetworkpolicy,baselineadminnetworkpolicy,shared}_types.go`` and the
experimental-channel CRDs ``config/crd/experimental/policy.networking.k8s.io_*.yaml``, which are
a superset of the standard channel's (they add ``nodes``, ``domainNames`` and ``namedPort``;
``AdminNetworkPolicy.experimental_fields`` lists where an object uses them).

Objects in the shape before v0.1.3 (``apis/v1alpha1/shared_types.go`` at v0.1.2), whose
``namespaces`` peer is ``{namespaceSelector | sameLabels | notSameLabels}`` and whose ``pods``
peer is ``{namespaces: {...}, podSelector}``, are still found in clusters and tools
(policy-assistant reads them). They load as ``LegacyNamespaces`` and
``LegacyNamespacedPod``, with a warning from ``warnings()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, StrictInt, StrictStr, Tag

from netpol_dsl import _rules
from netpol_dsl.errors import Issue
from netpol_dsl.model._base import Context
from netpol_dsl.model._clusterwide import (
    API_GROUP,
    PRIORITY_MAX,
    RULE_NAME_MAX,
    ClusterPolicyBase,
    CRDModel,
    check_cidrs,
    check_count,
    check_domain_names,
    check_one_of,
    check_range,
)
from netpol_dsl.model.policy import ObjectMeta
from netpol_dsl.model.selector import LabelSelector

__all__ = [
    "ANP_ACTIONS",
    "BANP_ACTIONS",
    "BANP_NAME",
    "V1ALPHA1",
    "AdminNetworkPolicy",
    "AdminNetworkPolicyEgressPeer",
    "AdminNetworkPolicyEgressRule",
    "AdminNetworkPolicyIngressPeer",
    "AdminNetworkPolicyIngressRule",
    "AdminNetworkPolicyPort",
    "AdminNetworkPolicySpec",
    "AdminNetworkPolicySubject",
    "BaselineAdminNetworkPolicy",
    "BaselineAdminNetworkPolicyEgressPeer",
    "BaselineAdminNetworkPolicyEgressRule",
    "BaselineAdminNetworkPolicyIngressRule",
    "BaselineAdminNetworkPolicySpec",
    "LegacyNamespacedPod",
    "LegacyNamespaces",
    "NamespacedPod",
    "PortNumber",
    "PortRange",
]

V1ALPHA1 = f"{API_GROUP}/v1alpha1"
#: ``AdminNetworkPolicyRuleAction``: ``+kubebuilder:validation:Enum={"Allow", "Deny", "Pass"}``.
ANP_ACTIONS = ("Allow", "Deny", "Pass")
#: ``BaselineAdminNetworkPolicyRuleAction``: ``+kubebuilder:validation:Enum={"Allow", "Deny"}``.
BANP_ACTIONS = ("Allow", "Deny")
#: ``baselineadminnetworkpolicy_types.go``: ``XValidation:rule="self.metadata.name == 'default'"``.
BANP_NAME = "default"
#: Rules, peers and ports per list: ``MaxItems=100`` (``MinItems=1`` for peers and ports).
LIST_MAX = 100
#: v0.1.2 ``NamespacedPeer.sameLabels``/``notSameLabels``: ``MaxItems=100``.
_LEGACY_LABELS_MAX = 100
_PORT_MAX = 65535
_SUBJECT_HINT = "For pods of some namespaces use pods: {namespaceSelector, podSelector}"


# --------------------------------------------------------------------------- selectors


class NamespacedPod(CRDModel):
    """Pods that ``podSelector`` selects in the namespaces ``namespaceSelector`` selects.

    Both fields are required in v1alpha1; ``{}`` selects everything.

    Example:
        >>> NamespacedPod(namespace_selector=LabelSelector(),
        ...               pod_selector=LabelSelector(match_labels={"app": "db"})).to_dict()
        {'namespaceSelector': {}, 'podSelector': {'matchLabels': {'app': 'db'}}}
    """

    namespace_selector: LabelSelector
    pod_selector: LabelSelector


class LegacyNamespaces(CRDModel):
    """The ``namespaces`` peer before v0.1.3 (``NamespacedPeer``): exactly one of a selector,
    ``sameLabels`` or ``notSameLabels``.

    ``sameLabels``: namespaces that have every listed label with the same value as the subject
    pod's namespace; ``notSameLabels``: namespaces that have every listed label and differ from the
    subject's namespace in at least one of them. An empty list selects nothing
    (``apis/v1alpha1/shared_types.go`` at v0.1.2).

    Example:
        >>> LegacyNamespaces(same_labels=["tenant"]).to_dict()
        {'sameLabels': ['tenant']}
    """

    namespace_selector: LabelSelector | None = None
    same_labels: tuple[StrictStr, ...] | None = None
    not_same_labels: tuple[StrictStr, ...] | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        out = check_one_of(self, ["namespace_selector", "same_labels", "not_same_labels"], broken,
                           hint=None)
        for name, wire in (("same_labels", "sameLabels"), ("not_same_labels", "notSameLabels")):
            values = getattr(self, name)
            if values is not None and len(values) > _LEGACY_LABELS_MAX:
                out.append(Issue(wire, f"<{len(values)} labels>", f"at most {_LEGACY_LABELS_MAX} labels"))
        return out


class LegacyNamespacedPod(CRDModel):
    """The ``pods`` peer before v0.1.3 (``NamespacedPodPeer``): ``namespaces`` and ``podSelector``.

    Example:
        >>> LegacyNamespacedPod(namespaces=LegacyNamespaces(not_same_labels=["tenant"]),
        ...                     pod_selector=LabelSelector()).to_dict()
        {'namespaces': {'notSameLabels': ['tenant']}, 'podSelector': {}}
    """

    namespaces: LegacyNamespaces
    pod_selector: LabelSelector


_LEGACY_NS_KEYS = frozenset({"namespaceSelector", "sameLabels", "notSameLabels",
                             "namespace_selector", "same_labels", "not_same_labels"})


def _namespaces_shape(value: Any) -> str:
    # The obsolete NamespacedPeer has its own keys; a LabelSelector (matchLabels,
    # matchExpressions, or {}) never has them.
    if isinstance(value, LegacyNamespaces):
        return "<legacy>"
    if isinstance(value, Mapping) and any(k in _LEGACY_NS_KEYS for k in value):
        return "<legacy>"
    return "<selector>"


def _pods_shape(value: Any) -> str:
    if isinstance(value, LegacyNamespacedPod):
        return "<legacy>"
    if isinstance(value, Mapping) and "namespaces" in value:
        return "<legacy>"
    return "<selector>"


#: A ``namespaces`` peer: a LabelSelector, or the obsolete ``NamespacedPeer``.
PeerNamespaces = Annotated[
    Annotated[LabelSelector, Tag("<selector>")] | Annotated[LegacyNamespaces, Tag("<legacy>")],
    Discriminator(_namespaces_shape),
]
#: A ``pods`` peer: ``NamespacedPod``, or the obsolete ``NamespacedPodPeer``.
PeerPods = Annotated[
    Annotated[NamespacedPod, Tag("<selector>")] | Annotated[LegacyNamespacedPod, Tag("<legacy>")],
    Discriminator(_pods_shape),
]


class AdminNetworkPolicySubject(CRDModel):
    """The pods a policy applies to: exactly one of ``namespaces`` or ``pods``.

    Host-network pods are never subjects.

    Example:
        >>> AdminNetworkPolicySubject(namespaces=LabelSelector()).to_dict()
        {'namespaces': {}}
    """

    namespaces: LabelSelector | None = None
    pods: NamespacedPod | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        return check_one_of(self, ["namespaces", "pods"], broken, hint=_SUBJECT_HINT)


class _Peer(CRDModel):
    _FIELDS: ClassVar[tuple[str, ...]] = ("namespaces", "pods")

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        out = check_one_of(self, self._FIELDS, broken)
        if "networks" in self._FIELDS and "networks" not in broken:
            out.extend(check_cidrs(getattr(self, "networks", None), "networks"))
        if "domain_names" in self._FIELDS and "domain_names" not in broken:
            out.extend(check_domain_names(getattr(self, "domain_names", None), "domainNames"))
        return out

    @property
    def is_legacy(self) -> bool:
        """Whether this peer is in the shape before v0.1.3.

        Example:
            >>> AdminNetworkPolicyIngressPeer(namespaces=LabelSelector()).is_legacy
            False
        """
        return isinstance(getattr(self, "namespaces", None), LegacyNamespaces) or isinstance(
            getattr(self, "pods", None), LegacyNamespacedPod)

    @property
    def has_address_peer(self) -> bool:
        """Whether this is a ``networks``, ``nodes`` or ``domainNames`` peer (no named ports).

        Example:
            >>> AdminNetworkPolicyEgressPeer(networks=["10.0.0.0/8"]).has_address_peer
            True
        """
        return any(getattr(self, f, None) is not None for f in ("networks", "nodes", "domain_names"))


class AdminNetworkPolicyIngressPeer(_Peer):
    """A source: exactly one of ``namespaces`` (all their pods) or ``pods``.

    Host-network pods never match either.

    Example:
        >>> AdminNetworkPolicyIngressPeer(namespaces=LabelSelector(
        ...     match_labels={"team": "a"})).to_dict()
        {'namespaces': {'matchLabels': {'team': 'a'}}}
    """

    namespaces: PeerNamespaces | None = None
    pods: PeerPods | None = None


class AdminNetworkPolicyEgressPeer(_Peer):
    """A destination: exactly one of ``namespaces``, ``pods``, ``nodes`` (experimental),
    ``networks`` or ``domainNames`` (experimental).

    ``networks`` match every address in them, pod IPs included ("if you Allow or Deny traffic to
    ``0.0.0.0/0``, that will allow or deny all IPv4 pod-to-pod traffic as well").

    Example:
        >>> AdminNetworkPolicyEgressPeer(networks=["0.0.0.0/0"]).to_dict()
        {'networks': ['0.0.0.0/0']}
    """

    _FIELDS: ClassVar[tuple[str, ...]] = ("namespaces", "pods", "nodes", "networks", "domain_names")

    namespaces: PeerNamespaces | None = None
    pods: PeerPods | None = None
    nodes: LabelSelector | None = None
    networks: tuple[StrictStr, ...] | None = None
    domain_names: tuple[StrictStr, ...] | None = None


class BaselineAdminNetworkPolicyEgressPeer(_Peer):
    """A destination of a BANP rule: ``namespaces``, ``pods``, ``nodes`` or ``networks``.

    Example:
        >>> BaselineAdminNetworkPolicyEgressPeer(nodes=LabelSelector()).to_dict()
        {'nodes': {}}
    """

    _FIELDS: ClassVar[tuple[str, ...]] = ("namespaces", "pods", "nodes", "networks")

    namespaces: PeerNamespaces | None = None
    pods: PeerPods | None = None
    nodes: LabelSelector | None = None
    networks: tuple[StrictStr, ...] | None = None


# --------------------------------------------------------------------------- ports


class PortNumber(CRDModel):
    """``portNumber``: one port of a protocol (``protocol`` defaults to TCP).

    The CRD does not restrict ``protocol`` to TCP, UDP and SCTP (it is ``v1.Protocol`` without an
    enum marker), so other values load, with a warning from the policy's ``warnings()``.

    Example:
        >>> PortNumber(port=53, protocol="UDP").to_dict()
        {'protocol': 'UDP', 'port': 53}
    """

    protocol: StrictStr = "TCP"
    port: StrictInt

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        return [] if "port" in broken else check_range(self.port, "port", 1, _PORT_MAX)


class PortRange(CRDModel):
    """``portRange``: ports ``start``..``end`` of a protocol, inclusive.

    v1alpha1 has no CEL rule comparing ``start`` and ``end``; a range whose ``end`` is below its
    ``start`` is accepted by the API server and matches no port.

    Example:
        >>> PortRange(start=8000, end=8100).to_dict()
        {'protocol': 'TCP', 'start': 8000, 'end': 8100}
    """

    protocol: StrictStr = "TCP"
    start: StrictInt
    end: StrictInt

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        out: list[Issue] = []
        if "start" not in broken:
            out.extend(check_range(self.start, "start", 1, _PORT_MAX))
        if "end" not in broken:
            out.extend(check_range(self.end, "end", 1, _PORT_MAX))
        return out


class AdminNetworkPolicyPort(CRDModel):
    """One ``ports`` entry: exactly one of ``portNumber``, ``portRange`` or ``namedPort``
    (experimental; resolved on the destination pod's container ports).

    Example:
        >>> AdminNetworkPolicyPort(named_port="web").to_dict()
        {'namedPort': 'web'}
    """

    port_number: PortNumber | None = None
    named_port: StrictStr | None = None
    port_range: PortRange | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        return check_one_of(self, ["port_number", "named_port", "port_range"], broken)

    @property
    def protocol(self) -> str | None:
        """The protocol of a ``portNumber``/``portRange`` (None for a named port).

        Example:
            >>> AdminNetworkPolicyPort(port_range=PortRange(start=1, end=2)).protocol
            'TCP'
        """
        inner = self.port_number or self.port_range
        return inner.protocol if inner is not None else None


# --------------------------------------------------------------------------- rules


def _check_rule(rule: Any, broken: frozenset[str], actions: tuple[str, ...], side: str,
                kind: str) -> list[Issue]:
    out: list[Issue] = []
    # A partial object (another field failed) lacks the fields that were missing.
    peers = getattr(rule, "from_" if side == "from" else "to", None)
    ports = getattr(rule, "ports", None)
    name = getattr(rule, "name", None)
    action = getattr(rule, "action", None)
    if "name" not in broken and name is not None and len(name) > RULE_NAME_MAX:
        out.append(Issue("name", name, f"at most {RULE_NAME_MAX} characters"))
    if "action" not in broken and action is not None and action not in actions:
        hint = None
        if kind == "BaselineAdminNetworkPolicy" and action == "Pass":
            hint = "A baseline has nothing after it to pass to; use Allow or Deny"
        elif action in ("Accept", "allow", "deny", "pass"):
            hint = f"v1alpha1 actions are {', '.join(actions)}"
        out.append(Issue("action", action, "one of " + ", ".join(repr(a) for a in actions),
                         hint=hint))
    if side not in broken:
        out.extend(check_count(peers, side, 1, LIST_MAX, "peers"))
    if "ports" not in broken:
        out.extend(check_count(ports, "ports", 1, LIST_MAX, "ports"))
    if (side == "to" and side not in broken and "ports" not in broken
            and any(p.has_address_peer for p in peers or ())
            and any(p.named_port is not None for p in ports or ())):
        # The experimental CRD's XValidation on the egress rule (adminnetworkpolicy_types.go).
        what = "networks/nodes/domainNames" if kind == "AdminNetworkPolicy" else "networks/nodes"
        out.append(Issue("", "namedPort with " + what,
                         f"no namedPort in a rule with a {what} peer",
                         hint=f"{what} peers have no named ports; use portNumber or portRange"))
    return out


class _Rule(CRDModel):
    _ACTIONS: ClassVar[tuple[str, ...]] = ANP_ACTIONS
    _KIND: ClassVar[str] = "AdminNetworkPolicy"
    _SIDE: ClassVar[str] = "from"

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        return _check_rule(self, broken, self._ACTIONS, self._SIDE, self._KIND)


class AdminNetworkPolicyIngressRule(_Rule):
    """An ingress rule: ``action`` for traffic from any of ``from`` on any of ``ports``.

    ``ports`` absent matches every port; ``name`` is at most 100 characters.

    Example:
        >>> r = AdminNetworkPolicyIngressRule(action="Deny", from_=[
        ...     AdminNetworkPolicyIngressPeer(namespaces=LabelSelector())])
        >>> r.to_dict()
        {'action': 'Deny', 'from': [{'namespaces': {}}]}
    """

    name: StrictStr | None = None
    action: StrictStr
    from_: Annotated[tuple[AdminNetworkPolicyIngressPeer, ...], Field(alias="from")]
    ports: tuple[AdminNetworkPolicyPort, ...] | None = None

    @property
    def peers(self) -> tuple[AdminNetworkPolicyIngressPeer, ...]:
        """``from``.

        Example:
            >>> AdminNetworkPolicyIngressRule(action="Allow", from_=[
            ...     AdminNetworkPolicyIngressPeer(namespaces=LabelSelector())]).peers[0].namespaces
            LabelSelector(match_labels=None, match_expressions=None)
        """
        return self.from_


class AdminNetworkPolicyEgressRule(_Rule):
    """An egress rule: ``action`` for traffic to any of ``to`` on any of ``ports``.

    Example:
        >>> AdminNetworkPolicyEgressRule(action="Deny", to=[
        ...     AdminNetworkPolicyEgressPeer(networks=["0.0.0.0/0"])]).to_dict()
        {'action': 'Deny', 'to': [{'networks': ['0.0.0.0/0']}]}
    """

    _SIDE: ClassVar[str] = "to"

    name: StrictStr | None = None
    action: StrictStr
    to: tuple[AdminNetworkPolicyEgressPeer, ...]
    ports: tuple[AdminNetworkPolicyPort, ...] | None = None

    @property
    def peers(self) -> tuple[AdminNetworkPolicyEgressPeer, ...]:
        """``to``.

        Example:
            >>> len(AdminNetworkPolicyEgressRule(action="Deny", to=[
            ...     AdminNetworkPolicyEgressPeer(networks=["0.0.0.0/0"])]).peers)
            1
        """
        return self.to


class BaselineAdminNetworkPolicyIngressRule(_Rule):
    """A BANP ingress rule (actions ``Allow`` and ``Deny`` only).

    Example:
        >>> BaselineAdminNetworkPolicyIngressRule(action="Pass", from_=[
        ...     AdminNetworkPolicyIngressPeer(namespaces=LabelSelector())])
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.InvalidPolicyError: action: got 'Pass'; expected one of 'Allow', 'Deny'. A baseline has nothing after it to pass to; use Allow or Deny
    """

    _ACTIONS: ClassVar[tuple[str, ...]] = BANP_ACTIONS
    _KIND: ClassVar[str] = "BaselineAdminNetworkPolicy"

    name: StrictStr | None = None
    action: StrictStr
    from_: Annotated[tuple[AdminNetworkPolicyIngressPeer, ...], Field(alias="from")]
    ports: tuple[AdminNetworkPolicyPort, ...] | None = None

    @property
    def peers(self) -> tuple[AdminNetworkPolicyIngressPeer, ...]:
        """``from``.

        Example:
            >>> len(BaselineAdminNetworkPolicyIngressRule(action="Deny", from_=[
            ...     AdminNetworkPolicyIngressPeer(namespaces=LabelSelector())]).peers)
            1
        """
        return self.from_


class BaselineAdminNetworkPolicyEgressRule(_Rule):
    """A BANP egress rule (``Allow``/``Deny``; peers without ``domainNames``).

    Example:
        >>> BaselineAdminNetworkPolicyEgressRule(action="Allow", to=[
        ...     BaselineAdminNetworkPolicyEgressPeer(namespaces=LabelSelector())]).action
        'Allow'
    """

    _ACTIONS: ClassVar[tuple[str, ...]] = BANP_ACTIONS
    _KIND: ClassVar[str] = "BaselineAdminNetworkPolicy"
    _SIDE: ClassVar[str] = "to"

    name: StrictStr | None = None
    action: StrictStr
    to: tuple[BaselineAdminNetworkPolicyEgressPeer, ...]
    ports: tuple[AdminNetworkPolicyPort, ...] | None = None

    @property
    def peers(self) -> tuple[BaselineAdminNetworkPolicyEgressPeer, ...]:
        """``to``.

        Example:
            >>> len(BaselineAdminNetworkPolicyEgressRule(action="Deny", to=[
            ...     BaselineAdminNetworkPolicyEgressPeer(networks=["::/0"])]).peers)
            1
        """
        return self.to


# --------------------------------------------------------------------------- specs and kinds


def _check_rule_lists(spec: Any, broken: frozenset[str]) -> list[Issue]:
    out: list[Issue] = []
    for name in ("ingress", "egress"):
        if name not in broken:
            out.extend(check_count(getattr(spec, name), name, 0, LIST_MAX, f"{name} rules"))
    return out


class AdminNetworkPolicySpec(CRDModel):
    """``priority`` (0..1000, lower first), ``subject``, and ordered ``ingress``/``egress`` rules
    (at most 100 each).

    Example:
        >>> AdminNetworkPolicySpec(priority=10, subject=AdminNetworkPolicySubject(
        ...     namespaces=LabelSelector())).to_dict()
        {'priority': 10, 'subject': {'namespaces': {}}}
    """

    priority: StrictInt
    subject: AdminNetworkPolicySubject
    ingress: tuple[AdminNetworkPolicyIngressRule, ...] | None = None
    egress: tuple[AdminNetworkPolicyEgressRule, ...] | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        out = _check_rule_lists(self, broken)
        if "priority" not in broken:
            out.extend(check_range(self.priority, "priority", 0, PRIORITY_MAX))
        return out


class BaselineAdminNetworkPolicySpec(CRDModel):
    """``subject`` and ordered ``ingress``/``egress`` rules (at most 100 each); no priority.

    Example:
        >>> BaselineAdminNetworkPolicySpec(subject=AdminNetworkPolicySubject(
        ...     namespaces=LabelSelector())).to_dict()
        {'subject': {'namespaces': {}}}
    """

    subject: AdminNetworkPolicySubject
    ingress: tuple[BaselineAdminNetworkPolicyIngressRule, ...] | None = None
    egress: tuple[BaselineAdminNetworkPolicyEgressRule, ...] | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        return _check_rule_lists(self, broken)


def _v1alpha1_warnings(spec: Any) -> list[Issue]:
    out: list[Issue] = []
    for direction, side in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(getattr(spec, direction) or ()):
            for j, peer in enumerate(rule.peers):
                if peer.is_legacy:
                    which = "namespaces" if isinstance(peer.namespaces, LegacyNamespaces) else "pods"
                    out.append(Issue(
                        f"spec.{direction}[{i}].{side}[{j}].{which}", peer.to_dict()[which],
                        "the v1alpha1 shape of v0.1.3 and later",
                        hint="This is the obsolete shape (v0.1.2 and before: namespaces: "
                             "{namespaceSelector | sameLabels | notSameLabels}); today's CRD "
                             "refuses it. It is evaluated as that version defined it"))
            for j, port in enumerate(rule.ports or ()):
                proto = port.protocol
                if proto is not None and proto not in _rules.PROTOCOLS:
                    inner = "portNumber" if port.port_number is not None else "portRange"
                    out.append(Issue(
                        f"spec.{direction}[{i}].ports[{j}].{inner}.protocol", proto,
                        "one of 'TCP', 'UDP', 'SCTP'",
                        hint="The CRD accepts any string here, but no connection has this "
                             "protocol, so the port matches nothing"))
    return out


def _v1alpha1_experimental(spec: Any) -> tuple[str, ...]:
    out: list[str] = []
    for direction, side in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(getattr(spec, direction) or ()):
            for j, peer in enumerate(rule.peers):
                for f, wire in (("nodes", "nodes"), ("domain_names", "domainNames")):
                    if getattr(peer, f, None) is not None:
                        out.append(f"spec.{direction}[{i}].{side}[{j}].{wire}")
            for j, port in enumerate(rule.ports or ()):
                if port.named_port is not None:
                    out.append(f"spec.{direction}[{i}].ports[{j}].namedPort")
    return tuple(out)


class AdminNetworkPolicy(ClusterPolicyBase):
    """A ``policy.networking.k8s.io/v1alpha1`` AdminNetworkPolicy (cluster-scoped).

    Evaluated before NetworkPolicies, by ascending ``priority``; within one policy the first rule
    (in written order) whose peer and port match decides: ``Allow`` and ``Deny`` are final,
    ``Pass`` hands the connection to the NetworkPolicy tier.

    Example:
        >>> anp = AdminNetworkPolicy.model_validate({
        ...     "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
        ...     "metadata": {"name": "deny-smtp"},
        ...     "spec": {"priority": 10, "subject": {"namespaces": {}},
        ...              "egress": [{"name": "no-smtp", "action": "Deny",
        ...                          "to": [{"networks": ["0.0.0.0/0"]}],
        ...                          "ports": [{"portNumber": {"port": 25}}]}]}})
        >>> anp.key, anp.spec.priority, anp.spec.egress[0].ports[0].port_number.protocol
        ('deny-smtp', 10, 'TCP')
    """

    API_VERSION: ClassVar[str] = V1ALPHA1

    api_version: Literal["policy.networking.k8s.io/v1alpha1"] = "policy.networking.k8s.io/v1alpha1"
    kind: Literal["AdminNetworkPolicy"] = "AdminNetworkPolicy"
    spec: AdminNetworkPolicySpec

    def warnings(self) -> list[Issue]:
        """The base warnings, obsolete-shape peers, and protocols other than TCP/UDP/SCTP.

        Example:
            >>> AdminNetworkPolicy.model_validate({"metadata": {"name": "a"}, "spec": {
            ...     "priority": 1, "subject": {"namespaces": {}}, "ingress": [{"action": "Deny",
            ...     "from": [{"namespaces": {"sameLabels": ["tenant"]}}]}]}}).warnings()[0].path
            'spec.ingress[0].from[0].namespaces'
        """
        return super().warnings() + _v1alpha1_warnings(self.spec)

    def experimental_fields(self) -> tuple[str, ...]:
        """Paths of ``nodes``, ``domainNames`` and ``namedPort`` (experimental channel only).

        Example:
            >>> AdminNetworkPolicy.model_validate({"metadata": {"name": "a"}, "spec": {
            ...     "priority": 1, "subject": {"namespaces": {}}, "egress": [{"action": "Allow",
            ...     "to": [{"nodes": {}}]}]}}).experimental_fields()
            ('spec.egress[0].to[0].nodes',)
        """
        return _v1alpha1_experimental(self.spec)


class BaselineAdminNetworkPolicy(ClusterPolicyBase):
    """A ``policy.networking.k8s.io/v1alpha1`` BaselineAdminNetworkPolicy: the one cluster
    default (its name must be ``default``), consulted when no AdminNetworkPolicy decided and no
    NetworkPolicy selects the pod in that direction.

    Example:
        >>> BaselineAdminNetworkPolicy.model_validate({"metadata": {"name": "baseline"},
        ...     "spec": {"subject": {"namespaces": {}}}})
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.InvalidPolicyError: metadata.name: got 'baseline'; expected 'default'. Only one baseline admin network policy with metadata.name="default" can be created in the cluster
    """

    API_VERSION: ClassVar[str] = V1ALPHA1

    api_version: Literal["policy.networking.k8s.io/v1alpha1"] = "policy.networking.k8s.io/v1alpha1"
    kind: Literal["BaselineAdminNetworkPolicy"] = "BaselineAdminNetworkPolicy"
    spec: BaselineAdminNetworkPolicySpec

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        # A partial object (another field failed) may lack metadata: model_construct leaves it unset.
        meta: ObjectMeta | None = getattr(self, "metadata", None)
        if "metadata" in broken or meta is None or meta.name is None or meta.name == BANP_NAME:
            return []
        return [Issue("metadata.name", meta.name, repr(BANP_NAME),
                      hint='Only one baseline admin network policy with metadata.name="default" '
                           "can be created in the cluster")]

    def warnings(self) -> list[Issue]:
        """The base warnings, obsolete-shape peers, and protocols other than TCP/UDP/SCTP.

        Example:
            >>> BaselineAdminNetworkPolicy.model_validate({"metadata": {"name": "default"},
            ...     "spec": {"subject": {"namespaces": {}}}}).warnings()
            []
        """
        return super().warnings() + _v1alpha1_warnings(self.spec)

    def experimental_fields(self) -> tuple[str, ...]:
        """Paths of ``nodes`` and ``namedPort`` (experimental channel only).

        Example:
            >>> BaselineAdminNetworkPolicy.model_validate({"metadata": {"name": "default"},
            ...     "spec": {"subject": {"namespaces": {}}}}).experimental_fields()
            ()
        """
        return _v1alpha1_experimental(self.spec)
