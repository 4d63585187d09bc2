"""YAML and JSON text in, plain documents out: exact, fast, with lines when asked.

Two ways to read YAML, with one result:

* **Exact** (`parse_exact`): PyYAML's parser (libyaml when present) and its YAML 1.1
  resolver and scalar constructors, as ``yaml.safe_load`` reads text, which is also the YAML
  kube's go-yaml reads. One pass over the parser's events builds the documents with an explicit
  stack, so it never recurses, records the line of every key and item, refuses nesting deeper
  than `MAX_DEPTH`, and counts the nodes that aliases expand to (only those: a large file
  without aliases is not an alias bomb) against `MAX_EXPANDED_NODES`.
* **Fast** (`parse_yaml`): rapidyaml (``ryml``) parses the text and emits JSON, which
  ``json`` reads. Its JSON is not YAML 1.1 (it drops tags, turns aliases into strings, reads
  ``yes`` as a string and ``1e3`` as a number), so a document takes this way only when a
  conservative scan of its text finds none of what could make the two readings differ:
  anchors, aliases, tags, flow collections, directives, escapes, tabs, and any plain scalar
  (key or value) that YAML 1.1 reads as something JSON would not give (``yes``, ``0777``,
  ``1_000``, ``12:30``, ``2001-12-14``, ``~``, ``.inf``...). What rapidyaml writes as JSON
  numbers, booleans and null is checked as the JSON is read. Anything in doubt is read the
  exact way; a test compares the two on generated documents.

Lines are recorded by the exact reading only. A document read the fast way knows the line it
starts on; the lines inside it are computed on demand (`Lines`), by reading that one
document the exact way, when an error, a warning or lint asks for one.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from netpol_dsl.errors import LoadError

try:  # rapidyaml: a C++ YAML parser; without it every document is read the exact way
    import ryml as _ryml  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - a platform without rapidyaml wheels
    _ryml = None

__all__ = [
    "FAST_MIN_CHARS",
    "MAX_DEPTH",
    "MAX_EXPANDED_NODES",
    "Doc",
    "Lines",
    "OnDuplicate",
    "parse_exact",
    "parse_json",
    "parse_yaml",
]

#: Refuse YAML whose aliases expand to more than this many nodes ("billion laughs"). Only what
#: aliases add counts: a 25 MB ``kubectl get pods -A -o yaml`` dump has no aliases at all.
MAX_EXPANDED_NODES = 1_000_000
#: Refuse YAML (and JSON) nested deeper than this; real manifests stay under 20 levels.
MAX_DEPTH = 500
#: Texts shorter than this are read the exact way only (the fast way pays off on big inputs).
FAST_MIN_CHARS = 32_768

#: Called with (key, line of the first, line of the repeat, the key the mapping sits under or
#: None) for a key given twice in a mapping; without one, a repeated key is a ``LoadError``.
OnDuplicate = Callable[[Any, int, int, "str | None"], None]

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_VALUE = "tag:yaml.org,2002:value"
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """PyYAML's safe loader; `parse_exact` reads its events and uses its resolver and
    scalar constructors (never its composer, which recurses per nesting level)."""


@dataclass(slots=True)
class Doc:
    """One parsed document: its data, the line it starts on, and the lines inside it.

    ``lines`` maps ``id()`` of each mapping and list in ``data`` to ``{key: line}`` or
    ``[line, ...]``; it is empty for a document read the fast way, whose ``located`` reads it
    again the exact way when a line is asked for.

    Example:
        >>> (doc,) = parse_exact("a:\\n  - x\\n", "<text>")
        >>> doc.line, doc.lines[id(doc.data)], doc.lines[id(doc.data["a"])]
        (1, {'a': 1}, [2])
    """

    data: Any
    line: int | None
    lines: Mapping[int, Any]
    located: Lines | None = None


_LINES_LOCK = threading.RLock()


class Lines:
    """The lines of one document read the fast way, computed on first use.

    Holds the text the document came from (not a copy) and where in it the document is.

    Example:
        >>> text = "---\\na: 1\\n---\\nb:\\n  c: 2\\n"
        >>> lines = Lines(text, 13, len(text), 3, "<text>")
        >>> data, table = lines.tables()
        >>> data, table[id(data["b"])]
        ({'b': {'c': 2}}, {'c': 5})
    """

    __slots__ = ("_cache", "_json", "end", "line_offset", "start", "text", "where")

    def __init__(self, text: str, start: int, end: int, line_offset: int, where: str, *,
                 json_data: Any = None) -> None:
        self.text, self.start, self.end = text, start, end
        self.line_offset, self.where = line_offset, where
        self._json = json_data
        self._cache: tuple[Any, Mapping[int, Any]] | None = None

    def tables(self) -> tuple[Any, Mapping[int, Any]]:
        """``(data, lines)`` of the document read the exact way (empty lines if it cannot be).

        Example:
            >>> Lines('{"a": [1]}', 0, 10, 0, "x.json", json_data={"a": [1]}).tables()[0]
            {'a': [1]}
        """
        with _LINES_LOCK:  # one reading per document, whichever thread asks first
            if self._cache is None:
                self._cache = self._read()
            return self._cache

    def _read(self) -> tuple[Any, Mapping[int, Any]]:
        chunk = self.text[self.start:self.end]
        try:
            docs = parse_exact(chunk, self.where, line_offset=self.line_offset)
        except LoadError:
            docs = []
        if self._json is not None:
            # JSON is (nearly) YAML: its lines come from the exact YAML reading when that
            # reading gives the same data, which it does unless the JSON has odd numbers.
            if len(docs) == 1 and _same(docs[0].data, self._json):
                return docs[0].data, docs[0].lines
            return self._json, {}
        if len(docs) == 1:
            return docs[0].data, docs[0].lines
        return None, {}  # pragma: no cover - the fast reading proved the text one document


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# --------------------------------------------------------------------------- exact


class _Open:
    """A mapping or sequence being built: its container, line table and size so far."""

    __slots__ = ("anchor", "data", "is_map", "key", "key_line", "keys", "line", "lines",
                 "merges", "size", "under")

    def __init__(self, is_map: bool, anchor: str | None, line: int, under: str | None) -> None:
        self.is_map = is_map
        self.under = under  # the key this node sits under (a list's items: the list's key)
        self.data: Any = {} if is_map else []
        self.lines: Any = {} if is_map else []
        self.anchor, self.line = anchor, line
        self.size = 1
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.keys: dict[Any, int] = {}
        self.merges: list[tuple[Any, int]] | None = None


_NO_KEY = object()
_OPEN = object()  # an anchor whose node is still being built: an alias to it is recursion

_TAG_WORDS = {
    "tag:yaml.org,2002:bool": "a YAML boolean (true, false, yes, no, on, off)",
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:null": "null (~, null or nothing)",
    "tag:yaml.org,2002:timestamp": "a timestamp such as 2001-12-14T21:59:43Z",
    "tag:yaml.org,2002:binary": "base64 text",
}


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,") else tag


class _Builder:
    """Builds the documents of one text from PyYAML's events (see `parse_exact`)."""

    def __init__(self, loader: _Loader, where: str, line_offset: int,
                 on_duplicate: OnDuplicate | None) -> None:
        self.loader, self.where, self.offset = loader, where, line_offset
        self.on_duplicate = on_duplicate
        self.lines: dict[int, Any] = {}

    def fail(self, line: int, message: str) -> LoadError:
        return LoadError(f"{self.where}:{line}: {message}", source=self.where)

    def line_of(self, event: Any) -> int:
        mark = event.start_mark
        return (mark.line + 1 if mark is not None else 1) + self.offset

    def documents(self) -> list[Doc]:
        get = self.loader.get_event
        get()  # StreamStartEvent
        docs: list[Doc] = []
        while not isinstance(self.loader.peek_event(), StreamEndEvent):
            get()  # DocumentStartEvent
            self.lines = {}
            data, line = self.document()
            get()  # DocumentEndEvent
            docs.append(Doc(data, line, self.lines))
        return docs

    def document(self) -> tuple[Any, int]:
        loader, get = self.loader, self.loader.get_event
        anchors: dict[str, tuple[Any, int]] = {}
        expanded = 0
        stack: list[_Open] = []
        root: Any = None
        root_line = 0
        while True:
            event = get()
            line = self.line_of(event)
            if isinstance(event, ScalarEvent):
                tag = event.tag
                if tag is None or tag == "!":
                    tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
                if tag == _MERGE and stack and stack[-1].is_map and stack[-1].key is _NO_KEY:
                    value = _MERGE_KEY  # `<<` as a key: merge the value's keys (see merge())
                else:
                    value = self.scalar(event, tag, line)
                size = 1
                if event.anchor is not None:
                    self.anchor(anchors, event.anchor, line)
                    anchors[event.anchor] = (value, 1)
            elif isinstance(event, AliasEvent):
                found = anchors.get(event.anchor or "")
                if found is None:
                    raise self.fail(line, f"got an alias *{event.anchor} to no anchor; "
                                          "expected an anchor (&name) before its aliases")
                value, size = found
                if value is _OPEN:
                    raise self.fail(line, f"got a recursive alias *{event.anchor} (inside the "
                                          "node it names); expected plain manifests")
                expanded += size
                if expanded > MAX_EXPANDED_NODES:
                    raise self.fail(line, f"got YAML aliases that expand past "
                                          f"{MAX_EXPANDED_NODES} nodes; expected plain "
                                          "manifests (refused as an alias bomb)")
            elif isinstance(event, (MappingStartEvent, SequenceStartEvent)):
                is_map = isinstance(event, MappingStartEvent)
                self.check_collection_tag(event, is_map, line)
                if len(stack) >= MAX_DEPTH:
                    raise self.fail(line, f"got YAML nested too deeply (more than {MAX_DEPTH} "
                                          "levels); expected plain manifests")
                if event.anchor is not None:
                    self.anchor(anchors, event.anchor, line)
                    anchors[event.anchor] = (_OPEN, 0)
                under = None
                if stack:
                    parent = stack[-1]
                    under = (str(parent.key) if parent.key is not _NO_KEY else None) \
                        if parent.is_map else parent.under
                stack.append(_Open(is_map, event.anchor, line, under))
                continue
            elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
                node = stack.pop()
                if node.merges is not None:
                    self.merge(node)
                self.lines[id(node.data)] = node.lines
                value, size, line = node.data, node.size, node.line
                if node.anchor is not None:
                    anchors[node.anchor] = (value, size)
            else:  # pragma: no cover - the parser sends nothing else inside a document
                raise self.fail(line, f"got an unexpected YAML event {event!r}")
            if not stack:
                root, root_line = value, line
                return root, root_line
            self.add(stack[-1], value, size, line)

    def anchor(self, anchors: Mapping[str, Any], name: str, line: int) -> None:
        if name in anchors:
            raise self.fail(line, f"got the anchor &{name} twice; expected each anchor once "
                                  "in a document")

    def check_collection_tag(self, event: Any, is_map: bool, line: int) -> None:
        tag = event.tag
        if tag is None or tag == "!" or tag == (_MAP if is_map else _SEQ):
            return
        shape = "mapping" if is_map else "sequence"
        if tag in (_MAP, _SEQ):
            want = "a mapping" if tag == _MAP else "a sequence"
            raise self.fail(line, f"got a {shape} tagged {_short_tag(tag)}; expected {want}")
        # !!set, !!omap, !!pairs, local tags: nothing a Kubernetes object (JSON) can hold.
        raise self.fail(line, f"got a {shape} tagged {_short_tag(tag)}; expected a plain "
                              f"{shape} (Kubernetes objects are JSON: no YAML sets, ordered "
                              "maps or custom tags)")

    def scalar(self, event: Any, tag: str, line: int) -> Any:
        value = event.value
        if tag == _STR:
            if not value.isascii() and _SURROGATE.search(value):
                raise self.fail(line, f"got {value!r}, which holds a lone surrogate (an escape "
                                      "such as \\ud800); expected text that UTF-8 can encode")
            return value
        if tag == _VALUE:  # the '=' key of YAML 1.1's value type reads as a string
            return value
        constructor = self.loader.yaml_constructors.get(tag)
        if constructor is None or tag in (_MAP, _SEQ, _MERGE) or tag.endswith(
                (":set", ":omap", ":pairs")):
            raise self.fail(line, f"got a scalar {value!r} tagged {_short_tag(tag)}; expected "
                                  "a scalar without a tag, or tagged !!str, !!int, !!float, "
                                  "!!bool, !!null or !!timestamp as its value allows")
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
        try:
            result = constructor(self.loader, node)
        except ValueError as err:
            if "digits" in str(err):  # int(): "Exceeds the limit (4300 digits) ..."
                raise self.fail(line, f"got an integer of {len(value)} characters; expected "
                                      "at most 4300 digits") from None
            raise self.bad_value(line, value, tag) from None
        except (ConstructorError, TypeError, KeyError, IndexError, AttributeError,
                OverflowError):
            raise self.bad_value(line, value, tag) from None
        if isinstance(result, bytes):
            raise self.fail(line, "got a !!binary value; expected text (Kubernetes objects "
                                  "hold base64 as a string)")
        return result

    def bad_value(self, line: int, value: str, tag: str) -> LoadError:
        want = _TAG_WORDS.get(tag, "a value its tag allows")
        return self.fail(line, f"got {value!r} tagged {_short_tag(tag)}; expected {want}")

    def add(self, parent: _Open, value: Any, size: int, line: int) -> None:
        parent.size += size
        if not parent.is_map:
            parent.data.append(value)
            parent.lines.append(line)
            return
        if parent.key is _NO_KEY:
            if isinstance(value, (dict, list)):
                raise self.fail(line, "got a mapping or sequence as a mapping key; expected a "
                                      "scalar key")
            parent.key, parent.key_line = value, line
            return
        key, key_line = parent.key, parent.key_line
        parent.key = _NO_KEY
        if key is _MERGE_KEY:
            if parent.merges is None:
                parent.merges = []
            parent.merges.append((value, key_line))
            return
        first = parent.keys.get(key)
        if first is not None:
            if self.on_duplicate is None:
                raise self.fail(key_line, f"got duplicate key {key!r} (first at line {first}); "
                                          "expected each key once in a mapping. YAML would "
                                          "silently keep only the last one")
            self.on_duplicate(key, first, key_line, parent.under)
        parent.keys[key] = key_line
        parent.data[key] = value
        parent.lines[key] = key_line

    def merge(self, node: _Open) -> None:
        # SafeConstructor.flatten_mapping: `<<: *a` or `<<: [*a, *b]` adds the keys of the
        # merged mappings that the mapping does not set itself; with a list, earlier ones win.
        assert node.merges is not None
        data: dict[Any, Any] = {}
        lines: dict[Any, int] = {}
        for value, line in node.merges:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(s, dict) for s in sources):
                raise self.fail(line, "got a merge key (<<) whose value is not a mapping or a "
                                      "list of mappings; expected mappings to merge")
            for source in reversed(sources):
                table = self.lines.get(id(source), {})
                for k, v in source.items():
                    data[k] = v
                    lines[k] = table.get(k, line)
        for k, v in node.data.items():
            data[k] = v
            lines[k] = node.lines[k]
        node.data, node.lines = data, lines


