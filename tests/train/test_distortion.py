"""Tests of reconstruction mAP and average distortion."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.datasets.hierarchies import balanced_tree
from vastgraph.errors import ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.train.distortion import (average_distortion, graph_distances, reconstruction_map,
                                        sample_distance_pairs)


def path_graph(n: int):
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_edges(np.arange(n - 1), np.arange(1, n))
    return b.build()


def line_dist(x: np.ndarray) -> np.ndarray:
    return np.abs(x[:, None] - x[None, :])


def test_path_on_a_line_is_perfect():
    g = path_graph(12)
    x = np.arange(12.0)
    assert reconstruction_map(line_dist(x), g) == 1.0
    emb, gd = sample_distance_pairs(line_dist(x), g, n_sources=12)
    assert emb.size == 12 * 11
    assert average_distortion(emb, gd) == 0.0
    # a scaled line: raw distortion |c - 1|, best-scale distortion 0
    emb2, gd2 = sample_distance_pairs(line_dist(3.0 * x), g, n_sources=5, random_state=1)
    assert average_distortion(emb2, gd2) == pytest.approx(2.0)
    assert average_distortion(emb2, gd2, scale="best") == pytest.approx(0.0, abs=1e-12)
    assert average_distortion(emb2, gd2, scale=1 / 3) == pytest.approx(0.0, abs=1e-12)


def test_callable_matches_matrix():
    g = balanced_tree(2, 4)
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(g.num_nodes(), 3))
    mat = np.linalg.norm(pts[:, None] - pts[None, :], axis=-1)

    def fn(u, v):
        return np.linalg.norm(pts[u] - pts[v], axis=-1)

    assert reconstruction_map(fn, g) == pytest.approx(reconstruction_map(mat, g))
    e1, g1 = sample_distance_pairs(mat, g, n_sources=7, random_state=3)
    e2, g2 = sample_distance_pairs(fn, g, n_sources=7, random_state=3)
    assert np.allclose(e1, e2) and np.array_equal(g1, g2)


def test_shuffled_embedding_is_worse():
    g = path_graph(30)
    x = np.random.default_rng(0).permutation(30).astype(float)
    m = reconstruction_map(line_dist(x), g)
    assert m < 0.6
    emb, gd = sample_distance_pairs(line_dist(x), g, n_sources=30)
    assert average_distortion(emb, gd, scale="best") > 0.3


def test_map_hand_computed():
    # star 0-{1,2,3}; distances from 0: 1→1, 2→2, 3→3, 4 (non-neighbour)→1.5
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_edges([0, 0, 0], [1, 2, 3])
    b.add_nodes("node", count=5)
    g = b.build()
    d = np.full((5, 5), 10.0)
    np.fill_diagonal(d, 0.0)
    d[0, 1:] = [1.0, 2.0, 3.0, 1.5]
    d[1:, 0] = d[0, 1:]
    # source 0: ranks 1, 3, 4 → AP = (1/1 + 2/3 + 3/4)/3; sources 1..3 rank 0 first (AP 1); 4 has no neighbour
    ap0 = (1 + 2 / 3 + 3 / 4) / 3
    assert reconstruction_map(d, g) == pytest.approx((ap0 + 3) / 4)


def test_ties_count_against_the_embedding():
    g = path_graph(6)
    m = reconstruction_map(np.zeros((6, 6)), g)
    # every node ties with all 5 others: AP(u) = |N(u)| / 5
    assert m == pytest.approx(np.mean([1, 2, 2, 2, 2, 1]) / 5)


def test_sampled_sources_and_graph_distances():
    g = balanced_tree(2, 3)
    d = graph_distances(g, [0, 7])
    assert d.shape == (2, 15)
    assert d[0, 7] == 3 and d[1, 8] == 2 and d[1, 14] == 6
    full = reconstruction_map(d := graph_distances(g, np.arange(15)), g)
    assert full == 1.0  # graph distance itself reconstructs neighbours perfectly
    assert reconstruction_map(d, g, max_sources=5, random_state=0) == 1.0


def test_unreachable_pairs_dropped():
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_edges([0, 2], [1, 3])
    g = b.build()
    x = np.arange(4.0)
    emb, gd = sample_distance_pairs(line_dist(x), g, n_sources=4)
    assert gd.tolist() == [1.0] * 4 and emb.tolist() == [1.0] * 4


def test_best_scale_is_optimal():
    rng = np.random.default_rng(1)
    e, gd = rng.uniform(0.5, 3, 200), rng.integers(1, 6, 200).astype(float)
    best = average_distortion(e, gd, scale="best")
    for c in np.linspace(0.1, 5, 60):
        assert best <= average_distortion(e, gd, scale=float(c)) + 1e-12


@pytest.mark.parametrize("call, match", [
    (lambda g: reconstruction_map(np.zeros((3, 3)), g), "shape"),
    (lambda g: reconstruction_map(np.zeros((5, 5), dtype=object), g), "dtype"),
    (lambda g: reconstruction_map(lambda u, v: np.zeros(3), g), "callable returned shape"),
    (lambda g: reconstruction_map(np.zeros((5, 5)), g, max_sources=0), "max_sources"),
    (lambda g: sample_distance_pairs(np.zeros((5, 5)), g, n_sources=0), "n_sources"),
    (lambda g: graph_distances(g, [0, 9]), "out of range"),
    (lambda g: graph_distances(g, [[0]]), "1-D integer"),
    (lambda g: average_distortion([1.0, 2.0], [1.0]), "equal 1-D"),
    (lambda g: average_distortion([], []), "no pairs"),
    (lambda g: average_distortion([1.0, np.nan], [1.0, 2.0]), "emb_dist"),
    (lambda g: average_distortion([1.0, -1.0], [1.0, 2.0]), "emb_dist"),
    (lambda g: average_distortion([1.0, 1.0], [0.0, 2.0]), "graph_dist"),
    (lambda g: average_distortion([1.0], [1.0], scale="median"), "scale"),
    (lambda g: average_distortion([1.0], [1.0], scale=-2.0), "scale"),
    (lambda g: average_distortion([1.0], [1.0], scale=True), "scale"),
])
def test_bad_input(call, match):
    with pytest.raises(ValidationError, match=match):
        call(path_graph(5))


def test_no_edges_and_bipartite_rejected():
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes("node", count=3)
    b.add_edge_type(("node", "edge", "node"))
    with pytest.raises(ValidationError, match="no edges"):
        reconstruction_map(np.zeros((3, 3)), b.build())
    b = GraphBuilder(directed=True)
    b.add_edges(["a"], ["x"], etype=("user", "clicks", "item"))
    with pytest.raises(ValidationError, match="within one node type"):
        reconstruction_map(np.zeros((1, 1)), b.build())
