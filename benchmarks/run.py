"""Run the evaluator benchmarks: ``python -m benchmarks.run`` (or ``python benchmarks/run.py``).

Each size runs in its own subprocess so that its peak memory (``ru_maxrss``) is its own. For
each figure the median wall-clock time of several repeats is reported, with the minimum and the
median CPU time of the process (which shows the cost without the time other processes on a
shared machine held the cores), and the load average at the end.

- build: ``Cluster(namespaces, pods, policies)``, given the objects (generation not timed).
- query: ``cluster.allows(src, dst, 8080)`` on random pod pairs, per query, after build.
- all-pairs: ``cluster.matrix(port=8080)`` (every ordered pod pair, one port).
- peak memory: the subprocess's maximum resident set size, generator included.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGETS = {
    (10_000, 1_000): {"build": 0.25, "query_us": 5.0, "all_pairs": 0.1},
    (100_000, 10_000): {"build": 10.0, "all_pairs": 2.0, "peak_mb": 8192},
}


#: CPU seconds of this process per repeat, next to the wall-clock ones: on a shared machine the
#: wall clock also counts the time other processes hold the cores.
_CPU: list[float] = []


def _time(fn: object, repeat: int) -> list[float]:
    out = []
    _CPU.clear()
    for _ in range(repeat):
        c = time.process_time()
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - t)
        _CPU.append(time.process_time() - c)
    return out


def _fig(walls: list[float], scale: float = 1.0) -> dict[str, float]:
    cpu = list(_CPU)
    return {"median": statistics.median(walls) * scale, "min": min(walls) * scale,
            "cpu_median": statistics.median(cpu) * scale}


def measure(pods: int, policies: int, repeat: int, seed: int) -> dict[str, object]:
    """Measure one size in this process."""
    from benchmarks.synthetic import generate
    from netpol_dsl.evaluate import Cluster

    t = time.perf_counter()
    syn = generate(pods, policies, seed=seed)
    gen = time.perf_counter() - t
    clusters: list[Cluster] = []
    builds = _fig(_time(
        lambda: clusters.append(Cluster(syn.namespaces, syn.pods, syn.policies)), repeat))
    cluster = clusters[-1]
    del clusters[:-1]
    rnd = random.Random(seed)
    keys = [p.key for p in syn.pods]
    # Half the queries stay in one namespace (where most allow rules point), half cross.
    by_ns: dict[str, list[str]] = {}
    for p in syn.pods:
        by_ns.setdefault(p.namespace, []).append(p.key)
    queries = []
    for n in range(20_000):
        a = rnd.choice(keys)
        b = rnd.choice(by_ns[a.split("/", 1)[0]]) if n % 2 else rnd.choice(keys)
        queries.append((a, b))
    allows = cluster.allows
    for a, b in queries[:2000]:  # warm the endpoint cache as a real session would
        allows(a, b, 8080)

    def run_queries() -> None:
        for a, b in queries:
            allows(a, b, 8080)  # each verdict is dropped, as an assertion would

    per_query = _fig(_time(run_queries, repeat), 1e6 / len(queries))
    matrices = []
    pairs = _fig(_time(lambda: matrices.append(cluster.matrix(port=8080)), repeat))
    matrix = matrices[-1]
    allowed_pairs = matrix.count()
    matrices.clear()
    # Not timed: the fast answers must agree with the rule-by-rule explanation and the matrix.
    for a, b in queries[:300]:
        v = allows(a, b, 8080)
        if v.allowed != (v.egress.allowed and v.ingress.allowed) or v.allowed != matrix.allowed(a, b):
            msg = f"benchmark cross-check failed for {a} -> {b}: {v.explain()}"
            raise AssertionError(msg)
    allowed_queries = sum(bool(allows(a, b, 8080)) for a, b in queries)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    eng = cluster._engine
    return {
        "pods": len(syn.pods), "policies": len(syn.policies),
        "namespaces": len(cluster.namespaces), "classes": eng.n, "rules": len(eng.rules),
        "allowed_pairs_8080": allowed_pairs,
        "allowed_queries": f"{allowed_queries}/{len(queries)}",
        "generate_s": round(gen, 3),
        "build_s": builds,
        "query_us": per_query,
        "all_pairs_s": pairs,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "peak_mb": round(peak_mb),
    }


def _row(result: dict[str, object]) -> str:
    def fig(key: str, unit: str, digits: int) -> str:
        v = result[key]
        assert isinstance(v, dict)
        return (f"{v['median']:.{digits}f} {unit} (min {v['min']:.{digits}f}, "
                f"cpu {v['cpu_median']:.{digits}f})")

    return (f"{result['pods']:>7} pods {result['policies']:>6} policies "
            f"({result['classes']} classes, {result['rules']} rules): "
            f"build {fig('build_s', 's', 3)}; query {fig('query_us', 'µs', 2)}; "
            f"all-pairs {fig('all_pairs_s', 's', 3)}; peak {result['peak_mb']} MB; "
            f"load average {result['load_average']}")


def main(argv: list[str] | None = None) -> int:
    """Run every size in a subprocess and print the medians (``--json`` for raw data)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sizes", default="10000:1000,100000:10000",
                    help="pods:policies pairs, comma-separated")
    ap.add_argument("--repeat", type=int, default=0, help="repeats (default 7, 3 at 100k+)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        pods, policies = map(int, args.one.split(":"))
        repeat = args.repeat or (3 if pods >= 100_000 else 7)
        print(json.dumps(measure(pods, policies, repeat, args.seed)))
        return 0
    results = []
    for size in args.sizes.split(","):
        cmd = [sys.executable, "-m", "benchmarks.run", "--one", size, "--seed", str(args.seed)]
        if args.repeat:
            cmd += ["--repeat", str(args.repeat)]
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
        result = json.loads(out.stdout)
        results.append(result)
        if not args.json:
            print(_row(result), flush=True)
            target = TARGETS.get((int(result["pods"]), int(result["policies"])))  # type: ignore[call-overload]
            if target:
                print("         targets:", ", ".join(f"{k} <= {v}" for k, v in target.items()))
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
