"""Offline auction replay: a day of query traffic through a generalised second-price auction.

Reference: the generalised second-price (GSP) auction of sponsored search (Edelman, Ostrovsky,
Schwarz, *Internet advertising and the generalized second-price auction*, AER 2007; Varian,
*Position auctions*, 2007) with quality-weighted ranking, and the offline replay / counterfactual
evaluation of candidate generators used for search-ads retrieval (AMCAD, ICDE 2022).

For each query arrival of the day, in time order:

1. candidates: the retriever's top ``k_candidates`` ads for the query (ads not live that day, with
   ``bid < reserve``, or whose advertiser has spent its daily budget leave the auction);
2. ranking by ``eCPM_i = bid_i · pCTR_i``; the top ``slots`` are shown at positions ``1..slots``;
3. price per click of the ad at rank ``i``: ``min(bid_i, max(reserve, eCPM_{i+1} / pCTR_i))``
   (``eCPM_{i+1}``: the next eligible candidate, shown or not; ``reserve`` when there is none);
4. a click happens when ``u_click[arrival, position] < P(click | q, a, position)`` of the world's
   hidden position-based model; a click converts when ``u_conv[arrival, position] < P(conv | q, a)``
   and is worth the ad's conversion value (GMV). The uniforms come from one seeded generator per
   replay, so every method sees the same random numbers (common random numbers) and the
   differences between methods are differences of their candidates;
5. a click charges ``min(price, remaining budget)`` to the advertiser: spend never exceeds a
   budget, and an advertiser at its budget leaves the remaining auctions of the day.

``pCTR`` is the click model's prediction at position 1 when ``click_model`` is given; by default it
is the world's *hidden* position-1 click probability ``(0.02 + 0.5·rel)(0.5 + quality)`` — an
oracle quality score, identical for every method, so the replay isolates the candidate generator.

Arrivals are processed by a numba kernel in time order (budgets make the order matter); the
candidate scoring, click probabilities and aggregation are vectorised numpy.

Example:
    >>> from vastgraph.ads.world import generate_world
    >>> from vastgraph.ads.retrieval import RelevanceRetriever
    >>> w = generate_world(n_queries=40, n_ads=30, n_advertisers=5, n_days=2, events_per_day=400)
    >>> res = replay_auction(w, 2, RelevanceRetriever(w, day=2), k_candidates=10, random_state=0)
    >>> bool((res.advertiser_spend <= res.advertiser_budget + 1e-9).all())
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numba as nb
import numpy as np
import pandas as pd

from vastgraph.validation import check_float, check_int
from vastgraph.errors import UnknownIdError, ValidationError
from vastgraph.seeding import seed_from

ProgressFn = Callable[[float, float], Any]
_SCALARS = ("method", "day", "arrivals", "served", "impressions", "clicks", "conversions", "spend", "gmv",
            "roi", "ctr", "cpc", "mean_relevance", "exhausted_advertisers")


@nb.njit(cache=True, nogil=True)
def _gsp_replay(qrow, cand, pctr, bid, adv_of, remaining, p_click, p_conv, u_click, u_conv, slots,
                reserve):  # pragma: no cover - numba
    """Sequential GSP over arrivals (see the module docstring); ``remaining`` is updated in place."""
    m = qrow.shape[0]
    k = cand.shape[1]
    shown = np.full((m, slots), -1, np.int64)
    price = np.zeros((m, slots))
    click = np.zeros((m, slots), np.bool_)
    conv = np.zeros((m, slots), np.bool_)
    cost = np.zeros((m, slots))
    score = np.empty(k)
    col = np.empty(k, np.int64)
    for i in range(m):
        r = qrow[i]
        n_el = 0
        for c in range(k):
            a = cand[r, c]
            if a < 0 or bid[a] < reserve or pctr[r, c] <= 0.0 or remaining[adv_of[a]] <= 1e-9:
                continue
            score[n_el] = bid[a] * pctr[r, c]
            col[n_el] = c
            n_el += 1
        if n_el == 0:
            continue
        order = np.argsort(-score[:n_el], kind="mergesort")
        for j in range(min(slots, n_el)):
            c = col[order[j]]
            a = cand[r, c]
            nxt = score[order[j + 1]] / pctr[r, c] if j + 1 < n_el else 0.0
            pr = min(bid[a], max(reserve, nxt))
            shown[i, j] = a
            price[i, j] = pr
            if u_click[i, j] < p_click[r, c, j]:
                click[i, j] = True
                v = adv_of[a]
                ch = min(pr, remaining[v])
                remaining[v] -= ch
                cost[i, j] = ch
                if u_conv[i, j] < p_conv[r, c]:
                    conv[i, j] = True
    return shown, price, click, conv, cost


@dataclass
class AuctionResult:
    """Outcome of one replayed day for one retrieval method.

    Attributes:
        method, day: labels. arrivals: query arrivals replayed; served: arrivals that showed an ad.
        impressions, clicks, conversions: counts. spend: charged cost; gmv: conversion value.
        roi: ``gmv / spend`` (0 when nothing was spent). ctr: ``clicks / impressions`` (0 when none).
        cpc: ``spend / clicks`` (0 when none). mean_relevance: mean hidden relevance of shown ads.
        exhausted_advertisers: advertisers that reached their budget.
        advertiser_spend, advertiser_budget: per advertiser id (pandas Series).
        log: one row per impression (``arrival, time, query, ad, advertiser, position, price, click,
            conversion, cost, value``), in time order.
    """

    method: str
    day: int
    arrivals: int
    served: int
    impressions: int
    clicks: int
    conversions: int
    spend: float
    gmv: float
    roi: float
    ctr: float
    cpc: float
    mean_relevance: float
    exhausted_advertisers: int
    advertiser_spend: pd.Series = field(repr=False)
    advertiser_budget: pd.Series = field(repr=False)
    log: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The scalar metrics as a JSON-able dict."""
        return {k: getattr(self, k) for k in _SCALARS}


