"""A long fuzzing campaign over the loader, the evaluator and the CLI (not run in CI).

Drives the mutators of ``tests/test_fuzz.py`` with a seeded ``random.Random`` for a given time
and keeps going after failures, so one run reports every kind of failure it found, not just the
first. Each kind (check, exception type, where it was raised) is counted, and its first input is
saved so it can be replayed::

    python scripts/fuzz.py --seconds 600 --seed 1
    python scripts/fuzz.py --seconds 60 --only text --out /tmp/netpol-fuzz

Kinds of input, in turn (``--only`` picks some):

- ``doc``: a valid policy (the examples' policies, and generated ones) mutated at every field as a dict -> ``load_policy``,
  ``load_manifests``, then render and reload what was accepted;
- ``doctext``: the same mutated dict written as JSON and as YAML text -> the text checks;
- ``text``: the lesson's manifests and rendered policies mutated as text (tags, truncation,
  byte flips, aliases, directives, odd scalars, deep nesting) -> ``load_manifests``,
  ``parse_documents`` + ``load_policy``, ``Cluster.from_manifests`` + a few ``allows``;
- ``cli``: a mutated file through ``validate``, ``lint``, ``render``, ``matrix``, ``check``,
  ``graph`` (exit 0/1/2, no traceback, no "unexpected" error, no empty message).

Exit status 1 when anything failed. The summary goes to stdout; failing inputs to ``--out``
(default: a new temporary directory, never the checkout).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import tests._caches  # noqa: E402,F401 - hypothesis' storage outside the checkout, as in the suite

KINDS = ("doc", "doctext", "text", "cli")


def _policies(n: int, seed: int) -> list[Any]:
    """``n`` valid policies from the test suite's strategy, reproducibly."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.strategies import valid_policies

    out: list[Any] = []

    @settings(max_examples=n, database=None, derandomize=False, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.randoms(use_true_random=False), valid_policies())
    def collect(_rng: random.Random, policy: Any) -> None:
        out.append(policy)

    random.seed(seed)  # hypothesis seeds from the global random when not derandomised
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            collect()
        except Exception as err:  # the strategy itself failed (issue 12 item 5): keep what we have
            print(f"note: valid_policies() stopped after {len(out)} policies: "
                  f"{type(err).__name__}: {str(err).splitlines()[0][:100]}", file=sys.stderr)
    return out


def _where(err: BaseException) -> str:
    """``file:function`` of the innermost frame inside netpol_dsl (else the innermost)."""
    frames = traceback.extract_tb(err.__traceback__)
    ours = [f for f in frames if "netpol_dsl" in f.filename] or frames
    if not ours:
        return "?"
    f = ours[-1]
    return f"{Path(f.filename).name}:{f.name}"


def main(argv: list[str] | None = None) -> int:
    """Run the campaign; 0 when nothing failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="how long to run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", action="append", choices=KINDS, help="kinds of input (repeatable)")
    parser.add_argument("--out", type=Path, default=None, help="where failing inputs go")
    parser.add_argument("--pool", type=int, default=300, help="valid policies to mutate")
    args = parser.parse_args(argv)

    import yaml

    import tests.test_fuzz as fz
    from netpol_dsl.render import to_yaml

    out_dir = args.out or Path(tempfile.mkdtemp(prefix="netpol-fuzz-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    pool = list(fz.CORPUS) + _policies(args.pool, args.seed)
    texts = list(fz.SEED_TEXTS) + [to_yaml(p) for p in pool[:50]]
    kinds = tuple(args.only or KINDS)
    tried: Counter[str] = Counter()
    failures: Counter[tuple[str, str, str]] = Counter()
    first: dict[tuple[str, str, str], str] = {}
    work = Path(tempfile.mkdtemp(prefix="netpol-fuzz-cli-"))
    deadline = time.monotonic() + args.seconds
    i = 0
    while time.monotonic() < deadline:
        kind = kinds[i % len(kinds)]
        i += 1
        data: Any
        try:
            if kind == "doc":
                data = fz.mutate_tree(fz.api_dict(rng.choice(pool)), rng)
                check, call = fz.check_doc, (data,)
            elif kind == "doctext":
                doc = fz.mutate_tree(fz.api_dict(rng.choice(pool)), rng)
                if rng.random() < 0.5:
                    data = json.dumps(doc, default=str).encode("utf-8", "surrogatepass")
                else:
                    data = yaml.safe_dump(doc, allow_unicode=True).encode("utf-8", "surrogatepass")
                check, call = fz.check_bytes, (data,)
            elif kind == "text":
                data = fz.mutate_text(rng.choice(texts), rng)
                check, call = fz.check_bytes, (data,)
            else:
                data = fz.mutate_text(rng.choice(fz.SEED_TEXTS), rng)
                run = rng.choice(fz.CLI_RUNS)
                check, call = fz.check_cli, (data, run, work)
        except (yaml.YAMLError, UnicodeEncodeError, TypeError):
            continue  # the mutated dict has no YAML form: not an input
        tried[kind] += 1
        try:
            check(*call)
        except Exception as err:  # record every failure and keep going
            if isinstance(err, AssertionError):
                key = (kind, "AssertionError", str(err).splitlines()[0][:100])
            else:
                key = (kind, type(err).__name__, _where(err))
            failures[key] += 1
            if key not in first:
                n = len(first)
                path = out_dir / f"failure-{n:03d}-{kind}.txt"
                extra = f"\n# netpol {' '.join(call[1])}\n".encode() if kind == "cli" else b""
                body = data if isinstance(data, bytes) else repr(data).encode("utf-8", "replace")
                path.write_bytes(body + extra)
                first[key] = str(path)
                (out_dir / f"failure-{n:03d}-{kind}.traceback").write_text(
                    "".join(traceback.format_exception(err)), encoding="utf-8")
    total = sum(tried.values())
    print(f"inputs tried: {total} in {args.seconds:.0f} s (seed {args.seed}): "
          + ", ".join(f"{k} {tried[k]}" for k in kinds))
    print(f"failures: {sum(failures.values())} in {len(failures)} kinds")
    for key, count in failures.most_common():
        kind, etype, where = key
        print(f"  {count:6d}  {kind:7s} {etype}: {where}  (first: {first[key]})")
    print(f"failing inputs and tracebacks: {out_dir}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
