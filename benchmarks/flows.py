"""Benchmark replay and suggestion on recorded traffic: ``python -m benchmarks.flows``.

The inventory is the shared 10,000-pod cluster (``--inventory DIR`` with ``namespaces.yaml``,
``pods.yaml`` and ``policies.yaml``, as ``gen_cluster.py`` writes them; default
``/work/bench-data/r10000``). The traffic is generated here, seeded (``--seed``), and written to
a temporary directory (never into the checkout): ``--records`` lines of ``hubble observe -o
json`` (1,000,000 by default) shaped like a real recording:

- each workload talks to one to three workloads of its namespace on one of their container ports
  (or 8080), one in ten workloads also to a workload of another namespace, one in five to an
  external address on 443, and every pod looks names up at kube-dns (UDP 53);
- a record is a random pod of the source workload to a random pod of the destination, seen at
  both ends (``traffic_direction`` EGRESS and INGRESS), and about a third of the lines are the
  replies (``is_reply: true``), which a reader must skip;
- lines carry the fields Hubble prints (time, uuid, verdict, IP, l4 with TCP flags, source and
  destination with identity, labels, pod name and workloads, node, event type, direction,
  summary), about 1 KB each.

What is timed (median of ``--repeat`` runs, 3 by default, with the median CPU time):

- **read**: ``read_flows`` of the Hubble file (parse, skip replies, count per connection);
- **replay**: ``replay`` of what was read against the inventory's policies plus a default deny
  in every namespace (matching ends to the inventory, evaluating every connection, grouping
  what breaks); the reading is reported apart and also added (``read + replay``);
- **suggest**: ``suggest`` of what was read, at workload granularity for every namespace
  (matching ends to the inventory, selectors, rules, the ``PolicySet`` objects compiled, the DSL
  code) without and with its built-in check (the recording replayed against the suggestion);
  ``to_yaml`` of the suggestion is also timed.

Loading the inventory (YAML parsing) and generating the traffic are not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_INVENTORY = Path("/work/bench-data/r10000")
TARGETS = {"read_plus_replay_s": 10.0, "suggest_s": 10.0}


def generate_traffic(cluster: Any, records: int, seed: int, path: Path) -> dict[str, int]:
    """Write ``records`` Hubble JSON lines for ``cluster``'s pods to ``path`` (seeded)."""
    import msgspec

    rnd = random.Random(seed)
    workloads = [w for w in cluster.workloads()
                 if not any(cluster.pod(k).host_network for k in w.pods)]
    by_ns: dict[str, list[Any]] = {}
    for w in workloads:
        by_ns.setdefault(w.namespace, []).append(w)
    dns = [w for w in workloads if w.namespace == "kube-system"
           and w.labels.get("k8s-app") == "kube-dns"]
    pods = {p.key: p for p in cluster.pods}
    externals = ["52.94.94.108", "140.82.118.132", "34.120.73.155", "203.0.113.77"]
    edges: list[tuple[Any, Any, str, int]] = []
    for w in workloads:
        same = by_ns[w.namespace]
        for _ in range(rnd.randint(1, 3)):
            d = rnd.choice(same)
            ports = [cp.port for k in d.pods[:1] for cp in pods[k].ports
                     if cp.protocol == "TCP"] or [8080]
            edges.append((w, d, "TCP", rnd.choice(ports)))
        if rnd.random() < 0.1:
            d = rnd.choice(workloads)
            ports = [cp.port for cp in pods[d.pods[0]].ports if cp.protocol == "TCP"] or [8080]
            edges.append((w, d, "TCP", rnd.choice(ports)))
        if rnd.random() < 0.2:
            edges.append((w, rnd.choice(externals), "TCP", 443))
        if dns:
            edges.append((w, rnd.choice(dns), "UDP", 53))
    weights = [rnd.paretovariate(1.2) for _ in edges]

    def endpoint(pod: Any) -> dict[str, Any]:
        labels = [f"k8s:{k}={v}" for k, v in sorted(pod.labels.items())]
        labels.append(f"k8s:io.kubernetes.pod.namespace={pod.namespace}")
        wl = [{"name": pod.owner_name, "kind": pod.owner_kind}] if pod.owner_name else []
        return {"ID": rnd.randint(1, 4000), "identity": rnd.randint(256, 65535),
                "namespace": pod.namespace, "labels": labels, "pod_name": pod.name,
                "workloads": wl}

    world = {"identity": 2, "labels": ["reserved:world"]}
    enc = msgspec.json.Encoder()
    written = replies = 0
    with open(path, "wb") as fh:
        chosen = rnd.choices(range(len(edges)), weights=weights, k=records)
        for i in chosen:
            if written >= records:
                break
            src_w, dst, proto, port = edges[i]
            sp = pods[rnd.choice(src_w.pods)]
            s_ep, s_ip = endpoint(sp), (sp.ips[0] if sp.ips else "10.0.0.1")
            if isinstance(dst, str):
                d_ep, d_ip = world, dst
            else:
                dp = pods[rnd.choice(dst.pods)]
                d_ep, d_ip = endpoint(dp), (dp.ips[0] if dp.ips else "10.0.0.2")
            sport = rnd.randint(32768, 60999)
            for direction, reply in (("EGRESS", False), ("INGRESS", False), ("EGRESS", True)):
                if written >= records:
                    break
                if reply:
                    l4 = {proto: {"source_port": port, "destination_port": sport}}
                    ends = (d_ep, s_ep, d_ip, s_ip)
                    replies += 1
                else:
                    l4 = {proto: {"source_port": sport, "destination_port": port}}
                    ends = (s_ep, d_ep, s_ip, d_ip)
                if proto == "TCP":
                    l4["TCP"]["flags"] = {"SYN": True, "ACK": True} if reply else {"SYN": True}
                t = f"2024-06-01T10:{(written // 60000) % 60:02d}:{(written // 1000) % 60:02d}Z"
                flow = {"time": t, "uuid": f"{rnd.getrandbits(128):032x}",
                        "verdict": "FORWARDED",
                        "IP": {"source": ends[2], "destination": ends[3], "ipVersion": "IPv4"},
                        "l4": l4, "source": ends[0], "destination": ends[1], "Type": "L3_L4",
                        "node_name": f"node-{rnd.randint(1, 160)}", "event_type": {"type": 4},
                        "traffic_direction": direction,
                        "trace_observation_point": "TO_ENDPOINT", "is_reply": reply,
                        "Summary": "TCP Flags: SYN" if proto == "TCP" else "UDP"}
                fh.write(enc.encode({"flow": flow, "node_name": flow["node_name"], "time": t}))
                fh.write(b"\n")
                written += 1
    return {"records": written, "replies": replies, "edges": len(edges),
            "bytes": path.stat().st_size}


