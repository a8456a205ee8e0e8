"""Hyperbolic graph convolution (HGCN) on κ-stereographic manifolds with learned curvature.

Chami, Ying, Ré & Leskovec, "Hyperbolic Graph Convolutional Neural Networks", NeurIPS 2019. Points
live on geoopt's :class:`geoopt.Stereographic` model of curvature ``κ`` (``κ < 0``: Poincaré ball of
radius ``1/√−κ``; ``κ = 0``: flat; ``κ > 0``: projected sphere), with ``κ`` a learned parameter per
layer (or one shared). One layer ``ℓ`` maps points on ``M_{κ_{ℓ−1}}`` to points on ``M_{κ_ℓ}``:

1. hyperbolic linear map and bias (Möbius matrix-vector product, Ganea et al. 2018):
   ``h_i = exp_0(W · log_0(x_i)) ⊕_κ exp_0(b)``;
2. aggregation in the tangent space at the origin (HGCN's default, ``local_agg=False``):
   ``a_i = Σ_{j ∈ N(i) ∪ {i}} w_ij · log_0(h_j)`` with ``w_ij = 1/(|N(i)| + 1)`` (mean), or with
   attention ``w_ij = softmax_j(LeakyReLU(aᵀ[log_0 h_i ‖ log_0 h_j]))`` (HGCN's attention on
   tangent features);
3. non-linear activation across curvatures: ``x'_i = exp_0^{κ_ℓ}(σ(log_0^{κ_{ℓ−1}}(exp_0^{κ_{ℓ−1}}(a_i))))``.

Every output is projected onto the manifold (``projx``: strictly inside the ball for ``κ < 0``).
The model's input features are tangent vectors at the origin of ``M_{κ_0}`` (the first layer
reads them directly, which equals ``log_0(exp_0(x))`` without the boundary clamping). Pairs are
decoded with the Fermi–Dirac distribution on the squared geodesic distance,
``P(u ~ v) = 1 / (exp((d_κ(x_u, x_v)² − r)/t) + 1)``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import geoopt
import numpy as np
import torch

from vastgraph.validation import check_float, check_int
from vastgraph.errors import ValidationError
from vastgraph.nn.base import NodeModel, check_fanouts, check_num_nodes, check_widths, model_seed, type_label
from vastgraph.nn.batch import NodeBatch, check_batch
from vastgraph.nn.pyg_baselines import glorot_init
from vastgraph.seeding import derive_int

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu, "tanh": torch.tanh, "elu": torch.nn.functional.elu, "identity": lambda t: t}
_MAX_ABS_CURVATURE = 1e4


def make_manifold(curvature: float = -1.0, learnable: bool = True) -> geoopt.Stereographic:
    """A κ-stereographic manifold with initial curvature ``curvature`` (learned if ``learnable``)."""
    return geoopt.Stereographic(k=float(curvature), learnable=bool(learnable))


def check_curvature(manifold: geoopt.Stereographic, name: str) -> None:
    """Raise :class:`ValidationError` when a learned curvature became NaN/inf or diverged."""
    k = float(manifold.k.detach())
    if not np.isfinite(k) or abs(k) > _MAX_ABS_CURVATURE:
        raise ValidationError(f"{name}: curvature κ={k} (diverged; expected a finite value with |κ| <= "
                              f"{_MAX_ABS_CURVATURE:g}); lower the learning rate or fix the curvature "
                              "(learn_curvature=False)")


class HGCNConv(torch.nn.Module):
    """One HGCN layer: hyperbolic linear + bias, tangent aggregation at the origin, activation.

    Chami et al., NeurIPS 2019 (see the module docstring for the maths).

    Args:
        in_dim: input width.
        out_dim: output width.
        manifold_in: manifold of the inputs (``κ_{ℓ−1}``). Default: a new learnable one, κ = −1.
        manifold_out: manifold of the outputs (``κ_ℓ``). Default: ``manifold_in``.
        dropout: dropout on the tangent inputs of the linear map, in [0, 1). Default 0.0.
        activation: ``"relu"`` | ``"tanh"`` | ``"elu"`` | ``"identity"``. Default ``"relu"``.
        use_att: attention weights instead of the mean. Default False.
        bias: add a Möbius bias. Default True.

    Shapes:
        ``forward(x (n, in_dim), edge_index (2, E)) -> (n, out_dim)``: ``x`` points on
        ``manifold_in`` (or tangent vectors at its origin with ``tangent=True``); ``edge_index``
        PyG-style, row 0 the source (neighbour) ``j``, row 1 the target ``i``; output points on
        ``manifold_out``.

    Example:
        >>> conv = HGCNConv(4, 8)
        >>> x = conv.manifold_in.expmap0(0.1 * torch.randn(5, 4))
        >>> conv(x, torch.tensor([[0, 1, 2], [1, 2, 3]])).shape
        torch.Size([5, 8])
    """

    def __init__(self, in_dim: int, out_dim: int, *, manifold_in: geoopt.Stereographic | None = None,
                 manifold_out: geoopt.Stereographic | None = None, dropout: float = 0.0,
                 activation: str = "relu", use_att: bool = False, bias: bool = True) -> None:
        super().__init__()
        self.in_dim = check_int("in_dim", in_dim, 1)
        self.out_dim = check_int("out_dim", out_dim, 1)
        self.dropout = check_float("dropout", dropout, low=0.0, low_open=False, high=1.0)
        if self.dropout >= 1.0:
            raise ValidationError(f"dropout={dropout!r}: expected a number in [0, 1)")
        if activation not in ACTIVATIONS:
            raise ValidationError(f"activation={activation!r}: expected one of {', '.join(ACTIVATIONS)}")
        self.activation = activation
        self.manifold_in = manifold_in if manifold_in is not None else make_manifold()
        self.manifold_out = manifold_out if manifold_out is not None else self.manifold_in
        self.lin = torch.nn.Linear(self.in_dim, self.out_dim, bias=False)
        self.bias = torch.nn.Parameter(torch.zeros(self.out_dim)) if bias else None
        self.use_att = bool(use_att)
        self.att = torch.nn.Parameter(torch.zeros(2 * self.out_dim)) if self.use_att else None

    def _check_edges(self, edge_index: Any, n: int) -> torch.Tensor:
        ei = torch.as_tensor(edge_index)
        if ei.dim() != 2 or ei.shape[0] != 2:
            raise ValidationError(f"edge_index: shape {tuple(ei.shape)}; expected (2, E)")
        if ei.dtype.is_floating_point or ei.dtype == torch.bool:
            raise ValidationError(f"edge_index: dtype {ei.dtype}; expected integer node positions")
        if ei.numel() and (int(ei.min()) < 0 or int(ei.max()) >= n):
            raise ValidationError(f"edge_index: positions in [{int(ei.min())}, {int(ei.max())}]; expected [0, {n}) "
                                  f"for x with {n} rows")
        return ei.long()

    def aggregate(self, t: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """Weighted mean of tangent vectors ``t`` over ``{i} ∪ N(i)`` (mean or attention weights)."""
        n = t.shape[0]
        loops = torch.arange(n, device=t.device)
        src = torch.cat([edge_index[0], loops])
        dst = torch.cat([edge_index[1], loops])
        if self.use_att:
            d = self.out_dim
            logit = torch.nn.functional.leaky_relu(t[dst] @ self.att[:d] + t[src] @ self.att[d:], 0.2)
            top = torch.full((n,), -torch.inf, device=t.device, dtype=t.dtype)
            top = top.scatter_reduce(0, dst, logit, reduce="amax", include_self=True)
            w = torch.exp(logit - top[dst])
            den = torch.zeros(n, device=t.device, dtype=t.dtype).index_add_(0, dst, w)
            w = w / den[dst]
        else:
            cnt = torch.zeros(n, device=t.device, dtype=t.dtype).index_add_(0, dst, torch.ones_like(dst, dtype=t.dtype))
            w = 1.0 / cnt[dst]
        return torch.zeros_like(t).index_add_(0, dst, t[src] * w[:, None])

    def forward(self, x: torch.Tensor, edge_index: Any, *, tangent: bool = False,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Points ``(n, out_dim)`` on ``manifold_out`` (see the class docstring for shapes).

        ``tangent=True`` reads ``x`` as tangent vectors at the origin of ``manifold_in``;
        ``generator`` drives dropout (a fresh unseeded one when None).
        """
        if x.dim() != 2 or x.shape[1] != self.in_dim:
            raise ValidationError(f"x: shape {tuple(x.shape)}; expected (n, {self.in_dim})")
        ei = self._check_edges(edge_index, x.shape[0]).to(x.device)
        m_in, m_out = self.manifold_in, self.manifold_out
        t = x if tangent else m_in.logmap0(x)
        if self.training and self.dropout > 0.0:
            keep = torch.rand(t.shape, generator=generator, device=t.device) >= self.dropout
            t = t * keep / (1.0 - self.dropout)
        h = m_in.expmap0(self.lin(t))                          # W ⊗_κ x
        if self.bias is not None:
            h = m_in.projx(m_in.mobius_add(h, m_in.expmap0(self.bias)))
        agg = self.aggregate(m_in.logmap0(h), ei)             # tangent aggregation at the origin
        h = m_in.expmap0(agg)
        out = m_out.expmap0(ACTIVATIONS[self.activation](m_in.logmap0(h)))
        return m_out.projx(out)

    def extra_repr(self) -> str:
        return (f"{self.in_dim}, {self.out_dim}, activation={self.activation}, use_att={self.use_att}, "
                f"bias={self.bias is not None}")


