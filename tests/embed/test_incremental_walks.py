"""Tests of incremental DeepWalk/node2vec (vastgraph.embed.incremental_walks)."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.embed.incremental_walks import IncrementalWalkEmbedder
from vastgraph.errors import NotFittedError, UnknownIdError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.delta import GraphDelta


def two_rings(n=30):
    """Two rings of ``n`` nodes joined by one edge (ids 0..2n-1)."""
    a = np.arange(n)
    src = np.concatenate([a, a + n, [0]])
    dst = np.concatenate([(a + 1) % n, (a + 1) % n + n, [n]])
    b = GraphBuilder(directed=False)
    b.add_edges(src, dst)
    return b.build()


def fitted(graph=None, method="deepwalk", **kw):
    params = dict(dimensions=16, walk_length=10, walks_per_node=4, window=3, random_state=0)
    params.update(kw)
    return IncrementalWalkEmbedder(method=method, **params).fit(two_rings() if graph is None else graph)


def test_rewalk_scope_frozen_rows_and_new_nodes(one_thread):
    model = fitted()
    W0, C0 = model.embedding_.copy(), model.context_.copy()
    delta = GraphDelta().add_nodes("node", [100, 101]).add_edges([100, 100, 101], [5, 6, 100])
    assert model.partial_fit(delta) is model
    kv = model.keyed_
    rep = model.last_update_
    g = model.graph_
    d5, d6 = g.lookup("node", [5, 6])
    # affected = touched {5, 6, new} and their neighbours {4, 7}
    assert sorted(rep.freed.tolist()) == sorted(g.lookup("node", [4, 5, 6, 7]).tolist())
    assert rep.new_vertices.tolist() == [60, 61] and kv.vectors.shape == (62, 16)
    assert rep.edges_trained == rep.candidates * 4 and rep.samples > 0
    frozen = np.ones(60, bool)
    frozen[rep.freed] = False
    np.testing.assert_array_equal(kv.vectors[:60][frozen], W0[frozen])
    np.testing.assert_array_equal(model.context_[:60][frozen], C0[frozen])
    assert not np.array_equal(kv.vectors[[d5, d6]], W0[[d5, d6]])
    # the new node is near its neighbours (ring 0), not the other ring
    unit = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    near = (unit[[d5, d6]] @ unit[60]).mean()
    far = (unit[40:50] @ unit[60]).mean()
    assert near > far
    assert 0.0 < rep.unchanged_cosine <= 1.0


def test_node2vec_and_deterministic(one_thread):
    a = fitted(method="node2vec", p=0.5, q=2.0)
    b = fitted(method="node2vec", p=0.5, q=2.0)
    delta = GraphDelta().add_edges([1], [40])
    np.testing.assert_array_equal(a.partial_fit(delta).keyed_.vectors, b.partial_fit(delta).keyed_.vectors)


def test_deletions_touch_endpoints():
    model = fitted()
    model.partial_fit(GraphDelta().delete_edges([0], [30]))
    g = model.graph_
    assert set(g.lookup("node", [0, 30]).tolist()) <= set(model.last_update_.freed.tolist())
    assert model.last_update_.new_vertices.size == 0


def test_bad_input():
    with pytest.raises(NotFittedError):
        IncrementalWalkEmbedder().partial_fit(GraphDelta())
    with pytest.raises(ValidationError, match="method="):
        IncrementalWalkEmbedder(method="line").fit(two_rings())
    with pytest.raises(ValidationError, match="node2vec"):
        IncrementalWalkEmbedder(p=0.5).fit(two_rings())
    for bad in ({"walks_per_node": 0}, {"window": 0}, {"negative": -1}, {"epochs": 0}, {"lr": -1.0},
                {"walk_length": 0}, {"dimensions": 0}, {"q": 0.0}):
        name = next(iter(bad))
        with pytest.raises(ValidationError, match=f"{name}="):
            IncrementalWalkEmbedder(method="node2vec", **bad).fit(two_rings())
    model = fitted()
    W0, g0 = model.embedding_.copy(), model.graph_
    with pytest.raises(UnknownIdError, match="555"):
        model.partial_fit(GraphDelta().add_edges([0], [555]))
    assert model.graph_ is g0 and np.array_equal(model.embedding_, W0)


def test_state_round_trip(tmp_path, one_thread):
    from vastgraph.graph.dynamic_store import DynamicStore

    ds = DynamicStore.create(tmp_path / "store", two_rings())
    a = fitted(ds.graph)
    a.save_state(tmp_path / "s")
    assert not (tmp_path / "s" / "graph").exists()  # the state names store version 0 instead
    b = IncrementalWalkEmbedder.load_state(tmp_path / "s")
    np.testing.assert_array_equal(a.embedding_, b.embedding_)
    delta = GraphDelta().add_nodes("node", [99]).add_edges([99], [3])
    np.testing.assert_array_equal(a.partial_fit(delta).keyed_.vectors, b.partial_fit(delta).keyed_.vectors)
    from vastgraph.embed.dne import DNE
    from vastgraph.errors import StoreError

    with pytest.raises(StoreError, match="not of 'DNE'"):
        DNE.load_state(tmp_path / "s")
