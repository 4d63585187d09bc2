"""Run every code block in README.md and docs/**/*.md, so the docs stay true to the code.

One test per page. The blocks of a page run in order, in one fresh working directory that holds a
copy of ``examples/`` and ``pyproject.toml`` (so a page can say ``netpol render examples/payments.py`` exactly as a reader
in a checkout would), and Python blocks share one namespace, as they would in one REPL session.

Conventions a page follows:

- ```` ```python ```` blocks are always executed; nothing can switch that off. When the next block
  is titled ``Output`` (```` ```text title="Output" ````, any language), what the Python block
  printed must equal it (doctest ``...`` ellipsis allowed).
- A block titled with a file name (```` ```python title="policies.py" ````,
  ```` ```yaml title="inventory.yaml" ````) is also written to that file, so later commands can use
  it. A titled Python file is executed as its own module (``__name__`` is its stem), not in the
  page namespace; its directory is on ``sys.path`` so later blocks can import it.
- ```` ```pycon ```` blocks (``>>>`` prompts) run as doctests in the page namespace.
- ```` ```console ```` blocks hold ``$ command`` lines, each followed by its shown output. Commands
  starting with ``netpol``, ``pytest``, ``python -m netpol_dsl``, ``python -m pytest`` or ``cat`` run for real
  (through bash, in the working directory); their combined stdout and stderr must match what is shown.
  A command must exit 0 unless the next command is ``echo $?``, whose shown output is the expected
  exit status.
- Only a non-Python block may be excluded, with ``<!-- not-run: <reason> -->`` on the line before it
  (for ``pip install``, ``kubectl`` and the like). A console block with any other command, and every
  ```` ```bash ```` block, must say so.
- ```` ```yaml ```` blocks must parse; ```` ```mermaid ```` blocks preceded by
  ``<!-- generated-by: netpol graph ... -->`` must equal what that command prints now, so pictures
  come from the library. ``NETPOL_UPDATE_DOCS=1 pytest tests/test_docs.py`` rewrites them (and, when
  authoring a page, the shown outputs; review the diff).
"""

from __future__ import annotations

import contextlib
import doctest
import io
import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.rglob("*.md"), *(ROOT / "examples").glob("*/README.md")])

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
MARKER = re.compile(r"^\s*<!--\s*(?P<kind>not-run|generated-by):\s*(?P<arg>.*?)\s*-->\s*$")
TITLE = re.compile(r'title="(?P<title>[^"]*)"')
RUNNABLE = ("netpol", "pytest", "python -m netpol_dsl", "python -m pytest", "cat ")
NOT_SKIPPABLE = {"python", "py", "pycon"}
SHELLS = {"bash", "sh", "shell", "zsh"}
CHECKER = doctest.OutputChecker()
#: ``NETPOL_UPDATE_DOCS=1``: rewrite generated pictures, and (for authoring) shown outputs, from
#: what the code prints now. Review the diff before committing.
UPDATE = bool(os.environ.get("NETPOL_UPDATE_DOCS"))
FLAGS = doctest.ELLIPSIS


@dataclass
class Block:
    """One fenced code block of a page."""

    lang: str
    title: str | None
    code: str
    line: int  # 1-based line of the opening fence
    start: int  # 0-based index of the first content line
    end: int  # 0-based index of the closing fence
    indent: str
    marker: tuple[str, str] | None = None
    output: Block | None = field(default=None, repr=False)


