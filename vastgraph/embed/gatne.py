"""GATNE: per-relation node embeddings of a multiplex graph (transductive GATNE-T, inductive GATNE-I).

Cen, Zou, Zhang, Yang, Zhou, Tang, *Representation Learning for Attributed Multiplex Heterogeneous
Network*, KDD 2019.

A multiplex graph has one node type and ``m`` relations (edge types). Node ``i`` has a base
embedding ``b_i ∈ R^d`` shared by all relations and, for every relation ``r``, an edge embedding
aggregated from ``ns`` sampled ``r``-neighbours ``N_r(i)`` (mean aggregation; a node without
``r``-neighbours uses itself):

    u_{i,r} = mean_{j ∈ N_r(i)} g_{j,r},          U_i = (u_{i,1}, ..., u_{i,m}) ∈ R^{s × m},
    a_{i,r} = softmax(w_r^T tanh(W_r U_i))^T ∈ R^m,     (self-attention over the relations)
    v_{i,r} = b_i + α_r M_r^T U_i a_{i,r}  (+ β_r D_r^T x_i for GATNE-I),    then L2-normalised,

with ``g_{j,r} ∈ R^s`` free parameters (GATNE-T) or ``g_{j,r} = G_r^T x_j`` and ``b_i = H^T x_i``
functions of the node features ``x`` (GATNE-I; used when the graph has node features and
``features`` is ``"auto"`` or True). Training: for each relation, uniform random walks along that
relation (:func:`vastgraph.sampling.walks.random_walks`) give skip-gram pairs ``(i, j, r)`` within
``window``, and the loss is skip-gram with negative sampling

    − log σ(c_j · v_{i,r}) − Σ_{n=1..k} log σ(−c_n · v_{i,r}),    n ~ walk-count^0.75,

minimised over single-relation mini-batches in PyTorch (lazy Adam or per-pair SGD on the rows of
the embedding tables a batch touches, Adam on the dense transforms; :mod:`vastgraph.embed.gatne_model`
holds the loop-free step). The budget follows the paper's walk settings (20 walks of length 10 per
node and relation, window 5) with at most ``max_pairs`` pairs per epoch; given a validation split,
training stops early on its mean ROC-AUC. The neighbour samples are redrawn every epoch; the
relation-``r`` embedding of every node is ``v_{·,r}`` with the kept epoch's samples. Cost per pair
``O(m · ns · s + m · s · a + s · d + k · d)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from vastgraph.embed.base import Embedder
from vastgraph.embed.deepwalk import json_params, split_seeds
from vastgraph.errors import EmptyInputError, SchemaError, ValidationError
from vastgraph.validation import ProgressFn, check_float, check_int, check_progress

if TYPE_CHECKING:
    from vastgraph.graph.view import GraphView


def skipgram_pairs(walks: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """All ``(centre, context)`` pairs of walk positions ``0 < |i − j| ≤ window`` (``-1`` padding skipped).

    Args:
        walks: int ``(w, L)`` dense node ids, ``-1`` after a dead end.
        window: maximum distance (>= 1).

    Returns:
        ``(centre (p,), context (p,))`` int32 when the ids fit, else int64.

    Example:
        >>> c, x = skipgram_pairs(np.array([[0, 1, 2]]), 1)
        >>> sorted(zip(c.tolist(), x.tolist()))
        [(0, 1), (1, 0), (1, 2), (2, 1)]
    """
    w = np.asarray(walks)
    window = check_int("window", window, 1)
    dt = np.int32 if w.size == 0 or w.max() < 2**31 - 1 else np.int64
    w = w.astype(dt, copy=False)
    cs, xs = [], []
    for o in range(1, min(window, max(w.shape[1] - 1, 0)) + 1):
        a, b = w[:, :-o].ravel(), w[:, o:].ravel()
        ok = (a >= 0) & (b >= 0)
        a, b = a[ok], b[ok]
        cs += [a, b]
        xs += [b, a]
    if not cs:
        return np.zeros(0, dt), np.zeros(0, dt)
    return np.concatenate(cs), np.concatenate(xs)


def multiplex_node_type(graph: GraphView) -> tuple[str, list[Any]]:
    """The one node type of a multiplex graph and its relations (edge types ``(t, r, t)``).

    Raises:
        SchemaError: the graph has edge types between different node types, or no edge type.
    """
    ets = list(graph.edge_types)
    if not ets:
        raise EmptyInputError("GATNE: the graph has no edge types (relations)")
    types = {et.src for et in ets} | {et.dst for et in ets}
    if len(types) != 1:
        raise SchemaError(f"GATNE: a multiplex graph has one node type at both ends of every relation; "
                          f"edge types {[tuple(e) for e in ets]} span node types {sorted(types)}")
    return next(iter(types)), ets


def neighbour_table(graph: GraphView, etype: Any, k: int, random_state: Any) -> np.ndarray:
    """``(n, k)`` int64: ``k`` uniform ``etype``-neighbours of every node (with replacement; itself when none)."""
    from vastgraph.sampling.neighbors import sample_neighbors

    et = graph.edge_type(etype)
    n = graph.num_nodes(et.src)
    s = sample_neighbors(graph, np.arange(n), k, etype=et, replace=True, random_state=random_state)
    table = np.repeat(np.arange(n, dtype=np.int64)[:, None], k, axis=1)
    counts = np.diff(np.asarray(s.indptr))
    full = np.flatnonzero(counts == k)
    if full.size:
        rows = np.asarray(s.indices, np.int64).reshape(-1)
        starts = np.asarray(s.indptr, np.int64)[full]
        table[full] = rows[starts[:, None] + np.arange(k)[None, :]]
    return table


class GATNE(Embedder):
    """GATNE-T / GATNE-I per-relation node embeddings of a multiplex graph (see the module docstring).

    Args:
        dimensions: ``d``, size of the base and output embeddings. Default 200.
        edge_dimensions: ``s``, size of the edge embeddings. Default 10.
        attention_dimensions: ``a``, hidden size of the relation self-attention. Default 20.
        walks_per_node: walks per node and relation. Default 20 (the paper's).
        walk_length: steps per walk. Default 10 (the paper's).
        window: skip-gram window. Default 5 (the paper's).
        negative: negative samples per pair. Default 5.
        neighbor_samples: ``ns``, sampled neighbours per node and relation (redrawn every epoch).
            Default 10.
        epochs: passes over the pairs (at most; fewer when ``validation`` stops them). Default 1.
        max_pairs: train on at most this many pairs per epoch (a fresh uniform sample of the walk
            pairs each epoch, split over the relations in proportion); None = all. Default 10M.
        patience: with a validation split, stop after this many epochs without a better mean
            validation ROC-AUC, and keep the best epoch's model. Default 2.
        batch_size: pairs per step (each step's pairs share one relation). Default 4096.
        optimizer: ``"sgd"`` (per-pair SGD on the rows of the embedding tables a batch touches,
            word2vec-style, at a constant rate; Adam on the dense transforms) or ``"adam"`` (lazy
            Adam on the touched rows; slower per pair: it coalesces the row gradients). Default ``"sgd"``.
        lr: Adam learning rate of the dense transforms (attention, ``M_r``, GATNE-I maps). Default 0.01.
        table_lr: learning rate of the embedding tables (base, edge, context): the per-pair SGD
            step with ``optimizer="sgd"``, Adam's with ``"adam"`` (try 0.01). Default 0.2.
        features: ``"auto"`` (GATNE-I when the graph has node features), True (require them) or
            False (GATNE-T). Default ``"auto"``.
        num_threads: torch intra-op threads during ``fit`` (restored afterwards); None keeps torch's.
        device: ``"cpu"``, ``"cuda"`` (an error when torch has no CUDA device), ``"cuda:<i>"`` or
            ``"auto"`` (CUDA when available). Results on CPU are reproducible from the seed with a
            fixed ``num_threads``; on CUDA the scattered table updates use atomics and are not
            bit-reproducible. Default ``"cpu"``.
        random_state: None, an int or a ``numpy.random.Generator``. Default None.
        progress: optional ``progress(done_fraction, mean_loss)`` during training. Default None.

    Attributes:
        relations_: relation names (edge types' ``rel``), in graph order.
        relation_embeddings_: float32 ``(m, n, d)``: ``v_{·,r}`` for every relation.
        embedding_: float32 ``(n, d)``: the L2-normalised mean over relations.
        keyed_: :class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings` of ``embedding_``.
        keyed_by_relation_: ``{relation: KeyedEmbeddings}``.
        inductive_: True for GATNE-I. losses_: mean loss of each ~1% of the steps.
        walk_pairs_: skip-gram pairs the walks gave (all relations). pairs_trained_: pairs stepped on.
        epochs_run_: epochs trained. best_epoch_: the kept epoch (1-based).
        valid_auc_: mean validation ROC-AUC after each epoch (empty without a validation split).
        train_seconds_: wall time of the training steps (walks and inference excluded).
        pairs_per_second_: ``pairs_trained_ / train_seconds_``. train_cpu_seconds_: CPU time of
        the training steps (all threads; on a loaded machine a steadier measure than wall time).
        device_: the torch device used.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_nodes("node", ids=np.arange(6))
        >>> _ = b.add_edges([0, 1, 2, 3], [1, 2, 3, 4], etype=("node", "a", "node"))
        >>> _ = b.add_edges([0, 2, 4], [5, 5, 5], etype=("node", "b", "node"))
        >>> m = GATNE(dimensions=8, walks_per_node=2, walk_length=4, epochs=1, num_threads=1,
        ...           random_state=0).fit(b.build())
        >>> m.embedding("b").shape, m.relations_
        ((6, 8), ['a', 'b'])
    """

    def __init__(self, dimensions: int = 200, edge_dimensions: int = 10, attention_dimensions: int = 20,
                 walks_per_node: int = 20, walk_length: int = 10, window: int = 5, negative: int = 5,
                 neighbor_samples: int = 10, epochs: int = 1, max_pairs: int | None = 10_000_000,
                 patience: int = 2, batch_size: int = 4096, optimizer: str = "sgd", lr: float = 0.01,
                 table_lr: float = 0.2, features: Any = "auto", num_threads: int | None = None,
                 device: str = "cpu", random_state: Any = None, progress: ProgressFn | None = None) -> None:
        self.dimensions = dimensions
        self.edge_dimensions = edge_dimensions
        self.attention_dimensions = attention_dimensions
        self.walks_per_node = walks_per_node
        self.walk_length = walk_length
        self.window = window
        self.negative = negative
        self.neighbor_samples = neighbor_samples
        self.epochs = epochs
        self.max_pairs = max_pairs
        self.patience = patience
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.lr = lr
        self.table_lr = table_lr
        self.features = features
        self.num_threads = num_threads
        self.device = device
        self.random_state = random_state
        self.progress = progress

    def _features(self, graph: GraphView, ntype: str) -> np.ndarray | None:
        if self.features not in ("auto", True, False):
            raise ValidationError(f"features={self.features!r}: expected 'auto', True or False")
        if self.features is False:
            return None
        x = graph.features(ntype)
        if x is None:
            if self.features is True:
                raise ValidationError(f"features=True: node type {ntype!r} has no node features (GATNE-I needs them)")
            return None
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] != graph.num_nodes(ntype) or not np.isfinite(x).all():
            raise ValidationError(f"GATNE-I: features of {ntype!r} must be finite (n, f); got shape {x.shape}")
        return x

    def _device(self, torch: Any) -> Any:
        dev = self.device
        if not isinstance(dev, str):
            raise ValidationError(f"device={dev!r}: expected 'cpu', 'cuda', 'cuda:<index>' or 'auto'")
        if dev == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if dev == "cpu":
            return torch.device("cpu")
        if dev == "cuda" or dev.startswith("cuda:"):
            if not torch.cuda.is_available():
                raise ValidationError(f"device={dev!r}: this torch build has no CUDA device available; "
                                      f"use device='cpu' or 'auto'")
            return torch.device(dev)
        raise ValidationError(f"device={dev!r}: expected 'cpu', 'cuda', 'cuda:<index>' or 'auto'")

    def fit(self, graph: GraphView, validation: dict[str, Any] | None = None) -> GATNE:
        """Walk every relation, train the model and compute the per-relation embeddings; returns ``self``.

        Args:
            graph: a multiplex graph (one node type, one edge type per relation).
            validation: optional labelled pairs ``{"src", "dst", "etype", "label"}`` (dense ids;
                ``etype`` indexes the graph's edge types in order), e.g. a GATNE-format dataset's
                ``splits["valid"]``: the mean ROC-AUC over relations is measured after every
                epoch, training stops after ``patience`` epochs without gain, and the best
                epoch's model is kept.
        """
        import torch

        threads = None if self.num_threads is None else check_int("num_threads", self.num_threads, 1)
        old = torch.get_num_threads()
        try:
            if threads is not None:
                torch.set_num_threads(threads)
            return self._fit(graph, validation, torch)
        finally:
            torch.set_num_threads(old)

    def _walk_pairs(self, graph: GraphView, ets: list[Any], seeds: list[int]
                    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        from vastgraph.sampling.walks import random_walks

        wpn = check_int("walks_per_node", self.walks_per_node, 1)
        length = check_int("walk_length", self.walk_length, 1)
        window = check_int("window", self.window, 1)
        centre, context = [], []
        for r, et in enumerate(ets):
            if graph.num_edges(et) == 0:
                centre.append(np.zeros(0, np.int32))
                context.append(np.zeros(0, np.int32))
                continue
            walks = random_walks(graph, walks_per_node=wpn, walk_length=length, etype=et, weighted=False,
                                 random_state=seeds[r])
            c, t = skipgram_pairs(walks, window)
            centre.append(c)
            context.append(t)
        if sum(c.size for c in centre) == 0:
            raise EmptyInputError("GATNE: the walks produced no skip-gram pairs (no edges?)")
        return centre, context

    def _check_validation(self, validation: Any, n: int, m: int) -> dict[str, np.ndarray] | None:
        if validation is None:
            return None
        if not isinstance(validation, dict) or not {"src", "dst", "etype", "label"} <= set(validation):
            raise ValidationError("validation: expected a dict with 'src', 'dst', 'etype' and 'label' arrays")
        v = {k: np.asarray(validation[k]).ravel() for k in ("src", "dst", "etype", "label")}
        if len({a.size for a in v.values()}) != 1:
            raise ValidationError("validation: 'src', 'dst', 'etype' and 'label' must have equal lengths")
        for k, hi in (("src", n), ("dst", n), ("etype", m), ("label", 2)):
            a = v[k]
            if a.size and (a.dtype.kind not in "iub" or a.min() < 0 or a.max() >= hi):
                raise ValidationError(f"validation[{k!r}]: expected integers in [0, {hi})")
        return v

    def _fit(self, graph: GraphView, validation: Any, torch: Any) -> GATNE:
        import time

        from vastgraph.embed import gatne_model as gm
        from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
        from vastgraph.seeding import derive_int

        d = check_int("dimensions", self.dimensions, 1)
        s = check_int("edge_dimensions", self.edge_dimensions, 1)
        a = check_int("attention_dimensions", self.attention_dimensions, 1)
        k = check_int("negative", self.negative, 0)
        ns = check_int("neighbor_samples", self.neighbor_samples, 1)
        epochs = check_int("epochs", self.epochs, 1)
        patience = check_int("patience", self.patience, 1)
        bs = check_int("batch_size", self.batch_size, 1)
        lr = check_float("lr", self.lr)
        table_lr = check_float("table_lr", self.table_lr)
        max_pairs = None if self.max_pairs is None else check_int("max_pairs", self.max_pairs, 1)
        if self.optimizer not in ("adam", "sgd"):
            raise ValidationError(f"optimizer={self.optimizer!r}: expected 'adam' or 'sgd'")
        progress = check_progress(self.progress)
        dev = self._device(torch)
        ntype, ets = multiplex_node_type(graph)
        n, m = graph.num_nodes(ntype), len(ets)
        if graph.num_nodes_total() != n:
            raise SchemaError(f"GATNE: the graph has node types besides {ntype!r}; give it the multiplex part only")
        valid = self._check_validation(validation, n, m)
        x = self._features(graph, ntype)
        seeds = split_seeds(self.random_state, m + 3)
        centre, context = self._walk_pairs(graph, ets, seeds)
        sizes = [c.size for c in centre]
        counts = sum(np.bincount(t, minlength=n) for t in context)
        prob, alias = gm.alias_noise(counts)

        torch.manual_seed(seeds[m])
        net = gm.build_net(n, m, d, s, a, None if x is None else torch.as_tensor(x), torch).to_device(dev)
        trainer = gm.Trainer(net, self.optimizer, lr, table_lr, torch)
        rng = np.random.default_rng(seeds[m + 1])
        offsets = np.arange(m, dtype=np.int64)

        def neighbour_rows(epoch: int) -> Any:  # (n, m·ns) edge-table rows of this epoch's neighbour samples
            tab = np.stack([neighbour_table(graph, et, ns, derive_int(seeds[m + 2], epoch, r))
                            for r, et in enumerate(ets)], axis=1)
            return torch.as_tensor((tab * m + offsets[None, :, None]).reshape(n, m * ns), device=dev)

        per_epoch = sum(sizes) if max_pairs is None else min(max_pairs, sum(sizes))
        total_steps = epochs * sum(-(-q // bs) for q in gm.epoch_quota(sizes, max_pairs))
        report_every = max(1, total_steps // 100)
        losses: list[float] = []
        valid_auc: list[float] = []
        best, best_state, best_rows, best_epoch, stale = -np.inf, None, None, 0, 0
        acc, in_block, step, trained, train_s, train_cpu = 0.0, 0, 0, 0, 0.0, 0.0
        rows_t = None
        for epoch in range(epochs):
            rows_t = neighbour_rows(epoch)
            batches = gm.epoch_batches(sizes, max_pairs, bs, rng)
            t0, c0 = time.perf_counter(), time.process_time()
            for r, idx in batches:
                B = idx.size
                u = torch.as_tensor(centre[r][idx].astype(np.int64), device=dev)
                c = torch.as_tensor(context[r][idx].astype(np.int64), device=dev)
                neg = torch.as_tensor(gm.draw_alias(prob, alias, B * k, rng).reshape(B, k), device=dev)
                acc += trainer.step(r, u, c, neg, rows_t.index_select(0, u), 1.0)
                step += 1
                in_block += 1
                trained += B
                if step % report_every == 0 or step == total_steps:
                    losses.append(acc / in_block)
                    acc, in_block = 0.0, 0
                    if not np.isfinite(losses[-1]):
                        raise ValidationError(f"GATNE diverged (non-finite loss); lower lr={lr} or table_lr={table_lr}")
                    if progress is not None:
                        progress(step / total_steps, losses[-1])
            train_s += time.perf_counter() - t0
            train_cpu += time.process_time() - c0
            if valid is None:
                continue
            score = gm.validation_auc(gm.infer(net, rows_t, n, m, d, torch), valid)
            valid_auc.append(score)
            if score > best:
                best, best_epoch, stale = score, epoch + 1, 0
                best_state, best_rows = trainer.snapshot(), rows_t
            else:
                stale += 1
                if stale >= patience:
                    break
        epochs_run = epoch + 1
        if best_state is not None and best_epoch != epochs_run:
            trainer.restore(best_state)
            rows_t = best_rows
        rel_vecs = gm.infer(net, rows_t, n, m, d, torch)
        names = [et.rel for et in ets]
        mean = rel_vecs.mean(axis=0)
        mean /= np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
        meta = {"method": "GATNE-I" if x is not None else "GATNE-T", "params": json_params(self.get_params()),
                "pairs": int(trained), "pairs_per_epoch": int(per_epoch), "walk_pairs": int(sum(sizes)),
                "epochs_run": epochs_run, "best_epoch": best_epoch or epochs_run, "relations": names}
        self.relations_ = names
        self.inductive_ = x is not None
        self.relation_embeddings_ = rel_vecs
        self.keyed_ = KeyedEmbeddings.from_graph(graph, mean.astype(np.float32), meta=meta, copy=False)
        self.embedding_ = self.keyed_.vectors
        self.keyed_by_relation_ = {
            name: KeyedEmbeddings.from_graph(graph, rel_vecs[r], meta={**meta, "relation": name}, copy=False)
            for r, name in enumerate(names)}
        self.losses_ = np.asarray(losses, dtype=np.float64)
        self.walk_pairs_ = int(sum(sizes))
        self.pairs_trained_ = int(trained)
        self.epochs_run_ = epochs_run
        self.best_epoch_ = best_epoch or epochs_run
        self.valid_auc_ = np.asarray(valid_auc, dtype=np.float64)
        self.train_seconds_ = float(train_s)
        self.pairs_per_second_ = float(trained / train_s) if train_s > 0 else float("nan")
        self.train_cpu_seconds_ = float(train_cpu)
        self.device_ = str(dev)
        return self

    def embedding(self, relation: Any) -> np.ndarray:
        """The ``(n, d)`` embeddings of ``relation`` (its name, an edge type, or its index)."""
        self.check_is_fitted()
        if isinstance(relation, (int, np.integer)) and not isinstance(relation, bool):
            if not 0 <= relation < len(self.relations_):
                raise ValidationError(f"relation={relation}: expected an index in [0, {len(self.relations_)})")
            return self.relation_embeddings_[int(relation)]
        name = relation.rel if hasattr(relation, "rel") else (relation[1] if isinstance(relation, tuple) else relation)
        if str(name) not in self.relations_:
            raise ValidationError(f"relation={relation!r}: not one of {self.relations_}")
        return self.relation_embeddings_[self.relations_.index(str(name))]

