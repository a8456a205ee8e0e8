"""Riemannian optimiser factory: geoopt's Riemannian Adam/SGD with separate curvature learning rates.

Papers: Bécigneul & Ganea, *Riemannian Adaptive Optimization Methods*, ICLR 2019 (Riemannian Adam);
Bonnabel, *Stochastic Gradient Descent on Riemannian Manifolds*, IEEE TAC 2013 (RSGD).

A model's parameters fall into three groups (:func:`split_parameters`):

* manifold points — ``geoopt.ManifoldParameter``s, updated by the Riemannian rule
  ``x ← R_x(−η · m̂/√v̂)`` (retraction ``R`` and transported moments from the manifold);
* curvatures — the learnable ``k`` of every geoopt ``Stereographic`` module, at
  ``curvature_lr`` (default ``lr``);
* everything else — ordinary Euclidean parameters (plain Adam/SGD, as geoopt treats them).

All groups live in one geoopt optimiser, so one ``step()`` updates them. Sparse variants
(``"sparse_adam"``, ``"sparse_sgd"``) are geoopt's row-wise optimisers for embedding tables with
sparse gradients (``F.embedding(..., sparse=True)``); they take manifold parameters only.

Example:
    >>> from vastgraph.geometry.manifolds import ProductSpace
    >>> space = ProductSpace.parse("mixed", 6)
    >>> opt = riemannian_optimizer(space, lr=0.01, curvature_lr=0.001)
    >>> [g["lr"] for g in opt.param_groups]
    [0.001]
"""

from __future__ import annotations

import math
from typing import Any

import geoopt
import torch

from vastgraph.errors import ValidationError

OPTIMIZERS = ("adam", "sgd", "sparse_adam", "sparse_sgd")


def split_parameters(params: Any) -> tuple[list[torch.nn.Parameter], list[torch.nn.Parameter],
                                           list[torch.nn.Parameter]]:
    """``(manifold points, curvatures, Euclidean)`` parameters that require grad.

    Args:
        params: a ``torch.nn.Module`` (curvatures are found as the ``k`` of its geoopt
            ``Stereographic`` sub-modules) or an iterable of parameters (there, no curvatures are
            recognised: pass the module instead).
    """
    if isinstance(params, torch.nn.Module):
        curv_ids: set[int] = set()
        curvs: list[torch.nn.Parameter] = []
        for m in params.modules():
            if isinstance(m, geoopt.manifolds.Stereographic) and m.k.requires_grad and id(m.k) not in curv_ids:
                curv_ids.add(id(m.k))
                curvs.append(m.k)
        plist = list(params.parameters())
    else:
        curv_ids, curvs = set(), []
        plist = list(params)
    points, other, seen = [], [], set(curv_ids)
    for p in plist:
        if not isinstance(p, torch.Tensor):
            raise ValidationError(f"params: {type(p).__name__} is not a tensor parameter")
        if not p.requires_grad or id(p) in seen:
            continue
        seen.add(id(p))
        (points if isinstance(p, geoopt.ManifoldParameter) else other).append(p)
    return points, curvs, other


