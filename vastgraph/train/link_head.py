"""Link-prediction heads: turn two node representations into the logit of an edge between them.

Kinds (``h_u``, ``h_v`` are rows of a node model's output, ``(B, d)``):

* ``"dot"`` — inner product ``s = h_u · h_v`` (GAE decoder; Kipf & Welling, "Variational Graph
  Auto-Encoders", 2016).
* ``"hadamard"`` — an MLP on the Hadamard product, ``s = w₂ · ReLU(W₁ (h_u ∘ h_v) + b₁) + b₂``
  (node2vec's Hadamard edge operator, Grover & Leskovec, KDD 2016, with a learned scorer as in
  PyG/OGB link-prediction baselines).
* ``"distance"`` — the Fermi–Dirac decoder of hyperbolic GCN (Chami, Ying, Ré & Leskovec, NeurIPS
  2019): ``P(u ~ v) = 1 / (exp((d(u, v)² − r) / t) + 1)``, i.e. logit ``s = (r − d²) / t`` with learned
  radius ``r`` and temperature ``t > 0`` (kept positive as ``softplus``). ``−d²`` is
  ``model.pair_score(h_u, h_v)`` when the model defines it (a hyperbolic model returns its negative
  squared geodesic distance), else the negative squared Euclidean distance ``−‖h_u − h_v‖²``.

``"auto"`` picks ``"distance"`` for a model with ``pair_score`` and ``"dot"`` otherwise. Training uses
binary cross-entropy on the logits; AUC/AP are computed from them.

Example:
    >>> head = LinkHead(16, kind="hadamard", random_state=0)
    >>> head(torch.randn(5, 16), torch.randn(5, 16)).shape
    torch.Size([5])
"""

from __future__ import annotations

import math
from typing import Any

import torch

from vastgraph.validation import check_int
from vastgraph.errors import ValidationError

HEAD_KINDS = ("auto", "dot", "hadamard", "distance")


def resolve_head_kind(kind: str, model: Any = None) -> str:
    """The concrete head kind for ``kind`` (``"auto"`` → ``"distance"`` if ``model`` has ``pair_score``)."""
    if kind not in HEAD_KINDS:
        raise ValidationError(f"link_head={kind!r}: expected one of {', '.join(HEAD_KINDS)}")
    if kind == "auto":
        return "distance" if callable(getattr(model, "pair_score", None)) else "dot"
    return kind


class LinkHead(torch.nn.Module):
    """Edge logit ``s(h_u, h_v)`` from two node representations (see the module docstring).

    Args:
        dim: width ``d`` of the representations, >= 1.
        kind: ``"auto"`` | ``"dot"`` | ``"hadamard"`` | ``"distance"``. Default ``"auto"``.
        hidden: hidden width of the Hadamard MLP. Default 64.
        model: the node model; its ``pair_score(h_u, h_v) -> (B,)`` (higher = closer, e.g. ``−d²``) is
            used by the distance head when defined. Default None.
        random_state: seed of the MLP's initial weights (int or None). Default None.

    Shapes:
        ``forward(h_u (B, d), h_v (B, d)) -> (B,)`` logits.

    Example:
        >>> LinkHead(8, kind="distance")(torch.zeros(2, 8), torch.ones(2, 8)).shape
        torch.Size([2])
    """

    def __init__(self, dim: int, kind: str = "auto", *, hidden: int = 64, model: Any = None,
                 random_state: int | None = None) -> None:
        super().__init__()
        self.dim = check_int("dim", dim, 1)
        self.kind = resolve_head_kind(kind, model)
        hidden = check_int("hidden", hidden, 1)
        pair = getattr(model, "pair_score", None)
        # a plain attribute would register the model as a submodule (and duplicate its weights)
        self.__dict__["_pair_score"] = pair if callable(pair) else None
        if self.kind == "hadamard":
            self.mlp = torch.nn.Sequential(torch.nn.Linear(self.dim, hidden), torch.nn.ReLU(),
                                           torch.nn.Linear(hidden, 1))
            gen = torch.Generator().manual_seed(0 if random_state is None else int(random_state))
            with torch.no_grad():
                for layer in (self.mlp[0], self.mlp[2]):
                    bound = math.sqrt(6.0 / (layer.in_features + layer.out_features))
                    layer.weight.copy_(torch.rand(layer.weight.shape, generator=gen) * 2 * bound - bound)
                    layer.bias.zero_()
        elif self.kind == "distance":
            self.radius = torch.nn.Parameter(torch.tensor(2.0))
            self.raw_temperature = torch.nn.Parameter(torch.tensor(math.log(math.e - 1.0)))  # softplus → 1

    def forward(self, h_u: torch.Tensor, h_v: torch.Tensor) -> torch.Tensor:
        if h_u.shape != h_v.shape or h_u.dim() != 2 or h_u.shape[1] != self.dim:
            raise ValidationError(f"LinkHead: h_u {tuple(h_u.shape)} and h_v {tuple(h_v.shape)}; expected two "
                                  f"(B, {self.dim}) tensors")
        if self.kind == "dot":
            return (h_u * h_v).sum(-1)
        if self.kind == "hadamard":
            return self.mlp(h_u * h_v).squeeze(-1)
        if self._pair_score is not None:
            score = self._pair_score(h_u, h_v).reshape(-1)
        else:
            score = -((h_u - h_v) ** 2).sum(-1)
        return (score + self.radius) / torch.nn.functional.softplus(self.raw_temperature)
