"""netpol-dsl: author, validate, render and test Kubernetes NetworkPolicies from one typed model."""

from netpol_dsl.errors import (
    DslUsageError,
    InvalidPolicyError,
    Issue,
    LoadError,
    NetpolError,
    RenderError,
    UnrepresentableError,
)
from netpol_dsl.load import (
    Manifest,
    Manifests,
    from_client_object,
    load_manifests,
    load_policy,
    parse_documents,
)
from netpol_dsl.model import (
    IPBlock,
    LabelSelector,
    LabelSelectorRequirement,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicySpec,
    ObjectMeta,
)
from netpol_dsl.render import to_dict, to_json, to_yaml

__all__ = [
    "DslUsageError",
    "IPBlock",
    "InvalidPolicyError",
    "Issue",
    "LabelSelector",
    "LabelSelectorRequirement",
    "LoadError",
    "Manifest",
    "Manifests",
    "NetpolError",
    "NetworkPolicy",
    "NetworkPolicyEgressRule",
    "NetworkPolicyIngressRule",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
    "NetworkPolicySpec",
    "ObjectMeta",
    "RenderError",
    "UnrepresentableError",
    "from_client_object",
    "load_manifests",
    "load_policy",
    "parse_documents",
    "to_dict",
    "to_json",
    "to_yaml",
]
