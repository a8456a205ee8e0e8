"""KeyedEmbeddings: lookups, nearest neighbours against numpy, the folder format and the exports."""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
from vastgraph.errors import (CorruptStoreError, FormatVersionError, ParseError, SchemaError, StoreError,
                              StoreExistsError, UnknownIdError, ValidationError)
from vastgraph.graph import GraphBuilder


def homo(n=50, d=8, seed=0, ids=None):
    rng = np.random.default_rng(seed)
    ids = np.arange(100, 100 + n) if ids is None else ids
    return KeyedEmbeddings(rng.normal(size=(n, d)), ["node"], [0, n], {"node": ids}, {"method": "test"})


def hetero(seed=0):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(7, 4)).astype(np.float32)
    return KeyedEmbeddings(v, ["user", "item"], [0, 3, 7],
                           {"user": np.array(["ann", "bob", "cy"], dtype=object), "item": np.array([5, 9, 2, 11])},
                           {"method": "test", "params": {"d": 4}})


# ------------------------------------------------------------------------------- access
def test_lookup_single_and_multi_type():
    kv = homo()
    assert len(kv) == 50 and kv.dim == 8
    np.testing.assert_array_equal(kv[103], kv.vectors[3])
    np.testing.assert_array_equal(kv.get([101, 104]), kv.vectors[[1, 4]])
    np.testing.assert_array_equal(kv[("node", 149)], kv.vectors[49])
    hv = hetero()
    np.testing.assert_array_equal(hv[("item", 2)], hv.vectors[5])
    np.testing.assert_array_equal(hv.get("bob", ntype="user"), hv.vectors[1])
    np.testing.assert_array_equal(hv.vectors_for("item"), hv.vectors[3:])
    assert hv.ids_for("user").tolist() == ["ann", "bob", "cy"]
    assert hv.index_of([9, 11], ntype="item").tolist() == [4, 6]
    assert hv.key_of([0, 6]) == [("user", "ann"), ("item", 11)]
    assert kv.key_of([2]) == [102]
    assert ("item", 9) in hv and ("item", 10) not in hv and ("shop", 1) not in hv
    assert 120 in kv and 7 not in kv
    assert "user=3" in repr(hv) and "dim=4" in repr(hv)


def test_lookup_errors_name_the_key():
    kv, hv = homo(), hetero()
    with pytest.raises(UnknownIdError, match="777"):
        kv[777]
    with pytest.raises(UnknownIdError, match="dan"):
        hv[("user", "dan")]
    with pytest.raises(SchemaError, match="user, item"):
        hv[9]  # two node types: the key must name one
    with pytest.raises(SchemaError, match="unknown node type 'shop'"):
        hv.get(1, ntype="shop")
    with pytest.raises(KeyError):  # UnknownIdError is a KeyError too
        kv[-5]


def test_immutable_and_copied():
    src = np.ones((3, 2), np.float32)
    kv = KeyedEmbeddings(src, ["n"], [0, 3], {"n": [0, 1, 2]})
    src[0, 0] = 5.0
    assert kv[0][0] == 1.0
    with pytest.raises(ValueError):
        kv.vectors[0, 0] = 2.0
    with pytest.raises(ValueError):
        kv[1][0] = 2.0
    view = KeyedEmbeddings(src, ["n"], [0, 3], {"n": [0, 1, 2]}, copy=False)
    assert np.shares_memory(view.vectors, src)
    meta = hetero().meta
    meta["method"] = "changed"
    assert hetero().meta["method"] == "test"


