"""The shared base of every model: frozen, exact Kubernetes shapes, validated on construction.

Validation runs in one pydantic pass. Each model's own rules (``_check``) run inside a *wrap*
validator, so that when a field fails (a type error, or a nested object's own rules), the model
still checks what it can from its other fields: kube-apiserver reports every problem, and so
must we. The issues travel up through pydantic as one custom error type (``ISSUES_ERROR``) and
come out as ``InvalidPolicyError`` with Kubernetes field paths.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    StrictBool,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic._internal._model_construction import ModelMetaclass
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError
from typing_extensions import Self

from netpol_dsl import _rules
from netpol_dsl.errors import InvalidPolicyError, Issue

#: The pydantic error type that carries netpol-dsl issues through nested validation.
ISSUES_ERROR = "netpol_issues"

#: Keys whose pydantic loc continues into a map key; Kubernetes reports the map itself
#: (apimachinery ``ValidateLabels(labels, fldPath)`` uses the map's path for every entry).
_MAP_FIELDS = frozenset({"matchLabels", "labels", "annotations"})

#: Snake_case field names whose wire name is not plain camelCase of them.
_ALIASES: dict[str, str] = {"from_": "from", "except_": "except"}


class Context:
    """Options that loading passes down through pydantic's validation context.

    Attributes:
        lenient_cidr: accept CIDRs older API servers stored, recording a warning instead.
        lenient_names: accept object names today's API server refuses (for evaluating dumps;
            a name does not change what a policy allows).
        require_namespace: report a missing ``metadata.namespace`` (``load_policy``).
        wire_names_only: the input is API-shaped: only camelCase names are fields.

    Example:
        >>> Context(lenient_cidr=True).lenient_cidr
        True
    """

    __slots__ = ("lenient_cidr", "lenient_names", "require_namespace", "wire_names_only")

    def __init__(
        self,
        *,
        lenient_cidr: bool = False,
        lenient_names: bool = False,
        require_namespace: bool = False,
        wire_names_only: bool = False,
    ) -> None:
        self.lenient_cidr = lenient_cidr
        self.lenient_names = lenient_names
        self.require_namespace = require_namespace
        self.wire_names_only = wire_names_only


def context_of(info: ValidationInfo) -> Context:
    """The ``Context`` passed to validation, or a default one.

    Example:
        >>> context_of.__name__
        'context_of'
    """
    ctx = info.context
    if isinstance(ctx, dict):
        found = ctx.get("netpol")
        if isinstance(found, Context):
            return found
    return Context()


class _Meta(ModelMetaclass):
    # Direct construction (``IPBlock(cidr=...)``) raises InvalidPolicyError with field paths.
    # Overriding ``__init__`` instead would make pydantic call it for nested models too.
    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except ValidationError as err:
            raise issues_error(err) from None


_ADAPTERS: dict[tuple[type[Any], str], TypeAdapter[Any]] = {}


class K8sModel(BaseModel, metaclass=_Meta):
    """Base model: frozen, unknown fields forbidden, camelCase on the wire."""

    model_config = ConfigDict(
        frozen=True,
        # validators are built on first use: importing the library stays fast, and the
        # cluster-wide kinds cost nothing to a user who never loads one
        defer_build=True,
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        arbitrary_types_allowed=False,
    )

    #: Wire name -> Go zero value, for fields that are not pointers upstream: a missing key or
    #: a JSON ``null`` decodes to the zero value there (``spec: null`` is an empty spec,
    #: a missing ``cidr`` is ""), and validation then judges that value.
    _ZERO: ClassVar[Mapping[str, Callable[[], Any]]] = {}
    #: Wire name of a list or map -> the Go zero value its ``null`` items decode to ("" in
    #: ``values: [null]``, an empty rule in ``ingress: [null]``).
    _NULL_ITEMS: ClassVar[Mapping[str, Callable[[], Any]]] = {}

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """Validate ``obj`` (pydantic's ``model_validate``), raising ``InvalidPolicyError``.

        Example:
            >>> from netpol_dsl.model import IPBlock
            >>> IPBlock.model_validate({"cidr": "10.0.0.0/8"}).cidr
            '10.0.0.0/8'
        """
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as err:
            raise issues_error(err) from None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        """Return this object's own problems, with paths relative to it.

        ``broken`` names fields that failed validation already (reported elsewhere); a rule
        that needs one of them is skipped, and a rule that only needs to know the field is
        *present* treats it as present.
        """
        return []

    @model_validator(mode="wrap")
    @classmethod
    def _validate_all(
        cls, data: Any, handler: ModelWrapValidatorHandler[Self], info: ValidationInfo
    ) -> Self:
        ctx = context_of(info)
        if isinstance(data, Mapping):
            data = cls._nulls_to_zero(data)
        try:
            obj = handler(data)
        except ValidationError as err:
            issues = issues_from_validation_error(err)
            if isinstance(data, Mapping) and not any(not e["loc"] for e in err.errors()):
                issues.extend(cls._salvage(data, err, ctx, info))
            raise _issues_exception(issues) from None
        if isinstance(data, cls):
            return obj  # an already validated instance
        own = obj._check(ctx, frozenset())
        if own:
            raise _issues_exception(own)
        return obj

    @classmethod
    def _nulls_to_zero(cls, data: Mapping[Any, Any]) -> Mapping[Any, Any]:
        zeros, null_items = _zero_fields(cls)
        out: dict[Any, Any] | None = None
        for wire, name, zero in zeros:
            if data.get(wire) is None and data.get(name) is None:
                out = dict(data) if out is None else out
                out[name if name in data else wire] = zero()
        for wire, name, item_zero in null_items:
            key = wire if wire in data else name
            value = data.get(key)
            if isinstance(value, (list, tuple)) and any(v is None for v in value):
                out = dict(data) if out is None else out
                out[key] = [item_zero() if v is None else v for v in value]
            elif isinstance(value, dict) and any(v is None for v in value.values()):
                out = dict(data) if out is None else out
                out[key] = {k: item_zero() if v is None else v for k, v in value.items()}
        return data if out is None else out

    @classmethod
    def _salvage(
        cls, data: Mapping[Any, Any], err: ValidationError, ctx: Context, info: ValidationInfo
    ) -> list[Issue]:
        """Run this model's own rules on the fields that did validate."""
        names = {f.alias or n: n for n, f in cls.model_fields.items()}
        if not ctx.wire_names_only:
            names.update({n: n for n in cls.model_fields})
        broken: set[str] = set()
        for e in err.errors():
            head = e["loc"][0] if e["loc"] else None
            if isinstance(head, str) and head in names and e["type"] != "extra_forbidden":
                broken.add(names[head])
        values: dict[str, Any] = {}
        for key, raw in data.items():
            name = names.get(key)
            if name is None:
                if cls.model_config.get("extra") == "allow" and isinstance(key, str):
                    values[key] = raw
                continue
            if name in broken:
                alias = cls.model_fields[name].alias or name
                if alias in _MAP_FIELDS and isinstance(raw, Mapping):
                    # Check the well-typed entries; the others were reported as type errors.
                    values[name] = {k: v for k, v in raw.items()
                                    if isinstance(k, str) and isinstance(v, str)}
                    broken.discard(name)
                else:
                    values[name] = None
                continue
            try:
                values[name] = _adapter(cls, name).validate_python(
                    raw, context=info.context, by_alias=True, by_name=not ctx.wire_names_only
                )
            except ValidationError:  # pragma: no cover - it validated in the first pass
                broken.add(name)
                values[name] = None
        partial = cls.model_construct(**values)
        return partial._check(ctx, frozenset(broken))

    def to_dict(self) -> dict[str, Any]:
        """The API shape: camelCase names, no nulls.

        Example:
            >>> from netpol_dsl.model import IPBlock
            >>> IPBlock(cidr="10.0.0.0/8", except_=["10.1.0.0/16"]).to_dict()
            {'cidr': '10.0.0.0/8', 'except': ['10.1.0.0/16']}
        """
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return data


_ZERO_FIELDS: dict[type[Any], tuple[tuple[tuple[str, str, Callable[[], Any]], ...],
                                    tuple[tuple[str, str, Callable[[], Any]], ...]]] = {}


def _zero_fields(cls: type[K8sModel]) -> tuple[tuple[tuple[str, str, Callable[[], Any]], ...],
                                                tuple[tuple[str, str, Callable[[], Any]], ...]]:
    """``_ZERO`` and ``_NULL_ITEMS`` of ``cls`` as (wire name, field name, zero), made once."""
    found = _ZERO_FIELDS.get(cls)
    if found is None:
        found = _ZERO_FIELDS[cls] = (
            tuple((w, _field_name(cls, w), z) for w, z in cls._ZERO.items()),
            tuple((w, _field_name(cls, w), z) for w, z in cls._NULL_ITEMS.items()))
    return found


def _field_name(cls: type[K8sModel], wire: str) -> str:
    for name, info in cls.model_fields.items():
        if (info.alias or name) == wire:
            return name
    return wire


def _adapter(cls: type[K8sModel], name: str) -> TypeAdapter[Any]:
    key = (cls, name)
    found = _ADAPTERS.get(key)
    if found is None:
        info = cls.model_fields[name]
        # Keep the field's own validators (IntOrString's BeforeValidator) but not its alias.
        annotation: Any = info.annotation
        for meta in info.metadata:
            annotation = Annotated[annotation, meta]
        found = _ADAPTERS[key] = TypeAdapter(annotation)
    return found


def _issues_exception(issues: list[Issue]) -> PydanticCustomError:
    return PydanticCustomError(
        ISSUES_ERROR, "{summary}", {"summary": "; ".join(map(str, issues)), "issues": issues}
    )


def _wire(part: str) -> str:
    return _ALIASES.get(part) or to_camel(part)


def loc_to_path(loc: tuple[int | str, ...], *, last_is_key: bool = False) -> str:
    """Turn a pydantic ``loc`` into a Kubernetes field path.

    Field names become their wire names; a map path ends at the map. With ``last_is_key``
    the last part is an input key (an unknown field) and is kept as written.

    Example:
        >>> loc_to_path(("spec", "ingress", 0, "from", 1, "ipBlock"))
        'spec.ingress[0].from[1].ipBlock'
        >>> loc_to_path(("metadata", "labels", "app"))
        'metadata.labels'
        >>> loc_to_path(("spec", "pod_selector", "match_labels", "a"))
        'spec.podSelector.matchLabels'
        >>> loc_to_path(("spec", "ingress", 0, "from", 0, "namespaces", "<legacy>", "sameLabels"))
        'spec.ingress[0].from[0].namespaces.sameLabels'
    """
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        if part.startswith("<") and part.endswith(">") and not (last_is_key and i == len(loc) - 1):
            continue  # the tag of a tagged union's branch (``Tag("<legacy>")``), not a field
        name = part if last_is_key and i == len(loc) - 1 else _wire(part)
        out += f".{name}" if out else name
        if name in _MAP_FIELDS and i + 1 < len(loc):
            break
    return out


_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "a boolean",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "tuple_type": "a list",
    "list_type": "a list",
    "missing": "a value (the field is required)",
    "extra_forbidden": "no such field",
    "literal_error": "",
}


