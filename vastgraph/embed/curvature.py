"""MixedCurvature: node embeddings in a product of constant-curvature spaces with learned curvatures (AMCAD).

Papers: Xu et al., *AMCAD: Adaptive Mixed-Curvature Representation based Advertisement Retrieval
System*, ICDE 2022, and its framework alibaba/CurvLearn; Gu et al., *Learning Mixed-Curvature
Representations in Product Spaces*, ICLR 2019; Nickel & Kiela, *Poincaré Embeddings*, NeurIPS 2017.

Model. Every node ``u`` is a point ``x_u`` of ``M = M_{κ_1} × … × M_{κ_B}`` (κ-stereographic
blocks, :mod:`vastgraph.geometry.manifolds`; spec from :func:`parse_manifold_spec`, e.g.
H¹⁶×S¹⁶×E¹⁶ for ``manifold="mixed", dimensions=48``). A pair ``(u, v)`` of relation ``r`` (one
relation per edge type) has the AMCAD score

    s(u, v, r) = −Σ_b a_b(u, v, r) · d_{κ_b}(x_u^b, x_v^b)²,

with block weights ``a`` from the attentive space projector
(:class:`~vastgraph.embed.space_projector.AttentiveSpaceProjector`: softmax over blocks of an
MLP of the relation embedding and the log-degrees of ``u`` and ``v``; uniform ``1/B`` when
``relation_aware=False``).

Loss. Fermi–Dirac decoder as in CurvLearn / HGCN: ``p(u, v, r) = σ((ρ + s(u, v, r))/τ)``
(``ρ = fd_radius``, ``τ = fd_temperature``), trained by binary cross-entropy with ``negative``
corrupted destinations per positive:

    L = softplus(−(ρ + s(u, v, r))/τ) + Σ_n softplus((ρ + s(u, n, r))/τ),

negatives ``n`` drawn from the destination's node type with probability ∝ degree^0.75.
Positives are the stored edge entries of every edge type (``samples="edges"``; drawn ∝ weight
when the graph is weighted), or skip-gram pairs within ``window`` on uniform random walks
(``samples="walks"``; edge types between two different node types fall back to edges).
Self-pairs are dropped.

Optimisation. Points: row-wise Riemannian Adam (:class:`~vastgraph.geometry.optim.RowRiemannianAdam`,
geoopt's sparse update on the rows of the batch only);
curvatures and projector: Riemannian Adam's Euclidean rule (Adam) at ``curvature_lr`` / ``lr``.

Numerics. Points are projected into the ball in every forward pass and on the whole table
after each epoch (margin ``boundary_eps`` of the radius, default geoopt's 4e-3 in float32 /
1e-5 in float64) — escaping points are *recovered by projection*. Learned curvatures are
clamped after every step into their kind's range (``h`` in ``[−max_curvature, −1e-4]``, ``s`` in
``[1e-4, max_curvature]``, ``k`` in ``[−max_curvature, max_curvature]``) — *recovered by
clamping*; a NaN/inf curvature, loss or point raises :class:`ValidationError` naming the block,
epoch and step. ``dtype="float64"`` trains in double precision (safer near the boundary).

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
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from vastgraph.embed.base import Embedder
from vastgraph.embed.deepwalk import json_params, split_seeds
from vastgraph.embed.sgns import ProgressFn, check_float, check_int, check_progress
from vastgraph.embed.space_projector import AttentiveSpaceProjector, degree_features
from vastgraph.errors import EmptyInputError, SchemaError, ValidationError
from vastgraph.geometry.manifolds import ProductSpace, parse_manifold_spec
from vastgraph.geometry.optim import RowRiemannianAdam, riemannian_optimizer

SAMPLES = ("edges", "walks")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
MIN_CURVATURE = 1e-4


def _training_pairs(graph: Any, samples: str, window: int, walks_per_node: int, walk_length: int,
                    seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Global ``(u, v, relation, weight or None)`` positives, self-pairs removed."""
    from vastgraph.sampling.walks import random_walks

    offs = graph.node_offsets()
    us, vs, rs, ws = [], [], [], []
    weighted = samples == "edges" and any(graph.adjacency(et).weight is not None for et in graph.edge_types)
    for r, et in enumerate(graph.edge_types):
        adj = graph.adjacency(et)
        if samples == "walks" and et.src == et.dst and adj.nnz:
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
        u = np.repeat(np.arange(adj.n_rows, dtype=np.int64), adj.degree()) + offs[et.src]
        v = np.asarray(adj.indices).astype(np.int64) + offs[et.dst]
        us.append(u)
        vs.append(v)
        rs.append(np.full(u.size, r, np.int64))
        if weighted:
            ws.append(np.ones(u.size) if adj.weight is None else np.asarray(adj.weight, np.float64))
    if not us:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), None
    u, v, rel = np.concatenate(us), np.concatenate(vs), np.concatenate(rs)
    keep = u != v
    w = np.concatenate(ws)[keep] if weighted else None
    if w is not None and (not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0):
        raise ValidationError("MixedCurvature: edge weights must be finite and >= 0 with a positive sum")
    return u[keep], v[keep], rel[keep], w


