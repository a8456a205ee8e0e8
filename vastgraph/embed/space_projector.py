"""The attentive space projector of AMCAD: per-edge weights over the blocks of a product space.

Paper: Xu et al., *AMCAD: Adaptive Mixed-Curvature Representation based Advertisement Retrieval
System*, ICDE 2022 (the "attentive edge-wise space projector").

Maths. For a pair ``(u, v)`` under relation ``r`` the block weights are

    a(u, v, r) = softmax_b( W_2 · ReLU(W_1 · [e_r, min(f_u, f_v), max(f_u, f_v)] + c_1) + c_2 ),

with ``e_r`` a learned relation embedding and ``f_u`` the node's local-structure features (here
its normalised log-degree, :func:`degree_features`). Taking ``min``/``max`` makes the weights
symmetric in ``u`` and ``v``, so the score ``s(u, v, r) = −Σ_b a_b d_b(x_u, x_v)²`` is symmetric
as distances are. With ``relation_aware=False`` (or one block) the weights are uniform, ``1/B``.

Shapes: ``relations`` ``(n,)`` long, ``fu``/``fv`` ``(n, F)`` → ``(n, B)`` rows summing to 1.

Example:
    >>> proj = AttentiveSpaceProjector(n_relations=2, n_blocks=3, generator=torch.Generator().manual_seed(0))
    >>> w = proj(torch.tensor([0, 1]), torch.rand(2, 1), torch.rand(2, 1))
    >>> w.shape, bool(torch.allclose(w.sum(1), torch.ones(2)))
    (torch.Size([2, 3]), True)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch

from vastgraph.errors import ValidationError

if TYPE_CHECKING:
    from vastgraph.graph.view import GraphView


def degree_features(graph: GraphView) -> np.ndarray:
    """Per-node structure feature ``log(1 + degree) / max log(1 + degree)`` over all edge types, ``(N, 1)``.

    The degree counts every stored edge entry at both ends (an undirected edge, stored both
    ways, counts once at each end); rows are in global node-id order.
    """
    n = graph.num_nodes_total()
    offs = graph.node_offsets()
    deg = np.zeros(n, dtype=np.float64)
    for et in graph.edge_types:
        deg[offs[et.src]:offs[et.src] + graph.num_nodes(et.src)] += graph.out_degree(et)
        if not graph.is_undirected(et):
            deg[offs[et.dst]:offs[et.dst] + graph.num_nodes(et.dst)] += graph.in_degree(et)
    f = np.log1p(deg)
    top = f.max() if n else 0.0
    return (f / top if top > 0 else f)[:, None].astype(np.float32)


class AttentiveSpaceProjector(torch.nn.Module):
    """Softmax weights over product-space blocks from the relation and the pair's local structure.

    Args:
        n_relations: number of relation (edge) types.
        n_blocks: number of blocks ``B``.
        n_features: structure features per node ``F``. Default 1 (log-degree).
        relation_dim: size of the relation embedding. Default 8.
        hidden: hidden width of the MLP. Default 32.
        relation_aware: learn the weights (True) or use uniform ``1/B`` (False). Default True.
        generator: torch generator for the initial weights (no global RNG). Default None.
        dtype: parameter dtype. Default float32.
    """

    def __init__(self, n_relations: int, n_blocks: int, *, n_features: int = 1, relation_dim: int = 8,
                 hidden: int = 32, relation_aware: bool = True, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        for name, v in (("n_relations", n_relations), ("n_blocks", n_blocks), ("n_features", n_features),
                        ("relation_dim", relation_dim), ("hidden", hidden)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValidationError(f"{name}={v!r}: expected an integer >= 1")
        self.n_relations, self.n_blocks, self.n_features = int(n_relations), int(n_blocks), int(n_features)
        self.active = bool(relation_aware) and self.n_blocks > 1
        if self.active:
            self.relation = torch.nn.Parameter(torch.empty(self.n_relations, relation_dim, dtype=dtype))
            self.hidden = torch.nn.Linear(relation_dim + 2 * self.n_features, hidden, dtype=dtype)
            self.out = torch.nn.Linear(hidden, self.n_blocks, dtype=dtype)
            self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Relation embeddings ~ N(0, 0.1²); linear layers uniform ±1/√fan_in; last layer zero
        bias, so training starts near uniform weights."""
        if not self.active:
            return
        with torch.no_grad():
            self.relation.normal_(0.0, 0.1, generator=generator)
            for lin in (self.hidden, self.out):
                bound = 1.0 / math.sqrt(lin.in_features)
                torch.nn.init.uniform_(lin.weight, -bound, bound, generator=generator)
                torch.nn.init.uniform_(lin.bias, -bound, bound, generator=generator)
            self.out.weight.mul_(0.1)
            self.out.bias.zero_()

    def forward(self, relations: torch.Tensor, fu: torch.Tensor, fv: torch.Tensor) -> torch.Tensor:
        """Block weights ``(..., B)`` for relation ids ``(...)`` and node features ``(..., F)``."""
        shape = relations.shape
        if not self.active:
            return torch.full((*shape, self.n_blocks), 1.0 / self.n_blocks, dtype=fu.dtype)
        e = self.relation[relations]
        h = torch.cat([e, torch.minimum(fu, fv), torch.maximum(fu, fv)], dim=-1)
        return torch.softmax(self.out(torch.relu(self.hidden(h))), dim=-1)
