"""metadata as the API decodes it (issue 11 item 9): typed fields, RFC 3339 timestamps, owner
references, JSON-only managedFields, UTF-8 only; whatever validation accepts renders."""

from __future__ import annotations

import datetime
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol_dsl import InvalidPolicyError, LoadError, load_manifests, load_policy
from netpol_dsl.model import NetworkPolicy, ObjectMeta
from netpol_dsl.model._base import ManagedFieldsEntry, OwnerReference
from netpol_dsl.render import to_yaml
from tests.strategies import budget


def policy(**metadata):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "p", "namespace": "a", **metadata}, "spec": {}}


def paths(obj) -> list[str]:
    with pytest.raises(InvalidPolicyError) as info:
        load_policy(obj)
    return [i.path for i in info.value.issues]


DUMPED = {
    "uid": "0f6c7a0e-8d3e-4bb0-9d1c-2c5b3cfd1f1e",
    "resourceVersion": "1234",
    "generation": 3,
    "creationTimestamp": "2024-05-01T10:00:00Z",
    "deletionTimestamp": "2024-05-02T10:00:00.123456+02:00",
    "deletionGracePeriodSeconds": 30,
    "selfLink": "/apis/networking.k8s.io/v1/namespaces/a/networkpolicies/p",
    "generateName": "p-",
    "labels": {"app": "web"},
    "annotations": {"note": "é 日本", "kubectl.kubernetes.io/last-applied-configuration": "{}"},
    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                         "uid": "1", "controller": True, "blockOwnerDeletion": True}],
    "finalizers": ["example.com/keep"],
    "managedFields": [{"manager": "kubectl", "operation": "Update",
                       "apiVersion": "networking.k8s.io/v1", "time": "2024-05-01T10:00:00Z",
                       "fieldsType": "FieldsV1",
                       "fieldsV1": {"f:spec": {"f:podSelector": {}, ".": {}}},
                       "subresource": "status"}],
}


def test_every_field_of_a_dump_is_typed_and_round_trips():
    p = load_policy(policy(**DUMPED))
    meta = p.metadata
    assert (meta.uid, meta.resource_version, meta.generation) == (DUMPED["uid"], "1234", 3)
    assert meta.owner_references == (OwnerReference(
        api_version="apps/v1", kind="Deployment", name="web", uid="1", controller=True,
        block_owner_deletion=True),)
    assert isinstance(meta.managed_fields[0], ManagedFieldsEntry)
    assert meta.model_extra is None  # nothing untyped is kept
    assert p.to_dict()["metadata"] == {"name": "p", "namespace": "a", **DUMPED}
    assert load_policy(p.to_dict()) == p


@pytest.mark.parametrize(("field", "value"), [
    ("uid", 5), ("resourceVersion", 1234), ("generation", "1"), ("generation", 1.5),
    ("creationTimestamp", "yesterday"), ("creationTimestamp", "2024-05-01"),
    ("creationTimestamp", "2024-05-01 10:00:00"), ("creationTimestamp", "2024-13-01T10:00:00Z"),
    ("deletionTimestamp", 1714557600), ("deletionGracePeriodSeconds", "30"),
    ("selfLink", ["x"]), ("finalizers", "x"), ("finalizers", [1]), ("ownerReferences", "x"),
    ("ownerReferences", [{"controller": "yes"}]), ("managedFields", [{"time": "now"}]),
    ("managedFields", [{"fieldsV1": {"a": float("nan")}}]),
    ("managedFields", [{"fieldsV1": [1]}]), ("clusterName", "x"), ("anything", 1),
])
def test_metadata_fields_of_the_wrong_type_are_invalid(field, value):
    assert any(p.startswith(f"metadata.{field}") for p in paths(policy(**{field: value}))), field


def test_timestamps_are_rfc3339_and_yaml_timestamps_are_written_back_as_go_does():
    text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n"
            "  namespace: a\n  creationTimestamp: 2024-05-01T10:00:00Z\n"
            "  deletionTimestamp: 2024-05-01 12:00:00+02:00\n")
    (p,) = load_manifests(text).policies
    assert p.metadata.creation_timestamp == "2024-05-01T10:00:00Z"
    assert p.metadata.deletion_timestamp == "2024-05-01T12:00:00+02:00"
    with pytest.raises(InvalidPolicyError, match=r"metadata\.creationTimestamp: got .*an RFC 3339 "
                                                 r"date and time .*without a time"):
        load_manifests(text.replace("2024-05-01T10:00:00Z", "2024-05-01"))
    naive = ObjectMeta(name="x", creation_timestamp=datetime.datetime(2024, 5, 1, 10))  # type: ignore[arg-type]
    assert naive.creation_timestamp == "2024-05-01T10:00:00Z"


