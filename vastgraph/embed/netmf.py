"""NetMF: the closed-form matrix that window-T DeepWalk implicitly factorises, factorised by SVD.

Qiu, Dong, Ma, Li, Wang, Tang, "Network Embedding as Matrix Factorization: Unifying DeepWalk,
LINE, PTE, and node2vec", WSDM 2018.

With adjacency ``A`` (symmetric, weighted), degrees ``D = diag(A 1)`` and ``vol(G) = Σ_ij A_ij``,
DeepWalk with window ``T`` and ``b`` negative samples converges to factorising

    M = vol(G) / (b T) · ( Σ_{r=1..T} (D⁻¹A)^r ) D⁻¹,

and NetMF embeds with the rank-``d`` truncated SVD of ``log(max(M, 1))``: ``E = U_d sqrt(Σ_d)``.

* ``method="exact"`` (the paper's Algorithm 3, small ``T``) forms ``M`` densely, using
  ``(D⁻¹A)^r D⁻¹ = D^-1/2 X^r D^-1/2`` with the symmetric ``X = D^-1/2 A D^-1/2``; the sum is
  evaluated by Horner's rule ``S ← X + X S`` as ``T − 1`` sparse × dense products in a parallel
  numba kernel (``O(T · nnz · n)`` time, two ``n × n`` float64 buffers: 1.6 GB at 10k nodes).
  The memory is estimated before anything is allocated (:func:`netmf_memory`) and a graph whose
  estimate is above ``memory_limit`` (default: 80% of the available memory) is refused.
* ``method="approx"`` (Algorithm 4, large ``T``) takes the top-``h`` eigenpairs (by magnitude)
  ``X ≈ U_h Λ_h U_hᵀ`` and uses ``M̂ = vol(G)/b · D^-1/2 U_h f(Λ_h) U_hᵀ D^-1/2`` with the filter
  ``f(λ) = (1/T) Σ_{r=1..T} λ^r``. Above :data:`APPROX_DENSE_MAX_NODES` nodes ``log(max(M̂, 1))`` is
  never stored: it is rebuilt in float32 row blocks inside a randomized subspace iteration, so memory
  stays ``O(n (h + d))`` (time is still ``O(n² h)`` per pass, 8 passes).
* ``method="sparse"`` (NetSMF, Qiu et al., WWW 2019; :mod:`vastgraph.embed.netsmf`) estimates the
  matrix from ``samples · T · m`` sampled paths as a sparse matrix, truncates its log entrywise and
  factorises it with a randomized SVD: ``O(samples · T² · m)`` time and ``O(n + m + nnz)`` memory,
  never ``n × n`` (about 2 GB at 1M edges with ``samples=10``).

``log(max(M, 1))`` is symmetric, so its truncated SVD is its top-``d`` eigenpairs by magnitude
(``U`` = eigenvectors, ``Σ = |λ|``); that is how it is computed (LAPACK for small graphs, ARPACK
otherwise). Isolated nodes get zero rows. Directed edge types are symmetrised (``A + Aᵀ``); all edge
types of a heterogeneous graph are summed into one adjacency over global node ids.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

import numba as nb
import numpy as np
import scipy.sparse as sp

from vastgraph.embed.base import Embedder
from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.seeding import seed_from
from vastgraph.validation import check_float, check_int

if TYPE_CHECKING:
    from vastgraph.graph.view import GraphView

MEMORY_FRACTION = 0.8
"""Default ``memory_limit``: this fraction of the available memory (``MemAvailable``)."""

APPROX_DENSE_MAX_NODES = 2048
"""Up to this node count ``method="approx"`` forms ``M̂`` densely and decomposes it exactly."""

DENSE_EIG_MAX_NODES = 2048
"""Up to this size symmetric eigenproblems use LAPACK (full ``eigh``) instead of ARPACK."""

_RSVD_ITER = 6
_RSVD_OVERSAMPLE = 16
_BLOCK_ELEMENTS = 1 << 23


# ---------------------------------------------------------------------------- shared helpers


def json_params(params: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameters made JSON-able for an artifact's metadata (a Generator becomes a string)."""
    out = {}
    for k, v in params.items():
        if v is None or isinstance(v, (bool, int, float, str)):
            out[k] = v
        elif isinstance(v, (np.integer, np.floating)):
            out[k] = v.item()
        else:
            out[k] = type(v).__name__
    return out


