"""Multiplex retrieval bench: candidate generators, a learned ranker, and the GATNE protocol, on any
GATNE-format folder ``DIR/NAME/{train,valid,test}.txt`` (``type u v``; ``type u v label``).

Per relation: recall@50 / nDCG@50 of held-out neighbours (`vastgraph.ads.multiplex` protocol) for
each candidate generator alone (co-neighbour, co-neighbour over all relations, DeepWalk and GATNE
through faiss) and for the merged list ranked by the gradient-boosted ranker
(`vastgraph.ads.ranker`), which learns from a 10% hold-out of the training edges with embeddings
fitted without them; ROC-AUC / PR-AUC / F1 on the dataset's labelled test pairs (GATNE protocol,
`vastgraph.train.multiplex_eval`); ratio of recall@50 to the co-neighbour heuristic's.

    python bench/bench_ads_multiplex.py --root ../shared/datasets --dataset amazon
    python bench/bench_ads_multiplex.py --convert-bitcoin /tmp/mplex   # writes /tmp/mplex/bitcoin-alpha-signed
    python bench/bench_ads_multiplex.py --root /tmp/mplex --dataset bitcoin-alpha-signed
    # GATNE at the paper's full walk budget (~26M pairs/epoch on Amazon) on a GPU:
    python bench/bench_ads_multiplex.py --root ../shared/datasets --dataset amazon --gatne-pairs 0 \
        --gatne-epochs 10 --gatne-device cuda
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Cen et al., KDD 2019, Table 3 (Amazon), in percent: ROC-AUC, PR-AUC, F1
PAPER_AMAZON = {"DeepWalk": (94.20, 94.03, 87.38), "GATNE-T": (97.44, 97.05, 92.87), "GATNE-I": (96.25, 94.77, 91.36)}


def convert_bitcoin_alpha(csv: Path, out: Path, seed: int = 0) -> Path:
    """SNAP bitcoin-alpha → GATNE format: relations ``trust`` (rating > 0) and ``distrust`` (< 0);
    the latest 15% of each relation's ratings (by time) are test positives, the 5% before them valid;
    as many random non-edges per split and relation as negatives."""
    from vastgraph.datasets.bitcoin_alpha import read_signed_csv

    df = read_signed_csv(csv).sort_values("time", kind="stable")
    rng = np.random.default_rng(seed)
    folder = out / "bitcoin-alpha-signed"
    folder.mkdir(parents=True, exist_ok=True)
    nodes = np.unique(np.concatenate([df.source.to_numpy(), df.target.to_numpy()]))
    every = set(zip(df.source.tolist(), df.target.tolist())) | set(zip(df.target.tolist(), df.source.tolist()))
    rows = {"train": [], "valid": [], "test": []}
    for rel, part in (("trust", df[df.rating > 0]), ("distrust", df[df.rating < 0])):
        n = len(part)
        cut_t, cut_v = int(n * 0.80), int(n * 0.85)
        for split, lo, hi in (("train", 0, cut_t), ("valid", cut_t, cut_v), ("test", cut_v, n)):
            p = part.iloc[lo:hi]
            if split == "train":
                rows[split] += [f"{rel} {u} {v}" for u, v in zip(p.source, p.target)]
                continue
            rows[split] += [f"{rel} {u} {v} 1" for u, v in zip(p.source, p.target)]
            k = 0
            while k < len(p):
                u, v = rng.choice(nodes, 2)
                if u != v and (u, v) not in every:
                    rows[split].append(f"{rel} {u} {v} 0")
                    k += 1
    for split, lines in rows.items():
        (folder / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return folder


def spaces_for(graph, a, seed: int, valid: dict | None = None) -> tuple[dict, dict]:
    from vastgraph.embed.deepwalk import DeepWalk
    from vastgraph.embed.gatne import GATNE
    from vastgraph.graph.homogeneous import to_homogeneous

    secs = {}
    t0 = time.perf_counter()
    dw = DeepWalk(dimensions=a.dimensions, walks_per_node=10, walk_length=40, window=5,
                  random_state=seed).fit(to_homogeneous(graph))
    secs["deepwalk"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    gt = GATNE(dimensions=a.gatne_dimensions, max_pairs=a.gatne_pairs, epochs=a.gatne_epochs,
               batch_size=a.gatne_batch, num_threads=a.threads, device=a.gatne_device, features=False,
               random_state=seed).fit(graph, validation=valid)
    secs["gatne"] = time.perf_counter() - t0
    print(f"GATNE: {gt.pairs_trained_:,} pairs of {gt.walk_pairs_:,} walk pairs, {gt.epochs_run_} epoch(s) "
          f"(kept {gt.best_epoch_}; valid ROC-AUC {[round(100 * float(v), 2) for v in gt.valid_auc_]}), "
          f"{gt.pairs_per_second_:,.0f} pairs/s on {gt.device_}", flush=True)
    return {"deepwalk": dw.embedding_, "gatne": gt.relation_embeddings_}, secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=None, help="folder holding NAME/{train,valid,test}.txt")
    ap.add_argument("--dataset", default="amazon")
    ap.add_argument("--convert-bitcoin", default=None, metavar="OUT",
                    help="write OUT/bitcoin-alpha-signed from the shared bitcoin-alpha CSV and exit")
    ap.add_argument("--quick", action="store_true", help="small budgets (smoke run)")
    ap.add_argument("--dimensions", type=int, default=64)
    ap.add_argument("--gatne-dimensions", type=int, default=200)
    ap.add_argument("--gatne-pairs", type=int, default=3_000_000,
                    help="GATNE pairs per epoch (cap on the paper's walk pairs; 0 = all of them)")
    ap.add_argument("--gatne-epochs", type=int, default=3,
                    help="GATNE epochs at most (early stop on valid.txt ROC-AUC, patience 2)")
    ap.add_argument("--gatne-batch", type=int, default=4096)
    ap.add_argument("--gatne-device", default="cpu", help="cpu, cuda or auto")
    ap.add_argument("--candidates", type=int, default=100)
    ap.add_argument("--max-queries", type=int, default=None, help="evaluated queries per relation (sampled)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import os

    from bench._common import shared_dir

    a.gatne_pairs = a.gatne_pairs or None

    if a.convert_bitcoin:
        csv = shared_dir() / "datasets" / "bitcoin-alpha" / "soc-sign-bitcoinalpha.csv"
        print(convert_bitcoin_alpha(csv, Path(a.convert_bitcoin), a.seed))
        return
    if a.quick:
        a.gatne_pairs, a.gatne_epochs, a.dimensions, a.gatne_dimensions = 2_000_000, 1, 32, 64
        a.max_queries = a.max_queries or 300
    from vastgraph.ads.candidates import RetrievalContext
    from vastgraph.ads.ranker import MultiplexRanker, evaluate_ranked, holdout_split
    from vastgraph.datasets.gatne import load_gatne
    from vastgraph.train.multiplex_eval import cosine_pair_scorer, evaluate_link_pairs

    root = Path(a.root or os.environ.get("VASTGRAPH_DATA") or shared_dir() / "datasets")
    folder = root / a.dataset
    files = {f: folder / f for f in ("train.txt", "valid.txt", "test.txt") if (folder / f).exists()}
    if len(files) != 3:
        raise SystemExit(f"{folder}: expected train.txt, valid.txt and test.txt (GATNE format)")
    ds = load_gatne(a.dataset, files, folder)
    g, test = ds.graph, ds.splits["test"]
    t_all = time.perf_counter()
    hist, labels = holdout_split(g, 0.1, random_state=a.seed)
    sp_hist, _ = spaces_for(hist, a, a.seed)
    rk = MultiplexRanker(random_state=a.seed).fit(RetrievalContext(hist, sp_hist, candidates=a.candidates), labels)
    sp, secs = spaces_for(g, a, a.seed, ds.splits.get("valid"))
    ctx = RetrievalContext(g, sp, candidates=a.candidates)
    ev = evaluate_ranked(rk, ctx, test, k=50, max_queries=a.max_queries, random_state=a.seed)
    rels = ctx.relations
    names = ctx.feature_names()
    ia, iaa = names.index("aa_same"), names.index("deg_v")

    def heuristic(u, v, r):
        x = ctx.features(u, v, r)
        return x[:, ia].astype(np.float64) + 1e-6 * x[:, iaa]

    pair_scores = {"gen:coneighbour": heuristic, "gen:deepwalk": cosine_pair_scorer(sp["deepwalk"]),
                   "gen:gatne": cosine_pair_scorer(sp["gatne"]),
                   "ranked": lambda u, v, r: rk.score_pairs(ctx, u, v, r)}
    lp = {m: evaluate_link_pairs(f, test, rels) for m, f in pair_scores.items()}
    retr = ev["retrieval"]
    rows = []
    for method, per_rel in retr.items():
        for rel, m in per_rel.items():
            base = retr["gen:coneighbour"][rel]["recall@50"]
            rec = {"bench": "ads_multiplex", "dataset": a.dataset, "method": method, "relation": rel,
                   "recall@50": m["recall@50"], "ndcg@50": m["ndcg@50"], "n_queries": m["n_queries"],
                   "ratio_vs_coneighbour": m["recall@50"] / base if base > 0 else float("nan")}
            for k in ("roc_auc", "pr_auc", "f1"):
                rec[k] = lp[method][rel][k] if method in lp else None
            rows.append(rec)
            print("RESULT " + json.dumps(rec), flush=True)
    print(f"\n{a.dataset}: {g.num_nodes():,} nodes, relations {rels}, train edges "
          f"{[g.num_edges(e) for e in g.edge_types]}; ranker rows {rk.n_rows_:,} ({rk.n_positive_rows_:,} positive); "
          f"fit s {json.dumps({k: round(v, 1) for k, v in secs.items()})}; total {time.perf_counter() - t_all:.0f}s\n")
    print("| method | relation | recall@50 | ÷ co-neighbour | nDCG@50 | ROC-AUC | PR-AUC | F1 |")
    print("|---|---|---|---|---|---|---|---|")
    fmt = lambda v: "–" if v is None else f"{v:.4f}"  # noqa: E731
    for r in rows:
        print(f"| {r['method']} | {r['relation']} | {r['recall@50']:.4f} | {r['ratio_vs_coneighbour']:.2f} | "
              f"{r['ndcg@50']:.4f} | {fmt(r['roc_auc'])} | {fmt(r['pr_auc'])} | {fmt(r['f1'])} |")
    print("\nGATNE protocol, mean over relations (percent):")
    print("| method | ROC-AUC | PR-AUC | F1 |\n|---|---|---|---|")
    for m, res in lp.items():
        print(f"| {m} (ours) | {100 * res['mean']['roc_auc']:.2f} | {100 * res['mean']['pr_auc']:.2f} | "
              f"{100 * res['mean']['f1']:.2f} |")
    if a.dataset == "amazon":
        for m, (roc, pr, f1) in PAPER_AMAZON.items():
            print(f"| {m} (paper, Table 3) | {roc:.2f} | {pr:.2f} | {f1:.2f} |")
    print("\nranker permutation importance (mean drop in average precision):")
    print("| feature | importance |\n|---|---|")
    for f, v in ev["importance"].items():
        print(f"| {f} | {v:.4f} |")


if __name__ == "__main__":
    main()
