"""node2vec: skip-gram with negative sampling over second-order (p, q) biased random walks.

Grover & Leskovec, *node2vec: Scalable Feature Learning for Networks*, KDD 2016.

Having moved ``t → v``, the walk steps to a neighbour ``x`` of ``v`` with probability

    P(x | t, v) ∝ w(v, x) · α(t, x),   α = 1/p if x = t,  1 if x ∈ N(t),  1/q otherwise,

(low ``q``: outward, DFS-like, homophily; low ``p``: stay local, BFS-like, structural roles),
drawn by rejection sampling in :func:`vastgraph.sampling.walks.random_walks`, so no per-edge
transition tables are built (memory O(edges), unlike the reference implementation's O(Σ deg²)).
The walks are then trained exactly as DeepWalk's (:mod:`vastgraph.embed.deepwalk`).
"""

from __future__ import annotations

from typing import Any

from vastgraph.embed.deepwalk import DeepWalk
from vastgraph.validation import ProgressFn, check_float


class Node2Vec(DeepWalk):
    """node2vec node embeddings: (p, q) walks + skip-gram with negative sampling.

    Args:
        dimensions: embedding size ``d``. Default 128.
        walks_per_node: walks started from every node. Default 10.
        walk_length: steps per walk. Default 80.
        window: maximum skip-gram window. Default 10.
        negative: negative samples per positive pair. Default 5.
        epochs: passes over the walks. Default 1.
        lr: initial learning rate (linear decay). Default 0.025.
        min_count: nodes seen fewer times in the walks are not trained. Default 0.
        subsample: word2vec's frequent-node down-sampling threshold (0 = off). Default 0.
        p: return parameter (> 0). Default 1.
        q: in-out parameter (> 0). Default 1.
        etype: the edge type to walk; default the only one.
        weighted: walk ∝ edge weights (None: when the edge type has weights). Default None.
        shared_negatives: share negatives across a window (see :mod:`vastgraph.embed.sgns`). Default True.
        random_state: None, an int or a ``numpy.random.Generator``. Default None.
        progress: optional ``progress(done_fraction, mean_loss)`` during training. Default None.

    Attributes:
        embedding_, context_, losses_, keyed_: as :class:`~vastgraph.embed.deepwalk.DeepWalk`.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_edges([0, 1, 2, 3], [1, 2, 3, 0])
        >>> m = Node2Vec(dimensions=8, walks_per_node=2, walk_length=5, p=0.25, q=4.0, random_state=0)
        >>> m.fit(b.build()).embedding_.shape
        (4, 8)
    """

    def __init__(self, dimensions: int = 128, walks_per_node: int = 10, walk_length: int = 80,
                 window: int = 10, negative: int = 5, epochs: int = 1, lr: float = 0.025,
                 min_count: int = 0, subsample: float = 0.0, p: float = 1.0, q: float = 1.0,
                 etype: Any = None, weighted: bool | None = None, shared_negatives: bool = True,
                 random_state: Any = None, progress: ProgressFn | None = None) -> None:
        super().__init__(dimensions=dimensions, walks_per_node=walks_per_node, walk_length=walk_length,
                         window=window, negative=negative, epochs=epochs, lr=lr, min_count=min_count,
                         subsample=subsample, etype=etype, weighted=weighted,
                         shared_negatives=shared_negatives, random_state=random_state, progress=progress)
        self.p = p
        self.q = q

    def _pq(self) -> tuple[float, float]:
        return check_float("p", self.p), check_float("q", self.q)