def symmetric_adjacency(graph: GraphView) -> sp.csr_matrix:
    """All edge types of ``graph`` summed into one symmetric float64 CSR over global node ids.

    Symmetric (undirected, same node type) edge types are taken as stored; any other edge type
    ``B`` contributes ``B + Bᵀ``. Parallel edges add their weights (unweighted edges weigh 1).

    Args:
        graph: a :class:`~vastgraph.graph.view.GraphView`.

    Returns:
        ``(N, N)`` CSR, ``N = graph.num_nodes_total()``, sorted indices, duplicates summed.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=True); _ = b.add_edges([0], [1])
        >>> symmetric_adjacency(b.build()).toarray().tolist()
        [[0.0, 1.0], [1.0, 0.0]]
    """
    offsets = graph.node_offsets()
    n = graph.num_nodes_total()
    rows, cols, vals = [], [], []
    for et in graph.edge_types:
        e = graph.coo(et)
        src = e.src + offsets[et.src]
        dst = e.dst + offsets[et.dst]
        w = (np.ones(src.shape[0]) if e.weight is None
             else np.asarray(e.weight, dtype=np.float64))
        if w.size and w.min() < 0:
            raise ValidationError(f"edge type {et}: negative edge weight {float(w.min())}; "
                                  "factorisation embeddings need non-negative weights")
        rows.append(src)
        cols.append(dst)
        vals.append(w)
        if not (graph.is_undirected(et) and et.src == et.dst):
            rows.append(dst)
            cols.append(src)
            vals.append(w)
    if not rows:
        return sp.csr_matrix((n, n), dtype=np.float64)
    a = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n, n), dtype=np.float64)
    a.sum_duplicates()
    a.sort_indices()
    return a


@nb.njit(nogil=True, parallel=True, cache=True)
def _spmm(indptr, indices, data, b, out):  # pragma: no cover - numba
    """``out = A @ b`` for CSR ``A``; rows in parallel, each row summed in a fixed order."""
    m = b.shape[1]
    for i in nb.prange(indptr.shape[0] - 1):
        for c in range(m):
            out[i, c] = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            w = data[p]
            for c in range(m):
                out[i, c] += w * b[j, c]


@nb.njit(nogil=True, parallel=True, cache=True)
def _add_csr(indptr, indices, data, out):  # pragma: no cover - numba
    """``out += A`` for CSR ``A`` and dense ``out``."""
    for i in nb.prange(indptr.shape[0] - 1):
        for p in range(indptr[i], indptr[i + 1]):
            out[i, indices[p]] += data[p]


@nb.njit(nogil=True, parallel=True, cache=True)
def _scale_log_symmetric(s, dis, c):  # pragma: no cover - numba
    """``s ← log(max(c · dis_i · sym(s)_ij · dis_j, 1))`` in place (symmetrising rounding noise)."""
    n = s.shape[0]
    for i in nb.prange(n):
        for j in range(i, n):
            v = 0.5 * (s[i, j] + s[j, i]) * c * dis[i] * dis[j]
            v = math.log(v) if v > 1.0 else 0.0
            s[i, j] = v
            s[j, i] = v


