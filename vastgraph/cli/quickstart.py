"""``vastgraph quickstart``: the main job on the embedded default data (no download).

Generates the default search-ads world (queries, ads, advertisers; timestamped click edges, co-bid
edges, hidden categories), stores it, holds out 10% of the clicks, trains three embeddings on the
rest (metapath2vec over query→ad→query, LINE-2nd on clicks, DeepWalk on the ad co-bid graph), and
scores them on hidden-category classification and held-out click prediction. Writes
``report.html`` (tables and plots) and ``metrics.json`` into the output folder.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import typer

from vastgraph.cli._common import console, handle_errors, print_table, progress_bar


def _train(name: str, model: Any, graph: Any) -> tuple[Any, float]:
    with progress_bar(name, total=1.0) as update:
        if hasattr(model, "progress"):
            model.progress = lambda frac, loss=None: update(
                frac, description=name + ("" if loss is None else f" (loss {loss:.3f})"))
        t0 = time.perf_counter()
        model.fit(graph)
        return model, time.perf_counter() - t0


@handle_errors
def quickstart(
    out: Path = typer.Option(Path("vastgraph-quickstart"), help="Output folder (store, report.html, metrics.json)."),
    seed: int = typer.Option(0, help="Random seed for the generated world and all training."),
    queries: int = typer.Option(4000, help="Queries in the generated world."),
    ads: int = typer.Option(1600, help="Ads in the generated world."),
    dimensions: int = typer.Option(64, help="Embedding dimension."),
) -> None:
    """Generate the default search-ads graph, train embeddings, evaluate them, write an HTML report."""
    from vastgraph.cli.graph_cmds import _print_summary
    from vastgraph.datasets import load_dataset
    from vastgraph.embed.deepwalk import DeepWalk
    from vastgraph.embed.line import LINE
    from vastgraph.embed.metapath2vec import Metapath2Vec
    from vastgraph.graph.storage import save_graph
    from vastgraph.sampling.query import run_query
    from vastgraph.train.link_prediction import evaluate_link_prediction, split_edges
    from vastgraph.train.node_classification import evaluate_node_classification
    from vastgraph.train.report import HtmlReport, write_json

    t_start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    with progress_bar("generating the default search-ads graph") as update:
        ds = load_dataset("search-ads", random_state=seed, n_queries=queries, n_ads=ads,
                          n_advertisers=max(ads // 10, 1))
        update(description=f"writing {out / 'graph'}")
        path = save_graph(ds.graph, out / "graph", overwrite=True)
    graph = ds.graph
    console.print(f"[green]store[/] {path}")
    _print_summary(graph)

    click = graph.edge_type("click")
    split = split_edges(graph, click, test_fraction=0.1, random_state=seed)
    train = split.train_graph
    # name -> (model, node types it embeds); each method only learns the types its edges reach
    methods = {
        "metapath2vec": (Metapath2Vec(["query:click:ad", "~query:click:ad"], dimensions=dimensions,
                                      walks_per_node=10, walk_length=40, window=5, random_state=seed),
                         ("query", "ad")),
        "LINE-1st": (LINE(dimensions=dimensions, order=1, etype=click, random_state=seed), ("query", "ad")),
        "DeepWalk": (DeepWalk(dimensions=dimensions, walks_per_node=10, walk_length=40, window=5,
                              etype="ad:cobid:ad", random_state=seed), ("ad",)),
    }
    about = {"metapath2vec": "walks query→click→ad→click⁻¹→query, type-aware negatives",
             "LINE-1st": "first-order proximity on click edges", "DeepWalk": "uniform walks on the ad co-bid graph"}
    results: dict[str, Any] = {}
    vectors: dict[str, Any] = {}
    for name, (model, covers) in methods.items():
        model, secs = _train(name, model, train)
        keyed = model.keyed_
        vectors[name] = keyed
        row: dict[str, Any] = {"method": name, "train s": round(secs, 2)}
        for nt in ("ad", "query"):
            if nt not in covers:
                continue
            vec = np.asarray(keyed.vectors)[keyed.index_of(graph.external_ids(nt), nt)]
            nc = evaluate_node_classification(vec, np.asarray(graph.labels(nt)), train_ratios=(0.5,), repeats=3,
                                              random_state=seed)
            row[f"{nt} micro-F1"] = round(nc.micro(0.5), 4)
            row[f"{nt} macro-F1"] = round(nc.macro(0.5), 4)
        if "query" in covers and "ad" in covers:
            offs = np.array([keyed.index_of(graph.external_ids("query")[:1], "query")[0],
                             keyed.index_of(graph.external_ids("ad")[:1], "ad")[0]])
            pos, neg = split.test_pos + offs, split.test_neg + offs
            lp = evaluate_link_prediction(np.asarray(keyed.vectors), pos, neg, operator="cosine", random_state=seed)
            row.update({"click AUC": round(lp.auc, 4), "click AP": round(lp.ap, 4), "click MRR": round(lp.mrr, 4)})
        results[name] = row
    rows = list(results.values())
    print_table("quickstart: hidden-category classification (50% train) and held-out click prediction", rows)

    example = ('g.V("query").limit(3).as("q").outV("click").sample(3).by("weight").as("ad")'
               '.select("q", "ad")')
    q_res = run_query(graph, example, random_state=seed).to_pandas()

    report = HtmlReport("vastgraph quickstart: search-ads world")
    report.text(f"Seed {seed}; {graph.num_nodes():,} nodes, {graph.num_edges():,} stored edge entries; "
                f"10% of the {graph.num_edges(click):,} click edges held out for link prediction.")
    report.heading("Graph")
    s = graph.summary()
    report.table("node types", [{"node type": k, **{kk: vv for kk, vv in v.items() if kk != "data"}}
                                for k, v in s["node_types"].items()])
    report.table("edge types", [{"edge type": k, **v} for k, v in s["edge_types"].items()])
    report.figure(_degree_plot(graph, click), "Click degree distributions (log-log): power-law popularity")
    report.heading("Embeddings")
    report.table("Methods", [{"method": k, "what it learns from": v} for k, v in about.items()])
    report.table("Hidden-category node classification (one-vs-rest logistic regression, 50% train, 3 splits) "
                 "and held-out click prediction (cosine score)", rows)
    report.figure(_f1_plot(rows), "Micro-F1 of hidden-category classification by method")
    m2v = vectors["metapath2vec"]
    ad_vec = np.asarray(m2v.vectors)[m2v.index_of(graph.external_ids("ad"), "ad")]
    report.figure(_projection_plot(ad_vec, np.asarray(graph.labels("ad"))),
                  "Ads embedded by metapath2vec, 2-D PCA projection, coloured by hidden category")
    report.heading("Query language")
    report.text(example)
    report.table("result (first rows)", q_res.head(12).astype(str).to_dict("records"))
    total = time.perf_counter() - t_start
    report.text(f"Total time {total:.1f} s.", cls="note")
    rp = report.write(out / "report.html")
    write_json(out / "metrics.json", {"seed": seed, "graph": {k: v for k, v in s.items() if k != "path"},
                                      "methods": rows, "total_s": total})
    console.print(f"[green]report[/] {rp}  [green]metrics[/] {out / 'metrics.json'}  ({total:.1f} s)")


def _degree_plot(graph: Any, click: Any) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for deg, label in ((graph.out_degree(click), "queries (out-degree)"), (graph.in_degree(click), "ads (in-degree)")):
        deg = deg[deg > 0]
        vals, counts = np.unique(deg, return_counts=True)
        ax.loglog(vals, counts, "o", ms=3, label=label)
    ax.set_xlabel("degree")
    ax.set_ylabel("nodes")
    ax.legend()
    return fig


def _f1_plot(rows: list[dict[str, Any]]) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    names = [r["method"] for r in rows]
    x = np.arange(len(names))
    for i, nt in enumerate(("ad", "query")):
        vals = [r.get(f"{nt} micro-F1", np.nan) for r in rows]
        ax.bar(x + (i - 0.5) * 0.38, vals, width=0.38, label=nt)
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylabel("micro-F1")
    ax.set_ylim(0, 1)
    ax.legend()
    return fig


def _projection_plot(vec: np.ndarray, labels: np.ndarray) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    xy = PCA(n_components=2, random_state=0).fit_transform(vec)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    sc = ax.scatter(xy[:, 0], xy[:, 1], c=labels, cmap="tab20", s=6)
    fig.colorbar(sc, ax=ax, label="hidden category")
    ax.set_xticks([])
    ax.set_yticks([])
    return fig
