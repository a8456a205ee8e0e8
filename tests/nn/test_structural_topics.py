"""Structural topic model: roles separate, shapes and invariants, transform, bad input."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from vastgraph.datasets.expressiveness import graph_from_edges
from vastgraph.errors import EmptyInputError, NotFittedError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.sampling.structural_topics import StructuralTopicModel, cooccurrence, recover_topics


@pytest.fixture(scope="module")
def barbell():
    g = nx.barbell_graph(6, 12)  # cliques 0-5 and 18-23 joined by the path 6..17
    e = np.array(g.edges())
    return graph_from_edges(e[:, 0], e[:, 1], g.number_of_nodes())


def test_cooccurrence_matches_definition():
    h = np.array([[2, 1, 0], [0, 1, 1], [1, 0, 0]])
    q = cooccurrence(h)
    ref = np.zeros((3, 3))
    for row in h:
        nd = row.sum()
        if nd >= 2:
            ref += (np.outer(row, row) - np.diag(row)) / (nd * (nd - 1))
    assert np.allclose(q, ref / 3)
    assert np.allclose(q, q.T)


def test_recover_topics_finds_planted_topics():
    rng = np.random.default_rng(0)
    topics = np.array([[0.5, 0.0, 0.3, 0.2], [0.0, 0.5, 0.2, 0.3]])  # words 0 and 1 are anchors
    docs = []
    for _ in range(400):
        th = rng.dirichlet([0.5, 0.5])
        docs.append(rng.multinomial(60, th @ topics))
    q = cooccurrence(np.array(docs))
    rec = recover_topics(q, np.array([0, 1]))
    assert np.allclose(rec.sum(axis=1), 1.0)
    assert np.abs(rec - topics).max() < 0.08


@pytest.mark.parametrize("method", ["nmf", "greedy"])
def test_topics_separate_clique_and_path_roles(barbell, method):
    stm = StructuralTopicModel(2, anchor_method=method, random_state=0).fit(barbell)
    theta = stm.node_topic_
    assert theta.shape == (24, 2) and theta.dtype == np.float32
    assert np.allclose(theta.sum(axis=1), 1.0, atol=1e-5)
    assert stm.topic_walk_.shape == (2, len(stm.vocabulary_)) and np.allclose(stm.topic_walk_.sum(axis=1), 1.0)
    assert len(set(stm.anchors_.tolist())) == 2
    clique = [1, 2, 3, 4, 19, 20, 21, 22]
    path = list(range(8, 16))
    top_c, top_p = theta[clique].argmax(axis=1), theta[path].argmax(axis=1)
    assert len(set(top_c.tolist())) == 1 and len(set(top_p.tolist())) == 1 and top_c[0] != top_p[0]
    assert theta[clique, top_c[0]].mean() > 0.7 and theta[path, top_p[0]].mean() > 0.7


def test_deterministic_and_transform(barbell):
    a = StructuralTopicModel(2, walks_per_node=32, random_state=3).fit(barbell)
    b = StructuralTopicModel(2, walks_per_node=32, random_state=3).fit(barbell)
    assert np.array_equal(a.node_topic_, b.node_topic_)
    t = a.transform(barbell)
    assert t.shape == (24, 2) and np.abs(t - a.node_topic_).max() < 1e-3
    walks = a.topic_walks(top=2)
    assert len(walks) == 2 and len(walks[0]) == 2 and walks[0][0][0][0] == 0


def test_bad_input(barbell):
    with pytest.raises(ValidationError, match="n_topics"):
        StructuralTopicModel(0).fit(barbell)
    with pytest.raises(ValidationError, match="anchor_method"):
        StructuralTopicModel(2, anchor_method="lda").fit(barbell)
    with pytest.raises(ValidationError, match="n_anchors"):
        StructuralTopicModel(3, n_anchors=2).fit(barbell)
    with pytest.raises(ValidationError, match="walks_per_node"):
        StructuralTopicModel(2, walks_per_node=1).fit(barbell)
    with pytest.raises(ValidationError, match="graph"):
        StructuralTopicModel(2).fit(np.zeros((3, 3)))
    with pytest.raises(ValidationError, match="candidate anchor"):
        StructuralTopicModel(500, max_walk_types=1000, walk_length=2).fit(barbell)
    with pytest.raises(NotFittedError):
        StructuralTopicModel(2).transform(barbell)
    b = GraphBuilder(directed=False)
    b.add_nodes("node", count=5)
    b.add_edge_type(("node", "edge", "node"))
    with pytest.raises(EmptyInputError, match="no edges"):
        StructuralTopicModel(2).fit(b.build())
