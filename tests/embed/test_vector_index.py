"""Persisted vector indexes (vastgraph.embed.vector_index): faiss flat/IVF/HNSW and the geodesic index."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
from vastgraph.embed.vector_index import StaleIndexError, VectorIndex
from vastgraph.errors import CorruptStoreError, ValidationError


def keyed(n=1500, d=16, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return KeyedEmbeddings(x, ["node"], [0, n], {"node": np.arange(n) * 10})


def recall(a, b):
    return float(np.mean([len(set(p) & set(q)) / len(q) for p, q in zip(a, b)]))


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
@pytest.mark.parametrize("metric", ["cosine", "dot", "l2"])
def test_round_trip_without_rebuild_and_recall(tmp_path, kind, metric):
    kv = keyed()
    exact = kv.search(kv.vectors[:100], 10, metric=metric)[1]
    idx = kv.build_index(kind, metric)
    got = kv.search(kv.vectors[:100], 10, metric=metric)[1]
    assert recall(got, exact) >= 0.9
    kv.save(tmp_path / "e")
    assert (tmp_path / "e" / "index" / "index.json").is_file()
    back = KeyedEmbeddings.load(tmp_path / "e", index="raise")
    assert back.index is not None and not back.index_rebuilt_
    assert type(back.index._faiss) is type(idx._faiss) and back.index.params() == idx.params()
    np.testing.assert_array_equal(back.search(kv.vectors[:100], 10, metric=metric)[1], got)
    assert back.most_similar(0, topn=3, metric=metric) == kv.most_similar(0, topn=3, metric=metric)


def test_stale_index_is_rebuilt_or_refused_never_used(tmp_path):
    kv = keyed(300)
    kv.build_index("hnsw", "l2")
    kv.save(tmp_path / "e")
    other = keyed(300, seed=1)
    other.save(tmp_path / "o")
    # the index of e beside the vectors of o: its recorded vectors digest no longer matches
    (tmp_path / "o" / "index").mkdir()
    for f in ("index.json", "index.bin"):
        (tmp_path / "o" / "index" / f).write_bytes((tmp_path / "e" / "index" / f).read_bytes())
    with pytest.raises(StaleIndexError, match="digest mismatch"):
        KeyedEmbeddings.load(tmp_path / "o", index="raise")
    back = KeyedEmbeddings.load(tmp_path / "o")
    assert back.index_rebuilt_ and back.index.kind == "hnsw"
    exact = other.search(other.vectors[:20], 5, metric="l2")[1]
    np.testing.assert_array_equal(back.search(other.vectors[:20], 5, metric="l2")[1], exact)
    assert KeyedEmbeddings.load(tmp_path / "o", index="ignore").index is None


def test_corrupt_index_file_gives_a_clear_error(tmp_path):
    kv = keyed(300)
    kv.build_index("ivf", "cosine", nlist=4)
    kv.save(tmp_path / "e")
    p = tmp_path / "e" / "index" / "index.bin"
    raw = bytearray(p.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    p.write_bytes(bytes(raw))
    with pytest.raises(CorruptStoreError, match=r"index.bin: checksum mismatch"):
        KeyedEmbeddings.load(tmp_path / "e")
    p.write_bytes(b"garbage")
    head = json.loads((tmp_path / "e" / "index" / "index.json").read_text())
    import hashlib
    head["bin_blake2b"] = hashlib.blake2b(b"garbage", digest_size=16).hexdigest()
    (tmp_path / "e" / "index" / "index.json").write_text(json.dumps(head))
    with pytest.raises(CorruptStoreError, match="faiss cannot read it"):
        KeyedEmbeddings.load(tmp_path / "e")
    (tmp_path / "e" / "index" / "index.json").write_text("{not json")
    with pytest.raises(CorruptStoreError, match="index.json: not valid JSON"):
        KeyedEmbeddings.load(tmp_path / "e")


def test_bad_parameters_and_ntype_index():
    with pytest.raises(ValidationError, match="kind="):
        VectorIndex("annoy")
    with pytest.raises(ValidationError, match="metric="):
        VectorIndex("flat", "manhattan")
    with pytest.raises(ValidationError, match="nlist="):
        VectorIndex("ivf", nlist=0)
    x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    kv = KeyedEmbeddings(x, ["a", "b"], [0, 3, 6], {"a": [1, 2, 3], "b": [4, 5, 6]})
    kv.build_index("flat", "l2", ntype="b")
    scores, rows = kv.search(x[4], 2, ntype="b", metric="l2")
    assert rows[0, 0] == 4 and set(rows[0]) <= {3, 4, 5}
    with pytest.raises(ValidationError, match="queries"):
        kv.index.search(np.zeros((1, 3)), 1)


def test_geodesic_index_saved_and_reloaded(tmp_path):
    import torch

    from vastgraph.embed.manifold_keyed import ManifoldKeyedEmbeddings
    from vastgraph.geometry.manifolds import ProductSpace

    space = ProductSpace.parse("h4,s4", 8)
    pts = space.random_points(400, scale=0.5, generator=torch.Generator().manual_seed(0)).detach().numpy()
    pts = pts.astype(np.float32)
    kv = ManifoldKeyedEmbeddings(pts, ["n"], [0, 400], {"n": np.arange(400)}, space=space)
    idx = kv.build_index("geodesic", exact_threshold=50, candidates=64)
    assert idx.geo._faiss is not None and not idx.geo.exact
    want = kv.search(pts[:20], 5)[1]
    assert idx.geo.recall_vs_exact(pts[:20], 5) >= 0.9
    kv.save(tmp_path / "m")
    back = ManifoldKeyedEmbeddings.load(tmp_path / "m", index="raise")
    assert back.index.kind == "geodesic" and not back.index_rebuilt_ and back.index.geo._faiss is not None
    np.testing.assert_array_equal(back.search(pts[:20], 5)[1], want)
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())  # another manifold: the index is stale
    (tmp_path / "m" / "index" / "index.json").write_text(
        (tmp_path / "m" / "index" / "index.json").read_text().replace('"space"', '"space_old"'))
    with pytest.raises(StaleIndexError, match="manifold changed"):
        ManifoldKeyedEmbeddings.load(tmp_path / "m", index="raise")
    assert meta["meta"]["manifold"]


def test_updater_rebuilds_the_saved_index(tmp_path, one_thread):
    from vastgraph.embed.dne import DNE
    from vastgraph.embed.updater import Updater, write_embeddings
    from vastgraph.graph.builder import GraphBuilder
    from vastgraph.graph.delta import GraphDelta
    from vastgraph.graph.dynamic_store import DynamicStore

    b = GraphBuilder(directed=False)
    rng = np.random.default_rng(0)
    s, d = rng.integers(0, 80, 400), rng.integers(0, 80, 400)
    b.add_edges(s[s != d], d[s != d])
    ds = DynamicStore.create(tmp_path / "store", b.build())
    write_embeddings(DNE(dimensions=8, samples=5000, random_state=0).fit(ds.graph), tmp_path / "emb",
                     index={"kind": "hnsw", "metric": "cosine", "m": 8})
    assert KeyedEmbeddings.load(tmp_path / "emb", index="raise").index.m == 8
    Updater.open(tmp_path / "store", tmp_path / "emb").apply(GraphDelta().add_nodes("node", [500]).add_edges([500], [1]))
    kv = KeyedEmbeddings.load(tmp_path / "emb", index="raise")  # fresh index, not stale
    assert kv.index.kind == "hnsw" and kv.index.m == 8 and kv.index.ntotal == 81
