"""Power-law degree-corrected SBM generator."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.datasets.synthetic_sbm import power_law_sbm
from vastgraph.errors import ValidationError


def _within(ds) -> float:
    s, d = ds.graph.edge_index()
    lab = ds.graph.labels()
    return float(np.mean(lab[s] == lab[d]))


def test_deterministic_by_seed():
    a = power_law_sbm(n_nodes=600, n_blocks=4, random_state=7)
    b = power_law_sbm(n_nodes=600, n_blocks=4, random_state=7)
    c = power_law_sbm(n_nodes=600, n_blocks=4, random_state=8)
    np.testing.assert_array_equal(a.graph.adjacency().indptr, b.graph.adjacency().indptr)
    np.testing.assert_array_equal(a.graph.adjacency().indices, b.graph.adjacency().indices)
    np.testing.assert_array_equal(a.graph.labels(), b.graph.labels())
    assert not np.array_equal(a.graph.labels(), c.graph.labels())
    g = power_law_sbm(n_nodes=600, n_blocks=4, random_state=np.random.default_rng(7))
    assert g.graph.num_undirected_edges() == 1200 * 5 // 2


def test_simple_undirected_exact_edge_count():
    ds = power_law_sbm(n_nodes=800, n_blocks=5, avg_degree=8, random_state=0)
    g = ds.graph
    s, d = g.edge_index()
    assert g.is_undirected() and not (s == d).any()
    assert g.num_edges() == 2 * g.num_undirected_edges() == 2 * 3200  # symmetric, no duplicates
    key = s * 800 + d
    assert np.unique(key).size == key.size
    assert ds.missing == [] and ds.info["edges"] == 3200


def test_labels_recoverable_from_edges():
    ds = power_law_sbm(n_nodes=1000, n_blocks=5, mixing=0.1, random_state=1)
    lab = ds.graph.labels()
    assert lab.dtype == np.int64 and np.bincount(lab).tolist() == [200] * 5
    assert ds.info["chance_within_block_fraction"] == pytest.approx(0.2)
    assert abs(_within(ds) - 0.9) < 0.05  # far above chance (0.2)
    mixed = power_law_sbm(n_nodes=1000, n_blocks=5, mixing=0.8, random_state=1)
    assert _within(mixed) < 0.3


def test_degrees_follow_propensity_and_are_heavy_tailed():
    ds = power_law_sbm(n_nodes=3000, n_blocks=3, avg_degree=10, exponent=2.2, random_state=2)
    g = ds.graph
    deg = g.out_degree().astype(float)
    theta = g.node_data(None, "propensity")
    assert deg.max() > 5 * deg.mean()
    rank = lambda x: np.argsort(np.argsort(x))  # noqa: E731
    assert np.corrcoef(rank(deg), rank(theta))[0, 1] > 0.6
    assert deg.max() <= ds.info["params"]["max_degree"] * 1.6  # capped near sqrt(n * avg_degree)


def test_single_block():
    ds = power_law_sbm(n_nodes=100, n_blocks=1, avg_degree=4, random_state=0)
    assert _within(ds) == 1.0 and ds.graph.num_undirected_edges() == 200


@pytest.mark.parametrize("kwargs,match", [
    ({"n_nodes": 1}, "n_nodes=1"),
    ({"n_nodes": "100"}, "n_nodes='100'"),
    ({"n_nodes": 10, "n_blocks": 11}, "n_blocks=11"),
    ({"n_blocks": 0}, "n_blocks=0"),
    ({"mixing": 1.5}, "mixing=1.5"),
    ({"exponent": 1.0}, "exponent=1.0"),
    ({"avg_degree": 0}, "avg_degree=0"),
    ({"n_nodes": 20, "avg_degree": 15}, "avg_degree=15"),
    ({"avg_degree": float("nan")}, "avg_degree=nan"),
    ({"random_state": "seed"}, "random_state"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        power_law_sbm(**kwargs)
