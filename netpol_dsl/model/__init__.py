"""The canonical model: pydantic v2 classes that are Kubernetes NetworkPolicy objects.

Every class is frozen, forbids unknown fields, takes snake_case names in Python and the API's
camelCase names on the wire (``from``, ``except``, ``endPort``, ``matchLabels``, ...), and is
validated as kube-apiserver validates it on create.
"""

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

__all__ = [
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
]
