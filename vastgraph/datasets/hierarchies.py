"""Tree-like and hierarchical graph generators: balanced trees, random trees, hierarchical SBMs.

These are the graphs on which hyperbolic geometry is expected to beat flat space at low dimension
(Sarkar, "Low distortion Delaunay embedding of trees in hyperbolic plane", GD 2011; Nickel & Kiela,
"Poincaré Embeddings for Learning Hierarchical Representations", NeurIPS 2017; Gu et al.,
"Learning Mixed-Curvature Representations in Product Spaces", ICLR 2019).

* :func:`balanced_tree` — the complete ``b``-ary tree of height ``h``, nodes in breadth-first order.
* :func:`random_tree` — a uniformly random labelled tree (Prüfer decoding, linear time) or a
  random recursive tree (node ``i`` attaches to a uniform earlier node).
* :func:`hierarchical_sbm` — a hierarchical stochastic block model: communities nested in a
  complete ``b``-ary community tree of ``levels`` levels; a node pair whose lowest common community
  sits at depth ``ℓ`` is an edge with probability ``p_ℓ = p_in · decay^(levels − ℓ)``
  (``ℓ = levels``: the same leaf block). Clauset, Moore & Newman, "Hierarchical structure and the
  prediction of missing links in networks", Nature 453, 2008 (the hierarchical random graph).
* :func:`hierarchical_block_model` — the registered dataset ``"hierarchical-sbm"``: a
  :func:`hierarchical_sbm` whose leaves are single nodes by default (a balanced 6-level tree,
  branching 3, 729 leaf nodes), in the style of the synthetic hierarchies of SpaceNE (Long et
  al., CIKM 2019), wrapped as a :class:`~vastgraph.datasets.dataset.Dataset`.

Each returns an undirected :class:`~vastgraph.graph.hetero_graph.HeteroGraph` with one node type
``"node"`` and one edge type ``("node", "edge", "node")``; the tree / community structure is in the
node data (``depth``, ``parent``, ``path``) and in ``graph.info``.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from vastgraph.datasets.dataset import Dataset
from vastgraph.validation import check_float, check_int
from vastgraph.errors import ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.hetero_graph import HeteroGraph
from vastgraph.seeding import seed_from

TREE_METHODS = ("uniform", "recursive")
_MAX_NODES = 50_000_000


def _build(n: int, src: np.ndarray, dst: np.ndarray, *, labels: np.ndarray | None,
           data: dict[str, np.ndarray], info: dict[str, Any]) -> HeteroGraph:
    b = GraphBuilder(directed=False, duplicates="first", self_loops="drop", id_mode="dense")
    b.add_nodes("node", count=n, labels=labels, data=data)
    b.add_edges(src, dst, etype=("node", "edge", "node"), source=info["generator"])
    b.info.update(info)
    return b.build()


def _tree_depths(n: int, parent_edges: tuple[np.ndarray, np.ndarray], root: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(depth, parent)`` int64 arrays of a tree given as an edge list, rooted at ``root`` (BFS)."""
    s, d = parent_edges
    a = sp.csr_array((np.ones(2 * s.size), (np.r_[s, d], np.r_[d, s])), shape=(n, n))
    dist, pred = shortest_path(a, directed=False, unweighted=True, indices=root, return_predecessors=True)
    if not np.isfinite(dist).all():
        raise ValidationError(f"tree: {int((~np.isfinite(dist)).sum())} nodes unreachable from the root")
    parent = np.where(pred < 0, -1, pred).astype(np.int64)
    return dist.astype(np.int64), parent


