"""ClusterNetworkPolicy, ``policy.networking.k8s.io/v1alpha2``.

Exact shapes and rules of ``kubernetes-sigs/network-policy-api`` at tag v0.2.0 (``a17adecd``;
unchanged in validation at ``0eec1b0e``): ``apis/v1alpha2/clusternetworkpolicy_types.go`` and the
experimental-channel CRD ``config/crd/experimental/policy.networking.k8s.io_clusternetworkpolicies.yaml``
(a superset of the standard one: it adds ``nodes`` and ``domainNames``, and the CEL rule that
refuses ``destinationNamedPort`` in a rule with a ``networks``/``nodes``/``domainNames`` peer, which
the field's own documentation states for both channels).

What changed from v1alpha1: one kind for both tiers (``spec.tier: Admin | Baseline``), ``Accept``
instead of ``Allow``, ``Pass`` in the baseline tier too, ports written per protocol under
``protocols``, a ``pods`` peer whose ``namespaceSelector`` may be omitted (all namespaces), and at
most 25 rules, peers and protocols per list.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StrictInt, StrictStr

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
from netpol_dsl.model.selector import LabelSelector

__all__ = [
    "CNP_ACTIONS",
    "TIERS",
    "V1ALPHA2",
    "ClusterNetworkPolicy",
    "ClusterNetworkPolicyEgressPeer",
    "ClusterNetworkPolicyEgressRule",
    "ClusterNetworkPolicyIngressPeer",
    "ClusterNetworkPolicyIngressRule",
    "ClusterNetworkPolicyNamespacedPod",
    "ClusterNetworkPolicyPort",
    "ClusterNetworkPolicyPortRange",
    "ClusterNetworkPolicyProtocol",
    "ClusterNetworkPolicyProtocolPorts",
    "ClusterNetworkPolicySpec",
    "ClusterNetworkPolicySubject",
]

V1ALPHA2 = f"{API_GROUP}/v1alpha2"
#: ``ClusterNetworkPolicyRuleAction``: ``+kubebuilder:validation:Enum={"Accept", "Deny", "Pass"}``.
CNP_ACTIONS = ("Accept", "Deny", "Pass")
#: ``Tier``: ``+kubebuilder:validation:Enum={"Admin", "Baseline"}``.
TIERS = ("Admin", "Baseline")
#: Rules (``MaxItems=25``), peers and protocols (``MinItems=1``, ``MaxItems=25``) per list
#: (commit ``d5b5d56`` lowered them from 100).
LIST_MAX = 25
_PORT_MAX = 65535


class ClusterNetworkPolicyNamespacedPod(CRDModel):
    """Pods that ``podSelector`` selects in the namespaces ``namespaceSelector`` selects.

    ``namespaceSelector`` is optional; omitted it is ``{}``, **all namespaces** (not the subject's
    namespace: ``NamespacedPod`` in ``clusternetworkpolicy_types.go``).

    Example:
        >>> p = ClusterNetworkPolicyNamespacedPod(pod_selector=LabelSelector(
        ...     match_labels={"app": "db"}))
        >>> p.to_dict(), p.effective_namespace_selector.is_empty
        ({'podSelector': {'matchLabels': {'app': 'db'}}}, True)
    """

    namespace_selector: LabelSelector | None = None
    pod_selector: LabelSelector

    @property
    def effective_namespace_selector(self) -> LabelSelector:
        """``namespaceSelector``, or ``{}`` (every namespace) when omitted.

        Example:
            >>> ClusterNetworkPolicyNamespacedPod(pod_selector=LabelSelector()
            ...     ).effective_namespace_selector.to_dict()
            {}
        """
        return self.namespace_selector if self.namespace_selector is not None else LabelSelector()


class ClusterNetworkPolicySubject(CRDModel):
    """The pods a policy applies to: exactly one of ``namespaces`` or ``pods``.

    Example:
        >>> ClusterNetworkPolicySubject(namespaces=LabelSelector()).to_dict()
        {'namespaces': {}}
    """

    namespaces: LabelSelector | None = None
    pods: ClusterNetworkPolicyNamespacedPod | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        return check_one_of(self, ["namespaces", "pods"], broken,
                            hint="For pods of some namespaces use pods: {namespaceSelector, "
                                 "podSelector}")


class ClusterNetworkPolicyIngressPeer(CRDModel):
    """A source: exactly one of ``namespaces`` or ``pods`` (never host-network pods).

    Example:
        >>> ClusterNetworkPolicyIngressPeer(namespaces=LabelSelector()).to_dict()
        {'namespaces': {}}
    """

    namespaces: LabelSelector | None = None
    pods: ClusterNetworkPolicyNamespacedPod | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        return check_one_of(self, ["namespaces", "pods"], broken)

    @property
    def has_address_peer(self) -> bool:
        """Always False: ingress peers are pods.

        Example:
            >>> ClusterNetworkPolicyIngressPeer(namespaces=LabelSelector()).has_address_peer
            False
        """
        return False


class ClusterNetworkPolicyEgressPeer(CRDModel):
    """A destination: exactly one of ``namespaces``, ``pods``, ``nodes`` (experimental),
    ``networks`` or ``domainNames`` (experimental).

    Example:
        >>> ClusterNetworkPolicyEgressPeer(domain_names=["*.example.com"]).to_dict()
        {'domainNames': ['*.example.com']}
    """

    namespaces: LabelSelector | None = None
    pods: ClusterNetworkPolicyNamespacedPod | None = None
    nodes: LabelSelector | None = None
    networks: tuple[StrictStr, ...] | None = None
    domain_names: tuple[StrictStr, ...] | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        out = check_one_of(self, ["namespaces", "pods", "nodes", "networks", "domain_names"],
                           broken)
        if "networks" not in broken:
            out.extend(check_cidrs(self.networks, "networks"))
        if "domain_names" not in broken:
            out.extend(check_domain_names(self.domain_names, "domainNames"))
        return out

    @property
    def has_address_peer(self) -> bool:
        """Whether this is a ``networks``, ``nodes`` or ``domainNames`` peer (no named ports).

        Example:
            >>> ClusterNetworkPolicyEgressPeer(nodes=LabelSelector()).has_address_peer
            True
        """
        return any(x is not None for x in (self.networks, self.nodes, self.domain_names))


class ClusterNetworkPolicyPortRange(CRDModel):
    """Ports ``start``..``end`` inclusive; CEL requires ``start < end``.

    Example:
        >>> ClusterNetworkPolicyPort.model_validate({"range": {"start": 80, "end": 80}})
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.InvalidPolicyError: range: got {'start': 80, 'end': 80}; expected start < end. Start port must be less than End port; for one port write number: 80
    """

    start: StrictInt
    end: StrictInt

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        out: list[Issue] = []
        if "start" not in broken:
            out.extend(check_range(self.start, "start", 1, _PORT_MAX))
        if "end" not in broken:
            out.extend(check_range(self.end, "end", 1, _PORT_MAX))
        if "start" not in broken and "end" not in broken and not self.start < self.end:
            # PortRange: XValidation:rule="self.start < self.end".
            hint = "Start port must be less than End port"
            if self.start == self.end:
                hint += f"; for one port write number: {self.start}"
            out.append(Issue("", {"start": self.start, "end": self.end}, "start < end", hint=hint))
        return out


class ClusterNetworkPolicyPort(CRDModel):
    """``destinationPort``: exactly one of ``number`` (1..65535) or ``range``.

    Example:
        >>> ClusterNetworkPolicyPort(number=443).to_dict()
        {'number': 443}
    """

    number: StrictInt | None = None
    range: ClusterNetworkPolicyPortRange | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        out = check_one_of(self, ["number", "range"], broken,
                           hint="Write one; use another protocols item for the other")
        if "number" not in broken:
            out.extend(check_range(self.number, "number", 1, _PORT_MAX))
        return out


class ClusterNetworkPolicyProtocolPorts(CRDModel):
    """``tcp``/``udp``/``sctp``: ``destinationPort`` (required: ``MinProperties=1``, so ``tcp: {}``
    is refused although an omitted port would mean every port).

    Example:
        >>> ClusterNetworkPolicyProtocolPorts.model_validate({})
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.InvalidPolicyError: destinationPort: got nothing (the field is required); expected a destinationPort (MinProperties=1). To match every port of a protocol, write range: {start: 1, end: 65535}
    """

    destination_port: ClusterNetworkPolicyPort | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        if self.destination_port is None and "destination_port" not in broken:
            return [Issue("destinationPort", None, "a destinationPort (MinProperties=1)",
                          hint="To match every port of a protocol, write range: "
                               "{start: 1, end: 65535}", missing=True)]
        return []


class ClusterNetworkPolicyProtocol(CRDModel):
    """One ``protocols`` entry: exactly one of ``tcp``, ``udp``, ``sctp`` or
    ``destinationNamedPort`` (a container port name of the destination pod).

    Example:
        >>> ClusterNetworkPolicyProtocol.model_validate(
        ...     {"udp": {"destinationPort": {"number": 53}}}).to_dict()
        {'udp': {'destinationPort': {'number': 53}}}
    """

    tcp: ClusterNetworkPolicyProtocolPorts | None = None
    udp: ClusterNetworkPolicyProtocolPorts | None = None
    sctp: ClusterNetworkPolicyProtocolPorts | None = None
    destination_named_port: StrictStr | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        return check_one_of(self, ["tcp", "udp", "sctp", "destination_named_port"], broken)

    @property
    def protocol(self) -> str | None:
        """``TCP``, ``UDP`` or ``SCTP`` (None for a named port).

        Example:
            >>> ClusterNetworkPolicyProtocol.model_validate(
            ...     {"sctp": {"destinationPort": {"number": 9003}}}).protocol
            'SCTP'
        """
        for name in ("tcp", "udp", "sctp"):
            if getattr(self, name) is not None:
                return name.upper()
        return None

    @property
    def ports(self) -> ClusterNetworkPolicyProtocolPorts | None:
        """The ``tcp``/``udp``/``sctp`` entry (None for a named port).

        Example:
            >>> ClusterNetworkPolicyProtocol(destination_named_port="web").ports is None
            True
        """
        return self.tcp or self.udp or self.sctp


def _check_rule(rule: ClusterNetworkPolicyIngressRule | ClusterNetworkPolicyEgressRule,
                broken: frozenset[str], side: str) -> list[Issue]:
    out: list[Issue] = []
    # A partial object (another field failed) lacks the fields that were missing.
    name = getattr(rule, "name", None)
    action = getattr(rule, "action", None)
    peers = getattr(rule, "from_" if side == "from" else "to", None)
    protocols = getattr(rule, "protocols", None)
    if "name" not in broken and name is not None and len(name) > RULE_NAME_MAX:
        out.append(Issue("name", name, f"at most {RULE_NAME_MAX} characters"))
    if "action" not in broken and action is not None and action not in CNP_ACTIONS:
        hint = "v1alpha2 says Accept where v1alpha1 said Allow" if action == "Allow" else None
        out.append(Issue("action", action, "one of 'Accept', 'Deny', 'Pass'", hint=hint))
    if side not in broken:
        out.extend(check_count(peers, side, 1, LIST_MAX, "peers"))
    if "protocols" not in broken:
        out.extend(check_count(protocols, "protocols", 1, LIST_MAX, "protocols"))
    if (side == "to" and side not in broken and "protocols" not in broken
            and any(p.has_address_peer for p in peers or ())
            and any(p.destination_named_port is not None for p in protocols or ())):
        # ClusterNetworkPolicyEgressRule XValidation (experimental CRD); the field's doc: "You
        # can't use this in a rule that targets resources without named ports".
        out.append(Issue("", "destinationNamedPort with networks/nodes/domainNames",
                         "no destinationNamedPort in a rule with a networks/nodes/domainNames peer",
                         hint="networks/nodes/domainNames peers have no named ports; use tcp/udp/sctp "
                              "destinationPort"))
    return out


class ClusterNetworkPolicyIngressRule(CRDModel):
    """An ingress rule: ``action`` (Accept, Deny, Pass) for traffic from any of ``from`` on any
    of ``protocols`` (absent: every port).

    Example:
        >>> ClusterNetworkPolicyIngressRule(action="Accept", from_=[
        ...     ClusterNetworkPolicyIngressPeer(namespaces=LabelSelector())]).to_dict()
        {'action': 'Accept', 'from': [{'namespaces': {}}]}
    """

    name: StrictStr | None = None
    action: StrictStr
    from_: Annotated[tuple[ClusterNetworkPolicyIngressPeer, ...], Field(alias="from")]
    protocols: tuple[ClusterNetworkPolicyProtocol, ...] | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        return _check_rule(self, broken, "from")

    @property
    def peers(self) -> tuple[ClusterNetworkPolicyIngressPeer, ...]:
        """``from``.

        Example:
            >>> len(ClusterNetworkPolicyIngressRule(action="Deny", from_=[
            ...     ClusterNetworkPolicyIngressPeer(namespaces=LabelSelector())]).peers)
            1
        """
        return self.from_


class ClusterNetworkPolicyEgressRule(CRDModel):
    """An egress rule: ``action`` for traffic to any of ``to`` on any of ``protocols``.

    Example:
        >>> ClusterNetworkPolicyEgressRule(action="Deny", to=[
        ...     ClusterNetworkPolicyEgressPeer(networks=["0.0.0.0/0"])]).to_dict()
        {'action': 'Deny', 'to': [{'networks': ['0.0.0.0/0']}]}
    """

    name: StrictStr | None = None
    action: StrictStr
    to: tuple[ClusterNetworkPolicyEgressPeer, ...]
    protocols: tuple[ClusterNetworkPolicyProtocol, ...] | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        return _check_rule(self, broken, "to")

    @property
    def peers(self) -> tuple[ClusterNetworkPolicyEgressPeer, ...]:
        """``to``.

        Example:
            >>> len(ClusterNetworkPolicyEgressRule(action="Deny", to=[
            ...     ClusterNetworkPolicyEgressPeer(networks=["::/0"])]).peers)
            1
        """
        return self.to


class ClusterNetworkPolicySpec(CRDModel):
    """``tier`` (Admin or Baseline), ``priority`` (0..1000, lower first within the tier),
    ``subject``, and ordered ``ingress``/``egress`` rules (at most 25 each).

    Example:
        >>> ClusterNetworkPolicySpec(tier="Baseline", priority=0, subject=
        ...     ClusterNetworkPolicySubject(namespaces=LabelSelector())).to_dict()
        {'tier': 'Baseline', 'priority': 0, 'subject': {'namespaces': {}}}
    """

    tier: StrictStr
    priority: StrictInt
    subject: ClusterNetworkPolicySubject
    ingress: tuple[ClusterNetworkPolicyIngressRule, ...] | None = None
    egress: tuple[ClusterNetworkPolicyEgressRule, ...] | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        out: list[Issue] = []
        if "tier" not in broken and self.tier not in TIERS:
            out.append(Issue("tier", self.tier, "one of 'Admin', 'Baseline'"))
        if "priority" not in broken:
            out.extend(check_range(self.priority, "priority", 0, PRIORITY_MAX))
        for name in ("ingress", "egress"):
            if name not in broken:
                out.extend(check_count(getattr(self, name), name, 0, LIST_MAX, f"{name} rules"))
        return out


class ClusterNetworkPolicy(ClusterPolicyBase):
    """A ``policy.networking.k8s.io/v1alpha2`` ClusterNetworkPolicy (cluster-scoped).

    Tiers are evaluated Admin, then NetworkPolicy, then Baseline, then the default (allow);
    within a tier by ascending ``priority``, rules in written order, the first match deciding:
    ``Accept`` and ``Deny`` are final, ``Pass`` goes on to the next tier.

    Example:
        >>> cnp = ClusterNetworkPolicy.model_validate({
        ...     "apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
        ...     "metadata": {"name": "allow-dns"},
        ...     "spec": {"tier": "Admin", "priority": 5, "subject": {"namespaces": {}},
        ...              "egress": [{"action": "Accept",
        ...                          "to": [{"pods": {"podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}}],
        ...                          "protocols": [{"udp": {"destinationPort": {"number": 53}}}]}]}})
        >>> cnp.spec.tier, cnp.spec.egress[0].protocols[0].protocol
        ('Admin', 'UDP')
    """

    API_VERSION: ClassVar[str] = V1ALPHA2

    api_version: Literal["policy.networking.k8s.io/v1alpha2"] = "policy.networking.k8s.io/v1alpha2"
    kind: Literal["ClusterNetworkPolicy"] = "ClusterNetworkPolicy"
    spec: ClusterNetworkPolicySpec

    def experimental_fields(self) -> tuple[str, ...]:
        """Paths of ``nodes`` and ``domainNames`` peers (experimental channel only).

        Example:
            >>> ClusterNetworkPolicy.model_validate({"metadata": {"name": "a"}, "spec": {
            ...     "tier": "Admin", "priority": 1, "subject": {"namespaces": {}}, "egress": [{
            ...     "action": "Accept", "to": [{"domainNames": ["example.com"]}]}]}}
            ... ).experimental_fields()
            ('spec.egress[0].to[0].domainNames',)
        """
        out: list[str] = []
        for i, rule in enumerate(self.spec.egress or ()):
            for j, peer in enumerate(rule.to):
                if peer.nodes is not None:
                    out.append(f"spec.egress[{i}].to[{j}].nodes")
                if peer.domain_names is not None:
                    out.append(f"spec.egress[{i}].to[{j}].domainNames")
        return tuple(out)
