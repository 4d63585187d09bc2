"""The examples are small projects: each has a README (shown in the docs), tests, and renders.

The examples' own tests run because ``examples`` is in pytest's ``testpaths``; this module checks
what ties them together: the README's quick-start command, their layout, and their output.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from netpol_dsl import load_manifests, to_yaml
from netpol_dsl.policyset import collect

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PROJECTS = sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
DEFINITIONS = [EXAMPLES / "payments.py", *sorted(EXAMPLES.glob("*/policies.py"))]


def test_readme_quick_start_renders_the_bundled_example():
    # The README's first Quick start command, after its `pip install -e .`.
    readme = (ROOT / "README.md").read_text()
    command = "python -m netpol_dsl render examples/payments.py"
    assert command in readme
    result = subprocess.run([sys.executable, "-m", "netpol_dsl", "render", "examples/payments.py"],
                            cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    policies = load_manifests(result.stdout).policies
    assert sorted(p.name for p in policies) == [
        "allow-dns-egress", "allow-egress-from-api-server", "allow-frontend-to-api",
        "allow-frontend-to-api-egress", "allow-ingress-to-postgres", "allow-prometheus-scrape",
        "default-deny-all",
    ]
    assert {p.namespace for p in policies} == {"payments"}


def test_every_example_is_a_project_with_docs_and_tests():
    assert [p.name for p in PROJECTS] == ["bring-your-own-yaml", "cluster-wide", "egress-external",
                                          "multi-team"]
    for project in PROJECTS:
        assert (project / "README.md").is_file(), project
        assert list(project.glob("test_*.py")), f"{project.name} has no tests"
        page = ROOT / "docs" / "examples" / f"{project.name}.md"
        assert f'--8<-- "examples/{project.name}/README.md"' in page.read_text()
    assert (EXAMPLES / "test_payments_intent.py").is_file()


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_definitions_render_valid_deterministic_yaml(definition):
    import runpy

    first = to_yaml(collect(runpy.run_path(str(definition))))
    again = to_yaml(collect(runpy.run_path(str(definition))))
    assert first == again
    policies = load_manifests(first).policies   # validated as kube-apiserver would
    assert policies
    assert load_manifests(to_yaml(policies)).policies == policies


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_inventories_load_without_skipping_anything(project):
    for path in [*project.glob("*.yaml"), *project.glob("*/*.yaml")]:
        assert not load_manifests(path).skipped, path
