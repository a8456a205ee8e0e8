"""One updater for changing graphs: a store and the dynamic embeddings that follow it, log first.

:class:`Updater` owns the crash-safe update of a :class:`~vastgraph.graph.dynamic_store.DynamicStore`
and, optionally, of an embeddings folder written by ``vastgraph embed dne|incremental-walks`` (a
KeyedEmbeddings folder whose ``state/`` names the store version it follows). The CLI
(``vastgraph delta apply``, ``vastgraph embed update``) and the HTTP server are thin callers.

:meth:`Updater.apply`, under the embeddings folder's lock (``.NAME.lock`` beside it, a ``flock``
like the store's own ``STORE/.lock``):

1. **recover** (:meth:`Updater.recover`): undo a half-done folder swap, drop staging folders,
   bring the store to the end of its log (``DynamicStore`` replay), and replay into the embeddings
   every logged delta newer than the version they follow;
2. **idempotency**: a delta whose content digest (:meth:`GraphDelta.digest`) the store's log
   already holds is refused (:class:`~vastgraph.graph.dynamic_store.DuplicateDeltaError`) unless
   ``allow_duplicate``; a delta that step 1 has just completed (an interrupted earlier run had logged
   it) is reported as ``"recovered"`` instead;
3. **log first**: the delta is made durable in the store (log record fsync'ed, next version
   written, ``CURRENT`` swapped) before any embedding changes;
4. the embeddings are updated (``partial_fit`` on the store's new version), written to a staging
   folder with their state (which names the new store version and its digest) and their vector
   index (rebuilt with its saved parameters), then swapped in with two renames.

A kill at any point leaves a consistent pair after the next open: the store at version ``k`` or
``k+1`` and the embeddings at a version the store holds; the next :meth:`recover` (run by every
:meth:`apply`) replays the difference. An intent file (``.NAME.pending.json``) keeps the parameter
overrides of the update in flight, so a replay uses the same ones.

Test-only hook: with ``VASTGRAPH_EMBED_UPDATE_PAUSE_AT`` set to ``after_store`` (store committed,
embeddings untouched), ``training`` (halfway through the update's training) or ``before_swap``
(new folder staged, nothing renamed), the process writes the stage name to the file named by
``VASTGRAPH_EMBED_UPDATE_PAUSE_MARKER`` and sleeps, so a test can SIGKILL it there.

Example:
    >>> import os, tempfile
    >>> from vastgraph.graph import GraphBuilder
    >>> from vastgraph.graph.delta import GraphDelta
    >>> from vastgraph.graph.dynamic_store import DynamicStore
    >>> from vastgraph.embed.dne import DNE
    >>> root = tempfile.mkdtemp()
    >>> b = GraphBuilder(directed=False)
    >>> _ = b.add_edges([0, 1, 2, 3], [1, 2, 3, 0])
    >>> ds = DynamicStore.create(os.path.join(root, "store"), b.build())
    >>> model = DNE(dimensions=4, samples=500, random_state=0).fit(ds.graph)
    >>> write_embeddings(model, os.path.join(root, "emb"))
    >>> up = Updater.open(os.path.join(root, "store"), os.path.join(root, "emb"))
    >>> up.apply(GraphDelta().add_nodes("node", [4]).add_edges([4], [0]))["store version"]
    1
    >>> up.state["embedding_version"], up.state["store_version"]
    (1, 1)
"""

from __future__ import annotations

import json
import os
import shutil
import time as _time
import uuid
from pathlib import Path
from typing import Any, Callable

from vastgraph.errors import CorruptStoreError, StoreError, StoreExistsError, ValidationError
from vastgraph.graph.delta_log import atomic_write_bytes, fsync_dir

PAUSE_ENV = "VASTGRAPH_EMBED_UPDATE_PAUSE_AT"
PAUSE_MARKER_ENV = "VASTGRAPH_EMBED_UPDATE_PAUSE_MARKER"
STAGES = ("after_store", "training", "before_swap")
FIXED_PARAMS = ("progress", "etype", "method", "dimensions", "order")


def _pause(stage: str) -> None:
    """The test-only crash hook (module docstring); a no-op unless the variable names ``stage``."""
    if os.environ.get(PAUSE_ENV) != stage:
        return
    marker = os.environ.get(PAUSE_MARKER_ENV)
    if marker:
        Path(marker).write_text(stage)
    while True:
        _time.sleep(3600)


