"""DNE benchmark: update cost vs full retraining, and quality after successive deltas.

usage: python bench/bench_dne.py [--quick] [--repeats 3] [--dimensions 128] [--report out.html] [--json out.json]
                                 [--parts cost quality] [--cost-graphs blogcatalog sbm]
                                 [--quality-graphs blogcatalog bitcoin-alpha]
                                 [--link-operators cosine dot context]

(1) cost: for delta sizes 0.1%, 1%, 10% of the edges (``growth_schedule(mode="random-edges",
    steps=1)``) on BlogCatalog and a generated power-law SBM (>= 5M undirected edges; --quick: 100k),
    the time of ``apply_delta`` (CSR rebuild) and of ``DNE.partial_fit`` (embedding update) against
    ``DNE.fit`` on the grown graph (full retraining). Goal: update <= 5% of retraining at 1%, growing
    with the delta, not the graph.
(2) quality after 10 successive 1% deltas (``replay``): Micro-F1 on BlogCatalog (random edge
    order) and future-link AUC on bitcoin-alpha (time order, unweighted) for DNE vs retraining vs
    new-vertices-only (DNE with m = 0). Goal: DNE within 1 point of retraining, above new-only.
    Future links are scored with each of --link-operators (cosine, dot of vertex vectors, or the
    objective's own x_u·c_v, "context"); the table gives the value after the last measured step and
    the mean over all measured steps after the base.

Medians over --repeats (different seeds). Prints markdown tables and ``RESULT {json}`` lines;
``--report`` writes an HTML report with the replay plots (F1/AUC and time per step).
Real datasets come from ../shared/datasets (or $VASTGRAPH_DATA); a missing one is skipped.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, Timer, emit, markdown_table, median, save_json  # noqa: E402

FRACTIONS = (0.001, 0.01, 0.1)


def data_root() -> Path | None:
    env = os.environ.get("VASTGRAPH_DATA")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "datasets"]:
        if (cand / "manifest.json").is_file():
            return cand
    return None


def load(name: str, args: argparse.Namespace):
    from vastgraph.datasets.registry import load_dataset
    from vastgraph.datasets.synthetic_sbm import power_law_sbm

    if name == "sbm":
        n = 20_000 if args.quick else 1_000_000
        return power_law_sbm(n_nodes=n, n_blocks=20, avg_degree=10.0, random_state=0).graph
    root = data_root()
    if root is None or not (root / name).is_dir():
        return None
    return load_dataset(name, root=root, download=False).graph


def dne(args: argparse.Namespace, seed: int, **kw):
    from vastgraph.embed.dne import DNE

    return DNE(dimensions=args.dimensions, random_state=seed, **kw)


def cost_part(args: argparse.Namespace) -> list[dict]:
    from vastgraph.graph.delta import apply_delta
    from vastgraph.train.dynamic_eval import growth_schedule

    out = []
    for name in args.cost_graphs:
        g = load(name, args)
        if g is None:
            print(f"(skipping {name}: dataset folder not found)", flush=True)
            continue
        per = {f: {"apply": [], "update": [], "edges": 0} for f in FRACTIONS}
        full = []
        for r in range(args.repeats):
            with Timer() as t:
                dne(args, r).fit(g)
            full.append(t.dt)
            for f in FRACTIONS:
                base, (delta,) = growth_schedule(g, steps=1, mode="random-edges", initial_fraction=1 - f,
                                                 weights="drop", random_state=r)
                model = dne(args, r).fit(base)
                with Timer() as ta:
                    new, summary = apply_delta(base, delta, time_policy="allow")
                with Timer() as tu:
                    model.partial_fit((new, summary))
                per[f]["apply"].append(ta.dt)
                per[f]["update"].append(tu.dt)
                per[f]["edges"] = delta.num_insertions
                per[f]["freed"] = int(model.last_update_.freed.size + model.last_update_.new_vertices.size)
        t_full = median(full)
        for f in FRACTIONS:
            upd, app = median(per[f]["update"]), median(per[f]["apply"])
            rec = {"bench": "dne_cost", "graph": name, "entries": int(g.num_edges()), "delta_fraction": f,
                   "delta_edges": per[f]["edges"], "freed_vertices": per[f]["freed"], "apply_s": app,
                   "update_s": upd, "retrain_s": t_full, "update_pct_of_retrain": 100 * upd / t_full,
                   "update_us_per_delta_edge": 1e6 * upd / max(per[f]["edges"], 1),
                   "repeats": args.repeats, "dimensions": args.dimensions}
            emit(rec)
            out.append(rec)
    return out


def quality_part(args: argparse.Namespace) -> tuple[list[dict], dict[str, list[dict]]]:
    """Replays; per (graph, link operator, method): the metric after the last measured step and its mean
    over every measured step after the base (the last step alone has few future links and is noisy)."""
    from vastgraph.train.dynamic_eval import NewOnly, Retrain, growth_schedule, replay

    summary, tables = [], {}
    setups = [("blogcatalog", "random-edges", "node-classification", "micro_f1"),
              ("bitcoin-alpha", "time", "future-links", "auc")]
    for name, mode, ev, metric in [s for s in setups if s[0] in args.quality_graphs]:
        g = load(name, args)
        if g is None:
            print(f"(skipping {name}: dataset folder not found)", flush=True)
            continue
        operators = args.link_operators if metric == "auc" else ["cosine"]
        finals: dict[tuple[str, str], list[float]] = {}
        means: dict[tuple[str, str], list[float]] = {}
        for r in range(args.repeats):
            base, deltas = growth_schedule(g, steps=10, mode=mode, initial_fraction=0.9, weights="drop",
                                           random_state=r)
            model = dne(args, r)
            steps = None if name == "bitcoin-alpha" or not args.quick else [0, 5, 10]
            for op in operators:
                rows = replay(base, deltas, {"dne": model, "retrain": Retrain(model), "new-only": NewOnly(model)},
                              eval=ev, eval_steps=steps, repeats=1, operator=op, random_state=r)
                if r == 0:
                    tables[name if metric != "auc" else f"{name} ({op})"] = rows
                valid = [s for s in rows if s[metric] == s[metric]]
                last = max(s["step"] for s in valid)
                for s in valid:
                    if s["step"] == last:
                        finals.setdefault((op, s["method"]), []).append(s[metric])
                for m in dict.fromkeys(s["method"] for s in valid):
                    vals = [s[metric] for s in valid if s["method"] == m and s["step"] > 0]
                    means.setdefault((op, m), []).append(sum(vals) / len(vals))
        for (op, m), vals in finals.items():
            rec = {"bench": "dne_quality", "graph": name, "metric": metric,
                   "operator": op if metric == "auc" else None, "method": m,
                   "after_deltas": 10 if metric == "micro_f1" else 9, "value": median(vals),
                   "mean_over_steps": median(means[(op, m)]), "repeats": args.repeats,
                   "dimensions": args.dimensions}
            emit(rec)
            summary.append(rec)
    return summary, tables


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small generated graph, fewer replay evaluations")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dimensions", type=int, default=128)
    ap.add_argument("--parts", nargs="+", default=["cost", "quality"], choices=["cost", "quality"])
    ap.add_argument("--cost-graphs", nargs="+", default=["blogcatalog", "sbm"])
    ap.add_argument("--quality-graphs", nargs="+", default=["blogcatalog", "bitcoin-alpha"])
    ap.add_argument("--link-operators", nargs="+", default=["cosine", "dot", "context"],
                    choices=["cosine", "dot", "context"], help="future-link scores (replay operator=)")
    ap.add_argument("--report", default=None, help="write an HTML report with the replay plots")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    cost = cost_part(args) if "cost" in args.parts else []
    quality, tables = quality_part(args) if "quality" in args.parts else ([], {})
    if cost:
        print("\n### DNE update vs full retraining (median of", args.repeats, "runs)\n")
        print(markdown_table(
            ["graph", "entries", "delta", "delta edges", "freed", "apply_delta s", "update s", "retrain s",
             "update / retrain", "update µs / delta edge"],
            [[c["graph"], f"{c['entries']:,}", f"{100 * c['delta_fraction']:g}%", f"{c['delta_edges']:,}",
              f"{c['freed_vertices']:,}", f"{c['apply_s']:.3f}", f"{c['update_s']:.3f}", f"{c['retrain_s']:.2f}",
              f"{c['update_pct_of_retrain']:.2f}%", f"{c['update_us_per_delta_edge']:.1f}"] for c in cost]))
    if quality:
        print("\n### Quality after successive 1% deltas (median of", args.repeats, "runs)\n")
        print(markdown_table(["graph", "metric", "link score", "method", "after last delta", "mean over steps 1.."],
                             [[q["graph"], q["metric"], q["operator"] or "", q["method"], f"{q['value']:.4f}",
                               f"{q['mean_over_steps']:.4f}"] for q in quality]))
    save_json(args.json, {"cost": cost, "quality": quality, "replay": tables})
    if args.report:
        from vastgraph.train.dynamic_eval import plot_replay
        from vastgraph.report import HtmlReport

        rep = HtmlReport("DNE: update cost and quality on growing graphs")
        rep.text(" ".join(sys.argv))
        if cost:
            rep.table("update vs full retraining", cost)
        if quality:
            rep.table("quality after successive 1% deltas", quality)
        for name, rows in tables.items():
            rep.heading(f"replay: {name}")
            rep.figure(plot_replay(rows, title=name), f"{name}: quality, seconds and drift per step")
            rep.table(f"{name} replay (seed 0)", rows)
        rep.write(args.report)
        print(f"report: {args.report}")


if __name__ == "__main__":
    main()
