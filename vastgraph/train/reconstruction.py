"""Graph reconstruction: how many of the most similar node pairs are edges (precision@K).

The protocol of SDNE (Wang, Cui, Zhu, KDD 2016) and GEM (Goyal & Ferrara, 2018): rank all candidate
node pairs by the similarity of their vectors and report, for each ``K``, the fraction of the top
``K`` pairs that are edges of the graph. Candidates are the pairs of the edge type's node types:
unordered ``u < v`` for an undirected type within one node type, ordered ``u ≠ v`` for a directed
one, all ``(u, v)`` between two node types. Above ``max_nodes`` nodes per type a seeded uniform
sample of ``max_nodes`` nodes is used (pairs and edges among the sampled nodes only). Ties in
similarity are broken by pair order (row-major), so results are deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.train.node_classification import _check_vectors, l2_normalize

if TYPE_CHECKING:
    from vastgraph.graph.schema import EdgeType
    from vastgraph.graph.view import GraphView

SIMILARITIES = ("dot", "cosine")


@dataclass(frozen=True)
class ReconstructionResult:
    """Precision@K of :func:`evaluate_reconstruction`.

    Attributes:
        precision: ``{K: fraction of the top-K pairs that are edges}``; a ``K`` above the number of
            candidate pairs is evaluated over all pairs.
        n_nodes: nodes used (after sampling; source + destination types when they differ).
        n_pairs: candidate pairs ranked.
        n_edges: candidate pairs that are edges (``n_edges / n_pairs`` is the chance level).
        sampled: whether nodes were sampled.
    """

    precision: dict[int, float] = field(default_factory=dict)
    n_nodes: int = 0
    n_pairs: int = 0
    n_edges: int = 0
    sampled: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Flat dict: ``precision@K..., n_nodes, n_pairs, n_edges, sampled``."""
        out: dict[str, Any] = {f"precision@{k}": v for k, v in self.precision.items()}
        out.update({"n_nodes": self.n_nodes, "n_pairs": self.n_pairs, "n_edges": self.n_edges,
                    "sampled": self.sampled})
        return out


def _sub_adjacency(graph: GraphView, et: EdgeType, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Dense boolean ``(len(rows), len(cols))`` adjacency among the chosen rows and columns.

    One chunked pass over the edge type's edges (:meth:`GraphView.iter_edges`), so memory stays
    ``O(chunk + rows · cols)`` whatever the graph's size.
    """
    out = np.zeros((rows.size, cols.size), dtype=bool)
    row_pos = np.full(graph.num_nodes(et.src), -1, dtype=np.int64)
    row_pos[rows] = np.arange(rows.size)
    col_pos = np.full(graph.num_nodes(et.dst), -1, dtype=np.int64)
    col_pos[cols] = np.arange(cols.size)
    for chunk in graph.iter_edges(et):
        r, c = row_pos[chunk.src], col_pos[chunk.dst]
        keep = (r >= 0) & (c >= 0)
        out[r[keep], c[keep]] = True
    return out


def evaluate_reconstruction(vectors: Any, graph: GraphView, *, etype: Any = None,
                            ks: Sequence[int] = (10, 100, 1000), max_nodes: int = 2048,
                            similarity: str = "dot", random_state: Any = 0) -> ReconstructionResult:
    """Precision@K of reconstructing ``etype``'s edges from vector similarity.

    Args:
        vectors: ``(N, d)`` in global node-id order (an ``embedding_``).
        graph: the graph the vectors embed.
        etype: the edge type to reconstruct (None: the only one).
        ks: cut-offs. Default (10, 100, 1000).
        max_nodes: nodes per node type beyond which a uniform sample is taken (cost
            ``O(max_nodes² · d)``). Default 2048.
        similarity: ``"dot"`` or ``"cosine"``. Default ``"dot"``.
        random_state: seed of the node sample. Default 0.

    Returns:
        :class:`ReconstructionResult`.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False, id_mode="dense")
        >>> _ = b.add_edges([0, 2], [1, 3])
        >>> x = np.array([[1.0, 0], [1, 0], [0, 1], [0, 1]])
        >>> evaluate_reconstruction(x, b.build(), ks=(2,)).precision
        {2: 1.0}
    """
    from vastgraph.seeding import seed_from

    x = _check_vectors(vectors)
    n_total = graph.num_nodes_total()
    if x.shape[0] != n_total:
        raise ValidationError(f"vectors: {x.shape[0]} rows but the graph has {n_total} nodes "
                              "(rows must be in global node-id order)")
    if similarity not in SIMILARITIES:
        raise ValidationError(f"similarity={similarity!r}: expected one of {', '.join(SIMILARITIES)}")
    ks = tuple(ks)
    if not ks:
        raise ValidationError("ks: empty; expected cut-offs >= 1")
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValidationError(f"ks: {k!r} is not an integer >= 1")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, (int, np.integer)) or max_nodes < 2:
        raise ValidationError(f"max_nodes={max_nodes!r}: expected an integer >= 2")
    et = graph.edge_type(etype)
    same = et.src == et.dst
    sym = same and bool(graph.is_undirected(et))
    n_src, n_dst = graph.num_nodes(et.src), graph.num_nodes(et.dst)
    rng = np.random.default_rng(int(seed_from(random_state)))

    def pick(n: int) -> np.ndarray:
        return np.sort(rng.choice(n, size=max_nodes, replace=False)) if n > max_nodes else np.arange(n)

    rows = pick(n_src)
    cols = rows if same else pick(n_dst)
    offsets = graph.node_offsets()
    xs, xd = x[rows + offsets[et.src]], x[cols + offsets[et.dst]]
    if similarity == "cosine":
        xs, xd = l2_normalize(xs), l2_normalize(xd)
    scores = xs @ xd.T
    edges = _sub_adjacency(graph, et, rows, cols)
    if same:
        mask = np.triu(np.ones(scores.shape, dtype=bool), k=1) if sym else ~np.eye(rows.size, dtype=bool)
        scores, edges = scores[mask], edges[mask]
    else:
        scores, edges = scores.ravel(), edges.ravel()
    n_pairs = scores.size
    if n_pairs == 0:
        raise ValidationError(f"evaluate_reconstruction: edge type {et} has no candidate node pairs")
    kmax = min(max(ks), n_pairs)
    if kmax < n_pairs:  # the kmax best, ties at the cut taken in pair order
        thr = scores[np.argpartition(-scores, kmax - 1)[kmax - 1]]
        above = np.flatnonzero(scores > thr)
        top = np.concatenate([above, np.flatnonzero(scores == thr)[:kmax - above.size]])
    else:
        top = np.arange(n_pairs)
    top = top[np.lexsort((top, -scores[top]))]
    hits = np.cumsum(edges[top])
    precision = {int(k): float(hits[min(k, n_pairs) - 1] / min(k, n_pairs)) for k in ks}
    return ReconstructionResult(precision, int(rows.size if same else rows.size + cols.size), int(n_pairs),
                                int(edges.sum()), bool(rows.size < n_src or cols.size < n_dst))
