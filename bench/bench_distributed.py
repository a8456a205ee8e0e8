"""Distributed mode on one machine: walk throughput at 1 (local), 2 and 4 shards, messages and bytes
per walk step, and the edge cut of metis / ldg / hash, on BlogCatalog.

Every distributed walk is checked bit-identical to the local walk with the same seed before its
time counts. Quick mode (the default) walks 1 walk per node of length 80; ``--full`` 10.

    .venv/bin/python bench/bench_distributed.py [--full] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_walks import blogcatalog_graph  # noqa: E402

SETTINGS = [("uniform", 1.0, 1.0), ("node2vec", 0.25, 4.0)]


def _best(fn, reps: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="10 walks per node, 3 reps (default: 1 walk, 2 reps)")
    ap.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray (default: all)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    wpn, reps = (10, 3) if args.full else (1, 2)

    from vastgraph.distributed import DistributedGraph, partition_graph
    from vastgraph.distributed.cluster import ensure_ray
    from vastgraph.sampling.engine import engine_for
    from vastgraph.sampling.walks import random_walks

    g, _ = blogcatalog_graph()
    work = Path(tempfile.mkdtemp(prefix="vastgraph-bench-dist-"))
    cut_rows = []
    for method in ("metis", "ldg", "hash"):
        for parts in (2, 4):
            t = time.perf_counter()
            m = partition_graph(g, work / f"{method}{parts}", parts=parts, method=method)
            s = m["stats"]
            cut_rows.append({"method": method, "parts": parts, "edge_cut_fraction": round(s["edge_cut_fraction"], 4),
                             "balance_nodes": round(s["balance_nodes"], 3), "balance_edges": round(s["balance_edges"], 3),
                             "halo_nodes": s["halo_nodes_total"],
                             "membership_cache_entries": sum(s["membership_cache_entries"]),
                             "seconds": round(time.perf_counter() - t, 2)})
    ensure_ray("local", num_cpus=args.num_cpus)
    walk_rows = []
    for kind, p, q in SETTINGS:
        kw = dict(walks_per_node=wpn, walk_length=80, p=p, q=q, random_state=1)
        random_walks(g, **kw)  # compile
        sec, ref = _best(lambda: random_walks(g, **kw), reps)
        steps = int((ref[:, 1:] >= 0).sum())
        walk_rows.append({"walk": kind, "p": p, "q": q, "shards": 1, "partition": "local",
                          "steps_per_s": round(steps / sec), "vs_local": 1.0, "messages_per_step": 0.0,
                          "bytes_per_step": 0.0, "rounds": 0, "identical": True})
        local_rate = steps / sec
        for parts in (2, 4):
            for method in ("metis", "hash"):
                dg = DistributedGraph(work / f"{method}{parts}", address=None)
                random_walks(dg, **{**kw, "walks_per_node": 1, "walk_length": 5})  # warm the shards
                dsec, got = _best(lambda: random_walks(dg, **kw), reps)
                st = engine_for(dg).walk_stats.as_dict()
                walk_rows.append({"walk": kind, "p": p, "q": q, "shards": parts, "partition": method,
                                  "steps_per_s": round(steps / dsec), "vs_local": round(steps / dsec / local_rate, 3),
                                  "messages_per_step": round(st["messages_per_step"], 6),
                                  "bytes_per_step": round(st["bytes_per_step"], 2), "rounds": st["rounds"],
                                  "identical": bool(np.array_equal(got, ref))})
                dg.close()
    for title, rows in (("walks (BlogCatalog, length 80)", walk_rows), ("partitions (BlogCatalog)", cut_rows)):
        print(f"\n## {title}\n")
        keys = list(rows[0])
        print("| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
        for r in rows:
            print("| " + " | ".join(str(r[k]) for k in keys) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps({"walks": walk_rows, "partitions": cut_rows}, indent=1))


if __name__ == "__main__":
    main()
