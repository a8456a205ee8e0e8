"""PyG baselines as NodeModels: shapes, sampling, determinism, full neighbourhoods, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vastgraph.errors import SchemaError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from nn_driver import make

MODELS = ["gcn", "sage", "gat", "gin"]


def ring_graph(n=30, features=True, seed=0):
    b = GraphBuilder(directed=False)
    rng = np.random.default_rng(seed)
    b.add_nodes("node", ids=np.arange(n), features=rng.normal(size=(n, 5)).astype(np.float32) if features else None,
                labels=np.arange(n) % 3)
    u = np.arange(n)
    b.add_edges(np.r_[u, u], np.r_[(u + 1) % n, (u + 5) % n])
    return b.build()


@pytest.fixture(scope="module")
def graph():
    return ring_graph()


@pytest.mark.parametrize("cls", MODELS)
def test_shapes_determinism_and_duplicates(cls, graph):
    m = make(cls, graph, hidden=8, out_dim=4, random_state=0, dropout=0.2)
    m.train()
    m.reseed(7)
    a = m(torch.tensor([3, 1, 3, 0]))
    m.reseed(7)
    b = m(torch.tensor([3, 1, 3, 0]))
    assert a.shape == (4, 4) and a.dtype == torch.float32
    assert torch.equal(a, b)
    assert torch.equal(a[0], a[2])  # duplicates share one row
    m2 = make(cls, graph, hidden=8, out_dim=4, random_state=0, dropout=0.2)
    m2.train()
    m2.reseed(7)
    assert torch.equal(m2(torch.tensor([3, 1, 3, 0])), a)  # same random_state -> same weights
    a.sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in m.parameters())
    assert m(torch.zeros(0, dtype=torch.long)).shape == (0, 4)


def test_full_neighbourhood_is_sampling_free_and_matches_full_graph(graph):
    m = make("sage", graph, hidden=8, out_dim=4, fanouts=-1, random_state=1).eval()
    m.reseed(1)
    a = m(torch.arange(10))
    m.reseed(99)
    b = m(torch.arange(10))
    assert torch.allclose(a, b)
    # same as running the layers on the whole graph
    src, dst = graph.edge_index()
    ei = torch.from_numpy(np.stack([np.asarray(src, np.int64), np.asarray(dst, np.int64)]))
    h = m.x
    h = torch.relu(m.convs[0](h, ei))
    h = m.convs[1](h, ei)
    assert torch.allclose(a, h[:10], atol=1e-5)
    assert m.config()["fanouts"] == [-1, -1]


def test_sampled_differs_across_seeds_with_small_fanout():
    g = ring_graph(60)
    m = make("gcn", g, hidden=8, out_dim=4, fanouts=(1, 1), random_state=0).eval()
    outs = []
    for s in range(6):
        m.reseed(s)
        outs.append(m(torch.arange(20)))
    assert any(not torch.allclose(outs[0], o) for o in outs[1:])


def test_learnable_embedding_without_features():
    g = ring_graph(features=False)
    m = make("gin", g, hidden=6, out_dim=3, random_state=0)
    assert m.embedding is not None and m.embedding.weight.shape == (30, 6)
    assert m(torch.arange(5)).shape == (5, 3)
    assert "embedding.weight" in m.state_dict()


def test_config_rebuilds_identical_model(graph):
    m = make("gat", graph, hidden=8, out_dim=4, heads=2, random_state=3)
    cfg = m.config()
    assert cfg["heads"] == 2 and cfg["ntype"] == "node" and cfg["random_state"] == 3
    m2 = make("gat", graph, **cfg)
    for (k, v), (k2, v2) in zip(m.state_dict().items(), m2.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)


def test_bad_input(graph):
    with pytest.raises(ValidationError, match="one fanout per layer"):
        make("gcn", graph, fanouts=(5,), num_layers=2)
    with pytest.raises(ValidationError, match=r"fanouts\[1\]"):
        make("gcn", graph, fanouts=(5, 0))
    with pytest.raises(ValidationError, match="fanouts=3"):
        make("gcn", graph, fanouts=3)
    with pytest.raises(ValidationError, match="hidden"):
        make("gcn", graph, hidden=0)
    with pytest.raises(ValidationError, match="dropout"):
        make("gcn", graph, dropout=1.0)
    with pytest.raises(ValidationError, match="must divide"):
        make("gat", graph, hidden=10, heads=4)
    with pytest.raises(SchemaError):
        make("gcn", graph, ntype="nope")
    m = make("gcn", graph, hidden=4, out_dim=2)
    with pytest.raises(ValidationError, match="30 nodes"):
        m(torch.tensor([30]))
    with pytest.raises(ValidationError, match="1-D integer"):
        m(torch.tensor([[1, 2]]))


def test_heterogeneous_graph_needs_a_self_edge_type():
    b = GraphBuilder(directed=False)
    b.add_nodes("a", ids=np.arange(5))
    b.add_nodes("b", ids=np.arange(4))
    b.add_edges(np.arange(4), np.arange(4), etype=("a", "ab", "b"))
    b.add_edges(np.arange(4), np.arange(1, 5), etype=("a", "aa", "a"))
    g = b.build()
    m = make("sage", g, ntype="a", hidden=4, out_dim=2, random_state=0)
    assert m.config()["etype"] == "a:aa:a" and m(torch.arange(5)).shape == (5, 2)
    with pytest.raises(ValidationError, match="does not connect"):
        make("sage", g, ntype="a", etype="ab")
