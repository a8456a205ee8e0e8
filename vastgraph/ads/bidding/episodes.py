"""Auto-bidding episodes: one per advertiser per day, ``T`` steps of (state, bid multiplier, outcome).

Reference: the episode / state / action / return formulation of *AIGB: Generative Auto-bidding via
Diffusion Modeling* (Guo et al., KDD 2024) and of Decision Transformer (Chen et al., NeurIPS 2021).

An episode is one advertiser's day in :class:`~vastgraph.ads.bidding.market.BiddingMarket`, with an
episode budget ``B`` and a target cost per acquisition ``C`` (drawn per advertiser and day from a
seed, the same for every policy). Before step ``t`` the bidder sees the state (:data:`FEATURES`):

* time left, remaining budget share, spend pace (budget share spent / day share elapsed);
* recent win rate (won slots / auctions entered) and cost per click over ``C``, exponentially
  smoothed; at ``t = 0`` the cost per click comes from the advertiser's logged previous day;
* cost per acquisition so far over ``C``, value won so far over the return scale ``S``, the last
  multiplier (log), ``log(B / C)`` and the auctions entered in the last step (log);
* graph features: the advertiser's ads' embeddings, mean-pooled and reduced to a few principal
  components (zeros when the graph features are removed).

The action is the multiplier ``α_t`` on each impression's predicted value. The return is the value
won with the CPA penalty of the NeurIPS 2024 auto-bidding competition, ``score = value ·
min(1, (C / CPA)²)``, normalised by ``S = B · value_per_conversion / C`` (the value of spending the
whole budget exactly at the target CPA), so returns of different advertisers are comparable.

Example:
    >>> from vastgraph.ads.world import generate_world
    >>> from vastgraph.ads.bidding.market import BiddingMarket
    >>> from vastgraph.ads.bidding.baselines import FixedMultiplier
    >>> w = generate_world(n_queries=60, n_ads=40, n_advertisers=6, n_days=2, events_per_day=600)
    >>> mk = BiddingMarket(w, 1, steps=6, k_candidates=8)
    >>> roll = rollout(mk, FixedMultiplier(1.0), episode_specs(mk, random_state=0))
    >>> bool((roll.spend <= roll.budget + 1e-9).all())
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.seeding import derive_seed

FEATURES = ("time_left", "budget_left", "spend_pace", "win_rate", "cpc_ratio", "cpa_ratio", "value_so_far",
            "last_log_mult", "log_budget_cpa", "log_entered")
N_BASE = len(FEATURES)
MAX_MULT = 20.0


class BidPolicy(Protocol):
    """A bidder: ``reset(roll)`` before an episode batch, ``act(roll, t) -> (E,)`` multipliers at step ``t``."""

    name: str

    def reset(self, roll: "Rollout") -> None: ...

    def act(self, roll: "Rollout", t: int) -> np.ndarray: ...


@dataclass
class EpisodeSpec:
    """The episodes of one day: agent advertiser rows, budgets ``B``, target CPAs ``C``, return scales ``S``."""

    agents: np.ndarray
    budget: np.ndarray
    target_cpa: np.ndarray
    scale: np.ndarray


def episode_specs(market: Any, *, advertisers: Any = None, budget_scale: float = 1.0, budget_spread: float = 0.5,
                  cpa_range: tuple[float, float] = (0.35, 0.8), random_state: Any = 0) -> EpisodeSpec:
    """Budgets and target CPAs of the day's episodes (deterministic for a seed and a day).

    Args:
        market: a :class:`~vastgraph.ads.bidding.market.BiddingMarket`.
        advertisers: advertiser ids to run; None = every advertiser with an auction that day.
        budget_scale: ``B = budget_scale · daily budget · LogNormal(0, budget_spread)``.
        cpa_range: ``C = U(cpa_range) · mean conversion value of the advertiser's ads``.
        random_state: seed (mixed with the day).
    """
    agents = market.agents if advertisers is None else market.advertiser_rows(advertisers)
    bs = float(budget_scale)
    if not np.isfinite(bs) or bs <= 0:
        raise ValidationError(f"budget_scale={budget_scale!r}: expected a finite number > 0")
    lo, hi = (float(x) for x in cpa_range)
    if not (0 < lo <= hi) or not np.isfinite(hi):
        raise ValidationError(f"cpa_range={cpa_range!r}: expected 0 < low <= high")
    rng = np.random.default_rng(int(derive_seed(random_state, 7, market.day)))
    n_adv = market.advertiser_ids.size
    mult_b = rng.lognormal(0.0, float(budget_spread), n_adv)[agents]
    ratio = rng.uniform(lo, hi, n_adv)[agents]
    budget = bs * market.budget[agents] * mult_b
    cpa = ratio * market.mean_ad_value[agents]
    return EpisodeSpec(agents=agents, budget=budget, target_cpa=cpa, scale=budget * market.mean_ad_value[agents] / cpa)


@dataclass
class Rollout:
    """Episodes of one day under one policy: ``states (E, T, F)``, ``actions (E, T)``, ``outcomes (E, T, 6)``."""

    day: int
    agents: np.ndarray
    budget: np.ndarray
    target_cpa: np.ndarray
    scale: np.ndarray
    states: np.ndarray
    actions: np.ndarray
    outcomes: np.ndarray
    graph: np.ndarray
    prior_cpc: np.ndarray
    policy: str = ""
    final_state: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return int(self.actions.shape[1])

    @property
    def spend(self) -> np.ndarray:
        return self.outcomes[:, :, 3].sum(axis=1)

    @property
    def value(self) -> np.ndarray:
        return self.outcomes[:, :, 4].sum(axis=1)

    @property
    def conversions(self) -> np.ndarray:
        return self.outcomes[:, :, 5].sum(axis=1)

    @property
    def cpa(self) -> np.ndarray:
        conv = self.conversions
        return np.where(conv > 0, self.spend / np.maximum(conv, 1e-12), np.where(self.spend > 0, np.inf, 0.0))

    @property
    def violation(self) -> np.ndarray:
        """Episodes whose cost per acquisition exceeds the target."""
        return self.cpa > self.target_cpa * (1 + 1e-9)

    @property
    def score(self) -> np.ndarray:
        """Value won with the CPA penalty ``min(1, (C / CPA)²)``."""
        cpa = self.cpa
        pen = np.where(cpa > self.target_cpa, (self.target_cpa / np.maximum(cpa, 1e-12)) ** 2, 1.0)
        return self.value * pen

    @property
    def returns(self) -> np.ndarray:
        """Normalised returns ``score / S``."""
        return self.score / self.scale

    def spend_curve(self) -> np.ndarray:
        """Budget share spent by the end of each step, ``(E, T)``."""
        return np.cumsum(self.outcomes[:, :, 3], axis=1) / np.maximum(self.budget, 1e-12)[:, None]


def _state(roll: Rollout, t: int) -> np.ndarray:
    """The state of every episode before step ``t`` (vectorised over episodes)."""
    T = roll.steps
    past = roll.outcomes[:, :t]
    spent = past[:, :, 3].sum(axis=1)
    conv = past[:, :, 5].sum(axis=1)
    value = past[:, :, 4].sum(axis=1)
    s = np.zeros((roll.agents.size, roll.states.shape[2]), np.float32)
    s[:, 0] = 1.0 - t / T
    s[:, 1] = np.clip(1.0 - spent / np.maximum(roll.budget, 1e-12), 0.0, 1.0)
    s[:, 2] = np.clip((spent / np.maximum(roll.budget, 1e-12)) / max(t / T, 1.0 / T), 0.0, 5.0)
    # smoothed win rate and cost per click over the steps so far (decay 0.5 per step)
    w = 0.5 ** np.arange(t - 1, -1, -1, dtype=np.float64) if t else np.zeros(0)
    entered, won = past[:, :, 0] @ w, past[:, :, 1] @ w
    clicks, cost = past[:, :, 2] @ w, past[:, :, 3] @ w
    s[:, 3] = np.where(entered > 0, won / np.maximum(entered, 1e-12), 0.0)
    cpc = np.where(clicks > 0, cost / np.maximum(clicks, 1e-12), roll.prior_cpc)
    s[:, 4] = np.clip(cpc / roll.target_cpa * 10.0, 0.0, 5.0)
    s[:, 5] = np.clip(np.where(conv > 0, spent / np.maximum(conv, 1e-12) / roll.target_cpa,
                               np.where(spent > 0, 3.0, 0.0)), 0.0, 3.0)
    s[:, 6] = value / roll.scale
    s[:, 7] = np.log(np.maximum(roll.actions[:, t - 1], 1e-3)) if t else 0.0
    s[:, 8] = np.log(roll.budget / roll.target_cpa) / 5.0
    s[:, 9] = np.log1p(past[:, -1, 0]) / 5.0 if t else 0.0
    s[:, N_BASE:] = roll.graph
    return s


def prior_cpc(world: Any, day: int) -> np.ndarray:
    """Each advertiser's logged cost per click on the day before ``day`` (its mean over all days if none)."""
    ev = world.events
    adv = world.advertisers["advertiser"].to_numpy(dtype=object)
    import pandas as pd

    idx = pd.Index(adv).get_indexer(ev["advertiser"].to_numpy(dtype=object))
    out = np.zeros(adv.size)
    for sel in (np.ones(len(ev), bool), ev["day"].to_numpy() == day - 1):  # overall, then the previous day
        cost = np.bincount(idx[sel], weights=ev["cost"].to_numpy()[sel], minlength=adv.size)
        clicks = np.bincount(idx[sel], weights=ev["click"].to_numpy()[sel].astype(float), minlength=adv.size)
        out = np.where(clicks > 0, cost / np.maximum(clicks, 1), out)
    return out


