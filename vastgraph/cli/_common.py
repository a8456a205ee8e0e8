"""Shared CLI plumbing: the console, error handling and progress bars."""

from __future__ import annotations

import functools
import json
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import typer
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.table import Table

from vastgraph.errors import VastgraphError

console = Console(stderr=False)
err_console = Console(stderr=True)

EXIT_USER_ERROR = 2


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn vastgraph errors (bad input) into a red message and exit code 2; nothing else is caught."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except VastgraphError as exc:
            err_console.print(f"[bold red]error:[/] {type(exc).__name__}: {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None

    return wrapper


@contextmanager
def progress_bar(description: str, total: float | None = None) -> Iterator[Callable[..., None]]:
    """A rich progress bar; yields ``update(completed, description=None)``."""
    columns = [SpinnerColumn(), TextColumn("[progress.description]{task.description}"), BarColumn(),
               MofNCompleteColumn() if total and total > 1 else TextColumn("{task.percentage:>3.0f}%"),
               TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err_console, transient=False,
                  disable=not sys.stderr.isatty() and False) as prog:
        task = prog.add_task(description, total=total)

        def update(completed: float | None = None, description: str | None = None, **fields: Any) -> None:
            kw: dict[str, Any] = {}
            if completed is not None:
                kw["completed"] = completed
            if description is not None:
                kw["description"] = description
            prog.update(task, **kw)

        yield update
        if total is not None:
            prog.update(task, completed=total)


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    """Print a list of dicts as a table (columns from the first row)."""
    if not rows:
        console.print(f"[dim]{title}: (empty)[/]")
        return
    table = Table(title=title, show_lines=False)
    cols = list(rows[0])
    for c in cols:
        table.add_column(str(c), overflow="fold")
    for r in rows:
        table.add_row(*[_fmt(r.get(c)) for c in cols])
    console.print(table)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    return "" if v is None else str(v)


def print_json(obj: Any) -> None:
    console.print_json(json.dumps(obj, default=str))
