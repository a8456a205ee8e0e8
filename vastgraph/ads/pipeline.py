"""The search-ads pipeline: log → graph → methods → retrieval metrics → click model → auction replay.

This is what ``vastgraph quickstart`` (on the generated default world) and ``vastgraph ads run
--config`` (on a world preset or a user's own logs) run. The last logged day is held out: every
method learns from the days before it, is scored on that day's queries against the hidden
relevance (synthetic worlds) and against that day's clicks, and is replayed as the candidate
generator of that day's traffic through a second-price auction with budgets
(:func:`vastgraph.ads.auction.replay_auction`, common random numbers for every method).

DNE is kept fresh day by day: fitted on the first days, then updated with one
:class:`~vastgraph.graph.delta.GraphDelta` per day (:func:`vastgraph.ads.graph_build.daily_deltas`);
after each day its retrieval on the next day is compared with the same model left stale.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Iterator, Literal, Optional

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vastgraph.errors import ValidationError

CLICK = ("query", "click", "ad")
ORACLE = "oracle (hidden relevance)"
METHODS = ("coclick", "deepwalk", "node2vec", "metapath2vec", "dne", "curvature", "gralsp")
#: StageFn(description, total) -> context manager yielding update(completed, description=None)
StageFn = Callable[[str, Optional[float]], ContextManager[Callable[..., None]]]


class AdsPipelineConfig(BaseModel):
    """Typed configuration of :func:`run_pipeline` (YAML keys of ``vastgraph ads run --config``)."""

    model_config = ConfigDict(extra="forbid")

    preset: Literal["tiny", "default", "large"] = Field("default", description="Generated world size.")
    world: dict[str, Any] = Field(default_factory=dict, description="Overrides of generate_world's parameters.")
    events: Optional[str] = Field(None, description="A log of your own (Parquet/CSV); no world is generated.")
    on_error: Literal["raise", "skip"] = Field("raise", description="Bad log rows: raise, or skip and count.")
    seed: int = Field(0, ge=0, description="Seed of the world and of every method.")
    methods: list[str] = Field(default_factory=lambda: ["coclick", "deepwalk", "metapath2vec", "dne", "curvature"],
                               description=f"Retrieval methods, from {', '.join(METHODS)}.")
    dimensions: int = Field(64, ge=2, le=1024, description="Embedding dimension.")
    budget: float = Field(1.0, gt=0, le=20, description="Training budget multiplier (walks, epochs, samples).")
    k_values: list[int] = Field(default_factory=lambda: [10, 20, 50, 100], description="Cut-offs of recall/nDCG.")
    eval_queries: int = Field(1000, ge=1, description="Queries of the held-out day scored (the most frequent).")
    k_candidates: int = Field(50, ge=1, description="Candidates per arrival in the auction replay.")
    dne_start_fraction: float = Field(0.5, gt=0, lt=1, description="Share of the training days DNE starts from.")
    click_model: Literal["logistic", "mlp"] = Field("logistic", description="Click-through model.")
    bidders: list[str] = Field(default_factory=list, description="Auto-bidding policies replayed on the held-out "
                               "day (fixed, pid, online-lp, dt, diffusion; 'all'); empty: no bidding stage.")
    bidding_steps: int = Field(48, ge=2, le=288, description="Time steps per day of the bidding episodes.")

    @field_validator("bidders")
    @classmethod
    def _bidders(cls, v: list[str]) -> list[str]:
        from vastgraph.ads.bidding.evaluate import BIDDERS

        if "all" in v:
            return list(BIDDERS)
        bad = [b for b in v if b not in BIDDERS]
        if bad:
            raise ValueError(f"unknown bidder(s) {bad}; valid: {', '.join(BIDDERS)} or 'all'")
        return list(dict.fromkeys(v))

    @field_validator("methods")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [m for m in v if m not in METHODS]
        if bad or not v:
            raise ValueError(f"unknown method(s) {bad or '(none given)'}; valid: {', '.join(METHODS)}")
        if "coclick" not in v:
            v = ["coclick", *v]  # the baseline every ratio is against
        return list(dict.fromkeys(v))

    @field_validator("k_values")
    @classmethod
    def _ks(cls, v: list[int]) -> list[int]:
        if not v or any(k < 1 for k in v):
            raise ValueError(f"k_values={v}: expected positive integers")
        return sorted(set(v))


@dataclass
class PipelineResult:
    """Everything the report and ``metrics.json`` show."""

    config: dict[str, Any]
    world_summary: dict[str, Any]
    graph: Any
    retrieval: dict[str, dict[str, Any]] = field(default_factory=dict)
    train_seconds: dict[str, float] = field(default_factory=dict)
    auction: dict[str, Any] = field(default_factory=dict)
    auction_table: list[dict[str, Any]] = field(default_factory=list)
    click_model: list[dict[str, Any]] = field(default_factory=list)
    freshness: list[dict[str, Any]] = field(default_factory=list)
    embeddings: dict[str, Any] = field(default_factory=dict)
    bidding: list[dict[str, Any]] = field(default_factory=list)
    bidding_curves: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def metrics(self) -> dict[str, Any]:
        """JSON-able metrics (no arrays)."""
        return {"config": self.config, "world": self.world_summary, "retrieval": self.retrieval,
                "train_seconds": self.train_seconds, "auction": self.auction_table,
                "click_model": self.click_model, "dne_freshness": self.freshness, "bidding": self.bidding,
                "bidding_spend_curves": self.bidding_curves, "notes": self.notes,
                "total_seconds": self.seconds}


@contextmanager
def _no_stage(description: str, total: float | None = None) -> Iterator[Callable[..., None]]:
    yield lambda *a, **k: None


def _scale(base: int, budget: float, least: int = 1) -> int:
    return max(least, int(round(base * budget)))


# ----------------------------------------------------------------------------------- methods
def _keyed_from_view(graph: Any, model: Any) -> Any:
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

    return KeyedEmbeddings.from_graph(graph, np.asarray(model.embedding_), meta={"method": type(model).__name__})


def _fit(model: Any, graph: Any, name: str, stage: StageFn) -> tuple[Any, float]:
    with stage(f"training {name}", 1.0) as update:
        if hasattr(model, "progress"):
            model.progress = lambda frac, loss=None: update(
                frac, description=f"training {name}" + ("" if loss is None else f" (loss {loss:.3f})"))
        t0 = time.perf_counter()
        model.fit(graph)
        return model, time.perf_counter() - t0


def _train_method(name: str, graph: Any, cfg: AdsPipelineConfig, stage: StageFn) -> tuple[Any, Any, float]:
    """(retriever, KeyedEmbeddings or None, seconds) of one method on the training graph."""
    from vastgraph.ads.retrieval import CoClickRetriever, EmbeddingRetriever, ScoreRetriever

    d, b, seed = cfg.dimensions, cfg.budget, cfg.seed
    if name == "coclick":
        t0 = time.perf_counter()
        return CoClickRetriever(graph), None, time.perf_counter() - t0
    if name in ("deepwalk", "node2vec"):
        from vastgraph.embed.deepwalk import DeepWalk
        from vastgraph.embed.node2vec import Node2Vec
        from vastgraph.graph.homogeneous import to_homogeneous

        view = to_homogeneous(graph)
        kw = dict(dimensions=d, walks_per_node=_scale(10, b), walk_length=40, window=5, random_state=seed)
        model = DeepWalk(**kw) if name == "deepwalk" else Node2Vec(p=1.0, q=0.5, **kw)
        model, secs = _fit(model, view, name, stage)
        keyed = _keyed_from_view(graph, model)
        return EmbeddingRetriever(keyed), keyed, secs
    if name == "metapath2vec":
        from vastgraph.embed.metapath2vec import Metapath2Vec

        model = Metapath2Vec(["query:click:ad", "~query:click:ad"], dimensions=d, walks_per_node=_scale(10, b),
                             walk_length=40, window=5, random_state=seed)
        model, secs = _fit(model, graph, name, stage)
        return EmbeddingRetriever(model.keyed_), model.keyed_, secs
    if name == "curvature":
        from vastgraph.embed.curvature import MixedCurvature

        model = MixedCurvature(dimensions=d - d % 3 if d >= 6 else d, manifold="mixed",
                               epochs=_scale(10, b), num_threads=1, random_state=seed)
        model, secs = _fit(model, graph, name, stage)
        click = graph.edge_type(CLICK)
        retr = ScoreRetriever.from_graph(lambda u, v: model.score(u, v, click), graph)
        return retr, model.keyed_, secs
    if name == "gralsp":
        return _train_gralsp(graph, cfg, stage)
    raise ValidationError(f"method {name!r}: expected one of {', '.join(METHODS)}")


def _train_gralsp(graph: Any, cfg: AdsPipelineConfig, stage: StageFn) -> tuple[Any, Any, float]:
    """The structural GNN as a click link predictor, on the query–ad click graph viewed as one node type.

    Trained on the click edges only (what it predicts); the other relations would multiply the
    training pairs per epoch for little gain in this task.
    """
    from vastgraph.ads.retrieval import EmbeddingRetriever
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
    from vastgraph.graph.homogeneous import to_homogeneous
    from vastgraph.train.link_prediction import split_edges
    from vastgraph.train.models import create_model
    from vastgraph.train.trainer import Trainer

    view = to_homogeneous(graph, [CLICK])
    t0 = time.perf_counter()
    split = split_edges(view, test_fraction=0.05, valid_fraction=0.05, random_state=cfg.seed)
    model = create_model("gralsp", split.train_graph, hidden=cfg.dimensions, out_dim=cfg.dimensions,
                         num_samples=10, random_state=cfg.seed)
    with stage("training gralsp (link prediction)", 1.0) as update:
        epochs = _scale(3, cfg.budget)
        trainer = Trainer(model, task="link-prediction", epochs=epochs, batch_size=1024, lr=0.01, patience=3,
                          random_state=cfg.seed, progress=lambda e, *a, **k: update((e + 1) / epochs))
        trainer.fit(split.train_graph, split=split)
    vectors = np.asarray(trainer.embed(), dtype=np.float32)
    keyed = KeyedEmbeddings.from_graph(graph, vectors, meta={"method": "GraLSP"})
    return EmbeddingRetriever(keyed, metric="dot"), keyed, time.perf_counter() - t0


# ----------------------------------------------------------------------------------- DNE freshness
def _dne_fresh(events: pd.DataFrame, world: Any, days: list[int], cfg: AdsPipelineConfig, stage: StageFn,
               eval_queries: Callable[[int], np.ndarray], relevance: Any) -> tuple[Any, Any, list[dict], float]:
    """Fit DNE on the first days, update it day by day; returns (retriever, keyed, freshness rows, s)."""
    from vastgraph.ads.graph_build import build_ads_graph, daily_deltas
    from vastgraph.ads.retrieval import EmbeddingRetriever, evaluate_retrieval
    from vastgraph.embed.dne import DNE
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

    train_days = days[:-1]
    n0 = max(1, int(round(len(train_days) * cfg.dne_start_fraction)))
    start_day = train_days[n0 - 1]
    train_events = events[events["day"].isin(train_days)]
    base = build_ads_graph(train_events, world, days=train_days[:n0])
    dne = DNE(dimensions=cfg.dimensions, random_state=cfg.seed, samples=_scale(40, cfg.budget) * base.num_edges())
    dne, fit_s = _fit(dne, base, "dne (base days)", stage)
    stale = KeyedEmbeddings.from_graph(dne.graph_, np.array(dne.embedding_), meta={"method": "DNE-stale"})
    k = 50 if 50 in cfg.k_values else max(cfg.k_values)
    rows: list[dict] = []
    update_s = 0.0

    def score(keyed: Any, day: int) -> dict[str, float]:
        nxt = events[events["day"] == day + 1]
        m = evaluate_retrieval(EmbeddingRetriever(keyed), eval_queries(day + 1), k_values=(k,),
                               relevance=relevance, next_day_clicks=nxt, unknown="empty")
        return {f"recall@{k}": m.get(f"recall@{k}", np.nan), f"click_recall@{k}": m.get(f"click_recall@{k}", np.nan)}

    deltas = list(daily_deltas(train_events, world, start_day=start_day))
    with stage("DNE: daily updates", float(max(len(deltas), 1))) as update:
        for i, (day, delta) in enumerate(deltas):
            t0 = time.perf_counter()
            keyed = dne.partial_fit(delta).keyed_
            secs = time.perf_counter() - t0
            update_s += secs
            fresh = KeyedEmbeddings.from_graph(dne.graph_, np.array(keyed.vectors), meta={"method": "DNE"})
            rep = dne.last_update_
            row = {"day": int(day), "new vertices": int(np.size(rep.new_vertices)),
                   "freed": int(np.size(rep.freed)), "update s": round(secs, 3), "fit s": round(fit_s, 3)}
            if day + 1 in days:
                row.update({f"fresh {k2}": v for k2, v in score(fresh, day).items()})
                row.update({f"stale {k2}": v for k2, v in score(stale, day).items()})
            rows.append(row)
            update(i + 1)
    final = KeyedEmbeddings.from_graph(dne.graph_, np.array(dne.embedding_), meta={"method": "DNE"})
    return EmbeddingRetriever(final), final, rows, fit_s + update_s


# ----------------------------------------------------------------------------------- the pipeline
def _load(cfg: AdsPipelineConfig, stage: StageFn) -> tuple[Any, pd.DataFrame, list[str]]:
    notes: list[str] = []
    if cfg.events is not None:
        from vastgraph.ads.logs import read_events

        with stage(f"reading {cfg.events}", None):
            events, report = read_events(cfg.events, on_error=cfg.on_error)
        if report.rows_skipped:
            notes.append(f"skipped {report.rows_skipped} bad log rows: {report.skipped}")
        if report.reordered:
            notes.append(f"sorted {report.reordered} rows that were out of time order")
        if report.empty_days:
            notes.append(f"days without events: {report.empty_days}")
        return None, events, notes
    from vastgraph.ads.world import AdsWorld

    with stage(f"generating the {cfg.preset} search-ads world", 1.0) as update:
        world = AdsWorld.preset(cfg.preset, random_state=cfg.seed, progress=lambda d, t: update(d / max(t, 1)),
                                **cfg.world)
    return world, world.events, notes


def run_pipeline(config: AdsPipelineConfig | dict[str, Any] | None = None, *,
                 stage: StageFn | None = None) -> PipelineResult:
    """Run the whole search-ads pipeline (see the module docstring).

    Args:
        config: an :class:`AdsPipelineConfig` or its fields as a dict (validated).
        stage: progress reporting, ``stage(description, total)`` → context manager yielding
            ``update(completed, description=None)`` (the CLI passes its rich progress bar).

    Returns:
        A :class:`PipelineResult`.

    Example:
        >>> res = run_pipeline({"preset": "tiny", "methods": ["coclick"], "eval_queries": 50})
        >>> res.retrieval["coclick"]["recall@10"] >= 0
        True
    """
    from vastgraph.ads.graph_build import build_ads_graph
    from vastgraph.ads.retrieval import evaluate_retrieval

    t_start = time.perf_counter()
    cfg = config if isinstance(config, AdsPipelineConfig) else _validated(config or {})
    stage = stage or _no_stage
    world, events, notes = _load(cfg, stage)
    days = sorted(int(d) for d in pd.unique(events["day"]))
    if len(days) < 2:
        raise ValidationError(f"the log spans {len(days)} day(s); the pipeline holds out the last day, so it "
                              "needs at least 2")
    test_day, train_days = days[-1], days[:-1]
    train_events = events[events["day"].isin(train_days)]
    test_events = events[events["day"] == test_day]
    with stage(f"building the graph of days {train_days[0]}–{train_days[-1]}", 1.0) as update:
        graph = build_ads_graph(train_events, world, progress=lambda d, t: update(d / max(t, 1)))
    relevance = world

    def eval_queries(day: int) -> np.ndarray:
        q = events.loc[events["day"] == day, "query"].value_counts()
        return q.index.to_numpy()[:cfg.eval_queries]

    res = PipelineResult(config=cfg.model_dump(), world_summary=_summary(world, events, graph, test_day),
                         graph=graph, notes=notes)
    retrievers: dict[str, Any] = {}
    for name in cfg.methods:
        if name == "dne":
            retr, keyed, rows, secs = _dne_fresh(events, world, days, cfg, stage, eval_queries, relevance)
            res.freshness = rows
        else:
            retr, keyed, secs = _train_method(name, graph, cfg, stage)
        retrievers[name], res.train_seconds[name] = retr, round(secs, 3)
        if keyed is not None:
            res.embeddings[name] = keyed
    queries = eval_queries(test_day)
    scored = dict(retrievers)
    if world is not None:  # the ceiling: ads ranked by the hidden relevance itself (not a method)
        from vastgraph.ads.retrieval import RelevanceRetriever

        scored[ORACLE] = RelevanceRetriever(world, day=train_days[-1], random_state=cfg.seed)
    with stage("retrieval metrics", float(len(scored))) as update:
        for i, (name, retr) in enumerate(scored.items()):
            res.retrieval[name] = evaluate_retrieval(retr, queries, k_values=tuple(cfg.k_values),
                                                     relevance=relevance, next_day_clicks=test_events,
                                                     unknown="empty")
            update(i + 1)
    _click_models(res, cfg, train_events, test_events, train_days, world)
    if world is not None:
        _auctions(res, cfg, world, test_day, retrievers, stage)
        if cfg.bidders:
            _bidding(res, cfg, world, train_days, test_day, stage)
    else:
        res.notes.append("auction replay skipped: it needs a world's hidden click model (only generated worlds "
                         "have one); retrieval is scored against next-day clicks only")
    res.seconds = time.perf_counter() - t_start
    return res


def _validated(raw: dict[str, Any]) -> AdsPipelineConfig:
    from pydantic import ValidationError as PydanticError

    try:
        return AdsPipelineConfig(**raw)
    except PydanticError as exc:
        msgs = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise ValidationError(f"ads pipeline config: {msgs}") from None


def _summary(world: Any, events: pd.DataFrame, graph: Any, test_day: int) -> dict[str, Any]:
    out: dict[str, Any] = {"events": int(len(events)), "days": int(events["day"].nunique()), "test_day": test_day,
                           "clicks": int(events["click"].sum()), "conversions": int(events["conversion"].sum()),
                           "nodes": {t: graph.num_nodes(t) for t in graph.node_types},
                           "edges": {str(e): graph.num_edges(e) for e in graph.edge_types}}
    if world is not None:
        out.update({"queries": int(len(world.queries)), "ads": int(len(world.ads)),
                    "advertisers": int(len(world.advertisers)), "seed": world.params.get("seed")})
    return out


def _click_models(res: PipelineResult, cfg: AdsPipelineConfig, train_events: pd.DataFrame,
                  test_events: pd.DataFrame, train_days: list[int], world: Any) -> None:
    """Click-through models with and without graph features, leakage-free.

    Graph features come from metapath2vec trained on a graph of the days before the last training
    day; both models are fitted on the last training day's impressions and scored on the held-out day.
    """
    from vastgraph.ads.click_model import ClickModel
    from vastgraph.ads.graph_build import build_ads_graph
    from vastgraph.embed.metapath2vec import Metapath2Vec

    fit_day = train_days[-1]
    fit_events = train_events[train_events["day"] == fit_day]
    variants: list[tuple[str, Any, int | None]] = [("no graph features", None, None)]
    if len(train_days) >= 2:
        early = train_days[:-1]
        g = build_ads_graph(train_events[train_events["day"].isin(early)], world)
        m2v = Metapath2Vec(["query:click:ad", "~query:click:ad"], dimensions=cfg.dimensions,
                           walks_per_node=_scale(10, cfg.budget), walk_length=40, window=5,
                           random_state=cfg.seed).fit(g)
        variants.append(("+ metapath2vec graph features", m2v.keyed_, early[-1]))
    else:
        res.notes.append("click model: graph features need at least 3 logged days (graph, fit day, test day)")
    for label, keyed, last in variants:
        cm = ClickModel(kind=cfg.click_model, graph_features=keyed, graph_last_day=last,
                        random_state=cfg.seed).fit(fit_events)
        res.click_model.append({"click model": f"{cfg.click_model}, {label}", "fit day": fit_day,
                                **cm.evaluate(test_events)})


def _auctions(res: PipelineResult, cfg: AdsPipelineConfig, world: Any, day: int, retrievers: dict[str, Any],
              stage: StageFn) -> None:
    from vastgraph.ads.auction import compare, replay_auction

    with stage(f"auction replay of day {day}", float(len(retrievers))) as update:
        for i, (name, retr) in enumerate(retrievers.items()):
            res.auction[name] = replay_auction(world, day, retr, k_candidates=cfg.k_candidates, method=name,
                                               random_state=cfg.seed)
            update(i + 1)
    table = compare(list(res.auction.values()), baseline="coclick")
    res.auction_table = table.reset_index().rename(columns={"index": "method"}).to_dict("records")


def _bidding(res: PipelineResult, cfg: AdsPipelineConfig, world: Any, train_days: list[int], test_day: int,
             stage: StageFn) -> None:
    """Auto-bidders trained on the last (up to 4) training days, replayed on the held-out day.

    Graph features: the ads' embeddings of the first method that has them (metapath2vec preferred),
    pooled per advertiser; without one, a small metapath2vec on the training graph.
    """
    from vastgraph.ads.bidding.evaluate import graph_features_for, run_bidding

    keyed = next((res.embeddings[n] for n in ("metapath2vec", "deepwalk", "node2vec", "dne", "curvature", "gralsp")
                  if n in res.embeddings and "ad" in getattr(res.embeddings[n], "node_types", [])), None)
    days = train_days[-4:]
    with stage("auto-bidding: graph features, training, replay", None) as update:
        gf = graph_features_for(world, train_days, keyed=keyed, random_state=cfg.seed)
        exp = run_bidding(world, bidders=cfg.bidders, train_days=days, test_days=[test_day], steps=cfg.bidding_steps,
                          graph_features=gf, epochs_scale=min(cfg.budget, 1.0), random_state=cfg.seed,
                          progress=lambda msg: update(0, description=f"auto-bidding: {msg}"))
    res.bidding = exp.table
    res.bidding_curves = {k: [float(x) for x in v] for k, v in exp.spend_curves().items()}
    res.train_seconds.update({f"bidder {k}": v for k, v in exp.train_seconds.items()})


def load_config(path: Any) -> AdsPipelineConfig:
    """An :class:`AdsPipelineConfig` from a YAML file (errors name the file and the key)."""
    from vastgraph.config import load_yaml_config

    raw = load_yaml_config(path)
    try:
        return _validated(raw)
    except ValidationError as exc:
        raise ValidationError(f"{path}: {exc}") from None


__all__ = ["AdsPipelineConfig", "PipelineResult", "run_pipeline", "load_config", "METHODS"]
