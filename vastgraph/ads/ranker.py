"""Retrieval as production does it: several candidate generators, merged, then a learned ranker.

The generators and pair features live in :mod:`vastgraph.ads.candidates`. The ranker is a
scikit-learn ``HistGradientBoostingClassifier`` on the pair features of the merged candidates.
It learns from the past only:

1. :func:`holdout_split` takes the training graph and holds out a fraction of its edges — the
   latest ones (``by="time"``: earlier days → later days) or a random sample (``by="random"``) —
   giving a *history graph* and *label pairs*;
2. embeddings are learned on the history graph, and :meth:`MultiplexRanker.fit` trains on the
   merged candidates of the label pairs' endpoints (label 1: the candidate is a held-out edge);
3. at evaluation the same generators and features are computed on the full training graph (with
   embeddings learned on it) and the ranker orders the candidates of the test queries.

The ranker never sees the evaluated pairs: :meth:`MultiplexRanker.check_disjoint` (called by
:func:`evaluate_ranked`) raises when an evaluated positive is a label pair or an edge of the
history graph, or when the evaluated times do not come after every label time.

:func:`ranked_retriever` is the entry point for the search-ads pipeline: it merges any retrievers
of :mod:`vastgraph.ads.retrieval` (external query / ad ids) and ranks their union with the same
model, trained on a later day's clicks.

Example:
    >>> from vastgraph.graph.builder import GraphBuilder
    >>> rng = np.random.default_rng(0)
    >>> b = GraphBuilder(directed=False)
    >>> _ = b.add_nodes("node", ids=np.arange(60))
    >>> _ = b.add_edges(rng.integers(0, 60, 400), rng.integers(0, 60, 400), etype=("node", "r", "node"))
    >>> g = b.build()
    >>> hist, labels = holdout_split(g, 0.2, random_state=0)
    >>> rk = MultiplexRanker(max_iter=20, random_state=0).fit(RetrievalContext(hist, candidates=10), labels)
    >>> idx, scores = rk.rank(RetrievalContext(g, candidates=10), np.array([0, 1]), 0, 5)
    >>> idx.shape
    (2, 5)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from vastgraph.ads.candidates import RetrievalContext
from vastgraph.errors import EmptyInputError, NotFittedError, ValidationError
from vastgraph.seeding import sklearn_seed
from vastgraph.validation import check_float, check_int

if TYPE_CHECKING:
    from vastgraph.graph.view import GraphView

__all__ = ["MultiplexRanker", "RetrievalContext", "evaluate_ranked", "holdout_split", "ranked_retriever"]


def _pair_keys(r: np.ndarray, u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """Orientation-free int64 keys of ``(relation, {u, v})``."""
    lo, hi = np.minimum(u, v).astype(np.int64), np.maximum(u, v).astype(np.int64)
    return (np.asarray(r, np.int64) * n + lo) * n + hi


def holdout_split(graph: GraphView, fraction: float = 0.1, *, by: str = "random", cutoff: int | None = None,
                  random_state: Any = 0) -> tuple[Any, dict[str, np.ndarray]]:
    """Split a multiplex graph's edges into a history graph and held-out label pairs.

    Args:
        graph: one node type, one edge type per relation.
        fraction: share of each relation's edges held out (0 < f < 1). Default 0.1.
        by: ``"random"`` or ``"time"`` (the latest edges by edge time; needs edge times). Default random.
        cutoff: with ``by="time"``, hold out exactly the edges with ``time >= cutoff`` (whole days)
            instead of a fraction.
        random_state: seed of the random split.

    Returns:
        ``(history graph, labels)``; ``labels`` = ``{"src", "dst", "etype", "label", "time"}`` (dense
        ids, relation index, all labels 1, edge times or -1).
    """
    from vastgraph.graph.builder import GraphBuilder

    frac = check_float("fraction", fraction, 0.0, 1.0, high_open=True)
    if by not in ("random", "time"):
        raise ValidationError(f"by={by!r}: expected 'random' or 'time'")
    ctx_types = {e.src for e in graph.edge_types} | {e.dst for e in graph.edge_types}
    if len(ctx_types) != 1:
        raise ValidationError(f"holdout_split: expected one node type, got {sorted(ctx_types)}")
    ntype = next(iter(ctx_types))
    rng = np.random.default_rng(sklearn_seed(random_state))
    b = GraphBuilder(directed=False)
    b.add_nodes(ntype, ids=graph.external_ids(ntype), features=graph.features(ntype))
    ext = np.asarray(graph.external_ids(ntype))
    lab: dict[str, list[np.ndarray]] = {"src": [], "dst": [], "etype": [], "time": []}
    for r, et in enumerate(graph.edge_types):
        c = graph.coo(et)
        src, dst = np.asarray(c.src, np.int64), np.asarray(c.dst, np.int64)
        t = None if c.time is None else np.asarray(c.time, np.int64)
        keep = src <= dst if graph.is_undirected(et) else np.ones(src.size, bool)
        src, dst = src[keep], dst[keep]
        t = None if t is None else t[keep]
        n_out = int(round(frac * src.size))
        if by == "time":
            if t is None:
                raise ValidationError(f"by='time': edge type {tuple(et)} has no edge times")
            out = (np.flatnonzero(t >= int(cutoff)) if cutoff is not None
                   else np.argsort(t, kind="stable")[src.size - n_out:])
        else:
            out = rng.choice(src.size, n_out, replace=False)
        mask = np.zeros(src.size, bool)
        mask[out] = True
        b.add_edge_type(et, directed=not graph.is_undirected(et))
        if (~mask).any():
            b.add_edges(ext[src[~mask]], ext[dst[~mask]], etype=et, time=None if t is None else t[~mask],
                        weight=None)
        lab["src"].append(src[mask])
        lab["dst"].append(dst[mask])
        lab["etype"].append(np.full(int(mask.sum()), r, np.int64))
        lab["time"].append(t[mask] if t is not None else np.full(int(mask.sum()), -1, np.int64))
    labels = {k: np.concatenate(v) for k, v in lab.items()}
    labels["label"] = np.ones(labels["src"].size, np.int64)
    if labels["src"].size == 0:
        raise EmptyInputError(f"holdout_split: fraction={frac} holds out no edge")
    return b.build(), labels


class MultiplexRanker:
    """Gradient-boosted ranker over the merged candidates of a :class:`RetrievalContext`.

    Args:
        max_queries: label-pair endpoints used as training queries per relation (sampled). Default 1500.
        max_iter, learning_rate, max_leaf_nodes: of ``HistGradientBoostingClassifier``. Defaults 200, 0.1, 31.
        generators: generator names to merge (default every generator of the context).
        random_state: None, an int or a ``numpy.random.Generator``.

    Attributes (after ``fit``): ``model_`` (the classifier), ``feature_names_``, ``label_keys_``
    (sorted pair keys of the label pairs), ``history_keys_`` (of the history graph's edges),
    ``label_time_max_`` (latest label time, or None), ``n_rows_`` / ``n_positive_rows_``.
    """

    def __init__(self, max_queries: int = 1500, max_iter: int = 200, learning_rate: float = 0.1,
                 max_leaf_nodes: int = 31, generators: list[str] | None = None, random_state: Any = 0) -> None:
        self.max_queries = max_queries
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.generators = generators
        self.random_state = random_state

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this MultiplexRanker is not fitted yet; call fit(context, labels) first")

    def training_rows(self, ctx: RetrievalContext, labels: Mapping[str, np.ndarray]
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Candidate rows of the label pairs' endpoints: ``(X, y, relation, u, v)``."""
        mq = check_int("max_queries", self.max_queries, 1)
        rng = np.random.default_rng(sklearn_seed(self.random_state))
        src, dst = np.asarray(labels["src"], np.int64), np.asarray(labels["dst"], np.int64)
        et = np.asarray(labels["etype"], np.int64)
        pos = np.unique(_pair_keys(et, src, dst, ctx.n))
        xs, ys, rs, us, vs = [], [], [], [], []
        for r in range(len(ctx.relations)):
            sel = et == r
            q = np.unique(np.concatenate([src[sel], dst[sel]]))
            if q.size == 0:
                continue
            if q.size > mq:
                q = np.sort(rng.choice(q, mq, replace=False))
            qi, items = ctx.merged_candidates(q, r, self.generators)
            u = q[qi]
            y = np.isin(_pair_keys(np.full(u.size, r), u, items, ctx.n), pos).astype(np.int64)
            xs.append(ctx.features(u, items, r))
            ys.append(y)
            rs.append(np.full(u.size, r, np.int64))
            us.append(u)
            vs.append(items)
        if not xs:
            raise EmptyInputError("MultiplexRanker: the labels hold no pair")
        return (np.concatenate(xs), np.concatenate(ys), np.concatenate(rs), np.concatenate(us), np.concatenate(vs))

    def fit(self, ctx: RetrievalContext, labels: Mapping[str, np.ndarray]) -> "MultiplexRanker":
        """Train on the merged candidates of ``labels``' endpoints in the history context ``ctx``."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        X, y, _, _, _ = self.training_rows(ctx, labels)
        if y.min() == y.max():
            raise EmptyInputError(f"MultiplexRanker: the candidates of the label pairs are all "
                                  f"{'positive' if y[0] else 'negative'}; no ranking to learn")
        names = ctx.feature_names()
        self.model_ = HistGradientBoostingClassifier(
            max_iter=check_int("max_iter", self.max_iter, 1), learning_rate=check_float("learning_rate", self.learning_rate),
            max_leaf_nodes=check_int("max_leaf_nodes", self.max_leaf_nodes, 2),
            categorical_features=[0], random_state=sklearn_seed(self.random_state)).fit(X, y)
        self.feature_names_ = names
        self.label_keys_ = np.unique(_pair_keys(labels["etype"], labels["src"], labels["dst"], ctx.n))
        hk = []
        for r, a in enumerate(ctx.adj):
            c = a.tocoo()
            hk.append(_pair_keys(np.full(c.row.size, r), c.row, c.col, ctx.n))
        self.history_keys_ = np.unique(np.concatenate(hk)) if hk else np.zeros(0, np.int64)
        t = np.asarray(labels.get("time", np.full(len(labels["src"]), -1)), np.int64)
        self.label_time_max_ = int(t.max()) if t.size and t.max() >= 0 else None
        self.n_nodes_ = ctx.n
        self.n_rows_, self.n_positive_rows_ = int(y.size), int(y.sum())
        return self

    def _check_context(self, ctx: RetrievalContext) -> None:
        self._check_fitted()
        if ctx.feature_names() != self.feature_names_:
            raise ValidationError(f"context features {ctx.feature_names()} differ from the ones the ranker "
                                  f"was trained on {self.feature_names_} (same spaces, in the same order)")

    def score_pairs(self, ctx: RetrievalContext, u: Any, v: Any, r: int) -> np.ndarray:
        """Ranker probability that ``(u, v)`` is an ``r``-edge, float64 ``(p,)``."""
        self._check_context(ctx)
        x = ctx.features(u, v, r)
        return self.model_.predict_proba(x)[:, 1].astype(np.float64) if x.shape[0] else np.zeros(0)

    def rank(self, ctx: RetrievalContext, queries: Any, r: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` merged candidates per query by ranker score: ``(items (q, k), scores (q, k))``, -1/-inf padding."""
        q = np.asarray(queries, np.int64)
        k = check_int("k", k, 1)
        qi, items = ctx.merged_candidates(q, r, self.generators)
        s = self.score_pairs(ctx, q[qi], items, r)
        out_i = np.full((q.size, k), -1, np.int64)
        out_s = np.full((q.size, k), -np.inf)
        order = np.lexsort((-s, qi))
        qi, items, s = qi[order], items[order], s[order]
        start = np.searchsorted(qi, np.arange(q.size))
        pos = np.arange(qi.size) - start[qi]
        ok = pos < k
        out_i[qi[ok], pos[ok]] = items[ok]
        out_s[qi[ok], pos[ok]] = s[ok]
        return out_i, out_s

    def scorer(self, ctx: RetrievalContext) -> Any:
        """A :data:`vastgraph.ads.multiplex.Scorer`: ranked candidates first (scores in (1, 2]), every
        other item after them by the co-neighbour score (in [0, 1))."""
        def score(q: np.ndarray, etype: Any) -> np.ndarray:
            r = ctx.relations.index(getattr(etype, "rel", etype))
            q = np.asarray(q, np.int64)
            base = ctx._heuristic_scores("coneighbour", q, r)
            out = base / (base.max(axis=1, keepdims=True) + 1.0)
            qi, items = ctx.merged_candidates(q, r, self.generators)
            out[qi, items] = 1.0 + self.score_pairs(ctx, q[qi], items, r) + 1e-9
            return out
        return score

    def check_disjoint(self, split: Mapping[str, np.ndarray], eval_ctx: RetrievalContext) -> None:
        """Raise if the evaluated positives of ``split`` overlap what the ranker learned from.

        Evaluated positives are the ``label == 1`` pairs that are not edges of the evaluation graph
        (those are known, not retrieved). They must be neither label pairs nor history edges, and
        when both carry times, every evaluated time must come after the latest label time.
        """
        self._check_fitted()
        lab = np.asarray(split["label"], np.int64) == 1
        keys = _pair_keys(np.asarray(split["etype"])[lab], np.asarray(split["src"])[lab],
                          np.asarray(split["dst"])[lab], self.n_nodes_)
        known = np.zeros(keys.size, bool)
        src, dst, et = (np.asarray(split[c])[lab] for c in ("src", "dst", "etype"))
        for r, a in enumerate(eval_ctx.adj):
            sel = et == r
            if sel.any():
                known[sel] = np.asarray(a[src[sel], dst[sel]]).ravel() > 0
        keys = keys[~known]
        for what, ref in (("label pairs", self.label_keys_), ("history-graph edges", self.history_keys_)):
            clash = np.isin(keys, ref)
            if clash.any():
                raise ValidationError(f"leakage: {int(clash.sum())} evaluated positive pair(s) are among the "
                                      f"ranker's {what}; evaluate on pairs it never trained on")
        t = split.get("time")
        if t is not None and self.label_time_max_ is not None:
            tt = np.asarray(t, np.int64)[lab][~known]
            if tt.size and tt.min() <= self.label_time_max_:
                raise ValidationError(f"leakage: evaluated pairs from time {int(tt.min())} are not after the "
                                      f"ranker's latest label time {self.label_time_max_}")


def evaluate_ranked(ranker: MultiplexRanker, ctx: RetrievalContext, split: Mapping[str, np.ndarray], *,
                    k: int = 50, max_queries: int | None = None, importance_repeats: int = 3,
                    random_state: Any = 0) -> dict[str, Any]:
    """Recall@k / nDCG@k of each generator alone and of the ranked merge, per relation, plus the
    ranker's permutation importances on the evaluation candidates.

    Returns ``{"retrieval": {method: {relation: {...}}}, "importance": {feature: mean drop in AP}}``.
    """
    from sklearn.inspection import permutation_importance

    from vastgraph.ads.multiplex import evaluate_multiplex_retrieval

    ranker.check_disjoint(split, ctx)

    def gen_scorer(name: str) -> Any:
        def score(q: np.ndarray, etype: Any) -> np.ndarray:
            r = ctx.relations.index(etype.rel)
            idx, sc = ctx.generate(name, q, r, k)
            out = np.full((q.size, ctx.n), -np.inf)
            rows = np.repeat(np.arange(q.size), idx.shape[1]).reshape(idx.shape)
            ok = idx >= 0
            out[rows[ok], idx[ok]] = np.arange(k, 0, -1)[None, :].repeat(q.size, 0)[ok]
            return out
        return score

    scorers = {f"gen:{name}": gen_scorer(name) for name in (ranker.generators or ctx.generator_names)}
    scorers["ranked"] = ranker.scorer(ctx)
    res = evaluate_multiplex_retrieval(ctx.graph, dict(split), scorers, k_values=(k,), max_queries=max_queries,
                                       random_state=random_state)
    # permutation importance on the evaluation candidates (labels: the split's positives)
    X, y, _, _, _ = ranker.training_rows(ctx, {c: np.asarray(split[c])[np.asarray(split["label"]) == 1]
                                               for c in ("src", "dst", "etype")})
    imp: dict[str, float] = {}
    if y.min() != y.max():
        rng = np.random.default_rng(sklearn_seed(random_state))
        take = rng.choice(y.size, min(y.size, 100_000), replace=False)
        pi = permutation_importance(ranker.model_, X[take], y[take], scoring="average_precision",
                                    n_repeats=check_int("importance_repeats", importance_repeats, 1),
                                    random_state=sklearn_seed(random_state))
        imp = {n: float(v) for n, v in sorted(zip(ranker.feature_names_, pi.importances_mean), key=lambda t: -t[1])}
    return {"retrieval": res, "importance": imp}


class _RankedRetriever:
    """Merged, ranked candidates of several retrievers (see :func:`ranked_retriever`)."""

    def __init__(self, retrievers: Mapping[str, Any], model: Any, candidates: int, extra: Any) -> None:
        self.retrievers, self.model, self.candidates, self.extra = dict(retrievers), model, candidates, extra

    def candidate_table(self, query_ids: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(query position, ad id, features)`` of the merged candidates: per retriever its score and
        reciprocal rank (NaN / 0 when it did not propose the ad), then ``extra(query ids, ad ids)``."""
        from vastgraph.ads.retrieval import as_id_array

        q = as_id_array(query_ids, "query_ids")
        per = {name: r.retrieve(q, self.candidates, unknown="empty") for name, r in self.retrievers.items()}
        rows = {}
        for j, got in enumerate(per.values()):
            for i in range(q.size):
                for rank, (ad, s) in enumerate(zip(got.ads[i], got.scores[i])):
                    if ad is None:
                        break
                    f = rows.setdefault((i, ad), [np.nan, 0.0] * len(per))
                    f[2 * j], f[2 * j + 1] = s, 1.0 / (rank + 1)
        keys = list(rows)
        qpos = np.array([k[0] for k in keys], np.int64)
        ads = np.array([k[1] for k in keys], dtype=object)
        X = np.array([rows[k] for k in keys], np.float64).reshape(len(keys), 2 * len(per))
        if self.extra is not None and len(keys):
            X = np.column_stack([X, np.asarray(self.extra(q[qpos], ads), np.float64)])
        return qpos, ads, X

    def retrieve(self, query_ids: Any, k: int, *, unknown: str = "empty") -> Any:
        from vastgraph.ads.retrieval import Retrieved, as_id_array

        k = check_int("k", k, 1)
        q = as_id_array(query_ids, "query_ids")
        qpos, ads, X = self.candidate_table(q)
        out_a = np.full((q.size, k), None, dtype=object)
        out_s = np.full((q.size, k), -np.inf)
        if qpos.size:
            s = self.model.predict_proba(X)[:, 1]
            order = np.lexsort((-s, qpos))
            qpos, ads, s = qpos[order], ads[order], s[order]
            pos = np.arange(qpos.size) - np.searchsorted(qpos, np.arange(q.size))[qpos]
            ok = pos < k
            out_a[qpos[ok], pos[ok]] = ads[ok]
            out_s[qpos[ok], pos[ok]] = s[ok]
        return Retrieved(out_a, out_s)


def ranked_retriever(train_retrievers: Mapping[str, Any], label_queries: Any, label_ads: Any,
                     eval_retrievers: Mapping[str, Any] | None = None, *, candidates: int = 100,
                     extra: Any = None, max_iter: int = 200, random_state: Any = 0) -> _RankedRetriever:
    """The pipeline's learned ranker over retrievers of :mod:`vastgraph.ads.retrieval`.

    Args:
        train_retrievers: ``{name: retriever}`` built from the days before the label day.
        label_queries, label_ads: external ids of the label day's clicked (query, ad) pairs.
        eval_retrievers: the same retrievers rebuilt with the label day included (default: the
            training ones), which the returned retriever merges at serving time.
        candidates: ads each retriever proposes. extra: optional ``extra(query ids, ad ids) -> (p, f)``
            features (degrees, recency...). max_iter: boosting iterations.

    Returns:
        A retriever (``retrieve(query_ids, k) -> Retrieved``) ranking the merged candidates.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    lq = np.asarray(label_queries, dtype=object)
    la = np.asarray(label_ads, dtype=object)
    if lq.size == 0 or lq.size != la.size:
        raise ValidationError("label_queries / label_ads: expected equal, non-empty sequences of clicked pairs")
    tmp = _RankedRetriever(train_retrievers, None, check_int("candidates", candidates, 1), extra)
    uq = np.array(list(dict.fromkeys(lq.tolist())), dtype=object)
    qpos, ads, X = tmp.candidate_table(uq)
    clicked = set(zip(lq.tolist(), la.tolist()))
    y = np.array([(uq[i], a) in clicked for i, a in zip(qpos.tolist(), ads.tolist())], np.int64)
    if y.size == 0 or y.min() == y.max():
        raise EmptyInputError("ranked_retriever: the candidates of the label pairs hold no ranking to learn "
                              f"({int(y.sum())} positive of {y.size})")
    model = HistGradientBoostingClassifier(max_iter=check_int("max_iter", max_iter, 1),
                                           random_state=sklearn_seed(random_state)).fit(X, y)
    return _RankedRetriever(eval_retrievers or train_retrievers, model, candidates, extra)