def _check_lr(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValidationError(f"{name}={value!r}: expected a finite number > 0")
    return float(value)


def riemannian_optimizer(params: Any, *, kind: str = "adam", lr: float = 0.01, curvature_lr: float | None = None,
                         weight_decay: float = 0.0, stabilize: int | None = None) -> torch.optim.Optimizer:
    """A geoopt Riemannian optimiser with one parameter group per role.

    Args:
        params: a module or an iterable of parameters (see :func:`split_parameters`).
        kind: ``"adam"`` (RiemannianAdam), ``"sgd"`` (RiemannianSGD), ``"sparse_adam"`` or
            ``"sparse_sgd"`` (row-wise, sparse gradients, manifold parameters only). Default "adam".
        lr: learning rate of points and Euclidean parameters. Default 0.01.
        curvature_lr: learning rate of curvatures; default ``lr``.
        weight_decay: L2 penalty on the Euclidean group only. Default 0.
        stabilize: re-project points every this many steps (geoopt's ``stabilize``). Default None.

    Returns:
        a ``torch.optim.Optimizer`` whose groups are (points, curvatures, Euclidean), empty ones left out.

    Raises:
        ValidationError: unknown ``kind`` (lists the valid ones), a non-positive rate, nothing to
            optimise, or curvature/Euclidean parameters given to a sparse optimiser.
    """
    if kind not in OPTIMIZERS:
        raise ValidationError(f"kind={kind!r}: expected one of {', '.join(OPTIMIZERS)}")
    lr = _check_lr("lr", lr)
    c_lr = lr if curvature_lr is None else _check_lr("curvature_lr", curvature_lr)
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) or not weight_decay >= 0:
        raise ValidationError(f"weight_decay={weight_decay!r}: expected a number >= 0")
    if stabilize is not None and (isinstance(stabilize, bool) or not isinstance(stabilize, int) or stabilize < 1):
        raise ValidationError(f"stabilize={stabilize!r}: expected None or an integer >= 1")
    points, curvs, other = split_parameters(params)
    groups: list[dict[str, Any]] = []
    if points:
        groups.append({"params": points, "lr": lr})
    if curvs:
        groups.append({"params": curvs, "lr": c_lr})
    if other:
        groups.append({"params": other, "lr": lr, "weight_decay": float(weight_decay)})
    if not groups:
        raise ValidationError("params: no parameters that require grad")
    if kind.startswith("sparse"):
        if curvs or other:
            raise ValidationError(f"kind={kind!r}: sparse optimisers take manifold points only; got "
                                  f"{len(curvs)} curvature and {len(other)} Euclidean parameters")
        cls = geoopt.optim.SparseRiemannianAdam if kind == "sparse_adam" else geoopt.optim.SparseRiemannianSGD
        opt = cls(groups, lr=lr)
        for g in opt.param_groups:  # geoopt's sparse optimisers take no stabilize argument
            g["stabilize"] = stabilize
        return opt
    if kind == "adam":
        return geoopt.optim.RiemannianAdam(groups, lr=lr, stabilize=stabilize)
    return geoopt.optim.RiemannianSGD(groups, lr=lr, stabilize=stabilize)



