"""Numba kernels of the dynamic embedders (DNE and incremental walk embeddings).

Reference: L. Du, Y. Wang, G. Song, Z. Lu, J. Wang, *Dynamic Network Embedding: An Extended
Approach for Skip-gram based Network Embedding*, IJCAI 2018 (reference code:
lundu28/DynamicNetworkEmbedding).

What lives here:

* **Dynamic noise sampler.** A Fenwick (binary indexed) tree over per-node weights
  ``f(v) = deg(v)^0.75``: ``O(log N)`` to change one weight and ``O(log N)`` to draw ``v`` with
  probability ``f(v) / Σ f``. An update therefore changes the noise distribution in time
  proportional to the nodes whose degree changed, where an alias table would be rebuilt in
  ``O(N)``. (:func:`fenwick_build`, :func:`fenwick_add`, :func:`fenwick_draw`.)
* **PMI deviation score** (:func:`pmi_deviation`): for the given rows ``u``,
  ``Σ_v w_uv · |x_u·c_v − PMI_uv|`` with ``PMI_uv = log(w_uv·D / (d_out(u)·d_in(v))) − log k``,
  the distance of ``u`` from the optimum of the skip-gram objective on edges (parallel copies of
  ``(u, v)`` are summed into one ``w_uv``; rows must be sorted, as the store keeps them).
* **Edge SGNS with a freeze mask** (:func:`edge_sgns_block`): LINE second-order steps on edges drawn
  by weight from an alias table, ``log σ(x_u·c_v) + Σ_n log σ(−x_u·c_n)``; with ``joint`` also DNE's
  reverse step ``log σ(c_v·x_u) + Σ_n log σ(−c_v·x_n)`` (the reference's ``joint_optimize``). Only
  rows whose ``free`` flag is set are written; a freed row with a regularisation slot is pulled
  towards its previous value by the gradient ``λ (x − x_old)``.
* **Growable state** (:class:`GrowableRows`, :class:`FenwickNoise`): vectors and per-node arrays
  with spare capacity (doubling), so appending new vertices costs amortised ``O(new · d)``. Rows are
  in global node-id order; when a delta adds nodes to a node type other than the last, the global
  ids of later types shift and the rows are re-laid out (``O(N · d)``, the one update step that is
  not proportional to the delta; homogeneous graphs never pay it).
* **Walk SGNS with a freeze mask** (:func:`walk_sgns_block`): word2vec pairs within a dynamic
  window of each walk, negatives from the Fenwick sampler, only free rows written.

All kernels are Hogwild (``prange`` over chunks, lock-free updates) and draw from counter-based
streams (:mod:`vastgraph.seeding`), so with one numba thread results depend only on the seed.

Example:
    >>> tree = fenwick_build(np.array([1.0, 0.0, 3.0]))
    >>> float(fenwick_total(tree))
    4.0
    >>> rows = GrowableRows(dim=4, capacity=2)
    >>> rows.resize_layout(["node"], {"node": 0}, {"node": 3})
    False
    >>> rows.X.shape, rows.capacity >= 3
    ((3, 4), True)
"""

from __future__ import annotations

import math
from typing import Any

import numba as nb
import numpy as np

from vastgraph.embed.sgns import pair_step
from vastgraph.sampling.alias import alias_draw
from vastgraph.seeding import next_float, next_int, stream

CHUNK = 4096
"""Edge samples per random stream / parallel work item."""


# ------------------------------------------------------------------------------ Fenwick sampler
@nb.njit(nogil=True, cache=True)
def fenwick_build(values):  # pragma: no cover - numba
    """Fenwick tree (1-based, float64, length ``n + 1``) of ``values`` in ``O(n)``."""
    n = values.shape[0]
    tree = np.zeros(n + 1, dtype=np.float64)
    for i in range(n):
        tree[i + 1] += values[i]
        j = (i + 1) + ((i + 1) & -(i + 1))
        if j <= n:
            tree[j] += tree[i + 1]
    return tree


@nb.njit(nogil=True, cache=True)
def fenwick_add(tree, idx, delta):  # pragma: no cover - numba
    """``values[idx[i]] += delta[i]`` for every i (``O(len(idx) · log n)``)."""
    n = tree.shape[0] - 1
    for t in range(idx.shape[0]):
        i = idx[t] + 1
        dv = delta[t]
        while i <= n:
            tree[i] += dv
            i += i & -i


@nb.njit(nogil=True, cache=True)
def fenwick_total(tree):  # pragma: no cover - numba
    """Sum of all values (``O(log n)``)."""
    n = tree.shape[0] - 1
    s = 0.0
    i = n
    while i > 0:
        s += tree[i]
        i -= i & -i
    return s


