"""One-hop neighbour sampling: distributions (chi-square), time windows, determinism, bad input."""

from __future__ import annotations

import itertools

import numba
import numpy as np
import pytest
from scipy.stats import chisquare

from vastgraph.errors import SchemaError, UnknownIdError, ValidationError
from vastgraph.graph import GraphBuilder
from vastgraph.sampling.neighbors import SampledNeighbors, sample_neighbors

ALPHA = 1e-3  # chi-square tests with fixed seeds: a wrong distribution gives p ~ 0


def star_graph(weights, times=None, *, directed=True):
    """Node 0 -> nodes 1..k with the given weights (and times)."""
    k = len(weights)
    b = GraphBuilder(directed=directed, id_mode="dense")
    b.add_edges(np.zeros(k, np.int64), np.arange(1, k + 1), weight=np.asarray(weights, np.float32),
                time=None if times is None else np.asarray(times, np.int64))
    return b.build()


@pytest.fixture(scope="module")
def random_graph():
    rng = np.random.default_rng(7)
    n, m = 300, 6000
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_edges(rng.integers(0, n, m), rng.integers(0, n, m), weight=rng.random(m) + 0.05,
                time=rng.integers(0, 1000, m))
    return b.build()


def _rows(s: SampledNeighbors):
    return [s.indices[s.indptr[i]:s.indptr[i + 1]] for i in range(len(s))]


# ----------------------------------------------------------------------------- uniform
def test_uniform_without_replacement_distinct_and_uniform():
    g = star_graph(np.ones(10))
    n_rep, k = 20000, 3
    s = sample_neighbors(g, np.zeros(n_rep, np.int64), k, random_state=1)
    assert s.indptr.tolist() == list(range(0, k * n_rep + 1, k))
    rows = s.indices.reshape(n_rep, k)
    assert (np.sort(rows, axis=1)[:, 1:] != np.sort(rows, axis=1)[:, :-1]).all()  # never repeats
    counts = np.bincount(s.indices, minlength=11)[1:]
    assert chisquare(counts).pvalue > ALPHA
    # uniform over 3-subsets, not only marginally
    subsets = np.sort(rows, axis=1) @ np.array([121, 11, 1])
    _, sub_counts = np.unique(subsets, return_counts=True)
    assert sub_counts.size == 120 and chisquare(sub_counts).pvalue > ALPHA


def test_uniform_without_replacement_large_k_uses_shuffle_path():
    g = star_graph(np.ones(100))
    n_rep, k = 400, 70  # k > 64: partial Fisher-Yates
    s = sample_neighbors(g, np.zeros(n_rep, np.int64), k, random_state=2)
    rows = s.indices.reshape(n_rep, k)
    assert all(np.unique(r).size == k for r in rows)
    assert chisquare(np.bincount(s.indices, minlength=101)[1:]).pvalue > ALPHA


def test_uniform_with_replacement_draws_k_uniformly():
    g = star_graph(np.ones(4))
    s = sample_neighbors(g, np.zeros(5000, np.int64), 6, replace=True, random_state=3)
    assert (s.counts() == 6).all()
    assert chisquare(np.bincount(s.indices, minlength=5)[1:]).pvalue > ALPHA
    rows = s.indices.reshape(-1, 6)
    assert (np.array([np.unique(r).size for r in rows]) < 6).all()  # 6 draws from 4: repeats


def test_small_degree_returns_all_neighbours(random_graph):
    g = random_graph
    nodes = np.arange(g.num_nodes())
    s = sample_neighbors(g, nodes, 25, random_state=0)
    deg = g.out_degree()
    assert (s.counts() == np.minimum(deg, 25)).all()
    for u, row in zip(nodes, _rows(s)):
        if deg[u] <= 25:
            assert sorted(row.tolist()) == sorted(g.neighbors(u).tolist())
        assert np.isin(row, g.neighbors(u)).all()
    assert (np.asarray(g.adjacency().indices)[s.edge_pos] == s.indices).all()


