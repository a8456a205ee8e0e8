"""Query → ad retrieval: candidate generators and their recall@K / nDCG@K.

Every retriever answers ``retrieve(query_ids, k) -> Retrieved(ads, scores)``: for ``n`` external
query ids, the top-``k`` ad external ids (object array ``(n, k)``, padded with ``None`` where fewer
than ``k`` candidates exist) and their scores (float64 ``(n, k)``, descending, ``-inf`` padding).

* :class:`CoClickRetriever` — the heuristic baseline of sponsored search (query rewriting by the
  click graph, e.g. Fuxman et al., *Using the wisdom of the crowds for keyword generation*, WWW
  2008): first the ads clicked for the query (by click weight), then ads co-clicked with them
  (``c_q · A``, ``c_q`` the query's click row, ``A`` the ad–ad co-click matrix), then the most
  clicked ads overall (cold queries). Tier scores: direct ``2 + c/max c ∈ (2, 3]``, co-click
  ``1 + s/max s ∈ (1, 2]``, popular ``pop/(max pop + 1) ∈ [0, 1)``.
* :class:`EmbeddingRetriever` — nearest ad vectors of the query vector (cosine or dot) through
  :meth:`KeyedEmbeddings.search` (exact faiss), i.e. the two-tower retrieval of DeepWalk /
  node2vec / metapath2vec / DNE / GNN embeddings.
* :class:`ScoreRetriever` — exact top-K of any pair scorer (e.g. AMCAD's relation-aware
  ``MixedCurvature.score(u, v, etype=("query", "click", "ad"))``) over all ads, in batches.
* :class:`RelevanceRetriever` (oracle: top-K by the world's hidden relevance) and
  :class:`RandomRetriever` (uniform), the upper and lower references.

Metrics (:func:`evaluate_retrieval`), per query with graded gains ``g`` (hidden relevance, or
next-day clicks) over the ad universe ``U``, relevant set ``R = {a ∈ U : g_a ≥ threshold}``:

    recall@K = |R ∩ top_K| / |R|,     DCG@K = Σ_{i=1..K} g_{(i)} / log2(i + 1),
    nDCG@K = DCG@K / IDCG@K   (IDCG: the K largest gains of U in order),

averaged over the queries with ``|R| > 0`` (recall) and ``IDCG > 0`` (nDCG).

Example:
    >>> import pandas as pd
    >>> from vastgraph.ads.graph_build import build_ads_graph
    >>> ev = pd.DataFrame({"time": [1, 2, 3], "day": 0, "query": ["q1", "q1", "q2"], "ad": ["a", "b", "b"],
    ...                    "advertiser": "v", "click": 1})
    >>> r = CoClickRetriever(build_ads_graph(ev, min_cooccurrence=1))
    >>> r.retrieve(["q2"], 2).ads.tolist()
    [['b', 'a']]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from vastgraph.validation import check_float, check_int
from vastgraph.errors import EmptyInputError, SchemaError, UnknownIdError, ValidationError
from vastgraph.seeding import seed_from

if TYPE_CHECKING:
    from vastgraph.graph.schema import EdgeType
    from vastgraph.graph.view import GraphView

CLICK = ("query", "click", "ad")
COCLICK = ("ad", "coclick", "ad")
UNKNOWN_POLICIES = ("raise", "empty")


class Retrieved(NamedTuple):
    """Top-K ads per query: ``ads`` object ``(n, k)`` (None padding), ``scores`` float64 ``(n, k)`` (-inf padding)."""

    ads: np.ndarray
    scores: np.ndarray


@runtime_checkable
class Retriever(Protocol):
    """Anything with ``retrieve(query_ids, k) -> Retrieved`` (see the module docstring)."""

    def retrieve(self, query_ids: Any, k: int) -> Retrieved: ...


def as_id_array(ids: Any, name: str) -> np.ndarray:
    """External ids as a 1-D object array (a scalar becomes one id)."""
    arr = np.asarray(ids, dtype=object)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValidationError(f"{name}: shape {arr.shape}; expected a 1-D sequence of external ids")
    return arr


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the ``k`` largest finite entries of each row, descending.

    Ties are broken by the lower column. Rows with fewer finite entries are padded with ``-1`` /
    ``-inf``. Args: ``scores`` ``(m, n)``. Returns ``(idx int64 (m, k), vals float64 (m, k))``.
    """
    m, n = scores.shape
    kk = min(k, n)
    idx = np.full((m, k), -1, np.int64)
    val = np.full((m, k), -np.inf)
    if kk == 0 or m == 0:
        return idx, val
    s = np.asarray(scores, dtype=np.float64)
    part = np.argpartition(-s, kk - 1, axis=1)[:, :kk] if kk < n else np.tile(np.arange(n), (m, 1))
    pv = np.take_along_axis(s, part, axis=1)
    order = np.lexsort((part, -pv), axis=1)
    part, pv = np.take_along_axis(part, order, axis=1), np.take_along_axis(pv, order, axis=1)
    ok = np.isfinite(pv)
    idx[:, :kk] = np.where(ok, part, -1)
    val[:, :kk] = np.where(ok, pv, -np.inf)
    return idx, val


