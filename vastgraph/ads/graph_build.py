"""Search-ads event log → heterogeneous graph, whole or day by day as :class:`GraphDelta` batches.

Node types ``query``, ``ad``, ``advertiser`` (and ``user`` with ``include_users``). Edge types:

* ``("query", "click", "ad")`` — directed; weight = clicks, time = latest click (int64 seconds).
* ``("ad", "coclick", "ad")`` — undirected; weight = number of distinct queries (or users,
  ``coclick_by="user"``) that clicked both ads: the off-diagonal of ``MᵀM`` for the binary
  click matrix ``M`` (groups × ads), kept where ≥ ``min_cooccurrence``.
* ``("query", "semantic", "query")`` — undirected; TF-IDF cosine of the query texts,
  ``tfidf(t, q) = tf · (ln((1 + n) / (1 + df_t)) + 1)``, rows L2-normalised, tokens in more than
  ``max_df`` of the queries dropped; a pair is kept if its cosine ≥ ``semantic_threshold`` and it is
  among the ``semantic_top_k`` most similar queries of either end.
* ``("ad", "cobid", "ad")`` — undirected; weight = shared bid words, top ``cobid_top_k`` per ad.
* ``("advertiser", "owns", "ad")`` — directed.
* ``("user", "click", "ad")`` — directed, like query clicks (only with ``include_users``).

Labels are the hidden top categories when the catalogs carry a ``label`` column (an
:class:`AdsWorld`'s do: ``top_category - 1``); features, when ``feature_dim > 0``, are L2-normalised hashed bags of tokens
(query text, ad bid words). Co-occurrence products are scipy sparse products in row blocks; no
Python loop runs over events or edges. The construction follows the query–ad click graph of the
AMCAD setting (ICDE 2022) with the co-bid / co-click / semantic relations listed in DESIGN.md.

Example:
    >>> from vastgraph.ads.world import generate_world
    >>> w = generate_world(n_queries=40, n_ads=30, n_advertisers=5, n_days=2, events_per_day=300)
    >>> g = build_ads_graph(w.events, w)
    >>> sorted(g.node_types)
    ['ad', 'advertiser', 'query']
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import scipy.sparse as sp

from vastgraph.validation import check_float, check_int
from vastgraph.errors import EmptyInputError, UnknownIdError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.delta import GraphDelta
from vastgraph.graph.hetero_graph import HeteroGraph

CLICK = ("query", "click", "ad")
COCLICK = ("ad", "coclick", "ad")
SEMANTIC = ("query", "semantic", "query")
COBID = ("ad", "cobid", "ad")
OWNS = ("advertiser", "owns", "ad")
USER_CLICK = ("user", "click", "ad")
_NEEDED = ("time", "day", "query", "ad", "advertiser", "click")


# ---------------------------------------------------------------------- catalogs and nodes
def _catalogs(catalogs: Any) -> dict[str, pd.DataFrame]:
    if catalogs is None:
        return {}
    if isinstance(catalogs, dict):
        out = {k: v for k, v in catalogs.items() if v is not None}
    elif all(hasattr(catalogs, k) for k in ("queries", "ads", "advertisers")):
        out = {k: getattr(catalogs, k) for k in ("queries", "ads", "advertisers")}
    else:
        raise ValidationError(f"world_or_catalogs: got {type(catalogs).__name__}; expected None, an AdsWorld or "
                              "a dict with 'queries'/'ads'/'advertisers' DataFrames")
    for key, col in (("queries", "query"), ("ads", "ad"), ("advertisers", "advertiser")):
        if key in out and col not in out[key].columns:
            raise ValidationError(f"catalog {key!r}: columns {list(out[key].columns)}; expected a {col!r} column")
    return out


def _check_events(events: Any, include_users: bool) -> pd.DataFrame:
    if not isinstance(events, pd.DataFrame):
        raise ValidationError(f"events: got {type(events).__name__}; expected a DataFrame (see vastgraph.ads.logs)")
    need = _NEEDED + (("user",) if include_users else ())
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise ValidationError(f"events: columns {missing} are missing; have {list(events.columns)}")
    return events


def _select_days(events: pd.DataFrame, days: Any) -> tuple[pd.DataFrame, int]:
    if days is not None:
        wanted = np.atleast_1d(np.asarray(list(days) if not np.isscalar(days) else [days]))
        if wanted.size == 0 or wanted.dtype.kind not in "iu":
            raise ValidationError(f"days={days!r}: expected one or more integer day numbers")
        events = events[events["day"].isin(wanted)]
    if len(events) == 0:
        raise EmptyInputError(f"events: no rows{'' if days is None else f' on days {days!r}'}; nothing to build")
    order = np.lexsort((np.arange(len(events)), events["time"].to_numpy()))
    return events.iloc[order], int(events["day"].max())


def _node_table(events: pd.DataFrame, cat: pd.DataFrame | None, col: str, last_day: int) -> pd.DataFrame:
    """Nodes of one type: the catalog rows live by ``last_day`` (catalog order), else ids by first appearance."""
    ev_ids = events[col].to_numpy(dtype=object)
    first_seen = events.groupby(col, sort=False)["day"].min()
    if cat is None:
        uniq = pd.unique(ev_ids)
        return pd.DataFrame({col: uniq, "first_day": first_seen.reindex(uniq).to_numpy().astype(np.int64)})
    ids = cat[col].to_numpy(dtype=object)
    pos = pd.Index(ids).get_indexer(ev_ids)
    if pos.size and pos.min() < 0:
        bad = ev_ids[int(np.argmin(pos))]
        raise UnknownIdError(f"events: {col} id {bad!r} is not in the {col} catalog ({ids.size} ids)")
    fd = cat["first_day"].to_numpy().astype(np.int64) if "first_day" in cat.columns else np.zeros(ids.size, np.int64)
    seen = first_seen.reindex(ids).to_numpy()
    fd = np.where(np.isnan(seen.astype(np.float64)), fd, np.minimum(fd, np.nan_to_num(seen.astype(np.float64), nan=0)))
    keep = fd <= last_day
    table = cat.loc[keep].reset_index(drop=True).copy()
    table["first_day"] = fd[keep].astype(np.int64)
    return table


def _last_by(events: pd.DataFrame, key: str, value: str) -> pd.Series:
    return events.groupby(key, sort=False)[value].last() if value in events.columns else pd.Series(dtype=object)


def _hashed(texts: np.ndarray, dim: int) -> np.ndarray:
    """L2-normalised hashed bag of tokens, float32 ``(n, dim)``."""
    rows, toks = _tokenize(texts)
    out = np.zeros((texts.size, dim), np.float32)
    if toks.size:
        h = (pd.util.hash_array(toks.astype(object)) % np.uint64(dim)).astype(np.int64)
        np.add.at(out, (rows, h), 1.0)  # vectorised scatter
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norm > 0, norm, 1.0)


def _tokenize(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(document row, token) pairs of space-separated texts."""
    s = pd.Series(np.asarray(texts, dtype=object)).fillna("").astype(str).str.split()
    ex = s.explode()
    ex = ex[ex.notna() & (ex != "")]
    return ex.index.to_numpy(dtype=np.int64), ex.to_numpy(dtype=object)


