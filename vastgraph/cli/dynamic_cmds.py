"""``vastgraph embed update``: apply a graph delta to dynamic embeddings (DNE, incremental walks).

The embeddings folder is the one ``vastgraph embed dne|incremental-walks`` writes: a
KeyedEmbeddings folder with the model's state in ``state/``. The update is computed in memory,
then the new folder (embeddings + state) is written to a staging folder beside the target and
swapped in with two renames; if the process dies at any point the previous folder is intact (a
crash between the two renames is repaired on the next run: the previous folder is restored).

Every delta applied is recorded (its BLAKE2b digest) in the state, so re-running an update that
completed is refused instead of applying it twice. With ``--store`` the same delta is applied to
a :class:`~vastgraph.graph.dynamic_store.DynamicStore` after the embeddings are committed.

Test-only hook: with ``VASTGRAPH_EMBED_UPDATE_PAUSE_AT`` set to ``training`` (halfway through the
update's training) or ``before_swap`` (new folder staged, nothing renamed yet), the command writes
the stage name to the file named by ``VASTGRAPH_EMBED_UPDATE_PAUSE_MARKER`` (if set) and sleeps
forever, so a test can SIGKILL it at that point. Unset (normal use), the hook does nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time as _time
import uuid
from pathlib import Path
from typing import Any, Optional

import typer

from vastgraph.cli._common import console, handle_errors, print_table, progress_bar
from vastgraph.graph.storage import fsync_dir

PAUSE_ENV = "VASTGRAPH_EMBED_UPDATE_PAUSE_AT"
PAUSE_MARKER_ENV = "VASTGRAPH_EMBED_UPDATE_PAUSE_MARKER"
STAGES = ("training", "before_swap")
EDGELIST_SUFFIXES = (".txt", ".csv", ".tsv", ".edgelist", ".edges", ".el")


def _pause(stage: str) -> None:
    """The test-only crash hook (module docstring); a no-op unless the variable names ``stage``."""
    if os.environ.get(PAUSE_ENV) != stage:
        return
    marker = os.environ.get(PAUSE_MARKER_ENV)
    if marker:
        Path(marker).write_text(stage)
    while True:
        _time.sleep(3600)


def recover(folder: Path) -> None:
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


def load_dynamic(folder: Path, progress: Any = None) -> Any:
    """The dynamic embedder whose state an embeddings folder holds (``folder/state``)."""
    from vastgraph.errors import StoreError

    state = folder / "state"
    meta_path = state / "meta.json"
    if not meta_path.is_file():
        raise StoreError(f"{folder}: no model state (state/meta.json); `embed update` continues embeddings "
                         "written by `vastgraph embed dne` or `vastgraph embed incremental-walks`")
    try:
        kind = json.loads(meta_path.read_text()).get("kind")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as exc:
        from vastgraph.errors import CorruptStoreError
        raise CorruptStoreError(f"{meta_path}: not valid JSON ({exc})") from None
    if kind == "DNE":
        from vastgraph.embed.dne import DNE
        return DNE.load_state(state, progress=progress)
    if kind == "IncrementalWalkEmbedder":
        from vastgraph.embed.incremental_walks import IncrementalWalkEmbedder
        return IncrementalWalkEmbedder.load_state(state, progress=progress)
    raise StoreError(f"{meta_path}: kind {kind!r} is not a dynamic embedder (expected DNE or IncrementalWalkEmbedder)")


def read_delta(path: Path, fmt: str, etype: Optional[str], deletions: bool, graph: Any, add_unknown: bool) -> Any:
    """A GraphDelta from a delta file or an edge list (optionally declaring unknown endpoints as new nodes)."""

    from vastgraph.errors import ValidationError
    from vastgraph.graph.delta import GraphDelta, declare_new_endpoints

    if fmt not in ("auto", "delta", "edgelist"):
        raise ValidationError(f"--format {fmt!r}: expected auto, delta or edgelist")
    if not path.is_file():
        raise ValidationError(f"delta {path}: no such file")
    kind = fmt if fmt != "auto" else ("edgelist" if path.suffix.lower() in EDGELIST_SUFFIXES else "delta")
    if kind == "delta":
        if add_unknown or deletions:
            raise ValidationError("--new-nodes and --deletions apply to --format edgelist only")
        return GraphDelta.load(path)
    delta = GraphDelta.from_edgelist(path, etype=etype, deletions=deletions)
    if add_unknown and not deletions:
        declare_new_endpoints(graph, delta)
    return delta


def _digest(delta: Any) -> str:
    return hashlib.blake2b(delta.to_bytes(), digest_size=16).hexdigest()


def write_folder(model: Any, target: Path, applied: list[str]) -> str:
    """Write embeddings + state to a staging folder, then swap it in with two renames."""
    target = target.absolute()
    staging = target.parent / f".{target.name}.update-{uuid.uuid4().hex[:8]}"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        model.keyed_.save(staging)
        model.save_state(staging / "state")
        (staging / "state" / "applied.json").write_text(json.dumps(applied))
        _pause("before_swap")
        backup = None
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
    return str(target)


@handle_errors
def embed_update(
    embeddings: Path = typer.Argument(..., help="Embeddings folder written by `vastgraph embed dne` or "
                                                "`vastgraph embed incremental-walks` (KeyedEmbeddings + state/)."),
    delta: Path = typer.Argument(..., help="GraphDelta file, or an edge list (src dst [weight] [time])."),
    out: Optional[Path] = typer.Option(None, help="Write the updated folder here (default: update EMBEDDINGS in place, atomically)."),
    format: str = typer.Option("auto", "--format", help="auto (by suffix), delta or edgelist."),
    etype: Optional[str] = typer.Option(None, help="Edge type of an edge list (default: the only one)."),
    deletions: bool = typer.Option(False, "--deletions", help="The edge list holds deletions (src dst)."),
    add_unknown: bool = typer.Option(False, "--new-nodes", help="Edge list endpoints not in the graph become new nodes."),
    store: Optional[Path] = typer.Option(None, "--store", help="DynamicStore folder to apply the delta to as well."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Parameter override key=value (repeatable), e.g. --set m=0.2 --set lam=0.01."),
    seed: Optional[int] = typer.Option(None, help="random_state of this update (default: the model's)."),
    time_policy: str = typer.Option("reject", help="reject or allow edges older than the graph's latest time."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out folder."),
) -> None:
    """Update dynamic embeddings with a graph delta, at the cost of the change (DNE / incremental walks)."""
    from vastgraph.config import parse_assignments
    from vastgraph.errors import StoreExistsError, ValidationError

    embeddings = embeddings.absolute()
    recover(embeddings)
    target = embeddings if out is None else out.absolute()
    if target != embeddings:
        recover(target)
        if target.exists() and not overwrite:
            raise StoreExistsError(f"{target} already exists; pass --overwrite to replace it")
    model = load_dynamic(embeddings)
    overrides = parse_assignments(set_)
    for k in ("progress", "etype", "method", "dimensions", "order"):
        if k in overrides:
            raise ValidationError(f"--set {k}=...: {k} is fixed when the embeddings are trained")
    if seed is not None:
        overrides["random_state"] = seed
    model.set_params(**overrides)
    applied_path = embeddings / "state" / "applied.json"
    applied = json.loads(applied_path.read_text()) if applied_path.is_file() else []
    dl = read_delta(delta, format, etype, deletions, model.graph_, add_unknown)
    digest = _digest(dl)
    if digest in applied:
        raise ValidationError(f"delta {delta}: already applied to {embeddings} (digest {digest}); nothing to do")
    with progress_bar(f"{type(model).__name__} update", total=1.0) as update:
        def report(frac: float, loss: float | None = None) -> None:
            update(frac, description=f"{type(model).__name__} update" + ("" if loss is None else f" loss {loss:.4f}"))
            if frac >= 0.5:
                _pause("training")

        model.set_params(progress=report)
        model.partial_fit(dl, time_policy=time_policy)
        model.set_params(progress=None)
    rep = model.last_update_
    path = write_folder(model, target, applied + [digest])
    row = rep.summary()
    if store is not None:
        from vastgraph.graph.dynamic_store import DynamicStore

        ds = DynamicStore.open(store)
        ds.apply(dl, time_policy=time_policy)
        row["store version"] = ds.version
    print_table("embedding update", [{"what": k, "value": v} for k, v in row.items()])
    console.print(f"[green]wrote[/] {path}: {len(model.keyed_):,} vectors × {model.keyed_.dim}")
