"""The GraLSP aggregation layer: neighbours on anonymous walks, gated (and weighted) by walk type.

Paper: Y. Jin, G. Song, C. Shi, *GraLSP: Graph Neural Networks with Local Structural Patterns*,
AAAI 2020 (arXiv:1911.07675), Section "Aggregation with structural patterns".

A target node ``v`` receives messages from the ``(walk type w, node u)`` pairs sampled around it
(``u`` lies within the adaptive radius of a walk of type ``w`` from ``v``, see
:mod:`vastgraph.sampling.structural_context`). With ``e_w`` the (shared) embedding of walk type ``w``:

    g_w   = σ(Q e_w + q)                                   (amplification: a per-channel gate)
    m_v   = Σ_{(w,u)} α_{v,w,u} · (g_w ⊙ h_u)               (α = 1 / #pairs: the mean; or attention)
    h'_v  = ReLU(W_s h_v + W_n m_v + b)                    (no ReLU with ``activation=False``)

With ``attention=True`` the weights are a softmax over the pairs of each node,
``α ∝ exp(LeakyReLU(a_h·h_v + a_e·e_w))``, so walk types that matter more for ``v`` count more.

The layer works on a sampled bipartite block: ``x_target`` (``n_t`` rows), ``x_source`` (``n_s``
rows) and the pairs as index tensors into them plus each pair's walk-type id into the shared
type-embedding table; the gate is computed once per distinct walk type in the block. Sums and
softmaxes run with ``index_add_`` / ``scatter_reduce`` (no PyG needed).

Example:
    >>> conv = GraLSPConv(8, 4, type_dim=3)
    >>> types = torch.randn(5, 3)  # embeddings of 5 walk types
    >>> out = conv(torch.randn(2, 8), torch.randn(6, 8), torch.tensor([0, 0, 1]), torch.tensor([2, 3, 5]),
    ...            torch.tensor([1, 4, 1]), types)
    >>> tuple(out.shape)
    (2, 4)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vastgraph.errors import ValidationError


def segment_softmax(scores: torch.Tensor, group: torch.Tensor, n_groups: int) -> torch.Tensor:
    """Softmax of ``scores`` (``(P,)``) within each group of ``group`` (``(P,)`` ids in ``[0, n_groups)``)."""
    top = torch.full((n_groups,), float("-inf"), dtype=scores.dtype, device=scores.device)
    top = top.scatter_reduce(0, group, scores, reduce="amax", include_self=True)
    ex = torch.exp(scores - top[group])
    den = torch.zeros(n_groups, dtype=scores.dtype, device=scores.device).index_add_(0, group, ex)
    return ex / den[group]


def segment_mean_weights(group: torch.Tensor, n_groups: int, dtype: torch.dtype) -> torch.Tensor:
    """Weight ``1 / |group|`` for each item (``(P,)``), so a weighted sum per group is the mean."""
    cnt = torch.zeros(n_groups, dtype=dtype, device=group.device)
    cnt.index_add_(0, group, torch.ones(group.shape[0], dtype=dtype, device=group.device))
    return 1.0 / cnt.clamp_min(1.0)[group]


class GraLSPConv(torch.nn.Module):
    """One GraLSP layer: ``h'_v = ReLU(W_s h_v + W_n Σ α (σ(Q e_w + q) ⊙ h_u))``.

    Args:
        in_dim: width of ``h`` (input rows).
        out_dim: width of the output.
        type_dim: width of the walk-type embeddings ``e_w`` (the table passed to :meth:`forward`).
        attention: weight the pairs of a node by a softmax over ``LeakyReLU(a·[h_v, e_w])``
            instead of the plain mean. Default False.
        activation: apply the ReLU (False for a final, linear layer). Default True.
        dropout: dropout on the input rows (training only). Default 0.

    Shapes:
        x_target ``(n_t, in_dim)``, x_source ``(n_s, in_dim)``, pair_target / pair_source /
        pair_type ``(P,)`` long, type_table ``(T, type_dim)`` → ``(n_t, out_dim)``.
    """

    def __init__(self, in_dim: int, out_dim: int, *, type_dim: int, attention: bool = False,
                 activation: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        for name, value in (("in_dim", in_dim), ("out_dim", out_dim), ("type_dim", type_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(f"{name}={value!r}: expected an integer >= 1")
        if not isinstance(dropout, (int, float)) or not 0.0 <= float(dropout) < 1.0:
            raise ValidationError(f"dropout={dropout!r}: expected a number in [0, 1)")
        self.in_dim, self.out_dim, self.type_dim = in_dim, out_dim, type_dim
        self.attention = bool(attention)
        self.activation = bool(activation)
        self.dropout = float(dropout)
        self.gate = torch.nn.Linear(type_dim, in_dim)  # Q, q
        torch.nn.init.constant_(self.gate.bias, 0.01)
        self.lin_self = torch.nn.Linear(in_dim, out_dim, bias=True)  # W_s (+ b)
        self.lin_neigh = torch.nn.Linear(in_dim, out_dim, bias=False)  # W_n
        if self.attention:
            self.att_self = torch.nn.Parameter(torch.empty(in_dim))
            self.att_type = torch.nn.Parameter(torch.empty(type_dim))
            torch.nn.init.normal_(self.att_self, std=in_dim ** -0.5)
            torch.nn.init.normal_(self.att_type, std=type_dim ** -0.5)

    def messages(self, x_target: torch.Tensor, x_source: torch.Tensor, pair_target: torch.Tensor,
                 pair_source: torch.Tensor, pair_type: torch.Tensor, type_table: torch.Tensor, group: torch.Tensor,
                 n_groups: int) -> torch.Tensor:
        """Gated, weighted messages ``α · (σ(Q e_w + q) ⊙ h_u)``, ``(P, in_dim)``; ``α`` normalised per ``group``."""
        used, inv = torch.unique(pair_type, return_inverse=True)
        emb = type_table[used]
        msg = torch.sigmoid(self.gate(emb))[inv] * x_source[pair_source]
        if self.attention:
            score = F.leaky_relu(x_target[pair_target] @ self.att_self + (emb @ self.att_type)[inv], 0.2)
            alpha = segment_softmax(score, group, n_groups)
        else:
            alpha = segment_mean_weights(group, n_groups, msg.dtype)
        return msg * alpha[:, None]

    def _check(self, x_target: torch.Tensor, x_source: torch.Tensor, pair_target: torch.Tensor,
               pair_source: torch.Tensor, pair_type: torch.Tensor, type_table: torch.Tensor) -> None:
        if x_target.dim() != 2 or x_target.shape[1] != self.in_dim or x_source.dim() != 2 \
                or x_source.shape[1] != self.in_dim:
            raise ValidationError(f"x_target {tuple(x_target.shape)} / x_source {tuple(x_source.shape)}: "
                                  f"expected 2-D with {self.in_dim} columns")
        p = pair_target.shape[0]
        if pair_target.dim() != 1 or pair_source.shape != (p,) or pair_type.shape != (p,) \
                or type_table.dim() != 2 or type_table.shape[1] != self.type_dim:
            raise ValidationError(f"pairs: pair_target {tuple(pair_target.shape)}, pair_source "
                                  f"{tuple(pair_source.shape)}, pair_type {tuple(pair_type.shape)}, type_table "
                                  f"{tuple(type_table.shape)}; expected (P,), (P,), (P,), (T, {self.type_dim})")

    def forward(self, x_target: torch.Tensor, x_source: torch.Tensor, pair_target: torch.Tensor,
                pair_source: torch.Tensor, pair_type: torch.Tensor, type_table: torch.Tensor) -> torch.Tensor:
        """Aggregate the pairs into the targets (see the class docstring for shapes)."""
        self._check(x_target, x_source, pair_target, pair_source, pair_type, type_table)
        x_target = F.dropout(x_target, self.dropout, self.training)
        x_source = F.dropout(x_source, self.dropout, self.training)
        n_t = x_target.shape[0]
        msg = self.messages(x_target, x_source, pair_target, pair_source, pair_type, type_table, pair_target, n_t)
        agg = torch.zeros(n_t, self.in_dim, dtype=msg.dtype, device=msg.device).index_add_(0, pair_target, msg)
        out = self.lin_self(x_target) + self.lin_neigh(agg)
        return F.relu(out) if self.activation else out

    def extra_repr(self) -> str:
        return (f"{self.in_dim}, {self.out_dim}, type_dim={self.type_dim}, attention={self.attention}, "
                f"activation={self.activation}")