def issues_from_validation_error(err: ValidationError) -> list[Issue]:
    """Every problem in a pydantic ``ValidationError``, as Kubernetes-style issues.

    Example:
        >>> from netpol_dsl.model import IPBlock
        >>> try:
        ...     TypeAdapter(IPBlock).validate_python({"cidr": 10})
        ... except ValidationError as err:
        ...     [i.path for i in issues_from_validation_error(err)]
        ['cidr']
    """
    out: list[Issue] = []
    seen: set[tuple[str, str, str]] = set()
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        etype = e["type"]
        path = loc_to_path(loc, last_is_key=etype == "extra_forbidden")
        if etype == ISSUES_ERROR:
            for issue in e["ctx"]["issues"]:
                item = issue.with_prefix(path)
                key = (item.path, item.expected, repr(item.value))
                if key not in seen:
                    seen.add(key)
                    out.append(item)
            continue
        if etype == "extra_forbidden":
            field = str(loc[-1])
            item = Issue(path, e["input"], "a known field", hint=f"Unknown field {field!r}")
        elif etype == "missing":
            item = Issue(path, None, "a value (the field is required)", missing=True)
        else:
            expected = _TYPE_WORDS.get(etype) or e["msg"][:1].lower() + e["msg"][1:]
            value = e.get("input")
            item = Issue(path, value, expected, hint=_type_hint(value, expected))
        key = (item.path, item.expected, repr(item.value))
        if key in seen:
            continue
        seen.add(key)
        out.append(item)
    return out


