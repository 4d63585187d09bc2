"""The ``netpol`` command line: a thin Typer layer over the library.

Each command parses its options, calls the library, formats the result and picks the exit code:
0 ok, 1 findings / denied / changed, 2 usage or input error. Bad input never prints a traceback:
errors are caught here, at the boundary, and printed as one ``error: ...`` line (set
``NETPOL_DEBUG=1`` to see the traceback of an unexpected failure).
"""

import functools
import json
import os
import re
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from netpol_dsl.errors import LoadError, NetpolError

__all__ = ["app", "main"]

F = TypeVar("F", bound=Callable[..., Any])

_EPILOG_STYLE: dict[str, Any] = {"no_args_is_help": False}

app = typer.Typer(
    name="netpol",
    help=(
        "Author, validate, lint, explain and test Kubernetes NetworkPolicies.\n\n"
        "Exit codes: 0 ok; 1 findings, denied or changed; 2 usage or input error."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
export_app = typer.Typer(
    help="Export intent as tests for other tools.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(export_app, name="export")


class DataFormat(str, Enum):
    """``--format`` of commands that print a result: text for people, json for programs."""

    text = "text"
    json = "json"


class RenderFormat(str, Enum):
    """``netpol render --format``."""

    yaml = "yaml"
    json = "json"


class MatrixFormat(str, Enum):
    """``netpol matrix --format``."""

    table = "table"
    list = "list"
    connlist = "connlist"
    json = "json"
    csv = "csv"
    md = "md"


class Level(str, Enum):
    """``netpol matrix --level``."""

    workload = "workload"
    pod = "pod"


class LintFormat(str, Enum):
    """``netpol lint --format``."""

    text = "text"
    json = "json"
    sarif = "sarif"


class DiffFormat(str, Enum):
    """``netpol diff --format``."""

    text = "text"
    json = "json"
    md = "md"


class GraphFormat(str, Enum):
    """``netpol graph --format``."""

    mermaid = "mermaid"
    dot = "dot"
    svg = "svg"
    html = "html"
    json = "json"


class ReplayFormat(str, Enum):
    """``netpol replay --format``."""

    text = "text"
    json = "json"
    md = "md"


class SuggestFormat(str, Enum):
    """``netpol suggest --format``: DSL code or the YAML it renders to."""

    python = "python"
    yaml = "yaml"


class FlowFileFormat(str, Enum):
    """``--flow-format``: how to read the flow files."""

    auto = "auto"
    hubble = "hubble"
    csv = "csv"


class GranularityOpt(str, Enum):
    """``netpol suggest --granularity``."""

    workload = "workload"
    namespace = "namespace"


class Severity(str, Enum):
    """``netpol lint --fail-on``."""

    error = "error"
    warning = "warning"
    info = "info"


# ------------------------------------------------------------------------------ plumbing


#: Tests set this to True to render as on a terminal (colour, styles); None: ask the stream.
_FORCE_TERMINAL: bool | None = None


def _console(file: Any) -> Console:
    # Created per call so that test runners that swap sys.stdout are honoured; rich enables
    # colour only when the stream is a terminal (and NO_COLOR is unset). emoji=False: rich
    # would turn ":x:" in user text (a path such as /srv:x:y) into an emoji. User text is only
    # ever printed as rich Text or escaped markup (_esc), never parsed as markup.
    return Console(file=file, highlight=False, soft_wrap=True, emoji=False,
                   force_terminal=_FORCE_TERMINAL)


def _out() -> Console:
    return _console(sys.stdout)


def _err() -> Console:
    return _console(sys.stderr)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _plain(text: str) -> str:
    r"""User text made safe for a terminal: control characters (ESC sequences that would move
    the cursor or recolour the screen) shown as escapes, e.g. ``\x1b``."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def _fail(message: str, code: int = 2) -> NoReturn:
    console = _err()
    # plain Text: "[bold]" or ":x:" in a name prints as written
    text = Text.assemble(("error:", "bold red" if console.is_terminal else ""), " ",
                         _plain(message))
    console.print(text)
    raise typer.Exit(code)


def _note(message: str) -> None:
    _err().print(Text(_plain(message)))


def _guard(func: F) -> F:
    """Turn every expected failure into one ``error:`` line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except NetpolError as err:
            _fail(str(err))
        except KeyError as err:  # the evaluator's "no such pod" lookups
            if os.environ.get("NETPOL_DEBUG"):
                raise
            _fail(str(err.args[0]) if err.args and str(err.args[0]) else
                  f"unexpected KeyError: {err!r} (set NETPOL_DEBUG=1 for the traceback)")
        except UnicodeDecodeError as err:
            _fail(f"got bytes that are not UTF-8 ({err.reason} at byte {err.start}); "
                  "expected UTF-8 text")
        except OSError as err:
            where = f"{err.filename}: " if err.filename else ""
            _fail(f"{where}{err.strerror or err}")
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as err:
            if os.environ.get("NETPOL_DEBUG"):
                raise
            _fail(f"unexpected {type(err).__name__}: {err} (set NETPOL_DEBUG=1 for the traceback)")

    return wrapper  # type: ignore[return-value]


#: Seconds of work before the progress display appears.
_PROGRESS_DELAY = 1.0


@contextmanager
def _progress(description: str) -> Iterator[None]:
    """Show a spinner with elapsed time on stderr when the work takes over a second (TTY only)."""
    if not sys.stderr.isatty():
        yield
        return
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                        console=_err(), transient=True)
    progress.add_task(description, total=None)
    timer = threading.Timer(_PROGRESS_DELAY, progress.start)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        progress.stop()


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from netpol_dsl._files import write_output

    # Atomic replacement; a symlink at the path is refused, a pipe or device written directly.
    write_output(output, text.encode("utf-8"))
    _note(f"wrote {output}")


#: Appended to every "nothing found" error.
_EMPTY_HINT = "pass --allow-empty if that is expected"


def _where(specs: Any) -> str:
    items = [str(s) for s in specs]
    return ", ".join(items) if items else "no input"


def _skipped_text(skipped: Any) -> str:
    if not skipped:
        return ""
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(skipped.items()))
    return f" (skipped: {kinds})"


def _require_policies(found: Any, specs: Any, allow_empty: bool, skipped: Any = None) -> None:
    """Exit 2 when ``found`` holds no policy (counted by ``sources.count_policies``)."""
    from netpol_dsl.sources import count_policies

    if not allow_empty and count_policies(found) == 0:
        _fail(f"no NetworkPolicy found in {_where(specs)}{_skipped_text(skipped)}; {_EMPTY_HINT}")


def _parse_port(text: str) -> tuple[int | str, str]:
    spec = _port_spec(text)
    if spec.is_range:
        msg = f"port: got {text!r}; expected one port (a number or a name), not a range"
        raise LoadError(msg)
    return spec.value, spec.protocol


def _port_spec(text: str) -> Any:
    from netpol_dsl._portspec import parse_port_spec

    return parse_port_spec(text, where="port", error=LoadError)


def _cluster(manifests: list[str], *, allow_empty: bool = False, policies: bool = True) -> Any:
    """Load the inventory; exit 2 when it has no pods (or no policies, if they are needed)."""
    from netpol_dsl.evaluate import Cluster
    from netpol_dsl.sources import inventory_sources

    with _progress("loading the inventory"):
        cluster = Cluster.from_manifests(inventory_sources(manifests))
    if allow_empty:
        return cluster
    if not cluster.pods:
        _fail(f"no pods or workloads found in {_where(manifests)}{_skipped_text(cluster.skipped)}"
              f"; {_EMPTY_HINT}")
    if policies:
        _require_policies(cluster, manifests, allow_empty, cluster.skipped)
    return cluster


_PY_WARNING = "Python sources (FILE.py, py:module:attr) are executed: use only code you trust."

ManifestsOpt = Annotated[
    list[str],
    typer.Option("--manifests", "-m", metavar="PATH", help="Manifests (files or directories): Namespaces, "
                 "Pods/workloads and NetworkPolicies; or a Python policy definition (FILE.py, "
                 "py:module:attr). " + _PY_WARNING + " Repeatable."),
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write to this file instead of stdout "
                              "(replaced atomically; a symlink there is refused)."),
]
AllowEmptyOpt = Annotated[
    bool, typer.Option("--allow-empty", help="Exit 0 even when the input holds no NetworkPolicy "
                       "(or no pods); without it that is an error (exit 2), so a CI gate pointed "
                       "at the wrong path fails."),
]


