"""Where policies come from on the command line: Python files, ``module:attr``, YAML, git revisions.

``load_policies(spec)`` turns one such spec into NetworkPolicy objects:

- ``path/to/file.py`` or ``package.module`` or ``module:attr``: run the definition and collect its
  policies (a ``PolicySet``, a ``NetworkPolicy``, or a list of them).
- a YAML/JSON file or a directory of them.
- ``REV:path`` (``main:policies/``, ``HEAD~1:k8s/netpol.yaml``): that path as committed at git
  revision ``REV``, read with ``git show``/``git archive``; the working tree is not touched.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "p.yaml").write_text('''apiVersion: networking.k8s.io/v1
    ... kind: NetworkPolicy
    ... metadata: {name: deny, namespace: a}
    ... spec: {podSelector: {}}
    ... ''')
    >>> [p.key for p in load_policies(str(d / "p.yaml"))]
    ['a/deny']
"""

from __future__ import annotations

import importlib
import io
import runpy
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from netpol_dsl.errors import DslUsageError, LoadError, NetpolError
from netpol_dsl.load import load_manifests
from netpol_dsl.model import NetworkPolicy

__all__ = [
    "collect_policies",
    "git_revision_files",
    "inventory_sources",
    "is_git_revision",
    "load_policies",
    "load_policy_sources",
    "looks_like_python",
]


def looks_like_python(spec: str) -> bool:
    """Whether a source spec names Python (a ``.py`` file, or ``module:attr``).

    Example:
        >>> looks_like_python("examples/payments.py"), looks_like_python("pkg.mod:policies")
        (True, True)
        >>> looks_like_python("policies/"), looks_like_python("main:policies/")
        (False, False)
    """
    if spec.endswith(".py"):
        return True
    mod, sep, attr = spec.partition(":")
    return bool(sep) and mod.replace(".", "").replace("_", "").isalnum() and attr.isidentifier() \
        and not Path(spec).exists() and "/" not in spec


def collect_policies(value: Any, *, where: str = "<python>") -> list[NetworkPolicy]:
    """Collect NetworkPolicies from a module namespace, PolicySet, policy or list (``collect``).

    Raises:
        LoadError: nothing in ``value`` is a policy, naming ``where``.

    Example:
        >>> from netpol_dsl.model import NetworkPolicy, ObjectMeta
        >>> p = NetworkPolicy(metadata=ObjectMeta(name="x", namespace="a"))
        >>> [q.key for q in collect_policies({"policies": [p], "other": 3})]
        ['a/x']
    """
    from netpol_dsl.policyset import collect

    try:
        return collect(value)
    except DslUsageError as err:
        raise LoadError(f"{where}: {err}", source=where) from None


def _run_python(spec: str) -> list[NetworkPolicy]:
    try:
        if spec.endswith(".py"):
            path = Path(spec)
            if not path.is_file():
                msg = f"{spec}: got a path that does not exist; expected a Python file"
                raise LoadError(msg, source=spec)
            namespace = runpy.run_path(str(path), run_name="__netpol__")
            return collect_policies(namespace, where=spec)
        mod_name, _, attr = spec.partition(":")
        if "" not in sys.path and "." not in sys.path:
            sys.path.insert(0, "")
        module = importlib.import_module(mod_name)
        if not hasattr(module, attr):
            msg = f"{spec}: got no attribute {attr!r} in module {mod_name!r}"
            raise LoadError(msg, source=spec)
        return collect_policies(getattr(module, attr), where=spec)
    except NetpolError:
        raise
    except SyntaxError as err:
        msg = f"{err.filename}:{err.lineno}: got a Python syntax error ({err.msg})"
        raise LoadError(msg, source=spec) from None
    except ImportError as err:
        msg = f"{spec}: got an import error ({err}); expected an importable module"
        raise LoadError(msg, source=spec) from None
    except Exception as err:  # the user's code failed: report it as input, not as our crash
        msg = f"{spec}: running the policy definition raised {type(err).__name__}: {err}"
        raise LoadError(msg, source=spec) from err


