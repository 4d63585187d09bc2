"""The kind registry: near-miss kinds and versions are errors, other kinds are skipped and
listed, and two inputs for one object keep the last one, as ``kubectl apply`` does."""

from __future__ import annotations

import textwrap
from collections import Counter

import pytest

from netpol_dsl import InvalidPolicyError, load_manifests
from netpol_dsl.evaluate import Cluster
from netpol_dsl.load import (
    KINDS,
    KindSpec,
    LoadOptions,
    Manifest,
    classify,
    cluster_kinds,
    register_kind,
)

POLICY = textwrap.dedent("""\
    apiVersion: {api}
    kind: {kind}
    metadata:
      name: {name}
      namespace: a
    spec:
      podSelector: {{}}
""")


def policy(kind="NetworkPolicy", api="networking.k8s.io/v1", name="deny"):
    return POLICY.format(kind=kind, api=api, name=name)


# ------------------------------------------------------------------ near misses are errors


@pytest.mark.parametrize(("kind", "near"), [
    ("Networkpolicy", "NetworkPolicy"),
    ("networkpolicy", "NetworkPolicy"),
    ("NetworkPolicies", "NetworkPolicy"),
    ("NetworkPolcy", "NetworkPolicy"),
    ("pods", "Pod"),
    ("Namespaces", "Namespace"),
    ("deployment", "Deployment"),
])
def test_a_near_miss_kind_is_an_error_with_a_did_you_mean(tmp_path, kind, near):
    path = tmp_path / "p.yaml"
    path.write_text("# a comment\n" + policy(kind=kind), encoding="utf-8")
    with pytest.raises(InvalidPolicyError) as info:
        load_manifests(path)
    (issue,) = info.value.issues
    assert (issue.path, issue.value) == ("kind", kind)
    assert issue.hint == f"Did you mean {near!r}?"
    assert issue.source == f"{path}:3: a/deny"


def test_near_miss_kinds_are_collected_for_validate():
    m = load_manifests(policy(kind="Networkpolicy") + "---\n" + policy(name="ok"),
                       collect_errors=True)
    assert [p.key for p in m.policies] == ["a/ok"]
    assert [(i.path, i.value) for i in m.errors] == [("kind", "Networkpolicy")]


@pytest.mark.parametrize(("api", "hint"), [
    ("extensions/v1beta1", "extensions/v1beta1 NetworkPolicy is no longer served since "
                           "Kubernetes 1.16; use networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "Did you mean 'networking.k8s.io/v1'?"),
    ("networking.k8s.io/v2", "Did you mean 'networking.k8s.io/v1'?"),
    ("networking.k8s.i0/v1", "Did you mean 'networking.k8s.io/v1'?"),
    ("v1", "Did you mean 'networking.k8s.io/v1'?"),
    ("networking/v1", "Did you mean 'networking.k8s.io/v1'?"),
])
def test_an_unknown_or_removed_version_of_a_known_kind_is_an_error(api, hint):
    with pytest.raises(InvalidPolicyError) as info:
        load_manifests(policy(api=api))
    (issue,) = info.value.issues
    assert (issue.path, issue.value, issue.expected) == (
        "apiVersion", api, "'networking.k8s.io/v1'")
    assert issue.hint == hint


def test_a_policy_without_api_version_is_an_error():
    text = "kind: NetworkPolicy\nmetadata: {name: x, namespace: a}\n"
    with pytest.raises(InvalidPolicyError, match=r"apiVersion: got nothing \(the field is "
                                                 r"required\); expected 'networking.k8s.io/v1'"):
        load_manifests(text)


@pytest.mark.parametrize(("api", "kind"), [
    ("extensions/v1beta1", "Deployment"),
    ("apps/v1beta2", "DaemonSet"),
    ("apps/v1beta1", "StatefulSet"),
    ("batch/v1beta1", "CronJob"),
    ("v2", "Pod"),
])
def test_removed_versions_of_workloads_are_errors(api, kind):
    with pytest.raises(InvalidPolicyError) as info:
        load_manifests({"apiVersion": api, "kind": kind, "metadata": {"name": "w"}})
    assert info.value.issues[0].path == "apiVersion"


# ------------------------------------------------------------------ other kinds are skipped


def test_other_projects_kinds_of_the_same_name_are_skipped():
    calico = policy(api="crd.projectcalico.org/v1") + "---\n" + policy(api="projectcalico.org/v3")
    cilium = policy(kind="CiliumNetworkPolicy", api="cilium.io/v2")
    calico_global = policy(kind="GlobalNetworkPolicy", api="crd.projectcalico.org/v1")
    m = load_manifests("---\n".join([calico, cilium, calico_global]))
    assert m.policies == () and m.errors == ()
    assert m.skipped == Counter({"NetworkPolicy": 2, "CiliumNetworkPolicy": 1,
                                 "GlobalNetworkPolicy": 1})


def test_unrelated_kinds_are_listed_in_skipped():
    m = load_manifests([{"apiVersion": "v1", "kind": k, "metadata": {"name": "x"}}
                        for k in ("ConfigMap", "Secret", "ServiceAccount", "PodTemplate",
                                  "Endpoints", "Ingress", "Role")])
    assert set(m.skipped) == {"ConfigMap", "Secret", "ServiceAccount", "PodTemplate",
                              "Endpoints", "Ingress", "Role"}


def test_inventory_objects_may_leave_api_version_out():
    m = load_manifests("kind: Pod\nmetadata: {name: a}\n---\nkind: Namespace\n"
                       "metadata: {name: b}\n")
    assert [o.kind for o in m.objects] == ["Pod", "Namespace"]


def test_services_and_nodes_are_kept_for_the_evaluator():
    m = load_manifests([{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}},
                        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}}])
    assert [o.kind for o in m.objects] == ["Service", "Node"]
    assert {"Service", "Node", "Pod", "Namespace"} <= cluster_kinds()


