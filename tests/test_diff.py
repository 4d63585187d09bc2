"""diff: connection-set subtraction and gained/lost flows between two policy sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from netpol_dsl import load_policy
from netpol_dsl.diff import ConnectivityDiff, diff_policies, diff_sources, subtract
from netpol_dsl.errors import LoadError
from netpol_dsl.evaluate import Cluster, ConnectionSet
from netpol_dsl.load import load_manifests

LESSON = Path(__file__).parent / "fixtures" / "cli" / "lesson"


@pytest.fixture(scope="module")
def cluster():
    return Cluster.from_manifests([LESSON / "namespaces.yaml", LESSON / "workloads.yaml"])


@pytest.fixture(scope="module")
def lesson():
    return list(load_manifests(LESSON / "policies").policies)


@pytest.mark.parametrize(("a", "b", "want"), [
    (ConnectionSet.all(), ConnectionSet.of("TCP", 80), "TCP 1-79,81-65535; UDP 1-65535; SCTP 1-65535"),
    (ConnectionSet.of("TCP", 80), ConnectionSet.all(), "none"),
    (ConnectionSet.of("TCP", 80, 90), ConnectionSet.of("UDP", 85), "TCP 80-90"),
    (ConnectionSet.of("TCP", 1, 100), ConnectionSet.of("TCP", 1, 10) | ConnectionSet.of("TCP", 50),
     "TCP 11-49,51-100"),
])
def test_subtract(a, b, want):
    assert str(subtract(a, b)) == want


def test_no_change(cluster, lesson):
    d = diff_policies(cluster, lesson, lesson)
    assert not d.changed and d.to_text().endswith("no change")


def test_removing_default_deny_gains_flows(cluster, lesson):
    new = [p for p in lesson if p.name != "default-deny-all"]
    d = diff_policies(cluster, lesson, new)
    assert d.changed and d.removed == ("payments/default-deny-all",) and not d.lost
    gained = {(c.src, c.dst) for c in d.gained}
    # Only frontend loses all isolation for ingress (the other payments pods stay isolated by
    # their allow policies; egress stays isolated by allow-dns-egress, which selects every pod).
    assert gained == {("kube-system/coredns", "payments/frontend"),
                      ("monitoring/prometheus", "payments/frontend"),
                      ("monitoring/rogue-pod", "payments/frontend")}
    assert all(c.gained == "all" or c.after == "all" for c in d.gained)


def test_tightening_a_port_loses_a_flow(cluster, lesson):
    def tweak(p):
        if p.name != "allow-api-to-postgres":
            return p
        d = p.to_dict()
        d["spec"]["egress"][0]["ports"][0]["port"] = 5433
        return load_policy(d)

    d = diff_policies(cluster, lesson, [tweak(p) for p in lesson])
    (lost,) = d.lost
    assert (lost.src, lost.dst, lost.lost, lost.after) == (
        "payments/api-server", "payments/postgres", "TCP 5432", "none")
    assert d.modified == ("payments/allow-api-to-postgres",)
    md = d.to_markdown()
    assert "| `payments/api-server` | `payments/postgres` | TCP 5432 | none |" in md


def test_diff_sources_missing(cluster):
    with pytest.raises(LoadError, match="does not exist"):
        diff_sources("no/such/dir", str(LESSON / "policies"), cluster)


def test_empty_diff_renders():
    assert ConnectivityDiff().to_dict()["policies"] == {"added": [], "removed": [], "changed": []}
