"""Tests of GeodesicIndex and ManifoldKeyedEmbeddings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vastgraph.embed.geodesic_search import GeodesicIndex
from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
from vastgraph.embed.manifold_keyed import ManifoldKeyedEmbeddings
from vastgraph.errors import StoreError, ValidationError
from vastgraph.geometry.manifolds import ProductSpace


def _points(spec, n, seed, dims=None):
    space = ProductSpace.parse(spec, dims)
    g = torch.Generator().manual_seed(seed)
    return space, space.random_points(n, scale=0.7, generator=g).detach()


def test_exact_search_matches_brute_force():
    space, pts = _points("h3,s3,e2", 300, 0)
    q = pts[:7] * 0.9
    dist, idx = GeodesicIndex(pts, space).search(q, 5)
    with torch.no_grad():
        full = space.dist(q[:, None, :].double(), pts[None].double()).numpy()
    expect = np.argsort(full, axis=1, kind="stable")[:, :5]
    assert (idx == expect).all()
    assert np.allclose(dist, np.take_along_axis(full, expect, 1), rtol=1e-5)


def test_two_stage_recall_on_random_points():
    space, pts = _points("mixed", 3000, 1, 12)
    q = space.random_points(50, scale=0.7, generator=torch.Generator().manual_seed(9))
    index = GeodesicIndex(pts, space, exact_threshold=100)
    assert not index.exact
    assert index.recall_vs_exact(q, 10) >= 0.9
    # one block: the inner-product surrogate orders exactly like the geodesic distance
    space1, pts1 = _points("h8", 2000, 2)
    one = GeodesicIndex(pts1, space1, exact_threshold=10, candidates=10)
    assert one.recall_vs_exact(pts1[:30] * 0.8, 10) >= 0.99
    tangent = GeodesicIndex(pts, space, exact_threshold=100, mapping="tangent", candidates=400)
    assert 0.0 < tangent.recall_vs_exact(q, 10) <= 1.0


def test_weighted_search_uses_block_weights():
    space, pts = _points("h2,e2", 200, 3)
    w = np.array([0.0, 1.0])
    dist, idx = GeodesicIndex(pts, space, weights=w).search(pts[:4], 3)
    with torch.no_grad():
        e = 2 * (pts[:4, None, 2:] - pts[None, :, 2:]).norm(dim=-1).numpy()
    assert np.allclose(dist, np.sort(e, axis=1)[:, :3], atol=1e-5)


def test_index_bad_input():
    space, pts = _points("h2,e2", 20, 4)
    with pytest.raises(ValidationError, match="points"):
        GeodesicIndex(pts[:, :3], space)
    with pytest.raises(ValidationError, match="mapping"):
        GeodesicIndex(pts, space, mapping="hyperboloid")
    with pytest.raises(ValidationError, match="weights"):
        GeodesicIndex(pts, space, weights=[1.0])
    with pytest.raises(ValidationError, match="space"):
        GeodesicIndex(pts, "poincare")
    index = GeodesicIndex(pts, space)
    with pytest.raises(ValidationError, match="k="):
        index.search(pts[:2], 0)
    with pytest.raises(ValidationError, match="NaN"):
        index.search(np.full((1, 4), np.nan), 2)


def test_manifold_keyed_search_save_load(tmp_path):
    space, pts = _points("h2,s2", 30, 5)
    kv = ManifoldKeyedEmbeddings(pts.numpy(), ["a", "b"], [0, 10, 30],
                                 {"a": np.arange(10), "b": [f"n{i}" for i in range(20)]}, space=space)
    near = kv.most_similar(("a", 3), topn=3)
    assert len(near) == 3 and ("a", 3) not in [k for k, _ in near]
    assert [d for _, d in near] == sorted(d for _, d in near)
    assert kv.distance(("a", 3), near[0][0]) == pytest.approx(near[0][1], rel=1e-5)
    d, rows = kv.search(pts[12].numpy(), 1, ntype="b")
    assert rows[0, 0] == 12 and d[0, 0] < 1e-3
    path = kv.save(tmp_path / "emb")
    back = ManifoldKeyedEmbeddings.load(path, verify=True)
    assert back.curvatures() == pytest.approx(kv.curvatures())
    assert back.most_similar(("a", 3), topn=3) == near
    plain = KeyedEmbeddings.load(path)
    assert np.array_equal(plain.vectors, kv.vectors)
    KeyedEmbeddings(np.ones((2, 4)), ["n"], [0, 2], {"n": [1, 2]}).save(tmp_path / "flat")
    with pytest.raises(StoreError, match="without a manifold"):
        ManifoldKeyedEmbeddings.load(tmp_path / "flat")
    with pytest.raises(ValidationError, match="dimension"):
        ManifoldKeyedEmbeddings(np.zeros((2, 3)), ["n"], [0, 2], {"n": [1, 2]}, space=space)
    with pytest.raises(ValidationError, match="no space"):
        ManifoldKeyedEmbeddings(np.zeros((2, 4)), ["n"], [0, 2], {"n": [1, 2]})
