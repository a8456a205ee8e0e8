"""SpaceNE: hierarchical community structure kept in nested orthonormal subspaces.

Long, Wang, Du, Song, Jin, Lin, *Hierarchical Community Structure Preserving Network Embedding: A
Subspace Approach*, CIKM 2019. The paper's full text was not available while this was written, so
the terms below follow its abstract and method outline (subspaces per community of a community
tree; intra-community proximity; a term separating sibling communities; a rank/dimension term
approximated by a differentiable function) and are cited by name, not by equation number.

Tree. A :class:`~vastgraph.embed.community_tree.CommunityTree` of ``L`` levels (given from labels,
node data or a ``node path/to/community`` file, or built by recursive Louvain; see ``tree``).

Subspaces. The root owns ``R^{d_0}`` (``d_0 = dimensions``). A community ``c`` at depth ``ℓ`` owns an
orthonormal basis ``B_c ∈ R^{d_{ℓ−1} × d_ℓ}`` of a ``d_ℓ``-dimensional subspace of its parent's
space, ``d_0 > d_1 > … > d_L`` (``level_dims``), so its absolute basis ``U_c = B_{c_1} B_{c_2} … B_c``
(``d_0 × d_ℓ``, orthonormal) is nested in all its ancestors'. Node ``v`` has, per depth
``ℓ = 0 … L``, coordinates ``z_v^ℓ ∈ R^{d_ℓ}`` in the subspace of its community ``c_ℓ(v)`` (depth 0:
the root space) and context coordinates ``w_v^ℓ``.

Objective (minimised on mini-batches ``E_b`` of positive pairs; ``σ`` the logistic function):

    J = Σ_{ℓ=0..L} 1/|E_b| Σ_{(u,v) ∈ E_b : c_ℓ(u) = c_ℓ(v)} [ −log σ(z_u^ℓ·w_v^ℓ) − Σ_{k=1..K} log σ(−z_u^ℓ·w_{n_k}^ℓ) ]
        + λ_c · Σ_{ℓ=1..L} 1/|E_b| Σ_{(u,v) ∈ E_b : c_ℓ(u) ≠ c_ℓ(v), siblings} −log σ((B_{c_ℓ(u)} z_u^ℓ)·(B_{c_ℓ(v)} w_v^ℓ))
        + λ_s · Σ_{ℓ=1..L} mean_{siblings a ≠ b at depth ℓ} ‖B_a^T B_b‖_F² / d_ℓ
        + λ_r · 1/N Σ_{ℓ=1..L} Σ_{c at depth ℓ} Σ_i h_δ(σ_i(Z_c^ℓ))

1. *Intra-community proximity* (the paper's proximity within each community's subspace): skip-gram
   with ``K = negative`` negatives in the community's coordinates; negatives ``n_k`` are drawn from
   the members of ``c_ℓ(u)`` with probability ∝ degree^0.75, so each level discriminates among its
   own members (what separates ``c``'s children). **Deviations:** positives are DeepWalk
   co-occurrences (pairs at most ``window`` apart on uniform random walks; ``window=0``: the edges),
   an epoch drawing as many pairs as the graph stores edges; separate context vectors; per-level
   coordinates are free parameters (the paper's layer-by-layer training, done jointly here).
2. *Cross-community proximity*: a pair that co-occurs across sibling communities is scored in their
   parent's coordinates through both bases (at most ``CROSS_PAIRS`` sampled pairs per level and
   step), which is what moves sibling subspaces towards each other against term 3.
3. *Sibling separation* (the paper's inter-community term): overlap of sibling subspaces in their
   parent's coordinates (``U_a^T U_b = B_a^T B_b``); zero when orthogonal.
4. *Low rank* (the paper's dimension constraint, made differentiable): the Huber-smoothed nuclear
   norm of each community's coordinate matrix ``Z_c^ℓ = [z_v^ℓ]_{v ∈ c}``,
   ``h_δ(s) = s²/(2δ)`` for ``s ≤ δ`` else ``s − δ/2``, from the eigenvalues ``λ = s²`` of the Gram
   matrix (no square root near zero), evaluated every ``rank_every`` steps with weight
   ``λ_r · rank_every``. **Deviation:** Huber smoothing stands for the paper's own approximation.

Output (coarse to fine; **deviation**: the paper's vertex vector is its leaf-subspace vector). With
``ẑ^ℓ`` the depth-``ℓ`` coordinates scaled to unit root-mean-square norm and ``e_ℓ = 1_{d_ℓ}/√d_ℓ``
(the centre direction of a community's subspace),

    x_v = β ẑ_v^0 + Σ_{ℓ=1..L} ρ^{ℓ−1} U_{c_ℓ(v)} (e_ℓ + β ẑ_v^ℓ)

(``ρ = level_weight``, ``β = detail``): every component lies in ``v``'s depth-1 subspace, the
coarser communities' components dominate the norm, and each level adds the detail that separates
a community's children. A flat read of ``x`` (k-means, a linear classifier) then sees the top level
first, which the leaf vector alone does not give when sibling subspaces overlap (``d_ℓ > d_{ℓ−1}/b``).

Optimisation: Adam on all parameters (learning rate ``lr``); after every step each ``B_c`` is
retracted onto the Stiefel manifold by a QR decomposition with ``diag(R) > 0``, so ``B_c^T B_c = I``
to float32 precision (checked < 1e-5).

Automatic tree (``tree="auto"``): :func:`~vastgraph.embed.community_tree.recursive_spectral`,
regularised spectral splits of the walk-co-occurrence PPMI (``tree="louvain"``: recursive Louvain).

Outputs: ``embedding_`` (``x``), ``coordinates_`` (``z^ℓ`` per depth), ``bases_`` (per depth
``(C_ℓ, d_{ℓ−1}, d_ℓ)``), :meth:`basis` (absolute ``U_c``), ``level_dims_`` and ``effective_dims_``
(per depth, the mean over communities of two or more nodes of the number of singular values of
``Z_c^ℓ`` that hold 90% of its energy). :meth:`save_state` writes the bases and the tree.

Cost per step: ``O(|E_b| (K+1) Σ_ℓ d_ℓ + CROSS_PAIRS Σ_ℓ d_{ℓ−1} d_ℓ + Σ_c d_{ℓ−1} d_ℓ² + N Σ_ℓ d_ℓ²/rank_every)``.

Example:
    >>> from vastgraph.datasets.hierarchies import hierarchical_sbm
    >>> g = hierarchical_sbm(2, 3, block_size=6, p_in=0.8, decay=0.2, random_state=0)
    >>> m = SpaceNE(dimensions=12, tree="data:path", epochs=3, random_state=0).fit(g)
    >>> m.embedding_.shape, m.level_dims_
    ((54, 12), [12, 9, 7])
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vastgraph.embed.base import Embedder
from vastgraph.embed.community_tree import (CommunityTree, read_tree_file, recursive_louvain, recursive_spectral,
                                            tree_from_paths)
from vastgraph.embed.deepwalk import json_params
from vastgraph.errors import EmptyInputError, SchemaError, ValidationError
from vastgraph.seeding import derive_int
from vastgraph.validation import ProgressFn, check_float, check_int, check_progress

if TYPE_CHECKING:
    from vastgraph.graph.view import GraphView

ENERGY = 0.9
"""Share of a community's squared singular values that its effective dimension holds."""

