"""Static checks run as part of the test suite, so the README's one test command covers them."""

from __future__ import annotations

import ast
import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import browser

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_clean():
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.heavy(8)  # from a cold cache (CI); it fills the cache the other mypy runs reuse
def test_mypy_strict_clean(mypy_package):
    assert mypy_package.returncode == 0, mypy_package.stdout + mypy_package.stderr


@pytest.fixture(scope="session")
def site(once_per_run):
    """The documentation site, built once per run with ``mkdocs build --strict``: (result, dir).

    Under xdist the two tests that use it may run on different workers; the first builds it
    (``once_per_run``) and the other reuses it.
    """
    if shutil.which("mkdocs") is None and os.environ.get("CI"):
        pytest.fail("mkdocs is not installed; `pip install -e '.[test]'` installs it")
    result, where = once_per_run(
        "docs", lambda where: _run("mkdocs", "build", "--strict", "--site-dir", str(where / "site")))
    return result, where / "site"


@pytest.mark.heavy(10)  # the build (the site fixture)
def test_mkdocs_build_strict(site):
    result, _ = site
    assert result.returncode == 0, result.stdout + result.stderr


def test_mermaid_diagrams_render_offline(site, tmp_path):
    # The site ships its own mermaid; with every host unreachable a diagram still renders.
    result, where = site
    assert result.returncode == 0, result.stdout + result.stderr
    page = where / "concepts" / "selectors" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert 'class="mermaid"' in html
    assert (where / "assets" / "javascripts" / "mermaid.min.js").is_file()
    # Material draws each diagram into a closed shadow root: open them so the probe can look.
    probe = page.with_name("probe.html")
    spy = ("<script>var netpolShadows = []; var attach = Element.prototype.attachShadow;"
           "Element.prototype.attachShadow = function (init) {"
           " var root = attach.call(this, Object.assign({}, init, {mode: 'open'}));"
           " netpolShadows.push(root); return root; };</script>")
    svgs = "netpolShadows.filter(function (r) { return r.querySelector('svg g'); }).length"
    probe.write_text(
        html.replace("<head>", "<head>" + spy, 1).replace(
            "</body>", browser.report_script(f"{svgs} >= 2", f"{{diagrams: {svgs}}}") + "</body>"),
        encoding="utf-8")
    report = browser.read_report(browser.dump_dom(probe, tmp_path / "profile"))
    assert report == {"diagrams": 2}, report


def test_all_is_sorted_and_complete():
    import netpol_dsl

    names = netpol_dsl.__all__
    assert names == sorted(names)
    # every lazily exported name is in __all__, and every name in __all__ resolves
    assert set(names) == set(netpol_dsl._LAZY)
    for name in names:
        assert getattr(netpol_dsl, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = netpol_dsl.nope


def test_plugin_and_package_import_cheaply():
    # The pytest11 plugin is loaded by every pytest run in an environment that has netpol-dsl
    # installed, so importing it must not pull in pydantic, numpy or the library.
    code = (
        "import sys, pytest, netpol_dsl.pytest_plugin, netpol_dsl\n"
        "heavy = [m for m in ('pydantic', 'numpy', 'yaml', 'netpol_dsl.evaluate',"
        " 'netpol_dsl.model') if m in sys.modules]\n"
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"


#: reST markup that mkdocstrings (Markdown, Google style) would print literally.
_REST = {
    "role": re.compile(r":(?:py:)?(?:class|meth|func|attr|mod|data|exc|obj|ref|doc|term):`"),
    "literal block '::'": re.compile(r"(?m)::[ \t]*$"),
    "directive": re.compile(r"(?m)^[ \t]*\.\. [a-z-]+::"),
    "named hyperlink": re.compile(r"`[^`\n]+ <[^>\n]+>`_"),
}


def _docstrings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = [tree, *(n for n in ast.walk(tree)
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))]
    found = []
    for node in nodes:
        doc = ast.get_docstring(node, clean=False)
        if doc:
            found.append((node.body[0].lineno, doc))
    # attribute docstrings (a string right after an assignment) and `#:` comments are rendered too
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for prev, cur in itertools.pairwise(body):
                if (isinstance(prev, (ast.Assign, ast.AnnAssign)) and isinstance(cur, ast.Expr)
                        and isinstance(cur.value, ast.Constant) and isinstance(cur.value.value, str)):
                    found.append((cur.lineno, cur.value.value))
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("#:"):
            found.append((i, line.lstrip()[2:]))
    return found


def test_docstrings_use_markdown_not_rest():
    # The API reference renders docstrings as Markdown (Google style): reST roles such as
    # :class:`X`, a literal block's trailing '::' and directives would show up as typed.
    problems = []
    for path in sorted((ROOT / "netpol_dsl").rglob("*.py")):
        for line, doc in _docstrings(path):
            for what, pattern in _REST.items():
                if m := pattern.search(doc):
                    snippet = doc[max(0, m.start() - 30):m.end() + 20].replace("\n", "\\n")
                    problems.append(f"{path.relative_to(ROOT)}:{line}: {what}: ...{snippet}...")
    assert not problems, "reST in docstrings (write Markdown: `name`, fenced blocks):\n" + "\n".join(problems)


def test_the_rest_check_catches_each_kind():
    for text in (":class:`Selector`", "Example::\n\n    x", ".. note::\n   x", "`a <http://x>`_"):
        assert any(p.search(text) for p in _REST.values()), text
