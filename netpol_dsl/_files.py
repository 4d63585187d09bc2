"""Safe file output: atomic replacement, no symlink following, a record of what was written.

Private helpers behind `netpol_dsl.render.write_policies`, ``PolicySet.write`` and the
CLI's ``-o FILE``. The rules, all tested in ``tests/test_output_safety.py``:

- A file is written to a temporary file in its own directory, flushed to disk, then moved over
  the target with ``os.replace`` (atomic on POSIX and Windows): a reader, or a crash, sees the
  old content or the new, never a truncated file.
- A symbolic link (or a directory) where a file would go is refused, never written through and
  never replaced, so output cannot land outside the directory it was aimed at.
- File names are single path components made from validated characters
  (`safe_file_name`); whatever a policy is called, its file stays in the directory.
- Every directory netpol-dsl writes policies into gets a record, `RECORD_NAME`, listing
  the files it wrote with their SHA-256. Pruning removes a file only when the record lists it,
  this run does not produce it, and its content is still what netpol-dsl wrote: a file edited
  or replaced by hand, or never written by netpol-dsl, is left alone. The record has no
  ``.json``/``.yaml``/``.yml`` extension, so ``kubectl apply -f DIR`` (which picks files by
  extension only) and GitOps tools that read a directory do not take it for a manifest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from netpol_dsl.errors import RenderError

__all__ = [
    "RECORD_NAME",
    "Pruned",
    "atomic_write",
    "digest",
    "prune",
    "read_record",
    "safe_file_name",
    "write_output",
    "write_record",
]

#: The record of written files kept in each output directory (JSON content, no extension:
#: kubectl's directory walk, ``ignoreFile`` in k8s.io/cli-runtime/pkg/resource/visitor.go,
#: only reads ``.json``, ``.yaml`` and ``.yml`` files).
RECORD_NAME = ".netpol-dsl-files"
_RECORD_VERSION = 1

#: Longest file name produced: below the 255-byte NAME_MAX of common file systems, with room
#: for the temporary file's prefix and suffix.
_NAME_MAX = 200

# DNS-1123 subdomain (k8s.io/apimachinery/pkg/util/validation IsDNS1123Subdomain): names
# kube-apiserver accepts for namespaces and NetworkPolicies. Such names never contain "/",
# "_" or "..", and never start with ".", so "<namespace>.<name>" is already a safe file name.
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9.-]")


def digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``, as the record stores it.

    Example:
        >>> digest(b"")[:15]
        'sha256:e3b0c442'
    """
    return "sha256:" + hashlib.sha256(data).hexdigest()


