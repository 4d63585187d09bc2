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
                  "rows": conn.reduced.shape[0], "columns": conn.reduced.shape[1], "sets": len(conn.sets),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def fresh(d: Path, repeat: int) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        # with bytecode caches, as an installed library has them (this machine's environment
        # sets PYTHONDONTWRITEBYTECODE, which would time the compiler on every import)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        out = subprocess.run([sys.executable, "-c", _FRESH, *files(d)], check=True,
                             capture_output=True, text=True, cwd=ROOT, env=env)
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


def _ns(name: str) -> dict[str, Any]:
    return {"matchLabels": {"kubernetes.io/metadata.name": name}}


_DNS = {"pods": {"namespaceSelector": _ns("kube-system"),
                 "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}}
_DNS_PORTS = [{"portNumber": {"protocol": "UDP", "port": 53}},
              {"portNumber": {"protocol": "TCP", "port": 53}}]
_SYSTEM = ["kube-system", "monitoring", "ingress-nginx"]


def admin_policies(cluster: Any, n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` AdminNetworkPolicies and a BaselineAdminNetworkPolicy drawn over the cluster.

    Shaped like what platform teams write (network-policy-api ``site-src/user-stories.md``):
    tenant isolation by a namespace label (same tenant: Pass to the NetworkPolicies; monitoring
    allowed on the named port ``metrics``; others denied), protection of data tiers in prod
    (backends of the namespace allowed on named database ports and a port range, everything else
    denied), egress guards per environment (DNS to kube-dns allowed, the cloud metadata address
    denied, the pod network passed, the internet denied), ingress-controller access on named
    ports, and per-application Pass rules. Priorities are distinct (equal ones are undefined
    upstream). The baseline, for every namespace but the system ones: ingress from monitoring on
    ``metrics`` allowed, from other namespaces (but the ingress controller's) denied; egress to
    DNS and to pods allowed, outside the cluster denied.
    """
    rng = random.Random(seed)
    names = sorted(cluster.namespaces)
    ns_labels = {k: dict(v.labels) for k, v in cluster.namespaces.items()}
    teams = sorted({v["team"] for v in ns_labels.values() if "team" in v})
    envs = sorted({v["env"] for v in ns_labels.values() if "env" in v})
    apps = sorted({p.labels["app"] for p in cluster.pods if "app" in p.labels})
    tenants = [x for x in names if x not in _SYSTEM]
    out: list[dict[str, Any]] = []
    for i in range(n):
        kind = i % 5
        spec: dict[str, Any]
        if kind == 0:    # tenant isolation
            team = rng.choice(teams)
            spec = {"subject": {"namespaces": {"matchLabels": {"team": team}}},
                    "ingress": [
                        {"name": "same-tenant", "action": "Pass",
                         "from": [{"namespaces": {"matchLabels": {"team": team}}}]},
                        {"name": "monitoring", "action": "Allow",
                         "from": [{"namespaces": {"matchLabels": {"purpose": "monitoring"}}}],
                         "ports": [{"namedPort": "metrics"}]},
                        {"name": "ingress-controller", "action": "Pass",
                         "from": [{"namespaces": _ns("ingress-nginx")}]},
                        {"name": "other-tenants", "action": "Deny",
                         "from": [{"namespaces": {}}]}]}
        elif kind == 1:  # data tier in one prod namespace
            ns = rng.choice(tenants)
            spec = {"subject": {"pods": {"namespaceSelector": _ns(ns),
                                         "podSelector": {"matchLabels": {"tier": "data"}}}},
                    "ingress": [
                        {"name": "backends", "action": "Allow",
                         "from": [{"pods": {"namespaceSelector": _ns(ns), "podSelector": {
                             "matchExpressions": [{"key": "tier", "operator": "In",
                                                   "values": ["backend", "worker"]}]}}}],
                         "ports": [{"namedPort": "postgres"}, {"namedPort": "mysql"},
                                   {"namedPort": "redis"},
                                   {"portRange": {"protocol": "TCP", "start": 5432,
                                                  "end": 5433}}]},
                        {"name": "rest", "action": "Deny", "from": [{"namespaces": {}}]}]}
        elif kind == 2:  # egress guard per environment
            env = rng.choice(envs)
            spec = {"subject": {"namespaces": {"matchLabels": {"env": env}}},
                    "egress": [
                        {"name": "dns", "action": "Allow", "to": [_DNS], "ports": _DNS_PORTS},
                        {"name": "metadata", "action": "Deny",
                         "to": [{"networks": ["169.254.169.254/32"]}]},
                        {"name": "pod-network", "action": "Pass",
                         "to": [{"networks": ["10.64.0.0/10"]}]},
                        {"name": "internal", "action": "Pass",
                         "to": [{"networks": ["10.0.0.0/8", "172.16.0.0/12"]}]},
                        {"name": "internet", "action": "Deny",
                         "to": [{"networks": ["0.0.0.0/0"]}]}]}
        elif kind == 3:  # ingress controller to one namespace's web pods
            ns = rng.choice(tenants)
            spec = {"subject": {"pods": {"namespaceSelector": _ns(ns), "podSelector": {
                        "matchLabels": {"tier": "frontend"}}}},
                    "ingress": [
                        {"name": "from-ingress", "action": "Allow",
                         "from": [{"pods": {"namespaceSelector": _ns("ingress-nginx"),
                                            "podSelector": {}}}],
                         "ports": [{"namedPort": "http"}, {"namedPort": "https"},
                                   {"portRange": {"protocol": "TCP", "start": 8000,
                                                  "end": 8100}}]}]}
        else:            # an application across namespaces: Pass among its pods
            app = rng.choice(apps)
            spec = {"subject": {"pods": {"namespaceSelector": {"matchExpressions": [
                        {"key": "env", "operator": "In", "values": ["prod", "staging"]}]},
                                         "podSelector": {"matchLabels": {"app": app}}}},
                    "ingress": [
                        {"name": "same-app", "action": "Pass",
                         "from": [{"pods": {"namespaceSelector": {},
                                            "podSelector": {"matchLabels": {"app": app}}}}],
                         "ports": [{"namedPort": "grpc"},
                                   {"portNumber": {"protocol": "TCP", "port": 8080}}]}],
                    "egress": [
                        {"name": "same-app", "action": "Allow",
                         "to": [{"pods": {"namespaceSelector": {},
                                          "podSelector": {"matchLabels": {"app": app}}}}],
                         "ports": [{"namedPort": "grpc"}]}]}
        spec["priority"] = 10 + 19 * i
        out.append({"apiVersion": "policy.networking.k8s.io/v1alpha1",
                    "kind": "AdminNetworkPolicy", "metadata": {"name": f"admin-{i:02d}"},
                    "spec": spec})
    out.append({"apiVersion": "policy.networking.k8s.io/v1alpha1",
                "kind": "BaselineAdminNetworkPolicy", "metadata": {"name": "default"},
                "spec": {"subject": {"namespaces": {"matchExpressions": [
                             {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                              "values": _SYSTEM}]}},
                         "ingress": [
                             {"name": "monitoring", "action": "Allow",
                              "from": [{"namespaces": {"matchLabels": {"purpose": "monitoring"}}}],
                              "ports": [{"namedPort": "metrics"}]},
                             {"name": "other-namespaces", "action": "Deny",
                              "from": [{"namespaces": {"matchExpressions": [
                                  {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                   "values": ["ingress-nginx"]}]}}]}],
                         "egress": [
                             {"name": "dns", "action": "Allow", "to": [_DNS],
                              "ports": _DNS_PORTS},
                             {"name": "pods", "action": "Allow", "to": [{"namespaces": {}}]},
                             {"name": "outside", "action": "Deny",
                              "to": [{"networks": ["0.0.0.0/0", "::/0"]}]}]}})
    return out


def tiers(d: Path, repeat: int) -> dict[str, Any]:
    """Build time without and with the cluster-wide policies, and the one-port matrix (each
    timed on a cluster built just before, untimed, so no cached decision helps); medians of
    wall clock and of the process's CPU time."""
    from netpol_dsl.evaluate import Cluster
    from netpol_dsl.model import AdminNetworkPolicy, BaselineAdminNetworkPolicy

    base = Cluster.from_manifests(files(d))
    extra = [AdminNetworkPolicy.model_validate(x) if x["kind"] == "AdminNetworkPolicy"
             else BaselineAdminNetworkPolicy.model_validate(x)
             for x in admin_policies(base, 50)]
    args = (list(base.namespaces.values()), list(base.pods))
    mixed_policies = [*base.policies, *extra]

    def matrix(policies: list[Any]) -> tuple[float, float]:
        """Median wall clock and CPU time of ``matrix(port=8080)`` on a fresh build."""
        times, cpu = [], []
        for _ in range(repeat):
            c = Cluster(*args, policies)
            t, c0 = time.perf_counter(), time.process_time()
            c.matrix(port=8080)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c0)
        return statistics.median(times), statistics.median(cpu)

    def build(policies: list[Any]) -> tuple[float, float]:
        times, cpu = [], []
        for _ in range(repeat):
            t, c0 = time.perf_counter(), time.process_time()
            Cluster(*args, policies)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c0)
        return statistics.median(times), statistics.median(cpu)

    (plain, plain_cpu), (mixed, mixed_cpu) = build(list(base.policies)), build(mixed_policies)
    with_tiers = Cluster(*args, mixed_policies)
    m = with_tiers.matrix(port=8080)
    (m_plain, m_plain_cpu), (m_mixed, m_mixed_cpu) = (matrix(list(base.policies)),
                                                      matrix(mixed_policies))
    return {"build_without": plain, "build_with": mixed, "build_extra": mixed - plain,
            "build_extra_cpu": mixed_cpu - plain_cpu,
            "matrix_8080_without": m_plain, "matrix_8080_without_cpu": m_plain_cpu,
            "matrix_8080_with": m_mixed, "matrix_8080_with_cpu": m_mixed_cpu,
            "allowed_pairs_8080_with": m.count(),
            "classes_with": with_tiers._engine.n,
            "admin_rules": sum(1 for r in with_tiers._engine.rules if r.tier != 1),
            "load_average": os.getloadavg()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,3000,10000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--tiers", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--only-tiers", metavar="DIR", type=Path,
                    help="only the tiers figures, on the 10k cluster in DIR "
                         "(namespaces.yaml, pods.yaml, policies.yaml)")
    args = ap.parse_args()
    results: dict[str, Any] = {}
    if args.only_tiers is not None:
        print(json.dumps(tiers(args.only_tiers, args.repeat), indent=1))
        return
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
