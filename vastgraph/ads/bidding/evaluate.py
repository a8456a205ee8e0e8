"""Train and compare bidders on held-out days of the auction replay.

:func:`run_bidding` collects logged episodes on the training days (noisy behaviour mix), tunes the
baselines on the same days (the fixed multiplier by grid search; PID pacing and the dual-price LP
start from it), fits the generative bidders (with and without the graph features), and replays
every policy on every held-out day with the same episodes (budgets, target CPAs) and the same
random numbers. :func:`summarize` turns rollouts into the table: value won, the CPA-penalised
score, ROI, budget use, the share of episodes violating the target CPA and the share over budget
(0 by construction: the replay charges at most the remaining budget).

Example:
    >>> import torch; torch.set_num_threads(1)
    >>> from vastgraph.ads.world import generate_world
    >>> w = generate_world(n_queries=60, n_ads=40, n_advertisers=6, n_days=3, events_per_day=600)
    >>> exp = run_bidding(w, bidders=["fixed", "pid"], train_days=[0, 1], test_days=[2], steps=6)
    >>> sorted(r["policy"] for r in exp.table)
    ['fixed', 'pid']
    >>> max(r["over_budget"] for r in exp.table)
    0.0
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.seeding import derive_seed

BIDDERS = ("fixed", "pid", "online-lp", "dt", "diffusion")
GENERATIVE = ("dt", "diffusion")
#: epochs of the generative bidders at ``epochs_scale=1`` (passes over the logged episodes)
DT_EPOCHS, DIFFUSION_EPOCHS = 40, 60


def summarize(roll: Any) -> dict[str, float]:
    """Scalar metrics of a :class:`~vastgraph.ads.bidding.episodes.Rollout` (means over its episodes)."""
    spend, value = roll.spend, roll.value
    return {"episodes": int(roll.agents.size), "value": float(value.mean()), "score": float(roll.score.mean()),
            "roi": float(value.sum() / spend.sum()) if spend.sum() > 0 else 0.0,
            "budget_use": float((spend / np.maximum(roll.budget, 1e-12)).mean()),
            "violations": float(roll.violation.mean()),
            "over_budget": float((spend > roll.budget * (1 + 1e-9) + 1e-9).mean()),
            "return": float(roll.returns.mean())}


@dataclass
class BiddingExperiment:
    """Outcome of :func:`run_bidding`: rollouts per ``(policy, day)``, the summary table, fit seconds."""

    rollouts: dict[tuple[str, int], Any] = field(default_factory=dict)
    table: list[dict[str, Any]] = field(default_factory=list)
    train_seconds: dict[str, float] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    tuned: dict[str, Any] = field(default_factory=dict)

    def spend_curves(self) -> dict[str, np.ndarray]:
        """Mean budget share spent by the end of each step, per policy (over its held-out episodes)."""
        out: dict[str, list[np.ndarray]] = {}
        for (name, _), roll in self.rollouts.items():
            out.setdefault(name, []).append(roll.spend_curve())
        return {k: np.concatenate(v).mean(axis=0) for k, v in out.items()}


def graph_features_for(world: Any, days: list[int], *, dim: int = 8, dimensions: int = 32, random_state: Any = 0,
                       keyed: Any = None) -> np.ndarray:
    """Pooled advertiser graph features: metapath2vec (query–click–ad) on the graph of ``days``, unless ``keyed`` is given."""
    from vastgraph.ads.bidding.episodes import advertiser_graph_features

    if keyed is None:
        from vastgraph.ads.graph_build import build_ads_graph
        from vastgraph.embed.metapath2vec import Metapath2Vec

        g = build_ads_graph(world.events[world.events["day"].isin(days)], world)
        keyed = Metapath2Vec(["query:click:ad", "~query:click:ad"], dimensions=dimensions, walks_per_node=4,
                             walk_length=20, window=5, random_state=random_state).fit(g).keyed_
    return advertiser_graph_features(world, keyed, dim=dim)


def _days(world: Any, train_days: Any, test_days: Any) -> tuple[list[int], list[int]]:
    n = int(world.params["n_days"])
    test = list(test_days) if test_days is not None else [n - 1]
    train = list(train_days) if train_days is not None else [d for d in range(n) if d < min(test)]
    for d in (*train, *test):
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
            raise ValidationError(f"days: {d!r} is not a day number >= 0")
    if not train or not test:
        raise ValidationError(f"train_days={train}, test_days={test}: expected at least one of each")
    if set(train) & set(test):
        raise ValidationError(f"train_days and test_days overlap: {sorted(set(train) & set(test))}")
    return [int(d) for d in train], [int(d) for d in test]


def run_bidding(world: Any, *, bidders: Any = BIDDERS, train_days: Any = None, test_days: Any = None,
                steps: int = 48, k_candidates: int = 10, rollouts_per_day: int = 3, graph_features: Any = None,
                ablation: bool = True, epochs_scale: float = 1.0, budget_scale: float = 4.0, device: str = "cpu",
                random_state: Any = 0, progress: Optional[Callable[[str], Any]] = None) -> BiddingExperiment:
    """Tune / train the bidders on the training days, replay them on the held-out days (see the module docstring).

    Args:
        world: an :class:`~vastgraph.ads.world.AdsWorld`.
        bidders: names from :data:`BIDDERS`.
        train_days, test_days: day numbers; default: the last day held out, the days before it for training.
        steps: time steps per day ``T``. Default 48.
        k_candidates: candidates per arrival. Default 10.
        rollouts_per_day: behaviour-mix replays of each training day (logged episodes). Default 3.
        graph_features: ``(n_advertisers, G)`` pooled graph features (:func:`graph_features_for`);
            None: no graph features (and no ablation rows).
        ablation: also fit each generative bidder without the graph features. Default True.
        epochs_scale: multiplier of the generative bidders' epochs (``--quick`` uses less). Default 1.
        budget_scale: episode budgets relative to the world's daily budgets. Default 4.
        device: torch device of the generative bidders (``"cpu"`` or ``"cuda"``). Default ``"cpu"``.
        random_state: seed of the replays' random numbers, the episodes, the logging policy and the models.
        progress: optional ``progress(message)``.

    Returns:
        A :class:`BiddingExperiment`.
    """
    from vastgraph.ads.bidding.baselines import FixedMultiplier, OnlineLP, PIDPacing, tune_fixed
    from vastgraph.ads.bidding.episodes import collect_episodes, episode_specs, rollout
    from vastgraph.ads.bidding.market import BiddingMarket

    names = [bidders] if isinstance(bidders, str) else list(bidders)
    bad = [b for b in names if b not in BIDDERS]
    if bad or not names:
        raise ValidationError(f"bidders: unknown {bad or '(none given)'}; expected some of {', '.join(BIDDERS)}")
    train, test = _days(world, train_days, test_days)
    say = progress or (lambda msg: None)
    gf = None if graph_features is None else np.asarray(graph_features, np.float32)
    if gf is not None and (gf.ndim != 2 or gf.shape[0] != len(world.advertisers) or not np.isfinite(gf).all()):
        raise ValidationError(f"graph_features: shape {gf.shape}; expected finite ({len(world.advertisers)}, G)")

    def market(d: int) -> Any:
        return BiddingMarket(world, d, steps=steps, k_candidates=k_candidates,
                             random_state=derive_seed(random_state, 3, d))

    def specs(mk: Any) -> Any:
        return episode_specs(mk, budget_scale=budget_scale, random_state=random_state)

    exp = BiddingExperiment()
    say("preparing the training days' auctions")
    tr_mk = [market(d) for d in train]
    tr_sp = [specs(mk) for mk in tr_mk]
    policies: dict[str, Any] = {}
    if any(b in names for b in ("fixed", "pid", "online-lp")):
        t0 = time.perf_counter()
        say("tuning the fixed multiplier on the training days")
        best, table = tune_fixed(tr_mk, tr_sp, graph_features=gf)
        exp.tuned = {"fixed_multiplier": best, "grid": table}
        secs = time.perf_counter() - t0
        if "fixed" in names:
            policies["fixed"], exp.train_seconds["fixed"] = FixedMultiplier(best, name="fixed"), secs
        if "pid" in names:
            policies["pid"], exp.train_seconds["pid"] = PIDPacing(best, name="pid"), secs
        if "online-lp" in names:
            policies["online-lp"] = OnlineLP(lam0=max(1.0 / best - 1.0, 0.0), name="online-lp")
            exp.train_seconds["online-lp"] = secs
    gen = [b for b in names if b in GENERATIVE]
    if gen:
        say(f"logging {rollouts_per_day} behaviour-mix replays of {len(train)} training days")
        t0 = time.perf_counter()
        logged = collect_episodes(tr_mk, tr_sp, rollouts_per_day=rollouts_per_day, graph_features=gf,
                                  random_state=derive_seed(random_state, 5))
        log_s = time.perf_counter() - t0
        variants = [True] + ([False] if ablation and gf is not None else [])
        for b in gen:
            for use_graph in variants:
                model = _make(b, use_graph and gf is not None, epochs_scale, derive_seed(random_state, 9), device)
                say(f"training {model.name}")
                model.fit(logged)
                policies[model.name] = model
                exp.models[model.name] = model
                exp.train_seconds[model.name] = round(model.fit_seconds + log_s, 3)
    for d in test:
        mk = market(d)
        sp = specs(mk)
        for name, pol in policies.items():
            say(f"replaying day {d}: {name}")
            exp.rollouts[(name, d)] = rollout(mk, pol, sp, graph_features=gf)
    for name in policies:
        rows = [summarize(exp.rollouts[(name, d)]) for d in test]
        row: dict[str, Any] = {"policy": name}
        for key in rows[0]:
            row[key] = float(np.mean([r[key] for r in rows]))
        row["train_s"] = round(exp.train_seconds.get(name, 0.0), 3)
        exp.table.append(row)
    return exp


def _make(kind: str, use_graph: bool, epochs_scale: float, seed: Any, device: str = "cpu") -> Any:
    scale = float(epochs_scale)
    if not np.isfinite(scale) or scale <= 0:
        raise ValidationError(f"epochs_scale={epochs_scale!r}: expected a finite number > 0")
    if kind == "dt":
        from vastgraph.ads.bidding.dt import DecisionTransformerBidder

        return DecisionTransformerBidder(d_model=32, heads=4, layers=2, context=12,
                                         epochs=max(1, int(round(DT_EPOCHS * scale))), use_graph=use_graph,
                                         random_state=seed, device=device,
                                         name="dt" if use_graph else "dt (no graph)")
    from vastgraph.ads.bidding.diffusion import DiffusionBidder

    return DiffusionBidder(channels=32, blocks=3, epochs=max(1, int(round(DIFFUSION_EPOCHS * scale))),
                           use_graph=use_graph,
                           random_state=seed, device=device,
                           name="diffusion" if use_graph else "diffusion (no graph)")


def load_bidder(path: Any, *, device: str = "cpu") -> Any:
    """Read a saved generative bidder (see :func:`vastgraph.ads.bidding.generative.load_bidder`)."""
    from vastgraph.ads.bidding.generative import load_bidder as _load

    return _load(path, device=device)


__all__ = ["BIDDERS", "BiddingExperiment", "run_bidding", "summarize", "graph_features_for", "load_bidder"]