@pytest.mark.parametrize("vectors,types,offsets,ids,match", [
    (np.array([[0.0, np.nan]]), ["n"], [0, 1], {"n": [0]}, "row 0 holds NaN"),
    (np.array([[0.0, np.inf], [1, 1]]), ["n"], [0, 2], {"n": [0, 1]}, "NaN/inf"),
    (np.zeros(3), ["n"], [0, 3], {"n": [0, 1, 2]}, "2-D"),
    (np.array([["a"]]), ["n"], [0, 1], {"n": [0]}, "dtype"),
    (np.zeros((3, 2)), ["n"], [0, 2], {"n": [0, 1]}, "offsets"),
    (np.zeros((3, 2)), ["n"], [0, 3, 4], {"n": [0, 1, 2]}, "offsets"),
    (np.zeros((3, 2)), ["n"], [0, 3], {"n": [0, 1]}, "2 ids but offsets give"),
    (np.zeros((3, 2)), ["n"], [0, 3], {"m": [0, 1, 2]}, "one entry per node type"),
    (np.zeros((3, 2)), ["n"], [0, 3], {"n": [0, 1, 1]}, "more than once"),
    (np.zeros((3, 2)), ["n", "n"], [0, 1, 3], {"n": [0]}, "distinct"),
])
def test_bad_construction(vectors, types, offsets, ids, match):
    with pytest.raises(ValidationError, match=match):
        KeyedEmbeddings(vectors, types, offsets, ids)


def test_meta_must_be_json():
    with pytest.raises(ValidationError, match="meta"):
        KeyedEmbeddings(np.zeros((1, 2)), ["n"], [0, 1], {"n": [0]}, {"f": object()})


def test_pickles_with_its_index_cache_dropped():
    import pickle

    kv = hetero()
    kv.most_similar(("user", "ann"))  # builds a faiss index
    back = pickle.loads(pickle.dumps(kv))
    assert np.array_equal(back.vectors, kv.vectors) and back.meta == kv.meta
    assert back.most_similar(("user", "ann")) == kv.most_similar(("user", "ann"))


def test_from_graph_keys_rows_by_global_id():
    b = GraphBuilder()
    b.add_edges(["q1", "q2", "q2"], [10, 30, 20], etype=("query", "click", "ad"))
    g = b.build()
    n = g.num_nodes_total()
    vec = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    kv = KeyedEmbeddings.from_graph(g, vec, meta={"method": "x"})
    off = g.node_offsets()
    for nt in g.node_types:
        for dense, ext in enumerate(g.external_ids(nt).tolist()):
            np.testing.assert_array_equal(kv[(nt, ext)], vec[off[nt] + dense])
    with pytest.raises(ValidationError, match=f"expected \\({n}, d\\)"):
        KeyedEmbeddings.from_graph(g, vec[:-1])


# ------------------------------------------------------------------------------- neighbours
def brute_force(vectors, q, metric):
    if metric == "cosine":
        vn = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        s = vn @ (q / np.linalg.norm(q))
        return np.argsort(-s, kind="stable"), s
    if metric == "dot":
        s = vectors @ q
        return np.argsort(-s, kind="stable"), s
    s = np.linalg.norm(vectors - q, axis=1)
    return np.argsort(s, kind="stable"), s


