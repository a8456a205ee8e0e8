"""DNE: a skip-gram embedding on edges that follows a changing graph at the cost of the change.

Du, Wang, Song, Lu, Wang, *Dynamic Network Embedding: An Extended Approach for Skip-gram based
Network Embedding*, IJCAI 2018 (reference code: lundu28/DynamicNetworkEmbedding).

Base model (:meth:`DNE.fit`): LINE second order (Tang et al., WWW 2015) with vertex vectors ``x``
and context vectors ``c``. Each sample draws an edge entry ``(u, v)`` with probability ∝ its weight
(alias table) and ascends ``log σ(x_u·c_v) + Σ_{n=1..k} log σ(−x_u·c_n)``, ``n ~ d_in^0.75``.
With unigram noise, the optimum of this objective is (Levy & Goldberg 2014; DNE eq. 4)

    x_u · c_v = PMI_uv = log(w_uv · D / (d_out(u) · d_in(v))) − log k,   D = Σ w.

The objective decomposes over vertices, so a vertex can be re-optimised on its own.

Update (:meth:`DNE.partial_fit`), for a :class:`~vastgraph.graph.delta.GraphDelta`:

1. apply the delta (:func:`~vastgraph.graph.delta.apply_delta`); re-read the weighted degrees of
   the touched vertices only and update ``D`` by their change (``O(Σ deg(touched))``); the noise
   distribution lives in Fenwick trees (:class:`~vastgraph.embed.dne_kernels.FenwickNoise`), so it
   follows the new degrees in ``O(touched · log N)``;
2. choose the old vertices to free. Default (``m="auto"``): every old vertex whose weighted degree
   ``d = d_out + d_in`` the delta changed by at least a fraction ``tau`` of its degree,
   ``|d' − d| ≥ tau · max(d, d')``. At the optimum every pair of ``u`` has
   ``x_u·c_v = log(w_uv D / (d(u) d(v))) − log k``, so a relative degree change ``r`` moves all
   of ``u``'s targets by ``|log(1 − r)|`` and adds new pairs it has never fitted: the vertices
   whose optimum moved are exactly those whose degree moved, and how many there are depends on
   the delta, not on a fixed fraction. Since ``d(u) ≤ |Δd(u)| / tau``, the freed vertices hold at
   most ``2·|delta| / tau`` entries, so the update's cost is bounded by the delta's size.
   With a number ``m`` (the paper's rule): score every old vertex among the touched ones and
   their neighbours by its deviation from the optimum,
   ``s(u) = Σ_v w_uv · |x_u·c_v − PMI_uv| / d_out(u)``, and free the top ``m``. (Measured on
   time-ordered bitcoin-alpha, this ranking mostly picks low-degree neighbours whose deviation is
   high before and after the delta, so ``m=0.1`` does no better than freeing the new vertices
   only; see bench/bench_dne_gap.py.)
3. free the new vertices and the chosen old vertices; freeze everyone else (their ``x``
   and ``c`` are not written at all, so they stay bit-identical);
4. train only on the edge entries incident to a freed vertex (its out-entries ``(u, ·)`` train
   ``x_u``, its in-entries ``(·, u)`` train ``c_u``), drawn by weight from an alias table built over
   just those entries, with negatives from the updated degree table. A freed old vertex is pulled
   towards its previous vectors by the gradient ``λ (x − x_old)`` (and ``λ (c − c_old)``), the
   reference's λ-term. Freed old vertices continue from their current vectors; new vertices start
   from the mean ``x`` and mean ``c`` of their old neighbours (plus word2vec-size noise), or from
   LINE's initialisation when they have none. (The reference code re-draws freed vectors at random;
   starting from the current values converges in fewer samples to the same optimum.)

Cost per update: ``O(Σ_{freed ∪ touched} deg + samples · (k+1) · d)`` (``m="auto"``; a numeric ``m``
also scores the touched vertices' neighbours) with ``samples`` = 50 × the entries incident to
freed vertices; no ``O(N·d)`` or ``O(E)`` step except the
CSR rebuild inside ``apply_delta`` (and the row re-layout described in
:mod:`vastgraph.embed.dne_kernels` when a non-last node type grows). ``joint=True`` adds the
reference code's reverse step ``log σ(c_v·x_u) + Σ_n log σ(−c_v·x_n)`` (``n ~ d_out^0.75``) to every
sample, in ``fit`` and in updates alike.

Example:
    >>> from vastgraph.graph import GraphBuilder
    >>> from vastgraph.graph.delta import GraphDelta
    >>> b = GraphBuilder(directed=False)
    >>> _ = b.add_edges([0, 1, 2, 3], [1, 2, 3, 0])
    >>> model = DNE(dimensions=8, samples=2000, random_state=0).fit(b.build())
    >>> kv = model.partial_fit(GraphDelta().add_nodes("node", [4]).add_edges([4], [0])).keyed_
    >>> kv.vectors.shape, model.last_update_.new_vertices.tolist()
    ((5, 8), [4])
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba as nb
import numpy as np

from vastgraph.embed.base import Embedder
from vastgraph.embed.deepwalk import split_seeds
from vastgraph.embed.dne_kernels import (CHUNK, FenwickNoise, GrowableRows, csr_rows, edge_sgns_block, gather_rows,
                                         global_ids, old_mask, pmi_deviation, row_cosines, row_sums,
                                         seed_for_update, type_counts)
from vastgraph.embed.sgns import _SIG_TABLE, _SOFTPLUS_TABLE, unigram_tables
from vastgraph.validation import ProgressFn, check_float, check_int, check_progress
from vastgraph.errors import (CorruptStoreError, EmptyInputError, ValidationError)
from vastgraph.embed.dynamic_state import (STATE_FORMAT, STATE_VERSION, check_layout, followed_graph,  # noqa: F401
                                           read_state, restore_params, state_params, store_version_of, write_state)
from vastgraph.sampling.alias import build_alias

SAMPLES_PER_ENTRY = 100
"""Default edge samples per stored edge entry in ``fit`` (LINE's rate)."""
UPDATE_SAMPLES_PER_ENTRY = 50
"""Default edge samples per trained entry in an update: half the fit's rate, because every freed vertex
starts warm (old ones from their current vectors, new ones from their neighbours' mean); on the
time-ordered bitcoin-alpha replay 100 instead of 50 changed the future-link AUC by < 0.01 at twice
the cost (bench/bench_dne_gap.py)."""
DEFAULT_TAU = 0.3
"""Default relative degree change that frees an old vertex (``m="auto"``)."""
MAX_SAMPLES = 200_000_000
"""Cap of the default sample counts."""


@dataclass(frozen=True)
class UpdateReport:
    """What one ``partial_fit`` did (``last_update_`` of the dynamic embedders).

    Attributes:
        new_vertices: int64 global ids of the new vertices.
        freed: int64 global ids of the freed old vertices (DNE: those whose degree moved by ``tau``
            under ``m="auto"``, else the top-m by score; walks: re-walked).
        scores: float64 deviation score ``s(u)`` of each freed old vertex, before its update (NaN
            for the walk embedder).
        candidates: number of old vertices considered: touched (DNE ``m="auto"``), touched and their
            neighbours (numeric ``m``), or affected (walks).
        edges_trained: edge entries (DNE) or walks (walk embedder) the update trained on.
        samples: edge samples (DNE) or skip-gram pairs (walk embedder) trained.
        seconds: wall time of the update, the delta's application included.
        unchanged_cosine: mean cosine between the new and the previous vectors of the old
            vertices the delta did not touch (1.0 means they did not move).
    """

    new_vertices: np.ndarray
    freed: np.ndarray
    scores: np.ndarray
    candidates: int
    edges_trained: int
    samples: int
    seconds: float
    unchanged_cosine: float

    def summary(self) -> dict[str, Any]:
        """JSON-able counts for tables and logs."""
        return {"new vertices": int(self.new_vertices.size), "freed old vertices": int(self.freed.size),
                "candidates": int(self.candidates), "edges trained": int(self.edges_trained),
                "samples": int(self.samples), "seconds": round(float(self.seconds), 4),
                "unchanged cosine": round(float(self.unchanged_cosine), 6)}


def apply_update(graph: Any, delta: Any, time_policy: str = "reject", missing: str = "raise") -> tuple[Any, Any]:
    """``(new_graph, DeltaSummary)`` of a GraphDelta applied to ``graph``, or an already applied pair."""
    if isinstance(delta, tuple):
        if len(delta) != 2 or not hasattr(delta[1], "touched"):
            raise ValidationError("delta: expected a GraphDelta or a (new_graph, DeltaSummary) pair")
        return delta
    from vastgraph.graph.delta import GraphDelta, apply_delta

    if not isinstance(delta, GraphDelta):
        raise ValidationError(f"delta: {type(delta).__name__}; expected a GraphDelta or a "
                              "(new_graph, DeltaSummary) pair")
    return apply_delta(graph, delta, time_policy=time_policy, missing=missing)


def _edge_types(graph: Any, etype: Any) -> list[Any]:
    return [graph.edge_type(etype)] if etype is not None else list(graph.edge_types)


def _entries(graph: Any, ets: list[Any], rows_global: np.ndarray, exclude: np.ndarray | None,
             direction: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Global ``(src, dst, weight)`` of the out-entries (``"out"``) or in-entries (``"in"``) of rows.

    ``exclude`` (a per-row uint8 flag array) drops in-entries whose other endpoint is flagged (they
    are collected as that endpoint's out-entries already).
    """
    offs = graph.node_offsets()
    srcs, dsts, ws = [], [], []
    for et in ets:
        own, other = (et.src, et.dst) if direction == "out" else (et.dst, et.src)
        a, n_own = offs[own], graph.num_nodes(own)
        sel = rows_global[(rows_global >= a) & (rows_global < a + n_own)]
        if sel.size == 0:
            continue
        indptr, indices, weight = csr_rows(graph, et, reverse=direction == "in")
        pos, owner = gather_rows(indptr, sel - a)
        far = indices[pos] + offs[other]
        near = sel[owner]
        w = np.ones(pos.size, np.float32) if weight is None else weight[pos]
        if direction == "in" and exclude is not None:
            keep = exclude[far] == 0
            far, near, w = far[keep], near[keep], w[keep]
        srcs.append(near if direction == "out" else far)
        dsts.append(far if direction == "out" else near)
        ws.append(w)
    if not srcs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return np.concatenate(srcs), np.concatenate(dsts), np.concatenate(ws)


def _degrees(graph: Any, ets: list[Any], rows_global: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted out- and in-degree (over ``ets``) of global rows, read from the CSR/CSC rows."""
    offs = graph.node_offsets()
    out = np.zeros(rows_global.size, np.float64)
    inn = np.zeros(rows_global.size, np.float64)
    for et in ets:
        for own, reverse, acc in ((et.src, False, out), (et.dst, True, inn)):
            a, n_own = offs[own], graph.num_nodes(own)
            m = (rows_global >= a) & (rows_global < a + n_own)
            if m.any():
                indptr, _, weight = csr_rows(graph, et, reverse=reverse)
                acc[m] += row_sums(indptr, weight, rows_global[m] - a)
    return out, inn


class DNE(Embedder):
    """DNE dynamic node embeddings: LINE-2nd-order base, updated per delta by freeing few vertices.

    See the module docstring for the objective, the update and its cost.

    Args:
        dimensions: embedding size ``d`` (the reference code used 20). Default 128.
        negative: negatives per sample ``k`` (also the ``log k`` shift of the PMI). Default 4.
        lam: pull ``λ`` of freed old vertices towards their previous vectors. Default 1e-3.
        m: which old vertices an update frees. ``"auto"`` (default): every touched old vertex whose
            weighted degree changed by at least ``tau`` of its degree (see the module docstring).
            A fraction in ``[0, 1]`` (float) of the delta's touched old vertices (rounded up) or a
            count (int): the top-``m`` by deviation score ``s(u)`` among the touched vertices and
            their neighbours (the paper's rule).
        tau: relative degree change ``|d' − d| / max(d, d')`` that frees an old vertex under
            ``m="auto"``, in ``(0, 1]``; lower frees more (cost ``≤ 2·|delta| / tau`` entries).
            Default 0.3.
        samples: edge samples of ``fit``; default ``100 ×`` the stored entries, capped at 2e8.
        update_samples: edge samples per update; default ``50 ×`` the entries incident to freed
            vertices (capped at 2e8).
        lr: initial learning rate (linear decay to ``lr · 1e-4`` within fit and within each update).
            Default 0.025.
        order: LINE order: ``2`` (vertex and context vectors, the method) or ``1`` (one shared
            vector per vertex: ``c = x``, noise over total degree). Default 2.
        joint: also train the reverse step ``c_v → x_u`` of every sample (the reference code's
            joint objective). Default False.
        etype: train on this edge type only; default all edge types over global ids.
        random_state: None, an int or a ``numpy.random.Generator``. Default None.
        progress: optional ``progress(done_fraction, mean_loss)``. Default None.

    Attributes:
        embedding_: float32 ``(N, d)`` in global node-id order (read-only view of live vectors).
        context_: float32 ``(N, d)`` context vectors (``x`` itself for ``order=1``).
        keyed_: :class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings` (a read-only view: a
            later update changes the rows it frees in place; copy ``vectors`` to keep a snapshot).
        graph_: the graph seen so far. ``total_weight_``: ``D``. ``last_update_``: :class:`UpdateReport`.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_edges([0, 1, 2], [1, 2, 0])
        >>> DNE(dimensions=4, samples=500, random_state=0).fit(b.build()).embedding_.shape
        (3, 4)
    """

    def __init__(self, dimensions: int = 128, negative: int = 4, lam: float = 1e-3, m: float | int | str = "auto",
                 tau: float = DEFAULT_TAU, samples: int | None = None, update_samples: int | None = None, lr: float = 0.025,
                 order: int = 2, joint: bool = False, etype: Any = None, random_state: Any = None,
                 progress: ProgressFn | None = None) -> None:
        self.dimensions = dimensions
        self.negative = negative
        self.lam = lam
        self.m = m
        self.tau = tau
        self.samples = samples
        self.update_samples = update_samples
        self.lr = lr
        self.order = order
        self.joint = joint
        self.etype = etype
        self.random_state = random_state
        self.progress = progress

    # ------------------------------------------------------------------ parameters
    def _checked(self) -> dict[str, Any]:
        if isinstance(self.order, bool) or self.order not in (1, 2):
            raise ValidationError(f"order={self.order!r}: expected 1 or 2")
        if not isinstance(self.joint, (bool, np.bool_)):
            raise ValidationError(f"joint={self.joint!r}: expected True or False")
        m = self.m
        if isinstance(m, bool) or not (m == "auto" if isinstance(m, str) else
                                       isinstance(m, (int, float, np.integer, np.floating))):
            raise ValidationError(f"m={m!r}: expected 'auto', a fraction in [0, 1] (float) or a count >= 0 (int)")
        check_float("tau", self.tau, high=1.0)
        if isinstance(m, str):
            pass
        elif isinstance(m, (float, np.floating)):
            check_float("m", m, low_open=False, high=1.0)
        else:
            check_int("m", m, 0)
        for name in ("samples", "update_samples"):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), 1)
        return dict(d=check_int("dimensions", self.dimensions, 1), k=check_int("negative", self.negative, 1),
                    lam=check_float("lam", self.lam, low_open=False), lr=check_float("lr", self.lr),
                    progress=check_progress(self.progress))

    def _free_count(self, n_touched_old: int, n_candidates: int) -> int:
        m = self.m
        want = math.ceil(float(m) * n_touched_old) if isinstance(m, (float, np.floating)) else int(m)
        return int(min(want, n_candidates))

    # ------------------------------------------------------------------ fit
    def fit(self, graph: Any) -> "DNE":
        """Train the LINE base model on ``graph``; returns ``self``."""
        from vastgraph.embed.line import _edges

        p = self._checked()
        d = p["d"]
        ets = _edge_types(graph, self.etype)
        src, dst, w = _edges(graph, self.etype)
        src, dst = src.astype(np.int64), dst.astype(np.int64)
        if src.size == 0:
            raise EmptyInputError("DNE: the graph has no edges to sample")
        w = np.ones(src.size, np.float32) if w is None else np.asarray(w, np.float32)
        if not np.isfinite(w).all() or w.min() < 0 or w.sum() <= 0:
            raise ValidationError("DNE: edge weights must be finite and >= 0 with a positive sum")
        samples = (min(SAMPLES_PER_ENTRY * src.size, MAX_SAMPLES) if self.samples is None
                   else int(self.samples))
        n = graph.num_nodes_total()
        base_seed, init_seed, train_seed = split_seeds(self.random_state, 3)
        rows = GrowableRows(d, n, matrices=("X",) if self.order == 1 else ("X", "C"))
        rows.resize_layout(list(graph.node_types), {}, type_counts(graph))
        out_deg = np.bincount(src, weights=w.astype(np.float64), minlength=n)
        in_deg = np.bincount(dst, weights=w.astype(np.float64), minlength=n)
        rows.out_deg[:] = out_deg
        rows.in_deg[:] = in_deg
        rng = np.random.default_rng(init_seed)
        rows.X[:] = (rng.random((n, d), dtype=np.float32) - np.float32(0.5)) / np.float32(d)
        self._rows, self._ets, self._base_seed, self._n_updates = rows, ets, int(base_seed), 0
        self._D = float(w.astype(np.float64).sum())
        in_noise, out_noise = self._noise_counts(np.arange(n))
        _, in_nodes, in_prob, in_alias = unigram_tables(in_noise)
        _, out_nodes, out_prob, out_alias = unigram_tables(out_noise)
        e_prob, e_alias = build_alias(np.array([0, src.size], np.int64), w)
        dummy = np.zeros(1, np.float64)
        tables = (False, in_nodes, in_prob, in_alias, dummy, 1.0, out_nodes, out_prob, out_alias, dummy, 1.0, n)
        self.losses_ = self._train(src, dst, e_prob, e_alias, True, tables, samples, p, np.uint64(train_seed),
                                   np.zeros((1, d), np.float32), np.zeros((1, d), np.float32))
        if not np.isfinite(rows.X).all():
            raise ValidationError(f"DNE diverged (non-finite vectors); lower lr={self.lr}")
        self._in_noise = FenwickNoise(in_noise, rows.capacity)
        self._out_noise = FenwickNoise(out_noise, rows.capacity)
        self.samples_ = int(samples)
        self._publish(graph)
        return self

    def _noise_counts(self, rows_global: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = self._rows
        if self.order == 1:
            tot = r.full("out_deg")[rows_global] + r.full("in_deg")[rows_global]
            return tot, tot
        return r.full("in_deg")[rows_global], r.full("out_deg")[rows_global]

    def _matrices(self) -> tuple[np.ndarray, np.ndarray]:
        X = self._rows.full("X")
        return X, (X if self.order == 1 else self._rows.full("C"))

    def _train(self, src, dst, e_prob, e_alias, all_free, tables, samples, p, seed, X_old, C_old) -> np.ndarray:
        """Run ``samples`` edge samples in blocks of about 1%, reporting progress after each."""
        X, C = self._matrices()
        rows = self._rows
        n_chunks = (samples + CHUNK - 1) // CHUNK
        per_block = max(nb.get_num_threads(), math.ceil(n_chunks / (100 if all_free else 4)))
        loss_out = np.zeros(per_block, dtype=np.float64)
        losses = []
        progress = p["progress"]
        for first in range(0, n_chunks, per_block):
            count = min(per_block, n_chunks - first)
            loss_out[:] = 0.0
            edge_sgns_block(src, dst, e_prob, e_alias, X, C, rows.free, all_free, rows.slot, X_old, C_old,
                            p["lam"], p["k"], bool(self.joint), *tables, first, count, samples, p["lr"], 1e-4,
                            seed, _SIG_TABLE, _SOFTPLUS_TABLE, loss_out)
            done = min(samples, (first + count) * CHUNK)
            mean = float(loss_out[:count].sum() / max(1, done - first * CHUNK))
            losses.append(mean)
            if progress is not None:
                progress(done / samples, mean)
        return np.asarray(losses, dtype=np.float64)

    def _publish(self, graph: Any) -> None:
        from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

        types = list(graph.node_types)
        offs = np.zeros(len(types) + 1, dtype=np.int64)
        for i, t in enumerate(types):
            offs[i + 1] = offs[i] + graph.num_nodes(t)
        index = {t: graph.id_index(t) for t in types}
        meta = {"method": "DNE", "params": state_params(self.get_params()), "updates": self._n_updates}
        # a read-only view of the live rows (no O(N·d) copy or scan per update; freed rows were checked)
        self.keyed_ = KeyedEmbeddings._trusted(self._rows.X, types, offs, index, meta)
        self.embedding_ = self.keyed_.vectors
        X, C = self._matrices()
        self.context_ = C[: self._rows.n]
        self.graph_ = graph
        self.total_weight_ = self._D
        self._counts = type_counts(graph)

    # ------------------------------------------------------------------ scores
    def deviation_scores(self, nodes: Any) -> np.ndarray:
        """``s(u) = Σ_v w_uv·|x_u·c_v − PMI_uv| / d_out(u)`` of global ids ``nodes`` (0 without out-edges)."""
        self.check_is_fitted()
        g = np.atleast_1d(np.asarray(nodes, dtype=np.int64))
        if g.size and (g.min() < 0 or g.max() >= self._rows.n):
            raise ValidationError(f"nodes: global ids must be in [0, {self._rows.n}); got {g.min()}..{g.max()}")
        graph = self.graph_
        offs = graph.node_offsets()
        X, C = self._matrices()
        num = np.zeros(g.size, np.float64)
        log_k = math.log(check_int("negative", self.negative, 1))
        for et in self._ets:
            a, n_src = offs[et.src], graph.num_nodes(et.src)
            m = (g >= a) & (g < a + n_src)
            if not m.any():
                continue
            indptr, indices, weight = csr_rows(graph, et)
            part = np.zeros(int(m.sum()), np.float64)
            has_w = weight is not None
            wt = weight if has_w else np.zeros(1, np.float32)
            pmi_deviation(indptr, indices, wt, has_w, g[m] - a, a, offs[et.dst], X, C,
                          self._rows.full("out_deg"), self._rows.full("in_deg"), self._D, log_k, part)
            num[m] += part
        deg = self._rows.full("out_deg")[g]
        return np.where(deg > 0, num / np.where(deg > 0, deg, 1.0), 0.0)

    # ------------------------------------------------------------------ update
    def partial_fit(self, delta: Any, *, time_policy: str = "reject", missing: str = "raise") -> "DNE":
        """Apply a delta and update the embedding at the cost of the change; returns ``self``.

        Args:
            delta: a :class:`~vastgraph.graph.delta.GraphDelta` (applied to ``graph_`` with
                ``time_policy``), or ``(new_graph, DeltaSummary)`` from an ``apply_delta`` already done
                (e.g. the new version of a :class:`~vastgraph.graph.dynamic_store.DynamicStore`).
            time_policy: ``"reject"`` or ``"allow"`` edges older than the graph's latest time.
            missing: ``"raise"`` or ``"ignore"`` deletions of absent edges.

        Returns:
            ``self``; the updated vectors are ``keyed_`` and ``last_update_`` says which vertices
            moved. If the delta is rejected the model is unchanged.
        """
        self.check_is_fitted()
        p = self._checked()
        t0 = time.perf_counter()
        graph, summary = apply_update(self.graph_, delta, time_policy, missing)
        rows = self._rows
        old_counts, new_counts = self._counts, type_counts(graph)
        types = list(graph.node_types)
        shifted = rows.resize_layout(types, old_counts, new_counts)
        if shifted or self._in_noise.capacity < rows.capacity:
            self._in_noise = FenwickNoise(self._noise_counts(np.arange(rows.n))[0], rows.capacity)
            self._out_noise = FenwickNoise(self._noise_counts(np.arange(rows.n))[1], rows.capacity)
        n = rows.n
        new_g = np.unique(global_ids(graph, summary.new_nodes))
        touched = np.unique(np.concatenate([global_ids(graph, summary.touched), new_g]))
        # 1) degrees, D and the noise of the touched vertices
        out_new, in_new = _degrees(graph, self._ets, touched)
        out_deg, in_deg = rows.full("out_deg"), rows.full("in_deg")
        deg_prev = out_deg[touched] + in_deg[touched]
        self._D += float(out_new.sum() - out_deg[touched].sum())
        out_deg[touched] = out_new
        in_deg[touched] = in_new
        in_c, out_c = self._noise_counts(touched)
        self._in_noise.set(touched, in_c)
        self._out_noise.set(touched, out_c)
        self.graph_ = graph
        # 2) choose the old vertices to free
        is_old = old_mask(graph, touched, old_counts)
        touched_old = touched[is_old]
        if isinstance(self.m, str):  # "auto": the vertices whose degree (so whose optimum) moved
            deg_new = (out_new + in_new)[is_old]
            prev = deg_prev[is_old]
            change = np.abs(deg_new - prev) / np.maximum(np.maximum(deg_new, prev), 1e-300)
            freed_old = touched_old[change >= float(self.tau)]
            scores = self.deviation_scores(freed_old)
            n_cand = int(touched_old.size)
        elif self._free_count(touched_old.size, touched_old.size) == 0:  # m = 0: new vertices only
            freed_old, scores, n_cand = touched_old[:0], np.zeros(0), 0
        else:  # the paper's rule: top-m by deviation among the touched vertices and their neighbours
            near = [touched_old]
            for direction in ("out", "in"):
                s_, t_, _ = _entries(graph, self._ets, touched_old, None, direction)
                near.append(t_ if direction == "out" else s_)
            cand = np.unique(np.concatenate(near))
            cand = cand[old_mask(graph, cand, old_counts)]
            cand_scores = self.deviation_scores(cand)
            k_free = self._free_count(touched_old.size, cand.size)
            top = np.argsort(-cand_scores, kind="stable")[:k_free]
            freed_old, scores, n_cand = cand[top], cand_scores[top], int(cand.size)
        freed = np.concatenate([new_g, freed_old])
        # 3) initial vectors of the new vertices, scratch flags of the freed ones
        X, C = self._matrices()
        seed = seed_for_update(int(self.random_state) if isinstance(self.random_state, (int, np.integer))
                               and not isinstance(self.random_state, bool) else self._base_seed,
                               self._n_updates + 1)
        self._init_new(graph, new_g, X, C, p["d"], int(seed))
        X_old, C_old = X[freed_old].copy(), C[freed_old].copy()
        rows.free[freed] = 1
        rows.slot[freed_old] = np.arange(freed_old.size)
        try:
            src_o, dst_o, w_o = _entries(graph, self._ets, freed, None, "out")
            src_i, dst_i, w_i = _entries(graph, self._ets, freed, rows.free, "in")
            src = np.concatenate([src_o, src_i])
            dst = np.concatenate([dst_o, dst_i])
            w = np.concatenate([w_o, w_i])
            samples = 0
            if src.size and float(w.sum()) > 0:
                samples = (min(UPDATE_SAMPLES_PER_ENTRY * src.size, MAX_SAMPLES) if self.update_samples is None
                           else int(self.update_samples))
                e_prob, e_alias = build_alias(np.array([0, src.size], np.int64), w)
                dummy_i, dummy_f = np.zeros(1, np.int64), np.zeros(1, np.float32)
                tables = (True, dummy_i, dummy_f, dummy_f.astype(np.int32), self._in_noise.tree,
                          self._in_noise.total(), dummy_i, dummy_f, dummy_f.astype(np.int32),
                          self._out_noise.tree, self._out_noise.total(), n)
                self.losses_ = self._train(src, dst, e_prob, e_alias, False, tables, samples, p, seed,
                                           X_old if X_old.size else np.zeros((1, p["d"]), np.float32),
                                           C_old if C_old.size else np.zeros((1, p["d"]), np.float32))
        finally:
            rows.free[freed] = 0
            rows.slot[freed_old] = -1
        if not (np.isfinite(X[freed]).all() and np.isfinite(C[freed]).all()):
            raise ValidationError(f"DNE update diverged (non-finite vectors); lower lr={self.lr}")
        # 4) report
        self._n_updates += 1
        self._publish(graph)
        moved = ~np.isin(freed_old, touched)
        n_unchanged = int(n - new_g.size - touched_old.size)
        cos_sum = float(row_cosines(X[freed_old[moved]], X_old[moved]).sum()) if moved.any() else 0.0
        unchanged = (cos_sum + (n_unchanged - int(moved.sum()))) / n_unchanged if n_unchanged > 0 else 1.0
        self.last_update_ = UpdateReport(new_g, freed_old, scores, n_cand, int(src.size), int(samples),
                                         time.perf_counter() - t0, float(unchanged))
        return self

    def _init_new(self, graph: Any, new_g: np.ndarray, X: np.ndarray, C: np.ndarray, d: int, seed: int) -> None:
        """New vertices: mean x and mean c of their old neighbours plus small noise, else LINE's init."""
        if new_g.size == 0:
            return
        rng = np.random.default_rng(seed)
        noise = (rng.random((new_g.size, d), dtype=np.float32) - np.float32(0.5)) / np.float32(d)
        s_o, t_o, _ = _entries(graph, self._ets, new_g, None, "out")
        s_i, t_i, _ = _entries(graph, self._ets, new_g, None, "in")
        me = np.concatenate([s_o, t_i])
        nb_ = np.concatenate([t_o, s_i])
        keep = ~np.isin(nb_, new_g)
        me, nb_ = me[keep], nb_[keep]
        slot = np.searchsorted(new_g, me)
        cnt = np.bincount(slot, minlength=new_g.size).astype(np.float32)
        sx = np.zeros((new_g.size, d), np.float32)
        sc = np.zeros((new_g.size, d), np.float32)
        np.add.at(sx, slot, X[nb_])
        np.add.at(sc, slot, C[nb_])
        has = cnt > 0
        X[new_g] = np.where(has[:, None], sx / np.maximum(cnt, 1)[:, None] + noise, noise)
        if C is not X:
            C[new_g] = np.where(has[:, None], sc / np.maximum(cnt, 1)[:, None], 0.0)

    # ------------------------------------------------------------------ persistence
    def save_state(self, folder: str | Path, *, follows: dict[str, Any] | None = None) -> str:
        """Write what ``partial_fit`` continues from: vectors, degrees, D, params and the store version.

        The state names the store version ``graph_`` was read from (``follows``, default derived
        from ``graph_``: see :func:`store_version_of`) instead of copying the graph, so it is
        O(nodes × d) on disk; :meth:`load_state` reopens that version.
        """
        self.check_is_fitted()
        r = self._rows
        arrays = {"X": r.X, "out_deg": r.out_deg, "in_deg": r.in_deg}
        if self.order != 1:
            arrays["C"] = r.C
        meta = {"params": state_params(self.get_params()), "D": self._D, "updates": self._n_updates,
                "base_seed": self._base_seed, "samples": self.samples_,
                "edge_types": [list(et) for et in self._ets]}
        return write_state(folder, "DNE", meta, arrays,
                           follows if follows is not None else store_version_of(self.graph_))

    @classmethod
    def load_state(cls, folder: str | Path, *, graph: Any = None, progress: ProgressFn | None = None) -> "DNE":
        """A fitted :class:`DNE` from a folder written by :meth:`save_state` (checksums verified).

        ``graph``: the graph the state follows; default the store version it names, opened from disk.
        """
        from vastgraph.graph.schema import EdgeType

        meta, arrays = read_state(folder, "DNE")
        graph = followed_graph(meta["follows"], graph, where=str(folder))
        check_layout(graph, arrays["X"].shape[0], str(folder))
        try:
            model = cls(**restore_params(meta["params"]), progress=progress)
            X = arrays["X"]
            rows = GrowableRows(X.shape[1], X.shape[0], matrices=("X",) if model.order == 1 else ("X", "C"))
            rows.resize_layout(list(graph.node_types), {}, type_counts(graph))
            for name in rows._mats:
                rows.full(name)[: rows.n] = arrays[name]
            for name in ("out_deg", "in_deg"):
                rows.full(name)[: rows.n] = arrays[name]
            model._rows, model._D = rows, float(meta["D"])
            model._n_updates, model._base_seed = int(meta["updates"]), int(meta["base_seed"])
            model._ets = [EdgeType(*et) for et in meta["edge_types"]]
            model.samples_ = int(meta["samples"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptStoreError(f"{folder}: malformed DNE state ({exc!r})") from None
        in_c, out_c = model._noise_counts(np.arange(rows.n))
        model._in_noise = FenwickNoise(in_c, rows.capacity)
        model._out_noise = FenwickNoise(out_c, rows.capacity)
        model.follows_ = meta["follows"]
        model._publish(graph)
        return model