class _NegativeSampler:
    """Per node type ``degree^0.75`` noise over global ids, drawn by inverse CDF (vectorised)."""

    def __init__(self, graph: Any, degree: np.ndarray) -> None:
        offs = graph.node_offsets()
        self.tables = []
        for t in graph.node_types:
            a, n = offs[t], graph.num_nodes(t)
            p = np.power(degree[a:a + n], 0.75)
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
        manifold: ``"mixed"`` (H×S×E thirds, learned curvatures), ``"euclidean"``, ``"poincare"``,
            ``"sphere"``, ``"learned"`` or an explicit ``"h16,s16,e16"`` spec (see
            :func:`parse_manifold_spec`). Default "mixed".
        negative: negatives per positive pair. Default 5.
        epochs: passes over the positive pairs. Default 10.
        batch_size: positive pairs per step. Default 1024.
        lr: learning rate of points and projector (Riemannian Adam). Default 0.01.
        curvature_lr: learning rate of the curvatures. Default 0.005.
        samples: ``"edges"`` or ``"walks"``. Default "edges".
        window: skip-gram window for ``samples="walks"``. Default 3.
        walks_per_node: walks per node for ``samples="walks"``. Default 5.
        walk_length: walk length for ``samples="walks"``. Default 20.
        relation_aware: attentive block weights (True) or uniform ``1/B`` (False). Default True.
        hidden: hidden width of the projector MLP. Default 32.
        init_scale: std of the initial tangent vectors at the origin. Default 1e-3.
        boundary_eps: projection margin relative to the ball radius; default geoopt's per dtype.
        max_curvature: largest ``|κ|`` a learned curvature may take (clamped). Default 100.
        fd_radius: Fermi–Dirac radius ``ρ``. Default 2.0.
        fd_temperature: Fermi–Dirac temperature ``τ``. Default 1.0.
        dtype: ``"float32"`` or ``"float64"``. Default "float32".
        num_threads: torch intra-op threads during ``fit`` (restored afterwards); None keeps
            torch's setting. Small batches on a busy machine run far faster with 1. Default None.
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
    """

    def __init__(self, dimensions: int = 48, manifold: Any = "mixed", negative: int = 5, epochs: int = 10,
                 batch_size: int = 1024, lr: float = 0.01, curvature_lr: float = 0.005, samples: str = "edges",
                 window: int = 3, walks_per_node: int = 5, walk_length: int = 20, relation_aware: bool = True,
                 hidden: int = 32, init_scale: float = 1e-3, boundary_eps: float | None = None,
                 max_curvature: float = 100.0, fd_radius: float = 2.0, fd_temperature: float = 1.0,
                 dtype: str = "float32", num_threads: int | None = None, random_state: Any = None,
                 progress: ProgressFn | None = None) -> None:
        self.dimensions = dimensions
        self.manifold = manifold
        self.negative = negative
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.curvature_lr = curvature_lr
        self.samples = samples
        self.window = window
        self.walks_per_node = walks_per_node
        self.walk_length = walk_length
        self.relation_aware = relation_aware
        self.hidden = hidden
        self.init_scale = init_scale
        self.boundary_eps = boundary_eps
        self.max_curvature = max_curvature
        self.fd_radius = fd_radius
        self.fd_temperature = fd_temperature
        self.dtype = dtype
        self.num_threads = num_threads
        self.random_state = random_state
        self.progress = progress

    # ------------------------------------------------------------------ fit
    def _check(self) -> dict[str, Any]:
        d = check_int("dimensions", self.dimensions, 1)
        if self.samples not in SAMPLES:
            raise ValidationError(f"samples={self.samples!r}: expected one of {', '.join(SAMPLES)}")
        if self.dtype not in DTYPES:
            raise ValidationError(f"dtype={self.dtype!r}: expected one of {', '.join(DTYPES)}")
        if not isinstance(self.relation_aware, (bool, np.bool_)):
            raise ValidationError(f"relation_aware={self.relation_aware!r}: expected True or False")
        if self.boundary_eps is not None:
            check_float("boundary_eps", self.boundary_eps, high=0.5)
        return dict(
            blocks=parse_manifold_spec(self.manifold, d), negative=check_int("negative", self.negative, 0),
            epochs=check_int("epochs", self.epochs, 1), batch_size=check_int("batch_size", self.batch_size, 1),
            lr=check_float("lr", self.lr), curvature_lr=check_float("curvature_lr", self.curvature_lr),
            window=check_int("window", self.window, 1), walks_per_node=check_int("walks_per_node", self.walks_per_node, 1),
            walk_length=check_int("walk_length", self.walk_length, 1), hidden=check_int("hidden", self.hidden, 1),
            init_scale=check_float("init_scale", self.init_scale),
            max_curvature=check_float("max_curvature", self.max_curvature, low=MIN_CURVATURE),
            radius=check_float("fd_radius", self.fd_radius, low=0.0, low_open=False),
            temperature=check_float("fd_temperature", self.fd_temperature),
            progress=check_progress(self.progress))

    def fit(self, graph: Any) -> "MixedCurvature":
        """Train on the edges (or walk pairs) of every edge type of ``graph``; returns ``self``."""
        cfg = self._check()
        threads = None if self.num_threads is None else check_int("num_threads", self.num_threads, 1)
        old = torch.get_num_threads()
        try:
            if threads is not None:
                torch.set_num_threads(threads)
            return self._fit(graph, cfg)
        finally:
            torch.set_num_threads(old)

    def _fit(self, graph: Any, cfg: dict[str, Any]) -> "MixedCurvature":
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
        node_type_idx = {t: i for i, t in enumerate(graph.node_types)}
        dst_type_of_rel = np.array([node_type_idx[et.dst] for et in relations], np.int64)
        feats_np = degree_features(graph)
        degree = np.bincount(u_all, minlength=n) + np.bincount(v_all, minlength=n)
        sampler = _NegativeSampler(graph, degree.astype(np.float64))

        space = ProductSpace(cfg["blocks"], learnable=True, dtype=dtype, eps=self.boundary_eps)
        projector = AttentiveSpaceProjector(len(relations), space.n_blocks, n_features=feats_np.shape[1],
                                            hidden=cfg["hidden"], relation_aware=bool(self.relation_aware),
                                            generator=gen, dtype=dtype)
        points = space.random_points(n, scale=cfg["init_scale"], generator=gen).detach()
        feats = torch.from_numpy(feats_np).to(dtype)
        point_opt = RowRiemannianAdam(points, space, lr=cfg["lr"])
        holder = torch.nn.ModuleList([space, projector])
        other_opt = (riemannian_optimizer(holder, kind="adam", lr=cfg["lr"], curvature_lr=cfg["curvature_lr"])
                     if any(p.requires_grad for p in holder.parameters()) else None)

        n_pairs, k, bs = u_all.size, cfg["negative"], cfg["batch_size"]
        radius, temp = cfg["radius"], cfg["temperature"]
        probs = None if w_all is None else w_all / w_all.sum()
        losses, history = [], [space.curvatures()]
        trained, t0 = 0, time.perf_counter()
        for epoch in range(cfg["epochs"]):
            order = rng.permutation(n_pairs) if probs is None else rng.choice(n_pairs, n_pairs, p=probs)
            total, steps = 0.0, 0
            for step, a in enumerate(range(0, n_pairs, bs)):
                sel = order[a:a + bs]
                u, v, r = u_all[sel], v_all[sel], rel_all[sel]
                neg = sampler.draw(rng, dst_type_of_rel[r], k) if k else np.zeros((sel.size, 0), np.int64)
                rows, leaf, loss = self._loss(space, projector, points, feats, torch.from_numpy(u),
                                              torch.from_numpy(v), torch.from_numpy(neg), torch.from_numpy(r),
                                              radius, temp)
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
                space.clamp_curvatures_(MIN_CURVATURE, cfg["max_curvature"])
                total += float(loss.detach())
                steps += 1
                trained += sel.size
            with torch.no_grad():
                points.copy_(space.proj(points))
            if not torch.isfinite(points).all():
                bad = int(torch.nonzero(~torch.isfinite(points).all(1))[0, 0])
                raise ValidationError(f"MixedCurvature: point of node {bad} became NaN/inf in epoch {epoch}; lower "
                                      f"lr={self.lr} or use dtype='float64'")
            losses.append(total / max(steps, 1))
            history.append(space.curvatures())
            if cfg["progress"] is not None:
                cfg["progress"]((epoch + 1) / cfg["epochs"], losses[-1])
        elapsed = time.perf_counter() - t0

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
        return self

    @staticmethod
    def _loss(space: ProductSpace, projector: AttentiveSpaceProjector, points: torch.Tensor, feats: torch.Tensor,
              u: torch.Tensor, v: torch.Tensor, neg: torch.Tensor, r: torch.Tensor, radius: float,
              temp: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Fermi–Dirac binary cross-entropy of a batch (see the module docstring).

        Returns ``(distinct rows, their gathered leaf tensor (gradient after backward), loss)``."""
        uniq, inv = torch.unique(torch.cat([u, v, neg.reshape(-1)]), return_inverse=True)
        leaf = points[uniq].requires_grad_()
        x = space.proj(leaf)
        b = u.shape[0]
        xu, xv = x[inv[:b]], x[inv[b:2 * b]]
        fu, fv = feats[u], feats[v]
        pos = (projector(r, fu, fv) * space.block_dist2(xu, xv)).sum(-1)
        loss = F.softplus((pos - radius) / temp)
        if neg.shape[1]:
            kk = neg.shape[1]
            xn = x[inv[2 * b:]].reshape(b, kk, -1)
            a_n = projector(r[:, None].expand(-1, kk), fu[:, None, :].expand(-1, kk, -1), feats[neg])
            d_n = (a_n * space.block_dist2(xu[:, None, :], xn)).sum(-1)
            loss = loss + F.softplus((radius - d_n) / temp).sum(-1)
        return uniq, leaf, loss.mean()

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
        rel = self._relation(etype)
        rels = range(len(self.relations_)) if rel is None else [rel]
        with torch.no_grad():
            fu, fv = self._features[tu], self._features[tv]
            w = sum(self.projector_(torch.full_like(tu, r), fu, fv) for r in rels) / len(rels)
        return w.double().numpy()

    def score(self, u: Any, v: Any, etype: Any = None) -> np.ndarray:
        """AMCAD score ``s(u, v, r) = −Σ_b a_b d_b²`` of global id pairs (higher is closer), ``(n,)``.

        ``etype`` selects the relation (an edge type, or a relation name that is unique); None
        means the only edge type, or block weights averaged over all of them.
        """
        w = self.block_weights(u, v, etype)
        with torch.no_grad():
            tu, tv = self._ids("u", u), self._ids("v", v)
            d2 = self.manifold_.block_dist2(self._points[tu], self._points[tv]).double().numpy()
        return -(w * d2).sum(-1)

    def distance(self, u: Any, v: Any) -> np.ndarray:
        """Product geodesic distance ``sqrt(Σ_b d_b²)`` between global id pairs, ``(n,)``."""
        self.check_is_fitted()
        tu, tv = self._ids("u", u), self._ids("v", v)
        if tu.shape != tv.shape:
            raise ValidationError(f"u and v: {tu.numel()} and {tv.numel()} ids; expected the same number")
        with torch.no_grad():
            return self.manifold_.dist(self._points[tu], self._points[tv]).double().numpy()
