"""Manifolds and Riemannian optimisation (a thin layer over geoopt)."""

from vastgraph.geometry.block_ops import BlockGeometry
from vastgraph.geometry.manifolds import Block, ProductSpace, Stereographic, parse_manifold_spec
from vastgraph.geometry.optim import RowRiemannianAdam, RowRiemannianSGD, riemannian_optimizer, split_parameters

__all__ = ["Block", "BlockGeometry", "ProductSpace", "RowRiemannianAdam", "RowRiemannianSGD", "Stereographic",
           "parse_manifold_spec", "riemannian_optimizer", "split_parameters"]
