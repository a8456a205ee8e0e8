"""metapath2vec / metapath2vec++: skip-gram over metapath-guided walks of a heterogeneous graph.

Dong, Chawla, Swami, *metapath2vec: Scalable Representation Learning for Heterogeneous Networks*,
KDD 2017.

Walks follow a metapath of edge types (e.g. query → ad → query:
``["query:click:ad", "~query:click:ad"]``, see :func:`vastgraph.sampling.metapath.metapath_walks`),
so every node's context mixes node types in a controlled pattern. The skip-gram objective is
DeepWalk's (:mod:`vastgraph.embed.sgns`) over global node ids. metapath2vec++
(``type_aware_negatives=True``) makes the softmax heterogeneous: the negatives for a centre node
``c`` of type ``t`` are drawn from the unigram^0.75 distribution of type-``t`` nodes only,

    log σ(x_u · y_c) + Σ_{n=1..k} log σ(−x_u · y_n),   y_n ~ P_t(n) ∝ count(n)^0.75, type(n) = t,

which keeps "easy" negatives of another type from dominating the gradient.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from vastgraph.embed.deepwalk import WalkEmbedder, split_seeds
from vastgraph.validation import ProgressFn
from vastgraph.errors import ValidationError

if TYPE_CHECKING:
    from vastgraph.graph.view import GraphView


class Metapath2Vec(WalkEmbedder):
    """metapath2vec(++) node embeddings of a heterogeneous graph.

    Args:
        metapath: edge types of one metapath cycle, e.g. ``["author:writes:paper",
            "~author:writes:paper"]`` (``"~"``: walked from destination to source).
        dimensions: embedding size ``d``. Default 128.
        walks_per_node: walks from every node of the metapath's first type. Default 10.
        walk_length: steps per walk. Default 80.
        window: maximum skip-gram window (the paper used 7). Default 7.
        negative: negative samples per positive pair. Default 5.
        epochs: passes over the walks. Default 1.
        lr: initial learning rate (linear decay). Default 0.025.
        min_count: nodes seen fewer times in the walks are not trained. Default 0.
        subsample: word2vec's frequent-node down-sampling threshold (0 = off). Default 0.
        type_aware_negatives: metapath2vec++ (negatives of the centre's node type). Default True.
        weighted: walk ∝ edge weights (None: where the edge type has weights). Default None.
        shared_negatives: share negatives across a window (see :mod:`vastgraph.embed.sgns`). Default True.
        random_state: None, an int or a ``numpy.random.Generator``. Default None.
        progress: optional ``progress(done_fraction, mean_loss)`` during training. Default None.

    Attributes:
        embedding_: float32 ``(N, d)`` over all node types, in global node-id order; nodes that
            no walk visits keep their random initial vectors.
        context_, losses_, keyed_: as :class:`~vastgraph.embed.deepwalk.DeepWalk`.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder()
        >>> _ = b.add_edges([0, 1, 1], [0, 0, 1], etype=("query", "click", "ad"))
        >>> m = Metapath2Vec(["click", "~click"], dimensions=8, walk_length=6, random_state=0)
        >>> m.fit(b.build()).embedding_.shape
        (4, 8)
    """

    def __init__(self, metapath: Sequence[Any], dimensions: int = 128, walks_per_node: int = 10,
                 walk_length: int = 80, window: int = 7, negative: int = 5, epochs: int = 1,
                 lr: float = 0.025, min_count: int = 0, subsample: float = 0.0,
                 type_aware_negatives: bool = True, weighted: bool | None = None,
                 shared_negatives: bool = True, random_state: Any = None,
                 progress: ProgressFn | None = None) -> None:
        self.metapath = metapath
        self.dimensions = dimensions
        self.walks_per_node = walks_per_node
        self.walk_length = walk_length
        self.window = window
        self.negative = negative
        self.epochs = epochs
        self.lr = lr
        self.min_count = min_count
        self.subsample = subsample
        self.type_aware_negatives = type_aware_negatives
        self.weighted = weighted
        self.shared_negatives = shared_negatives
        self.random_state = random_state
        self.progress = progress

    def fit(self, graph: GraphView) -> "Metapath2Vec":
        """Walk the metapath over ``graph`` and train the skip-gram vectors; returns ``self``."""
        from vastgraph.sampling.metapath import metapath_walks

        kwargs = self._sgns_kwargs()
        if not isinstance(self.type_aware_negatives, (bool, np.bool_)):
            raise ValidationError(f"type_aware_negatives={self.type_aware_negatives!r}: expected True or False")
        walk_seed, train_seed = split_seeds(self.random_state, 2)
        walks = metapath_walks(graph, self.metapath, walks_per_node=self.walks_per_node,
                               walk_length=self.walk_length, weighted=self.weighted, random_state=walk_seed)
        groups = None
        if self.type_aware_negatives:
            counts = [graph.num_nodes(t) for t in graph.node_types]
            groups = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        self._train(graph, walks, kwargs, train_seed, groups)
        return self
