"""The bidding replay: one day of auctions split into ``T`` steps, with one auto-bidding advertiser per episode.

Reference: the auto-bidding setting of *AIGB: Generative Auto-bidding via Diffusion Modeling*
(Guo et al., KDD 2024) and of the NeurIPS 2024 auto-bidding competition: an advertiser with a
daily budget ``B`` and a target cost per acquisition ``C`` bids, for each impression, a multiplier
``α_t`` times the impression's predicted value; ``α_t`` is chosen once per time step from what the
advertiser has seen so far.

The day's auctions are those of :func:`vastgraph.ads.auction.replay_auction` (same traffic, same
candidates, same pCTR ranking, second price, same click/conversion uniforms: common random numbers
for every policy). An episode controls one advertiser (the *agent*): each of its candidate ads bids
``α_t · v(q, a)`` per click, with ``v(q, a) = P(conv | q, a) · value(a)`` the predicted value of a
click; every other advertiser follows its logged policy (its logged static bid) under its own
budget: a pass over the day with everybody bidding as logged gives the arrival at which each
competitor's budget runs out, and from then on it leaves the auctions (as in the NeurIPS 2024
competition's simulator, the agent's own effect on its competitors' budgets is not fed back).
Episodes of different agents are independent (one numba loop over them), and each
episode visits only its agent's opportunities (the arrivals where one of its ads is a candidate).

The budget is enforced for every policy by the replay itself: a click costs ``min(price, remaining
budget)``, and an advertiser at its budget leaves the remaining auctions of the day. Value won is
the *expected* conversion value of the agent's clicks, ``Σ P(conv)·value`` (the "pValue" of AIGB);
conversions are ``Σ P(conv)``; the realised cost per acquisition is ``spend / conversions``.

Example:
    >>> from vastgraph.ads.world import generate_world
    >>> w = generate_world(n_queries=60, n_ads=40, n_advertisers=6, n_days=2, events_per_day=600)
    >>> mk = BiddingMarket(w, 1, steps=8, k_candidates=8)
    >>> out = mk.run_step(0, mk.agents[:2], np.full(2, 1.0), mk.fresh_budgets(mk.agents[:2], [5.0, 5.0]))
    >>> out.shape
    (2, 6)
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from vastgraph.ads.world import DAY
from vastgraph.errors import UnknownIdError, ValidationError
from vastgraph.validation import check_int

#: columns of a step's per-episode outcome
OUTCOME = ("entered", "won", "clicks", "spend", "value", "conversions")


@nb.njit(cache=True, nogil=True)
def _rank(i, r, cand, pctr, pval, bid, adv_of, exhaust, me, m, reserve, score, bids, col):  # pragma: no cover
    """Eligible bids of arrival ``i`` sorted by descending eCPM (stable); returns (count, agent entered)."""
    n_el = 0
    has_agent = False
    for c in range(cand.shape[1]):
        a = cand[r, c]
        if a < 0 or pctr[r, c] <= 0.0:
            continue
        v = adv_of[a]
        if v == me:
            b = m * pval[r, c]
        elif exhaust[v] <= i:  # a competitor out of budget by then
            continue
        else:
            b = bid[a]
        if b < reserve or b <= 0.0:
            continue
        s = b * pctr[r, c]
        j = n_el
        while j > 0 and score[j - 1] < s:
            score[j] = score[j - 1]
            bids[j] = bids[j - 1]
            col[j] = col[j - 1]
            j -= 1
        score[j] = s
        bids[j] = b
        col[j] = c
        n_el += 1
        if v == me:
            has_agent = True
    return n_el, has_agent


@nb.njit(cache=True, nogil=True)
def _exhaustion(qrow, cand, pctr, bid, adv_of, budget, p_click, u_click, slots, reserve):  # pragma: no cover
    """Arrival index at which each advertiser's budget runs out when everybody bids as logged (n if never)."""
    n = qrow.shape[0]
    k = cand.shape[1]
    rem = budget.copy()
    exhaust = np.full(budget.shape[0], n, np.int64)
    score, bids, col = np.empty(k), np.empty(k), np.empty(k, np.int64)
    pval = np.zeros((1, 1))
    for i in range(n):
        r = qrow[i]
        n_el, _ = _rank(i, r, cand, pctr, pval, bid, adv_of, exhaust, -1, 0.0, reserve, score, bids, col)
        for j in range(min(slots, n_el)):
            c = col[j]
            v = adv_of[cand[r, c]]
            nxt = score[j + 1] / pctr[r, c] if j + 1 < n_el else 0.0
            pr = min(bids[j], max(reserve, nxt))
            if u_click[i, j] < p_click[r, c, j]:
                rem[v] -= min(pr, rem[v])
                if rem[v] <= 1e-9 and exhaust[v] == n:
                    exhaust[v] = i + 1
    return exhaust