def _type_hint(value: Any, expected: str) -> str | None:
    if expected == "a string" and isinstance(value, (int, float, bool)):
        return f"Quote it in YAML: {str(value).lower()!r} (type={type(value).__name__})"
    if value is not None and not isinstance(value, (dict, list)):
        return f"(type={type(value).__name__})"
    return None


def issues_error(err: ValidationError, *, source: str | None = None) -> InvalidPolicyError:
    """Convert a pydantic error into ``InvalidPolicyError`` with field paths.

    Example:
        >>> from netpol_dsl.model import IPBlock
        >>> try:
        ...     TypeAdapter(IPBlock).validate_python({"cidr": "10.0.0.1"})
        ... except ValidationError as err:
        ...     print(issues_error(err, source="x.yaml:3").issues[0].source)
        x.yaml:3
    """
    return InvalidPolicyError(issues=issues_from_validation_error(err), source=source)


# ----------------------------------------------------------------------------- metadata
#
# ObjectMeta as the API server decodes it (k8s.io/apimachinery/pkg/apis/meta/v1/types.go):
# every field typed, so that what validation accepts is valid JSON, valid UTF-8, and renders.


def _check_utf8(value: str) -> str:
    # Go strings hold UTF-8; a lone surrogate ("\ud800" in JSON) has no UTF-8 form at all.
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise PydanticCustomError(
                "utf8", "text that UTF-8 can encode (no lone surrogates such as '\\ud800')"
            ) from None
    return value