def rollout(market: Any, policy: BidPolicy, spec: EpisodeSpec, *, graph_features: np.ndarray | None = None,
            use_graph: bool = True) -> Rollout:
    """Run ``policy`` for the episodes of ``spec`` through the day's replay.

    Args:
        market: a :class:`~vastgraph.ads.bidding.market.BiddingMarket`.
        policy: a :class:`BidPolicy`; its multipliers must be finite and ``>= 0`` (capped at 20).
        spec: the episodes (:func:`episode_specs`).
        graph_features: ``(n_advertisers, G)`` pooled graph features (:func:`advertiser_graph_features`).
        use_graph: False zeroes the graph features in the states (the ablation).

    Returns:
        The :class:`Rollout`.
    """
    agents = np.asarray(spec.agents, np.int64)
    budget = np.asarray(spec.budget, np.float64)
    if not np.isfinite(budget).all() or (budget < 0).any():
        raise ValidationError(f"budget: expected finite episode budgets >= 0, got {budget[~np.isfinite(budget)][:3]}")
    E, T = agents.size, market.steps
    G = 0 if graph_features is None else int(np.shape(graph_features)[1])
    graph = np.zeros((E, G), np.float32)
    if G and use_graph:
        graph[:] = np.asarray(graph_features, np.float32)[agents]
    roll = Rollout(day=market.day, agents=agents, budget=budget, target_cpa=np.asarray(spec.target_cpa, float),
                   scale=np.asarray(spec.scale, float), states=np.zeros((E, T, N_BASE + G), np.float32),
                   actions=np.zeros((E, T)), outcomes=np.zeros((E, T, 6)), graph=graph,
                   prior_cpc=np.asarray(market.prior_cpc)[agents], policy=getattr(policy, "name", ""))
    remaining = market.fresh_budgets(agents, budget)
    policy.reset(roll)
    for t in range(T):  # time steps: the policy reacts to what happened so far
        roll.states[:, t] = _state(roll, t)
        a = np.asarray(policy.act(roll, t), np.float64).ravel()
        if a.shape != (E,) or not np.isfinite(a).all() or (a < 0).any():
            bad = a[~np.isfinite(a) | (a < 0)] if a.shape == (E,) else a.shape
            raise ValidationError(f"policy {roll.policy!r} at step {t}: expected {E} finite multipliers >= 0, "
                                  f"got {bad if np.size(bad) else a.shape}")
        a = np.minimum(a, MAX_MULT)
        roll.actions[:, t] = a
        roll.outcomes[:, t] = market.run_step(t, agents, a, remaining)
    roll.final_state = _state(roll, T)
    return roll