def _term_matrix(texts: np.ndarray, *, tfidf: bool, max_df: float) -> sp.csr_matrix:
    """Document × token matrix: TF-IDF rows L2-normalised, or binary."""
    rows, toks = _tokenize(texts)
    n = texts.size
    codes, _ = pd.factorize(toks)
    m = sp.csr_matrix((np.ones(rows.size, np.float64), (rows, codes)), shape=(n, int(codes.max()) + 1 if codes.size else 0))
    m.sum_duplicates()
    df = np.diff(m.tocsc().indptr)
    common = df > max_df * n
    if tfidf:
        idf = np.where(common, 0.0, np.log((1.0 + n) / (1.0 + df)) + 1.0)
        m = sp.csr_matrix(m @ sp.diags(idf))
        norm = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        m = sp.csr_matrix(sp.diags(1.0 / np.where(norm > 0, norm, 1.0)) @ m)
    else:
        m.data[:] = 1.0
    # tokens of one document cannot connect two; dropping them after normalising keeps cosines exact
    return m[:, np.flatnonzero((df >= 2) & ~common)].tocsr()


def top_k_pairs(x: sp.csr_matrix, k: int, threshold: float, *, block: int = 2048) -> tuple[np.ndarray, ...]:
    """Undirected pairs ``(i < j, s_ij)`` of ``S = X Xᵀ`` with ``s ≥ threshold`` and ``j`` among ``i``'s top-k or vice versa.

    Computed in row blocks so memory is ``O(block · n)``; ties are broken by the smaller column.
    """
    n = x.shape[0]
    xt = x.T.tocsc()
    src, dst, val = [], [], []
    for start in range(0, n, block):  # row blocks, each a sparse product
        s = (x[start:start + block] @ xt).tocoo()
        r, c, v = s.row.astype(np.int64) + start, s.col.astype(np.int64), s.data
        ok = (c != r) & (v >= threshold - 1e-9)
        r, c, v = r[ok], c[ok], v[ok]
        order = np.lexsort((c, -v, r))
        r, c, v = r[order], c[order], v[order]
        first = np.searchsorted(r, r, side="left")
        top = (np.arange(r.size) - first) < k
        src.append(r[top])
        dst.append(c[top])
        val.append(v[top])
    r, c, v = (np.concatenate(a) if a else np.zeros(0) for a in (src, dst, val))
    a, b = np.minimum(r, c).astype(np.int64), np.maximum(r, c).astype(np.int64)
    _, first = np.unique(a * max(n, 1) + b, return_index=True)
    return a[first], b[first], v[first].astype(np.float32)


