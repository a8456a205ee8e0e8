"""ProNE: sparse matrix factorisation enhanced by spectral propagation, in ``O(edges · d)``.

Zhang, Dong, Kuang, Wang, "ProNE: Fast and Scalable Network Representation Learning", IJCAI 2019.

**1. Sparse matrix factorisation (SMF).** With ``P = D⁻¹A`` (row-normalised adjacency), the
negative-sampling distribution ``P_D,j = (Σ_i p_ij)^α / Σ_j' (Σ_i p_ij')^α`` (``α = 0.75``) and
``λ`` negatives per edge, the skip-gram optimum on the edges is the sparse matrix

    F_ij = ln p_ij − ln(λ · P_D,j)     for A_ij > 0   (zero elsewhere),

factorised by a randomized truncated SVD ``F ≈ U_d Σ_d V_dᵀ`` (Halko et al., the algorithm of
``sklearn.utils.extmath.randomized_svd``); ``R = U_d sqrt(Σ_d)``, rows L2-normalised.

**2. Spectral propagation.** On the random-walk Laplacian of the graph with self-loops,
``L = I − D̃⁻¹Ã`` (``Ã = A + I``, eigenvalues in ``[0, 2)``), the band-pass filter

    g(λ) = exp(−½ θ ((λ − μ)² − 1))

is expanded in Chebyshev polynomials of ``x(λ) = ½(λ − μ)² − 1 ∈ [−1, 1]``: since
``g = e^{−θ/2} e^{−θx}`` and ``e^{−θx} = I₀(θ) + 2 Σ_{k≥1} (−1)^k I_k(θ) T_k(x)`` (modified Bessel
functions ``I_k``, ``scipy.special.iv``), ``step`` terms give ``g(L) R`` with ``2 · step − 1``
sparse products by ``L − μI`` (recurrence ``T_{k+1} = 2x T_k − T_{k−1}``). (The authors' code
applies ``e^{−θx}``, i.e. ``e^{θ/2} g``; this module uses the paper's ``g``.) The propagated
``Z = Ã (R − g(L) R)`` — the paper's ``D⁻¹A (I − L̃) R`` with the un-normalised, self-loop-augmented
adjacency of the authors' code (a row scaling only changes the whitening of the next step; the
row normalisation removes the scale itself) — is re-orthonormalised by a thin SVD ``Z = U S Vᵀ``
→ ``U sqrt(S)``, rows L2-normalised.

Everything is sparse: ``O(nnz · d)`` time for both stages and ``O(n · d)`` memory besides the graph.
Isolated nodes get zero rows. Directed edge types are symmetrised (``A + Aᵀ``); all edge types of a
heterogeneous graph are summed into one adjacency over global node ids.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from scipy.special import iv

from vastgraph.embed.base import Embedder
from vastgraph.embed.netmf import csr_matmat, json_params, symmetric_adjacency
from vastgraph.validation import check_float, check_int
from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.seeding import seed_from

if TYPE_CHECKING:
    from vastgraph.graph.view import GraphView

NEGATIVE_EXPONENT = 0.75
"""``α`` of the negative-sampling distribution ``P_D ∝ (column sums of D⁻¹A)^α``."""

_RSVD_ITER = 5
_RSVD_OVERSAMPLE = 10


def smf_matrix(adjacency: sp.spmatrix, negative_ratio: float = 1.0) -> sp.csr_matrix:
    """ProNE's sparse proximity matrix ``F_ij = ln p_ij − ln(λ P_D,j)`` on the edges of ``A``.

    Args:
        adjacency: ``(n, n)`` non-negative sparse adjacency.
        negative_ratio: ``λ``, negative samples per edge. Default 1.0.

    Returns:
        ``(n, n)`` float64 CSR with the sparsity pattern of ``A``'s positive entries.

    Example:
        >>> f = smf_matrix(sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]])))
        >>> np.round(f.toarray(), 4).tolist()  # ln 1 − ln ½
        [[0.0, 0.6931], [0.6931, 0.0]]
    """
    lam = check_float("negative_ratio", negative_ratio, 0.0, low_open=True)
    a = sp.csr_matrix(adjacency, dtype=np.float64)
    a.eliminate_zeros()
    a.sort_indices()
    deg = np.asarray(a.sum(axis=1)).ravel()
    inv = np.zeros_like(deg)
    inv[deg > 0] = 1.0 / deg[deg > 0]
    p = sp.csr_matrix(sp.diags(inv) @ a)
    p.sort_indices()
    col = np.asarray(p.sum(axis=0)).ravel() ** NEGATIVE_EXPONENT
    total = col.sum()
    if total <= 0:
        raise EmptyInputError("smf_matrix: the graph has no edges")
    neg = col / total
    out = p.copy()
    out.data = np.log(p.data) - np.log(lam * neg[p.indices])
    return out


def spectral_filter_coefficients(step: int, theta: float) -> np.ndarray:
    """Chebyshev coefficients ``c_k`` of ``g`` in ``T_k(x)``, ``k < step`` (see module docstring)."""
    k = np.arange(step)
    c = 2.0 * iv(k, theta) * np.where(k % 2 == 0, 1.0, -1.0)
    c[0] = iv(0, theta)
    return c * np.exp(-0.5 * theta)


def spectral_propagation(adjacency: sp.spmatrix, vectors: np.ndarray, step: int = 10,
                         mu: float = 0.2, theta: float = 0.5) -> np.ndarray:
    """``Z = Ã (R − g(L) R)`` with ``g(L)`` by a ``step``-term Chebyshev expansion.

    ``Ã = A + I``, ``L = I − D̃⁻¹Ã``, ``g(λ) = exp(−½θ((λ − μ)² − 1))``.

    Args:
        adjacency: ``(n, n)`` symmetric non-negative sparse adjacency.
        vectors: ``R``, ``(n, d)``.
        step: number of Chebyshev terms (``≥ 1``). Default 10.
        mu: ``μ``, the band centre, in ``[0, 2]``. Default 0.2.
        theta: ``θ > 0``, the filter's sharpness. Default 0.5.

    Returns:
        ``(n, d)`` in the dtype of ``vectors`` (float32 stays float32, anything else float64).
    """
    step = check_int("step", step, 1)
    mu = check_float("mu", mu, 0.0, 2.0, low_open=False)
    theta = check_float("theta", theta, 0.0, low_open=True)
    n = adjacency.shape[0]
    dtype = np.float32 if np.asarray(vectors).dtype == np.float32 else np.float64
    r = np.ascontiguousarray(vectors, dtype=dtype)
    if r.ndim != 2 or r.shape[0] != n:
        raise ValidationError(f"vectors: shape {r.shape}, expected ({n}, d)")
    at = sp.csr_matrix(sp.csr_matrix(adjacency, dtype=np.float64) + sp.eye(n, format="csr"))
    at.sort_indices()
    deg = np.asarray(at.sum(axis=1)).ravel()
    # M = L − μI = (1 − μ) I − D̃⁻¹Ã ; x(L) = ½ M² − I
    m = sp.csr_matrix((1.0 - mu) * sp.eye(n) - sp.diags(1.0 / deg) @ at, dtype=dtype)
    m.sort_indices()
    at = at.astype(dtype)
    coef = [float(c) for c in spectral_filter_coefficients(step, theta)]
    buf = np.empty_like(r)

    def x_times(v: np.ndarray) -> np.ndarray:
        csr_matmat(m, v, out=buf)
        return 0.5 * csr_matmat(m, buf) - v

    t_prev = r
    conv = coef[0] * r
    if step > 1:
        t_cur = x_times(r)
        conv += coef[1] * t_cur
        for k in range(2, step):
            t_next = 2.0 * x_times(t_cur) - t_prev
            conv += coef[k] * t_next
            t_prev, t_cur = t_cur, t_next
    return csr_matmat(at, r - conv)


def randomized_svd_sparse(f: sp.csr_matrix, k: int, rng: np.random.Generator, n_iter: int = _RSVD_ITER,
                          oversample: int = _RSVD_OVERSAMPLE) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` left singular vectors and values of a sparse matrix (Halko et al., Alg. 4.4).

    The algorithm of ``sklearn.utils.extmath.randomized_svd`` (Gaussian start with ``k +
    oversample`` columns, ``n_iter`` power iterations with LU normalisation, QR, SVD of the
    projection), with the sparse products done by the parallel :func:`csr_matmat`.

    Returns:
        ``(U (n, k), s (k,))`` in ``f``'s dtype (float32 or float64), ``s`` decreasing.
    """
    from scipy.linalg import lu

    n, m = f.shape
    dtype = np.float32 if f.dtype == np.float32 else np.float64
    f = sp.csr_matrix(f, dtype=dtype)
    f.sort_indices()
    ft = sp.csr_matrix(f.T)
    ft.sort_indices()
    p = min(k + oversample, n, m)
    y = csr_matmat(f, rng.standard_normal((m, p), dtype=dtype))
    for _ in range(n_iter):
        y, _u = lu(y, permute_l=True)
        z, _u = lu(csr_matmat(ft, y), permute_l=True)
        y = csr_matmat(f, z)
    q, _ = np.linalg.qr(y)
    bt = csr_matmat(ft, np.ascontiguousarray(q))  # Bᵀ = Fᵀ Q, (m, p)
    _w, s, vt = np.linalg.svd(bt, full_matrices=False)  # B = V S Wᵀ -> U_B = V
    return q @ vt.T[:, :k], s[:k]


