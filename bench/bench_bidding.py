"""Auto-bidding on the auction replay: baselines vs generative bidders (Decision Transformer, AIGB-style diffusion).

For each seed a world is generated (``--preset``), days 0..3 are the training days (behaviour-mix
logged episodes, baseline tuning, model fits) and days 4..6 are held out. Every policy replays the
same held-out episodes (budgets, target CPAs, random numbers). The table is mean ± std over the
seeds × held-out days of the per-day means over episodes; ``train s`` is the mean fit time (logging
+ training for the generative bidders, the fixed-multiplier grid search for the baselines). The
generative bidders are also fitted without the graph features (``(no graph)`` rows).

    python bench/bench_bidding.py            # 5 seeds × 3 held-out days, default world
    python bench/bench_bidding.py --quick    # 2 seeds, shorter training
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="default", choices=["tiny", "default", "large"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=48)
    ap.add_argument("--epochs-scale", type=float, default=1.0)
    ap.add_argument("--bidders", default="fixed,pid,online-lp,dt,diffusion")
    ap.add_argument("--quick", action="store_true", help="2 seeds, half the training")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    a = ap.parse_args()
    import torch

    from vastgraph.ads.bidding.evaluate import graph_features_for, run_bidding, summarize
    from vastgraph.ads.world import AdsWorld

    torch.set_num_threads(a.threads)
    seeds = 2 if a.quick else a.seeds
    scale = a.epochs_scale * (0.5 if a.quick else 1.0)
    train, test = [0, 1, 2, 3], [4, 5, 6]
    per_day: dict[str, list[dict]] = {}
    train_s: dict[str, list[float]] = {}
    t0 = time.perf_counter()
    for seed in range(seeds):
        ts = time.perf_counter()
        world = AdsWorld.preset(a.preset, random_state=seed, n_days=7)
        tg = time.perf_counter()
        gf = graph_features_for(world, train, random_state=seed)
        graph_s = time.perf_counter() - tg
        exp = run_bidding(world, bidders=a.bidders.split(","), train_days=train, test_days=test, steps=a.steps,
                          graph_features=gf, epochs_scale=scale, random_state=seed)
        for (name, _day), roll in exp.rollouts.items():
            per_day.setdefault(name, []).append(summarize(roll))
        for name, secs in exp.train_seconds.items():
            train_s.setdefault(name, []).append(secs + (graph_s if "dt" in name or "diffusion" in name else 0.0))
        print(f"seed {seed}: {time.perf_counter() - ts:.1f} s (graph features {graph_s:.1f} s; fixed multiplier "
              f"{exp.tuned.get('fixed_multiplier', float('nan')):.3f})", flush=True)
    total = time.perf_counter() - t0
    keys = ("value", "score", "roi", "budget_use", "violations", "over_budget")
    print(f"\npreset {a.preset}, {seeds} seeds × {len(test)} held-out days, T={a.steps}; total {total:.1f} s")
    print("| policy | value | score (CPA-penalised) | ROI | budget use | CPA violations | over budget | train s |")
    print("|---|---|---|---|---|---|---|---|")
    results = {}
    for name, rows in per_day.items():
        stats = {k: (float(np.mean([r[k] for r in rows])), float(np.std([r[k] for r in rows]))) for k in keys}
        ts = float(np.mean(train_s.get(name, [0.0])))
        results[name] = {**{k: v[0] for k, v in stats.items()}, **{f"{k}_std": v[1] for k, v in stats.items()},
                         "train_s": ts, "n": len(rows)}
        cells = [f"{stats[k][0]:.1f} ± {stats[k][1]:.1f}" if k in ("value", "score") else
                 f"{stats[k][0]:.3f} ± {stats[k][1]:.3f}" for k in keys]
        print(f"| {name} | " + " | ".join(cells) + f" | {ts:.1f} |")
    print("RESULT " + json.dumps({"bench": "bidding", "preset": a.preset, "seeds": seeds, "results": results,
                                  "total_s": total}))


if __name__ == "__main__":
    main()
