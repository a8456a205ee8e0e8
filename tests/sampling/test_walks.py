"""Uniform, weighted and node2vec walks: transition laws, structure, determinism, bad input."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy.stats import chisquare

from vastgraph.errors import EmptyInputError, SchemaError, UnknownIdError, ValidationError
from vastgraph.graph import (Adjacency, EdgeType, EdgeTypeData, GraphBuilder, HeteroGraph, IdIndex,
                             NodeTypeData)
from vastgraph.sampling import walks as walks_mod
from vastgraph.sampling.walk_kernels import _maybe_edge, build_edge_filter
from vastgraph.sampling.walks import random_walks


@numba.njit
def maybe_edges(bits, shift, us, xs):
    out = np.empty(us.shape[0], np.bool_)
    for i in range(us.shape[0]):
        out[i] = _maybe_edge(bits, shift, us[i], xs[i])
    return out

# undirected weighted graph used for the node2vec laws: from state (t=0, v=1) the neighbours of 1
# are 0 (= t), 2 (a neighbour of 0) and 3, 4 (not neighbours of 0); from (t=2, v=1) they are
# 0 and 4 (neighbours of 2), 2 (= t) and 3 (not a neighbour of 2).
EDGES = [(0, 1, 1.5), (0, 2, 2.0), (1, 2, 2.5), (1, 3, 3.0), (1, 4, 0.5), (2, 4, 1.0), (3, 5, 2.0),
         (4, 5, 1.0)]


def build(edges, *, directed=False, weighted=True, n=None, etype=None):
    b = GraphBuilder(directed=directed, id_mode="dense")
    src = np.array([e[0] for e in edges], dtype=np.int64)
    dst = np.array([e[1] for e in edges], dtype=np.int64)
    w = np.array([e[2] for e in edges], dtype=np.float32) if weighted else None
    if n is not None:
        b.add_nodes("node", count=n)
    b.add_edges(src, dst, weight=w, etype=etype)
    return b.build()


@pytest.fixture(scope="module")
def wgraph():
    return build(EDGES)


def neighbours(g, v):
    adj = g.adjacency()
    a, b = adj.indptr[v], adj.indptr[v + 1]
    w = np.ones(b - a) if adj.weight is None else np.asarray(adj.weight[a:b], dtype=np.float64)
    return np.asarray(adj.indices[a:b]), w


def node2vec_probs(g, t, v, p, q, weighted):
    nbr_v, w_v = neighbours(g, v)
    nbr_t, _ = neighbours(g, t)
    if not weighted:
        w_v = np.ones_like(w_v)
    alpha = np.where(nbr_v == t, 1.0 / p, np.where(np.isin(nbr_v, nbr_t), 1.0, 1.0 / q))
    nodes, inv = np.unique(nbr_v, return_inverse=True)  # parallel edges add up
    pr = np.bincount(inv, weights=w_v * alpha)
    return nodes, pr / pr.sum()


def transition_counts(walks, col, cond, targets):
    """Counts of walks[:, col] over ``targets`` among rows where ``cond`` holds."""
    nxt = walks[cond, col]
    assert np.isin(nxt, targets).all(), "a walk moved to a node that is not a neighbour"
    return np.array([(nxt == x).sum() for x in targets])


def chi2_pvalue(counts, probs):
    return chisquare(counts, f_exp=probs * counts.sum()).pvalue


# ------------------------------------------------------------------------- transition laws
@pytest.mark.parametrize("weighted", [False, True])
def test_first_order_transitions(wgraph, weighted):
    w = random_walks(wgraph, start=[1], walks_per_node=60_000, walk_length=1, weighted=weighted,
                     random_state=3)
    nbr, wts = neighbours(wgraph, 1)
    probs = wts / wts.sum() if weighted else np.full(nbr.size, 1.0 / nbr.size)
    counts = transition_counts(w, 1, np.ones(w.shape[0], bool), nbr)
    assert chi2_pvalue(counts, probs) > 1e-3
    other = np.full(nbr.size, 1.0 / nbr.size) if weighted else wts / wts.sum()
    assert chi2_pvalue(counts, other) < 1e-9  # the test can tell the two laws apart


PQ = [(1.0, 0.5), (0.25, 4.0), (4.0, 0.25), (0.5, 2.0), (2.0, 1.0), (1.0, 2.0), (0.25, 1.0)]


@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("p,q", PQ)
def test_node2vec_transitions(wgraph, p, q, weighted):
    w = random_walks(wgraph, start=[0, 2], walks_per_node=150_000, walk_length=2, p=p, q=q,
                     weighted=weighted, random_state=11)
    for t in (0, 2):
        nbr, probs = node2vec_probs(wgraph, t, 1, p, q, weighted)
        counts = transition_counts(w, 2, (w[:, 0] == t) & (w[:, 1] == 1), nbr)
        assert counts.sum() > 25_000
        assert chi2_pvalue(counts, probs) > 1e-3, (t, counts, probs)
        _, first_order = node2vec_probs(wgraph, t, 1, 1.0, 1.0, weighted)
        if (p, q) != (1.0, 1.0):
            assert chi2_pvalue(counts, first_order) < 1e-6  # not silently first order (q < 1 too)


def test_node2vec_later_steps_follow_the_law(wgraph):
    p, q = 0.5, 3.0
    w = random_walks(wgraph, walks_per_node=6_000, walk_length=12, p=p, q=q, random_state=5)
    triples = np.stack([w[:, :-2].ravel(), w[:, 1:-1].ravel(), w[:, 2:].ravel()], axis=1)
    for t in (0, 2):
        nbr, probs = node2vec_probs(wgraph, t, 1, p, q, True)
        counts = transition_counts(triples, 2, (triples[:, 0] == t) & (triples[:, 1] == 1), nbr)
        assert counts.sum() > 5_000
        assert chi2_pvalue(counts, probs) > 1e-3


@pytest.mark.parametrize("p,q", [(1.0, 1e-3), (1e-3, 1.0), (1e-3, 1e-3)])
def test_node2vec_extreme_parameters(p, q):
    # N(1) = {0, 2} and 2 ∈ N(0): with q = 1e-3 almost every proposal is rejected and the exact
    # fallback draws the step; with p = 1e-3 the folded return edge dominates.
    g = build([(0, 1, 1.0), (0, 2, 1.0), (1, 2, 2.0), (2, 3, 1.0)])
    w = random_walks(g, start=[0], walks_per_node=100_000, walk_length=2, p=p, q=q, random_state=2)
    nbr, probs = node2vec_probs(g, 0, 1, p, q, True)
    counts = transition_counts(w, 2, w[:, 1] == 1, nbr)
    assert chi2_pvalue(counts, probs) > 1e-3, (counts, probs)


@pytest.mark.parametrize("p,q", [(0.25, 4.0), (1.0, 0.5)])
def test_node2vec_directed(p, q):
    # directed: from (t=0, v=1), 1's out-neighbours are 2 (an out-neighbour of 0), 3 and 4 (not);
    # there is no edge 1 -> 0, so no return.
    g = build([(0, 1, 1.0), (0, 2, 1.0), (1, 2, 2.0), (1, 3, 1.0), (1, 4, 1.5), (2, 0, 1.0)],
              directed=True)
    w = random_walks(g, start=[0], walks_per_node=80_000, walk_length=2, p=p, q=q, random_state=4)
    nbr, probs = node2vec_probs(g, 0, 1, p, q, True)
    counts = transition_counts(w, 2, w[:, 1] == 1, nbr)
    assert chi2_pvalue(counts, probs) > 1e-3


@pytest.mark.parametrize("p,q", [(0.25, 4.0), (0.5, 1.0)])
def test_node2vec_return_edge_lookups(p, q):
    # 1/p > max(1, 1/q): the return edge's weight is looked up; directed (1 -> 0 weighs 3, unlike
    # 0 -> 1), undirected with a parallel edge (0-1 twice) and undirected with direction-dependent
    # weights (duplicates="first" of 0-1 and 1-0) all need the search in v's row.
    directed = build([(0, 1, 1.0), (1, 0, 3.0), (1, 2, 1.0), (1, 3, 2.0), (0, 2, 1.0), (2, 1, 1.0)],
                     directed=True)
    b = GraphBuilder(directed=False, id_mode="dense", duplicates="keep")
    b.add_edges([0, 0, 1, 1, 0, 2], [1, 1, 2, 3, 2, 3], weight=[1.0, 2.0, 1.0, 2.0, 1.0, 1.0])
    parallel = b.build()
    # an undirected store whose symmetric CSR has direction-dependent weights (0->1: 1, 1->0: 3)
    csr = Adjacency(np.array([0, 2, 5, 8, 10]), np.array([1, 2, 0, 2, 3, 0, 1, 3, 1, 2], np.int32),
                    np.array([1, 1, 3, 1, 2, 1, 1, 1, 2, 1], np.float32), None, 4)
    et = EdgeType("node", "edge", "node")
    uneven = HeteroGraph({"node": NodeTypeData("node", IdIndex.range(4))},
                         {et: EdgeTypeData(et, csr, None, undirected=True)})
    for g in (directed, parallel, uneven):
        w = random_walks(g, start=[0], walks_per_node=100_000, walk_length=2, p=p, q=q, random_state=8)
        nbr, probs = node2vec_probs(g, 0, 1, p, q, True)
        counts = transition_counts(w, 2, w[:, 1] == 1, nbr)
        assert chi2_pvalue(counts, probs) > 1e-3, (counts, probs)


def test_edge_filter_has_no_false_negatives_and_ignores_thread_count():
    g = random_directed_graph(seed=5, n=300, m=5000)
    adj = g.adjacency()
    one = build_edge_filter(adj.indptr, adj.indices, 9, 1)
    assert np.array_equal(one, build_edge_filter(adj.indptr, adj.indices, 9, 3))
    src, dst = g.edge_index()
    assert maybe_edges(one, np.uint64(64 - 9), src, dst).all()
    rng = np.random.default_rng(0)
    u, x = rng.integers(0, 300, 20_000), rng.integers(0, 300, 20_000)
    absent = ~g.has_edges(u, x)
    false_pos = maybe_edges(one, np.uint64(64 - 9), u[absent], x[absent]).mean()
    assert false_pos < 0.5  # the filter answers "no" for most non-edges
    assert maybe_edges(np.empty(0, np.uint64), np.uint64(0), u, x).all()  # no filter: always "maybe"


# ------------------------------------------------------------------------- structure
def random_directed_graph(seed=0, n=60, m=400, weighted=True):
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n - 5, m)  # nodes n-5 .. n-1 have no out-edges: dead ends
    dst = rng.integers(0, n, m)
    b = GraphBuilder(directed=True, id_mode="dense")
    b.add_nodes("node", count=n)
    b.add_edges(src, dst, weight=rng.uniform(0.1, 2.0, m) if weighted else None)
    return b.build()


MODES = [dict(), dict(weighted=False), dict(p=0.5, q=2.0), dict(p=2.0, q=0.5, weighted=False)]


@pytest.mark.parametrize("kw", MODES)
def test_walks_use_existing_edges_and_pad_dead_ends(kw):
    g = random_directed_graph()
    w = random_walks(g, walks_per_node=5, walk_length=30, random_state=1, **kw)
    assert w.dtype == np.int32 and w.shape == (60 * 5, 31)
    assert (w[:, 0] == np.tile(np.arange(60), 5)).all()  # repetition-major order
    u, v = w[:, :-1].ravel(), w[:, 1:].ravel()
    step = (u >= 0) & (v >= 0)
    assert g.has_edges(u[step], v[step]).all()
    # padding: once -1, always -1; a walk ends only where the node has no out-edges
    assert ((u < 0) <= (v < 0)).all()
    ended = (u >= 0) & (v < 0)
    assert ended.any()
    assert (g.out_degree()[u[ended]] == 0).all()


def test_start_subset_and_duplicates(wgraph):
    w = random_walks(wgraph, start=np.array([5, 5, 2]), walks_per_node=3, walk_length=4, random_state=0)
    assert w.shape == (9, 5)
    assert w[:, 0].tolist() == [5, 5, 2] * 3
    assert not np.array_equal(w[0], w[1]) or not np.array_equal(w[3], w[4])  # own streams per walk


def test_isolated_start_node_walk_is_padding():
    g = build([(0, 1, 1.0)], n=3)
    w = random_walks(g, start=[2], walks_per_node=2, walk_length=3, random_state=0, p=0.5)
    assert w.tolist() == [[2, -1, -1, -1], [2, -1, -1, -1]]


@pytest.mark.parametrize("kw", MODES)
def test_same_seed_same_walks_on_one_and_two_threads(kw, monkeypatch):
    g = random_directed_graph(seed=2)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = random_walks(g, walks_per_node=20, walk_length=12, random_state=42, **kw)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = random_walks(g, walks_per_node=20, walk_length=12, random_state=42, **kw)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one, two)
    seen = []
    monkeypatch.setattr(walks_mod, "_CHUNK_STEPS", 13 * 100)  # chunks of 1024 walks
    chunked = random_walks(g, walks_per_node=20, walk_length=12, random_state=42,
                           progress=lambda done, total: seen.append((done, total)), **kw)
    assert np.array_equal(one, chunked)
    assert seen[-1] == (1200, 1200) and len(seen) == 2
    other = random_walks(g, walks_per_node=20, walk_length=12, random_state=43, **kw)
    assert not np.array_equal(one, other)
    gen = random_walks(g, walks_per_node=20, walk_length=12, random_state=np.random.default_rng(42), **kw)
    assert gen.shape == one.shape


def test_first_order_fast_path_equals_p_q_one(wgraph):
    a = random_walks(wgraph, walks_per_node=4, walk_length=10, p=1, q=1, random_state=9)
    b = random_walks(wgraph, walks_per_node=4, walk_length=10, random_state=9)
    assert np.array_equal(a, b)


def test_zero_weight_edges_are_never_taken():
    g = build([(0, 1, 0.0), (0, 2, 1.0), (0, 3, 2.0)], directed=True, n=4)
    w = random_walks(g, start=[0], walks_per_node=5000, walk_length=1, random_state=1)
    assert set(np.unique(w[:, 1]).tolist()) == {2, 3}
    w2 = random_walks(g, start=[0], walks_per_node=5000, walk_length=1, weighted=False, random_state=1)
    assert set(np.unique(w2[:, 1]).tolist()) == {1, 2, 3}


def test_typed_edge_type_selection():
    b = GraphBuilder(directed=False)
    b.add_edges([0, 1], [1, 2], etype=("user", "follows", "user"))
    b.add_edges([0], [0], etype=("user", "buys", "item"))
    g = b.build()
    w = random_walks(g, etype="follows", walks_per_node=10, walk_length=5, random_state=0)
    u, v = w[:, :-1].ravel(), w[:, 1:].ravel()
    assert g.has_edges(u, v, etype="follows").all()


# ------------------------------------------------------------------------- bad input
def test_bad_edge_types():
    b = GraphBuilder(directed=False)
    b.add_edges([0, 1], [1, 2], etype=("user", "follows", "user"))
    b.add_edges([0], [0], etype=("user", "buys", "item"))
    g = b.build()
    with pytest.raises(SchemaError, match="user:follows:user"):
        random_walks(g, etype="likes")
    with pytest.raises(SchemaError, match="name one"):
        random_walks(g)
    with pytest.raises(ValidationError, match="metapath_walks"):
        random_walks(g, etype="buys")


@pytest.mark.parametrize("start,err", [([0, 6], UnknownIdError), ([-1], UnknownIdError),
                                       ([], EmptyInputError), ([[0, 1]], ValidationError),
                                       ([0.5], ValidationError)])
def test_bad_start(wgraph, start, err):
    with pytest.raises(err):
        random_walks(wgraph, start=start)


@pytest.mark.parametrize("name", ["p", "q"])
@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), "x", None])
def test_bad_p_q(wgraph, name, value):
    with pytest.raises(ValidationError, match=f"{name}="):
        random_walks(wgraph, **{name: value})


@pytest.mark.parametrize("name", ["walk_length", "walks_per_node"])
@pytest.mark.parametrize("value", [0, -3, 2.5, True, "4"])
def test_bad_counts(wgraph, name, value):
    with pytest.raises(ValidationError, match=name):
        random_walks(wgraph, **{name: value})


def test_bad_weighting_and_seed():
    g = build([(0, 1, 1.0), (1, 2, 1.0)], weighted=False)
    with pytest.raises(ValidationError, match="no weights"):
        random_walks(g, weighted=True)
    with pytest.raises(ValidationError, match="weighted="):
        random_walks(g, weighted="yes")
    with pytest.raises(ValidationError, match="random_state"):
        random_walks(g, random_state=-1)
    with pytest.raises(ValidationError, match="random_state"):
        random_walks(g, random_state="seed")
    neg = build([(0, 1, -1.0), (1, 2, 1.0)])
    with pytest.raises(ValidationError, match="negative weights"):
        random_walks(neg)
    assert random_walks(neg, weighted=False, walk_length=2, random_state=0).shape == (30, 3)


def test_empty_graph_type():
    b = GraphBuilder(directed=False)
    b.add_nodes("node", count=0)
    b.add_edge_type(("node", "edge", "node"))
    with pytest.raises(EmptyInputError, match="no nodes"):
        random_walks(b.build())


def test_memory_mapped_store_gives_the_same_walks(wgraph, tmp_path):
    wgraph.save(str(tmp_path / "g"))
    g = HeteroGraph.open(str(tmp_path / "g"))
    for kw in MODES:
        a = random_walks(wgraph, walks_per_node=3, walk_length=9, random_state=6, **kw)
        b = random_walks(g, walks_per_node=3, walk_length=9, random_state=6, **kw)
        assert np.array_equal(a, b)
