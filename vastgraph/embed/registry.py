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

import importlib
import threading
from typing import Any

from vastgraph.embed.base import Embedder
from vastgraph.errors import RegistryError, ValidationError

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
}
_LOCK = threading.Lock()


def _key(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise RegistryError(f"embedder name {name!r}: expected a non-empty string; known: "
                            f"{', '.join(available_embedders())}")
    return name.strip().lower()


def available_embedders() -> list[str]:
    """Registered names, sorted (some may still fail to import; see :func:`get_embedder`)."""
    return sorted(_ENTRIES)


def get_embedder(name: str) -> type[Embedder]:
    """The embedder class registered under ``name`` (case-insensitive).

    Raises:
        RegistryError: unknown name (the message lists the known ones), or a registered module
            that is not present in this installation.
    """
    key = _key(name)
    entry = _ENTRIES.get(key)
    if entry is None:
        raise RegistryError(f"unknown embedder {name!r}; known embedders: {', '.join(available_embedders())}")
    if isinstance(entry, type):
        return entry
    module_name, _, attr = entry.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise RegistryError(f"embedder {name!r} is registered as {entry} but module {module_name} is "
                                "not available in this installation") from exc
        raise
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Embedder)):
        raise RegistryError(f"embedder {name!r} is registered as {entry} but {module_name} has no "
                            f"Embedder class {attr!r}")
    return cls


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
    key = _key(name)
    if isinstance(target, str):
        if target.count(":") != 1 or not all(target.split(":")):
            raise ValidationError(f"target={target!r}: expected 'package.module:ClassName'")
    elif not (isinstance(target, type) and issubclass(target, Embedder)):
        raise ValidationError(f"target={target!r}: expected an Embedder subclass or 'module:Class'")
    with _LOCK:
        if key in _ENTRIES and not overwrite:
            raise ValidationError(f"embedder name {key!r} is already registered ({_ENTRIES[key]}); "
                                  "pass overwrite=True to replace it")
        _ENTRIES[key] = target
