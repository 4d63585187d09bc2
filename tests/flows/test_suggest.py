"""Suggested policies: exactly the recorded traffic (hypothesis, checked with the evaluator),
selectors that tell workloads apart, and generated DSL code that is formatted and compiles to the
same policies as the YAML."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netpol_dsl import load_manifests, to_yaml
from netpol_dsl.errors import DslUsageError
from netpol_dsl.evaluate import Cluster, Namespace, Pod
from netpol_dsl.flows import flows_from_records, read_flows
from netpol_dsl.policyset import collect
from netpol_dsl.replay import replay
from netpol_dsl.suggest import UNSTABLE_LABELS, suggest, workload_selector
from tests.strategies import budget

ROOT = Path(__file__).resolve().parents[2]
NAMESPACES = ("ns-a", "ns-b", "ns-c")
KEYS = ("app", "tier", "team")
VALUES = ("x", "y", "z")
PORTS = (53, 80, 8080)
PROTOCOLS = ("TCP", "UDP")
EXTERNAL = ("8.8.8.8", "203.0.113.7", "2001:db8::9")


# Strategies built once, drawn inside the composites (building them per draw cost more than
# the draws; the examples are the same).
_NAME_LISTS = st.lists(st.sampled_from(NAMESPACES), min_size=1, max_size=3, unique=True)
_WORKLOAD_COUNT = st.integers(1, 6)
_KIND = st.sampled_from(("Deployment", "StatefulSet", "Pod"))
_LABELS = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)
_BOOL = st.booleans()
_REPLICAS = st.integers(1, 3)
_VALUE = st.sampled_from(VALUES)
_PORT = st.sampled_from(PORTS)
_PROTOCOL = st.sampled_from(PROTOCOLS)


@st.composite
def inventories(draw):
    """Namespaces with 1-6 workloads of 1-3 pods: random stable labels, and the per-pod and
    per-revision labels controllers add (which suggestions must never use)."""
    names = draw(_NAME_LISTS)
    in_namespace = st.sampled_from(names)
    pods = []
    ip = 0
    for i in range(draw(_WORKLOAD_COUNT)):
        ns = draw(in_namespace)
        kind = draw(_KIND)
        labels = draw(_LABELS)
        if draw(_BOOL):
            labels["app"] = f"w{i}"  # usually a workload has a label of its own
        replicas = 1 if kind == "Pod" else draw(_REPLICAS)
        for j in range(replicas):
            own = dict(labels)
            if kind == "Deployment":
                own["pod-template-hash"] = f"h{i}"
            elif kind == "StatefulSet":
                own["statefulset.kubernetes.io/pod-name"] = f"w{i}-{j}"
                own["controller-revision-hash"] = f"w{i}-r"
            ip += 1
            pods.append(Pod(ns, f"w{i}-{j}", own, ips=(f"10.1.0.{ip}",),
                            owner_kind=None if kind == "Pod" else kind,
                            owner_name=None if kind == "Pod" else f"w{i}"))
    namespaces = [Namespace(n, {"team": draw(_VALUE)}) for n in names]
    return Cluster(namespaces, pods)


@st.composite
def recordings(draw, cluster):
    ends = st.sampled_from([p.key for p in cluster.pods] + list(EXTERNAL))
    recs = draw(st.lists(st.tuples(ends, ends, _PORT, _PROTOCOL), min_size=1, max_size=12))
    return recs


_INVENTORIES = inventories()


@st.composite
def scenarios(draw):
    cluster = draw(_INVENTORIES)
    return cluster, draw(recordings(cluster))


def workload(cluster, end):
    return end if "/" not in end else cluster.pod(end).workload


def _pairs(cluster, written):
    """Every ordered pair of distinct ends where at least one end's pods are isolated by the
    suggestion (pods of written namespaces, or any pod towards them)."""
    ends = [p.key for p in cluster.pods] + list(EXTERNAL)
    ns = {p.key: p.namespace for p in cluster.pods}
    for s in ends:
        for d in ends:
            if s == d or ("/" not in s and "/" not in d):
                continue
            if ns.get(s) in written or ns.get(d) in written:
                yield s, d


def _check_exact(cluster, recs, result, *, granularity):
    after = cluster.with_policies(result.policies)
    # replaying the recording against the suggestion breaks nothing
    assert result.check is not None and result.check.ok, result.check.to_text()
    assert replay(flows_from_records(recs), after).ok
    # every recorded connection is allowed
    for s, d, port, proto in recs:
        if "/" in s or "/" in d:
            assert after.allows(s, d, port, proto), after.allows(s, d, port, proto).explain()

    def key(end):
        if "/" not in end:
            return end
        return workload(cluster, end) if granularity == "workload" else cluster.pod(end).namespace

    seen = {(key(s), key(d), proto, port) for s, d, port, proto in recs if s != d}
    loose = set()
    for sel in result.selectors.values():
        if sel.also_selects:
            loose.update((sel.workload, *sel.also_selects))
    written = set(result.namespaces)
    pairs = list(_pairs(cluster, written))
    pod_pairs = [(s, d) for s, d in pairs if "/" in s and "/" in d]
    queries = [(s, d, port, proto) for s, d in pod_pairs for port in (*PORTS, 9999)
               for proto in PROTOCOLS]
    answers = after.allows_pairs(queries)
    ext = [((s, d, port, proto), bool(after.allows(s, d, port, proto)))
           for s, d in pairs if "/" not in s or "/" not in d
           for port in (*PORTS, 9999) for proto in PROTOCOLS]
    for (s, d, port, proto), ok in [*zip(queries, answers, strict=True), *ext]:
        if not ok:
            continue
        k = (key(s), key(d), proto, port)
        if k in seen:
            continue
        if granularity == "workload" and (k[0] in loose or k[1] in loose):
            continue  # the suggestion said it cannot tell these workloads apart
        pytest.fail(f"{s} -> {d} {proto} {port} is allowed but was never recorded "
                    f"({k} not in {sorted(seen)})\n{after.allows(s, d, port, proto).explain()}")


@pytest.mark.heavy(2.5)
# CI: 60 scenarios (was 120); HYPOTHESIS_PROFILE=long: 1200.
@settings(max_examples=budget(120, ci=60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_workload_suggestion_allows_exactly_the_recorded_workload_pairs_and_ports(scenario):
    cluster, recs = scenario
    result = suggest(flows_from_records(recs), cluster, dns=False)
    _check_exact(cluster, recs, result, granularity="workload")
    _check_code(result)


# CI: 30 scenarios (was 60); HYPOTHESIS_PROFILE=long: 600.
@settings(max_examples=budget(60, ci=30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_namespace_suggestion_allows_exactly_the_recorded_namespace_pairs_and_ports(scenario):
    cluster, recs = scenario
    result = suggest(flows_from_records(recs), cluster, dns=False, granularity="namespace")
    _check_exact(cluster, recs, result, granularity="namespace")
    _check_code(result)


def _check_code(result):
    """The generated module runs and compiles to the same policies as the YAML."""
    namespace: dict = {}
    exec(compile(result.to_python(), "<suggestion>", "exec"), namespace)
    assert collect(namespace) == result.policies
    assert to_yaml(collect(namespace)) == result.to_yaml()


@settings(max_examples=budget(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_with_dns_only_dns_lookups_are_added(scenario):
    cluster, recs = scenario
    dns = Pod("kube-system", "coredns-1", {"k8s-app": "kube-dns"}, ips=("10.9.0.10",),
              owner_kind="Deployment", owner_name="coredns")
    cluster = Cluster(cluster.namespaces, [*cluster.pods, dns])
    recs = [*recs, (recs[0][0], dns.key, 53, "UDP")] if "/" in recs[0][0] else recs
    result = suggest(flows_from_records(recs), cluster)
    assert "kube-system" not in result.namespaces
    after = cluster.with_policies(result.policies)
    assert result.check.ok
    no_dns = suggest(flows_from_records(recs), cluster, dns=False)
    without = cluster.with_policies(no_dns.policies)
    for p in cluster.pods:
        for q in cluster.pods:
            for port in PORTS:
                for proto in PROTOCOLS:
                    if p == q or bool(after.allows(p.key, q.key, port, proto)) == bool(
                            without.allows(p.key, q.key, port, proto)):
                        continue
                    # the only difference: lookups to kube-dns from the written namespaces
                    assert (q.key, port) == (dns.key, 53) and p.namespace in result.namespaces


# ------------------------------------------------------------------ selectors


def test_selectors_never_use_controller_labels():
    pods = [Pod("a", f"db-{i}", {"app": "db", "statefulset.kubernetes.io/pod-name": f"db-{i}",
                                 "controller-revision-hash": "db-7c9"},
                owner_kind="StatefulSet", owner_name="db") for i in range(2)]
    pods += [Pod("a", "web-1", {"app": "web", "pod-template-hash": "5d8"},
                 owner_kind="Deployment", owner_name="web")]
    single = [Pod("b", "cache-0", {"statefulset.kubernetes.io/pod-name": "cache-0",
                                   "apps.kubernetes.io/pod-index": "0", "tier": "cache"},
                  owner_kind="StatefulSet", owner_name="cache"),
              Pod("b", "other", {"tier": "x"})]
    c = Cluster(pods=pods + single)
    for w in c.workloads():
        sel = workload_selector(c, w.id)
        assert not {k for k, _ in sel.labels} & UNSTABLE_LABELS
        assert not set(sel.absent) & UNSTABLE_LABELS
    assert workload_selector(c, "a/db").code() == 'pods(app="db")'
    assert workload_selector(c, "b/cache").code() == 'pods(tier="cache")'


def test_the_smallest_label_set_is_chosen_preferring_well_known_keys():
    c = Cluster(pods=[
        Pod("a", "x", {"app.kubernetes.io/name": "x", "app": "x", "team": "t", "zone": "1"}),
        Pod("a", "y", {"app.kubernetes.io/name": "y", "app": "y", "team": "t", "zone": "1"}),
        Pod("a", "z", {"team": "t", "zone": "2", "role": "z"}),
        Pod("b", "alone", {"zone": "1", "app": "alone"}),
        Pod("b2", "bare"),
    ])
    assert workload_selector(c, "a/x").labels == (("app.kubernetes.io/name", "x"),)
    assert workload_selector(c, "a/z").labels == (("role", "z"),)
    # alone in its namespace: its best single label, not the empty selector
    assert workload_selector(c, "b/alone").labels == (("app", "alone"),)
    assert workload_selector(c, "b2/bare").code() == "all_pods()"


def test_two_labels_when_no_one_label_tells_it_apart():
    c = Cluster(pods=[Pod("a", "1", {"app": "api", "track": "stable"}),
                      Pod("a", "2", {"app": "api", "track": "canary"}),
                      Pod("a", "3", {"app": "web", "track": "stable"})])
    assert workload_selector(c, "a/1").labels == (("app", "api"), ("track", "stable"))


def test_workloads_that_labels_cannot_tell_apart_are_named():
    c = Cluster(pods=[Pod("a", "old", {"app": "web"}), Pod("a", "new", {"app": "web"}),
                      Pod("a", "api", {"app": "api"})])
    sel = workload_selector(c, "a/old")
    assert sel.also_selects == ("a/new[Pod]",) and sel.labels == (("app", "web"),)
    result = suggest(flows_from_records([("a/old", "a/api", 80, "TCP")]), c, dns=False)
    assert result.notes == (
        "a/old[Pod]: no stable labels tell it apart from a/new[Pod]; its rules cover those pods "
        "too (give its pod template a label of its own)",)
    assert "# a/old[Pod] (also selects a/new[Pod])" in result.to_python()


# ------------------------------------------------------------------ the suggestion


@pytest.fixture(scope="module")
def lesson():
    cluster = Cluster.from_manifests(ROOT / "examples" / "payments_cluster.yaml")
    return cluster, read_flows(ROOT / "examples" / "payments-flows.json")


def test_lesson_suggestion(lesson):
    cluster, log = lesson
    result = suggest(log, cluster)
    assert result.namespaces == ("monitoring", "payments")
    assert [str(f) for f in result.flows] == [
        "monitoring/prometheus[Deployment] -> payments/api-server[Deployment] TCP 9090: 6 records",
        "payments/api-server[Deployment] -> 203.0.113.10/32 TCP 443: 2 records",
        "payments/api-server[Deployment] -> payments/postgres[StatefulSet] TCP 5432: 12 records",
        "payments/frontend[Deployment] -> payments/api-server[Deployment] TCP 8080: 22 records",
    ]
    assert dict(result.dns) == {"payments": 14}
    assert result.check.ok and result.check.allowed == 6 + 2 + 12 + 22 + 14
    names = [p.key for p in result.policies]
    assert names == [
        "monitoring/allow-dns-egress", "monitoring/allow-egress-from-prometheus",
        "monitoring/default-deny-all", "payments/allow-dns-egress",
        "payments/allow-egress-from-api-server", "payments/allow-egress-from-frontend",
        "payments/allow-ingress-to-api-server", "payments/allow-ingress-to-postgres",
        "payments/default-deny-all"]
    # the cross-namespace peer is one AND peer (namespaceSelector and podSelector together)
    ingress = next(p for p in result.policies if p.key == "payments/allow-ingress-to-api-server")
    peers = [r.to_dict()["from"] for r in ingress.spec.ingress]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
            "podSelector": {"matchLabels": {"app": "prometheus"}}} in [p for ps in peers for p in ps]
    _check_code(result)


def test_generated_code_is_formatted_and_lint_clean(lesson):
    """ruff format leaves the generated modules alone (one run over many of them)."""
    cluster, log = lesson
    modules = [suggest(log, cluster).to_python(),
               suggest(log, cluster, granularity="namespace", group_external=24).to_python()]
    long = "a-very-long-workload-name-that-goes-on-and-on-and-on"
    c = Cluster(pods=[
        Pod("a-long-namespace-name-for-formatting", long, {"app.kubernetes.io/name": long * 1,
                                                           "team": "payments-and-more"}),
        Pod("a-long-namespace-name-for-formatting", "twin", {"app.kubernetes.io/name": long,
                                                             "team": "payments-and-more",
                                                             "track": "canary"}),
        Pod("other-long-namespace-name-for-formatting", long + "-2", {"name": long}),
        Pod("a", "web", {"app": "Web"}), Pod("a", "web2", {"app": "web"}),
        Pod("a", "class", {"app": "class"}), Pod("a", "print", {"app": "print"}),
    ])
    recs = [(f"a-long-namespace-name-for-formatting/{long}",
             f"other-long-namespace-name-for-formatting/{long}-2", 8080, "TCP"),
            (f"other-long-namespace-name-for-formatting/{long}-2",
             "a-long-namespace-name-for-formatting/twin", 443, "TCP"),
            ("a/web", "a/web2", 80, "TCP"), ("a/web2", "a/web", 80, "TCP"),
            ("a/class", "a/print", 1, "UDP"), ("a/print", "2001:db8::1", 443, "TCP")]
    result = suggest(flows_from_records(recs), c)
    assert result.check.ok
    _check_code(result)
    modules.append(result.to_python())

    @settings(max_examples=budget(30), deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(scenario=scenarios(), granularity=st.sampled_from(["workload", "namespace"]))
    def random_modules(scenario, granularity):
        cluster, recs = scenario
        modules.append(suggest(flows_from_records(recs), cluster, granularity=granularity,
                               check=False).to_python())

    random_modules()
    with tempfile.TemporaryDirectory() as d:
        for i, text in enumerate(modules):
            (Path(d) / f"m{i}.py").write_text(text)
        fmt = subprocess.run([sys.executable, "-m", "ruff", "format", "--diff", "--line-length",
                              "100", "--no-cache", d], capture_output=True, text=True, check=False)
        assert fmt.returncode == 0, fmt.stdout + fmt.stderr
        lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated",
                               "--select", "E,F,W,I,UP,B", "--ignore", "E501", "--line-length", "100", d],
                              capture_output=True, text=True, check=False)
        assert lint.returncode == 0, lint.stdout + lint.stderr


def test_policy_names_that_would_clash_are_made_unique():
    # app=web and name=web both make "allow-ingress-to-web"; "Web" and "web" too
    c = Cluster(pods=[Pod("a", "x", {"app": "web"}), Pod("a", "y", {"name": "web"}),
                      Pod("a", "z", {"app": "Web"}), Pod("a", "cli", {"app": "cli"})])
    recs = [("a/cli", t, 80, "TCP") for t in ("a/x", "a/y", "a/z")]
    result = suggest(flows_from_records(recs), c, dns=False)
    names = sorted(p.name for p in result.policies)
    assert names[:2] == ["allow-egress-from-cli", "allow-ingress-to-web"]
    assert len(names) == 5 and len(set(names)) == 5 and names[4] == "default-deny-all"
    assert all(n.startswith("allow-ingress-to-web-") for n in names[2:4])
    _check_exact(c, recs, result, granularity="workload")
    _check_code(result)


def test_external_addresses_are_grouped_only_when_asked():
    c = Cluster(pods=[Pod("a", "x", {"app": "x"})])
    recs = [("a/x", "203.0.113.7", 443, "TCP"), ("a/x", "203.0.113.9", 443, "TCP"),
            ("2001:db8::1", "a/x", 80, "TCP")]
    one = suggest(flows_from_records(recs), c, dns=False)
    assert [f.dst for f in one.flows] == ["a/x[Pod]", "203.0.113.7/32", "203.0.113.9/32"]
    grouped = suggest(flows_from_records(recs), c, dns=False, group_external=24)
    assert [(f.src, f.dst, f.records) for f in grouped.flows] == [
        ("2001:db8::/64", "a/x[Pod]", 1), ("a/x[Pod]", "203.0.113.0/24", 2)]
    assert grouped.check.ok
    with pytest.raises(DslUsageError, match="got group_external=33; expected a prefix length"):
        suggest(flows_from_records(recs), c, group_external=33)


def test_what_is_not_allowed_is_said(lesson):
    cluster, _ = lesson
    c = Cluster(pods=[*cluster.pods, Pod("payments", "agent", ips=("10.0.0.2",),
                                         host_network=True)])
    recs = [("payments/frontend", "payments/frontend", 80, "TCP"),  # itself: nothing to allow
            ("payments/agent", "payments/api-server", 80, "TCP"),
            ("8.8.8.8", "1.1.1.1", 53, "UDP"), ("payments/gone", "payments/api-server", 1, "TCP")]
    result = suggest(flows_from_records(recs), c)
    assert result.notes == (
        "1 record not allowed: between two addresses outside the inventory",
        "1 record not allowed: with a host-network pod (outside NetworkPolicy's reach)",
        "1 record not allowed: 1 end not in the inventory (see the replay report)")
    assert result.flows == ()


def test_dropped_records_are_left_out_unless_asked():
    c = Cluster(pods=[Pod("a", "x", {"app": "x"}), Pod("a", "y", {"app": "y"})])
    log = read_flows(__import__("io").StringIO("src,dst,port,count,dropped\na/x,a/y,80,0,4\n"))
    assert suggest(log, c, dns=False).flows == ()
    assert [f.records for f in suggest(log, c, dns=False, include_dropped=True).flows] == [4]


def test_namespaces_to_write(lesson):
    cluster, log = lesson
    only = suggest(log, cluster, namespaces=["payments"])
    assert only.namespaces == ("payments",)
    quiet = suggest(log, cluster, namespaces=["payments", "quiet"])
    assert "quiet: no recorded traffic; it gets a default deny (and DNS) only" in quiet.notes
    assert [p.name for p in quiet.policies if p.namespace == "quiet"] == [
        "allow-dns-egress", "default-deny-all"]
    assert {p.namespace for p in only.policies} == {"payments"}
    assert only.check.ok
    with pytest.raises(DslUsageError, match="got namespace 'kube-system'; expected application"):
        suggest(log, cluster, namespaces=["kube-system"])
    with pytest.raises(DslUsageError, match="got granularity='pod'"):
        suggest(log, cluster, granularity="pod")  # type: ignore[arg-type]


def test_the_check_keeps_other_namespaces_policies(lesson):
    cluster, log = lesson
    deny_dns = load_manifests("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: kube-system}
spec: {podSelector: {}, policyTypes: [Ingress]}
""").policies
    result = suggest(log, cluster.with_policies(deny_dns))
    assert not result.check.ok
    assert sorted(f"{b.src} -> {b.dst}" for b in result.check.broken) == [
        "payments/api-server[Deployment] -> kube-system/coredns[Deployment]",
        "payments/frontend[Deployment] -> kube-system/coredns[Deployment]"]


def test_variables_are_named_after_the_deployment_not_its_replicaset():
    c = Cluster(pods=[
        Pod("a", "web-7d4b9c8f6-x2x9k", {"app": "web", "pod-template-hash": "7d4b9c8f6"},
            owner_kind="ReplicaSet", owner_name="web-7d4b9c8f6"),
        Pod("a", "db-0", {"app": "db"}, owner_kind="StatefulSet", owner_name="db")])
    result = suggest(flows_from_records([("a/web-7d4b9c8f6-x2x9k", "a/db-0", 5432, "TCP")]), c,
                     dns=False)
    code = result.to_python()
    assert 'web = pods(app="web")' in code and "allow(web).to(db).on(tcp(5432))" in code
    _check_code(result)
