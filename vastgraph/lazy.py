"""Lazy package exports: a package's names are imported from their submodules on first use.

So ``import vastgraph.embed`` compiles no numba kernel and ``import vastgraph.nn`` loads no
torch_geometric until a name that needs it is asked for.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_getattr(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` resolving ``exports`` (name → submodule of ``package``)."""

    def __getattr__(name: str) -> Any:
        mod = exports.get(name)
        if mod is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{mod}"), name)

    return __getattr__