@pytest.mark.parametrize("metric", ["cosine", "dot", "l2"])
def test_most_similar_agrees_with_numpy(metric):
    kv = homo(n=200, d=16, seed=3)
    v = kv.vectors.astype(np.float64)
    rng = np.random.default_rng(0)
    for q in (rng.normal(size=16), v[17]):
        order, s = brute_force(v, q, metric)
        got = kv.most_similar(q.astype(np.float32), topn=10, metric=metric)
        assert [k for k, _ in got] == [100 + i for i in order[:10]]
        np.testing.assert_allclose([x for _, x in got], s[order[:10]], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_vector_query_returns_its_own_key_first(metric):
    hv = hetero()
    for row in range(len(hv)):
        key = hv.key_of([row])[0]
        assert hv.most_similar(hv.vectors[row], topn=3, metric=metric)[0][0] == key


def test_key_query_excludes_itself_and_type_filter():
    hv = hetero()
    res = hv.most_similar(("user", "bob"), topn=10)
    assert len(res) == 6 and ("user", "bob") not in [k for k, _ in res]
    items = hv.most_similar(("user", "bob"), topn=10, ntype="item")
    assert len(items) == 4 and all(k[0] == "item" for k, _ in items)
    vi = hv.vectors_for("item").astype(np.float64)
    order, _ = brute_force(vi, hv[("user", "bob")].astype(np.float64), "cosine")
    assert [k[1] for k, _ in items] == hv.ids_for("item")[order].tolist()
    kv = homo()
    assert kv.most_similar(103, topn=2)[0][0] != 103


def test_batch_search():
    kv = homo(n=40, d=6, seed=1)
    scores, rows = kv.search(kv.vectors[:5], topn=3)
    assert scores.shape == rows.shape == (5, 3)
    assert rows[:, 0].tolist() == [0, 1, 2, 3, 4]
    lists = kv.most_similar(kv.vectors[:2], topn=2)
    assert len(lists) == 2 and lists[1][0][0] == 101


@pytest.mark.parametrize("kwargs,match", [
    ({"query": np.zeros(3, np.float32)}, "shape"),
    ({"query": np.full(8, np.nan, np.float32)}, "NaN"),
    ({"query": np.zeros(8, np.float32), "metric": "hamming"}, "metric='hamming'"),
    ({"query": np.zeros(8, np.float32), "topn": 0}, "topn=0"),
    ({"query": np.zeros(8, np.float32), "ntype": "shop"}, "unknown node type"),
])
def test_most_similar_bad_input(kwargs, match):
    with pytest.raises((ValidationError, SchemaError), match=match):
        homo().most_similar(**kwargs)


# ------------------------------------------------------------------------------- folder format
def test_save_load_round_trip_exact(tmp_path):
    for kv in (homo(), hetero()):
        path = tmp_path / f"emb{len(kv)}"
        out = kv.save(path)
        assert out == str(path.absolute())
        assert sorted(os.listdir(tmp_path)) == sorted(p for p in os.listdir(tmp_path) if not p.startswith("."))
        back = KeyedEmbeddings.load(path)
        assert isinstance(back.vectors, np.memmap) and not back.vectors.flags.writeable
        assert np.array_equal(back.vectors, kv.vectors)
        assert back.node_types == kv.node_types and np.array_equal(back.offsets, kv.offsets)
        for t in kv.node_types:
            assert back.ids_for(t).tolist() == kv.ids_for(t).tolist()
        assert back.meta == kv.meta
        np.testing.assert_array_equal(back[back.key_of([2])[0]], kv.vectors[2])
        eager = KeyedEmbeddings.load(path, mmap=False, verify=True)
        assert not isinstance(eager.vectors, np.memmap) and np.array_equal(eager.vectors, kv.vectors)


def test_save_refuses_to_clobber(tmp_path):
    kv = homo()
    path = tmp_path / "emb"
    kv.save(path)
    with pytest.raises(StoreExistsError, match="already exists"):
        kv.save(path)
    hetero().save(path, overwrite=True)
    assert KeyedEmbeddings.load(path).node_types == ["user", "item"]
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(StoreExistsError, match="not a vastgraph"):
        kv.save(other, overwrite=True)
    assert (other / "keep.txt").read_text() == "mine"


def test_load_rejects_what_is_not_an_embedding(tmp_path):
    with pytest.raises(StoreError, match="no such embedding folder"):
        KeyedEmbeddings.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoreError, match="no meta.json"):
        KeyedEmbeddings.load(tmp_path / "empty")
    b = GraphBuilder(directed=False)
    b.add_edges([0], [1])
    b.build().save(str(tmp_path / "graph"))
    with pytest.raises(StoreError, match="graph store, not an embedding"):
        KeyedEmbeddings.load(tmp_path / "graph")
    homo().save(tmp_path / "emb")
    meta = json.loads((tmp_path / "emb" / "meta.json").read_text())
    meta["version"] = 99
    (tmp_path / "emb" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(FormatVersionError, match="version 99"):
        KeyedEmbeddings.load(tmp_path / "emb")
    (tmp_path / "emb" / "meta.json").write_text("{not json")
    with pytest.raises(StoreError, match="not valid JSON"):
        KeyedEmbeddings.load(tmp_path / "emb")


def test_load_detects_damaged_arrays(tmp_path):
    homo().save(tmp_path / "emb")
    vec = tmp_path / "emb" / "vectors.npy"
    raw = bytearray(vec.read_bytes())
    raw[-1] ^= 0xFF
    vec.write_bytes(bytes(raw))
    KeyedEmbeddings.load(tmp_path / "emb")  # same size: only a checksum notices
    with pytest.raises(CorruptStoreError, match="checksum"):
        KeyedEmbeddings.load(tmp_path / "emb", verify=True)
    vec.write_bytes(bytes(raw[:-40]))
    with pytest.raises(CorruptStoreError, match="size"):
        KeyedEmbeddings.load(tmp_path / "emb")


# ------------------------------------------------------------------------------- word2vec text
def test_word2vec_round_trip(tmp_path):
    kv = homo(n=20, d=5)
    p = tmp_path / "v.txt"
    kv.save_word2vec_format(p)
    lines = p.read_text().splitlines()
    assert lines[0] == "20 5" and lines[1].split()[0] == "100"
    back = KeyedEmbeddings.load_word2vec_format(p)
    assert np.array_equal(back.vectors, kv.vectors)
    assert back.ids_for().dtype == np.int64 and back.ids_for().tolist() == kv.ids_for().tolist()
    hv = hetero()
    hv.save_word2vec_format(tmp_path / "h.txt")
    assert (tmp_path / "h.txt").read_text().splitlines()[1].startswith("user:ann ")
    hb = KeyedEmbeddings.load_word2vec_format(tmp_path / "h.txt")
    assert hb.node_types == ["user", "item"] and np.array_equal(hb.vectors, hv.vectors)
    assert hb.ids_for("user").tolist() == ["ann", "bob", "cy"] and hb.ids_for("item").tolist() == [5, 9, 2, 11]
    # forced untyped reading keeps "user:ann" as one string id
    flat = KeyedEmbeddings.load_word2vec_format(tmp_path / "h.txt", typed=False, ntype="word")
    assert flat.node_types == ["word"] and "user:ann" in flat.ids_for().tolist()


def test_word2vec_groups_interleaved_types(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("3 2\na:x 1 2\nb:y 3 4\na:z 5 6\n")
    kv = KeyedEmbeddings.load_word2vec_format(p)
    assert kv.node_types == ["a", "b"] and kv.offsets.tolist() == [0, 2, 3]
    assert kv[("a", "z")].tolist() == [5.0, 6.0] and kv[("b", "y")].tolist() == [3.0, 4.0]


@pytest.mark.parametrize("text,line,match", [
    ("3\n", 1, "header"),
    ("x 2\n", 1, "header"),
    ("2 2\na 1 2\nb 1\n", 3, "found 1 values"),
    ("2 2\na 1 2\nb 1 zz\n", 3, "'zz' is not a number"),
    ("2 2\na 1 2\nb 1 nan\n", 3, "finite"),
    ("2 2\na 1 2\na 3 4\n", 3, "repeats line 2"),
    ("3 2\na 1 2\nb 3 4\n", 3, "holds 2"),
    ("1 2\na 1 2\nb 3 4\n", 3, "more vectors"),
    ("2 2\nx:a 1 2\nx: 3 4\n", 3, "ntype:id"),
])
def test_word2vec_malformed_lines(tmp_path, text, line, match):
    p = tmp_path / "bad.txt"
    p.write_text(text)
    with pytest.raises(ParseError, match=match) as info:
        KeyedEmbeddings.load_word2vec_format(p, typed=True if "x:" in text else None)
    assert info.value.line == line and f"line {line}" in str(info.value)


def test_word2vec_keys_must_not_hold_spaces(tmp_path):
    kv = KeyedEmbeddings(np.zeros((1, 2)), ["n"], [0, 1], {"n": np.array(["a b"], dtype=object)})
    with pytest.raises(ValidationError, match="'a b'"):
        kv.save_word2vec_format(tmp_path / "x.txt")
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------------- parquet
def test_parquet_export(tmp_path):
    kv = homo(n=10, d=3)
    table = pq.read_table(kv.to_parquet(tmp_path / "e.parquet"))
    assert table.column_names == ["ntype", "id", "vector"]
    vtype = table.schema.field("vector").type
    assert pa.types.is_fixed_size_list(vtype) and vtype.list_size == 3 and vtype.value_type == pa.float32()
    assert table.column("id").to_pylist() == list(range(100, 110))
    np.testing.assert_array_equal(np.array(table.column("vector").to_pylist(), np.float32), kv.vectors)
    ht = pq.read_table(hetero().to_parquet(tmp_path / "h.parquet")).to_pandas()
    assert ht["ntype"].astype(str).tolist() == ["user"] * 3 + ["item"] * 4
    assert ht["id"].tolist() == ["ann", "bob", "cy", "5", "9", "2", "11"]
