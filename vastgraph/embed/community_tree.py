"""Community trees for :class:`~vastgraph.embed.spacene.SpaceNE`: given, read from a file, or built.

A :class:`CommunityTree` over ``n`` nodes has ``L`` levels below its root. ``paths[v, ℓ-1]`` is the
community of node ``v`` at depth ``ℓ`` (ids ``0 … C_ℓ − 1`` per depth) and ``parents[ℓ-1][c]`` the
depth-``ℓ−1`` community that contains community ``c`` of depth ``ℓ`` (all zeros at depth 1: the
root). Every node has a community at every depth: a community that is not split further is its own
only child (a chain), so all leaves sit at depth ``L``.

Sources:

* :func:`tree_from_paths` — an ``(n, L)`` array of labels per depth (e.g. the ``path`` node data of
  :func:`~vastgraph.datasets.hierarchies.hierarchical_sbm`) or an ``(n,)`` label array (one level);
  a community is identified by the labels of all its ancestors, so the result is always nested.
* :func:`read_tree_file` — text lines ``node path/to/community`` (``#`` comments and blank lines
  skipped); errors name the file and line.
* :func:`recursive_louvain` — recursive partitioning: Louvain (``networkx.louvain_communities``,
  seeded) on each community's induced subgraph, merged down to at most ``branching`` children.

Example:
    >>> import numpy as np
    >>> t = tree_from_paths(np.array([[0, 0], [0, 1], [1, 2], [1, 2]]))
    >>> t.levels, t.sizes, t.parents[1].tolist()
    (2, [2, 3], [0, 0, 1])
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from vastgraph.errors import ParseError, ValidationError
from vastgraph.validation import check_float, check_int

if TYPE_CHECKING:
    from vastgraph.graph.view import GraphView


@dataclass(frozen=True)
class CommunityTree:
    """A balanced-depth community tree (see the module docstring).

    Attributes:
        paths: int64 ``(n, L)``; ``paths[v, ℓ-1]`` is ``v``'s community at depth ``ℓ``.
        parents: per depth ``ℓ = 1 … L`` an int64 array ``(C_ℓ,)`` of parent ids at depth ``ℓ − 1``.
        names: optional per-depth community names (from a tree file), else None.
    """

    paths: np.ndarray
    parents: tuple[np.ndarray, ...]
    names: tuple[tuple[str, ...], ...] | None = None

    @property
    def levels(self) -> int:
        return int(self.paths.shape[1])

    @property
    def n_nodes(self) -> int:
        return int(self.paths.shape[0])

    @property
    def sizes(self) -> list[int]:
        """Number of communities per depth ``1 … L``."""
        return [int(p.size) for p in self.parents]

    def truncate(self, levels: int) -> "CommunityTree":
        """The tree cut below depth ``levels``."""
        if levels >= self.levels:
            return self
        names = None if self.names is None else self.names[:levels]
        return CommunityTree(self.paths[:, :levels].copy(), self.parents[:levels], names)

    def members(self, level: int) -> tuple[np.ndarray, np.ndarray]:
        """``(order, starts)``: nodes sorted by their depth-``level`` community, and each community's
        start in ``order`` (``starts`` has ``C + 1`` entries)."""
        lab = self.paths[:, level - 1]
        order = np.argsort(lab, kind="stable").astype(np.int64)
        starts = np.zeros(self.parents[level - 1].size + 1, np.int64)
        np.cumsum(np.bincount(lab, minlength=self.parents[level - 1].size), out=starts[1:])
        return order, starts

    def summary(self) -> dict[str, Any]:
        return {"levels": self.levels, "communities": self.sizes, "nodes": self.n_nodes}


def tree_from_paths(paths: Any, names: Any = None) -> CommunityTree:
    """A :class:`CommunityTree` from per-depth labels ``(n, L)`` (or ``(n,)``: one level).

    Labels at depth ``ℓ`` need not be unique across parents: community ids are the distinct
    label prefixes ``(l_1, …, l_ℓ)``, numbered in sorted order. Negative labels are refused.
    """
    arr = np.asarray(paths)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValidationError(f"tree: expected an (n, levels) label array, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValidationError(f"tree: labels must be integers, got dtype {arr.dtype}")
    if (arr < 0).any():
        raise ValidationError(f"tree: {int((arr < 0).any(axis=1).sum())} node(s) have a negative (unknown) "
                              "community label; every node needs a community at every level")
    n, L = arr.shape
    ids = np.zeros((n, L), np.int64)
    parents = []
    prev = np.zeros(n, np.int64)
    for lv in range(L):
        _, inv = np.unique(np.stack([prev, arr[:, lv].astype(np.int64)], axis=1), axis=0, return_inverse=True)
        inv = inv.reshape(-1).astype(np.int64)
        par = np.zeros(int(inv.max()) + 1, np.int64)
        par[inv] = prev
        ids[:, lv] = inv
        parents.append(par)
        prev = inv
    return CommunityTree(ids, tuple(parents), names)


def read_tree_file(path: str | os.PathLike, graph: GraphView, ntype: str | None = None) -> CommunityTree:
    """Read a tree file of ``node path/to/community`` lines for the nodes of ``graph``.

    ``node`` is an external node id of ``ntype`` (integer ids may be written as numbers); the path's
    components are community names from the top down. Paths of different depths are padded by
    repeating their last community (a community that is not split further is its own child).

    Raises:
        ParseError: a malformed line, an unknown or repeated node, an empty path component (the
            message names the file and line), or nodes of the graph missing from the file.
    """
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise ParseError(f"cannot read the tree file ({exc.strerror or exc})", path=p) from None
    nt = graph.node_type(ntype)
    n = graph.num_nodes(nt)
    ext = graph.external_ids(nt)
    numeric = np.issubdtype(np.asarray(ext).dtype, np.integer)
    lookup = {(int(k) if numeric else str(k)): i for i, k in enumerate(ext.tolist())}
    comp: list[list[str]] = [[] for _ in range(n)]
    seen = np.zeros(n, np.int64)   # line number where each node was given (0: not yet)
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ParseError(f"expected 'node path/to/community', got {len(parts)} field(s): {raw.strip()!r}",
                             path=p, line=lineno)
        key: Any = parts[0]
        if numeric:
            try:
                key = int(key)
            except ValueError:
                raise ParseError(f"node {parts[0]!r} is not an integer id", path=p, line=lineno,
                                 field="node") from None
        v = lookup.get(key)
        if v is None:
            raise ParseError(f"unknown node {parts[0]!r} (not in the graph)", path=p, line=lineno, field="node")
        if seen[v]:
            raise ParseError(f"node {parts[0]!r} given twice (first on line {int(seen[v])})", path=p,
                             line=lineno, field="node")
        names = parts[1].strip("/").split("/")
        if not parts[1].strip("/") or any(not c for c in names):
            raise ParseError(f"empty community name in path {parts[1]!r}", path=p, line=lineno, field="path")
        seen[v] = lineno
        comp[v] = names
    missing = np.flatnonzero(seen == 0)
    if missing.size:
        show = ", ".join(str(ext[i]) for i in missing[:5])
        raise ParseError(f"{missing.size} node(s) of the graph have no line (e.g. {show})", path=p)
    depth = max(len(c) for c in comp)
    padded = [c + [c[-1]] * (depth - len(c)) for c in comp]
    names_per_level, labels = [], np.zeros((n, depth), np.int64)
    for lv in range(depth):
        prefixes = ["/".join(c[:lv + 1]) for c in padded]
        uniq, inv = np.unique(np.asarray(prefixes, dtype=object).astype(str), return_inverse=True)
        labels[:, lv] = inv.reshape(-1)
        names_per_level.append(tuple(str(u) for u in uniq))
    tree = tree_from_paths(labels)
    # tree_from_paths renumbers by (parent, label) prefix, which keeps the sorted-prefix order here
    names = tuple(tuple(nm[i] for i in _first_label(labels[:, lv], tree.paths[:, lv]))
                  for lv, nm in enumerate(names_per_level))
    return CommunityTree(tree.paths, tree.parents, names)


def _first_label(labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """For each community id, the original label of its (first) member."""
    out = np.zeros(int(ids.max()) + 1, np.int64)
    out[ids[::-1]] = labels[::-1]
    return out


def _split(adj: Any, nodes: np.ndarray, branching: int, min_size: int, resolution: float,
           seed: int) -> list[np.ndarray]:
    """Louvain parts of the subgraph induced by ``nodes``, merged into at most ``branching`` groups."""
    import networkx as nx

    if nodes.size < max(2 * min_size, 2):
        return [nodes]
    sub = adj[nodes][:, nodes]
    if sub.nnz == 0:
        return [nodes]
    g = nx.from_scipy_sparse_array(sub)
    parts = nx.community.louvain_communities(g, weight="weight", resolution=resolution, seed=seed)
    parts = sorted((np.fromiter(sorted(c), np.int64) for c in parts), key=lambda a: (-a.size, a[0]))
    if len(parts) < 2:
        return [nodes]
    groups = parts[:branching]
    group_of = np.full(nodes.size, -1, np.int64)
    for i, part in enumerate(groups):
        group_of[part] = i
    sub = sub.tocsr()
    for part in parts[branching:]:   # attach the smaller parts to the group they share most weight with
        w = np.asarray(sub[part].sum(axis=0)).ravel()
        inside = group_of >= 0
        scores = np.bincount(group_of[inside], weights=w[inside], minlength=len(groups))
        sizes = np.array([gr.size for gr in groups])
        best = int(np.lexsort((sizes, -scores))[0])
        groups[best] = np.concatenate([groups[best], part])
        group_of[part] = best
    groups = [np.sort(gr) for gr in groups]
    if min(gr.size for gr in groups) < min_size:   # a split that leaves a tiny part is no split
        big = [gr for gr in groups if gr.size >= min_size]
        if len(big) < 2:
            return [nodes]
        small = np.concatenate([gr for gr in groups if gr.size < min_size])
        sizes = [gr.size for gr in big]
        big[int(np.argmin(sizes))] = np.sort(np.concatenate([big[int(np.argmin(sizes))], small]))
        groups = big
    return [nodes[gr] for gr in groups]


def recursive_louvain(graph: GraphView, levels: int = 3, branching: int | None = None, *, min_size: int = 4,
                      resolution: float = 1.0, random_state: Any = None) -> CommunityTree:
    """A community tree of depth ``levels`` by recursive Louvain partitioning of ``graph``.

    The graph is taken as undirected (all edge types over global ids, weights summed). Each
    community of at least ``2 · min_size`` nodes is split by ``networkx.louvain_communities`` on its
    induced subgraph (seeded per community); when Louvain returns more than ``branching`` parts the
    smaller ones join the one of the ``branching`` largest they share the most edge weight with.
    A community that Louvain does not split (or that would leave a part under ``min_size``) is its
    own only child.

    Args:
        graph: the graph.
        levels: depth of the tree, >= 1. Default 3.
        branching: most children per community (None: as many as Louvain finds). Default None.
        min_size: smallest community that is created by a split, >= 1. Default 4.
        resolution: Louvain resolution (> 1: more, smaller parts). Default 1.0.
        random_state: None, an int or a ``numpy.random.Generator``.

    Example:
        >>> from vastgraph.datasets.hierarchies import hierarchical_sbm
        >>> g = hierarchical_sbm(2, 3, block_size=10, p_in=0.9, decay=0.1, random_state=0)
        >>> t = recursive_louvain(g, levels=2, branching=3, random_state=0)
        >>> t.sizes[0], t.sizes[1] <= 9
        (3, True)
    """
    from vastgraph.seeding import derive_int, seed_from

    L = check_int("levels", levels, 1)
    b = None if branching is None else check_int("branching", branching, 2)
    ms = check_int("min_size", min_size, 1)
    res = check_float("resolution", resolution)
    adj = _adjacency(graph)
    n = adj.shape[0]
    seed = seed_from(random_state)
    labels = np.zeros((n, L), np.int64)
    frontier = [np.arange(n, dtype=np.int64)]
    for lv in range(L):
        nxt = []
        for ci, nodes in enumerate(frontier):
            for part in _split(adj, nodes, b or n, ms, res, derive_int(seed, lv, ci) % (2**32)):
                labels[part, lv] = len(nxt)
                nxt.append(part)
        frontier = nxt
    return tree_from_paths(labels)


def _adjacency(graph: GraphView) -> Any:
    """The symmetric weighted adjacency (scipy CSR, global ids, self-loops dropped) of all edge types."""
    import scipy.sparse as sp

    n = graph.num_nodes_total()
    offs = graph.node_offsets()
    rows, cols, vals = [], [], []
    for et in graph.edge_types:
        e = graph.coo(et)
        rows.append(e.src.astype(np.int64) + offs[et.src])
        cols.append(e.dst.astype(np.int64) + offs[et.dst])
        vals.append(np.ones(len(e)) if e.weight is None else np.asarray(e.weight, np.float64))
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    w = np.concatenate(vals) if vals else np.zeros(0)
    keep = r != c
    adj = sp.coo_array((w[keep], (r[keep], c[keep])), shape=(n, n)).tocsr()
    return (adj + adj.T).tocsr()


def walk_ppmi(adj: Any, window: int = 5) -> np.ndarray:
    """Dense ``max(0, log(vol/T · Σ_{r=1..T} P^r D^{-1}))`` symmetrised: the positive PMI of DeepWalk's
    window-``T`` co-occurrences (Qiu et al., *Network Embedding as Matrix Factorization*, WSDM 2018)."""
    n = adj.shape[0]
    deg = np.asarray(adj.sum(axis=1)).ravel()
    inv = 1.0 / np.maximum(deg, 1e-12)
    P = (adj.multiply(inv[:, None])).tocsr()
    acc = np.zeros((n, n))
    cur = np.eye(n)
    for _ in range(window):
        cur = P @ cur
        acc += cur
    acc *= (deg.sum() / window) * inv[None, :]
    np.log(np.maximum(acc, 1.0), out=acc)
    acc += acc.T
    acc *= 0.5
    return acc


def _spectral_parts(S: np.ndarray, k: int | None, kmax: int, min_size: int, seed: int) -> np.ndarray:
    """Labels of a regularised spectral split of the similarity block ``S`` into ``k`` parts
    (None: the largest eigengap among ``2 … kmax``); parts under ``min_size`` join their nearest part."""
    from sklearn.cluster import KMeans

    import scipy.sparse as sp

    m = S.shape[0]
    deg = np.asarray(S.sum(axis=1)).ravel()
    d = 1.0 / np.sqrt(deg + max(deg.mean(), 1e-12))   # regularised (Qin & Rohe, NeurIPS 2013)
    M = (sp.diags(d) @ S @ sp.diags(d)).tocsr() if sp.issparse(S) else d[:, None] * S * d[None, :]
    top = min(m - 1, (k or kmax) + 1)
    if m > 600 or sp.issparse(M):
        from scipy.sparse.linalg import eigsh

        w, v = eigsh(M, k=top, which="LA", v0=np.random.default_rng(seed).standard_normal(m))
    else:
        w, v = np.linalg.eigh(M)
    order = np.argsort(w)[::-1]
    w, v = w[order], v[:, order]
    if k is None:
        ks = np.arange(2, min(kmax, w.size - 1) + 1)
        k = int(ks[np.argmax(w[ks - 1] - w[ks])]) if ks.size else 2
    k = min(k, m)
    X = v[:, :k]
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    km = KMeans(k, n_init=4, random_state=seed % 2**32).fit(X)
    lab = km.labels_.astype(np.int64)
    sizes = np.bincount(lab, minlength=k)
    big = np.flatnonzero(sizes >= min_size)
    if big.size < 2:
        return np.zeros(m, np.int64)
    if big.size < k:   # small parts join the nearest large centre
        small = ~np.isin(lab, big)
        dist = ((X[small, None, :] - km.cluster_centers_[None, big, :]) ** 2).sum(-1)
        lab[small] = big[np.argmin(dist, axis=1)]
    return np.unique(lab, return_inverse=True)[1].astype(np.int64)


def recursive_spectral(graph: GraphView, levels: int = 3, branching: int | None = None, *, min_size: int = 4,
                       window: int = 5, max_branching: int = 8, random_state: Any = None) -> CommunityTree:
    """A community tree of depth ``levels`` by recursive regularised spectral splits of the graph's
    walk-co-occurrence PPMI (``window``; 0: the raw adjacency).

    Each community of at least ``2 · min_size`` nodes is split on the block of the similarity matrix
    over its members (the whole graph's PPMI, so 2–``window``-hop evidence through outside nodes
    counts): the top eigenvectors of ``D_τ^{-1/2} S D_τ^{-1/2}`` (``τ`` = the block's mean degree, the
    regularisation of Qin & Rohe 2013 that keeps sparse blocks from splitting off their periphery),
    rows normalised, k-means with ``k = branching`` (None: the largest eigengap among
    ``2 … max_branching``). Parts under ``min_size`` join the nearest part; a community that does not
    split is its own only child. Dense ``O(n²)`` memory: graphs over 20 000 nodes use the sparse
    adjacency instead of the PPMI.

    Example:
        >>> from vastgraph.datasets.hierarchies import hierarchical_sbm
        >>> g = hierarchical_sbm(2, 3, block_size=10, p_in=0.9, decay=0.1, random_state=0)
        >>> t = recursive_spectral(g, levels=2, branching=3, random_state=0)
        >>> t.sizes
        [3, 9]
    """
    from vastgraph.seeding import derive_int, seed_from

    L = check_int("levels", levels, 1)
    b = None if branching is None else check_int("branching", branching, 2)
    ms = check_int("min_size", min_size, 1)
    T = check_int("window", window, 0)
    kmax = check_int("max_branching", max_branching, 2)
    adj = _adjacency(graph)
    n = adj.shape[0]
    S = walk_ppmi(adj, T) if T > 0 and n <= 20_000 else adj
    seed = seed_from(random_state)
    labels = np.zeros((n, L), np.int64)
    frontier = [np.arange(n, dtype=np.int64)]
    for lv in range(L):
        nxt = []
        for ci, nodes in enumerate(frontier):
            lab = np.zeros(nodes.size, np.int64)
            if nodes.size >= max(2 * ms, 3):
                block = S[np.ix_(nodes, nodes)] if isinstance(S, np.ndarray) else S[nodes][:, nodes]
                if (block.any() if isinstance(block, np.ndarray) else block.nnz):
                    lab = _spectral_parts(block, b, kmax, ms, derive_int(seed, lv, ci))
            for part in range(int(lab.max()) + 1):
                members = nodes[lab == part]
                labels[members, lv] = len(nxt)
                nxt.append(members)
        frontier = nxt
    return tree_from_paths(labels)