# ----------------------------------------------------------------------------- weighted
def test_weighted_with_replacement_follows_weights():
    w = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    g = star_graph(w)
    s = sample_neighbors(g, np.zeros(4000, np.int64), 5, weighted=True, replace=True, random_state=4)
    counts = np.bincount(s.indices, minlength=6)[1:]
    assert chisquare(counts, counts.sum() * w / w.sum()).pvalue > ALPHA
    assert np.allclose(s.weights, w[s.indices - 1])


def _exact_pair_probs(p):
    """Exact probability of each unordered pair under successive sampling of 2 items."""
    out = {}
    for i, j in itertools.combinations(range(p.size), 2):
        out[(i, j)] = p[i] * p[j] / (1 - p[i]) + p[j] * p[i] / (1 - p[j])
    return out


@pytest.mark.parametrize("w", [
    np.array([1.0, 2.0, 3.0, 4.0, 10.0]),  # deg <= 4k: Efraimidis-Spirakis keys
    np.array([1.0, 2, 3, 4, 5, 6, 1, 1, 2, 8, 0.5, 12]),  # deg > 4k: alias draws with rejection
])
def test_weighted_without_replacement_matches_successive_sampling(w):
    g = star_graph(w)
    n_rep = 30000
    s = sample_neighbors(g, np.zeros(n_rep, np.int64), 2, weighted=True, random_state=5)
    rows = np.sort(s.indices.reshape(n_rep, 2) - 1, axis=1)
    assert (rows[:, 0] != rows[:, 1]).all()
    exact = _exact_pair_probs(w / w.sum())
    keys = list(exact)
    code = {key: i for i, key in enumerate(keys)}
    counts = np.bincount([code[(a, b)] for a, b in rows.tolist()], minlength=len(keys))
    expected = n_rep * np.array([exact[key] for key in keys])
    assert chisquare(counts, expected).pvalue > ALPHA


def test_weighted_without_replacement_first_pick_order():
    # The first pick of successive sampling is proportional to weight.
    w = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    g = star_graph(w)
    s = sample_neighbors(g, np.zeros(8000, np.int64), 3, weighted=True, random_state=6)
    first = s.indices.reshape(-1, 3)[:, 0] - 1
    counts = np.bincount(first, minlength=5)
    assert chisquare(counts, counts.sum() * w / w.sum()).pvalue > ALPHA


def test_weighted_zero_weights_taken_last():
    g = star_graph([0.0, 0.0, 1.0, 2.0])
    s2 = sample_neighbors(g, np.zeros(500, np.int64), 2, weighted=True, random_state=0)
    assert set(s2.indices.tolist()) == {3, 4}
    s3 = sample_neighbors(g, np.zeros(2000, np.int64), 3, weighted=True, random_state=0)
    rows = s3.indices.reshape(-1, 3)
    assert (rows == 4).any(axis=1).all() and (rows == 3).any(axis=1).all()
    zeros = rows[np.isin(rows, [1, 2])]
    assert chisquare(np.bincount(zeros, minlength=3)[1:]).pvalue > ALPHA
    sr = sample_neighbors(g, np.zeros(300, np.int64), 4, weighted=True, replace=True, random_state=0)
    assert not np.isin(sr.indices, [1, 2]).any()


def test_topk_and_full():
    g = star_graph([5.0, 1.0, 7.0, 7.0, 0.5])
    s = sample_neighbors(g, [0, 0], 3, method="topk")
    assert _rows(s)[0].tolist() == [3, 4, 1] and _rows(s)[1].tolist() == [3, 4, 1]  # ties: lower id first
    full = sample_neighbors(g, [0, 1], 3, method="full")
    assert _rows(full)[0].tolist() == [1, 2, 3, 4, 5] and _rows(full)[1].size == 0
    for replace in (False, True):  # k=-1: every edge once, whatever the method
        for method in ("uniform", "weighted"):
            all_ = sample_neighbors(g, [0], -1, method=method, replace=replace, random_state=0)
            assert all_.indices.tolist() == [1, 2, 3, 4, 5]


