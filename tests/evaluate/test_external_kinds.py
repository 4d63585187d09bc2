"""External addresses that every peer sees alike share their answers (``Engine.external``).

Addresses are grouped by the stretch between consecutive ends of the policies' IP blocks (and
their excepts), the nodes they belong to, and whether domain peers count. These cases ask
about addresses in an order where a grouping that is too coarse (an except or a block end
forgotten, a node address lumped with its neighbours) would hand one address another's answer.
"""

from __future__ import annotations

import pytest

from netpol_dsl import load_policy
from netpol_dsl.admin import admin, nodes
from netpol_dsl.builder import tcp
from netpol_dsl.evaluate import Cluster, Pod
from netpol_dsl.evaluate._inventory import Node, NodeAddress


def _ingress_from_block(cidr: str, excepts: list[str]) -> object:
    return load_policy({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "from-block", "namespace": "a"},
        "spec": {"podSelector": {}, "ingress": [
            {"from": [{"ipBlock": {"cidr": cidr, "except": excepts}}]}]}})


# in the order asked: an address, then one just across an end, then the first one's stretch
ASKED = [
    ("10.0.0.1", True),
    ("10.0.0.150", False),   # in the except 10.0.0.128/26 (.128-.191)..
    ("10.0.0.191", False),   # ..up to its last address
    ("10.0.0.192", True),    # just past the except: in the block again
    ("10.0.0.2", True),
    ("10.0.0.255", True),    # the block's last address
    ("10.0.1.0", False),     # just past the block
    ("9.255.255.255", False),
    ("10.0.0.127", True),    # just before the except
    ("10.0.0.128", False),
]


@pytest.mark.parametrize("order", ["forwards", "backwards"])
def test_each_address_gets_its_own_stretchs_answer(order: str) -> None:
    c = Cluster(pods=[Pod("a", "x")], policies=[_ingress_from_block(
        "10.0.0.0/24", ["10.0.0.128/26"])])
    asked = ASKED if order == "forwards" else ASKED[::-1]
    got = [(ip, bool(c.allows(ip, "a/x", 80))) for ip, _ in asked]
    assert got == [(ip, want) for ip, want in asked]


def test_addresses_of_nodes_are_told_apart_from_their_neighbours() -> None:
    # a node peer matches the node's own addresses only; its neighbours in the same stretch
    # of IP blocks (there are no blocks at all here) must not borrow its answer
    guard = admin("no-cp", priority=5).deny_to(nodes(role="cp"), tcp(6443)).to_model()
    c = Cluster(pods=[Pod("a", "x")], policies=[guard], nodes=[
        Node("cp-1", {"role": "cp"}, (NodeAddress("InternalIP", "192.168.0.10"),)),
        Node("w-1", {"role": "worker"}, (NodeAddress("InternalIP", "192.168.0.11"),)),
    ])
    asked = ["192.168.0.11", "192.168.0.10", "192.168.0.12", "192.168.0.10"]
    got = [bool(c.allows("a/x", ip, 6443)) for ip in asked]
    assert got == [True, False, True, False]


def test_an_inventory_pod_object_and_its_key_are_the_same_end() -> None:
    deny = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": {"name": "deny", "namespace": "a"},
                        "spec": {"podSelector": {}}})
    pod = Pod("a", "x")
    c = Cluster(pods=[pod, Pod("b", "y")], policies=[deny])
    same = c.pods[0]
    equal_copy = Pod("a", "x")
    assert [bool(c.allows("b/y", p, 80)) for p in (same, equal_copy, "a/x")] == [False] * 3
    # a pod that is not the inventory's (other labels) is hypothetical: not selected by name
    other = Pod("a", "x", {"role": "new"})
    assert c.resolve(other).hypothetical is other
