"""Numba kernels of the first-order and node2vec random walks.

Each kernel fills rows ``0..count-1`` of ``out`` with walks ``first..first+count-1`` (global walk
indices). Walk ``w`` starts at ``starts[w % n_start]`` (DeepWalk order: all start nodes for
repetition 0, then repetition 1, ...) and draws from its own random stream ``stream(seed, w)``,
so the result depends only on the seed, never on chunking or on the number of threads. A walk
that reaches a node without out-edges stops there; the rest of its row is -1.

Every kernel advances ``LANES`` walks per thread in lock step, so that the memory loads of
different walks overlap (a walk step is a chain of dependent cache misses; one walk at a time
runs several times slower).

node2vec uses rejection sampling (KnightKing, SOSP 2019) with the return edge folded out as an
"outlier": with ``M = max(1, 1/q)`` a neighbour ``x`` of ``v`` proposed from the first-order
(weighted) distribution is accepted with probability ``f(t, x) / M``, and when ``1/p > M`` the
surplus mass ``w(v, t)·(1/p − M)`` of the return edge is drawn directly. The test ``x ∈ N(t)``
asks a blocked Bloom filter of the edges first (one word, no false negatives) and binary-searches
t's sorted row only when the filter says "maybe". After ``MAX_TRIALS`` rejections the step is
drawn exactly from the normalised distribution (a merge of the two sorted rows), which leaves the
distribution unchanged and bounds the work for extreme ``p``/``q``.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from vastgraph.graph.csr_kernels import lower_bound
from vastgraph.sampling.local.alias import alias_draw
from vastgraph.seeding import next_float, next_int, stream

MAX_TRIALS = 64
LANES = 32  # walks a thread advances in lock step (hides memory latency)


@nb.njit(nogil=True, parallel=True, cache=True)
def row_weight_sums(indptr, weight):  # pragma: no cover - numba
    """Sum of the weights of each row (float64) and the smallest weight (inf when empty)."""
    n = indptr.shape[0] - 1
    out = np.zeros(n, dtype=np.float64)
    mins = np.full(n, np.inf)
    for u in nb.prange(n):
        s = 0.0
        m = np.inf
        for j in range(indptr[u], indptr[u + 1]):
            w = weight[j]
            s += w
            if w < m:
                m = w
        out[u] = s
        mins[u] = m
    return out, mins.min() if n > 0 else np.inf


@nb.njit(inline="always", cache=True)
def _contains(indices, a, b, x):  # pragma: no cover - numba
    pos = lower_bound(indices, a, b, x)
    return pos < b and indices[pos] == x


@nb.njit(inline="always", cache=True)
def init_lanes(starts, first, i0, m, seed, st, cur, out):  # pragma: no cover - numba
    """Start lanes ``0..m-1`` on walks ``first+i0 ..``: their streams, start nodes and column 0."""
    n_start = starts.shape[0]
    for lane in range(m):
        w = first + i0 + lane
        st[lane] = stream(seed, w)
        v = np.int64(starts[w % n_start])
        cur[lane] = v
        out[i0 + lane, 0] = v


@nb.njit(nogil=True, parallel=True, cache=True)
def uniform_walks(indptr, indices, starts, first, count, walk_length, seed, out):  # pragma: no cover
    """DeepWalk: every step picks one of the current node's stored out-entries uniformly.

    Each thread advances ``LANES`` walks in lock step so that their memory loads overlap.
    """
    n_blocks = (count + LANES - 1) // LANES
    for blk in nb.prange(n_blocks):
        i0 = blk * LANES
        m = min(LANES, count - i0)
        st = np.empty(LANES, np.uint64)
        cur = np.empty(LANES, np.int64)
        init_lanes(starts, first, i0, m, seed, st, cur, out)
        for j in range(1, walk_length + 1):
            for lane in range(m):
                v = cur[lane]
                if v >= 0:
                    a = indptr[v]
                    d = indptr[v + 1] - a
                    if d > 0:
                        s, k = next_int(st[lane], d)
                        st[lane] = s
                        v = np.int64(indices[a + k])
                    else:
                        v = -1
                    cur[lane] = v
                out[i0 + lane, j] = v


@nb.njit(nogil=True, parallel=True, cache=True)
def alias_walks(indptr, indices, prob, alias, starts, first, count, walk_length, seed,
                out):  # pragma: no cover - numba
    """Weighted first-order walk: each step draws an out-edge with probability ∝ its weight (alias)."""
    n_blocks = (count + LANES - 1) // LANES
    for blk in nb.prange(n_blocks):
        i0 = blk * LANES
        m = min(LANES, count - i0)
        st = np.empty(LANES, np.uint64)
        cur = np.empty(LANES, np.int64)
        init_lanes(starts, first, i0, m, seed, st, cur, out)
        for j in range(1, walk_length + 1):
            for lane in range(m):
                v = cur[lane]
                if v >= 0:
                    a = indptr[v]
                    d = indptr[v + 1] - a
                    if d > 0:
                        s, k = alias_draw(st[lane], a, d, prob, alias)
                        st[lane] = s
                        v = np.int64(indices[a + k])
                    else:
                        v = -1
                    cur[lane] = v
                out[i0 + lane, j] = v


@nb.njit(inline="always", cache=True)
def _edge_hash(u, x):  # pragma: no cover - numba
    return stream(np.uint64(u) * np.uint64(0xD1B54A32D192ED03), x)


@nb.njit(inline="always", cache=True)
def _bloom_mask(h):  # pragma: no cover - numba
    one = np.uint64(1)
    return ((one << (h & np.uint64(63))) | (one << ((h >> np.uint64(6)) & np.uint64(63)))
            | (one << ((h >> np.uint64(12)) & np.uint64(63))))


@nb.njit(nogil=True, parallel=True, cache=True)
def build_edge_filter(indptr, indices, log2_words, n_parts):  # pragma: no cover - numba
    """A blocked Bloom filter of the stored entries (u, x): one 64-bit word per query.

    ``n_parts`` threads each own a slice of the words and scan all entries, so no two threads
    write one word; the result does not depend on ``n_parts``.
    """
    words = np.zeros(np.int64(1) << log2_words, dtype=np.uint64)
    shift = np.uint64(64 - log2_words)
    per = (words.shape[0] + n_parts - 1) // n_parts
    n = indptr.shape[0] - 1
    for part in nb.prange(n_parts):
        lo = part * per
        hi = min(words.shape[0], lo + per)
        for u in range(n):
            for e in range(indptr[u], indptr[u + 1]):
                h = _edge_hash(u, indices[e])
                w = np.int64(h >> shift)
                if lo <= w < hi:
                    words[w] |= _bloom_mask(h)
    return words


@nb.njit(inline="always", cache=True)
def _maybe_edge(bits, shift, u, x):  # pragma: no cover - numba
    if bits.shape[0] == 0:
        return True
    h = _edge_hash(u, x)
    m = _bloom_mask(h)
    return (bits[np.int64(h >> shift)] & m) == m


@nb.njit(nogil=True, parallel=True, cache=True)
def is_simple_symmetric(indptr, indices, weight, has_w):  # pragma: no cover - numba
    """Whether a square CSR has no parallel edges and each entry u → x has an equal x → u."""
    n = indptr.shape[0] - 1
    bad = np.zeros(n, dtype=np.bool_)
    for u in nb.prange(n):
        for j in range(indptr[u], indptr[u + 1]):
            x = indices[j]
            if j > indptr[u] and x == indices[j - 1]:
                bad[u] = True
                break
            xa = indptr[x]
            xb = indptr[x + 1]
            pos = lower_bound(indices, xa, xb, u)
            if pos >= xb or indices[pos] != u or (has_w and weight[pos] != weight[j]):
                bad[u] = True
                break
    return not bad.any()


@nb.njit(nogil=True, cache=True)
def _exact_step(state, indptr, indices, weight, use_w, t, a, b, p_inv, q_inv):  # pragma: no cover
    """Position (in row ``a:b``) of the next edge drawn from the exact node2vec distribution.

    One merge of the sorted rows of v and t gives each neighbour's factor; two passes (total, draw).
    """
    ta = indptr[t]
    tb = indptr[t + 1]
    total = 0.0
    k = ta
    for j in range(a, b):
        x = indices[j]
        while k < tb and indices[k] < x:
            k += 1
        f = p_inv if x == t else (1.0 if (k < tb and indices[k] == x) else q_inv)
        total += f * (weight[j] if use_w else 1.0)
    state, u = next_float(state)
    u *= total
    k = ta
    acc = 0.0
    last = b - 1
    for j in range(a, b):
        x = indices[j]
        while k < tb and indices[k] < x:
            k += 1
        f = p_inv if x == t else (1.0 if (k < tb and indices[k] == x) else q_inv)
        w = f * (weight[j] if use_w else 1.0)
        if w > 0.0:
            last = j
        acc += w
        if u < acc:
            return state, np.int64(j)
    return state, np.int64(last)


@nb.njit(inline="always", cache=True)
def _node2vec_step(state, indptr, indices, weight, prob, alias, use_w, t, a, b, extra, total,
                   p_inv, q_inv, m, lo_acc, bits, shift):  # pragma: no cover - numba
    """One second-order step from ``(t, v)`` (row ``a:b`` of v) by rejection.

    ``extra`` is the folded surplus ``w(v, t)·(1/p − m)`` of the return edge (0 when none) and
    ``total = W(v)·m + extra``. Returns ``(state, position of the edge taken)``, position -1
    meaning the folded return to t.
    """
    d = b - a
    ta = indptr[t]
    tb = indptr[t + 1]
    for _trial in range(MAX_TRIALS):
        if extra > 0.0:
            state, u = next_float(state)
            if u * total < extra:
                return state, np.int64(-1)
        if use_w:
            state, k = alias_draw(state, a, d, prob, alias)
        else:
            state, k = next_int(state, d)
        y = np.int64(indices[a + k])
        state, u = next_float(state)
        u *= m
        if y == t:
            if u < p_inv:
                return state, a + k
        elif u < lo_acc:
            return state, a + k
        elif _maybe_edge(bits, shift, t, y) and _contains(indices, ta, tb, y):
            if u < 1.0:
                return state, a + k
        elif u < q_inv:
            return state, a + k
    return _exact_step(state, indptr, indices, weight, use_w, t, a, b, p_inv, q_inv)


@nb.njit(nogil=True, parallel=True, cache=True)
def node2vec_walks(indptr, indices, weight, rowsum, prob, alias, weighted, symmetric, bits, shift,
                   starts, first, count, walk_length, seed, p_inv, q_inv, out):  # pragma: no cover - numba
    """node2vec second-order walk (Grover & Leskovec, KDD 2016) by rejection sampling.

    From state ``(t, v)`` the next node ``x`` has probability
    ``∝ w(v, x) · (1/p if x == t, 1 if x ∈ N(t), 1/q otherwise)``; the first step is first-order.
    ``symmetric``: the CSR is symmetric without parallel edges, so the return edge v → t exists
    and weighs what t → v did (no search for it).
    """
    m = max(1.0, q_inv)
    fold = p_inv > m
    lo_acc = min(1.0, q_inv)
    n_blocks = (count + LANES - 1) // LANES
    for blk in nb.prange(n_blocks):
        i0 = blk * LANES
        nl = min(LANES, count - i0)
        st = np.empty(LANES, np.uint64)
        cur = np.empty(LANES, np.int64)
        prev = np.empty(LANES, np.int64)
        lastw = np.empty(LANES, np.float64)
        init_lanes(starts, first, i0, nl, seed, st, cur, out)
        for j in range(1, walk_length + 1):
            for lane in range(nl):
                v = cur[lane]
                if v >= 0:
                    a = indptr[v]
                    b = indptr[v + 1]
                    if b > a:
                        use_w = weighted and rowsum[v] > 0.0
                        state = st[lane]
                        t = np.int64(-1)
                        wvt = 0.0
                        if j == 1:
                            if use_w:
                                state, k = alias_draw(state, a, b - a, prob, alias)
                            else:
                                state, k = next_int(state, b - a)
                            e = a + k
                        else:
                            t = prev[lane]
                            extra = 0.0
                            total = 0.0
                            if fold:
                                if symmetric:
                                    wvt = lastw[lane] if use_w else 1.0
                                else:
                                    e = lower_bound(indices, a, b, t)
                                    while e < b and indices[e] == t:
                                        wvt += weight[e] if use_w else 1.0
                                        e += 1
                                extra = wvt * (p_inv - m)
                                total = (rowsum[v] if use_w else float(b - a)) * m + extra
                            state, e = _node2vec_step(state, indptr, indices, weight, prob, alias,
                                                      use_w, t, a, b, extra, total, p_inv, q_inv, m,
                                                      lo_acc, bits, shift)
                        st[lane] = state
                        prev[lane] = v
                        if e >= 0:
                            v = np.int64(indices[e])
                            if weighted:
                                lastw[lane] = weight[e]
                        else:
                            v = t
                            lastw[lane] = wvt
                    else:
                        v = -1
                    cur[lane] = v
                out[i0 + lane, j] = v


@nb.njit(nogil=True, parallel=True, cache=True)
def metapath_kernel(indptrs, indices, probs, aliases, weighted, dst_offsets, start_offset, starts,
                     first, count, walk_length, seed, out):  # pragma: no cover - numba
    """Step ``j`` (1-based) follows adjacency ``(j - 1) % len(indptrs)``; ids out are global."""
    n_steps = len(indptrs)  # tuples of equal-typed arrays, indexed by the step
    n_blocks = (count + LANES - 1) // LANES
    for blk in nb.prange(n_blocks):
        i0 = blk * LANES
        nl = min(LANES, count - i0)
        st = np.empty(LANES, np.uint64)
        cur = np.empty(LANES, np.int64)
        init_lanes(starts, first, i0, nl, seed, st, cur, out)
        for lane in range(nl):
            out[i0 + lane, 0] += start_offset
        for j in range(1, walk_length + 1):
            s = (j - 1) % n_steps
            indptr = indptrs[s]
            ind = indices[s]
            prob = probs[s]
            alias = aliases[s]
            use_w = weighted[s]
            off = dst_offsets[s]
            for lane in range(nl):
                v = cur[lane]
                if v >= 0:
                    a = indptr[v]
                    d = indptr[v + 1] - a
                    if d > 0:
                        if use_w:
                            state, k = alias_draw(st[lane], a, d, prob, alias)
                        else:
                            state, k = next_int(st[lane], d)
                        st[lane] = state
                        v = np.int64(ind[a + k])
                    else:
                        v = -1
                    cur[lane] = v
                out[i0 + lane, j] = v + off if v >= 0 else -1


def uniform_tuple(arrays: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Arrays as one numba type (read-only if any is, e.g. a memory map) so a step can index them."""
    arrays = [np.ascontiguousarray(a) for a in arrays]
    if all(a.flags.writeable for a in arrays):
        return tuple(arrays)
    views = []
    for a in arrays:
        v = a.view()
        v.flags.writeable = False
        views.append(v)
    return tuple(views)
