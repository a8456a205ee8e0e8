"""Skip-gram with negative sampling (SGNS) over walk arrays, as a Hogwild numba kernel.

Reference: T. Mikolov et al., *Distributed Representations of Words and Phrases and their
Compositionality*, NeurIPS 2013 (word2vec); the window-shared negatives follow S. Ji, N. Satish,
S. Li, P. Dubey, *Parallelizing Word2Vec in Shared and Distributed Memory*, arXiv:1604.04661, 2016
(Intel's pWord2Vec, "minibatched SGNS").

Objective. For every centre position ``i`` of a walk, an effective window ``b`` is drawn uniformly
from ``1..window`` (word2vec's dynamic window) and each context ``j`` with ``0 < |i - j| <= b``
forms a pair ``(c = walk[i], u = walk[j])``. With input vectors ``W`` and context vectors ``C``:

    loss(c, u) = -log σ(W_u · C_c) - Σ_{n ∈ N} log σ(-W_u · C_n),   |N| = negative,

negatives ``n ~ count(n)^0.75`` (the unigram distribution of the walk tokens, drawn in O(1) from an
alias table; optionally one table per node group, for metapath2vec++'s type-aware negatives). As in
gensim, the context's input vector predicts the centre's context vector. Plain SGD with the
learning rate decaying linearly from ``lr`` to ``lr * min_lr_ratio`` over all walks and epochs.

Shared negatives (default). pWord2Vec draws the ``negative`` samples once per centre position and
shares them across the ``m <= 2b`` contexts of the window: the ``m × (1 + negative)`` logits become
one small matrix product whose rows stay in L1, the gradients are applied after the batch, and the
number of random draws and cache misses drops by a factor of ``m``. Ji et al. report unchanged
accuracy; ``shared_negatives=False`` gives word2vec's per-pair negatives and sequential updates.

Parallelism and determinism. Walks are processed in blocks (about ``block_fraction`` of them per
kernel call, so ``progress(done_fraction, mean_loss)`` can be reported between calls); inside a
block, chunks of walks run in ``prange`` and update the shared matrices without locks (Hogwild,
Recht et al. 2011). Every walk draws from its own counter-based stream ``rng.stream(seed, walk)``
and the learning rate depends only on a walk's position in the (seeded) order, so with one numba
thread the result is a function of ``random_state`` alone (whatever ``block_fraction``); with more
threads only the update races differ.

Numerics. Float32 vectors with ``fastmath``; ``σ`` and ``−log σ`` come from 4096-entry tables on
(−6, 6) (error < 0.0015 per logit), with ``σ`` taken as 0 or 1 beyond, as word2vec's ``MAX_EXP``.
The per-window loops handle four rows per pass (four dot products per loaded output row, four
products per stored element), which is what makes the kernel fast; initial vectors are
word2vec's (``W`` uniform in ±0.5/d, ``C`` zero). The reported loss is the mean over all pairs of
``-log σ(W_u · C_c) - Σ_n log σ(-W_u · C_n)`` at the moment of each update.

Example:
    >>> walks = np.array([[0, 1, 2, 1, 0], [2, 1, 0, 1, -1]], dtype=np.int32)
    >>> res = train_sgns(walks, 3, dimensions=8, window=2, negative=2, random_state=0)
    >>> res.vectors.shape, res.vectors.dtype
    ((3, 8), dtype('float32'))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.validation import ProgressFn, check_float, check_int, check_progress  # noqa: F401  (re-exported)
from vastgraph.sampling.alias import alias_draw, build_alias
from vastgraph.seeding import next_float, next_int, seed_from, stream


_MAX_LOGIT = 6.0  # σ(f) is read from a table on (-6, 6) and taken as 0 / 1 beyond (word2vec's MAX_EXP)
_SIG_SIZE = 4096
_SIG_SCALE = _SIG_SIZE / (2 * _MAX_LOGIT)
_SIG_X = (np.arange(_SIG_SIZE + 1) + 0.5) / _SIG_SCALE - _MAX_LOGIT
_SIG_TABLE = 1.0 / (1.0 + np.exp(-_SIG_X))  # σ(x)
_SOFTPLUS_TABLE = np.log1p(np.exp(-_SIG_X))  # -log σ(x)


# ------------------------------------------------------------------------------------- checks



# ------------------------------------------------------------------------------------- kernels
@nb.njit(nogil=True, cache=True)
def _count_tokens(walks, n_nodes):  # pragma: no cover - numba
    """Occurrences of each node in the walks (a walk ends at its first -1) and the first walk
    holding an id >= n_nodes (-1 if none)."""
    counts = np.zeros(n_nodes, dtype=np.int64)
    for w in range(walks.shape[0]):
        for i in range(walks.shape[1]):
            t = walks[w, i]
            if t < 0:
                break
            if t >= n_nodes:
                return counts, w
            counts[t] += 1
    return counts, -1


@nb.njit(inline="always", cache=True)
def logistic_step(f, positive, sig, softplus):  # pragma: no cover - numba
    """``(σ(f), loss)`` of one SGNS logit ``f`` from the tables, clipped beyond ±MAX_LOGIT.

    The loss is ``-log σ(f)`` for the positive pair and ``-log σ(-f)`` for a negative one; the
    caller's gradient is ``(label - σ(f)) · lr``.
    """
    if f >= _MAX_LOGIT:
        return 1.0, (0.0 if positive else f)
    if f <= -_MAX_LOGIT:
        return 0.0, (-f if positive else 0.0)
    i = int((f + _MAX_LOGIT) * _SIG_SCALE)
    return sig[i], (softplus[i] if positive else f + softplus[i])


@nb.njit(inline="always", fastmath=True, cache=True)
def pair_step(I, T, a, t, positive, alpha, err, write_t, sig, softplus):  # pragma: no cover - numba
    """One SGNS term on ``I[a]·T[t]``: adds ``I[a]``'s gradient to ``err``, updates ``T[t]`` when
    ``write_t``, returns the term's loss (the caller applies ``err`` to ``I[a]``)."""
    d = I.shape[1]
    acc = np.float32(0.0)
    for x in range(d):
        acc += I[a, x] * T[t, x]
    sg, ls = logistic_step(float(acc), positive, sig, softplus)
    g = np.float32(((1.0 if positive else 0.0) - sg) * alpha)
    for x in range(d):
        tx = T[t, x]
        err[x] += g * tx
        if write_t:
            T[t, x] = tx + g * I[a, x]
    return ls


