"""The fast YAML reading (rapidyaml + JSON) gives exactly what the exact reading (PyYAML's
events) gives: the same data, the same lines, the same errors. And the pre-scan that decides
which documents may take the fast way covers every plain scalar YAML 1.1 would type."""

from __future__ import annotations

import math
import random
import re
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol_dsl import LoadError, _yaml, load_manifests
from tests.strategies import budget
from tests.yaml_texts import PLAIN, RISKY, stream

pytestmark = pytest.mark.skipif(_yaml._ryml is None, reason="rapidyaml is not installed")


@pytest.fixture(autouse=True)
def _fast_for_any_size(monkeypatch):
    monkeypatch.setattr(_yaml, "FAST_MIN_CHARS", 0)


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1 == 1.0 == True is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def lines_by_path(data: Any, tables: Any, path: str = "") -> dict[str, int]:
    out: dict[str, int] = {}
    table = tables.get(id(data))
    if isinstance(data, dict) and isinstance(table, dict):
        for k, v in data.items():
            out[f"{path}.{k!r}"] = table[k]
            out.update(lines_by_path(v, tables, f"{path}.{k!r}"))
    elif isinstance(data, list) and isinstance(table, list):
        for i, v in enumerate(data):
            out[f"{path}[{i}]"] = table[i]
            out.update(lines_by_path(v, tables, f"{path}[{i}]"))
    return out


def outcome(read, text: str) -> tuple[str, Any]:
    try:
        docs = [d for d in read(text, "t.yaml") if d.data is not None]
    except LoadError as err:
        return "error", str(err)
    return "ok", docs


def assert_same_reading(text: str) -> None:
    fast, exact = outcome(_yaml.parse_yaml, text), outcome(_yaml.parse_exact, text)
    assert fast[0] == exact[0], (text, fast, exact)
    if fast[0] == "error":
        assert fast[1] == exact[1], text
        return
    assert len(fast[1]) == len(exact[1]), text
    for f, e in zip(fast[1], exact[1], strict=True):
        assert same(f.data, e.data), (text, f.data, e.data)
        assert f.line == e.line, text
        if f.located is not None:  # read the fast way: lines come on demand, and agree
            data, tables = f.located.tables()
            assert same(data, e.data), text
            assert lines_by_path(data, tables) == lines_by_path(e.data, e.lines), text


# The texts come from a seeded random.Random (use_true_random=True): drawing each of the thousands
# of choices a text makes through hypothesis cost ~80 ms per example (45 s for these two tests),
# a seeded Random ~4 ms. The texts are as varied; a failure shows the seed (``Random(...)``) and
# the text itself, though hypothesis can no longer shrink it. 300 examples each in CI.
@settings(max_examples=budget(300))
@given(st.randoms(use_true_random=True), st.sampled_from([0.0, 0.05, 0.3]))
def test_fast_reading_equals_exact_reading(rnd, risk):
    assert_same_reading(stream(rnd, risk=risk))


@settings(max_examples=budget(300))
@given(st.randoms(use_true_random=True))
def test_fast_reading_equals_exact_reading_on_damaged_text(rnd):
    assert_same_reading(stream(rnd, damaged=True))


def test_the_fast_way_is_taken_for_plain_manifests(monkeypatch):
    calls = []
    read = _yaml._ryml_docs
    monkeypatch.setattr(_yaml, "_ryml_docs", lambda chunk: calls.append(chunk) or read(chunk))
    pods = "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-{i}\n  namespace: shop\n"
        f"  labels:\n    app: web\nspec:\n  nodeName: node-{i % 3}\n  containers:\n"
        f"  - name: web\n    ports:\n    - containerPort: 8080\n      name: http\n"
        f"      protocol: TCP\nstatus:\n  podIP: 10.0.{i // 256}.{i % 256}\n"
        f"  hostIP: 192.168.0.{i % 3}\n  phase: Running\n"
        for i in range(300))
    docs = _yaml.parse_yaml(pods, "pods.yaml")
    assert len(docs) == 300 and len(calls) == 1  # one batch, no document in doubt
    assert docs[5].line == 20 * 5 + 2 and docs[5].lines == {}
    assert [d.data for d in docs] == [d.data for d in _yaml.parse_exact(pods, "pods.yaml")]


