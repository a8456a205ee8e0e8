"""Constant-curvature blocks and their products (a thin layer over geoopt's κ-stereographic model).

Papers: Bachmann, Bécigneul, Ganea, *Constant Curvature Graph Convolutional Networks*, ICML 2020
(the κ-stereographic model); Gu, Sala, Gunel, Ré, *Learning Mixed-Curvature Representations in
Product Spaces*, ICLR 2019 (products of spaces); Xu et al., *AMCAD: Adaptive Mixed-Curvature
Representation based Advertisement Retrieval System*, ICDE 2022 and alibaba/CurvLearn (learned
curvature per block).

Maths. A block of dimension ``d`` and curvature ``κ`` is the κ-stereographic model: the ball
``‖x‖ < 1/√(−κ)`` for ``κ < 0`` (the Poincaré ball when ``κ = −1``), all of ``R^d`` for ``κ ≥ 0``
(``κ > 0`` is the stereographic projection of a sphere of radius ``1/√κ``). The distance is

    d_κ(x, y) = 2 · artan_κ(‖(−x) ⊕_κ y‖),   artan_κ(t) = artanh(√−κ t)/√−κ, t, or arctan(√κ t)/√κ,

with Möbius addition ``⊕_κ``; all of it comes from :mod:`geoopt`. For ``κ = −1`` this is the
Poincaré distance ``arcosh(1 + 2‖x−y‖²/((1−‖x‖²)(1−‖y‖²)))``. Convention for the flat limit: geoopt's
model keeps the conformal factor ``λ_0 = 2``, so a flat block (``κ = 0``) measures
``d_0(x, y) = 2‖x − y‖`` (and ``d_κ → 2‖x − y‖`` as ``κ → 0``). A product of blocks
``M = M_1 × … × M_B`` has ``d(x, y)² = Σ_b d_{κ_b}(x^b, y^b)²``.

Block kinds: ``"h"`` hyperbolic (``κ < 0``, default −1), ``"s"`` spherical (``κ > 0``, default 1),
``"e"`` flat (``κ = 0``, never learned), ``"k"`` stereographic of either sign (default 0, learned
through 0 with geoopt's Taylor expansion). Numerics: points are projected into the ball (and spherical points into the open hemisphere
around the pole, so no pair is antipodal) with geoopt's margin (``1 − 4e-3`` of the radius in
float32, ``1 − 1e-5`` in float64, or ``eps``);
learned curvatures are clamped after each step to keep their kind's sign (``|κ| ≥ min_curvature``)
and ``|κ| ≤ max_curvature``; a curvature that becomes NaN/inf raises :class:`ValidationError`
naming the block and the step.

Example:
    >>> space = ProductSpace(parse_manifold_spec("h2,s2,e2", 6))
    >>> x = space.proj(torch.full((3, 6), 0.1))
    >>> space.block_dist2(x, x.flip(0)).shape, space.curvatures()
    (torch.Size([3, 3]), [-1.0, 1.0, 0.0])
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

import geoopt
import numpy as np
import torch
from geoopt.manifolds.stereographic.math import artan_k

from vastgraph.errors import ValidationError

KINDS = {"h": "hyperbolic (curvature < 0)", "s": "spherical (curvature > 0)", "e": "flat (curvature 0)",
         "k": "stereographic (curvature of either sign)"}
DEFAULT_CURVATURE = {"h": -1.0, "s": 1.0, "e": 0.0, "k": 0.0}
NAMED_SPECS = ("euclidean", "poincare", "sphere", "learned", "mixed")
VALID_SPECS_TEXT = ("'euclidean', 'poincare', 'sphere', 'learned', 'mixed', or comma-separated blocks "
                    "KIND DIM[:CURVATURE] with KIND in h (hyperbolic), s (spherical), e (flat), "
                    "k (stereographic, any sign), e.g. 'h16,s16,e16' or 'h16:-1.0,e32'")
_TOKEN = re.compile(r"^([hsek])(\d+)(?::([-+0-9.eE]+))?$")
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class Block:
    """One factor of a product space: kind (``h``/``s``/``e``/``k``), dimension, initial curvature,
    whether the curvature is learned."""

    kind: str
    dim: int
    curvature: float
    learnable: bool = True

    def token(self) -> str:
        """The spec token ``KIND DIM:CURVATURE`` (e.g. ``"h16:-1"``)."""
        return f"{self.kind}{self.dim}:{self.curvature:g}"


def _check_block(kind: str, dim: int, curvature: float, where: str) -> None:
    if kind not in KINDS:
        raise ValidationError(f"manifold={where!r}: unknown block kind {kind!r}; valid: {VALID_SPECS_TEXT}")
    if dim < 1:
        raise ValidationError(f"manifold={where!r}: block dimension {dim}; expected >= 1")
    if not math.isfinite(curvature):
        raise ValidationError(f"manifold={where!r}: curvature {curvature!r}; expected a finite number")
    bad = ((kind == "h" and curvature >= 0) or (kind == "s" and curvature <= 0)
           or (kind == "e" and curvature != 0))
    if bad:
        raise ValidationError(f"manifold={where!r}: block {kind}{dim} has curvature {curvature:g}; a "
                              f"{KINDS[kind]} block needs that sign")


def parse_manifold_spec(spec: Any, dimensions: int | None = None) -> list[Block]:
    """The blocks of a manifold specification.

    Args:
        spec: ``"euclidean"`` (one flat block), ``"poincare"`` (one block, κ = −1 fixed),
            ``"sphere"`` (one block, κ = +1 fixed), ``"learned"`` (one ``k`` block, curvature
            learned from −1 as CurvLearn's stereographic model, free to cross 0), ``"mixed"``
            (H × S × E in thirds of the dimension: two ``k`` blocks starting at −1 and +1, their
            curvatures learned and free to cross 0 — no floor traps a block that wants to
            flatten — and a fixed flat block), an explicit ``"h16,s16,e16"`` / ``"h16:-1.0,e32"``
            (kind, dimension, optional initial curvature; h/s/k blocks learned), or a list of
            :class:`Block`.
        dimensions: total dimension; required for named specs, checked against explicit ones.

    Returns:
        list of :class:`Block`.

    Raises:
        ValidationError: an unknown spec (the message lists the valid ones), a dimension that
            does not fit, or a curvature of the wrong sign for its kind.

    Example:
        >>> [b.token() for b in parse_manifold_spec("mixed", 8)]
        ['k3:-1', 'k3:1', 'e2:0']
    """
    if dimensions is not None and (isinstance(dimensions, bool) or not isinstance(dimensions, (int, np.integer))
                                   or dimensions < 1):
        raise ValidationError(f"dimensions={dimensions!r}: expected an integer >= 1")
    if isinstance(spec, (list, tuple)) and spec and all(isinstance(b, Block) for b in spec):
        blocks = list(spec)
        for b in blocks:
            _check_block(b.kind, b.dim, b.curvature, ",".join(x.token() for x in blocks))
    elif not isinstance(spec, str) or not spec.strip():
        raise ValidationError(f"manifold={spec!r}: expected one of {VALID_SPECS_TEXT}")
    else:
        text = spec.strip().lower()
        if text in NAMED_SPECS:
            if dimensions is None:
                raise ValidationError(f"manifold={spec!r}: a named manifold needs dimensions=")
            d = int(dimensions)
            if text == "euclidean":
                blocks = [Block("e", d, 0.0, False)]
            elif text == "poincare":
                blocks = [Block("h", d, -1.0, False)]
            elif text == "sphere":
                blocks = [Block("s", d, 1.0, False)]
            elif text == "learned":
                blocks = [Block("k", d, -1.0, True)]
            else:
                if d < 3:
                    raise ValidationError(f"dimensions={d}: manifold='mixed' needs at least 3 (one per block)")
                dh, ds = (d + 2) // 3, (d + 1) // 3
                blocks = [Block("k", dh, -1.0, True), Block("k", ds, 1.0, True), Block("e", d - dh - ds, 0.0, False)]
        else:
            blocks = []
            for tok in (t.strip() for t in text.split(",")):
                m = _TOKEN.match(tok)
                if m is None:
                    raise ValidationError(f"manifold={spec!r}: cannot read block {tok!r}; expected one of "
                                          f"{VALID_SPECS_TEXT}")
                kind, dim = m.group(1), int(m.group(2))
                try:
                    curv = DEFAULT_CURVATURE[kind] if m.group(3) is None else float(m.group(3))
                except ValueError:
                    raise ValidationError(f"manifold={spec!r}: curvature {m.group(3)!r} of block {tok!r} is not "
                                          "a number") from None
                _check_block(kind, dim, curv, spec)
                blocks.append(Block(kind, dim, curv, kind != "e"))
    total = sum(b.dim for b in blocks)
    if dimensions is not None and total != int(dimensions):
        raise ValidationError(f"manifold={spec!r}: blocks add up to dimension {total} but dimensions={dimensions}")
    return blocks


class Stereographic(geoopt.manifolds.Stereographic):
    """One κ-stereographic block: geoopt's manifold plus its kind, dimension and curvature guards.

    Args:
        kind: ``"h"``, ``"s"``, ``"e"`` or ``"k"`` (see the module docstring).
        dim: dimension of the block.
        curvature: initial κ (sign must match ``kind``).
        learnable: learn κ (ignored for ``"e"``). Default True.
        dtype: torch dtype of κ. Default float32.

    Example:
        >>> Stereographic("h", 2, -1.0).dist(torch.zeros(2), torch.tensor([0.5, 0.0])).item()  # 2 artanh(.5)
        1.098...
    """

    def __init__(self, kind: str, dim: int, curvature: float, learnable: bool = True,
                 dtype: torch.dtype = torch.float32) -> None:
        _check_block(kind, int(dim), float(curvature), f"{kind}{dim}:{curvature}")
        super().__init__(k=torch.tensor(float(curvature), dtype=dtype), learnable=bool(learnable) and kind != "e")
        self.kind = kind
        self.dim = int(dim)

    @property
    def curvature(self) -> float:
        """Current κ as a Python float."""
        return float(self.k.detach())

    def clamp_curvature_(self, min_curvature: float, max_curvature: float) -> None:
        """Keep κ in its kind's range: ``h`` in ``[−max, −min]``, ``s`` in ``[min, max]``, ``k`` in ``[−max, max]``."""
        with torch.no_grad():
            if self.kind == "h":
                self.k.clamp_(-max_curvature, -min_curvature)
            elif self.kind == "s":
                self.k.clamp_(min_curvature, max_curvature)
            elif self.kind == "k":
                self.k.clamp_(-max_curvature, max_curvature)


class ProductSpace(geoopt.StereographicProductManifold):
    """A product of κ-stereographic blocks with (optionally learned) curvatures.

    A subclass of geoopt's ``StereographicProductManifold``, so it works with
    ``geoopt.ManifoldParameter`` and geoopt's Riemannian optimisers; curvatures are the
    ``k`` parameters of the blocks (see :func:`vastgraph.geometry.optim.split_parameters`).

    Args:
        blocks: :class:`Block` list (from :func:`parse_manifold_spec`) or a spec string with
            the dimension implied (explicit blocks only).
        learnable: learn the curvature of blocks that allow it. Default True.
        dtype: torch dtype of curvatures (and of the points used with it). Default float32.
        eps: boundary margin of :meth:`proj` (relative to the ball radius); default geoopt's
            (4e-3 in float32, 1e-5 in float64).

    Shapes:
        points ``(..., dim)``; :meth:`dist` ``(...)``; :meth:`block_dist2` ``(..., B)``;
        :meth:`pairwise_block_dist2` ``(n, m, B)``.

    Example:
        >>> space = ProductSpace.parse("mixed", 6)
        >>> space.to_spec()["blocks"][0]
        {'kind': 'k', 'dim': 2, 'curvature': -1.0, 'learnable': True}
    """

    def __init__(self, blocks: Sequence[Block] | str, learnable: bool = True,
                 dtype: torch.dtype = torch.float32, eps: float | None = None) -> None:
        if isinstance(blocks, str):
            blocks = parse_manifold_spec(blocks)
        blocks = parse_manifold_spec(list(blocks))
        if dtype not in (torch.float32, torch.float64):
            raise ValidationError(f"dtype={dtype!r}: expected torch.float32 or torch.float64")
        if eps is not None and not (isinstance(eps, (int, float)) and 0 < eps < 1):
            raise ValidationError(f"eps={eps!r}: expected a number in (0, 1)")
        parts = [Stereographic(b.kind, b.dim, b.curvature, learnable and b.learnable, dtype) for b in blocks]
        super().__init__(*[(m, m.dim) for m in parts])
        self.eps = None if eps is None else float(eps)
        self.space_dtype = dtype

    @classmethod
    def parse(cls, spec: Any, dimensions: int | None = None, *, learnable: bool = True,
              dtype: torch.dtype = torch.float32, eps: float | None = None) -> "ProductSpace":
        """:func:`parse_manifold_spec` then the space."""
        return cls(parse_manifold_spec(spec, dimensions), learnable=learnable, dtype=dtype, eps=eps)

    # ------------------------------------------------------------------ description
    @property
    def dim(self) -> int:
        return int(self.n_elements)

    @property
    def n_blocks(self) -> int:
        return int(self.n_manifolds)

    @property
    def blocks(self) -> list[Block]:
        """Blocks with their current curvatures."""
        return [Block(m.kind, m.dim, m.curvature, bool(m.k.requires_grad)) for m in self.manifolds]

    def curvatures(self) -> list[float]:
        """Current curvature of each block."""
        return [m.curvature for m in self.manifolds]

    def curvature_parameters(self) -> list[torch.nn.Parameter]:
        """The learnable ``k`` parameters."""
        return [m.k for m in self.manifolds if m.k.requires_grad]

    def spec_string(self) -> str:
        """The blocks as an explicit spec (``"h16:-0.83,s16:1.2,e16:0"``)."""
        return ",".join(b.token() for b in self.blocks)

    def to_spec(self) -> dict[str, Any]:
        """JSON-able description (blocks with current curvatures, dtype, eps)."""
        return {"blocks": [{"kind": b.kind, "dim": b.dim, "curvature": b.curvature, "learnable": b.learnable}
                           for b in self.blocks],
                "dtype": "float64" if self.space_dtype == torch.float64 else "float32", "eps": self.eps}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> "ProductSpace":
        """Rebuild a space from :meth:`to_spec` output."""
        try:
            blocks = [Block(str(b["kind"]), int(b["dim"]), float(b["curvature"]), bool(b.get("learnable", True)))
                      for b in spec["blocks"]]
            dtype = _DTYPES[spec.get("dtype", "float32")]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"manifold spec {spec!r}: malformed ({exc!r}); expected "
                                  "{'blocks': [{'kind', 'dim', 'curvature', 'learnable'}], 'dtype'}") from None
        if not blocks:
            raise ValidationError(f"manifold spec {spec!r}: no blocks")
        return cls(blocks, learnable=True, dtype=dtype, eps=spec.get("eps"))

    def __repr__(self) -> str:
        return f"ProductSpace({self.spec_string()!r})"

    # ------------------------------------------------------------------ geometry
    def proj(self, x: torch.Tensor) -> torch.Tensor:
        """Project points into the product (differentiable).

        Hyperbolic blocks (``κ < 0``): into the ball ``‖x‖ ≤ (1 − eps)/√−κ`` (geoopt's rule).
        Spherical blocks (``κ > 0``): into the open hemisphere ``‖x‖ ≤ (1 − eps)/√κ`` around the
        pole — no two such points are antipodal, where the stereographic Möbius sum is 0/0 and
        geoopt's distance collapses to 0 with NaN gradients. Flat blocks are left alone.
        """
        eps = self.eps if self.eps is not None else (4e-3 if x.dtype == torch.float32 else 1e-5)
        parts = []
        for i, m in enumerate(self.manifolds):
            xb = self.take_submanifold_value(x, i)
            if m.kind != "e":
                k = m.k.to(x.dtype)
                maxnorm = (1 - eps) / k.abs().clamp_min(1e-30).sqrt()
                norm = xb.norm(dim=-1, keepdim=True).clamp_min(1e-15)
                xb = torch.where(norm > maxnorm, xb / norm * maxnorm, xb)
            parts.append(xb)
        return torch.cat(parts, dim=-1)

    def projx(self, x: torch.Tensor) -> torch.Tensor:
        """geoopt's name for :meth:`proj` (so geoopt optimisers use the same projection)."""
        return self.proj(x)

    def block_dist2(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Squared geodesic distance in each block, ``(..., B)`` (``x``, ``y`` broadcast)."""
        out = [m.dist2(self.take_submanifold_value(x, i), self.take_submanifold_value(y, i))
               for i, m in enumerate(self.manifolds)]
        return torch.stack(out, dim=-1)

    def dist(self, x: torch.Tensor, y: torch.Tensor, *, keepdim: bool = False) -> torch.Tensor:
        """Product geodesic distance ``sqrt(Σ_b d_b²)``, ``(...)``."""
        d = self.block_dist2(x, y).sum(-1).clamp_min(0.0).sqrt()
        return d.unsqueeze(-1) if keepdim else d

    def pairwise_block_dist2(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """All-pairs squared block distances ``(n, m, B)`` from Gram matrices (for retrieval scans).

        ``‖(−x) ⊕_κ y‖`` depends on ``x`` and ``y`` only through ``‖x‖²``, ``‖y‖²`` and ``⟨x, y⟩``:
        with ``A = 1 + 2κ⟨x,y⟩ − κ‖y‖²``, ``C = 1 + κ‖x‖²`` and ``D = 1 + 2κ⟨x,y⟩ + κ²‖x‖²‖y‖²``,
        ``‖(−x) ⊕_κ y‖² = (A²‖x‖² − 2AC⟨x,y⟩ + C²‖y‖²)/D²``, so the scan is one matrix product
        per block (geoopt's ``artan_κ`` then gives the distance). Agrees with :meth:`block_dist2`.
        """
        ks = torch.tensor(self.curvatures(), dtype=x.dtype)
        out = []
        for i in range(self.n_blocks):
            xb, yb = self.take_submanifold_value(x, i), self.take_submanifold_value(y, i)
            k = ks[i]
            x2 = (xb * xb).sum(-1)[:, None]
            y2 = (yb * yb).sum(-1)[None, :]
            xy = xb @ yb.T
            a = 1 + 2 * k * xy - k * y2
            c = 1 + k * x2
            den = (1 + 2 * k * xy + k * k * x2 * y2).clamp_min(1e-15)
            num2 = (a * a * x2 - 2 * a * c * xy + c * c * y2).clamp_min(0.0)
            norm = num2.sqrt() / den
            out.append((2.0 * artan_k(norm, k)) ** 2)
        return torch.stack(out, dim=-1)

    def random_points(self, n: int, *, scale: float = 1e-3,
                      generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` points ``expmap0(scale · N(0, I))`` (``generator`` for reproducibility), projected."""
        u = torch.randn(n, self.dim, generator=generator, dtype=self.space_dtype) * scale
        return self.proj(self.expmap0(u))

    # ------------------------------------------------------------------ guards
    def clamp_curvatures_(self, min_curvature: float = 1e-4, max_curvature: float = 1e2) -> None:
        """Clamp every learned curvature into its kind's range (recovery from drift, stated in the docs)."""
        for m in self.manifolds:
            m.clamp_curvature_(min_curvature, max_curvature)

    def check_curvatures(self, step: Any = None) -> None:
        """Raise :class:`ValidationError` naming the block and ``step`` when a curvature is NaN/inf."""
        for i, m in enumerate(self.manifolds):
            v = m.curvature
            if not math.isfinite(v):
                at = "" if step is None else f" at {step}"
                raise ValidationError(f"curvature of block {i} ({m.kind}{m.dim}) became {v}{at}; lower the "
                                      "curvature learning rate (curvature_lr) or fix the curvature")