def parse_blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown page, with their markers and Output blocks attached.

    Example:
        >>> src = "<!-- not-run: x -->\\n```bash\\npip\\n```\\n"
        >>> [(b.lang, b.code, b.marker) for b in parse_blocks(src)]
        [('bash', 'pip\\n', ('not-run', 'x'))]
    """
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m["indent"], m["fence"], m["info"].strip()
        j = i + 1
        while j < len(lines):
            close = lines[j].strip()
            if close.startswith(fence[0] * len(fence)) and set(close) <= {fence[0]}:
                break
            j += 1
        body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip() for ln in lines[i + 1:j]]
        lang = info.split()[0].lstrip("{.").rstrip("}") if info else ""
        t = TITLE.search(info)
        marker = None
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        if k >= 0 and (mm := MARKER.match(lines[k])):
            marker = (mm["kind"], mm["arg"])
        blocks.append(Block(lang, t["title"] if t else None, "\n".join(body) + "\n" if body else "",
                            i + 1, i + 1, j, indent, marker))
        i = j + 1
    for prev, nxt in itertools.pairwise(blocks):
        if nxt.title and nxt.title.lower().startswith("output"):
            prev.output = nxt
    return blocks


def _same(expected: str, got: str) -> bool:
    def norm(s: str) -> str:
        return "\n".join(ln.rstrip() for ln in s.strip("\n").splitlines()) + "\n"

    return CHECKER.check_output(norm(expected), norm(got), FLAGS)


@dataclass
class Command:
    cmd: str
    shown: str
    line: int
    src: str = ""  # the command's lines as written, continuation lines included


def parse_console(block: Block) -> list[Command]:
    """``$ command`` lines (``\\`` continues a line) and the output shown under each.

    Example:
        >>> b = Block("console", None, "$ netpol a \\\\\\n  b\\nout\\n$ echo $?\\n0\\n", 1, 1, 5, "")
        >>> [(c.cmd, c.shown) for c in parse_console(b)]
        [('netpol a b', 'out\\n'), ('echo $?', '0\\n')]
    """
    cmds: list[Command] = []
    lines = block.code.splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("$ "):
            cmd = ln[2:]
            start = i
            while cmd.endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd[:-1].rstrip() + " " + lines[i].strip()
            src = "\n".join(lines[start:i + 1]) + "\n"
            cmds.append(Command(cmd.strip(), "", block.line + 1 + start, src))
        elif cmds:
            cmds[-1].shown += ln + "\n"
        i += 1
    return cmds


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update(NO_COLOR="1", TERM="dumb", COLUMNS="80", PYTHONHASHSEED="0")
    # The copied pyproject.toml runs this suite on two xdist workers; a reader's pytest run of
    # one small file runs in one process and prints no worker start-up lines.
    env["PYTEST_ADDOPTS"] = "-n 0"
    env.pop("FORCE_COLOR", None)
    return env


_SHELL_SYNTAX = re.compile(r"[|&;<>()$`*?]")


def run_command(cmd: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one documented command as a reader would, with ``python`` being this interpreter.

    ``netpol`` (and ``python -m netpol_dsl``) commands without shell syntax run in-process
    through Typer's ``CliRunner``, the CLI's own test runner, which saves an interpreter start per
    command; its output interleaves stdout and stderr as a terminal shows them. Everything else
    runs through bash.
    """
    words = shlex.split(cmd) if not _SHELL_SYNTAX.search(cmd) else []
    if words[:1] == ["netpol"] or words[:3] == ["python", "-m", "netpol_dsl"]:
        return _run_cli(words[1:] if words[0] == "netpol" else words[3:], cwd)
    if words[:1] == ["cat"] and len(words) == 2:
        return subprocess.CompletedProcess(words, 0, (cwd / words[1]).read_text(), "")
    if words[:1] == ["pytest"] or words[:3] == ["python", "-m", "pytest"]:
        return _run_pytest(words[1:] if words[0] == "pytest" else words[3:], cwd)
    if cmd.startswith("python "):
        cmd = shlex.quote(sys.executable) + cmd[len("python"):]
    if cmd.startswith("pytest"):
        cmd = shlex.quote(sys.executable) + " -m pytest -p no:cacheprovider" + cmd[len("pytest"):]
    return subprocess.run(["bash", "-c", cmd], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=300, check=False)


