"""MixedCurvature: node embeddings in a product of constant-curvature spaces with learned curvatures (AMCAD).

Papers: Xu et al., *AMCAD: Adaptive Mixed-Curvature Representation based Advertisement Retrieval
System*, ICDE 2022, and its framework alibaba/CurvLearn; Gu et al., *Learning Mixed-Curvature
Representations in Product Spaces*, ICLR 2019; Nickel & Kiela, *Poincaré Embeddings*, NeurIPS 2017.

Model. Every node ``u`` is a point ``x_u`` of ``M = M_{κ_1} × … × M_{κ_B}`` (κ-stereographic
blocks, :mod:`vastgraph.geometry.manifolds`; spec from :func:`parse_manifold_spec`, e.g.
H¹⁶×S¹⁶×E¹⁶ for ``manifold="mixed", dimensions=48``: two stereographic blocks starting at κ = −1
and +1 whose curvatures are learned and may cross 0, and a flat block). A pair ``(u, v)`` of
relation ``r`` (one relation per edge type) has the AMCAD score

    s(u, v, r) = −B · Σ_b a_b(u, v, r) · d_{κ_b}(x_u^b, x_v^b)²,

with block weights ``a`` from the attentive space projector
(:class:`~vastgraph.embed.space_projector.AttentiveSpaceProjector`: softmax over blocks of an
MLP of the relation embedding and the log-degrees of ``u`` and ``v``; uniform ``1/B`` when
``relation_aware=False``). The factor ``B`` (number of blocks) makes uniform weights give exactly
the product-space distance ``Σ_b d_b²`` of Gu et al.: without it a product of ``B`` blocks would
see its distances shrunk by ``B``, which for curved blocks means ``B`` times the effective
curvature relative to the loss's fixed length scale (the softmax temperature, the Fermi–Dirac
``ρ``, ``τ``), and a one-block model would not be a special case of the product.

Loss (``loss=``). ``"softmax"`` (default; Nickel & Kiela's reconstruction loss): with the
weighted product distance ``d_a(u, v) = sqrt(B Σ_b a_b d_b²) = sqrt(−s(u, v, r))`` (monotone in the
score, so ranking by either is the same),

    L = −log( exp(−d_a(u, v)) / (exp(−d_a(u, v)) + Σ_n exp(−d_a(u, n))) ).

``"fermi_dirac"`` (CurvLearn / HGCN decoder): ``p = σ((ρ + s)/τ)`` with binary cross-entropy,
``L = softplus(−(ρ + s(u, v, r))/τ) + Σ_n softplus((ρ + s(u, n, r))/τ)``. Either way, ``negative``
corrupted destinations per positive, drawn from the destination's node type with probability
∝ degree^``negative_power`` (0.75 by default; 0 is Nickel & Kiela's uniform noise).
Positives are the stored edge entries of every edge type (``samples="edges"``; drawn ∝ weight
when the graph is weighted), or skip-gram pairs within ``window`` on uniform random walks
(``samples="walks"``; edge types between two different node types fall back to edges).
Self-pairs are dropped. Initial points are uniform in ``[−init_scale, init_scale]^d``; the first
``burn_in`` epochs run at a tenth of the learning rates (Nickel & Kiela's burn-in).

Early stopping (HGCN's link-prediction protocol). ``fit(graph, validation=(pairs, labels))``
takes the ROC AUC of the score on held-out validation pairs after every epoch, stops after
``patience`` epochs without a better one (burn-in epochs are not candidates) and keeps the
points, curvatures and block weights of the best epoch (``best_epoch_``, ``validation_auc_``).

Curvature and scale. For a single block, points are free, so ``(κ, X)`` and ``(−1, √|κ| X)``
give distances that differ only by the factor ``1/√|κ|``: a learned curvature is the ratio of the
space's curvature radius to the loss's length scale (softmax temperature 1, Fermi–Dirac ``ρ``,
``τ``), which is why ``ρ`` and ``τ`` stay fixed (as HGCN) — learning them too would make a
learned ``κ < 0`` the same model as the Poincaré ball. ``"learned"`` starts at κ = −1 (CurvLearn's
stereographic setup) and is free to cross 0.

Speed. A step scores ``batch_size`` positives and all their negatives in one tensor expression
over all blocks (:class:`~vastgraph.geometry.block_ops.BlockGeometry`: per-block ``‖x‖²``,
``⟨x, y⟩`` by segment sums and the closed-form κ-stereographic distance, equal to geoopt's), on
the distinct rows of the batch only; the row-wise optimiser updates those rows in place.
On a shared CPU, ``num_threads=1`` is often several times faster than torch's default.

Optimisation. Points: row-wise Riemannian Adam (:class:`~vastgraph.geometry.optim.RowRiemannianAdam`)
or row-wise Riemannian SGD (:class:`~vastgraph.geometry.optim.RowRiemannianSGD`); curvatures and
projector: Adam at ``curvature_lr`` / ``projector_lr`` (default ``lr/10``, so the block weights
do not lock onto one block before the points have moved — a locked projector collapses a
product space to one of its blocks).

Numerics. Points are projected into the ball whenever a batch gathers them and on the whole table
after each epoch (margin ``boundary_eps`` of the radius, default geoopt's 4e-3 in float32 /
1e-5 in float64; float64 lets hyperbolic points go further out, which helps trees) — escaping
points are *recovered by projection*. Learned curvatures are clamped after every step into their
kind's range (``h`` in ``[−max_curvature, −min_curvature]``, ``s`` in ``[min_curvature,
max_curvature]``, ``k`` in ``[−max_curvature, max_curvature]``, no floor) — *recovered by clamping*; a
NaN/inf curvature, loss or point raises :class:`ValidationError` naming the block, epoch and step.

Cost: ``O(epochs · pairs · (negative + 1) · d)`` plus the projector MLP per scored pair.

Example:
    >>> from vastgraph.graph.builder import GraphBuilder
    >>> b = GraphBuilder(directed=False)
    >>> _ = b.add_edges([0, 0, 1, 1], [1, 2, 3, 4])
    >>> model = MixedCurvature(dimensions=6, manifold="mixed", epochs=2, random_state=0).fit(b.build())
    >>> model.embedding_.shape, len(model.curvatures_)
    ((5, 6), 3)
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from vastgraph.embed.base import Embedder
from vastgraph.embed.deepwalk import json_params, split_seeds
from vastgraph.validation import ProgressFn, check_float, check_int, check_progress
from vastgraph.embed.space_projector import AttentiveSpaceProjector, degree_features
from vastgraph.errors import EmptyInputError, SchemaError, ValidationError
from vastgraph.geometry.manifolds import ProductSpace, parse_manifold_spec
from vastgraph.geometry.block_ops import BlockGeometry
from vastgraph.geometry.optim import RowRiemannianAdam, RowRiemannianSGD, riemannian_optimizer

if TYPE_CHECKING:
    from vastgraph.graph.view import GraphView

SAMPLES = ("edges", "walks")
LOSSES = ("softmax", "fermi_dirac")
OPTIMIZERS = ("adam", "sgd")
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _training_pairs(graph: GraphView, samples: str, window: int, walks_per_node: int, walk_length: int,
                    seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Global ``(u, v, relation, weight or None)`` positives, self-pairs removed."""
    from vastgraph.sampling.walks import random_walks

    offs = graph.node_offsets()
    us, vs, rs, ws = [], [], [], []
    weighted = samples == "edges" and any(graph.has_weights(et) for et in graph.edge_types)
    for r, et in enumerate(graph.edge_types):
        if samples == "walks" and et.src == et.dst and graph.num_edges(et):
            walks = random_walks(graph, etype=et, walks_per_node=walks_per_node, walk_length=walk_length,
                                 random_state=seed + r).astype(np.int64)
            for o in range(1, min(window, walks.shape[1] - 1) + 1):
                a, b = walks[:, :-o].ravel(), walks[:, o:].ravel()
                keep = (a >= 0) & (b >= 0)
                a, b = a[keep] + offs[et.src], b[keep] + offs[et.dst]
                us += [a, b]
                vs += [b, a]
                rs += [np.full(2 * a.size, r, np.int64)]
            continue
        e = graph.coo(et)
        u = e.src + offs[et.src]
        v = e.dst + offs[et.dst]
        us.append(u)
        vs.append(v)
        rs.append(np.full(u.size, r, np.int64))
        if weighted:
            ws.append(np.ones(u.size) if e.weight is None else np.asarray(e.weight, np.float64))
    if not us:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), None
    u, v, rel = np.concatenate(us), np.concatenate(vs), np.concatenate(rs)
    keep = u != v
    w = np.concatenate(ws)[keep] if weighted else None
    if w is not None and (not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0):
        raise ValidationError("MixedCurvature: edge weights must be finite and >= 0 with a positive sum")
    return u[keep], v[keep], rel[keep], w


