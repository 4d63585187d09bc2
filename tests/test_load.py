"""Safe loading: YAML/JSON in, every problem out with file and line, never a traceback."""

from __future__ import annotations

import json
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
import yaml

from netpol_dsl import (
    InvalidPolicyError,
    LoadError,
    Manifest,
    NetworkPolicy,
    _yaml,
    load_manifests,
    load_policy,
    parse_documents,
)
from netpol_dsl import load as load_module
from tests.evaluate.npguard import CORPUS as _NPGUARD

CORPUS = _NPGUARD / "tests"

POLICY_YAML = textwrap.dedent("""\
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata:
      name: allow-frontend
      namespace: payments
    spec:
      podSelector:
        matchLabels:
          app: api
      ingress:
      - ports:
        - port: 70000
""")


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ error messages


def test_error_names_file_line_and_object(tmp_path):
    path = write(tmp_path, "api.yaml", POLICY_YAML)
    with pytest.raises(InvalidPolicyError, match=r"api\.yaml:12: payments/allow-frontend") as info:
        load_manifests(path)
    (issue,) = info.value.issues
    assert issue.path == "spec.ingress[0].ports[0].port"
    assert issue.source == f"{path}:12: payments/allow-frontend"
    assert str(issue) == (
        f"{path}:12: payments/allow-frontend: spec.ingress[0].ports[0].port: got 70000; "
        "expected 1..65535 or a port name such as 'http'"
    )


def test_error_from_a_dict_names_the_object():
    data = parse_documents(POLICY_YAML)[0]
    with pytest.raises(InvalidPolicyError) as info:
        load_policy(data)
    assert str(info.value) == (
        "payments/allow-frontend: spec.ingress[0].ports[0].port: got 70000; "
        "expected 1..65535 or a port name such as 'http'"
    )


def test_line_of_a_map_path_is_the_map_key_line(tmp_path):
    text = POLICY_YAML.replace("port: 70000", "port: 80").replace("app: api", "app: -bad")
    path = write(tmp_path, "x.yaml", "# leading comment\n---\n" + text)
    with pytest.raises(InvalidPolicyError) as info:
        load_manifests(path)
    (issue,) = info.value.issues
    assert issue.path == "spec.podSelector.matchLabels"
    assert issue.source == f"{path}:10: payments/allow-frontend"


def test_errors_from_several_documents_are_all_reported(tmp_path):
    second = POLICY_YAML.replace("allow-frontend", "Second").replace("70000", "80")
    path = write(tmp_path, "two.yaml", POLICY_YAML + "---\n" + second)
    with pytest.raises(InvalidPolicyError) as info:
        load_manifests(path)
    assert [(i.path, i.source) for i in info.value.issues] == [
        ("spec.ingress[0].ports[0].port", f"{path}:12: payments/allow-frontend"),
        ("metadata.name", f"{path}:17: payments/Second"),
    ]


def test_collect_errors_keeps_the_valid_policies(tmp_path):
    good = POLICY_YAML.replace("allow-frontend", "good").replace("70000", "80")
    path = write(tmp_path, "mixed.yaml", POLICY_YAML + "---\n" + good)
    manifests = load_manifests(path, collect_errors=True)
    assert [p.key for p in manifests.policies] == ["payments/good"]
    assert [i.path for i in manifests.errors] == ["spec.ingress[0].ports[0].port"]
    assert manifests.policy_sources[0].line == 14


# --------------------------------------------------------------------- safe YAML


def test_python_tags_are_refused():
    with pytest.raises(LoadError, match=r"^evil\.yaml:1: got a sequence tagged "
                                        r"!!python/object/apply:os\.system; expected") as info:
        parse_documents("a: !!python/object/apply:os.system ['echo hi']\n", "evil.yaml")
    assert info.value.source == "evil.yaml"
    assert not isinstance(info.value, InvalidPolicyError)


def test_duplicate_key_is_refused_with_both_lines():
    text = "spec:\n  podSelector:\n    matchLabels:\n      app: a\n      app: b\n"
    with pytest.raises(LoadError, match=r"x\.yaml:5: got duplicate key 'app' \(first at line 4\)"):
        parse_documents(text, "x.yaml")