def svd_embedding(z: np.ndarray, dimensions: int) -> np.ndarray:
    """``U_d sqrt(S_d)`` of the thin SVD of ``z``, rows L2-normalised (zero rows stay zero)."""
    u, s, _ = np.linalg.svd(z, full_matrices=False)
    u = u[:, :dimensions] * np.sqrt(s[:dimensions])[None, :]
    return _l2_rows(_flip(u))


def _flip(u: np.ndarray) -> np.ndarray:
    idx = np.argmax(np.abs(u), axis=0)
    signs = np.sign(u[idx, np.arange(u.shape[1])])
    signs[signs == 0] = 1.0
    return u * signs


def _l2_rows(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    norm[norm == 0] = 1.0
    return x / norm


class ProNE(Embedder):
    """ProNE node embeddings (Zhang et al., IJCAI 2019): sparse MF + spectral propagation.

    See the module docstring for the maths. Both stages cost ``O(edges · d)``; the dense
    ``(n, d)`` blocks are float32, the sparse products run in parallel numba kernels.

    Args:
        dimensions: ``d``, the embedding size (at most the node count). Default 128.
        step: Chebyshev terms of the propagation filter; 0 skips propagation (the "ProNE (SMF)"
            embedding). Default 10.
        mu: ``μ``, the filter's band centre on the Laplacian spectrum, in ``[0, 2]``. Default 0.2.
        theta: ``θ > 0``, the filter's sharpness. Default 0.5.
        negative_ratio: ``λ``, negative samples per edge in the SMF matrix. Default 1.
        random_state: None, an int or a ``numpy.random.Generator`` (randomized SVD). Default None.

    Attributes:
        embedding_: float32 ``(N, d)`` in global node-id order, rows of unit norm.
        smf_embedding_: float32 ``(N, d)``, the embedding before propagation.
        keyed_: the :class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings` artifact.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_edges([0, 1, 2, 3], [1, 2, 3, 0])
        >>> ProNE(dimensions=2, random_state=0).fit(b.build()).embedding_.shape
        (4, 2)
    """

    def __init__(self, dimensions: int = 128, step: int = 10, mu: float = 0.2, theta: float = 0.5,
                 negative_ratio: float = 1, random_state: Any = None) -> None:
        self.dimensions = dimensions
        self.step = step
        self.mu = mu
        self.theta = theta
        self.negative_ratio = negative_ratio
        self.random_state = random_state

    def fit(self, graph: GraphView) -> "ProNE":
        """Embed ``graph``; returns ``self``."""
        from threadpoolctl import threadpool_limits

        d = check_int("dimensions", self.dimensions, 1)
        step = check_int("step", self.step, 0)
        mu = check_float("mu", self.mu, 0.0, 2.0, low_open=False)
        theta = check_float("theta", self.theta, 0.0, low_open=True)
        check_float("negative_ratio", self.negative_ratio, 0.0, low_open=True)
        a = symmetric_adjacency(graph)
        n = a.shape[0]
        if a.nnz == 0:
            raise EmptyInputError(f"ProNE: the graph has {n} nodes but no edges; nothing to factorise")
        if d > n:
            raise ValidationError(f"dimensions={d}: larger than the graph's {n} nodes")
        rng = np.random.default_rng(int(seed_from(self.random_state)))
        # the heavy work is in parallel numba kernels; BLAS only sees tall-skinny (n, d) blocks,
        # where extra BLAS threads spin against numba's and slow both down
        with threadpool_limits(limits=1, user_api="blas"):
            u, s = randomized_svd_sparse(smf_matrix(a, self.negative_ratio).astype(np.float32), d, rng)
            r = _l2_rows(_flip(u * np.sqrt(s)[None, :]))
            self.smf_embedding_ = r.astype(np.float32)
            if step > 0:
                r = svd_embedding(spectral_propagation(a, r, step, mu, theta), d)
        self.embedding_ = r.astype(np.float32)
        from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

        self.keyed_ = KeyedEmbeddings.from_graph(
            graph, self.embedding_, meta={"method": "ProNE", "params": json_params(self.get_params())},
            copy=False)
        self.embedding_ = self.keyed_.vectors
        return self
