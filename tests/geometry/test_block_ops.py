"""Tests of vastgraph.geometry.block_ops: the vectorised product geometry equals geoopt's per-block one."""

from __future__ import annotations

import pytest
import torch

from vastgraph.errors import ValidationError
from vastgraph.geometry.block_ops import BlockGeometry
from vastgraph.geometry.manifolds import ProductSpace

SPECS = ["h3:-2.0,s3:0.7,e2", "h1,s1,e1", "k2:0.3,k1:-0.5,h2", "h4", "h2,s2,e2"]


def _points(space, n, scale, seed):
    g = torch.Generator().manual_seed(seed)
    return space.random_points(n, scale=scale, generator=g)


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_geoopt(spec, dtype):
    space = ProductSpace.parse(spec, dtype=dtype)
    geo = BlockGeometry(space)
    x, y = _points(space, 40, 0.6, 0), _points(space, 40, 0.6, 1)
    v = torch.randn(40, space.dim, generator=torch.Generator().manual_seed(2), dtype=dtype)
    # float32: near the boundary both routes lose ~1e-4 relative against float64 (not the formula)
    tol = dict(rtol=5e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-9, atol=1e-9)
    with torch.no_grad():
        assert torch.allclose(geo.dist2(x, y), space.block_dist2(x, y), **tol)
        assert torch.allclose(geo.dist2(x[:, None], y[None, :5]), space.block_dist2(x[:, None], y[None, :5]), **tol)
        assert torch.allclose(geo.egrad2rgrad(x, v), space.egrad2rgrad(x, v), **tol)
        assert torch.allclose(geo.component_inner(x, v), space.component_inner(x, v), **tol)
        assert torch.allclose(geo.transp(x, y, v), space.transp(x, y, v), **tol)
        far = x * 50
        assert torch.allclose(geo.proj(far), space.proj(far), **tol)
        new_x, new_v = geo.retr_transp(x, 0.1 * v, v)
        assert torch.allclose(new_x, space.proj(space.retr(x, 0.1 * v)), **tol)
        assert torch.allclose(new_v, space.transp(x, new_x, v), **tol)
    assert geo.sums(v).shape == (40, space.n_blocks) and geo.expand(geo.sums(v)).shape == v.shape


def test_inner_pairs_and_curvature_gradient():
    space = ProductSpace.parse("h2,s3,e1", dtype=torch.float64)
    geo = BlockGeometry(space)
    x, y = _points(space, 5, 0.5, 3), _points(space, 15, 0.5, 4).reshape(5, 3, 6)
    expect = torch.stack([(x[:, None, a:b] * y[..., a:b]).sum(-1) for a, b in ((0, 2), (2, 5), (5, 6))], -1)
    assert torch.allclose(geo.inner_pairs(x, y), expect)
    geo.dist2(x[:, None], y).sum().backward()
    grads = [m.k.grad for m in space.manifolds[:2]]
    assert all(gr is not None and torch.isfinite(gr) and gr != 0 for gr in grads)


def test_one_dimensional_blocks_have_finite_gradients():
    """Regression: 1-dim blocks and coincident points gave NaN gradients."""
    space = ProductSpace.parse("h1,s1,e1")
    geo = BlockGeometry(space)
    x = torch.tensor([[0.3, -0.2, 0.5], [0.3, -0.2, 0.5], [0.0, 0.0, 0.0]], requires_grad=True)
    d2 = geo.dist2(x[:, None], x[None])
    d2.sum().backward()
    assert torch.isfinite(d2).all() and torch.isfinite(x.grad).all()
    assert float(d2[0, 1].detach().sum()) < 1e-8


def test_rejects_non_product_space():
    with pytest.raises(ValidationError, match="space"):
        BlockGeometry("h2")