# ----------------------------------------------------------------------------- time windows
@pytest.mark.parametrize("method,replace", [("uniform", False), ("uniform", True), ("weighted", False),
                                            ("weighted", True), ("topk", False), ("full", False)])
def test_time_window_respected(random_graph, method, replace):
    g = random_graph
    nodes = np.arange(g.num_nodes())
    s = sample_neighbors(g, nodes, 4, method=method, replace=replace, time_window=(200, 600), random_state=0)
    assert ((s.times >= 200) & (s.times < 600)).all()
    adj = g.adjacency()
    t = np.asarray(adj.time)
    row_of_entry = np.repeat(np.arange(adj.n_rows), adj.degree())
    in_window = np.bincount(row_of_entry[(t >= 200) & (t < 600)], minlength=adj.n_rows)
    if method == "full":
        assert (s.counts() == in_window).all()
    elif replace:
        assert (s.counts() == np.where(in_window > 0, 4, 0)).all()
    else:
        assert (s.counts() == np.minimum(in_window, 4)).all()
    sb = sample_neighbors(g, nodes, 4, method=method, replace=replace, before=300, random_state=0)
    assert (sb.times < 300).all() and sb.indices.size > 0


def test_weighted_with_replacement_inside_window_follows_weights():
    w = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 50.0])
    times = np.array([1, 2, 3, 4, 5, 99])
    g = star_graph(w, times)
    s = sample_neighbors(g, np.zeros(4000, np.int64), 3, weighted=True, replace=True, time_window=(0, 10),
                         random_state=8)
    counts = np.bincount(s.indices, minlength=7)[1:6]
    assert not (s.indices == 6).any()
    assert chisquare(counts, counts.sum() * w[:5] / w[:5].sum()).pvalue > ALPHA


def test_weighted_without_replacement_inside_window():
    w = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 50.0])
    g = star_graph(w, [1, 2, 3, 4, 5, 99])
    n_rep = 20000
    s = sample_neighbors(g, np.zeros(n_rep, np.int64), 2, weighted=True, before=10, random_state=9)
    rows = np.sort(s.indices.reshape(n_rep, 2) - 1, axis=1)
    exact = _exact_pair_probs(w[:5] / w[:5].sum())
    keys = list(exact)
    code = {key: i for i, key in enumerate(keys)}
    counts = np.bincount([code[(a, b)] for a, b in rows.tolist()], minlength=len(keys))
    assert chisquare(counts, n_rep * np.array([exact[key] for key in keys])).pvalue > ALPHA


# ----------------------------------------------------------------------------- directions, types, determinism
def test_reverse_samples_in_neighbours():
    b = GraphBuilder(directed=True, id_mode="dense")
    b.add_edges([0, 1, 2, 3], [3, 3, 3, 0])
    g = b.build()
    s = sample_neighbors(g, [3, 0], -1, reverse=True)
    assert _rows(s)[0].tolist() == [0, 1, 2] and _rows(s)[1].tolist() == [3]
    assert sample_neighbors(g, [3], -1).indices.tolist() == [0]


def test_heterogeneous_edge_type():
    b = GraphBuilder(directed=True)
    b.add_edges(["u1", "u1", "u2"], ["i1", "i2", "i2"], etype=("user", "click", "item"))
    b.add_edges(["i1"], ["i2"], etype=("item", "sim", "item"))
    g = b.build()
    s = sample_neighbors(g, [0, 1], 5, etype="click")
    assert s.etype == ("user", "click", "item")
    assert g.external_ids("item", s.indices).tolist() == ["i1", "i2", "i2"]
    r = sample_neighbors(g, [1], 5, etype=("user", "click", "item"), reverse=True)
    assert g.external_ids("user", r.indices).tolist() == ["u1", "u2"]
    with pytest.raises(UnknownIdError, match="item"):
        sample_neighbors(g, [2], 1, etype="click", reverse=True)


