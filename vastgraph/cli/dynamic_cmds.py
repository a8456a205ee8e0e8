"""``vastgraph embed update``: apply a graph delta to a store and the dynamic embeddings following it.

A thin caller of :class:`vastgraph.embed.updater.Updater`, which owns recovery, the log-first
commit (store delta durable, then embeddings swapped in atomically, then their vector index) and
idempotency by content digest; see that module for the protocol and the crash hooks
(``VASTGRAPH_EMBED_UPDATE_PAUSE_AT``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

import typer

from vastgraph.cli._common import console, handle_errors, print_table, progress_bar

EDGELIST_SUFFIXES = (".txt", ".csv", ".tsv", ".edgelist", ".edges", ".el")
_UPDATER_NAMES = ("PAUSE_ENV", "PAUSE_MARKER_ENV", "STAGES")


def __getattr__(name: str) -> Any:
    """The updater's crash-hook names, re-exported for tests without importing it at start-up."""
    if name in _UPDATER_NAMES:
        from vastgraph.embed import updater

        return getattr(updater, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def read_delta(path: Path, fmt: str, etype: Optional[str], deletions: bool, add_unknown: bool) -> Any:
    """A GraphDelta from a delta file or an edge list."""
    from vastgraph.errors import ValidationError
    from vastgraph.graph.delta import GraphDelta

    if fmt not in ("auto", "delta", "edgelist"):
        raise ValidationError(f"--format {fmt!r}: expected auto, delta or edgelist")
    if not path.is_file():
        raise ValidationError(f"delta {path}: no such file")
    kind = fmt if fmt != "auto" else ("edgelist" if path.suffix.lower() in EDGELIST_SUFFIXES else "delta")
    if kind == "delta":
        if add_unknown or deletions:
            raise ValidationError("--new-nodes and --deletions apply to --format edgelist only")
        return GraphDelta.load(path)
    return GraphDelta.from_edgelist(path, etype=etype, deletions=deletions)


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
    store: Optional[Path] = typer.Option(None, "--store", help="The store the embeddings follow (default: the one their state names). The delta is logged there first."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Parameter override key=value (repeatable), e.g. --set m=0.2 --set lam=0.01."),
    seed: Optional[int] = typer.Option(None, help="random_state of this update (default: the model's)."),
    time_policy: str = typer.Option("reject", help="reject or allow edges older than the graph's latest time."),
    allow_duplicate: bool = typer.Option(False, "--allow-duplicate", help="Apply a delta whose content the store's log already holds."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out folder."),
) -> None:
    """Update dynamic embeddings with a graph delta, at the cost of the change (DNE / incremental walks).

    The delta is logged in the store first, then the embeddings follow; a repeated delta is refused.
    """
    from vastgraph.config import parse_assignments
    from vastgraph.embed.updater import Updater

    overrides = parse_assignments(set_)
    if seed is not None:
        overrides["random_state"] = seed
    dl = read_delta(delta, format, etype, deletions, add_unknown)
    up = Updater.open(store, embeddings, out=out, overwrite=overwrite)
    up.set_params(**overrides)
    t0 = time.perf_counter()
    with progress_bar("embedding update", total=1.0) as update:
        up.progress = lambda frac, loss=None: update(
            frac, description="embedding update" + ("" if loss is None else f" loss {loss:.4f}"))
        row = up.apply(dl, time_policy=time_policy, new_nodes=add_unknown, allow_duplicate=allow_duplicate)
    seconds = time.perf_counter() - t0
    if row["status"] == "recovered":
        console.print(f"[yellow]note:[/] {row['note']}", highlight=False)
    rows = {k: v for k, v in row.items() if k not in ("store", "note")}
    print_table("embedding update", [{"what": k, "value": v} for k, v in rows.items()])
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

    kv = KeyedEmbeddings.load(up.target, index="ignore")
    console.print(f"[green]wrote[/] {up.target}: {len(kv):,} vectors × {kv.dim}; the update took {seconds:.3f} s",
                  highlight=False)