class RowRiemannianAdam:
    """Riemannian Adam on the rows of an embedding table that a step touches (dense row gradients).

    The same update as geoopt's ``SparseRiemannianAdam`` (Bécigneul & Ganea 2019, row-wise:
    ``g ← egrad2rgrad(x, ∇)``, ``m ← β₁m + (1−β₁)g``, ``v ← β₂v + (1−β₂)⟨g, g⟩_x`` per component,
    ``x, m ← retr_transp(x, −η m̂/(√v̂ + ε), m)``), fed the gradient of the gathered rows directly
    instead of a torch sparse tensor, whose coalescing and densifying dominate small steps. For a
    :class:`~vastgraph.geometry.manifolds.ProductSpace` the manifold operations run through
    :class:`~vastgraph.geometry.block_ops.BlockGeometry` (all blocks in one vectorised expression,
    equal to geoopt's per-block operations); any other geoopt manifold uses its own methods.
    Rows are projected onto the manifold before and after the update (learned curvatures may have
    shrunk the ball since a row last moved). Bias correction uses the global step count.

    Args:
        table: ``(N, d)`` points (updated in place).
        manifold: the geoopt manifold of each row (e.g. a :class:`ProductSpace`).
        lr: learning rate. betas, eps: Adam constants. Defaults 0.01, (0.9, 0.999), 1e-8.

    Example:
        >>> from vastgraph.geometry.manifolds import ProductSpace
        >>> space = ProductSpace.parse("poincare", 2)
        >>> table = torch.zeros(4, 2)
        >>> opt = RowRiemannianAdam(table, space, lr=0.1)
        >>> opt.step(torch.tensor([1]), torch.tensor([[1.0, 0.0]]))
        >>> bool(table[1, 0] < 0) and bool(table[0].eq(0).all())
        True
    """

    def __init__(self, table: torch.Tensor, manifold: Any, *, lr: float = 0.01,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        if table.ndim != 2:
            raise ValidationError(f"table: shape {tuple(table.shape)}; expected (N, d)")
        self.lr = _check_lr("lr", lr)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValidationError(f"betas={betas!r}: expected two numbers in [0, 1)")
        self.table, self.manifold, self.betas, self.eps = table, manifold, betas, float(eps)
        self.ops = _fast_ops(manifold)
        self.exp_avg = torch.zeros_like(table)
        self.exp_avg_sq = torch.zeros_like(table)
        self.steps = 0

    @torch.no_grad()
    def step(self, rows: torch.Tensor, grad: torch.Tensor) -> None:
        """Update the distinct ``rows`` (``(m,)`` long) with their Euclidean gradient ``(m, d)``."""
        self.steps += 1
        b1, b2 = self.betas
        ops = self.ops
        k = ops.kappa(self.table.dtype) if hasattr(ops, "kappa") else None
        x = ops.proj(self.table[rows], k) if k is not None else ops.projx(self.table[rows])
        g = ops.egrad2rgrad(x, grad, k) if k is not None else ops.egrad2rgrad(x, grad)
        m = self.exp_avg[rows].mul_(b1).add_(g, alpha=1 - b1)
        inner = ops.component_inner(x, g, k) if k is not None else ops.component_inner(x, g)
        v = self.exp_avg_sq[rows].mul_(b2).add_(inner, alpha=1 - b2)
        denom = v.div(1 - b2 ** self.steps).sqrt_().add_(self.eps)
        direction = m.div(1 - b1 ** self.steps) / denom
        if k is not None:
            new_x, new_m = ops.retr_transp(x, -self.lr * direction, m, k)
        else:
            new_x, new_m = ops.retr_transp(x, -self.lr * direction, m)
            new_x = ops.projx(new_x)
        self.table[rows] = new_x
        self.exp_avg[rows] = new_m
        self.exp_avg_sq[rows] = v


class RowRiemannianSGD:
    """Riemannian SGD on the rows a step touches: ``x ← proj(x − η · ∇/λ_x²)`` (Nickel & Kiela 2017).

    Paper: Bonnabel, *Stochastic Gradient Descent on Riemannian Manifolds*, IEEE TAC 2013; the
    retraction update of Nickel & Kiela, *Poincaré Embeddings*, NeurIPS 2017 (for ``κ = −1``,
    ``∇/λ_x² = (1 − ‖x‖²)²/4 · ∇``). Product spaces run through
    :class:`~vastgraph.geometry.block_ops.BlockGeometry`.

    Args:
        table: ``(N, d)`` points (updated in place).
        manifold: the geoopt manifold of each row.
        lr: learning rate. Default 0.01.

    Example:
        >>> from vastgraph.geometry.manifolds import ProductSpace
        >>> table = torch.zeros(2, 2)
        >>> RowRiemannianSGD(table, ProductSpace.parse("poincare", 2), lr=0.5).step(torch.tensor([0]),
        ...                                                                         torch.tensor([[1.0, 0.0]]))
        >>> table[0].tolist()  # x − η (1 − ‖x‖²)²/4 ∇ at the origin
        [-0.125, 0.0]
    """

    def __init__(self, table: torch.Tensor, manifold: Any, *, lr: float = 0.01) -> None:
        if table.ndim != 2:
            raise ValidationError(f"table: shape {tuple(table.shape)}; expected (N, d)")
        self.lr = _check_lr("lr", lr)
        self.table, self.manifold = table, manifold
        self.ops = _fast_ops(manifold)
        self.steps = 0

    @torch.no_grad()
    def step(self, rows: torch.Tensor, grad: torch.Tensor) -> None:
        """Update the distinct ``rows`` (``(m,)`` long) with their Euclidean gradient ``(m, d)``."""
        self.steps += 1
        ops = self.ops
        if hasattr(ops, "kappa"):
            k = ops.kappa(self.table.dtype)
            x = ops.proj(self.table[rows], k)
            self.table[rows] = ops.proj(x - self.lr * ops.egrad2rgrad(x, grad, k), k)
        else:
            x = ops.projx(self.table[rows])
            self.table[rows] = ops.projx(ops.retr(x, -self.lr * ops.egrad2rgrad(x, grad)))


def _fast_ops(manifold: Any) -> Any:
    """:class:`BlockGeometry` for a product space, else the geoopt manifold itself."""
    from vastgraph.geometry.block_ops import BlockGeometry
    from vastgraph.geometry.manifolds import ProductSpace

    return BlockGeometry(manifold) if isinstance(manifold, ProductSpace) else manifold
