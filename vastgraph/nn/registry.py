"""Name → node-model class lookup (the one registry the trainer, its checkpoints, the CLI and the
benchmarks go through).

Entries are ``"module:Class"`` strings imported on first use, so importing the registry imports no
model (nor torch_geometric), and a model whose module is absent fails only when it is asked for,
with a :class:`~vastgraph.errors.RegistryError` naming the module. Only the registered entries are
ever imported: a name that is not registered (``"os:system"``, a module path) is an unknown name.
Checkpoints store a model's registry name (:func:`model_name`). Building a model on a graph is
:func:`vastgraph.train.models.create_model` (models here take tensors).

Example:
    >>> get_model("sage").__name__
    'GraphSAGE'
    >>> "gralsp" in available_models()
    True
"""

from __future__ import annotations

from typing import Any

from vastgraph.errors import RegistryError
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


def model_name(model: Any) -> str:
    """The registry name of a model instance or class (the first name registered for it).

    Raises:
        RegistryError: the class is not registered (register it with :func:`register_model`).

    Example:
        >>> from vastgraph.nn.pyg_baselines import GraphSAGE
        >>> model_name(GraphSAGE)
        'sage'
    """
    cls = model if isinstance(model, type) else type(model)
    spelled = f"{cls.__module__}:{cls.__qualname__}"
    for name in sorted(REGISTRY.entries):
        entry = REGISTRY.entries[name]
        if entry is cls or entry == spelled:
            return name
    raise RegistryError(f"model class {spelled} is not in the model registry; register it with "
                        "vastgraph.nn.registry.register_model(name, cls) to save and load it")


def register_model(name: str, target: str | type, *, overwrite: bool = False) -> None:
    """Register ``target`` (a :class:`NodeModel` subclass or a ``"module:Class"`` string) as ``name``.

    Example:
        >>> register_model("mymodel", "mypackage.models:MyModel")  # doctest: +SKIP
    """
    REGISTRY.register(name, target, overwrite=overwrite)
