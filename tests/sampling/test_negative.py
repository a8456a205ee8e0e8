"""Negative sampling: uniform / degree^0.75 distributions, exclusion, edge corruption, bad input."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy.stats import chisquare

from vastgraph.errors import SchemaError, UnknownIdError, ValidationError
from vastgraph.graph import GraphBuilder
from vastgraph.sampling.negative import corrupt_edges, node_degrees, sample_negatives

ALPHA = 1e-3


@pytest.fixture(scope="module")
def skewed():
    """Undirected graph with very unequal degrees: a hub, a chain and a few cliques."""
    src, dst = [], []
    for v in range(1, 30):  # hub 0
        src.append(0)
        dst.append(v)
    for v in range(30, 49):  # chain
        src.append(v)
        dst.append(v + 1)
    for a in range(5, 10):
        for b in range(a + 1, 10):
            src.append(a)
            dst.append(b)
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes("node", count=52)  # 50, 51 isolated
    b.add_edges(np.array(src), np.array(dst))
    return b.build()


@pytest.fixture(scope="module")
def bipartite():
    rng = np.random.default_rng(1)
    b = GraphBuilder(directed=True, id_mode="dense")
    b.add_nodes("user", count=30)
    b.add_nodes("item", count=20)
    b.add_edges(rng.integers(0, 30, 200), rng.integers(0, 20, 200), etype=("user", "click", "item"))
    return b.build()


def test_uniform_negatives(skewed):
    x = sample_negatives(skewed, 52000, random_state=0)
    assert x.dtype == np.int64 and x.min() >= 0 and x.max() < 52
    assert chisquare(np.bincount(x, minlength=52)).pvalue > ALPHA


@pytest.mark.parametrize("power", [0.75, 1.0])
def test_degree_negatives_follow_degree_power(skewed, power):
    n = 60000
    x = sample_negatives(skewed, n, distribution="degree", power=power, random_state=1)
    deg = skewed.out_degree().astype(np.float64)
    assert deg[50] == 0 and not np.isin(x, [50, 51]).any()  # zero degree: never drawn
    p = deg ** power / (deg ** power).sum()
    counts = np.bincount(x, minlength=52)
    keep = p > 0
    assert chisquare(counts[keep], n * p[keep]).pvalue > ALPHA


def test_degree_of_directed_type_counts_out_and_in(bipartite):
    deg_item = node_degrees(bipartite, "item", bipartite.edge_types)
    assert np.array_equal(deg_item, bipartite.in_degree("click"))
    x = sample_negatives(bipartite, 40000, ntype="item", etype="click", distribution="degree", random_state=2)
    p = deg_item.astype(float) ** 0.75
    p /= p.sum()
    counts = np.bincount(x, minlength=20)
    assert chisquare(counts[p > 0], 40000 * p[p > 0]).pvalue > ALPHA


def test_excluded_neighbours_never_drawn(skewed):
    # node 0 is adjacent to 1..29 (29 of 52 nodes): many re-draws are needed
    anchors = np.repeat([0, 5, 30], 3000)
    x = sample_negatives(skewed, exclude_neighbors_of=anchors, random_state=3)
    assert x.size == anchors.size
    assert not skewed.has_edges(anchors, x).any()
    for u in (0, 5, 30):  # the allowed nodes are drawn uniformly
        allowed = np.setdiff1d(np.arange(52), skewed.neighbors(u))
        got = np.bincount(x[anchors == u], minlength=52)
        assert got[skewed.neighbors(u)].sum() == 0
        assert chisquare(got[allowed]).pvalue > ALPHA


def test_exact_fallback_keeps_the_distribution():
    # node 0 is adjacent to all but nodes 3 and 4; with no re-draws the exact fallback must still
    # respect degree^0.75 among the allowed nodes
    b = GraphBuilder(directed=False, id_mode="dense")
    src = [0, 0, 0, 0, 0, 3, 3, 3, 4]
    dst = [0, 1, 2, 5, 6, 1, 2, 5, 6]
    b.add_edges(np.array(src), np.array(dst))
    g = b.build()
    x = sample_negatives(g, exclude_neighbors_of=np.zeros(6000, np.int64), distribution="degree",
                         max_retries=0, random_state=4)
    assert set(np.unique(x).tolist()) == {3, 4}
    deg = g.out_degree().astype(float)
    p = deg[[3, 4]] ** 0.75
    counts = np.bincount(x, minlength=5)[[3, 4]]
    assert chisquare(counts, 6000 * p / p.sum()).pvalue > ALPHA


def test_exclusion_impossible_keeps_a_draw():
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_edges(np.array([0, 0, 0]), np.array([0, 1, 2]))  # 0 is adjacent to every node
    g = b.build()
    x = sample_negatives(g, exclude_neighbors_of=[0, 0], random_state=0)
    assert x.shape == (2,) and ((x >= 0) & (x < 3)).all()


def test_corrupt_tail_head_both(bipartite):
    g = bipartite
    src, dst = g.edge_index("click")
    src, dst = src[:50], dst[:50]
    ns, nd = corrupt_edges(g, src, dst, etype="click", num_negatives=4, random_state=5)
    assert ns.shape == (200,) and np.array_equal(ns, np.repeat(src, 4))
    assert nd.max() < 20 and not g.has_edges(ns, nd, etype="click").any()
    hs, hd = corrupt_edges(g, src, dst, etype="click", num_negatives=3, mode="head", random_state=5)
    assert np.array_equal(hd, np.repeat(dst, 3)) and hs.max() < 30
    assert not g.has_edges(hs, hd, etype="click").any()
    bs, bd = corrupt_edges(g, src, dst, etype="click", num_negatives=20, mode="both", random_state=6)
    heads = bs != np.repeat(src, 20)
    tails = bd != np.repeat(dst, 20)
    assert not (heads & tails).any()
    assert 0.4 < heads.mean() / (heads.mean() + tails.mean()) < 0.6
    assert not g.has_edges(bs, bd, etype="click").any()


def test_corrupt_unfiltered_can_hit_true_edges():
    b = GraphBuilder(directed=True, id_mode="dense")
    b.add_edges(np.zeros(9, np.int64), np.arange(1, 10))  # 0 -> every other node
    g = b.build()
    _, nd = corrupt_edges(g, [0], [1], num_negatives=200, filtered=False, random_state=0)
    assert g.has_edges(np.zeros(200, np.int64), nd).any()
    _, nd = corrupt_edges(g, [0], [1], num_negatives=200, filtered=True, random_state=0)
    assert not g.has_edges(np.zeros(200, np.int64), nd).any()


def test_deterministic_on_one_and_two_threads(skewed):
    anchors = np.repeat([0, 5], 5000)
    before = numba.get_num_threads()
    try:
        out = []
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            out.append(sample_negatives(skewed, exclude_neighbors_of=anchors, distribution="degree",
                                        random_state=9))
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(out[0], out[1])
    assert not np.array_equal(out[0], sample_negatives(skewed, exclude_neighbors_of=anchors,
                                                       distribution="degree", random_state=10))


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs,err,msg", [
    (dict(n=-1), ValidationError, "n=-1: expected an int >= 0"),
    (dict(n=2.0), ValidationError, "n=2.0"),
    (dict(n=5, distribution="zipf"), ValidationError, "distribution='zipf': expected one of uniform, degree"),
    (dict(n=5, power=-1), ValidationError, "power=-1"),
    (dict(n=5, max_retries=-1), ValidationError, "max_retries=-1"),
    (dict(n=5, ntype="shop"), SchemaError, "unknown node type 'shop'; known node types: node"),
    (dict(n=5, etype="nope"), SchemaError, "unknown edge type 'nope'; known edge types: node:edge:node"),
    (dict(n=3, exclude_neighbors_of=[0, 1]), ValidationError, "has 2 ids but n=3"),
    (dict(exclude_neighbors_of=[0, 99]), UnknownIdError, r"\[99\] out of range"),
    (dict(exclude_neighbors_of=[0.5]), ValidationError, "expected integer"),
])
def test_bad_sample_negatives(skewed, kwargs, err, msg):
    with pytest.raises(err, match=msg):
        sample_negatives(skewed, **kwargs)


def test_bad_types_for_negatives(bipartite):
    with pytest.raises(SchemaError, match="name one"):
        sample_negatives(bipartite, 3)
    with pytest.raises(ValidationError, match="cannot be neighbours"):
        sample_negatives(bipartite, ntype="user", etype="click", exclude_neighbors_of=[0])
    assert sample_negatives(bipartite, 0, ntype="user").shape == (0,)


@pytest.mark.parametrize("kwargs,err,msg", [
    (dict(num_negatives=0), ValidationError, "num_negatives=0"),
    (dict(mode="middle"), ValidationError, "mode='middle': expected one of tail, head, both"),
    (dict(etype="buy"), SchemaError, "known edge types: user:click:item"),
    (dict(src=[0, 1]), ValidationError, "src has 2 ids but dst has 1"),
    (dict(dst=[25]), UnknownIdError, r"item node id\(s\) \[25\]"),
])
def test_bad_corrupt_edges(bipartite, kwargs, err, msg):
    args = dict(src=[0], dst=[1], etype="click")
    args.update(kwargs)
    with pytest.raises(err, match=msg):
        corrupt_edges(bipartite, **args)
