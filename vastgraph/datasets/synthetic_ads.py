"""Synthetic search-advertising graph with a hidden category assignment.

The ground truth the search-ads tasks are measured against: every query, ad and advertiser has a
hidden category (its label); clicks, co-bids and ownership are generated from it, so a method that
recovers the categories from the graph alone is provably doing the right thing.

Generative story (all draws vectorised, deterministic for a ``random_state``):

* Category popularity is Zipfian, ``π_c ∝ (c + 1)^{-1}``.
* Advertiser ``a``: category ``~ π``; size ``s_a ~ Pareto(γ)``.
* Ad ``j``: owner ``∝ s_a``; category = the owner's with probability ``1 - noise``, else ``~ π``;
  popularity ``ρ_j ~ Pareto(γ)``; bids on ``bid_words_per_ad`` words, each from its category's
  vocabulary (``words_per_category`` words) with probability ``1 - noise``, else from any category.
* Query ``q``: category ``~ π``; popularity ``λ_q ~ Pareto(γ)``.
* ``n_queries · clicks_per_query`` click events: query ``∝ λ``; ad ``∝ ρ`` within the query's
  category with probability ``1 - noise``, else among all other categories; a uniform day in
  ``[0, n_days)`` and a uniform second of that day.

Edge types: ``("query", "click", "ad")`` (directed; weight = clicks, float32; time = latest click,
int64 seconds), ``("ad", "cobid", "ad")`` (undirected; weight = shared bid words),
``("advertiser", "owns", "ad")`` (directed). Node features of queries and ads: a noisy copy of a
random category centroid (float32, ``feature_dim``). External ids: ``"q0"``, ``"ad0"``, ``"adv0"``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from vastgraph.datasets.dataset import Dataset
from vastgraph.datasets.synthetic_sbm import draw_grouped, pareto_propensity
from vastgraph.validation import check_float, check_int
from vastgraph.errors import ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.seeding import seed_from

DAY = 86400
DEFAULT_START = 1_600_041_600  # 2020-09-14 00:00:00 UTC


def _grouped_cum(weight: np.ndarray, group: np.ndarray, n_groups: int) -> tuple[np.ndarray, ...]:
    """Items sorted by group with their cumulative weight, each group's start and mass."""
    order = np.argsort(group, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(weight[order])])
    first = np.searchsorted(group[order], np.arange(n_groups))
    start = cum[first]
    mass = np.diff(np.append(start, cum[-1]))
    return order, cum, start, mass


def _names(prefix: str, n: int) -> np.ndarray:
    return np.char.add(prefix, np.arange(n).astype(str)).astype(object)


