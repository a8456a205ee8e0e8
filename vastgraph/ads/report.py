"""The HTML report of the search-ads pipeline: tables plus matplotlib plots, self-contained."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from vastgraph.report import HtmlReport


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def retrieval_rows(res: Any, baseline: str = "coclick") -> list[dict[str, Any]]:
    """One row per method: recall@K / nDCG@K (hidden relevance and next-day clicks) and the ratio to the baseline."""
    ks = res.config["k_values"]
    base = res.retrieval.get(baseline, {})
    k_ref = 50 if 50 in ks else ks[-1]
    rows = []
    for name, m in res.retrieval.items():
        row: dict[str, Any] = {"method": name, "train s": res.train_seconds.get(name)}
        for k in ks:
            row[f"recall@{k}"] = m.get(f"recall@{k}", np.nan)
        row[f"nDCG@{k_ref}"] = m.get(f"ndcg@{k_ref}", np.nan)
        row[f"click recall@{k_ref}"] = m.get(f"click_recall@{k_ref}", np.nan)
        b = base.get(f"recall@{k_ref}", np.nan)
        row[f"recall@{k_ref} / {baseline}"] = m.get(f"recall@{k_ref}", np.nan) / b if b and b > 0 else np.nan
        rows.append(row)
    return rows


def _recall_curves(res: Any) -> Any:
    plt = _plt()
    ks = res.config["k_values"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, m in res.retrieval.items():
        for ax, key in zip(axes, ("recall", "click_recall")):
            vals = [m.get(f"{key}@{k}", np.nan) for k in ks]
            ax.plot(ks, vals, marker="o", label=name, lw=2.5 if name == "coclick" else 1.5,
                    ls="--" if name == "coclick" else "-")
    for ax, title in zip(axes, ("against hidden relevance", "against the held-out day's clicks")):
        ax.set_xscale("log")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("K")
        ax.set_ylabel("recall@K")
        ax.set_title(title, fontsize=10)
        ax.set_ylim(0, 1)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def _auction_bars(rows: list[dict[str, Any]]) -> Any:
    plt = _plt()
    names = [r["method"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    for ax, key, label in zip(axes, ("roi", "gmv", "clicks"), ("ROI (GMV / spend)", "GMV", "clicks")):
        vals = [r.get(key, np.nan) for r in rows]
        bars = ax.bar(np.arange(len(names)), vals, color=["#888" if n == "coclick" else "#3a7" for n in names])
        ax.set_xticks(np.arange(len(names)), names, rotation=30, fontsize=8, ha="right")
        ax.set_title(label, fontsize=10)
        for b, r in zip(bars, rows):
            ratio = r.get(f"{key}_ratio")
            if ratio is not None and np.isfinite(ratio):
                ax.annotate(f"{ratio:.2f}×", (b.get_x() + b.get_width() / 2, b.get_height()), ha="center",
                            va="bottom", fontsize=7)
    fig.tight_layout()
    return fig


def _freshness(rows: list[dict[str, Any]]) -> Any:
    plt = _plt()
    days = [r["day"] for r in rows]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.4))
    for key, style in (("fresh", "o-"), ("stale", "s--")):
        for metric in [k for k in rows[0] if k.startswith(f"{key} ")]:
            a1.plot(days, [r.get(metric, np.nan) for r in rows], style, label=metric)
    a1.set_xticks(days)
    a2.set_xticks(days)
    a1.set_xlabel("day (model state after it; scored on the next day)")
    a1.set_ylabel("recall")
    a1.legend(fontsize=7)
    a1.set_title("DNE updated daily vs the same model left stale", fontsize=10)
    a2.bar(days, [r["update s"] for r in rows], label="DNE update")
    a2.axhline(rows[0]["fit s"], color="k", ls=":", label="initial full fit")
    a2.set_xlabel("day")
    a2.set_ylabel("seconds")
    a2.legend(fontsize=8)
    a2.set_title("update time per day vs a full fit", fontsize=10)
    fig.tight_layout()
    return fig


def _spend_curves(curves: dict[str, list[float]]) -> Any:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for name, ys in curves.items():
        x = np.arange(1, len(ys) + 1) / len(ys) * 24.0
        ax.plot(x, ys, lw=2.2 if name in ("dt", "diffusion") else 1.4, ls="--" if "no graph" in name else "-",
                label=name)
    ax.plot([0, 24], [0, 1], color="#aaa", lw=0.8, ls=":", label="even pacing")
    ax.set_xlabel("hour of the held-out day")
    ax.set_ylabel("share of the budget spent")
    ax.set_xlim(0, 24)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _projection(keyed: Any, graph: Any) -> Any:
    """Ads embedded by a method, 2-D PCA, one colour per hidden top-level category."""
    from sklearn.decomposition import PCA

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    if "ad" in graph.node_types and graph.labels("ad") is not None:
        vec = np.asarray(keyed.vectors)[keyed.index_of(graph.external_ids("ad"), "ad")]
        xy = PCA(n_components=2, random_state=0).fit_transform(vec)
        labels = np.asarray(graph.labels("ad"))
        for c in np.unique(labels):
            pick = labels == c
            ax.scatter(xy[pick, 0], xy[pick, 1], s=6, color=plt.cm.tab10(int(c) % 10), label=f"category {int(c)}")
        ax.legend(fontsize=7, markerscale=2, loc="best")
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


def write_report(res: Any, path: str | os.PathLike, title: str = "vastgraph: search-ads pipeline") -> str:
    """Write the self-contained HTML report of a :class:`~vastgraph.ads.pipeline.PipelineResult`."""
    rep = HtmlReport(title)
    w = res.world_summary
    rep.text(f"{w['events']:,} impressions over {w['days']} days ({w['clicks']:,} clicks, "
             f"{w['conversions']:,} conversions). Every method learns from the days before day {w['test_day']} "
             f"and is scored on day {w['test_day']}: retrieval against the hidden relevance and that day's clicks, "
             "then that day's traffic replayed through a second-price auction with budgets.")
    rep.heading("Graph")
    rep.table("node types", [{"node type": k, "nodes": v} for k, v in w["nodes"].items()])
    rep.table("edge types (stored entries)", [{"edge type": k, "entries": v} for k, v in w["edges"].items()])
    rep.heading("Query → ad retrieval")
    rows = retrieval_rows(res)
    rep.table("recall@K / nDCG against hidden relevance (relevant = same leaf category) and the held-out day's "
              "clicks; ratio to the co-click baseline", rows)
    rep.figure(_recall_curves(res), "recall@K by method")
    if res.auction_table:
        rep.heading("Offline auction replay")
        keep = ("method", "spend", "clicks", "conversions", "gmv", "roi", "ctr", "roi_ratio", "gmv_ratio")
        arows = [{k: r.get(k) for k in keep} for r in res.auction_table]
        rep.table(f"day {w['test_day']} traffic, generalised second-price auction, advertiser budgets, "
                  "same random numbers for every method; ratios against the co-click baseline", arows)
        rep.figure(_auction_bars(res.auction_table), "ROI, GMV and clicks by candidate generator (ratio to co-click)")
    bidding = getattr(res, "bidding", None)
    if bidding:
        rep.heading("Auto-bidding")
        keep = ("policy", "episodes", "value", "score", "roi", "budget_use", "violations", "over_budget", "train_s")
        rep.table(f"one episode per advertiser on day {w['test_day']} (episode budget and target CPA per advertiser, "
                  "other advertisers bid as logged); value = expected conversion value won, score = value with the "
                  "CPA penalty min(1, (target/CPA)^2); violations = share of episodes over the target CPA; "
                  "over_budget must be 0", [{k: r.get(k) for k in keep} for r in bidding])
        rep.figure(_spend_curves(res.bidding_curves), "Budget spent over the day, mean over episodes, per policy")
    if res.click_model:
        rep.heading("Click-through model")
        rep.table("AUC / log-loss on the held-out day", res.click_model)
    if res.freshness:
        rep.heading("DNE: freshness day by day")
        rep.table("DNE updated with one graph delta per day", res.freshness)
        rep.figure(_freshness(res.freshness), "DNE kept fresh vs stale, and update time vs a full fit")
    best = next((n for n in ("metapath2vec", "deepwalk", "dne", "curvature", "node2vec", "gralsp")
                 if n in res.embeddings), None)
    if best is not None:
        rep.heading("Embedding")
        rep.figure(_projection(res.embeddings[best], res.graph),
                   f"Ads embedded by {best}, 2-D PCA projection, coloured by hidden category")
    for note in res.notes:
        rep.text(note, cls="note")
    rep.text(f"Total time {res.seconds:.1f} s.", cls="note")
    return rep.write(path)
