"""Where policies come from on the command line: YAML, git revisions, and (explicitly) Python.

``load_policies(spec)`` turns one such spec into NetworkPolicy objects (``load_objects(spec)``
into NetworkPolicies and cluster-wide policies, for ``netpol render``), trying in this order:

- ``py:package.module:attr`` (or ``py:package.module``): import the module and collect its
  policies (a ``PolicySet``, a ``NetworkPolicy``, or a list of them). **This runs Python code**,
  so it must be asked for with the ``py:`` prefix.
- an existing path: ``FILE.py`` is run (**Python code**, explicit by its suffix) and collected;
  a YAML/JSON file or a directory of them is read.
- ``REV:path`` (``main:policies/``, ``HEAD~1:k8s/netpol.yaml``): that path as committed at git
  revision ``REV``, read with ``git archive``; the working tree is not touched. A path ending in
  ``.py`` at that revision is run.
- anything else is an error. A spec shaped like ``module:attr`` is never imported without ``py:``:
  in a repository with a branch ``main`` and a file ``main.py``, ``main:k8s`` is the directory
  ``k8s`` at revision ``main``, and when no revision resolves it is an error that suggests
  ``py:main:k8s``.

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
import re
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
from netpol_dsl.load import Manifests, load_manifests
from netpol_dsl.model import NetworkPolicy
from netpol_dsl.model.clusterwide import ClusterWidePolicy

__all__ = [
    "CLUSTER_POLICY_KINDS",
    "PY_PREFIX",
    "collect_policies",
    "count_policies",
    "git_revision_files",
    "inventory_sources",
    "is_git_revision",
    "is_revision_path",
    "load_objects",
    "load_policies",
    "load_policy_sources",
    "looks_like_python",
]


#: The prefix that asks for a Python module to be imported: ``py:package.module:attr``.
PY_PREFIX = "py:"

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
#: What the old, implicit ``module:attr`` form looked like (to suggest ``py:`` for it).
_MODULE_ATTR = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*")


def looks_like_python(spec: str) -> bool:
    """Whether a source spec names Python explicitly: ``FILE.py`` or ``py:module[:attr]``.

    Such a source is executed when loaded. ``module:attr`` without ``py:`` is not Python: it is
    a git revision and path (``main:k8s``), or an error.

    Example:
        >>> looks_like_python("examples/payments.py"), looks_like_python("py:pkg.mod:policies")
        (True, True)
        >>> looks_like_python("policies/"), looks_like_python("main:policies"), looks_like_python("pkg.mod:policies")
        (False, False, False)
    """
    return spec.startswith(PY_PREFIX) or spec.endswith(".py")


#: Cluster-wide policy kinds (policy.networking.k8s.io) that count as policies once the loader's
#: kind registry reads them into ``Manifests.resources``.
CLUSTER_POLICY_KINDS = ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy")


def count_policies(found: Any) -> int:
    """How many policies ``found`` holds: the one count behind every "no NetworkPolicy found".

    Accepts what the commands hold: ``Manifests`` (valid NetworkPolicies, plus the cluster-wide
    kinds of `CLUSTER_POLICY_KINDS` among its resources), a ``Cluster``, a ``LintReport`` (its
    ``policies`` count), or an iterable of policy objects (any kind). A policy kind added later
    is counted by extending this function, so every command's emptiness check follows.

    Example:
        >>> from netpol_dsl.load import Manifests, load_manifests
        >>> count_policies(load_manifests("kind: ConfigMap\\nmetadata: {name: x}\\n")), count_policies([])
        (0, 0)
    """
    if isinstance(found, Manifests):
        return len(found.policies) + sum(len(found.resources_of(k)) for k in CLUSTER_POLICY_KINDS)
    policies = getattr(found, "policies", found)
    if isinstance(policies, int):
        return policies
    return sum(1 for _ in policies)


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
    return [p for p in _collect_any(value, where, objects=False) if isinstance(p, NetworkPolicy)]


def _collect_any(value: Any, where: str, *, objects: bool
                 ) -> list[NetworkPolicy | ClusterWidePolicy]:
    from netpol_dsl.policyset import collect, collect_objects

    try:
        return collect_objects(value) if objects else list(collect(value))
    except DslUsageError as err:
        raise LoadError(f"{where}: {err}", source=where) from None


def _run_python(spec: str, *, where: str | None = None, objects: bool = False
                ) -> list[NetworkPolicy | ClusterWidePolicy]:
    """Run ``FILE.py`` or import ``py:module[:attr]``; collect what it defines (``objects``:
    cluster-wide policies too)."""
    shown = where or spec

    def collect_policies(value: Any, *, where: str) -> list[NetworkPolicy | ClusterWidePolicy]:
        return _collect_any(value, where, objects=objects)

    try:
        if not spec.startswith(PY_PREFIX):
            path = Path(spec)
            if not path.is_file():
                msg = f"{shown}: got a path that does not exist; expected a Python file"
                raise LoadError(msg, source=shown)
            namespace = runpy.run_path(str(path), run_name="__netpol__")
            return collect_policies(namespace, where=shown)
        target = spec[len(PY_PREFIX):]
        mod_name, sep, attr = target.partition(":")
        if not _DOTTED.fullmatch(mod_name) or (sep and not attr.isidentifier()):
            msg = (f"{spec}: got {target!r}; expected {PY_PREFIX}package.module or "
                   f"{PY_PREFIX}package.module:attribute")
            raise LoadError(msg, source=spec)
        # Like `python -m`: modules in the current directory are importable. Only reached
        # through the explicit py: prefix.
        if "" not in sys.path and "." not in sys.path:
            sys.path.insert(0, "")
        module = importlib.import_module(mod_name)
        if not sep:
            return collect_policies(module, where=spec)
        if not hasattr(module, attr):
            msg = f"{spec}: got no attribute {attr!r} in module {mod_name!r}"
            raise LoadError(msg, source=spec)
        return collect_policies(getattr(module, attr), where=spec)
    except NetpolError:
        raise
    except SyntaxError as err:
        msg = f"{err.filename}:{err.lineno}: got a Python syntax error ({err.msg})"
        raise LoadError(msg, source=shown) from None
    except ImportError as err:
        msg = f"{shown}: got an import error ({err}); expected an importable module"
        raise LoadError(msg, source=shown) from None
    except Exception as err:  # the user's code failed: report it as input, not as our crash
        msg = f"{shown}: running the policy definition raised {type(err).__name__}: {err}"
        raise LoadError(msg, source=shown) from err


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


def _is_revision(rev: str) -> bool:
    # A leading "-" would reach git as an option (--output=..., --git-dir=...): never a revision.
    if not rev or rev.startswith("-") or "\x00" in rev:
        return False
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"])
    except LoadError:
        return False
    return True


def _split_revision(spec: str) -> tuple[str, str] | None:
    rev, sep, path = spec.partition(":")
    if not sep or len(rev) == 1 or Path(spec).exists():  # "C:\..." is a path
        return None
    if not _is_revision(rev):
        return None
    return rev, path or "."


def is_git_revision(spec: str) -> bool:
    """Whether ``spec`` is a bare git revision (``main``, ``HEAD~1``) and not a path.

    Example:
        >>> is_git_revision("no/such/dir/"), is_git_revision("--output=/tmp/x")
        (False, False)
    """
    if not spec or Path(spec).exists() or ":" in spec:
        return False
    return _is_revision(spec)


def is_revision_path(spec: str) -> bool:
    """Whether ``spec`` is ``REV:path`` with a revision that resolves, and not an existing path.

    Example:
        >>> is_revision_path("no-such-revision-xyz:k8s/"), is_revision_path("examples/payments.py")
        (False, False)
    """
    return _split_revision(spec) is not None


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
    if not _is_revision(rev):
        msg = f"{rev}: got something that is not a git revision here; expected a branch, tag or commit"
        raise LoadError(msg, source=rev)
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
    """Load the NetworkPolicies one source spec names (see the module docstring for the order).

    ``FILE.py`` and ``py:module:attr`` run Python code.

    Raises:
        LoadError: unreadable or invalid input, with ``file:line`` where known; a spec that is
            neither a path nor a git revision.

    Example:
        >>> load_policies("no/such/file.yaml")
        Traceback (most recent call last):
        ...
        netpol_dsl.errors.LoadError: no/such/file.yaml: got a path that does not exist; expected a file or directory
    """
    return [p for p in _load(spec, lenient_cidr, objects=False) if isinstance(p, NetworkPolicy)]


def load_objects(spec: str | Path, *, lenient_cidr: bool = False
                 ) -> list[NetworkPolicy | ClusterWidePolicy]:
    """Load every policy one source spec names: NetworkPolicies, then the cluster-wide ones
    (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy), as ``netpol render``
    writes them.

    From Python, cluster-wide policies are collected like NetworkPolicies (`collect_objects`:
    ``admin(...)``, ``baseline(...)``, ``cluster_default_deny()`` or model objects); from
    YAML/JSON, in input order after the NetworkPolicies. ``FILE.py`` and ``py:module:attr`` run
    Python code.

    Raises:
        LoadError: as `load_policies`.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "p.py").write_text("from netpol_dsl.admin import cluster_default_deny\\n"
        ...                             "baseline = cluster_default_deny()\\n")
        >>> [(p.kind, p.key) for p in load_objects(str(d / "p.py"))]
        [('ClusterNetworkPolicy', 'default-deny'), ('ClusterNetworkPolicy', 'default-deny-allow-dns')]
    """
    return _load(spec, lenient_cidr, objects=True)


def _read_manifests(path: Path, lenient_cidr: bool, objects: bool
                    ) -> list[NetworkPolicy | ClusterWidePolicy]:
    m = load_manifests(path, lenient_cidr=lenient_cidr)
    out: list[NetworkPolicy | ClusterWidePolicy] = list(m.policies)
    if objects:
        out.extend(r.obj for r in m.resources if r.spec.kind in CLUSTER_POLICY_KINDS)
    return out


def _load(spec: str | Path, lenient_cidr: bool, *, objects: bool
          ) -> list[NetworkPolicy | ClusterWidePolicy]:
    text = str(spec)
    if text.startswith(PY_PREFIX):
        return _run_python(text, objects=objects)
    path = Path(text)
    if path.exists():
        if path.suffix == ".py" and path.is_file():
            return _run_python(text, objects=objects)
        return _read_manifests(path, lenient_cidr, objects)
    revision = _split_revision(text)
    if revision is not None:
        rev, rel = revision
        with git_revision_files(rev, rel) as local:
            if local.suffix == ".py" and local.is_file():
                return _run_python(str(local), where=text, objects=objects)
            if not local.exists():
                msg = f"{text}: got a path that is not in revision {rev!r}"
                raise LoadError(msg, source=text)
            return _read_manifests(local, lenient_cidr, objects)
    if text.endswith(".py"):
        return _run_python(text, objects=objects)  # the "does not exist" error
    if _MODULE_ATTR.fullmatch(text):
        msg = (f"{text}: got neither a path nor a git revision; expected a file, a directory or "
               f"REV:path. To import a Python module write {PY_PREFIX}{text} (that runs its code)")
        raise LoadError(msg, source=text)
    # a Path: the spec names a file, never YAML text (load_manifests would guess for a str)
    return _read_manifests(path, lenient_cidr, objects)


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
    ``py:module:attr``) is **run** and replaced by the policies it defines (NetworkPolicies and
    cluster-wide ones, as `load_objects` collects them), so an inventory can be checked against
    policies written with the DSL without rendering them first.

    Example:
        >>> isinstance(inventory_sources(["examples/payments.py", "cluster/"])[-1], Path)
        True
        >>> sorted({type(x).__name__ for x in inventory_sources(["examples/payments.py"])})
        ['NetworkPolicy']
    """
    out: list[Any] = []
    for spec in specs:
        text = str(spec)
        if looks_like_python(text):
            # cluster-wide policies go in API shape (the loader reads them as from YAML)
            out.extend(p if isinstance(p, NetworkPolicy) else p.to_dict()
                       for p in load_objects(text))
        else:
            out.append(Path(text))  # a path, never YAML text (even "/srv:x:" or "a: b")
    return out