CROSS_PAIRS = 256
"""Most sibling-crossing pairs per level and step that the cross term scores (a uniform sample)."""


def level_dimensions(d0: int, levels: int, level_dims: Any = None, shrink: float = 0.75) -> list[int]:
    """``[d_0, d_1, …, d_L]``: given (strictly decreasing, >= 1) or ``d_ℓ = round(d_0 · shrink^ℓ)``.

    Example:
        >>> level_dimensions(64, 3)
        [64, 48, 36, 27]
    """
    if level_dims is None:
        dims = [d0]
        for lv in range(1, levels + 1):
            dims.append(max(1, min(dims[-1] - 1, int(round(d0 * shrink ** lv)))))
        if dims[-1] < 1 or len(set(dims)) != len(dims):
            raise ValidationError(f"dimensions={d0}: too small for {levels} strictly shrinking levels; "
                                  "raise dimensions or pass level_dims")
        return dims
    if isinstance(level_dims, (str, bytes)) or not hasattr(level_dims, "__len__"):
        raise ValidationError(f"level_dims={level_dims!r}: expected a list of {levels} integers")
    dims = [d0] + [check_int(f"level_dims[{i}]", v, 1) for i, v in enumerate(level_dims)]
    if len(dims) != levels + 1:
        raise ValidationError(f"level_dims={list(level_dims)!r}: the tree has {levels} level(s), "
                              f"got {len(dims) - 1} dimension(s)")
    for i in range(1, len(dims)):
        if dims[i] >= dims[i - 1]:
            raise ValidationError(f"level_dims={list(level_dims)!r}: dimensions must shrink with depth "
                                  f"(d_{i} = {dims[i]} >= d_{i - 1} = {dims[i - 1]}; d_0 = dimensions)")
    return dims


