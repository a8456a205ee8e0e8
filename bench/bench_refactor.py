"""No-slowdown check for a refactor: the same workloads on two source trees, in one run.

usage: python bench/bench_refactor.py --base DIR [--head DIR] [--rounds 5] [--quick] [--json out.json]

``--base`` is a checkout of the commit before the change (``git worktree add /tmp/base COMMIT``),
``--head`` the tree under test (default: this repository). Each round runs, for each tree in
alternating order, one fresh process per workload with ``PYTHONPATH`` set to that tree, so both
import their own ``vastgraph`` with the same interpreter and packages:

- ``walks``: BlogCatalog, 10 uniform walks per node of 80 steps, then node2vec (p=0.25, q=4):
  the best of 3 warm calls each (the numba cache is warmed by a first call);
- ``deepwalk``: ``DeepWalk(dimensions=128, walks_per_node=10, walk_length=80, window=10)`` fit on
  BlogCatalog (walks + SGNS, warm numba cache), then Micro-F1 at 50% training.

The table gives the median over rounds per tree and the ratio head/base (> 1: head is slower).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (REPO, Timer, emit, markdown_table, median, run_json, save_json,  # noqa: E402
                     shared_dir)


def blogcatalog():
    import scipy.io

    from vastgraph.graph import GraphBuilder

    mat = scipy.io.loadmat(str(shared_dir() / "datasets" / "blogcatalog" / "blogcatalog.mat"))
    A = mat["network"].tocsr().tocoo()
    keep = A.row < A.col
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes(count=A.shape[0])
    b.add_edges(A.row[keep], A.col[keep])
    return b.build(), mat["group"]


def worker(args: argparse.Namespace) -> None:
    import numba
    import numpy as np

    numba.set_num_threads(2)
    g, groups = blogcatalog()
    rec: dict = {"tree": os.environ.get("PYTHONPATH", "")}
    if args.workload == "walks":
        from vastgraph.sampling.walks import random_walks

        wpn = 2 if args.quick else 10
        for name, p, q in (("uniform", 1.0, 1.0), ("node2vec", 0.25, 4.0)):
            random_walks(g, walks_per_node=1, walk_length=5, p=p, q=q, random_state=0)  # warm
            times = []
            for r in range(3):
                with Timer() as t:
                    w = random_walks(g, walks_per_node=wpn, walk_length=80, p=p, q=q, random_state=r)
                times.append(t.dt)
            rec[f"{name}_steps_per_s"] = w.shape[0] * 80 / min(times)
    else:
        from vastgraph.embed.deepwalk import DeepWalk
        from vastgraph.train import evaluate_node_classification

        small = dict(walks_per_node=2, walk_length=20) if args.quick else dict(walks_per_node=10, walk_length=80)
        DeepWalk(dimensions=16, walks_per_node=1, walk_length=5, window=2, random_state=0).fit(g)  # warm
        with Timer() as t:
            model = DeepWalk(dimensions=128, window=10, random_state=0, **small).fit(g)
        rec["deepwalk_s"] = t.dt
        y = np.asarray(groups.todense()).astype(np.uint8)
        res = evaluate_node_classification(model.embedding_, y, train_ratios=(0.5,), repeats=2, random_state=0)
        rec["micro_f1"] = float(res.rows()[0]["micro_f1"])
    emit(rec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=False)
    ap.add_argument("--head", default=str(REPO))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--workload", default="walks", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    if not args.base:
        ap.error("--base DIR is required (a checkout of the commit before the change)")
    trees = {"base": str(Path(args.base).resolve()), "head": str(Path(args.head).resolve())}
    for name, tree in trees.items():
        if not (Path(tree) / "vastgraph" / "__init__.py").is_file():
            ap.error(f"--{name} {tree}: no vastgraph package there")
    results: dict[str, list[dict]] = {"base": [], "head": []}
    for r in range(args.rounds):
        order = ["base", "head"] if r % 2 == 0 else ["head", "base"]
        for name in order:
            rec = {}
            for workload in ("walks", "deepwalk"):
                cmd = [sys.executable, __file__, "--worker", "--workload", workload] + (["--quick"] if args.quick else [])
                rec.update(run_json(cmd, env={"PYTHONPATH": trees[name]}, cwd=Path(trees[name])))
            results[name].append(rec)
            print(f"round {r} {name}: {rec}", flush=True)
    rows = []
    for key, better in (("uniform_steps_per_s", "higher"), ("node2vec_steps_per_s", "higher"),
                        ("deepwalk_s", "lower"), ("micro_f1", "higher")):
        b = median([x[key] for x in results["base"]])
        h = median([x[key] for x in results["head"]])
        slow = (b / h) if better == "higher" else (h / b)
        rows.append([key, f"{b:.4g}", f"{h:.4g}", f"{slow:.3f}" if key != "micro_f1" else f"{h - b:+.4f} (diff)"])
    print(markdown_table(["metric", "base (median)", "head (median)", "head cost / base cost"], rows))
    if args.json:
        save_json(args.json, {"rounds": args.rounds, "results": results, "table": rows})


if __name__ == "__main__":
    main()
