"""from_columns / from_dataframe / from_arrow: round trips, zero-copy and errors naming the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from vastgraph.errors import SchemaError, UnknownIdError, ValidationError
from vastgraph.graph.column_reader import coerce
from vastgraph.graph.readers import from_arrow, from_columns, from_dataframe
from helpers import edge_tuples as edges




def test_numpy_columns_round_trip_with_weight_and_time():
    g = from_columns(np.array([0, 1, 2]), np.array([1, 2, 0]), weight=np.array([0.5, 1.5, 2.5]),
                     time=np.array([10, 20, 30]), id_mode="dense", chunk_rows=2)
    assert edges(g) == [(0, 1, 0.5, 10), (1, 2, 1.5, 20), (2, 0, 2.5, 30)]


def test_coerce_is_zero_copy_for_stored_dtypes():
    ids = np.arange(10, dtype=np.int64)
    w = np.ones(10, dtype=np.float32)
    assert np.shares_memory(coerce("src", ids), ids)
    assert np.shares_memory(coerce("weight", w), w)
    arrow = pa.array(ids)
    out = coerce("dst", arrow, id_mode="dense")
    assert np.shares_memory(out, arrow.to_numpy())  # a view of the Arrow buffer
    series = pd.Series(ids)
    assert np.shares_memory(coerce("src", series), series.to_numpy())


def test_dataframe_with_string_ids_rel_and_datetime_time():
    df = pd.DataFrame({"u": ["a", "b", "a"], "v": ["x", "y", "y"], "kind": ["click", "buy", "click"],
                       "when": pd.to_datetime(["1970-01-01 00:00:10", "1970-01-01 00:00:20",
                                               "1970-01-01 00:01:00"])})
    g = from_dataframe(df, src="u", dst="v", rel="kind", time="when", src_type="user", dst_type="item")
    assert sorted(map(str, g.edge_types)) == ["user:buy:item", "user:click:item"]
    assert edges(g, "click") == [("a", "x", 10), ("a", "y", 60)]


def test_arrow_table_with_several_chunks_and_categorical_relation():
    t = pa.concat_tables([pa.table({"s": [0, 1], "d": [1, 2], "w": [1.0, 2.0]}),
                          pa.table({"s": [2, 3], "d": [3, 0], "w": [3.0, 4.0]})])
    assert t.column("s").num_chunks == 2
    g = from_arrow(t, src="s", dst="d", weight="w", id_mode="dense", chunk_rows=3)
    assert edges(g) == [(0, 1, 1.0), (1, 2, 2.0), (2, 3, 3.0), (3, 0, 4.0)]
    g2 = from_arrow(t.to_batches()[0], src="s", dst="d")
    assert g2.num_edges() == 2


def test_node_attributes_and_isolated_nodes():
    feats = np.arange(12, dtype=np.float32).reshape(4, 3)
    g = from_columns([0, 1], [1, 2], num_nodes=4, node_features=feats, node_labels=[0, 1, -1, 1],
                     id_mode="dense", directed=False)
    assert g.num_nodes() == 4 and g.neighbors(3).size == 0
    np.testing.assert_array_equal(g.features(), feats)
    assert g.labels().tolist() == [0, 1, -1, 1]
    g2 = from_columns(["a"], ["b"], node_ids=["b", "a", "c"])
    assert g2.external_ids().tolist() == ["b", "a", "c"]
    with pytest.raises(UnknownIdError):
        from_columns(["a"], ["z"], node_ids=["a", "b"])
    with pytest.raises(ValidationError, match="give a dict"):
        from_columns([0], [1], src_type="user", dst_type="item", num_nodes=3)


def test_policies_apply_to_columns():
    g = from_columns([0, 0, 1, 2], [1, 1, 1, 0], weight=[1.0, 2.0, 5.0, 1.0], duplicates="sum",
                     self_loops="drop", id_mode="dense")
    assert edges(g) == [(0, 1, 3.0), (2, 0, 1.0)]
    stats = g.info["build"]["edge_types"]["node:edge:node"]
    assert stats["merged_duplicates"] == 1 and stats["dropped_self_loops"] == 1


@pytest.mark.parametrize("kwargs,match", [
    ({"weight": np.array([1.0, np.nan, 2.0])}, r"column 'weight' \(weight\), row 1: nan is not a finite"),
    ({"weight": np.array(["1", "x", "2"], dtype=object)}, r"row 1: 'x' is not a number"),
    ({"weight": np.array([1.0, 2.0, 1e40])}, r"row 2: 1e\+40 is not a finite number"),
    ({"time": np.array([1.0, 2.5, 3.0])}, r"column 'time' \(time\), row 1: 2.5 is not an integer"),
    ({"time": np.array([1.0, np.nan, 3.0])}, r"row 1: nan is not an integer"),
    ({"weight": np.array([1.0, 2.0])}, r"unequal length: src has 3, dst has 3, weight has 2"),
    ({"rel": np.array(["a", "b:c", "a"], dtype=object)}, r"row 1: 'b:c' is not a usable relation"),
])
def test_bad_numpy_columns_are_named(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        from_columns(np.array([0, 1, 2]), np.array([1, 2, 0]), **kwargs)


def test_dense_mode_errors_name_the_column_and_row():
    with pytest.raises(ValidationError, match=r"column 'src' \(src\), row 2: -1 is a negative id"):
        from_columns(np.array([0, 1, -1]), np.array([1, 2, 0]), id_mode="dense")
    with pytest.raises(ValidationError, match=r"column 'dst' \(dst\), row 0: 'a' is not an integer"):
        from_columns(np.array([0]), np.array(["a"], dtype=object), id_mode="dense")


def test_dataframe_errors_use_the_dataframe_column_names():
    df = pd.DataFrame({"u": pd.array([1, None, 3], dtype="Int64"), "v": [1, 2, 3], "w": [1.0, 2.0, np.inf]})
    with pytest.raises(ValidationError, match=r"column 'u' \(src\), row 1: is missing"):
        from_dataframe(df, src="u", dst="v")
    with pytest.raises(ValidationError, match=r"column 'w' \(weight\), row 2: inf is not a finite"):
        from_dataframe(df.fillna(0), src="u", dst="v", weight="w")
    with pytest.raises(SchemaError, match="dst='x': no such column; columns: u, v, w"):
        from_dataframe(df, src="u", dst="x")
    with pytest.raises(ValidationError, match="expected a pandas DataFrame"):
        from_dataframe({"u": [1]}, src="u", dst="u")


def test_arrow_nulls_are_named():
    t = pa.table({"src": [0, 1, 2], "dst": pa.array([1, None, 0], pa.int64())})
    with pytest.raises(ValidationError, match=r"column 'dst' \(dst\), row 1: is missing"):
        from_arrow(t)


def test_empty_columns():
    from vastgraph.errors import EmptyInputError

    with pytest.raises(EmptyInputError):
        from_columns(np.array([], np.int64), np.array([], np.int64))


def test_filtered_dataframe_with_a_gappy_index():
    df = pd.DataFrame({"u": [0, 9, 1, 9, 2], "v": [1, 9, 2, 9, 0]})
    sub = df[df.u != 9]  # index 0, 2, 4
    g = from_dataframe(sub, src="u", dst="v", id_mode="dense", chunk_rows=2)
    assert edges(g) == [(0, 1), (1, 2), (2, 0)]


def test_object_columns_of_python_ints_stay_integer_ids():
    g = from_columns(np.array([10, 20], dtype=object), np.array([20, 30], dtype=object))
    assert g.external_ids().tolist() == [10, 20, 30]
    assert g.node_store().ids.kind == "int"