def huber_nuclear(eigvals: Any, delta: float) -> Any:
    """``Σ_i h_δ(sqrt(λ_i))`` of Gram eigenvalues ``λ`` (torch, last axis), differentiable at 0."""
    import torch

    lam = eigvals.clamp_min(0.0)
    big = lam > delta * delta
    safe = torch.where(big, lam, torch.full_like(lam, delta * delta))
    return torch.where(big, safe.sqrt() - 0.5 * delta, lam / (2.0 * delta)).sum(-1)


class SpaceNE(Embedder):
    """SpaceNE node embeddings: a community tree's communities in nested orthonormal subspaces.

    Args:
        dimensions: root dimension ``d_0`` (the output size). Default 64.
        tree: the community tree: ``"auto"`` (recursive Louvain, see ``levels``/``branching``),
            ``"labels"`` (the graph's labels, one level), ``"data:NAME"`` (node data ``NAME``,
            ``(N,)`` or ``(N, L)`` labels per depth), a path to a ``node path/to/community`` file, an
            array of labels, or a :class:`CommunityTree`. Default "auto".
        levels: depth of the tree (``"auto"``: default 3; given trees are cut below it; None keeps
            a given tree whole). Default None.
        branching: most children per community of the ``"auto"`` tree (None: Louvain's). Default None.
        level_dims: ``[d_1, …, d_L]``, strictly decreasing; default ``round(d_0 · shrink^ℓ)``.
        shrink: per-level factor of the default ``level_dims``, in (0, 1). Default 0.75.
        negative: negatives per positive at each level. Default 5.
        epochs: training epochs; an epoch draws as many positive pairs as the graph stores edges.
            Default 100.
        batch_size: positive pairs per step. Default 1024.
        lr: Adam learning rate. Default 0.01.
        window: positives are node pairs at most ``window`` apart on uniform random walks
            (DeepWalk's co-occurrences); 0 uses the edges themselves. Default 5.
        walks_per_node: walks per node (``window > 0``). Default 10.
        walk_length: steps per walk (``window > 0``). Default 40.
        cross: weight ``λ_c`` of the co-occurrence of members of sibling communities, scored across
            their subspaces (what pulls sibling subspaces together against ``sibling``). Default 0.5.
        level_weight: ``ρ``, the weight of depth ``ℓ``'s components is ``ρ^{ℓ−1}`` in the output, in
            (0, 1): coarser communities dominate the norm. Default 0.5.
        detail: ``β``, the weight of the learned within-community coordinates against the community's
            centre direction in each level's component, >= 0. Default 0.5.
        sibling: weight ``λ_s`` of sibling-subspace overlap. Default 1.0.
        low_rank: weight ``λ_r`` of the Huber-smoothed nuclear norms. Default 0.01.
        huber_delta: Huber threshold ``δ`` (> 0). Default 1.0.
        rank_every: the low-rank term is evaluated every ``rank_every`` steps with weight
            ``λ_r · rank_every`` (its eigenvalue gradients dominate a step's cost). Default 10.
        min_size: smallest community created by the ``"auto"`` tree. Default 4.
        num_threads: torch threads during ``fit`` (restored afterwards); None keeps torch's. Default None.
        random_state: None, an int or a ``numpy.random.Generator``. Default None.
        progress: optional ``progress(done_fraction, mean_objective)`` after each epoch. Default None.

    Attributes:
        embedding_: float32 ``(N, d_0)`` in global node-id order.
        keyed_: the :class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings` artifact.
        tree_: the :class:`CommunityTree` used.
        bases_: per depth, float32 ``(C_ℓ, d_{ℓ−1}, d_ℓ)`` orthonormal bases in parent coordinates.
        level_dims_: ``[d_0, …, d_L]``.
        effective_dims_: per depth ``1 … L``, the mean 90%-energy rank of the communities' coordinates.
        losses_: mean objective per epoch; ``terms_``: the four terms' means over the last epoch.
    """

    def __init__(self, dimensions: int = 64, tree: Any = "auto", levels: int | None = None,
                 branching: int | None = None, level_dims: Any = None, shrink: float = 0.75, negative: int = 5,
                 epochs: int = 100, batch_size: int = 1024, lr: float = 0.01, window: int = 5,
                 walks_per_node: int = 10, walk_length: int = 40, cross: float = 0.5,
                 level_weight: float = 0.5, detail: float = 0.5,
                 sibling: float = 1.0, low_rank: float = 0.01, huber_delta: float = 1.0, rank_every: int = 10,
                 min_size: int = 4,
                 num_threads: int | None = None, random_state: Any = None,
                 progress: ProgressFn | None = None) -> None:
        self.dimensions = dimensions
        self.tree = tree
        self.levels = levels
        self.branching = branching
        self.level_dims = level_dims
        self.shrink = shrink
        self.negative = negative
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.window = window
        self.walks_per_node = walks_per_node
        self.walk_length = walk_length
        self.cross = cross
        self.level_weight = level_weight
        self.detail = detail
        self.sibling = sibling
        self.low_rank = low_rank
        self.huber_delta = huber_delta
        self.rank_every = rank_every
        self.min_size = min_size
        self.num_threads = num_threads
        self.random_state = random_state
        self.progress = progress

    # ------------------------------------------------------------------ tree
    def _build_tree(self, graph: GraphView, seed: int) -> CommunityTree:
        levels = None if self.levels is None else check_int("levels", self.levels, 1)
        n = graph.num_nodes_total()
        spec = self.tree
        if isinstance(spec, os.PathLike):
            spec = os.fspath(spec)
        if isinstance(spec, str) and spec in ("auto", "louvain"):
            branching = None if self.branching is None else check_int("branching", self.branching, 2)
            build = recursive_spectral if spec == "auto" else recursive_louvain
            return build(graph, 3 if levels is None else levels, branching,
                         min_size=check_int("min_size", self.min_size, 1), random_state=seed)
        if isinstance(spec, CommunityTree):
            tree = spec
        elif isinstance(spec, str) and spec == "labels":
            lab = graph.labels(graph.node_types[0]) if len(graph.node_types) == 1 else None
            if lab is None or np.asarray(lab).ndim != 1:
                raise ValidationError("tree='labels': the graph has no single-label node labels")
            tree = tree_from_paths(np.asarray(lab))
        elif isinstance(spec, str) and spec.startswith("data:"):
            name = spec[5:]
            if name not in graph.node_data_names(graph.node_types[0]):
                raise ValidationError(f"tree={spec!r}: no node data {name!r} (have: "
                                      f"{', '.join(graph.node_data_names(graph.node_types[0])) or 'none'})")
            tree = tree_from_paths(graph.node_data(graph.node_types[0], name))
        elif isinstance(spec, str):
            if not Path(spec).is_file():
                raise ValidationError(f"tree={spec!r}: expected 'auto', 'labels', 'data:NAME' or an existing "
                                      "tree file")
            tree = read_tree_file(spec, graph)
        else:
            tree = tree_from_paths(spec)
        if tree.n_nodes != n:
            raise ValidationError(f"tree: covers {tree.n_nodes} nodes, the graph has {n}")
        return tree if levels is None else tree.truncate(levels)

    # ------------------------------------------------------------------ fit
    def fit(self, graph: GraphView) -> "SpaceNE":
        """Build or read the tree, train embeddings and bases jointly; returns ``self``."""
        import torch

        from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

        if len(graph.node_types) != 1:
            raise SchemaError(f"SpaceNE: expected one node type, got {len(graph.node_types)} "
                              f"({', '.join(graph.node_types)})")
        d0 = check_int("dimensions", self.dimensions, 2)
        shrink = check_float("shrink", self.shrink, 0.0, 1.0, high_open=True)
        negative = check_int("negative", self.negative, 0)
        epochs = check_int("epochs", self.epochs, 1)
        batch = check_int("batch_size", self.batch_size, 1)
        lr = check_float("lr", self.lr)
        lam_c = check_float("cross", self.cross, low_open=False)
        rho = check_float("level_weight", self.level_weight, 0.0, 1.0, high_open=True)
        beta = check_float("detail", self.detail, low_open=False)
        lam_s = check_float("sibling", self.sibling, low_open=False)
        lam_r = check_float("low_rank", self.low_rank, low_open=False)
        delta = check_float("huber_delta", self.huber_delta)
        rank_every = check_int("rank_every", self.rank_every, 1)
        window = check_int("window", self.window, 0)
        wpn = check_int("walks_per_node", self.walks_per_node, 1)
        wlen = check_int("walk_length", self.walk_length, 1)
        threads = None if self.num_threads is None else check_int("num_threads", self.num_threads, 1)
        progress = check_progress(self.progress)
        if self.level_dims is None and self.levels is not None:
            check_int("levels", self.levels, 1)
        seed = derive_int(self.random_state, 0)
        src, dst = self._edges(graph)
        if src.size == 0:
            raise EmptyInputError("SpaceNE: the graph has no edges (other than self-loops)")
        n_edges = src.size
        if window > 0:
            src, dst = self._walk_pairs(graph, window, wpn, wlen, derive_int(self.random_state, 2))
        tree = self._build_tree(graph, seed % 2**32)
        dims = level_dimensions(d0, tree.levels, self.level_dims, shrink)
        old = torch.get_num_threads()
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            coords, bases, losses, terms = self._train(tree, dims, src, dst, n_edges, negative, epochs, batch, lr,
                                                       lam_c, lam_s, lam_r, delta, rank_every, seed, progress)
        finally:
            torch.set_num_threads(old)
        self.tree_ = tree
        self.bases_ = bases
        self.level_dims_ = dims
        self.losses_ = np.asarray(losses, np.float64)
        self.terms_ = terms
        self.coordinates_ = coords
        self.effective_dims_ = self._effective_dims(coords)
        x = self._compose(coords, rho, beta)
        meta = {"method": "SpaceNE", "params": json_params(self.get_params()), "level_dims": dims,
                "effective_dims": self.effective_dims_, "tree": tree.summary()}
        self.keyed_ = KeyedEmbeddings.from_graph(graph, x, meta=meta, copy=False)
        self.embedding_ = self.keyed_.vectors
        return self

    @staticmethod
    def _edges(graph: GraphView) -> tuple[np.ndarray, np.ndarray]:
        offs = graph.node_offsets()
        ss, ds = [], []
        for et in graph.edge_types:
            e = graph.coo(et)
            ss.append(e.src.astype(np.int64) + offs[et.src])
            ds.append(e.dst.astype(np.int64) + offs[et.dst])
        s, d = np.concatenate(ss), np.concatenate(ds)
        keep = s != d
        return s[keep], d[keep]

    @staticmethod
    def _walk_pairs(graph: GraphView, window: int, walks_per_node: int, walk_length: int,
                    seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Skip-gram positives: both orders of every node pair at most ``window`` apart on uniform walks."""
        from vastgraph.sampling.walks import random_walks

        walks = random_walks(graph, walks_per_node=walks_per_node, walk_length=walk_length,
                             random_state=seed).astype(np.int64)
        us, vs = [], []
        for o in range(1, min(window, walks.shape[1] - 1) + 1):
            a, b = walks[:, :-o].ravel(), walks[:, o:].ravel()
            keep = (a >= 0) & (b >= 0) & (a != b)
            us += [a[keep], b[keep]]
            vs += [b[keep], a[keep]]
        return np.concatenate(us), np.concatenate(vs)

    def _train(self, tree: CommunityTree, dims: list[int], src: np.ndarray, dst: np.ndarray, per_epoch: int,
               negative: int, epochs: int, batch: int, lr: float, lam_c: float, lam_s: float, lam_r: float,
               delta: float, rank_every: int, seed: int, progress: ProgressFn | None) -> tuple[list[np.ndarray],
                                                                               list[np.ndarray], list[float],
                                                                               dict[str, float]]:
        import torch
        import torch.nn.functional as F

        n, L = tree.n_nodes, tree.levels
        rng = np.random.default_rng(seed)
        gen = torch.Generator().manual_seed(int(derive_int(seed, 1)))
        deg = np.bincount(np.concatenate([src, dst]), minlength=n).astype(np.float64)
        noise = np.power(np.maximum(deg, 1e-3), 0.75)
        samplers = []   # per level (root first): members sorted by community, cumulative noise mass
        for lv in range(L + 1):
            if lv == 0:
                order, starts, comm = np.arange(n, dtype=np.int64), np.array([0, n], np.int64), np.zeros(n, np.int64)
            else:
                order, starts = tree.members(lv)
                comm = tree.paths[:, lv - 1]
            samplers.append((order, starts, np.concatenate([[0.0], np.cumsum(noise[order])]), comm))
        zs = [torch.nn.Parameter((torch.rand(n, d, generator=gen) - 0.5) / d) for d in dims]
        cs = [torch.nn.Parameter(torch.zeros(n, d)) for d in dims]
        bases = [torch.nn.Parameter(self._retract(torch.randn(tree.sizes[lv - 1], dims[lv - 1], dims[lv],
                                                              generator=gen))) for lv in range(1, L + 1)]
        pairs = []   # sibling pairs per level
        for lv in range(1, L + 1):
            par = tree.parents[lv - 1]
            i, j = np.triu_indices(par.size, 1)
            same = par[i] == par[j]
            pairs.append((torch.from_numpy(i[same]), torch.from_numpy(j[same])))
        paths_t = torch.from_numpy(tree.paths)
        opt = torch.optim.Adam([*zs, *cs, *bases], lr=lr)
        m = src.size
        losses: list[float] = []
        terms: dict[str, float] = {}
        rank_val = 0.0

        def forward(bi: np.ndarray, with_rank: bool) -> tuple[Any, ...]:
            u, v = src[bi], dst[bi]
            prox = zs[0].new_zeros(())
            cross = zs[0].new_zeros(())
            for lv in range(L + 1):
                order, starts, cum, comm = samplers[lv]
                cu, cv = comm[u], comm[v]
                sel = np.flatnonzero(cu == cv)
                if sel.size:
                    uu, vv, c = u[sel], v[sel], cu[sel]
                    z = zs[lv][uu]
                    prox = prox + F.softplus(-(z * cs[lv][vv]).sum(-1)).sum() / bi.size
                    if negative:
                        lo, hi = cum[starts[c]], cum[starts[c + 1]]
                        r = lo[:, None] + rng.random((sel.size, negative)) * (hi - lo)[:, None]
                        k = np.clip(np.searchsorted(cum, r, side="right") - 1, starts[c][:, None],
                                    starts[c + 1][:, None] - 1)
                        s = torch.einsum("bd,bkd->bk", z, cs[lv][torch.from_numpy(order[k])])
                        prox = prox + F.softplus(s).sum() / bi.size
                if lv and lam_c > 0:   # co-occurring members of sibling communities: their subspaces meet
                    pu, pv = (samplers[lv - 1][3][u], samplers[lv - 1][3][v])
                    sel = np.flatnonzero((pu == pv) & (cu != cv))
                    if sel.size > CROSS_PAIRS:   # gathered bases cost d_{ℓ−1}·d_ℓ per pair: a sample suffices
                        sel = rng.choice(sel, CROSS_PAIRS, replace=False)
                    if sel.size:
                        B = bases[lv - 1]
                        a = torch.bmm(B[torch.from_numpy(cu[sel])], zs[lv][u[sel]].unsqueeze(2)).squeeze(2)
                        b = torch.bmm(B[torch.from_numpy(cv[sel])], cs[lv][v[sel]].unsqueeze(2)).squeeze(2)
                        cross = cross + F.softplus(-(a * b).sum(-1)).sum() / bi.size
            sib = zs[0].new_zeros(())
            for lv in range(1, L + 1):
                i, j = pairs[lv - 1]
                if i.numel():
                    B = bases[lv - 1]
                    sib = sib + (torch.bmm(B[i].transpose(1, 2), B[j]) ** 2).sum((1, 2)).mean() / dims[lv]
            rank = zs[0].new_zeros(())
            if lam_r > 0 and with_rank:
                for lv in range(1, L + 1):
                    z = zs[lv]
                    gram = z.new_zeros(tree.sizes[lv - 1], dims[lv], dims[lv])
                    gram = gram.index_add(0, paths_t[:, lv - 1], z.unsqueeze(2) * z.unsqueeze(1))
                    rank = rank + huber_nuclear(torch.linalg.eigvalsh(gram), delta).sum() / n
            return prox, cross, sib, rank, prox + lam_c * cross + lam_s * sib + lam_r * rank_every * rank

        t0 = time.perf_counter()
        step = 0
        for ep in range(epochs):
            perm = rng.permutation(m)[:per_epoch] if m > per_epoch else rng.permutation(m)
            tot = np.zeros(5)
            steps = 0
            for s0 in range(0, perm.size, batch):
                bi = perm[s0:s0 + batch]
                opt.zero_grad(set_to_none=True)
                with_rank = step % rank_every == 0
                parts = forward(bi, with_rank)
                step += 1
                loss = parts[-1]
                if not torch.isfinite(loss):
                    raise ValidationError(f"SpaceNE diverged at epoch {ep}, step {steps} (objective {loss.item()}); "
                                          f"lower lr={lr}")
                loss.backward()
                opt.step()
                with torch.no_grad():
                    for B in bases:
                        B.copy_(self._retract(B))
                vals = [float(p.detach()) for p in parts]
                tot[:3] += vals[:3]
                if with_rank:   # the rank term is known only on its steps: report its latest value
                    rank_val = vals[3]
                tot[3] += rank_val
                steps += 1
            tot /= steps
            tot[4] = tot[0] + lam_c * tot[1] + lam_s * tot[2] + lam_r * tot[3]
            losses.append(float(tot[-1]))
            terms = {"proximity": tot[0], "cross": tot[1], "sibling": tot[2], "low_rank": tot[3]}
            if progress is not None:
                progress((ep + 1) / epochs, float(tot[-1]))
        self.fit_seconds_ = time.perf_counter() - t0
        return ([z.detach().numpy().astype(np.float32) for z in zs],
                [B.detach().numpy().astype(np.float32) for B in bases], losses,
                {k: float(val) for k, val in terms.items()})

    def _compose(self, coords: list[np.ndarray], rho: float, beta: float) -> np.ndarray:
        """``x_v = β ẑ_v^0 + Σ_ℓ ρ^{ℓ−1} U_{c_ℓ(v)} (e_ℓ + β ẑ_v^ℓ)`` (see the module docstring)."""
        tree, L = self.tree_, self.tree_.levels
        d0 = self.level_dims_[0]

        def unit(z: np.ndarray) -> np.ndarray:
            z = z.astype(np.float64)
            rms = np.sqrt(np.mean(np.sum(z * z, axis=1)))
            return z / rms if rms > 0 else z

        x = beta * unit(coords[0])
        U = np.eye(d0)[None]   # absolute bases of the previous depth's communities
        for lv in range(1, L + 1):
            U = np.einsum("cij,cjk->cik", U[tree.parents[lv - 1]], self.bases_[lv - 1].astype(np.float64))
            d = self.level_dims_[lv]
            local = np.full(d, 1.0 / np.sqrt(d)) + beta * unit(coords[lv])
            x += rho ** (lv - 1) * np.einsum("nij,nj->ni", U[tree.paths[:, lv - 1]], local)
        return x.astype(np.float32)

    @staticmethod
    def _retract(B: Any) -> Any:
        """The Q factor of ``B``'s QR decomposition with ``diag(R) > 0`` (per matrix of the batch)."""
        import torch

        q, r = torch.linalg.qr(B)
        sign = torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))
        sign = torch.where(sign == 0, torch.ones_like(sign), sign)
        return q * sign.unsqueeze(-2)

    # ------------------------------------------------------------------ outputs
    def basis(self, level: int, community: int) -> np.ndarray:
        """The absolute orthonormal basis ``U_c`` (``d_0 × d_ℓ``) of ``community`` at depth ``level``."""
        self.check_is_fitted()
        lv = check_int("level", level, 1, self.tree_.levels)
        c = check_int("community", community, 0, self.tree_.sizes[lv - 1] - 1)
        return self._basis(lv, c)

    def _basis(self, lv: int, c: int) -> np.ndarray:
        chain = [c]
        for d in range(lv, 1, -1):
            chain.append(int(self.tree_.parents[d - 1][chain[-1]]))
        U = np.eye(self.level_dims_[0], dtype=np.float64)
        for d, cc in zip(range(1, lv + 1), reversed(chain)):
            U = U @ self.bases_[d - 1][cc].astype(np.float64)
        return U

    def _effective_dims(self, coords: list[np.ndarray]) -> list[float]:
        out = []
        for lv in range(1, self.tree_.levels + 1):
            order, starts = self.tree_.members(lv)
            ranks = []
            for c in range(self.tree_.sizes[lv - 1]):
                mem = order[starts[c]:starts[c + 1]]
                if mem.size < 2:
                    continue
                s2 = np.linalg.svd(coords[lv][mem].astype(np.float64), compute_uv=False) ** 2
                ranks.append(int(np.searchsorted(np.cumsum(s2) / s2.sum(), ENERGY) + 1) if s2.sum() > 0 else 0)
            out.append(float(np.mean(ranks)) if ranks else 0.0)
        return out

    def save_state(self, path: str | os.PathLike) -> str:
        """Write the bases, the tree and the level dimensions to ``path/spacene.npz``; returns the file."""
        self.check_is_fitted()
        p = Path(path)
        p.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {"paths": self.tree_.paths, "level_dims": np.asarray(self.level_dims_)}
        for lv, (B, par) in enumerate(zip(self.bases_, self.tree_.parents), start=1):
            arrays[f"basis_{lv}"] = B
            arrays[f"parent_{lv}"] = par
        f = p / "spacene.npz"
        np.savez(f, **arrays)
        return str(f)


def load_state(path: str | os.PathLike) -> dict[str, Any]:
    """What :meth:`SpaceNE.save_state` wrote: ``{"tree": CommunityTree, "bases": [...], "level_dims": [...]}``.

    Example:
        >>> import tempfile
        >>> from vastgraph.datasets.hierarchies import hierarchical_sbm
        >>> g = hierarchical_sbm(2, 2, block_size=6, random_state=0)
        >>> m = SpaceNE(dimensions=8, tree="data:path", epochs=1, random_state=0).fit(g)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     st = load_state(Path(m.save_state(d)).parent)
        >>> [b.shape for b in st["bases"]]
        [(2, 8, 6), (4, 6, 4)]
    """
    f = Path(path) / "spacene.npz"
    if not f.is_file():
        raise ValidationError(f"{f}: no SpaceNE state (written by SpaceNE.save_state)")
    with np.load(f) as z:
        dims = [int(v) for v in z["level_dims"]]
        L = len(dims) - 1
        bases = [z[f"basis_{lv}"] for lv in range(1, L + 1)]
        tree = CommunityTree(z["paths"], tuple(z[f"parent_{lv}"] for lv in range(1, L + 1)))
    return {"tree": tree, "bases": bases, "level_dims": dims}
