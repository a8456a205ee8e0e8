"""All blocks of a κ-stereographic product in one vectorised expression (the training fast path).

Papers: Bachmann, Bécigneul, Ganea, *Constant Curvature Graph Convolutional Networks*, ICML 2020
(κ-stereographic model, gyrovector formulas); Gu et al., *Learning Mixed-Curvature
Representations in Product Spaces*, ICLR 2019; Bécigneul & Ganea, *Riemannian Adaptive
Optimization Methods*, ICLR 2019.

Why. :class:`~vastgraph.geometry.manifolds.ProductSpace` (geoopt's product manifold) loops over
its blocks in Python and each block runs a dozen small geoopt kernels; in a training step with
thousands of pairs and negatives this per-block overhead dominates. Every quantity the
κ-stereographic model needs — distance, conformal factor, projection, Riemannian gradient,
retraction and parallel transport — depends on a point only through per-block sums
``‖x‖², ‖y‖², ⟨x, y⟩``; those are one matrix product with the ``(d, B)`` block-membership matrix
``M`` (``S(a) = a @ M``), and the per-block results are broadcast back to columns with
``t[..., block_of_column]``. So a whole product space costs a fixed number of tensor ops, whatever
``B`` is.

Maths (per block, curvature ``κ``; geoopt's formulas, to which the tests compare to 1e-5):

* ``‖(−x) ⊕_κ y‖² = (A²‖x‖² − 2AC⟨x,y⟩ + C²‖y‖²)/D²`` with ``A = 1 + 2κ⟨x,y⟩ − κ‖y‖²``,
  ``C = 1 + κ‖x‖²``, ``D = 1 + 2κ⟨x,y⟩ + κ²‖x‖²‖y‖²``; ``d_κ = 2·artan_κ(‖(−x) ⊕_κ y‖)``
  (geoopt's ``artan_k``, which takes a vector of curvatures);
* ``λ_x = 2/(1 + κ‖x‖²)``; Riemannian gradient ``∇/λ_x²``; per-block inner product
  ``λ_x²⟨u, v⟩`` (geoopt's ``component_inner``);
* retraction ``proj(x + u)``; parallel transport
  ``PT_{x→y}(v) = gyr[y, −x]v · λ_x/λ_y`` with geoopt's simplified gyration.

Shapes: points ``(..., d)``; per-block outputs ``(..., B)``; curvatures ``(B,)``.

Example:
    >>> from vastgraph.geometry.manifolds import ProductSpace
    >>> space = ProductSpace.parse("h2,s2,e2")
    >>> geo = BlockGeometry(space)
    >>> x = space.random_points(4, scale=0.3, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(geo.dist2(x, x.flip(0)), space.block_dist2(x, x.flip(0)), atol=1e-5))
    True
"""

from __future__ import annotations

from typing import Any

import torch
from geoopt.manifolds.stereographic.math import artan_k

from vastgraph.errors import ValidationError

_TINY = 1e-15


