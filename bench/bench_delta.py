"""Applying a GraphDelta vs rebuilding the graph (in memory) and vs rebuilding + saving (on disk).

Peer: a full GraphBuilder rebuild of the same edges (the "no deltas" way), measured in the same run.
A directed graph with two edge types (weighted, timed); deltas go to one of them and are 0.1%, 1%
and 10% of its edges (90% insertions, 10% deletions). Medians of --repeats runs.

    python bench/bench_delta.py --nodes 200000 --edges 2000000 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np

from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.delta import GraphDelta, apply_delta
from vastgraph.graph.dynamic_store import DynamicStore


def median_time(fn, k: int) -> float:
    ts = []
    for _ in range(k):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=200_000)
    ap.add_argument("--edges", type=int, default=2_000_000, help="edges per edge type (two types)")
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    n, m = a.nodes, a.edges
    rng = np.random.default_rng(0)
    cols = {r: (rng.integers(0, n, m), rng.integers(0, n, m), rng.random(m).astype(np.float32),
                np.sort(rng.integers(0, 10**6, m))) for r in ("click", "cobid")}

    def build():
        b = GraphBuilder(id_mode="dense")
        b.add_nodes("node", count=n)
        for r, (s, d, w, t) in cols.items():
            b.add_edges(s, d, etype=r, weight=w, time=t)
        return b.build()

    g = build()
    root = tempfile.mkdtemp(prefix="vg-bench-delta-")
    t_build = median_time(build, a.repeats)
    t_save = median_time(lambda: g.save(os.path.join(root, "plain"), overwrite=True), a.repeats)
    ds = DynamicStore.create(os.path.join(root, "dyn"), g)
    print(f"graph: {n:,} nodes, 2 edge types × {m:,} edges (directed, weighted, timed); "
          f"full rebuild {t_build:.3f} s, save {t_save:.3f} s (medians of {a.repeats})")
    print("| delta (% of one type) | delta edges | apply_delta s | ÷ rebuild | DynamicStore.apply s | ÷ (rebuild + save) |")
    print("|---|---|---|---|---|---|")
    t0 = 2 * 10**6
    for frac in (0.001, 0.01, 0.1):
        k = int(m * frac)

        def make(seed: int) -> GraphDelta:
            r = np.random.default_rng(seed)
            src, dst = ds.graph.edge_index("click")
            pick = r.choice(src.size, k // 10, replace=False)
            return (GraphDelta(time=t0).add_edges(r.integers(0, n, k), r.integers(0, n, k), etype="click",
                                                  weight=r.random(k), time=np.full(k, t0))
                    .delete_edges(src[pick], dst[pick], etype="click"))

        delta = make(1)
        t_apply = median_time(lambda: apply_delta(ds.graph, delta), a.repeats)
        ts = []
        for rep in range(a.repeats):
            d = make(10 + rep)
            t1 = time.perf_counter()
            ds.apply(d, missing="ignore")
            ts.append(time.perf_counter() - t1)
        t_store = float(np.median(ts))
        print(f"| {100 * frac:g}% | {k:,} | {t_apply:.3f} | {t_apply / t_build:.3f} | {t_store:.3f} | "
              f"{t_store / (t_build + t_save):.3f} |")
        print("RESULT " + json.dumps({"delta_fraction": frac, "delta_edges": k, "apply_delta_s": t_apply,
                                      "rebuild_s": t_build, "store_apply_s": t_store, "save_s": t_save}))


if __name__ == "__main__":
    main()