def _git(args: list[str], cwd: Path | None = None) -> bytes:
    git = shutil.which("git")
    if git is None:
        msg = "git: got no `git` executable; expected git on PATH to read revisions"
        raise LoadError(msg)
    proc = subprocess.run([git, *args], cwd=cwd, capture_output=True, check=False)
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        msg = f"git {' '.join(args)}: {detail[-1] if detail else 'failed'}"
        raise LoadError(msg)
    return proc.stdout


def _split_revision(spec: str) -> tuple[str, str] | None:
    rev, sep, path = spec.partition(":")
    if not sep or not rev or Path(spec).exists() or len(rev) == 1:  # "C:\..." is a path
        return None
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"])
    except LoadError:
        return None
    return rev, path or "."


def is_git_revision(spec: str) -> bool:
    """Whether ``spec`` is a bare git revision (``main``, ``HEAD~1``) and not a path.

    Example:
        >>> is_git_revision("no/such/dir/")
        False
    """
    if not spec or Path(spec).exists() or ":" in spec:
        return False
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}"])
    except LoadError:
        return False
    return True


@contextmanager
def git_revision_files(rev: str, path: str) -> Iterator[Path]:
    """Extract ``path`` as committed at ``rev`` into a temporary directory; yield its path there.

    Raises:
        LoadError: git is missing, the revision is unknown, or the path is not in it.

    Example:
        >>> with git_revision_files("HEAD", "pyproject.toml") as p:
        ...     p.name
        'pyproject.toml'
    """
    top = Path(_git(["rev-parse", "--show-toplevel"]).decode().strip())
    prefix = _git(["rev-parse", "--show-prefix"]).decode().strip()
    rel = str(Path(prefix, path)) if prefix else path
    rel = rel.rstrip("/") or "."
    with tempfile.TemporaryDirectory(prefix="netpol-rev-") as tmp:
        data = _git(["archive", "--format=tar", rev, "--", rel], cwd=top)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, filter="data")
            else:  # pragma: no cover - Python < 3.10.12 has no extraction filters
                tar.extractall(tmp)  # our own repository's archive
        yield Path(tmp, rel)


def load_policies(spec: str | Path, *, lenient_cidr: bool = False) -> list[NetworkPolicy]:
    """Load the policies one source spec names (see the module docstring).

    Raises:
        LoadError: unreadable or invalid input, with ``file:line`` where known.

    Example:
        >>> load_policies("no/such/file.yaml")
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.LoadError: no/such/file.yaml: got a path that does not exist; expected a file or directory
    """
    text = str(spec)
    if looks_like_python(text):
        return _run_python(text)
    revision = _split_revision(text) if not Path(text).exists() else None
    if revision is not None:
        rev, path = revision
        with git_revision_files(rev, path) as local:
            if local.suffix == ".py":
                return _run_python(str(local))
            return list(load_manifests(local, lenient_cidr=lenient_cidr).policies)
    return list(load_manifests(text, lenient_cidr=lenient_cidr).policies)


def load_policy_sources(specs: Iterable[str | Path], *, lenient_cidr: bool = False
                        ) -> list[NetworkPolicy]:
    """Load and concatenate the policies of several specs.

    Example:
        >>> load_policy_sources([])
        []
    """
    out: list[NetworkPolicy] = []
    for s in specs:
        out.extend(load_policies(s, lenient_cidr=lenient_cidr))
    return out


def inventory_sources(specs: Iterable[str | Path]) -> list[Any]:
    """Turn ``--manifests`` specs into what ``Cluster.from_manifests`` reads.

    YAML/JSON files and directories pass through; a Python definition (``FILE.py`` or
    ``module:attr``) is run and replaced by the NetworkPolicy objects it defines, so an inventory
    can be checked against policies written with the DSL without rendering them first.

    Example:
        >>> [type(x).__name__ for x in inventory_sources(["examples/payments.py", "cluster/"])][-1]
        'str'
        >>> sorted({type(x).__name__ for x in inventory_sources(["examples/payments.py"])})
        ['NetworkPolicy']
    """
    out: list[Any] = []
    for spec in specs:
        text = str(spec)
        if looks_like_python(text):
            out.extend(load_policies(text))
        else:
            out.append(text)
    return out
