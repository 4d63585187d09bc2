"""examples/payments.py renders the lesson's policies, and the flows work end to end.

The first four documents are transcribed by hand from the lesson (networkpolicies-lesson.txt).
The last three are the halves the lesson says are needed but does not show ("we need a separate
egress policy (e.g., to allow api-server to talk to postgres on port 5432 ...)"), written by hand.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from netpol_dsl import namespace, pods

ROOT = Path(__file__).resolve().parent.parent

LESSON_YAML = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-all
  namespace: payments
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  - Egress
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-frontend-to-api
  namespace: payments
spec:
  podSelector:
    matchLabels:
      app: api-server
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: frontend
    ports:
    - protocol: TCP
      port: 8080
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-prometheus-scrape
  namespace: payments
spec:
  podSelector:
    matchLabels:
      app: api-server
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: monitoring
      podSelector:
        matchLabels:
          app: prometheus
    ports:
    - protocol: TCP
      port: 9090
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-dns-egress
  namespace: payments
spec:
  podSelector: {}
  policyTypes:
  - Egress
  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
    ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
"""

IMPLIED_YAML = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-frontend-to-api-egress
  namespace: payments
spec:
  podSelector:
    matchLabels:
      app: frontend
  policyTypes:
  - Egress
  egress:
  - to:
    - podSelector:
        matchLabels:
          app: api-server
    ports:
    - protocol: TCP
      port: 8080
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-egress-from-api-server
  namespace: payments
spec:
  podSelector:
    matchLabels:
      app: api-server
  policyTypes:
  - Egress
  egress:
  - to:
    - podSelector:
        matchLabels:
          app: postgres
    ports:
    - protocol: TCP
      port: 5432
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ingress-to-postgres
  namespace: payments
spec:
  podSelector:
    matchLabels:
      app: postgres
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: api-server
    ports:
    - protocol: TCP
      port: 5432
"""


def semantic(doc):
    """A policy with its lists made order-free: peers and ports are sets in Kubernetes."""

    def rule(r, peers_key):
        return (
            frozenset(yaml.safe_dump(p, sort_keys=True) for p in r.get(peers_key, [])),
            frozenset(yaml.safe_dump(p, sort_keys=True) for p in r.get("ports", [])),
        )

    spec = doc["spec"]
    return {
        "name": doc["metadata"]["name"],
        "namespace": doc["metadata"]["namespace"],
        "podSelector": yaml.safe_dump(spec["podSelector"], sort_keys=True),
        "policyTypes": frozenset(spec["policyTypes"]),
        "ingress": frozenset(rule(r, "from") for r in spec.get("ingress", [])),
        "egress": frozenset(rule(r, "to") for r in spec.get("egress", [])),
    }


def load_example():
    spec = importlib.util.spec_from_file_location("payments_example", ROOT / "examples" / "payments.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rendered():
    module = load_example()
    return {p.name: p.to_dict() for p in module.policies.compile()}


def test_every_lesson_policy_is_rendered_as_written(rendered):
    for doc in yaml.safe_load_all(LESSON_YAML):
        name = doc["metadata"]["name"]
        assert name in rendered, name
        assert semantic(rendered[name]) == semantic(doc)


def test_nothing_but_the_lesson_and_its_implied_halves(rendered):
    expected = [*yaml.safe_load_all(LESSON_YAML), *yaml.safe_load_all(IMPLIED_YAML)]
    assert sorted(rendered) == sorted(d["metadata"]["name"] for d in expected)
    for doc in expected:
        assert semantic(rendered[doc["metadata"]["name"]]) == semantic(doc)


def test_the_lessons_diagram_holds_under_the_evaluator():
    from netpol_dsl.evaluate import Cluster, hypothetical

    module = load_example()

    def at(ns, app):
        return pods(app=app).in_namespace(ns)

    frontend, api, db = at("payments", "frontend"), at("payments", "api-server"), at("payments", "postgres")
    prometheus, rogue = at("monitoring", "prometheus"), at("monitoring", "attacker")
    dns = namespace("kube-system") & pods({"k8s-app": "kube-dns"})
    grafana = at("monitoring", "grafana")
    # Selector endpoints stand for inventory pods: one pod per selector.
    inventory = [hypothetical(s) for s in (frontend, api, db, prometheus, rogue, dns, grafana)]
    c = Cluster(namespaces=["payments", "monitoring", "kube-system"], pods=inventory,
                policies=module.policies.compile())
    assert c.allows(frontend, api, 8080)
    assert c.allows(api, db, 5432)
    assert c.allows(prometheus, api, 9090)
    assert c.allows(api, dns, 53, "UDP") and c.allows(frontend, dns, 53, "TCP")
    assert not c.allows(rogue, api, 9090)  # DENY in the diagram
    assert not c.allows(frontend, db, 5432)  # the frontend cannot probe the database
    assert not c.allows(api, frontend, 8080)
    assert not c.allows(frontend, api, 9090)
    assert not c.allows(api, grafana, 443)


def test_the_example_passes_mypy_strict(mypy):
    result = mypy("examples/payments.py")
    assert result.returncode == 0, result.stdout + result.stderr
