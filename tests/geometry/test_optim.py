"""Tests of vastgraph.geometry.optim."""

from __future__ import annotations

import geoopt
import pytest
import torch

from vastgraph.errors import ValidationError
from vastgraph.geometry.manifolds import ProductSpace
from vastgraph.geometry.optim import RowRiemannianAdam, RowRiemannianSGD, riemannian_optimizer, split_parameters


class _Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.space = ProductSpace.parse("h2,s2,e2")
        self.points = geoopt.ManifoldParameter(self.space.random_points(5, scale=0.1), manifold=self.space)
        self.lin = torch.nn.Linear(2, 1)


def test_split_parameters_and_groups():
    model = _Model()
    points, curvs, other = split_parameters(model)
    assert len(points) == 1 and len(curvs) == 2 and len(other) == 2
    opt = riemannian_optimizer(model, lr=0.1, curvature_lr=0.01)
    assert isinstance(opt, geoopt.optim.RiemannianAdam)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01, 0.1]
    assert isinstance(riemannian_optimizer(model, kind="sgd"), geoopt.optim.RiemannianSGD)


def test_riemannian_adam_pulls_points_together_and_keeps_them_in_ball():
    model = _Model()
    opt = riemannian_optimizer(model, lr=0.05, curvature_lr=0.01)
    for _ in range(50):
        opt.zero_grad()
        loss = model.space.dist(model.points[0], model.points[1])
        loss.backward()
        opt.step()
    assert float(model.space.dist(model.points[0], model.points[1])) < 0.2
    h = model.space.take_submanifold_value(model.points.detach(), 0)
    assert bool((h.norm(dim=1) < 1.0 / (-model.space.curvatures()[0]) ** 0.5).all())


@pytest.mark.parametrize("spec", ["h2", "h2,s2,e1", "h1,s1,e1"])
def test_row_adam_matches_dense_riemannian_adam(spec):
    space = ProductSpace.parse(spec, dtype=torch.float64)
    start = space.random_points(4, scale=0.3, generator=torch.Generator().manual_seed(0)).detach()
    target = space.random_points(1, scale=0.3, generator=torch.Generator().manual_seed(1))[0].detach()
    dense = geoopt.ManifoldParameter(start.clone(), manifold=space)
    ref = geoopt.optim.RiemannianAdam([dense], lr=0.05)
    table = start.clone()
    rows_opt = RowRiemannianAdam(table, space, lr=0.05)
    for _ in range(10):
        ref.zero_grad()
        space.dist(dense, target).sum().backward()
        ref.step()
        leaf = table.clone().requires_grad_()
        space.dist(leaf, target).sum().backward()
        rows_opt.step(torch.arange(4), leaf.grad)
    assert torch.allclose(table, dense.detach(), atol=1e-6)


def test_optimizer_bad_input():
    model = _Model()
    with pytest.raises(ValidationError, match="kind="):
        riemannian_optimizer(model, kind="lbfgs")
    with pytest.raises(ValidationError, match="lr="):
        riemannian_optimizer(model, lr=0.0)
    with pytest.raises(ValidationError, match="curvature_lr="):
        riemannian_optimizer(model, curvature_lr=float("nan"))
    with pytest.raises(ValidationError, match="sparse"):
        riemannian_optimizer(model, kind="sparse_adam")
    with pytest.raises(ValidationError, match="no parameters"):
        riemannian_optimizer([torch.zeros(2)])
    with pytest.raises(ValidationError, match="table"):
        RowRiemannianAdam(torch.zeros(3), ProductSpace.parse("poincare", 2))
    with pytest.raises(ValidationError, match="table"):
        RowRiemannianSGD(torch.zeros(3), ProductSpace.parse("poincare", 2))
    with pytest.raises(ValidationError, match="lr="):
        RowRiemannianSGD(torch.zeros(3, 2), ProductSpace.parse("poincare", 2), lr=-1.0)


def test_row_sgd_is_nickel_kiela_update_and_matches_geoopt_rsgd():
    space = ProductSpace.parse("h2,e2", dtype=torch.float64)
    start = space.random_points(3, scale=0.4, generator=torch.Generator().manual_seed(0)).detach()
    grad = torch.randn(3, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    table = start.clone()
    RowRiemannianSGD(table, space, lr=0.1).step(torch.tensor([0, 2]), grad[[0, 2]])
    h = start[:, :2]
    expect_h = h - 0.1 * ((1 - (h ** 2).sum(1, keepdim=True)) ** 2 / 4) * grad[:, :2]  # Nickel & Kiela
    expect_e = start[:, 2:] - 0.1 * grad[:, 2:] / 4  # flat block of the stereographic model: λ = 2
    assert torch.allclose(table[[0, 2], :2], expect_h[[0, 2]]) and torch.allclose(table[[0, 2], 2:], expect_e[[0, 2]])
    assert torch.equal(table[1], start[1])
    dense = geoopt.ManifoldParameter(start.clone(), manifold=space)
    ref = geoopt.optim.RiemannianSGD([dense], lr=0.1)
    dense.grad = grad.clone()
    ref.step()
    table = start.clone()
    RowRiemannianSGD(table, space, lr=0.1).step(torch.arange(3), grad)
    assert torch.allclose(table, dense.detach(), atol=1e-10)