def _budgets(world: Any, budgets: Any) -> np.ndarray:
    adv = world.advertisers
    if budgets is None:
        b = adv["daily_budget"].to_numpy(np.float64)
    elif isinstance(budgets, (pd.Series, dict)):
        ser = pd.Series(budgets, dtype=np.float64)
        b = ser.reindex(adv["advertiser"].to_numpy(dtype=object)).to_numpy(np.float64)
        if np.isnan(b).any():
            missing = adv["advertiser"].to_numpy(dtype=object)[np.isnan(b)]
            raise UnknownIdError(f"budgets: no budget for advertisers {missing[:3].tolist()} "
                                 f"({missing.size} missing); expected one per advertiser")
    else:
        b = np.asarray(budgets, dtype=np.float64)
        if b.ndim == 0:
            b = np.full(len(adv), float(b))
        if b.shape != (len(adv),):
            raise ValidationError(f"budgets: shape {b.shape}; expected ({len(adv)},), one per advertiser")
    if np.isnan(b).any() or (b < 0).any():
        raise ValidationError("budgets: expected non-negative numbers (inf = unlimited)")
    return b.copy()


def _traffic(world: Any, day: int, traffic: Any) -> pd.DataFrame:
    if traffic is None:
        return world.traffic(day)
    if not isinstance(traffic, pd.DataFrame) or not {"time", "query"} <= set(traffic.columns):
        raise ValidationError("traffic: expected None or a DataFrame with 'time' and 'query' columns")
    return traffic.iloc[np.argsort(traffic["time"].to_numpy(), kind="stable")].reset_index(drop=True)


def _candidates(world: Any, retriever: Any, queries: np.ndarray, k: int, day: int) -> np.ndarray:
    from vastgraph.ads.retrieval import BaseRetriever

    ret = (retriever.retrieve(queries, k, unknown="empty") if isinstance(retriever, BaseRetriever)
           else retriever.retrieve(queries, k))
    ads = np.asarray(ret[0], dtype=object)
    if ads.ndim != 2 or ads.shape[0] != queries.size:
        raise ValidationError(f"retriever returned ads of shape {ads.shape}; expected ({queries.size}, {k})")
    ads = ads[:, :k]
    pad = pd.isna(ads)
    pos = pd.Index(world.ads["ad"].to_numpy(dtype=object)).get_indexer(np.where(pad, "\x00<pad>", ads).ravel())
    pos = pos.reshape(ads.shape)
    if ((pos < 0) & ~pad).any():
        bad = ads[(pos < 0) & ~pad]
        raise UnknownIdError(f"retriever returned ad ids not in the world's catalog: {bad[:3].tolist()}")
    live = world.ads["first_day"].to_numpy()[np.maximum(pos, 0)] <= day
    return np.where((pos >= 0) & live, pos, -1).astype(np.int64)