# ---------------------------------------------------------------- the pre-scan itself

_RESOLVER = yaml.resolver.Resolver()
_JSON_WRITES_ALIKE = re.compile(r"-?(?:0|[1-9][0-9]*)|true|false|null")


def yaml11_tag(token: str) -> str:
    return _RESOLVER.resolve(yaml.ScalarNode, token, (True, False))


TOKEN_CHARS = "0123456789-+._:eExXbBoOtTZnNaAfFlLsSyYiI ~<="


def test_every_listed_plain_scalar_yaml_types_is_caught():
    for token in RISKY + PLAIN:
        check_plain_scalar(token)


# Random tokens (these once came from one_of(sampled_from(RISKY + PLAIN), text(...)) with 3000
# examples, about half of them re-drawing the ~130 listed tokens; those are now all checked
# above, and the 1500 examples here are all random tokens, as many as before).
@settings(max_examples=budget(1500))
@given(st.text(TOKEN_CHARS, min_size=1, max_size=9))
def test_every_plain_scalar_yaml_types_is_caught(token):
    check_plain_scalar(token)


def check_plain_scalar(token: str) -> None:
    token = token.strip(" ")
    if not token or ": " in token or " #" in token or token.endswith(":"):
        return
    tag = yaml11_tag(token)
    if tag == "tag:yaml.org,2002:str":
        return
    # As a key even JSON's own scalars are typed (YAML `80:` is an int, a JSON key a string).
    assert _yaml._LINE_START.match(f"\n{token}: x\n"), token
    if _JSON_WRITES_ALIKE.fullmatch(token):
        return  # rapidyaml writes these as JSON numbers, booleans and null, as YAML reads them
    assert _yaml._AFTER_COLON.match(f": {token}\n"), token
    assert _yaml._AFTER_COLON.match(f": {token} # comment\n"), token
    assert _yaml._LINE_START.match(f"\n- {token}\n"), token
    assert _yaml._LINE_START.match(f"\n  - - {token}\n"), token


@pytest.mark.parametrize("value", ["8080", "10.64.2.28", "10.0.0.0/8", "nginx", "true", "false",
                                   "null", "1.2.3", "58a909e7-98c9-4885", "2m74rngr44", "v1",
                                   "TCP", "-1", "0", "Ingress", "node-3", "'yes'", '"0777"'])
def test_what_manifests_are_full_of_does_not_send_them_the_exact_way(value):
    for text in (f"port: {value}\n", f"- {value}\n", f"name: x\nitems:\n- {value}\n"):
        assert next(_yaml._unsafe_positions(text), None) is None, text


@pytest.mark.parametrize("text", [
    "a: &x 1\n", "a: *x\n", "a: !!str 1\n", "a: [1, 2]\n", "a: {b: 1}\n", "? a\n: b\n",
    "a:\tb\n", "a: b\r\n", "a: 'x\\q'\n", "a: x\x07\n", "a : b\n", ": b\n", "a: |2\n  x\n",
    "a: 1_000\n", "yes: 1\n", "80: x\n", "a: 2024-05-01T10:00:00Z\n", "a: ~\n", "<<: {}\n",
    "x" * 1100 + ": 1\n", "a: 1\n" + "x" * 1100 + ": 1\n", "- " * 130 + "x\n",
    "a: 1\n" + "- " * 130 + "x\n",
])
def test_what_readers_read_differently_sends_a_document_the_exact_way(text):
    assert next(_yaml._unsafe_positions(text), None) is not None, text


def test_directives_and_document_markers_with_content_send_the_text_the_exact_way():
    for text in ("%YAML 1.1\n---\na: 1\n", "--- a: 1\n", "a: 1\n...\n", "a: 1\n--- |\n x\n"):
        assert _yaml._split(text) is None, text
    assert _yaml._split("a: 1\n---\nb: 2\n--- # c\nc: 3\n---x: 4\n") == [0, 5, 14]


# ---------------------------------------------------------------- lines and errors


