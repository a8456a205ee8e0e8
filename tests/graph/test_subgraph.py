"""Induced subgraphs: structure, attributes, ids, directions and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.errors import SchemaError, UnknownIdError, ValidationError
from vastgraph.graph import GraphBuilder, HeteroGraph
from vastgraph.graph.subgraph import subgraph


def _graph(directed: bool, seed: int = 0) -> HeteroGraph:
    rng = np.random.default_rng(seed)
    n, m = 50, 400
    b = GraphBuilder(directed=directed, duplicates="keep")
    ids = np.array([f"n{i}" for i in range(n)], dtype=object)
    b.add_nodes("node", ids=ids, features=rng.normal(size=(n, 3)), labels=rng.integers(-1, 5, n),
                data={"mask": rng.random(n) < 0.3})
    b.add_edges(ids[rng.integers(0, n, m)], ids[rng.integers(0, n, m)], weight=rng.random(m) + 0.1,
                time=rng.integers(0, 10**6, m))
    return b.build()


def _triples(g: HeteroGraph, et, reverse=False):
    """Set-free multiset of (row, col, weight, time) rows, sorted."""
    adj = g.adjacency(et, reverse=reverse)
    rows = np.repeat(np.arange(adj.n_rows), adj.degree())
    t = np.stack([rows, np.asarray(adj.indices), np.asarray(adj.weight) if adj.weight is not None else
                  np.ones(adj.nnz), np.asarray(adj.time) if adj.time is not None else np.zeros(adj.nnz)], 1)
    return t[np.lexsort(t.T[::-1])]


def _expected(g: HeteroGraph, et, keep_src, keep_dst, reverse=False):
    """Reference induced edges by filtering the COO list in numpy and relabelling."""
    t = _triples(g, et, reverse)
    ms = np.full(g.adjacency(et, reverse).n_rows, -1)
    ms[keep_src] = np.arange(len(keep_src))
    md = np.full(g.adjacency(et, reverse).n_cols, -1)
    md[keep_dst] = np.arange(len(keep_dst))
    r, c = ms[t[:, 0].astype(int)], md[t[:, 1].astype(int)]
    ok = (r >= 0) & (c >= 0)
    out = np.column_stack([r[ok], c[ok], t[ok, 2], t[ok, 3]])
    return out[np.lexsort(out.T[::-1])]


def _check_sorted_rows(adj):
    rows = np.repeat(np.arange(adj.n_rows), adj.degree())
    key = rows.astype(np.int64) * max(adj.n_cols, 1) + adj.indices
    assert np.all(np.diff(key) >= 0)


@pytest.mark.parametrize("directed", [True, False])
@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_induced_edges_match_reference(directed, order):
    g = _graph(directed)
    rng = np.random.default_rng(1)
    keep = np.sort(rng.choice(50, 20, replace=False))
    if order == "shuffled":
        keep = rng.permutation(keep)
    sub, mapping = subgraph(g, keep)
    et = g.edge_types[0]
    np.testing.assert_array_equal(mapping["node"], keep)
    assert sub.num_nodes() == 20
    np.testing.assert_array_equal(_triples(sub, et), _expected(g, et, keep, keep))
    np.testing.assert_array_equal(_triples(sub, et, True), _expected(g, et, keep, keep, True))
    assert sub.is_undirected() == (not directed)
    assert sub.edge_store().symmetric == (not directed)
    for reverse in (False, True):
        adj = sub.adjacency(reverse=reverse)
        _check_sorted_rows(adj)
        assert adj.indices.dtype == np.int32 and adj.indptr.dtype == np.int64
        assert adj.weight.dtype == np.float32 and adj.time.dtype == np.int64


def test_attributes_and_external_ids_follow_the_nodes():
    g = _graph(True)
    keep = np.array([7, 3, 41])
    sub, _ = subgraph(g, keep)
    np.testing.assert_array_equal(sub.features(), g.features()[keep])
    np.testing.assert_array_equal(sub.labels(), g.labels()[keep])
    np.testing.assert_array_equal(sub.node_data(None, "mask"), g.node_data(None, "mask")[keep])
    assert sub.external_ids().tolist() == ["n7", "n3", "n41"]
    assert sub.lookup(None, ["n41", "n7"]).tolist() == [2, 0]
    with pytest.raises(UnknownIdError):
        sub.lookup(None, ["n4"])
    # the weight and time of a kept edge are the original ones
    u, v = g.edge_index()
    a, b = int(u[-1]), int(v[-1])
    keep = np.array([b, 11, a]) if a != b else np.array([a, 11])
    sub, _ = subgraph(g, keep)
    na, nb = int(np.flatnonzero(keep == a)[0]), int(np.flatnonzero(keep == b)[0])
    assert sub.edge_weights([na], [nb])[0] == g.edge_weights([a], [b])[0]
    assert sub.adjacency().time[sub.find_edges([na], [nb])[0]] == g.adjacency().time[g.find_edges([a], [b])[0]]


def test_int_and_range_ids_kept_and_store_round_trip(tmp_path):
    b = GraphBuilder()
    b.add_edges([100, 200, 300], [200, 300, 100], etype=("a", "r", "a"))
    b.add_nodes("d", count=4)
    b.add_edges([100, 300], [0, 3], etype=("a", "s", "d"))
    g = b.build()
    sub, mapping = subgraph(g, {"a": [2, 0], "d": [3, 1]})
    assert sub.external_ids("a").tolist() == [300, 100]
    assert sub.external_ids("d").tolist() == [3, 1]  # dense ids of the original are the external ids
    assert sub.neighbors(0, "r").tolist() == [1]  # 300 -> 100
    assert sub.neighbors(0, "s").tolist() == [0]  # 300 -> d3
    assert sub.neighbors(1, "s").tolist() == []  # 100 -> d0, not kept
    h = HeteroGraph.open(sub.save(str(tmp_path / "sub")), verify=True)
    assert h.lookup("a", [100]).tolist() == [1] and h.lookup("d", [3]).tolist() == [0]
    assert h.info["subgraph"]["nodes"] == {"a": 2, "d": 2}


def test_heterogeneous_unnamed_types_keep_no_nodes_and_csc_is_rebuilt():
    b = GraphBuilder(directed=False)
    b.add_edges(["u1", "u2", "u3", "u1"], ["i1", "i1", "i2", "i3"], etype=("user", "click", "item"), time=[1, 2, 3, 4])
    b.add_edges(["i1", "i2"], ["s1", "s1"], etype=("item", "sold_by", "shop"))
    g = b.build()
    sub, mapping = subgraph(g, {"user": [0, 1], "item": g.lookup("item", ["i1", "i3"])})
    assert sub.num_nodes("shop") == 0 and mapping["shop"].size == 0
    assert sub.num_edges("sold_by") == 0
    et = sub.edge_type("click")
    assert sub.is_undirected(et) and not sub.edge_store(et).symmetric
    assert sub.neighbors(0, et).tolist() == [0, 1]  # u1 -> i1, i3
    assert sub.neighbors(0, et, reverse=True).tolist() == [0, 1]  # i1 <- u1, u2
    assert sub.adjacency(et, reverse=True).time.tolist() == [1, 2, 4]
    assert sub.in_degree(et).tolist() == [2, 1]


def test_relabel_false_keeps_numbering():
    g = _graph(False)
    keep = np.array([4, 9, 30, 31])
    sub, mapping = subgraph(g, keep, relabel=False)
    assert sub.num_nodes() == 50 and mapping["node"].tolist() == list(range(50))
    np.testing.assert_array_equal(sub.features(), g.features())
    src, dst = sub.edge_index()
    assert np.isin(src, keep).all() and np.isin(dst, keep).all()
    u, v = g.edge_index()
    assert src.size == int((np.isin(u, keep) & np.isin(v, keep)).sum())
    _check_sorted_rows(sub.adjacency())


def test_boolean_mask_and_empty_selection():
    g = _graph(True)
    mask = np.zeros(50, dtype=bool)
    mask[[5, 1]] = True
    sub, mapping = subgraph(g, mask)
    assert mapping["node"].tolist() == [1, 5]
    empty, m = subgraph(g, np.array([], dtype=np.int64))
    assert empty.num_nodes() == 0 and empty.num_edges() == 0 and m["node"].size == 0
    assert empty.features().shape == (0, 3)


def test_mapping_is_not_the_callers_array():
    g = _graph(True)
    keep = np.array([3, 1])
    _, mapping = subgraph(g, keep)
    keep[0] = 0
    assert mapping["node"].tolist() == [3, 1]


@pytest.mark.parametrize("nodes, error, match", [
    ({"item": [0]}, SchemaError, "unknown node type 'item'; known node types: node"),
    ([0, 50], UnknownIdError, r"\[50\] out of range \[0, 50\)"),
    ([-1], UnknownIdError, r"\[-1\]"),
    ([3, 4, 3], ValidationError, r"repeats id\(s\) \[3\]"),
    ([0.5], ValidationError, "expected integer dense ids"),
    ([[0, 1]], ValidationError, "expected a 1-D array"),
    (np.ones(3, dtype=bool), ValidationError, "boolean mask of length 3; expected 50"),
])
def test_bad_nodes_raise(nodes, error, match):
    with pytest.raises(error, match=match):
        subgraph(_graph(True), nodes)


def test_array_on_heterogeneous_graph_and_non_graph_raise():
    b = GraphBuilder()
    b.add_edges([0], [1], etype=("a", "r", "b"))
    with pytest.raises(ValidationError, match=r"\{node type: ids\}"):
        subgraph(b.build(), [0])
    with pytest.raises(ValidationError, match="expected a vastgraph HeteroGraph"):
        subgraph("graph", [0])
