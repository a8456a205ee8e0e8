"""The local engine over a partial store (one shard of a partitioned graph): resumable walks and
owned-row draws.

A shard is a local store that keeps global dense ids and holds every edge incident to the nodes it
owns, so an owned node's row (and column) equals the full graph's. The functions here run the local
kernels' exact draws on such a store for a distributed backend (``vastgraph.distributed``):

* ``advance_*``: walkers, given as their state arrays (current node, random-stream state, previous
  node, last weight or time key, next column; updated in place), take steps from ``stream(seed, walk)`` exactly as the
  local walk kernels do, until the walk ends, dies, or steps onto a node another shard owns; the
  caller routes them on. A walk is thus bit-identical to the local one, however it is cut.
  :func:`finish_segments` compacts the segments walked and names each walker's next shard.
* :func:`row_samples`: the local one-hop kernel (row ``i`` from ``stream(seed, i)``) over given rows.
* :func:`draw_negatives_for`: negatives for anchors this shard owns, with explicit stream ids.

Only ``owned`` rows are meaningful; the caller keeps those. Raw CSR access stays in this package.

Example:
    >>> import numpy as np
    >>> from vastgraph.graph import GraphBuilder
    >>> from vastgraph.sampling.engine import engine_for
    >>> from vastgraph.sampling.walks import random_walks
    >>> b = GraphBuilder(directed=False, id_mode="dense")
    >>> _ = b.add_edges([0, 1, 2, 3], [1, 2, 3, 0])
    >>> g = b.build()
    >>> owner = np.zeros(4, np.int32)  # one shard owns everything: a walk never leaves it
    >>> st = new_streams(np.uint64(7), np.arange(4))
    >>> cur, col = np.arange(4), np.ones(4, np.int64)
    >>> seg, cnt = advance_walks(engine_for(g), g.edge_type(), 0, False, False, 1.0, 1.0, owner, 0, 0, 3,
    ...                          cur, st, np.full(4, -1), np.zeros(4), col)
    >>> bool((seg[:, :3] == random_walks(g, walks_per_node=1, walk_length=3, random_state=7)[:, 1:]).all())
    True
    >>> col.tolist(), cnt.tolist()  # the state was advanced in place: every walk is over
    ([4, 4, 4, 4], [3, 3, 3, 3])
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from vastgraph.graph.csr_kernels import lower_bound
from vastgraph.sampling.local.alias import alias_draw
from vastgraph.sampling.local.negative_kernels import draw_negatives
from vastgraph.sampling.local.neighbor_kernels import sample_positions
from vastgraph.sampling.local.temporal_kernels import _pick
from vastgraph.sampling.local.walk_kernels import _node2vec_step, uniform_tuple
from vastgraph.seeding import next_int, stream

_EMPTY_F32, _EMPTY_I32, _EMPTY_F64 = np.empty(0, np.float32), np.empty(0, np.int32), np.empty(0, np.float64)
_NO_BITS = np.empty(0, np.uint64)

__all__ = ["new_streams", "advance_walks", "advance_metapath", "advance_temporal", "finish_segments",
           "flatten_prefix", "row_samples", "row_starts", "entries_at", "draw_negatives_for"]


@nb.njit(nogil=True, cache=True)
def new_streams(seed, walks):  # pragma: no cover - numba
    """Initial stream state of each walk index (as the local kernels' ``init_lanes``)."""
    out = np.empty(walks.shape[0], dtype=np.uint64)
    for i in range(walks.shape[0]):
        out[i] = stream(seed, walks[i])
    return out


@nb.njit(nogil=True, parallel=True, cache=True)
def _advance(indptr, indices, weight, rowsum, prob, alias, mode, weighted, symmetric, p_inv, q_inv,
             owner, me, off, length, cur, st, prev, lastw, col, seg, cnt):  # pragma: no cover - numba
    """Walker ``i`` fills column ``col[i]`` onward of its walk into ``seg[i]``; mode 0 uniform
    (``uniform_walks``), 1 weighted first order (``alias_walks``), 2 node2vec (``node2vec_walks``)."""
    m = max(1.0, q_inv)
    fold = p_inv > m
    lo_acc = min(1.0, q_inv)
    for i in nb.prange(cur.shape[0]):
        v = cur[i]
        state = st[i]
        t = prev[i]
        lw = lastw[i]
        j = col[i]
        c = 0
        while j <= length:
            a = indptr[v]
            b = indptr[v + 1]
            if b <= a:
                v = -1
            elif mode == 0:
                state, k = next_int(state, b - a)
                v = np.int64(indices[a + k])
            elif mode == 1:
                state, k = alias_draw(state, a, b - a, prob, alias)
                v = np.int64(indices[a + k])
            else:
                use_w = weighted and rowsum[v] > 0.0
                wvt = 0.0
                tt = np.int64(-1)
                if j == 1:
                    if use_w:
                        state, k = alias_draw(state, a, b - a, prob, alias)
                    else:
                        state, k = next_int(state, b - a)
                    e = a + k
                else:
                    tt = t
                    extra = 0.0
                    total = 0.0
                    if fold:
                        if symmetric:
                            wvt = lw if use_w else 1.0
                        else:
                            e = lower_bound(indices, a, b, tt)
                            while e < b and indices[e] == tt:
                                wvt += weight[e] if use_w else 1.0
                                e += 1
                        extra = wvt * (p_inv - m)
                        total = (rowsum[v] if use_w else float(b - a)) * m + extra
                    state, e = _node2vec_step(state, indptr, indices, weight, prob, alias, use_w, tt, a, b,
                                              extra, total, p_inv, q_inv, m, lo_acc, _NO_BITS, np.uint64(0))
                t = v
                if e >= 0:
                    v = np.int64(indices[e])
                    if weighted:
                        lw = weight[e]
                else:
                    v = tt
                    lw = wvt
            seg[i, c] = v
            c += 1
            j += 1
            if v < 0 or owner[off + v] != me:
                break
        cur[i] = v
        st[i] = state
        prev[i] = t
        lastw[i] = lw
        col[i] = j
        cnt[i] = c


def advance_walks(eng: Any, et: Any, mode: int, weighted: bool, symmetric: bool, p_inv: float, q_inv: float,
                  owner: np.ndarray, me: int, off: int, length: int, cur: np.ndarray, st: np.ndarray,
                  prev: np.ndarray, lastw: np.ndarray, col: np.ndarray, seg_dtype: Any = np.int64) -> tuple:
    """Advance uniform (mode 0) / weighted (1) / node2vec (2) walkers IN PLACE: the state arrays
    ``cur`` (int64), ``st`` (uint64), ``prev`` (int64), ``lastw`` (float64) and ``col`` (int64) are
    updated; returns ``(seg, count)`` where ``seg[i, :count[i]]`` are the nodes of columns
    ``col[i] ..`` (as of the call). ``owner[off + v]`` is the shard of node ``v``."""
    adj = eng.adjacency(et)
    indptr, indices = np.asarray(adj.indptr), np.asarray(adj.indices)
    if weighted:
        rowsum = eng.row_sums(et, False)
        prob, alias = eng.alias_tables(et, False)
        weight = np.asarray(adj.weight)
    else:
        rowsum, weight, prob, alias = _EMPTY_F64, _EMPTY_F32, _EMPTY_F32, _EMPTY_I32
    n = cur.shape[0]
    seg = np.empty((n, _width(length, col)), dtype=seg_dtype)
    cnt = np.zeros(n, dtype=np.int64)
    if n:
        _advance(indptr, indices, weight, rowsum, prob, alias, np.int64(mode), bool(weighted), bool(symmetric),
                 float(p_inv), float(q_inv), owner, np.int32(me), np.int64(off), np.int64(length), cur, st, prev,
                 lastw, col, seg, cnt)
    return seg, cnt


def _width(length: int, col: np.ndarray) -> int:
    """Columns a walker may still fill (the widest remaining walk)."""
    return int(max(1, length - int(col.min()) + 1)) if col.size else 1


@nb.njit(nogil=True, cache=True)
def finish_segments(seg, cnt, col, length, owner, off):  # pragma: no cover - numba
    """Compact ``seg[i, :cnt[i]]`` into one flat array and route each walker: ``dest[i]`` is the
    shard owning its current node (``owner[off + last node]``), or -1 when its walk is over."""
    n = cnt.shape[0]
    total = 0
    for i in range(n):
        total += cnt[i]
    flat = np.empty(total, dtype=seg.dtype)
    dest = np.full(n, -1, dtype=np.int64)
    k = 0
    for i in range(n):
        c = cnt[i]
        for j in range(c):
            flat[k + j] = seg[i, j]
        k += c
        if c > 0 and col[i] <= length:
            v = np.int64(seg[i, c - 1])
            if v >= 0:
                dest[i] = owner[off + v]
    return flat, dest


@nb.njit(nogil=True, cache=True)
def flatten_prefix(seg, cnt):  # pragma: no cover - numba
    """``concatenate([seg[i, :cnt[i]] for i])`` (temporal walks' times)."""
    total = 0
    for i in range(cnt.shape[0]):
        total += cnt[i]
    flat = np.empty(total, dtype=seg.dtype)
    k = 0
    for i in range(cnt.shape[0]):
        for j in range(cnt[i]):
            flat[k + j] = seg[i, j]
        k += cnt[i]
    return flat


@nb.njit(nogil=True, parallel=True, cache=True)
def _advance_metapath(indptrs, indices, probs, aliases, weighted, dst_offsets, owner, me, length, cur, st, col,
                      seg, cnt):  # pragma: no cover - numba
    n_steps = len(indptrs)
    for i in nb.prange(cur.shape[0]):
        v = cur[i]
        state = st[i]
        j = col[i]
        c = 0
        while j <= length:
            s = (j - 1) % n_steps
            indptr = indptrs[s]
            a = indptr[v]
            d = indptr[v + 1] - a
            if d > 0:
                if weighted[s]:
                    state, k = alias_draw(state, a, d, probs[s], aliases[s])
                else:
                    state, k = next_int(state, d)
                v = np.int64(indices[s][a + k])
                g = v + dst_offsets[s]
            else:
                v = -1
                g = -1
            seg[i, c] = g
            c += 1
            j += 1
            if v < 0 or owner[g] != me:
                break
        cur[i] = v
        st[i] = state
        col[i] = j
        cnt[i] = c


def advance_metapath(eng: Any, steps: list, flags: list, dst_offsets: np.ndarray, owner: np.ndarray, me: int,
                     length: int, cur: np.ndarray, st: np.ndarray, col: np.ndarray) -> tuple:
    """Advance metapath walkers (dense ``cur`` of the current step's source type) in place;
    ``seg`` holds global ids as ``metapath_kernel`` writes them."""
    adjs = [eng.adjacency(et, rev) for et, rev in steps]
    idx_dtype = np.result_type(*[adj.indices.dtype for adj in adjs])
    indptrs, indices, probs, aliases = [], [], [], []
    for (et, rev), adj, use_w in zip(steps, adjs, flags):
        indptrs.append(np.asarray(adj.indptr, dtype=np.int64))
        indices.append(np.asarray(adj.indices, dtype=idx_dtype))
        prob, alias = eng.alias_tables(et, rev) if use_w else (_EMPTY_F32, _EMPTY_I32)
        probs.append(prob)
        aliases.append(alias)
    indptrs, indices, probs, aliases = (uniform_tuple(x) for x in (indptrs, indices, probs, aliases))
    n = cur.shape[0]
    seg = np.empty((n, _width(length, col)), dtype=np.int64)
    cnt = np.zeros(n, dtype=np.int64)
    if n:
        _advance_metapath(indptrs, indices, probs, aliases, np.array(flags, dtype=np.bool_),
                          np.asarray(dst_offsets, np.int64), owner, np.int32(me), np.int64(length), cur, st, col,
                          seg, cnt)
    return seg, cnt


@nb.njit(nogil=True, parallel=True, cache=True)
def _advance_temporal(indptr, indices, keys, sign, strict, bias, scale, owner, me, off, length, cur, st, last,
                      col, seg, tseg, cnt):  # pragma: no cover - numba
    for i in nb.prange(cur.shape[0]):
        v = cur[i]
        state = st[i]
        lk = last[i]
        j = col[i]
        c = 0
        while j <= length:
            a = indptr[v]
            b = indptr[v + 1]
            bound = lk
            if strict and j > 1:
                bound += 1
            lo = lower_bound(keys, a, b, bound)
            t_out = np.int64(-1)
            if lo < b:
                state, e = _pick(state, keys, lo, b, bias, scale)
                v = np.int64(indices[e])
                lk = keys[e]
                t_out = sign * keys[e]
            else:
                v = -1
            seg[i, c] = v
            tseg[i, c] = t_out
            c += 1
            j += 1
            if v < 0 or owner[off + v] != me:
                break
        cur[i] = v
        st[i] = state
        last[i] = lk
        col[i] = j
        cnt[i] = c


def advance_temporal(eng: Any, et: Any, backward: bool, strict: bool, bias: int, scale: float,
                     owner: np.ndarray, me: int, off: int, length: int, cur: np.ndarray, st: np.ndarray,
                     last: np.ndarray, col: np.ndarray, seg_dtype: Any = np.int64) -> tuple:
    """Advance temporal walkers (``temporal_kernel``'s steps) in place; returns ``(seg, tseg, count)``
    with the times of the steps in ``tseg``."""
    indptr, indices, keys = eng.time_sorted_rows(et, backward, backward)
    n = cur.shape[0]
    width = _width(length, col)
    seg = np.empty((n, width), dtype=seg_dtype)
    tseg = np.empty((n, width), dtype=np.int64)
    cnt = np.zeros(n, dtype=np.int64)
    if n:
        _advance_temporal(indptr, indices, keys, np.int64(-1 if backward else 1), bool(strict), np.int64(bias),
                          float(scale), owner, np.int32(me), np.int64(off), np.int64(length), cur, st, last, col,
                          seg, tseg, cnt)
    return seg, tseg, cnt


def row_samples(eng: Any, et: Any, reverse: bool, rows: np.ndarray, k: int, replace: bool, code: int,
                filt: tuple, seed: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, positions, neighbours)`` of the local one-hop kernel over ``rows`` (row ``i`` from
    ``stream(seed, i)``), positions in this store's order of ``et`` (``reverse``: in-edges)."""
    adj = eng.adjacency(et, reverse)
    tables = eng.weight_tables(et, reverse, code)
    return sample_positions(adj, tables, np.asarray(rows, dtype=np.int64), int(k), bool(replace), int(code),
                            tuple(filt), np.uint64(seed))


def row_starts(eng: Any, et: Any, reverse: bool) -> np.ndarray:
    """Where each row of ``et`` (``reverse``: each column) starts in this store's entry order."""
    return np.asarray(eng.adjacency(et, reverse).indptr, dtype=np.int64)


def draw_negatives_for(eng: Any, et: Any, reverse: bool, n_cand: int, tables: tuple, anchors: np.ndarray,
                       stream_ids: np.ndarray, max_retries: int, seed: Any) -> np.ndarray:
    """Negatives not adjacent to ``anchors`` (rows of ``et``, ``reverse``: columns), draw ``i`` from
    ``stream(seed, stream_ids[i])`` as the local engine's ``draw_negatives``."""
    use_alias, prob, alias, w = tables
    adj = eng.adjacency(et, reverse)
    out = np.empty(anchors.shape[0], dtype=np.int64)
    if out.size:
        draw_negatives(np.int64(n_cand), bool(use_alias), prob, alias, w, np.asarray(anchors, np.int64),
                       np.asarray(adj.indptr), np.asarray(adj.indices), True, int(max_retries), np.uint64(seed),
                       np.asarray(stream_ids, np.int64), out)
    return out


def entries_at(eng: Any, et: Any, reverse: bool, positions: np.ndarray) -> tuple:
    """``(neighbour, weight | None, time | None)`` of the entries at ``positions`` of ``et``."""
    adj = eng.adjacency(et, reverse)
    pos = np.asarray(positions, dtype=np.int64)
    return (np.asarray(adj.indices[pos], dtype=np.int64), None if adj.weight is None else np.asarray(adj.weight[pos]),
            None if adj.time is None else np.asarray(adj.time[pos]))
