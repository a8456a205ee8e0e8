"""NetSMF: a sparse NetMF matrix from path samples, for graphs where ``n × n`` cannot be held.

Qiu, Dong, Ma, Li, Wang, Wang, Tang, "NetSMF: Large-Scale Network Embedding as Sparse Matrix
Factorization", WWW 2019 (Algorithms 1 and 2), after the random-walk matrix-polynomial
sparsifier of Cheng, Cheng, Liu, Peng, Teng (2015).

NetMF's matrix is ``M = vol(G)/b · D⁻¹ (Σ_{r=1..T} (1/T) D (D⁻¹A)^r) D⁻¹`` (see
:mod:`vastgraph.embed.netmf`). The inner polynomial ``P = Σ_r (1/T) D (D⁻¹A)^r`` is dense, but it is
a sum over paths, so it is estimated by sampling ``S`` paths: pick a stored (directed) entry
``(u, v)`` of ``A`` uniformly, a length ``r`` uniform in ``1..T`` and a position ``k`` uniform in
``1..r``; walk ``k − 1`` steps from ``u`` and ``r − k`` steps from ``v`` (each step picks a
neighbour with probability proportional to the edge weight) to the ends ``(u₀, u_r)``, and add
``r · nnz(A) / (S · Z)`` to ``P̃[u₀, u_r]`` and to ``P̃[u_r, u₀]``, with ``Z = Σ_i 2 / A_{p_{i−1} p_i}``
over the path's edges (``Z = 2r`` unweighted). Then ``E[P̃] = P`` entrywise. As in the paper, the
degree matrix of the sample corrects the diagonal: ``M̃ = vol/b · D⁻¹ (D − D̃ + P̃) D⁻¹`` with
``D̃ = diag(P̃ 1)``, and ``log(max(M̃, 1))`` is taken on the stored entries only, which keeps it
sparse. Its rank-``d`` truncated SVD (a randomized SVD, symmetric: :func:`netsmf_embedding`)
gives ``E = U_d sqrt(Σ_d)``.

Costs: ``S = samples · T · m`` path samples (``m`` undirected edges) of ``(T + 1)/2`` steps on
average, in a parallel numba kernel (a SplitMix64 stream per block of samples: results depend only
on ``random_state``, not on the thread count). The samples are merged in chunks of
:data:`CHUNK_SAMPLES` into a CSR of the upper triangle (int32 indices, float32 values, 8 bytes an
entry), then mirrored once, so memory is ``O(n + m + nnz(P̃))`` with ``nnz(P̃) ≤ 2S + n``; nothing
``n × n`` exists. Larger ``samples`` approaches exact NetMF (the sparsifier's error decays as
``1/sqrt(samples)``).

Example:
    >>> import scipy.sparse as sp
    >>> a = sp.csr_matrix(np.ones((4, 4)) - np.eye(4))
    >>> m = netsmf_matrix(a, window=2, samples=50, random_state=0)
    >>> m.shape, bool((m.data > 0).all()), bool(abs(m - m.T).max() < 1e-6)
    ((4, 4), True, True)
"""

from __future__ import annotations

import math
from typing import Any

import numba as nb
import numpy as np
import scipy.sparse as sp

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.seeding import next_float, next_int, seed_from, stream
from vastgraph.validation import check_float, check_int

CHUNK_SAMPLES = 1 << 22
"""Path samples drawn (and merged into the sparse accumulator) per chunk."""

_BLOCK = 4096
"""Samples per random stream (a stream is keyed by ``(seed, chunk, block)``)."""

SVD_ITER = 7
SVD_OVERSAMPLE = 16


@nb.njit(inline="always", cache=True)
def _step(indptr, indices, data, cumw, weighted, node, state):  # pragma: no cover - numba
    """One random-walk step from ``node``: ``(state, next node, weight of the edge taken)``."""
    lo = indptr[node]
    hi = indptr[node + 1]
    if not weighted:
        state, k = next_int(state, hi - lo)
        return state, indices[lo + k], 1.0
    base = cumw[lo - 1] if lo > 0 else 0.0
    state, u = next_float(state)
    x = base + u * (cumw[hi - 1] - base)
    a, b = lo, hi - 1
    while a < b:  # first q in [lo, hi) with cumw[q] > x
        mid = (a + b) >> 1
        if cumw[mid] > x:
            b = mid
        else:
            a = mid + 1
    return state, indices[a], data[a]


