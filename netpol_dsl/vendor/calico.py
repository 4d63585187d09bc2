"""The cluster-wide default deny as a Calico ``GlobalNetworkPolicy`` (``projectcalico.org/v3``).

Calico's guide "Enable a default deny policy for Kubernetes pods"
(``calico/network-policy/get-started/kubernetes-default-deny.mdx``) writes it as one
GlobalNetworkPolicy in the ``default`` tier, without ``order``:

* ``namespaceSelector: has(projectcalico.org/name) && projectcalico.org/name not in {...}`` selects
  the workload endpoints outside the system namespaces (``has()`` keeps host endpoints out);
* ``types: [Ingress, Egress]`` with no rule but the DNS allows: traffic that no policy of the tier
  allows is dropped at the end of the tier, the implicit deny;
* without ``order`` the policy comes last in its tier, after the Kubernetes NetworkPolicies
  (which Calico puts in the same tier), so NetworkPolicies open what they allow, as they do over
  an upstream baseline; and the DNS allow applies whatever they say, as the admin-tier DNS rule
  of `cluster_default_deny` does.

The kube-dns destination names its namespace (``namespaceSelector``), since a bare ``selector`` in
a GlobalNetworkPolicy rule matches pods of every namespace.

Unlike the upstream baseline, this also denies ingress from outside the cluster and from
host-network pods (Calico's policy sees every source; upstream's ingress peers are pods only).
"""

from __future__ import annotations

import json
from typing import Any

from netpol_dsl.admin import ClusterDefaultDeny
from netpol_dsl.vendor._common import baseline_of

__all__ = ["to_calico"]

#: The label Calico gives every namespace's profile: the namespace name.
NAME_LABEL = "projectcalico.org/name"


def _quote(value: str) -> str:
    # Calico selector string literals are double-quoted; json.dumps escapes quotes and backslashes.
    return json.dumps(value)


def _labels_selector(labels: tuple[tuple[str, str], ...]) -> str:
    return " && ".join(f"{k} == {_quote(v)}" for k, v in labels) or "all()"


def to_calico(baseline: ClusterDefaultDeny | object) -> dict[str, Any]:
    """Render the default-deny baseline as a Calico GlobalNetworkPolicy.

    Raises:
        UnrepresentableError: a general ``admin(...)``/``baseline(...)`` policy (apply it as
            a ClusterNetworkPolicy, which Calico 3.32 implements).
        DslUsageError: anything else.

    Example:
        >>> from netpol_dsl.admin import cluster_default_deny
        >>> gnp = to_calico(cluster_default_deny())
        >>> gnp["spec"]["namespaceSelector"]
        'has(projectcalico.org/name) && projectcalico.org/name not in {"kube-system"}'
        >>> [(r["protocol"], r["destination"]["ports"]) for r in gnp["spec"]["egress"]]
        [('UDP', [53]), ('TCP', [53])]
    """
    b = baseline_of(
        baseline, "to_calico()",
        "general cluster-wide policies are applied to Calico as they are: Calico 3.32 implements "
        "ClusterNetworkPolicy (v1alpha2) and 3.29-3.31 AdminNetworkPolicy (v1alpha1); render "
        "them with to_model()")
    ns_sel = f"has({NAME_LABEL})"
    if b.system_namespaces:
        names = ", ".join(_quote(n) for n in sorted(b.system_namespaces))
        ns_sel += f" && {NAME_LABEL} not in {{{names}}}"
    spec: dict[str, Any] = {"namespaceSelector": ns_sel, "types": ["Ingress", "Egress"]}
    if b.dns:
        dest = {"selector": _labels_selector(b.dns_labels),
                "namespaceSelector": f"{NAME_LABEL} == {_quote(b.dns_namespace)}",
                "ports": [53]}
        spec["egress"] = [{"action": "Allow", "protocol": proto, "destination": dict(dest)}
                          for proto in ("UDP", "TCP")]
    return {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
            "metadata": {"name": b.name}, "spec": spec}
