"""The cluster-wide default deny as a ``CiliumClusterwideNetworkPolicy`` (``cilium.io/v2``).

Cilium's example ``examples/kubernetes/servicemesh/policy/default-deny.yaml`` selects every
endpoint outside kube-system and allows only DNS to kube-dns; having no ingress section it leaves
ingress open. This rendering denies both directions with ``enableDefaultDeny`` (documented on
``Rule.EnableDefaultDeny`` in ``pkg/policy/api/rule.go``: an endpoint selected by a policy that
enables default deny in a direction drops what no policy allows there):

* ``endpointSelector``: ``io.kubernetes.pod.namespace NotIn [system namespaces]`` **and** the key
  ``Exists``, because a ``NotIn`` alone also matches endpoints without the label (the host,
  remote nodes);
* one egress rule allowing UDP and TCP 53 to ``k8s-app=kube-dns`` in the DNS namespace (without
  DNS, an empty egress rule: the CRD requires some rule section, and an empty rule allows nothing).

The output is validated against Cilium's published CRD schema (1.18.2, vendored as JSON Schema in
``schemas/cilium/``) by the tests.

Cilium's policies are allow lists combined by union (plus deny rules that always win), so
NetworkPolicies open what they allow on top of this, as over an upstream baseline. Cilium
implements neither upstream cluster-wide API (cilium#23380) and has no rule order or ``Pass``:
a general ``admin(...)``/``baseline(...)`` policy is refused.

Unlike the upstream baseline, ingress from outside the cluster is denied too.
"""

from __future__ import annotations

from typing import Any

from netpol_dsl.admin import ClusterDefaultDeny
from netpol_dsl.vendor._common import baseline_of

__all__ = ["to_cilium"]

#: The label Cilium gives every pod endpoint: its namespace.
NAMESPACE_LABEL = "io.kubernetes.pod.namespace"


def to_cilium(baseline: ClusterDefaultDeny | object) -> dict[str, Any]:
    """Render the default-deny baseline as a CiliumClusterwideNetworkPolicy.

    Raises:
        UnrepresentableError: a general ``admin(...)``/``baseline(...)`` policy.
        DslUsageError: anything else.

    Example:
        >>> from netpol_dsl.admin import cluster_default_deny
        >>> ccnp = to_cilium(cluster_default_deny())
        >>> ccnp["spec"]["enableDefaultDeny"]
        {'ingress': True, 'egress': True}
        >>> ccnp["spec"]["egress"][0]["toPorts"]
        [{'ports': [{'port': '53', 'protocol': 'UDP'}, {'port': '53', 'protocol': 'TCP'}]}]
    """
    b = baseline_of(
        baseline, "to_cilium()",
        "CiliumClusterwideNetworkPolicy has no rule order and no Pass (deny rules always win over "
        "allow rules), and Cilium implements neither AdminNetworkPolicy nor ClusterNetworkPolicy "
        "(cilium#23380); only the default-deny baseline (cluster_default_deny()) maps onto it")
    exprs: list[dict[str, Any]] = []
    if b.system_namespaces:
        exprs.append({"key": NAMESPACE_LABEL, "operator": "NotIn",
                      "values": sorted(b.system_namespaces)})
    exprs.append({"key": NAMESPACE_LABEL, "operator": "Exists"})
    spec: dict[str, Any] = {
        "endpointSelector": {"matchExpressions": exprs},
        "enableDefaultDeny": {"ingress": True, "egress": True},
    }
    if b.dns:
        labels = {NAMESPACE_LABEL: b.dns_namespace, **dict(b.dns_labels)}
        spec["egress"] = [{
            "toEndpoints": [{"matchLabels": labels}],
            "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"},
                                   {"port": "53", "protocol": "TCP"}]}],
        }]
    else:
        # The CRD requires a rule section (spec anyOf ingress, ingressDeny, egress, egressDeny:
        # cilium 1.18 ciliumclusterwidenetworkpolicies.yaml); an empty rule allows nothing
        # (docs "Ingress/Egress Default Deny": ``egress: [{}]``), so it only puts the selected
        # endpoints into default deny, as enableDefaultDeny already does.
        spec["egress"] = [{}]
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": {"name": b.name}, "spec": spec}
