"""A synthetic, event-level search-advertising world with known hidden relevance.

The ground truth every search-ads metric is checked against. Queries and ads live in the leaves of
a hidden category tree; text, clicks and conversions are drawn from it; the event log records what
a hidden baseline ad server showed and what users did. Retrieval, click-model and auction-replay
code can ask the world for the *true* relevance, click and conversion probabilities.

Reference: the setting of the search-ads graph systems this project re-creates (AMCAD, ICDE 2022;
DNE, IJCAI 2018) — query/ad click graphs over days with new queries and ads arriving. The click
model is the position-based model (PBM) of Richardson et al., *Predicting clicks: estimating the
click-through rate for new ads*, WWW 2007; costs follow the generalised second-price auction of
Edelman, Ostrovsky, Schwarz, AER 2007.

Generative story (all draws vectorised numpy; deterministic for a seed):

* Tree: complete ``branching``-ary tree of ``depth`` levels below the root (node 0); leaves are the
  categories of queries and ads, the level-1 ancestors their *top categories* (graph labels).
  Leaf popularity is Zipfian, ``π_c ∝ (rank + 1)^{-1}``.
* Vocabulary: ``vocab_size`` tokens, ``generic_fraction`` of them generic (shared by all), the rest
  split evenly over the non-root tree nodes. A query's text has ``1 + Poisson(1.5)`` tokens (≤ 6),
  each generic with probability 0.15, else from an ancestor at level ``ℓ`` (the leaf with
  probability 0.6), else (``noise``) from a random leaf. An ad's bid words are drawn the same way
  (no generic tokens). Token names are shuffled so they do not reveal the tree.
* Relevance of query ``q`` and ad ``a`` with lowest common ancestor at level ``λ``:
  ``rel(q, a) = decay^{depth-λ}`` for ``λ ≥ 1`` and 0 when they share only the root.
* Advertisers: a leaf ``∝ π``, a base bid ``~ LogNormal(0, 0.5)``; each owns ≥ 1 ad. An ad sits in
  its owner's leaf (probability 0.7), else in a leaf of the same top category, else (``noise``)
  anywhere; bid ``= base · LogNormal(0, 0.3)``; quality ``~ Beta(4, 4)``; popularity
  ``~ Pareto(exponent)``; value per conversion ``~ LogNormal(3, 0.6)``; two ads share an item.
* Drift: a ``drift`` fraction of queries and of ads first appear on a uniform later day; every
  query has a trend, its popularity on day ``t`` is ``λ_q · exp(g_q t)``, ``g_q ~ N(0, drift/2)``.
* Traffic (day ``t``): ``events_per_day / slots`` arrivals; a user ``∝`` Pareto activity picks a
  query of its home top category with probability 0.7 (``∝`` the day's popularity), else any.
* Baseline ad server: ``2·slots`` candidates per arrival, each from the query's leaf (0.45), its top
  category (0.25) or all ads (0.3), ``∝`` ad popularity among ads already live; the first ``slots``
  distinct ones are ranked by ``bid · quality`` into positions 1..P (GSP).
* Clicks (PBM): ``P(click) = pos^{-0.7} · (0.02 + 0.5·rel) · (0.5 + quality)``; conversions given a
  click: ``0.01 + 0.2·rel``, worth the ad's value. Cost per click (GSP): ``min(bid, b_{i+1} q_{i+1}
  / q_i + 0.01)`` with a 0.05 reserve in the last slot. An advertiser whose spend of the day has
  reached its daily budget is not shown for the rest of the day.

Example:
    >>> w = generate_world(n_queries=60, n_ads=40, n_advertisers=6, n_days=2, events_per_day=300)
    >>> sorted(w.events.columns)[:3]
    ['ad', 'advertiser', 'bid']
    >>> bool((w.relevance(w.events["query"], w.events["ad"]) <= 1).all())
    True
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from vastgraph.datasets.synthetic_sbm import draw_grouped, pareto_propensity
from vastgraph.validation import check_float, check_int
from vastgraph.errors import StoreError, UnknownIdError, ValidationError
from vastgraph.seeding import seed_from

DAY = 86400
DEFAULT_START = 1_600_041_600  # 2020-09-14 00:00:00 UTC
ProgressFn = Callable[[float, float], Any]

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(n_queries=200, n_ads=120, n_advertisers=15, branching=3, depth=2, n_days=4,
                 events_per_day=2_000, vocab_size=300, n_users=150),
    "default": dict(n_queries=3_000, n_ads=1_500, n_advertisers=150, branching=4, depth=2, n_days=7,
                    events_per_day=30_000, vocab_size=2_000, n_users=2_000),
    "large": dict(n_queries=30_000, n_ads=15_000, n_advertisers=1_000, branching=4, depth=3, n_days=10,
                  events_per_day=120_000, vocab_size=10_000, n_users=20_000),
}

def _names(prefix: str, n: int) -> np.ndarray:
    return np.char.add(prefix, np.arange(n).astype(str)).astype(object)


def _join_tokens(tok: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rows of a token-name matrix joined by spaces where ``mask`` (loops over columns only)."""
    out = np.full(tok.shape[0], "", dtype=object)
    for j in range(tok.shape[1]):
        sep = np.where(out == "", "", " ").astype(object)
        out = np.where(mask[:, j], out + sep + tok[:, j], out)
    return out


