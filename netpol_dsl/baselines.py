"""Baselines every isolated namespace needs: default-deny, DNS, and same-namespace traffic.

Each takes the namespace it applies to, or none inside ``PolicySet(namespace=...)``:

```python
PolicySet(namespace="payments").add(deny_all(), allow_dns())
```

Default-deny in ``kube-system`` cuts DNS and the cluster's add-ons off ("Do not apply it to
kube-system unless you fully understand the implications"), so ``deny_all`` refuses it unless
``unsafe_kube_system=True``; a ``PolicySet`` likewise refuses any policy landing there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from netpol_dsl import _coerce
from netpol_dsl.builder import (
    Context,
    Fragment,
    Halves,
    Port,
    Site,
    Statement,
    allow,
    caller_site,
    tcp,
    udp,
)
from netpol_dsl.errors import DslUsageError
from netpol_dsl.model import (
    LabelSelector,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    PolicyType,
)
from netpol_dsl.selectors import Selector, all_pods, namespace, pods

__all__ = [
    "KUBE_DNS",
    "AllowDns",
    "AllowSameNamespace",
    "DenyAll",
    "allow_dns",
    "allow_same_namespace",
    "deny_all",
]

_ALL_PODS: Selector = all_pods()

#: The cluster DNS pods: CoreDNS keeps kube-dns's ``k8s-app: kube-dns`` label in kube-system.
KUBE_DNS: Selector = namespace("kube-system") & pods({"k8s-app": "kube-dns"})

_TYPES: dict[Halves, tuple[PolicyType, ...]] = {
    "both": ("Ingress", "Egress"),
    "ingress": ("Ingress",),
    "egress": ("Egress",),
}


def _direction(value: object, where: str) -> Halves:
    if value not in _TYPES:
        msg = f"{where}: got direction={value!r}; expected one of 'both', 'ingress', 'egress'"
        raise DslUsageError(msg)
    return value


def _home(own: str | None, ctx: Context, where: str) -> str:
    ns = own if own is not None else ctx.namespace
    if ns is None:
        msg = (
            f"{where}: got no namespace; expected one, e.g. {where[:-2]}('payments'), or add it "
            "to PolicySet(namespace='payments')"
        )
        raise DslUsageError(msg)
    return ns


def _refuse_kube_system(ns: str, unsafe: bool, where: str) -> None:
    if ns == "kube-system" and not unsafe:
        msg = (
            f"{where}: got namespace='kube-system'; expected an application namespace. "
            "Default-deny in kube-system blocks cluster DNS and the control plane's add-ons; "
            "pass unsafe_kube_system=True only if you have allowed everything they need"
        )
        raise DslUsageError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class DenyAll(Statement):
    """Namespace-wide default deny: every pod selected, no traffic allowed. See ``deny_all``.

    Example:
        >>> DenyAll(namespace="payments").direction
        'both'
    """

    namespace: str | None = None
    direction: Halves = "both"
    name: str | None = None
    unsafe_kube_system: bool = False
    #: where it was written (not part of its value: equal statements on two lines are equal)
    site: Site | None = dataclasses.field(default_factory=caller_site, compare=False, repr=False)

    def __post_init__(self) -> None:
        _direction(self.direction, "deny_all()")
        if self.namespace is not None:
            _coerce.namespace_name(self.namespace, "deny_all()")
            _refuse_kube_system(self.namespace, self.unsafe_kube_system, "deny_all()")
        if self.name is not None:
            _coerce.name(self.name, "deny_all()")

    @property
    def policy_name(self) -> str:
        """``default-deny-all``, ``default-deny-ingress`` or ``default-deny-egress`` unless named.

        Example:
            >>> deny_all("a", direction="egress").policy_name
            'default-deny-egress'
        """
        suffix = "all" if self.direction == "both" else self.direction
        return self.name or f"default-deny-{suffix}"

    def fragments(self, ctx: Context) -> tuple[Fragment, ...]:
        """One fragment: ``podSelector: {}`` with the chosen policyTypes and no rules.

        Raises:
            DslUsageError: no namespace, or kube-system without the override.

        Example:
            >>> deny_all().fragments(Context(namespace="a"))[0].policy_types
            ('Ingress', 'Egress')
        """
        ns = _home(self.namespace, ctx, "deny_all()")
        _refuse_kube_system(ns, self.unsafe_kube_system, "deny_all()")
        return (
            Fragment(
                namespace=ns,
                pod_selector=LabelSelector(),
                policy_types=_TYPES[self.direction],
                name=self.policy_name,
                origin=repr(self),
                unsafe_kube_system=self.unsafe_kube_system,
            ),
        )

    def __repr__(self) -> str:
        args = [repr(self.namespace)] if self.namespace is not None else []
        if self.direction != "both":
            args.append(f"direction={self.direction!r}")
        if self.name is not None:
            args.append(f"name={self.name!r}")
        if self.unsafe_kube_system:
            args.append("unsafe_kube_system=True")
        return f"deny_all({', '.join(args)})"


def deny_all(
    namespace: str | None = None,
    *,
    direction: Halves = "both",
    name: str | None = None,
    unsafe_kube_system: bool = False,
) -> DenyAll:
    """Default-deny for a namespace: ``podSelector: {}`` and policyTypes without rules.

    ``direction`` picks ``"both"`` (``default-deny-all``), ``"ingress"`` or ``"egress"``.
    Apply allow-lists next; DNS first (``allow_dns``), since deny-all stops lookups too.

    Raises:
        DslUsageError: ``kube-system`` without ``unsafe_kube_system=True``, or a bad direction.
        InvalidPolicyError: an invalid namespace or name.

    Example:
        >>> from netpol_dsl import to_yaml
        >>> print(to_yaml(deny_all("payments").compile()), end="")
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: default-deny-all
          namespace: payments
        spec:
          podSelector: {}
          policyTypes:
          - Ingress
          - Egress
    """
    return DenyAll(
        namespace=namespace, direction=direction, name=name, unsafe_kube_system=unsafe_kube_system
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowDns(Statement):
    """Egress from ``select`` to the cluster DNS on ``ports``. See ``allow_dns``.

    Example:
        >>> AllowDns(namespace="a").name
        'allow-dns-egress'
    """

    namespace: str | None = None
    select: Selector = _ALL_PODS
    dns: Selector = KUBE_DNS
    ports: tuple[Port, ...] = (udp(53), tcp(53))
    name: str = "allow-dns-egress"
    #: where it was written (not part of its value: equal statements on two lines are equal)
    site: Site | None = dataclasses.field(default_factory=caller_site, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.namespace is not None:
            _coerce.namespace_name(self.namespace, "allow_dns()")
        _coerce.name(self.name, "allow_dns()")
        if not self.ports:
            msg = "allow_dns(): got ports=(); expected at least one, e.g. (udp(53), tcp(53))"
            raise DslUsageError(msg)

    def fragments(self, ctx: Context) -> tuple[Fragment, ...]:
        """One egress fragment on ``select`` in the namespace.

        Example:
            >>> allow_dns().fragments(Context(namespace="a"))[0].policy_types
            ('Egress',)
        """
        ns = _home(self.namespace, ctx, "allow_dns()")
        flow = allow(self.select).to(self.dns).on(*self.ports).egress_only().named(self.name)
        frags = flow.fragments(Context(namespace=ns, halves="egress"))
        return tuple(dataclasses.replace(f, origin=repr(self)) for f in frags)

    def __repr__(self) -> str:
        args = [repr(self.namespace)] if self.namespace is not None else []
        if self.select != all_pods():
            args.append(f"select={self.select!r}")
        if self.dns != KUBE_DNS:
            args.append(f"dns={self.dns!r}")
        if self.ports != (udp(53), tcp(53)):
            args.append(f"ports={list(self.ports)!r}")
        if self.name != "allow-dns-egress":
            args.append(f"name={self.name!r}")
        return f"allow_dns({', '.join(args)})"


def allow_dns(
    namespace: str | None = None,
    *,
    select: Selector = _ALL_PODS,
    dns: Selector = KUBE_DNS,
    ports: Iterable[Port] = (udp(53), tcp(53)),
    name: str = "allow-dns-egress",
) -> AllowDns:
    """Let pods resolve names: egress to kube-dns in kube-system on UDP and TCP 53.

    Override ``dns`` for other setups, e.g. NodeLocal DNSCache on its link-local address,
    ``dns=ip_block("169.254.20.10/32")``, or a differently labelled CoreDNS,
    ``dns=namespace("kube-system") & pods({"k8s-app": "coredns"})``. ``select`` narrows
    which pods get DNS (default: all of the namespace).

    Raises:
        DslUsageError: no ports.
        InvalidPolicyError: an invalid namespace or name.

    Example:
        >>> p = allow_dns("payments").compile()[0]
        >>> p.to_dict()["spec"]["egress"][0]["to"]
        [{'podSelector': {'matchLabels': {'k8s-app': 'kube-dns'}}, 'namespaceSelector': {'matchLabels': {'kubernetes.io/metadata.name': 'kube-system'}}}]
    """
    return AllowDns(namespace=namespace, select=select, dns=dns, ports=tuple(ports), name=name)


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowSameNamespace(Statement):
    """Every pod of a namespace may talk to every other pod of it. See ``allow_same_namespace``.

    Example:
        >>> AllowSameNamespace(namespace="a").name
        'allow-same-namespace'
    """

    namespace: str | None = None
    direction: Halves = "both"
    name: str = "allow-same-namespace"
    #: where it was written (not part of its value: equal statements on two lines are equal)
    site: Site | None = dataclasses.field(default_factory=caller_site, compare=False, repr=False)

    def __post_init__(self) -> None:
        _direction(self.direction, "allow_same_namespace()")
        if self.namespace is not None:
            _coerce.namespace_name(self.namespace, "allow_same_namespace()")
        _coerce.name(self.name, "allow_same_namespace()")

    def fragments(self, ctx: Context) -> tuple[Fragment, ...]:
        """One fragment on ``podSelector: {}`` with rules naming ``podSelector: {}``.

        Example:
            >>> allow_same_namespace().fragments(Context(namespace="a"))[0].policy_types
            ('Ingress', 'Egress')
        """
        ns = _home(self.namespace, ctx, "allow_same_namespace()")
        same = (NetworkPolicyPeer(pod_selector=LabelSelector()),)
        types = _TYPES[self.direction]
        return (
            Fragment(
                namespace=ns,
                pod_selector=LabelSelector(),
                policy_types=types,
                ingress=(NetworkPolicyIngressRule(from_=same),) if "Ingress" in types else (),
                egress=(NetworkPolicyEgressRule(to=same),) if "Egress" in types else (),
                name=self.name,
                origin=repr(self),
            ),
        )

    def __repr__(self) -> str:
        args = [repr(self.namespace)] if self.namespace is not None else []
        if self.direction != "both":
            args.append(f"direction={self.direction!r}")
        if self.name != "allow-same-namespace":
            args.append(f"name={self.name!r}")
        return f"allow_same_namespace({', '.join(args)})"


def allow_same_namespace(
    namespace: str | None = None,
    *,
    direction: Halves = "both",
    name: str = "allow-same-namespace",
) -> AllowSameNamespace:
    """Allow all traffic between pods of the same namespace (after a default-deny).

    Raises:
        DslUsageError: a bad direction.

    Example:
        >>> p = allow_same_namespace("payments").compile()[0]
        >>> p.to_dict()["spec"]["ingress"], p.to_dict()["spec"]["egress"]
        ([{'from': [{'podSelector': {}}]}], [{'to': [{'podSelector': {}}]}])
    """
    return AllowSameNamespace(namespace=namespace, direction=direction, name=name)
