"""Node embeddings with one contract (see :mod:`vastgraph.embed.base`) and the KeyedEmbeddings artifact.

Classes are imported on first use, so importing the package compiles no numba kernel.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Embedder": "base", "KeyedEmbeddings": "keyed_embeddings", "train_sgns": "sgns", "SGNSResult": "sgns",
    "DeepWalk": "deepwalk", "Node2Vec": "node2vec", "LINE": "line", "Metapath2Vec": "metapath2vec",
    "NetMF": "netmf", "ProNE": "prone", "get_embedder": "registry", "available_embedders": "registry",
    "create_embedder": "registry", "register_embedder": "registry",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'vastgraph.embed' has no attribute {name!r}")
    return getattr(importlib.import_module(f"vastgraph.embed.{mod}"), name)
