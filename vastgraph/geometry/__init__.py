"""Manifolds and Riemannian optimisation (a thin layer over geoopt)."""

from vastgraph.geometry.manifolds import (Block, ProductSpace, Stereographic, parse_manifold_spec)
from vastgraph.geometry.optim import riemannian_optimizer, split_parameters

__all__ = ["Block", "ProductSpace", "Stereographic", "parse_manifold_spec", "riemannian_optimizer",
           "split_parameters"]
