"""IdIndex: range, int and str external-id maps; IdMapper's incremental assignment."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.errors import UnknownIdError, ValidationError
from vastgraph.graph import GraphBuilder, HeteroGraph, IdIndex
from vastgraph.graph.id_mapper import IdMapper


def test_range_index():
    idx = IdIndex.from_values(np.arange(5))
    assert idx.kind == "range" and idx.arrays == {} and len(idx) == 5
    assert idx.lookup([4, 0]).tolist() == [4, 0]
    assert idx.external([3]).tolist() == [3]
    assert idx.lookup([5, -1, 2], missing="-1").tolist() == [-1, -1, 2]
    with pytest.raises(UnknownIdError, match=r"\[5\]"):
        idx.lookup([5])


def test_int_index_lookup_by_binary_search():
    vals = np.array([50, -3, 7, 1 << 40, 0])
    idx = IdIndex.from_values(vals)
    assert idx.kind == "int"
    assert idx.lookup(vals[::-1]).tolist() == [4, 3, 2, 1, 0]
    assert idx.lookup([8, 50, -4, 1 << 41], missing="-1").tolist() == [-1, 0, -1, -1]
    np.testing.assert_array_equal(idx.values(), vals)
    assert idx.lookup(["7"]).tolist() == [2]  # numeric strings are read as ints
    with pytest.raises(UnknownIdError, match="not integers"):
        idx.lookup(["seven"])
    with pytest.raises(UnknownIdError, match=r"unknown item id\(s\) \[8\]"):
        idx.lookup([8], ntype="item")


def test_str_index():
    idx = IdIndex.from_values(np.array(["b", "ä", "", "long id"], dtype=object))
    assert idx.kind == "str" and idx.n == 4
    assert idx.lookup(["long id", "ä", ""]).tolist() == [3, 1, 2]
    assert idx.lookup([b"b"]).tolist() == [0]
    assert idx.lookup(["zz"], missing="-1").tolist() == [-1]
    assert idx.external([1, 3]).tolist() == ["ä", "long id"]
    # a fresh index over the same arrays (as after opening a store) answers the same
    again = IdIndex("str", idx.n, idx.arrays)
    assert again.lookup(["long id", "b"]).tolist() == [3, 0]
    assert again.values().tolist() == ["b", "ä", "", "long id"]
    with pytest.raises(UnknownIdError, match="'zz'"):
        again.lookup(["zz"])


def test_int_lookup_on_str_index_compares_as_text():
    idx = IdIndex.from_values(np.array(["1", "2"]))
    assert idx.lookup([2]).tolist() == [1]


@pytest.mark.parametrize("values, match", [
    (np.array([3, 1, 3]), "id 3 appears more than once"),
    (np.array(["a", "b", "a"]), "'a' appears more than once"),
    (np.array([0.5, 1.5]), "dtype float64"),
])
def test_bad_values_raise(values, match):
    with pytest.raises(ValidationError, match=match):
        IdIndex.from_values(values)


def test_bad_kind_and_external_out_of_range():
    with pytest.raises(ValidationError, match="'hash'"):
        IdIndex("hash", 3)
    idx = IdIndex.from_values(np.array([9, 8]))
    with pytest.raises(UnknownIdError, match=r"\[2\]"):
        idx.external([2])
    with pytest.raises(UnknownIdError):
        idx.external([-1])


def test_empty_indexes():
    for idx in (IdIndex.range(0), IdIndex("int", 0, {"ids": np.zeros(0, np.int64), "order": np.zeros(0, np.int64)})):
        assert idx.lookup([1], missing="-1").tolist() == [-1]
        assert idx.values().size == 0


def test_id_kinds_survive_a_store_round_trip(tmp_path):
    b = GraphBuilder()
    b.add_edges(["x", "é", "x"], [30, 10, 20], etype=("s", "r", "i"))
    b.add_nodes("d", count=3)
    g = b.build()
    h = HeteroGraph.open(g.save(str(tmp_path / "g")))
    assert [h.node_store(t).ids.kind for t in ("s", "i", "d")] == ["str", "int", "range"]
    assert h.lookup("s", ["é"]).tolist() == [1]
    assert h.lookup("i", [20, 30]).tolist() == [2, 0]
    assert h.external_ids("s").tolist() == ["x", "é"]
    assert isinstance(h.node_store("i").ids.arrays["ids"], np.memmap)


def test_id_mapper_assigns_in_first_appearance_order():
    m = IdMapper("node")
    assert m.map(np.array(["c", "a", "c", "b"])).tolist() == [0, 1, 0, 2]
    assert m.map(np.array(["b", "d"])).tolist() == [2, 3]
    assert m.count == 4
    assert m.index().values().tolist() == ["c", "a", "b", "d"]


def test_id_mapper_mixed_kinds_and_dense_mode():
    m = IdMapper("node")
    m.map(np.array([1, 2]))
    assert m.map(np.array(["2"])).tolist() == [1]  # numeric strings join int ids
    with pytest.raises(ValidationError, match="mixed"):
        m.map(np.array(["two"]))
    d = IdMapper("node", "dense")
    assert d.map(np.array([3, 1])).tolist() == [3, 1] and d.count == 4
    assert d.map(np.array([2.0])).tolist() == [2]
    with pytest.raises(ValidationError, match="non-integer"):
        d.map(np.array([2.5]))
    with pytest.raises(ValidationError, match="not integers"):
        d.map(np.array(["a"]))
    with pytest.raises(ValidationError, match="'hash'"):
        IdMapper("node", "hash")
    assert d.index().kind == "range"


def test_id_mapper_declared_count_in_map_mode():
    m = IdMapper("node")
    m.declare(count=3)  # nothing mapped yet: becomes dense ids 0..2
    assert m.mode == "dense" and m.map(np.array([2])).tolist() == [2]
    with pytest.raises(UnknownIdError):
        m.map(np.array([3]))
    m2 = IdMapper("node")
    m2.map(np.array(["a", "b"]))
    with pytest.raises(ValidationError, match="conflicts with 2 known ids"):
        m2.declare(count=5)