_MERGE_KEY = object()


def parse_exact(text: str, where: str, *, line_offset: int = 0,
                on_duplicate: OnDuplicate | None = None) -> list[Doc]:
    """Read every document of YAML text as ``yaml.safe_load_all`` would, recording lines.

    Refused with a ``LoadError`` naming the file and line: invalid YAML, a key given twice
    (unless ``on_duplicate`` takes it), nesting deeper than `MAX_DEPTH`, aliases
    expanding past `MAX_EXPANDED_NODES` nodes, recursive aliases, tags that no JSON
    value has (``!!set``, ``!!omap``, ``!!binary``, Python tags) and values their tag does
    not allow (``!!int abc``).

    Args:
        text: the YAML text.
        where: the file name (or ``<text>``) to put in messages.
        line_offset: lines before ``text`` in its file, when it is a part of one.
        on_duplicate: called for a repeated key instead of refusing it (the last one wins).

    Example:
        >>> [d.data for d in parse_exact("a: &x [1, 2]\\nb: *x\\n", "<text>")]
        [{'a': [1, 2], 'b': [1, 2]}]
        >>> parse_exact("a: !!int abc\\n", "f.yaml")
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.LoadError: f.yaml:1: got 'abc' tagged !!int; expected an integer
    """
    loader = _Loader(text)
    builder = _Builder(loader, where, line_offset, on_duplicate)
    try:
        return builder.documents()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = f":{mark.line + 1 + line_offset}" if mark is not None else ""
        problem = err.problem or err.context or "invalid YAML"
        if "nesting depth" in problem:
            # libyaml 0.2.6+ (PyYAML 6.0.4 wheels) stops at its own depth limit.
            msg = f"{where}: got YAML nested too deeply; expected plain manifests"
            raise LoadError(msg, source=where) from None
        msg = f"{where}{line}: got invalid YAML ({problem}); expected YAML or JSON manifests"
        raise LoadError(msg, source=where) from None
    except yaml.YAMLError as err:
        msg = f"{where}: got invalid YAML ({err}); expected YAML or JSON manifests"
        raise LoadError(msg, source=where) from None
    finally:
        loader.dispose()