def _time(fn: Any, repeat: int) -> tuple[dict[str, float], Any]:
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        c = time.process_time()
        t = time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return {"median": statistics.median(walls), "min": min(walls),
            "cpu_median": statistics.median(cpus)}, result


def main(argv: list[str] | None = None) -> int:
    """Generate the traffic, time read / replay / suggest, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, default=None, help="write the flow file here and keep it")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from netpol_dsl import deny_all
    from netpol_dsl.evaluate import Cluster
    from netpol_dsl.flows import read_flows
    from netpol_dsl.replay import replay
    from netpol_dsl.suggest import suggest

    files = [args.inventory / n for n in ("namespaces.yaml", "pods.yaml", "policies.yaml")]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        print(f"missing inventory files: {', '.join(missing)} (generate them with "
              "gen_cluster.py --pods 10000 --policies 1000 --namespaces 200 --seed 42 "
              "--profile realistic --out DIR)", file=sys.stderr)
        return 2
    t = time.perf_counter()
    cluster = Cluster.from_manifests(files)
    load_s = time.perf_counter() - t
    out: dict[str, Any] = {"inventory": str(args.inventory), "pods": len(cluster.pods),
                           "workloads": len(cluster.workloads()),
                           "policies": len(cluster.policies), "load_inventory_s": load_s}
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "flows.json"
        t = time.perf_counter()
        out["traffic"] = generate_traffic(cluster, args.records, args.seed, path)
        out["generate_s"] = time.perf_counter() - t
        out["read_s"], log = _time(lambda: read_flows(path), args.repeat)
        out["connections"] = len(log.flows)
        namespaces = sorted(n for n in cluster.namespaces if n != "kube-system")
        denied = cluster.with_policies(
            [*cluster.policies, *(p for n in namespaces for p in deny_all(n).compile())])
        out["replay_s"], report = _time(lambda: replay(log, denied), args.repeat)
        out["read_plus_replay_s"] = {k: out["read_s"][k] + out["replay_s"][k]
                                     for k in ("median", "min", "cpu_median")}
        out["replay_broken"] = len(report.broken)
        out["replay_denied_records"] = report.denied
        out["replay_current_s"], current = _time(lambda: replay(log, cluster), args.repeat)
        out["replay_current_broken"] = len(current.broken)
        out["suggest_s"], result = _time(
            lambda: suggest(log, cluster, check=False), args.repeat)
        out["suggested_flows"] = len(result.flows)
        out["suggested_policies"] = len(result.policies)
        out["suggested_code_lines"] = result.to_python().count("\n")
        out["suggest_check_s"], checked = _time(lambda: suggest(log, cluster), args.repeat)
        assert checked.check is not None
        out["suggest_check_ok"] = checked.check.ok
        out["suggest_check_broken"] = [str(b) for b in checked.check.broken[:5]]
        out["to_yaml_s"], _ = _time(result.to_yaml, 1)
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(out, indent=2, default=str))
        return 0

    def fig(key: str) -> str:
        v = out[key]
        return f"{v['median']:.2f} s (min {v['min']:.2f}, cpu {v['cpu_median']:.2f})"

    tr = out["traffic"]
    print(f"inventory: {out['pods']:,} pods, {out['workloads']:,} workloads, "
          f"{out['policies']:,} policies (loaded in {load_s:.1f} s, not timed)")
    print(f"traffic: {tr['records']:,} Hubble lines ({tr['replies']:,} replies, "
          f"{tr['bytes'] / 1e6:.0f} MB, {tr['edges']:,} workload edges), "
          f"{out['connections']:,} distinct connections")
    print(f"read:     {fig('read_s')}")
    print(f"replay:   {fig('replay_s')} against the policies + default deny in "
          f"{len(namespaces)} namespaces ({out['replay_broken']:,} broken groups); "
          f"read + replay {out['read_plus_replay_s']['median']:.2f} s "
          f"(target {TARGETS['read_plus_replay_s']:.0f})")
    print(f"replay:   {fig('replay_current_s')} against the current policies "
          f"({out['replay_current_broken']:,} broken groups)")
    print(f"suggest:  {fig('suggest_s')} ({out['suggested_flows']:,} flows, "
          f"{out['suggested_policies']:,} policies, {out['suggested_code_lines']:,} lines of "
          f"code; target {TARGETS['suggest_s']:.0f}); with its check "
          f"{fig('suggest_check_s')} (ok: {out['suggest_check_ok']}); to_yaml "
          f"{fig('to_yaml_s')}")
    print(f"load average {out['load_average']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
