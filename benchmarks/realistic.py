"""Benchmarks on realistic clusters: ``python -m benchmarks.realistic``.

The clusters come from the shared generator (``../shared/bench/gen_cluster.py --profile realistic
--seed 42``: Deployments with replicas and ``pod-template-hash``, StatefulSets, pod IPs from
per-node /24s, named container ports, ipBlocks, every policy shape), written once into a cache
directory outside the checkout (``$NETPOL_BENCH_DATA``, default ``~/.cache/netpol-dsl-bench``).

Figures, each the median of ``--repeat`` runs (wall clock, plus CPU time of the process, since
the machine may be shared):

- **fresh**: a new Python process that imports the library, runs ``Cluster.from_manifests`` on
  the three files and computes every pod pair's connection set (``cluster.connectivity()``):
  ``total`` (the process, interpreter start included), ``load`` and ``all-pairs`` inside it,
  and the peak resident memory.
- in one process: the one-port matrix (``matrix(port=8080)``), single queries on random pod
  pairs (cold: the first time a pair of classes is asked), and ``with_policies`` after one
  policy changed (a port added to its first ingress rule).
- at 10k pods: the CLI commands, each a fresh ``python -m netpol_dsl`` process: ``matrix``,
  ``diff`` (one policy changed), ``graph --format mermaid``, ``lint -m``, ``explain``.
- tiers (``--tiers``): the 10k cluster with 50 AdminNetworkPolicies and a
  BaselineAdminNetworkPolicy added (seeded, drawn over the cluster's namespace and pod labels):
  the extra build time and the one-port matrix.
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
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = Path(os.environ.get("NETPOL_BENCH_GEN",
                                ROOT.parent / "shared" / "bench" / "gen_cluster.py"))
DATA = Path(os.environ.get("NETPOL_BENCH_DATA", Path.home() / ".cache" / "netpol-dsl-bench"))
SIZES = {1_000: (100, 20), 3_000: (300, 40), 10_000: (1_000, 200), 100_000: (10_000, 2_000)}


def cluster_dir(pods: int) -> Path:
    """The generated cluster of ``pods`` pods (generated on first use)."""
    policies, namespaces = SIZES[pods]
    out = DATA / f"realistic-{pods}-seed42"
    if not (out / "policies.yaml").exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(GENERATOR), "--pods", str(pods), "--policies",
                        str(policies), "--namespaces", str(namespaces), "--seed", "42",
                        "--profile", "realistic", "--out", str(out)], check=True)
    return out


def files(d: Path) -> list[str]:
    return [str(d / "namespaces.yaml"), str(d / "pods.yaml"), str(d / "policies.yaml")]


# ------------------------------------------------------------------ one fresh process

_FRESH = """
import json, resource, sys, time
t0 = time.perf_counter(); c0 = time.process_time()
from netpol_dsl.evaluate import Cluster
t1 = time.perf_counter()
cluster = Cluster.from_manifests(sys.argv[1:])
t2 = time.perf_counter()
conn = cluster.connectivity()
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "all_pairs": t3 - t2,
                  "inside": t3 - t0, "cpu": time.process_time() - c0,
                  "classes": conn.table.shape[0], "sets": len(conn.sets),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def fresh(d: Path, repeat: int) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _FRESH, *files(d)], check=True,
                             capture_output=True, text=True, cwd=ROOT)
        total = time.perf_counter() - t
        runs.append({**json.loads(out.stdout), "total": total})
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


# ------------------------------------------------------------------ in one process


def _median(fn: Any, repeat: int) -> float:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def changed_policies(cluster: Any) -> tuple[list[Any], list[Any], Any]:
    """The cluster's policies, and the same with one changed (a port added to the first
    ingress rule with ports)."""
    from netpol_dsl import load_policy

    old = list(cluster.policies)
    for i, p in enumerate(old):
        d = p.to_dict()
        rules = d["spec"].get("ingress") or []
        if rules and rules[0].get("ports"):
            rules[0]["ports"].append({"port": 12345})
            return old, [*old[:i], load_policy(d), *old[i + 1:]], old[i]
    msg = "no policy with ingress ports to change"
    raise RuntimeError(msg)


def in_process(d: Path, repeat: int, queries: int = 20_000) -> dict[str, Any]:
    from netpol_dsl.evaluate import Cluster

    cluster = Cluster.from_manifests(files(d))
    out: dict[str, Any] = {}
    out["matrix_8080"] = _median(lambda: cluster.with_policies(cluster.policies).matrix(port=8080),
                                 repeat)
    rng = random.Random(1)
    keys = [p.key for p in cluster.pods]
    pairs = [(rng.choice(keys), rng.choice(keys)) for _ in range(queries)]
    fresh_cluster = Cluster.from_manifests(files(d))
    t = time.perf_counter()
    for a, b in pairs:
        fresh_cluster.allows(a, b, 8080)
    out["query_cold_us"] = (time.perf_counter() - t) / queries * 1e6
    t = time.perf_counter()
    for a, b in pairs:
        fresh_cluster.allows(a, b, 8080)
    out["query_warm_us"] = (time.perf_counter() - t) / queries * 1e6
    _, new, _ = changed_policies(cluster)
    out["with_policies"] = _median(lambda: cluster.with_policies(new), max(repeat, 5))
    derived = cluster.with_policies(new)
    # incremental: the derived cluster shares the classes (no rebuild)
    out["with_policies_incremental"] = derived._engine.class_ns is cluster._engine.class_ns
    return out


# ------------------------------------------------------------------ CLI at 10k