def _predicted_ctr(world: Any, click_model: Any, queries: np.ndarray, cand: np.ndarray, day: int) -> np.ndarray:
    ok = cand >= 0
    q = np.repeat(queries, cand.shape[1])[ok.ravel()]
    a = world.ads["ad"].to_numpy(dtype=object)[cand[ok]]
    out = np.zeros(cand.shape)
    if not q.size:
        return out
    if click_model is None:
        p = world.click_probability(q, a, np.ones(q.size, np.int64))
    else:
        qi = pd.Index(world.queries["query"].to_numpy(dtype=object)).get_indexer(q)
        ads = world.ads
        frame = pd.DataFrame({"day": np.full(q.size, day, np.int32), "query": q,
                              "query_text": world.queries["text"].to_numpy(dtype=object)[qi], "ad": a,
                              "bid_words": ads["bid_words"].to_numpy(dtype=object)[cand[ok]],
                              "bid": ads["bid"].to_numpy(np.float64)[cand[ok]],
                              "position": np.ones(q.size, np.int8)})
        p = np.asarray(click_model.predict_proba(frame), dtype=np.float64)
        if p.shape != (q.size,):
            raise ValidationError(f"click_model.predict_proba returned shape {p.shape}; expected ({q.size},)")
    out[ok] = p
    return out


@dataclass
class AuctionInputs:
    """What a replay of one day needs besides the bids: traffic, candidates, click model and uniforms.

    Shared by :func:`replay_auction` and the bidding replay (:mod:`vastgraph.ads.bidding.market`),
    so every bidder sees the same candidates and the same random numbers.

    Attributes:
        traffic: the arrivals ``(time, query, ...)`` in time order; arrivals: their number ``m``.
        queries: the distinct query ids ``(n_q,)``; qrow: each arrival's row in them ``(m,)``.
        cand: candidate ad positions per query row ``(n_q, k)`` (-1: none); pctr: ranking pCTR ``(n_q, k)``.
        p_click: hidden click probability per slot ``(n_q, k, slots)``; p_conv: conversion probability ``(n_q, k)``.
        u_click, u_conv: the uniforms ``(m, slots)``. bid: each ad's logged bid; adv_of: each ad's advertiser row.
        slots, reserve: auction parameters.
    """

    traffic: pd.DataFrame
    arrivals: int
    queries: np.ndarray
    qrow: np.ndarray
    cand: np.ndarray
    pctr: np.ndarray
    p_click: np.ndarray
    p_conv: np.ndarray
    u_click: np.ndarray
    u_conv: np.ndarray
    bid: np.ndarray
    adv_of: np.ndarray
    slots: int
    reserve: float


def auction_inputs(world: Any, day: int, retriever: Any, *, k_candidates: int = 50, slots: int | None = None,
                   reserve_price: float | None = None, click_model: Any = None, traffic: pd.DataFrame | None = None,
                   random_state: Any = 0) -> AuctionInputs:
    """The inputs of a replay of ``day`` (see :func:`replay_auction` for the arguments).

    Example:
        >>> from vastgraph.ads.world import generate_world
        >>> from vastgraph.ads.retrieval import RelevanceRetriever
        >>> w = generate_world(n_queries=40, n_ads=30, n_advertisers=5, n_days=2, events_per_day=400)
        >>> inp = auction_inputs(w, 1, RelevanceRetriever(w, day=1), k_candidates=5)
        >>> inp.cand.shape[1], inp.u_click.shape == (inp.arrivals, inp.slots)
        (5, True)
    """
    d = check_int("day", day, 0)
    k = check_int("k_candidates", k_candidates, 1)
    n_slots = check_int("slots", world.params["slots"] if slots is None else slots, 1)
    reserve = check_float("reserve_price", world.params["reserve_price"] if reserve_price is None else reserve_price,
                          low=0.0, low_open=False)
    if not hasattr(retriever, "retrieve"):
        raise ValidationError(f"retriever: got {type(retriever).__name__}; expected an object with retrieve(query_ids, k)")
    tr = _traffic(world, d, traffic)
    seed = int(seed_from(random_state))
    m = len(tr)
    adv_of = world.ads["advertiser_index"].to_numpy().astype(np.int64)
    qrow, uq = pd.factorize(tr["query"].to_numpy(dtype=object))
    uq = np.asarray(uq, dtype=object)
    if uq.size:
        world.relevance(uq, np.full(uq.size, world.ads["ad"].iloc[0], dtype=object))  # unknown query ids raise
    cand = _candidates(world, retriever, uq, k, d) if uq.size else np.zeros((0, k), np.int64)
    pctr = _predicted_ctr(world, click_model, uq, cand, d)
    ok = cand >= 0
    qf = np.repeat(uq, k)[ok.ravel()]
    af = world.ads["ad"].to_numpy(dtype=object)[cand[ok]]
    p_click = np.zeros(cand.shape + (n_slots,))
    for j in range(n_slots):  # positions, each vectorised
        p_click[..., j][ok] = world.click_probability(qf, af, np.full(qf.size, j + 1, np.int64)) if qf.size else 0.0
    p_conv = np.zeros(cand.shape)
    p_conv[ok] = world.conversion_probability(qf, af) if qf.size else 0.0
    rng = np.random.default_rng(seed)
    u_click, u_conv = rng.random((m, n_slots)), rng.random((m, n_slots))
    return AuctionInputs(traffic=tr, arrivals=m, queries=uq, qrow=qrow.astype(np.int64), cand=cand, pctr=pctr,
                         p_click=p_click, p_conv=p_conv, u_click=u_click, u_conv=u_conv,
                         bid=world.ads["bid"].to_numpy(np.float64), adv_of=adv_of, slots=n_slots, reserve=reserve)


