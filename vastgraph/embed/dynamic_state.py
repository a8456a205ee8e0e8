"""State folders of the dynamic embedders (DNE, incremental walks): arrays + the store version they follow.

A state folder holds ``meta.json`` (format, ``kind``, hyperparameters, ``follows``: the store folder,
the store version whose graph the rows follow and that version's delta digest) and one ``.npy``
per array: O(nodes × d) on disk, no copy of the graph. :func:`followed_graph` reopens the version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from vastgraph.embed.deepwalk import json_params
from vastgraph.errors import CorruptStoreError, FormatVersionError, StoreError, ValidationError
from vastgraph.graph.storage import StoreWriter, load_array

STATE_FORMAT = "vastgraph-dynamic-state"
STATE_VERSION = 2


def store_version_of(graph: Any) -> dict[str, Any]:
    """``{"store", "version"}`` of a graph opened from a store: a DynamicStore version or a plain store.

    A plain store counts as version 0 (``DynamicStore.from_store`` makes it version 0). A graph
    built in memory follows no store: :class:`ValidationError`.
    """
    path = getattr(graph, "path", None)
    if not path:
        raise ValidationError("the graph was built in memory, so a dynamic-embedder state cannot name the store "
                              "version it follows; fit on a graph opened from a store (open_graph(path) or "
                              "DynamicStore.open(path).graph), or pass follows={'store': ..., 'version': ...}")
    p = Path(path).absolute()
    if p.parent.name == "versions" and (p.parent.parent / "DYNAMIC").is_file() and p.name[1:].isdigit():
        return {"store": str(p.parent.parent), "version": int(p.name[1:])}
    return {"store": str(p), "version": 0}


def _check_follows(follows: Any, where: str) -> dict[str, Any]:
    if not isinstance(follows, dict) or not isinstance(follows.get("store"), str) or \
            isinstance(follows.get("version"), bool) or not isinstance(follows.get("version"), int) or \
            follows["version"] < 0:
        raise ValidationError(f"{where}: follows={follows!r}; expected {{'store': path, 'version': int >= 0, "
                              "'digest': str | None}")
    return {"store": follows["store"], "version": int(follows["version"]), "digest": follows.get("digest")}


def write_state(folder: str | Path, kind: str, meta: dict[str, Any], arrays: dict[str, np.ndarray],
                follows: dict[str, Any]) -> str:
    """Write a dynamic-embedder state folder atomically; returns its absolute path.

    Layout: ``meta.json`` (format, version, ``kind``, ``meta``, ``follows`` — the store folder and
    the store version whose graph the vectors follow, with that version's delta digest — and a
    BLAKE2b checksum per array) and one ``.npy`` per array: O(nodes × d), no copy of the graph.
    Staged and renamed into place, so a crash leaves the old folder or the new one.
    """
    target = Path(folder)
    follows = _check_follows(follows, str(target))
    with StoreWriter(target, overwrite=target.exists()) as w:
        for name, arr in arrays.items():
            w.put(f"{name}.npy", np.ascontiguousarray(arr))
        return w.commit({"format": STATE_FORMAT, "version": STATE_VERSION, "kind": kind, "follows": follows, **meta})


def read_state(folder: str | Path, kind: str | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a state folder: ``(meta, arrays checked against their checksums)``; ``meta["follows"]`` names the graph."""
    p = Path(folder).absolute()
    mp = p / "meta.json"
    if not mp.is_file():
        raise StoreError(f"{p}: not a dynamic-embedder state folder (no meta.json); it is written by "
                         "save_state of DNE / IncrementalWalkEmbedder")
    try:
        meta = json.loads(mp.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptStoreError(f"{mp}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != STATE_FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else None
        raise FormatVersionError(f"{mp}: format {got!r} is not {STATE_FORMAT!r}")
    if meta.get("version") == 1:
        raise FormatVersionError(f"{mp}: state version 1 holds a copy of the graph and follows no store; this "
                                 "vastgraph reads version 2 (the state names the store version it follows). "
                                 "Re-train with `vastgraph embed dne|incremental-walks STORE OUT`")
    if meta.get("version") != STATE_VERSION:
        raise FormatVersionError(f"{mp}: state version {meta.get('version')!r} is not supported; "
                                 f"this vastgraph reads version {STATE_VERSION}")
    if kind is not None and meta.get("kind") != kind:
        raise StoreError(f"{p}: holds the state of {meta.get('kind')!r}, not of {kind!r}")
    table = meta.get("arrays")
    if not isinstance(table, dict):
        raise CorruptStoreError(f"{mp}: 'arrays' is missing")
    try:
        meta["follows"] = _check_follows(meta.get("follows"), str(mp))
    except ValidationError as exc:
        raise CorruptStoreError(str(exc)) from None
    arrays = {name[:-4]: load_array(p / name, spec, verify=True, mmap=False) for name, spec in table.items()}
    return meta, arrays


def followed_graph(follows: dict[str, Any], graph: Any = None, *, where: str = "state") -> Any:
    """The graph a state follows: ``graph`` when given, else that version opened from the store."""
    if graph is None:
        from vastgraph.graph.dynamic_store import DynamicStore
        from vastgraph.graph.storage import is_store, open_graph

        store, version = Path(follows["store"]), follows["version"]
        if (store / "DYNAMIC").is_file():
            graph = DynamicStore.open(store, replay=False).open_version(version)
        elif is_store(store) and version == 0:
            graph = open_graph(store)
        else:
            raise StoreError(f"{where}: follows version {version} of the store {store}, which is not there; "
                             "pass the graph (load_state(folder, graph=...)) or restore the store")
    return graph


def check_layout(graph: Any, rows: int, where: str) -> None:
    """The state's row count must equal the graph's node count (the vectors are in its global-id order)."""
    if int(graph.num_nodes_total()) != int(rows):
        raise CorruptStoreError(f"{where}: the state has {rows} rows but the graph it follows has "
                                f"{graph.num_nodes_total()} nodes; the state and the store disagree")


def state_params(params: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameters as JSON (edge types as lists, callables dropped)."""
    out = json_params({k: v for k, v in params.items() if k != "progress"})
    et = params.get("etype")
    if isinstance(et, tuple):
        out["etype"] = [str(x) for x in et]
    if not (params.get("random_state") is None or isinstance(params.get("random_state"), (int, np.integer))):
        out["random_state"] = None
    return out


def restore_params(params: dict[str, Any]) -> dict[str, Any]:
    out = dict(params)
    if isinstance(out.get("etype"), list):
        out["etype"] = tuple(out["etype"])
    return out