def _check_validation(validation: Any, n: int) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """``(pairs, labels)`` → ``(u, v, labels)`` with global ids checked against ``n`` nodes."""
    try:
        pairs, labels = validation
    except (TypeError, ValueError):
        raise ValidationError("validation: expected a (pairs, labels) tuple") from None
    pairs, labels = np.asarray(pairs), np.asarray(labels).ravel()
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.dtype.kind not in "iu":
        raise ValidationError(f"validation: pairs of shape {pairs.shape} and dtype {pairs.dtype}; expected (n, 2) "
                              "integer global node ids")
    if labels.shape[0] != pairs.shape[0] or not np.isin(labels, (0, 1)).all():
        raise ValidationError(f"validation: {labels.shape[0]} labels for {pairs.shape[0]} pairs; expected one 0/1 "
                              "label per pair")
    if len(np.unique(labels)) != 2:
        raise ValidationError("validation: labels need both classes (held-out edges and non-edges)")
    if pairs.size and (pairs.min() < 0 or pairs.max() >= n):
        raise ValidationError(f"validation: node ids out of range [0, {n}) (global node ids)")
    t = torch.from_numpy(pairs.astype(np.int64))
    return t[:, 0].contiguous(), t[:, 1].contiguous(), labels.astype(np.int64)


