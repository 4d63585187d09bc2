"""A platform team's cluster-wide rules, written once for every namespace.

- ``cluster_default_deny()``: every pod outside the system namespaces starts from deny (a
  baseline that namespace owners open with their own NetworkPolicies), with DNS always allowed;
- ``guardrails``: admin rules no namespace owner can override: no pod reaches the cloud metadata
  API or the nodes' SSH, and only the ``monitoring`` namespace scrapes metrics anywhere.

``python -c 'import guardrails'`` is not needed: ``manifests(version)`` renders everything.
"""

from netpol_dsl import all_namespaces, ip_block, namespace, tcp, to_yaml
from netpol_dsl.admin import admin, cluster_default_deny, named_port, nodes

SYSTEM_NAMESPACES = ("kube-system", "monitoring")

baseline = cluster_default_deny(system_namespaces=SYSTEM_NAMESPACES)

guardrails = (
    admin("platform-guardrails", priority=10)
    .deny_to(ip_block("169.254.169.254/32"), name="no-cloud-metadata")
    .deny_to(nodes(), tcp(22), name="no-ssh-to-nodes")
    .allow_from(namespace("monitoring"), named_port("metrics"), name="monitoring-scrapes")
    .deny_from(all_namespaces(), named_port("metrics"), name="nobody-else-scrapes")
)


def manifests(version="v1alpha2"):
    """Every cluster-wide object, rendered for ``version`` ('v1alpha2' or 'v1alpha1')."""
    return to_yaml([guardrails.to_model(version), *baseline.to_models(version)])