def search_ads_graph(n_queries: int = 2000, n_ads: int = 800, n_advertisers: int = 80, n_days: int = 14,
                     n_categories: int = 12, clicks_per_query: float = 8.0, bid_words_per_ad: int = 3,
                     words_per_category: int = 24, noise: float = 0.1, exponent: float = 2.5,
                     feature_dim: int = 16, start_time: int = DEFAULT_START,
                     random_state: Any = None) -> Dataset:
    """Generate a heterogeneous search-ads graph driven by hidden categories (see the module docstring).

    Args:
        n_queries: query nodes. Default 2000.
        n_ads: ad nodes. Default 800.
        n_advertisers: advertiser nodes. Default 80.
        n_days: days spanned by the click log. Default 14.
        n_categories: hidden categories (= classes of every node type). Default 12.
        clicks_per_query: mean click events per query. Default 8.
        bid_words_per_ad: bid words drawn per ad (with replacement). Default 3.
        words_per_category: size of each category's bid vocabulary. Default 24.
        noise: probability that a click, an ad's category or a bid word ignores the category. Default 0.1.
        exponent: power-law exponent of query/ad popularity and advertiser size. Default 2.5.
        feature_dim: dimension of query/ad features (0: no features). Default 16.
        start_time: Unix time of day 0 (UTC midnight). Default 2020-09-14.
        random_state: None, an int seed or a ``numpy.random.Generator``.

    Returns:
        A :class:`Dataset` named ``"search-ads"`` with node types ``query``, ``ad``, ``advertiser``
        (labels = hidden category, int64) and the three edge types above; node data ``popularity``
        (float32) on queries and ads, ``owner`` (dense advertiser id) on ads.

    Example:
        >>> ds = search_ads_graph(n_queries=300, n_ads=100, n_advertisers=10, random_state=0)
        >>> sorted(ds.graph.node_types)
        ['ad', 'advertiser', 'query']
    """
    nq = check_int("n_queries", n_queries, 1)
    na = check_int("n_ads", n_ads, 1)
    nv = check_int("n_advertisers", n_advertisers, 1)
    nd = check_int("n_days", n_days, 1)
    nc = check_int("n_categories", n_categories, 1)
    cpq = check_float("clicks_per_query", clicks_per_query, 0.0, 1e6, low_open=True)
    kw = check_int("bid_words_per_ad", bid_words_per_ad, 0)
    wpc = check_int("words_per_category", words_per_category, 1)
    eps = check_float("noise", noise, 0.0, 1.0, low_open=False)
    gamma = check_float("exponent", exponent, 1.0, 1e6, low_open=True)
    fdim = check_int("feature_dim", feature_dim, 0)
    t0 = check_int("start_time", start_time, 0)
    if nv > na:
        raise ValidationError(f"n_advertisers={nv}: expected at most n_ads={na} (every advertiser owns an ad)")
    rng = np.random.default_rng(int(seed_from(random_state)))

    pop = 1.0 / np.arange(1, nc + 1)
    pop /= pop.sum()
    cat_cum = np.cumsum(pop)

    def draw_cat(size: int) -> np.ndarray:
        return np.minimum(np.searchsorted(cat_cum, rng.random(size) * cat_cum[-1], side="right"), nc - 1)

    # advertisers and ads: every advertiser owns >= 1 ad, the rest go by power-law size
    adv_cat = draw_cat(nv).astype(np.int64)
    adv_size = pareto_propensity(rng, nv, gamma)
    size_cum = np.cumsum(adv_size)
    extra = np.minimum(np.searchsorted(size_cum, rng.random(na - nv) * size_cum[-1], side="right"), nv - 1)
    owner = rng.permutation(np.concatenate([np.arange(nv), extra])).astype(np.int64)
    ad_cat = np.where(rng.random(na) < eps, draw_cat(na), adv_cat[owner]).astype(np.int64)
    ad_pop = pareto_propensity(rng, na, gamma)
    q_cat = draw_cat(nq).astype(np.int64)
    q_pop = pareto_propensity(rng, nq, gamma)

    # clicks
    n_ev = max(1, int(round(nq * cpq)))
    q_cum = np.cumsum(q_pop)
    ev_q = np.minimum(np.searchsorted(q_cum, rng.random(n_ev) * q_cum[-1], side="right"), nq - 1)
    order, cum, start, mass = _grouped_cum(ad_pop, ad_cat, nc)
    ev_cat = q_cat[ev_q]
    inside = (rng.random(n_ev) >= eps) & (mass[ev_cat] > 0)
    inside |= mass[ev_cat] >= cum[-1] * (1 - 1e-12)  # a category holding every ad: nothing outside
    ev_ad = order[draw_grouped(rng, cum, start, mass, ev_cat, inside)]
    ev_t = t0 + rng.integers(0, nd, n_ev) * DAY + rng.integers(0, DAY, n_ev)

    # co-bids: ads sharing bid words
    if kw > 0:
        own_word = ad_cat[:, None] * wpc + rng.integers(0, wpc, (na, kw))
        any_word = rng.integers(0, nc * wpc, (na, kw))
        words = np.where(rng.random((na, kw)) < eps, any_word, own_word)
        bids = sp.csr_matrix((np.ones(na * kw, np.float32), (np.repeat(np.arange(na), kw), words.ravel())),
                             shape=(na, nc * wpc))
        bids.sum_duplicates()
        bids.data[:] = 1.0  # a word bid twice by one ad counts once
        shared = sp.triu(bids @ bids.T, k=1).tocoo()
        co_src, co_dst, co_w = shared.row.astype(np.int64), shared.col.astype(np.int64), shared.data
    else:
        words = np.zeros((na, 0), np.int64)
        co_src = co_dst = np.zeros(0, np.int64)
        co_w = np.zeros(0, np.float32)

    feats: dict[str, np.ndarray] = {}
    if fdim:
        centroid = rng.normal(size=(nc, fdim))
        feats["query"] = (centroid[q_cat] + 0.5 * rng.normal(size=(nq, fdim))).astype(np.float32)
        feats["ad"] = (centroid[ad_cat] + 0.5 * rng.normal(size=(na, fdim))).astype(np.float32)

    q_ids, ad_ids, adv_ids = _names("q", nq), _names("ad", na), _names("adv", nv)
    b = GraphBuilder(directed=True, duplicates="sum", node_types=["query", "ad", "advertiser"])
    b.add_nodes("query", ids=q_ids, features=feats.get("query"), labels=q_cat,
                data={"popularity": q_pop.astype(np.float32)})
    b.add_nodes("ad", ids=ad_ids, features=feats.get("ad"), labels=ad_cat,
                data={"popularity": ad_pop.astype(np.float32), "owner": owner,
                      "bid_words": words.astype(np.int64)})
    b.add_nodes("advertiser", ids=adv_ids, labels=adv_cat)
    b.add_edges(q_ids[ev_q], ad_ids[ev_ad], etype=("query", "click", "ad"),
                weight=np.ones(n_ev, np.float32), time=ev_t, source="search_ads_graph clicks")
    b.add_edges(adv_ids[owner], ad_ids, etype=("advertiser", "owns", "ad"), source="search_ads_graph owns")
    b.add_edge_type(("ad", "cobid", "ad"), directed=False)
    if co_src.size:
        b.add_edges(ad_ids[co_src], ad_ids[co_dst], etype=("ad", "cobid", "ad"),
                    weight=co_w.astype(np.float32), source="search_ads_graph co-bids")

    info: dict[str, Any] = {
        "dataset": "search-ads",
        "source": "synthetic: vastgraph.datasets.synthetic_ads.search_ads_graph",
        "params": {"n_queries": nq, "n_ads": na, "n_advertisers": nv, "n_days": nd, "n_categories": nc,
                   "clicks_per_query": cpq, "bid_words_per_ad": kw, "words_per_category": wpc,
                   "noise": eps, "exponent": gamma, "feature_dim": fdim, "start_time": t0,
                   "random_state": None if random_state is None else repr(random_state)},
        "click_events": n_ev,
        "category_popularity": pop.tolist(),
        "time_min": t0,
        "time_max": t0 + nd * DAY - 1,
        "relevance": "an ad is relevant to a query when their labels (hidden categories) are equal",
    }
    b.info.update(info)
    graph = b.build()
    info["build"] = graph.info["build"]
    return Dataset(name="search-ads", graph=graph, splits={}, info=info, missing=[])
