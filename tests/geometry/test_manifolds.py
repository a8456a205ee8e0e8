"""Closed-form and numerics tests of vastgraph.geometry.manifolds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vastgraph.errors import ValidationError
from vastgraph.geometry.manifolds import ProductSpace, Stereographic, parse_manifold_spec


def _ball_points(n, dim, radius, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g, dtype=dtype)
    r = torch.rand(n, 1, generator=g, dtype=dtype) * radius
    return x / x.norm(dim=1, keepdim=True) * r


def test_poincare_distance_matches_closed_form():
    space = ProductSpace.parse("poincare", 3, dtype=torch.float64)
    x, y = _ball_points(50, 3, 0.95, 0), _ball_points(50, 3, 0.95, 1)
    expect = torch.arccosh(1 + 2 * ((x - y) ** 2).sum(1) / ((1 - (x ** 2).sum(1)) * (1 - (y ** 2).sum(1))))
    assert torch.allclose(space.dist(x, y), expect, rtol=1e-9, atol=1e-9)


def test_poincare_float64_near_boundary():
    space = ProductSpace.parse("poincare", 2, dtype=torch.float64)
    # geoopt clamps artanh's argument at 1 - 1e-7, which caps distances near 2 artanh(1 - 1e-7) ~ 16.8;
    # these points (norm 1 - 1e-3, distance ~ 14.5) are near the boundary yet under that cap
    x = torch.tensor([[1 - 1e-3, 0.0]], dtype=torch.float64)
    y = torch.tensor([[0.0, 1 - 1e-3]], dtype=torch.float64)
    expect = torch.arccosh(1 + 2 * ((x - y) ** 2).sum(1) / ((1 - (x ** 2).sum(1)) * (1 - (y ** 2).sum(1))))
    got = space.dist(x, y)
    assert torch.isfinite(got).all() and torch.allclose(got, expect, rtol=1e-6)
    # points outside the ball are projected inside, at margin eps (1e-5 in float64)
    p = space.proj(torch.tensor([[3.0, 4.0]], dtype=torch.float64))
    assert float(p.norm()) == pytest.approx(1 - 1e-5)


def test_flat_limit_is_twice_euclidean():
    x, y = _ball_points(20, 4, 0.5, 2), _ball_points(20, 4, 0.5, 3)
    flat = ProductSpace.parse("euclidean", 4, dtype=torch.float64)
    assert torch.allclose(flat.dist(x, y), 2 * (x - y).norm(dim=1), rtol=1e-12)
    for k in (-1e-4, 1e-4):
        near = ProductSpace([parse_manifold_spec("k4", 4)[0].__class__("k", 4, k, True)], dtype=torch.float64)
        assert torch.allclose(near.dist(x, y), 2 * (x - y).norm(dim=1), rtol=1e-3)


def test_sphere_distance_is_great_circle_angle():
    space = ProductSpace.parse("sphere", 3, dtype=torch.float64)
    x, y = _ball_points(30, 3, 0.9, 4), _ball_points(30, 3, 0.9, 5)

    def lift(p):  # inverse stereographic projection onto the unit sphere in R^4
        n2 = (p ** 2).sum(1, keepdim=True)
        return torch.cat([(1 - n2) / (1 + n2), 2 * p / (1 + n2)], 1)

    angle = torch.arccos((lift(x) * lift(y)).sum(1).clamp(-1, 1))
    assert torch.allclose(space.dist(x, y), angle, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("spec", ["h4", "s4:0.5", "e4", "k4:-0.3", "h2,s2,e2"])
def test_triangle_inequality(spec):
    space = ProductSpace.parse(spec, dtype=torch.float64)
    g = torch.Generator().manual_seed(7)
    x, y, z = (space.random_points(200, scale=0.8, generator=g) for _ in range(3))
    with torch.no_grad():
        dxy, dyz, dxz = space.dist(x, y), space.dist(y, z), space.dist(x, z)
    assert bool((dxz <= dxy + dyz + 1e-9).all())
    assert bool((space.dist(x, x) < 1e-6).all())


def test_block_dist2_and_pairwise_agree_with_geoopt():
    space = ProductSpace.parse("h3:-2.0,s3:0.7,e2")
    g = torch.Generator().manual_seed(0)
    x, y = space.random_points(6, scale=0.6, generator=g).double(), space.random_points(9, scale=0.6, generator=g).double()
    with torch.no_grad():
        pair = space.pairwise_block_dist2(x, y)
        bro = space.block_dist2(x[:, None, :], y[None, :, :])
        for i, m in enumerate(space.manifolds):
            xb, yb = space.take_submanifold_value(x, i), space.take_submanifold_value(y, i)
            assert torch.allclose(bro[..., i], m.dist(xb[:, None], yb[None]) ** 2, rtol=1e-5)
    assert pair.shape == (6, 9, 3)
    assert torch.allclose(pair, bro, rtol=1e-4, atol=1e-6)
    assert torch.allclose(space.dist(x[0], y[0]) ** 2, bro[0, 0].sum(), rtol=1e-5)


def test_sphere_points_stay_in_open_hemisphere():
    space = ProductSpace.parse("sphere", 2, dtype=torch.float64)
    p = space.proj(torch.tensor([[5.0, 0.0], [-0.2, 0.0]], dtype=torch.float64))
    assert float(p[0].norm()) < 1.0
    d = space.dist(p[0], torch.tensor([-1.0, 0.0], dtype=torch.float64))
    assert torch.isfinite(d) and float(d) > 3.0  # nearly antipodal, not collapsed to 0


def test_named_and_explicit_specs():
    assert [b.token() for b in parse_manifold_spec("mixed", 48)] == ["k16:-1", "k16:1", "e16:0"]
    assert [b.token() for b in parse_manifold_spec("h16:-0.5,e32", 48)] == ["h16:-0.5", "e32:0"]
    blocks = parse_manifold_spec("poincare", 8)
    assert blocks[0].kind == "h" and not blocks[0].learnable
    assert parse_manifold_spec("learned", 4)[0].token() == "k4:-1"
    space = ProductSpace.parse("mixed", 6)
    assert space.curvatures() == [-1.0, 1.0, 0.0] and len(space.curvature_parameters()) == 2
    again = ProductSpace.from_spec(space.to_spec())
    assert again.spec_string() == space.spec_string() and again.dim == 6


@pytest.mark.parametrize("spec,dims", [("hyperbolic", 8), ("x8", 8), ("h8", 16), ("h0", None), ("h4:1.0", 4),
                                       ("s4:-1", 4), ("e4:0.5", 4), ("", 4), (3, 4), ("h4:abc", 4)])
def test_invalid_specs_list_valid_ones(spec, dims):
    with pytest.raises(ValidationError) as info:
        parse_manifold_spec(spec, dims)
    assert "manifold=" in str(info.value)


def test_invalid_dimensions_and_small_mixed():
    with pytest.raises(ValidationError, match="dimensions"):
        parse_manifold_spec("mixed", 2)
    with pytest.raises(ValidationError, match="dimensions"):
        parse_manifold_spec("euclidean", 0)
    with pytest.raises(ValidationError, match="dimensions"):
        parse_manifold_spec("poincare")
    with pytest.raises(ValidationError, match="malformed"):
        ProductSpace.from_spec({"blocks": [{"kind": "h"}]})


def test_curvature_clamp_and_nan_detection():
    space = ProductSpace.parse("h2,s2,k2:0.1")
    with torch.no_grad():
        space.manifolds[0].k.fill_(0.5)      # drifted to the wrong sign
        space.manifolds[1].k.fill_(1e6)      # diverging
        space.manifolds[2].k.fill_(-1e6)
    space.clamp_curvatures_(1e-4, 100.0)
    assert space.curvatures() == pytest.approx([-1e-4, 100.0, -100.0])
    with torch.no_grad():
        space.manifolds[1].k.fill_(float("nan"))
    with pytest.raises(ValidationError, match=r"block 1 \(s2\).*epoch 3"):
        space.check_curvatures("epoch 3, step 7")


def test_stereographic_block_rejects_wrong_sign():
    with pytest.raises(ValidationError):
        Stereographic("h", 2, 1.0)
    assert Stereographic("e", 2, 0.0, learnable=True).k.requires_grad is False