def test_same_seed_same_result_on_one_and_two_threads(random_graph):
    g = random_graph
    nodes = np.tile(np.arange(g.num_nodes()), 50)  # 15000 rows x 10: parallel kernels
    before = numba.get_num_threads()
    try:
        out = {}
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            out[threads] = [sample_neighbors(g, nodes, 10, random_state=11),
                            sample_neighbors(g, nodes, 10, weighted=True, random_state=11),
                            sample_neighbors(g, nodes, 3, replace=True, weighted=True, before=500,
                                             random_state=11)]
    finally:
        numba.set_num_threads(before)
    for a, b in zip(*out.values()):
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.edge_pos, b.edge_pos)
    other = sample_neighbors(g, nodes, 10, random_state=12)
    assert not np.array_equal(other.edge_pos, out[1][0].edge_pos)
    gen_a = sample_neighbors(g, nodes[:100], 10, random_state=np.random.default_rng(3))
    gen_b = sample_neighbors(g, nodes[:100], 10, random_state=np.random.default_rng(3))
    assert np.array_equal(gen_a.edge_pos, gen_b.edge_pos)


# ----------------------------------------------------------------------------- bad input
def test_empty_nodes_give_empty_result(random_graph):
    s = sample_neighbors(random_graph, [], 5, random_state=0)
    assert len(s) == 0 and s.indptr.tolist() == [0] and s.indices.size == 0


def test_unknown_edge_type_lists_known(random_graph):
    with pytest.raises(SchemaError, match="known edge types: node:edge:node"):
        sample_neighbors(random_graph, [0], 3, etype="nope")


@pytest.mark.parametrize("nodes,err,msg", [
    ([0, 300], UnknownIdError, r"\[300\] out of range \[0, 300\)"),
    ([-1], UnknownIdError, "out of range"),
    ([0.5, 1.0], ValidationError, "dtype float64; expected integer"),
    (np.zeros((2, 2), np.int64), ValidationError, "1-D"),
    (["a"], ValidationError, "expected integer"),
])
def test_bad_nodes(random_graph, nodes, err, msg):
    with pytest.raises(err, match=msg):
        sample_neighbors(random_graph, nodes, 3)


@pytest.mark.parametrize("k", [0, -2, 1.5, True, "3", None])
def test_bad_k(random_graph, k):
    with pytest.raises(ValidationError, match="k="):
        sample_neighbors(random_graph, [0], k)


def test_weighted_on_unweighted_edge_type_is_an_error():
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_edges([0, 1], [1, 2])
    g = b.build()
    with pytest.raises(ValidationError, match="no edge weights; method='weighted' needs them"):
        sample_neighbors(g, [0], 1, weighted=True)
    with pytest.raises(ValidationError, match="method='topk'"):
        sample_neighbors(g, [0], 1, method="topk")
    with pytest.raises(ValidationError, match="no edge times"):
        sample_neighbors(g, [0], 1, before=3)


def test_negative_weights_refused():
    g = star_graph([1.0, -2.0])
    with pytest.raises(ValidationError, match="negative edge weights"):
        sample_neighbors(g, [0], 1, weighted=True)
    assert sample_neighbors(g, [0], 1, random_state=0).indices.size == 1  # uniform still fine


@pytest.mark.parametrize("kwargs,msg", [
    (dict(method="random"), "method='random': expected one of uniform, weighted, topk, full"),
    (dict(method="topk", replace=True), "replace=True with method='topk'"),
    (dict(method="full", weighted=True), "weighted=True with method='full'"),
    (dict(time_window=(5, 1)), "t_min > t_max"),
    (dict(time_window=(1, 5), before=3), "give one of them"),
    (dict(time_window=5), "expected a pair"),
    (dict(time_window=(0.5, 3)), r"time_window\[0\]=0.5"),
    (dict(before="now"), "before='now'"),
    (dict(random_state=-1), "random_state=-1"),
    (dict(random_state="x"), "random_state='x'"),
])
def test_bad_options(random_graph, kwargs, msg):
    with pytest.raises(ValidationError, match=msg):
        sample_neighbors(random_graph, [0], 3, **kwargs)
