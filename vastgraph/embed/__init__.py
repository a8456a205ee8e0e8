"""Node embeddings with one contract (see :mod:`vastgraph.embed.base`) and the KeyedEmbeddings artifact.

Classes are imported on first use, so importing the package compiles no numba kernel.
"""

from __future__ import annotations

from vastgraph.lazy import lazy_getattr

_EXPORTS = {
    "Embedder": "base", "KeyedEmbeddings": "keyed_embeddings", "train_sgns": "sgns", "SGNSResult": "sgns",
    "DeepWalk": "deepwalk", "Node2Vec": "node2vec", "LINE": "line", "Metapath2Vec": "metapath2vec",
    "NetMF": "netmf", "ProNE": "prone", "get_embedder": "registry", "available_embedders": "registry",
    "create_embedder": "registry", "register_embedder": "registry",
    "DNE": "dne", "IncrementalWalkEmbedder": "incremental_walks", "MixedCurvature": "curvature",
    "ManifoldKeyedEmbeddings": "manifold_keyed", "GeodesicIndex": "geodesic_search",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
