"""Incremental DeepWalk / node2vec: re-walk only where the graph changed, train only what moved.

DeepWalk (Perozzi et al., KDD 2014) and node2vec (Grover & Leskovec, KDD 2016) learn skip-gram
vectors from random walks. After a delta, walks that never come near a change have the same
distribution as before, so only the walks whose distribution changed need redrawing. This is
the incremental scheme of DNE's walk-based discussion (Du et al., IJCAI 2018, §4) and of dynamic
node2vec (Mahdavi et al., *dynnode2vec*, 2018): the nodes whose neighbourhood changed — the
delta's touched nodes and their one-hop neighbours, plus the new nodes — are the *affected* set.

:meth:`IncrementalWalkEmbedder.partial_fit`:

1. apply the delta (:func:`~vastgraph.graph.delta.apply_delta`);
2. draw ``walks_per_node`` fresh walks (same ``walk_length``, ``p``, ``q``) from each affected node;
3. continue SGNS on those walks' (centre, context) pairs, maximising
   ``log σ(w_u · c_centre) + Σ_n log σ(−w_u · c_n)``, with the rows of every unaffected node frozen
   (never written; a pair whose two nodes are both frozen is skipped), so unaffected vectors stay
   bit-identical and the cost is ``O(affected · walks_per_node · walk_length · window · k · d)``.

New nodes start from the mean input vector of their old neighbours plus word2vec-size noise (and
the mean context vector), or word2vec's initialisation when they have none. Negatives in updates
come from ``degree^0.75`` kept in a Fenwick tree (:class:`~vastgraph.embed.dne_kernels.FenwickNoise`,
``O(log N)`` per changed node): the visit frequency of uniform walks on an undirected graph is
proportional to degree, so this is the unigram noise of the walk tokens that ``fit`` uses
(:func:`~vastgraph.embed.sgns.train_sgns`) without an ``O(N)`` rebuild per update.

Example:
    >>> from vastgraph.graph import GraphBuilder
    >>> from vastgraph.graph.delta import GraphDelta
    >>> b = GraphBuilder(directed=False)
    >>> _ = b.add_edges([0, 1, 2, 3], [1, 2, 3, 0])
    >>> model = IncrementalWalkEmbedder(dimensions=8, walk_length=5, walks_per_node=2, random_state=0)
    >>> kv = model.fit(b.build()).partial_fit(GraphDelta().add_nodes("node", [4]).add_edges([4], [0])).keyed_
    >>> kv.vectors.shape
    (5, 8)
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numba as nb
import numpy as np

from vastgraph.embed.base import Embedder
from vastgraph.embed.deepwalk import split_seeds, to_global
from vastgraph.embed.dne import (UpdateReport, _degrees, _entries, apply_update, check_layout, followed_graph,
                                 read_state, restore_params, state_params, store_version_of, write_state)
from vastgraph.embed.dne_kernels import (FenwickNoise, GrowableRows, global_ids, old_mask, row_cosines,
                                         seed_for_update, type_counts, walk_sgns_block)
from vastgraph.embed.sgns import _SIG_TABLE, _SOFTPLUS_TABLE, train_sgns
from vastgraph.validation import ProgressFn, check_float, check_int, check_progress
from vastgraph.errors import CorruptStoreError, ValidationError

METHODS = ("deepwalk", "node2vec")


class IncrementalWalkEmbedder(Embedder):
    """DeepWalk / node2vec embeddings that a delta updates by re-walking only the changed region.

    See the module docstring for the update rule and its cost.

    Args:
        method: ``"deepwalk"`` (uniform walks; ``p``/``q`` must stay 1) or ``"node2vec"``. Default "deepwalk".
        dimensions: embedding size ``d``. Default 128.
        walk_length: steps per walk. Default 80.
        walks_per_node: walks started from every node in ``fit`` and from every affected node
            in an update. Default 10.
        window: maximum skip-gram window. Default 10.
        p: node2vec return parameter (> 0). Default 1.
        q: node2vec in-out parameter (> 0). Default 1.
        negative: negatives per pair. Default 5.
        epochs: passes over the walks (in ``fit`` and in each update). Default 1.
        lr: initial learning rate, linear decay to ``lr · 1e-4``. Default 0.025.
        etype: the edge type to walk (same node type at both ends); default the only one.
        random_state: None, an int or a ``numpy.random.Generator``. Default None.
        progress: optional ``progress(done_fraction, mean_loss)``. Default None.

    Attributes:
        embedding_: float32 ``(N, d)`` in global node-id order (read-only view of the live vectors).
        context_: float32 ``(N, d)`` context vectors.
        keyed_: :class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings` (a view; copy to keep a snapshot).
        graph_: the graph seen so far. ``last_update_``: :class:`~vastgraph.embed.dne.UpdateReport`.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_edges([0, 1, 2], [1, 2, 0])
        >>> IncrementalWalkEmbedder(dimensions=4, walk_length=4, walks_per_node=2,
        ...                         random_state=0).fit(b.build()).embedding_.shape
        (3, 4)
    """

    def __init__(self, method: str = "deepwalk", dimensions: int = 128, walk_length: int = 80,
                 walks_per_node: int = 10, window: int = 10, p: float = 1.0, q: float = 1.0, negative: int = 5,
                 epochs: int = 1, lr: float = 0.025, etype: Any = None, random_state: Any = None,
                 progress: ProgressFn | None = None) -> None:
        self.method = method
        self.dimensions = dimensions
        self.walk_length = walk_length
        self.walks_per_node = walks_per_node
        self.window = window
        self.p = p
        self.q = q
        self.negative = negative
        self.epochs = epochs
        self.lr = lr
        self.etype = etype
        self.random_state = random_state
        self.progress = progress

    def _checked(self) -> dict[str, Any]:
        if self.method not in METHODS:
            raise ValidationError(f"method={self.method!r}: expected one of {', '.join(METHODS)}")
        p, q = check_float("p", self.p), check_float("q", self.q)
        if self.method == "deepwalk" and (p != 1.0 or q != 1.0):
            raise ValidationError(f"p={self.p!r}, q={self.q!r}: method='deepwalk' walks uniformly; "
                                  "use method='node2vec' for p/q walks")
        return dict(d=check_int("dimensions", self.dimensions, 1), length=check_int("walk_length", self.walk_length, 1),
                    wpn=check_int("walks_per_node", self.walks_per_node, 1),
                    window=check_int("window", self.window, 1), k=check_int("negative", self.negative, 0),
                    epochs=check_int("epochs", self.epochs, 1), lr=check_float("lr", self.lr), p=p, q=q,
                    progress=check_progress(self.progress))

    def _walks(self, graph: Any, start: Any, prm: dict[str, Any], seed: int) -> np.ndarray:
        from vastgraph.sampling.walks import random_walks

        et = graph.edge_type(self.etype)
        walks = random_walks(graph, start=start, walks_per_node=prm["wpn"], walk_length=prm["length"], etype=et,
                             p=prm["p"], q=prm["q"], random_state=seed)
        return to_global(walks, graph.node_offsets()[et.src], graph.num_nodes_total())

    # ------------------------------------------------------------------ fit
    def fit(self, graph: Any) -> "IncrementalWalkEmbedder":
        """Walk every node of ``graph`` and train SGNS (:func:`~vastgraph.embed.sgns.train_sgns`); returns ``self``."""
        prm = self._checked()
        base_seed, walk_seed, train_seed = split_seeds(self.random_state, 3)
        et = graph.edge_type(self.etype)
        walks = self._walks(graph, None, prm, walk_seed)
        n = graph.num_nodes_total()
        res = train_sgns(walks, n, dimensions=prm["d"], window=prm["window"], negative=prm["k"],
                         epochs=prm["epochs"], lr=prm["lr"], random_state=train_seed, progress=prm["progress"])
        rows = GrowableRows(prm["d"], n, matrices=("W", "C"), columns=("deg",))
        rows.resize_layout(list(graph.node_types), {}, type_counts(graph))
        rows.W[:] = res.vectors
        rows.C[:] = res.context
        self._rows, self._ets, self._base_seed, self._n_updates = rows, [et], int(base_seed), 0
        all_rows = np.arange(n, dtype=np.int64)
        rows.deg[:] = _degrees(graph, self._ets, all_rows)[0]
        self._noise = FenwickNoise(rows.deg, rows.capacity)
        self.losses_ = res.losses
        self.pairs_ = int(res.pairs)
        self._publish(graph)
        return self

    def _publish(self, graph: Any) -> None:
        from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

        types = list(graph.node_types)
        offs = np.zeros(len(types) + 1, dtype=np.int64)
        for i, t in enumerate(types):
            offs[i + 1] = offs[i] + graph.num_nodes(t)
        meta = {"method": "IncrementalWalkEmbedder", "params": state_params(self.get_params()),
                "updates": self._n_updates}
        self.keyed_ = KeyedEmbeddings._trusted(self._rows.W, types, offs,
                                               {t: graph.id_index(t) for t in types}, meta)
        self.embedding_ = self.keyed_.vectors
        self.context_ = self._rows.C
        self.graph_ = graph
        self._counts = type_counts(graph)

    # ------------------------------------------------------------------ update
    def partial_fit(self, delta: Any, *, time_policy: str = "reject",
                    missing: str = "raise") -> "IncrementalWalkEmbedder":
        """Apply a delta, re-walk from the affected nodes and train them; returns ``self``.

        Args:
            delta: a :class:`~vastgraph.graph.delta.GraphDelta`, or ``(new_graph, DeltaSummary)``.
            time_policy: ``"reject"`` or ``"allow"`` edges older than the graph's latest time.
            missing: ``"raise"`` or ``"ignore"`` deletions of absent edges.

        Returns:
            ``self``; the updated vectors are ``keyed_`` (a rejected delta leaves the model unchanged).
        """
        self.check_is_fitted()
        prm = self._checked()
        t0 = time.perf_counter()
        graph, summary = apply_update(self.graph_, delta, time_policy, missing)
        rows = self._rows
        old_counts = self._counts
        if rows.resize_layout(list(graph.node_types), old_counts, type_counts(graph)) or \
                self._noise.capacity < rows.capacity:
            self._noise = FenwickNoise(rows.deg, rows.capacity)
        et = self._ets[0]
        offs = graph.node_offsets()
        a, n_t = offs[et.src], graph.num_nodes(et.src)
        new_g = np.unique(global_ids(graph, summary.new_nodes))
        touched = np.unique(np.concatenate([global_ids(graph, summary.touched), new_g]))
        touched = touched[(touched >= a) & (touched < a + n_t)]
        new_w = new_g[(new_g >= a) & (new_g < a + n_t)]
        deg = _degrees(graph, self._ets, touched)[0]
        rows.full("deg")[touched] = deg
        self._noise.set(touched, deg)
        self.graph_ = graph
        _, nb_out, _ = _entries(graph, self._ets, touched, None, "out")
        nb_in, _, _ = _entries(graph, self._ets, touched, None, "in")
        affected = np.unique(np.concatenate([touched, nb_out, nb_in]))
        is_old = old_mask(graph, affected, old_counts)
        W, C = rows.full("W"), rows.full("C")
        seed = seed_for_update(int(self.random_state) if isinstance(self.random_state, (int, np.integer))
                               and not isinstance(self.random_state, bool) else self._base_seed,
                               self._n_updates + 1)
        walk_seed, init_seed, train_seed = split_seeds(int(seed), 3)
        self._init_new(graph, new_w, W, C, prm["d"], init_seed)
        old_aff = affected[is_old]
        W_old = W[old_aff].copy()
        walks = (self._walks(graph, affected - a, prm, walk_seed) if affected.size
                 else np.zeros((0, prm["length"] + 1), np.int32))
        pairs = 0
        rows.free[affected] = 1
        try:
            if walks.shape[0]:
                pairs = self._train_walks(walks, prm, np.uint64(train_seed))
        finally:
            rows.free[affected] = 0
        if not (np.isfinite(W[affected]).all() and np.isfinite(C[affected]).all()):
            raise ValidationError(f"update diverged (non-finite vectors); lower lr={self.lr}")
        self._n_updates += 1
        self._publish(graph)
        n_old = rows.n - new_g.size
        touched_old = touched[old_mask(graph, touched, old_counts)]
        moved = ~np.isin(old_aff, touched_old)
        n_unchanged = n_old - touched_old.size
        cos_sum = float(row_cosines(W[old_aff[moved]], W_old[moved]).sum()) if moved.any() else 0.0
        unchanged = (cos_sum + (n_unchanged - int(moved.sum()))) / n_unchanged if n_unchanged > 0 else 1.0
        self.last_update_ = UpdateReport(new_g, old_aff, np.full(old_aff.size, np.nan), int(affected.size),
                                         int(walks.shape[0]), int(pairs), time.perf_counter() - t0,
                                         float(unchanged))
        return self

    def _train_walks(self, walks: np.ndarray, prm: dict[str, Any], seed: np.uint64) -> int:
        rows = self._rows
        n_walks = walks.shape[0]
        rng = np.random.default_rng(int(seed))
        block = max(1, int(math.ceil(n_walks * 0.05)))
        chunk = max(1, min(256, block // (4 * nb.get_num_threads())))
        loss_out = np.zeros((block + chunk - 1) // chunk, np.float64)
        pairs_out = np.zeros_like(loss_out, dtype=np.int64)
        total = float(prm["epochs"] * n_walks)
        pairs_total, losses = 0, []
        for ep in range(prm["epochs"]):
            order = rng.permutation(n_walks).astype(np.int64)
            ep_seed = np.uint64((int(seed) + 0x9E3779B97F4A7C15 * (ep + 1)) % (1 << 64))
            for lo in range(0, n_walks, block):
                hi = min(n_walks, lo + block)
                loss_out[:] = 0.0
                pairs_out[:] = 0
                walk_sgns_block(walks, order, lo, hi, rows.full("W"), rows.full("C"), rows.free, self._noise.tree,
                                self._noise.total(), rows.n, prm["window"], prm["k"], prm["lr"], 1e-4,
                                float(ep * n_walks), total, ep_seed, chunk, loss_out, pairs_out, _SIG_TABLE,
                                _SOFTPLUS_TABLE)
                npairs = int(pairs_out.sum())
                pairs_total += npairs
                losses.append(float(loss_out.sum() / npairs) if npairs else float("nan"))
                if prm["progress"] is not None:
                    prm["progress"]((ep * n_walks + hi) / total, losses[-1])
        self.losses_ = np.asarray(losses, np.float64)
        return pairs_total

    def _init_new(self, graph: Any, new_g: np.ndarray, W: np.ndarray, C: np.ndarray, d: int, seed: int) -> None:
        """New nodes: mean vectors of their old neighbours plus noise, else word2vec's init."""
        if new_g.size == 0:
            return
        rng = np.random.default_rng(seed)
        noise = (rng.random((new_g.size, d), dtype=np.float32) - np.float32(0.5)) / np.float32(d)
        s_o, t_o, _ = _entries(graph, self._ets, new_g, None, "out")
        s_i, t_i, _ = _entries(graph, self._ets, new_g, None, "in")
        me, nb_ = np.concatenate([s_o, t_i]), np.concatenate([t_o, s_i])
        keep = ~np.isin(nb_, new_g)
        slot, nb_ = np.searchsorted(new_g, me[keep]), nb_[keep]
        cnt = np.maximum(np.bincount(slot, minlength=new_g.size), 1).astype(np.float32)[:, None]
        sw = np.zeros((new_g.size, d), np.float32)
        sc = np.zeros((new_g.size, d), np.float32)
        np.add.at(sw, slot, W[nb_])
        np.add.at(sc, slot, C[nb_])
        W[new_g] = sw / cnt + noise
        C[new_g] = sc / cnt

    # ------------------------------------------------------------------ persistence
    def save_state(self, folder: str | Path, *, follows: dict[str, Any] | None = None) -> str:
        """Write what ``partial_fit`` continues from: vectors, degrees, params and the store version
        ``graph_`` was read from (``follows``; see :meth:`DNE.save_state <vastgraph.embed.dne.DNE.save_state>`)."""
        self.check_is_fitted()
        r = self._rows
        meta = {"params": state_params(self.get_params()), "updates": self._n_updates, "base_seed": self._base_seed,
                "edge_types": [list(et) for et in self._ets], "pairs": self.pairs_}
        return write_state(folder, "IncrementalWalkEmbedder", meta, {"W": r.W, "C": r.C, "deg": r.deg},
                           follows if follows is not None else store_version_of(self.graph_))

    @classmethod
    def load_state(cls, folder: str | Path, *, graph: Any = None,
                   progress: ProgressFn | None = None) -> "IncrementalWalkEmbedder":
        """A fitted embedder from a folder written by :meth:`save_state` (checksums verified);
        ``graph`` defaults to the store version the state follows."""
        from vastgraph.graph.schema import EdgeType

        meta, arrays = read_state(folder, "IncrementalWalkEmbedder")
        graph = followed_graph(meta["follows"], graph, where=str(folder))
        check_layout(graph, arrays["W"].shape[0], str(folder))
        try:
            model = cls(**restore_params(meta["params"]), progress=progress)
            rows = GrowableRows(arrays["W"].shape[1], arrays["W"].shape[0], matrices=("W", "C"), columns=("deg",))
            rows.resize_layout(list(graph.node_types), {}, type_counts(graph))
            rows.W[:], rows.C[:], rows.deg[:] = arrays["W"], arrays["C"], arrays["deg"]
            model._rows, model._n_updates = rows, int(meta["updates"])
            model._base_seed, model.pairs_ = int(meta["base_seed"]), int(meta["pairs"])
            model._ets = [EdgeType(*et) for et in meta["edge_types"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptStoreError(f"{folder}: malformed IncrementalWalkEmbedder state ({exc!r})") from None
        model._noise = FenwickNoise(rows.deg, rows.capacity)
        model.follows_ = meta["follows"]
        model._publish(graph)
        return model
