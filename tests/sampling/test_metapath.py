"""Metapath walks: type pattern, edges, weights, determinism and bad input."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy.stats import chisquare

from vastgraph.errors import EmptyInputError, SchemaError, UnknownIdError, ValidationError
from vastgraph.graph import GraphBuilder, HeteroGraph
from vastgraph.sampling.metapath import metapath_walks
from vastgraph.sampling.walks import random_walks


@pytest.fixture(scope="module")
def ads_graph():
    """query -click-> ad (weighted), ad -by-> advertiser; some ads have no clicks or advertiser."""
    rng = np.random.default_rng(0)
    b = GraphBuilder(directed=True, id_mode="dense", duplicates="sum")
    b.add_nodes("query", count=30)
    b.add_nodes("ad", count=20)
    b.add_nodes("advertiser", count=5)
    q, a = rng.integers(0, 30, 150), rng.integers(0, 17, 150)  # ads 17..19 never clicked
    b.add_edges(q, a, etype=("query", "click", "ad"), weight=rng.uniform(0.5, 3.0, 150))
    ads = np.arange(15)  # ads 15..19 have no advertiser
    b.add_edges(ads, ads % 5, etype=("ad", "by", "advertiser"))
    return b.build()


def node_types(g, walks):
    t = np.full(walks.shape, -1)
    ok = walks >= 0
    t[ok] = g.from_global(walks[ok])[0]
    return t


def test_types_cycle_and_edges_exist(ads_graph):
    g = ads_graph
    mp = ["query:click:ad", "~query:click:ad"]
    w = metapath_walks(g, mp, walks_per_node=4, walk_length=6, random_state=0)
    assert w.dtype == np.int64 and w.shape == (30 * 4, 7)
    types = node_types(g, w)
    expect = np.array([0, 1, 0, 1, 0, 1, 0])  # query, ad, query, ...
    ok = w >= 0
    assert (types[ok] == np.broadcast_to(expect, w.shape)[ok]).all()
    off = g.node_offsets()
    for j in range(6):
        u, v = w[:, j], w[:, j + 1]
        step = (u >= 0) & (v >= 0)
        if j % 2 == 0:
            assert g.has_edges(u[step] - off["query"], v[step] - off["ad"], etype="click").all()
        else:
            assert g.has_edges(v[step] - off["query"], u[step] - off["ad"], etype="click").all()
    assert (w[:, 0] - off["query"] == np.tile(np.arange(30), 4)).all()
    # queries without clicks stop at once; padding is a suffix
    assert ((w[:, :-1] < 0) <= (w[:, 1:] < 0)).all()


def test_longer_metapath_and_dead_ends(ads_graph):
    g = ads_graph
    mp = ["by", "~by", "~click", "click"]  # ad -> advertiser -> ad -> query -> ad
    start = np.arange(20)
    w = metapath_walks(g, mp, start=start, walks_per_node=3, walk_length=9, random_state=1)
    types = node_types(g, w)
    expect = np.array([1, 2, 1, 0, 1, 2, 1, 0, 1, 2])
    ok = w >= 0
    assert (types[ok] == np.broadcast_to(expect, w.shape)[ok]).all()
    # ads 15..19 have no advertiser: their walks are the start node then padding
    no_adv = np.isin(w[:, 0] - g.node_offsets()["ad"], np.arange(15, 20))
    assert (w[no_adv, 1:] == -1).all()
    assert (w[~no_adv, 1] >= 0).all()


def test_weighted_step_follows_weights(ads_graph):
    g = ads_graph
    adj = g.adjacency("click")
    u = int(np.argmax(np.diff(adj.indptr)))
    a, b = adj.indptr[u], adj.indptr[u + 1]
    nbr, wts = adj.indices[a:b], adj.weight[a:b].astype(np.float64)
    w = metapath_walks(g, ["click", "~click"], start=[u], walks_per_node=40_000, walk_length=1,
                       random_state=3)
    got = w[:, 1] - g.node_offsets()["ad"]
    counts = np.array([(got == x).sum() for x in nbr])
    assert counts.sum() == w.shape[0]
    assert chisquare(counts, wts / wts.sum() * counts.sum()).pvalue > 1e-3
    w0 = metapath_walks(g, ["click", "~click"], start=[u], walks_per_node=40_000, walk_length=1,
                        weighted=False, random_state=3)
    got0 = w0[:, 1] - g.node_offsets()["ad"]
    counts0 = np.array([(got0 == x).sum() for x in nbr])
    assert chisquare(counts0).pvalue > 1e-3
    assert chisquare(counts0, wts / wts.sum() * counts0.sum()).pvalue < 1e-6


def test_determinism_across_threads(ads_graph):
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = metapath_walks(ads_graph, ["click", "~click"], walks_per_node=50, walk_length=9, random_state=7)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = metapath_walks(ads_graph, ["click", "~click"], walks_per_node=50, walk_length=9, random_state=7)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one, two)
    other = metapath_walks(ads_graph, ["click", "~click"], walks_per_node=50, walk_length=9, random_state=8)
    assert not np.array_equal(one, other)


def test_short_walk_needs_no_cycle(ads_graph):
    w = metapath_walks(ads_graph, ["click", "by"], walk_length=1, walks_per_node=1, random_state=0)
    assert w.shape == (30, 2)
    w2 = metapath_walks(ads_graph, ["click", "by"], walk_length=2, walks_per_node=1, random_state=0)
    ok = w2[:, 2] >= 0
    assert (node_types(ads_graph, w2[ok])[:, 2] == 2).all()


# ------------------------------------------------------------------------- bad input
def test_metapath_must_chain(ads_graph):
    with pytest.raises(ValidationError, match="step 0 .* ends at node type 'ad' but step 1"):
        metapath_walks(ads_graph, ["click", "click"])
    with pytest.raises(ValidationError, match="cycle"):
        metapath_walks(ads_graph, ["click", "by"], walk_length=3)


@pytest.mark.parametrize("mp", [[], "click", "query:click:ad", None, 5])
def test_metapath_not_a_list(ads_graph, mp):
    with pytest.raises(ValidationError, match="metapath="):
        metapath_walks(ads_graph, mp)


def test_unknown_edge_type_lists_known(ads_graph):
    with pytest.raises(SchemaError, match="query:click:ad"):
        metapath_walks(ads_graph, ["click", "~views"])


def test_bad_start_counts_and_weights(ads_graph):
    mp = ["click", "~click"]
    with pytest.raises(UnknownIdError):
        metapath_walks(ads_graph, mp, start=[30])
    with pytest.raises(EmptyInputError):
        metapath_walks(ads_graph, mp, start=[])
    with pytest.raises(ValidationError, match="walk_length"):
        metapath_walks(ads_graph, mp, walk_length=0)
    with pytest.raises(ValidationError, match="walks_per_node"):
        metapath_walks(ads_graph, mp, walks_per_node=0)
    with pytest.raises(ValidationError, match="no weights"):
        metapath_walks(ads_graph, ["click", "by"], walk_length=2, weighted=True)
    with pytest.raises(ValidationError, match="weighted="):
        metapath_walks(ads_graph, mp, weighted=1.5)


def test_single_step_metapath_is_the_first_order_walk():
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes("item", count=3)
    rng = np.random.default_rng(1)
    b.add_edges(rng.integers(0, 30, 200), rng.integers(0, 30, 200), etype=("user", "knows", "user"),
                weight=rng.uniform(0.1, 1.0, 200))
    g = b.build()
    off = g.node_offsets()["user"]
    for weighted in (True, False):
        mp = metapath_walks(g, ["knows"], walks_per_node=3, walk_length=7, weighted=weighted, random_state=5)
        rw = random_walks(g, etype="knows", walks_per_node=3, walk_length=7, weighted=weighted,
                          random_state=5)
        assert np.array_equal(mp, np.where(rw >= 0, rw.astype(np.int64) + off, -1))


def test_memory_mapped_store(ads_graph, tmp_path):
    ads_graph.save(str(tmp_path / "g"))
    g = HeteroGraph.open(str(tmp_path / "g"))
    assert not g.adjacency("click").indices.flags.writeable
    mp = ["click", "by", "~by", "~click"]
    a = metapath_walks(ads_graph, mp, walks_per_node=2, walk_length=8, random_state=4)
    b = metapath_walks(g, mp, walks_per_node=2, walk_length=8, random_state=4)
    assert np.array_equal(a, b)