def advertiser_graph_features(world: Any, keyed: Any, dim: int = 8) -> np.ndarray:
    """Each advertiser's ads' embeddings, mean-pooled and projected on the top ``dim`` principal components.

    Args:
        world: the world (ads and their advertisers).
        keyed: :class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings` with an ``"ad"`` node type
            (ads not embedded are skipped; an advertiser without any gets zeros).
        dim: components kept. Default 8.

    Returns:
        float32 ``(n_advertisers, dim)``, standardised per component.
    """
    if not hasattr(keyed, "ids_for"):
        raise ValidationError(f"keyed: got {type(keyed).__name__}; expected KeyedEmbeddings with an 'ad' node type")
    import pandas as pd

    ad_ids = np.asarray(keyed.ids_for("ad"), dtype=object)
    vec = np.asarray(keyed.vectors_for("ad"), np.float64)
    pos = pd.Index(world.ads["ad"].to_numpy(dtype=object)).get_indexer(ad_ids)
    ok = pos >= 0
    adv = world.ads["advertiser_index"].to_numpy()[pos[ok]]
    n_adv = len(world.advertisers)
    sums = np.zeros((n_adv, vec.shape[1]))
    np.add.at(sums, adv, vec[ok])
    cnt = np.bincount(adv, minlength=n_adv)
    pooled = sums / np.maximum(cnt, 1)[:, None]
    has = cnt > 0
    out = np.zeros((n_adv, dim), np.float32)
    if has.sum() >= 2:
        x = pooled[has] - pooled[has].mean(axis=0)
        _, _, vt = np.linalg.svd(x, full_matrices=False)
        z = x @ vt[:dim].T
        z = z / np.maximum(z.std(axis=0), 1e-9)
        out[has, :z.shape[1]] = z
    return out