def _coclick(group: np.ndarray, ad: np.ndarray, n_groups: int, n_ads: int, min_co: int) -> tuple[np.ndarray, ...]:
    m = sp.csr_matrix((np.ones(group.size, np.float32), (group, ad)), shape=(n_groups, n_ads))
    m.sum_duplicates()
    m.data[:] = 1.0
    co = sp.triu(m.T @ m, k=1).tocoo()
    keep = co.data >= min_co
    return co.row[keep].astype(np.int64), co.col[keep].astype(np.int64), co.data[keep].astype(np.float32)


# ---------------------------------------------------------------------- full graph
def build_ads_graph(events: pd.DataFrame, world_or_catalogs: Any = None, *, days: Iterable[int] | int | None = None,
                    min_cooccurrence: int = 2, coclick_by: str = "query", semantic_threshold: float = 0.3,
                    semantic_top_k: int = 10, cobid_top_k: int = 10, max_df: float = 0.5,
                    include_users: bool = False, feature_dim: int = 0,
                    progress: Callable[[int, int], Any] | None = None) -> HeteroGraph:
    """Build the heterogeneous search-ads graph from an event log (edge types in the module docstring).

    Args:
        events: validated events (:func:`vastgraph.ads.logs.read_events`); needs ``time, day, query,
            ad, advertiser, click`` (and ``user`` for users), uses ``query_text``/``bid_words`` if present.
        world_or_catalogs: an :class:`AdsWorld`, a dict of ``queries``/``ads``/``advertisers``
            DataFrames, or None (nodes = ids seen in the events). With catalogs every id the events name
            must be in them, and catalog rows live by the last day (``first_day``) become nodes too.
        days: only events of these days (default all).
        min_cooccurrence: least co-clicking queries/users for an ad–ad co-click edge. Default 2.
        coclick_by: ``"query"`` or ``"user"``. Default ``"query"``.
        semantic_threshold: least TF-IDF cosine of a semantic edge. Default 0.3.
        semantic_top_k, cobid_top_k: neighbours kept per node. Default 10.
        max_df: tokens in more than this share of queries/ads are ignored. Default 0.5.
        include_users: add the ``user`` node type and user clicks. Default False.
        feature_dim: hashed bag-of-token features of queries and ads (0: none). Default 0.
        progress: optional ``progress(steps_done, steps_total)``.

    Returns:
        An in-memory :class:`HeteroGraph` (``info['build']['duplicates'] == "sum"``, so deltas that
        repeat a click pair add to its weight).

    Example:
        >>> ev = pd.DataFrame({"time": [10, 20], "day": 0, "query": ["q1", "q2"], "ad": ["a", "a"],
        ...                    "advertiser": "v", "click": [1, 1], "query_text": ["red shoe", "red shoes"]})
        >>> g = build_ads_graph(ev)
        >>> g.num_edges(("query", "click", "ad")), g.num_edges(("advertiser", "owns", "ad"))
        (2, 1)
    """
    min_co = check_int("min_cooccurrence", min_cooccurrence, 1)
    if coclick_by not in ("query", "user"):
        raise ValidationError(f"coclick_by={coclick_by!r}: expected 'query' or 'user'")
    thr = check_float("semantic_threshold", semantic_threshold, low=0.0, high=1.0)
    k_sem, k_bid = check_int("semantic_top_k", semantic_top_k, 0), check_int("cobid_top_k", cobid_top_k, 0)
    mdf = check_float("max_df", max_df, low=0.0, high=1.0)
    fdim = check_int("feature_dim", feature_dim, 0)
    if progress is not None and not callable(progress):
        raise ValidationError(f"progress={progress!r}: expected None or a callable(done, total)")
    users = bool(include_users) or coclick_by == "user"
    ev, last_day = _select_days(_check_events(events, users), days)
    cats = _catalogs(world_or_catalogs)
    steps, total = 0, 6

    def step() -> None:
        nonlocal steps
        steps += 1
        if progress is not None:
            progress(steps, total)

    qt = _node_table(ev, cats.get("queries"), "query", last_day)
    at = _node_table(ev, cats.get("ads"), "ad", last_day)
    q_text = (qt["text"].to_numpy(dtype=object) if "text" in qt.columns
              else _last_by(ev, "query", "query_text").reindex(qt["query"]).fillna("").to_numpy(dtype=object))
    bid_words = (at["bid_words"].to_numpy(dtype=object) if "bid_words" in at.columns
                 else _last_by(ev, "ad", "bid_words").reindex(at["ad"]).fillna("").to_numpy(dtype=object))
    owner = (at["advertiser"].to_numpy(dtype=object) if "advertiser" in at.columns
             else ev.groupby("ad", sort=False)["advertiser"].first().reindex(at["ad"]).to_numpy(dtype=object))
    if "advertisers" in cats:
        vt = _node_table(ev, cats["advertisers"], "advertiser", last_day)
        known = pd.Index(vt["advertiser"].to_numpy(dtype=object))
        if (known.get_indexer(owner) < 0).any():
            bad = owner[int(np.argmin(known.get_indexer(owner)))]
            raise UnknownIdError(f"ads catalog: advertiser id {bad!r} is not in the advertiser catalog")
    else:
        vt = pd.DataFrame({"advertiser": pd.unique(np.concatenate([owner, ev["advertiser"].to_numpy(dtype=object)]))})
    step()

    ntypes = ["query", "ad", "advertiser"] + (["user"] if users else [])
    b = GraphBuilder(directed=True, duplicates="sum", node_types=ntypes)
    q_ids, a_ids = qt["query"].to_numpy(dtype=object), at["ad"].to_numpy(dtype=object)
    v_ids = vt["advertiser"].to_numpy(dtype=object)
    for nt, table, ids, text in (("query", qt, q_ids, q_text), ("ad", at, a_ids, bid_words)):
        b.add_nodes(nt, ids=ids, labels=table["label"].to_numpy() if "label" in table.columns else None,
                    features=_hashed(text, fdim) if fdim else None)
    b.add_nodes("advertiser", ids=v_ids, labels=vt["label"].to_numpy() if "label" in vt.columns else None)

    clicked = ev[ev["click"].to_numpy() > 0]
    c_w = clicked["click"].to_numpy().astype(np.float32)
    c_t = clicked["time"].to_numpy().astype(np.int64)
    b.add_edges(clicked["query"].to_numpy(dtype=object), clicked["ad"].to_numpy(dtype=object), etype=CLICK,
                weight=c_w, time=c_t, directed=True, source="events (clicks)")
    b.add_edge_type(CLICK, directed=True)
    if users:
        u_ids = pd.unique(ev["user"].to_numpy(dtype=object))
        b.add_nodes("user", ids=u_ids)
        b.add_edge_type(USER_CLICK, directed=True)
        b.add_edges(clicked["user"].to_numpy(dtype=object), clicked["ad"].to_numpy(dtype=object), etype=USER_CLICK,
                    weight=c_w, time=c_t, directed=True, source="events (user clicks)")
    step()

    grp_col = "user" if coclick_by == "user" else "query"
    g_codes, _ = pd.factorize(clicked[grp_col].to_numpy(dtype=object))
    a_pos = pd.Index(a_ids).get_indexer(clicked["ad"].to_numpy(dtype=object))
    cs, cd, cw = _coclick(g_codes.astype(np.int64), a_pos.astype(np.int64), int(g_codes.max()) + 1 if g_codes.size else 0,
                          a_ids.size, min_co)
    b.add_edge_type(COCLICK, directed=False)
    b.add_edges(a_ids[cs], a_ids[cd], etype=COCLICK, weight=cw, source="co-clicks")
    step()

    b.add_edge_type(SEMANTIC, directed=False)
    if k_sem and q_ids.size > 1:
        ss, sd, sw = top_k_pairs(_term_matrix(q_text, tfidf=True, max_df=mdf), k_sem, thr)
        b.add_edges(q_ids[ss], q_ids[sd], etype=SEMANTIC, weight=sw, source="semantic (query text)")
    step()

    b.add_edge_type(COBID, directed=False)
    if k_bid and a_ids.size > 1:
        bs, bd, bw = top_k_pairs(_term_matrix(bid_words, tfidf=False, max_df=mdf), k_bid, 1.0)
        b.add_edges(a_ids[bs], a_ids[bd], etype=COBID, weight=bw, source="co-bids (bid words)")
    step()

    b.add_edge_type(OWNS, directed=True)
    b.add_edges(owner, a_ids, etype=OWNS, source="ads (owners)")
    b.info.update({"source": "vastgraph.ads.graph_build.build_ads_graph", "events": int(len(ev)),
                   "clicks": int(c_w.sum()), "last_day": last_day, "coclick_by": coclick_by,
                   "semantic_threshold": thr, "semantic_top_k": k_sem, "cobid_top_k": k_bid, "max_df": mdf})
    graph = b.build()
    step()
    return graph