# ------------------------------------------------------------------------------ commands


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"netpol {version('netpol-dsl')}")
        except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
            typer.echo("netpol (unknown version)")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Author, validate, lint, explain and test Kubernetes NetworkPolicies."""


@app.command()
@_guard
def render(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="A policy definition: YAML/JSON files or a "
                                          "directory, REV:path at a git revision, or Python (FILE.py, "
                                          "py:module:attr). " + _PY_WARNING)],
    output_dir: Annotated[Path | None, typer.Option(
        "--output-dir", "-o", metavar="DIR", help="Write one file per policy into this directory "
        "(<namespace>.<name>.yaml or .json; each replaced atomically; symlinks refused).")] = None,
    fmt: Annotated[RenderFormat, typer.Option("--format", "-f", help="Output format.")]
    = RenderFormat.yaml,
    prune: Annotated[bool, typer.Option(
        "--prune", help="With -o: remove files an earlier run wrote into DIR that are no longer "
        "produced (only files listed in DIR/.netpol-dsl-files and unchanged since).")] = False,
    allow_empty: AllowEmptyOpt = False,
) -> None:
    """Print the policies a definition holds as YAML (or JSON), or write one file each.

    NetworkPolicies first, then cluster-wide policies (AdminNetworkPolicy,
    BaselineAdminNetworkPolicy, ClusterNetworkPolicy; in Python, built with netpol_dsl.admin).

    Examples:

      netpol render examples/payments.py

      netpol render py:examples.payments:policies -o k8s/netpol/ --prune

      netpol render policies/ --format json
    """
    from netpol_dsl.render import to_json, to_yaml, write_policies
    from netpol_dsl.sources import load_objects

    # cluster-wide policies too (admin()/baseline() in a .py file, ANP/BANP/CNP in YAML)
    policies = load_objects(source)
    _require_policies(policies, [source], allow_empty)
    if prune and output_dir is None:
        _fail("--prune: got no --output-dir; expected -o DIR (pruning removes stale files there)")
    if output_dir is None:
        sys.stdout.write(to_yaml(policies) if fmt is RenderFormat.yaml else to_json(policies))
        return
    done = write_policies(policies, output_dir, format=fmt.value, prune=prune)
    n = len(done.files)
    _note(f"wrote {n} polic{'y' if n == 1 else 'ies'} to {output_dir}")
    if done.removed:
        _note(f"removed {len(done.removed)} stale file{'s' if len(done.removed) != 1 else ''}: "
              + ", ".join(p.name for p in done.removed))
    for path, why in done.kept:
        _note(f"kept {path}: {why}")


@app.command()
@_guard
def validate(
    paths: Annotated[list[str], typer.Argument(metavar="PATH", help="Manifest files or directories.")],
    fmt: Annotated[DataFormat, typer.Option("--format", "-f")] = DataFormat.text,
    lenient_cidr: Annotated[bool, typer.Option(
        "--lenient-cidr", help="Accept CIDRs older API servers stored (e.g. 10.0.1.1/4), "
        "with a warning.")] = False,
    allow_empty: AllowEmptyOpt = False,
) -> None:
    """Validate NetworkPolicies as kube-apiserver would; every problem as file:line: path: message.

    Exit code 1 when any policy is invalid.

    Examples:

      netpol validate k8s/

      netpol validate policy.yaml --format json
    """
    from netpol_dsl.load import load_manifests

    # Path objects: a command-line argument is a path, never YAML text ("/srv:x:" included)
    m = load_manifests([Path(p) for p in paths], collect_errors=True, lenient_cidr=lenient_cidr)
    if not m.errors:
        _require_policies(m, paths, allow_empty, m.skipped)
    if fmt is DataFormat.json:
        data = {
            "valid": not m.errors,
            "policies": [p.key for p in m.policies],
            "errors": [_issue_dict(i) for i in m.errors],
            "warnings": [_issue_dict(i) for i in m.warnings],
            "skipped": dict(sorted(m.skipped.items())),
        }
        typer.echo(json.dumps(data, indent=2))
    else:
        for issue in m.errors:
            typer.echo(str(issue))
        for issue in m.warnings:
            typer.echo(f"warning: {issue}")
        n = len(m.policies)
        summary = f"{n} valid polic{'y' if n == 1 else 'ies'}"
        if m.errors:
            summary += f"; {len(m.errors)} problem{'s' if len(m.errors) != 1 else ''}"
        _note(summary)
    if m.errors:
        raise typer.Exit(1)


def _issue_dict(issue: Any) -> dict[str, Any]:
    value = issue.value
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        value = repr(value)
    return {"source": issue.source, "path": issue.path, "value": value,
            "expected": issue.expected, "hint": issue.hint, "message": str(issue)}


@app.command()
@_guard
def check(
    manifests: ManifestsOpt,
    src: Annotated[str, typer.Option("--from", metavar="POD", help="Source: ns/pod, ns/workload or an IP.")],
    dst: Annotated[str, typer.Option("--to", metavar="POD", help="Destination: ns/pod, ns/workload or an IP.")],
    port: Annotated[str, typer.Option("--port", "-p", metavar="PORT[/PROTO]", help="PORT[/PROTO], e.g. 8080, 53/UDP, "
                                                           "http.")],
    fmt: Annotated[DataFormat, typer.Option("--format", "-f")] = DataFormat.text,
    allow_empty: AllowEmptyOpt = False,
) -> None:
    """Is this connection allowed? One verdict with its explanation; exit 0 allowed, 1 denied.

    Examples:

      netpol check -m k8s/ --from payments/frontend --to payments/api-server --port 8080

      netpol check -m k8s/ --from monitoring/rogue-pod --to payments/api-server -p 9090/TCP
    """
    spec = _port_spec(port)
    cluster = _cluster(manifests, allow_empty=allow_empty)
    verdict = cluster.allows(src.strip(), dst.strip(), spec.value if not spec.is_range else port,
                             protocol=spec.protocol)
    if fmt is DataFormat.json:
        typer.echo(json.dumps(verdict.to_dict(), indent=2, default=str))
    else:
        _print_verdict(verdict)
    if verdict.mixed:
        _note("some pod pairs are allowed and some are not: not every pair is allowed (exit 1)")
    raise typer.Exit(0 if verdict.all() else 1)


def _print_verdict(verdict: Any) -> None:
    # Plain Text, styled by line: names in the explanation are never read as markup.
    console = _out()
    head, sep, rest = verdict.explain().partition("\n")
    colour = "green" if verdict.all() else ("yellow" if verdict.mixed else "red")
    text = Text.assemble((head, f"bold {colour}" if console.is_terminal else ""), sep + rest)
    console.print(text)


@app.command()
@_guard
def matrix(
    manifests: ManifestsOpt,
    port: Annotated[str | None, typer.Option("--port", "-p", metavar="PORT[/PROTO]", help="PORT[/PROTO]; without it, "
                                             "each cell lists the allowed ports.")] = None,
    fmt: Annotated[MatrixFormat, typer.Option("--format", "-f", help="table (fits the terminal, "
                                              "else a list), list (allowed pairs), connlist "
                                              "(np-guard's format), csv, md, json.")]
    = MatrixFormat.table,
    level: Annotated[Level, typer.Option("--level", help="Rows and columns: workloads (a "
                                         "Deployment's pods are one) or pods.")]
    = Level.workload,
    output: OutputOpt = None,
    allow_empty: AllowEmptyOpt = False,
) -> None:
    """The reachability matrix: who can reach whom (rows: sources, columns: destinations).

    Rows and columns are sorted by namespace, then name. The diagonal is a workload's pods
    reaching each other (- when it has one pod: a pod always reaches itself).

    Examples:

      netpol matrix -m k8s/

      netpol matrix -m k8s/ --port 8080

      netpol matrix -m k8s/ --format connlist --level pod > connlist.txt
    """
    from netpol_dsl import _grid

    cluster = _cluster(manifests, allow_empty=allow_empty)
    number: int | str | None = None
    protocol = "TCP"
    if port is not None:
        number, protocol = _parse_port(port)
    with _progress("computing the matrix"):
        grid = _grid.reachability(cluster, port=number, protocol=protocol, level=level.value)
    if fmt is MatrixFormat.table:
        width = shutil.get_terminal_size((120, 24)).columns
        text = grid.to_text(width)
        if text is None:
            _note(f"{len(grid.names)} {level.value}s do not fit a {width}-column table; listing "
                  "the allowed pairs (--format csv or md for the whole matrix)")
            text = grid.to_list()
    elif fmt is MatrixFormat.list:
        text = grid.to_list()
    elif fmt is MatrixFormat.connlist:
        text = grid.to_connlist()
    else:
        grid.check_size()
        text = {MatrixFormat.json: grid.to_json, MatrixFormat.csv: grid.to_csv,
                MatrixFormat.md: grid.to_markdown}[fmt]()
    _write(text, output)
    if fmt in (MatrixFormat.table, MatrixFormat.list) and output is None:
        n = len(grid.names)
        _note(f"{grid.allowed_count()} of {n * (n - 1)} pairs allowed")


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@app.command()
@_guard
def explain(
    manifests: ManifestsOpt,
    pod: Annotated[str, typer.Argument(metavar="POD", help="The pod or workload: ns/name.")],
    fmt: Annotated[DataFormat, typer.Option("--format", "-f")] = DataFormat.text,
    allow_empty: AllowEmptyOpt = False,
) -> None:
    """Which policies select a pod, its isolation per direction, who reaches it and whom it reaches.

    Examples:

      netpol explain -m k8s/ payments/api-server
    """
    from netpol_dsl.explain import explain_pod

    cluster = _cluster(manifests, allow_empty=allow_empty)
    with _progress("explaining"):
        report = explain_pod(cluster, pod)
    if fmt is DataFormat.json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(report.to_text())


@app.command()
@_guard
def lint(
    paths: Annotated[list[str], typer.Argument(metavar="PATH", help="Policy files or directories, or Python "
                                                "(FILE.py, py:module:attr). " + _PY_WARNING)],
    manifests: Annotated[list[str] | None, typer.Option(
        "--manifests", "-m", metavar="PATH", help="Inventory (Namespaces, Pods/workloads) for the rules that "
        "need one (NP003, NP004, NP008, NP009, NP010). " + _PY_WARNING + " Repeatable.")] = None,
    fmt: Annotated[LintFormat, typer.Option("--format", "-f")] = LintFormat.text,
    select: Annotated[list[str] | None, typer.Option(
        "--select", metavar="RULE", help="Run only these rule ids (repeatable).")] = None,
    ignore: Annotated[list[str] | None, typer.Option(
        "--ignore", metavar="RULE", help="Skip these rule ids (repeatable).")] = None,
    fail_on: Annotated[Severity, typer.Option(
        "--fail-on", help="Exit 1 when a finding is at least this severe.")] = Severity.warning,
    output: OutputOpt = None,
    allow_empty: AllowEmptyOpt = False,
) -> None:
    """Find the classic NetworkPolicy mistakes; each finding has a rule id, file:line and a fix.

    Suppress a rule on one object with the annotation
    netpol-dsl.io/lint-ignore: "NP001,NP004". Rules: see docs/lint/.

    Examples:

      netpol lint k8s/netpol/

      netpol lint k8s/netpol/ --manifests k8s/ --format sarif -o lint.sarif
    """
    from netpol_dsl.lint import lint as run_lint

    with _progress("linting"):
        report = run_lint(list(paths), manifests=manifests, select=select, ignore=ignore or ())
    if not report.findings and not report.suppressed:
        _require_policies(report, paths, allow_empty)
    if fmt is LintFormat.text:
        if output is not None:
            _write(report.to_text(), output)
        else:
            _print_lint(report)
    else:
        _write(report.to_json() if fmt is LintFormat.json else report.to_sarif(), output)
    raise typer.Exit(1 if report.failed(fail_on.value) else 0)


def _print_lint(report: Any) -> None:
    console = _out()
    colour = {"error": "bold red", "warning": "yellow", "info": "cyan"}
    dim, end = ("[dim]", "[/dim]") if console.is_terminal else ("", "")
    lines: list[str] = []
    for f in report.findings:
        head = _esc(f"{f.location}: ") + f"[{colour[f.severity]}]{f.rule.id} {f.severity}[/]:"
        rest = " ".join(x for x in (f.object and f"{f.object}:", f.path and f"{f.path}:",
                                    f.message) if x)
        lines.append(head + " " + _esc(rest))
        lines.append(f"{dim}    fix: {_esc(f.fix or f.rule.fix)}{end}")
        lines.append(f"{dim}    see: {_esc(f.rule.doc)}{end}")
        if len(lines) >= 600:  # one print per few hundred findings: each call costs rich ~0.2 ms
            console.print("\n".join(lines))
            lines = []
    if lines:
        console.print("\n".join(lines))
    _note(report.summary())


@app.command()
@_guard
def diff(
    old: Annotated[str, typer.Argument(metavar="OLD", help="Old policies: a file, a directory, a git "
                                       "revision (REV or REV:path; a revision wins over a module of "
                                       "the same name), or Python (FILE.py, py:module:attr). "
                                       + _PY_WARNING)],
    new: Annotated[str, typer.Argument(metavar="NEW", help="New policies, the same kinds of source.")],
    manifests: ManifestsOpt,
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f")] = DiffFormat.text,
    output: OutputOpt = None,
    allow_empty: AllowEmptyOpt = False,
) -> None:
    """Connectivity gained and lost between two policy sets; exit 1 when anything changed.

    Policies in --manifests are replaced by OLD, then by NEW; pods and namespaces stay.

    Examples:

      netpol diff main k8s/netpol/ --manifests k8s/

      netpol diff old/ new/ -m k8s/ --format md > comment.md
    """
    from netpol_dsl.diff import diff_sources

    cluster = _cluster(manifests, allow_empty=allow_empty, policies=False)
    with _progress("comparing connectivity"):
        result = diff_sources(old, new, cluster, allow_empty=allow_empty)
    text = {DiffFormat.text: result.to_text, DiffFormat.json: result.to_json,
            DiffFormat.md: result.to_markdown}[fmt]()
    _write(text, output)
    raise typer.Exit(1 if result.changed else 0)


@app.command()
@_guard
def graph(
    manifests: ManifestsOpt,
    fmt: Annotated[GraphFormat, typer.Option("--format", "-f")] = GraphFormat.mermaid,
    port: Annotated[str | None, typer.Option("--port", "-p", metavar="PORT[/PROTO]", help="Only flows on PORT[/PROTO].")]
    = None,
    denied: Annotated[bool, typer.Option(
        "--denied", help="Also draw denied connections (into isolated pods, or denied by an "
        "admin or baseline Deny), dashed.")] = False,
    intent: Annotated[Path | None, typer.Option(
        "--intent", metavar="FILE", help="Draw the probes of an intent file (denied ones dashed).")] = None,
    tiers: Annotated[bool | None, typer.Option(
        "--tiers/--no-tiers", help="Show which tier decided each edge (admin, NetworkPolicy, "
        "baseline, default) by colour and label, with a legend. Default: when the cluster has "
        "cluster-wide policies.")] = None,
    output: OutputOpt = None,
    allow_empty: AllowEmptyOpt = False,
) -> None:
    """Draw who can reach whom: namespaces as boxes, workloads as nodes, allowed flows as edges.

    Mermaid and DOT always work; SVG needs Graphviz (`dot`); HTML is one self-contained file
    (diagram and matrix, no network fetches). With cluster-wide policies, each edge says which
    tier decided it.

    Examples:

      netpol graph -m k8s/ --format mermaid

      netpol graph -m k8s/ --format html -o report.html
    """
    from netpol_dsl import graph as g
    from netpol_dsl.intent import load_intents

    cluster = _cluster(manifests, allow_empty=allow_empty)
    number: int | str | None = None
    protocol = "TCP"
    if port is not None:
        number, protocol = _parse_port(port)
    probes = load_intents(intent) if intent is not None else ()
    with _progress("drawing"):
        diagram = g.build_graph(cluster, port=number, protocol=protocol, denied=denied,
                                probes=probes, tiers=tiers)
        if fmt is GraphFormat.mermaid:
            text = g.to_mermaid(diagram)
        elif fmt is GraphFormat.dot:
            text = g.to_dot(diagram)
        elif fmt is GraphFormat.json:
            text = diagram.to_json()
        elif fmt is GraphFormat.svg:
            text = g.to_svg(diagram, engine="graphviz")
        else:
            table = (g.connectivity_table(cluster) if number is None
                     else g.connectivity_table(cluster, port=number, protocol=protocol))
            text = g.to_html(diagram, table)
    _write(text, output)


@export_app.command("netassert")
@_guard
def export_netassert(
    manifests: ManifestsOpt,
    intent: Annotated[Path, typer.Option("--intent", metavar="FILE", help="The intent file (YAML).")],
    output: OutputOpt = None,
    fmt: Annotated[RenderFormat, typer.Option("--format", "-f", help="netassert reads YAML; "
                                              "json is the same tests as JSON.")]
    = RenderFormat.yaml,
    verify: Annotated[bool, typer.Option(
        "--verify/--no-verify", help="Check the intent offline first; exit 1 when it does not "
        "hold.")] = True,
    allow_empty: AllowEmptyOpt = False,
) -> None:
    """Turn intent assertions into netassert v2 test YAML, to run against a live cluster.

    Examples:

      netpol export netassert -m k8s/ --intent intent.yaml -o netassert.yaml
    """
    from netpol_dsl.export import netassert_tests, to_netassert
    from netpol_dsl.intent import check_intents, load_intents

    intents = load_intents(intent)
    cluster = _cluster(manifests, allow_empty=allow_empty)
    if fmt is RenderFormat.json:
        text = json.dumps(netassert_tests(cluster, intents), indent=2)
    else:
        text = to_netassert(cluster, intents)
    _write(text, output)
    if verify:
        results = check_intents(cluster, intents)
        bad = [r for r in results if not r.ok]
        for r in bad:
            _note(f"intent does not hold offline: {r}")
        if bad:
            raise typer.Exit(1)


FlowsArg = Annotated[
    list[str], typer.Argument(metavar="FLOWS", help="Recorded traffic: Hubble JSON lines (hubble "
                              "observe -o json) or CSV (src,dst,port,protocol[,count]); - is "
                              "standard input; .gz files are read too.")]
FlowFormatOpt = Annotated[
    FlowFileFormat, typer.Option("--flow-format", help="Format of FLOWS (auto: by suffix, then "
                                 "by content).")]
IncludeDroppedOpt = Annotated[
    bool, typer.Option("--include-dropped", help="Also use records whose verdict was DROPPED or "
                       "ERROR (by default only traffic that got through counts).")]


def _read_flows(flows: list[str], fmt: FlowFileFormat, allow_empty: bool) -> Any:
    from netpol_dsl.flows import read_flows

    with _progress("reading flows"):
        log = read_flows(flows, format=fmt.value)
    if not log.flows and not allow_empty:
        skipped = "; ".join(f"{v} {k}" for k, v in log.skipped.items())
        _fail(f"no flow records found in {_where(flows)}"
              + (f" ({log.records} records skipped: {skipped})" if skipped else "")
              + f"; {_EMPTY_HINT}")
    return log


@app.command()
@_guard
def replay(
    flows: FlowsArg,
    manifests: ManifestsOpt,
    policies: Annotated[list[str] | None, typer.Option(
        "--policies", metavar="SOURCE", help="Replay against these policies instead of those in "
        "--manifests (YAML/JSON, a directory, REV:path, or Python: FILE.py, py:module:attr). "
        + _PY_WARNING + " Repeatable.")] = None,
    add: Annotated[list[str] | None, typer.Option(
        "--add", metavar="SOURCE", help="Replay against the current policies plus these "
        "(same kinds of source). Repeatable.")] = None,
    default_deny: Annotated[list[str] | None, typer.Option(
        "--default-deny", metavar="NAMESPACE", help="Add a default deny of both directions "
        "(deny_all) in this namespace. Repeatable.")] = None,
    fmt: Annotated[ReplayFormat, typer.Option("--format", "-f")] = ReplayFormat.text,
    limit: Annotated[int | None, typer.Option(
        "--limit", min=1, help="Explain only the first N broken flows (text and md).")] = None,
    flow_format: FlowFormatOpt = FlowFileFormat.auto,
    include_dropped: IncludeDroppedOpt = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit 1 also when recorded ends are not in the inventory.")] = False,
    output: OutputOpt = None,
    allow_empty: AllowEmptyOpt = False,
) -> None:
    """Replay recorded traffic against policies: what would they deny? Exit 1 if anything.

    Every recorded connection is evaluated; those denied are listed by workload pair and port,
    with how often they were seen and why they are denied. Ends not in the inventory are
    reported.

    Examples:

      netpol replay flows.json -m k8s/ --default-deny payments

      netpol replay flows.json -m k8s/ --policies new-policies/ --format md -o replay.md

      hubble observe -o json --last 100000 | netpol replay - -m k8s/ --add policies.py
    """
    from netpol_dsl.baselines import deny_all
    from netpol_dsl.replay import replay as run_replay
    from netpol_dsl.sources import load_policy_sources

    log = _read_flows(flows, flow_format, allow_empty)
    cluster = _cluster(manifests, allow_empty=allow_empty, policies=False)
    label = f"the policies in {_where(manifests)}"
    if policies:
        chosen: list[Any] = load_policy_sources(policies)
        label = _where(policies)
    else:
        chosen = list(cluster.policies)
    if add:
        chosen += load_policy_sources(add)
        label += " + " + _where(add)
    for ns in default_deny or ():
        chosen += deny_all(ns).compile()
        label += f" + default deny in {ns}"
    if policies or add or default_deny:
        cluster = cluster.with_policies(chosen)
    with _progress("replaying"):
        report = run_replay(log, cluster, include_dropped=include_dropped, policies=label)
    if fmt is ReplayFormat.json:
        text = report.to_json()
    elif fmt is ReplayFormat.md:
        text = report.to_markdown(limit=limit)
    else:
        text = report.to_text(limit=limit)
    _write(text, output)
    raise typer.Exit(1 if not report.ok or (strict and report.unresolved) else 0)


@app.command()
@_guard
def suggest(
    flows: FlowsArg,
    manifests: ManifestsOpt,
    granularity: Annotated[GranularityOpt, typer.Option(
        "--granularity", "-g", help="workload: one rule per workload pair and port, selected "
        "by their labels; namespace: one per namespace pair and port.")]
    = GranularityOpt.workload,
    namespaces: Annotated[list[str] | None, typer.Option(
        "--namespace", "-n", metavar="NAMESPACE", help="Write policies for this namespace "
        "(repeatable; default: every namespace with recorded pods but kube-system).")] = None,
    dns: Annotated[bool, typer.Option(
        "--dns/--no-dns", help="Allow DNS to kube-dns from every pod (allow_dns()).")] = True,
    group_external: Annotated[int | None, typer.Option(
        "--group-external", metavar="BITS", min=0, max=32, help="Allow external IPv4 addresses "
        "by /BITS network (IPv6 by /64) instead of one by one.")] = None,
    fmt: Annotated[SuggestFormat, typer.Option("--format", "-f")] = SuggestFormat.python,
    flow_format: FlowFormatOpt = FlowFileFormat.auto,
    include_dropped: IncludeDroppedOpt = False,
    output: OutputOpt = None,
    allow_empty: AllowEmptyOpt = False,
) -> None:
    """Suggest least-privilege policies that allow exactly the recorded traffic.

    Per namespace: a default deny, DNS, and one flow per recorded workload pair and port, as
    DSL code (with how often each flow was seen) or YAML. The recording is replayed against
    the suggestion before it is printed; exit 1 if that would still deny something (policies
    of namespaces not written, such as kube-system's, can).

    Examples:

      netpol suggest flows.json -m k8s/ -n payments -o payments_policies.py

      netpol suggest flows.json -m k8s/ --granularity namespace --format yaml
    """
    from netpol_dsl.suggest import suggest as run_suggest

    log = _read_flows(flows, flow_format, allow_empty)
    cluster = _cluster(manifests, allow_empty=allow_empty, policies=False)
    with _progress("suggesting"):
        result = run_suggest(log, cluster, granularity=granularity.value, namespaces=namespaces,
                             dns=dns, group_external=group_external,
                             include_dropped=include_dropped)
    _write(result.to_python() if fmt is SuggestFormat.python else result.to_yaml(), output)
    for note in result.notes:
        _note(f"note: {note}")
    check = result.check
    assert check is not None
    if check.ok:
        _note(f"check: the recording replayed against the suggestion: nothing would break "
              f"({check.allowed:,} records allowed)")
    else:
        _note("check: the recording replayed against the suggestion would still break:")
        for b in check.broken:
            _note(f"  {b}")
        raise typer.Exit(1)


def main() -> None:
    """Run the ``netpol`` command line.

    Example:
        >>> callable(main)
        True
    """
    app(prog_name="netpol")
