"""Where DNE's quality gap to retraining comes from (the evidence behind docs/benchmarks.md).

1. BlogCatalog, 10 × 1% random-edge deltas after a 90% base: Micro-F1 (50% training labels, on
   the base graph's nodes) of
   DNE after the deltas vs the same model fitted on the base graph only (what DNE starts from) vs
   fitted on the full graph (retraining). If "base only" is as far below retraining as DNE, the gap
   is edges the base model never saw, not damage done by the updates.
2. bitcoin-alpha, 10 × 1% time-ordered deltas: future-link AUC (dot score, mean over steps) of DNE
   with m = 0.1 (default: top 10% of touched old vertices freed) and m = 1.0 (all of them), new
   vertices only, and retraining.

    python bench/bench_dne_gap.py --dimensions 32
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import shared_dir  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dimensions", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--parts", nargs="+", default=["blogcatalog", "bitcoin-alpha"])
    a = ap.parse_args()
    from vastgraph.datasets import load_dataset
    from vastgraph.embed.dne import DNE
    from vastgraph.graph.delta import apply_delta
    from vastgraph.train.dynamic_eval import NewOnly, Retrain, growth_schedule, replay
    from vastgraph.train.node_classification import evaluate_node_classification

    root = str(shared_dir() / "datasets")
    if "blogcatalog" in a.parts:
        g = load_dataset("blogcatalog", root=root).graph
        base, deltas = growth_schedule(g, steps=10, mode="random-edges", initial_fraction=0.9, random_state=a.seed)
        full = base
        for d in deltas:
            full, _ = apply_delta(full, d, time_policy="allow")
        n0 = base.num_nodes()  # every model is scored on the base graph's nodes (dense ids never change)
        labels = np.asarray(full.labels())[:n0]

        def f1(model) -> float:
            x = np.asarray(model.embedding_)[:n0]
            res = evaluate_node_classification(x, labels, train_ratios=(0.5,), repeats=3, random_state=a.seed)
            return res.micro(0.5)

        dne = DNE(dimensions=a.dimensions, random_state=a.seed).fit(base)
        base_only = f1(dne)
        for d in deltas:
            dne.partial_fit(d, time_policy="allow")
        rows = {"base only": base_only, "dne after deltas": f1(dne),
                "retrain on full graph": f1(DNE(dimensions=a.dimensions, random_state=a.seed).fit(full))}
        print("| BlogCatalog | Micro-F1@50% |\n|---|---|")
        for k, v in rows.items():
            print(f"| {k} | {v:.4f} |")
            print("RESULT " + json.dumps({"part": "blogcatalog", "model": k, "micro_f1": v}))
    if "bitcoin-alpha" in a.parts:
        g = load_dataset("bitcoin-alpha", root=root).graph
        base, deltas = growth_schedule(g, steps=10, mode="time", initial_fraction=0.9, weights="drop",
                                       random_state=a.seed)
        m = DNE(dimensions=a.dimensions, random_state=a.seed)
        methods = {"dne (m=0.1)": m, "dne (m=1.0)": DNE(dimensions=a.dimensions, m=1.0, random_state=a.seed),
                   "new vertices only": NewOnly(m), "retrain": Retrain(m)}
        out = replay(base, deltas, methods, eval="future-links", operator="dot", random_state=a.seed)
        print("| bitcoin-alpha | mean future-link AUC over steps 1–9 (dot) |\n|---|---|")
        for name in methods:
            aucs = [r["auc"] for r in out if r["method"] == name and r["step"] >= 1 and r["auc"] == r["auc"]]
            print(f"| {name} | {np.mean(aucs):.4f} |")
            print("RESULT " + json.dumps({"part": "bitcoin-alpha", "model": name, "mean_auc": float(np.mean(aucs))}))


if __name__ == "__main__":
    main()
