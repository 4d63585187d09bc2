"""Egress to things that are not pods: an external partner and the Kubernetes API server.

The cluster's addresses (assumed here; substitute yours):

* pod network ``10.244.0.0/16``, Service network ``10.96.0.0/12``;
* the API server's Service ``kubernetes.default``: cluster IP ``10.96.0.1``, port **443**;
* its endpoints, the control-plane nodes: ``192.168.10.10-12``, port **6443**;
* the partner's upload service: ``203.0.113.0/24`` on 443.

Render with ``netpol render examples/egress-external/policies.py``.

Example:
    >>> sorted(p.name for p in policies.compile())
    ['allow-dns-egress', 'allow-egress-from-report-operator', 'allow-egress-from-uploader', 'default-deny-all']
"""

from netpol_dsl import PolicySet, allow, allow_dns, deny_all, ip_block, pods, tcp

POD_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/12"
API_SERVICE_IP = "10.96.0.1/32"          # kubernetes.default.svc, port 443
CONTROL_PLANE = "192.168.10.8/29"        # the API server endpoints, port 6443
METADATA = "169.254.169.254/32"          # the cloud metadata service: never

uploader = pods(app="uploader")
operator = pods(app="report-operator")

# "The internet, but not the cluster or the metadata service": one CIDR minus the exceptions.
internet = ip_block("0.0.0.0/0", except_=[POD_CIDR, SERVICE_CIDR, "192.168.0.0/16", METADATA])

policies = PolicySet(namespace="reports").add(
    deny_all(),
    allow_dns(),
    # The uploader talks HTTPS to anything outside the cluster (a partner, an object store).
    allow(uploader).to(internet).on(tcp(443)),
    # The operator talks to the API server. Which port a policy sees depends on where the CNI
    # evaluates egress: after the Service's DNAT (most do) the destination is an endpoint on
    # 6443; before it, the cluster IP on 443. Allowing both works on either kind of plugin.
    allow(operator).to(ip_block(CONTROL_PLANE)).on(tcp(6443)),
    allow(operator).to(ip_block(API_SERVICE_IP)).on(tcp(443)),
)
