"""LabelSelector and LabelSelectorRequirement, with Kubernetes' matching rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from pydantic import StrictStr

from netpol_dsl import _rules
from netpol_dsl.errors import Issue
from netpol_dsl.model._base import Context, K8sModel

__all__ = ["LabelSelector", "LabelSelectorRequirement", "check_labels"]

Str = StrictStr


def check_labels(labels: Mapping[str, str] | None, path: str) -> list[Issue]:
    """Problems in a label map (apimachinery ``ValidateLabels``); paths end at the map.

    Example:
        >>> [str(i) for i in check_labels({"app": "x" * 64}, "metadata.labels")][0][:40]
        "metadata.labels: got 'xxxxxxxxxxxxxxxxxx"
    """
    out: list[Issue] = []
    for key, value in (labels or {}).items():
        for msg in _rules.qualified_name(key):
            out.append(Issue(path, key, f"a label key: {msg}"))
        for msg in _rules.label_value(value):
            out.append(Issue(path, value, f"a label value: {msg}", hint=f"(key {key!r})"))
    return out


class LabelSelectorRequirement(K8sModel):
    """One ``matchExpressions`` entry: ``key``, ``operator`` and ``values``.

    Example:
        >>> r = LabelSelectorRequirement(key="tier", operator="NotIn", values=["db"])
        >>> r.matches({"tier": "web"}), r.matches({}), r.matches({"tier": "db"})
        (True, True, False)
    """

    key: Str
    operator: Str
    values: tuple[Str, ...] | None = None

    _ZERO: ClassVar[Mapping[str, Callable[[], Any]]] = {"key": str, "operator": str}
    _NULL_ITEMS: ClassVar[Mapping[str, Callable[[], Any]]] = {"values": str}

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        # apimachinery/pkg/apis/meta/v1/validation ValidateLabelSelectorRequirement, with
        # AllowInvalidLabelValueInSelector false as on create (values are label values).
        out: list[Issue] = []
        values_known = "values" not in broken
        if "operator" not in broken:
            if self.operator in ("In", "NotIn"):
                if values_known and not self.values:
                    out.append(
                        Issue("values", self.values, "at least one value when `operator` is "
                              "'In' or 'NotIn'", missing=True)
                    )
            elif self.operator in ("Exists", "DoesNotExist"):
                if values_known and self.values:
                    out.append(
                        Issue("values", list(self.values), "no values when `operator` is "
                              "'Exists' or 'DoesNotExist'")
                    )
            else:
                out.append(Issue("operator", self.operator,
                                 "one of 'In', 'NotIn', 'Exists', 'DoesNotExist'"))
        if "key" not in broken:
            for msg in _rules.qualified_name(self.key):
                out.append(Issue("key", self.key, f"a label key: {msg}"))
        if values_known:
            for i, value in enumerate(self.values or ()):
                for msg in _rules.label_value(value):
                    out.append(Issue(f"values[{i}]", value, f"a label value: {msg}"))
        return out

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a label set satisfies this requirement.

        ``NotIn`` and ``DoesNotExist`` match a missing key (apimachinery labels.Selector).

        Example:
            >>> LabelSelectorRequirement(key="a", operator="Exists").matches({"a": ""})
            True
        """
        op = self.operator
        if op == "In":
            return self.key in labels and labels[self.key] in (self.values or ())
        if op == "NotIn":
            return self.key not in labels or labels[self.key] not in (self.values or ())
        if op == "Exists":
            return self.key in labels
        return self.key not in labels  # DoesNotExist


class LabelSelector(K8sModel):
    """A Kubernetes label selector; the requirements are ANDed, and ``{}`` selects everything.

    Example:
        >>> s = LabelSelector(match_labels={"app": "api"})
        >>> s.matches({"app": "api", "tier": "x"}), s.matches({"app": "web"})
        (True, False)
        >>> LabelSelector().matches({"any": "thing"})
        True
        >>> s.to_dict()
        {'matchLabels': {'app': 'api'}}
    """

    match_labels: dict[Str, Str] | None = None
    match_expressions: tuple[LabelSelectorRequirement, ...] | None = None

    def __hash__(self) -> int:
        return hash((tuple(sorted((self.match_labels or {}).items())), self.match_expressions))

    _NULL_ITEMS: ClassVar[Mapping[str, Callable[[], Any]]] = {
        "matchLabels": str, "matchExpressions": dict}

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        # apimachinery ValidateLabelSelector; matchExpressions check themselves.
        if "match_labels" in broken:
            return []
        return check_labels(self.match_labels, "matchLabels")

    @property
    def is_empty(self) -> bool:
        """True when the selector has no requirement, so it selects everything.

        Example:
            >>> LabelSelector(match_labels={}).is_empty
            True
        """
        return not self.match_labels and not self.match_expressions

    def requirements(self) -> tuple[LabelSelectorRequirement, ...]:
        """All requirements, ``matchLabels`` entries as ``In`` with one value, sorted.

        Example:
            >>> [r.operator for r in LabelSelector(match_labels={"a": "1"}).requirements()]
            ['In']
        """
        reqs = [
            LabelSelectorRequirement(key=k, operator="In", values=(v,))
            for k, v in sorted((self.match_labels or {}).items())
        ]
        reqs.extend(self.match_expressions or ())
        return tuple(reqs)

    def keys(self) -> frozenset[str]:
        """The label keys this selector looks at.

        Example:
            >>> sorted(LabelSelector(match_labels={"a": "1"}).keys())
            ['a']
        """
        keys = set((self.match_labels or {}).keys())
        keys.update(r.key for r in self.match_expressions or ())
        return frozenset(keys)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy every requirement (``matchLabels`` AND ``matchExpressions``).

        Example:
            >>> LabelSelector(match_expressions=[
            ...     LabelSelectorRequirement(key="env", operator="In", values=["a", "b"])
            ... ]).matches({"env": "b"})
            True
        """
        for k, v in (self.match_labels or {}).items():
            if labels.get(k) != v:
                return False
        return all(r.matches(labels) for r in self.match_expressions or ())
