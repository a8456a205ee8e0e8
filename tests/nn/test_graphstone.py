"""GraphSTONE: shapes, determinism, topic-guided aggregation, node-level expressiveness, errors."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from nn_driver import make

from vastgraph.datasets.expressiveness import graph_from_edges
from vastgraph.errors import ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.nn.base import NodeModel

from vastgraph.train.wl import wl_colors


@pytest.fixture(scope="module")
def barbell():
    g = nx.barbell_graph(5, 6)
    e = np.array(g.edges())
    return graph_from_edges(e[:, 0], e[:, 1], g.number_of_nodes())


@pytest.fixture(scope="module")
def hexagon_and_triangles():
    """C6 (nodes 0-5) and two triangles (6-11), every node with the same constant feature."""
    e = np.array([(i, (i + 1) % 6) for i in range(6)] + [(6, 7), (7, 8), (8, 6), (9, 10), (10, 11), (11, 9)])
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes("node", count=12, features=np.ones((12, 3)))
    b.add_edges(e[:, 0], e[:, 1])
    return b.build()


def test_forward_shapes_config_and_backward(barbell):
    m = make("graphstone", barbell, hidden=8, out_dim=6, n_topics=2, walks_per_node=16, random_state=0)
    assert isinstance(m.model, NodeModel) and m.out_dim == 6
    z = m(torch.tensor([0, 3, 3, 15]))
    assert z.shape == (4, 6) and torch.equal(z[1], z[2])
    assert m(torch.zeros(0, dtype=torch.long)).shape == (0, 6)
    loss = m.unsupervised_loss(torch.arange(16))
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    # no graph features: the feature view reads the role features; the role term trains its decoder
    assert m.embedding is None and m.feature_layers[0].self_lin.weight.grad is not None
    assert m.project.weight.grad.abs().sum() > 0 and m.role_decoder.lin.weight.grad.abs().sum() > 0
    cfg = m.config()
    assert cfg["n_topics"] == 2 and cfg["out_dim"] == 6 and cfg["etype"] == "node:edge:node"
    rebuilt = make("graphstone", barbell, **cfg)
    rebuilt.load_state_dict(m.state_dict())
    m.reseed(5)
    rebuilt.reseed(5)
    assert torch.allclose(m(torch.arange(16)), rebuilt(torch.arange(16)))


def test_reseed_makes_sampling_deterministic(barbell):
    m = make("graphstone", barbell, hidden=8, out_dim=4, n_topics=2, walks_per_node=16, fanout=2, random_state=1)
    m.reseed(7)
    a = [m(torch.arange(16)), m.unsupervised_loss(torch.arange(16))]
    m.reseed(7)
    b = [m(torch.arange(16)), m.unsupervised_loss(torch.arange(16))]
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    c = m(torch.arange(16))  # the next call samples other neighbours
    assert not torch.equal(a[0], c)


def test_aggregation_weights_follow_topic_similarity(barbell):
    m = make("graphstone", barbell, hidden=8, out_dim=4, n_topics=2, walks_per_node=16, fanout=-1, random_state=0)
    sets, blocks = m.sample_blocks(np.array([4, 8]), 0)
    rows, cols = blocks[0]
    nbrs = sorted(sets[1][cols[rows == 0]].tolist())
    assert nbrs == sorted(barbell.neighbors(4).tolist())  # fanout=-1 keeps every neighbour
    assert np.array_equal(sets[1][:2], [4, 8])


def test_same_wl_colour_different_structure_gets_different_output(hexagon_and_triangles):
    g = hexagon_and_triangles
    assert len(set(wl_colors(g).tolist())) == 1  # 1-WL sees one class of nodes
    m = make("graphstone", g, hidden=16, out_dim=8, n_topics=2, walks_per_node=64, fanout=-1, random_state=0).eval()
    with torch.no_grad():
        z = m(torch.arange(12))
    d = torch.cdist(z, z)
    within = max(d[:6, :6].max(), d[6:, 6:].max())
    across = d[:6, 6:].min()
    assert across > 10 * within + 1e-4


def test_bad_input(barbell):
    with pytest.raises(ValidationError, match="hidden"):
        make("graphstone", barbell, hidden=0, n_topics=2)
    with pytest.raises(ValidationError, match="fanout"):
        make("graphstone", barbell, fanout=[2], num_layers=2, n_topics=2)
    with pytest.raises(ValidationError, match="dropout"):
        make("graphstone", barbell, dropout=1.0, n_topics=2)
    with pytest.raises(ValidationError, match="n_topics"):
        make("graphstone", barbell, n_topics=0)
    with pytest.raises(ValidationError, match="random_state"):
        make("graphstone", barbell, random_state=np.random.default_rng(0), n_topics=2)
    m = make("graphstone", barbell, hidden=4, out_dim=4, n_topics=2, walks_per_node=8, random_state=0)
    with pytest.raises(ValidationError, match="nodes"):
        m(torch.tensor([0, 99]))
    with pytest.raises(ValidationError, match="nodes"):
        m(torch.tensor([[0, 1]]))
    b = GraphBuilder()
    b.add_edges([0], [1], etype=("user", "clicks", "item"))
    with pytest.raises(ValidationError, match="etype"):
        make("graphstone", b.build(), n_topics=2)
