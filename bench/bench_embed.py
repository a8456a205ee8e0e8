"""Node embeddings on BlogCatalog: vastgraph vs PecanPy + gensim, same run, same evaluation.

usage: python bench/bench_embed.py [--rounds 2] [--workdir /tmp/vastgraph-bench] [--json out.json]
                                   [--skip-node2vec] [--skip-netmf]

Rows (d=128, 10 walks/node, 80 steps, window 10, 5 negatives, 1 epoch):
* DeepWalk: vastgraph DeepWalk vs PecanPy FirstOrderUnweighted walks + gensim Word2Vec
  (the peer harness's own shared/peers/bench_embed.py, in the peers' venv);
* node2vec p=q=0.25: vastgraph Node2Vec vs PecanPy PreComp + gensim;
* SGNS alone on the same walk file: vastgraph's trainer vs gensim Word2Vec, tokens/s;
* NetMF (exact and approximate, T=10) and ProNE: vastgraph only (time and quality; the goal is
  Micro-F1@50% >= 0.41 at <= 1/10 of DeepWalk's time).
Time = graph in → embedding out (the peer's: PecanPy edge-list parsing + walks + word2vec). Quality
= the peer harness's eval_multilabel (L2-normalised vectors, one-vs-rest liblinear, top-k labels,
5 ShuffleSplits at 10% and 50%) applied to every embedding, ours included, so the numbers are
like for like; vastgraph's own evaluate_node_classification is reported beside it as a check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (Timer, emit, fmt_rate, markdown_table, median, peers_python, peers_workdir,  # noqa: E402
                     run_json, save_json, shared_dir, this_python)


def blogcatalog():
    from vastgraph.datasets import load_dataset

    return load_dataset("blogcatalog", root=str(shared_dir() / "datasets"))


def worker(args: argparse.Namespace) -> None:
    import numba

    numba.set_num_threads(2)
    ds = blogcatalog()
    g = ds.graph
    Y = np.asarray(g.labels())
    if args.method == "sgns":
        from vastgraph.embed.sgns import train_sgns

        walks = np.load(args.walks)
        with Timer() as t:
            res = train_sgns(walks, g.num_nodes(), dimensions=128, window=10, negative=5, epochs=1, random_state=0)
        tokens = int((walks >= 0).sum())
        emit(dict(tool="vastgraph train_sgns", tokens=tokens, train_s=t.dt, tokens_per_s=tokens / t.dt,
                  pairs=int(res.pairs)))
        return
    from vastgraph.embed.registry import create_embedder

    params = {"deepwalk": dict(dimensions=128, walks_per_node=10, walk_length=80, window=10, negative=5),
              "node2vec": dict(dimensions=128, walks_per_node=10, walk_length=80, window=10, negative=5,
                               p=args.p, q=args.q),
              "netmf": dict(dimensions=128, window=10, method="exact"),
              "netmf-approx": dict(dimensions=128, window=10, method="approx", rank=256),
              "prone": dict(dimensions=128)}[args.method]
    name = "netmf" if args.method.startswith("netmf") else args.method
    model = create_embedder(name, random_state=args.rep, **params)
    with Timer() as t:
        model.fit(g)
    emb = np.asarray(model.embedding_)
    if args.save_walks and args.method == "deepwalk":
        from vastgraph.sampling.walks import random_walks

        np.save(args.save_walks, random_walks(g, walks_per_node=10, walk_length=80, random_state=args.rep))
    sys.path.insert(0, str(peers_workdir(Path(args.workdir))))
    from common import eval_multilabel  # the peer harness's protocol

    from vastgraph.train.node_classification import evaluate_node_classification

    q_peer = eval_multilabel(emb, Y)
    ours = evaluate_node_classification(emb, Y, train_ratios=(0.1, 0.5), repeats=5, random_state=0, n_jobs=2)
    emit(dict(tool=f"vastgraph {type(model).__name__}", total_s=t.dt, quality=q_peer,
              own_eval={"10%": [ours.micro(0.1), ours.macro(0.1)], "50%": [ours.micro(0.5), ours.macro(0.5)]}))


def f1(q: dict, ratio: str) -> str:
    return f"{100 * q[ratio]['micro']:.2f} / {100 * q[ratio]['macro']:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--method", default="deepwalk", help=argparse.SUPPRESS)
    ap.add_argument("--walks", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--save-walks", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--rep", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--p", type=float, default=0.25)
    ap.add_argument("--q", type=float, default=0.25)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workdir", default="/tmp/vastgraph-bench")
    ap.add_argument("--json", default=None)
    ap.add_argument("--skip-node2vec", action="store_true")
    ap.add_argument("--skip-netmf", action="store_true")
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    peers = peers_workdir(work)
    ppy = str(peers_python())
    penv = {"PEERS_RESULTS_DIR": str(work / "peer-results"), "PEERS_DATA_ROOT": str(shared_dir() / "datasets")}
    me = [this_python(), __file__, "--worker", "--workdir", str(work)]
    walks_file = work / "blogcatalog_walks.npy"
    raw: dict[str, dict[str, list]] = {}
    rows = []
    settings = [("deepwalk", ["deepwalk"], [])]
    if not args.skip_node2vec:
        settings.append(("node2vec", ["node2vec", "--mode", "PreComp", "--p", str(args.p), "--q", str(args.q)],
                         ["--p", str(args.p), "--q", str(args.q)]))
    for rnd in range(args.rounds):
        for method, peer_args, our_args in settings:
            extra = ["--save-walks", str(walks_file)] if (method == "deepwalk" and rnd == 0) else []
            ours = run_json(me + ["--method", method, "--rep", str(rnd), *our_args, *extra])
            peer = run_json([ppy, str(peers / "bench_embed.py"), *peer_args, "--rep", str(rnd)], env=penv, cwd=peers)
            slot = raw.setdefault(method, {"ours": [], "peer": []})
            slot["ours"].append(ours)
            slot["peer"].append(peer)
            print(f"round {rnd} {method}: vastgraph {ours['total_s']:.1f} s, peer {peer['total_s']:.1f} s",
                  file=sys.stderr)
        s_ours = run_json(me + ["--method", "sgns", "--walks", str(walks_file)])
        s_peer = run_json([ppy, str(Path(__file__).parent / "peer_gensim.py"), str(walks_file)])
        slot = raw.setdefault("sgns", {"ours": [], "peer": []})
        slot["ours"].append(s_ours)
        slot["peer"].append(s_peer)
    for method, slot in raw.items():
        if method == "sgns":
            o = median([r["tokens_per_s"] for r in slot["ours"]])
            p = median([r["tokens_per_s"] for r in slot["peer"]])
            rows.append(["SGNS on the same walks (tokens/s)", fmt_rate(o), slot["peer"][0]["tool"], fmt_rate(p),
                         f"{o / p:.2f}× faster", "–", "–", "–"])
            continue
        o = median([r["total_s"] for r in slot["ours"]])
        p = median([r["total_s"] for r in slot["peer"]])
        qo, qp = slot["ours"][0]["quality"], slot["peer"][0]["quality"]
        label = "DeepWalk" if method == "deepwalk" else f"node2vec p={args.p:g} q={args.q:g}"
        rows.append([f"{label} (total s)", f"{o:.1f}", slot["peer"][0]["tool"] + " " + slot["peer"][0]["setting"],
                     f"{p:.1f}", f"{p / o:.2f}× faster ({o / p:.2f} of peer time)",
                     f"{f1(qo, '10%')} vs {f1(qp, '10%')}", f"{f1(qo, '50%')} vs {f1(qp, '50%')}",
                     f"{median([r['peak_rss_mb'] for r in slot['ours']]):.0f} / "
                     f"{median([r.get('peak_rss_embed_mb', r['peak_rss_mb']) for r in slot['peer']]):.0f}"])
    if not args.skip_netmf:
        dw = median([r["total_s"] for r in raw["deepwalk"]["ours"]])
        for method in ("prone", "netmf-approx", "netmf"):
            rs = [run_json(me + ["--method", method, "--rep", str(r)]) for r in range(args.rounds if method == "prone" else 1)]
            t = median([r["total_s"] for r in rs])
            q = rs[0]["quality"]
            rows.append([f"{method} (total s)", f"{t:.1f}", "vastgraph DeepWalk (same run)", f"{dw:.1f}",
                         f"{t / dw:.3f} of DeepWalk time", f1(q, "10%"), f1(q, "50%"),
                         f"{median([r['peak_rss_mb'] for r in rs]):.0f}"])
            raw.setdefault(method, {"ours": rs})
    table = markdown_table(["measure", "vastgraph", "peer", "peer value", "ratio",
                            "Micro/Macro-F1 10% (ours vs peer)", "Micro/Macro-F1 50% (ours vs peer)",
                            "peak RSS MB ours / peer"], rows)
    print(table)
    save_json(args.json, {"raw": raw, "table": table})


if __name__ == "__main__":
    main()
