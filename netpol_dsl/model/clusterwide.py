"""The cluster-wide kinds by API group, kind and version, and reading them from API-shaped dicts.

``policy.networking.k8s.io``:

- ``AdminNetworkPolicy`` and ``BaselineAdminNetworkPolicy``, ``v1alpha1``
  (``netpol_dsl.model.anp``);
- ``ClusterNetworkPolicy``, ``v1alpha2`` (``netpol_dsl.model.cnp``).

``load_cluster_policy`` validates one object as kube-apiserver validates it against the CRD
(every problem reported, with field paths); ``parse_cluster_policy`` also returns the
warnings (obsolete v1alpha1 shapes, a namespace on a cluster-scoped object, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netpol_dsl.errors import InvalidPolicyError, Issue
from netpol_dsl.model._base import Context
from netpol_dsl.model._clusterwide import API_GROUP, ClusterPolicyBase
from netpol_dsl.model.anp import AdminNetworkPolicy, BaselineAdminNetworkPolicy
from netpol_dsl.model.cnp import ClusterNetworkPolicy

__all__ = [
    "API_GROUP",
    "CLUSTER_POLICY_KINDS",
    "ClusterWidePolicy",
    "is_cluster_policy",
    "load_cluster_policy",
    "load_kind",
    "parse_cluster_policy",
]

#: Any cluster-wide policy object.
ClusterWidePolicy = AdminNetworkPolicy | BaselineAdminNetworkPolicy | ClusterNetworkPolicy

#: (group, kind) -> {version: model class}.
CLUSTER_POLICY_KINDS: Mapping[tuple[str, str], Mapping[str, type[ClusterPolicyBase]]] = {
    (API_GROUP, "AdminNetworkPolicy"): {"v1alpha1": AdminNetworkPolicy},
    (API_GROUP, "BaselineAdminNetworkPolicy"): {"v1alpha1": BaselineAdminNetworkPolicy},
    (API_GROUP, "ClusterNetworkPolicy"): {"v1alpha2": ClusterNetworkPolicy},
}


def _label(data: Mapping[str, Any]) -> str | None:
    meta = data.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    return name if isinstance(name, str) and name else None


def is_cluster_policy(data: object) -> bool:
    """Whether an API-shaped dict is one of the cluster-wide kinds (by ``apiVersion`` group).

    Example:
        >>> is_cluster_policy({"apiVersion": "policy.networking.k8s.io/v1alpha2",
        ...                    "kind": "ClusterNetworkPolicy"})
        True
        >>> is_cluster_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy"})
        False
    """
    if not isinstance(data, Mapping):
        return False
    api, kind = data.get("apiVersion"), data.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str):
        return False
    return (api.partition("/")[0], kind) in CLUSTER_POLICY_KINDS


def _model_for(data: Mapping[str, Any], source: str | None) -> type[ClusterPolicyBase]:
    api, kind = data.get("apiVersion"), data.get("kind")
    group, _, version = api.partition("/") if isinstance(api, str) else ("", "", "")
    versions = CLUSTER_POLICY_KINDS.get((group, kind)) if isinstance(kind, str) else None
    if versions is None:
        msg = (f"got apiVersion={api!r} kind={kind!r}; expected one of "
               + ", ".join(f"{g}/{next(iter(v))} {k}" for (g, k), v in CLUSTER_POLICY_KINDS.items()))
        raise InvalidPolicyError(msg, source=source)
    cls = versions.get(version)
    if cls is None:
        known = ", ".join(f"{group}/{v}" for v in versions)
        raise InvalidPolicyError(issues=[Issue(
            "apiVersion", api, known,
            hint=f"{kind} is served as {known} by the network-policy-api CRDs")], source=source)
    return cls


def parse_cluster_policy(
    data: Mapping[str, Any], *, source: str | None = None, lenient_names: bool = False,
    label: bool = True,
) -> tuple[ClusterWidePolicy, list[Issue]]:
    """Validate an API-shaped cluster-wide policy; return it with its warnings.

    ``status`` (which ``kubectl get -o yaml`` prints) is dropped, as the API server resets it on
    create. Only the API's camelCase names are fields. Issues name ``source``, or the object's
    name when ``label`` (the loader, which adds ``file:line`` and the name itself, passes False).

    Raises:
        InvalidPolicyError: every problem, each with its field path.

    Example:
        >>> p, warnings = parse_cluster_policy({
        ...     "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
        ...     "metadata": {"name": "a", "namespace": "x"},
        ...     "spec": {"priority": 3, "subject": {"namespaces": {}}}, "status": {}})
        >>> p.kind, [w.path for w in warnings]
        ('AdminNetworkPolicy', ['metadata.namespace'])
    """
    if not isinstance(data, Mapping):
        msg = f"got {type(data).__name__}; expected a cluster-wide policy mapping"
        raise InvalidPolicyError(msg, source=source)
    cls = _model_for(data, source)
    data = {k: v for k, v in data.items() if k != "status"}
    ctx = Context(wire_names_only=True, lenient_names=lenient_names)
    try:
        policy = cls.model_validate(data, context={"netpol": ctx}, by_alias=True, by_name=False)
    except InvalidPolicyError as err:
        raise InvalidPolicyError(issues=err.issues,
                                 source=source or (_label(data) if label else None)) from None
    assert isinstance(policy, (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy))
    return policy, policy.warnings()


def load_kind(data: Mapping[str, Any], options: Any) -> tuple[ClusterWidePolicy, list[Issue]]:
    """The loader ``netpol_dsl.load``'s kind registry calls for the cluster-wide kinds.

    ``options`` is its ``LoadOptions``: ``lenient_names`` is honoured; ``namespace`` does not
    apply (the kinds are cluster-scoped) and ``lenient_cidr`` neither (``isCIDR`` was never
    stricter than it is today).

    Example:
        >>> from netpol_dsl.load import load_manifests
        >>> m = load_manifests('''
        ... apiVersion: policy.networking.k8s.io/v1alpha2
        ... kind: ClusterNetworkPolicy
        ... metadata: {name: a}
        ... spec: {tier: Admin, priority: 1, subject: {namespaces: {}}}
        ... ''')
        >>> [p.key for p in m.resources_of("ClusterNetworkPolicy")]
        ['a']
    """
    return parse_cluster_policy(data, lenient_names=bool(getattr(options, "lenient_names", False)),
                                label=False)


def load_cluster_policy(obj: Mapping[str, Any] | ClusterWidePolicy) -> ClusterWidePolicy:
    """Load one AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy.

    Raises:
        InvalidPolicyError: every problem, each with its field path.

    Example:
        >>> load_cluster_policy({
        ...     "apiVersion": "policy.networking.k8s.io/v1alpha1",
        ...     "kind": "BaselineAdminNetworkPolicy",
        ...     "metadata": {"name": "default"},
        ...     "spec": {"subject": {"namespaces": {}}, "ingress": [{"action": "Pass",
        ...              "from": [{"namespaces": {}}]}]}})
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.InvalidPolicyError: default: spec.ingress[0].action: got 'Pass'; expected one of 'Allow', 'Deny'. A baseline has nothing after it to pass to; use Allow or Deny
    """
    if isinstance(obj, (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy)):
        return obj
    return parse_cluster_policy(obj)[0]
