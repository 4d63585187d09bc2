"""Griffe extension: read a Google-style ``Example:`` section as ``Examples:``.

The code base writes ``Example:`` (singular) above its doctests. Griffe only treats the plural as
an examples section and renders the singular as an admonition of Markdown text, in which doctest
output such as ``['a/deny']`` reads as a reference link. This keeps the docstrings as they are and
renders their doctests as code.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_SINGULAR = re.compile(r"(?m)^(\s*)Example:\s*$")


class ExampleSections(griffe.Extension):
    """Rename ``Example:`` to ``Examples:`` in every docstring before it is parsed."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the section title of one loaded object's docstring."""
        if obj.docstring is not None:
            obj.docstring.value = _SINGULAR.sub(r"\1Examples:", obj.docstring.value)
