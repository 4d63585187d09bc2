"""The canonical model: pydantic v2 classes that are Kubernetes NetworkPolicy objects.

The cluster-wide kinds of ``policy.networking.k8s.io`` live in ``netpol_dsl.model.anp``
(AdminNetworkPolicy, BaselineAdminNetworkPolicy, v1alpha1) and ``netpol_dsl.model.cnp``
(ClusterNetworkPolicy, v1alpha2); their top-level kinds are re-exported here.

Every class is frozen, forbids unknown fields, takes snake_case names in Python and the API's
camelCase names on the wire (``from``, ``except``, ``endPort``, ``matchLabels``, ...), and is
validated as kube-apiserver validates it on create.
"""

from typing import TYPE_CHECKING, Any

from netpol_dsl.model.peer import IPBlock, NetworkPolicyPeer
from netpol_dsl.model.policy import (
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicySpec,
    ObjectMeta,
    PolicyType,
)
from netpol_dsl.model.port import NetworkPolicyPort, Protocol
from netpol_dsl.model.selector import LabelSelector, LabelSelectorRequirement

if TYPE_CHECKING:
    from netpol_dsl.model.anp import AdminNetworkPolicy, BaselineAdminNetworkPolicy
    from netpol_dsl.model.clusterwide import ClusterWidePolicy, load_cluster_policy
    from netpol_dsl.model.cnp import ClusterNetworkPolicy

#: the cluster-wide kinds, imported on first use (PEP 562): evaluating NetworkPolicies alone
#: does not pay for building their models
_LAZY = {
    "AdminNetworkPolicy": "netpol_dsl.model.anp",
    "BaselineAdminNetworkPolicy": "netpol_dsl.model.anp",
    "ClusterNetworkPolicy": "netpol_dsl.model.cnp",
    "ClusterWidePolicy": "netpol_dsl.model.clusterwide",
    "load_cluster_policy": "netpol_dsl.model.clusterwide",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'netpol_dsl.model' has no attribute {name!r}"
        raise AttributeError(msg)
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterNetworkPolicy",
    "ClusterWidePolicy",
    "IPBlock",
    "LabelSelector",
    "LabelSelectorRequirement",
    "NetworkPolicy",
    "NetworkPolicyEgressRule",
    "NetworkPolicyIngressRule",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
    "NetworkPolicySpec",
    "ObjectMeta",
    "PolicyType",
    "Protocol",
    "load_cluster_policy",
]