def test_duplicate_key_in_json_is_refused(tmp_path):
    path = write(tmp_path, "p.json", '{"kind": "NetworkPolicy", "kind": "Pod"}')
    with pytest.raises(LoadError, match="got duplicate key 'kind'") as info:
        load_manifests(path)
    assert info.value.source == str(path)


def test_alias_bomb_is_refused():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(LoadError, match="alias bomb") as info:
        parse_documents("\n".join(lines) + "\n", "bomb.yaml")
    assert info.value.source == "bomb.yaml"


def test_small_aliases_are_fine():
    docs = parse_documents("a: &x {k: v}\nb: *x\n")
    assert docs == [{"a": {"k": "v"}, "b": {"k": "v"}}]


def test_invalid_yaml_reports_its_line():
    with pytest.raises(LoadError, match=r"^bad\.yaml:3: got invalid YAML") as info:
        parse_documents("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")
    assert info.value.issues == ()


def test_control_characters_are_one_clear_error():
    with pytest.raises(LoadError, match=r"got invalid YAML .*control characters"):
        parse_documents("a: \x07\n", "ctl.yaml")


def test_deep_nesting_is_refused_without_a_traceback():
    with pytest.raises(LoadError, match="nested too deeply"):
        load_manifests("[" * 50_000 + "]" * 50_000)
    with pytest.raises(LoadError, match="nested too deeply"):
        parse_documents("a: " + "[" * 50_000 + "]" * 50_000 + "\n")


def test_deep_json_file_is_refused_by_the_json_parser(tmp_path):
    path = write(tmp_path, "deep.json", "[" * 50_000 + "]" * 50_000)
    with pytest.raises(LoadError, match=r"deep\.json: got JSON nested too deeply") as info:
        load_manifests(path)
    assert info.value.source == str(path)


def test_the_yaml_reader_does_not_recurse(monkeypatch):
    # Documents are built from the parser's events with an explicit stack: past MAX_DEPTH is a
    # policy, not a stack limit (the composer PyYAML uses recurses per level).
    # libyaml itself refuses flow nesting from about 1000 levels on (PyYAML 6.0.4 wheels), so
    # the depth stays under that; a reader that recursed would need more stack than the low
    # recursion limit set here allows.
    monkeypatch.setattr(_yaml, "MAX_DEPTH", 10**9)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(250)
    try:
        (doc,) = parse_documents("a: " + "[" * 900 + "]" * 900 + "\n")
    finally:
        sys.setrecursionlimit(limit)
    depth = 0
    node = doc["a"]
    while node:
        node, depth = node[0], depth + 1
    assert depth == 899


def test_nesting_just_under_the_limit_still_loads():
    depth = load_module.MAX_DEPTH - 1
    (doc,) = parse_documents("a: " + "[" * depth + "]" * depth + "\n")
    assert isinstance(doc["a"], list)
    with pytest.raises(LoadError, match=r"more than 500 levels"):
        parse_documents("a: " + "[" * (depth + 2) + "]" * (depth + 2) + "\n")


def test_invalid_json_file_reports_its_line(tmp_path):
    path = write(tmp_path, "p.json", '{\n  "kind": "Pod",\n  oops\n}')
    with pytest.raises(LoadError, match=r"p\.json:3: got invalid JSON"):
        load_manifests(path)