class BlockGeometry:
    """Vectorised κ-stereographic operations over all blocks of a :class:`ProductSpace`.

    Curvatures are read from the space on every call (:meth:`kappa` stacks the blocks' ``k``
    parameters, so gradients reach learned curvatures).

    Args:
        space: a :class:`~vastgraph.geometry.manifolds.ProductSpace`.
    """

    def __init__(self, space: Any) -> None:
        from vastgraph.geometry.manifolds import ProductSpace

        if not isinstance(space, ProductSpace):
            raise ValidationError(f"space: {type(space).__name__}; expected a ProductSpace")
        self.space = space
        dims = [m.dim for m in space.manifolds]
        self.n_blocks = len(dims)
        self.dim = int(sum(dims))
        self.column_block = torch.repeat_interleave(torch.arange(self.n_blocks), torch.tensor(dims))
        self._membership: dict[torch.dtype, torch.Tensor] = {}
        self._dims = torch.tensor(dims)
        self._equal = len(set(dims)) == 1
        ends = torch.cumsum(self._dims, 0).tolist()
        self._bounds = list(zip([0] + ends[:-1], ends))
        self.curved = torch.tensor([m.kind != "e" for m in space.manifolds])
        self._eps = space.eps

    # ------------------------------------------------------------------ helpers
    def membership(self, dtype: torch.dtype) -> torch.Tensor:
        """The ``(d, B)`` 0/1 matrix with ``M[i, b] = 1`` when column ``i`` belongs to block ``b``."""
        m = self._membership.get(dtype)
        if m is None:
            m = torch.nn.functional.one_hot(self.column_block, self.n_blocks).to(dtype)
            self._membership[dtype] = m
        return m

    def sums(self, a: torch.Tensor) -> torch.Tensor:
        """Per-block sums of the last axis, ``(..., d) → (..., B)``."""
        if self.n_blocks == 1:
            return a.sum(-1, keepdim=True)
        if self._equal:
            return a.reshape(*a.shape[:-1], self.n_blocks, -1).sum(-1)
        return torch.stack([a[..., s:e].sum(-1) for s, e in self._bounds], -1)

    def expand(self, t: torch.Tensor) -> torch.Tensor:
        """Broadcast per-block values to their columns, ``(..., B) → (..., d)``."""
        if self.n_blocks == 1:
            return t.expand(*t.shape[:-1], self.dim)
        if self._equal:
            return t[..., None].expand(*t.shape, self.dim // self.n_blocks).reshape(*t.shape[:-1], self.dim)
        return torch.repeat_interleave(t, self._dims, dim=-1)

    def inner_pairs(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-block ``⟨x_i, y_ij⟩`` for ``x`` ``(n, d)`` and ``y`` ``(n, m, d)`` → ``(n, m, B)``.

        One batched matrix product per block (no ``(n, m, d)`` temporary for a single block)."""
        if self.n_blocks == 1:
            return torch.bmm(y, x[:, :, None])
        return self.sums(x[:, None, :] * y)

    def kappa(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Current curvatures ``(B,)`` (differentiable w.r.t. learned ones)."""
        return torch.stack([m.k for m in self.space.manifolds]).to(dtype)

    def _k(self, k: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor:
        return self.kappa(dtype) if k is None else k.to(dtype)

    # ------------------------------------------------------------------ distances
    def dist2_from_sums(self, x2: torch.Tensor, y2: torch.Tensor, xy: torch.Tensor,
                        k: torch.Tensor) -> torch.Tensor:
        """Squared block distances ``(..., B)`` from per-block ``‖x‖², ‖y‖², ⟨x, y⟩`` (see module maths)."""
        a = 1 + 2 * k * xy - k * y2
        c = 1 + k * x2
        den = (1 + 2 * k * xy + k * k * x2 * y2).clamp_min(_TINY)
        num2 = (a * a * x2 - 2 * a * c * xy + c * c * y2).clamp_min(1e-30)
        return (2.0 * artan_k(num2.sqrt() / den, k)) ** 2

    def dist2(self, x: torch.Tensor, y: torch.Tensor, k: torch.Tensor | None = None) -> torch.Tensor:
        """Squared geodesic distance per block ``(..., B)`` of broadcastable ``x``, ``y``."""
        k = self._k(k, x.dtype)
        return self.dist2_from_sums(self.sums(x * x), self.sums(y * y), self.sums(x * y), k)

    # ------------------------------------------------------------------ Riemannian pieces
    def lambda2(self, x: torch.Tensor, k: torch.Tensor | None = None) -> torch.Tensor:
        """Squared conformal factor ``λ_x²`` per block ``(..., B)``."""
        k = self._k(k, x.dtype)
        lam = 2.0 / (1 + k * self.sums(x * x)).clamp_min(_TINY)
        return lam * lam

    def proj(self, x: torch.Tensor, k: torch.Tensor | None = None) -> torch.Tensor:
        """Project into every curved block's ball ``‖x^b‖ ≤ (1 − eps)/√|κ_b|`` (as :meth:`ProductSpace.proj`)."""
        k = self._k(k, x.dtype)
        eps = self._eps if self._eps is not None else (4e-3 if x.dtype == torch.float32 else 1e-5)
        norm = self.sums(x * x).clamp_min(1e-30).sqrt()
        maxnorm = (1 - eps) / k.abs().clamp_min(1e-30).sqrt()
        factor = torch.where(self.curved & (norm > maxnorm), maxnorm / norm, torch.ones_like(norm))
        return x * self.expand(factor)

    def egrad2rgrad(self, x: torch.Tensor, grad: torch.Tensor, k: torch.Tensor | None = None) -> torch.Tensor:
        """Riemannian gradient ``∇ / λ_x²`` (per block)."""
        return grad / self.expand(self.lambda2(x, k))

    def component_inner(self, x: torch.Tensor, u: torch.Tensor, k: torch.Tensor | None = None) -> torch.Tensor:
        """``λ_x² ⟨u, u⟩`` per block, broadcast to the block's columns ``(..., d)`` (geoopt's ``component_inner``)."""
        return self.expand(self.lambda2(x, k) * self.sums(u * u))

    def transp(self, x: torch.Tensor, y: torch.Tensor, v: torch.Tensor,
               k: torch.Tensor | None = None) -> torch.Tensor:
        """Parallel transport of ``v`` from ``x`` to ``y``: ``gyr[y, −x] v · λ_x/λ_y`` per block."""
        k = self._k(k, x.dtype)
        u, w = y, -x  # gyr[u, w] v, geoopt's simplified form
        u2, w2 = self.sums(u * u), self.sums(w * w)
        uw, uv, wv = self.sums(u * w), self.sums(u * v), self.sums(w * v)
        k2 = k * k
        a = -k2 * uv * w2 - k * wv + 2 * k2 * uw * wv
        b = -k2 * wv * u2 + k * uv
        d = (1 - 2 * k * uw + k2 * u2 * w2).clamp_min(_TINY)
        gyr = v + 2 * (self.expand(a / d) * u + self.expand(b / d) * w)
        lam_x = 2.0 / (1 + k * self.sums(x * x)).clamp_min(_TINY)
        lam_y = 2.0 / (1 + k * u2).clamp_min(_TINY)
        return gyr * self.expand(lam_x / lam_y)

    def retr_transp(self, x: torch.Tensor, u: torch.Tensor, v: torch.Tensor,
                    k: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Retraction ``y = proj(x + u)`` and ``v`` transported from ``x`` to ``y``."""
        k = self._k(k, x.dtype)
        y = self.proj(x + u, k)
        return y, self.transp(x, y, v, k)