def _pair_dist2(geo: BlockGeometry, projector: AttentiveSpaceProjector, points: torch.Tensor, feats: torch.Tensor,
                u: torch.Tensor, v: torch.Tensor, rels: list[int]) -> torch.Tensor:
    """``−s(u, v, r)`` of pairs ``(n,)``: ``B Σ_b a_b d_b²`` with ``a`` averaged over ``rels``."""
    with torch.no_grad():
        fu, fv = feats[u], feats[v]
        w = sum(projector(torch.full_like(u, r), fu, fv) for r in rels) / len(rels)
        d2 = geo.dist2(points[u], points[v])
        return (w.to(d2.dtype) * d2).sum(-1) * d2.shape[-1]


def _validation_auc(geo: BlockGeometry, projector: AttentiveSpaceProjector, points: torch.Tensor,
                    feats: torch.Tensor, valid: tuple[torch.Tensor, torch.Tensor, np.ndarray], rels: list[int]) -> float:
    from sklearn.metrics import roc_auc_score

    d2 = _pair_dist2(geo, projector, points, feats, valid[0], valid[1], rels)
    return float(roc_auc_score(valid[2], -d2.double().numpy()))


def _snapshot(points: torch.Tensor, space: ProductSpace, projector: torch.nn.Module) -> tuple[Any, ...]:
    return (points.detach().clone(), [m.k.detach().clone() for m in space.manifolds],
            {k: v.detach().clone() for k, v in projector.state_dict().items()})


def _restore(snap: tuple[Any, ...], points: torch.Tensor, space: ProductSpace, projector: torch.nn.Module) -> None:
    with torch.no_grad():
        points.copy_(snap[0])
        for m, k in zip(space.manifolds, snap[1]):
            m.k.copy_(k)
    projector.load_state_dict(snap[2])


class _NegativeSampler:
    """Per node type ``degree^power`` noise over global ids, drawn by inverse CDF (vectorised)."""

    def __init__(self, graph: GraphView, degree: np.ndarray, power: float = 0.75) -> None:
        offs = graph.node_offsets()
        self.tables = []
        for t in graph.node_types:
            a, n = offs[t], graph.num_nodes(t)
            p = np.power(degree[a:a + n], power) if power else np.ones(n)
            p = np.ones(n) if p.sum() <= 0 else p
            self.tables.append((a, np.cumsum(p) / p.sum()))
        self.type_of = {t: i for i, t in enumerate(graph.node_types)}

    def draw(self, rng: np.random.Generator, dst_type: np.ndarray, k: int) -> np.ndarray:
        out = np.empty((dst_type.size, k), np.int64)
        for t in np.unique(dst_type):
            sel = np.flatnonzero(dst_type == t)
            a, cdf = self.tables[t]
            idx = np.searchsorted(cdf, rng.random((sel.size, k)), side="right")
            out[sel] = np.minimum(idx, cdf.size - 1) + a
        return out


