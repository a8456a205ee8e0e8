"""The search-ads pipeline end to end: retrieval and auction replay of each method vs the co-click baseline.

The peer is the co-click heuristic (the baseline a search-ads system starts from), run in the same
pipeline on the same world, days, queries and random numbers. Prints markdown tables, the end-to-end
time and the peak memory (RSS) of the run, and `RESULT {json}` lines.

    python bench/bench_ads.py --preset default
    python bench/bench_ads.py --preset large --methods coclick,deepwalk,metapath2vec,dne
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from vastgraph.ads.pipeline import ORACLE, run_pipeline


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="default", choices=["tiny", "default", "large"])
    ap.add_argument("--methods", default="coclick,deepwalk,metapath2vec,dne")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dimensions", type=int, default=64)
    a = ap.parse_args()
    t0 = time.perf_counter()
    res = run_pipeline({"preset": a.preset, "methods": a.methods.split(","), "seed": a.seed,
                        "dimensions": a.dimensions})
    total = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    w = res.world_summary
    print(f"world {a.preset}: {w['events']:,} events, {w['days']} days, test day {w['test_day']}; "
          f"end-to-end {total:.1f} s, peak RSS {peak_mb:,.0f} MB")
    base = res.retrieval["coclick"]
    print("| method | train s | recall@50 | ÷ co-click | nDCG@50 | click recall@50 | ÷ co-click |")
    print("|---|---|---|---|---|---|---|")
    for name, m in res.retrieval.items():
        r, c = m.get("recall@50", float("nan")), m.get("click_recall@50", float("nan"))
        print(f"| {name} | {res.train_seconds.get(name, float('nan')):.1f} | {r:.4f} | {r / base['recall@50']:.3f} | "
              f"{m.get('ndcg@50', float('nan')):.4f} | {c:.4f} | {c / base['click_recall@50']:.3f} |")
        print("RESULT " + json.dumps({"kind": "retrieval", "method": name, "preset": a.preset, **m}))
    print("| method | clicks | conversions | GMV | ROI | GMV ÷ co-click | ROI ÷ co-click |")
    print("|---|---|---|---|---|---|---|")
    for row in res.auction_table:
        print(f"| {row['method']} | {row['clicks']:,.0f} | {row['conversions']:,.0f} | {row['gmv']:,.0f} | "
              f"{row['roi']:.3f} | {row['gmv_ratio']:.3f} | {row['roi_ratio']:.3f} |")
        print("RESULT " + json.dumps({"kind": "auction", "preset": a.preset, **row}, default=float))
    for row in res.click_model:
        print("RESULT " + json.dumps({"kind": "click_model", "preset": a.preset, **row}, default=float))
    print("click model:", "; ".join(f"{r['click model']}: AUC {r['auc']:.4f}" for r in res.click_model))
    print("RESULT " + json.dumps({"kind": "total", "preset": a.preset, "seconds": total, "peak_rss_mb": peak_mb,
                                  "oracle_recall@50": res.retrieval.get(ORACLE, {}).get("recall@50")}))


if __name__ == "__main__":
    main()
