"""Trainer checkpoints: atomic writes, strict reads, and models rebuilt only through the registry.

A checkpoint is a ``torch.save`` of a plain dict (read back with ``weights_only=True``, so no
pickled code runs): format tag and version, the task, the model's *registry name*
(:func:`vastgraph.nn.registry.model_name`) and config, the trainer config, the task info, model,
head and optimiser state, epoch, seed, history and early-stopping state. Loading never imports a
module the file names: the name must be a registered model name (``"os:system"`` or
``"some.module:Class"`` is refused with :class:`~vastgraph.errors.CorruptStoreError` before
anything is imported); only the registry's own entries are ever imported.

Example:
    >>> import tempfile, pathlib, torch
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.pt"
    >>> torch.save({"format": FORMAT, "version": VERSION, "model": "os:system"}, path)
    >>> try:
    ...     registry_name(read_checkpoint(path), path)
    ... except Exception as exc:
    ...     print(type(exc).__name__)
    CorruptStoreError
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from vastgraph.errors import CorruptStoreError, StoreError

FORMAT = "vastgraph-trainer"
VERSION = 2
CHECKPOINT_NAME = "last.pt"
_REQUIRED = {"task": str, "model": str, "model_config": dict, "trainer_config": dict, "info": dict,
             "model_state": dict, "head_state": dict, "epoch": int, "rng": dict, "history": list,
             "early_stopping": dict}


def write_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> str:
    """``torch.save(state)`` to a temporary file renamed into place (never a half-written file)."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return str(path)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint dict at ``path``, its format and version checked.

    Raises:
        StoreError: no such file.
        CorruptStoreError: unreadable, not a trainer checkpoint, another format version.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise StoreError(f"checkpoint {path}: no such file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors of a truncated / foreign file
        raise CorruptStoreError(f"checkpoint {path}: cannot be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CorruptStoreError(f"checkpoint {path}: not a vastgraph trainer checkpoint")
    if ckpt.get("version") != VERSION:
        raise CorruptStoreError(f"checkpoint {path}: format version {ckpt.get('version')!r}; this vastgraph "
                                f"reads version {VERSION}")
    return ckpt


def check_fields(ckpt: dict[str, Any], path: Any) -> None:
    """Every field a trainer needs is present with the right type (CorruptStoreError naming the field)."""
    for key, typ in _REQUIRED.items():
        if not isinstance(ckpt.get(key), typ):
            raise CorruptStoreError(f"checkpoint {path}: field {key!r} is missing or not a {typ.__name__}")


def registry_name(ckpt: dict[str, Any], path: Any) -> str:
    """The model's registry name, checked against the registry without importing anything.

    Raises:
        CorruptStoreError: the name is not a string or not registered (e.g. a module path).
    """
    from vastgraph.nn.registry import REGISTRY

    name = ckpt.get("model")
    if not isinstance(name, str) or name.strip().lower() not in REGISTRY.entries:
        raise CorruptStoreError(f"checkpoint {path}: model {name!r} is not a registered model name (known: "
                                f"{', '.join(REGISTRY.available())}); checkpoints load only models of the "
                                "registry and never import the module a file names")
    return name.strip().lower()
