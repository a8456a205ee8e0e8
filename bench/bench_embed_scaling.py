"""Cost growth of DeepWalk and ProNE with graph size (generated power-law SBM graphs).

usage: python bench/bench_embed_scaling.py [--sizes 10000 40000 160000] [--avg-degree 20] [--repeats 2]

Each size runs in its own process (so peak RSS is per size): DeepWalk (d=128, 10 walks/node,
length 40, window 5) and ProNE (d=128), median wall time of --repeats fits, plus seconds per
million edge entries, which stays roughly flat when cost grows linearly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, emit, markdown_table, median, run_json, save_json, this_python  # noqa: E402


def worker(args: argparse.Namespace) -> None:
    import numba

    from vastgraph.datasets import power_law_sbm
    from vastgraph.embed.deepwalk import DeepWalk
    from vastgraph.embed.prone import ProNE

    numba.set_num_threads(2)
    g = power_law_sbm(n_nodes=args.n, n_blocks=20, avg_degree=args.avg_degree, random_state=0).graph
    out = {"n": args.n, "entries": g.num_edges()}
    for name, make in (("deepwalk", lambda r: DeepWalk(dimensions=128, walks_per_node=10, walk_length=40,
                                                        window=5, random_state=r)),
                       ("prone", lambda r: ProNE(dimensions=128, random_state=r))):
        times = []
        for r in range(args.repeats + 1):  # the first fit warms numba's cache and BLAS
            with Timer() as t:
                make(r).fit(g)
            times.append(t.dt)
        out[name] = median(times[1:])
    emit(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 40_000, 160_000])
    ap.add_argument("--avg-degree", type=float, default=20.0)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    rows, raw = [], []
    for n in args.sizes:
        r = run_json([this_python(), __file__, "--worker", "--n", str(n), "--avg-degree", str(args.avg_degree),
                      "--repeats", str(args.repeats)])
        raw.append(r)
        m = r["entries"] / 1e6
        rows.append([f"{n:,}", f"{r['entries']:,}", f"{r['deepwalk']:.2f}", f"{r['deepwalk'] / m:.2f}",
                     f"{r['prone']:.2f}", f"{r['prone'] / m:.2f}"])
    table = markdown_table(["nodes", "edge entries", "DeepWalk s", "DeepWalk s per M entries", "ProNE s",
                            "ProNE s per M entries"], rows)
    print(table)
    save_json(args.json, {"raw": raw, "table": table})


if __name__ == "__main__":
    main()
