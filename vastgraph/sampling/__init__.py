"""Sampling: the :class:`~vastgraph.sampling.engine.SamplingEngine` interface and its public faces.

Neighbour / fanout / negative sampling, edge samples, random walks (uniform, weighted, node2vec,
metapath, temporal), anonymous walks, PyG loaders, and the Gremlin-like query language. The public
functions validate their arguments and delegate to ``engine_for(graph)``; the local store's engine
(:mod:`vastgraph.sampling.local`) runs numba kernels over its CSR arrays. Submodules are imported on
first use so that importing one part does not load (or compile) the others.
"""

from __future__ import annotations

from vastgraph.lazy import lazy_getattr

_EXPORTS = {
    "SamplingEngine": "engine", "WalkSpec": "engine", "WalkResult": "engine", "EdgeSample": "engine",
    "HopResult": "engine", "engine_for": "engine", "register_engine": "engine", "LocalEngine": "local",
    "sample_neighbors": "neighbors", "SampledNeighbors": "neighbors",
    "sample_fanout": "fanout", "SampledSubgraph": "fanout", "FanoutPlan": "fanout",
    "sample_negatives": "negative", "corrupt_edges": "negative",
    "NeighborLoader": "neighbor_loader", "LinkLoader": "link_loader",
    "random_walks": "walks", "metapath_walks": "metapath", "temporal_walks": "temporal",
    "anonymize": "anonymous", "walk_types": "anonymous", "AnonymousWalkVocabulary": "anonymous",
    "walk_type_distribution": "anonymous", "receptive_radius": "anonymous",
    "Traversal": "query", "run_query": "query", "parse_query": "query",
    "execute_plan": "query", "Plan": "query_plan", "QueryResult": "query_result",
    "eq": "query_literals", "neq": "query_literals", "lt": "query_literals", "lte": "query_literals",
    "gt": "query_literals", "gte": "query_literals", "within": "query_literals", "without": "query_literals",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
