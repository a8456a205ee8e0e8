"""LINE: first- and second-order proximity embeddings trained on sampled edges.

Tang, Qu, Wang, Zhang, Yan, Mei, *LINE: Large-scale Information Network Embedding*, WWW 2015
(reference code: tangjian/LINE, ``line.cpp``).

Each step draws one edge ``(u, v)`` with probability ∝ its weight (an O(1) alias table over all
edges, so weights never scale the gradient) and ``k`` negatives ``n``, then ascends

    first order:   log σ(x_u · x_v) + Σ_n log σ(−x_u · x_n),    n ~ (in+out degree)^0.75,
    second order:  log σ(x_u · c_v) + Σ_n log σ(−x_u · c_n),    n ~ in-degree^0.75,

updating the target rows (``x_v``/``x_n``, or contexts ``c_v``/``c_n``) at once and ``x_u`` after the
``k + 1`` terms, with the learning rate decaying linearly from ``lr`` to ``lr · 1e-4`` over all
samples (as ``line.cpp``). Degrees are weighted. ``order="both"`` trains a first- and a
second-order model of ``d/2`` dimensions each, L2-normalises each and concatenates them (the
paper's LINE(1st+2nd)).

All edge types take part (``etype=None``) as one graph over global node ids, or just one. Samples
are processed in chunks of :data:`CHUNK` with their own random stream, in parallel (Hogwild), so
with one numba thread the result depends only on ``random_state``. Cost ``O(samples · (k+1) · d)``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numba as nb
import numpy as np

from vastgraph.embed.base import Embedder
from vastgraph.embed.deepwalk import json_params, split_seeds
from vastgraph.embed.sgns import _SIG_TABLE, _SOFTPLUS_TABLE, pair_step, unigram_tables
from vastgraph.validation import ProgressFn, check_float, check_int, check_progress
from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.sampling.alias import alias_draw, build_alias
from vastgraph.seeding import stream

if TYPE_CHECKING:
    from vastgraph.graph.view import GraphView

CHUNK = 4096
"""Edge samples per random stream / parallel work item."""


@nb.njit(nogil=True, parallel=True, fastmath=True, boundscheck=False, cache=True)
def _line_block(src, dst, e_prob, e_alias, neg_nodes, n_prob, n_alias, X, T, negative, first_chunk,
                n_chunks, total, lr0, lr_floor, seed, sig, softplus, loss_out):  # pragma: no cover - numba
    """Train chunks ``first_chunk .. first_chunk + n_chunks`` of CHUNK samples each (the last may be short)."""
    d = X.shape[1]
    n_edges = src.shape[0]
    n_noise = neg_nodes.shape[0]
    for c in nb.prange(n_chunks):
        err = np.empty(d, dtype=np.float32)
        chunk = first_chunk + c
        state = stream(seed, chunk)
        s0 = chunk * CHUNK
        s1 = min(total, s0 + CHUNK)
        loss = 0.0
        for s in range(s0, s1):
            alpha = lr0 * max(lr_floor, 1.0 - s / total)
            state, e = alias_draw(state, 0, n_edges, e_prob, e_alias)
            u = src[e]
            for x in range(d):
                err[x] = 0.0
            for k in range(negative + 1):
                if k == 0:
                    t = dst[e]
                else:
                    state, j = alias_draw(state, 0, n_noise, n_prob, n_alias)
                    t = neg_nodes[j]
                loss += pair_step(X, T, u, t, k == 0, alpha, err, True, sig, softplus)
            for x in range(d):
                X[u, x] += err[x]
        loss_out[c] = loss


def _edges(graph: GraphView, etype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Global ``(src, dst, weight or None)`` of one edge type or of all of them (storage order)."""
    offs = graph.node_offsets()
    ets = [graph.edge_type(etype)] if etype is not None else list(graph.edge_types)
    n_total = graph.num_nodes_total()
    idx = np.int32 if n_total <= np.iinfo(np.int32).max else np.int64
    srcs, dsts, ws = [], [], []
    weighted = any(graph.has_weights(et) for et in ets)
    for et in ets:
        e = graph.coo(et)
        srcs.append(e.src.astype(idx) + idx(offs[et.src]))
        dsts.append(e.dst.astype(idx) + idx(offs[et.dst]))
        if weighted:
            ws.append(np.ones(len(e), np.float32) if e.weight is None else np.asarray(e.weight, np.float32))
    src = np.concatenate(srcs) if srcs else np.zeros(0, idx)
    dst = np.concatenate(dsts) if dsts else np.zeros(0, idx)
    w = np.concatenate(ws) if weighted and ws else None
    return src, dst, w


