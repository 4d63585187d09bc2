"""What the cluster-wide policy models share: CRD-style validation helpers and the common base.

The cluster-wide kinds are CustomResourceDefinitions of ``kubernetes-sigs/network-policy-api``, so
kube-apiserver validates them against the CRD's OpenAPI schema (kubebuilder markers) and its CEL
rules (``x-kubernetes-validations``), not with hand-written Go validation as for NetworkPolicy.
Two consequences encoded here:

* A JSON ``null`` for a field that is not ``nullable`` is pruned before validation (Kubernetes
  docs, "Defaulting and Nullable": "null values for fields that either don't specify the nullable
  flag, or give it a false value, will be pruned before defaulting happens"), so ``null`` is the
  same as an absent field, and a required field given ``null`` is missing.
* ``x-kubernetes-list-type: set`` lists refuse duplicate items.

Label selectors are checked with apimachinery's ``ValidateLabelSelector`` as for NetworkPolicy:
the CRD schema only checks their shape, but every implementation turns them into selectors with
``metav1.LabelSelectorAsSelector``, which refuses an unknown operator or a bad key.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from netpol_dsl.errors import Issue
from netpol_dsl.model._base import K8sModel
from netpol_dsl.model.policy import ObjectMeta

__all__ = [
    "API_GROUP",
    "CIDR_MAX_LENGTH",
    "PRIORITY_MAX",
    "RULE_NAME_MAX",
    "CRDModel",
    "ClusterPolicyBase",
    "cel_cidr_problem",
    "check_cidrs",
    "check_count",
    "check_domain_names",
    "check_one_of",
    "check_range",
    "domain_name_problem",
]

#: The API group of every cluster-wide kind.
API_GROUP = "policy.networking.k8s.io"
#: ``spec.priority``: ``+kubebuilder:validation:Minimum=0``, ``Maximum=1000`` (v1alpha1 ANP and
#: v1alpha2 CNP).
PRIORITY_MAX = 1000
#: A rule's ``name``: ``+kubebuilder:validation:MaxLength=100``.
RULE_NAME_MAX = 100
#: ``CIDR``: ``+kubebuilder:validation:MaxLength=43`` (``apis/v1alpha1/shared_types.go``).
CIDR_MAX_LENGTH = 43
#: ``networks`` and ``domainNames``: ``MinItems=1``, ``MaxItems=25``.
PEER_LIST_MAX = 25

#: ``DomainName``: ``+kubebuilder:validation:Pattern``, copied as upstream writes it (its ``A-z``
#: ranges also admit ``[\\]^_``` ``, as the API server does). OpenAPI patterns are Go regular
#: expressions anchored by ``^...$``; ``fullmatch`` on the body is the same test (Python's ``$``
#: would also match before a trailing newline, Go's does not).
_DOMAIN_NAME_RE = re.compile(
    r"(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?"
)
_DOMAIN_NAME_PATTERN = (
    r"^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$"
)


def cel_cidr_problem(text: str) -> str | None:
    """Why CEL ``isCIDR(text)`` is false, or None when it is true.

    ``k8s.io/apiserver/pkg/cel/library/cidr.go`` ``isCIDR`` is Go's ``netip.ParsePrefix`` plus a
    refusal of IPv4-mapped IPv6 addresses. ``ParsePrefix`` refuses zones, IPv4 octets with
    leading zeros, and a prefix length with a sign or leading zeros or past the address size; it
    does *not* refuse bits set past the prefix length (``10.0.0.1/8`` is a valid CIDR there).

    Example:
        >>> cel_cidr_problem("10.0.0.0/8") is None, cel_cidr_problem("10.0.0.1/8") is None
        (True, True)
        >>> cel_cidr_problem("10.0.0.0")
        "no '/' and prefix length"
        >>> cel_cidr_problem("::ffff:10.0.0.0/104")
        'an IPv4-mapped IPv6 address'
    """
    addr_text, slash, bits_text = text.rpartition("/")
    if not slash:
        return "no '/' and prefix length"
    if "%" in addr_text:
        return "an IPv6 zone, which a prefix cannot have"
    if (not bits_text.isascii() or not bits_text.isdigit()
            or (len(bits_text) > 1 and bits_text[0] == "0")):
        return f"a bad prefix length {bits_text!r}"
    try:
        # Python refuses IPv4 octets with leading zeros since 3.9.5, as netip.ParseAddr does.
        addr = ipaddress.ip_address(addr_text)
    except ValueError:
        return f"a bad address {addr_text!r}"
    if int(bits_text) > addr.max_prefixlen:
        return f"a prefix length past {addr.max_prefixlen}"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return "an IPv4-mapped IPv6 address"
    return None


def domain_name_problem(text: str) -> str | None:
    """Why ``text`` does not match the ``DomainName`` pattern, or None when it does.

    Example:
        >>> domain_name_problem("*.kubernetes.io") is None
        True
        >>> domain_name_problem("kubernetes") is not None
        True
    """
    if _DOMAIN_NAME_RE.fullmatch(text):
        return None
    return f"a domain name matching {_DOMAIN_NAME_PATTERN}"


def check_range(value: int | None, path: str, low: int, high: int, what: str = "") -> list[Issue]:
    """``Minimum``/``Maximum`` of an integer field (None: absent or already reported).

    Example:
        >>> [str(i) for i in check_range(1001, "priority", 0, 1000)]
        ['priority: got 1001; expected 0..1000']
    """
    if value is None or low <= value <= high:
        return []
    return [Issue(path, value, f"{low}..{high}{what}")]


def check_count(items: Sequence[Any] | None, path: str, low: int, high: int, noun: str) -> list[Issue]:
    """``MinItems``/``MaxItems`` of a list (None: absent, which ``MinItems`` allows).

    Example:
        >>> [str(i) for i in check_count([], "ports", 1, 100, "ports")]
        ['ports: got []; expected 1..100 ports. Omit the field to match every port']
    """
    if items is None:
        return []
    n = len(items)
    if n < low:
        hint = None
        if path.endswith(("ports", "protocols")):
            hint = "Omit the field to match every port"
        return [Issue(path, list(items), f"{low}..{high} {noun}", hint=hint)]
    if n > high:
        return [Issue(path, f"<{n} {noun}>", f"at most {high} {noun}")]
    return []


def _check_set(items: Sequence[str], path: str) -> list[Issue]:
    # x-kubernetes-list-type: set: "Duplicate value" for each repeated item, at its index.
    seen: set[str] = set()
    out: list[Issue] = []
    for i, item in enumerate(items):
        if item in seen:
            out.append(Issue(f"{path}[{i}]", item, "a value not already in the list",
                             hint="The list is a set (x-kubernetes-list-type: set)"))
        seen.add(item)
    return out


def check_cidrs(items: Sequence[str] | None, path: str) -> list[Issue]:
    """``networks``: 1..25 unique CIDRs, each at most 43 characters and ``isCIDR``.

    Example:
        >>> [str(i) for i in check_cidrs(["10.0.0.1"], "networks")]
        ["networks[0]: got '10.0.0.1'; expected a CIDR (isCIDR: no '/' and prefix length). Did you mean '10.0.0.1/32'?"]
    """
    if items is None:
        return []
    out = check_count(items, path, 1, PEER_LIST_MAX, "CIDRs")
    for i, text in enumerate(items):
        if len(text) > CIDR_MAX_LENGTH:
            out.append(Issue(f"{path}[{i}]", text, f"at most {CIDR_MAX_LENGTH} characters"))
        problem = cel_cidr_problem(text)
        if problem is not None:
            hint = None
            if "/" not in text:
                try:
                    addr = ipaddress.ip_address(text)
                    hint = f"Did you mean '{text}/{addr.max_prefixlen}'?"
                except ValueError:
                    pass
            out.append(Issue(f"{path}[{i}]", text, f"a CIDR (isCIDR: {problem})", hint=hint))
    out.extend(_check_set(items, path))
    return out


def check_domain_names(items: Sequence[str] | None, path: str) -> list[Issue]:
    """``domainNames``: 1..25 unique names matching the ``DomainName`` pattern.

    Example:
        >>> check_domain_names(["*.example.com"], "domainNames")
        []
    """
    if items is None:
        return []
    out = check_count(items, path, 1, PEER_LIST_MAX, "domain names")
    for i, text in enumerate(items):
        problem = domain_name_problem(text)
        if problem is not None:
            out.append(Issue(f"{path}[{i}]", text, problem,
                             hint="An exact name or a '*.' prefix, e.g. '*.example.com'"))
    out.extend(_check_set(items, path))
    return out


def check_one_of(
    model: K8sModel, fields: Sequence[str], broken: frozenset[str], path: str = "",
    *, hint: str | None = "Put each in its own list item",
) -> list[Issue]:
    """``MinProperties=1``/``MaxProperties=1``: exactly one of ``fields`` is set.

    A field that failed its own validation (``broken``) is still present.

    Example:
        >>> from netpol_dsl.model.anp import AdminNetworkPolicySubject
        >>> s = AdminNetworkPolicySubject.model_construct(namespaces=None, pods=None)
        >>> [str(i) for i in check_one_of(s, ["namespaces", "pods"], frozenset())]
        [": got {}; expected exactly one of 'namespaces', 'pods'"]
    """
    present = [f for f in fields if getattr(model, f, None) is not None or f in broken]
    wire = [_wire_name(type(model), f) for f in fields]
    expected = "exactly one of " + ", ".join(repr(w) for w in wire)
    if len(present) == 1:
        return []
    if not present:
        return [Issue(path, {}, expected)]
    return [Issue(path, sorted(_wire_name(type(model), f) for f in present), expected, hint=hint)]


def _wire_name(cls: type[K8sModel], name: str) -> str:
    info = cls.model_fields.get(name)
    return (info.alias or name) if info is not None else name


class CRDModel(K8sModel):
    """Base of the cluster-wide models: ``null`` is an absent field (CRD pruning)."""

    @classmethod
    def _nulls_to_zero(cls, data: Mapping[Any, Any]) -> Mapping[Any, Any]:
        if any(v is None for v in data.values()):
            data = {k: v for k, v in data.items() if v is not None}
        return super()._nulls_to_zero(data)


class ClusterPolicyBase(CRDModel):
    """What every cluster-wide kind has: ``metadata`` and being cluster-scoped.

    Example:
        >>> from netpol_dsl.model import AdminNetworkPolicy
        >>> AdminNetworkPolicy.model_validate({"metadata": {"name": "a"}, "spec": {
        ...     "priority": 1, "subject": {"namespaces": {}}}}).key
        'a'
    """

    #: The API version of the kind (``policy.networking.k8s.io/v1alpha1`` or ``/v1alpha2``).
    API_VERSION: ClassVar[str] = ""

    metadata: ObjectMeta

    @property
    def name(self) -> str:
        """``metadata.name``.

        Example:
            >>> from netpol_dsl.model import BaselineAdminNetworkPolicy
            >>> BaselineAdminNetworkPolicy.model_validate({"metadata": {"name": "default"},
            ...     "spec": {"subject": {"namespaces": {}}}}).name
            'default'
        """
        return self.metadata.name or ""

    @property
    def key(self) -> str:
        """The object's key: its name (the kinds are cluster-scoped).

        Example:
            >>> from netpol_dsl.model import ClusterNetworkPolicy
            >>> ClusterNetworkPolicy.model_validate({"metadata": {"name": "x"}, "spec": {
            ...     "tier": "Admin", "priority": 0, "subject": {"namespaces": {}}}}).key
            'x'
        """
        return self.name

    def to_dict(self) -> dict[str, Any]:
        """The API shape, keys in Kubernetes order (``apiVersion``, ``kind``, ``metadata``, ``spec``).

        Example:
            >>> from netpol_dsl.model import ClusterNetworkPolicy
            >>> list(ClusterNetworkPolicy.model_validate({"metadata": {"name": "x"}, "spec": {
            ...     "tier": "Admin", "priority": 0, "subject": {"namespaces": {}}}}).to_dict())
            ['apiVersion', 'kind', 'metadata', 'spec']
        """
        data = super().to_dict()
        top: dict[str, Any] = {k: data[k] for k in ("apiVersion", "kind", "metadata", "spec")
                               if k in data}
        top.update((k, v) for k, v in data.items() if k not in top)
        return top

    def warnings(self) -> list[Issue]:
        """What kube-apiserver accepts but is probably not what was meant.

        A ``metadata.namespace`` on a cluster-scoped object is cleared by the API server
        (``k8s.io/apiserver/pkg/registry/rest`` ``EnsureObjectNamespaceMatchesRequestNamespace``);
        the kinds add their own.

        Example:
            >>> from netpol_dsl.model import ClusterNetworkPolicy
            >>> p = ClusterNetworkPolicy.model_validate({"metadata": {"name": "x", "namespace": "a"},
            ...     "spec": {"tier": "Admin", "priority": 0, "subject": {"namespaces": {}}}})
            >>> [w.path for w in p.warnings()]
            ['metadata.namespace']
        """
        out: list[Issue] = []
        if self.metadata.namespace:
            out.append(Issue("metadata.namespace", self.metadata.namespace,
                             "no namespace on a cluster-scoped object",
                             hint="The API server clears it; the policy applies cluster-wide"))
        return out

    def experimental_fields(self) -> tuple[str, ...]:
        """Paths of fields that only the experimental channel's CRD has.

        Example:
            >>> from netpol_dsl.model import ClusterNetworkPolicy
            >>> ClusterNetworkPolicy.model_validate({"metadata": {"name": "x"}, "spec": {
            ...     "tier": "Admin", "priority": 0, "subject": {"namespaces": {}}}}
            ... ).experimental_fields()
            ()
        """
        return ()