@nb.njit(inline="always", cache=True)
def fenwick_draw(state, tree, total, n):  # pragma: no cover - numba
    """Draw an index in ``[0, n)`` with probability ``values[i] / total`` (``O(log n)``)."""
    state, u = next_float(state)
    target = u * total
    pos = 0
    step = 1
    size = tree.shape[0] - 1
    while step * 2 <= size:
        step *= 2
    while step > 0:
        nxt = pos + step
        if nxt <= size and tree[nxt] <= target:
            pos = nxt
            target -= tree[nxt]
        step //= 2
    if pos >= n:
        pos = n - 1
    return state, pos


# ------------------------------------------------------------------------------ PMI deviation
@nb.njit(nogil=True, parallel=True, fastmath=True, cache=True)
def pmi_deviation(indptr, indices, weight, has_weight, rows, src_off, dst_off, X, C, out_deg, in_deg,
                  total, log_k, out):  # pragma: no cover - numba
    """``out[i] += Σ_v w_uv · |x_u · c_v − PMI_uv|`` over row ``rows[i]`` of one CSR.

    ``u = rows[i] + src_off`` and ``v = indices[j] + dst_off`` are global rows of ``X``/``C``;
    ``out_deg``/``in_deg`` are weighted global degrees, ``total`` is ``D`` (total entry weight).
    Consecutive equal column ids (parallel edges) are summed into one ``w_uv``.
    """
    d = X.shape[1]
    for i in nb.prange(rows.shape[0]):
        r = rows[i]
        u = r + src_off
        a = indptr[r]
        b = indptr[r + 1]
        acc = 0.0
        j = a
        while j < b:
            col = indices[j]
            w = 0.0
            while j < b and indices[j] == col:
                w += weight[j] if has_weight else 1.0
                j += 1
            v = col + dst_off
            if w <= 0.0 or out_deg[u] <= 0.0 or in_deg[v] <= 0.0:
                continue
            dot = 0.0
            for x in range(d):
                dot += X[u, x] * C[v, x]
            pmi = math.log(w * total / (out_deg[u] * in_deg[v])) - log_k
            acc += w * abs(dot - pmi)
        out[i] += acc


# ------------------------------------------------------------------------------ edge SGNS (DNE)
@nb.njit(inline="always", fastmath=True, cache=True)
def _edge_step(state, I, T, a, b, free, all_free, reg_slot, I_old, lam, negative, use_tree, nodes,
               prob, alias, tree, tree_total, n_noise, alpha, err, sig, softplus):  # pragma: no cover
    """One SGNS step: input row ``I[a]``, positive target ``T[b]``, ``negative`` noise targets."""
    d = I.shape[1]
    a_free = all_free or free[a] != 0
    for x in range(d):
        err[x] = 0.0
    loss = 0.0
    for k in range(negative + 1):
        if k == 0:
            t = b
        else:
            if use_tree:
                state, t = fenwick_draw(state, tree, tree_total, n_noise)
            else:
                state, j = alias_draw(state, 0, n_noise, prob, alias)
                t = nodes[j]
            if t == b:
                continue
        t_free = all_free or free[t] != 0
        if not a_free and not t_free:
            continue
        loss += pair_step(I, T, a, t, k == 0, alpha, err, t_free, sig, softplus)
    if a_free:
        slot = -1 if all_free else reg_slot[a]
        if slot >= 0:
            rg = np.float32(alpha * lam)
            for x in range(d):
                I[a, x] += err[x] - rg * (I[a, x] - I_old[slot, x])
        else:
            for x in range(d):
                I[a, x] += err[x]
    return state, loss


