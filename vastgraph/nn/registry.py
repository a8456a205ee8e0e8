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

import inspect
from typing import Any

from vastgraph.errors import ValidationError
from vastgraph.nn.base import NodeModel
from vastgraph.registry import LazyRegistry

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
REGISTRY = LazyRegistry("model", NodeModel, _ENTRIES)


def available_models() -> list[str]:
    """Registered names, sorted (some may not be importable yet; see :func:`get_model`)."""
    return REGISTRY.available()


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
    return REGISTRY.get(name)


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
    REGISTRY.register(name, target, overwrite=overwrite)
