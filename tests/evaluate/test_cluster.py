"""Building clusters: from objects and from manifests (files, directories, text, dicts, Lists)."""

from __future__ import annotations

import json

import pytest

from netpol_dsl import DslUsageError, InvalidPolicyError, load_policy
from netpol_dsl.evaluate import Cluster, ContainerPort, Namespace, Pod
from tests.evaluate import npguard as _ng

CORPUS = _ng.CORPUS / "tests"
DENY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "deny", "namespace": "pay"}, "spec": {"podSelector": {}}}


def test_constructor_fills_in_namespaces_and_accepts_policy_dicts():
    c = Cluster(["pay"], [Pod("web", "w")],
                [DENY, {**DENY, "metadata": {"name": "no-ns"}}])
    assert list(c.namespaces) == ["pay", "web", "default"]
    assert dict(c.namespaces["web"].labels) == {"kubernetes.io/metadata.name": "web"}
    assert [p.key for p in c.policies] == ["pay/deny", "default/no-ns"]
    assert repr(c) == "<Cluster 3 namespaces, 1 pods, 2 policies>"
    assert c.warnings == () and not c.skipped


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"got pod 'a/x' twice; expected unique namespace/name keys"):
        Cluster(pods=[Pod("a", "x"), Pod("a", "x")])
    with pytest.raises(DslUsageError, match=r"got pods entry 'a/x' \(type=str\); expected a Pod"):
        Cluster(pods=["a/x"])
    with pytest.raises(DslUsageError, match=r"got namespaces entry 3 \(type=int\)"):
        Cluster(namespaces=[3])
    with pytest.raises(DslUsageError, match=r"got policies entry 'deny' \(type=str\)"):
        Cluster(policies=["deny"])
    with pytest.raises(InvalidPolicyError, match=r"spec.ingress\[0\].ports\[0\].port: got 0"):
        Cluster(policies=[{**DENY, "spec": {"ingress": [{"ports": [{"port": 0}]}]}}])


def test_with_policies_keeps_the_inventory():
    c = Cluster([Namespace("pay", {"t": "1"})], [Pod("pay", "a"), Pod("pay", "b")], [DENY])
    assert not c.allows("pay/a", "pay/b", 80)
    open_ = c.with_policies([])
    assert open_.allows("pay/a", "pay/b", 80)
    assert open_.pods == c.pods and dict(open_.namespaces) == dict(c.namespaces)
    assert c.policies == (load_policy(DENY),)  # the original is unchanged
    again = Cluster(c.namespaces, c.pods)
    assert dict(again.namespaces["pay"].labels) == {"t": "1", "kubernetes.io/metadata.name": "pay"}


MANIFESTS = """
apiVersion: v1
kind: Namespace
metadata: {name: pay, labels: {team: payments}}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-7d9f-abcde
  namespace: pay
  labels: {app: web}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9f, controller: true}]
spec:
  hostNetwork: false
  containers:
  - name: c
    ports: [{containerPort: 8080, name: http}, {containerPort: 53, protocol: UDP, name: dns}]
status: {podIP: 10.0.0.5, podIPs: [{ip: 10.0.0.5}, {ip: "fd00::5"}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-7d9f
  namespace: pay
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, controller: true}]
spec: {template: {metadata: {labels: {app: web}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: pay}
spec: {template: {metadata: {labels: {app: web}}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: pay}
spec:
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, ports: [{containerPort: 5432, name: pg}]}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: report}}
        spec: {hostNetwork: true, containers: [{name: c}]}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: report-123
  ownerReferences: [{kind: CronJob, name: report, controller: true}]
spec: {template: {metadata: {labels: {app: report}}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: pay}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: pay}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: pg}]}]
"""


def test_from_manifests_reads_pods_workloads_and_policies():
    c = Cluster.from_manifests(MANIFESTS)
    assert [p.key for p in c.pods] == ["pay/web-7d9f-abcde", "pay/db", "default/report"]
    web = c.pod("pay/web-7d9f-abcde")
    # the ReplicaSet's Deployment is its top owner; the Deployment and ReplicaSet add no pod
    assert (web.owner_kind, web.owner_name, web.workload) == ("Deployment", "web", "pay/web[Deployment]")
    assert web.ips == ("10.0.0.5", "fd00::5")
    assert web.ports == (ContainerPort(8080, "TCP", "http"), ContainerPort(53, "UDP", "dns"))
    db = c.pod("pay/db")
    assert (db.labels, db.workload, db.ports) == ({"app": "db"}, "pay/db[StatefulSet]",
                                                 (ContainerPort(5432, "TCP", "pg"),))
    report = c.pod("default/report")  # CronJob template, no namespace -> default; Job owned by it
    assert (report.labels, report.host_network, report.workload) == (
        {"app": "report"}, True, "default/report[CronJob]")
    assert dict(c.namespaces["pay"].labels) == {"team": "payments", "kubernetes.io/metadata.name": "pay"}
    assert not c.skipped  # the Service is read into the inventory
    assert c.allows("pay/web-7d9f-abcde", "pay/db", "pg")
    assert c.allows("default/report", "pay/db", 5432)  # hostNetwork: outside policy
    assert not c.allows("8.8.8.8", "pay/db", 5432)