def test_non_utf8_file_is_one_clear_error(tmp_path):
    path = write(tmp_path, "latin1.yaml", "name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(LoadError, match=r"not UTF-8 \(at byte 9\)") as info:
        load_manifests(path)
    assert info.value.source == str(path)


def test_binary_file_is_one_clear_error(tmp_path):
    path = write(tmp_path, "blob.yaml", bytes(range(256)))
    with pytest.raises(LoadError, match="got binary data"):
        load_manifests(path)


def test_bytes_sources_are_decoded():
    manifests = load_manifests(POLICY_YAML.replace("70000", "80").encode())
    assert [p.key for p in manifests.policies] == ["payments/allow-frontend"]
    with pytest.raises(LoadError, match=r"<bytes>: got bytes that are not UTF-8"):
        load_manifests(b"name: \xff\n")
    with pytest.raises(LoadError, match=r"<bytes>: got UTF-16 text; expected UTF-8"):
        load_manifests("kind: Pod\n".encode("utf-16"))


def test_utf8_bom_is_accepted(tmp_path):
    path = write(tmp_path, "bom.yaml", "\ufeff" + POLICY_YAML.replace("70000", "80"))
    assert len(load_manifests(path).policies) == 1


def test_path_that_does_not_exist():
    with pytest.raises(LoadError, match="got a path that does not exist") as info:
        load_manifests("no/such/file.yaml")
    assert info.value.source == "no/such/file.yaml"


def test_single_line_text_too_long_for_a_path_is_an_error_not_a_traceback():
    with pytest.raises(LoadError, match="got a path that cannot be read"):
        load_manifests("- " * 3000 + "x")


def test_unsupported_source_type():
    with pytest.raises(LoadError, match=r"got 42 \(type=int\)"):
        load_manifests([42])


@pytest.mark.parametrize(("source", "shown"), [(None, r"None \(type=NoneType\)"),
                                               (42, r"42 \(type=int\)"),
                                               (4.5, r"4\.5 \(type=float\)")])
def test_a_source_of_no_accepted_type_is_a_load_error_not_a_type_error(source, shown):
    # Before: load_manifests(None) raised TypeError ('NoneType' object is not iterable).
    with pytest.raises(LoadError, match=rf"^load_manifests\(\): got {shown}; expected a path") as err:
        load_manifests(source)
    assert not isinstance(err.value, TypeError)
    assert "an iterable of them" in str(err.value)


def test_load_policy_refuses_a_non_mapping():
    with pytest.raises(InvalidPolicyError, match="got list; expected a NetworkPolicy mapping"):
        load_policy([])  # type: ignore[arg-type]


# ------------------------------------------------------------- kinds and lists


def test_multi_document_yaml_with_other_kinds(tmp_path):
    text = POLICY_YAML.replace("70000", "80") + textwrap.dedent("""\
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: payments, labels: {team: a}}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: api}
        ---
        ---
        just a string
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: api2}
    """)
    manifests = load_manifests(write(tmp_path, "all.yaml", text))
    assert [p.key for p in manifests.policies] == ["payments/allow-frontend"]
    assert [m.kind for m in manifests.objects] == ["Namespace", "Service", "Service"]
    assert manifests.of_kind("Namespace")[0].data["metadata"]["name"] == "payments"
    assert manifests.skipped == Counter({"ConfigMap": 1, "<str>": 1})


def test_kubectl_get_o_yaml_list_output_loads():
    text = textwrap.dedent("""\
        apiVersion: v1
        items:
        - apiVersion: networking.k8s.io/v1
          kind: NetworkPolicy
          metadata:
            annotations:
              kubectl.kubernetes.io/last-applied-configuration: |
                {"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy"}
            creationTimestamp: "2024-05-01T10:00:00Z"
            generation: 1
            managedFields:
            - apiVersion: networking.k8s.io/v1
              fieldsType: FieldsV1
              fieldsV1: {f:spec: {}}
              manager: kubectl-client-side-apply
              operation: Update
              time: "2024-05-01T10:00:00Z"
            name: default-deny
            namespace: payments
            resourceVersion: "1234"
            uid: 0f6c7a0e-8d3e-4bb0-9d1c-2c5b3cfd1f1e
          spec:
            podSelector: {}
            policyTypes:
            - Ingress
          status: {}
        - apiVersion: v1
          kind: Pod
          metadata: {name: web, namespace: payments, labels: {app: web}}
        kind: List
        metadata:
          resourceVersion: ""
    """)
    manifests = load_manifests(text)
    (policy,) = manifests.policies
    assert policy.key == "payments/default-deny"
    assert policy.metadata.uid == "0f6c7a0e-8d3e-4bb0-9d1c-2c5b3cfd1f1e"
    assert policy.metadata.managed_fields is not None
    assert policy.metadata.managed_fields[0].fields_v1 == {"f:spec": {}}
    assert [m.kind for m in manifests.objects] == ["Pod"]
    assert manifests.policy_sources[0].line == 3


def test_typed_list_items_inherit_kind_and_api_version():
    data = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicyList",
            "items": [{"metadata": {"name": "a", "namespace": "n"}, "spec": {}}]}
    assert [p.key for p in load_manifests(data).policies] == ["n/a"]


