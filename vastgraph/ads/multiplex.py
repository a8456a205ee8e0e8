"""Retrieval on a real multiplex product graph (GATNE Amazon): the ads metrics on data nobody designed.

Each held-out positive edge ``(u, v)`` of relation ``r`` (the dataset's test split) is a query
``u`` whose relevant items are its held-out ``r``-neighbours. A method scores every item for ``u``;
items already linked to ``u`` by ``r`` in the training graph, and ``u`` itself, are excluded (they
are known, not retrieved); recall@K and nDCG@K (binary gains) are averaged over the queries. The
baseline is the co-neighbour heuristic, the analogue of co-click: items sharing the most
``r``-neighbours with ``u``, then popular items.

Example:
    >>> from vastgraph.graph.builder import GraphBuilder
    >>> b = GraphBuilder(directed=False)
    >>> _ = b.add_nodes("node", ids=np.arange(6))
    >>> _ = b.add_edges([0, 0, 3, 3, 4], [1, 2, 1, 2, 5], etype=("node", "r", "node"))
    >>> g = b.build()
    >>> split = {"src": np.array([0]), "dst": np.array([3]), "etype": np.array([0]), "label": np.array([1])}
    >>> m = evaluate_multiplex_retrieval(g, split, {"co": coneighbour_scorer(g)}, k_values=(1,))
    >>> m["co"]["r"]["recall@1"]
    1.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import scipy.sparse as sp

from vastgraph.errors import EmptyInputError, ValidationError

if TYPE_CHECKING:
    from vastgraph.graph.view import GraphView

#: scorer(query dense ids (m,), edge type) -> scores (m, n_items), higher is better
Scorer = Callable[[np.ndarray, Any], np.ndarray]


def _adjacency(graph: GraphView, etype: Any) -> sp.csr_matrix:
    """0/1 (parallel edges: their count) float32 CSR of ``etype`` over its source type."""
    et = graph.edge_type(etype)
    e = graph.coo(et)
    return sp.csr_matrix((np.ones(len(e), np.float32), (e.src, e.dst)),
                         shape=(graph.num_nodes(et.src), graph.num_nodes(et.dst)))


def coneighbour_scorer(graph: GraphView) -> Scorer:
    """The co-click analogue: shared ``r``-neighbours, ties broken by popularity (degree)."""
    cache: dict[Any, tuple[sp.csr_matrix, np.ndarray]] = {}

    def score(q: np.ndarray, etype: Any) -> np.ndarray:
        if etype not in cache:
            a = _adjacency(graph, etype)
            deg = np.asarray(a.sum(axis=0)).ravel()
            cache[etype] = (a, deg / (deg.max() + 1.0))
        a, pop = cache[etype]
        return (a[q] @ a.T).toarray() + pop[None, :]

    return score


def embedding_scorer(vectors: np.ndarray, metric: str = "cosine") -> Scorer:
    """Scores by cosine or dot product of node vectors (relation-independent)."""
    if metric not in ("cosine", "dot"):
        raise ValidationError(f"metric={metric!r}: expected 'cosine' or 'dot'")
    x = np.asarray(vectors, dtype=np.float32)
    if metric == "cosine":
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return lambda q, etype: x[q] @ x.T


def pair_scorer(score_fn: Callable[[np.ndarray, np.ndarray, Any], np.ndarray], n_items: int) -> Scorer:
    """Scores from a pair function ``score_fn(u, v, etype)`` (e.g. MixedCurvature.score), all items per query."""
    items = np.arange(n_items, dtype=np.int64)

    def score(q: np.ndarray, etype: Any) -> np.ndarray:
        u = np.repeat(q.astype(np.int64), n_items)
        v = np.tile(items, q.size)
        return np.asarray(score_fn(u, v, etype), dtype=np.float64).reshape(q.size, n_items)

    return score


def evaluate_multiplex_retrieval(graph: GraphView, split: dict[str, np.ndarray], scorers: dict[str, Scorer], *,
                                 k_values: tuple[int, ...] = (10, 20, 50), batch_size: int = 256,
                                 max_queries: int | None = None,
                                 random_state: Any = 0) -> dict[str, dict[str, dict[str, float]]]:
    """recall@K / nDCG@K per method and relation on held-out positive edges (see the module docstring).

    Args:
        graph: the training graph (one node type; one undirected edge type per relation).
        split: ``{"src", "dst", "etype", "label"}`` dense ids (the GATNE ``test`` split), ``etype``
            indexing ``graph.edge_types``; rows with ``label == 0`` are ignored.
        scorers: ``{name: scorer}``.
        k_values: cut-offs. batch_size: queries scored at once. max_queries: per relation (sampled).

    Returns:
        ``{method: {relation: {"recall@K", "ndcg@K", "n_queries"}}}``.
    """
    ks = tuple(int(k) for k in k_values)
    if not ks or min(ks) < 1:
        raise ValidationError(f"k_values={k_values}: expected positive integers")
    src, dst = np.asarray(split["src"], np.int64), np.asarray(split["dst"], np.int64)
    et_idx, label = np.asarray(split["etype"], np.int64), np.asarray(split["label"], np.int64)
    if not (src.size == dst.size == et_idx.size == label.size):
        raise ValidationError("split: src, dst, etype and label must have equal lengths")
    rng = np.random.default_rng(random_state)
    etypes = list(graph.edge_types)
    out: dict[str, dict[str, dict[str, float]]] = {name: {} for name in scorers}
    kmax = max(ks)
    discount = 1.0 / np.log2(np.arange(2, kmax + 2))
    for i, et in enumerate(etypes):
        keep = (et_idx == i) & (label == 1)
        if not keep.any():
            continue
        # undirected relation: each held-out edge is relevant from both ends
        pu = np.concatenate([src[keep], dst[keep]])
        pv = np.concatenate([dst[keep], src[keep]])
        n = graph.num_nodes(et.src)
        truth = sp.csr_matrix((np.ones(pu.size, np.float32), (pu, pv)), shape=(n, n))
        truth.data[:] = 1.0
        known = _adjacency(graph, et)
        queries = np.unique(pu)
        if max_queries is not None and queries.size > max_queries:
            queries = np.sort(rng.choice(queries, max_queries, replace=False))
        if queries.size == 0:
            raise EmptyInputError(f"relation {et}: no held-out positive edges")
        for name, scorer in scorers.items():
            hits = {k: [] for k in ks}
            ndcg = {k: [] for k in ks}
            for lo in range(0, queries.size, batch_size):
                q = queries[lo:lo + batch_size]
                s = np.array(scorer(q, et), dtype=np.float64, copy=True)
                if s.shape != (q.size, n):
                    raise ValidationError(f"scorer {name!r} returned shape {s.shape}; expected {(q.size, n)}")
                kn = known[q].tocoo()
                s[kn.row, kn.col] = -np.inf
                s[np.arange(q.size), q] = -np.inf
                top = np.argpartition(-s, kmax - 1, axis=1)[:, :kmax]
                order = np.argsort(-np.take_along_axis(s, top, axis=1), axis=1, kind="stable")
                top = np.take_along_axis(top, order, axis=1)
                rel = np.asarray(truth[q][np.arange(q.size)[:, None], top].todense()) > 0
                n_rel = np.asarray(truth[q].sum(axis=1)).ravel()
                for k in ks:
                    hits[k].append(rel[:, :k].sum(1) / n_rel)
                    dcg = (rel[:, :k] * discount[:k]).sum(1)
                    ideal = np.array([discount[:min(int(r), k)].sum() for r in n_rel])
                    ndcg[k].append(dcg / ideal)
            row = {f"recall@{k}": float(np.concatenate(hits[k]).mean()) for k in ks}
            row.update({f"ndcg@{k}": float(np.concatenate(ndcg[k]).mean()) for k in ks})
            row["n_queries"] = int(queries.size)
            out[name][et.rel] = row
    return out
