"""Intent tests for hand-written YAML: load it, assert who may reach whom, lint it, diff it.

Run with ``pytest examples/bring-your-own-yaml``. Paths are relative to this file, so the tests
work from any directory (a directory with a hyphen is not an importable package).
"""

from pathlib import Path

from netpol_dsl import Cluster, load_manifests
from netpol_dsl.diff import diff_policies
from netpol_dsl.lint import lint

HERE = Path(__file__).parent
CLUSTER = HERE / "cluster"        # namespaces and workloads
BEFORE = HERE / "policies"        # the policies as found
AFTER = HERE / "policies-fixed"   # the pull request that fixes them

INTENT = {
    ("payments/frontend", "payments/api-server", 8080): True,
    ("payments/api-server", "payments/postgres", 5432): True,
    ("monitoring/prometheus", "payments/api-server", 9090): True,
    ("payments/api-server", "kube-system/coredns", 53, "UDP"): True,
    ("payments/api-server", "kube-system/coredns", 53, "TCP"): True,
    # what must stay closed
    ("monitoring/rogue-pod", "payments/api-server", 9090): False,
    ("payments/frontend", "payments/postgres", 5432): False,
    ("monitoring/prometheus", "payments/postgres", 5432): False,
}


def cluster_with(policies: Path) -> Cluster:
    return Cluster.from_manifests([CLUSTER, policies])


def test_every_manifest_loads():
    # Each directory on its own: together they would define every policy twice, and
    # `kubectl apply` (like load_manifests) keeps only the last of each.
    for policies in (BEFORE, AFTER):
        loaded = load_manifests([CLUSTER, policies])
        assert len(loaded.policies) == 7
        assert not loaded.skipped and not loaded.duplicates


def test_fixed_policies_meet_the_intent(expect_reachability):
    expect_reachability(cluster_with(AFTER), INTENT)


def test_original_policies_have_two_holes():
    cluster = cluster_with(BEFORE)
    rogue = cluster.allows("monitoring/rogue-pod", "payments/api-server", 9090)
    assert rogue  # the OR-for-AND mistake: any pod in monitoring may scrape
    assert "payments/allow-prometheus-scrape spec.ingress[0].from[0] allows it" in rogue.explain()
    dns_tcp = cluster.allows("payments/api-server", "kube-system/coredns", 53, "TCP")
    assert not dns_tcp  # UDP only: large DNS answers, retried over TCP, time out


def test_lint_finds_both_mistakes_and_the_fix_clears_them():
    rules = {"NP001", "NP002"}
    before = lint(BEFORE, manifests=[CLUSTER], select=rules)
    assert sorted({f.rule.id for f in before.findings}) == ["NP001", "NP002"]
    assert not lint(AFTER, manifests=[CLUSTER], select=rules).findings


def test_the_fix_closes_the_rogue_path_and_completes_dns():
    cluster = cluster_with(AFTER)
    old = load_manifests(BEFORE).policies
    new = load_manifests(AFTER).policies
    change = diff_policies(cluster, old, new)
    text = change.to_text()
    assert "- monitoring/rogue-pod -> payments/api-server: TCP 9090 (now none)" in text
    assert "+ payments/api-server -> kube-system/coredns: TCP 53 (was UDP 53)" in text