@nb.njit(inline="always", fastmath=True, cache=True)
def _window_update(W, C, ctx, m, outs, kk, alpha, g, neu, sig, softplus):  # pragma: no cover - numba
    """One batched SGNS step: inputs ``W[ctx[:m]]`` against outputs ``C[outs[:kk]]`` (outs[0] positive).

    With ``F = W[ctx] C[outs]^T`` (m × kk) and ``G = (Y - σ(F)) · alpha`` (Y: 1 in column 0):
    ``C[outs] += G^T W[ctx]`` and ``W[ctx] += G C[outs]`` (both from the old values). The loops
    handle four rows per pass so each output element is stored once per four products. Returns
    the summed loss ``-Σ log σ(±F)`` of the ``m * kk`` logits (from a table; error < 0.003 each).
    """
    d = W.shape[1]
    # 1) logits F into g, four contexts per pass over an output row
    for k in range(kk):
        cr = outs[k]
        mi = 0
        while mi + 4 <= m:
            w0 = ctx[mi]
            w1 = ctx[mi + 1]
            w2 = ctx[mi + 2]
            w3 = ctx[mi + 3]
            a0 = np.float32(0.0)
            a1 = np.float32(0.0)
            a2 = np.float32(0.0)
            a3 = np.float32(0.0)
            for x in range(d):
                c = C[cr, x]
                a0 += W[w0, x] * c
                a1 += W[w1, x] * c
                a2 += W[w2, x] * c
                a3 += W[w3, x] * c
            g[mi, k] = a0
            g[mi + 1, k] = a1
            g[mi + 2, k] = a2
            g[mi + 3, k] = a3
            mi += 4
        while mi < m:
            w0 = ctx[mi]
            a0 = np.float32(0.0)
            for x in range(d):
                a0 += W[w0, x] * C[cr, x]
            g[mi, k] = a0
            mi += 1
    # 2) gradients and loss
    loss = 0.0
    for mi in range(m):
        for k in range(kk):
            s, ls = logistic_step(float(g[mi, k]), k == 0, sig, softplus)
            loss += ls
            g[mi, k] = np.float32(((1.0 if k == 0 else 0.0) - s) * alpha)
    # 3) neu = G C[outs] (old C), four outputs per pass
    for mi in range(m):
        k = 0
        while k < kk:
            if k + 4 <= kk:
                c0 = outs[k]
                c1 = outs[k + 1]
                c2 = outs[k + 2]
                c3 = outs[k + 3]
                g0 = g[mi, k]
                g1 = g[mi, k + 1]
                g2 = g[mi, k + 2]
                g3 = g[mi, k + 3]
                if k == 0:
                    for x in range(d):
                        neu[mi, x] = g0 * C[c0, x] + g1 * C[c1, x] + g2 * C[c2, x] + g3 * C[c3, x]
                else:
                    for x in range(d):
                        neu[mi, x] += g0 * C[c0, x] + g1 * C[c1, x] + g2 * C[c2, x] + g3 * C[c3, x]
                k += 4
            elif k + 2 <= kk:
                c0 = outs[k]
                c1 = outs[k + 1]
                g0 = g[mi, k]
                g1 = g[mi, k + 1]
                if k == 0:
                    for x in range(d):
                        neu[mi, x] = g0 * C[c0, x] + g1 * C[c1, x]
                else:
                    for x in range(d):
                        neu[mi, x] += g0 * C[c0, x] + g1 * C[c1, x]
                k += 2
            else:
                c0 = outs[k]
                g0 = g[mi, k]
                if k == 0:
                    for x in range(d):
                        neu[mi, x] = g0 * C[c0, x]
                else:
                    for x in range(d):
                        neu[mi, x] += g0 * C[c0, x]
                k += 1
    # 4) C[outs] += G^T W[ctx] (old W), four contexts per pass
    for k in range(kk):
        cr = outs[k]
        mi = 0
        while mi + 4 <= m:
            w0 = ctx[mi]
            w1 = ctx[mi + 1]
            w2 = ctx[mi + 2]
            w3 = ctx[mi + 3]
            g0 = g[mi, k]
            g1 = g[mi + 1, k]
            g2 = g[mi + 2, k]
            g3 = g[mi + 3, k]
            for x in range(d):
                C[cr, x] += g0 * W[w0, x] + g1 * W[w1, x] + g2 * W[w2, x] + g3 * W[w3, x]
            mi += 4
        while mi < m:
            w0 = ctx[mi]
            g0 = g[mi, k]
            for x in range(d):
                C[cr, x] += g0 * W[w0, x]
            mi += 1
    # 5) W[ctx] += neu
    for mi in range(m):
        w0 = ctx[mi]
        for x in range(d):
            W[w0, x] += neu[mi, x]
    return loss