def _cum_by_group(weight: np.ndarray, group: np.ndarray, n_groups: int) -> tuple[np.ndarray, ...]:
    order = np.argsort(group, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(weight[order])])
    start = cum[np.searchsorted(group[order], np.arange(n_groups))]
    mass = np.diff(np.append(start, cum[-1]))
    return order, cum, start, mass


@dataclass(eq=False)
class AdsWorld:
    """A generated search-ads world: the event log, the catalogs and the hidden model behind them.

    Attributes:
        events: one row per impression (columns of :data:`vastgraph.ads.logs.EVENT_SCHEMA`, in that order).
        queries: ``query, text, category (leaf), top_category (its level-1 tree node), label (= top_category - 1,
            0-based class for evaluation), popularity, trend, first_day``.
        ads: ``ad, advertiser, advertiser_index, item, category, top_category, label, bid_words, bid, quality,
            value, popularity, first_day``.
        advertisers: ``advertiser, daily_budget, category, top_category, label, base_bid``.
        users: ``user, top_category, activity``.
        category_parent: parent of each tree node (root 0 has -1), int64 ``(n_nodes,)``.
        params: the generation parameters (JSON-able), including ``seed``.
    """

    events: pd.DataFrame
    queries: pd.DataFrame
    ads: pd.DataFrame
    advertisers: pd.DataFrame
    users: pd.DataFrame
    category_parent: np.ndarray
    params: dict[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def preset(cls, name: str, *, random_state: Any = 0, progress: ProgressFn | None = None,
               **overrides: Any) -> "AdsWorld":
        """Generate a preset world: ``"tiny"`` (tests), ``"default"`` (quickstart), ``"large"`` (≥1M events)."""
        if name not in PRESETS:
            raise ValidationError(f"preset={name!r}: expected one of {', '.join(PRESETS)}")
        return generate_world(**{**PRESETS[name], **overrides}, random_state=random_state, progress=progress)

    # ------------------------------------------------------------------ tree
    @property
    def depth(self) -> int:
        return int(self.params["depth"])

    def _ancestors(self) -> np.ndarray:
        """``anc[node, level]``: the ancestor of each tree node at each level (-1 below its own level)."""
        if "anc" not in self._cache:
            par = self.category_parent
            level = np.zeros(par.size, np.int64)
            for v in range(1, par.size):  # tree nodes, not events: parents precede children
                level[v] = level[par[v]] + 1
            anc = np.full((par.size, self.depth + 1), -1, np.int64)
            anc[np.arange(par.size), level] = np.arange(par.size)
            for lv in range(self.depth, 0, -1):
                has = anc[:, lv] >= 0
                anc[has, lv - 1] = par[anc[has, lv]]
            self._cache["anc"] = anc
        return self._cache["anc"]

    def _index(self, kind: str, ids: Any) -> np.ndarray:
        key = f"index_{kind}"
        if key not in self._cache:
            table = {"query": self.queries, "ad": self.ads}[kind]
            self._cache[key] = pd.Index(np.asarray(table[kind], dtype=object))
        arr = np.asarray(ids, dtype=object).ravel()
        pos = self._cache[key].get_indexer(arr)
        if pos.size and pos.min() < 0:
            bad = arr[int(np.argmin(pos))]
            raise UnknownIdError(f"{kind} id {bad!r} is not in this world's {kind} catalog "
                                 f"({len(self._cache[key])} ids)")
        return pos

    # ------------------------------------------------------------------ hidden model
    def _category_relevance(self) -> np.ndarray:
        """``R[c, c']`` = relevance of tree nodes ``c`` and ``c'`` (small: tree nodes squared)."""
        if "rel" not in self._cache:
            anc = self._ancestors()
            same = anc[:, None, :] == anc[None, :, :]
            lca = np.cumprod(same & (anc[:, None, :] >= 0), axis=2).sum(axis=2) - 1  # level of the LCA
            rel = float(self.params["relevance_decay"]) ** (self.depth - lca)
            self._cache["rel"] = np.where(lca >= 1, rel, 0.0)
        return self._cache["rel"]

    def _relevance_pos(self, qi: np.ndarray, ai: np.ndarray) -> np.ndarray:
        return self._category_relevance()[self.queries["category"].to_numpy()[qi], self.ads["category"].to_numpy()[ai]]

    def relevance_matrix(self, query_ids: Any = None, ad_ids: Any = None) -> np.ndarray:
        """Hidden relevance of every listed query (rows) to every listed ad (columns), float32.

        Args:
            query_ids: external query ids ``(m,)``; None = all queries in catalog order.
            ad_ids: external ad ids ``(n,)``; None = all ads in catalog order.

        Returns:
            ``(m, n)`` float32 (mind the size: ``4·m·n`` bytes).
        """
        qi = np.arange(len(self.queries)) if query_ids is None else self._index("query", query_ids)
        ai = np.arange(len(self.ads)) if ad_ids is None else self._index("ad", ad_ids)
        table = self._category_relevance().astype(np.float32)
        return table[self.queries["category"].to_numpy()[qi][:, None], self.ads["category"].to_numpy()[ai][None, :]]

    def relevance(self, query_ids: Any, ad_ids: Any) -> np.ndarray:
        """Hidden relevance in [0, 1] of each (query, ad) pair: ``decay^(depth - LCA level)``, 0 across tops.

        Args:
            query_ids, ad_ids: external ids, equal length ``(n,)`` (or one of them a single id).

        Returns:
            float64 ``(n,)``.
        """
        q, a = np.broadcast_arrays(np.asarray(query_ids, dtype=object), np.asarray(ad_ids, dtype=object))
        return self._relevance_pos(self._index("query", q), self._index("ad", a))

    def relevant_ads(self, query_id: Any, threshold: float = 1.0, *, day: int | None = None) -> np.ndarray:
        """Ad ids whose relevance to ``query_id`` is ≥ ``threshold`` (1.0 = same leaf), optionally live by ``day``."""
        thr = check_float("threshold", threshold, low=0.0, low_open=True, high=1.0)
        qi = self._index("query", [query_id])
        n_ads = len(self.ads)
        rel = self._relevance_pos(np.repeat(qi, n_ads), np.arange(n_ads))
        keep = rel >= thr - 1e-12
        if day is not None:
            keep &= self.ads["first_day"].to_numpy() <= check_int("day", day, 0)
        return np.asarray(self.ads["ad"].to_numpy()[keep], dtype=object)

    def _click_pos(self, qi: np.ndarray, ai: np.ndarray, positions: np.ndarray) -> np.ndarray:
        pos = np.asarray(positions)
        if pos.size and (pos.dtype.kind not in "iu" or pos.min() < 1):
            raise ValidationError(f"positions: expected integers >= 1 (1-based slots), got {pos[:5]!r}")
        rel = self._relevance_pos(qi, ai)
        quality = self.ads["quality"].to_numpy()[ai]
        bias = pos.astype(np.float64) ** -float(self.params["position_exponent"])
        return np.clip(bias * (0.02 + 0.5 * rel) * (0.5 + quality), 0.0, 1.0)

    def click_probability(self, query_ids: Any, ad_ids: Any, positions: Any) -> np.ndarray:
        """True click probability of showing each ad for each query at a 1-based position (PBM)."""
        q, a, p = np.broadcast_arrays(np.asarray(query_ids, dtype=object), np.asarray(ad_ids, dtype=object),
                                      np.asarray(positions))
        return self._click_pos(self._index("query", q), self._index("ad", a), p.ravel())

    def conversion_probability(self, query_ids: Any, ad_ids: Any) -> np.ndarray:
        """True probability that a click on the ad for the query converts: ``0.01 + 0.2·rel``."""
        q, a = np.broadcast_arrays(np.asarray(query_ids, dtype=object), np.asarray(ad_ids, dtype=object))
        return 0.01 + 0.2 * self._relevance_pos(self._index("query", q), self._index("ad", a))

    def conversion_value(self, ad_ids: Any) -> np.ndarray:
        """Value (GMV) of one conversion of each ad."""
        return self.ads["value"].to_numpy()[self._index("ad", ad_ids)].astype(np.float64)

    # ------------------------------------------------------------------ traffic and events
    def traffic(self, day: int, random_state: Any = None) -> pd.DataFrame:
        """Query arrivals of ``day`` (columns ``time, day, user, query``), sorted by time.

        With ``random_state=None`` the world's own stream is used, so a logged day returns exactly
        the arrivals behind its events; days beyond the log continue the drift (replay of "next day").
        """
        d = check_int("day", day, 0)
        rng = (np.random.default_rng([int(self.params["seed"]), 1, d]) if random_state is None
               else np.random.default_rng(int(seed_from(random_state))))
        t, u, q = _draw_traffic(self, d, rng)
        return pd.DataFrame({"time": t, "day": np.full(t.size, d, np.int32),
                             "user": self.users["user"].to_numpy()[u], "query": self.queries["query"].to_numpy()[q]})

    def events_for_days(self, days: int | Iterable[int]) -> pd.DataFrame:
        """Events of the given day(s), in log order, with a fresh index."""
        wanted = np.atleast_1d(np.asarray(list(days) if not np.isscalar(days) else [days]))
        if wanted.size and wanted.dtype.kind not in "iu":
            raise ValidationError(f"days={days!r}: expected integer day numbers")
        return self.events[self.events["day"].isin(wanted)].reset_index(drop=True)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str, *, overwrite: bool = False) -> str:
        """Write the world as a folder (Parquet tables + ``world.json``), atomically."""
        path = os.fspath(path)
        if os.path.exists(path) and not overwrite:
            raise StoreError(f"path={path!r} already exists; pass overwrite=True to replace it")
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".adsworld-", dir=parent)
        try:
            for name in ("events", "queries", "ads", "advertisers", "users"):
                getattr(self, name).to_parquet(os.path.join(tmp, f"{name}.parquet"), index=False)
            meta = {"format": "vastgraph-adsworld", "version": 1, "params": self.params,
                    "category_parent": self.category_parent.tolist()}
            with open(os.path.join(tmp, "world.json"), "w", encoding="utf-8") as fh:
                json.dump(meta, fh)
            if os.path.exists(path):
                shutil.rmtree(path)
            os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return path

    @classmethod
    def load(cls, path: str) -> "AdsWorld":
        """Read a world written by :meth:`save`."""
        meta_path = os.path.join(os.fspath(path), "world.json")
        if not os.path.isfile(meta_path):
            raise StoreError(f"path={path!r}: no world.json; expected a folder written by AdsWorld.save")
        with open(meta_path, encoding="utf-8") as fh:
            meta = json.load(fh)
        if meta.get("format") != "vastgraph-adsworld" or meta.get("version") != 1:
            raise StoreError(f"{meta_path}: format {meta.get('format')!r} version {meta.get('version')!r}; "
                             "expected vastgraph-adsworld version 1")
        tables = {n: pd.read_parquet(os.path.join(path, f"{n}.parquet"))
                  for n in ("events", "queries", "ads", "advertisers", "users")}
        return cls(**tables, category_parent=np.asarray(meta["category_parent"], np.int64), params=meta["params"])