@nb.njit(nogil=True, parallel=True, cache=True)
def _sample_paths(indptr, indices, data, cumw, rows, weighted, window, scale, seed, first,
                  out_a, out_b, out_w):  # pragma: no cover - numba
    """Fill ``out_*`` with path samples ``(min end, max end, weight)``; sample ``i`` of the chunk
    uses the stream of block ``(first + i) // _BLOCK``."""
    count = out_a.shape[0]
    nnz = indices.shape[0]
    n_blocks = (count + _BLOCK - 1) // _BLOCK
    for blk in nb.prange(n_blocks):
        state = stream(seed, (first // _BLOCK) + blk)
        stop = min(count, (blk + 1) * _BLOCK)
        for i in range(blk * _BLOCK, stop):
            state, p = next_int(state, nnz)
            state, r1 = next_int(state, window)
            r = r1 + 1
            state, k1 = next_int(state, r)
            z = 2.0 / data[p]
            a = rows[p]
            for _ in range(k1):  # k - 1 steps back from u
                state, a, w = _step(indptr, indices, data, cumw, weighted, a, state)
                z += 2.0 / w
            b = indices[p]
            for _ in range(r - 1 - k1):  # r - k steps on from v
                state, b, w = _step(indptr, indices, data, cumw, weighted, b, state)
                z += 2.0 / w
            if a > b:
                a, b = b, a
            out_a[i] = a
            out_b[i] = b
            out_w[i] = scale * r / z


@nb.njit(nogil=True, cache=True)
def _mirror_counts(n, indptr, indices, data, counts, dtilde):  # pragma: no cover - numba
    """Per-row entry counts of ``U + Uᵀ`` plus a diagonal slot per row, and its row sums ``D̃``."""
    for i in range(n):
        counts[i] += 1  # the diagonal slot
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            v = data[p]
            if j == i:
                dtilde[i] += 2.0 * v
            else:
                counts[i] += 1
                counts[j] += 1
                dtilde[i] += v
                dtilde[j] += v


@nb.njit(nogil=True, cache=True)
def _mirror_fill(n, indptr, indices, data, out_ptr, out_idx, out_val, deg, dtilde, c):  # pragma: no cover
    """Write ``log(max(c · (D − D̃ + U + Uᵀ)_ij / (d_i d_j), 1))`` row by row, columns sorted.

    Row ``i`` gets, in order, the mirrored entries ``(i, k)`` for ``k < i`` (visited in increasing
    ``k``), its diagonal slot, then its own upper entries ``j > i``.
    """
    cursor = out_ptr[:-1].copy()
    for i in range(n):  # the lower triangle: entries (k, i) of U, k < i, land in row i in order of k
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if j != i:
                out_idx[cursor[j]] = i
                out_val[cursor[j]] = data[p]
                cursor[j] += 1
    for i in range(n):
        diag = deg[i] - dtilde[i]
        lo = indptr[i]
        if lo < indptr[i + 1] and indices[lo] == i:
            diag += 2.0 * data[lo]
            lo += 1
        out_idx[cursor[i]] = i
        out_val[cursor[i]] = diag
        cursor[i] += 1
        for p in range(lo, indptr[i + 1]):
            out_idx[cursor[i]] = indices[p]
            out_val[cursor[i]] = data[p]
            cursor[i] += 1
    for i in range(n):
        for p in range(out_ptr[i], out_ptr[i + 1]):
            j = out_idx[p]
            v = c * out_val[p] / (deg[i] * deg[j]) if deg[i] > 0 and deg[j] > 0 else 0.0
            out_val[p] = math.log(v) if v > 1.0 else 0.0


def sample_count(num_edges: int, window: int, samples: float) -> int:
    """``S = ceil(samples · T · m)`` path samples for ``m`` undirected edges."""
    return max(1, math.ceil(samples * window * num_edges))


def path_sparsifier(adjacency: sp.spmatrix, window: int = 10, samples: float = 10.0,
                    random_state: Any = None) -> sp.csr_matrix:
    """The upper triangle ``U`` of the sampled ``P̃ ≈ Σ_{r=1..T} (1/T) D (D⁻¹A)^r`` (``P̃ = U + Uᵀ``).

    Args:
        adjacency: ``(n, n)`` symmetric non-negative sparse adjacency.
        window: ``T``. Default 10.
        samples: path samples per edge and window step (``S = samples · T · m``). Default 10.
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        CSR with int32 indices and float32 values, entries ``(i, j)`` with ``i ≤ j`` only.
    """
    window = check_int("window", window, 1)
    samples = check_float("samples", samples, 0.0, low_open=True)
    a = sp.csr_matrix(adjacency, dtype=np.float64)
    a.sum_duplicates()
    n = a.shape[0]
    if a.nnz == 0:
        raise EmptyInputError("NetSMF: the graph has no edges")
    if n >= 2**31:
        raise ValidationError(f"NetSMF: {n} nodes; at most 2**31 - 1 are supported")
    if a.data.min() <= 0:
        a.eliminate_zeros()
        if a.nnz == 0 or a.data.min() < 0:
            raise ValidationError("NetSMF: edge weights must be non-negative")
    indptr = a.indptr.astype(np.int64)
    indices = a.indices.astype(np.int32)
    data = a.data
    weighted = bool(np.any(data != 1.0))
    cumw = np.cumsum(data) if weighted else np.zeros(1)
    rows = np.repeat(np.arange(n, dtype=np.int32), np.diff(indptr))
    total = sample_count(a.nnz // 2 or 1, window, samples)
    seed = np.uint64(seed_from(random_state))
    scale = a.nnz / total
    # merged like a binary counter: a part is added to one of its own size, so each sample is merged
    # O(log(chunks)) times (not once per later chunk) and at most ~log2(chunks) parts are held
    stack: list[tuple[int, sp.csr_matrix]] = []
    chunk = max(_BLOCK, (CHUNK_SAMPLES // _BLOCK) * _BLOCK)
    for first in range(0, total, chunk):
        count = min(chunk, total - first)
        ua = np.empty(count, np.int32)
        ub = np.empty(count, np.int32)
        uw = np.empty(count, np.float32)
        _sample_paths(indptr, indices, data, cumw, rows, weighted, window, scale, seed, first, ua, ub, uw)
        part = sp.coo_matrix((uw, (ua, ub)), shape=(n, n)).tocsr()  # sums duplicates
        del ua, ub, uw
        level = 0
        while stack and stack[-1][0] == level:
            part = stack.pop()[1] + part
            level += 1
        stack.append((level, part))
        del part
    acc = stack.pop()[1]
    while stack:
        acc = stack.pop()[1] + acc
    acc.sort_indices()
    return acc


def netsmf_matrix(adjacency: sp.spmatrix, window: int = 10, negative: float = 1.0, samples: float = 10.0,
                  random_state: Any = None) -> sp.csr_matrix:
    """The sparse, log-truncated NetSMF matrix ``log(max(vol/b · D⁻¹ (D − D̃ + P̃) D⁻¹, 1))``.

    Symmetric CSR (int32 indices, float32 values), zeros removed. As ``samples`` grows, its stored
    entries approach :func:`~vastgraph.embed.netmf.netmf_matrix`'s.
    """
    window = check_int("window", window, 1)
    negative = check_float("negative", negative, 0.0, low_open=True)
    a = sp.csr_matrix(adjacency, dtype=np.float64)
    deg = np.asarray(a.sum(axis=1), dtype=np.float64).ravel()
    vol = float(deg.sum())
    if vol <= 0:
        raise EmptyInputError("NetSMF: the graph has no edges (vol(G) = 0)")
    u = path_sparsifier(a, window, samples, random_state)
    n = a.shape[0]
    counts = np.zeros(n, dtype=np.int64)
    dtilde = np.zeros(n, dtype=np.float64)
    _mirror_counts(n, u.indptr, u.indices, u.data, counts, dtilde)
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=out_ptr[1:])
    del counts
    out_idx = np.empty(out_ptr[-1], dtype=np.int32)
    out_val = np.empty(out_ptr[-1], dtype=np.float32)
    _mirror_fill(n, u.indptr, u.indices, u.data, out_ptr, out_idx, out_val, deg, dtilde, vol / negative)
    del u
    if out_ptr[-1] < 2**31:
        out_ptr = out_ptr.astype(np.int32)
    m = sp.csr_matrix((out_val, out_idx, out_ptr), shape=(n, n))
    m.eliminate_zeros()
    return m


def netsmf_embedding(matrix: sp.csr_matrix, dimensions: int, random_state: Any = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(U_d, Σ_d)`` of the rank-``d`` truncated SVD of a sparse symmetric matrix (float64 out).

    A randomized SVD (Halko, Martinsson, Tropp 2011; the algorithm of
    ``sklearn.utils.extmath.randomized_svd``) specialised to a symmetric matrix: subspace iteration
    with one product by ``M`` per step (``M = Mᵀ``, so the ``Mᵀ`` products of the general algorithm
    are the same ones), done by the parallel CSR kernel on the float32 matrix, then a Rayleigh–Ritz
    step. For a symmetric matrix the singular values are ``|λ|`` and ``U`` its eigenvectors.
    """
    from vastgraph.embed.netmf import csr_matmat_mixed, randomized_top_eigs

    if matrix.nnz == 0:
        raise EmptyInputError("NetSMF: every sampled entry was truncated to zero (log(max(M, 1)) = 0); "
                              "raise samples or window")
    n = matrix.shape[0]
    rng = np.random.default_rng(int(seed_from(random_state)))
    lam, u = randomized_top_eigs(lambda q: csr_matmat_mixed(matrix, q), n, dimensions, rng,
                                 n_iter=SVD_ITER, oversample=SVD_OVERSAMPLE)
    return u, np.abs(lam)
