"""Name → class lookups with lazy ``"module:Class"`` entries (the one mechanism behind every registry).

The embedder registry (:mod:`vastgraph.embed.registry`) and the model registry
(:mod:`vastgraph.nn.registry`) are instances: an entry is imported only when asked for, an unknown
name raises :class:`~vastgraph.errors.RegistryError` listing the known ones, and a registered module
missing from the installation says so.

Example:
    >>> from vastgraph.embed.base import Embedder
    >>> r = LazyRegistry("embedder", Embedder, {"deepwalk": "vastgraph.embed.deepwalk:DeepWalk"})
    >>> r.get("DeepWalk").__name__
    'DeepWalk'
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from vastgraph.errors import RegistryError, ValidationError


class LazyRegistry:
    """Case-insensitive names → subclasses of ``base`` (classes or ``"module:Class"`` strings).

    Args:
        kind: what the entries are, for messages (``"embedder"``, ``"model"``).
        base: the class every entry must subclass.
        entries: initial ``{name: class or "module:Class"}`` (kept by reference).
    """

    def __init__(self, kind: str, base: type, entries: dict[str, str | type]) -> None:
        self.kind = kind
        self.base = base
        self.entries = entries
        self._lock = threading.Lock()

    def key(self, name: Any) -> str:
        if not isinstance(name, str) or not name.strip():
            raise RegistryError(f"{self.kind} name {name!r}: expected a non-empty string; known {self.kind}s: "
                                f"{', '.join(self.available())}")
        return name.strip().lower()

    def available(self) -> list[str]:
        """Registered names, sorted (some may not be importable; see :meth:`get`)."""
        return sorted(self.entries)

    def get(self, name: str) -> type:
        """The class registered under ``name``; RegistryError for unknown names or missing modules."""
        key = self.key(name)
        entry = self.entries.get(key)
        if entry is None:
            raise RegistryError(f"unknown {self.kind} {name!r}; known {self.kind}s: {', '.join(self.available())}")
        if isinstance(entry, type):
            return entry
        module_name, _, attr = entry.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                raise RegistryError(f"{self.kind} {name!r} is registered as {entry} but module {module_name} is "
                                    "not available in this installation") from exc
            raise
        cls = getattr(module, attr, None)
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise RegistryError(f"{self.kind} {name!r} is registered as {entry} but {module_name} has no "
                                f"{self.base.__name__} class {attr!r}")
        return cls

    def register(self, name: str, target: str | type, *, overwrite: bool = False) -> None:
        """Register a ``base`` subclass or a ``"module:Class"`` string as ``name``."""
        key = self.key(name)
        if isinstance(target, str):
            if target.count(":") != 1 or not all(target.split(":")):
                raise ValidationError(f"target={target!r}: expected 'package.module:ClassName'")
        elif not (isinstance(target, type) and issubclass(target, self.base)):
            raise ValidationError(f"target={target!r}: expected a {self.base.__name__} subclass or 'module:Class'")
        with self._lock:
            if key in self.entries and not overwrite:
                raise ValidationError(f"{self.kind} name {key!r} is already registered ({self.entries[key]}); "
                                      "pass overwrite=True to replace it")
            self.entries[key] = target
