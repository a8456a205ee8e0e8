"""How well embedding distances keep a graph's structure: reconstruction mAP and average distortion.

* :func:`reconstruction_map` — the mean average precision of Nickel & Kiela, "Poincaré Embeddings
  for Learning Hierarchical Representations" (NeurIPS 2017), §4.1: for a node ``u`` with graph
  neighbours ``N(u)``, rank all other nodes by embedding distance to ``u``; for each ``v ∈ N(u)``
  let ``R_{u,v}`` be the nodes at most as far from ``u`` as ``v`` (ties count against the
  embedding); ``AP(u) = 1/|N(u)| Σ_{v∈N(u)} |N(u) ∩ R_{u,v}| / |R_{u,v}|`` and
  ``mAP = mean_u AP(u)`` over nodes with at least one neighbour.
* :func:`average_distortion` — Gu, Sala, Gunel & Ré, "Learning Mixed-Curvature Representations in
  Product Spaces" (ICLR 2019), §5: ``D_avg = mean_{pairs} |d_emb(u,v) − d_G(u,v)| / d_G(u,v)``,
  which is the same as ``mean |d_emb/d_G − 1|``; optionally after the best global scale ``c`` of
  the embedding distances (``argmin_c Σ |c·d_emb/d_G − 1|``, a weighted median), since an
  embedding trained by negative sampling has no fixed unit of length.
* :func:`graph_distances` / :func:`sample_distance_pairs` — hop distances by BFS
  (``scipy.sparse.csgraph.shortest_path``, unweighted) from sampled sources, paired with the
  embedding distances of the same node pairs.

Embedding distances are given either as a dense ``(N, N)`` matrix or as a callable
``fn(u, v) -> (m,)`` on int64 arrays of node ids (element-wise pairs; e.g.
``MixedCurvature.distance``), evaluated here in chunks of sources.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numba as nb
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from vastgraph.validation import check_int
from vastgraph.errors import ValidationError
from vastgraph.seeding import seed_from

if TYPE_CHECKING:
    from vastgraph.graph.schema import EdgeType
    from vastgraph.graph.view import GraphView

DistanceFn = Callable[[np.ndarray, np.ndarray], Any]
SCALES = ("best",)
_CHUNK_ENTRIES = 1 << 22  # distance entries evaluated per chunk of sources


def _check_graph(graph: GraphView, etype: Any) -> tuple[EdgeType, int]:
    et = graph.edge_type(etype)
    if et.src != et.dst:
        raise ValidationError(f"etype={et}: expected an edge type within one node type (distances are "
                              "between nodes of one type)")
    return et, graph.num_nodes(et.src)


def _symmetric_adjacency(graph: GraphView, et: EdgeType, n: int) -> sp.csr_array:
    """Undirected 0/1 adjacency of ``et`` without self-loops (CSR, int32 indices)."""
    e = graph.coo(et)
    rows, cols = e.src, e.dst
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    a = sp.csr_array((np.ones(2 * rows.size, dtype=np.float64), (np.r_[rows, cols], np.r_[cols, rows])),
                     shape=(n, n))
    a.sum_duplicates()
    a.data[:] = 1.0
    return a


def _distance_rows(dist: Any, sources: np.ndarray, n: int) -> Callable[[np.ndarray], np.ndarray]:
    """``rows(chunk) -> (len(chunk), n)`` float64 embedding distances from the chunk's sources."""
    if callable(dist):
        def rows(chunk: np.ndarray) -> np.ndarray:
            u = np.repeat(chunk.astype(np.int64), n)
            v = np.tile(np.arange(n, dtype=np.int64), chunk.size)
            out = dist(u, v)
            if hasattr(out, "detach"):
                out = out.detach().cpu().numpy()
            out = np.asarray(out, dtype=np.float64)
            if out.shape != (u.size,):
                raise ValidationError(f"dist_matrix_or_fn: the callable returned shape {out.shape} for "
                                      f"{u.size} pairs; expected ({u.size},)")
            return out.reshape(chunk.size, n)
        return rows
    d = np.asarray(dist)
    if d.ndim != 2 or d.shape != (n, n):
        raise ValidationError(f"dist_matrix_or_fn: shape {d.shape}; expected ({n}, {n}) (one row and column per "
                              "node) or a callable fn(u, v)")
    if d.dtype.kind not in "fiu":
        raise ValidationError(f"dist_matrix_or_fn: dtype {d.dtype}; expected numbers")

    def rows_m(chunk: np.ndarray) -> np.ndarray:
        return np.asarray(d[chunk], dtype=np.float64)
    return rows_m


def _pick_sources(n: int, max_sources: int | None, random_state: Any) -> np.ndarray:
    if max_sources is None or n <= max_sources:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(int(seed_from(random_state)))
    return np.sort(rng.choice(n, size=max_sources, replace=False)).astype(np.int64)


