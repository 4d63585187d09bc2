"""The NetworkPolicies lesson's ``payments`` namespace, written with netpol-dsl.

Every policy of the lesson, plus the halves it says are needed but does not show:

* ``default-deny-all``: nothing in or out of ``payments`` unless allowed below;
* ``allow-dns-egress``: every pod may resolve names via kube-dns (UDP and TCP 53);
* ``allow-frontend-to-api``: frontend -> api-server on TCP 8080 (and, so that the flow works
  under deny-all, ``allow-frontend-to-api-egress`` on the frontend's side);
* api-server -> postgres on TCP 5432, both halves, automatically named
  (``allow-egress-from-api-server`` and ``allow-ingress-to-postgres``);
* ``allow-prometheus-scrape``: Prometheus pods *in the monitoring namespace* (one peer, namespace
  AND pod) -> api-server on TCP 9090. The monitoring namespace is not ours, so only our side.

Render it with ``netpol render examples/payments.py``.

Example:
    >>> [p.name for p in policies.compile()]  # doctest: +NORMALIZE_WHITESPACE
    ['allow-dns-egress', 'allow-egress-from-api-server', 'allow-frontend-to-api',
     'allow-frontend-to-api-egress', 'allow-ingress-to-postgres', 'allow-prometheus-scrape',
     'default-deny-all']
"""

from netpol_dsl import PolicySet, allow, allow_dns, deny_all, namespace, pods

frontend = pods(app="frontend")
api_server = pods(app="api-server")
postgres = pods(app="postgres")
prometheus = namespace("monitoring") & pods(app="prometheus")

policies = PolicySet(namespace="payments").add(
    deny_all(),
    allow_dns(),
    allow(frontend).to(api_server).on(8080).named("allow-frontend-to-api"),
    allow(api_server).to(postgres).on(5432),
    allow(prometheus).to(api_server).on(9090).ingress_only().named("allow-prometheus-scrape"),
)