#: A string that UTF-8 can encode: what the API (Go) can hold, and what render can write.
Utf8Str = Annotated[StrictStr, AfterValidator(_check_utf8)]

_RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
                      r"(?:Z|[+-][0-9]{2}:[0-9]{2})")
_TIME_WORDS = "an RFC 3339 date and time such as '2024-05-01T10:00:00Z'"


def _to_time(value: Any) -> Any:
    # metav1.Time: JSON strings in RFC 3339 (time.RFC3339); an unquoted YAML timestamp reaches
    # here as a datetime, which is written back the way Go formats it.
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)  # YAML: no zone means UTC
        text = value.isoformat()
        return text.replace("+00:00", "Z") if text.endswith("+00:00") else text
    if isinstance(value, datetime.date):
        raise PydanticCustomError("rfc3339", _TIME_WORDS + " (got a date without a time)")
    return value


def _check_time(value: str) -> str:
    if _RFC3339.fullmatch(value) is None:
        raise PydanticCustomError("rfc3339", _TIME_WORDS)
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PydanticCustomError("rfc3339", _TIME_WORDS) from None
    return value


#: ``metav1.Time``: an RFC 3339 date and time (``2024-05-01T10:00:00Z``).
Time = Annotated[StrictStr, BeforeValidator(_to_time), AfterValidator(_check_time)]


def _check_json(value: Any) -> Any:
    # An opaque JSON value (FieldsV1): JSON has str keys, finite numbers, UTF-8 text, no cycles.
    stack: list[tuple[Any, int]] = [(value, 0)]
    open_: set[int] = set()
    while stack:
        item, depth = stack.pop()
        if depth > 256:
            raise PydanticCustomError("json", "a JSON value nested at most 256 deep")
        if item is None or isinstance(item, (bool, int)):
            continue
        if isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                raise PydanticCustomError("json", "a JSON value (NaN and Infinity are not JSON)")
            continue
        if isinstance(item, str):
            _check_utf8(item)
            continue
        if isinstance(item, (dict, list)):
            if id(item) in open_:
                raise PydanticCustomError("json", "a JSON value (this one contains itself)")
            open_.add(id(item))  # containers seen: a cycle, or one shared (fine, but rare)
            if isinstance(item, dict):
                for k, v in item.items():
                    if not isinstance(k, str):
                        raise PydanticCustomError("json", "a JSON object (string keys only)")
                    _check_utf8(k)
                    stack.append((v, depth + 1))
            else:
                stack.extend((v, depth + 1) for v in item)
            continue
        raise PydanticCustomError("json", "a JSON value (type={type_name})",
                                  {"type_name": type(item).__name__})
    return value