def _subtree_of_root(depth: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """For each node, the index (0-based, in id order) of the root's child it descends from; -1 for the root."""
    top = np.where(depth == 1, np.arange(depth.size), np.where(depth == 0, -1, parent))
    # pointer jumping until every node points at a depth-1 node (or -1)
    while True:
        safe = np.where(top >= 0, top, 0)
        move = (top >= 0) & (depth[safe] > 1)
        if not move.any():
            break
        top = np.where(move, top[safe], top)
    out = np.full(depth.size, -1, dtype=np.int64)
    has = top >= 0
    out[has] = np.unique(top[has], return_inverse=True)[1]
    return out


def balanced_tree(branching: int = 2, depth: int = 5) -> HeteroGraph:
    """The complete ``branching``-ary tree of height ``depth`` (``networkx.balanced_tree``).

    Node ``0`` is the root; nodes are numbered in breadth-first order, so node ``i > 0`` has parent
    ``(i − 1) // b`` and the tree has ``N = (b^{h+1} − 1)/(b − 1)`` nodes (``h + 1`` for ``b = 1``)
    and ``N − 1`` edges.

    Args:
        branching: children per internal node ``b >= 1``. Default 2.
        depth: height ``h >= 1`` (edges from the root to a leaf). Default 5.

    Returns:
        Undirected :class:`HeteroGraph`. Node data: ``depth`` int64 (root 0), ``parent`` int64
        (-1 for the root). Labels: which child of the root a node descends from (0-based, in id
        order; -1 for the root).
        ``info["tree"]`` holds the parameters and counts.

    Example:
        >>> g = balanced_tree(3, 2)
        >>> g.num_nodes(), g.num_undirected_edges()
        (13, 12)
    """
    b = check_int("branching", branching, 1)
    h = check_int("depth", depth, 1)
    n = h + 1 if b == 1 else (b ** (h + 1) - 1) // (b - 1)
    if n > _MAX_NODES:
        raise ValidationError(f"balanced_tree(branching={b}, depth={h}): {n} nodes; expected at most "
                              f"{_MAX_NODES}")
    child = np.arange(1, n, dtype=np.int64)
    par = (child - 1) // b
    parent = np.r_[np.int64(-1), par]
    level_sizes = b ** np.arange(h + 1, dtype=np.int64)
    dep = np.repeat(np.arange(h + 1, dtype=np.int64), level_sizes)
    info = {"generator": "balanced_tree", "source": "synthetic: vastgraph.datasets.hierarchies.balanced_tree",
            "tree": {"branching": b, "depth": h, "nodes": int(n), "edges": int(n - 1), "root": 0}}
    return _build(n, par, child, labels=_subtree_of_root(dep, parent),
                  data={"depth": dep, "parent": parent}, info=info)


@nb.njit(nogil=True, cache=True)
def _prufer_decode(seq, n):  # pragma: no cover - numba
    """Edges ``(n − 1, 2)`` of the labelled tree with Prüfer sequence ``seq`` (linear-time decoding)."""
    degree = np.ones(n, dtype=np.int64)
    for x in seq:
        degree[x] += 1
    edges = np.empty((n - 1, 2), dtype=np.int64)
    ptr = 0
    while degree[ptr] != 1:
        ptr += 1
    leaf = ptr
    e = 0
    for x in seq:
        edges[e, 0] = leaf
        edges[e, 1] = x
        e += 1
        degree[x] -= 1
        if degree[x] == 1 and x < ptr:
            leaf = x
        else:
            ptr += 1
            while degree[ptr] != 1:
                ptr += 1
            leaf = ptr
    # the last edge joins the remaining leaf with node n - 1
    edges[e, 0] = leaf
    edges[e, 1] = n - 1
    return edges


def random_tree(n: int = 1000, random_state: Any = None, *, method: str = "uniform") -> HeteroGraph:
    """A random tree on ``n`` nodes, rooted at node 0 for the depth/parent data.

    * ``method="uniform"``: uniform over the ``n^{n−2}`` labelled trees (Cayley), by decoding a
      uniformly random Prüfer sequence (Prüfer 1918) in linear time; the expected height grows as
      ``Θ(√n)``.
    * ``method="recursive"``: a random recursive tree — node ``i`` attaches to a node drawn
      uniformly from ``0 … i−1``; the expected height grows as ``Θ(log n)``.

    Args:
        n: number of nodes, >= 2. Default 1000.
        random_state: None, an int seed or a ``numpy.random.Generator``.
        method: ``"uniform"`` | ``"recursive"``. Default ``"uniform"``.

    Returns:
        Undirected :class:`HeteroGraph` with ``n − 1`` edges. Node data: ``depth`` and ``parent``
        (BFS from node 0; -1 for the root). Labels: which child of the root a node descends from
        (0-based; -1 for the root).

    Example:
        >>> g = random_tree(100, random_state=0)
        >>> g.num_undirected_edges()
        99
    """
    n = check_int("n", n, 2)
    if n > _MAX_NODES:
        raise ValidationError(f"n={n}: expected at most {_MAX_NODES}")
    if method not in TREE_METHODS:
        raise ValidationError(f"method={method!r}: expected one of {', '.join(TREE_METHODS)}")
    rng = np.random.default_rng(int(seed_from(random_state)))
    if method == "uniform":
        if n == 2:
            s, d = np.array([0], np.int64), np.array([1], np.int64)
        else:
            edges = _prufer_decode(rng.integers(0, n, size=n - 2).astype(np.int64), n)
            s, d = edges[:, 0], edges[:, 1]
    else:
        d = np.arange(1, n, dtype=np.int64)
        s = np.floor(rng.random(n - 1) * d).astype(np.int64)
    dep, parent = _tree_depths(n, (s, d), root=0)
    info = {"generator": "random_tree", "source": "synthetic: vastgraph.datasets.hierarchies.random_tree",
            "tree": {"n": n, "method": method, "edges": n - 1, "root": 0, "height": int(dep.max()),
                     "random_state": None if random_state is None else repr(random_state)}}
    return _build(n, s, d, labels=_subtree_of_root(dep, parent),
                  data={"depth": dep, "parent": parent}, info=info)


def _pair_from_index(r: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``r``-th pair ``(a, c)``, ``a < c < m``, in row-major order of the ``m(m−1)/2`` pairs."""
    total = m * (m - 1) // 2
    k = total - 1 - r
    t = np.floor((np.sqrt(8.0 * k + 1.0) - 1.0) / 2.0).astype(np.int64)
    # correct float rounding: t is the largest integer with t(t+1)/2 <= k
    t = np.where(t * (t + 1) // 2 > k, t - 1, t)
    t = np.where((t + 1) * (t + 2) // 2 <= k, t + 1, t)
    a = m - 2 - t
    c = m - 1 - (k - t * (t + 1) // 2)
    return a, c


def hierarchical_sbm(levels: int = 3, branching: int = 3, *, block_size: int = 16, p_in: float = 0.5,
                     decay: float = 0.2, random_state: Any = None) -> HeteroGraph:
    """A hierarchical stochastic block model over a complete ``b``-ary community tree.

    The community tree has ``levels`` levels below its root: ``b^levels`` leaf blocks of
    ``block_size`` nodes (node ``i`` is in leaf block ``i // block_size``; the block's ancestor at
    depth ``ℓ`` is ``block // b^(levels − ℓ)``). For a pair ``(u, v)`` whose lowest common
    community is at depth ``ℓ`` (``ℓ = levels``: same leaf block, ``0``: only the root), the edge
    exists independently with probability ``p_ℓ = p_in · decay^(levels − ℓ)``.

    Sampling is exact: for each depth ``ℓ`` the number of edges is drawn as ``Binomial(M_ℓ, p_ℓ)``
    over the ``M_ℓ`` pairs of that depth, then that many distinct pairs are drawn uniformly
    without replacement (pair indices decoded to node pairs, no rejection), which is the same
    distribution as independent Bernoulli(``p_ℓ``) edges.

    Args:
        levels: depth of the community tree, >= 1. Default 3.
        branching: children per community, >= 2. Default 3.
        block_size: nodes per leaf block, >= 1. Default 16.
        p_in: edge probability inside a leaf block, in (0, 1]. Default 0.5.
        decay: factor per level up the community tree, in [0, 1]. Default 0.2.
        random_state: None, an int seed or a ``numpy.random.Generator``.

    Returns:
        Undirected :class:`HeteroGraph` with ``N = block_size · b^levels`` nodes. Node data:
        ``path`` int64 ``(N, levels)`` (the community id at depths ``1 … levels``, ids numbered
        per depth), ``block`` int64 (the leaf block). Labels: the top-level community (depth 1).
        ``info["hierarchy"]`` holds the parameters, per-depth probabilities and edge counts.

    Example:
        >>> g = hierarchical_sbm(2, 2, block_size=8, random_state=0)
        >>> g.num_nodes()
        32
    """
    L = check_int("levels", levels, 1)
    b = check_int("branching", branching, 2)
    s = check_int("block_size", block_size, 1)
    p = check_float("p_in", p_in, low=0.0, low_open=True, high=1.0)
    dec = check_float("decay", decay, low=0.0, low_open=False, high=1.0)
    n_blocks = b ** L
    n = s * n_blocks
    if n > _MAX_NODES:
        raise ValidationError(f"hierarchical_sbm: block_size · branching^levels = {n} nodes; expected at most "
                              f"{_MAX_NODES}")
    if n < 2:
        raise ValidationError(f"hierarchical_sbm: {n} node(s); expected at least 2 (raise block_size or levels)")
    rng = np.random.default_rng(int(seed_from(random_state)))
    block = np.arange(n, dtype=np.int64) // s
    path = np.stack([block // b ** (L - lv) for lv in range(1, L + 1)], axis=1)
    srcs, dsts, per_level = [], [], []
    for lv in range(L, -1, -1):
        prob = p * dec ** (L - lv)
        if lv == L:   # pairs inside one leaf block
            groups, per = n_blocks, s * (s - 1) // 2
        else:         # pairs in different children of one depth-lv community
            sub = s * b ** (L - lv - 1)
            groups, per = b ** lv, (b * (b - 1) // 2) * sub * sub
        pairs = groups * per
        k = int(rng.binomial(pairs, prob)) if pairs > 0 and prob > 0 else 0
        per_level.append({"depth": lv, "p": prob, "pairs": int(pairs), "edges": k})
        if k == 0:
            continue
        q = rng.choice(pairs, size=k, replace=False).astype(np.int64)
        grp, r = q // per, q % per
        if lv == L:
            a, c = _pair_from_index(r, s)
            u, v = grp * s + a, grp * s + c
        else:
            c1, c2 = _pair_from_index(r // (sub * sub), b)
            x = r % (sub * sub)
            base = grp * (b * sub)
            u, v = base + c1 * sub + x // sub, base + c2 * sub + x % sub
        srcs.append(u)
        dsts.append(v)
    src = np.concatenate(srcs) if srcs else np.zeros(0, np.int64)
    dst = np.concatenate(dsts) if dsts else np.zeros(0, np.int64)
    info = {"generator": "hierarchical_sbm",
            "source": "synthetic: vastgraph.datasets.hierarchies.hierarchical_sbm",
            "hierarchy": {"levels": L, "branching": b, "block_size": s, "p_in": p, "decay": dec, "nodes": n,
                          "per_depth": per_level,
                          "random_state": None if random_state is None else repr(random_state)}}
    g = _build(n, src, dst, labels=path[:, 0].copy(), data={"path": path, "block": block}, info=info)
    g.info["hierarchy"]["edges"] = int(g.num_undirected_edges())
    return g


def hierarchical_block_model(levels: int = 6, branching: int = 3, *, block_size: int = 1, p_in: float = 1.0,
                             decay: float = 0.4, random_state: Any = None) -> Dataset:
    """The ``"hierarchical-sbm"`` dataset: a :func:`hierarchical_sbm` with hierarchy labels per level.

    By default a balanced community tree of 6 levels with branching 3 whose ``3^6 = 729`` leaves
    are single nodes; a pair whose lowest common ancestor sits at depth ``ℓ`` is an edge with
    probability ``p_in · decay^(levels − ℓ)`` (siblings ``0.4``, then ``0.16``, … ``0.004`` for
    pairs that share only the root). Each depth contributes a similar share of a node's expected
    degree (about 8 in all), so every level of the hierarchy is visible but none dominates.

    Args:
        levels: depth of the community tree, >= 1. Default 6.
        branching: children per community, >= 2. Default 3.
        block_size: nodes per leaf, >= 1. Default 1.
        p_in: edge probability inside one leaf (and the scale of all levels), in (0, 1]. Default 1.0.
        decay: factor per level up the tree, in [0, 1]. Default 0.4.
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        :class:`Dataset` named ``"hierarchical-sbm"``. Node data ``path`` ``(N, levels)`` holds the
        community at every depth (ids numbered per depth), ``block`` the leaf; labels are the
        depth-1 communities. ``info["hierarchy"]`` has the parameters and counts.

    Example:
        >>> ds = hierarchical_block_model(random_state=0)
        >>> ds.graph.num_nodes(), ds.graph.node_data(None, "path").shape
        (729, (729, 6))
    """
    g = hierarchical_sbm(levels, branching, block_size=block_size, p_in=p_in, decay=decay,
                         random_state=random_state)
    info = {"generator": "hierarchical_block_model", "hierarchy": dict(g.info["hierarchy"]),
            "citation": "Long et al., Hierarchical Community Structure Preserving Network Embedding: "
                        "A Subspace Approach, CIKM 2019 (synthetic hierarchies); Clauset, Moore & Newman 2008"}
    return Dataset(name="hierarchical-sbm", graph=g, splits={}, info=info, missing=[])