# ---------------------------------------------------------------------- day-by-day deltas
def daily_deltas(events: pd.DataFrame, world_or_catalogs: Any = None, *, start_day: int | None = None,
                 min_cooccurrence: int = 2, coclick_by: str = "query", include_users: bool = False,
                 feature_dim: int = 0) -> Iterator[tuple[int, GraphDelta]]:
    """The growth of the ads graph day by day, as one :class:`GraphDelta` per day after ``start_day``.

    Start from ``build_ads_graph(events, world_or_catalogs, days=range(first_day, start_day + 1),
    ...)`` (same options) and apply the deltas in order with
    :func:`vastgraph.graph.delta.apply_delta`: the click, user-click, owns and co-click edges then
    equal those of the graph built from all days (click pairs repeated on several days arrive as
    parallel insertions that the graph's ``duplicates="sum"`` policy adds up; the latest click time
    wins). Each delta holds:

    * new nodes: queries, ads, advertisers (and users) whose first day — the earliest of the
      catalog's ``first_day`` and their first event — is that day, with labels (and hashed features
      when ``feature_dim > 0``) as :func:`build_ads_graph` gives them;
    * the day's clicks (weight = clicks, time = click time) and the ``owns`` edges of new ads;
    * co-click increments: with the binary click matrices ``M`` before and ``M'`` after the day,
      restricted to the groups (queries/users) that clicked that day, ``Δ = M'ᵀM' − MᵀM`` above the
      diagonal; a pair whose total reaches ``min_cooccurrence`` that day is inserted with its full
      count, one already above it with ``Δ``. Cost ∝ the day's clicks and the history of the groups
      they touch, not the graph.

    Semantic and co-bid edges (text relations of the catalog) are not part of the deltas.
    Days without events yield empty deltas, so every day after ``start_day`` up to the last appears.

    Args:
        events, world_or_catalogs, min_cooccurrence, coclick_by, include_users, feature_dim: as for
            :func:`build_ads_graph`.
        start_day: the last day already in the base graph (default: the first day of the log).

    Yields:
        ``(day, delta)``; ``delta.time`` is the day's last event time (None for an empty day).

    Example:
        >>> from vastgraph.graph.delta import apply_delta
        >>> ev = pd.DataFrame({"time": [10, 86410], "day": [0, 1], "query": ["q1", "q2"], "ad": ["a", "b"],
        ...                    "advertiser": "v", "click": [1, 1]})
        >>> g = build_ads_graph(ev, days=[0])
        >>> for day, delta in daily_deltas(ev):
        ...     g, summary = apply_delta(g, delta)
        >>> g.num_edges(("query", "click", "ad"))
        2
    """
    min_co = check_int("min_cooccurrence", min_cooccurrence, 1)
    if coclick_by not in ("query", "user"):
        raise ValidationError(f"coclick_by={coclick_by!r}: expected 'query' or 'user'")
    fdim = check_int("feature_dim", feature_dim, 0)
    users = bool(include_users) or coclick_by == "user"
    ev, last_day = _select_days(_check_events(events, users), None)
    first = int(ev["day"].min())
    d0 = first if start_day is None else check_int("start_day", start_day, first)
    cats = _catalogs(world_or_catalogs)
    tables = {"query": _node_table(ev, cats.get("queries"), "query", last_day),
              "ad": _node_table(ev, cats.get("ads"), "ad", last_day)}
    if "advertisers" in cats:
        tables["advertiser"] = _node_table(ev, cats["advertisers"], "advertiser", last_day)
    else:
        owner_first = ev.groupby("advertiser", sort=False)["day"].min()
        tables["advertiser"] = pd.DataFrame({"advertiser": owner_first.index.to_numpy(dtype=object),
                                             "first_day": owner_first.to_numpy().astype(np.int64)})
    if users:
        u_first = ev.groupby("user", sort=False)["day"].min()
        tables["user"] = pd.DataFrame({"user": u_first.index.to_numpy(dtype=object),
                                       "first_day": u_first.to_numpy().astype(np.int64)})
    texts = {"query": tables["query"]["text"].to_numpy(dtype=object) if "text" in tables["query"].columns
             else _last_by(ev, "query", "query_text").reindex(tables["query"]["query"]).fillna("").to_numpy(dtype=object),
             "ad": tables["ad"]["bid_words"].to_numpy(dtype=object) if "bid_words" in tables["ad"].columns
             else _last_by(ev, "ad", "bid_words").reindex(tables["ad"]["ad"]).fillna("").to_numpy(dtype=object)}
    owner = (tables["ad"]["advertiser"].to_numpy(dtype=object) if "advertiser" in tables["ad"].columns
             else ev.groupby("ad", sort=False)["advertiser"].first().reindex(tables["ad"]["ad"]).to_numpy(dtype=object))

    clicked = ev[ev["click"].to_numpy() > 0]
    grp_col = "user" if coclick_by == "user" else "query"
    g_codes = pd.factorize(clicked[grp_col].to_numpy(dtype=object))[0].astype(np.int64)
    a_ids = tables["ad"]["ad"].to_numpy(dtype=object)
    a_pos = pd.Index(a_ids).get_indexer(clicked["ad"].to_numpy(dtype=object)).astype(np.int64)
    c_day = clicked["day"].to_numpy()
    n_groups = int(g_codes.max()) + 1 if g_codes.size else 0
    ev_day = ev["day"].to_numpy()
    ev_time = ev["time"].to_numpy()
    for day in range(d0 + 1, last_day + 1):  # days, each vectorised
        on_day = ev_day == day
        delta = GraphDelta(time=int(ev_time[on_day].max()) if on_day.any() else None)
        for nt, table in tables.items():
            new = np.flatnonzero(table["first_day"].to_numpy() == day)
            if not new.size:
                continue
            labels = table["label"].to_numpy()[new] if (nt != "user" and "label" in table.columns) else None
            feats = _hashed(texts[nt][new], fdim) if (fdim and nt in texts) else None
            delta.add_nodes(nt, table[nt].to_numpy(dtype=object)[new], labels=labels, features=feats)
            if nt == "ad":
                delta.add_edges(owner[new], table["ad"].to_numpy(dtype=object)[new], etype=OWNS)
        today = c_day == day
        if today.any():
            rows = clicked[today]
            w = rows["click"].to_numpy().astype(np.float32)
            t = rows["time"].to_numpy().astype(np.int64)
            delta.add_edges(rows["query"].to_numpy(dtype=object), rows["ad"].to_numpy(dtype=object), etype=CLICK,
                            weight=w, time=t)
            if users:
                delta.add_edges(rows["user"].to_numpy(dtype=object), rows["ad"].to_numpy(dtype=object),
                                etype=USER_CLICK, weight=w, time=t)
            s, d, cw = _coclick_increment(g_codes, a_pos, c_day, day, n_groups, a_ids.size, min_co)
            if s.size:
                delta.add_edges(a_ids[s], a_ids[d], etype=COCLICK, weight=cw)
        yield day, delta


