"""The exception hierarchy and Kubernetes-style field errors."""

from __future__ import annotations

import pickle

import pytest

from netpol_dsl import (
    DslUsageError,
    InvalidPolicyError,
    Issue,
    LoadError,
    NetpolError,
    RenderError,
    UnrepresentableError,
    load_policy,
)


def test_hierarchy():
    assert issubclass(DslUsageError, TypeError)
    for cls in (UnrepresentableError, RenderError, LoadError, InvalidPolicyError):
        assert issubclass(cls, ValueError)
    for cls in (DslUsageError, UnrepresentableError, RenderError, LoadError):
        assert issubclass(cls, NetpolError)
    assert issubclass(InvalidPolicyError, LoadError)


@pytest.mark.parametrize(
    ("issue", "text"),
    [
        (Issue("spec.ingress[0].ports[0].port", 70000, "1..65535"),
         "spec.ingress[0].ports[0].port: got 70000; expected 1..65535"),
        (Issue("metadata.name", None, "a name", missing=True),
         "metadata.name: got nothing (the field is required); expected a name"),
        (Issue("spec.policyTypes[0]", "ingress", "one of 'Ingress', 'Egress'", hint="Mind case"),
         "spec.policyTypes[0]: got 'ingress'; expected one of 'Ingress', 'Egress'. Mind case"),
        (Issue("cidr", "10.0.0.1", source="f.yaml:3: a/b"),
         "f.yaml:3: a/b: cidr: got '10.0.0.1'"),
    ],
)
def test_issue_str_follows_field_error_style(issue, text):
    assert str(issue) == text


def test_issue_with_prefix():
    assert Issue("port").with_prefix("spec.ingress[0].ports[0]").path == (
        "spec.ingress[0].ports[0].port")
    assert Issue("[1]").with_prefix("spec.policyTypes").path == "spec.policyTypes[1]"
    assert Issue("").with_prefix("spec.ingress[0].from[0]").path == "spec.ingress[0].from[0]"
    same = Issue("x")
    assert same.with_prefix("") is same


def test_issue_equality_ignores_the_missing_flag():
    assert Issue("a", None, "x", missing=True) == Issue("a", None, "x")


def test_load_error_lists_message_and_every_issue():
    err = LoadError("two problems", issues=[Issue("a", 1, "x"), Issue("b", 2, "y")])
    assert str(err) == "two problems\na: got 1; expected x\nb: got 2; expected y"
    assert [i.path for i in err.issues] == ["a", "b"]
    assert str(LoadError()) == "invalid input"
    assert err.message == "two problems"


def test_invalid_policy_error_stamps_its_source_on_issues_without_one():
    err = InvalidPolicyError(issues=[Issue("a", 1), Issue("b", 2, source="kept")],
                             source="ns/name")
    assert [i.source for i in err.issues] == ["ns/name", "kept"]
    assert err.source == "ns/name"


@pytest.mark.parametrize("cls", [LoadError, InvalidPolicyError])
def test_errors_pickle_with_their_data(cls):
    err = cls("msg", issues=[Issue("spec", None, "a mapping", missing=True)], source="f.yaml")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert (back.message, back.issues, back.source, str(back)) == (
        err.message, err.issues, err.source, str(err))


def test_invalid_policy_error_from_loading_carries_all_attributes():
    with pytest.raises(InvalidPolicyError, match=r"^payments/x: metadata\.labels: got 'a b'") as info:
        load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": "x", "namespace": "payments", "labels": {"a b": "c"}}})
    (issue,) = info.value.issues
    assert (issue.path, issue.value, issue.source) == ("metadata.labels", "a b", "payments/x")
    assert issue.expected.startswith("a label key:")


def test_type_errors_say_the_type():
    with pytest.raises(InvalidPolicyError, match=r"Quote it in YAML: '1\.5' \(type=float\)") as info:
        load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": "x", "namespace": "n", "labels": {"v": 1.5}}})
    assert info.value.issues[0].expected == "a string"
    with pytest.raises(InvalidPolicyError, match=r"got 'yes'; expected a list. \(type=str\)"):
        load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": "x", "namespace": "n"}, "spec": {"ingress": "yes"}})


def test_wrong_api_version_and_kind_are_reported():
    with pytest.raises(InvalidPolicyError) as info:
        load_policy({"apiVersion": "networking.k8s.io/v1beta1", "kind": "NetPol",
                     "metadata": {"name": "x", "namespace": "n"}})
    assert sorted(i.path for i in info.value.issues) == ["apiVersion", "kind"]
