"""Distributed mode on Ray: partitioned graph shards served by actors, with the same GraphView and
SamplingEngine seams as the local store.

Importing the package registers the ``ray://ADDRESS/PATH`` scheme with
:func:`~vastgraph.graph.view.open_graph` and the :class:`RayEngine` for :class:`DistributedGraph`
with :func:`~vastgraph.sampling.engine.engine_for`. Ray itself is imported only when a graph is
opened.

* :func:`partition_graph` — METIS / LDG / hash partitioning into shard folders;
* :class:`DistributedGraph` (GraphView) — one :class:`GraphShard` actor per shard;
* :class:`RayEngine` (SamplingEngine) — walks, neighbour and fanout samples, negatives, edge
  samples, bit-identical to the local engine for the same ``random_state``.

Example:
    >>> from vastgraph.graph.view import registered_schemes
    >>> "ray" in registered_schemes()
    True
"""

from __future__ import annotations

from vastgraph.distributed.engine import RayEngine
from vastgraph.distributed.graph import DistributedGraph, open_distributed, open_ray_uri
from vastgraph.distributed.partition import METHODS, partition_graph, read_manifest
from vastgraph.distributed.shard import GraphShard
from vastgraph.graph.view import register_backend
from vastgraph.sampling.engine import register_engine

__all__ = ["DistributedGraph", "GraphShard", "METHODS", "RayEngine", "open_distributed", "partition_graph",
           "read_manifest"]

register_backend("ray", open_ray_uri)
register_engine(DistributedGraph, RayEngine)
