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

minimised by SGD on the embedding tables and Adam on the dense transforms over mini-batches, in PyTorch. The
relation-``r`` embedding of every node is ``v_{·,r}`` computed with the neighbour samples fixed at
fit time. Cost per pair ``O(m · ns · s + m · s · a + s · d + k · d)``.
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
        ``(centre int64 (p,), context int64 (p,))``.

    Example:
        >>> c, x = skipgram_pairs(np.array([[0, 1, 2]]), 1)
        >>> sorted(zip(c.tolist(), x.tolist()))
        [(0, 1), (1, 0), (1, 2), (2, 1)]
    """
    w = np.asarray(walks)
    window = check_int("window", window, 1)
    cs, xs = [], []
    for o in range(1, min(window, max(w.shape[1] - 1, 0)) + 1):
        a, b = w[:, :-o].ravel(), w[:, o:].ravel()
        ok = (a >= 0) & (b >= 0)
        a, b = a[ok].astype(np.int64), b[ok].astype(np.int64)
        cs += [a, b]
        xs += [b, a]
    if not cs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
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


class _GATNENet:  # built lazily (torch is imported only in fit)
    @staticmethod
    def build(n: int, m: int, d: int, s: int, a: int, features: Any, torch: Any) -> Any:
        nn = torch.nn

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inductive = features is not None
                if self.inductive:
                    f = features.shape[1]
                    self.register_buffer("x", features)
                    self.base = nn.Linear(f, d, bias=False)
                    self.edge_in = nn.Parameter(torch.randn(m, f, s) / f ** 0.5)
                    self.feat_out = nn.Parameter(torch.zeros(m, f, d))
                else:
                    self.base = nn.Embedding(n, d, sparse=True)
                    self.edge = nn.Embedding(n * m, s, sparse=True)
                    nn.init.normal_(self.base.weight, 0.0, 1.0 / d ** 0.5)
                    nn.init.normal_(self.edge.weight, 0.0, 1.0 / s ** 0.5)
                self.context = nn.Embedding(n, d, sparse=True)
                nn.init.normal_(self.context.weight, 0.0, 1.0 / d ** 0.5)
                self.w1 = nn.Parameter(torch.randn(m, s, a) / s ** 0.5)
                self.w2 = nn.Parameter(torch.randn(m, a) / a ** 0.5)
                self.trans = nn.Parameter(torch.randn(m, s, d) / s ** 0.5)
                self.m = m

            def forward(self, nodes: Any, rel: Any, nbrs: Any) -> Any:
                """nodes (B,), rel (B,), nbrs (B, m, ns) -> normalised v_{i,r} (B, d)."""
                if self.inductive:
                    xb = self.x[nodes]
                    base = self.base(xb)
                    xn = self.x[nbrs]                                             # (B, m, ns, f)
                    g = torch.einsum("bmkf,mfs->bmks", xn, self.edge_in)
                else:
                    base = self.base(nodes)
                    g = self.edge(nbrs * self.m + torch.arange(self.m, device=nodes.device)[None, :, None])
                u = g.mean(dim=2)                                                 # (B, m, s)
                out = base.clone()
                for r in range(self.m):  # per relation: small dense matmuls instead of per-row gathers
                    sel = (rel == r).nonzero(as_tuple=True)[0]
                    if sel.numel() == 0:
                        continue
                    ur = u[sel]
                    h = torch.tanh(ur @ self.w1[r])                                # W_r U_i, (b, m, a)
                    att = torch.softmax(h @ self.w2[r], dim=1)                     # (b, m)
                    agg = (att.unsqueeze(2) * ur).sum(dim=1)                       # (b, s)
                    extra = agg @ self.trans[r]
                    if self.inductive:
                        extra = extra + xb[sel] @ self.feat_out[r]
                    out = out.index_add(0, sel, extra)
                return torch.nn.functional.normalize(out, dim=1)

        return Net()


class GATNE(Embedder):
    """GATNE-T / GATNE-I per-relation node embeddings of a multiplex graph (see the module docstring).

    Args:
        dimensions: ``d``, size of the base and output embeddings. Default 200.
        edge_dimensions: ``s``, size of the edge embeddings. Default 10.
        attention_dimensions: ``a``, hidden size of the relation self-attention. Default 20.
        walks_per_node: walks per node and relation. Default 20.
        walk_length: steps per walk. Default 10.
        window: skip-gram window. Default 5.
        negative: negative samples per pair. Default 5.
        neighbor_samples: ``ns``, sampled neighbours per node and relation. Default 10.
        epochs: passes over the (shuffled) pairs. Default 1.
        max_pairs: train on at most this many pairs per epoch (a uniform sample); None = all.
        batch_size: pairs per Adam step. Default 1024.
        lr: Adam learning rate of the dense transforms (attention, ``M_r``, GATNE-I maps). Default 0.01.
        table_lr: per-pair SGD step of the embedding tables (base, edge, context), word2vec-style
            (scaled by ``batch_size`` as the loss is a batch mean). Default 0.2.
        features: ``"auto"`` (GATNE-I when the graph has node features), True (require them) or
            False (GATNE-T). Default ``"auto"``.
        num_threads: torch intra-op threads during ``fit`` (restored afterwards); None keeps torch's.
        device: torch device. Default ``"cpu"``.
        random_state: None, an int or a ``numpy.random.Generator``. Default None.
        progress: optional ``progress(done_fraction, mean_loss)`` during training. Default None.

    Attributes:
        relations_: relation names (edge types' ``rel``), in graph order.
        relation_embeddings_: float32 ``(m, n, d)``: ``v_{·,r}`` for every relation.
        embedding_: float32 ``(n, d)``: the L2-normalised mean over relations.
        keyed_: :class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings` of ``embedding_``.
        keyed_by_relation_: ``{relation: KeyedEmbeddings}``.
        inductive_: True for GATNE-I. losses_: mean loss of each ~1% of the steps.

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
                 neighbor_samples: int = 10, epochs: int = 1, max_pairs: int | None = None,
                 batch_size: int = 1024, lr: float = 0.01, table_lr: float = 0.2, features: Any = "auto",
                 num_threads: int | None = None, device: str = "cpu", random_state: Any = None,
                 progress: ProgressFn | None = None) -> None:
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
        self.batch_size = batch_size
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

    def fit(self, graph: GraphView) -> "GATNE":
        """Walk every relation, train the model and compute the per-relation embeddings; returns ``self``."""
        import torch

        threads = None if self.num_threads is None else check_int("num_threads", self.num_threads, 1)
        old = torch.get_num_threads()
        try:
            if threads is not None:
                torch.set_num_threads(threads)
            return self._fit(graph, torch)
        finally:
            torch.set_num_threads(old)

    def _fit(self, graph: GraphView, torch: Any) -> "GATNE":
        from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
        from vastgraph.sampling.walks import random_walks

        d = check_int("dimensions", self.dimensions, 1)
        s = check_int("edge_dimensions", self.edge_dimensions, 1)
        a = check_int("attention_dimensions", self.attention_dimensions, 1)
        window = check_int("window", self.window, 1)
        k = check_int("negative", self.negative, 0)
        ns = check_int("neighbor_samples", self.neighbor_samples, 1)
        epochs = check_int("epochs", self.epochs, 1)
        bs = check_int("batch_size", self.batch_size, 1)
        lr = check_float("lr", self.lr)
        table_lr = check_float("table_lr", self.table_lr)
        max_pairs = None if self.max_pairs is None else check_int("max_pairs", self.max_pairs, 1)
        progress = check_progress(self.progress)
        ntype, ets = multiplex_node_type(graph)
        n, m = graph.num_nodes(ntype), len(ets)
        if graph.num_nodes_total() != n:
            raise SchemaError(f"GATNE: the graph has node types besides {ntype!r}; give it the multiplex part only")
        x = self._features(graph, ntype)
        seeds = split_seeds(self.random_state, 2 * m + 2)
        nbr = np.stack([neighbour_table(graph, et, ns, seeds[m + r]) for r, et in enumerate(ets)], axis=1)
        centre, context, rel = [], [], []
        for r, et in enumerate(ets):
            if graph.num_edges(et) == 0:
                continue
            walks = random_walks(graph, walks_per_node=check_int("walks_per_node", self.walks_per_node, 1),
                                 walk_length=check_int("walk_length", self.walk_length, 1), etype=et,
                                 weighted=False, random_state=seeds[r])
            c, t = skipgram_pairs(walks, window)
            centre.append(c)
            context.append(t)
            rel.append(np.full(c.size, r, np.int64))
        if not centre or sum(c.size for c in centre) == 0:
            raise EmptyInputError("GATNE: the walks produced no skip-gram pairs (no edges?)")
        centre_a, context_a, rel_a = np.concatenate(centre), np.concatenate(context), np.concatenate(rel)
        counts = np.bincount(context_a, minlength=n).astype(np.float64) ** 0.75
        noise = torch.as_tensor(counts / counts.sum(), dtype=torch.float32)

        torch.manual_seed(seeds[-2] % 2**63)
        dev = torch.device(self.device)
        feats = None if x is None else torch.as_tensor(x)
        net = _GATNENet.build(n, m, d, s, a, feats, torch).to(dev)
        tables = ("context.weight",) if x is not None else ("base.weight", "edge.weight", "context.weight")
        sparse = [p for name, p in net.named_parameters() if name in tables]
        dense = [p for name, p in net.named_parameters() if name not in tables]
        # embedding tables: plain SGD on their sparse gradients (word2vec-style, O(rows touched));
        # the small dense transforms: Adam
        opts = [torch.optim.SGD(sparse, lr=table_lr * bs)] + ([torch.optim.Adam(dense, lr=lr)] if dense else [])
        nbr_t = torch.as_tensor(nbr, device=dev)
        rng = np.random.default_rng(seeds[-1])
        n_pairs = centre_a.size if max_pairs is None else min(max_pairs, centre_a.size)
        total_steps = epochs * ((n_pairs + bs - 1) // bs)
        report_every = max(1, total_steps // 100)
        losses, acc, in_block, step = [], 0.0, 0, 0
        for _ in range(epochs):
            order = rng.permutation(centre_a.size)[:n_pairs]
            for lo in range(0, n_pairs, bs):
                idx = order[lo:lo + bs]
                u = torch.as_tensor(centre_a[idx], device=dev)
                c = torch.as_tensor(context_a[idx], device=dev)
                r = torch.as_tensor(rel_a[idx], device=dev)
                v = net(u, r, nbr_t[u])
                loss = -torch.nn.functional.logsigmoid((v * net.context(c)).sum(1)).mean()
                if k:
                    neg = torch.multinomial(noise, idx.size * k, replacement=True).to(dev).view(idx.size, k)
                    loss = loss - torch.nn.functional.logsigmoid(
                        -torch.einsum("bd,bkd->bk", v, net.context(neg))).sum(1).mean()
                for o in opts:
                    o.zero_grad()
                loss.backward()
                for o in opts:
                    o.step()
                acc += float(loss.detach())
                step += 1
                in_block += 1
                if step % report_every == 0 or step == total_steps:
                    losses.append(acc / in_block)
                    acc, in_block = 0.0, 0
                    if progress is not None:
                        progress(step / total_steps, losses[-1])
        if not np.isfinite(losses).all():
            raise ValidationError(f"GATNE diverged (non-finite loss); lower lr={lr}")
        rel_vecs = self._infer(net, nbr_t, n, m, d, dev, torch)
        names = [et.rel for et in ets]
        mean = rel_vecs.mean(axis=0)
        mean /= np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
        meta = {"method": "GATNE-I" if x is not None else "GATNE-T", "params": json_params(self.get_params()),
                "pairs": int(n_pairs), "relations": names}
        self.relations_ = names
        self.inductive_ = x is not None
        self.relation_embeddings_ = rel_vecs
        self.keyed_ = KeyedEmbeddings.from_graph(graph, mean.astype(np.float32), meta=meta, copy=False)
        self.embedding_ = self.keyed_.vectors
        self.keyed_by_relation_ = {
            name: KeyedEmbeddings.from_graph(graph, rel_vecs[r], meta={**meta, "relation": name}, copy=False)
            for r, name in enumerate(names)}
        self.losses_ = np.asarray(losses, dtype=np.float64)
        return self

    @staticmethod
    def _infer(net: Any, nbr_t: Any, n: int, m: int, d: int, dev: Any, torch: Any) -> np.ndarray:
        out = np.empty((m, n, d), dtype=np.float32)
        with torch.no_grad():
            for r in range(m):
                for lo in range(0, n, 8192):
                    u = torch.arange(lo, min(n, lo + 8192), device=dev)
                    rr = torch.full_like(u, r)
                    out[r, lo:lo + u.numel()] = net(u, rr, nbr_t[u]).cpu().numpy()
        return out

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
