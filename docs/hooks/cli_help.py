"""MkDocs hook: replace ``<!-- netpol-help: COMMAND -->`` with that command's ``--help`` text.

The CLI reference then always shows the help of the code being documented, generated at build
time by the CLI itself (Typer's test runner, at 80 columns, no colour).
"""

from __future__ import annotations

import re
import shlex
from typing import Any

_MARKER = re.compile(r"^<!-- netpol-help:(?P<cmd>[^>]*)-->$", re.MULTILINE)


def _help(command: str) -> str:
    from typer.testing import CliRunner

    from netpol_dsl.cli import app

    args = [*shlex.split(command), "--help"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"},
                                prog_name="netpol")
    if result.exit_code != 0:
        msg = f"netpol {command} --help exited {result.exit_code}: {result.output}"
        raise RuntimeError(msg)
    return result.output.rstrip()


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Expand every help marker on a page into a ``text`` code block."""

    def expand(m: re.Match[str]) -> str:
        cmd = m["cmd"].strip()
        title = f"netpol {cmd} --help".replace("  ", " ")
        return f'```text title="{title}"\n{_help(cmd)}\n```'

    return _MARKER.sub(expand, markdown)