def test_json_list_file(tmp_path):
    data = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "a", "namespace": "n"}, "spec": {"podSelector": {}}}]}
    path = write(tmp_path, "list.json", json.dumps(data, indent=2))
    manifests = load_manifests(path)
    assert [p.key for p in manifests.policies] == ["n/a"]
    assert manifests.policy_sources[0].file == str(path)


def test_stray_connlist_json_array_is_skipped_cleanly(tmp_path):
    # The shape of np-guard's connlist_output.json: objects with no kind.
    stray = [{"src": "0.0.0.0-255.255.255.255", "dst": "default/a[Pod]", "conn": "All"},
             {"src": "default/a[Pod]", "dst": "default/b[Pod]", "conn": "TCP 7070"}]
    path = write(tmp_path, "connlist_output.json", json.dumps(stray))
    manifests = load_manifests(path)
    assert manifests.policies == ()
    assert manifests.skipped == Counter({"<no kind>": 2})


@pytest.mark.skipif(not (CORPUS / "onlineboutique").is_dir(), reason="np-guard corpus absent")
def test_np_guard_directory_with_connlist_output_loads():
    manifests = load_manifests(CORPUS / "onlineboutique")
    assert len(manifests.policies) == 11
    assert manifests.skipped["<no kind>"] == 17  # connlist_output.json entries
    assert all(p.namespace is None or p.namespace == "default" for p in manifests.policies)


def test_directory_loading_ignores_other_files(tmp_path):
    write(tmp_path, "a.yaml", POLICY_YAML.replace("70000", "80"))
    write(tmp_path, "notes.txt", "not: [yaml")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "b.yml", POLICY_YAML.replace("70000", "81").replace(
        "allow-frontend", "b"))
    manifests = load_manifests(tmp_path)
    assert sorted(p.key for p in manifests.policies) == ["payments/allow-frontend", "payments/b"]




def test_mixed_sources_and_model_objects():
    policy = load_policy(parse_documents(POLICY_YAML.replace("70000", "80"))[0])
    manifests = load_manifests([policy, {"kind": "Namespace", "metadata": {"name": "x"}}])
    assert manifests.policies == (policy,)
    assert load_policy(policy) is policy


def test_load_policy_with_a_different_namespace_reloads_the_model():
    policy = load_policy(parse_documents(POLICY_YAML.replace("70000", "80"))[0])
    with pytest.raises(InvalidPolicyError, match="request namespace 'other'"):
        load_policy(policy, namespace="other")
    assert load_policy(policy, namespace="payments") is policy


def test_status_from_old_servers_is_dropped():
    data = parse_documents(POLICY_YAML.replace("70000", "80"))[0]
    data["status"] = {"conditions": []}
    assert isinstance(load_policy(data), NetworkPolicy)
    data["status"] = "x"
    with pytest.raises(InvalidPolicyError, match="Unknown field 'status'"):
        load_policy(data)


def test_manifest_line_of_and_where():
    (m,) = load_manifests("kind: Pod\nmetadata:\n  name: a\n  labels:\n    x: y\n").objects
    assert isinstance(m, Manifest)
    assert m.line_of("metadata.labels") == 4
    assert m.line_of("metadata.labels.x") == 5
    assert m.line_of("metadata.nope") == 2
    assert m.line_of("") == 1
    assert m.where is None
    assert Manifest({}, "f.yaml", 3).where == "f.yaml:3"
    assert Manifest({}, "f.yaml").where == "f.yaml"


def test_line_of_list_items(tmp_path):
    text = "kind: Pod\nmetadata: {name: a}\nitems:\n- a\n- b\n"
    (m,) = load_manifests(write(tmp_path, "p.yaml", text)).objects
    assert m.line_of("items[1]") == 5
    assert m.line_of("items[7]") == 3


def test_loader_is_the_safe_c_loader_when_present():
    import yaml

    base = load_module._Loader.__mro__[1]
    assert issubclass(base, yaml.SafeLoader) or base.__name__ == "CSafeLoader"
    assert not issubclass(load_module._Loader, yaml.FullLoader)