def test_a_recursive_alias_in_metadata_is_refused_when_read():
    text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: &m\n  name: p\n"
            "  namespace: a\n  managedFields:\n  - fieldsV1: *m\n")
    with pytest.raises(LoadError, match=r"<text>:7: got a recursive alias \*m"):
        load_manifests(text)


def test_a_recursive_value_handed_in_is_invalid_not_a_render_failure():
    fields: dict = {}
    fields["self"] = fields
    assert paths(policy(managedFields=[{"fieldsV1": fields}])) == ["metadata.managedFields[0].fieldsV1"]


@pytest.mark.parametrize("bad", ["\ud800", "a\udfffb"])
def test_lone_surrogates_are_invalid_wherever_text_is_free(bad):
    for meta in ({"annotations": {"k": bad}}, {"uid": bad}, {"finalizers": [f"x/{bad}"]},
                 {"managedFields": [{"manager": bad}]},
                 {"managedFields": [{"fieldsV1": {bad: 1}}]},
                 {"ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": bad, "uid": "1"}]}):
        assert paths(policy(**meta)), meta
    with pytest.raises(InvalidPolicyError):
        load_policy(policy(name=bad), lenient_names=True)


def test_a_lone_surrogate_in_a_json_file_is_a_load_error(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(policy(annotations={"k": "\ud800"})), encoding="utf-8")
    with pytest.raises(LoadError, match=r"p\.json: metadata\.annotations\.k: got a lone surrogate"):
        load_manifests(path)


def test_nan_in_json_is_a_load_error(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"kind": "NetworkPolicy", "metadata": {"generation": NaN}}', encoding="utf-8")
    with pytest.raises(LoadError, match=r"p\.json: got NaN; expected a JSON number"):
        load_manifests(path)


def test_owner_references_keep_upstream_paths():
    refs = [{"apiVersion": "", "kind": "", "name": "x", "uid": ""}]
    assert sorted(paths(policy(ownerReferences=refs))) == [
        "metadata.ownerReferences.apiVersion", "metadata.ownerReferences.kind",
        "metadata.ownerReferences.uid"]


# Anything JSON can hold, in any metadata field, with text that may be hostile.
_text = st.text(st.characters(blacklist_categories=()), max_size=8)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=True,
                                                                        allow_infinity=True) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8)
_FIELDS = ["name", "generateName", "namespace", "uid", "resourceVersion", "generation",
           "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
           "annotations", "ownerReferences", "finalizers", "managedFields", "selfLink"]


@pytest.mark.heavy(2)
# CI: 200 examples (was 400); HYPOTHESIS_PROFILE=long: 4000.
@settings(max_examples=budget(400, ci=200))
@given(st.dictionaries(st.sampled_from(_FIELDS), _json, max_size=4),
       st.dictionaries(_text, _text, max_size=2),
       st.lists(st.dictionaries(st.sampled_from(["manager", "time", "fieldsV1", "operation"]),
                                _json, max_size=3), max_size=2),
       st.booleans())
def test_render_never_fails_on_what_validation_accepts(meta, annotations, managed, lenient):
    meta = {"name": "p", "namespace": "a", **meta}
    if annotations:
        meta["annotations"] = annotations
    if managed:
        meta["managedFields"] = managed
    try:
        p = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                         "metadata": meta, "spec": {}}, lenient_names=lenient)
    except InvalidPolicyError as err:
        assert err.issues and all(str(i) for i in err.issues)
        return
    assert isinstance(p, NetworkPolicy)
    text = to_yaml([p])
    text.encode("utf-8")  # valid UTF-8, always
    json.dumps(p.to_dict(), allow_nan=False)  # valid JSON, always
    for value in json.loads(json.dumps(p.to_dict())).get("metadata", {}).values():
        assert not (isinstance(value, float) and not math.isfinite(value))