# ---------------------------------------------------------------------- generation helpers
def _day_weight(world: AdsWorld, table: pd.DataFrame, day: int, trend: bool) -> np.ndarray:
    w = table["popularity"].to_numpy() * (table["first_day"].to_numpy() <= day)
    if trend:
        w = w * np.exp(table["trend"].to_numpy() * day)
    return w


def _draw_traffic(world: AdsWorld, day: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    p = world.params
    m = max(1, int(round(p["events_per_day"] / p["slots"])))
    n_top = int(p["branching"])
    act = world.users["activity"].to_numpy()
    u = np.minimum(np.searchsorted(np.cumsum(act), rng.random(m) * act.sum(), side="right"), act.size - 1)
    qw = _day_weight(world, world.queries, day, trend=True)
    order, cum, start, mass = _cum_by_group(qw, world.queries["top_category"].to_numpy() - 1, n_top)
    home = world.users["top_category"].to_numpy()[u] - 1
    inside = (rng.random(m) < 0.7) & (mass[home] > 0)
    inside |= mass[home] >= cum[-1] * (1 - 1e-12)
    q = order[draw_grouped(rng, cum, start, mass, home, inside)]
    t = p["start_time"] + day * DAY + np.sort(rng.integers(0, DAY, m))
    return t.astype(np.int64), u, q


def _draw_in(rng: np.random.Generator, weight: np.ndarray, group: np.ndarray | None, n_groups: int,
             g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One item ``∝ weight`` per request inside group ``g`` (or anywhere), and whether that was possible."""
    if group is None:
        cum = np.cumsum(weight)
        pick = np.searchsorted(cum, rng.random(g.size) * cum[-1], side="right")
        return np.minimum(pick, weight.size - 1), np.full(g.size, cum[-1] > 0)
    order, cum, start, mass = _cum_by_group(weight, group, n_groups)
    return order[draw_grouped(rng, cum, start, mass, g, np.ones(g.size, bool))], mass[g] > 0


def _day_events(world: AdsWorld, day: int) -> dict[str, np.ndarray]:
    """Impressions, clicks, conversions and costs of one day (see the module docstring)."""
    p = world.params
    t, u, q = _draw_traffic(world, day, np.random.default_rng([int(p["seed"]), 1, day]))
    rng = np.random.default_rng([int(p["seed"]), 2, day])
    slots, m = int(p["slots"]), q.size
    ads = world.ads
    aw = _day_weight(world, ads, day, trend=False)
    leaf_q = world.queries["category"].to_numpy()[q]
    top_q = world.queries["top_category"].to_numpy()[q]
    n_nodes = world.category_parent.size
    k = 2 * slots
    g_leaf, g_top = np.repeat(leaf_q, k), np.repeat(top_q, k)
    a_leaf, ok_leaf = _draw_in(rng, aw, ads["category"].to_numpy(), n_nodes, g_leaf)
    a_top, ok_top = _draw_in(rng, aw, ads["top_category"].to_numpy(), n_nodes, g_top)
    a_any, ok_any = _draw_in(rng, aw, None, 1, g_leaf)
    r = rng.random(m * k)
    cand = np.where(ok_any, a_any, -1)
    cand = np.where((r < 0.7) & ok_top, a_top, cand)
    cand = np.where((r < 0.45) & ok_leaf, a_leaf, cand).reshape(m, k)
    # the first `slots` distinct candidates of each arrival
    srt = np.sort(cand, axis=1)
    dup_sorted = np.zeros_like(srt, dtype=bool)
    dup_sorted[:, 1:] = srt[:, 1:] == srt[:, :-1]
    first_pos = np.argsort(cand, axis=1, kind="stable")
    dup = np.zeros_like(dup_sorted)
    np.put_along_axis(dup, first_pos, dup_sorted, axis=1)
    keep = ~dup & (cand >= 0)
    keep &= np.cumsum(keep, axis=1) <= slots
    bid, quality = ads["bid"].to_numpy(), ads["quality"].to_numpy()
    score = np.where(keep, bid[np.maximum(cand, 0)] * quality[np.maximum(cand, 0)], -np.inf)
    rank = np.argsort(-score, axis=1, kind="stable")[:, :slots]
    shown = np.take_along_axis(cand, rank, axis=1)
    valid = np.take_along_axis(keep, rank, axis=1)
    s_bid = np.where(valid, bid[np.maximum(shown, 0)], 0.0)
    s_q = np.where(valid, quality[np.maximum(shown, 0)], 1.0)
    nxt = np.zeros_like(s_bid)
    nxt[:, :-1] = s_bid[:, 1:] * s_q[:, 1:] / s_q[:, :-1]
    has_next = np.zeros_like(valid)
    has_next[:, :-1] = valid[:, 1:]
    cpc = np.minimum(s_bid, np.where(has_next, nxt + 0.01, float(p["reserve_price"])))

    row, col = np.nonzero(valid)  # row-major: arrivals in time order, then positions
    ad = shown[row, col]
    qq = q[row]
    position = (col + 1).astype(np.int8)
    pclick = world._click_pos(qq, ad, position)
    click = rng.random(ad.size) < pclick
    conv = click & (rng.random(ad.size) < 0.01 + 0.2 * world._relevance_pos(qq, ad))
    cost = np.where(click, cpc[row, col], 0.0)
    # budgets: an advertiser whose spend of the day reached its budget is not shown any more
    adv = ads["advertiser_index"].to_numpy()[ad]
    by_adv = np.lexsort((np.arange(ad.size), adv))
    cum = np.cumsum(cost[by_adv])
    grp_start = np.searchsorted(adv[by_adv], adv[by_adv], side="left")
    spent_before = np.empty_like(cost)
    spent_before[by_adv] = cum - cost[by_adv] - np.concatenate([[0.0], cum])[grp_start]
    live = spent_before < world.advertisers["daily_budget"].to_numpy()[adv] - 1e-9
    sel = np.flatnonzero(live)
    return {"time": t[row][sel], "user": u[row][sel], "query": qq[sel], "ad": ad[sel], "position": position[sel],
            "click": click[sel], "conversion": conv[sel], "cost": cost[sel]}


def _tree(branching: int, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Parent array of a complete tree in level order, and each node's level."""
    sizes = branching ** np.arange(depth + 1)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    parent = np.full(int(offsets[-1]), -1, np.int64)
    level = np.zeros(int(offsets[-1]), np.int64)
    for lv in range(1, depth + 1):  # tree levels, not data
        idx = np.arange(sizes[lv])
        parent[offsets[lv] + idx] = offsets[lv - 1] + idx // branching
        level[offsets[lv]:offsets[lv + 1]] = lv
    return parent, level


def _tokens(rng: np.random.Generator, leaf: np.ndarray, anc: np.ndarray, n_len: np.ndarray, max_len: int,
            tok_start: np.ndarray, per_node: int, n_generic: int, p_generic: float, noise: float,
            leaves: np.ndarray, names: np.ndarray) -> np.ndarray:
    """Space-joined token strings for items in ``leaf`` (see the module docstring)."""
    n, depth = leaf.size, anc.shape[1] - 1
    shape = (n, max_len)
    lv_p = np.full(depth, 0.4 / max(depth - 1, 1))
    lv_p[-1] = 0.6 if depth > 1 else 1.0
    lv = 1 + np.minimum(np.searchsorted(np.cumsum(lv_p), rng.random(shape) * lv_p.sum(), side="right"), depth - 1)
    src_leaf = np.where(rng.random(shape) < noise, leaves[rng.integers(0, leaves.size, shape)], leaf[:, None])
    node = anc[src_leaf, lv]
    tok = tok_start[node] + rng.integers(0, per_node, shape)
    if n_generic:
        tok = np.where(rng.random(shape) < p_generic, rng.integers(0, n_generic, shape), tok)
    return _join_tokens(names[tok], np.arange(max_len)[None, :] < n_len[:, None])


def generate_world(n_queries: int = 3_000, n_ads: int = 1_500, n_advertisers: int = 150, *, branching: int = 4,
                   depth: int = 2, n_days: int = 7, events_per_day: int = 30_000, vocab_size: int = 2_000,
                   n_users: int = 2_000, slots: int = 4, drift: float = 0.2, noise: float = 0.05,
                   exponent: float = 2.2, relevance_decay: float = 0.4, generic_fraction: float = 0.1,
                   position_exponent: float = 0.7, reserve_price: float = 0.05, start_time: int = DEFAULT_START,
                   random_state: Any = 0, progress: ProgressFn | None = None) -> AdsWorld:
    """Generate an event-level search-ads world with a hidden category tree (see the module docstring).

    Args:
        n_queries, n_ads, n_advertisers, n_users: catalog sizes (every advertiser owns ≥ 1 ad).
        branching, depth: the hidden complete category tree (``branching**depth`` leaf categories,
            ``branching`` top categories = the labels). Defaults 4, 2.
        n_days: days of log. Default 7.
        events_per_day: approximate impressions per day (``events_per_day / slots`` query arrivals).
        vocab_size: tokens in the vocabulary (generic + per-category). Default 2000.
        slots: ad positions per result page. Default 4.
        drift: fraction of queries/ads that appear on a later day, and the scale of popularity trends.
        noise: probability that a token or an ad's category ignores the tree. Default 0.05.
        exponent: Pareto exponent of query, ad and user popularity. Default 2.2.
        relevance_decay: relevance of a pair per level of tree distance. Default 0.4.
        generic_fraction: share of the vocabulary that is generic. Default 0.1.
        position_exponent: position bias ``pos^-e`` of the click model. Default 0.7.
        reserve_price: cost per click in the last shown slot (if below the bid). Default 0.05.
        start_time: Unix time of day 0 (UTC midnight).
        random_state: None, an int seed or a ``numpy.random.Generator``. Default 0.
        progress: optional ``progress(days_done, n_days)``.

    Returns:
        An :class:`AdsWorld`; ``events`` holds about ``n_days * events_per_day`` rows (fewer when
        budgets bind), sorted by time.

    Example:
        >>> w = generate_world(n_queries=50, n_ads=30, n_advertisers=5, n_days=2, events_per_day=200)
        >>> int(w.events["day"].max())
        1
    """
    nq, na, nv = check_int("n_queries", n_queries, 1), check_int("n_ads", n_ads, 1), check_int("n_advertisers", n_advertisers, 1)
    nu = check_int("n_users", n_users, 1)
    b, dp = check_int("branching", branching, 1), check_int("depth", depth, 1)
    nd, epd = check_int("n_days", n_days, 1), check_int("events_per_day", events_per_day, 1)
    vs, ns = check_int("vocab_size", vocab_size, 1), check_int("slots", slots, 1)
    if nv > na:
        raise ValidationError(f"n_advertisers={nv}: expected at most n_ads={na} (every advertiser owns an ad)")
    if ns > 127:
        raise ValidationError(f"slots={ns}: expected at most 127 (positions are int8)")
    n_leaf = b ** dp
    n_nonroot = sum(b ** lv for lv in range(1, dp + 1))
    gf = check_float("generic_fraction", generic_fraction, low=0.0, low_open=False, high=0.9)
    n_generic = int(round(vs * gf))
    if vs - n_generic < n_nonroot:
        raise ValidationError(f"vocab_size={vs}: expected at least {n_nonroot + n_generic} so every one of the "
                              f"{n_nonroot} categories has a token")
    dr = check_float("drift", drift, low=0.0, low_open=False, high=1.0)
    eps = check_float("noise", noise, low=0.0, low_open=False, high=1.0)
    gamma = check_float("exponent", exponent, low=1.0)
    decay = check_float("relevance_decay", relevance_decay, low=0.0, high=1.0)
    pexp = check_float("position_exponent", position_exponent, low=0.0, low_open=False)
    reserve = check_float("reserve_price", reserve_price, low=0.0, low_open=False)
    t0 = check_int("start_time", start_time, 0)
    if progress is not None and not callable(progress):
        raise ValidationError(f"progress={progress!r}: expected None or a callable(done, total)")
    seed = int(seed_from(random_state))
    rng = np.random.default_rng([seed, 0])

    parent, level = _tree(b, dp)
    leaves = np.flatnonzero(level == dp)
    world = AdsWorld(events=pd.DataFrame(), queries=pd.DataFrame(), ads=pd.DataFrame(),
                     advertisers=pd.DataFrame(), users=pd.DataFrame(), category_parent=parent, params={"depth": dp})
    anc = world._ancestors()
    leaf_pop = 1.0 / np.arange(1, n_leaf + 1)
    leaf_pop = leaf_pop[rng.permutation(n_leaf)]
    leaf_cum = np.cumsum(leaf_pop)

    def draw_leaf(size: int) -> np.ndarray:
        return leaves[np.minimum(np.searchsorted(leaf_cum, rng.random(size) * leaf_cum[-1], side="right"), n_leaf - 1)]

    per_node = (vs - n_generic) // n_nonroot
    tok_start = n_generic + (np.arange(parent.size) - 1) * per_node  # root: unused
    tok_names = np.char.add("t", rng.permutation(n_generic + per_node * n_nonroot).astype(str)).astype(object)

    def first_day(size: int) -> np.ndarray:
        fd = np.zeros(size, np.int32)
        if nd > 1:
            late = rng.random(size) < dr
            fd[late] = rng.integers(1, nd, int(late.sum()))
        return fd

    # queries
    q_leaf = draw_leaf(nq)
    q_len = np.minimum(1 + rng.poisson(1.5, nq), 6)
    queries = pd.DataFrame({
        "query": _names("q", nq),
        "text": _tokens(rng, q_leaf, anc, q_len, 6, tok_start, per_node, n_generic, 0.15, eps, leaves, tok_names),
        "category": q_leaf, "top_category": anc[q_leaf, 1], "label": anc[q_leaf, 1] - 1, "popularity": pareto_propensity(rng, nq, gamma),
        "trend": rng.normal(0.0, dr / 2, nq), "first_day": first_day(nq)})
    # advertisers and ads
    v_leaf = draw_leaf(nv)
    base_bid = rng.lognormal(0.0, 0.5, nv)
    owner = rng.permutation(np.concatenate([np.arange(nv), rng.integers(0, nv, na - nv)]))
    same_top = leaves[(anc[leaves, 1][None, :] == anc[v_leaf[owner], 1][:, None]).argmax(axis=1)
                      + rng.integers(0, n_leaf // b, na)]  # a leaf of the owner's top category
    u = rng.random(na)
    a_leaf = np.where(u < 0.7, v_leaf[owner], np.where(u < 1 - eps, same_top, draw_leaf(na)))
    a_len = np.minimum(2 + rng.poisson(1.5, na), 8)
    rank_in_adv = np.empty(na, np.int64)
    by_owner = np.argsort(owner, kind="stable")
    rank_in_adv[by_owner] = np.arange(na) - np.searchsorted(owner[by_owner], owner[by_owner])
    ads = pd.DataFrame({
        "ad": _names("ad", na), "advertiser": _names("adv", nv)[owner], "advertiser_index": owner,
        "item": np.char.add(np.char.add(np.char.add("it", owner.astype(str)), "_"),
                            (rank_in_adv // 2).astype(str)).astype(object),
        "category": a_leaf, "top_category": anc[a_leaf, 1], "label": anc[a_leaf, 1] - 1,
        "bid_words": _tokens(rng, a_leaf, anc, a_len, 8, tok_start, per_node, 0, 0.0, eps, leaves, tok_names),
        "bid": np.round(base_bid[owner] * rng.lognormal(0.0, 0.3, na), 2) + 0.05,
        "quality": rng.beta(4.0, 4.0, na), "value": np.round(rng.lognormal(3.0, 0.6, na), 2),
        "popularity": pareto_propensity(rng, na, gamma), "first_day": first_day(na)})
    # daily budget ~ 1.5x the advertiser's expected spend under ~20% CTR, with spread
    n_own = np.bincount(owner, minlength=nv)
    mean_bid = np.bincount(owner, weights=ads["bid"].to_numpy(), minlength=nv) / n_own
    budget = 1.5 * (0.2 * epd / na) * n_own * mean_bid * rng.lognormal(0.0, 0.5, nv)
    advertisers = pd.DataFrame({"advertiser": _names("adv", nv), "daily_budget": np.round(budget, 2) + 1.0,
                                "category": v_leaf, "top_category": anc[v_leaf, 1],
                                "label": anc[v_leaf, 1] - 1, "base_bid": base_bid})
    top_pop = np.bincount(anc[leaves, 1] - 1, weights=leaf_pop, minlength=b)
    users = pd.DataFrame({"user": _names("u", nu),
                          "top_category": 1 + np.minimum(np.searchsorted(np.cumsum(top_pop), rng.random(nu) * top_pop.sum(),
                                                                         side="right"), b - 1),
                          "activity": pareto_propensity(rng, nu, gamma)})
    world.queries, world.ads, world.advertisers, world.users = queries, ads, advertisers, users
    world.params = {"n_queries": nq, "n_ads": na, "n_advertisers": nv, "n_users": nu, "branching": b, "depth": dp,
                    "n_days": nd, "events_per_day": epd, "vocab_size": vs, "slots": ns, "drift": dr, "noise": eps,
                    "exponent": gamma, "relevance_decay": decay, "generic_fraction": gf,
                    "position_exponent": pexp, "reserve_price": reserve, "start_time": t0, "seed": seed}

    parts = []
    for day in range(nd):  # days, each fully vectorised
        parts.append(_day_events(world, day))
        if progress is not None:
            progress(day + 1, nd)
    ev = {k: np.concatenate([pt[k] for pt in parts]) for k in parts[0]}
    q, a = ev["query"], ev["ad"]
    click, conv = ev["click"], ev["conversion"]
    world.events = pd.DataFrame({
        "time": ev["time"].astype(np.int64), "day": ((ev["time"] - t0) // DAY).astype(np.int32),
        "user": users["user"].to_numpy()[ev["user"]], "query": queries["query"].to_numpy()[q],
        "query_text": queries["text"].to_numpy()[q], "ad": ads["ad"].to_numpy()[a],
        "item": ads["item"].to_numpy()[a], "advertiser": ads["advertiser"].to_numpy()[a],
        "bid_words": ads["bid_words"].to_numpy()[a], "bid": ads["bid"].to_numpy()[a].astype(np.float64),
        "position": ev["position"].astype(np.int8), "impression": np.ones(q.size, np.int8),
        "click": click.astype(np.int8), "conversion": conv.astype(np.int8),
        "conversion_value": np.where(conv, ads["value"].to_numpy()[a], 0.0),
        "cost": np.round(ev["cost"], 4)})
    return world
