"""Where DNE's quality gap to retraining comes from, and whether the update policy closes it (issue 17).

1. bitcoin-alpha (issue 17's protocol): edges ordered by time, the first 80% embedded, the rest
   added in 10 time-ordered deltas, d=32; after each delta, future-link AUC (dot product of vertex
   vectors, equal sampled negatives) on the next delta's new links. Methods share one base fit:
   DNE with the default policy (``m="auto"``: free every old vertex whose degree moved by ``tau``),
   ablations (``--variants``), new vertices only, and retraining from scratch at every step.
   Prints per-step AUC, the final and mean gap to retraining, and update time / retrain time (numba
   warm: every kernel has run once before timing).
2. BlogCatalog, 10 × 1% random-edge deltas after a 90% base: Micro-F1 (50% training labels, on the
   base graph's nodes) of DNE after the deltas vs base only vs retraining on the full graph.
3. sbm: a generated power-law block model (5k nodes), nodes arriving in random order (20% in 10
   steps): Micro-F1 after the deltas, DNE vs new-only vs retraining.

    NUMBA_NUM_THREADS=1 python bench/bench_dne_gap.py --parts bitcoin-alpha
    NUMBA_NUM_THREADS=1 python bench/bench_dne_gap.py --parts blogcatalog sbm
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VARIANTS = {
    "dne auto (tau=0.3, default)": {},
    "dne auto tau=0.1": {"tau": 0.1},
    "dne auto tau=0.5": {"tau": 0.5},
    "dne auto, 100 samples/entry": {"update_samples_per_entry": 100},
    "dne m=0.1 (top-m by score)": {"m": 0.1},
    "dne m=1.0 (top-m by score)": {"m": 1.0},
    "new vertices only": {"m": 0},
}


def data_root() -> str:
    from bench._common import shared_dir

    return str(shared_dir() / "datasets")


def _variant(base_model, params: dict):
    """A copy of the fitted base model with changed update parameters (shares the base fit)."""
    import vastgraph.embed.dne as dne_mod

    m = copy.deepcopy(base_model)
    per_entry = params.get("update_samples_per_entry")
    for k, v in params.items():
        if k != "update_samples_per_entry":
            setattr(m, k, v)
    return m, per_entry, dne_mod


def _partial_fit(model, per_entry, dne_mod, pair) -> float:
    old = dne_mod.UPDATE_SAMPLES_PER_ENTRY
    if per_entry is not None:
        dne_mod.UPDATE_SAMPLES_PER_ENTRY = per_entry
    try:
        t0 = time.perf_counter()
        model.partial_fit(pair)
        return time.perf_counter() - t0
    finally:
        dne_mod.UPDATE_SAMPLES_PER_ENTRY = old


def bitcoin(a) -> None:
    from vastgraph.datasets import load_dataset
    from vastgraph.embed.dne import DNE
    from vastgraph.graph.delta import apply_delta
    from vastgraph.train.dynamic_eval import _future_pairs, growth_schedule
    from vastgraph.train.link_prediction import evaluate_link_prediction

    g = load_dataset("bitcoin-alpha", root=data_root()).graph
    for seed in a.seeds:
        base, deltas = growth_schedule(g, steps=10, mode="time", initial_fraction=0.8, weights="drop",
                                       random_state=seed)
        graphs, sums = [base], [None]
        for dl in deltas:
            ng, s = apply_delta(graphs[-1], dl, time_policy="allow")
            graphs.append(ng)
            sums.append(s)
        pairs = [_future_pairs(graphs[t], deltas[t], None, np.random.default_rng([seed, t])) for t in range(10)]

        def auc(x, t):
            return evaluate_link_prediction(np.asarray(x), pairs[t][0], pairs[t][1], operator="dot", mode="score",
                                            ks=(10,)).auc

        # warm numba: one fit and one update of a throwaway model
        warm = DNE(dimensions=a.dimensions, samples=10_000, random_state=seed).fit(base)
        warm.partial_fit((graphs[1], sums[1]))
        base_model = DNE(dimensions=a.dimensions, random_state=seed).fit(base)
        res = {}
        for name in ["retrain"] + [v for v in VARIANTS if v in a.variants or not a.variants]:
            aucs, secs, freed = [], [], []
            if name == "retrain":
                for t in range(10):
                    t0 = time.perf_counter()
                    m = DNE(dimensions=a.dimensions, random_state=seed).fit(graphs[t])
                    secs.append(time.perf_counter() - t0)
                    aucs.append(auc(m.embedding_, t))
            else:
                m, per_entry, mod = _variant(base_model, VARIANTS[name])
                aucs.append(auc(m.embedding_, 0))
                for t in range(1, 10):
                    secs.append(_partial_fit(m, per_entry, mod, (graphs[t], sums[t])))
                    freed.append(m.last_update_.freed.size)
                    aucs.append(auc(m.embedding_, t))
            res[name] = (aucs, float(np.mean(secs)), float(np.mean(freed)) if freed else float("nan"))
        r_aucs, r_sec, _ = res["retrain"]
        print(f"\n### bitcoin-alpha, seed {seed}: future-link AUC (dot) after each step, d={a.dimensions}\n")
        print("| method | " + " | ".join(f"s{t}" for t in range(10)) +
              " | final gap | mean gap (1–9) | s / update | update / retrain | freed old / step |")
        print("|---" * 15 + "|")
        for name, (aucs, sec, fr) in res.items():
            gap_f = r_aucs[9] - aucs[9]
            gap_m = float(np.mean(r_aucs[1:]) - np.mean(aucs[1:]))
            print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in aucs) +
                  f" | {gap_f:+.3f} | {gap_m:+.3f} | {sec:.3f} | {100 * sec / r_sec:.1f}% | {fr:.0f} |")
            print("RESULT " + json.dumps({"part": "bitcoin-alpha", "seed": seed, "model": name, "auc": aucs,
                                          "final_gap": gap_f, "mean_gap": gap_m, "seconds": sec,
                                          "retrain_seconds": r_sec, "freed_old": fr}), flush=True)


def classification(a, part: str) -> None:
    from vastgraph.embed.dne import DNE
    from vastgraph.graph.delta import apply_delta
    from vastgraph.train.dynamic_eval import growth_schedule
    from vastgraph.train.node_classification import evaluate_node_classification

    seed = a.seeds[0]
    if part == "blogcatalog":
        from vastgraph.datasets import load_dataset

        g = load_dataset("blogcatalog", root=data_root()).graph
        base, deltas = growth_schedule(g, steps=10, mode="random-edges", initial_fraction=0.9, random_state=seed)
    else:
        from vastgraph.datasets.synthetic_sbm import power_law_sbm

        g = power_law_sbm(n_nodes=5000, n_blocks=8, avg_degree=10, mixing=0.35, random_state=seed).graph
        base, deltas = growth_schedule(g, steps=10, mode="random-nodes", initial_fraction=0.8, random_state=seed)
    graphs, sums = [base], [None]
    for dl in deltas:
        ng, s = apply_delta(graphs[-1], dl, time_policy="allow")
        graphs.append(ng)
        sums.append(s)
    full = graphs[-1]
    n0 = base.num_nodes() if part == "blogcatalog" else full.num_nodes()
    labels = np.asarray(full.labels())[:n0]

    def f1(model) -> float:
        x = np.asarray(model.embedding_)[:n0]
        return evaluate_node_classification(x, labels, train_ratios=(0.5,), repeats=3, random_state=seed).micro(0.5)

    t0 = time.perf_counter()
    base_model = DNE(dimensions=a.dimensions, random_state=seed).fit(base)
    rows = {}
    if part == "blogcatalog":
        rows["base only"] = (f1(base_model), float("nan"))
    names = ["dne auto (tau=0.3, default)", "dne m=0.1 (top-m by score)", "new vertices only"]
    for name in names:
        m, per_entry, mod = _variant(base_model, VARIANTS[name])
        secs = [_partial_fit(m, per_entry, mod, (graphs[t], sums[t])) for t in range(1, 11)]
        rows[name] = (f1(m), float(np.mean(secs)))
    t0 = time.perf_counter()
    retrain = DNE(dimensions=a.dimensions, random_state=seed).fit(full)
    r_sec = time.perf_counter() - t0
    rows["retrain on full graph"] = (f1(retrain), r_sec)
    print(f"\n### {part}: Micro-F1@50% after 10 deltas, d={a.dimensions}, seed {seed}\n")
    print("| method | Micro-F1 | gap to retrain (points) | s / update | update / retrain |\n|---|---|---|---|---|")
    r = rows["retrain on full graph"][0]
    for k, (v, sec) in rows.items():
        ratio = f"{100 * sec / r_sec:.1f}%" if sec == sec else ""
        print(f"| {k} | {v:.4f} | {100 * (r - v):+.2f} | {sec:.3f} | {ratio} |")
        print("RESULT " + json.dumps({"part": part, "model": k, "micro_f1": v, "seconds": sec,
                                      "retrain_seconds": r_sec}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dimensions", type=int, default=32)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--parts", nargs="+", default=["bitcoin-alpha", "blogcatalog", "sbm"],
                    choices=["bitcoin-alpha", "blogcatalog", "sbm"])
    ap.add_argument("--variants", nargs="*", default=[], help=f"subset of {list(VARIANTS)} (default all)")
    a = ap.parse_args()
    if "bitcoin-alpha" in a.parts:
        bitcoin(a)
    for part in ("blogcatalog", "sbm"):
        if part in a.parts:
            classification(a, part)


if __name__ == "__main__":
    main()
