"""netpol-dsl: author, validate, render and test Kubernetes NetworkPolicies from one typed model.

Names are loaded on first use (PEP 562), so ``import netpol_dsl`` and the pytest plugin stay cheap:
the evaluator (numpy) or the DSL is imported only when a name of theirs is touched.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netpol_dsl.baselines import allow_dns, allow_same_namespace, deny_all
    from netpol_dsl.builder import (
        AllowFrom,
        Flow,
        Port,
        all_sctp,
        all_tcp,
        all_udp,
        allow,
        sctp,
        sctp_range,
        tcp,
        tcp_range,
        udp,
        udp_range,
    )
    from netpol_dsl.errors import (
        AmbiguousResultError,
        DslUsageError,
        EvaluationError,
        InvalidPolicyError,
        Issue,
        LoadError,
        NetpolError,
        RenderError,
        UnknownEndpointError,
        UnrepresentableError,
    )
    from netpol_dsl.evaluate import Cluster, ConnectionSet, Verdict, hypothetical
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
    from netpol_dsl.policyset import PolicySet, collect
    from netpol_dsl.render import to_dict, to_json, to_yaml
    from netpol_dsl.selectors import (
        DoesNotExist,
        Exists,
        In,
        NotIn,
        Selector,
        all_namespaces,
        all_pods,
        anywhere,
        ip_block,
        namespace,
        namespaces,
        pods,
    )

#: public name -> the module that defines it
_LAZY: dict[str, str] = {
    "AllowFrom": "netpol_dsl.builder",
    "AmbiguousResultError": "netpol_dsl.errors",
    "Cluster": "netpol_dsl.evaluate",
    "ConnectionSet": "netpol_dsl.evaluate",
    "DoesNotExist": "netpol_dsl.selectors",
    "DslUsageError": "netpol_dsl.errors",
    "EvaluationError": "netpol_dsl.errors",
    "Exists": "netpol_dsl.selectors",
    "Flow": "netpol_dsl.builder",
    "IPBlock": "netpol_dsl.model",
    "In": "netpol_dsl.selectors",
    "InvalidPolicyError": "netpol_dsl.errors",
    "Issue": "netpol_dsl.errors",
    "LabelSelector": "netpol_dsl.model",
    "LabelSelectorRequirement": "netpol_dsl.model",
    "LoadError": "netpol_dsl.errors",
    "Manifest": "netpol_dsl.load",
    "Manifests": "netpol_dsl.load",
    "NetpolError": "netpol_dsl.errors",
    "NetworkPolicy": "netpol_dsl.model",
    "NetworkPolicyEgressRule": "netpol_dsl.model",
    "NetworkPolicyIngressRule": "netpol_dsl.model",
    "NetworkPolicyPeer": "netpol_dsl.model",
    "NetworkPolicyPort": "netpol_dsl.model",
    "NetworkPolicySpec": "netpol_dsl.model",
    "NotIn": "netpol_dsl.selectors",
    "ObjectMeta": "netpol_dsl.model",
    "PolicySet": "netpol_dsl.policyset",
    "Port": "netpol_dsl.builder",
    "RenderError": "netpol_dsl.errors",
    "Selector": "netpol_dsl.selectors",
    "UnknownEndpointError": "netpol_dsl.errors",
    "UnrepresentableError": "netpol_dsl.errors",
    "Verdict": "netpol_dsl.evaluate",
    "all_namespaces": "netpol_dsl.selectors",
    "all_pods": "netpol_dsl.selectors",
    "all_sctp": "netpol_dsl.builder",
    "all_tcp": "netpol_dsl.builder",
    "all_udp": "netpol_dsl.builder",
    "allow": "netpol_dsl.builder",
    "allow_dns": "netpol_dsl.baselines",
    "allow_same_namespace": "netpol_dsl.baselines",
    "anywhere": "netpol_dsl.selectors",
    "collect": "netpol_dsl.policyset",
    "deny_all": "netpol_dsl.baselines",
    "from_client_object": "netpol_dsl.load",
    "hypothetical": "netpol_dsl.evaluate",
    "ip_block": "netpol_dsl.selectors",
    "load_manifests": "netpol_dsl.load",
    "load_policy": "netpol_dsl.load",
    "namespace": "netpol_dsl.selectors",
    "namespaces": "netpol_dsl.selectors",
    "parse_documents": "netpol_dsl.load",
    "pods": "netpol_dsl.selectors",
    "sctp": "netpol_dsl.builder",
    "sctp_range": "netpol_dsl.builder",
    "tcp": "netpol_dsl.builder",
    "tcp_range": "netpol_dsl.builder",
    "to_dict": "netpol_dsl.render",
    "to_json": "netpol_dsl.render",
    "to_yaml": "netpol_dsl.render",
    "udp": "netpol_dsl.builder",
    "udp_range": "netpol_dsl.builder",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'netpol_dsl' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "AllowFrom",
    "AmbiguousResultError",
    "Cluster",
    "ConnectionSet",
    "DoesNotExist",
    "DslUsageError",
    "EvaluationError",
    "Exists",
    "Flow",
    "IPBlock",
    "In",
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
    "NotIn",
    "ObjectMeta",
    "PolicySet",
    "Port",
    "RenderError",
    "Selector",
    "UnknownEndpointError",
    "UnrepresentableError",
    "Verdict",
    "all_namespaces",
    "all_pods",
    "all_sctp",
    "all_tcp",
    "all_udp",
    "allow",
    "allow_dns",
    "allow_same_namespace",
    "anywhere",
    "collect",
    "deny_all",
    "from_client_object",
    "hypothetical",
    "ip_block",
    "load_manifests",
    "load_policy",
    "namespace",
    "namespaces",
    "parse_documents",
    "pods",
    "sctp",
    "sctp_range",
    "tcp",
    "tcp_range",
    "to_dict",
    "to_json",
    "to_yaml",
    "udp",
    "udp_range",
]