def stack_rollouts(rolls: list[Rollout]) -> dict[str, np.ndarray]:
    """Training arrays of logged rollouts: ``states (N, T+1, F)`` (with the final state), ``actions (N, T)``
    (log multipliers), ``returns (N,)`` (normalised), ``agents (N,)``."""
    if not rolls:
        raise ValidationError("rollouts: empty; expected at least one logged rollout")
    states = np.concatenate([np.concatenate([r.states, r.final_state[:, None]], axis=1) for r in rolls])
    return {"states": states.astype(np.float32),
            "actions": np.log(np.maximum(np.concatenate([r.actions for r in rolls]), 1e-3)).astype(np.float32),
            "returns": np.concatenate([r.returns for r in rolls]).astype(np.float32),
            "agents": np.concatenate([r.agents for r in rolls])}


def collect_episodes(markets: list[Any], specs: list[EpisodeSpec], *, rollouts_per_day: int = 3,
                     graph_features: np.ndarray | None = None, random_state: Any = 0) -> list[Rollout]:
    """Logged episodes: each day replayed ``rollouts_per_day`` times under a noisy mix of behaviour policies.

    Each episode gets its own behaviour policy (fixed multiplier, PID pacing or dual-price LP, with
    random settings and multiplicative noise on every step, or a random walk), so the data holds
    good and bad trajectories (:class:`~vastgraph.ads.bidding.baselines.BehaviourMix`).
    """
    from vastgraph.ads.bidding.baselines import BehaviourMix

    out = []
    for i, (mk, sp) in enumerate(zip(markets, specs)):
        for j in range(rollouts_per_day):
            pol = BehaviourMix(random_state=derive_seed(random_state, 11, i, j))
            out.append(rollout(mk, pol, sp, graph_features=graph_features))
    return out


__all__ = ["FEATURES", "N_BASE", "BidPolicy", "EpisodeSpec", "episode_specs", "Rollout", "rollout",
           "advertiser_graph_features", "collect_episodes", "prior_cpc", "stack_rollouts"]
