"""The shared base of every model: frozen, exact Kubernetes shapes, validated on construction."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator
from pydantic._internal._model_construction import ModelMetaclass
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError
from typing_extensions import Self

from netpol_dsl.errors import InvalidPolicyError, Issue

#: The pydantic error type that carries netpol-dsl issues through nested validation.
ISSUES_ERROR = "netpol_issues"

#: Keys whose pydantic loc continues into a map key; Kubernetes reports the map itself.
_MAP_FIELDS = frozenset({"matchLabels", "labels", "annotations"})


class Context:
    """Options that loading passes down through pydantic's validation context."""

    __slots__ = ("lenient_cidr", "warnings")

    def __init__(self, *, lenient_cidr: bool = False) -> None:
        self.lenient_cidr = lenient_cidr
        self.warnings: list[Issue] = []


def context_of(info: ValidationInfo) -> Context:
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

    #: Set by subclasses whose own rules need the whole object; see ``_check``.
    _has_rules: ClassVar[bool] = True

    def _check(self, ctx: Context) -> list[Issue]:
        """Return this object's own problems, with paths relative to it."""
        return []

    @model_validator(mode="after")
    def _run_checks(self, info: ValidationInfo) -> Self:
        issues = self._check(context_of(info))
        if issues:
            raise PydanticCustomError(
                ISSUES_ERROR, "{summary}", {"summary": "; ".join(map(str, issues)), "issues": issues}
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """The API shape: camelCase names, no nulls.

        Example:
            >>> from netpol_dsl.model import IPBlock
            >>> IPBlock(cidr="10.0.0.0/8", except_=["10.1.0.0/16"]).to_dict()
            {'cidr': '10.0.0.0/8', 'except': ['10.1.0.0/16']}
        """
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return data


def loc_to_path(loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic ``loc`` into a Kubernetes field path.

    Example:
        >>> loc_to_path(("spec", "ingress", 0, "from", 1, "ipBlock"))
        'spec.ingress[0].from[1].ipBlock'
        >>> loc_to_path(("metadata", "labels", "app"))
        'metadata.labels'
    """
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        out += f".{part}" if out else part
        if part in _MAP_FIELDS and i + 1 < len(loc):
            break
    return out


_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
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
    """Every problem in a pydantic ``ValidationError``, as Kubernetes-style issues."""
    out: list[Issue] = []
    seen: set[tuple[str, str]] = set()
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        path = loc_to_path(loc)
        if e["type"] == ISSUES_ERROR:
            for issue in e["ctx"]["issues"]:
                out.append(issue.with_prefix(path))
            continue
        etype = e["type"]
        if etype == "extra_forbidden":
            field = str(loc[-1])
            item = Issue(path, e["input"], "a known field", hint=f"Unknown field {field!r}")
        elif etype == "missing":
            item = Issue(path, None, "a value (the field is required)", missing=True)
        else:
            expected = _TYPE_WORDS.get(etype) or e["msg"][:1].lower() + e["msg"][1:]
            value = e.get("input")
            item = Issue(path, value, expected, hint=_type_hint(value, expected))
        key = (item.path, item.expected)
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
    """Convert a pydantic error into ``InvalidPolicyError`` with field paths."""
    return InvalidPolicyError(issues=issues_from_validation_error(err), source=source)
