"""Name → embedder class lookup (the one registry the CLI, configs and benchmarks go through).

Entries are ``"module:Class"`` strings imported on first use, so importing the registry imports
no embedder, and an embedder whose module is absent fails only when it is asked for.

Example:
    >>> get_embedder("DeepWalk").__name__
    'DeepWalk'
    >>> "line" in available_embedders()
    True
"""

from __future__ import annotations

from typing import Any

from vastgraph.embed.base import Embedder
from vastgraph.errors import ValidationError
from vastgraph.registry import LazyRegistry

_ENTRIES: dict[str, str | type] = {
    "deepwalk": "vastgraph.embed.deepwalk:DeepWalk",
    "node2vec": "vastgraph.embed.node2vec:Node2Vec",
    "line": "vastgraph.embed.line:LINE",
    "metapath2vec": "vastgraph.embed.metapath2vec:Metapath2Vec",
    "netmf": "vastgraph.embed.netmf:NetMF",
    "prone": "vastgraph.embed.prone:ProNE",
    "dne": "vastgraph.embed.dne:DNE",
    "incremental-walks": "vastgraph.embed.incremental_walks:IncrementalWalkEmbedder",
    "curvature": "vastgraph.embed.curvature:MixedCurvature",
    "gatne": "vastgraph.embed.gatne:GATNE",
    "spacene": "vastgraph.embed.spacene:SpaceNE",
}
REGISTRY = LazyRegistry("embedder", Embedder, _ENTRIES)


def available_embedders() -> list[str]:
    """Registered names, sorted (some may still fail to import; see :func:`get_embedder`)."""
    return REGISTRY.available()


def get_embedder(name: str) -> type[Embedder]:
    """The embedder class registered under ``name`` (case-insensitive).

    Raises:
        RegistryError: unknown name (the message lists the known ones), or a registered module
            that is not present in this installation.
    """
    return REGISTRY.get(name)


def create_embedder(name: str, **params: Any) -> Embedder:
    """An instance of the embedder ``name`` with ``params`` (unknown parameters raise, naming the valid ones)."""
    cls = get_embedder(name)
    try:
        return cls(**params)
    except TypeError as exc:
        import inspect

        valid = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        raise ValidationError(f"{cls.__name__}: {exc}; valid parameters: {', '.join(valid)}") from None


def register_embedder(name: str, target: str | type, *, overwrite: bool = False) -> None:
    """Register ``target`` (an :class:`Embedder` subclass or a ``"module:Class"`` string) as ``name``."""
    REGISTRY.register(name, target, overwrite=overwrite)