def cli(d: Path, repeat: int) -> dict[str, float]:
    from netpol_dsl.evaluate import Cluster
    from netpol_dsl.render import to_yaml

    cluster = Cluster.from_manifests(files(d))
    old, new, _ = changed_policies(cluster)
    tmp = Path(tempfile.mkdtemp(prefix="netpol-bench-"))
    (tmp / "old").mkdir()
    (tmp / "new").mkdir()
    (tmp / "old" / "policies.yaml").write_text(to_yaml(old), encoding="utf-8")
    (tmp / "new" / "policies.yaml").write_text(to_yaml(new), encoding="utf-8")
    inventory = ["-m", str(d / "namespaces.yaml"), "-m", str(d / "pods.yaml")]
    everything = [*inventory, "-m", str(d / "policies.yaml")]
    pod = cluster.workloads()[len(cluster.workloads()) // 2].key
    commands = {
        "matrix": ["matrix", *everything],
        "diff": ["diff", str(tmp / "old"), str(tmp / "new"), *inventory],
        "graph_mermaid": ["graph", *everything, "--format", "mermaid"],
        "lint": ["lint", str(d / "policies.yaml"), *inventory],
        "explain": ["explain", *everything, pod],
    }
    out = {}
    for name, args in commands.items():
        def run(args: list[str] = args, name: str = name) -> None:
            r = subprocess.run([sys.executable, "-m", "netpol_dsl", *args], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode not in (0, 1):
                raise RuntimeError(f"netpol {name}: exit {r.returncode}: {r.stderr[-500:]}")
        out[name] = _median(run, repeat)
    return out


# ------------------------------------------------------------------ tiers


def admin_policies(cluster: Any, n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` AdminNetworkPolicies and a BaselineAdminNetworkPolicy drawn over the cluster."""
    rng = random.Random(seed)
    names = sorted(cluster.namespaces)
    apps = sorted({p.labels["app"] for p in cluster.pods if "app" in p.labels})
    out: list[dict[str, Any]] = []
    for i in range(n):
        ns = rng.choice(names)
        subject = ({"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}
                   if rng.random() < 0.5 else
                   {"pods": {"namespaceSelector": {}, "podSelector": {
                       "matchLabels": {"app": rng.choice(apps)}}}})
        action = rng.choice(("Allow", "Deny", "Pass"))
        peer = rng.choice((
            {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": rng.choice(names)}}},
            {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {
                "app": rng.choice(apps)}}}},
        ))
        rule = {"name": f"r{i}", "action": action, "from": [peer]}
        if rng.random() < 0.6:
            rule["ports"] = [{"portNumber": {"protocol": "TCP", "port": rng.choice(
                (80, 443, 8080, 9090))}}]
        egress = {"name": f"e{i}", "action": rng.choice(("Allow", "Deny", "Pass")),
                  "to": [{"networks": [rng.choice(("0.0.0.0/0", "10.0.0.0/8", "203.0.113.0/24"))]}]}
        out.append({"apiVersion": "policy.networking.k8s.io/v1alpha1",
                    "kind": "AdminNetworkPolicy", "metadata": {"name": f"admin-{i:02d}"},
                    "spec": {"priority": i * 10, "subject": subject, "ingress": [rule],
                             "egress": [egress]}})
    out.append({"apiVersion": "policy.networking.k8s.io/v1alpha1",
                "kind": "BaselineAdminNetworkPolicy", "metadata": {"name": "default"},
                "spec": {"subject": {"namespaces": {}},
                         "ingress": [{"name": "deny-all", "action": "Deny",
                                      "from": [{"namespaces": {}}]}]}})
    return out


def tiers(d: Path, repeat: int) -> dict[str, float]:
    from netpol_dsl.evaluate import Cluster
    from netpol_dsl.model import AdminNetworkPolicy, BaselineAdminNetworkPolicy

    base = Cluster.from_manifests(files(d))
    extra = [AdminNetworkPolicy.model_validate(x) if x["kind"] == "AdminNetworkPolicy"
             else BaselineAdminNetworkPolicy.model_validate(x)
             for x in admin_policies(base, 50)]
    args = (list(base.namespaces.values()), list(base.pods))
    plain = _median(lambda: Cluster(*args, list(base.policies)), repeat)
    mixed = _median(lambda: Cluster(*args, [*base.policies, *extra]), repeat)
    with_tiers = Cluster(*args, [*base.policies, *extra])
    matrix = _median(lambda: Cluster(*args, [*base.policies, *extra]).matrix(port=8080), repeat)
    build_again = _median(lambda: Cluster(*args, [*base.policies, *extra]), repeat)
    return {"build_without": plain, "build_with": mixed, "build_extra": mixed - plain,
            "matrix_8080_with_build": matrix, "matrix_8080": matrix - build_again,
            "admin_rules": sum(1 for r in with_tiers._engine.rules if r.tier != 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,3000,10000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--tiers", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results: dict[str, Any] = {}
    for size in (int(x) for x in args.sizes.split(",")):
        d = cluster_dir(size)
        r: dict[str, Any] = {"fresh": fresh(d, args.repeat)}
        r["in_process"] = in_process(d, args.repeat, 20_000 if size <= 10_000 else 5_000)
        if size == 10_000 and not args.no_cli:
            r["cli"] = cli(d, args.repeat)
        if size == 10_000 and args.tiers:
            r["tiers"] = tiers(d, args.repeat)
        r["load_average"] = os.getloadavg()
        results[str(size)] = r
        if not args.json:
            print(f"== {size} pods", json.dumps(r, indent=1), flush=True)
    if args.json:
        print(json.dumps(results, indent=1))
    _ = resource  # (peak memory is measured in the fresh processes)


if __name__ == "__main__":
    main()