def test_lenient_names_reads_refused_names_with_a_warning_and_keeps_file_lines(tmp_path):
    (tmp_path / "p.yaml").write_text(textwrap.dedent("""\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: allow_web, namespace: a}
        spec: {podSelector: {}}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: a}
        """), encoding="utf-8")
    with pytest.raises(InvalidPolicyError, match=r"p.yaml:3: a/allow_web: metadata.name"):
        load_manifests(tmp_path)
    m = load_manifests(tmp_path, lenient_names=True)
    assert [p.key for p in m.policies] == ["a/allow_web"]
    [warning] = m.warnings
    assert (warning.path, warning.value) == ("metadata.name", "allow_web")
    assert warning.source == f"{tmp_path / 'p.yaml'}:3: a/allow_web"
    assert m.objects[0].where == f"{tmp_path / 'p.yaml'}:6"


def test_lenient_names_does_not_excuse_other_problems():
    text = textwrap.dedent("""\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: allow_web, namespace: a}
        spec: {podSelector: {}, policyTypes: [Sideways]}
        """)
    with pytest.raises(InvalidPolicyError) as info:
        load_manifests(text, lenient_names=True)
    assert [i.path for i in info.value.issues] == ["spec.policyTypes[0]"]


def test_load_policy_lenient_names_both_sides():
    obj = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": "Allow_Web", "namespace": "a"}, "spec": {}}
    with pytest.raises(InvalidPolicyError) as info:
        load_policy(obj)
    assert {i.path for i in info.value.issues} == {"metadata.name"}
    assert load_policy(obj, lenient_names=True).key == "a/Allow_Web"
    bad_ns = {**obj, "metadata": {"name": "Allow_Web", "namespace": "A"}}
    with pytest.raises(InvalidPolicyError, match=r"metadata.namespace"):
        load_policy(bad_ns, lenient_names=True)  # only the object's name is excused


# ------------------------------------------- explicit tags, huge integers (issue 11 items 7, 8)


@pytest.mark.parametrize(("line", "message"), [
    ("a: !!set [1]", "got a sequence tagged !!set; expected a plain sequence"),
    ("a: !!map [1]", "got a sequence tagged !!map; expected a mapping"),
    ("a: !!seq {b: 1}", "got a mapping tagged !!seq; expected a sequence"),
    ("kind: !!set NetworkPolicy", "got a scalar 'NetworkPolicy' tagged !!set; expected a scalar"),
    ("a: !!bool 9090", "got '9090' tagged !!bool; expected a YAML boolean"),
    ("a: !!bool ''", "got '' tagged !!bool; expected a YAML boolean"),
    ("a: !!int abc", "got 'abc' tagged !!int; expected an integer"),
    ("a: !!int 0x", "got '0x' tagged !!int; expected an integer"),
    ("a: !!float .", "got '.' tagged !!float; expected a number"),
    ("a: !!int ''", "got '' tagged !!int; expected an integer"),
    ("a: !!timestamp x", "got 'x' tagged !!timestamp; expected a timestamp"),
    ("a: !!timestamp 2001-13-45", "got '2001-13-45' tagged !!timestamp; expected a timestamp"),
    ("a: !!binary aGk=", "got a !!binary value; expected text"),
    ("a: !!omap [{b: 1}]", "got a sequence tagged !!omap; expected a plain sequence"),
    ("a: !local x", "got a scalar 'x' tagged !local; expected a scalar without a tag"),
])
def test_a_tag_on_the_wrong_value_is_a_load_error_with_its_line(tmp_path, line, message):
    path = write(tmp_path, "t.yaml", f"kind: Pod\nmetadata:\n  name: a\n{line}\n")
    with pytest.raises(LoadError) as info:
        load_manifests(path)
    assert str(info.value).startswith(f"{path}:4: {message}")
    assert type(info.value) is LoadError and info.value.source == str(path)


