"""Name → node-model class lookup (the one registry the trainer CLI and benchmarks go through).

Entries are ``"module:Class"`` strings imported on first use, so importing the registry imports no
model (nor torch_geometric), and a model whose module is absent fails only when it is asked for,
with a :class:`~vastgraph.errors.RegistryError` naming the module.

Example:
    >>> get_model("sage").__name__
    'GraphSAGE'
    >>> "gralsp" in available_models()
    True
"""

from __future__ import annotations

import importlib
import inspect
import threading
from typing import Any

from vastgraph.errors import RegistryError, ValidationError
from vastgraph.nn.base import NodeModel

_ENTRIES: dict[str, str | type] = {
    "gcn": "vastgraph.nn.pyg_baselines:GCN",
    "sage": "vastgraph.nn.pyg_baselines:GraphSAGE",
    "gat": "vastgraph.nn.pyg_baselines:GAT",
    "gin": "vastgraph.nn.pyg_baselines:GIN",
    "gralsp": "vastgraph.nn.gralsp:GraLSP",
    "rgralsp": "vastgraph.nn.relational:RelationalGraLSP",
    "graphstone": "vastgraph.nn.graphstone:GraphSTONE",
    "hgcn": "vastgraph.nn.hgcn:HGCN",
}
_LOCK = threading.Lock()


def _key(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise RegistryError(f"model name {name!r}: expected a non-empty string; known models: "
                            f"{', '.join(available_models())}")
    return name.strip().lower()


def available_models() -> list[str]:
    """Registered names, sorted (some may not be importable yet; see :func:`get_model`)."""
    return sorted(_ENTRIES)


def get_model(name: str) -> type[NodeModel]:
    """The :class:`~vastgraph.nn.base.NodeModel` class registered under ``name`` (case-insensitive).

    Args:
        name: a registered name, e.g. ``"gcn"``, ``"sage"``, ``"gat"``, ``"gin"``, ``"gralsp"``.

    Raises:
        RegistryError: unknown name (the message lists the known ones), a registered module that is
            not present in this installation, or a module without that NodeModel class.

    Example:
        >>> get_model("GCN").__name__
        'GCN'
    """
    key = _key(name)
    entry = _ENTRIES.get(key)
    if entry is None:
        raise RegistryError(f"unknown model {name!r}; known models: {', '.join(available_models())}")
    if isinstance(entry, type):
        return entry
    module_name, _, attr = entry.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise RegistryError(f"model {name!r} is registered as {entry} but module {module_name} is not "
                                "available in this installation") from exc
        raise
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, NodeModel)):
        raise RegistryError(f"model {name!r} is registered as {entry} but {module_name} has no NodeModel "
                            f"class {attr!r}")
    return cls


def create_model(name: str, graph: Any, **params: Any) -> NodeModel:
    """An instance of model ``name`` built on ``graph`` with ``params``.

    Raises:
        RegistryError: see :func:`get_model`.
        ValidationError: a parameter the model's constructor does not take (lists the valid ones).

    Example:
        >>> model = create_model("sage", graph, hidden=32, out_dim=16, random_state=0)  # doctest: +SKIP
    """
    cls = get_model(name)
    sig = inspect.signature(cls.__init__)
    takes_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    valid = [p for p in sig.parameters if p not in ("self", "graph")
             and sig.parameters[p].kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    unknown = sorted(set(params) - set(valid))
    if unknown and not takes_any:
        raise ValidationError(f"{cls.__name__}: unknown parameter(s) {', '.join(unknown)}; valid parameters: "
                              f"{', '.join(valid)}")
    return cls(graph, **params)


def register_model(name: str, target: str | type, *, overwrite: bool = False) -> None:
    """Register ``target`` (a :class:`NodeModel` subclass or a ``"module:Class"`` string) as ``name``.

    Example:
        >>> register_model("mymodel", "mypackage.models:MyModel")  # doctest: +SKIP
    """
    key = _key(name)
    if isinstance(target, str):
        if target.count(":") != 1 or not all(target.split(":")):
            raise ValidationError(f"target={target!r}: expected 'package.module:ClassName'")
    elif not (isinstance(target, type) and issubclass(target, NodeModel)):
        raise ValidationError(f"target={target!r}: expected a NodeModel subclass or 'module:Class'")
    with _LOCK:
        if key in _ENTRIES and not overwrite:
            raise ValidationError(f"model name {key!r} is already registered ({_ENTRIES[key]}); pass "
                                  "overwrite=True to replace it")
        _ENTRIES[key] = target