#: A JSON object kept as it is (``FieldsV1``).
JsonObject = Annotated[dict[str, Any], BeforeValidator(_check_json)]


class OwnerReference(K8sModel):
    """An owner of the object (``metav1.OwnerReference``); checked by `ObjectMeta`.

    Example:
        >>> OwnerReference(api_version="apps/v1", kind="ReplicaSet", name="web-7d9f",
        ...                uid="1", controller=True).to_dict()["apiVersion"]
        'apps/v1'
    """

    _ZERO: ClassVar[Mapping[str, Callable[[], Any]]] = {
        "apiVersion": str, "kind": str, "name": str, "uid": str}

    api_version: Utf8Str = ""
    kind: Utf8Str = ""
    name: Utf8Str = ""
    uid: Utf8Str = ""
    controller: StrictBool | None = None
    block_owner_deletion: StrictBool | None = None


class ManagedFieldsEntry(K8sModel):
    """One entry of ``metadata.managedFields`` (server-side apply bookkeeping), kept as it is.

    Example:
        >>> ManagedFieldsEntry(manager="kubectl", operation="Update",
        ...                    fields_v1={"f:spec": {}}).to_dict()["fieldsV1"]
        {'f:spec': {}}
    """

    manager: Utf8Str | None = None
    operation: Utf8Str | None = None
    api_version: Utf8Str | None = None
    time: Time | None = None
    fields_type: Utf8Str | None = None
    fields_v1: JsonObject | None = Field(default=None, alias="fieldsV1")
    subresource: Utf8Str | None = None


class ObjectMeta(K8sModel):
    """``metadata`` as the API decodes it: name, namespace, labels, annotations, and the fields
    the API server sets (uid, resourceVersion, generation, timestamps, owners, finalizers,
    managedFields), which dumps from ``kubectl get -o yaml`` carry.

    Every field is typed as in ``k8s.io/apimachinery/pkg/apis/meta/v1/types.go``; an unknown
    field is an error, as with ``kubectl --validate=strict``.

    Example:
        >>> ObjectMeta(name="allow-api", namespace="payments").to_dict()
        {'name': 'allow-api', 'namespace': 'payments'}
        >>> ObjectMeta.model_validate({"name": "x", "creationTimestamp": "2024-05-01T10:00:00Z",
        ...                            "uid": "0f6c"}).creation_timestamp
        '2024-05-01T10:00:00Z'
    """

    name: Utf8Str | None = None
    generate_name: Utf8Str | None = None
    namespace: Utf8Str | None = None
    self_link: Utf8Str | None = None
    uid: Utf8Str | None = None
    resource_version: Utf8Str | None = None
    generation: StrictInt | None = None
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    deletion_grace_period_seconds: StrictInt | None = None
    labels: dict[StrictStr, StrictStr] | None = None
    annotations: dict[Utf8Str, Utf8Str] | None = None
    owner_references: tuple[OwnerReference, ...] | None = None
    finalizers: tuple[Utf8Str, ...] | None = None
    managed_fields: tuple[ManagedFieldsEntry, ...] | None = None

    _NULL_ITEMS: ClassVar[Mapping[str, Callable[[], Any]]] = {
        "labels": str, "annotations": str, "finalizers": str, "ownerReferences": dict,
        "managedFields": dict}

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        # apimachinery/pkg/api/validation/objectmeta.go ValidateObjectMetaAccessor with
        # ValidateNetworkPolicyName = NameIsDNSSubdomain, namespaces NameIsDNSLabel.
        from netpol_dsl.model.selector import check_labels  # selector imports this module

        out: list[Issue] = []
        generate = None if "generate_name" in broken else self.generate_name
        if generate:
            for msg in _rules.dns1123_subdomain(_rules.mask_trailing_dash(generate)):
                out.append(Issue("generateName", generate, msg))
        if "name" not in broken:
            if self.name:
                if not ctx.lenient_names:
                    for msg in _rules.dns1123_subdomain(self.name):
                        out.append(Issue("name", self.name, msg))
            elif generate:
                # The API server names the object before validating it (names.SimpleNameGenerator:
                # at most 58 characters of generateName, then 5 random alphanumerics).
                generated = generate[:58] + "b2b2b"
                for msg in _rules.dns1123_subdomain(generated):
                    out.append(Issue("name", generated, msg))
            elif "generate_name" not in broken:
                out.append(Issue("name", self.name, "a name (a DNS-1123 subdomain)",
                                 hint="Set metadata.name (or metadata.generateName)",
                                 missing=True))
        if "namespace" not in broken:
            if self.namespace:
                for msg in _rules.dns1123_label(self.namespace):
                    out.append(Issue("namespace", self.namespace, msg))
            elif ctx.require_namespace:
                # Upstream requires it; kubectl and the API server fill it in from the request
                # namespace before validating, which ``load_policy(namespace=...)`` mirrors.
                out.append(Issue("namespace", self.namespace, "a namespace (a DNS-1123 label)",
                                 hint="Set metadata.namespace, or pass namespace= as "
                                      "`kubectl -n` does", missing=True))
        if "labels" not in broken:
            out.extend(check_labels(self.labels, "labels"))
        if "annotations" not in broken:
            out.extend(_check_annotations(self.annotations or {}))
        if "generation" not in broken and self.generation is not None and self.generation < 0:
            out.append(Issue("generation", self.generation, "must be greater than or equal to 0"))
        if "finalizers" not in broken:
            out.extend(_check_finalizers(self.finalizers or ()))
        if "owner_references" not in broken:
            out.extend(_check_owner_references(self.owner_references or ()))
        return out