def _coclick_increment(group: np.ndarray, ad: np.ndarray, day_of: np.ndarray, day: int, n_groups: int,
                       n_ads: int, min_co: int) -> tuple[np.ndarray, ...]:
    """Co-click weight to insert on ``day`` (see :func:`daily_deltas`), over the groups clicking that day."""
    touched = np.zeros(n_groups, bool)
    touched[group[day_of == day]] = True
    sel = touched[group] & (day_of <= day)
    old = sel & (day_of < day)

    def gram(mask: np.ndarray) -> sp.csr_matrix:
        m = sp.csr_matrix((np.ones(int(mask.sum()), np.float32), (group[mask], ad[mask])), shape=(n_groups, n_ads))
        m.sum_duplicates()
        m.data[:] = 1.0
        return sp.triu(m.T @ m, k=1).tocsr()

    inc = (gram(sel) - gram(old)).tocoo()
    keep = inc.data > 0
    s, d, dw = inc.row[keep].astype(np.int64), inc.col[keep].astype(np.int64), inc.data[keep].astype(np.float64)
    if min_co == 1 or not s.size:
        return s, d, dw.astype(np.float32)
    # full count before the day of each changed pair (all groups), to apply the threshold exactly
    before = day_of < day
    m = sp.csr_matrix((np.ones(int(before.sum()), np.float32), (ad[before], group[before])), shape=(n_ads, n_groups))
    m.sum_duplicates()
    m.data[:] = 1.0
    prev = np.asarray(m[s].multiply(m[d]).sum(axis=1)).ravel()
    total = prev + dw
    w = np.where(prev >= min_co, dw, total)
    ok = total >= min_co
    return s[ok], d[ok], w[ok].astype(np.float32)