@nb.njit(inline="always", cache=True)
def _draw_negatives(state, centre, outs, negative, group, neg_indptr, neg_nodes, neg_prob,
                    neg_alias):  # pragma: no cover - numba
    """Fill ``outs[1:]`` with negatives for ``centre`` (draws equal to it are dropped, as word2vec)."""
    a = neg_indptr[group]
    k = neg_indptr[group + 1] - a
    kk = 1
    if k <= 0:
        return state, kk
    for _ in range(negative):
        state, off = alias_draw(state, a, k, neg_prob, neg_alias)
        t = neg_nodes[a + off]
        if t != centre:
            outs[kk] = t
            kk += 1
    return state, kk


@nb.njit(nogil=True, parallel=True, fastmath=True, boundscheck=False, cache=True)
def _sgns_block(walks, order, lo, hi, W, C, keep, use_keep, groups, typed, neg_indptr, neg_nodes,
                neg_prob, neg_alias, sig, softplus, window, negative, shared, lr0, lr_floor, work_base, total_work,
                seed, chunk, loss_out, pairs_out):  # pragma: no cover - numba
    """Train on walks ``order[lo:hi]``; per-chunk loss sums, loss counts and pair counts go to the outs."""
    n_chunks = (hi - lo + chunk - 1) // chunk
    L = walks.shape[1]
    d = W.shape[1]
    M = 2 * window
    for c in nb.prange(n_chunks):
        buf = np.empty(L, dtype=np.int64)
        ctx = np.empty(M, dtype=np.int64)
        outs = np.empty(negative + 1, dtype=np.int64)
        g = np.empty((M, negative + 1), dtype=np.float32)
        neu = np.empty((M, d), dtype=np.float32)
        loss = 0.0
        pairs = 0
        a = lo + c * chunk
        b = min(hi, a + chunk)
        for t in range(a, b):
            w = order[t]
            state = stream(seed, w)
            frac = (work_base + t) / total_work
            alpha = lr0 * max(lr_floor, 1.0 - frac)
            n = 0
            for i in range(L):
                tok = walks[w, i]
                if tok < 0:
                    break
                if use_keep:
                    p = keep[tok]
                    if p < 1.0:
                        state, u = next_float(state)
                        if u >= p:
                            continue
                buf[n] = tok
                n += 1
            for i in range(n):
                state, r = next_int(state, window)
                span = r + 1
                centre = buf[i]
                grp = groups[centre] if typed else 0
                j0 = max(0, i - span)
                j1 = min(n, i + span + 1)
                outs[0] = centre
                if shared:
                    m = 0
                    for j in range(j0, j1):
                        if j != i:
                            ctx[m] = buf[j]
                            m += 1
                    if m == 0:
                        continue
                    state, kk = _draw_negatives(state, centre, outs, negative, grp, neg_indptr,
                                                neg_nodes, neg_prob, neg_alias)
                    loss += _window_update(W, C, ctx, m, outs, kk, alpha, g, neu, sig, softplus)
                    pairs += m
                else:
                    for j in range(j0, j1):
                        if j == i:
                            continue
                        ctx[0] = buf[j]
                        state, kk = _draw_negatives(state, centre, outs, negative, grp, neg_indptr,
                                                    neg_nodes, neg_prob, neg_alias)
                        loss += _window_update(W, C, ctx, 1, outs, kk, alpha, g, neu, sig, softplus)
                        pairs += 1
        loss_out[c] = loss
        pairs_out[c] = pairs