def csr_matmat(a: sp.csr_matrix, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` for a CSR ``a`` and a dense C-contiguous ``b``, in parallel over rows.

    Deterministic whatever the thread count (each output row is summed in CSR order).

    Args:
        a: ``(n, m)`` CSR.
        b: ``(m, k)`` dense.
        out: optional ``(n, k)`` output buffer (same dtype as ``b``).
    """
    b = np.ascontiguousarray(b)
    if out is None:
        out = np.empty((a.shape[0], b.shape[1]), dtype=b.dtype)
    _spmm(a.indptr, a.indices, a.data.astype(b.dtype, copy=False), b, out)
    return out


def csr_matmat_mixed(a: sp.csr_matrix, b: np.ndarray) -> np.ndarray:
    """``a @ b`` in float64 for a CSR ``a`` of any float dtype (float32 stays float32: no copy)."""
    b = np.ascontiguousarray(b, dtype=np.float64)
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.float64)
    _spmm(a.indptr, a.indices, a.data, b, out)
    return out


def degree_scaling(a: sp.csr_matrix) -> tuple[np.ndarray, float]:
    """``(D^-1/2 with 0 for isolated nodes, vol(G))`` of a symmetric adjacency."""
    deg = np.asarray(a.sum(axis=1)).ravel()
    dis = np.zeros_like(deg)
    nz = deg > 0
    dis[nz] = 1.0 / np.sqrt(deg[nz])
    return dis, float(deg.sum())


def _normalized(a: sp.csr_matrix, dis: np.ndarray) -> sp.csr_matrix:
    x = sp.diags(dis) @ a @ sp.diags(dis)
    x = sp.csr_matrix(x)
    x.sort_indices()
    return x


def netmf_matrix(adjacency: sp.spmatrix, window: int = 10, negative: float = 1.0) -> np.ndarray:
    """The dense log-truncated NetMF matrix ``log(max(vol/(bT) Σ_{r≤T} (D⁻¹A)^r D⁻¹, 1))``.

    Args:
        adjacency: ``(n, n)`` symmetric non-negative sparse adjacency.
        window: ``T``. Default 10.
        negative: ``b``. Default 1.0.

    Returns:
        ``(n, n)`` float64 symmetric array.

    Example:
        >>> import scipy.sparse as sp
        >>> m = netmf_matrix(sp.csr_matrix(np.ones((3, 3)) - np.eye(3)), window=1)
        >>> bool(np.allclose(m, np.log(1.5) * (1 - np.eye(3))))  # vol/(d_i d_j) = 6/4
        True
    """
    window = check_int("window", window, 1)
    negative = check_float("negative", negative, 0.0, low_open=True)
    a = sp.csr_matrix(adjacency, dtype=np.float64)
    dis, vol = degree_scaling(a)
    if vol <= 0:
        raise EmptyInputError("netmf_matrix: the graph has no edges (vol(G) = 0)")
    x = _normalized(a, dis)
    s = x.toarray()
    if window > 1:
        work = np.empty_like(s)
        for _ in range(window - 1):  # Horner: S <- X + X S
            _spmm(x.indptr, x.indices, x.data, s, work)
            _add_csr(x.indptr, x.indices, x.data, work)
            s, work = work, s
        del work
    _scale_log_symmetric(s, dis, vol / (negative * window))
    return s


def _flip_signs(u: np.ndarray) -> np.ndarray:
    """Make the largest-magnitude entry of every column positive (a deterministic sign)."""
    if u.size == 0:
        return u
    idx = np.argmax(np.abs(u), axis=0)
    signs = np.sign(u[idx, np.arange(u.shape[1])])
    signs[signs == 0] = 1.0
    return u * signs


def top_eigs_symmetric(m: Any, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` eigenpairs of largest magnitude of a symmetric matrix (dense or sparse).

    LAPACK ``eigh`` up to :data:`DENSE_EIG_MAX_NODES` rows (or when ``k ≥ n − 1``), ARPACK ``eigsh``
    with a start vector drawn from ``rng`` beyond. Returns ``(eigenvalues (k,), vectors (n, k))``
    ordered by decreasing ``|λ|`` (stable), with each vector's largest entry made positive.
    """
    n = m.shape[0]
    if n <= DENSE_EIG_MAX_NODES or k >= n - 1:
        dense = m.toarray() if sp.issparse(m) else np.asarray(m)
        w, v = np.linalg.eigh(dense)
    else:
        from scipy.sparse.linalg import eigsh
        from threadpoolctl import threadpool_limits

        op = m
        if not sp.issparse(m) and np.count_nonzero(m) < 0.5 * m.size:
            op = sp.csr_matrix(m)
        # ARPACK's BLAS-2 work on (n, ncv) blocks gains nothing from BLAS threads, which only spin
        with threadpool_limits(limits=1, user_api="blas"):
            w, v = eigsh(op, k=k, which="LM", v0=rng.uniform(-1.0, 1.0, n))
    order = np.argsort(-np.abs(w), kind="stable")[:k]
    return w[order], _flip_signs(v[:, order])


def randomized_top_eigs(matmat: Callable[[np.ndarray], np.ndarray], n: int, k: int,
                        rng: np.random.Generator, n_iter: int = _RSVD_ITER,
                        oversample: int = _RSVD_OVERSAMPLE) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` eigenpairs by magnitude of a symmetric operator known only through ``matmat``.

    Randomized subspace iteration (Halko, Martinsson, Tropp, SIAM Review 2011, Alg. 4.4) followed
    by a Rayleigh–Ritz step: ``Q ← qr(M Q)`` ``n_iter`` times from a Gaussian start with
    ``k + oversample`` columns, then ``eigh(Qᵀ M Q)``. Returns like :func:`top_eigs_symmetric`.
    """
    from threadpoolctl import threadpool_limits

    def orth(y: np.ndarray) -> np.ndarray:
        with threadpool_limits(limits=1, user_api="blas"):  # tall-skinny QR: threads only spin
            return np.linalg.qr(y)[0]

    p = min(n, k + oversample)
    q = orth(matmat(rng.standard_normal((n, p))))
    for _ in range(n_iter):
        q = orth(matmat(q))
    b = q.T @ matmat(q)
    w, v = np.linalg.eigh(0.5 * (b + b.T))
    order = np.argsort(-np.abs(w), kind="stable")[:k]
    return w[order], _flip_signs(q @ v[:, order])


def _log_block_operator(left: np.ndarray, right: np.ndarray, scale: float
                        ) -> Callable[[np.ndarray], np.ndarray]:
    """``Q ↦ log(max(scale · left rightᵀ, 1)) Q`` computed in float32 row blocks.

    Never holds all ``n²`` entries; each application costs ``O(n² (h + k))``.
    """
    n = left.shape[0]
    block = max(1, min(n, _BLOCK_ELEMENTS // max(n, 1)))
    left32 = np.ascontiguousarray(left * scale, dtype=np.float32)
    right32 = np.ascontiguousarray(right.T, dtype=np.float32)

    def matmat(q: np.ndarray) -> np.ndarray:
        q32 = np.ascontiguousarray(q, dtype=np.float32)
        out = np.empty((n, q.shape[1]))
        for start in range(0, n, block):
            stop = min(n, start + block)
            mb = left32[start:stop] @ right32
            np.maximum(mb, 1.0, out=mb)
            np.log(mb, out=mb)
            out[start:stop] = mb @ q32
        return out

    return matmat


def netmf_approx_factors(adjacency: sp.spmatrix, window: int = 10, negative: float = 1.0,
                         rank: int = 256, *, rng: np.random.Generator | None = None
                         ) -> tuple[np.ndarray, np.ndarray, float]:
    """Low-rank factors of NetMF's large-window approximation ``M̂ = c · F Lᵀ``.

    ``L = D^-1/2 U_h``, ``F = L f(Λ_h)`` with ``f(λ) = (1/T) Σ_{r=1..T} λ^r`` and ``c = vol(G)/b``,
    where ``U_h Λ_h U_hᵀ`` are the top-``h`` eigenpairs (by magnitude) of ``D^-1/2 A D^-1/2``.
    ``h`` is capped at the node count. Returns ``(F, L, c)``, each factor ``(n, h)``.
    """
    window = check_int("window", window, 1)
    negative = check_float("negative", negative, 0.0, low_open=True)
    rank = check_int("rank", rank, 1)
    rng = np.random.default_rng(0) if rng is None else rng
    a = sp.csr_matrix(adjacency, dtype=np.float64)
    n = a.shape[0]
    dis, vol = degree_scaling(a)
    if vol <= 0:
        raise EmptyInputError("NetMF: the graph has no edges (vol(G) = 0)")
    lam, u = top_eigs_symmetric(_normalized(a, dis), min(rank, n), rng)
    powers = np.cumprod(np.repeat(lam[None, :], window, axis=0), axis=0)
    filt = powers.sum(axis=0) / window
    left = dis[:, None] * u
    return left * filt[None, :], left, vol / negative


def netmf_memory(method: str, n: int, nnz: int, *, window: int = 10, dimensions: int = 128, rank: int = 256,
                 samples: float = 10.0) -> int:
    """Estimated peak bytes of :class:`NetMF` ``fit`` on ``n`` nodes and ``nnz`` stored adjacency entries.

    * ``exact``: the two dense ``n × n`` float64 buffers of the Horner sum (``16 n²``), three when
      LAPACK decomposes them (``n ≤`` :data:`DENSE_EIG_MAX_NODES`: its copy and the eigenvectors);
    * ``approx``: ``32 n²`` below :data:`APPROX_DENSE_MAX_NODES` nodes, else the ``(n, h)`` factors,
      ARPACK's ``(n, 2h)`` basis, the randomized solver's blocks and float32 row blocks;
    * ``sparse`` (NetSMF): an upper bound, ``24`` bytes per distinct sampled entry (the float32
      CSR accumulator, its merge and its mirror) with at most ``min(samples · T · m, n(n+1)/2)``
      of them, plus the sampling chunks.

    Every method adds the adjacency's copies (``~40`` bytes per entry) and the ``(n, d)`` output.

    Example:
        >>> netmf_memory("exact", 10_000, 600_000) / 2**30 > 1.5  # 10k nodes: two 0.8 GB buffers
        True
    """
    base = 40 * nnz + 48 * n + 16 * n * dimensions
    if method == "exact":
        return base + 8 * n * n * (3 if n <= DENSE_EIG_MAX_NODES else 2)
    if method == "approx":
        if n <= APPROX_DENSE_MAX_NODES:
            return base + 32 * n * n + 16 * n * rank
        return (base + 8 * n * min(rank, n) * 4 + 8 * 4 * n * (dimensions + _RSVD_OVERSAMPLE)
                + 16 * _BLOCK_ELEMENTS)
    from vastgraph.embed.netsmf import CHUNK_SAMPLES, sample_count

    total = sample_count(max(nnz // 2, 1), window, samples)
    distinct = min(total, n * (n + 1) // 2)
    return base + 24 * distinct + 8 * n + 40 * min(total, CHUNK_SAMPLES) + 4 * 4 * n * (dimensions + 16)


def memory_limit_bytes(memory_limit: Any) -> int:
    """``memory_limit`` checked (bytes > 0), or :data:`MEMORY_FRACTION` of the available memory."""
    if memory_limit is None:
        from vastgraph.graph.resources import available_memory

        return int(MEMORY_FRACTION * available_memory())
    return int(check_float("memory_limit", memory_limit, 0.0, low_open=True))


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:,.2f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:,.1f} MiB"


# ---------------------------------------------------------------------------- the embedder
class NetMF(Embedder):
    """NetMF node embeddings (Qiu et al., WSDM 2018): SVD of DeepWalk's closed-form matrix.

    ``embedding_ = U_d sqrt(Σ_d)`` of the rank-``d`` truncated SVD of ``log(max(M, 1))`` with
    ``M = vol(G)/(bT) (Σ_{r=1..T} (D⁻¹A)^r) D⁻¹`` (``exact``) or its rank-``h`` spectral
    approximation ``M̂ = vol(G)/b D^-1/2 U_h ((1/T) Σ_r Λ_h^r) U_hᵀ D^-1/2`` (``approx``), or its
    sparse estimate from sampled paths (``sparse``, NetSMF: Qiu et al., WWW 2019).
    See the module docstring for costs and limits; the peak memory is estimated first
    (``memory_estimate_``) and a fit that would not fit in ``memory_limit`` is refused.

    Args:
        dimensions: ``d``, the embedding size (at most the node count). Default 128.
        window: ``T``, DeepWalk's window size. Default 10.
        negative: ``b``, the number of negative samples. Default 1.0.
        method: ``"exact"`` (dense ``n × n``), ``"approx"`` (rank-``h`` spectral approximation,
            large ``T``) or ``"sparse"`` (NetSMF path sampling; :mod:`vastgraph.embed.netsmf`).
            Default ``"exact"``.
        rank: ``h``, eigenpairs of ``D^-1/2 A D^-1/2`` kept by ``approx``. Default 256.
        samples: ``sparse`` only: path samples per edge and window step (``samples · T · m`` in
            all); more is closer to ``exact`` and costs proportionally. Default 10.
        memory_limit: bytes the estimated peak memory (:func:`netmf_memory`) may reach; a larger
            estimate raises a ValidationError before anything is allocated. Default None: 80% of
            the available memory.
        random_state: None, an int or a ``numpy.random.Generator`` (ARPACK start vectors and the
            randomized solver). Default None.

    Attributes:
        embedding_: float32 ``(N, d)`` in global node-id order.
        singular_values_: float64 ``(d,)``, decreasing.
        memory_estimate_: the estimated peak bytes (:func:`netmf_memory`) the fit was allowed.
        keyed_: the :class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings` artifact.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_edges([0, 1, 2, 3], [1, 2, 3, 0])
        >>> NetMF(dimensions=2, window=2, random_state=0).fit(b.build()).embedding_.shape
        (4, 2)
    """

    def __init__(self, dimensions: int = 128, window: int = 10, negative: float = 1.0,
                 method: str = "exact", rank: int = 256, samples: float = 10.0,
                 memory_limit: float | None = None, random_state: Any = None) -> None:
        self.dimensions = dimensions
        self.window = window
        self.negative = negative
        self.method = method
        self.rank = rank
        self.samples = samples
        self.memory_limit = memory_limit
        self.random_state = random_state

    def _validate(self) -> tuple[int, int, float, int]:
        d = check_int("dimensions", self.dimensions, 1)
        t = check_int("window", self.window, 1)
        b = check_float("negative", self.negative, 0.0, low_open=True)
        h = check_int("rank", self.rank, 1)
        check_float("samples", self.samples, 0.0, low_open=True)
        if self.method not in ("exact", "approx", "sparse"):
            raise ValidationError(f"method={self.method!r}: expected 'exact', 'approx' or 'sparse'")
        return d, t, b, h

    def check_memory(self, n: int, nnz: int) -> int:
        """The estimated peak bytes of fitting ``n`` nodes / ``nnz`` entries; ValidationError above the limit."""
        d, t, _, h = self._validate()
        limit = memory_limit_bytes(self.memory_limit)
        need = netmf_memory(self.method, n, nnz, window=t, dimensions=d, rank=h, samples=self.samples)
        if need > limit:
            alt = {"exact": "method='sparse' (NetSMF) or method='approx' (large window), or ProNE",
                   "approx": "method='sparse' (NetSMF), a smaller rank, or ProNE",
                   "sparse": "fewer samples, a smaller window, or ProNE"}[self.method]
            raise ValidationError(
                f"NetMF(method={self.method!r}) on {n:,} nodes and {nnz:,} adjacency entries needs about "
                f"{_gib(need)} of memory (estimate), above memory_limit={_gib(limit)}"
                f"{' (80% of the available memory)' if self.memory_limit is None else ''}; use {alt}, "
                "or raise memory_limit")
        return need

    def fit(self, graph: GraphView) -> "NetMF":
        """Factorise ``graph``'s NetMF matrix; returns ``self``."""
        d, t, b, h = self._validate()
        a = symmetric_adjacency(graph)
        n = a.shape[0]
        if a.nnz == 0:
            raise EmptyInputError(f"NetMF: the graph has {n} nodes but no edges; nothing to factorise")
        if d > n:
            raise ValidationError(f"dimensions={d}: larger than the graph's {n} nodes")
        self.memory_estimate_ = self.check_memory(n, a.nnz)
        seed = seed_from(self.random_state)
        rng = np.random.default_rng(int(seed))
        if self.method == "exact":
            lam, u = top_eigs_symmetric(netmf_matrix(a, t, b), d, rng)
        elif self.method == "sparse":
            from vastgraph.embed.netsmf import netsmf_embedding, netsmf_matrix

            m = netsmf_matrix(a, t, b, self.samples, random_state=seed)
            del a
            u, lam = netsmf_embedding(m, d, random_state=seed)
        else:
            left_f, left, c = netmf_approx_factors(a, t, b, h, rng=rng)
            if n <= APPROX_DENSE_MAX_NODES:
                m = left_f @ left.T
                m *= c
                np.maximum(m, 1.0, out=m)
                np.log(m, out=m)
                lam, u = top_eigs_symmetric(0.5 * (m + m.T), d, rng)
            else:
                lam, u = randomized_top_eigs(_log_block_operator(left_f, left, c), n, d, rng)
        s = np.abs(lam)
        self.singular_values_ = s
        self.embedding_ = (u * np.sqrt(s)[None, :]).astype(np.float32)
        from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

        self.keyed_ = KeyedEmbeddings.from_graph(
            graph, self.embedding_, meta={"method": "NetMF", "params": json_params(self.get_params())},
            copy=False)
        self.embedding_ = self.keyed_.vectors
        return self