# ------------------------------------------------------------------------------ folders
def recover_folder(folder: Path) -> None:
    """Repair a crash between the two renames of a swap (restore the previous folder); drop stale staging."""
    parent = folder.parent
    if not parent.is_dir():
        return
    olds = sorted(parent.glob(f".{folder.name}.old-*"))
    if not folder.exists() and olds:
        os.rename(olds[-1], folder)
        olds = olds[:-1]
    for p in olds + sorted(parent.glob(f".{folder.name}.update-*")):
        shutil.rmtree(p, ignore_errors=True)


def load_dynamic(folder: Path, graph: Any = None, progress: Any = None) -> Any:
    """The dynamic embedder whose state an embeddings folder holds (``folder/state``)."""
    state = Path(folder) / "state"
    meta_path = state / "meta.json"
    if not meta_path.is_file():
        raise StoreError(f"{folder}: no model state (state/meta.json); `embed update` continues embeddings "
                         "written by `vastgraph embed dne` or `vastgraph embed incremental-walks`")
    try:
        kind = json.loads(meta_path.read_text()).get("kind")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as exc:
        raise CorruptStoreError(f"{meta_path}: not valid JSON ({exc})") from None
    if kind == "DNE":
        from vastgraph.embed.dne import DNE
        return DNE.load_state(state, graph=graph, progress=progress)
    if kind == "IncrementalWalkEmbedder":
        from vastgraph.embed.incremental_walks import IncrementalWalkEmbedder
        return IncrementalWalkEmbedder.load_state(state, graph=graph, progress=progress)
    raise StoreError(f"{meta_path}: kind {kind!r} is not a dynamic embedder (expected DNE or IncrementalWalkEmbedder)")


def followed(folder: Path) -> dict[str, Any]:
    """``state/meta.json``'s ``follows`` of an embeddings folder (store, version, digest)."""
    from vastgraph.embed.dne import read_state

    return read_state(Path(folder) / "state")[0]["follows"]


def write_embeddings(model: Any, target: str | os.PathLike, follows: dict[str, Any] | None = None,
                     index: dict[str, Any] | None = None) -> None:
    """Write ``model``'s embeddings + state (+ a vector index built with ``index`` parameters) to a
    staging folder, then swap it in with two renames (a crash leaves the old folder or the new one)."""
    from vastgraph.embed.vector_index import make_index

    target = Path(target).absolute()
    staging = target.parent / f".{target.name}.update-{uuid.uuid4().hex[:8]}"
    target.parent.mkdir(parents=True, exist_ok=True)
    keyed = model.keyed_
    if index is not None:
        p = dict(index)
        kind = p.pop("kind")
        keyed = type(keyed)._trusted(keyed.vectors, keyed.node_types, keyed.offsets,
                                     {t: keyed._index[t] for t in keyed.node_types}, keyed.meta)
        if kind == "geodesic":
            keyed.build_index("geodesic", **p)
        else:
            keyed.build_index(kind, p.pop("metric"), **p)
        make_index(index)  # the parameters round-trip (fails loudly if not)
    backup = None
    try:
        keyed.save(staging)
        model.save_state(staging / "state", follows=follows)
        _pause("before_swap")
        if target.exists():
            backup = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(target, backup)
        os.rename(staging, target)
        fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