class BaseRetriever:
    """Shared ``retrieve`` of retrievers over a fixed query and ad catalog.

    Subclasses set ``query_ids`` and ``ad_ids`` (external ids, catalog order) and implement
    ``_scores(qpos) -> (m, n_ads)`` (higher is better, ``-inf`` = not a candidate) or override
    ``_top(qpos, k)``.
    """

    query_ids: np.ndarray
    ad_ids: np.ndarray
    batch_size: int = 512

    def _lookup_queries(self, ids: np.ndarray) -> np.ndarray:
        if not hasattr(self, "_qindex"):
            self._qindex = pd.Index(np.asarray(self.query_ids, dtype=object))
        return self._qindex.get_indexer(ids) if ids.size else np.zeros(0, np.int64)

    def _scores(self, qpos: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def _top(self, qpos: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        idx = np.full((qpos.size, k), -1, np.int64)
        val = np.full((qpos.size, k), -np.inf)
        b = max(1, int(self.batch_size))
        for lo in range(0, qpos.size, b):  # query batches, each vectorised
            idx[lo:lo + b], val[lo:lo + b] = top_k(self._scores(qpos[lo:lo + b]), k)
        return idx, val

    def retrieve(self, query_ids: Any, k: int, *, unknown: str = "raise") -> Retrieved:
        """Top-``k`` ads of each query.

        Args:
            query_ids: external query ids ``(n,)``.
            k: ads per query (>= 1).
            unknown: ``"raise"`` (:class:`UnknownIdError` for a query this retriever does not
                know) or ``"empty"`` (an all-padding row). Default ``"raise"``.

        Returns:
            :class:`Retrieved` ``(ads (n, k) object, scores (n, k) float64)``.
        """
        kk = check_int("k", k, 1)
        if unknown not in UNKNOWN_POLICIES:
            raise ValidationError(f"unknown={unknown!r}: expected one of {', '.join(UNKNOWN_POLICIES)}")
        q = as_id_array(query_ids, "query_ids")
        pos = self._lookup_queries(q)
        missing = pos < 0
        if missing.any() and unknown == "raise":
            bad = q[missing]
            raise UnknownIdError(f"query_ids: {int(bad.size)} unknown to this {type(self).__name__} "
                                 f"(e.g. {bad[:3].tolist()}); it knows {len(self.query_ids)} queries "
                                 "(pass unknown='empty' to get empty rows)")
        ads = np.full((q.size, kk), None, dtype=object)
        scores = np.full((q.size, kk), -np.inf)
        known = np.flatnonzero(~missing)
        if known.size:
            idx, val = self._top(pos[known].astype(np.int64), kk)
            ok = idx >= 0
            ads[known] = np.where(ok, np.asarray(self.ad_ids, dtype=object)[np.maximum(idx, 0)], None)
            scores[known] = np.where(ok, val, -np.inf)
        return Retrieved(ads, scores)


def _csr(graph: GraphView, etype: EdgeType, shape: tuple[int, int]) -> sp.csr_matrix:
    """Weighted (unweighted: 1.0) float64 CSR of ``etype``; parallel edges add up."""
    e = graph.coo(etype)
    w = e.weight if e.weight is not None else np.ones(len(e), np.float32)
    return sp.csr_matrix((np.asarray(w, np.float64), (e.src, e.dst)), shape=shape)


class CoClickRetriever(BaseRetriever):
    """Co-click heuristic baseline: clicked ads, then co-clicked ads, then popular ads.

    Args:
        graph: a search-ads graph (:func:`vastgraph.ads.graph_build.build_ads_graph`).
        click_etype: the query→ad click edge type. Default ``("query", "click", "ad")``.
        coclick_etype: the ad–ad co-click edge type (None or absent: no co-click tier).
            Default ``("ad", "coclick", "ad")``.
        batch_size: queries scored at once (dense ``batch × n_ads`` rows). Default 512.

    Scores per query ``q`` with click row ``c_q`` and co-click matrix ``A``: see the module docstring
    (``s = c_q A`` restricted to ads not clicked for ``q``; popularity = total clicks of the ad).

    Example:
        >>> # see the module docstring
    """

    def __init__(self, graph: GraphView, *, click_etype: Any = CLICK, coclick_etype: Any = COCLICK,
                 batch_size: int = 512) -> None:
        self.batch_size = check_int("batch_size", batch_size, 1)
        try:
            et = graph.edge_type(click_etype)
        except (SchemaError, KeyError, ValueError) as exc:
            raise SchemaError(f"click_etype={click_etype!r}: not an edge type of the graph ({exc})") from None
        self.query_type, self.ad_type = et.src, et.dst
        self.query_ids = np.asarray(graph.external_ids(et.src), dtype=object)
        self.ad_ids = np.asarray(graph.external_ids(et.dst), dtype=object)
        nq, na = self.query_ids.size, self.ad_ids.size
        self._clicks = _csr(graph, et, (nq, na))
        self._coclick = None
        if coclick_etype is not None and any(tuple(e) == tuple(coclick_etype) for e in graph.edge_types):
            ce = graph.edge_type(coclick_etype)
            if ce.src != et.dst or ce.dst != et.dst:
                raise ValidationError(f"coclick_etype={coclick_etype!r}: expected an {et.dst}–{et.dst} edge type")
            self._coclick = _csr(graph, ce, (na, na))
        pop = np.asarray(self._clicks.sum(axis=0)).ravel()
        self._popular = pop / (pop.max() + 1.0) if pop.size else pop

    def _scores(self, qpos: np.ndarray) -> np.ndarray:
        c = self._clicks[qpos]
        direct = c.toarray()
        out = np.broadcast_to(self._popular, direct.shape).copy()
        if self._coclick is not None:
            co = (c @ self._coclick).toarray()
            co[direct > 0] = 0.0
            mx = co.max(axis=1, keepdims=True) if co.size else co
            has = co > 0
            out = np.where(has, 1.0 + co / np.where(mx > 0, mx, 1.0), out)
        mx = direct.max(axis=1, keepdims=True) if direct.size else direct
        return np.where(direct > 0, 2.0 + direct / np.where(mx > 0, mx, 1.0), out)


class EmbeddingRetriever(BaseRetriever):
    """Nearest ads of each query in an embedding space (exact faiss search over the ad vectors).

    Args:
        keyed: a :class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings` holding both node types.
        query_type, ad_type: node type names. Defaults ``"query"``, ``"ad"``.
        metric: ``"cosine"`` or ``"dot"``. Default ``"cosine"``.

    Scores: ``cos(x_q, x_a)`` or ``x_q · x_a``.

    Example:
        >>> r = EmbeddingRetriever.from_vectors(["q"], [[1.0, 0.0]], ["a", "b"], [[0.0, 1.0], [1.0, 0.1]])
        >>> r.retrieve(["q"], 1).ads.tolist()
        [['b']]
    """

    def __init__(self, keyed: Any, query_type: str = "query", ad_type: str = "ad", metric: str = "cosine") -> None:
        if metric not in ("cosine", "dot"):
            raise ValidationError(f"metric={metric!r}: expected 'cosine' or 'dot'")
        types = list(getattr(keyed, "node_types", []))
        for name, nt in (("query_type", query_type), ("ad_type", ad_type)):
            if nt not in types:
                raise SchemaError(f"{name}={nt!r}: not a node type of the embeddings; they have {types}")
        self.keyed, self.query_type, self.ad_type, self.metric = keyed, query_type, ad_type, metric
        self.query_ids = np.asarray(keyed.ids_for(query_type), dtype=object)
        self.ad_ids = np.asarray(keyed.ids_for(ad_type), dtype=object)
        self._ad_start = int(keyed.offsets[types.index(ad_type)])

    @classmethod
    def from_vectors(cls, query_ids: Any, query_vectors: Any, ad_ids: Any, ad_vectors: Any,
                     metric: str = "cosine", meta: dict[str, Any] | None = None) -> "EmbeddingRetriever":
        """A retriever over separate query and ad vectors (e.g. a GNN's outputs or a homogeneous embedding).

        Integer ids are kept; other ids are keyed (and returned) as strings.
        """
        from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

        q, a = as_id_array(query_ids, "query_ids"), as_id_array(ad_ids, "ad_ids")
        qv, av = np.asarray(query_vectors, dtype=np.float32), np.asarray(ad_vectors, dtype=np.float32)
        if qv.ndim != 2 or av.ndim != 2 or qv.shape[0] != q.size or av.shape[0] != a.size or qv.shape[1] != av.shape[1]:
            raise ValidationError(f"query_vectors {qv.shape} and ad_vectors {av.shape}: expected ({q.size}, d) "
                                  f"and ({a.size}, d) with the same d")
        def keys(ids: np.ndarray) -> np.ndarray:  # int ids stay ints; anything else becomes str
            nat = np.asarray(ids.tolist())
            return nat.astype(np.int64) if nat.dtype.kind in "iu" else ids.astype(str)

        kv = KeyedEmbeddings(np.concatenate([qv, av]), ["query", "ad"], [0, q.size, q.size + a.size],
                             {"query": keys(q), "ad": keys(a)}, meta)
        return cls(kv, "query", "ad", metric)

    def _top(self, qpos: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        vecs = np.asarray(self.keyed.vectors_for(self.query_type))[qpos]
        scores, rows = self.keyed.search(vecs, k, ntype=self.ad_type, metric=self.metric)
        idx = np.full((qpos.size, k), -1, np.int64)
        val = np.full((qpos.size, k), -np.inf)
        idx[:, :rows.shape[1]] = np.where(rows >= 0, rows - self._ad_start, -1)
        val[:, :rows.shape[1]] = np.where(rows >= 0, scores, -np.inf)
        return idx, val


class ScoreRetriever(BaseRetriever):
    """Exact top-K ads by a pair scorer, scoring every (query, ad) pair in batches.

    Args:
        score_fn: ``score_fn(u, v) -> (n,)`` scores (higher is better) of int64 id arrays ``u, v``.
        query_ids, ad_ids: external ids of the catalogs ``(n_q,)``, ``(n_a,)``.
        query_index, ad_index: the ids ``score_fn`` expects for them (default ``arange``).
        batch_pairs: pairs scored per call. Default ``2**18``.

    Example:
        >>> r = ScoreRetriever(lambda u, v: -np.abs(u - v).astype(float), ["q0", "q1"], ["a0", "a1", "a2"])
        >>> r.retrieve(["q1"], 2).ads.tolist()
        [['a1', 'a0']]
    """

    def __init__(self, score_fn: Callable[[np.ndarray, np.ndarray], Any], query_ids: Any, ad_ids: Any, *,
                 query_index: Any = None, ad_index: Any = None, batch_pairs: int = 2**18) -> None:
        if not callable(score_fn):
            raise ValidationError(f"score_fn={score_fn!r}: expected a callable score_fn(u, v) -> scores")
        self.score_fn = score_fn
        self.query_ids, self.ad_ids = as_id_array(query_ids, "query_ids"), as_id_array(ad_ids, "ad_ids")
        self._qi = self._index("query_index", query_index, self.query_ids.size)
        self._ai = self._index("ad_index", ad_index, self.ad_ids.size)
        self.batch_pairs = check_int("batch_pairs", batch_pairs, 1)
        self.batch_size = max(1, self.batch_pairs // max(1, self.ad_ids.size))

    @staticmethod
    def _index(name: str, index: Any, n: int) -> np.ndarray:
        if index is None:
            return np.arange(n, dtype=np.int64)
        arr = np.asarray(index)
        if arr.shape != (n,) or arr.dtype.kind not in "iu":
            raise ValidationError(f"{name}: {arr.dtype}{arr.shape}; expected {n} integer ids")
        return arr.astype(np.int64)

    @classmethod
    def from_graph(cls, score_fn: Callable[[np.ndarray, np.ndarray], Any], graph: GraphView, query_type: str = "query",
                   ad_type: str = "ad", **kwargs: Any) -> "ScoreRetriever":
        """Catalogs from ``graph``; ``score_fn`` receives global node ids (``graph.node_offsets()``)."""
        offs = graph.node_offsets()
        for name, nt in (("query_type", query_type), ("ad_type", ad_type)):
            if nt not in offs:
                raise SchemaError(f"{name}={nt!r}: not a node type of the graph; it has {list(offs)}")
        nq, na = graph.num_nodes(query_type), graph.num_nodes(ad_type)
        return cls(score_fn, graph.external_ids(query_type), graph.external_ids(ad_type),
                   query_index=offs[query_type] + np.arange(nq), ad_index=offs[ad_type] + np.arange(na), **kwargs)

    def _scores(self, qpos: np.ndarray) -> np.ndarray:
        na = self._ai.size
        s = np.asarray(self.score_fn(np.repeat(self._qi[qpos], na), np.tile(self._ai, qpos.size)), dtype=np.float64)
        if s.shape != (qpos.size * na,):
            raise ValidationError(f"score_fn returned shape {s.shape}; expected ({qpos.size * na},)")
        return np.where(np.isnan(s), -np.inf, s).reshape(qpos.size, na)


class RelevanceRetriever(BaseRetriever):
    """Oracle: the ads of highest hidden relevance (ties in random order), live by ``day`` if given.

    Args:
        world: an :class:`~vastgraph.ads.world.AdsWorld`.
        day: only ads with ``first_day <= day``. Default None (all).
        random_state: tie-breaking seed. Default 0.
    """

    def __init__(self, world: Any, *, day: int | None = None, random_state: Any = 0) -> None:
        self.world = world
        self.query_ids = np.asarray(world.queries["query"].to_numpy(), dtype=object)
        ads = world.ads
        if day is not None:
            ads = ads[ads["first_day"].to_numpy() <= check_int("day", day, 0)]
        self.ad_ids = np.asarray(ads["ad"].to_numpy(), dtype=object)
        self._jitter = 1e-6 * np.random.default_rng(int(seed_from(random_state))).random(self.ad_ids.size)

    def _scores(self, qpos: np.ndarray) -> np.ndarray:
        return self.world.relevance_matrix(self.query_ids[qpos], self.ad_ids).astype(np.float64) + self._jitter


class RandomRetriever(BaseRetriever):
    """Uniformly random distinct ads per query (the lower reference); scores are the random keys.

    Args:
        query_ids, ad_ids: catalogs. random_state: seed of the draws. Default 0.
    """

    def __init__(self, query_ids: Any, ad_ids: Any, *, random_state: Any = 0) -> None:
        self.query_ids, self.ad_ids = as_id_array(query_ids, "query_ids"), as_id_array(ad_ids, "ad_ids")
        self._rng = np.random.default_rng(int(seed_from(random_state)))

    def _scores(self, qpos: np.ndarray) -> np.ndarray:
        return self._rng.random((qpos.size, self.ad_ids.size))


# ---------------------------------------------------------------------- metrics
def _gain_source(relevance: Any, queries: np.ndarray, universe: np.ndarray | None,
                 gain_column: str | None) -> tuple[Callable[[slice], np.ndarray], np.ndarray]:
    """``(gains(rows) -> (m, |U|) float64 for queries[rows], universe)``."""
    if hasattr(relevance, "relevance_matrix"):  # an AdsWorld
        uni = universe if universe is not None else as_id_array(relevance.ads["ad"].to_numpy(), "ads")
        return (lambda sl: relevance.relevance_matrix(queries[sl], uni).astype(np.float64)), uni
    if isinstance(relevance, pd.DataFrame):
        col = gain_column or next((c for c in ("gain", "relevance", "click", "clicks") if c in relevance.columns), None)
        if col is None or not {"query", "ad"} <= set(relevance.columns):
            raise ValidationError(f"relevance table: columns {list(relevance.columns)}; expected 'query', 'ad' "
                                  "and a gain column ('gain', 'relevance' or 'click')")
        tab = relevance[relevance[col].to_numpy(dtype=np.float64) > 0]
        tab = tab.groupby(["query", "ad"], sort=False)[col].sum().reset_index()
        t_ads = tab["ad"].to_numpy(dtype=object)
        uni = (pd.unique(t_ads) if universe is None
               else np.concatenate([universe, np.setdiff1d(pd.unique(t_ads).astype(object), universe)]))
        uni = np.asarray(uni, dtype=object)
        rows = pd.Index(queries).get_indexer(tab["query"].to_numpy(dtype=object))
        cols = pd.Index(uni).get_indexer(t_ads)
        keep = rows >= 0
        mat = sp.csr_matrix((tab[col].to_numpy(np.float64)[keep], (rows[keep], cols[keep])),
                            shape=(queries.size, uni.size))
        return (lambda sl: mat[sl].toarray()), uni
    if callable(relevance):
        if universe is None:
            raise ValidationError("ads: a relevance function needs the ad universe (ads=...) or a retriever "
                                  "with an ad_ids catalog")
        def gains(sl: slice) -> np.ndarray:
            q = queries[sl]
            g = np.asarray(relevance(np.repeat(q, universe.size), np.tile(universe, q.size)), dtype=np.float64)
            return g.reshape(q.size, universe.size)
        return gains, universe
    raise ValidationError(f"relevance: got {type(relevance).__name__}; expected an AdsWorld, a (query, ad) -> gain "
                          "function or a DataFrame with query, ad and gain columns")


def _ranking_metrics(ret_ads: np.ndarray, queries: np.ndarray, gains: Callable[[slice], np.ndarray],
                     universe: np.ndarray, k_values: tuple[int, ...], threshold: float,
                     batch_size: int) -> tuple[dict[str, float], int, int]:
    kmax = ret_ads.shape[1]
    uidx = pd.Index(universe)
    col = uidx.get_indexer(np.where(pd.isna(ret_ads), "\x00<pad>", ret_ads).ravel()).reshape(ret_ads.shape)
    disc = 1.0 / np.log2(np.arange(2, kmax + 2))
    rec_sum = {k: 0.0 for k in k_values}
    ndcg_sum = {k: 0.0 for k in k_values}
    n_rec = n_ndcg = 0
    for lo in range(0, queries.size, batch_size):  # query batches, each vectorised
        sl = slice(lo, min(lo + batch_size, queries.size))
        g = gains(sl)
        c = col[sl]
        gr = np.where(c >= 0, np.take_along_axis(g, np.maximum(c, 0), axis=1), 0.0)
        rel_ret = gr >= threshold - 1e-12
        n_rel = (g >= threshold - 1e-12).sum(axis=1)
        kk = min(kmax, g.shape[1])
        ideal = -np.sort(-g, axis=1)[:, :kk] if kk else np.zeros((g.shape[0], 0))
        has_rel, has_ideal = n_rel > 0, ideal.sum(axis=1) > 0 if kk else np.zeros(g.shape[0], bool)
        n_rec += int(has_rel.sum())
        n_ndcg += int(has_ideal.sum())
        for k in k_values:
            hits = rel_ret[:, :k].sum(axis=1)
            rec_sum[k] += float((hits[has_rel] / n_rel[has_rel]).sum())
            dcg = (gr[:, :k] * disc[:k]).sum(axis=1)
            idcg = (ideal[:, :k] * disc[:min(k, kk)]).sum(axis=1)
            ndcg_sum[k] += float((dcg[has_ideal] / idcg[has_ideal]).sum())
    out = {}
    for k in k_values:
        out[f"recall@{k}"] = rec_sum[k] / n_rec if n_rec else float("nan")
        out[f"ndcg@{k}"] = ndcg_sum[k] / n_ndcg if n_ndcg else float("nan")
    return out, n_rec, n_ndcg


def evaluate_retrieval(retriever: Any, queries: Any, k_values: Any = (10, 20, 50, 100), relevance: Any = None,
                       next_day_clicks: pd.DataFrame | None = None, *, threshold: float = 1.0, ads: Any = None,
                       unknown: str = "raise", batch_size: int = 512) -> dict[str, Any]:
    """recall@K and nDCG@K of a retriever against hidden relevance and/or next-day clicks.

    Args:
        retriever: anything with ``retrieve(query_ids, k)`` (:class:`Retriever`).
        queries: external query ids to evaluate ``(n,)``.
        k_values: cut-offs (integers >= 1). Default ``(10, 20, 50, 100)``.
        relevance: an :class:`~vastgraph.ads.world.AdsWorld` (its hidden relevance), a function
            ``f(query_ids, ad_ids) -> gains``, or a DataFrame with ``query``, ``ad`` and a gain column
            (``gain``/``relevance``/``click``; pairs not listed have gain 0). None: skip.
        next_day_clicks: events (``query``, ``ad``, ``click``) of a later day: gains = clicks of the
            pair, relevant = clicked at least once. None: skip.
        threshold: least gain of a relevant ad for ``relevance`` (1.0 = same leaf category in an
            AdsWorld). Default 1.0.
        ads: the ad universe for recall denominators and ideal DCG; default the retriever's
            ``ad_ids`` (the ads it can return), else the world's catalog. Ads listed in a gain table
            are always part of it.
        unknown: passed to ``retrieve`` (``"raise"`` or ``"empty"``: an unknown query retrieves nothing).
        batch_size: queries per metric batch. Default 512.

    Returns:
        ``{"recall@K", "ndcg@K", "n_queries"}`` for ``relevance`` and ``{"click_recall@K",
        "click_ndcg@K", "n_click_queries"}`` for ``next_day_clicks`` (``n_*``: queries with at least
        one relevant ad, the ones averaged; NaN metrics when there are none).

    Example:
        >>> r = ScoreRetriever(lambda u, v: (v == 1).astype(float), ["q"], ["a", "b", "c"])
        >>> table = pd.DataFrame({"query": ["q", "q"], "ad": ["b", "c"], "gain": [1.0, 1.0]})
        >>> m = evaluate_retrieval(r, ["q"], k_values=(1,), relevance=table)
        >>> m["recall@1"], m["ndcg@1"]
        (0.5, 1.0)
    """
    if not hasattr(retriever, "retrieve"):
        raise ValidationError(f"retriever: got {type(retriever).__name__}; expected an object with retrieve(query_ids, k)")
    q = as_id_array(queries, "queries")
    if q.size == 0:
        raise EmptyInputError("queries: empty; expected at least one query id")
    ks = tuple(np.atleast_1d(np.asarray(k_values, dtype=object)).tolist())
    if not ks:
        raise ValidationError(f"k_values={k_values!r}: expected at least one integer >= 1")
    ks = tuple(sorted({check_int("k_values", k, 1) for k in ks}))
    thr = check_float("threshold", threshold, low=0.0)
    bs = check_int("batch_size", batch_size, 1)
    if relevance is None and next_day_clicks is None:
        raise ValidationError("relevance and next_day_clicks are both None; expected at least one ground truth")
    if next_day_clicks is not None and (not isinstance(next_day_clicks, pd.DataFrame)
                                        or not {"query", "ad", "click"} <= set(next_day_clicks.columns)):
        raise ValidationError("next_day_clicks: expected a DataFrame with 'query', 'ad' and 'click' columns")
    uni = as_id_array(ads, "ads") if ads is not None else (
        as_id_array(retriever.ad_ids, "ads") if getattr(retriever, "ad_ids", None) is not None else None)
    if unknown not in UNKNOWN_POLICIES:
        raise ValidationError(f"unknown={unknown!r}: expected one of {', '.join(UNKNOWN_POLICIES)}")
    ret = (retriever.retrieve(q, ks[-1], unknown=unknown) if isinstance(retriever, BaseRetriever)
           else retriever.retrieve(q, ks[-1]))
    ret_ads = np.asarray(ret[0], dtype=object)
    if ret_ads.shape[0] != q.size or ret_ads.ndim != 2:
        raise ValidationError(f"retriever returned ads of shape {ret_ads.shape}; expected ({q.size}, {ks[-1]})")
    out: dict[str, Any] = {}
    if relevance is not None:
        gains, universe = _gain_source(relevance, q, uni, None)
        m, n_rec, _ = _ranking_metrics(ret_ads, q, gains, universe, ks, thr, bs)
        out.update(m)
        out["n_queries"] = n_rec
    if next_day_clicks is not None:
        gains, universe = _gain_source(next_day_clicks[["query", "ad", "click"]], q, uni, "click")
        m, n_rec, _ = _ranking_metrics(ret_ads, q, gains, universe, ks, 1.0, bs)
        out.update({f"click_{key}": v for key, v in m.items()})
        out["n_click_queries"] = n_rec
    return out
