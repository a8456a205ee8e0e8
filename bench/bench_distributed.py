"""Distributed mode on one machine: walk throughput at 1 (local), 2 and 4 shards, messages and bytes
per walk step, loader batches/s through the Ray engine's fanout, the edge cut of metis / ldg / hash
on BlogCatalog, and a projection to 16-64 machines from the measured per-message cost and cut.

Every distributed walk is checked bit-identical to the local walk with the same seed before its
time counts (and every distributed loader batch equal to the local batch). ``--mode quick``
(default) walks 1 walk per node of length 80, ``full`` 10 walks per node, ``both`` runs the two.

    .venv/bin/python bench/bench_distributed.py [--mode quick|full|both] [--json out.json]

Projection model (printed with its inputs), for the same job (BlogCatalog, 10 walks per node):
a machine walks at the measured local rate ``r``; each step hands its walker to another machine
with probability ``cut(P)`` (the edge-cut fraction of a P-way partition of BlogCatalog, computed
here for P = 16, 32, 64), moving the measured hand-off bytes over a ``--net-gbps`` link; every
message costs the one driver the measured per-message overhead ``t_msg`` (distributed time not
explained by the local walk time, divided by the messages, at 2 and 4 shards here: an upper bound
that also holds this machine's CPU contention); messages per step scale as ``cut × P`` (fitted at
2 and 4 shards); the driver's link carries every segment (4 bytes a step + 16 per hand-off). So
``1 / steps_per_s(P) = max(1/(P·r) + cut·handoff/(P·bw), msgs_per_step(P)·t_msg, out_bytes/bw)``,
and ``bound`` names the term that wins.
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
MODES = {"quick": (1, 2), "full": (10, 2)}  # walks per node, repetitions
LENGTH = 80


def _best(fn, reps: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _table(title: str, rows: list[dict]) -> None:
    print(f"\n## {title}\n")
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r[k]) for k in keys) + " |")


def _partitions(g, work: Path, parts_list: list[int]) -> list[dict]:
    from vastgraph.distributed import partition_graph

    rows = []
    for method in ("metis", "ldg", "hash"):
        for parts in parts_list:
            t = time.perf_counter()
            m = partition_graph(g, work / f"{method}{parts}", parts=parts, method=method)
            s = m["stats"]
            rows.append({"method": method, "parts": parts, "edge_cut_fraction": round(s["edge_cut_fraction"], 4),
                         "balance_nodes": round(s["balance_nodes"], 3), "balance_edges": round(s["balance_edges"], 3),
                         "halo_nodes": s["halo_nodes_total"],
                         "membership_cache_entries": sum(s["membership_cache_entries"]),
                         "seconds": round(time.perf_counter() - t, 2)})
    return rows


def _cuts(g, parts_list: list[int]) -> dict[tuple[str, int], float]:
    """Edge-cut fraction of a P-way partition (owners only, no shard folders)."""
    from vastgraph.distributed.partition import assign_owners

    e = g.coo()
    n = g.num_nodes()
    out = {}
    for method in ("metis", "ldg", "hash"):
        for p in parts_list:
            own = assign_owners(n, e.src, e.dst, p, method)
            out[(method, p)] = float((own[e.src] != own[e.dst]).mean())
    return out


def _walks(g, work: Path, mode: str, parts_list: list[int], methods: list[str]) -> list[dict]:
    from vastgraph.distributed import DistributedGraph
    from vastgraph.sampling.engine import engine_for
    from vastgraph.sampling.walks import random_walks

    wpn, reps = MODES[mode]
    rows = []
    for kind, p, q in SETTINGS:
        kw = dict(walks_per_node=wpn, walk_length=LENGTH, p=p, q=q, random_state=1)
        random_walks(g, **kw)  # compile
        sec, ref = _best(lambda: random_walks(g, **kw), reps)
        steps = int((ref[:, 1:] >= 0).sum())
        local_rate = steps / sec
        rows.append({"mode": mode, "walk": kind, "shards": 1, "partition": "local", "steps": steps,
                     "steps_per_s": round(local_rate), "vs_local": 1.0, "messages_per_step": 0.0,
                     "bytes_per_step": 0.0, "rounds": 0, "t_msg_ms": 0.0, "identical": True})
        for parts in parts_list:
            for method in methods:
                dg = DistributedGraph(work / f"{method}{parts}", address=None)
                random_walks(dg, **{**kw, "walks_per_node": 1, "walk_length": 5})  # warm the shards
                dsec, got = _best(lambda: random_walks(dg, **kw), reps)
                st = engine_for(dg).walk_stats.as_dict()
                t_msg = max(0.0, dsec - sec) / max(st["messages"], 1)
                rows.append({"mode": mode, "walk": kind, "shards": parts, "partition": method, "steps": steps,
                             "steps_per_s": round(steps / dsec), "vs_local": round(steps / dsec / local_rate, 3),
                             "messages_per_step": round(st["messages_per_step"], 6),
                             "bytes_per_step": round(st["bytes_per_step"], 2), "rounds": st["rounds"],
                             "t_msg_ms": round(1e3 * t_msg, 2), "identical": bool(np.array_equal(got, ref))})
                dg.close()
    return rows


def _loader(g, work: Path, parts_list: list[int], batches: int, batch_size: int) -> list[dict]:
    from vastgraph.distributed import DistributedGraph
    from vastgraph.sampling.neighbor_loader import NeighborLoader

    def run(graph):
        loader = NeighborLoader(graph, None, [10, 5], batch_size=batch_size, shuffle=True, features=False,
                                labels=False, random_state=3)
        out = []
        t = time.perf_counter()
        for i, batch in enumerate(loader):
            if i == batches:
                break
            out.append(batch)
        return time.perf_counter() - t, out

    run(g)
    sec, ref = run(g)
    rows = [{"shards": 1, "partition": "local", "batch_size": batch_size, "batches": len(ref),
             "batches_per_s": round(len(ref) / sec, 2), "vs_local": 1.0, "identical": True}]
    for parts in parts_list:
        dg = DistributedGraph(work / f"metis{parts}", address=None)
        run(dg)
        dsec, got = run(dg)
        same = all(bool((a.n_id == b.n_id).all() and (a.edge_index == b.edge_index).all()) for a, b in zip(got, ref))
        rows.append({"shards": parts, "partition": "metis", "batch_size": batch_size, "batches": len(got),
                     "batches_per_s": round(len(got) / dsec, 2), "vs_local": round(sec / dsec, 3),
                     "identical": same})
        dg.close()
    return rows


def _projection(walk_rows: list[dict], cuts: dict, measured_cuts: dict, net_gbps: float) -> list[dict]:
    """steps/s on P machines from the measured local rate, per-message cost, bytes and the cut."""
    bw = net_gbps * 1e9 / 8
    rows = []
    for kind in [k for k, _, _ in SETTINGS]:
        mine = [r for r in walk_rows if r["walk"] == kind]
        local = max(mine, key=lambda r: (r["mode"] == "full", r["shards"] == 1))
        r_local = next(r["steps_per_s"] for r in mine if r["shards"] == 1 and r["mode"] == local["mode"])
        dist = [r for r in mine if r["shards"] > 1 and r["mode"] == local["mode"]]
        if not dist:
            continue
        t_msg = min(r["t_msg_ms"] for r in dist) / 1e3
        # split each measured row's bytes into hand-offs (∝ cut) and segments (4 bytes a step + a
        # 16-byte summary per hand-off); messages per step ∝ cut × shards (chains × shards × depth)
        fits = [(r["bytes_per_step"], r["messages_per_step"], measured_cuts[(r["partition"], r["shards"])],
                 r["shards"]) for r in dist]
        handoff = max(0.0, float(np.mean([(b - 4.0) / max(c, 1e-9) for b, _, c, _ in fits])))
        alpha = float(np.mean([m / max(c * s, 1e-9) for _, m, c, s in fits]))
        for (method, p), c in sorted(cuts.items(), key=lambda x: (x[0][0], x[0][1])):
            work = 1.0 / (p * r_local) + c * handoff / (p * bw)  # the machines walk in parallel
            driver = alpha * c * p * t_msg  # every message passes the one driver
            link = (4.0 + 16.0 * c) / bw  # the driver receives every segment
            rate = 1.0 / max(work, driver, link)
            rows.append({"walk": kind, "machines": p, "partition": method, "cut": round(c, 4),
                         "local_steps_per_s": r_local, "t_msg_ms": round(1e3 * t_msg, 3),
                         "handoff_bytes": round(handoff, 1), "msgs_per_step": round(alpha * c * p, 6),
                         "bound": ("walk" if work >= max(driver, link) else "driver" if driver >= link else "link"),
                         "projected_steps_per_s": round(rate), "speedup_vs_1": round(rate / r_local, 2)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("quick", "full", "both"), default="quick")
    ap.add_argument("--full", action="store_true", help="same as --mode full")
    ap.add_argument("--methods", default="metis,hash", help="partitions walked at 2 and 4 shards")
    ap.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray (default: all)")
    ap.add_argument("--loader-batches", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--net-gbps", type=float, default=10.0, help="link speed of the projection")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    modes = ["full"] if args.full else (["quick", "full"] if args.mode == "both" else [args.mode])

    from vastgraph.distributed.cluster import ensure_ray

    g, _ = blogcatalog_graph()
    work = Path(tempfile.mkdtemp(prefix="vastgraph-bench-dist-"))
    cut_rows = _partitions(g, work, [2, 4])
    measured_cuts = {(r["method"], r["parts"]): r["edge_cut_fraction"] for r in cut_rows}
    far_cuts = _cuts(g, [16, 32, 64])
    ensure_ray("local", num_cpus=args.num_cpus)
    walk_rows = []
    for mode in modes:
        walk_rows += _walks(g, work, mode, [2, 4], args.methods.split(","))
    loader_rows = _loader(g, work, [2, 4], args.loader_batches, args.batch_size)
    proj_rows = _projection(walk_rows, far_cuts, measured_cuts, args.net_gbps)
    _table(f"walks (BlogCatalog, length {LENGTH}; quick: 1 walk per node, full: 10)", walk_rows)
    _table("loader (NeighborLoader [10, 5] through the engine's fanout, BlogCatalog)", loader_rows)
    _table("partitions (BlogCatalog)", cut_rows)
    _table(f"projection to 16-64 machines ({args.net_gbps:g} Gb/s links; see the module docstring)", proj_rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"walks": walk_rows, "loader": loader_rows, "partitions": cut_rows,
                                               "projection": proj_rows}, indent=1))


if __name__ == "__main__":
    main()