# ------------------------------------------------------------------ the registry


def test_a_registered_kind_is_loaded_by_its_loader():
    calls = []

    def load_widget(data, options):
        calls.append(options)
        return ("widget", data["metadata"]["name"]), []

    spec = KindSpec("example.k8s.io", "Widget", ("v1",), load_widget)
    register_kind(spec)
    try:
        m = load_manifests({"apiVersion": "example.k8s.io/v1", "kind": "Widget",
                            "metadata": {"name": "w"}}, namespace="a")
        assert m.resources_of("Widget") == (("widget", "w"),)
        assert m.resources[0].spec is spec and m.policies == ()
        assert calls == [LoadOptions(namespace="a")]
        # near misses consider every registered kind
        _, issue = classify(Manifest({"apiVersion": "example.k8s.io/v1", "kind": "Widgets"}))
        assert issue is not None and issue.hint == "Did you mean 'Widget'?"
    finally:
        del KINDS["example.k8s.io", "Widget"]


def test_a_loader_may_be_named_by_module_and_function():
    spec = KindSpec("example.k8s.io", "Gadget", ("v1",), "netpol_dsl.load:_load_network_policy")
    obj, warnings = spec.load({"metadata": {"name": "x", "namespace": "a"}}, LoadOptions())
    assert (obj.key, warnings) == ("a/x", [])


def test_registering_a_kind_twice_differently_is_an_error():
    with pytest.raises(ValueError, match="second spec for kind 'NetworkPolicy'"):
        register_kind(KindSpec("networking.k8s.io", "NetworkPolicy", ("v2",)))


# ------------------------------------------------------------------ duplicates: last wins


def test_duplicate_policies_keep_the_last_with_a_warning(tmp_path):
    first = policy()
    second = policy().replace("podSelector: {}", "podSelector: {matchLabels: {app: b}}")
    (tmp_path / "a.yaml").write_text(first, encoding="utf-8")
    (tmp_path / "b.yaml").write_text("\n" + second, encoding="utf-8")
    m = load_manifests(tmp_path)
    (p,) = m.policies
    assert p.spec.pod_selector.match_labels == {"app": "b"}
    assert m.policy_sources[0].file == str(tmp_path / "b.yaml")
    (d,) = m.duplicates
    assert (d.key, d.first.where, d.last.where) == (
        "NetworkPolicy a/deny", f"{tmp_path / 'a.yaml'}:1", f"{tmp_path / 'b.yaml'}:2")
    (w,) = m.warnings
    assert str(w) == (
        f"{tmp_path / 'b.yaml'}:2: metadata.name: got 'NetworkPolicy a/deny'; expected one "
        f"NetworkPolicy per name. also defined at {tmp_path / 'a.yaml'}:1; kubectl apply keeps "
        f"the last one ({tmp_path / 'b.yaml'}:2)")


def test_duplicates_are_errors_when_collecting_errors():
    m = load_manifests(policy() + "---\n" + policy(), collect_errors=True)
    assert [i.path for i in m.errors] == ["metadata.name"]
    assert len(m.policies) == 1 and m.warnings == ()


def test_a_policy_without_namespace_is_the_same_as_one_in_default():
    text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\n---\n"
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            "metadata: {name: x, namespace: default}\n")
    assert len(load_manifests(text).duplicates) == 1
    assert load_manifests(text, namespace="other", collect_errors=True).errors != ()


def test_same_name_in_other_namespaces_or_kinds_is_no_duplicate():
    text = policy() + "---\n" + policy().replace("namespace: a", "namespace: b")
    text += "---\nkind: Pod\nmetadata: {name: deny, namespace: a}\n"
    assert load_manifests(text).duplicates == ()


def test_cluster_scoped_duplicates_ignore_namespace():
    m = load_manifests("kind: Namespace\nmetadata: {name: a}\n---\n"
                       "kind: Namespace\nmetadata: {name: a, namespace: x}\n")
    assert [d.key for d in m.duplicates] == ["Namespace a"]
    assert len(m.objects) == 1


def test_evaluation_keeps_the_last_policy():
    # The first input isolates the pod; the second (same name) does not: apply replaces it.
    text = textwrap.dedent("""\
        kind: Pod
        metadata: {name: web, namespace: a, labels: {app: web}}
        status: {podIP: 10.0.0.1}
        ---
        kind: Pod
        metadata: {name: cli, namespace: a}
        status: {podIP: 10.0.0.2}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: p, namespace: a}
        spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: p, namespace: a}
        spec: {podSelector: {matchLabels: {app: none}}, policyTypes: [Ingress]}
    """)
    c = Cluster.from_manifests(text)
    assert c.allows("a/cli", "a/web", 80)
    assert [str(w.value) for w in c.warnings if w.path == "metadata.name"] == [
        "NetworkPolicy a/p"]


def test_duplicate_pods_keep_the_last():
    text = ("kind: Pod\nmetadata: {name: a, labels: {v: one}}\n---\n"
            "kind: Pod\nmetadata: {name: a, labels: {v: two}}\n")
    c = Cluster.from_manifests(text)
    assert dict(c.pod("default/a").labels) == {"v": "two"}
