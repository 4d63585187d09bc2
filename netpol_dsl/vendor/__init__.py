"""Vendor renderings of the cluster-wide default deny: Calico and Cilium.

Upstream's cluster-wide APIs (``policy.networking.k8s.io``) are implemented by Calico (v1alpha1
on 3.29-3.31, ClusterNetworkPolicy on 3.32) but not by Cilium (tracking issue cilium#23380). For
clusters without them, `to_calico` and `to_cilium` render the same baseline,
`cluster_default_deny`, in each project's own kind, following its
documentation:

- Calico ``GlobalNetworkPolicy`` (``projectcalico.org/v3``), as in Calico's "default deny"
  guide (``calico/network-policy/get-started/kubernetes-default-deny``);
- Cilium ``CiliumClusterwideNetworkPolicy`` (``cilium.io/v2``), from Cilium's
  ``examples/kubernetes/servicemesh/policy/default-deny.yaml``, with ``enableDefaultDeny`` for both
  directions (``pkg/policy/api/rule.go``).

The vendored CRD schemas (``schemas/``, with their licences) are what the tests validate against.
"""

from netpol_dsl.vendor.calico import to_calico
from netpol_dsl.vendor.cilium import to_cilium

__all__ = ["to_calico", "to_cilium"]
