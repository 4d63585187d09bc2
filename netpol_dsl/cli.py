"""The ``netpol`` command line: a thin Typer layer over the library (grown by the CLI issue)."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Run the ``netpol`` command line.

    Example:
        >>> callable(main)
        True
    """
    from netpol_dsl import LoadError, load_manifests, to_yaml

    args = sys.argv[1:]
    if not args:
        print("usage: netpol render PATH...", file=sys.stderr)
        raise SystemExit(2)
    try:
        m = load_manifests(args[1:] if args[0] == "render" else args)
    except LoadError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    sys.stdout.write(to_yaml(m.policies))
