"""The shared base of every model: frozen, exact Kubernetes shapes, validated on construction.

Validation runs in one pydantic pass. Each model's own rules (``_check``) run inside a *wrap*
validator, so that when a field fails (a type error, or a nested object's own rules), the model
still checks what it can from its other fields: kube-apiserver reports every problem, and so
must we. The issues travel up through pydantic as one custom error type (``ISSUES_ERROR``) and
come out as ``InvalidPolicyError`` with Kubernetes field paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic._internal._model_construction import ModelMetaclass
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError
from typing_extensions import Self

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
        out: dict[Any, Any] | None = None
        for wire, zero in cls._ZERO.items():
            name = _field_name(cls, wire)
            if data.get(wire) is None and data.get(name) is None:
                out = dict(data) if out is None else out
                out[name if name in data else wire] = zero()
        for wire, item_zero in cls._NULL_ITEMS.items():
            key = wire if wire in data else _field_name(cls, wire)
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
