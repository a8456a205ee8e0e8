"""Parquet reader: round trips, multiple files, batches, and errors naming file, row and column."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vastgraph.errors import DatasetError, EmptyInputError, ParseError, ValidationError
from vastgraph.graph import GraphBuilder, HeteroGraph
from vastgraph.graph.readers import add_parquet, read_parquet
from helpers import edge_tuples as edges





def write(tmp_path, name: str, table: pa.Table, **kw) -> str:
    p = str(tmp_path / name)
    pq.write_table(table, p, **kw)
    return p


def test_named_columns_with_weight_and_timestamp(tmp_path):
    t = pa.table({"src": ["a", "b", "c"], "dst": ["b", "c", "a"], "weight": [0.5, 1.0, 2.0],
                  "time": pa.array([10, 20, 30], pa.timestamp("s"))})
    g = read_parquet(write(tmp_path, "e.parquet", t))
    assert edges(g) == [("a", "b", 0.5, 10), ("b", "c", 1.0, 20), ("c", "a", 2.0, 30)]


def test_positional_columns_and_mapping_by_index_or_name(tmp_path):
    t = pa.table({"u": [1, 2], "v": [2, 3], "w": [1.5, 2.5]})
    p = write(tmp_path, "e.parquet", t)
    assert edges(read_parquet(p)) == [(1, 2, 1.5), (2, 3, 2.5)]
    assert edges(read_parquet(p, columns={"src": 1, "dst": 0})) == [(2, 1), (3, 2)]
    assert edges(read_parquet(p, columns={"src": "u", "dst": "v"}, weighted=False)) == [(1, 2), (2, 3)]


def test_batches_row_groups_and_files_give_one_graph(tmp_path):
    rng = np.random.default_rng(0)
    s, d, w = rng.integers(0, 50, 1000), rng.integers(0, 50, 1000), rng.random(1000).astype(np.float32)
    whole = write(tmp_path, "whole.parquet", pa.table({"src": s, "dst": d, "weight": w}))
    folder = tmp_path / "parts"
    folder.mkdir()
    for k in range(4):
        sl = slice(250 * k, 250 * (k + 1))
        write(folder, f"part{k}.parquet", pa.table({"src": s[sl], "dst": d[sl], "weight": w[sl]}),
              row_group_size=60)
    seen = []
    one = read_parquet(whole)
    many = read_parquet(str(folder), chunk_rows=33, progress=seen.append)
    assert edges(one) == edges(many)
    assert seen[-1] == 1000 and seen == sorted(seen)
    listed = read_parquet(sorted(str(folder / f) for f in os.listdir(folder)), id_mode="dense")
    assert listed.num_edges() == 1000


def test_typed_parquet_with_relation_column(tmp_path):
    t = pa.table({"rel": pa.array(["click", "buy", "click"]).dictionary_encode(), "src": [1, 1, 2],
                  "dst": [10, 11, 10]})
    g = read_parquet(write(tmp_path, "e.parquet", t), src_type="user", dst_type="item")
    assert sorted(map(str, g.edge_types)) == ["user:buy:item", "user:click:item"]
    assert edges(g, "click") == [(1, 10), (2, 10)]


def test_add_parquet_feeds_an_existing_builder(tmp_path):
    b = GraphBuilder()
    add_parquet(b, write(tmp_path, "a.parquet", pa.table({"src": ["x"], "dst": ["y"]})))
    add_parquet(b, write(tmp_path, "b.parquet", pa.table({"src": ["y"], "dst": ["z"]})))
    assert edges(b.build()) == [("x", "y"), ("y", "z")]


@pytest.mark.parametrize("table,columns,row,field,words", [
    (pa.table({"u": ["a", "b", None], "v": ["b", "c", "a"]}), None, 3, "src", "missing"),
    (pa.table({"u": [1, 2, 3], "v": [2, 3, 1], "w": ["1", "x", "2"]}),
     {"src": "u", "dst": "v", "weight": "w"}, 2, "weight", "'x' is not a number"),
    (pa.table({"u": [1, 2, 3], "v": [2, 3, 1], "w": [1.0, 2.0, float("nan")]}), None, 3, "weight",
     "not a finite number"),
    (pa.table({"u": [1, 2, 3], "v": [2, 3, 1], "t": [1.0, 2.5, 3.0]}),
     {"src": "u", "dst": "v", "time": "t"}, 2, "time", "2.5 is not an integer"),
])
def test_bad_values_name_file_row_and_column(tmp_path, table, columns, row, field, words):
    p = write(tmp_path, "bad.parquet", table)
    with pytest.raises(ParseError) as info:
        read_parquet(p, columns=columns, chunk_rows=2)
    err = info.value
    assert err.path == p and err.field == field
    assert f"row {row}, column " in str(err) and words in str(err)


def test_dense_mode_rejects_negative_and_string_ids(tmp_path):
    p = write(tmp_path, "neg.parquet", pa.table({"src": [0, -1], "dst": [1, 2]}))
    with pytest.raises(ParseError, match="row 2, column 'src': -1 is a negative id"):
        read_parquet(p, id_mode="dense")
    p2 = write(tmp_path, "str.parquet", pa.table({"src": ["0", "a"], "dst": [1, 2]}))
    with pytest.raises(ParseError, match="row 2, column 'src': 'a' is not an integer"):
        read_parquet(p2, id_mode="dense")


def test_unknown_column_missing_file_bad_file_and_empty(tmp_path):
    p = write(tmp_path, "e.parquet", pa.table({"u": [1], "v": [2]}))
    with pytest.raises(ParseError, match="column 'vv' is not in the file"):
        read_parquet(p, columns={"src": "u", "dst": "vv"})
    with pytest.raises(DatasetError, match="nope.parquet"):
        read_parquet(tmp_path / "nope.parquet")
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    with pytest.raises(ParseError, match="junk.parquet"):
        read_parquet(junk)
    empty = write(tmp_path, "empty.parquet", pa.table({"src": pa.array([], pa.int64()),
                                                       "dst": pa.array([], pa.int64())}))
    with pytest.raises(EmptyInputError, match="empty.parquet"):
        read_parquet(empty)
    with pytest.raises(ValidationError, match="weight was asked for"):
        read_parquet(p, columns={"src": "u", "dst": "v"}, weighted=True)


def test_failed_parquet_read_leaves_no_store(tmp_path):
    p = write(tmp_path, "bad.parquet", pa.table({"src": [1, 2], "dst": [2, None]}))
    out = tmp_path / "store"
    with pytest.raises(ParseError):
        read_parquet(p, out=out)
    assert not out.exists()
    good = write(tmp_path, "good.parquet", pa.table({"src": [1], "dst": [2]}))
    g = read_parquet(good, out=out)
    assert edges(HeteroGraph.open(str(out))) == edges(g) == [(1, 2)]
