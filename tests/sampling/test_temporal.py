"""Temporal walks: time order, edge times, biases, determinism and bad input."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy.stats import chisquare

from vastgraph.errors import EmptyInputError, SchemaError, UnknownIdError, ValidationError
from vastgraph.graph import GraphBuilder, HeteroGraph
from vastgraph.sampling.temporal import temporal_walks


def timed_graph(directed=True, seed=0, n=40, m=400):
    rng = np.random.default_rng(seed)
    b = GraphBuilder(directed=directed, id_mode="dense", duplicates="first", self_loops="drop")
    b.add_nodes("node", count=n)
    b.add_edges(rng.integers(0, n, m), rng.integers(0, n, m), time=rng.integers(0, 100, m))
    return b.build()


def edge_time(g, u, v):
    adj = g.adjacency()
    pos = g.find_edges(u, v)
    assert (pos >= 0).all()
    return np.asarray(adj.time)[pos]


@pytest.mark.parametrize("bias", ["uniform", "linear", "exponential"])
@pytest.mark.parametrize("directed", [True, False])
def test_forward_walks_never_go_back_in_time(bias, directed):
    g = timed_graph(directed=directed)
    w, t = temporal_walks(g, walks_per_node=5, walk_length=15, time_bias=bias, random_state=1)
    assert w.dtype == np.int32 and t.dtype == np.int64 and t.shape == (200, 15) and w.shape == (200, 16)
    moved = w[:, 1:] >= 0
    assert ((w[:, :-1] < 0) <= (w[:, 1:] < 0)).all()
    assert (t[~moved] == -1).all()
    u, v = w[:, :-1][moved], w[:, 1:][moved]
    assert (edge_time(g, u, v) == t[moved]).all()  # reported times are the edges' times
    both = moved[:, 1:]
    assert (np.diff(t, axis=1)[both] >= 0).all()
    # dead end = no out-edge at or after the last time
    ended = (w[:, 1:-1] >= 0) & (w[:, 2:] < 0)
    rows, cols = np.nonzero(ended)
    adj = g.adjacency()
    for r, c in zip(rows, cols):
        node = w[r, c + 1]
        times = adj.time[adj.indptr[node]:adj.indptr[node + 1]]
        assert (times < t[r, c]).all()


def test_backward_and_strict():
    g = timed_graph(directed=True, seed=3)
    w, t = temporal_walks(g, walks_per_node=5, walk_length=10, direction="backward", random_state=2)
    moved = w[:, 1:] >= 0
    both = moved[:, 1:]
    assert (np.diff(t, axis=1)[both] <= 0).all()
    u, v = w[:, :-1][moved], w[:, 1:][moved]
    assert (edge_time(g, v, u) == t[moved]).all()  # walked the edges v -> u in reverse
    ws, ts = temporal_walks(g, walks_per_node=5, walk_length=10, strict=True, random_state=2)
    both = (ws[:, 1:] >= 0)[:, 1:]
    assert (np.diff(ts, axis=1)[both] > 0).all()


def test_non_decreasing_allows_equal_times_strict_does_not():
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_edges([0], [1], time=[5])
    g = b.build()
    w, t = temporal_walks(g, start=[0], walks_per_node=1, walk_length=4, random_state=0)
    assert w.tolist() == [[0, 1, 0, 1, 0]] and t.tolist() == [[5, 5, 5, 5]]
    w, t = temporal_walks(g, start=[0], walks_per_node=1, walk_length=4, strict=True, random_state=0)
    assert w.tolist() == [[0, 1, -1, -1, -1]] and t.tolist() == [[5, -1, -1, -1]]


def test_start_time():
    g = timed_graph(seed=4)
    w, t = temporal_walks(g, walks_per_node=3, walk_length=5, start_time=60, random_state=0)
    assert (t[w[:, 1:] >= 0] >= 60).all()
    w, t = temporal_walks(g, walks_per_node=3, walk_length=5, start_time=30, direction="backward",
                          random_state=0)
    assert (t[w[:, 1:] >= 0] <= 30).all()


STAR_TIMES = np.array([10, 20, 30, 40, 50])


@pytest.mark.parametrize("bias,scale,weights", [
    ("uniform", None, np.ones(5)),
    ("linear", None, np.array([5.0, 4, 3, 2, 1])),
    ("exponential", 10.0, np.exp(-(STAR_TIMES - 10) / 10.0)),
    ("exponential", None, np.exp(-(STAR_TIMES - 10) / 20.0)),  # default scale: mean delay 20
])
def test_time_bias_laws(bias, scale, weights):
    b = GraphBuilder(directed=True, id_mode="dense")
    b.add_edges(np.zeros(5, np.int64), np.array([3, 1, 5, 2, 4]), time=np.array([30, 10, 50, 20, 40]))
    g = b.build()
    w, t = temporal_walks(g, start=[0], walks_per_node=50_000, walk_length=1, time_bias=bias,
                          time_scale=scale, random_state=5)
    counts = np.array([(t[:, 0] == x).sum() for x in STAR_TIMES])
    assert counts.sum() == 50_000
    probs = weights / weights.sum()
    assert chisquare(counts, probs * counts.sum()).pvalue > 1e-3
    # node i+1 carries time 10*(i+1)
    assert (w[:, 1] * 10 == t[:, 0]).all()


def test_determinism_across_threads():
    g = timed_graph(seed=6)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = temporal_walks(g, walks_per_node=20, walk_length=8, time_bias="exponential", random_state=3)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = temporal_walks(g, walks_per_node=20, walk_length=8, time_bias="exponential", random_state=3)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one[0], two[0]) and np.array_equal(one[1], two[1])
    other = temporal_walks(g, walks_per_node=20, walk_length=8, time_bias="exponential", random_state=4)
    assert not np.array_equal(one[0], other[0])


# ------------------------------------------------------------------------- bad input
def test_edge_type_without_times():
    b = GraphBuilder(directed=False)
    b.add_edges([0, 1], [1, 2])
    with pytest.raises(ValidationError, match="no timestamps"):
        temporal_walks(b.build())


def test_bad_arguments():
    g = timed_graph()
    with pytest.raises(SchemaError, match="node:edge:node"):
        temporal_walks(g, etype="follows")
    for kw, match in [(dict(direction="sideways"), "direction"), (dict(time_bias="gauss"), "time_bias"),
                      (dict(time_scale=0), "time_scale"), (dict(time_scale=float("nan")), "time_scale"),
                      (dict(time_scale="day"), "time_scale"), (dict(start_time=1.5), "start_time"),
                      (dict(strict=None), "strict"), (dict(walk_length=0), "walk_length"),
                      (dict(walks_per_node=-1), "walks_per_node")]:
        with pytest.raises(ValidationError, match=match):
            temporal_walks(g, **kw)
    with pytest.raises(UnknownIdError):
        temporal_walks(g, start=[40])
    with pytest.raises(EmptyInputError):
        temporal_walks(g, start=np.array([], dtype=np.int64))


def test_memory_mapped_store_gives_the_same_walks(tmp_path):
    g = timed_graph(seed=8)
    g.save(str(tmp_path / "g"))
    m = HeteroGraph.open(str(tmp_path / "g"))
    for bias in ("uniform", "exponential"):
        a = temporal_walks(g, walks_per_node=3, walk_length=6, time_bias=bias, random_state=1)
        b = temporal_walks(m, walks_per_node=3, walk_length=6, time_bias=bias, random_state=1)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