# ------------------------------------------------------------------------------------- tables
def unigram_tables(counts: np.ndarray, groups: np.ndarray | None = None,
                   power: float = 0.75) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Alias tables of the noise distribution ``counts^power``, one row per group.

    Returns ``(indptr, nodes, prob, alias)``: row ``g`` draws ``nodes[indptr[g] + j]`` with
    ``j = alias_draw(...)``. Without ``groups`` there is one row over all nodes.
    """
    n = counts.shape[0]
    weight = np.power(counts.astype(np.float64), power).astype(np.float32)
    if groups is None:
        indptr = np.array([0, n], dtype=np.int64)
        nodes = np.arange(n, dtype=np.int64)
    else:
        nodes = np.argsort(groups, kind="stable").astype(np.int64)
        per = np.bincount(groups, minlength=int(groups.max(initial=-1)) + 1)
        indptr = np.zeros(per.size + 1, dtype=np.int64)
        np.cumsum(per, out=indptr[1:])
        weight = weight[nodes]
    prob, alias = build_alias(indptr, weight)
    return indptr, nodes, prob, alias


def keep_probabilities(counts: np.ndarray, subsample: float, min_count: int) -> np.ndarray:
    """word2vec's probability of keeping each token: ``(sqrt(c / (t·T)) + 1)·(t·T) / c``, capped at 1.

    ``T`` is the number of tokens with count >= ``min_count``; tokens below ``min_count`` get 0.
    """
    keep = np.ones(counts.shape[0], dtype=np.float32)
    valid = counts >= max(min_count, 1)
    if subsample > 0:
        thr = subsample * float(counts[valid].sum())
        c = counts[valid].astype(np.float64)
        keep[valid] = np.minimum(1.0, (np.sqrt(c / thr) + 1.0) * thr / c).astype(np.float32)
    keep[counts < min_count] = 0.0
    return keep


# ------------------------------------------------------------------------------------- trainer
@dataclass(frozen=True)
class SGNSResult:
    """What :func:`train_sgns` learned.

    Attributes:
        vectors: input vectors ``W``, float32 ``(n_nodes, dimensions)`` (the embedding).
        context: context vectors ``C``, float32 ``(n_nodes, dimensions)``.
        counts: int64 ``(n_nodes,)`` token counts in the walks.
        losses: float64 ``(n_blocks,)`` mean sampled loss per (centre, context) pair of each block.
        pairs: number of (centre, context) pairs trained on (all epochs).
    """

    vectors: np.ndarray
    context: np.ndarray
    counts: np.ndarray
    losses: np.ndarray
    pairs: int


def _check_walks(walks: Any, n_nodes: int) -> np.ndarray:
    arr = walks if isinstance(walks, np.ndarray) else np.asarray(walks)
    if arr.ndim != 2:
        raise ValidationError(f"walks: shape {arr.shape}; expected a 2-D (n_walks, length) array")
    if arr.dtype not in (np.int32, np.int64):
        if arr.dtype.kind not in "iu":
            raise ValidationError(f"walks: dtype {arr.dtype}; expected int32 or int64 node ids")
        arr = arr.astype(np.int64)
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise EmptyInputError(f"walks: shape {arr.shape} holds no tokens")
    if arr.min() < -1:
        raise ValidationError(f"walks: value {int(arr.min())} < -1 (only -1 may pad a walk)")
    return np.ascontiguousarray(arr)


def train_sgns(walks: np.ndarray, n_nodes: int, *, dimensions: int = 128, window: int = 10,
               negative: int = 5, epochs: int = 1, lr: float = 0.025, min_lr_ratio: float = 1e-4,
               subsample: float = 0.0, min_count: int = 0, groups: np.ndarray | None = None,
               shared_negatives: bool = True, shuffle: bool = True, block_fraction: float = 0.01,
               random_state: Any = None, progress: ProgressFn | None = None) -> SGNSResult:
    """Train SGNS vectors on walks (see the module docstring for the objective and the kernel).

    Args:
        walks: int32/int64 ``(n_walks, length)`` node ids in ``[0, n_nodes)``; ``-1`` ends a walk.
        n_nodes: vocabulary size ``N`` (rows of the result).
        dimensions: vector size ``d``. Default 128.
        window: maximum window ``w``; each centre draws its window uniformly in ``1..w``. Default 10.
        negative: negatives per positive pair (per window when shared). Default 5.
        epochs: passes over the walks. Default 1.
        lr: initial learning rate, decayed linearly to ``lr * min_lr_ratio``. Default 0.025.
        min_lr_ratio: floor of the decay. Default 1e-4.
        subsample: word2vec's frequent-token threshold ``t`` (0 = keep all tokens). Default 0.
        min_count: tokens seen fewer times are dropped from the walks and never drawn as
            negatives (their vectors stay at the initial values). Default 0.
        groups: optional int ``(N,)`` group (node type) of each node: negatives for a centre are
            then drawn from its group's unigram table (metapath2vec++). Default None.
        shared_negatives: share negatives across a window (pWord2Vec). Default True.
        shuffle: visit walks in a seeded random order each epoch. Default True.
        block_fraction: fraction of the walks per kernel call, between progress reports. Default 0.01.
        random_state: None, an int or a ``numpy.random.Generator``.
        progress: optional ``progress(done_fraction, mean_loss)`` called after each block.

    Returns:
        :class:`SGNSResult` with ``vectors`` ``(N, d)`` float32.
    """
    n_nodes = check_int("n_nodes", n_nodes, 1)
    dimensions = check_int("dimensions", dimensions, 1)
    window = check_int("window", window, 1)
    negative = check_int("negative", negative, 0)
    epochs = check_int("epochs", epochs, 1)
    lr = check_float("lr", lr)
    min_lr_ratio = check_float("min_lr_ratio", min_lr_ratio, high=1.0)
    subsample = check_float("subsample", subsample, low_open=False)
    min_count = check_int("min_count", min_count, 0)
    block_fraction = check_float("block_fraction", block_fraction, high=1.0)
    progress = check_progress(progress)
    for name, flag in (("shared_negatives", shared_negatives), ("shuffle", shuffle)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ValidationError(f"{name}={flag!r}: expected True or False")
    arr = _check_walks(walks, n_nodes)
    counts, bad = _count_tokens(arr, n_nodes)
    if bad >= 0:
        raise ValidationError(f"walks: walk {bad} holds node id {int(arr[bad].max())} >= n_nodes={n_nodes}")
    if counts.sum() == 0:
        raise EmptyInputError("walks: every walk is empty (starts with -1)")
    typed = groups is not None
    if typed:
        groups = np.asarray(groups)
        if groups.shape != (n_nodes,) or groups.dtype.kind not in "iu" or (n_nodes and groups.min() < 0):
            raise ValidationError(f"groups: expected non-negative ints of shape ({n_nodes},), got "
                                  f"{groups.dtype}{groups.shape}")
        groups = groups.astype(np.int64)
    noise = np.where(counts >= max(min_count, 1), counts, 0)
    neg_indptr, neg_nodes, neg_prob, neg_alias = unigram_tables(noise, groups if typed else None)
    keep = keep_probabilities(counts, subsample, min_count)
    use_keep = bool((keep < 1.0).any())
    grp = groups if typed else np.zeros(1, dtype=np.int64)

    seed = seed_from(random_state)
    rng = np.random.default_rng(int(seed))
    W = ((rng.random((n_nodes, dimensions), dtype=np.float32) - np.float32(0.5))
         / np.float32(dimensions)).astype(np.float32)
    C = np.zeros((n_nodes, dimensions), dtype=np.float32)

    n_walks = arr.shape[0]
    threads = nb.get_num_threads()
    block = max(1, int(math.ceil(n_walks * block_fraction)))
    chunk = max(1, min(256, block // (4 * threads)))
    n_blocks_per_epoch = (n_walks + block - 1) // block
    total = float(epochs * n_walks)
    losses = []
    pairs_total = 0
    max_chunks = (block + chunk - 1) // chunk
    loss_out = np.zeros(max_chunks, dtype=np.float64)
    pairs_out = np.zeros(max_chunks, dtype=np.int64)
    for ep in range(epochs):
        order = (rng.permutation(n_walks) if shuffle else np.arange(n_walks)).astype(np.int64)
        ep_seed = np.uint64((int(seed) + 0x9E3779B97F4A7C15 * (ep + 1)) % (1 << 64))
        for bi in range(n_blocks_per_epoch):
            lo, hi = bi * block, min(n_walks, (bi + 1) * block)
            loss_out[:] = 0.0
            pairs_out[:] = 0
            _sgns_block(arr, order, lo, hi, W, C, keep, use_keep, grp, typed, neg_indptr, neg_nodes,
                        neg_prob, neg_alias, _SIG_TABLE, _SOFTPLUS_TABLE, window, negative,
                        bool(shared_negatives), lr,
                        min_lr_ratio, float(ep * n_walks), total, ep_seed, chunk,
                        loss_out, pairs_out)
            npairs = int(pairs_out.sum())
            mean_loss = float(loss_out.sum() / npairs) if npairs else float("nan")
            losses.append(mean_loss)
            pairs_total += npairs
            if progress is not None:
                progress((ep * n_walks + hi) / total, mean_loss)
    if not np.isfinite(W).all():
        raise ValidationError(f"SGNS diverged (non-finite vectors); lower lr={lr}")
    return SGNSResult(W, C, counts, np.asarray(losses, dtype=np.float64), pairs_total)