def replay_auction(world: Any, day: int, retriever: Any, *, k_candidates: int = 50, slots: int | None = None,
                   reserve_price: float | None = None, click_model: Any = None, budgets: Any = None,
                   traffic: pd.DataFrame | None = None, method: str | None = None, random_state: Any = 0,
                   progress: ProgressFn | None = None, chunk: int = 65536) -> AuctionResult:
    """Replay one day of traffic with ``retriever`` as the candidate generator (see the module docstring).

    Args:
        world: an :class:`~vastgraph.ads.world.AdsWorld` (traffic, bids, budgets, hidden click model).
        day: the day replayed (e.g. ``n_days``: the day after the log).
        retriever: ``retrieve(query_ids, k)`` (:mod:`vastgraph.ads.retrieval`); queries it does not
            know get no candidates (with :class:`~vastgraph.ads.retrieval.BaseRetriever`).
        k_candidates: candidates per arrival. Default 50.
        slots: ad positions per page. Default the world's (4).
        reserve_price: least price per click (and bid). Default the world's (0.05).
        click_model: object with ``predict_proba(events) -> (n,)`` (a fitted
            :class:`~vastgraph.ads.click_model.ClickModel`) for pCTR; None: the hidden oracle pCTR.
        budgets: None (the world's daily budgets), a number (each advertiser), an array
            ``(n_advertisers,)`` in catalog order, or a mapping advertiser id → budget (inf: unlimited).
        traffic: arrivals (``time, query``) to replay instead of ``world.traffic(day)``; an empty
            table gives an all-zero result.
        method: label of the result. Default the retriever's class name.
        random_state: seed of the click/conversion uniforms; use the same one for every method.
            Default 0.
        progress: optional ``progress(arrivals_done, arrivals)``.
        chunk: arrivals per kernel call (progress granularity). Default 65536.

    Returns:
        An :class:`AuctionResult`.
    """
    d = check_int("day", day, 0)
    k = check_int("k_candidates", k_candidates, 1)
    n_slots = check_int("slots", world.params["slots"] if slots is None else slots, 1)
    reserve = check_float("reserve_price", world.params["reserve_price"] if reserve_price is None else reserve_price,
                          low=0.0, low_open=False)
    ch = check_int("chunk", chunk, 1)
    if not hasattr(retriever, "retrieve"):
        raise ValidationError(f"retriever: got {type(retriever).__name__}; expected an object with retrieve(query_ids, k)")
    if click_model is not None and not hasattr(click_model, "predict_proba"):
        raise ValidationError(f"click_model: got {type(click_model).__name__}; expected None or an object with "
                              "predict_proba(events)")
    if progress is not None and not callable(progress):
        raise ValidationError(f"progress={progress!r}: expected None or a callable(done, total)")
    budget = _budgets(world, budgets)
    inp = auction_inputs(world, d, retriever, k_candidates=k, slots=n_slots, reserve_price=reserve,
                         click_model=click_model, traffic=traffic, random_state=random_state)
    tr, m, qrow, cand, pctr = inp.traffic, inp.arrivals, inp.qrow, inp.cand, inp.pctr
    p_click, p_conv, u_click, u_conv = inp.p_click, inp.p_conv, inp.u_click, inp.u_conv
    adv_ids = world.advertisers["advertiser"].to_numpy(dtype=object)
    adv_of, bid = inp.adv_of, inp.bid
    remaining = budget.copy()
    parts = []
    for lo in range(0, max(m, 1), ch):  # chunks of arrivals in time order; budgets carry over
        hi = min(m, lo + ch)
        parts.append(_gsp_replay(qrow[lo:hi].astype(np.int64), cand, pctr, bid, adv_of, remaining, p_click, p_conv,
                                 u_click[lo:hi], u_conv[lo:hi], n_slots, reserve))
        if progress is not None:
            progress(hi, m)
    shown, price, click, conv, cost = (np.concatenate([p[i] for p in parts]) for i in range(5))
    row, col = np.nonzero(shown >= 0)
    ad = shown[row, col]
    value = np.where(conv[row, col], world.ads["value"].to_numpy(np.float64)[ad], 0.0)
    ad_ids = world.ads["ad"].to_numpy(dtype=object)
    q_ids = tr["query"].to_numpy(dtype=object)[row] if m else np.zeros(0, object)
    log = pd.DataFrame({"arrival": row.astype(np.int64), "time": tr["time"].to_numpy()[row] if m else row,
                        "query": q_ids, "ad": ad_ids[ad], "advertiser": adv_ids[adv_of[ad]],
                        "position": (col + 1).astype(np.int8), "price": price[row, col],
                        "click": click[row, col].astype(np.int8), "conversion": conv[row, col].astype(np.int8),
                        "cost": cost[row, col], "value": value})
    spend_by = np.bincount(adv_of[ad], weights=cost[row, col], minlength=adv_ids.size)
    n_imp, n_click = int(ad.size), int(click.sum())
    spend, gmv = float(cost.sum()), float(value.sum())
    rel = float(world.relevance(q_ids, ad_ids[ad]).mean()) if ad.size else 0.0
    return AuctionResult(
        method=method or type(retriever).__name__, day=d, arrivals=m, served=int((shown[:, 0] >= 0).sum()) if m else 0,
        impressions=n_imp, clicks=n_click, conversions=int(conv.sum()), spend=spend, gmv=gmv,
        roi=gmv / spend if spend > 0 else 0.0, ctr=n_click / n_imp if n_imp else 0.0,
        cpc=spend / n_click if n_click else 0.0, mean_relevance=rel,
        exhausted_advertisers=int((remaining <= 1e-9).sum() - (budget <= 1e-9).sum()),
        advertiser_spend=pd.Series(spend_by, index=pd.Index(adv_ids, name="advertiser"), name="spend"),
        advertiser_budget=pd.Series(budget, index=pd.Index(adv_ids, name="advertiser"), name="budget"),
        log=log)


