"""SpaceNE against DeepWalk, LINE, ProNE and the Poincaré embedding on hierarchical graphs.

usage: python bench/bench_spacene.py [--quick] [--dim 64] [--sections tree,real] [--datasets cora,citeseer]
                                     [--epochs N] [--seed 0] [--json out.json]

1. ``tree``: the registered ``hierarchical-sbm`` (balanced 6-level tree, branching 3, 729 leaf
   nodes). Per depth 1–5: ARI of k-means (k = communities at that depth) on each embedding
   (raw vectors, and L2-normalised rows as a second table). SpaceNE runs with its automatic tree
   (``auto``: recursive spectral splits of the walk PPMI, 5 levels, branching 3, parts of >= 2 nodes;
   the tree's own ARI is printed below its row) and with the true tree (``data:path``, an oracle row).
2. ``real``: Cora / CiteSeer from the shared datasets with the automatic tree (3 levels):
   node classification Micro/Macro-F1 at 30/50/70/90% training and link-reconstruction
   precision@k (``evaluate_reconstruction``).

All methods get the same dimension (``--dim``). Times are wall seconds of ``fit`` on this machine.
Torch runs on one thread. Prints markdown tables and the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def data_root() -> Path:
    env = os.environ.get("VASTGRAPH_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "datasets"


def table(header: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def methods(dim: int, quick: bool, epochs: int | None, seed: int, tree_rows: bool) -> list[tuple[str, Any]]:
    from vastgraph.embed import LINE, DeepWalk, MixedCurvature, ProNE
    from vastgraph.embed.spacene import SpaceNE

    ep = epochs or (60 if quick else 150)
    sp = dict(dimensions=dim, epochs=ep, lr=0.05, batch_size=2048, num_threads=1, random_state=seed,
              walks_per_node=5 if quick else 10)
    out: list[tuple[str, Any]] = []
    if tree_rows:
        out.append(("SpaceNE (auto tree)", lambda: SpaceNE(tree="auto", levels=5, branching=3, min_size=2, **sp)))
        out.append(("SpaceNE (true tree)", lambda: SpaceNE(tree="data:path", levels=5, **sp)))
    else:
        out.append(("SpaceNE (auto tree)", lambda: SpaceNE(tree="auto", levels=3, **sp)))
    out += [
        ("DeepWalk", lambda: DeepWalk(dimensions=dim, walks_per_node=5 if quick else 10, random_state=seed)),
        ("LINE (1st+2nd)", lambda: LINE(dimensions=dim, order="both", random_state=seed)),
        ("ProNE", lambda: ProNE(dimensions=dim, random_state=seed)),
        ("Poincaré", lambda: MixedCurvature(dimensions=dim, manifold="poincare", epochs=10 if quick else 30,
                                            num_threads=1, random_state=seed)),
    ]
    return out


def ari_levels(x: np.ndarray, path: np.ndarray, levels: int, seed: int) -> list[float]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    out = []
    for lv in range(levels):
        k = len(np.unique(path[:, lv]))
        pred = KMeans(k, n_init=4, random_state=seed).fit_predict(x)
        out.append(round(float(adjusted_rand_score(path[:, lv], pred)), 3))
    return out


def tree_section(args: argparse.Namespace, results: dict[str, Any]) -> None:
    from vastgraph.datasets import load_dataset

    g = load_dataset("hierarchical-sbm", random_state=args.seed).graph
    path = g.node_data(None, "path")
    levels = 5   # depth 6 is the single node
    raw_rows, norm_rows = [], []
    for name, make in methods(args.dim, args.quick, args.epochs, args.seed, True):
        t0 = time.perf_counter()
        model = make().fit(g)
        secs = time.perf_counter() - t0
        x = np.asarray(model.embedding_, np.float64)
        xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        a, b = ari_levels(x, path, levels, args.seed), ari_levels(xn, path, levels, args.seed)
        raw_rows.append([name, *a, f"{secs:.1f}"])
        if name == "SpaceNE (auto tree)":   # the automatic tree itself, against the true communities
            from sklearn.metrics import adjusted_rand_score

            t = [round(float(adjusted_rand_score(path[:, lv], model.tree_.paths[:, lv])), 3) for lv in range(levels)]
            raw_rows.append(["(auto tree itself)", *t, ""])
            norm_rows.append(["(auto tree itself)", *t, ""])
            results.setdefault("tree", {})["auto tree"] = {"ari": t}
            print(f"  auto tree itself: {t}", flush=True)
        norm_rows.append([name, *b, f"{secs:.1f}"])
        results.setdefault("tree", {})[name] = {"ari": a, "ari_normalised": b, "seconds": secs}
        print(f"  {name}: {a} (normalised {b}) {secs:.1f}s", flush=True)
    head = ["method"] + [f"depth {lv + 1} ({len(np.unique(path[:, lv]))})" for lv in range(levels)] + ["fit s"]
    print(f"\n### hierarchical-sbm ({g.num_nodes()} nodes, {g.num_undirected_edges()} edges): ARI of k-means, "
          f"d={args.dim}\n")
    print(table(head, raw_rows))
    print("\nsame, L2-normalised rows:\n")
    print(table(head, norm_rows))


def real_section(args: argparse.Namespace, results: dict[str, Any]) -> None:
    from vastgraph.datasets import load_dataset
    from vastgraph.train.node_classification import evaluate_node_classification
    from vastgraph.train.reconstruction import evaluate_reconstruction

    ratios = (0.3, 0.5, 0.7, 0.9)
    for ds_name in args.datasets.split(","):
        try:
            g = load_dataset(ds_name, root=data_root(), download=False).graph
        except Exception as exc:  # noqa: BLE001 - a missing dataset skips its table
            print(f"\n{ds_name}: skipped ({exc})")
            continue
        labels = np.asarray(g.labels())
        rows = []
        for name, make in methods(args.dim, args.quick, args.epochs, args.seed, False):
            t0 = time.perf_counter()
            model = make().fit(g)
            secs = time.perf_counter() - t0
            x = np.asarray(model.embedding_, np.float64)
            nc = evaluate_node_classification(x, labels, train_ratios=ratios, repeats=2 if args.quick else 5,
                                              random_state=args.seed)
            rec = evaluate_reconstruction(x, g, ks=(100, 1000, 5000), similarity="cosine",
                                          random_state=args.seed)
            row = [name]
            for r in ratios:
                row.append(f"{nc.micro(r):.3f}/{nc.macro(r):.3f}")
            row += [f"{rec.precision[k]:.3f}" for k in (100, 1000, 5000)] + [f"{secs:.1f}"]
            rows.append(row)
            results.setdefault(ds_name, {})[name] = {"row": row, "seconds": secs}
            print(f"  {ds_name} {name}: {row}", flush=True)
        print(f"\n### {ds_name}: node classification Micro/Macro-F1 by training ratio; reconstruction "
              f"precision@k (cosine); d={args.dim}\n")
        print(table(["method", *[f"{int(r * 100)}%" for r in ratios], "P@100", "P@1000", "P@5000", "fit s"],
                    rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer epochs/walks/repeats (a few minutes)")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--sections", default="tree,real")
    ap.add_argument("--datasets", default="cora,citeseer")
    ap.add_argument("--epochs", type=int, default=None, help="SpaceNE epochs (default 60 quick / 150)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    print("command: python " + " ".join(sys.argv), flush=True)
    import torch

    torch.set_num_threads(1)
    results: dict[str, Any] = {"args": vars(args)}
    sections = args.sections.split(",")
    if "tree" in sections:
        tree_section(args, results)
    if "real" in sections:
        real_section(args, results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
