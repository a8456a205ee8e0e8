"""Baseline bidders: a fixed multiplier, PID budget pacing, and the online-LP dual-price rule; the behaviour mix.

References:
* PID pacing: the feedback-control bidders of Zhang et al., *Feedback control of real-time display
  advertising*, WSDM 2016 — the bid multiplier follows the error between the planned and the actual
  budget share spent.
* Online LP / dual price: bidding ``v / (1 + λ)`` with the dual price ``λ`` of the budget
  constraint of the allocation LP (Agrawal, Wang, Ye, *A dynamic near-optimal algorithm for online
  linear programming*, OR 2014), updated online by dual subgradient steps (Balseiro, Lu, Mirrokni,
  *Dual mirror descent for online allocation problems*, ICML 2020). With the CPA constraint
  ``spend <= C · conversions`` (dual price ``μ``) the per-click bid ``p·V`` becomes
  ``p·(V + μ·C) / (1 + λ + μ)``, i.e. the multiplier ``(1 + μ·C/V) / (1 + λ + μ)``.

Every policy here takes per-episode parameters (scalars broadcast), so one object drives a whole
batch of episodes.

Example:
    >>> from vastgraph.ads.world import generate_world
    >>> from vastgraph.ads.bidding.market import BiddingMarket
    >>> from vastgraph.ads.bidding.episodes import episode_specs, rollout
    >>> w = generate_world(n_queries=60, n_ads=40, n_advertisers=6, n_days=2, events_per_day=600)
    >>> mk = BiddingMarket(w, 1, steps=6, k_candidates=8)
    >>> roll = rollout(mk, PIDPacing(1.0), episode_specs(mk, random_state=0))
    >>> bool((roll.spend <= roll.budget + 1e-9).all())
    True
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.seeding import seed_from

MIN_MULT = 0.02


def _positive(name: str, value: Any) -> np.ndarray:
    v = np.asarray(value, np.float64)
    if not np.isfinite(v).all() or (v < 0).any():
        raise ValidationError(f"{name}={value!r}: expected finite numbers >= 0")
    return v


class FixedMultiplier:
    """Bid ``multiplier · predicted value`` all day (the same multiplier in every step).

    Args:
        multiplier: bid multiplier ``>= 0`` (a scalar or one per episode).
    """

    def __init__(self, multiplier: Any = 1.0, name: str = "fixed") -> None:
        self.multiplier = _positive("multiplier", multiplier)
        self.name = name

    def reset(self, roll: Any) -> None:
        self._m = np.broadcast_to(self.multiplier, roll.agents.shape).astype(np.float64)

    def act(self, roll: Any, t: int) -> np.ndarray:
        return self._m.copy()


class PIDPacing:
    """PID budget pacing around a base multiplier, with a CPA guard.

    The planned budget share spent by the start of step ``t`` is ``t / T`` (even pacing). With the
    error ``e_t`` = planned − actual share spent, ``log α_t = log α_0 + kp·e_t + ki·Σe + kd·Δe``;
    when the cost per acquisition so far exceeds the target, ``log α_t -= kc·(CPA/C − 1)``.

    Args:
        base: ``α_0`` (scalar or per episode). kp, ki, kd, kc: gains (scalars or per episode).
    """

    def __init__(self, base: Any = 1.0, kp: Any = 3.0, ki: Any = 0.5, kd: Any = 0.5, kc: Any = 1.0,
                 name: str = "pid") -> None:
        self.base = _positive("base", base)
        self.kp, self.ki, self.kd, self.kc = (_positive(n, v) for n, v in
                                              (("kp", kp), ("ki", ki), ("kd", kd), ("kc", kc)))
        self.name = name

    def reset(self, roll: Any) -> None:
        self._sum = np.zeros(roll.agents.size)
        self._prev = np.zeros(roll.agents.size)

    def act(self, roll: Any, t: int) -> np.ndarray:
        s = roll.states[:, t]
        err = t / roll.steps - (1.0 - s[:, 1])
        self._sum += err
        d = err - self._prev
        self._prev = err
        logm = np.log(np.maximum(self.base, MIN_MULT)) + self.kp * err + self.ki * self._sum / max(t, 1) + self.kd * d
        logm = logm - self.kc * np.maximum(s[:, 5] - 1.0, 0.0)
        return np.clip(np.exp(logm), MIN_MULT, 20.0)


class OnlineLP:
    """The online-LP dual-price bidder (see the module docstring).

    After every step the budget price moves by ``λ ← max(0, λ + η·(spend_t − ρ_t)/ρ_t)`` with ``ρ_t``
    the even share of the remaining budget, and the CPA price by ``μ ← max(0, μ + η·(spend_t −
    C·conv_t)/ρ_t)``.

    Args:
        lam0: initial budget price ``λ_0 >= 0`` (tuned on the training days). mu0: initial CPA price.
        eta: dual step size. Default 0.5.
    """

    def __init__(self, lam0: Any = 0.0, mu0: Any = 0.0, eta: Any = 0.5, name: str = "online-lp") -> None:
        self.lam0, self.mu0, self.eta = _positive("lam0", lam0), _positive("mu0", mu0), _positive("eta", eta)
        self.name = name

    def reset(self, roll: Any) -> None:
        E = roll.agents.size
        self._lam = np.broadcast_to(self.lam0, (E,)).astype(np.float64).copy()
        self._mu = np.broadcast_to(self.mu0, (E,)).astype(np.float64).copy()

    def act(self, roll: Any, t: int) -> np.ndarray:
        if t > 0:
            out = roll.outcomes[:, t - 1]
            spent_before = roll.outcomes[:, :t - 1, 3].sum(axis=1)
            rho = np.maximum(roll.budget - spent_before, 1e-9) / (roll.steps - t + 1)
            self._lam = np.maximum(0.0, self._lam + self.eta * (out[:, 3] - rho) / rho)
            self._mu = np.maximum(0.0, self._mu + self.eta * (out[:, 3] - roll.target_cpa * out[:, 5]) / rho)
        c_over_v = roll.budget / roll.scale
        m = (1.0 + self._mu * c_over_v) / (1.0 + self._lam + self._mu)
        return np.clip(m, MIN_MULT, 20.0)


class BehaviourMix:
    """The logging policy: per episode one of fixed / PID / dual-price LP / random walk, with random
    settings and multiplicative log-normal noise on every step (σ drawn per episode in [0.05, 0.6]).
    """

    name = "behaviour"

    def __init__(self, random_state: Any = 0) -> None:
        self.seed = int(seed_from(random_state))

    def reset(self, roll: Any) -> None:
        E = roll.agents.size
        rng = self._rng = np.random.default_rng(self.seed)
        self._kind = rng.integers(0, 4, E)
        base = np.exp(rng.uniform(np.log(0.08), np.log(3.0), E))
        self._fixed = FixedMultiplier(base)
        self._pid = PIDPacing(base, kp=rng.uniform(0.5, 6, E), ki=rng.uniform(0, 1, E), kd=rng.uniform(0, 1, E),
                              kc=rng.uniform(0, 2, E))
        self._lp = OnlineLP(lam0=np.maximum(1.0 / base - 1.0, 0.0), eta=rng.uniform(0.05, 1.0, E))
        self._walk = np.log(base)
        self._sigma = rng.uniform(0.05, 0.6, E)
        for p in (self._fixed, self._pid, self._lp):
            p.reset(roll)

    def act(self, roll: Any, t: int) -> np.ndarray:
        rng = self._rng
        E = roll.agents.size
        self._walk = self._walk + rng.normal(0.0, 0.25, E)
        cand = np.stack([self._fixed.act(roll, t), self._pid.act(roll, t), self._lp.act(roll, t),
                         np.exp(np.clip(self._walk, np.log(MIN_MULT), np.log(10.0)))])
        m = cand[self._kind, np.arange(E)] * np.exp(rng.normal(0.0, 1.0, E) * self._sigma)
        return np.clip(m, MIN_MULT, 20.0)


def tune_fixed(markets: Sequence[Any], specs: Sequence[Any], grid: Any = None, **rollout_kw: Any) -> tuple[float, dict]:
    """The fixed multiplier of highest mean normalised return over the given (training) days.

    Returns:
        ``(best multiplier, {multiplier: mean return})``.
    """
    from vastgraph.ads.bidding.episodes import rollout

    g = np.geomspace(0.03, 3.0, 15) if grid is None else _positive("grid", grid).ravel()
    if g.size == 0:
        raise ValidationError("grid: empty; expected at least one multiplier")
    table = {}
    for m in g:  # a few candidate multipliers, each replayed on every training day
        rets = [rollout(mk, FixedMultiplier(float(m)), sp, **rollout_kw).returns for mk, sp in zip(markets, specs)]
        table[float(m)] = float(np.concatenate(rets).mean())
    best = max(table, key=table.get)
    return best, table


__all__ = ["FixedMultiplier", "PIDPacing", "OnlineLP", "BehaviourMix", "tune_fixed", "MIN_MULT"]