# --------------------------------------------------------------------------- JSON


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _pairs_no_dups(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _Duplicate(k)
            seen.add(k)
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"got {name}; expected a JSON number (NaN and Infinity are not JSON)")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abAB]")


def _find_surrogate(data: Any, path: str = "") -> str | None:
    stack: list[tuple[Any, str]] = [(data, path)]
    while stack:
        value, at = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return at or "."
        elif isinstance(value, dict):
            for k, v in value.items():
                if _SURROGATE.search(k):
                    return f"{at}.{k!r}"
                stack.append((v, f"{at}.{k}" if at else k))
        elif isinstance(value, list):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(value))
    return None


def parse_json(text: str, where: str) -> list[Doc]:
    """Read one JSON document (lines are computed on demand, from the same text read as YAML).

    Refused with a ``LoadError``: invalid JSON (with its line), a key given twice, NaN or
    Infinity, integers longer than 4300 digits, lone surrogates (``"\\ud800"``), and nesting
    past the interpreter's limit.

    Example:
        >>> (doc,) = parse_json('{"a": 1}', "x.json")
        >>> doc.data, doc.line
        ({'a': 1}, 1)
        >>> parse_json('{"a": NaN}', "x.json")
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.LoadError: x.json: got NaN; expected a JSON number (NaN and Infinity are not JSON)
    """
    try:
        data = json.loads(text, object_pairs_hook=_pairs_no_dups, parse_constant=_no_constant)
    except _Duplicate as dup:
        msg = f"{where}: got duplicate key {dup.key!r}; expected each key once in a JSON object"
        raise LoadError(msg, source=where) from None
    except json.JSONDecodeError as err:
        msg = f"{where}:{err.lineno}: got invalid JSON ({err.msg}); expected a JSON manifest"
        raise LoadError(msg, source=where) from None
    except RecursionError:
        msg = f"{where}: got JSON nested too deeply; expected plain manifests"
        raise LoadError(msg, source=where) from None
    except ValueError as err:  # NaN, or an int past the 4300-digit limit
        detail = str(err)
        if "digits" in detail:
            detail = "an integer longer than 4300 digits; expected a JSON number Kubernetes reads"
        msg = f"{where}: {detail if detail.startswith('got') else 'got ' + detail}"
        raise LoadError(msg, source=where) from None
    if _SURROGATE_ESCAPE.search(text):
        at = _find_surrogate(data)
        if at is not None:
            msg = (f"{where}: {at}: got a lone surrogate (an escape such as \\ud800); expected "
                   "text that UTF-8 can encode")
            raise LoadError(msg, source=where)
    first = len(text) - len(text.lstrip())
    line = text.count("\n", 0, first) + 1
    return [Doc(data, line, {}, Lines(text, 0, len(text), 0, where, json_data=data))]