def _run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    from typer.testing import CliRunner

    from netpol_dsl.cli import app

    env = {"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "80"}
    with contextlib.chdir(cwd) if hasattr(contextlib, "chdir") else _chdir(cwd):
        result = CliRunner().invoke(app, args, env=env, prog_name="netpol")
    out = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        out += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["netpol", *args], result.exit_code, out, "")


def _run_pytest(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A reader's ``pytest ARGS`` in ``cwd``, run in this process (as pytester's in-process runs
    do): a fresh interpreter per command would cost more than the documented tests themselves.

    The run sees the working directory's pyproject.toml, as the reader's would, in one process
    (``-n 0``) and without the cache plugin; what it imported from the working directory is
    forgotten afterwards, so the next command imports its own files afresh.
    """
    saved_path, saved_modules = list(sys.path), set(sys.modules)
    saved_env = os.environ.get("PYTEST_ADDOPTS")
    os.environ["PYTEST_ADDOPTS"] = "-n 0"
    out = io.StringIO()
    try:
        with _chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = pytest.main(["-p", "no:cacheprovider", *args], plugins=[_NoGcPasses()])
    finally:
        sys.path[:] = saved_path
        if saved_env is None:
            os.environ.pop("PYTEST_ADDOPTS", None)
        else:
            os.environ["PYTEST_ADDOPTS"] = saved_env
        for name in set(sys.modules) - saved_modules:
            mod = sys.modules.get(name)
            if str(getattr(mod, "__file__", "") or "").startswith(str(cwd)):
                del sys.modules[name]
    return subprocess.CompletedProcess(["pytest", *args], int(code), out.getvalue(), "")


class _NoGcPasses:
    """What pytester does for its in-process runs: no garbage-collector passes at session end.

    pytest's unraisable-exception plugin runs ``gc.collect()`` five times when a session ends
    (to surface exceptions raised in ``__del__``); in this process, which holds the whole
    library and the suite, that is ~0.6 s per documented ``pytest`` command.
    """

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        try:
            from _pytest.unraisableexception import gc_collect_iterations_key
        except ImportError:  # pytest < 8.4 has no such passes
            return
        config.stash[gc_collect_iterations_key] = 0


@contextlib.contextmanager
def _chdir(path: Path):  # contextlib.chdir is Python 3.11+
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


class PageRun:
    """Runs the blocks of one page, in order, in one working directory."""

    def __init__(self, page: Path, work: Path) -> None:
        self.page = page
        self.work = work
        self.ns: dict[str, object] = {"__name__": "__docs__"}
        self.failures: list[str] = []
        self.rewrites: list[tuple[Block, str]] = []

    def where(self, block: Block, line: int | None = None) -> str:
        return f"{self.page.relative_to(ROOT)}:{line or block.line}"

    def fail(self, block: Block, msg: str, line: int | None = None) -> None:
        self.failures.append(f"{self.where(block, line)}: {msg}")

    def run(self, blocks: list[Block]) -> None:
        outputs = {id(b.output) for b in blocks if b.output is not None}
        for block in blocks:
            if block.marker and block.marker[0] == "not-run":
                if block.lang in NOT_SKIPPABLE:
                    self.fail(block, "a Python block cannot be marked not-run; make it runnable")
                elif not block.marker[1]:
                    self.fail(block, "<!-- not-run: --> needs a reason")
                continue
            if block.marker and block.marker[0] == "generated-by":
                self.generated(block, block.marker[1])
                continue
            if id(block) in outputs:
                continue
            if block.title and "/" not in block.title and block.title.lower().startswith("output"):
                self.fail(block, "an Output block must follow the block whose output it shows")
                continue
            self.write_file(block)
            if block.lang in SHELLS:
                self.fail(block, f"a ```{block.lang} block is not run; write it as ```console "
                          "with `$ ` prompts, or mark it <!-- not-run: reason -->")
                continue
            handler = getattr(self, "run_" + block.lang.replace("-", "_"), None)
            if handler is not None:
                handler(block)

    def write_file(self, block: Block) -> None:
        if block.title and ("." in block.title) and " " not in block.title:
            target = self.work / block.title
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code)

    def run_python(self, block: Block) -> None:
        if block.title and block.title.endswith(".py"):
            path = self.work / block.title
            ns: dict[str, object] = {"__name__": path.stem, "__file__": str(path)}
        else:
            ns = self.ns
        out = io.StringIO()
        try:
            code = compile(block.code, self.where(block), "exec")
            with contextlib.redirect_stdout(out):
                exec(code, ns)
        except Exception as err:
            self.fail(block, f"raised {type(err).__name__}: {err}")
            return
        if block.output is not None and not _same(block.output.code, out.getvalue()):
            if UPDATE:
                self.rewrites.append((block.output, out.getvalue()))
                return
            self.fail(block, "printed output differs from the Output block below it:\n"
                      f"--- shown\n{block.output.code}--- got\n{out.getvalue()}")

    run_py = run_python

    def run_pycon(self, block: Block) -> None:
        parser = doctest.DocTestParser()
        test = parser.get_doctest(block.code, self.ns, str(self.page), str(self.page), block.line)
        report = io.StringIO()
        runner = doctest.DocTestRunner(optionflags=FLAGS)
        runner.run(test, out=report.write, clear_globs=False)
        if runner.failures:
            self.fail(block, "doctest failed:\n" + report.getvalue())

    def run_yaml(self, block: Block) -> None:
        try:
            list(yaml.safe_load_all(block.code))
        except yaml.YAMLError as err:
            self.fail(block, f"YAML does not parse: {err}")

    def run_console(self, block: Block) -> None:
        cmds = parse_console(block)
        if not cmds:
            self.fail(block, "a console block needs `$ command` lines")
        last: subprocess.CompletedProcess[str] | None = None
        updated: list[str] = []
        for n, c in enumerate(cmds):
            updated.append(c.src + c.shown)
            if c.cmd == "echo $?":
                if last is not None and UPDATE:
                    updated[-1] = c.src + f"{last.returncode}\n"
                if last is None:
                    self.fail(block, "`echo $?` needs a command before it", c.line)
                elif c.shown.strip() != str(last.returncode) and not UPDATE:
                    self.fail(block, f"exit status: shown {c.shown.strip()!r}, got "
                              f"{last.returncode}\n{last.stdout}{last.stderr}", c.line)
                continue
            if not c.cmd.startswith(RUNNABLE):
                self.fail(block, f"`{c.cmd}` is not run by the docs tests; mark the block "
                          "with <!-- not-run: reason -->", c.line)
                continue
            last = run_command(c.cmd, self.work)
            got = last.stdout + last.stderr
            if UPDATE and not _same(c.shown, got):
                updated[-1] = c.src + got.rstrip("\n") + ("\n" if got.strip() else "")
                continue
            checked = n + 1 < len(cmds) and cmds[n + 1].cmd == "echo $?"
            if last.returncode != 0 and not checked:
                self.fail(block, f"`{c.cmd}` exited {last.returncode} (show `$ echo $?` if that "
                          f"is intended):\n{got}", c.line)
            elif c.shown.strip() and not _same(c.shown, got):
                self.fail(block, f"`{c.cmd}` output differs:\n--- shown\n{c.shown}--- got\n{got}",
                          c.line)
        if UPDATE and "".join(updated) != block.code:
            self.rewrites.append((block, "".join(updated)))

    def generated(self, block: Block, cmd: str) -> None:
        if not cmd.startswith(RUNNABLE):
            self.fail(block, f"generated-by must name a netpol command, got {cmd!r}")
            return
        result = run_command(cmd, self.work)
        if result.returncode != 0:
            self.fail(block, f"`{cmd}` exited {result.returncode}:\n{result.stderr}")
        elif result.stdout.strip() != block.code.strip():
            if UPDATE:
                self.rewrites.append((block, result.stdout))
            else:
                self.fail(block, f"out of date: `{cmd}` now prints something else; rerun with "
                          f"NETPOL_UPDATE_DOCS=1 to regenerate:\n{result.stdout}")


def _rewrite(page: Path, rewrites: list[tuple[Block, str]]) -> None:
    lines = page.read_text().splitlines(keepends=True)
    for block, new in sorted(rewrites, key=lambda r: -r[0].start):
        body = textwrap.indent(new.rstrip("\n") + "\n", block.indent)
        lines[block.start:block.end] = [body]
    page.write_text("".join(lines))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    work = tmp_path / "work"
    shutil.copytree(ROOT / "examples", work / "examples",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"))
    # pytest run from the working directory behaves as in a checkout (import mode, doctests).
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
    before = set(sys.modules)
    monkeypatch.chdir(work)
    monkeypatch.syspath_prepend(str(work))
    yield work
    for name in set(sys.modules) - before:
        mod = sys.modules.get(name)
        if isinstance(mod, types.ModuleType) and str(getattr(mod, "__file__", "")).startswith(
            str(tmp_path)
        ):
            del sys.modules[name]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page(page, workdir):
    blocks = parse_blocks(page.read_text())
    runner = PageRun(page, workdir)
    runner.run(blocks)
    if runner.rewrites:
        _rewrite(page, runner.rewrites)
    assert not runner.failures, "\n\n".join(runner.failures)


def test_docs_have_pages():
    assert len(PAGES) > 1


def test_python_blocks_cannot_be_skipped(tmp_path):
    page = tmp_path / "p.md"
    runner = PageRun.__new__(PageRun)
    runner.page, runner.work, runner.ns, runner.failures, runner.rewrites = (
        ROOT / "docs" / "x.md", tmp_path, {}, [], [])
    page.write_text("<!-- not-run: no -->\n```python\nraise SystemExit\n```\n")
    runner.run(parse_blocks(page.read_text()))
    assert runner.failures and "cannot be marked not-run" in runner.failures[0]


def test_output_blocks_are_checked(tmp_path):
    runner = PageRun(ROOT / "docs" / "x.md", tmp_path)
    runner.run(parse_blocks('```python\nprint("a")\n```\n\n```text title="Output"\nb\n```\n'))
    assert runner.failures and "differs" in runner.failures[0]
    runner = PageRun(ROOT / "docs" / "x.md", tmp_path)
    runner.run(parse_blocks('```python\nprint("a")\n```\n\n```text title="Output"\na\n```\n'))
    assert runner.failures == []


def test_unmarked_shell_commands_fail(tmp_path):
    runner = PageRun(ROOT / "docs" / "x.md", tmp_path)
    runner.run(parse_blocks("```console\n$ kubectl apply -f x.yaml\n```\n"))
    assert runner.failures and "not run by the docs tests" in runner.failures[0]


def test_every_lint_rule_has_a_page():
    from netpol_dsl.lint import RULES

    index = (DOCS / "lint" / "index.md").read_text()
    for rule in RULES.values():
        page = ROOT / rule.doc
        assert page.is_file(), f"{rule.id} has no page {rule.doc}"
        text = page.read_text()
        assert text.startswith(f"# {rule.id}: {rule.name}\n"), rule.id
        assert f"**Severity:** {rule.severity}" in text, rule.id
        assert f"--select {rule.id}" in text, f"{rule.doc} does not show the rule firing"
        assert f"[{rule.id}]({rule.id}.md)" in index, f"lint/index.md does not list {rule.id}"
    pages = {p.stem for p in (DOCS / "lint").glob("NP*.md")}
    assert pages == set(RULES), f"pages for unknown rules: {sorted(pages - set(RULES))}"