def safe_file_name(namespace: str | None, name: str, suffix: str, *, kind: str = "") -> str:
    """``<namespace>.<name><suffix>``, or a sanitised form of it that stays in its directory.

    Valid Kubernetes names give ``<namespace>.<name><suffix>`` unchanged. Anything else (names
    accepted leniently, over-long names) has every character outside ``A-Za-z0-9.-``
    replaced by ``_``, no leading dot, is cut to fit, and ends in ``_`` plus 12 hex digits of a
    hash of the exact names. ``_`` never occurs in a valid name, so a sanitised name cannot
    collide with a valid one, and the hash keeps two different names apart.

    A cluster-scoped object (``namespace=None``) gives ``<kind>_<name><suffix>``, the kind in
    lowercase: namespaces are always valid DNS labels, which have no ``_``, so it cannot
    collide with a namespaced object's file.

    Example:
        >>> safe_file_name("a", "deny", ".yaml")
        'a.deny.yaml'
        >>> safe_file_name("default", "../../../../escaped-outside", ".yaml")
        'default..._.._.._.._escaped-outside_addfeb5406fb.yaml'
        >>> safe_file_name(None, "default", ".yaml", kind="BaselineAdminNetworkPolicy")
        'baselineadminnetworkpolicy_default.yaml'
    """
    if namespace is None:
        prefix = _UNSAFE_CHARS.sub("_", kind.lower()).replace(".", "_") + "_"
        valid = bool(_DNS_SUBDOMAIN.fullmatch(name))
        key_text = f"{kind}/{name}"
    else:
        prefix = f"{namespace}."
        valid = bool(_DNS_SUBDOMAIN.fullmatch(namespace) and "." not in namespace
                     and _DNS_SUBDOMAIN.fullmatch(name))
        key_text = f"{namespace}/{name}"
    stem = prefix + name
    if valid and len(stem) + len(suffix) <= _NAME_MAX:
        return stem + suffix
    tag = "_" + hashlib.sha256(key_text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    clean = _UNSAFE_CHARS.sub("_", stem)
    clean = "_" + clean[1:] if clean.startswith(".") else clean
    clean = clean[: _NAME_MAX - len(tag) - len(suffix)]
    return clean + tag + suffix


def _check_plain_name(name: str, directory: Path) -> None:
    if (not name or name in {".", ".."} or "/" in name or "\\" in name or "\x00" in name
            or os.sep in name or (os.altsep and os.altsep in name)):
        msg = f"{directory}: got file name {name!r}; expected a plain file name in this directory"
        raise RenderError(msg)


def _refuse_non_file(target: Path) -> os.stat_result | None:
    """The lstat of an existing regular file at ``target``, None when absent; else refuse."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        msg = (f"{target}: got a symbolic link (to {os.readlink(target)!r}); expected a regular "
               "file or nothing. Refusing to write through or replace it: remove the link, or "
               "write somewhere else")
        raise RenderError(msg)
    if stat.S_ISDIR(st.st_mode):
        msg = f"{target}: got a directory; expected a regular file or nothing"
        raise RenderError(msg)
    return st


def atomic_write(directory: Path, name: str, data: bytes) -> Path:
    """Replace ``directory/name`` with ``data`` atomically; refuse a symlink there.

    The data goes to a new temporary file in ``directory`` (created exclusively, never through a
    link), is flushed to disk, and is then renamed over the target. On any failure the
    temporary file is removed and the old file is left as it was. An existing file keeps its
    permission bits; a new one gets the usual ``0o666`` minus the umask.

    Raises:
        RenderError: ``name`` is not a plain file name, or a symlink or directory is in the way.
        OSError: the file system refused (full disk, file-size limit, permissions).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = atomic_write(Path(d), "x.yaml", b"a: 1\\n")
        ...     p.read_bytes(), sorted(q.name for q in Path(d).iterdir())
        (b'a: 1\\n', ['x.yaml'])
    """
    _check_plain_name(name, directory)
    target = directory / name
    old = _refuse_non_file(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) \
        | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = directory / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 random collisions in a row
        msg = f"{directory}: could not create a temporary file next to {name!r}"
        raise RenderError(msg)
    try:
        with os.fdopen(fd, "wb") as fh:
            if old is not None and hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), stat.S_IMODE(old.st_mode))
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def write_output(path: Path, data: bytes) -> None:
    """Write one output file named on the command line (``-o FILE``).

    A regular file (or a new one) is replaced atomically, parent directories created. A
    terminal, pipe or device (``/dev/stdout``, a FIFO) is written to directly. A symlink to a
    regular file is refused, like in `atomic_write`.

    Raises:
        RenderError: a symlink to a regular file, or a directory, at ``path``.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     write_output(Path(d, "sub", "m.md"), b"| a |\\n")
        ...     Path(d, "sub", "m.md").read_bytes()
        b'| a |\\n'
    """
    try:
        followed = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        followed = None
    if followed is not None and not stat.S_ISREG(followed.st_mode) \
            and not stat.S_ISDIR(followed.st_mode):
        with open(path, "wb") as fh:  # a device or a pipe: nothing to replace atomically
            fh.write(data)
        return
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    atomic_write(parent, path.name, data)


@dataclass(frozen=True)
class Pruned:
    """What pruning did: files removed, and files kept with the reason.

    Example:
        >>> Pruned().removed
        ()
    """

    removed: tuple[Path, ...] = ()
    kept: tuple[tuple[Path, str], ...] = ()


def read_record(directory: Path) -> dict[str, str]:
    """The record of ``directory``: file name -> digest; empty when there is none.

    Raises:
        RenderError: the record exists but is not one netpol-dsl wrote (bad JSON, wrong shape,
            names that are not plain file names), or it is a symlink.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     read_record(Path(d))
        {}
    """
    path = directory / RECORD_NAME
    if _refuse_non_file(path) is None:
        return {}
    where = str(path)
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        msg = (f"{where}: got a record netpol-dsl cannot read ({err}); expected the JSON it "
               "writes. Restore it from version control, or delete it (pruning then starts "
               "over and removes nothing written before)")
        raise RenderError(msg) from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or data.get("version") != _RECORD_VERSION:
        msg = (f"{where}: got a record without a 'files' mapping or of another version; "
               f"expected version {_RECORD_VERSION}. Restore it from version control, or delete it")
        raise RenderError(msg)
    out: dict[str, str] = {}
    for name, value in files.items():
        if not isinstance(value, str) or not value.startswith("sha256:"):
            msg = f"{where}: files[{name!r}]: got {value!r}; expected 'sha256:<hex>'"
            raise RenderError(msg)
        _check_plain_name(name, path)
        out[name] = value
    return out


def write_record(directory: Path, files: Mapping[str, str]) -> None:
    """Write the record of ``directory`` (sorted, deterministic: no dates, no versions of tools).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     write_record(Path(d), {"a.x.yaml": digest(b"")})
        ...     list(read_record(Path(d)))
        ['a.x.yaml']
    """
    data = {
        "generator": "netpol-dsl",
        "note": ("Files netpol-dsl wrote into this directory, with their SHA-256. "
                 "`netpol render --prune` and PolicySet.write(prune=True) remove listed files "
                 "that are no longer produced and still hold what was written. Keep this file "
                 "with the others (commit it); do not edit it."),
        "version": _RECORD_VERSION,
        "files": dict(sorted(files.items())),
    }
    text = json.dumps(data, indent=2, ensure_ascii=True) + "\n"
    atomic_write(directory, RECORD_NAME, text.encode("ascii"))


def prune(directory: Path, stale: Mapping[str, str]) -> Pruned:
    """Remove the files of ``stale`` (name -> recorded digest) that still hold what was written.

    A missing file is forgotten silently; a symlink, a non-file, or a file whose content
    changed since netpol-dsl wrote it is kept, with the reason.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = atomic_write(Path(d), "old.yaml", b"x")
        ...     _ = atomic_write(Path(d), "edited.yaml", b"mine")
        ...     r = prune(Path(d), {"old.yaml": digest(b"x"), "edited.yaml": digest(b"y")})
        ...     [p.name for p in r.removed], [(p.name, why) for p, why in r.kept]
        (['old.yaml'], [('edited.yaml', 'changed since netpol-dsl wrote it')])
    """
    removed: list[Path] = []
    kept: list[tuple[Path, str]] = []
    for name, recorded in sorted(stale.items()):
        _check_plain_name(name, directory)
        path = directory / name
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(st.st_mode):
            kept.append((path, "not a regular file"))
            continue
        if digest(path.read_bytes()) != recorded:
            kept.append((path, "changed since netpol-dsl wrote it"))
            continue
        path.unlink()
        removed.append(path)
    return Pruned(tuple(removed), tuple(kept))