# --------------------------------------------------------------------------- fast


# A plain scalar can begin only at the start of a line (after indentation and "- "), or after
# ": ". These patterns find those that YAML 1.1 (PyYAML's resolver, go-yaml's too) reads as
# something other than a string, other than what JSON writes the same way (decimal integers,
# true, false, null): yaml.resolver.Resolver's bool, int, float, null, merge, value and
# timestamp patterns, restated to match inside a line. tests/test_fast_yaml.py checks them
# against the resolver itself.
_END = r"(?=[ ]*+(?:\n|\Z|:[ \n]|:\Z)|[ ]+\#)"  # end of a plain key or value on its line
# One branch per first character, so that a line fails at its first character.
_TYPED = r"""(?:
    [0-9](?: [0-9]{3}-[0-9]                              # a timestamp (perhaps over lines)
           | (?: (?<=0)(?:b[01_]+|[0-7_]+|x[0-9a-fA-F_]+)   # int: binary, octal, hexadecimal
               | (?<=[1-9])[0-9]*_[0-9_]*                # int with "_" separators
               | [0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?  # sexagesimal int or float
               | [0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?     # float
             )""" + _END + r""")
  | [-+](?: (?:0b[01_]+|0[0-7_]+|0x[0-9a-fA-F_]+
             | [1-9][0-9]*_[0-9_]*
             | [0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
             | [0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?
             | \.(?:inf|Inf|INF)
             | (?<=\+)[0-9]+                             # int with a plus sign
            )""" + _END + r""")
  | \.(?:[0-9][0-9_]*(?:[eE][-+][0-9]+)?|inf|Inf|INF|nan|NaN|NAN)""" + _END + r"""
  | (?:~|<<|=)""" + _END + r"""
  | (?:y(?:es)|Y(?:es|ES)|n(?:o)|N(?:o|O|ull|ULL)|T(?:rue|RUE)|F(?:alse|ALSE)|o(?:n|ff)
      |O(?:n|N|ff|FF))""" + _END + r"""
)"""
# As a key, even what JSON has is typed (YAML `80:` is the integer 80, JSON keys are strings).
_TYPED_KEY = r"(?:true|false|null|-?(?:0|[1-9][0-9]*))(?=[ ]*+:(?:[ \n]|\Z))"
_RISKY_FIRST = r"(?=[-+.0-9~<=yYnNtTfFoO])"
# A quoted scalar must close on its line and be followed by nothing but a comment or the ":" of
# a key: rapidyaml also takes a quoted key over two lines, or text after the closing quote,
# which PyYAML refuses.
_QUOTED_ALONE = (r"""(?=["'])(?!(?:"(?:[^"\\\n]|\\[^\n])*+"|'(?:[^'\n]|'')*+')"""
                 r"(?:[ ]*+(?:\n|\Z)|[ ]++\#|[ ]*+:(?:[ \n]|\Z)))")
