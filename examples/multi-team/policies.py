"""A multi-team cluster: a namespace per team, default-deny everywhere, shared platform services.

* Each team (``shop``, ``orders``, ``billing``) owns a namespace and writes only its own side of
  each cross-namespace flow: the caller writes the egress half, the callee the ingress half.
* Every namespace, the platform's included, starts from ``deny_all()`` and ``allow_dns()``.
* The platform runs the ingress controller (``ingress-nginx``) and Prometheus (``monitoring``).
  Prometheus scrapes every team's pods on the port they *name* ``metrics``, whatever its number.

Render with ``netpol render examples/multi-team/policies.py``.

Example:
    >>> len(policies.compile())
    22
"""

from netpol_dsl import (
    In,
    PolicySet,
    all_pods,
    allow,
    allow_dns,
    anywhere,
    deny_all,
    namespace,
    namespaces,
    pods,
)

TEAMS = ("shop", "orders", "billing")

prometheus = pods({"app.kubernetes.io/name": "prometheus"})
ingress_controller = pods({"app.kubernetes.io/name": "ingress-nginx"})
web = pods(app="web")
orders_api = pods(app="orders-api")
orders_db = pods(app="orders-db")
billing_api = pods(app="billing-api")


def team_baseline(team: str) -> PolicySet:
    """What every team namespace gets: default-deny, DNS, and Prometheus scraping ``metrics``."""
    return PolicySet(namespace=team).with_labels(team=team).add(
        deny_all(),
        allow_dns(),
        allow(namespace("monitoring") & prometheus).to(all_pods()).on("metrics").ingress_only()
        .named("allow-prometheus-scrape"),
    )


shop = team_baseline("shop").add(
    allow(namespace("ingress-nginx") & ingress_controller).to(web).on(8080).ingress_only(),
    allow(web).to(namespace("orders") & orders_api).on(8080).egress_only(),
)

orders = team_baseline("orders").add(
    allow(namespace("shop") & web).to(orders_api).on(8080).ingress_only(),
    allow(orders_api).to(orders_db).on(5432),
    allow(orders_api).to(namespace("billing") & billing_api).on(8443).egress_only(),
)

billing = team_baseline("billing").add(
    allow(namespace("orders") & orders_api).to(billing_api).on(8443).ingress_only(),
)

monitoring = PolicySet(namespace="monitoring").with_labels(team="platform").add(
    deny_all(),
    allow_dns(),
    allow(prometheus).to(namespaces(team=In(*TEAMS))).on("metrics").egress_only(),
)

ingress_nginx = PolicySet(namespace="ingress-nginx").with_labels(team="platform").add(
    deny_all(),
    allow_dns(),
    allow(anywhere()).to(ingress_controller).on(80, 443),
    allow(ingress_controller).to(namespace("shop") & web).on(8080).egress_only(),
)

#: Everything ``netpol render`` writes: one PolicySet per namespace, each in its own namespace.
policies = PolicySet().add(shop, orders, billing, monitoring, ingress_nginx)