class MixedCurvature(Embedder):
    """AMCAD mixed-curvature node embeddings (product of learned-curvature spaces, attentive block weights).

    Args:
        dimensions: total dimension ``d``. Default 48.
        manifold: ``"mixed"`` (H×S×E thirds: two ``k`` blocks learned from −1 and +1, free to
            cross 0, and a flat block), ``"euclidean"``, ``"poincare"``,
            ``"sphere"``, ``"learned"`` or an explicit ``"h16,s16,e16"`` spec (see
            :func:`parse_manifold_spec`). Default "mixed".
        negative: negatives per positive pair. Default 10.
        negative_power: negatives are drawn from the destination's node type with probability
            ∝ degree^negative_power (0: uniform, as Nickel & Kiela). Default 0.75.
        epochs: passes over the positive pairs (burn-in included). Default 10.
        batch_size: positive pairs per step (all their negatives are scored in the same tensor
            ops). Default 8192.
        lr: learning rate of points and projector. Default 0.05.
        curvature_lr: learning rate of the curvatures. Default 0.005.
        projector_lr: learning rate of the space projector (Adam); default ``lr / 10``, so block
            weights adapt slower than the points and do not lock onto one block early.
        loss: ``"softmax"`` (Nickel & Kiela: cross-entropy of the positive against its negatives
            on ``−d_a(u, v)``) or ``"fermi_dirac"`` (binary cross-entropy of
            ``σ((ρ − Σ_b a_b d_b²)/τ)``). Default "softmax".
        optimizer: ``"adam"`` (row-wise Riemannian Adam) or ``"sgd"`` (row-wise Riemannian SGD,
            as Nickel & Kiela). Default "adam".
        burn_in: first epochs run at ``lr / 10`` (Nickel & Kiela's burn-in); counted in ``epochs``.
            Default 0.
        samples: ``"edges"`` or ``"walks"``. Default "edges".
        window: skip-gram window for ``samples="walks"``. Default 3.
        walks_per_node: walks per node for ``samples="walks"``. Default 5.
        walk_length: walk length for ``samples="walks"``. Default 20.
        relation_aware: attentive block weights (True) or uniform ``1/B`` (False). Default True.
        hidden: hidden width of the projector MLP. Default 32.
        init_scale: initial points are uniform in ``[−init_scale, init_scale]^d``, projected. Default 1e-3.
        boundary_eps: projection margin relative to the ball radius; default geoopt's per dtype.
        min_curvature: smallest ``|κ|`` a learned h/s curvature may take (clamped; keeps the
            block's sign). Default 1e-2.
        max_curvature: largest ``|κ|`` a learned curvature may take (clamped). Default 100.
        fd_radius: Fermi–Dirac radius ``ρ``. Default 2.0.
        fd_temperature: Fermi–Dirac temperature ``τ``. Default 1.0 (HGCN's ``r = 2``, ``t = 1``).
        patience: with ``fit(..., validation=)``, stop after this many epochs without a better
            validation AUC (and keep the best epoch's state). Default 20.
        dtype: ``"float32"`` or ``"float64"``. Default "float32".
        num_threads: torch intra-op threads during ``fit`` (restored afterwards); None keeps
            torch's setting. Default None.
        random_state: None, an int or a ``numpy.random.Generator``. Default None.
        progress: optional ``progress(done_fraction, mean_loss)`` after each epoch. Default None.

    Attributes:
        embedding_: float32 ``(N, d)`` points in global node-id order.
        keyed_: :class:`~vastgraph.embed.manifold_keyed.ManifoldKeyedEmbeddings` (geodesic search).
        manifold_: the trained :class:`ProductSpace`.
        curvatures_: learned curvature per block (list of float).
        curvature_history_: ``(epochs + 1, B)`` curvatures at start and after each epoch.
        losses_: mean loss per epoch.
        projector_: the trained :class:`AttentiveSpaceProjector`.
        relations_: edge types in relation-id order.
        pairs_per_second_: positive pairs trained per second (each with ``negative`` negatives).
        validation_auc_: validation ROC AUC per epoch (empty without ``validation``).
        best_epoch_: epoch whose state was kept (the last one without ``validation``).
    """

    def __init__(self, dimensions: int = 48, manifold: Any = "mixed", negative: int = 10, negative_power: float = 0.75, epochs: int = 10,
                 batch_size: int = 8192, lr: float = 0.05, curvature_lr: float = 0.005,
                 projector_lr: float | None = None, loss: str = "softmax",
                 optimizer: str = "adam", burn_in: int = 0, samples: str = "edges", window: int = 3,
                 walks_per_node: int = 5, walk_length: int = 20, relation_aware: bool = True, hidden: int = 32,
                 init_scale: float = 1e-3, boundary_eps: float | None = None, min_curvature: float = 1e-2,
                 max_curvature: float = 100.0, fd_radius: float = 2.0, fd_temperature: float = 1.0,
                 patience: int = 20, dtype: str = "float32", num_threads: int | None = None,
                 random_state: Any = None, progress: ProgressFn | None = None) -> None:
        self.dimensions = dimensions
        self.manifold = manifold
        self.negative = negative
        self.negative_power = negative_power
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.curvature_lr = curvature_lr
        self.projector_lr = projector_lr
        self.loss = loss
        self.optimizer = optimizer
        self.burn_in = burn_in
        self.samples = samples
        self.window = window
        self.walks_per_node = walks_per_node
        self.walk_length = walk_length
        self.relation_aware = relation_aware
        self.hidden = hidden
        self.init_scale = init_scale
        self.boundary_eps = boundary_eps
        self.min_curvature = min_curvature
        self.max_curvature = max_curvature
        self.fd_radius = fd_radius
        self.fd_temperature = fd_temperature
        self.patience = patience
        self.dtype = dtype
        self.num_threads = num_threads
        self.random_state = random_state
        self.progress = progress

    # ------------------------------------------------------------------ fit
    def _check(self) -> dict[str, Any]:
        d = check_int("dimensions", self.dimensions, 1)
        for name, value, valid in (("samples", self.samples, SAMPLES), ("dtype", self.dtype, tuple(DTYPES)),
                                   ("loss", self.loss, LOSSES), ("optimizer", self.optimizer, OPTIMIZERS)):
            if value not in valid:
                raise ValidationError(f"{name}={value!r}: expected one of {', '.join(valid)}")
        if not isinstance(self.relation_aware, (bool, np.bool_)):
            raise ValidationError(f"relation_aware={self.relation_aware!r}: expected True or False")
        if self.boundary_eps is not None:
            check_float("boundary_eps", self.boundary_eps, high=0.5)
        epochs = check_int("epochs", self.epochs, 1)
        burn_in = check_int("burn_in", self.burn_in, 0)
        if burn_in >= epochs:
            raise ValidationError(f"burn_in={burn_in}: expected fewer than epochs={epochs}")
        min_c = check_float("min_curvature", self.min_curvature, high=1.0)
        return dict(
            blocks=parse_manifold_spec(self.manifold, d), negative=check_int("negative", self.negative, 0),
            negative_power=check_float("negative_power", self.negative_power, low=0.0, low_open=False, high=1.0),
            epochs=epochs, burn_in=burn_in, batch_size=check_int("batch_size", self.batch_size, 1),
            lr=check_float("lr", self.lr),
            projector_lr=check_float("projector_lr", self.lr * 0.1 if self.projector_lr is None else self.projector_lr),
            curvature_lr=check_float("curvature_lr", self.curvature_lr),
            window=check_int("window", self.window, 1), walks_per_node=check_int("walks_per_node", self.walks_per_node, 1),
            walk_length=check_int("walk_length", self.walk_length, 1), hidden=check_int("hidden", self.hidden, 1),
            init_scale=check_float("init_scale", self.init_scale), min_curvature=min_c,
            max_curvature=check_float("max_curvature", self.max_curvature, low=min_c),
            radius=check_float("fd_radius", self.fd_radius, low=0.0, low_open=False),
            temperature=check_float("fd_temperature", self.fd_temperature),
            patience=check_int("patience", self.patience, 1), progress=check_progress(self.progress))

    def fit(self, graph: GraphView, validation: Any = None, etype: Any = None) -> "MixedCurvature":
        """Train on the edges (or walk pairs) of every edge type of ``graph``; returns ``self``.

        Args:
            graph: the training graph.
            validation: optional ``(pairs, labels)``: ``(n, 2)`` global node ids and 0/1 labels
                (held-out edges and as many non-edges, e.g. from
                :func:`~vastgraph.train.link_prediction.split_edges` with ``valid_fraction``). The
                ROC AUC of :meth:`score` on them is taken after every epoch (``validation_auc_``);
                training stops after ``patience`` epochs without a better one, and the state
                (points, curvatures, block weights) of the best epoch is kept (HGCN's protocol).
            etype: relation of the validation pairs (as in :meth:`score`). Default None.
        """
        cfg = self._check()
        threads = None if self.num_threads is None else check_int("num_threads", self.num_threads, 1)
        valid = None if validation is None else _check_validation(validation, graph.num_nodes_total())
        old = torch.get_num_threads()
        try:
            if threads is not None:
                torch.set_num_threads(threads)
            return self._fit(graph, cfg, valid, etype)
        finally:
            torch.set_num_threads(old)

    def _fit(self, graph: GraphView, cfg: dict[str, Any], valid: Any, etype: Any) -> "MixedCurvature":
        from vastgraph.embed.manifold_keyed import ManifoldKeyedEmbeddings

        dtype = DTYPES[self.dtype]
        seeds = split_seeds(self.random_state, 3)
        rng = np.random.default_rng(seeds[0])
        gen = torch.Generator().manual_seed(seeds[1] % (2**63))
        n = graph.num_nodes_total()
        if n == 0:
            raise EmptyInputError("MixedCurvature: the graph has no nodes")
        u_all, v_all, rel_all, w_all = _training_pairs(graph, self.samples, cfg["window"], cfg["walks_per_node"],
                                                       cfg["walk_length"], seeds[2] % (2**62))
        if u_all.size == 0:
            raise EmptyInputError("MixedCurvature: the graph has no edges (other than self-loops) to train on")
        relations = list(graph.edge_types)
        self.relations_ = relations
        valid_rels = None if valid is None else self._relations_of(etype)
        node_type_idx = {t: i for i, t in enumerate(graph.node_types)}
        dst_type_of_rel = np.array([node_type_idx[et.dst] for et in relations], np.int64)
        feats_np = degree_features(graph)
        degree = np.bincount(u_all, minlength=n) + np.bincount(v_all, minlength=n)
        sampler = _NegativeSampler(graph, degree.astype(np.float64), cfg["negative_power"])

        space = ProductSpace(cfg["blocks"], learnable=True, dtype=dtype, eps=self.boundary_eps)
        geo = BlockGeometry(space)
        projector = AttentiveSpaceProjector(len(relations), space.n_blocks, n_features=feats_np.shape[1],
                                            hidden=cfg["hidden"], relation_aware=bool(self.relation_aware),
                                            generator=gen, dtype=dtype)
        init = (torch.rand(n, space.dim, generator=gen, dtype=dtype) * 2 - 1) * cfg["init_scale"]
        points = geo.proj(init).detach()
        feats = torch.from_numpy(feats_np).to(dtype)
        opt_cls = RowRiemannianAdam if self.optimizer == "adam" else RowRiemannianSGD
        point_opt = opt_cls(points, space, lr=cfg["lr"])
        holder = torch.nn.ModuleList([space, projector])
        other_opt = (riemannian_optimizer(holder, kind="adam", lr=cfg["lr"], curvature_lr=cfg["curvature_lr"])
                     if any(p.requires_grad for p in holder.parameters()) else None)
        if other_opt is not None and projector.active:  # the projector's group is the last (Euclidean) one
            other_opt.param_groups[-1]["lr"] = cfg["projector_lr"]
        base_lrs = [] if other_opt is None else [g["lr"] for g in other_opt.param_groups]

        n_pairs, k, bs = u_all.size, cfg["negative"], cfg["batch_size"]
        loss_args = (self.loss, cfg["radius"], cfg["temperature"])
        probs = None if w_all is None else w_all / w_all.sum()
        u_t, v_t, r_t = torch.from_numpy(u_all), torch.from_numpy(v_all), torch.from_numpy(rel_all)
        losses, history, val_aucs = [], [space.curvatures()], []
        best: tuple[float, int, Any] | None = None
        trained, t0 = 0, time.perf_counter()
        for epoch in range(cfg["epochs"]):
            scale = 0.1 if epoch < cfg["burn_in"] else 1.0
            point_opt.lr = cfg["lr"] * scale
            if other_opt is not None:
                for g, base in zip(other_opt.param_groups, base_lrs):
                    g["lr"] = base * scale
            order = rng.permutation(n_pairs) if probs is None else rng.choice(n_pairs, n_pairs, p=probs)
            total, steps = 0.0, 0
            for step, a in enumerate(range(0, n_pairs, bs)):
                sel = order[a:a + bs]
                r_np = rel_all[sel]
                neg = sampler.draw(rng, dst_type_of_rel[r_np], k) if k else np.zeros((sel.size, 0), np.int64)
                sel_t = torch.from_numpy(sel)
                rows, leaf, loss = self._loss(geo, projector, points, feats, u_t[sel_t], v_t[sel_t],
                                              torch.from_numpy(neg), r_t[sel_t], *loss_args)
                if not torch.isfinite(loss):
                    raise ValidationError(f"MixedCurvature: loss became {float(loss.detach())} at epoch {epoch}, step {step}; "
                                          f"lower lr={self.lr} / curvature_lr={self.curvature_lr} or use "
                                          "dtype='float64'")
                if other_opt is not None:
                    other_opt.zero_grad()
                loss.backward()
                point_opt.step(rows, leaf.grad)
                if other_opt is not None:
                    other_opt.step()
                    space.check_curvatures(f"epoch {epoch}, step {step}")
                    space.clamp_curvatures_(cfg["min_curvature"], cfg["max_curvature"])
                total += float(loss.detach())
                steps += 1
                trained += sel.size
            with torch.no_grad():
                points.copy_(geo.proj(points))
            if not torch.isfinite(points).all():
                bad = int(torch.nonzero(~torch.isfinite(points).all(1))[0, 0])
                raise ValidationError(f"MixedCurvature: point of node {bad} became NaN/inf in epoch {epoch}; lower "
                                      f"lr={self.lr} or use dtype='float64'")
            losses.append(total / max(steps, 1))
            history.append(space.curvatures())
            if cfg["progress"] is not None:
                cfg["progress"]((epoch + 1) / cfg["epochs"], losses[-1])
            if valid is not None:
                val_aucs.append(_validation_auc(geo, projector, points, feats, valid, valid_rels))
                if epoch < cfg["burn_in"]:  # burn-in epochs are never the kept state
                    continue
                if best is None or val_aucs[-1] > best[0]:
                    best = (val_aucs[-1], epoch, _snapshot(points, space, projector))
                elif epoch - best[1] >= cfg["patience"]:
                    break
        elapsed = time.perf_counter() - t0
        self.best_epoch_ = len(losses) - 1
        if best is not None:
            _restore(best[2], points, space, projector)
            self.best_epoch_ = best[1]
        self.validation_auc_ = np.asarray(val_aucs, dtype=np.float64)

        vectors = points.detach().to(torch.float32).numpy().copy()
        meta = {"method": "MixedCurvature", "params": json_params(self.get_params()),
                "curvatures": space.curvatures()}
        self.keyed_ = ManifoldKeyedEmbeddings.from_graph(graph, vectors, meta, copy=False, space=space)
        self.embedding_ = self.keyed_.vectors
        self.manifold_ = space
        self.curvatures_ = space.curvatures()
        self.curvature_history_ = np.asarray(history, dtype=np.float64)
        self.losses_ = np.asarray(losses, dtype=np.float64)
        self.projector_ = projector
        self.relations_ = relations
        self.pairs_per_second_ = trained / elapsed if elapsed > 0 else math.inf
        self._points = points.detach()
        self._features = feats
        self._geometry = geo
        return self

    @staticmethod
    def _loss(geo: BlockGeometry, projector: AttentiveSpaceProjector, points: torch.Tensor, feats: torch.Tensor,
              u: torch.Tensor, v: torch.Tensor, neg: torch.Tensor, r: torch.Tensor, loss: str, radius: float,
              temp: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Loss of a batch (see the module docstring); all blocks, pairs and negatives in one expression.

        Returns ``(distinct rows, their gathered leaf tensor (gradient after backward), loss)``."""
        b, kk = u.shape[0], neg.shape[1]
        uniq, inv = torch.unique(torch.cat([u, v, neg.reshape(-1)]), return_inverse=True)
        kappa = geo.kappa(points.dtype)
        with torch.no_grad():  # rows that moved under an older curvature go back into the ball
            leaf = geo.proj(points[uniq], kappa.detach())
        leaf.requires_grad_()
        x = leaf.index_select(0, inv)
        n2 = geo.sums(leaf * leaf).index_select(0, inv)  # per-block squared norms of every gathered row
        xu, xo = x[:b], x[b:].reshape(kk + 1, b, -1).transpose(0, 1)  # (b, d), (b, 1 + kk, d): v then negatives
        n2u, n2o = n2[:b, None, :], n2[b:].reshape(kk + 1, b, -1).transpose(0, 1)
        d2 = geo.dist2_from_sums(n2u, n2o, geo.inner_pairs(xu, xo), kappa)  # (b, 1 + kk, B)
        if projector.active:
            other = torch.cat([v[:, None], neg], 1)
            w = projector(r[:, None].expand(-1, kk + 1), feats[u][:, None, :].expand(-1, kk + 1, -1), feats[other])
            dist2 = (w * d2).sum(-1) * w.shape[-1]
        else:
            dist2 = d2.sum(-1)
        if loss == "softmax":
            logits = -(dist2 + 1e-10).sqrt()
            value = torch.logsumexp(logits, 1) - logits[:, 0]
        else:
            value = F.softplus((dist2[:, 0] - radius) / temp) + F.softplus((radius - dist2[:, 1:]) / temp).sum(-1)
        return uniq, leaf, value.mean()

    # ------------------------------------------------------------------ scoring
    def _relation(self, etype: Any) -> int | None:
        if etype is None:
            return 0 if len(self.relations_) == 1 else None
        for i, et in enumerate(self.relations_):
            if etype == et or (isinstance(etype, (tuple, list)) and tuple(etype) == tuple(et)):
                return i
        named = [i for i, et in enumerate(self.relations_) if isinstance(etype, str) and et.rel == etype]
        if len(named) == 1:
            return named[0]
        raise SchemaError(f"etype={etype!r}: not an edge type of the training graph; known: "
                          f"{', '.join(str(tuple(et)) for et in self.relations_)}")

    def _relations_of(self, etype: Any) -> list[int]:
        rel = self._relation(etype)
        return list(range(len(self.relations_))) if rel is None else [rel]

    def _ids(self, name: str, ids: Any) -> torch.Tensor:
        arr = np.atleast_1d(np.asarray(ids))
        if arr.dtype.kind not in "iu":
            raise ValidationError(f"{name}: dtype {arr.dtype}; expected integer global node ids")
        n = self._points.shape[0]
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise ValidationError(f"{name}: ids out of range [0, {n}) (global node ids)")
        return torch.from_numpy(arr.astype(np.int64).ravel())

    def block_weights(self, u: Any, v: Any, etype: Any = None) -> np.ndarray:
        """Projector weights ``a(u, v, r)`` ``(n, B)``; with ``etype=None`` on several edge types, the
        mean over all relations."""
        self.check_is_fitted()
        tu, tv = self._ids("u", u), self._ids("v", v)
        if tu.shape != tv.shape:
            raise ValidationError(f"u and v: {tu.numel()} and {tv.numel()} ids; expected the same number")
        rels = self._relations_of(etype)
        with torch.no_grad():
            fu, fv = self._features[tu], self._features[tv]
            w = sum(self.projector_(torch.full_like(tu, r), fu, fv) for r in rels) / len(rels)
        return w.double().numpy()

    def score(self, u: Any, v: Any, etype: Any = None) -> np.ndarray:
        """AMCAD score ``s(u, v, r) = −B Σ_b a_b d_b²`` of global id pairs (higher is closer), ``(n,)``.

        ``etype`` selects the relation (an edge type, or a relation name that is unique); None
        means the only edge type, or block weights averaged over all of them.
        """
        w = self.block_weights(u, v, etype)
        with torch.no_grad():
            tu, tv = self._ids("u", u), self._ids("v", v)
            d2 = self._geometry.dist2(self._points[tu], self._points[tv]).double().numpy()
        return -(w * d2).sum(-1) * w.shape[-1]

    def distance(self, u: Any, v: Any) -> np.ndarray:
        """Product geodesic distance ``sqrt(Σ_b d_b²)`` between global id pairs, ``(n,)``."""
        self.check_is_fitted()
        tu, tv = self._ids("u", u), self._ids("v", v)
        if tu.shape != tv.shape:
            raise ValidationError(f"u and v: {tu.numel()} and {tv.numel()} ids; expected the same number")
        with torch.no_grad():
            d2 = self._geometry.dist2(self._points[tu], self._points[tv])
            return d2.sum(-1).clamp_min(0.0).sqrt().double().numpy()
