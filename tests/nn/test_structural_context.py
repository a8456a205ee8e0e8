"""StructuralContext: radii, pairs, statistics and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.errors import EmptyInputError, SchemaError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.sampling.structural_context import StructuralContext, walk_pairs
from vastgraph.sampling.anonymous import anonymize, receptive_radius


def cycle_and_triangles():
    """A 6-cycle (nodes 0..5) and two disjoint triangles (6..8, 9..11): every node has degree 2."""
    src = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    dst = [1, 2, 3, 4, 5, 0, 7, 8, 6, 10, 11, 9]
    b = GraphBuilder(directed=False)
    b.add_nodes("node", ids=np.arange(12))
    b.add_edges(src, dst)
    return b.build()


def small_graph():
    b = GraphBuilder(directed=False)
    b.add_nodes("node", ids=np.arange(6))
    b.add_edges([0, 1, 2, 2, 3, 4], [1, 2, 0, 3, 4, 5])
    return b.build()


def test_radius_formula_and_pairs_on_hand_made_walks():
    walks = np.array([[0, 1, 0, 1, 0],     # 2 distinct nodes: r = 2*4 // 2 = 4
                      [0, 1, 2, 3, 4],     # 5 distinct: r = 8 // 5 = 1
                      [7, 8, 9, 8, -1],    # 3 distinct (padding ignored): r = 8 // 3 = 2
                      [3, -1, -1, -1, -1]])  # dead end: 1 distinct, r = 8, but no neighbours
    r = receptive_radius(anonymize(walks), 4)
    assert r.tolist() == [4, 1, 2, 8]
    count, nbr, typ = walk_pairs(walks, r, np.array([5, 6, 7, 8]))
    assert count.tolist() == [4, 1, 2, 0]
    assert nbr.tolist() == [1, 0, 1, 0, 1, 8, 9]
    assert typ.tolist() == [5, 5, 5, 5, 6, 7, 7]


def test_context_arrays_follow_the_walks():
    g = small_graph()
    ctx = StructuralContext.build(g, walks_per_node=6, walk_length=5, min_count=1, window=2, random_state=3)
    n, L = 6, 6
    assert ctx.walks.shape == (n * 6, L)
    assert ctx.walk_indptr.tolist() == list(range(0, n * 6 + 1, 6))
    assert (ctx.walks[:, 0] == np.repeat(np.arange(n), 6)).all()
    distinct = np.array([len(set(w[w >= 0].tolist())) for w in ctx.walks])
    assert (ctx.walk_radius == (2 * 5) // distinct).all()
    # pairs of every walk: positions 1..r, in order, with the walk's type
    for i, w in enumerate(ctx.walks):
        lo, hi = ctx.walk_pair_indptr[i], ctx.walk_pair_indptr[i + 1]
        expect = w[1:1 + ctx.walk_radius[i]]
        assert ctx.pair_nbr[lo:hi].tolist() == expect[expect >= 0].tolist()
        assert (ctx.pair_type[lo:hi] == ctx.walk_type[i]).all()
    # node CSR over the same pairs
    assert ctx.pair_indptr[-1] == ctx.pair_nbr.size
    for v in range(n):
        assert ctx.pair_indptr[v + 1] - ctx.pair_indptr[v] == \
            ctx.walk_pair_indptr[ctx.walk_indptr[v + 1]] - ctx.walk_pair_indptr[ctx.walk_indptr[v]]
    # skip-gram contexts: positions 1..window of each walk
    assert ctx.ctx_indptr[-1] == int((ctx.walks[:, 1:3] >= 0).sum())
    assert sorted(ctx.ctx_nodes[ctx.ctx_indptr[0]:ctx.ctx_indptr[1]].tolist()) == \
        sorted(ctx.walks[:6, 1:3].ravel().tolist())
    # every type id decodes to its walk's anonymous form (min_count=1: no "other")
    anon = anonymize(ctx.walks)
    assert (ctx.vocabulary.types[ctx.walk_type] == anon).all()
    assert ctx.n_types == len(ctx.vocabulary) + 1


def test_distribution_zscore_and_above_average_types():
    ctx = StructuralContext.build(small_graph(), walks_per_node=10, walk_length=4, min_count=1, random_state=0)
    dist = ctx.distribution()
    assert np.allclose(dist.sum(axis=1), 1.0)
    z = ctx.zscored()
    assert z.dtype == np.float32 and z.shape == (6, ctx.n_types)
    assert np.allclose(z.mean(axis=0), 0.0, atol=1e-5)
    counts = ctx.counts.toarray()
    for v in range(6):
        above = set(ctx.above_types[ctx.above_indptr[v]:ctx.above_indptr[v + 1]].tolist())
        assert above == set(np.flatnonzero(counts[v] > counts[v].sum() / ctx.n_types).tolist())
    rng = np.random.default_rng(0)
    n_triplets = 0
    for v in range(6):
        i, j, k = ctx.sample_triplets([v], 5, rng)
        n_triplets += i.size
        avg = counts[v].sum() / ctx.n_types
        assert (counts[v][i] > avg).all() and (counts[v][j] > avg).all() and (counts[v][k] <= avg).all()
    assert n_triplets > 0


def test_rare_types_map_to_other():
    ctx = StructuralContext.build(small_graph(), walks_per_node=5, walk_length=6, min_count=10**6, random_state=1)
    assert len(ctx.vocabulary) == 1 and ctx.n_types == 2
    assert set(np.unique(ctx.walk_type).tolist()) <= {0, 1}
    assert (ctx.walk_type == 1).any()  # "other"


def test_same_seed_same_context_and_sampling():
    a = StructuralContext.build(small_graph(), walks_per_node=4, walk_length=4, random_state=7)
    b = StructuralContext.build(small_graph(), walks_per_node=4, walk_length=4, random_state=7)
    assert (a.walks == b.walks).all() and (a.pair_type == b.pair_type).all()
    s1 = a.sample_pairs(np.arange(6), 3, np.random.default_rng(1))
    s2 = b.sample_pairs(np.arange(6), 3, np.random.default_rng(1))
    assert all((x == y).all() for x, y in zip(s1, s2))
    pos, nbr, typ, valid = s1
    assert valid.all()
    assert (a.pair_nbr[pos] == nbr).all() and (a.pair_type[pos] == typ).all()
    for v in range(6):  # drawn pairs belong to the node
        assert ((pos[v] >= a.pair_indptr[v]) & (pos[v] < a.pair_indptr[v + 1])).all()


def test_regular_graph_structures_differ_where_1wl_cannot():
    g = cycle_and_triangles()
    assert (g.out_degree() == 2).all()  # 1-WL gives every node the same colour
    ctx = StructuralContext.build(g, walks_per_node=40, walk_length=8, p=1.0, q=1.0, min_count=1, random_state=0)
    distinct = ctx.vocabulary.types.max(axis=1) + 1
    counts = ctx.counts.toarray()[:, :-1]
    tri_types = np.flatnonzero(counts[6:].sum(axis=0) > 0)
    cyc_types = np.flatnonzero(counts[:6].sum(axis=0) > 0)
    assert distinct[tri_types].max() <= 3  # a triangle never shows a 4th node
    assert distinct[cyc_types].max() >= 4
    z = ctx.zscored()
    gap = np.linalg.norm(z[:6].mean(axis=0) - z[6:].mean(axis=0))
    assert gap > 1.0


def test_bad_input():
    g = small_graph()
    with pytest.raises(ValidationError, match="walk_length"):
        StructuralContext.build(g, walk_length=1)
    with pytest.raises(ValidationError, match="walks_per_node"):
        StructuralContext.build(g, walks_per_node=0)
    with pytest.raises(ValidationError, match="min_count"):
        StructuralContext.build(g, min_count=0)
    with pytest.raises(ValidationError, match="window"):
        StructuralContext.build(g, window=0)
    with pytest.raises(ValidationError, match="p="):
        StructuralContext.build(g, p=0.0)
    with pytest.raises(ValidationError, match="graph"):
        StructuralContext.build("not a graph")
    with pytest.raises(SchemaError, match="unknown edge type"):
        StructuralContext.build(g, etype="nope:x:nope")
    b = GraphBuilder(directed=False)
    b.add_nodes("node", count=4)
    b.add_edge_type(("node", "edge", "node"))
    with pytest.raises(EmptyInputError, match="no edges"):
        StructuralContext.build(b.build())
    b = GraphBuilder(directed=True)
    b.add_edges(["a"], ["b"], etype=("user", "buys", "item"))
    with pytest.raises(ValidationError, match="same node type"):
        StructuralContext.build(b.build())
    ctx = StructuralContext.build(g, walks_per_node=2, walk_length=3, random_state=0)
    with pytest.raises(ValidationError, match="nodes"):
        ctx.sample_pairs([6], 2, np.random.default_rng(0))