_AFTER_COLON = re.compile(r":[ ]++(?:" + _RISKY_FIRST + _TYPED + "|" + _QUOTED_ALONE + ")", re.X)
_LINE_START = re.compile(
    r"\n[ ]*+(?:-[ ]++)*+(?:" + _RISKY_FIRST + r"(?:" + _TYPED + "|" + _TYPED_KEY + r")"
    r"|:(?=[ \n]|\Z)"  # an empty key
    r"|" + _QUOTED_ALONE + ")",
    re.X)
_SPACE_COLON = re.compile(r"[ ]:(?=[ \n]|\Z)")  # "a : b", ": b"
_DEEP = re.compile(r"\n[ -]{240}")  # block nesting past MAX_DEPTH needs this much indentation
_LONG = re.compile(r"\n[^\n]{1000}[^\n]*")  # PyYAML refuses keys longer than 1024 characters
_OTHER_BREAKS = re.compile("[\x85\u2028\u2029]")
_KEY_END = re.compile(r":(?=[ \n]|\Z)")
_MARKER_CONTENT = re.compile(r"\n(?:%|---[ ]+[^ \n#]|\.\.\.(?:[ \n]|\Z))")  # directives...
_BLOCK_HEADER = re.compile(r"[|>][-+]?[ ]*(?:\n|\Z)")  # no indentation digit, no comment
_EMPTY_FLOW = re.compile(r"(?:\[\]|\{\})(?:[ ]+\#[^\n]*)?[ ]*(?:\n|\Z)")
#: Characters that always send a document the exact way: tabs, carriage returns, and every
#: ASCII control character PyYAML refuses (a backslash does unless it starts \" \\ \/ \n or \t,
#: escapes both readers decode alike).
_ALWAYS = frozenset("\t\r") | frozenset(chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32),
                                                           127])
