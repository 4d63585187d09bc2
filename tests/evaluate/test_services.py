"""Services as destinations: the selected pods, the service port mapped to its targetPort."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from netpol_dsl import load_policy
from netpol_dsl.cli import app
from netpol_dsl.errors import EvaluationError, UnknownEndpointError
from netpol_dsl.evaluate import Cluster, ContainerPort, Pod
from netpol_dsl.evaluate._inventory import Service, ServicePort
from tests.evaluate.npguard import AVAILABLE, CORPUS

API_ONLY_8080 = load_policy({
    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    "metadata": {"name": "api", "namespace": "pay"},
    "spec": {"podSelector": {"matchLabels": {"app": "api"}},
             "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                          "ports": [{"port": 8080}]}]}})
PODS = [
    Pod("pay", "web", {"app": "web"}),
    Pod("pay", "api-0", {"app": "api"}, ports=(ContainerPort(8080, name="http"),)),
    Pod("pay", "api-1", {"app": "api"}, ports=(ContainerPort(8080, name="http"),)),
]
SERVICES = [
    Service("pay", "api", {"app": "api"}, (ServicePort(80, target_port=8080, name="web"),
                                           ServicePort(443, target_port="http", name="tls"),
                                           ServicePort(9090, name="metrics"))),
    Service("pay", "external-db", None, (ServicePort(5432),)),
    Service("pay", "gateway", {"app": "api"}, (ServicePort(80, target_port=8080),)),
]


@pytest.fixture
def cluster():
    return Cluster(pods=PODS, policies=[API_ONLY_8080], services=SERVICES)


def test_service_port_maps_to_its_numeric_target_port(cluster):
    v = cluster.allows("pay/web", "svc/pay/api", 80)
    assert v.all() and len(v.pairs()) == 2  # both selected pods, on 8080
    assert "Service pay/api port 80/TCP -> targetPort 8080" in v.explain()
    assert v.dst == "svc/pay/api"


def test_named_target_port_resolves_on_each_pod(cluster):
    v = cluster.allows("pay/web", "svc/pay/api", 443)
    assert v.all()
    assert "targetPort 'http' (8080 on pay/api-0)" in v.explain()


def test_service_port_by_name_and_a_port_that_maps_to_itself(cluster):
    assert cluster.allows("pay/web", "svc/pay/api", "tls").all()
    # 9090 has no targetPort: the same number, which the policy does not allow
    assert cluster.allows("pay/web", "svc/pay/api", 9090).none()


def test_a_name_only_a_service_has_resolves_to_the_service(cluster):
    assert cluster.resolve("pay/gateway").service.name == "gateway"
    assert cluster.allows("pay/web", "pay/gateway", 80).all()
    # a workload of that name would win; svc/ always names the Service
    assert cluster.resolve("svc/pay/gateway").pods == ("pay/api-0", "pay/api-1")


def test_service_errors(cluster):
    with pytest.raises(UnknownEndpointError, match=r"got Service 'svc/pay/apy'.*Did you mean 'svc/pay/api'\?"):
        cluster.allows("pay/web", "svc/pay/apy", 80)
    with pytest.raises(EvaluationError, match=r"got port 8080/TCP for Service pay/api; expected one "
                                              r"of its ports \(80/TCP \(web\), 443/TCP \(tls\), 9090/TCP \(metrics\)\)"):
        cluster.allows("pay/web", "svc/pay/api", 8080)
    with pytest.raises(UnknownEndpointError, match=r"stands for no pod: the Service has no selector"):
        cluster.allows("pay/web", "svc/pay/external-db", 5432)


def test_denial_on_a_service_port_hints_at_the_target_port(cluster):
    v = cluster.allows("pay/web", "pay/api-0", 80)
    assert v.none()
    assert ("hint: TCP 80 is a port of Service pay/api, which forwards it to targetPort 8080 on "
            "pay/api-0") in v.explain()
    # no hint when the port is not a Service port, or when it is allowed
    assert "hint" not in cluster.allows("pay/web", "pay/api-0", 81).explain()
    assert "hint" not in cluster.allows("pay/web", "pay/api-0", 8080).explain()


ONLINEBOUTIQUE = CORPUS / "tests" / "onlineboutique_workloads"


@pytest.mark.skipif(not AVAILABLE, reason="the np-guard corpus is not beside the checkout")
def test_cli_on_onlineboutique_hints_and_accepts_the_service():
    # The user's report: port 80 to the frontend pod is denied with no hint that the Service
    # maps 80 to 8080, and naming the Service was refused.
    runner = CliRunner()
    r = runner.invoke(app, ["check", "-m", str(ONLINEBOUTIQUE), "--from", "default/loadgenerator",
                            "--to", "default/frontend", "--port", "80"])
    assert r.exit_code == 1
    assert "hint: TCP 80 is a port of Service default/frontend" in r.stdout
    r = runner.invoke(app, ["check", "-m", str(ONLINEBOUTIQUE), "--from", "default/loadgenerator",
                            "--to", "svc/default/frontend", "--port", "80"])
    assert r.exit_code == 0, r.output
    assert "Service default/frontend port 80/TCP -> targetPort 8080" in r.stdout
