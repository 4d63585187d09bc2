"""Loader benchmark: ``python -m benchmarks.load`` (by hand; not part of the test suite).

Each case runs in a fresh subprocess (import not timed) and reports the median wall-clock time
of its repeats, the median CPU time of the process (the cost without the time other processes
held the cores of a shared machine), the subprocess's peak resident memory (``ru_maxrss``,
imports and input text included), and how many documents took the fast reading.

Cases:

- ``r10k``, ``r100k``: ``load_manifests`` of a realistic cluster (``gen_cluster.py --profile
  realistic --seed 42``: namespaces.yaml, pods.yaml, policies.yaml), then ``inventory_from``,
  and ``Cluster.from_manifests`` of the same files (engine included).
- ``list-25mb``: ``kubectl get pods -A -o yaml`` shape, one ``kind: List`` of 30,000 Pods.
- ``policies-53mb``: 228,000 NetworkPolicies in one file (``load_manifests`` validates each).
- ``keys-16mb``: one object with a million keys.
- ``rules-100k``: one NetworkPolicy with 100,000 ingress rules.

Inputs are made under ``--work`` (the realistic clusters with ``--gen``, the shared generator;
``--clusters DIR`` uses ready ones, e.g. ``/work/bench-data`` with ``r10000`` and ``r100000``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CASES = ("r10k", "r100k", "list-25mb", "policies-53mb", "keys-16mb", "rules-100k")


# ------------------------------------------------------------------ inputs


def _policy(i: int) -> str:
    return (f"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
            f"  name: allow-{i}\n  namespace: ns-{i % 500}\nspec:\n  podSelector:\n"
            f"    matchLabels:\n      app: app-{i % 1000}\n  ingress:\n  - from:\n"
            f"    - podSelector:\n        matchLabels:\n          role: c{i % 50}\n"
            f"    ports:\n    - port: {1024 + i % 60000}\n")


def make_inputs(work: Path, gen: Path | None, clusters: Path | None) -> dict[str, list[Path]]:
    """Write the inputs each case reads (once), and return their paths."""
    work.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[Path]] = {}
    for case, size in (("r10k", 10_000), ("r100k", 100_000)):
        src = clusters / f"r{size}" if clusters else work / f"r{size}"
        if not (src / "pods.yaml").exists():
            if gen is None:
                continue
            subprocess.run([sys.executable, str(gen), "--pods", str(size), "--policies",
                            str(size // 10), "--namespaces", str(size // 50), "--seed", "42",
                            "--profile", "realistic", "--out", str(src)], check=True)
        out[case] = [src / "namespaces.yaml", src / "pods.yaml", src / "policies.yaml"]
    listed = work / "list-25mb" / "pods.yaml"
    if not listed.exists() and gen is not None:
        subprocess.run([sys.executable, str(gen), "--pods", "30000", "--policies", "10",
                        "--namespaces", "60", "--seed", "42", "--profile", "realistic",
                        "--layout", "list", "--out", str(listed.parent)], check=True)
    if listed.exists():
        out["list-25mb"] = [listed]
    policies = work / "policies-53mb.yaml"
    if not policies.exists():
        policies.write_text("".join(_policy(i) for i in range(228_000)), encoding="utf-8")
    out["policies-53mb"] = [policies]
    keys = work / "keys-16mb.yaml"
    if not keys.exists():
        keys.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n"
                        + "".join(f"  k{i:07d}: v\n" for i in range(1_000_000)),
                        encoding="utf-8")
    out["keys-16mb"] = [keys]
    rules = work / "rules-100k.yaml"
    if not rules.exists():
        rules.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
                         "  name: big\n  namespace: a\nspec:\n  podSelector: {}\n  ingress:\n"
                         + "".join(f"  - ports:\n    - port: {1 + i % 65535}\n"
                                   for i in range(100_000)), encoding="utf-8")
    out["rules-100k"] = [rules]
    return out


# ------------------------------------------------------------------ one case, in a subprocess


def run_case(case: str, paths: list[str]) -> dict[str, object]:
    """Measure one case in this process (called in a fresh subprocess)."""
    from netpol_dsl import _yaml
    from netpol_dsl.evaluate import Cluster
    from netpol_dsl.evaluate._manifests import inventory_from, load_for_evaluation
    from netpol_dsl.load import load_manifests

    counts = {"fast": 0, "exact": 0}
    ryml_docs, parse_exact = _yaml._ryml_docs, _yaml.parse_exact

    def fast(chunk: str) -> list[object]:
        docs = ryml_docs(chunk)
        counts["fast"] += len(docs)
        return docs

    def exact(*args: object, **kwargs: object) -> list[_yaml.Doc]:
        docs = parse_exact(*args, **kwargs)  # type: ignore[arg-type]
        counts["exact"] += len(docs)
        return docs

    _yaml._ryml_docs, _yaml.parse_exact = fast, exact
    size = sum(os.path.getsize(p) for p in paths)
    result: dict[str, object] = {"case": case, "mb": round(size / 1e6, 1)}

    def timed(name: str, fn: object) -> object:
        c, t = time.process_time(), time.perf_counter()
        value = fn()  # type: ignore[operator]
        result[name] = round(time.perf_counter() - t, 3)
        result[name + "_cpu"] = round(time.process_time() - c, 3)
        return value

    if case in ("r10k", "r100k"):
        m = timed("load_manifests", lambda: load_for_evaluation(paths))
        inv = timed("inventory_from", lambda: inventory_from(m))  # type: ignore[arg-type]
        result["objects"] = len(m.objects) + len(m.policies)  # type: ignore[attr-defined]
        result["pods"] = len(inv.pods)  # type: ignore[attr-defined]
        del m, inv
        timed("from_manifests", lambda: Cluster.from_manifests(paths))
    else:
        m = timed("load_manifests", lambda: load_manifests(paths))
        result["objects"] = len(m.objects) + len(m.policies) + sum(  # type: ignore[attr-defined]
            m.skipped.values())  # type: ignore[attr-defined]
    result.update(counts)
    result["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def measure(case: str, paths: list[Path], repeat: int) -> dict[str, object]:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-m", "benchmarks.load", "--one", case,
                              *map(str, paths)], cwd=ROOT, capture_output=True, text=True,
                             check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    merged: dict[str, object] = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, float) and key != "mb":
            merged[key] = round(statistics.median(float(r[key]) for r in runs), 3)
    merged["peak_mb"] = max(int(r["peak_mb"]) for r in runs)
    merged["repeats"] = repeat
    return merged


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "netpol-load-bench")
    ap.add_argument("--gen", type=Path, help="gen_cluster.py, to make the realistic inputs")
    ap.add_argument("--clusters", type=Path, help="a folder with r10000/ and r100000/")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(run_case(args.one[0], args.one[1:])))
        return
    inputs = make_inputs(args.work, args.gen, args.clusters)
    rows = [measure(c, inputs[c], args.repeat) for c in args.cases if c in inputs]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"load average {os.getloadavg()[0]:.1f}; medians of {args.repeat}; seconds (cpu)")
    for r in rows:
        parts = [f"{k} {r[k]} ({r[k + '_cpu']})" for k in
                 ("load_manifests", "inventory_from", "from_manifests") if k in r]
        print(f"{r['case']:14} {r['mb']:6} MB  {'; '.join(parts)}; peak {r['peak_mb']} MB; "
              f"docs fast {r['fast']}, exact {r['exact']}")


if __name__ == "__main__":
    main()