@nb.njit(cache=True, nogil=True)
def _bid_step(lo, hi, opp_ptr, opp_arr, qrow, cand, pctr, pval, value, bid, adv_of, exhaust, agent, mult, remaining,
              p_click, p_conv, u_click, slots, reserve, out):  # pragma: no cover - numba
    """Arrivals ``lo:hi`` of every episode ``e`` (agent ``agent[e]`` bids ``mult[e]·pval``); ``remaining[e]`` in place.

    Only the agent's opportunities (arrivals where one of its ads is a candidate) are visited.
    """
    k = cand.shape[1]
    for e in range(agent.shape[0]):
        me = agent[e]
        m = mult[e]
        score, bids, col = np.empty(k), np.empty(k), np.empty(k, np.int64)
        arr = opp_arr[opp_ptr[me]:opp_ptr[me + 1]]
        p = np.searchsorted(arr, lo)
        while p < arr.shape[0] and arr[p] < hi and remaining[e] > 1e-9:
            i = arr[p]
            p += 1
            r = qrow[i]
            n_el, has_agent = _rank(i, r, cand, pctr, pval, bid, adv_of, exhaust, me, m, reserve, score, bids, col)
            if not has_agent:
                continue
            out[e, 0] += 1.0
            for j in range(min(slots, n_el)):
                c = col[j]
                a = cand[r, c]
                if adv_of[a] != me:
                    continue
                nxt = score[j + 1] / pctr[r, c] if j + 1 < n_el else 0.0
                pr = min(bids[j], max(reserve, nxt))
                out[e, 1] += 1.0
                if u_click[i, j] < p_click[r, c, j]:
                    ch = min(pr, remaining[e])
                    remaining[e] -= ch
                    out[e, 2] += 1.0
                    out[e, 3] += ch
                    out[e, 4] += p_conv[r, c] * value[a]
                    out[e, 5] += p_conv[r, c]