def compare(results: Any, baseline: str = "coclick",
            metrics: tuple[str, ...] = ("spend", "clicks", "conversions", "gmv", "roi", "ctr")) -> pd.DataFrame:
    """Auction results side by side with ratios against a baseline method.

    Args:
        results: ``{name: AuctionResult}`` or a list of results (named by their ``method``).
        baseline: name of the reference method. Default ``"coclick"``.
        metrics: scalar metrics to tabulate. Default spend, clicks, conversions, gmv, roi, ctr.

    Returns:
        DataFrame indexed by method: the metrics, then ``<metric>_ratio`` = method / baseline
        (NaN where the baseline's value is 0).

    Example:
        >>> a = AuctionResult("coclick", 1, 10, 10, 20, 4, 1, 2.0, 30.0, 15.0, 0.2, 0.5, 0.5, 0,
        ...                   pd.Series(dtype=float), pd.Series(dtype=float), pd.DataFrame())
        >>> b = AuctionResult("dw", 1, 10, 10, 20, 6, 2, 2.0, 60.0, 30.0, 0.3, 0.33, 0.7, 0,
        ...                   pd.Series(dtype=float), pd.Series(dtype=float), pd.DataFrame())
        >>> float(compare([a, b]).loc["dw", "gmv_ratio"])
        2.0
    """
    if isinstance(results, dict):
        items = list(results.items())
    else:
        items = [(getattr(r, "method", None), r) for r in results]
    if not items:
        raise ValidationError("results: empty; expected at least one AuctionResult")
    for name, r in items:
        if not isinstance(r, AuctionResult):
            raise ValidationError(f"results[{name!r}]: got {type(r).__name__}; expected an AuctionResult")
    names = [str(n) for n, _ in items]
    if baseline not in names:
        raise ValidationError(f"baseline={baseline!r}: not among the methods {names}")
    bad = [mt for mt in metrics if mt not in _SCALARS or mt in ("method", "day")]
    if bad:
        raise ValidationError(f"metrics: {bad} are not scalar metrics; expected some of {list(_SCALARS[2:])}")
    table = pd.DataFrame({mt: [float(getattr(r, mt)) for _, r in items] for mt in metrics},
                         index=pd.Index(names, name="method"))
    base = table.loc[baseline]
    for mt in metrics:
        table[f"{mt}_ratio"] = table[mt] / base[mt] if base[mt] != 0 else np.nan
    return table