class LINE(Embedder):
    """LINE node embeddings (first order, second order, or both concatenated).

    Args:
        dimensions: embedding size ``d`` (even for ``order="both"``: ``d/2`` per order). Default 128.
        order: ``1``, ``2`` or ``"both"``. Default 2.
        negative: negative samples per edge sample. Default 5.
        samples: edge samples per order; default ``100 ×`` the number of stored edge entries.
        lr: initial learning rate (linear decay to ``lr · 1e-4``). Default 0.025.
        etype: train on this edge type only; default all edge types.
        random_state: None, an int or a ``numpy.random.Generator``. Default None.
        progress: optional ``progress(done_fraction, mean_loss)`` between blocks. Default None.

    Attributes:
        embedding_: float32 ``(N, d)`` in global node-id order (read-only, shared with ``keyed_``).
        context_: float32 ``(N, d)`` context vectors of the second-order model (``order=2``), else None.
        losses_: mean loss per edge sample of each block.
        keyed_: the :class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings` artifact.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_edges([0, 1, 2, 3], [1, 2, 3, 0])
        >>> LINE(dimensions=8, order="both", samples=1000, random_state=0).fit(b.build()).embedding_.shape
        (4, 8)
    """

    def __init__(self, dimensions: int = 128, order: Any = 2, negative: int = 5, samples: int | None = None,
                 lr: float = 0.025, etype: Any = None, random_state: Any = None,
                 progress: ProgressFn | None = None) -> None:
        self.dimensions = dimensions
        self.order = order
        self.negative = negative
        self.samples = samples
        self.lr = lr
        self.etype = etype
        self.random_state = random_state
        self.progress = progress

    def fit(self, graph: GraphView) -> "LINE":
        """Sample edges of ``graph`` and train; returns ``self``."""
        from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

        d = check_int("dimensions", self.dimensions, 1)
        if self.order not in (1, 2, "both") or isinstance(self.order, bool):
            raise ValidationError(f"order={self.order!r}: expected 1, 2 or 'both'")
        if self.order == "both" and d % 2:
            raise ValidationError(f"dimensions={d}: order='both' needs an even size (d/2 per order)")
        negative = check_int("negative", self.negative, 0)
        lr = check_float("lr", self.lr)
        progress = check_progress(self.progress)
        src, dst, w = _edges(graph, self.etype)
        if src.size == 0:
            raise EmptyInputError("LINE: the graph has no edges to sample")
        if w is not None and (w.min() < 0 or w.sum() <= 0):
            raise ValidationError(f"LINE: edge weights must be >= 0 with a positive sum (min {float(w.min())})")
        samples = 100 * src.size if self.samples is None else check_int("samples", self.samples, 1)
        n = graph.num_nodes_total()
        e_prob, e_alias = build_alias(np.array([0, src.size], np.int64),
                                      np.ones(src.size, np.float32) if w is None else w)
        ww = np.ones(src.size, np.float64) if w is None else w.astype(np.float64)
        in_deg = np.bincount(dst, weights=ww, minlength=n)
        out_deg = np.bincount(src, weights=ww, minlength=n)
        orders = [1, 2] if self.order == "both" else [int(self.order)]
        dim = d // len(orders)
        seeds = split_seeds(self.random_state, 2 * len(orders))
        parts, losses, context = [], [], None
        for i, order in enumerate(orders):
            noise = in_deg + out_deg if order == 1 else in_deg
            _, neg_nodes, n_prob, n_alias = unigram_tables(noise)
            rng = np.random.default_rng(seeds[2 * i])
            X = ((rng.random((n, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim)).astype(np.float32)
            T = X if order == 1 else np.zeros((n, dim), dtype=np.float32)

            def report(frac: float, loss: float, i: int = i) -> None:
                if progress is not None:
                    progress((i + frac) / len(orders), loss)

            losses.extend(_train(src, dst, e_prob, e_alias, neg_nodes, n_prob, n_alias, X, T, negative,
                                 samples, lr, np.uint64(seeds[2 * i + 1]), report))
            if not np.isfinite(X).all():
                raise ValidationError(f"LINE diverged (non-finite vectors); lower lr={lr}")
            if order == 2 and len(orders) == 1:
                context = T
            parts.append(X)
        if len(parts) > 1:
            parts = [p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12) for p in parts]
            vectors = np.concatenate(parts, axis=1).astype(np.float32)
        else:
            vectors = parts[0]
        self.keyed_ = KeyedEmbeddings.from_graph(
            graph, vectors, meta={"method": "LINE", "params": json_params(self.get_params()), "samples": samples},
            copy=False)
        self.embedding_ = self.keyed_.vectors
        self.context_ = context
        self.losses_ = np.asarray(losses, dtype=np.float64)
        return self


def _train(src, dst, e_prob, e_alias, neg_nodes, n_prob, n_alias, X, T, negative, samples, lr, seed,
           report) -> list[float]:
    """Run all samples in blocks of about 1% (whole chunks), reporting after each block."""
    n_chunks = (samples + CHUNK - 1) // CHUNK
    per_block = max(1, math.ceil(n_chunks / 100))
    loss_out = np.zeros(per_block, dtype=np.float64)
    losses = []
    for first in range(0, n_chunks, per_block):
        count = min(per_block, n_chunks - first)
        loss_out[:] = 0.0
        _line_block(src, dst, e_prob, e_alias, neg_nodes, n_prob, n_alias, X, T, negative, first, count,
                    samples, lr, 1e-4, seed, _SIG_TABLE, _SOFTPLUS_TABLE, loss_out)
        done = min(samples, (first + count) * CHUNK)
        mean = float(loss_out[:count].sum() / (done - first * CHUNK))
        losses.append(mean)
        report(done / samples, mean)
    return losses