@nb.njit(nogil=True, parallel=True, fastmath=True, boundscheck=False, cache=True)
def edge_sgns_block(src, dst, e_prob, e_alias, X, C, free, all_free, reg_slot, X_old, C_old, lam, negative,
                    joint, use_tree, in_nodes, in_prob, in_alias, in_tree, in_total, out_nodes, out_prob,
                    out_alias, out_tree, out_total, n_noise, first_chunk, n_chunks, total, lr0, lr_floor, seed,
                    sig, softplus, loss_out):  # pragma: no cover - numba
    """Train chunks ``first_chunk .. first_chunk + n_chunks`` of :data:`CHUNK` edge samples.

    Each sample draws an entry ``e`` (alias table ``e_prob``/``e_alias`` over ``src``/``dst``), does
    the step ``x_u → c_v`` with negatives ``c_n`` (``n`` from the in-noise sampler) and, with
    ``joint``, the step ``c_v → x_u`` with negatives ``x_n`` (out-noise). The noise samplers are
    alias tables (``use_tree=False``: ``*_nodes/_prob/_alias``) or Fenwick trees (``*_tree`` with
    sum ``*_total``) over ``n_noise`` nodes. Only rows with ``free[row] != 0`` (every row when
    ``all_free``) are written; ``reg_slot[row] >= 0`` pulls the row towards ``X_old``/``C_old``.
    """
    d = X.shape[1]
    n_edges = src.shape[0]
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
            v = dst[e]
            state, ls = _edge_step(state, X, C, u, v, free, all_free, reg_slot, X_old, lam, negative, use_tree,
                                   in_nodes, in_prob, in_alias, in_tree, in_total, n_noise, alpha, err, sig,
                                   softplus)
            loss += ls
            if joint:
                state, ls = _edge_step(state, C, X, v, u, free, all_free, reg_slot, C_old, lam, negative,
                                       use_tree, out_nodes, out_prob, out_alias, out_tree, out_total, n_noise,
                                       alpha, err, sig, softplus)
                loss += ls
        loss_out[c] = loss


# ------------------------------------------------------------------------------ walk SGNS
@nb.njit(inline="always", fastmath=True, cache=True)
def _walk_pair(state, W, C, u, centre, free, negative, tree, tree_total, n_noise, alpha, err, sig,
               softplus):  # pragma: no cover - numba
    """One word2vec pair ``W_u → C_centre`` with Fenwick negatives, writing free rows only."""
    d = W.shape[1]
    u_free = free[u] != 0
    for x in range(d):
        err[x] = 0.0
    loss = 0.0
    for k in range(negative + 1):
        if k == 0:
            t = centre
        else:
            state, t = fenwick_draw(state, tree, tree_total, n_noise)
            if t == centre:
                continue
        t_free = free[t] != 0
        if not u_free and not t_free:
            continue
        loss += pair_step(W, C, u, t, k == 0, alpha, err, t_free, sig, softplus)
    if u_free:
        for x in range(d):
            W[u, x] += err[x]
    return state, loss


@nb.njit(nogil=True, parallel=True, fastmath=True, boundscheck=False, cache=True)
def walk_sgns_block(walks, order, lo, hi, W, C, free, tree, tree_total, n_noise, window, negative, lr0,
                    lr_floor, work_base, total_work, seed, chunk, loss_out, pairs_out, sig,
                    softplus):  # pragma: no cover - numba
    """Skip-gram on walks ``order[lo:hi]`` writing only rows with ``free[row] != 0``.

    Every centre ``walk[i]`` draws a window ``b`` uniform in ``1..window``; each context
    ``u = walk[j]``, ``0 < |i − j| ≤ b``, gives the step ``W_u → C_centre`` with ``negative`` noise
    targets ``C_n`` (Fenwick sampler). Pairs whose context and centre are both frozen are skipped.
    Per-chunk loss sums and pair counts go to ``loss_out``/``pairs_out``.
    """
    n_chunks = (hi - lo + chunk - 1) // chunk
    L = walks.shape[1]
    d = W.shape[1]
    for c in nb.prange(n_chunks):
        buf = np.empty(L, dtype=np.int64)
        err = np.empty(d, dtype=np.float32)
        loss = 0.0
        pairs = 0
        a = lo + c * chunk
        b = min(hi, a + chunk)
        for t in range(a, b):
            w = order[t]
            state = stream(seed, w)
            alpha = lr0 * max(lr_floor, 1.0 - (work_base + t) / total_work)
            n = 0
            for i in range(L):
                tok = walks[w, i]
                if tok < 0:
                    break
                buf[n] = tok
                n += 1
            for i in range(n):
                state, r = next_int(state, window)
                span = r + 1
                centre = buf[i]
                for j in range(max(0, i - span), min(n, i + span + 1)):
                    if j == i:
                        continue
                    u = buf[j]
                    if free[u] == 0 and free[centre] == 0:
                        continue
                    state, ls = _walk_pair(state, W, C, u, centre, free, negative, tree, tree_total,
                                           n_noise, alpha, err, sig, softplus)
                    loss += ls
                    pairs += 1
        loss_out[c] = loss
        pairs_out[c] = pairs


# ------------------------------------------------------------------------------ numpy helpers
_CSR_CACHE: list[tuple[Any, Any, bool, tuple[np.ndarray, np.ndarray, np.ndarray | None]]] = []
_CSR_CACHE_SIZE = 4