#: Characters that do so at the start of a token (after a space or at a line's start).
_TOKEN_START = frozenset("&*!%@`?]},[{|>")
#: Non-ASCII characters that do: YAML 1.1 line breaks, BOM, and what PyYAML's reader refuses.
_NON_ASCII = re.compile("[\x80-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_ASCII_RARE = bytes(sorted({ord(c) for c in _ALWAYS | _TOKEN_START | {"\\"}}))
_PLAIN_ESCAPES = frozenset('"\\/nt')
_ASCII_KEEP = bytes(b for b in range(128) if b not in _ASCII_RARE)


def _unsafe_positions(text: str) -> Iterator[int]:
    """Positions in ``text`` that rule out the fast reading of the document holding them."""
    for m in _AFTER_COLON.finditer(text):
        yield m.start()
    for m in _LINE_START.finditer(text):
        yield m.start()
    for m in _SPACE_COLON.finditer(text):
        yield m.start()
    for m in _DEEP.finditer(text):
        yield m.start()
    for m in _LONG.finditer(text):
        key = _KEY_END.search(m.group())
        if key is not None and key.start() > 1000:
            yield m.start()
    # The patterns above look at what follows a line break; the first line has none before it.
    first = "\n" + text[:text.find("\n") + 1 or len(text)]
    if _LINE_START.match(first) or _DEEP.match(first) or (
            (long := _LONG.match(first)) and (key := _KEY_END.search(long.group()))
            and key.start() > 1000):
        yield 0
    if not text.isascii():
        for m in _NON_ASCII.finditer(text):
            yield m.start()
    # Rare characters: find which are present with one C pass, then look at each occurrence.
    present = text.encode("ascii", "ignore").translate(None, _ASCII_KEEP)
    for ch in set(present.decode("ascii")):
        at = text.find(ch)
        while at >= 0:
            if _rare_is_unsafe(text, at, ch):
                yield at
            at = text.find(ch, at + 1)


def _rare_is_unsafe(text: str, at: int, ch: str) -> bool:
    if ch in _ALWAYS:
        return True
    if ch == "\\":
        return text[at + 1:at + 2] not in _PLAIN_ESCAPES
    if at > 0 and text[at - 1] not in " \n":
        return False  # inside a scalar: not an indicator
    if ch in "|>":
        return text[at - 2:at] not in (": ", "- ") or not _BLOCK_HEADER.match(text, at)
    if ch in "[{":
        return not _EMPTY_FLOW.match(text, at)
    return True


def _split(text: str) -> list[int] | None:
    """Offsets where documents start (``---`` lines), or None if the text must be read whole.

    Directives and document markers with content change how a stream splits into documents;
    a text with them is read the exact way as a whole.
    """
    if _MARKER_CONTENT.match("\n" + text[:text.find("\n") + 1]) or _MARKER_CONTENT.search(text):
        return None
    if "\r" in text or (not text.isascii() and _OTHER_BREAKS.search(text)):
        return None  # PyYAML counts these as line breaks: lines are counted its way
    starts = [0]
    at = 0 if text.startswith("---") else text.find("\n---")
    while at >= 0:
        begin = at if at == 0 and text.startswith("---") else at + 1
        if text[begin + 3:begin + 4] in (" ", "\n", "") and begin:
            starts.append(begin)
        at = text.find("\n---", begin + 3)
    return starts


_QUIET = threading.Lock()


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    # rapidyaml prints a parse error to the process's stderr (fd 2) before raising it; the
    # exact reading reports it properly, so hide that copy.
    with _QUIET:
        try:
            saved = os.dup(2)
        except OSError:  # pragma: no cover - no stderr at all
            yield
            return
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
                yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _NotJson(Exception):
    """The fast reading met something it cannot vouch for: read the exact way instead."""


def _no_float(text: str) -> Any:
    raise _NotJson(text)


def _ryml_docs(chunk: str) -> list[Any]:
    """The documents of ``chunk`` (one or more whole documents) read by rapidyaml."""
    assert _ryml is not None
    data = chunk.encode("utf-8")
    try:
        with _quiet_stderr():
            tree = _ryml.parse_in_arena(data)
        root = tree.root_id()
        out = _ryml.emit_json_malloc(tree, root)
        stream = tree.is_stream(root)
    except Exception as err:  # ryml's own exception types: invalid YAML (or a ryml limit)
        raise _NotJson(str(err)) from None
    text = out.decode("utf-8") if isinstance(out, (bytes, bytearray)) else str(out)
    if '".inf"' in text or '"-.inf"' in text or '".nan"' in text:
        raise _NotJson("infinity or NaN")  # ryml wrote inf/nan its own way
    try:
        docs = json.loads(text, object_pairs_hook=_pairs_no_dups, parse_float=_no_float,
                          parse_constant=_no_float)
    except (_Duplicate, ValueError, RecursionError) as err:
        raise _NotJson(str(err)) from None
    return docs if stream else [docs]


def parse_yaml(text: str, where: str, *, on_duplicate: OnDuplicate | None = None) -> list[Doc]:
    """Read every document of YAML text: the fast way where that is safe, else exactly.

    The result is what `parse_exact` gives (the data; lines for the documents read the
    fast way are computed when asked, see `Doc`), and so are the errors.

    Example:
        >>> [d.data for d in parse_yaml("a: yes\\n---\\nb: 0777\\n", "<text>")]
        [{'a': True}, {'b': 511}]
    """
    if _ryml is None or len(text) < FAST_MIN_CHARS:
        return parse_exact(text, where, on_duplicate=on_duplicate)
    starts = _split(text)
    if starts is None:
        return parse_exact(text, where, on_duplicate=on_duplicate)
    ends = [*starts[1:], len(text)]
    gc_was = gc.isenabled()
    gc.disable()  # building millions of containers: the cyclic collector only slows it
    try:
        helpers = _helpers() if len(text) >= PARALLEL_MIN_CHARS else 0
        if helpers and len(starts) > helpers:
            results = _fast_docs_parallel(text, starts, ends, helpers)
        else:
            results = _fast_docs(text, starts, ends)
        return _assemble(text, where, starts, ends, results, on_duplicate)
    except LoadError:
        # Report it as the whole text read the exact way does (a quoted scalar running over a
        # "---" line fails differently in one document than in the stream).
        return parse_exact(text, where, on_duplicate=on_duplicate)
    finally:
        if gc_was:
            gc.enable()


#: How many characters of documents rapidyaml reads in one call.
_BATCH_CHARS = 1 << 21

#: A document's fast reading: ``(True, data)``, or ``(False, None)``: read it the exact way.
_Result = tuple[bool, Any]


def _fast_docs(text: str, starts: list[int], ends: list[int]) -> list[_Result]:
    """Each document of ``text`` (from ``starts[k]`` to ``ends[k]``) read the fast way where
    the scan finds it safe and rapidyaml reads it; the others marked for the exact way."""
    n = len(starts)
    unsafe = [False] * n
    if n > 1:
        import bisect

        for pos in _unsafe_positions(text):
            unsafe[bisect.bisect_right(starts, pos) - 1] = True
    else:
        unsafe[0] = next(_unsafe_positions(text), None) is not None
    if not text.endswith("\n"):
        # A block scalar ending the text without a line break: PyYAML clips no "\n", rapidyaml
        # does. Read the last document the exact way.
        unsafe[-1] = True
    out: list[_Result] = []
    i = 0
    while i < n:
        if unsafe[i]:
            out.append((False, None))
            i += 1
            continue
        j = i
        size = 0
        while j < n and not unsafe[j] and (size == 0 or size + ends[j] - starts[j] <= _BATCH_CHARS):
            size += ends[j] - starts[j]
            j += 1
            if i == 0 and starts[0] == 0 and not text.startswith("---"):
                break  # the first document has no "---": read it on its own
        try:
            found = _ryml_docs(text[starts[i]:ends[j - 1]])
            if len(found) != j - i:
                raise _NotJson("document count")
        except _NotJson:
            found = None
        for k in range(i, j):
            if found is not None:
                out.append((True, found[k - i]))
                continue
            try:  # find the document in doubt: each on its own, else the exact way
                (data,) = _ryml_docs(text[starts[k]:ends[k]])
            except (_NotJson, ValueError):
                out.append((False, None))
            else:
                out.append((True, data))
        i = j
    return out


def _assemble(text: str, where: str, starts: list[int], ends: list[int], results: list[_Result],
              on_duplicate: OnDuplicate | None) -> list[Doc]:
    """The documents, in order: the fast results with their lines, the others read exactly."""
    docs: list[Doc] = []
    line = 1
    counted = 0
    for k, (fast, data) in enumerate(results):
        line += text.count("\n", counted, starts[k])
        counted = starts[k]
        if not fast:
            docs.extend(parse_exact(text[starts[k]:ends[k]], where, line_offset=line - 1,
                                    on_duplicate=on_duplicate))
            continue
        if data is None:
            continue  # an empty document (comments only)
        first = _first_content_line(text, starts[k], ends[k])
        docs.append(Doc(data, line + first, {}, Lines(text, starts[k], ends[k], line - 1, where)))
    return docs


# --------------------------------------------------------------------------- helper processes

#: Texts at least this long are read by several processes at once (`NETPOL_WORKERS`).
PARALLEL_MIN_CHARS = 16 << 20
#: The environment variable that sets how many processes read one large text (1: only this
#: one); by default, one per idle CPU this process may run on (by the load average), at most
#: `_MAX_PROCESSES`.
WORKERS_ENV = "NETPOL_WORKERS"
_MAX_PROCESSES = 4
#: This process's share of a text, against 1 for each helper. A helper also starts an
#: interpreter, unpickles its piece and pickles its results; this process unpickles those.
#: Measured on 77 MB of pods, 2 CPUs: 0.9 -> 5.8 s, 1.2 -> 4.6-5.0 s, 1.4 -> 4.3-4.8 s,
#: 1.6 -> 4.4-4.5 s (one process: 6.2-6.5 s).
_OWN_WEIGHT = 1.5


def _helpers() -> int:
    """How many helper processes may read one large text besides this one."""
    wanted = os.environ.get(WORKERS_ENV, "").strip()
    if wanted:
        try:
            total = int(wanted)
        except ValueError:
            total = 1
    else:
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            cpus = os.cpu_count() or 1
        try:
            busy = os.getloadavg()[0]  # this process counts in it
        except (AttributeError, OSError):  # pragma: no cover - no load average (Windows)
            busy = 1.0
        # Only CPUs that are idle: on a busy machine helpers compete with each other and with
        # this process for the same cores, and are slower than one process alone.
        total = min(cpus, _MAX_PROCESSES, 1 + max(0, int(cpus - busy + 0.5)))
    if not sys.executable or getattr(sys, "frozen", False):
        return 0  # no interpreter to start helpers with (embedded, or a frozen application)
    return max(0, min(total, 16) - 1)


def _segments(starts: list[int], ends: list[int], helpers: int) -> list[tuple[int, int]]:
    """Document index ranges ``[a, b)``: the first for this process, one per helper, cut at
    document boundaries so that each holds about its share of the characters."""
    total = ends[-1] - starts[0]
    weights = [_OWN_WEIGHT] + [1.0] * helpers
    bounds = [0]
    done = 0.0
    import bisect

    for w in weights[:-1]:
        done += w / sum(weights)
        at = bisect.bisect_left(starts, starts[0] + int(total * done))
        bounds.append(min(max(at, bounds[-1] + 1), len(starts) - (len(weights) - len(bounds))))
    bounds.append(len(starts))
    return list(itertools.pairwise(bounds))


def _fast_docs_parallel(text: str, starts: list[int], ends: list[int],
                        helpers: int) -> list[_Result]:
    """`_fast_docs` with the text cut at document boundaries, the pieces read by helper
    processes (a fresh interpreter each, running `_helper_main`) while this one reads the
    first. A helper that cannot start or fails leaves its piece to this process.

    The pieces give the scan what the whole text gives it: every pattern it looks for lies
    within one line, and each piece starts at a ``---`` line (which no pattern matches) and
    ends with a line break, as it does in the whole text.
    """
    import pickle
    import subprocess

    parts = _segments(starts, ends, helpers)
    # this very package first on the helper's path (not one in its working directory)
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = (f"import sys; sys.path.insert(0, {package_root!r}); "
            "from netpol_dsl._yaml import _helper_main; _helper_main()")
    running: list[tuple[tuple[int, int], subprocess.Popen[bytes] | None]] = []
    feeders: list[threading.Thread] = []
    for a, b in parts[1:]:
        lo, hi = starts[a], ends[b - 1]
        payload = pickle.dumps((text[lo:hi], [s - lo for s in starts[a:b]],
                                [e - lo for e in ends[a:b]]), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError:  # no program to run, no processes to be had: read it here
            running.append(((a, b), None))
            continue
        feeder = threading.Thread(target=_feed, args=(proc, payload), daemon=True)
        feeder.start()
        feeders.append(feeder)
        running.append(((a, b), proc))
    try:
        a, b = parts[0]
        results = _fast_docs_piece(text, starts, ends, a, b)
        for (a, b), helper in running:
            got: list[_Result] | None = None
            if helper is not None and helper.stdout is not None:
                out = helper.stdout.read()
                if helper.wait() == 0 and out:
                    try:
                        got = pickle.loads(out)
                    except Exception:  # pragma: no cover - cut short: read its piece here
                        got = None
            if got is None or len(got) != b - a:  # the helper failed: read its piece here
                got = _fast_docs_piece(text, starts, ends, a, b)
            results.extend(got)
    finally:
        for _, helper in running:
            if helper is not None:
                if helper.poll() is None:  # only after an error here: stop what is left
                    helper.kill()
                helper.wait()
                if helper.stdout is not None:
                    helper.stdout.close()
        for feeder in feeders:
            feeder.join()
    return results


def _fast_docs_piece(text: str, starts: list[int], ends: list[int], a: int, b: int
                     ) -> list[_Result]:
    lo, hi = starts[a], ends[b - 1]
    return _fast_docs(text[lo:hi], [s - lo for s in starts[a:b]], [e - lo for e in ends[a:b]])


def _feed(proc: Any, payload: bytes) -> None:
    try:
        proc.stdin.write(payload)
    except OSError:  # pragma: no cover - the helper died; its piece is read here
        pass
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()


def _helper_main() -> None:
    """A helper process: read one piece (pickled from stdin), write its results to stdout."""
    import pickle

    gc.disable()
    text, starts, ends = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(_fast_docs(text, starts, ends),
                                         protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()


_CONTENT = re.compile(r"[ ]*[^ \n#]")


def _first_content_line(text: str, start: int, end: int) -> int:
    """Lines from ``start`` to the document's first node (its ``---`` line and comments)."""
    at = start
    marker = text.startswith("---", start) and text[start + 3:start + 4] in (" ", "\n", "")
    if marker:
        at = text.find("\n", start)
        if at < 0:
            return 0
        at += 1
    skipped = 0
    while at < end:
        nl = text.find("\n", at, end)
        stop = end if nl < 0 else nl
        if _CONTENT.match(text, at, stop):
            return skipped + (1 if marker else 0)
        skipped += 1
        if nl < 0:
            break
        at = nl + 1
    return skipped
