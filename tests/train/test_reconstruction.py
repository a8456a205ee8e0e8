"""Graph reconstruction precision@K."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.errors import ValidationError
from vastgraph.graph import GraphBuilder
from vastgraph.train.reconstruction import evaluate_reconstruction


def sbm(blocks=4, size=30, p_in=0.9, p_out=0.01, seed=0, directed=False):
    rng = np.random.default_rng(seed)
    n = blocks * size
    y = np.repeat(np.arange(blocks), size)
    u, v = np.nonzero(~np.eye(n, dtype=bool)) if directed else np.triu_indices(n, k=1)
    keep = rng.random(u.size) < np.where(y[u] == y[v], p_in, p_out)
    b = GraphBuilder(directed=directed, id_mode="dense")
    b.add_nodes(count=n)
    b.add_edges(u[keep], v[keep])
    return b.build(), y


def test_hand_made_example():
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes(count=4)
    b.add_edges([0, 1], [1, 2])
    x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.8, 0.0]])
    # dot products: (0,1)=.9 (0,3)=.8 (1,3)=.72 (1,2)=.1 (0,2)=0 (2,3)=0; edges (0,1), (1,2)
    r = evaluate_reconstruction(x, b.build(), ks=(1, 2, 4, 5, 6, 100))
    assert r.precision == {1: 1.0, 2: 0.5, 4: 0.5, 5: 0.4, 6: 2 / 6, 100: 2 / 6}
    assert (r.n_nodes, r.n_pairs, r.n_edges, r.sampled) == (4, 6, 2, False)
    assert r.as_dict()["precision@2"] == 0.5


def test_good_embedding_high_random_at_density():
    g, y = sbm()
    good = np.eye(4)[y] + 0.05 * np.random.default_rng(1).standard_normal((y.size, 4))
    rand = np.random.default_rng(2).standard_normal((y.size, 16))
    rg = evaluate_reconstruction(good, g, ks=(10, 100, 1000))
    rr = evaluate_reconstruction(rand, g, ks=(10, 100, 1000))
    density = rg.n_edges / rg.n_pairs
    assert rg.n_pairs == 120 * 119 // 2
    assert min(rg.precision.values()) > 0.85
    assert abs(rr.precision[1000] - density) < 0.08
    cos = evaluate_reconstruction(good, g, ks=(100,), similarity="cosine")
    assert cos.precision[100] > 0.85


def test_directed_and_bipartite_pair_spaces():
    g, y = sbm(directed=True, p_in=0.5, seed=3)
    x = np.eye(4)[y]
    r = evaluate_reconstruction(x, g, ks=(50,))
    assert r.n_pairs == 120 * 119 and r.n_edges == g.num_edges()
    b = GraphBuilder(directed=False)
    rng = np.random.default_rng(4)
    u, v = rng.integers(0, 20, 60), rng.integers(0, 10, 60)
    b.add_edges([f"u{i}" for i in u], [f"i{i}" for i in v], etype=("user", "buys", "item"))
    bg = b.build()
    r = evaluate_reconstruction(rng.standard_normal((bg.num_nodes_total(), 3)), bg, ks=(5,))
    assert r.n_pairs == bg.num_nodes("user") * bg.num_nodes("item")
    s, d = bg.edge_index(("user", "buys", "item"))
    assert bg.num_edges(("user", "buys", "item")) == 60
    assert r.n_edges == np.unique(s * 1000 + d).size  # parallel edges count once


def test_sampling_large_graphs_is_seeded():
    g, y = sbm(blocks=4, size=50, seed=5)
    x = np.eye(4)[y] + 0.1 * np.random.default_rng(6).standard_normal((200, 4))
    a = evaluate_reconstruction(x, g, max_nodes=80, random_state=1, ks=(10, 100))
    b = evaluate_reconstruction(x, g, max_nodes=80, random_state=1, ks=(10, 100))
    c = evaluate_reconstruction(x, g, max_nodes=80, random_state=2, ks=(10, 100))
    assert a == b and a.sampled and a.n_nodes == 80 and a.n_pairs == 80 * 79 // 2
    assert a.n_edges != c.n_edges or a.precision != c.precision
    assert a.precision[100] > 0.8


@pytest.mark.parametrize("kwargs,match", [
    ({"similarity": "l2"}, "similarity='l2': expected one of dot, cosine"),
    ({"ks": (0,)}, "ks: 0"),
    ({"ks": ()}, "ks: empty"),
    ({"max_nodes": 1}, "max_nodes=1"),
])
def test_bad_parameters(kwargs, match):
    g, y = sbm(seed=7)
    with pytest.raises(ValidationError, match=match):
        evaluate_reconstruction(np.eye(4)[y], g, **kwargs)


def test_bad_vectors():
    g, y = sbm(seed=8)
    with pytest.raises(ValidationError, match="119 rows but the graph has 120 nodes"):
        evaluate_reconstruction(np.eye(4)[y][:-1], g)
    x = np.eye(4)[y]
    x[3, 1] = np.inf
    with pytest.raises(ValidationError, match="row 3 holds NaN/inf"):
        evaluate_reconstruction(x, g)