def _check_annotations(annotations: Mapping[str, str]) -> list[Issue]:
    # apimachinery ValidateAnnotations: keys are qualified names compared in lowercase; the
    # total size of keys and values is at most 256 KiB (Go len(), so UTF-8 bytes).
    out: list[Issue] = []
    total = 0
    for key, value in annotations.items():
        for msg in _rules.qualified_name(key.lower()):
            out.append(Issue("annotations", key, f"an annotation key: {msg}"))
        total += len(key.encode()) + len(value.encode())
    if total > _rules.ANNOTATIONS_TOTAL_MAX:
        out.append(Issue("annotations", f"<{total} bytes>",
                         f"at most {_rules.ANNOTATIONS_TOTAL_MAX} bytes in all"))
    return out


#: apimachinery metav1.FinalizerOrphanDependents and FinalizerDeleteDependents.
_FINALIZER_ORPHAN = "orphan"
_FINALIZER_DELETE = "foregroundDeletion"


def _check_finalizers(finalizers: tuple[str, ...]) -> list[Issue]:
    # validateObjectMetaAccessorWithOptsCommon: qualified names, not both orphan and
    # foregroundDeletion. Paths carry no index, as upstream's do.
    out: list[Issue] = []
    for f in finalizers:
        for msg in _rules.qualified_name(f):
            out.append(Issue("finalizers", f, f"a finalizer name: {msg}"))
    if _FINALIZER_ORPHAN in finalizers and _FINALIZER_DELETE in finalizers:
        out.append(Issue("finalizers", list(finalizers),
                         f"not both {_FINALIZER_ORPHAN!r} and {_FINALIZER_DELETE!r}"))
    return out


def _check_owner_references(refs: tuple[OwnerReference, ...]) -> list[Issue]:
    # ValidateOwnerReferences: apiVersion with a version, kind, name and uid set, no v1 Event,
    # at most one controller. Paths carry no index (upstream passes the list's path).
    out: list[Issue] = []
    controllers = 0
    for ref in refs:
        parts = ref.api_version.split("/")
        version = parts[-1] if 1 <= len(parts) <= 2 else ""
        if not version:
            out.append(Issue("ownerReferences.apiVersion", ref.api_version,
                             "a version, such as 'v1'"))
        for key in ("kind", "name", "uid"):
            if not getattr(ref, key):
                out.append(Issue(f"ownerReferences.{key}", getattr(ref, key),
                                 "a non-empty string"))
        if version == "v1" and len(parts) == 1 and ref.kind == "Event":
            out.append(Issue("ownerReferences", ref.to_dict(), "an owner other than a v1 Event"))
        if ref.controller is True:
            controllers += 1
            if controllers == 2:
                out.append(Issue("ownerReferences", [r.to_dict() for r in refs],
                                 "at most one reference with controller: true"))
    return out
