"""Auto-bidding on the auction replay: baselines vs generative bidders (Decision Transformer, AIGB-style diffusion).

For each seed a world is generated (``--preset``), days 0..3 are the training days (behaviour-mix
logged episodes, baseline tuning, model fits) and days 4..6 are held out. Every policy replays the
same held-out episodes (budgets, target CPAs, random numbers). The table is mean ± std over the
seeds × held-out days of the per-day means over episodes; ``train s`` is the mean fit time (logging
+ training for the generative bidders, the fixed-multiplier grid search for the baselines). The
generative bidders are also fitted without the graph features (``(no graph)`` rows).

    python bench/bench_bidding.py                      # 5 seeds × 3 held-out days, default world
    python bench/bench_bidding.py --quick              # 2 seeds × 1 held-out day, half the training
    python bench/bench_bidding.py --jobs 5 --device cuda --threads 2   # seeds in parallel, models on a GPU

Results are reproducible for a seed on a given device (``--jobs`` does not change them).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

KEYS = ("value", "score", "roi", "budget_use", "violations", "over_budget")


def one_seed(seed: int, a: argparse.Namespace) -> dict:
    """Train and replay every bidder for one seed; per-day summaries and fit times."""
    import torch

    from vastgraph.ads.bidding.evaluate import graph_features_for, run_bidding, summarize
    from vastgraph.ads.world import AdsWorld

    torch.set_num_threads(a.threads)
    ts = time.perf_counter()
    train, test = [0, 1, 2, 3], ([4] if a.quick else [4, 5, 6])
    world = AdsWorld.preset(a.preset, random_state=seed, n_days=7)
    tg = time.perf_counter()
    gf = graph_features_for(world, train, random_state=seed)
    graph_s = time.perf_counter() - tg
    scale = a.epochs_scale * (0.5 if a.quick else 1.0)
    exp = run_bidding(world, bidders=a.bidders.split(","), train_days=train, test_days=test, steps=a.steps,
                      graph_features=gf, epochs_scale=scale, device=a.device, random_state=seed)
    per_day = {}
    for (name, _day), roll in exp.rollouts.items():
        per_day.setdefault(name, []).append(summarize(roll))
    train_s = {name: secs + (graph_s if "dt" in name or "diffusion" in name else 0.0)
               for name, secs in exp.train_seconds.items()}
    return {"seed": seed, "per_day": per_day, "train_s": train_s, "seconds": time.perf_counter() - ts,
            "graph_s": graph_s, "fixed": exp.tuned.get("fixed_multiplier", float("nan"))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="default", choices=["tiny", "default", "large"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=48)
    ap.add_argument("--epochs-scale", type=float, default=1.0)
    ap.add_argument("--bidders", default="fixed,pid,online-lp,dt,diffusion")
    ap.add_argument("--quick", action="store_true", help="2 seeds, 1 held-out day, half the training")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per seed")
    ap.add_argument("--device", default="cpu", help="torch device of the generative bidders: cpu | cuda")
    ap.add_argument("--jobs", type=int, default=1, help="seeds run in parallel processes")
    a = ap.parse_args()
    if a.seeds < 1 or a.jobs < 1 or a.threads < 1:
        ap.error("--seeds, --jobs and --threads must be >= 1")
    seeds = list(range(2 if a.quick else a.seeds))
    t0 = time.perf_counter()
    if a.jobs > 1 and len(seeds) > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
        with ProcessPoolExecutor(min(a.jobs, len(seeds)), mp_context=mp.get_context("spawn")) as pool:
            outs = list(pool.map(one_seed, seeds, [a] * len(seeds)))
    else:
        outs = [one_seed(s, a) for s in seeds]
    per_day: dict[str, list[dict]] = {}
    train_s: dict[str, list[float]] = {}
    for o in sorted(outs, key=lambda o: o["seed"]):
        for name, rows in o["per_day"].items():
            per_day.setdefault(name, []).extend(rows)
        for name, secs in o["train_s"].items():
            train_s.setdefault(name, []).append(secs)
        print(f"seed {o['seed']}: {o['seconds']:.1f} s (graph features {o['graph_s']:.1f} s; fixed multiplier "
              f"{o['fixed']:.3f})", flush=True)
    total = time.perf_counter() - t0
    n_test = 1 if a.quick else 3
    print(f"\npreset {a.preset}, {len(seeds)} seeds × {n_test} held-out days, T={a.steps}, device {a.device}, "
          f"jobs {a.jobs}; total {total:.1f} s")
    print("| policy | value | score (CPA-penalised) | ROI | budget use | CPA violations | over budget | train s |")
    print("|---|---|---|---|---|---|---|---|")
    results = {}
    for name, rows in per_day.items():
        stats = {k: (float(np.mean([r[k] for r in rows])), float(np.std([r[k] for r in rows]))) for k in KEYS}
        ts = float(np.mean(train_s.get(name, [0.0])))
        results[name] = {**{k: v[0] for k, v in stats.items()}, **{f"{k}_std": v[1] for k, v in stats.items()},
                         "train_s": ts, "n": len(rows)}
        cells = [f"{stats[k][0]:.1f} ± {stats[k][1]:.1f}" if k in ("value", "score") else
                 f"{stats[k][0]:.3f} ± {stats[k][1]:.3f}" for k in KEYS]
        print(f"| {name} | " + " | ".join(cells) + f" | {ts:.1f} |")
    print("RESULT " + json.dumps({"bench": "bidding", "preset": a.preset, "seeds": len(seeds), "device": a.device,
                                  "results": results, "total_s": total}))


if __name__ == "__main__":
    main()