def test_from_manifests_takes_paths_directories_json_lists_and_objects(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "ns.yaml").write_text("kind: Namespace\napiVersion: v1\nmetadata: {name: pay}\n")
    (tmp_path / "sub" / "pods.json").write_text(json.dumps({
        "apiVersion": "v1", "kind": "PodList", "items": [
            {"metadata": {"name": "a", "namespace": "pay", "labels": {"x": "1"}}},
            {"metadata": {"name": "b", "namespace": "pay"}}]}))
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / "old_output.json").write_text(json.dumps([{"src": "a", "dst": "b", "conn": "All"}]))
    c = Cluster.from_manifests([tmp_path, DENY, load_policy({**DENY, "metadata": {
        "name": "other", "namespace": "pay"}})])
    assert [p.key for p in c.pods] == ["pay/a", "pay/b"]
    assert [p.key for p in c.policies] == ["pay/deny", "pay/other"]
    assert c.skipped == {"<no kind>": 1}
    assert not c.allows("pay/a", "pay/b", 80)
    one = Cluster.from_manifests(str(tmp_path / "sub" / "pods.json"))
    assert one.pod("pay/a").labels == {"x": "1"}


def test_from_manifests_passes_over_odd_objects_with_warnings():
    c = Cluster.from_manifests("""
kind: Pod
apiVersion: v1
metadata: {namespace: a}
---
kind: Pod
apiVersion: v1
metadata: {name: p, namespace: a}
---
kind: Pod
apiVersion: v1
metadata: {name: p, namespace: a, labels: {app: 5}}
spec: {containers: [{name: c, ports: [{containerPort: 99999}, {containerPort: 80, protocol: HTTP}]}]}
status: {podIP: not-an-ip}
""")
    assert [p.key for p in c.pods] == ["a/p"]
    assert c.pod("a/p").labels == {} and c.pod("a/p").ports == () and c.pod("a/p").ips == ()
    # the second Pod a/p replaces the first, as `kubectl apply` would
    assert [(w.path, w.value) for w in c.warnings] == [
        ("metadata.name", "Pod a/p"),
        ("metadata.name", None),
        ("metadata.labels", {"app": 5}),
        ("spec.containers[0].ports[0].containerPort", 99999),
        ("spec.containers[0].ports[1].protocol", "HTTP"),
        ("status.podIP", "not-an-ip"),
    ]
    assert str(c.warnings[1]) == "metadata.name: got None; expected a name. Pod skipped"


def test_from_manifests_workload_named_like_a_pod_gets_a_distinct_name():
    c = Cluster.from_manifests("""
kind: Pod
apiVersion: v1
metadata: {name: web, namespace: a}
---
kind: Deployment
apiVersion: apps/v1
metadata: {name: web, namespace: a}
spec: {template: {metadata: {labels: {app: web}}}}
""")
    assert [p.key for p in c.pods] == ["a/web", "a/web-deployment"]
    assert c.warnings[-1].hint == "representative pod named 'web-deployment'"


def test_from_manifests_salvages_stale_status_and_refused_names():
    c = Cluster.from_manifests("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: Allow_Web, namespace: a}
spec: {podSelector: {}}
status: {}
""")
    # the name is kept as written (it is how the user finds the object), with a warning
    assert [p.key for p in c.policies] == ["a/Allow_Web"]
    assert [(w.path, w.value) for w in c.warnings] == [("metadata.name", "Allow_Web")]
    with pytest.raises(InvalidPolicyError, match=r"spec.policyTypes"):
        Cluster.from_manifests("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: Bad_Name, namespace: a}
spec: {podSelector: {}, policyTypes: [Sideways]}
""")


def test_ipblock_matching_of_pod_ips_is_an_option_of_from_manifests():
    text = MANIFESTS + """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-cidr, namespace: pay}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/24}}]}]
"""
    assert Cluster.from_manifests(text).allows("pay/web-7d9f-abcde", "pay/db", 9999)
    assert not Cluster.from_manifests(text, ipblock_matches_pod_ips=False).allows(
        "pay/web-7d9f-abcde", "pay/db", 9999)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the np-guard corpus is not next to this checkout")
@pytest.mark.parametrize("case", sorted(p.name for p in CORPUS.iterdir()) if CORPUS.is_dir() else [])
def test_every_np_guard_case_loads_and_evaluates(case):
    c = Cluster.from_manifests(CORPUS / case)
    assert c.pods, case
    m = c.matrix()
    assert m.allowed(c.pods[0].key, c.pods[0].key)


@pytest.mark.parametrize(("kind", "api", "template_path"), [
    ("ReplicationController", "v1", "spec.template"),
    ("DaemonSet", "apps/v1", "spec.template"),
    ("StatefulSet", "apps/v1", "spec.template"),
    ("Deployment", "apps/v1", "spec.template"),
    ("ReplicaSet", "apps/v1", "spec.template"),
    ("Job", "batch/v1", "spec.template"),
    ("CronJob", "batch/v1", "spec.jobTemplate.spec.template"),
])
def test_every_workload_kind_becomes_a_representative_pod(kind, api, template_path):
    template = {"metadata": {"labels": {"app": "w", "tier": kind.lower()}},
                "spec": {"containers": [{"name": "c", "image": "x",
                                         "ports": [{"containerPort": 8080, "name": "web"}]}]}}
    obj: dict = {"apiVersion": api, "kind": kind, "metadata": {"name": "w", "namespace": "apps"}}
    node = obj
    *parents, last = template_path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = template
    c = Cluster.from_manifests([obj])
    (pod,) = c.pods
    assert (pod.namespace, pod.name, pod.owner_kind, pod.owner_name) == ("apps", "w", kind, "w")
    assert dict(pod.labels) == {"app": "w", "tier": kind.lower()}
    assert [(p.port, p.protocol, p.name) for p in pod.ports] == [(8080, "TCP", "web")]
    assert c.namespaces["apps"].labels == {"kubernetes.io/metadata.name": "apps"}
