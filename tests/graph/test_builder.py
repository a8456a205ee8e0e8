"""GraphBuilder: policies, CSR/CSC layout, validation, spilling and building into a store."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from vastgraph.errors import EmptyInputError, SchemaError, UnknownIdError, ValidationError
from vastgraph.graph import GraphBuilder, HeteroGraph


# --------------------------------------------------------------------------- reference
def _reference(src, dst, w, t, n, policy):
    """CSR (indptr, indices, weight, time) by sorting and grouping in numpy, for checking."""
    order = np.lexsort((np.arange(src.size), dst, src))  # by row, then column, then input order
    s, d, w, t = src[order], dst[order], w[order], t[order]
    if policy != "keep":
        new = np.ones(s.size, dtype=bool)
        new[1:] = (s[1:] != s[:-1]) | (d[1:] != d[:-1])
        group = np.cumsum(new) - 1
        if policy == "sum":
            w = np.bincount(group, weights=w).astype(np.float32)
            t_out = np.full(group[-1] + 1, np.iinfo(np.int64).min)
            np.maximum.at(t_out, group, t)
            t = t_out
        else:
            w, t = w[new], t[new]
        s, d = s[new], d[new]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(s, minlength=n), out=indptr[1:])
    return indptr, d, w, t


def _random_edges(seed, n=40, m=600):
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    w = rng.integers(1, 5, m).astype(np.float32)  # small integers: float sums are exact
    t = rng.integers(0, 1000, m)
    return src, dst, w, t


@pytest.mark.parametrize("policy", ["keep", "sum", "first"])
def test_directed_policies_match_reference_over_chunks(policy):
    src, dst, w, t = _random_edges(0)
    b = GraphBuilder(duplicates=policy, id_mode="dense")
    b.add_nodes("node", count=40)
    for a in range(0, src.size, 150):  # several chunks: "first" must mean first across chunks
        b.add_edges(src[a:a + 150], dst[a:a + 150], weight=w[a:a + 150], time=t[a:a + 150])
    adj = b.build().adjacency()
    indptr, ind, ww, tt = _reference(src, dst, w, t, 40, policy)
    np.testing.assert_array_equal(adj.indptr, indptr)
    np.testing.assert_array_equal(adj.indices, ind)
    np.testing.assert_array_equal(adj.weight, ww)
    np.testing.assert_array_equal(adj.time, tt)


@pytest.mark.parametrize("policy", ["keep", "sum", "first"])
def test_undirected_policies_match_reference(policy):
    src, dst, w, t = _random_edges(1)
    b = GraphBuilder(directed=False, duplicates=policy, id_mode="dense")
    b.add_nodes("node", count=40)
    for a in range(0, src.size, 200):
        b.add_edges(src[a:a + 200], dst[a:a + 200], weight=w[a:a + 200], time=t[a:a + 200])
    g = b.build()
    # input order: each edge, then its reverse (a self-loop once)
    keep = np.ones(2 * src.size, dtype=bool)
    keep[1::2] = src != dst
    both = (np.stack([src, dst], 1).ravel()[keep], np.stack([dst, src], 1).ravel()[keep],
            np.repeat(w, 2)[keep], np.repeat(t, 2)[keep])
    indptr, ind, ww, tt = _reference(*both, 40, policy)
    adj = g.adjacency()
    np.testing.assert_array_equal(adj.indptr, indptr)
    np.testing.assert_array_equal(adj.indices, ind)
    np.testing.assert_array_equal(adj.weight, ww)
    np.testing.assert_array_equal(adj.time, tt)


def test_sum_adds_weights_keeps_latest_time_first_keeps_first():
    for policy, weight, time in (("sum", 6.0, 9), ("first", 1.0, 5), ("keep", None, None)):
        b = GraphBuilder(duplicates=policy)
        b.add_edges(["a", "a"], ["b", "b"], weight=[1.0, 2.0], time=[5, 9])
        b.add_edges(["a"], ["b"], weight=[3.0], time=[7])
        g = b.build()
        if weight is None:
            assert g.num_edges() == 3
            assert g.adjacency().weight.tolist() == [1.0, 2.0, 3.0]
            assert g.adjacency().time.tolist() == [5, 9, 7]
        else:
            assert g.num_edges() == 1
            assert g.edge_weights(0, 1).tolist() == [weight]
            assert g.adjacency().time.tolist() == [time]
        assert g.info["build"]["duplicates"] == policy


@pytest.mark.parametrize("policy", ["keep", "sum", "first"])
def test_undirected_duplicates_stay_symmetric(policy):
    """Both directions of an undirected pair carry the same weights and times, in the same order."""
    src, dst, w, t = _random_edges(5, n=8, m=300)
    b = GraphBuilder(directed=False, duplicates=policy, id_mode="dense")
    b.add_edges(src, dst, weight=w, time=t)
    adj = b.build().adjacency()
    rows = np.repeat(np.arange(adj.n_rows), adj.degree())
    fwd = np.lexsort((np.arange(adj.nnz), adj.indices, rows))
    rev = np.lexsort((np.arange(adj.nnz), rows, adj.indices))
    np.testing.assert_array_equal(rows[fwd], adj.indices[rev])
    np.testing.assert_array_equal(adj.weight[fwd], adj.weight[rev])
    np.testing.assert_array_equal(adj.time[fwd], adj.time[rev])


def test_missing_weights_and_times_in_some_chunks_default_to_one_and_zero():
    b = GraphBuilder()
    b.add_edges([0], [1])
    b.add_edges([1], [2], weight=[2.5], time=[4])
    adj = b.build().adjacency()
    assert adj.weight.tolist() == [1.0, 2.5]
    assert adj.time.tolist() == [0, 4]


def test_self_loops_keep_drop_and_undirected_loop_stored_once():
    b = GraphBuilder(directed=False)
    b.add_edges([0, 1, 1], [0, 1, 2])
    g = b.build()
    assert g.neighbors(0).tolist() == [0]
    assert g.neighbors(1).tolist() == [1, 2]
    assert g.num_edges() == 4  # (0,0), (1,1), (1,2), (2,1)
    b = GraphBuilder(directed=False, self_loops="drop")
    b.add_edges([0, 1, 1], [0, 1, 2])
    g = b.build()
    assert g.num_edges() == 2
    assert g.num_nodes() == 3  # a node seen only in a dropped loop still exists
    assert g.info["build"]["edge_types"]["node:edge:node"]["dropped_self_loops"] == 2


def test_undirected_same_type_is_symmetric_without_csc():
    src, dst, w, _ = _random_edges(2)
    b = GraphBuilder(directed=False, duplicates="sum", id_mode="dense")
    b.add_edges(src, dst, weight=w)
    g = b.build()
    e = g.edge_store()
    assert e.symmetric and e.csc is None and g.is_undirected()
    assert g.adjacency(reverse=True) is g.adjacency()
    import scipy.sparse as sp
    adj = g.adjacency()
    a = sp.csr_array((adj.weight, adj.indices, adj.indptr), shape=(adj.n_rows, adj.n_cols))
    assert (a != a.T).nnz == 0
    np.testing.assert_array_equal(g.in_degree(), g.out_degree())


def test_undirected_cross_type_uses_csc_for_reverse():
    b = GraphBuilder(directed=False)
    b.add_edges(["u1", "u2", "u2"], ["i1", "i1", "i2"], etype=("user", "click", "item"), time=[1, 2, 3])
    g = b.build()
    et = g.edge_type("click")
    assert g.is_undirected(et) and not g.edge_store(et).symmetric
    assert g.num_edges(et) == 3
    assert g.neighbors(0, et, reverse=True).tolist() == [0, 1]  # item i1 <- u1, u2
    assert g.adjacency(et, reverse=True).time.tolist() == [1, 2, 3]
    assert g.in_degree(et).tolist() == [2, 1]
    assert g.out_degree(et, [1]).tolist() == [2]


def test_rows_sorted_int32_indices_int64_indptr_and_float32_weights():
    src, dst, w, t = _random_edges(3)
    b = GraphBuilder(id_mode="dense")
    b.add_edges(src, dst, weight=w.astype(np.float64), time=t.astype(np.int32))
    g = b.build()
    for reverse in (False, True):
        adj = g.adjacency(reverse=reverse)
        assert adj.indptr.dtype == np.int64 and adj.indices.dtype == np.int32
        assert adj.weight.dtype == np.float32 and adj.time.dtype == np.int64
        rows = np.repeat(np.arange(adj.n_rows), adj.degree())
        key = rows.astype(np.int64) * adj.n_cols + adj.indices
        assert np.all(np.diff(key) >= 0)


@pytest.fixture
def hetero():
    """Three node types (str, int, dense ids), three edge types, weights, times, features."""
    b = GraphBuilder(node_types=["user", "item", "shop"])
    b.add_nodes("shop", count=2, features=np.arange(6, dtype=np.float32).reshape(2, 3))
    b.add_edges(["u1", "u2", "u1", "u3"], [10, 10, 20, 30], etype=("user", "buys", "item"),
                weight=[1.0, 2.0, 3.0, 4.0], time=[100, 200, 300, 400])
    b.add_edges([10, 20, 30], [0, 0, 1], etype=("item", "sold_by", "shop"))
    b.add_edges(["u1", "u2"], ["u2", "u3"], etype=("user", "follows", "user"))
    return b.build()


def test_heterogeneous_counts_degrees_neighbors(hetero):
    g = hetero
    assert g.node_types == ["user", "item", "shop"]
    assert [g.num_nodes(t) for t in g.node_types] == [3, 3, 2]
    assert g.num_nodes() == 8 and not g.is_homogeneous
    assert g.num_edges("buys") == 4 and g.num_edges() == 9
    assert g.out_degree("buys").tolist() == [2, 1, 1]
    assert g.in_degree("buys").tolist() == [2, 1, 1]
    assert g.in_degree("sold_by").tolist() == [2, 1]
    assert g.neighbors(0, "buys").tolist() == [0, 1]
    assert g.neighbors(0, "sold_by", reverse=True).tolist() == [0, 1]
    assert g.neighbors(1, "follows").tolist() == [2]
    np.testing.assert_array_equal(g.features("shop", [1]), [[3, 4, 5]])
    assert g.features("user") is None
    with pytest.raises(SchemaError, match="user, item, shop"):
        g.node_type(None)
    with pytest.raises(SchemaError, match="known edge types"):
        g.adjacency("likes")
    with pytest.raises(UnknownIdError):
        g.neighbors(3, "buys")


def test_find_edges_has_edges_edge_weights(hetero):
    g = hetero
    pos = g.find_edges([0, 0, 1, 2], [1, 2, 0, 2], "buys")
    assert pos[0] >= 0 and pos[1] == -1 and pos[2] >= 0 and pos[3] >= 0
    assert g.has_edges([0, 0], [0, 2], "buys").tolist() == [True, False]
    assert g.edge_weights([0, 2], [1, 2], "buys").tolist() == [3.0, 4.0]
    assert g.adjacency("buys").time[pos[0]] == 300
    assert g.edge_weights([0], [1], "follows").tolist() == [1.0]  # unweighted: ones
    with pytest.raises(SchemaError, match=r"\(0, 2\)"):
        g.edge_weights([0], [2], "buys")
    with pytest.raises(ValidationError, match="src has 2 ids but dst has 1"):
        g.find_edges([0, 1], [0], "buys")
    with pytest.raises(ValidationError, match="dtype"):
        g.find_edges([0.5], [0], "buys")


def test_lookup_and_external_ids_for_int_and_str_ids(hetero):
    g = hetero
    assert g.lookup("user", ["u3", "u1"]).tolist() == [2, 0]
    assert g.external_ids("user").tolist() == ["u1", "u2", "u3"]
    assert g.lookup("item", [30, 10]).tolist() == [2, 0]
    assert g.external_ids("item", [1]).tolist() == [20]
    assert g.node_store("item").ids.kind == "int"
    assert g.node_store("shop").ids.kind == "range"
    with pytest.raises(UnknownIdError, match="u9"):
        g.lookup("user", ["u9"])
    with pytest.raises(UnknownIdError, match="40"):
        g.lookup("item", [40])


def test_node_offsets_to_global_from_global(hetero):
    g = hetero
    assert g.node_offsets() == {"user": 0, "item": 3, "shop": 6}
    assert g.to_global("item", [0, 2]).tolist() == [3, 5]
    t, d = g.from_global([0, 5, 7])
    assert [g.node_types[i] for i in t] == ["user", "item", "shop"]
    assert d.tolist() == [0, 2, 1]
    with pytest.raises(UnknownIdError):
        g.from_global([8])
    with pytest.raises(UnknownIdError):
        g.to_global("shop", [2])


def test_from_global_skips_empty_node_types():
    b = GraphBuilder()
    b.add_nodes("empty", count=0)
    b.add_nodes("full", count=2)
    g = b.build()
    t, d = g.from_global([0, 1])
    assert t.tolist() == [1, 1] and d.tolist() == [0, 1]


def test_spill_to_disk_gives_the_same_graph(tmp_path):
    src, dst, w, t = _random_edges(4, n=30, m=400)
    graphs = []
    for limit in (1 << 30, 64):
        b = GraphBuilder(directed=False, duplicates="sum", memory_limit=limit, spill_dir=str(tmp_path))
        for a in range(0, src.size, 50):
            b.add_edges(src[a:a + 50], dst[a:a + 50], weight=w[a:a + 50], time=t[a:a + 50])
        if limit == 64:
            spills = list(tmp_path.iterdir())
            assert len(spills) == 1 and len(os.listdir(spills[0])) > 10  # chunks went to disk
        graphs.append(b.build())
        assert list(tmp_path.iterdir()) == []  # spill folder removed after build
    a, b = (g.adjacency() for g in graphs)
    for name in ("indptr", "indices", "weight", "time"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(graphs[0].external_ids(), graphs[1].external_ids())


def _make_builder():
    b = GraphBuilder(directed=False, duplicates="first")
    b.add_nodes("user", ids=["a", "b", "c"], labels=[0, 1, -1])
    b.add_edges(["a", "b", "a"], [7, 8, 7], etype=("user", "click", "ad"), weight=[1, 2, 3], time=[3, 2, 1])
    b.add_edges(["a", "c"], ["b", "a"], etype=("user", "knows", "user"))
    return b


def test_build_into_path_writes_the_same_store_as_save(tmp_path):
    built = _make_builder().build(str(tmp_path / "built"))
    assert built.path == str(tmp_path / "built")
    assert isinstance(built.adjacency("click").indices, np.memmap)
    saved_path = _make_builder().build().save(str(tmp_path / "saved"))
    m1 = json.loads((tmp_path / "built" / "meta.json").read_text())
    m2 = json.loads((tmp_path / "saved" / "meta.json").read_text())
    assert m1 == m2
    assert sorted(os.listdir(tmp_path / "built")) == sorted(os.listdir(saved_path))
    for name in m1["arrays"]:
        assert (tmp_path / "built" / name).read_bytes() == (tmp_path / "saved" / name).read_bytes()
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no staging left


def test_build_into_path_refuses_existing_store_and_keeps_it(tmp_path):
    _make_builder().build(str(tmp_path / "g"))
    from vastgraph.errors import StoreExistsError
    b = GraphBuilder()
    b.add_edges([0], [1])
    with pytest.raises(StoreExistsError):
        b.build(str(tmp_path / "g"))
    assert HeteroGraph.open(str(tmp_path / "g")).node_types == ["user", "ad"]
    g = b.build(str(tmp_path / "g"), overwrite=True)
    assert g.node_types == ["node"] and sorted(p.name for p in tmp_path.iterdir()) == ["g"]


def test_failure_during_build_into_path_leaves_no_staging(tmp_path, monkeypatch):
    from vastgraph.graph import builder as builder_mod

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(builder_mod, "compact_rows", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        _make_builder().build(str(tmp_path / "g"))
    assert list(tmp_path.iterdir()) == []


def test_empty_builder_raises():
    with pytest.raises(EmptyInputError):
        GraphBuilder().build()


def test_strict_node_types_reject_unknown_endpoint_types():
    b = GraphBuilder(node_types=["user", "item"])
    with pytest.raises(SchemaError, match="user, item") as exc:
        b.add_edges([0], [1], etype=("user", "click", "ad"))
    assert "'ad'" in str(exc.value)
    with pytest.raises(SchemaError, match="user, item"):
        b.add_nodes("ad", count=3)


def test_dense_ids_beyond_declared_count_raise():
    b = GraphBuilder(id_mode="dense")
    b.add_nodes("node", count=5)
    b.add_edges([0, 4], [1, 2])
    with pytest.raises(UnknownIdError, match=r"5 out of range \[0, 5\)"):
        b.add_edges([0], [5])
    with pytest.raises(ValidationError, match="negative"):
        b.add_edges([-1], [0])


def test_declared_ids_close_the_node_set():
    b = GraphBuilder()
    b.add_nodes("node", ids=["a", "b"])
    with pytest.raises(UnknownIdError, match="'c'"):
        b.add_edges(["a"], ["c"])


def test_nan_weight_names_the_row():
    b = GraphBuilder()
    with pytest.raises(ValidationError, match=r"clicks\.tsv: row 12: weight is nan"):
        b.add_edges([0, 1, 2], [1, 2, 0], weight=[1.0, 2.0, np.nan], source="clicks.tsv", row_offset=10)
    with pytest.raises(ValidationError, match="row 1: weight is inf"):
        b.add_edges([0, 1], [1, 2], weight=[1.0, np.inf])
    with pytest.raises(ValidationError, match="row 0: time is nan"):
        b.add_edges([0], [1], time=[np.nan])


@pytest.mark.parametrize("kwargs, match", [
    ({"duplicates": "max"}, "duplicates='max'"),
    ({"self_loops": "merge"}, "self_loops='merge'"),
    ({"id_mode": "hash"}, "id_mode='hash'"),
])
def test_bad_policies_raise(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        GraphBuilder(**kwargs)


def test_bad_edge_arrays_raise():
    b = GraphBuilder()
    with pytest.raises(ValidationError, match="must be equal 1-D"):
        b.add_edges([0, 1], [1])
    with pytest.raises(ValidationError, match=r"weight has shape \(1,\), expected \(2,\)"):
        b.add_edges([0, 1], [1, 2], weight=[1.0])
    with pytest.raises(ValidationError, match="time has dtype"):
        b.add_edges([0], [1], time=["noon"])
    with pytest.raises(ValidationError, match="weight has dtype"):
        b.add_edges([0], [1], weight=["heavy"])
    with pytest.raises(ValidationError, match="edge type"):
        b.add_edges([0], [1], etype=("a", "b"))
    with pytest.raises(ValidationError, match="relation name"):
        b.add_edges([0], [1], etype=("a", "r/x", "b"))


@pytest.mark.parametrize("kwargs, match", [
    ({"count": 3, "features": [1.0, 2.0, 3.0]}, r"features: shape \(3,\)"),
    ({"count": 2, "features": [[1.0], [np.nan]]}, "row 1 holds NaN"),
    ({"count": 2, "features": [["a"], ["b"]]}, "features: dtype"),
    ({"count": 2, "labels": [0, -2]}, "-2 < -1"),
    ({"count": 2, "labels": [0.5, 1.0]}, "labels: dtype"),
    ({"count": 2, "labels": [[0, 2], [1, 0]]}, "0/1"),
    ({"count": 2, "data": {"mask": [True]}}, "data 'mask'"),
    ({}, "give ids, count"),
    ({"ids": ["a", "a"]}, "duplicate"),
    ({"count": -1}, "negative"),
])
def test_bad_node_attributes_raise(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        GraphBuilder().add_nodes("node", **kwargs)


def test_duplicate_dense_ids_raise():
    with pytest.raises(ValidationError, match="duplicate"):
        GraphBuilder(id_mode="dense").add_nodes("node", ids=[0, 2, 2])


def test_features_must_cover_nodes_added_later():
    b = GraphBuilder(id_mode="dense")
    b.add_nodes("node", count=2, features=np.ones((2, 3)))
    b.add_nodes("node", count=5)  # grows the node set past the feature rows
    with pytest.raises(ValidationError, match="2 rows but edges name 5 nodes"):
        b.build()
    b2 = GraphBuilder()
    b2.add_nodes("node", ids=["a", "b"], features=np.ones((2, 3)))
    with pytest.raises(UnknownIdError, match="'z'"):
        b2.add_edges(["a"], ["z"])


def test_attributes_follow_declared_ids_when_edges_came_first():
    b = GraphBuilder()
    b.add_edges(["b", "c"], ["a", "a"])  # dense ids: b=0, c=1, a=2
    b.add_nodes("node", ids=["a", "b", "c"], features=[[1.0], [2.0], [3.0]], labels=[10, 20, 30],
                data={"mask": np.array([True, False, False])})
    g = b.build()
    dense = g.lookup(None, ["a", "b", "c"])
    np.testing.assert_array_equal(g.features()[dense, 0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(g.labels()[dense], [10, 20, 30])
    np.testing.assert_array_equal(g.node_data(None, "mask")[dense], [True, False, False])
    b = GraphBuilder(id_mode="dense")
    b.add_nodes("node", ids=[2, 0, 1], features=[[2.0], [0.0], [1.0]])
    np.testing.assert_array_equal(b.build().features()[:, 0], [0.0, 1.0, 2.0])


def test_declared_ids_conflicting_with_earlier_edges_raise():
    b = GraphBuilder()
    b.add_edges(["x"], ["y"])
    with pytest.raises(ValidationError, match="not among the 2 declared ids"):
        b.add_nodes("node", ids=["x", "z"])


def test_empty_first_chunk_does_not_turn_int_ids_into_strings():
    b = GraphBuilder()
    b.add_edges([], [])
    b.add_edges([5, 7], [7, 9])
    g = b.build()
    assert g.node_store().ids.kind == "int"
    assert g.external_ids().tolist() == [5, 7, 9]
    assert g.lookup(None, [9]).tolist() == [2]


def test_empty_edge_type_and_isolated_nodes():
    b = GraphBuilder()
    b.add_nodes("node", count=4)
    b.add_edge_type("node:edge:node")
    g = b.build()
    assert g.num_edges() == 0 and g.num_nodes() == 4
    assert g.adjacency().indptr.tolist() == [0] * 5
    assert g.summary()["edge_types"]["node:edge:node"]["isolated_sources"] == 4