class HGCN(NodeModel):
    """Hyperbolic graph convolutional network (HGCN) on fanout-sampled subgraphs, learned curvatures.

    Chami, Ying, Ré & Leskovec, NeurIPS 2019. ``num_layers`` :class:`HGCNConv` layers; layer ``ℓ``
    maps ``M_{κ_{ℓ−1}} → M_{κ_ℓ}`` (``num_layers + 1`` curvatures, or one shared), all learned when
    ``learn_curvature``. Inputs are the node features (or a learnable embedding) read as tangent
    vectors at the origin of ``M_{κ_0}``. ``forward(batch)`` takes a ``num_layers``-hop subgraph
    around the batch (a :class:`~vastgraph.nn.batch.NodeBatch` that the ``"fanout"`` loader sampled)
    and returns the batch's points on the last manifold; hidden layers use ``activation``, the last
    the identity. Dropout draws from a generator seeded by ``batch.seed``.
    :func:`vastgraph.train.models.create_model` (``"hgcn"``) builds the model on a graph.

    Args:
        num_nodes: nodes of the model's node type, >= 1.
        features: ``(num_nodes, F)`` node features or None (a learnable embedding). Default None.
        ntype: node type name the loader samples (kept in the config). Default None.
        etype: edge type (``"src:rel:dst"``) the loader samples along (kept in the config). Default None.
        hidden: width of hidden layers (and of the learnable input embedding). Default 64.
        out_dim: output width. Default 64.
        num_layers: HGCN layers, >= 1. Default 2.
        dropout: dropout on each layer's tangent inputs, in [0, 1). Default 0.0.
        random_state: None, an int or a ``numpy.random.Generator``. Default None.
        curvature: initial curvature of every manifold (``< 0`` hyperbolic). Default -1.0.
        learn_curvature: learn the curvatures. Default True.
        shared_curvature: one curvature for all layers instead of one per layer. Default False.
        use_att: attention aggregation instead of the mean. Default False.
        activation: ``"relu"`` | ``"tanh"`` | ``"elu"`` | ``"identity"``. Default ``"relu"``.
        fanouts: neighbours per hop, one per layer (each >= 1 or -1 = all), or -1. Default (10, 10).
        use_features: use ``features`` when given (else a learnable embedding). Default True.
        init_scale: standard scale of the learnable input embedding. Default 0.1.
        decoder_r, decoder_t: Fermi–Dirac radius ``r`` and temperature ``t > 0`` of
            :meth:`fermi_dirac_logit`. Defaults 2.0 and 1.0 (HGCN's).

    Shapes:
        ``forward(NodeBatch of length B) -> (B, out_dim)`` points on the last manifold;
        ``pair_score(h_u (B, d), h_v (B, d)) -> (B,)`` = ``−d_κ(h_u, h_v)²``.

    Example:
        >>> model = HGCN(num_nodes=5, hidden=8, out_dim=4, random_state=0)
        >>> star = torch.tensor([[1, 2, 3, 4], [0, 0, 0, 0]])
        >>> h = model(NodeBatch(n_id=torch.arange(5), index=torch.arange(5), num_targets=5, edge_index=star))
        >>> model.pair_score(h[:2], h[2:4]).shape
        torch.Size([2])
    """

    sampler_kind = "fanout"

    def __init__(self, *, num_nodes: int, features: Any = None, ntype: str | None = None, etype: Any = None,
                 hidden: int = 64, out_dim: int = 64, num_layers: int = 2, dropout: float = 0.0,
                 random_state: Any = None, curvature: float = -1.0, learn_curvature: bool = True, shared_curvature: bool = False,
                 use_att: bool = False, activation: str = "relu", fanouts: int | Sequence[int] = (10, 10),
                 use_features: bool = True, init_scale: float = 0.1, decoder_r: float = 2.0,
                 decoder_t: float = 1.0) -> None:
        super().__init__()
        hidden, out_dim, num_layers, dropout = check_widths(hidden, out_dim, num_layers, dropout)
        if isinstance(curvature, bool) or not isinstance(curvature, (int, float, np.integer, np.floating)) \
                or not np.isfinite(curvature) or abs(float(curvature)) > _MAX_ABS_CURVATURE:
            raise ValidationError(f"curvature={curvature!r}: expected a finite number with |κ| <= "
                                  f"{_MAX_ABS_CURVATURE:g} (κ < 0 hyperbolic, 0 flat, > 0 spherical)")
        if activation not in ACTIVATIONS:
            raise ValidationError(f"activation={activation!r}: expected one of {', '.join(ACTIVATIONS)}")
        init_scale = check_float("init_scale", init_scale)
        decoder_r = check_float("decoder_r", decoder_r, low=-np.inf)
        decoder_t = check_float("decoder_t", decoder_t)
        self.num_nodes = check_num_nodes(num_nodes)
        self.fanouts = fan = check_fanouts(fanouts, num_layers)
        self.ntype, self.etype = type_label(ntype, "ntype"), type_label(etype, "etype")
        seed = model_seed(random_state)
        self.out_dim = out_dim
        self.decoder_r, self.decoder_t = decoder_r, decoder_t
        self._config = {"ntype": self.ntype, "etype": self.etype, "hidden": hidden, "out_dim": out_dim,
                        "num_layers": num_layers, "dropout": dropout, "random_state": seed,
                        "curvature": float(curvature), "learn_curvature": bool(learn_curvature),
                        "shared_curvature": bool(shared_curvature), "use_att": bool(use_att),
                        "activation": activation, "fanouts": list(fan), "use_features": bool(use_features),
                        "init_scale": init_scale, "decoder_r": decoder_r, "decoder_t": decoder_t}
        in_dim = self.init_inputs(features if use_features else None, self.num_nodes, hidden)
        if shared_curvature:
            shared = make_manifold(curvature, learn_curvature)
            self.manifolds = torch.nn.ModuleList([shared])
            mans = [shared] * (num_layers + 1)
        else:
            self.manifolds = torch.nn.ModuleList(make_manifold(curvature, learn_curvature)
                                                 for _ in range(num_layers + 1))
            mans = list(self.manifolds)
        dims = [in_dim] + [hidden] * (num_layers - 1) + [out_dim]
        self.convs = torch.nn.ModuleList(
            HGCNConv(dims[i], dims[i + 1], manifold_in=mans[i], manifold_out=mans[i + 1], dropout=dropout,
                     activation=activation if i < num_layers - 1 else "identity", use_att=use_att)
            for i in range(num_layers))
        glorot_init(self.convs, seed)
        if self.embedding is not None:
            gen = torch.Generator().manual_seed(derive_int(seed, 2))
            with torch.no_grad():
                self.embedding.weight.copy_(torch.randn(self.embedding.weight.shape, generator=gen) * init_scale)

    @property
    def manifold(self) -> geoopt.Stereographic:
        """The manifold of the outputs (the last curvature)."""
        return self.convs[-1].manifold_out

    def curvatures(self) -> list[float]:
        """Current curvatures ``[κ_0, …, κ_L]`` (one entry when shared)."""
        return [float(m.k.detach()) for m in self.manifolds]

    def forward(self, batch: NodeBatch) -> torch.Tensor:
        """Points ``(len(batch), out_dim)`` on :attr:`manifold` for the batch nodes (subgraph layout)."""
        check_batch(batch, "HGCN", num_nodes=self.num_nodes, layout="subgraph")
        for i, m in enumerate(self.manifolds):
            check_curvature(m, f"HGCN curvature {i}")
        dev = self.convs[0].lin.weight.device
        if len(batch) == 0:
            return torch.zeros((0, self.out_dim), device=dev)
        local = batch.n_id.to(dev)
        ei = batch.edge_index.to(dev)
        gen = torch.Generator(device=dev).manual_seed(int(batch.seed))
        h = self.x[local] if self.x is not None else self.embedding(local)
        for i, conv in enumerate(self.convs):
            h = conv(h, ei, tangent=(i == 0), generator=gen)
        if not torch.isfinite(h).all():
            raise ValidationError(f"HGCN forward: non-finite outputs (curvatures {self.curvatures()}); lower the "
                                  "learning rate or the input scale")
        return h[:batch.num_targets][batch.index.to(dev)]

    def distance(self, h_u: torch.Tensor, h_v: torch.Tensor) -> torch.Tensor:
        """Geodesic distances ``d_κ(h_u, h_v)`` ``(B,)`` on the output manifold."""
        return self.manifold.dist(h_u, h_v)

    def pair_score(self, h_u: torch.Tensor, h_v: torch.Tensor) -> torch.Tensor:
        """``−d_κ(h_u, h_v)²`` ``(B,)``: higher = closer (the trainer's distance head applies Fermi–Dirac)."""
        return -self.manifold.dist2(h_u, h_v)

    def fermi_dirac_logit(self, h_u: torch.Tensor, h_v: torch.Tensor) -> torch.Tensor:
        """Fermi–Dirac logit ``(r − d_κ²)/t`` ``(B,)``; ``sigmoid`` of it is ``P(u ~ v)``."""
        return (self.decoder_r + self.pair_score(h_u, h_v)) / self.decoder_t

    def to_tangent(self, h: torch.Tensor) -> torch.Tensor:
        """``log_0(h)``: outputs as Euclidean vectors (tangent space at the origin), e.g. for a linear head."""
        return self.manifold.logmap0(h)
