"""DeepWalk: skip-gram with negative sampling over uniform random walks.

Perozzi, Al-Rfou, Skiena, *DeepWalk: Online Learning of Social Representations*, KDD 2014 (the
paper used hierarchical softmax; this is the negative-sampling form that node2vec and most later
work use, Mikolov et al. 2013).

From every node, ``walks_per_node`` walks of ``walk_length`` steps
(:func:`vastgraph.sampling.walks.random_walks`); every walk position ``i`` and context ``j`` with
``0 < |i − j| ≤ b`` (``b`` uniform in ``1..window``) is a training pair for
:func:`vastgraph.embed.sgns.train_sgns`, which maximises

    Σ_(u, c) [ log σ(x_u · y_c) + Σ_{n=1..k} log σ(−x_u · y_n) ],   y_n ~ count^0.75,

and ``embedding_`` is ``x``. Cost: ``O(walks · length · window · (k + 1) · d)``; memory
``O(walks · length)`` int32 for the walks plus two ``N × d`` float32 matrices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from vastgraph.embed.base import Embedder
from vastgraph.embed.sgns import SGNSResult, train_sgns
from vastgraph.validation import ProgressFn, check_float, check_int, check_progress
from vastgraph.errors import ValidationError
from vastgraph.seeding import seed_from

if TYPE_CHECKING:
    from vastgraph.graph.view import GraphView


def json_params(params: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameters as JSON-able values for an artifact's metadata (objects become their type name)."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if v is None or isinstance(v, (bool, int, float, str)):
            out[k] = v
        elif isinstance(v, (np.integer, np.floating)):
            out[k] = v.item()
        elif isinstance(v, (list, tuple)) and all(isinstance(e, (str, int, float)) for e in v):
            out[k] = list(v)
        else:
            out[k] = type(v).__name__
    return out


def split_seeds(random_state: Any, n: int) -> list[int]:
    """``n`` independent 63-bit seeds from one ``random_state``."""
    rng = np.random.default_rng(int(seed_from(random_state)))
    return [int(s) for s in rng.integers(0, 2**63 - 1, size=n)]


class WalkEmbedder(Embedder):
    """Shared machinery of the walk-based skip-gram embedders (DeepWalk, node2vec, metapath2vec).

    Subclasses store their hyperparameters (at least the SGNS ones: ``dimensions``, ``window``,
    ``negative``, ``epochs``, ``lr``, ``min_count``, ``subsample``, ``shared_negatives``,
    ``progress``) and call :meth:`_train` with their walks.
    """

    def _sgns_kwargs(self) -> dict[str, Any]:
        if not isinstance(self.shared_negatives, (bool, np.bool_)):
            raise ValidationError(f"shared_negatives={self.shared_negatives!r}: expected True or False")
        return dict(
            dimensions=check_int("dimensions", self.dimensions, 1),
            window=check_int("window", self.window, 1),
            negative=check_int("negative", self.negative, 0),
            epochs=check_int("epochs", self.epochs, 1),
            lr=check_float("lr", self.lr),
            min_count=check_int("min_count", self.min_count, 0),
            subsample=check_float("subsample", self.subsample, low_open=False),
            shared_negatives=bool(self.shared_negatives),
            progress=check_progress(self.progress))

    def _train(self, graph: GraphView, walks: np.ndarray, kwargs: dict[str, Any], seed: int,
               groups: np.ndarray | None = None) -> SGNSResult:
        """Train on global-id walks and set ``embedding_``, ``context_``, ``losses_``, ``keyed_``."""
        from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

        n = graph.num_nodes_total()
        res = train_sgns(walks, n, groups=groups, random_state=seed, **kwargs)
        self.keyed_ = KeyedEmbeddings.from_graph(
            graph, res.vectors, meta={"method": type(self).__name__, "params": json_params(self.get_params()),
                                      "pairs": res.pairs}, copy=False)
        self.embedding_ = self.keyed_.vectors
        self.context_ = res.context
        self.losses_ = res.losses
        return res


def to_global(walks: np.ndarray, offset: int, n_total: int) -> np.ndarray:
    """Dense ids of one node type → global ids (``-1`` padding kept)."""
    if offset == 0:
        return walks
    dtype = np.int32 if n_total <= np.iinfo(np.int32).max else np.int64
    return np.where(walks >= 0, walks.astype(dtype) + dtype(offset), dtype(-1)).astype(dtype)


class DeepWalk(WalkEmbedder):
    """DeepWalk node embeddings: uniform random walks + skip-gram with negative sampling.

    See the module docstring for the objective. On a heterogeneous graph the walks follow one
    edge type (``etype``, same node type at both ends); rows of other node types keep their
    random initial vectors.

    Args:
        dimensions: embedding size ``d``. Default 128.
        walks_per_node: walks started from every node. Default 10.
        walk_length: steps per walk (a walk holds ``walk_length + 1`` nodes). Default 80.
        window: maximum skip-gram window. Default 10.
        negative: negative samples per positive pair. Default 5.
        epochs: passes over the walks. Default 1.
        lr: initial learning rate, decayed linearly to ``lr · 1e-4``. Default 0.025.
        min_count: nodes seen fewer times in the walks are not trained. Default 0.
        subsample: word2vec's frequent-node down-sampling threshold (0 = off). Default 0.
        etype: the edge type to walk; default the only one.
        weighted: walk ∝ edge weights (None: when the edge type has weights). Default None.
        shared_negatives: share negatives across a window (pWord2Vec; see
            :mod:`vastgraph.embed.sgns`). Default True.
        random_state: None, an int or a ``numpy.random.Generator``. Default None.
        progress: optional ``progress(done_fraction, mean_loss)`` during training. Default None.

    Attributes:
        embedding_: float32 ``(N, d)`` in global node-id order (read-only, shared with ``keyed_``).
        context_: float32 ``(N, d)`` context vectors.
        losses_: mean loss per pair of each training block.
        keyed_: the :class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings` artifact.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_edges([0, 1, 2, 3], [1, 2, 3, 0])
        >>> DeepWalk(dimensions=8, walks_per_node=2, walk_length=5, random_state=0).fit(b.build()).embedding_.shape
        (4, 8)
    """

    def __init__(self, dimensions: int = 128, walks_per_node: int = 10, walk_length: int = 80,
                 window: int = 10, negative: int = 5, epochs: int = 1, lr: float = 0.025,
                 min_count: int = 0, subsample: float = 0.0, etype: Any = None,
                 weighted: bool | None = None, shared_negatives: bool = True,
                 random_state: Any = None, progress: ProgressFn | None = None) -> None:
        self.dimensions = dimensions
        self.walks_per_node = walks_per_node
        self.walk_length = walk_length
        self.window = window
        self.negative = negative
        self.epochs = epochs
        self.lr = lr
        self.min_count = min_count
        self.subsample = subsample
        self.etype = etype
        self.weighted = weighted
        self.shared_negatives = shared_negatives
        self.random_state = random_state
        self.progress = progress

    def _pq(self) -> tuple[float, float]:
        return 1.0, 1.0

    def fit(self, graph: GraphView) -> "DeepWalk":
        """Walk ``graph`` and train the skip-gram vectors; returns ``self``."""
        from vastgraph.sampling.walks import random_walks

        kwargs = self._sgns_kwargs()
        p, q = self._pq()
        et = graph.edge_type(self.etype)
        walk_seed, train_seed = split_seeds(self.random_state, 2)
        walks = random_walks(graph, walks_per_node=self.walks_per_node, walk_length=self.walk_length,
                             etype=et, p=p, q=q, weighted=self.weighted, random_state=walk_seed)
        walks = to_global(walks, graph.node_offsets()[et.src], graph.num_nodes_total())
        self._train(graph, walks, kwargs, train_seed)
        return self
