"""Real-data check of the search-ads retrieval metrics: GATNE Amazon (co-view / co-purchase multiplex graph).

Every held-out positive edge of the dataset's test split is a query whose relevant items are its
held-out neighbours of that relation (known training neighbours excluded); recall@K and nDCG@K per
relation (`vastgraph.ads.multiplex`). Peer: the co-neighbour heuristic (the co-click analogue), in
the same run. Methods: DeepWalk on all relations (homogeneous view), LINE-2nd, and the
mixed-curvature embedder with its relation-aware AMCAD score.

    python bench/bench_ads_amazon.py --dimensions 64
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import shared_dir  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dimensions", type=int, default=64)
    ap.add_argument("--root", default=None, help="datasets folder (default: $VASTGRAPH_DATA or ../shared/datasets)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--curvature-epochs", type=int, default=10)
    a = ap.parse_args()
    import os

    from vastgraph.ads.multiplex import (coneighbour_scorer, embedding_scorer, evaluate_multiplex_retrieval,
                                         pair_scorer)
    from vastgraph.datasets import load_dataset
    from vastgraph.embed.curvature import MixedCurvature
    from vastgraph.embed.deepwalk import DeepWalk
    from vastgraph.embed.line import LINE
    from vastgraph.graph.homogeneous import to_homogeneous

    root = a.root or os.environ.get("VASTGRAPH_DATA") or str(shared_dir() / "datasets")
    ds = load_dataset("amazon", root=root)
    g, test = ds.graph, ds.splits["test"]
    n = g.num_nodes()
    scorers, seconds = {"co-neighbour": coneighbour_scorer(g)}, {"co-neighbour": 0.0}
    view = to_homogeneous(g)
    for name, model, fit_on in (
            ("deepwalk", DeepWalk(dimensions=a.dimensions, walks_per_node=10, walk_length=40, window=5,
                                  random_state=a.seed), view),
            ("line-2nd", LINE(dimensions=a.dimensions, order=2, etype=None, random_state=a.seed), view),
            ("curvature (mixed, relation-aware)",
             MixedCurvature(dimensions=a.dimensions - a.dimensions % 3, manifold="mixed", epochs=a.curvature_epochs,
                            num_threads=1, random_state=a.seed), g)):
        t0 = time.perf_counter()
        model.fit(fit_on)
        seconds[name] = time.perf_counter() - t0
        scorers[name] = (pair_scorer(model.score, n) if isinstance(model, MixedCurvature)
                         else embedding_scorer(model.embedding_, "cosine"))
    res = evaluate_multiplex_retrieval(g, test, scorers, k_values=(10, 20, 50))
    print(f"GATNE Amazon: {n:,} products, relations {[e.rel for e in g.edge_types]}; test positives as queries")
    print("| method | train s | relation | recall@10 | recall@50 | ÷ co-neighbour | nDCG@50 | queries |")
    print("|---|---|---|---|---|---|---|---|")
    for name, per_rel in res.items():
        for rel, m in per_rel.items():
            base = res["co-neighbour"][rel]["recall@50"]
            print(f"| {name} | {seconds[name]:.1f} | {rel} | {m['recall@10']:.4f} | {m['recall@50']:.4f} | "
                  f"{m['recall@50'] / base:.3f} | {m['ndcg@50']:.4f} | {m['n_queries']} |")
            print("RESULT " + json.dumps({"bench": "ads_amazon", "method": name, "relation": rel,
                                          "train_s": seconds[name], **m}))


if __name__ == "__main__":
    main()