# ------------------------------------------------------------------------------ the updater
class Updater:
    """Log-first, crash-safe, idempotent updates of a store and (optionally) the embeddings following it.

    Use :meth:`open`. See the module docstring for the protocol.

    Attributes:
        store_path: the store folder. source: the embeddings folder read (None: store only).
        target: the embeddings folder written (``source`` unless ``out`` was given).
    """

    def __init__(self, store_path: Path, source: Path | None, target: Path | None) -> None:
        self.store_path, self.source, self.target = store_path, source, target
        self.model: Any = None
        self._store: Any = None
        self._follows: dict[str, Any] | None = None
        self._params: dict[str, Any] = {}
        self.progress: Callable[[float, float | None], Any] | None = None

    @classmethod
    def open(cls, store_path: str | os.PathLike | None, artifacts_dir: str | os.PathLike | None = None, *,
             out: str | os.PathLike | None = None, overwrite: bool = False) -> "Updater":
        """An updater of the store ``store_path`` and the embeddings folder ``artifacts_dir``.

        Args:
            store_path: a DynamicStore folder (a plain store is upgraded in place on the first
                :meth:`apply`); None: the store the embeddings' state names.
            artifacts_dir: embeddings folder with ``state/`` (None: update the store only).
            out: write the updated embeddings here instead of in place. overwrite: allow an
                existing ``out``.
        """
        if store_path is None and artifacts_dir is None:
            raise ValidationError("Updater.open: give a store folder, an embeddings folder, or both")
        source = None if artifacts_dir is None else Path(artifacts_dir).absolute()
        target = source if out is None or source is None else Path(out).absolute()
        if source is not None:
            recover_folder(source)
            if not (source / "state" / "meta.json").is_file():
                load_dynamic(source)  # raises the clear "no model state" error
        if target is not None and target != source:
            recover_folder(target)
            if target.exists() and not overwrite:
                raise StoreExistsError(f"{target} already exists; pass --overwrite to replace it")
        if store_path is None:
            store = Path(followed(source)["store"])
        else:
            store = Path(store_path).absolute()
        return cls(store, source, target)

    # ------------------------------------------------------------------ locking and state
    def _locks(self) -> Any:
        from contextlib import ExitStack

        from vastgraph.graph.dynamic_store import file_lock

        stack = ExitStack()
        for folder in sorted({p for p in (self.source, self.target) if p is not None}):
            stack.enter_context(file_lock(folder.parent / f".{folder.name}.lock"))
        return stack

    def _pending_path(self) -> Path | None:
        return None if self.target is None else self.target.parent / f".{self.target.name}.pending.json"

    def _open_store(self, delta: Any = None, time_policy: str = "reject", missing: str = "raise") -> Any:
        from vastgraph.graph.delta import apply_delta
        from vastgraph.graph.dynamic_store import DynamicStore
        from vastgraph.graph.storage import is_store, open_graph

        if is_store(self.store_path) and not (self.store_path / "DYNAMIC").is_file():
            if delta is None:
                return None  # a plain store: version 0, nothing to replay
            apply_delta(open_graph(self.store_path), delta, time_policy=time_policy, missing=missing)
            self._store = DynamicStore.from_store(self.store_path)
            self.upgraded_ = True
        elif self._store is None:
            self._store = DynamicStore.open(self.store_path)
        else:
            self._store.replay()
        return self._store

    @property
    def state(self) -> dict[str, Any]:
        """``store``, ``store_version``, ``store_digest`` (its last log record's), ``embedding_version``
        and ``embedding_digest`` (of the version the embeddings follow; None without embeddings)."""
        from vastgraph.graph.dynamic_store import DynamicStore

        if (self.store_path / "DYNAMIC").is_file():
            ds = DynamicStore.open(self.store_path, replay=False)
            digests = ds.digests()
            version, digest = ds.version, (digests[-1][1] if digests and digests[-1][0] == ds.version else None)
        else:
            version, digest = 0, None
        out = {"store": str(self.store_path), "store_version": version, "store_digest": digest,
               "embedding_version": None, "embedding_digest": None}
        folder = self.target if self.target is not None and self.target.exists() else self.source
        if folder is not None and (folder / "state" / "meta.json").is_file():
            f = followed(folder)
            out["embedding_version"], out["embedding_digest"] = f["version"], f.get("digest")
        return out

    def set_params(self, **params: Any) -> "Updater":
        """Parameter overrides of the next updates (e.g. ``m``, ``lam``, ``random_state``)."""
        for k in params:
            if k in FIXED_PARAMS:
                raise ValidationError(f"--set {k}=...: {k} is fixed when the embeddings are trained")
        self._params.update(params)
        return self

    # ------------------------------------------------------------------ recovery
    def recover(self) -> list[int]:
        """Bring store and embeddings into step (see the module docstring); returns the replayed versions."""
        with self._locks():
            return self._recover()

    def _load_model(self, ds: Any) -> None:
        f = followed(self.source)
        if f["version"] > (ds.version if ds is not None else 0):
            raise CorruptStoreError(f"{self.source}: the embeddings follow version {f['version']} of {self.store_path}, "
                                    f"but the store is at version {ds.version if ds is not None else 0} (was it "
                                    "repaired or replaced?); re-train the embeddings on the store")
        graph = ds.open_version(f["version"]) if ds is not None else None
        if ds is not None and f.get("digest") and f["version"] > 0 and \
                ds.delta_at(f["version"])[1]["digest"] != f["digest"]:
            raise StoreError(f"{self.source}: follows version {f['version']} (delta digest {f['digest']}) of "
                             f"{f['store']}, but log record {f['version']} of {self.store_path} holds another delta; "
                             "wrong store?")
        self.model = load_dynamic(self.source, graph=graph)
        self._follows = dict(f)

    def _pending(self) -> dict[str, Any]:
        p = self._pending_path()
        if p is None or not p.is_file():
            return {}
        try:
            data = json.loads(p.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _recover(self) -> list[int]:
        ds = self._open_store()
        if self.source is None:
            return []
        self._load_model(ds)
        if ds is None:
            return []
        replayed = []
        pending = self._pending()
        if self._follows["version"] < ds.version:
            base = {k: v for k, v in self.model.get_params().items() if k != "progress"}
            for seq in range(self._follows["version"] + 1, ds.version + 1):
                delta, opts = ds.delta_at(seq)
                # the update in flight when the process died ran with its own overrides: replay with them
                mine = pending.get("digest") == opts["digest"]
                self.model.set_params(**dict(base, **(pending.get("params") or {})) if mine else base)
                self.model.partial_fit(delta, time_policy=opts["time_policy"], missing=opts["missing"])
                replayed.append(seq)
                self._follows = {"store": str(self.store_path), "version": seq, "digest": opts["digest"]}
            self._write()
        p = self._pending_path()
        if p is not None and p.exists():
            p.unlink()
        self.replayed_ = replayed
        return replayed

    def _write(self) -> None:
        from vastgraph.embed.vector_index import read_index_meta

        head = None
        for folder in (self.target, self.source):
            if folder is not None and folder.exists():
                head = read_index_meta(folder)
                break
        write_embeddings(self.model, self.target, self._follows, None if head is None else head["params"])

    # ------------------------------------------------------------------ apply
    def apply(self, delta: Any, *, time_policy: str = "reject", missing: str = "raise", allow_duplicate: bool = False,
              new_nodes: bool = False, progress: Callable[..., Any] | None = None) -> dict[str, Any]:
        """Apply ``delta`` to the store (durably), then to the embeddings; returns a summary dict.

        Args:
            delta: a :class:`~vastgraph.graph.delta.GraphDelta`.
            time_policy / missing: as :meth:`DynamicStore.apply`.
            allow_duplicate: apply a delta whose content digest the store's log holds already.
            new_nodes: declare endpoints the graph does not know as new nodes (the digest checked
                for repeats is that of the delta as given).
            progress: ``progress(done_fraction, stage)`` of the store step.

        Returns:
            ``{"status": "applied" | "recovered", "digest", "store version", "embedding version",
            "store": DeltaSummary counts, **the embedding update's summary}``.
        """
        from vastgraph.graph.delta import GraphDelta, declare_new_endpoints
        from vastgraph.graph.dynamic_store import DuplicateDeltaError

        if not isinstance(delta, GraphDelta):
            raise ValidationError(f"delta: {type(delta).__name__}; expected a GraphDelta")
        digest = delta.digest()
        with self._locks():
            replayed = self._recover()
            ds = self._store
            if ds is not None:
                seen = ds.find_digest(digest)
                if seen is not None and not allow_duplicate:
                    if seen in replayed:
                        return {"status": "recovered", "digest": digest, "store version": ds.version,
                                "embedding version": self._follows["version"] if self._follows else None,
                                "note": f"an interrupted run had logged this delta as record {seen}; "
                                        "recovery completed it"}
                    raise DuplicateDeltaError(f"{self.store_path}: this delta (digest {digest}) is already applied "
                                              f"as log record {seen}; pass --allow-duplicate "
                                              "(allow_duplicate=True) to apply it again")
            if self.model is not None:  # check the embedding parameters before anything is written
                self.model.set_params(**self._params)
                self.model._checked()
            graph = ds.graph if ds is not None else None
            if new_nodes:
                if graph is None:
                    from vastgraph.graph.storage import open_graph
                    graph = open_graph(self.store_path)
                declare_new_endpoints(graph, delta)
            pending = self._pending_path()
            if pending is not None:
                atomic_write_bytes(pending, json.dumps({"digest": digest, "params": _jsonable(self._params)}).encode())
            ds = self._open_store(delta, time_policy, missing) if ds is None else ds
            summary = ds.apply(delta, time_policy=time_policy, missing=missing, progress=progress,
                               allow_duplicate=allow_duplicate, digest=digest)
            out: dict[str, Any] = {"status": "applied", "digest": digest, "store version": ds.version,
                                   "store": summary.counts()}
            _pause("after_store")
            if self.model is not None:
                out.update(self._update_embeddings(ds, summary, digest))
                out["embedding version"] = ds.version
            if pending is not None and pending.exists():
                pending.unlink()
        return out

    def _update_embeddings(self, ds: Any, summary: Any, digest: str) -> dict[str, Any]:
        user = self.progress

        def report(frac: float, loss: float | None = None) -> None:
            if user is not None:
                user(frac, loss)
            if frac >= 0.5:
                _pause("training")

        self.model.set_params(progress=report)
        try:
            self.model.partial_fit((ds.graph, summary))
        finally:
            self.model.set_params(progress=None)
        self._follows = {"store": str(self.store_path), "version": ds.version, "digest": digest}
        self._write()
        return self.model.last_update_.summary()


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        if hasattr(v, "item"):
            v = v.item()
        if isinstance(v, (int, float, str, bool)) or v is None:
            out[k] = v
    return out