class BiddingMarket:
    """One replayed day prepared for auto-bidding episodes (see the module docstring).

    Args:
        world: an :class:`~vastgraph.ads.world.AdsWorld`.
        day: the day replayed (its traffic is ``world.traffic(day)``: the logged arrivals for a logged day).
        steps: time steps ``T`` of the day. Default 48 (half an hour each).
        retriever: candidate generator; default the hidden-relevance ranking of the ads live that day.
        k_candidates: candidates per arrival. Default 10.
        random_state: seed of the click uniforms (use the same one for every policy). Default 0.

    Attributes:
        agents: advertiser rows that have a candidate ad in at least one arrival of the day.
        opportunities: for each advertiser row, the arrivals where one of its ads is a candidate.
    """

    def __init__(self, world: Any, day: int, *, steps: int = 48, retriever: Any = None, k_candidates: int = 10,
                 random_state: Any = 0) -> None:
        from vastgraph.ads.auction import auction_inputs
        from vastgraph.ads.retrieval import RelevanceRetriever

        self.world = world
        self.day = check_int("day", day, 0)
        self.steps = check_int("steps", steps, 1)
        retr = retriever if retriever is not None else RelevanceRetriever(world, day=self.day, random_state=random_state)
        self.inputs = inp = auction_inputs(world, self.day, retr, k_candidates=k_candidates, random_state=random_state)
        self.value = world.ads["value"].to_numpy(np.float64)
        self.pval = np.where(inp.cand >= 0, inp.p_conv * self.value[np.maximum(inp.cand, 0)], 0.0)
        t0 = int(world.params["start_time"]) + self.day * DAY
        t = inp.traffic["time"].to_numpy().astype(np.int64) - t0 if inp.arrivals else np.zeros(0, np.int64)
        step_of = np.clip(t * self.steps // DAY, 0, self.steps - 1)
        self.bounds = np.searchsorted(step_of, np.arange(self.steps + 1), side="left").astype(np.int64)
        self.bounds[-1] = inp.arrivals
        self.advertiser_ids = world.advertisers["advertiser"].to_numpy(dtype=object)
        self.budget = world.advertisers["daily_budget"].to_numpy(np.float64)
        n_adv = self.advertiser_ids.size
        present = np.zeros((max(len(inp.queries), 1), n_adv), bool)
        ok = inp.cand >= 0
        rows = np.repeat(np.arange(inp.cand.shape[0]), inp.cand.shape[1])[ok.ravel()]
        present[rows, inp.adv_of[inp.cand[ok]]] = True
        self.opportunities = present[inp.qrow].sum(axis=0) if inp.arrivals else np.zeros(n_adv, np.int64)
        self.agents = np.flatnonzero(self.opportunities > 0).astype(np.int64)
        # each advertiser's opportunities as a CSR over arrivals (sorted), for the per-agent kernel
        arr_of = np.repeat(np.arange(inp.arrivals, dtype=np.int64), inp.cand.shape[1])
        cand_flat = inp.cand[inp.qrow].ravel() if inp.arrivals else np.zeros(0, np.int64)
        has = cand_flat >= 0
        pairs = np.unique(inp.adv_of[cand_flat[has]] * max(inp.arrivals, 1) + arr_of[has])
        self.opp_ptr = np.searchsorted(pairs // max(inp.arrivals, 1), np.arange(n_adv + 1)).astype(np.int64)
        self.opp_arr = (pairs % max(inp.arrivals, 1)).astype(np.int64)
        # competitors bid as logged under their own budgets: when each one's budget runs out
        self.exhaust = _exhaustion(inp.qrow, inp.cand, inp.pctr, inp.bid, inp.adv_of, self.budget, inp.p_click,
                                   inp.u_click, inp.slots, inp.reserve)
        # mean predicted value of a click per advertiser (its CPA scale)
        self.mean_ad_value = np.bincount(inp.adv_of, weights=self.value, minlength=n_adv) / np.maximum(
            np.bincount(inp.adv_of, minlength=n_adv), 1)

    @property
    def prior_cpc(self) -> np.ndarray:
        """Each advertiser's logged cost per click on the day before (computed once per market)."""
        if getattr(self, "_prior_cpc", None) is None:
            from vastgraph.ads.bidding.episodes import prior_cpc

            self._prior_cpc = prior_cpc(self.world, self.day)
        return self._prior_cpc

    def advertiser_rows(self, advertisers: Any) -> np.ndarray:
        """Rows of advertiser ids (unknown ids raise :class:`~vastgraph.errors.UnknownIdError`)."""
        import pandas as pd

        ids = np.asarray(advertisers, dtype=object).ravel()
        pos = pd.Index(self.advertiser_ids).get_indexer(ids)
        if (pos < 0).any():
            bad = ids[pos < 0]
            raise UnknownIdError(f"advertisers: {bad[:3].tolist()} not in the world's advertiser catalog "
                                 f"({self.advertiser_ids.size} advertisers)")
        return pos.astype(np.int64)

    def fresh_budgets(self, agents: np.ndarray, budgets: Any) -> np.ndarray:
        """Per-episode remaining budgets ``(E,)`` (validated copies of ``budgets``, one per agent)."""
        agents = np.asarray(agents, np.int64)
        b = np.array(budgets, np.float64).ravel()
        if b.shape != agents.shape:
            raise ValidationError(f"budgets: shape {b.shape}; expected {agents.shape}, one per episode")
        if not np.isfinite(b).all() or (b < 0).any():
            raise ValidationError(f"budgets: expected finite numbers >= 0, got {b[~np.isfinite(b) | (b < 0)][:3]}")
        if agents.size and (agents.min() < 0 or agents.max() >= self.advertiser_ids.size):
            raise UnknownIdError(f"agents: rows must be in 0..{self.advertiser_ids.size - 1}")
        return b

    def run_step(self, t: int, agents: np.ndarray, multipliers: np.ndarray, remaining: np.ndarray) -> np.ndarray:
        """Replay step ``t`` for every episode; returns ``(E, 6)`` outcomes (:data:`OUTCOME`), updates ``remaining``."""
        t = check_int("t", t, 0, self.steps - 1)
        mult = np.asarray(multipliers, np.float64).ravel()
        agents = np.asarray(agents, np.int64)
        if mult.shape != agents.shape:
            raise ValidationError(f"multipliers: shape {mult.shape}; expected {agents.shape}, one per episode")
        if not np.isfinite(mult).all() or (mult < 0).any():
            bad = mult[~np.isfinite(mult) | (mult < 0)]
            raise ValidationError(f"multipliers: expected finite bid multipliers >= 0, got {bad[:3].tolist()}")
        out = np.zeros((agents.size, len(OUTCOME)))
        inp = self.inputs
        if remaining.shape != agents.shape:
            raise ValidationError(f"remaining: shape {remaining.shape}; expected {agents.shape} (fresh_budgets)")
        _bid_step(int(self.bounds[t]), int(self.bounds[t + 1]), self.opp_ptr, self.opp_arr, inp.qrow, inp.cand,
                  inp.pctr, self.pval, self.value, inp.bid, inp.adv_of, self.exhaust, agents, mult, remaining,
                  inp.p_click, inp.p_conv, inp.u_click, inp.slots, inp.reserve, out)
        return out


__all__ = ["BiddingMarket", "OUTCOME"]
