"""Lazy package exports: a package's names are imported from their submodules on first use.

So ``import vastgraph.embed`` compiles no numba kernel, ``import vastgraph.nn`` loads no
torch_geometric and ``import vastgraph.graph`` loads no pandas until a name that needs it is asked
for. This keeps the command line's start-up proportional to the command (issue 16).

Example:
    >>> getattr_ = lazy_getattr("json", {"JSONDecoder": "decoder"})
    >>> getattr_("JSONDecoder").__name__
    'JSONDecoder'
    >>> getattr_("nothing")
    Traceback (most recent call last):
    ...
    AttributeError: module 'json' has no attribute 'nothing'
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any, Callable


def lazy_getattr(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` resolving ``exports`` (name → submodule of ``package``).

    An export named like its own submodule (``vastgraph.graph.subgraph``, the function in the
    module of the same name) would be shadowed by the submodule once anything imports it; the
    package's module class is switched so that the export wins, as it did with eager imports.
    """
    shadowed = {name for name, mod in exports.items() if name == mod}
    if shadowed and package in sys.modules:
        module = sys.modules[package]
        if type(module) is types.ModuleType:
            module.__class__ = _export_keeper(shadowed)

    def __getattr__(name: str) -> Any:
        mod = exports.get(name)
        if mod is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{mod}"), name)

    return __getattr__


def _export_keeper(names: set[str]) -> type:
    """A module class whose attributes ``names`` keep the export, not the submodule of that name."""

    class _Package(types.ModuleType):
        def __setattr__(self, name: str, value: Any) -> None:
            if (name in names and isinstance(value, types.ModuleType)
                    and value.__name__ == f"{self.__name__}.{name}" and hasattr(value, name)):
                value = getattr(value, name)
            super().__setattr__(name, value)

    return _Package
