import numpy as np
import pytest

from vastgraph.errors import SchemaError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.homogeneous import to_homogeneous


def _typed():
    b = GraphBuilder()
    b.add_nodes("q", ids=["q0", "q1"], labels=[0, 1])
    b.add_nodes("a", ids=["a0", "a1", "a2"])
    b.add_edges(["q0", "q0", "q1"], ["a0", "a1", "a1"], etype=("q", "click", "a"), weight=[2.0, 1.0, 3.0])
    b.add_edges(["a0"], ["a2"], etype=("a", "cobid", "a"), directed=False)
    return b.build()


def test_collapses_types_over_global_ids_with_summed_weights():
    g = _typed()
    h = to_homogeneous(g)
    assert h.num_nodes() == 5 and h.is_undirected()
    off = g.node_offsets()
    q0, a0, a1, a2 = off["q"], off["a"], off["a"] + 1, off["a"] + 2
    nbrs = h.neighbors(a1).tolist()
    assert sorted(nbrs) == [q0, off["q"] + 1]
    adj = h.adjacency()
    row = slice(adj.indptr[q0], adj.indptr[q0 + 1])
    got = dict(zip(adj.indices[row].tolist(), adj.weight[row].tolist()))
    assert got == {a0: 2.0, a1: 1.0}
    assert a2 in h.neighbors(a0).tolist() and a0 in h.neighbors(a2).tolist()
    assert h.labels().tolist() == [0, 1, -1, -1, -1]


def test_subset_of_edge_types_and_relation_weights():
    g = _typed()
    h = to_homogeneous(g, ["a:cobid:a"])
    assert h.num_edges() == 2  # one undirected edge, stored both ways
    h2 = to_homogeneous(g, relation_weights={"q:click:a": 0.5}, weighted=True)
    adj = h2.adjacency()
    q1 = g.node_offsets()["q"] + 1
    assert adj.weight[adj.indptr[q1]:adj.indptr[q1 + 1]].tolist() == [1.5]


def test_bad_input():
    g = _typed()
    with pytest.raises(SchemaError):
        to_homogeneous(g, ["q:nosuch:a"])
    with pytest.raises(ValidationError, match="relation_weights"):
        to_homogeneous(g, relation_weights={"q:click:a": float("nan")})
    with pytest.raises(ValidationError, match="HeteroGraph"):
        to_homogeneous(np.zeros(3))