def csr_rows(graph: Any, et: Any, reverse: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(indptr int64, indices int64, weight float32 | None)`` of an edge type, read through GraphView.

    Built from ``out_degree``/``in_degree`` (the row pointer) and ``coo`` (columns in row order),
    so any backend serves it; the last few graphs' rows are cached (an update reads the rows of
    the same graph version several times), holding a reference so a cached graph is never confused
    with a new one.
    """
    for g, e, r, val in _CSR_CACHE:
        if g is graph and e == et and r == reverse:
            return val
    deg = np.asarray(graph.in_degree(et) if reverse else graph.out_degree(et), dtype=np.int64)
    indptr = np.zeros(deg.size + 1, dtype=np.int64)
    np.cumsum(deg, out=indptr[1:])
    chunk = graph.coo(et, reverse=reverse)
    val = (indptr, np.asarray(chunk.dst, dtype=np.int64),
           None if chunk.weight is None else np.asarray(chunk.weight, dtype=np.float32))
    _CSR_CACHE.append((graph, et, bool(reverse), val))
    del _CSR_CACHE[:-_CSR_CACHE_SIZE]
    return val


def gather_rows(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entry positions of CSR ``rows`` and the row (index into ``rows``) of each, vectorised.

    Returns ``(pos int64 (nnz_rows,), owner int64 (nnz_rows,))`` with ``pos`` in row order.
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts = np.asarray(indptr[rows], dtype=np.int64)
    lens = np.asarray(indptr[rows + 1], dtype=np.int64) - starts
    total = int(lens.sum())
    owner = np.repeat(np.arange(rows.size, dtype=np.int64), lens)
    if total == 0:
        return np.zeros(0, np.int64), owner
    first = np.zeros(rows.size, dtype=np.int64)
    np.cumsum(lens[:-1], out=first[1:])
    pos = np.arange(total, dtype=np.int64) - np.repeat(first - starts, lens)
    return pos, owner


def row_sums(indptr: np.ndarray, weight: np.ndarray | None, rows: np.ndarray) -> np.ndarray:
    """Weighted degree (float64) of CSR ``rows`` (entry count when ``weight`` is None)."""
    rows = np.asarray(rows, dtype=np.int64)
    if weight is None:
        return (np.asarray(indptr[rows + 1]) - np.asarray(indptr[rows])).astype(np.float64)
    pos, owner = gather_rows(indptr, rows)
    return np.bincount(owner, weights=np.asarray(weight)[pos].astype(np.float64), minlength=rows.size)


# ------------------------------------------------------------------------------ growable state
NOISE_POWER = 0.75


class GrowableRows:
    """Row arrays (vectors float32 ``(cap, d)``, per-node float64 ``(cap,)``) with spare capacity.

    Args:
        dim: vector size ``d``.
        capacity: initial number of rows allocated.
        matrices: names of the ``(cap, d)`` float32 matrices. Default ``("X", "C")``.
        columns: names of the ``(cap,)`` float64 per-node arrays. Default ``("out_deg", "in_deg")``.

    The live part of each array is ``[:n]``; ``free`` (uint8) and ``slot`` (int64, −1) are
    per-row scratch flags kept all-zero / all −1 between updates, so setting and clearing them
    costs only the rows touched.
    """

    def __init__(self, dim: int, capacity: int, matrices: tuple[str, ...] = ("X", "C"),
                 columns: tuple[str, ...] = ("out_deg", "in_deg")) -> None:
        self.dim = int(dim)
        self.capacity = max(1, int(capacity))
        self.n = 0
        self._mats = {m: np.zeros((self.capacity, self.dim), dtype=np.float32) for m in matrices}
        self._cols = {c: np.zeros(self.capacity, dtype=np.float64) for c in columns}
        self.free = np.zeros(self.capacity, dtype=np.uint8)
        self.slot = np.full(self.capacity, -1, dtype=np.int64)

    def full(self, name: str) -> np.ndarray:
        """The whole allocated array ``name`` (matrix or column), including spare rows."""
        return self._mats[name] if name in self._mats else self._cols[name]

    def __getattr__(self, name: str) -> np.ndarray:
        mats = self.__dict__.get("_mats", {})
        cols = self.__dict__.get("_cols", {})
        if name in mats:
            return mats[name][: self.n]
        if name in cols:
            return cols[name][: self.n]
        raise AttributeError(name)

    def _realloc(self, capacity: int, moves: list[tuple[int, int, int]]) -> None:
        """New arrays of ``capacity`` rows; ``moves`` copies ``(old_start, new_start, count)`` blocks."""
        for group in (self._mats, self._cols):
            for k, old in group.items():
                new = np.zeros((capacity,) + old.shape[1:], dtype=old.dtype)
                for a, b, c in moves:
                    new[b:b + c] = old[a:a + c]
                group[k] = new
        self.free = np.zeros(capacity, dtype=np.uint8)
        self.slot = np.full(capacity, -1, dtype=np.int64)
        self.capacity = capacity

    def resize_layout(self, types: list[str], old_counts: dict[str, int], new_counts: dict[str, int]) -> bool:
        """Grow to ``new_counts`` rows per node type (types in global order); True if rows moved.

        Only growth is supported (nodes are never removed). Appending to the last node type (or
        a homogeneous graph) keeps every existing row in place; growth of an earlier type shifts
        the later blocks.
        """
        n_new = int(sum(new_counts.values()))
        old_off, new_off, moves, shifted = 0, 0, [], False
        for t in types:
            c_old = int(old_counts.get(t, 0))
            if c_old:
                moves.append((old_off, new_off, c_old))
                shifted |= old_off != new_off
            old_off += c_old
            new_off += int(new_counts[t])
        if n_new > self.capacity or shifted:
            cap = self.capacity
            while cap < n_new:
                cap *= 2
            self._realloc(cap, moves)  # fresh zero arrays holding the moved blocks
        else:
            for group in (self._mats, self._cols):  # rows past the old end must start at zero
                for arr in group.values():
                    arr[self.n:n_new] = 0
        self.n = n_new
        return shifted


class FenwickNoise:
    """Noise distribution ``P(v) ∝ value(v)^0.75`` that changes in ``O(log N)`` per node.

    Args:
        values: non-negative counts or degrees ``(n,)``.
        capacity: rows allocated (>= n).
    """

    def __init__(self, values: np.ndarray, capacity: int) -> None:
        w = np.zeros(max(int(capacity), 1), dtype=np.float64)
        w[: values.shape[0]] = np.power(np.maximum(values, 0.0), NOISE_POWER)
        self.weights = w
        self.tree = fenwick_build(w)

    @property
    def capacity(self) -> int:
        return int(self.weights.shape[0])

    def total(self) -> float:
        return float(fenwick_total(self.tree))

    def ensure(self, capacity: int) -> None:
        """Grow to at least ``capacity`` rows (new rows weigh 0; amortised by the caller's doubling)."""
        if capacity > self.capacity:
            w = np.zeros(int(capacity), dtype=np.float64)
            w[: self.capacity] = self.weights
            self.weights = w
            self.tree = fenwick_build(w)

    def set(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Set the counts of ``rows`` (global) to ``values``."""
        rows = np.asarray(rows, dtype=np.int64)
        new = np.power(np.maximum(np.asarray(values, dtype=np.float64), 0.0), NOISE_POWER)
        delta = new - self.weights[rows]
        self.weights[rows] = new
        fenwick_add(self.tree, rows, delta)


def type_counts(graph: Any) -> dict[str, int]:
    return {t: int(graph.num_nodes(t)) for t in graph.node_types}


def global_ids(graph: Any, per_type: dict[str, np.ndarray]) -> np.ndarray:
    """Concatenated global ids of per-node-type dense ids (types in the graph's order)."""
    offs = graph.node_offsets()
    parts = [np.asarray(per_type[t], dtype=np.int64) + offs[t] for t in graph.node_types if t in per_type]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def old_mask(graph: Any, gids: np.ndarray, old_counts: dict[str, int]) -> np.ndarray:
    """True for global ids (of ``graph``) of nodes that existed before the delta."""
    offs = graph.node_offsets()
    starts = np.array([offs[t] for t in graph.node_types], dtype=np.int64)
    olds = np.array([old_counts.get(t, 0) for t in graph.node_types], dtype=np.int64)
    ti = np.searchsorted(starts, gids, side="right") - 1
    return (gids - starts[ti]) < olds[ti]


def seed_for_update(base: int, count: int) -> np.uint64:
    """The random stream seed of update number ``count`` (1-based) from a base seed."""
    return np.uint64((int(base) + 0x9E3779B97F4A7C15 * (count + 1) + 0x632BE59BD9B4E019) % (1 << 64))


def row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two ``(k, d)`` arrays (1 where both rows are zero)."""
    na = np.linalg.norm(a, axis=1)
    nb_ = np.linalg.norm(b, axis=1)
    dots = np.einsum("ij,ij->i", a.astype(np.float64), b.astype(np.float64))
    den = na * nb_
    return np.where(den > 0, dots / np.where(den > 0, den, 1.0), np.where((na == 0) & (nb_ == 0), 1.0, 0.0))
