"""What the inventory reads besides namespaces and pods: Services, Nodes, where pods run, and
host-network pods' addresses (the evaluator's inputs for cluster-wide policies)."""

from __future__ import annotations

import textwrap

import pytest

from netpol_dsl.errors import DslUsageError
from netpol_dsl.evaluate._inventory import Node, NodeAddress, Pod, Service, ServicePort
from netpol_dsl.evaluate._manifests import inventory_from
from netpol_dsl.load import load_manifests


def inventory(text: str):
    return inventory_from(load_manifests(textwrap.dedent(text)))


def test_services_with_selector_ports_type_and_cluster_ips():
    inv = inventory("""\
        apiVersion: v1
        kind: Service
        metadata: {name: api, namespace: pay}
        spec:
          type: NodePort
          selector: {app: api}
          clusterIP: 10.96.0.10
          clusterIPs: [10.96.0.10, fd00::10]
          ports:
          - {name: http, port: 80, targetPort: http}
          - {name: grpc, port: 9090, targetPort: 19090, protocol: TCP}
          - {name: dns, port: 53, protocol: UDP}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: external}
        spec:
          ports: [{port: 443}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: db, namespace: pay}
        spec: {clusterIP: None, selector: {app: db}}
        """)
    api, external, db = inv.services
    assert api == Service("pay", "api", {"app": "api"}, (
        ServicePort(80, "TCP", "http", "http"), ServicePort(9090, "TCP", "grpc", 19090),
        ServicePort(53, "UDP", "dns")), "NodePort", ("10.96.0.10", "fd00::10"))
    assert [p.target for p in api.ports] == ["http", 19090, 53]  # targetPort defaults to port
    # no selector: the Service selects no pods (its endpoints are managed by hand)
    assert (external.key, external.selector, external.type) == ("default/external", None,
                                                                "ClusterIP")
    assert not external.selects(Pod("default", "x"))
    assert db.headless and not api.headless
    assert db.selects(Pod("pay", "db-0", {"app": "db"})) and not db.selects(Pod("x", "db-0",
                                                                              {"app": "db"}))


def test_an_empty_selector_selects_no_pods():
    (svc,) = inventory("kind: Service\nmetadata: {name: s}\nspec: {selector: {}}\n").services
    assert svc.selector is None and not svc.selects(Pod("default", "p"))


def test_odd_service_ports_are_passed_over_with_warnings():
    inv = inventory("""\
        kind: Service
        metadata: {name: s}
        spec:
          ports:
          - {port: 0}
          - {port: 80, protocol: HTTP}
          - {port: 81, targetPort: 70000}
          - x
        """)
    (svc,) = inv.services
    assert svc.ports == (ServicePort(81),)
    assert [w.path for w in inv.warnings] == [
        "spec.ports[0].port", "spec.ports[1].protocol", "spec.ports[2].targetPort", "spec.ports[3]"]


def test_nodes_with_labels_and_addresses():
    inv = inventory("""\
        apiVersion: v1
        kind: Node
        metadata:
          name: node-1
          labels: {topology.kubernetes.io/zone: a}
        status:
          addresses:
          - {type: InternalIP, address: 10.0.0.7}
          - {type: ExternalIP, address: 203.0.113.9}
          - {type: Hostname, address: node-1}
          - {type: InternalIP, address: not-an-ip}
        """)
    (node,) = inv.nodes
    assert node == Node("node-1", {"topology.kubernetes.io/zone": "a"}, (
        NodeAddress("InternalIP", "10.0.0.7"), NodeAddress("ExternalIP", "203.0.113.9"),
        NodeAddress("Hostname", "node-1")))
    assert node.ips == ("10.0.0.7", "203.0.113.9")
    assert [w.path for w in inv.warnings] == ["status.addresses[3].address"]


def test_pods_know_their_node_and_host_addresses():
    inv = inventory("""\
        kind: Pod
        metadata: {name: web, namespace: a}
        spec: {nodeName: node-1}
        status:
          podIP: 10.64.0.5
          hostIP: 10.0.0.7
          hostIPs: [{ip: 10.0.0.7}, {ip: fd00::7}]
        ---
        kind: Pod
        metadata: {name: agent, namespace: a}
        spec: {hostNetwork: true, nodeName: node-1}
        status: {hostIP: 10.0.0.7}
        ---
        kind: Pod
        metadata: {name: pending, namespace: a}
        """)
    web, agent, pending = inv.pods
    assert (web.node_name, web.ips, web.host_ips) == ("node-1", ("10.64.0.5",),
                                                      ("10.0.0.7", "fd00::7"))
    # a host-network pod without a pod IP has its node's addresses
    assert (agent.host_network, agent.ips) == (True, ("10.0.0.7",))
    assert (pending.node_name, pending.ips, pending.host_ips) == (None, (), ())


def test_bad_addresses_are_dropped_with_a_warning():
    inv = inventory("kind: Pod\nmetadata: {name: p}\nstatus: {podIP: nope, hostIP: 1.2.3.4,"
                    " hostIPs: [{ip: bad}]}\n")
    (pod,) = inv.pods
    assert (pod.ips, pod.host_ips) == ((), ("1.2.3.4",))
    assert [(w.path, w.value) for w in inv.warnings] == [("status.podIP", "nope"),
                                                         ("status.hostIP", "bad")]


def test_later_objects_replace_earlier_ones_as_apply_would():
    inv = inventory("""\
        kind: Service
        metadata: {name: s}
        spec: {selector: {v: "1"}}
        ---
        kind: Service
        metadata: {name: s}
        spec: {selector: {v: "2"}}
        ---
        kind: Node
        metadata: {name: n, labels: {v: "1"}}
        ---
        kind: Node
        metadata: {name: n, labels: {v: "2"}}
        """)
    assert [dict(s.selector or {}) for s in inv.services] == [{"v": "2"}]
    assert [dict(n.labels) for n in inv.nodes] == [{"v": "2"}]


def test_the_new_values_check_their_fields():
    with pytest.raises(DslUsageError, match="port=0"):
        ServicePort(0)
    with pytest.raises(DslUsageError, match="protocol='HTTP'"):
        ServicePort(80, "HTTP")
    with pytest.raises(DslUsageError, match="host_ips entry 'x'"):
        Pod("a", "b", host_ips=("x",))
    assert Pod("a", "b", ips=("10.0.0.1",)).node_name is None  # new fields have defaults