def test_tags_that_fit_their_value_are_read_as_yaml_does():
    (doc,) = parse_documents("a: !!str 123\nb: !!int '7'\nc: !!float 1\nd: !!bool yes\n"
                             "e: !!null ''\nf: !!map {x: 1}\ng: !!seq [1]\n")
    assert doc == {"a": "123", "b": 7, "c": 1.0, "d": True, "e": None, "f": {"x": 1}, "g": [1]}


def test_huge_integers_are_load_errors(tmp_path):
    path = write(tmp_path, "big.yaml", "kind: Pod\nmetadata: {name: a}\nn: " + "1" * 100_000 + "\n")
    with pytest.raises(LoadError, match=r"big\.yaml:3: got an integer of 100000 characters; "
                                        r"expected at most 4300 digits"):
        load_manifests(path)
    path = write(tmp_path, "big.json", '{"kind": "Pod", "n": ' + "1" * 5000 + "}")
    with pytest.raises(LoadError, match=r"big\.json: got an integer longer than 4300 digits"):
        load_manifests(path)


def test_the_cli_reports_tag_errors_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from netpol_dsl.cli import app

    path = write(tmp_path, "t.yaml", "kind: Pod\nmetadata: {name: a}\nx: !!bool ''\n")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{path}:3: got '' tagged !!bool" in result.output


# ------------------------------------------- aliases: only what they expand to counts (item 10)


def test_large_inputs_without_aliases_are_not_alias_bombs(monkeypatch):
    monkeypatch.setattr(_yaml, "MAX_EXPANDED_NODES", 100)
    items = "".join(f"- kind: Pod\n  metadata: {{name: p{i}}}\n" for i in range(400))
    text = f"apiVersion: v1\nkind: List\nitems:\n{items}"
    assert len(load_manifests(text).objects) == 400  # ~2000 nodes, none from an alias


def test_the_alias_limit_counts_what_aliases_expand_to(monkeypatch):
    monkeypatch.setattr(_yaml, "MAX_EXPANDED_NODES", 100)
    base = "a: &a [" + ", ".join(["x"] * 9) + "]\n"  # 10 nodes
    parse_documents(base + "b: [" + ", ".join(["*a"] * 10) + "]\n")  # 100 expanded: fine
    with pytest.raises(LoadError, match=r"^<text>:2: got YAML aliases that expand past 100 nodes"):
        parse_documents(base + "b: [" + ", ".join(["*a"] * 11) + "]\n")
    # nested: an alias to a node holding aliases counts all it expands to
    with pytest.raises(LoadError, match="alias bomb"):
        parse_documents(base + "b: &b [*a, *a, *a, *a, *a]\nc: [*b, *b]\n")


def test_recursive_and_duplicate_anchors_are_refused():
    with pytest.raises(LoadError, match=r"^<text>:2: got a recursive alias \*m"):
        parse_documents("metadata: &m\n  self: *m\n")
    with pytest.raises(LoadError, match=r"^<text>:2: got the anchor &x twice"):
        parse_documents("a: &x 1\nb: &x 2\n")
    with pytest.raises(LoadError, match=r"got an alias \*y to no anchor"):
        parse_documents("a: *y\n")
    # anchors do not cross documents (PyYAML resets them per document)
    with pytest.raises(LoadError, match=r"^<text>:3: got an alias \*x to no anchor"):
        parse_documents("a: &x 1\n---\nb: *x\n")


@pytest.mark.parametrize("text", [
    "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n",
    "a: &a {x: 1}\nb: &b {x: 2, z: 3}\nm:\n  <<: [*a, *b]\n  w: 4\n",
    "a: &a {x: 1}\nm: {<<: *a, x: 0}\n",
    "a: &a {p: &p {q: 1}}\nm:\n  <<: *a\n  r: *p\n",
])
def test_merge_keys_and_aliases_read_as_pyyaml_reads_them(text):
    assert parse_documents(text) == list(yaml.safe_load_all(text))


def test_one_policy_with_many_rules_loads():
    rules = "".join(f"  - ports:\n    - port: {1 + i % 65535}\n" for i in range(20_000))
    text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: big, "
            f"namespace: a}}\nspec:\n  podSelector: {{}}\n  ingress:\n{rules}")
    (policy,) = load_manifests(text).policies
    assert len(policy.spec.ingress or ()) == 20_000
