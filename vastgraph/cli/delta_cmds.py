"""``vastgraph delta``: apply graph deltas to a versioned store, list its log, write snapshots."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from vastgraph.cli._common import console, handle_errors, print_json, print_table, progress_bar

delta_app = typer.Typer(name="delta", no_args_is_help=True, add_completion=False,
                        help="Graph deltas: apply them to a versioned store, list its log, write snapshots.")


class TimePolicy(str, Enum):
    reject = "reject"
    allow = "allow"


class DeltaFormat(str, Enum):
    auto = "auto"
    delta = "delta"
    edgelist = "edgelist"


class Missing(str, Enum):
    raise_ = "raise"
    ignore = "ignore"


def _open_or_upgrade(store: Path) -> Any:
    from vastgraph.graph.dynamic_store import DynamicStore
    from vastgraph.graph.storage import is_store

    if is_store(store):
        console.print(f"[yellow]note:[/] {store} is a plain store; upgrading it in place to a versioned store "
                      "(open_graph still opens its current version)", highlight=False)
        return DynamicStore.from_store(store)
    return DynamicStore.open(store)


def _load_delta(path: Path, fmt: DeltaFormat, etype: Optional[str], deletions: bool, delimiter: Optional[str],
                batch_time: Optional[int]) -> Any:
    from vastgraph.errors import DatasetError
    from vastgraph.graph.delta import DELTA_MAGIC, GraphDelta

    if not path.is_file():
        raise DatasetError(f"{path}: no such delta file")
    kind = fmt.value
    if kind == "auto":
        with open(path, "rb") as f:
            kind = "delta" if f.read(len(DELTA_MAGIC)) == DELTA_MAGIC else "edgelist"
    if kind == "delta":
        return GraphDelta.load(path)
    if delimiter is None and path.suffix == ".csv":
        delimiter = ","
    elif delimiter is None and path.suffix == ".tsv":
        delimiter = "\t"
    return GraphDelta.from_edgelist(path, etype=etype, delimiter=delimiter, deletions=deletions, time=batch_time)


@delta_app.command("apply")
@handle_errors
def apply(
    store: Path = typer.Argument(..., help="Store folder (a plain store is upgraded to a versioned one)."),
    delta_file: Path = typer.Argument(..., help="A delta file (GraphDelta.save) or an edge list 'src dst [weight] [time]'."),
    time_policy: TimePolicy = typer.Option(TimePolicy.reject, help="reject: edges older than the latest time of their type are an error; allow: accept them."),
    fmt: DeltaFormat = typer.Option(DeltaFormat.auto, "--format", help="auto: a delta file by its magic bytes, else an edge list."),
    etype: Optional[str] = typer.Option(None, help="Edge type 'src:relation:dst' of an edge list's rows (default: the store's only one)."),
    deletions: bool = typer.Option(False, "--deletions", help="The edge list holds deletions 'src dst' instead of insertions."),
    missing: Missing = typer.Option(Missing.raise_, help="Deleting an absent edge: raise (default) or ignore."),
    delimiter: Optional[str] = typer.Option(None, help="Edge-list delimiter (default: whitespace; ',' for .csv; tab for .tsv)."),
    batch_time: Optional[int] = typer.Option(None, "--time", help="Batch time (seconds) of an edge-list delta."),
    new_nodes: bool = typer.Option(False, "--new-nodes", help="Endpoints not in the store become new nodes (in order of appearance) instead of an error."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Apply a delta: log it, write the next store version aside and switch to it atomically."""
    from vastgraph.graph.delta import apply_delta, declare_new_endpoints
    from vastgraph.graph.storage import is_store, open_graph

    delta = _load_delta(delta_file, fmt, etype, deletions, delimiter, batch_time)
    if is_store(store):  # check the delta before upgrading a plain store, so a bad one changes nothing
        plain = open_graph(store)
        if new_nodes:
            declare_new_endpoints(plain, delta)
        apply_delta(plain, delta, time_policy=time_policy.value, missing=missing.value)
    ds = _open_or_upgrade(store)
    if new_nodes:  # idempotent: ids declared above are not declared twice
        declare_new_endpoints(ds.graph, delta)
    before = ds.version
    t0 = time.perf_counter()
    with progress_bar("applying delta", total=100) as update:
        summary = ds.apply(delta, time_policy=time_policy.value, missing=missing.value,
                           progress=lambda f, stage: update(100 * f, description=f"applying delta: {stage}"))
    seconds = time.perf_counter() - t0
    counts = summary.counts()
    if as_json:
        print_json({"store": str(store), "version_before": before, "version": ds.version,
                    "seconds": seconds, **counts})
        return
    rows = [{"change": "new nodes", "type": k, "count": v} for k, v in counts["new_nodes"].items() if v]
    rows += [{"change": "inserted edges", "type": k, "count": v} for k, v in counts["inserted"].items()]
    rows += [{"change": "deleted edges", "type": k, "count": v} for k, v in counts["deleted"].items()]
    rows += [{"change": "touched nodes", "type": k, "count": v} for k, v in counts["touched"].items() if v]
    print_table("delta applied", rows or [{"change": "(nothing)", "type": "", "count": 0}])
    console.print(f"[green]version {before} → {ds.version}[/] in {seconds:.3f} s "
                  f"({store}, batch time {summary.time})", highlight=False)


@delta_app.command("log")
@handle_errors
def log(
    store: Path = typer.Argument(..., help="A versioned store folder."),
    as_json: bool = typer.Option(False, "--json", help="Print versions and log records as JSON."),
) -> None:
    """List a versioned store's versions and its delta-log records."""
    from vastgraph.graph.dynamic_store import DynamicStore

    ds = DynamicStore.open(store, replay=False)
    versions = ds.versions()
    entries = ds.log_entries()
    if as_json:
        print_json({"current": ds.version, "versions": versions, "log": entries})
        return
    print_table("versions", [{k: v for k, v in r.items() if k != "path"} for r in versions])
    print_table("delta log", entries)


@delta_app.command("snapshot")
@handle_errors
def snapshot(
    store: Path = typer.Argument(..., help="A versioned (or plain) store folder."),
    out: Path = typer.Argument(..., help="Output plain store folder."),
    as_of: int = typer.Option(..., "--as-of", help="Time t (seconds): keep the graph as it was at t."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing store at OUT."),
) -> None:
    """Write the graph as of time t (latest version dated ≤ t, edges with time ≤ t) as a plain store."""
    from vastgraph.graph import dynamic_store
    from vastgraph.graph.storage import is_store, open_graph, save_graph

    if is_store(store):
        g = dynamic_store.snapshot(open_graph(store), as_of)
    else:
        g = dynamic_store.DynamicStore.open(store, replay=False).as_of(as_of)
    path = save_graph(g, out, overwrite=overwrite)
    rows = [{"edge type": str(et), "entries": g.num_edges(et)} for et in g.edge_types]
    print_table(f"snapshot as of {as_of}", rows)
    console.print(f"[green]wrote[/] {path} ({g.num_nodes_total()} nodes)", highlight=False)