def test_errors_inside_documents_read_the_fast_way_name_their_line(tmp_path):
    good = "".join(f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\n"
                   for i in range(50))
    bad = ("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
           "  name: x\n  namespace: a\nspec:\n  ingress:\n  - ports:\n    - port: 70000\n")
    path = tmp_path / "all.yaml"
    path.write_text(good + bad, encoding="utf-8")
    with pytest.raises(LoadError) as info:
        load_manifests(path)
    assert info.value.issues[0].source == f"{path}:210: a/x"
    assert _yaml.parse_exact(bad, "x")[0].lines  # the exact way has it at hand


def test_list_items_get_their_lines_on_demand():
    items = "".join(f"- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p{i}\n"
                    for i in range(100))
    text = f"apiVersion: v1\nkind: List\nitems:\n{items}"
    m = load_manifests(text)
    pod = m.objects[42]
    assert (pod.line, pod.line_of("metadata.name")) == (4 + 42 * 4, 7 + 42 * 4)


def test_rapidyaml_says_nothing_on_stderr(capfd):
    text = "".join(f"a{i}: 1\n" for i in range(10)) + "b: [1, 2\nc: 3\n"
    with pytest.raises(LoadError, match=r"^t\.yaml:12: got invalid YAML"):
        _yaml.parse_yaml(text, "t.yaml")
    assert _yaml._ryml_docs.__name__ == "_ryml_docs"
    with pytest.raises(_yaml._NotJson):
        _yaml._ryml_docs("a: b: c\n")
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_a_block_scalar_ending_the_text_without_a_newline():
    assert_same_reading("a: >\n  x\n  y")
    assert _yaml.parse_yaml("a: >\n  x\n  y", "t")[0].data == {"a": "x y"}


def test_json_numbers_that_yaml_reads_otherwise_take_the_exact_way():
    # rapidyaml writes 1e3 as a JSON number; YAML 1.1 reads it as a string
    assert _yaml.parse_yaml("a: 1e3\nb: x\n", "t")[0].data == {"a": "1e3", "b": "x"}
    assert _yaml.parse_yaml("- inf\n- nan\n", "t")[0].data == ["inf", "nan"]


def test_duplicate_keys_are_found_in_documents_read_the_fast_way():
    with pytest.raises(LoadError, match=r"^t\.yaml:3: got duplicate key 'a' \(first at line 2\)"):
        _yaml.parse_yaml("---\na: 1\na: 2\n", "t.yaml")
    seen = []
    docs = _yaml.parse_yaml("---\na: 1\na: 2\n", "t.yaml",
                            on_duplicate=lambda *d: seen.append(d))
    assert docs[0].data == {"a": 2} and seen == [("a", 2, 3, None)]
    seen.clear()
    _yaml.parse_yaml("spec:\n  x:\n  - matchLabels:\n      a: 1\n      a: 2\n", "t.yaml",
                     on_duplicate=lambda *d: seen.append(d))
    assert seen == [("a", 4, 5, "matchLabels")]


def test_json_files_get_lines_on_demand(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{\n  "apiVersion": "networking.k8s.io/v1",\n  "kind": "NetworkPolicy",\n'
                    '  "metadata": {"name": "x", "namespace": "a"},\n'
                    '  "spec": {\n    "ingress": [{"ports": [{"port": 70000}]}]\n  }\n}\n',
                    encoding="utf-8")
    with pytest.raises(LoadError) as info:
        load_manifests(path)
    assert info.value.issues[0].source == f"{path}:6: a/x"


def test_many_random_documents_through_load_manifests():
    # the whole loader on one big text: same policies and objects both ways
    rnd = random.Random(7)
    text = "".join(f"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n"
                   f"  labels:\n    k: {rnd.choice(['a', 'yes', 'c'])}\n" for i in range(400))
    fast = load_manifests(text)
    _yaml.FAST_MIN_CHARS = 10**9
    try:
        exact = load_manifests(text)
    finally:
        _yaml.FAST_MIN_CHARS = 0
    assert [m.data for m in fast.objects] == [m.data for m in exact.objects]
    assert [m.line for m in fast.objects] == [m.line for m in exact.objects]
