"""filter_edges: the same nodes, a chosen subset of each edge type's edges."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.errors import SchemaError, ValidationError
from vastgraph.graph import GraphBuilder
from vastgraph.graph.edge_filter import filter_edges


def _hetero(seed: int = 0):
    rng = np.random.default_rng(seed)
    b = GraphBuilder(directed=True)
    b.add_nodes("a", ids=[f"a{i}" for i in range(12)], features=rng.random((12, 3)).astype(np.float32))
    b.add_edges([f"a{i}" for i in rng.integers(0, 12, 60)], rng.integers(0, 9, 60), etype=("a", "r", "b"),
                weight=rng.random(60), time=rng.integers(0, 50, 60))
    b.add_edges([f"a{i}" for i in rng.integers(0, 12, 40)], [f"a{i}" for i in rng.integers(0, 12, 40)],
                etype=("a", "s", "a"), directed=False)
    return b.build()


def _triples(e):
    return sorted(zip(e.src.tolist(), e.dst.tolist(), e.weight.tolist(), e.time.tolist()))


def test_kept_edges_in_both_directions():
    g = _hetero()
    et = g.edge_type(("a", "r", "b"))
    full = g.coo(et)
    mask = full.time >= 25
    h = filter_edges(g, {et: mask})
    e = h.coo(et)
    assert np.array_equal(e.src, full.src[mask]) and np.array_equal(e.dst, full.dst[mask])
    assert np.array_equal(e.weight, full.weight[mask]) and np.array_equal(e.time, full.time[mask])
    # the CSC is the transpose of the new CSR
    r = h.coo(et, reverse=True)
    assert sorted(zip(r.dst.tolist(), r.src.tolist(), r.weight.tolist(), r.time.tolist())) == _triples(e)
    assert np.array_equal(h.in_degree(et), np.bincount(e.dst, minlength=g.num_nodes("b")))
    assert h.has_edges(e.src, e.dst, et).all()
    # nodes, other edge types and info are shared
    assert h.num_nodes("a") == g.num_nodes("a") and np.array_equal(h.features("a"), g.features("a"))
    assert h.lookup("a", ["a3"]).tolist() == [3]
    other = g.edge_type(("a", "s", "a"))
    assert np.array_equal(h.coo(other).src, g.coo(other).src)
    assert h.info == g.info and h.is_undirected(other)


def test_empty_and_drop_weights():
    g = _hetero()
    h = filter_edges(g, {et: False for et in g.edge_types}, drop_weights=True)
    assert h.num_edges() == 0 and h.num_nodes_total() == g.num_nodes_total()
    et = g.edge_type(("a", "r", "b"))
    assert not h.has_weights(et) and h.has_times(et)
    assert h.out_degree(et).tolist() == [0] * g.num_nodes("a")
    kept = filter_edges(g, {et: None})
    assert kept.num_edges(et) == g.num_edges(et) and kept.has_weights(et)


def test_undirected_masks_must_keep_both_directions():
    g = _hetero()
    et = g.edge_type(("a", "s", "a"))
    e = g.coo(et)
    pairs = np.minimum(e.src, e.dst) * 100 + np.maximum(e.src, e.dst)
    drop = pairs == pairs[np.flatnonzero(e.src != e.dst)[0]]
    h = filter_edges(g, {et: ~drop})
    assert h.num_edges(et) == g.num_edges(et) - int(drop.sum())
    one_way = drop & (e.src < e.dst)
    with pytest.raises(ValidationError, match="both"):
        filter_edges(g, {et: ~one_way})


def test_bad_input():
    g = _hetero()
    et = g.edge_type(("a", "r", "b"))
    with pytest.raises(ValidationError, match=r"shape \(60,\)"):
        filter_edges(g, {et: np.ones(3, bool)})
    with pytest.raises(ValidationError, match="boolean"):
        filter_edges(g, {et: np.ones(60)})
    with pytest.raises(SchemaError):
        filter_edges(g, {("a", "nope", "b"): False})
    with pytest.raises(ValidationError, match="dict"):
        filter_edges(g, [False])
    with pytest.raises(ValidationError, match="HeteroGraph"):
        filter_edges("graph", None)