@nb.njit(nogil=True, cache=True, parallel=True)
def _average_precisions(D, src, indptr, indices):  # pragma: no cover - numba
    """AP of each source row of ``D`` (s, n) against its neighbours (CSR rows ``src``); NaN if none."""
    s = D.shape[0]
    out = np.full(s, np.nan)
    for i in nb.prange(s):
        u = src[i]
        lo, hi = indptr[u], indptr[u + 1]
        k = hi - lo
        if k == 0:
            continue
        row = D[i].copy()
        row[u] = np.inf  # u itself is not ranked
        srt = np.sort(row)
        nd = np.empty(k)
        for j in range(k):
            nd[j] = row[indices[lo + j]]
        nds = np.sort(nd)
        acc = 0.0
        for j in range(k):
            dv = nd[j]
            if not np.isfinite(dv):
                continue  # a neighbour at infinite/NaN distance is never retrieved: precision 0
            r = np.searchsorted(srt, dv, side="right")   # |R_{u,v}|: nodes at most as far as v
            kk = np.searchsorted(nds, dv, side="right")  # neighbours among them
            acc += kk / r
        out[i] = acc / k
    return out


def reconstruction_map(dist_matrix_or_fn: Any, graph: GraphView, *, etype: Any = None,
                       max_sources: int | None = None, random_state: Any = 0) -> float:
    """Mean average precision of graph neighbours ranked by embedding distance (Nickel & Kiela 2017).

    For each source ``u`` (all nodes, or ``max_sources`` sampled ones) with neighbours ``N(u)``
    (``etype`` taken as undirected, self-loops ignored):
    ``AP(u) = 1/|N(u)| Σ_{v∈N(u)} |N(u) ∩ R_{u,v}| / |R_{u,v}|`` with
    ``R_{u,v} = {w ≠ u : d(u, w) <= d(u, v)}``; the result is the mean over sources with
    ``|N(u)| >= 1``. Ties count against the embedding, so constant distances give the chance level
    ``≈ |N(u)| / (N − 1)``; a perfect ranking gives 1.

    Args:
        dist_matrix_or_fn: ``(N, N)`` embedding distances, or ``fn(u, v) -> (m,)`` for int64 id arrays
            (numpy or torch output), N = nodes of the edge type's node type (dense ids).
        graph: the graph (an edge type within one node type).
        etype: the edge type (None: the only one).
        max_sources: evaluate on this many uniformly sampled sources (None: all). Default None.
        random_state: seed of the source sample. Default 0.

    Returns:
        mAP in [0, 1].

    Example:
        >>> from vastgraph.graph.builder import GraphBuilder
        >>> b = GraphBuilder(directed=False, id_mode="dense"); _ = b.add_edges([0, 1, 2], [1, 2, 3])
        >>> x = np.arange(4.0)
        >>> reconstruction_map(np.abs(x[:, None] - x[None, :]), b.build())
        1.0
    """
    et, n = _check_graph(graph, etype)
    if max_sources is not None:
        max_sources = check_int("max_sources", max_sources, 1)
    a = _symmetric_adjacency(graph, et, n)
    if a.nnz == 0:
        raise ValidationError(f"reconstruction_map: edge type {et} has no edges (other than self-loops)")
    sources = _pick_sources(n, max_sources, random_state)
    rows = _distance_rows(dist_matrix_or_fn, sources, n)
    indptr = a.indptr.astype(np.int64)
    indices = a.indices.astype(np.int64)
    chunk = max(1, _CHUNK_ENTRIES // max(n, 1))
    aps = []
    for lo in range(0, sources.size, chunk):
        c = sources[lo:lo + chunk]
        aps.append(_average_precisions(rows(c), c, indptr, indices))
    ap = np.concatenate(aps)
    ap = ap[~np.isnan(ap)]
    if ap.size == 0:
        raise ValidationError("reconstruction_map: none of the sampled sources has a neighbour; raise "
                              "max_sources")
    return float(ap.mean())


def graph_distances(graph: GraphView, sources: Any, *, etype: Any = None) -> np.ndarray:
    """Hop distances from ``sources`` to every node (BFS, edges undirected); ``inf`` if unreachable.

    Args:
        graph: the graph (an edge type within one node type).
        sources: dense node ids ``(s,)``.
        etype: the edge type (None: the only one).

    Returns:
        float64 ``(s, N)``.

    Example:
        >>> from vastgraph.graph.builder import GraphBuilder
        >>> b = GraphBuilder(directed=False, id_mode="dense"); _ = b.add_edges([0, 1, 2], [1, 2, 3])
        >>> graph_distances(b.build(), [0]).tolist()
        [[0.0, 1.0, 2.0, 3.0]]
    """
    et, n = _check_graph(graph, etype)
    src = np.asarray(sources)
    if src.ndim != 1 or src.dtype.kind not in "iu":
        raise ValidationError(f"sources: shape {src.shape}, dtype {src.dtype}; expected a 1-D integer array")
    if src.size and (src.min() < 0 or src.max() >= n):
        bad = src[(src < 0) | (src >= n)][0]
        raise ValidationError(f"sources: node id {int(bad)} out of range [0, {n})")
    if src.size == 0:
        return np.zeros((0, n))
    a = _symmetric_adjacency(graph, et, n)
    return np.atleast_2d(shortest_path(a, directed=False, unweighted=True, indices=src.astype(np.int64)))


def sample_distance_pairs(dist_matrix_or_fn: Any, graph: GraphView, *, etype: Any = None, n_sources: int = 64,
                          random_state: Any = 0) -> tuple[np.ndarray, np.ndarray]:
    """Embedding and graph distances of the pairs (source, other node) from sampled sources.

    Sources are drawn uniformly without replacement (all nodes when ``n_sources >= N``); for each,
    every other node reachable from it gives one pair. Pairs are ordered (both ``(u, v)`` and
    ``(v, u)`` may appear when both are sources).

    Args:
        dist_matrix_or_fn: ``(N, N)`` distances or ``fn(u, v) -> (m,)`` (see :func:`reconstruction_map`).
        graph: the graph.
        etype: the edge type (None: the only one).
        n_sources: BFS sources, >= 1. Default 64.
        random_state: seed of the source sample. Default 0.

    Returns:
        ``(emb_dist, graph_dist)``: float64 ``(m,)`` each, ``graph_dist >= 1``.
    """
    et, n = _check_graph(graph, etype)
    n_sources = check_int("n_sources", n_sources, 1)
    sources = _pick_sources(n, n_sources, random_state)
    gd = graph_distances(graph, sources, etype=et)
    ed = _distance_rows(dist_matrix_or_fn, sources, n)(sources)
    keep = np.isfinite(gd) & (gd > 0)
    return ed[keep], gd[keep]


def _best_scale(ratio: np.ndarray) -> float:
    """``argmin_c Σ_i |c·r_i − 1|`` = the weighted median of ``1/r_i`` with weights ``r_i``."""
    pos = ratio > 0
    if not pos.any():
        return 1.0
    r = ratio[pos]
    x = 1.0 / r
    order = np.argsort(x)
    x, w = x[order], r[order]
    cw = np.cumsum(w)
    i = int(np.searchsorted(cw, 0.5 * cw[-1]))
    return float(x[min(i, x.size - 1)])


def average_distortion(emb_dist: Any, graph_dist: Any, *, scale: Any = None) -> float:
    """Average distortion ``mean |c·d_emb / d_G − 1|`` over pairs (Gu et al., ICLR 2019, §5).

    ``|c·d_emb − d_G| / d_G``; 0 for an isometric embedding. With ``scale=None`` the distances are
    compared as they are (``c = 1``, the definition of Gu et al.); ``scale="best"`` uses the
    ``c > 0`` minimising the average (closed form: a weighted median of ``d_G/d_emb``), for
    embeddings without a fixed unit of length; a positive number is used as ``c``.

    Args:
        emb_dist: embedding distances ``(m,)`` (>= 0, finite).
        graph_dist: graph distances ``(m,)`` of the same pairs (> 0, finite).
        scale: None, ``"best"`` or a positive number. Default None.

    Returns:
        The average distortion (>= 0).

    Example:
        >>> average_distortion([1.0, 2.0, 6.0], [1, 2, 3])
        0.3333333333333333
    """
    e = np.asarray(emb_dist, dtype=np.float64)
    g = np.asarray(graph_dist, dtype=np.float64)
    if e.ndim != 1 or e.shape != g.shape:
        raise ValidationError(f"emb_dist shape {e.shape} and graph_dist shape {g.shape}: expected two equal 1-D "
                              "arrays")
    if e.size == 0:
        raise ValidationError("emb_dist: no pairs; expected at least one")
    if not np.isfinite(e).all() or (e < 0).any():
        raise ValidationError("emb_dist: holds negative, NaN or infinite values; expected finite distances >= 0")
    if not np.isfinite(g).all() or (g <= 0).any():
        raise ValidationError("graph_dist: holds values <= 0, NaN or inf; expected finite positive distances "
                              "(drop the pair (u, u) and unreachable pairs)")
    ratio = e / g
    if scale is None:
        c = 1.0
    elif isinstance(scale, str):
        if scale not in SCALES:
            raise ValidationError(f"scale={scale!r}: expected None, 'best' or a positive number")
        c = _best_scale(ratio)
    elif isinstance(scale, (int, float, np.integer, np.floating)) and not isinstance(scale, bool) \
            and np.isfinite(scale) and scale > 0:
        c = float(scale)
    else:
        raise ValidationError(f"scale={scale!r}: expected None, 'best' or a positive number")
    return float(np.mean(np.abs(c * ratio - 1.0)))
