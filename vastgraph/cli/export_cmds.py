"""CLI command ``export``: embeddings to word2vec text, Parquet, or .npy (+ id list)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from vastgraph.cli._common import console, handle_errors


class ExportFormat(str, Enum):
    word2vec = "word2vec"
    parquet = "parquet"
    npy = "npy"


def check_output_file(out: Path, overwrite: bool) -> None:
    """Refuse an output file whose folder is missing, that is a folder, or that exists (no --overwrite)."""
    from vastgraph.errors import StoreExistsError, ValidationError

    parent = out.absolute().parent
    if not parent.is_dir():
        raise ValidationError(f"output {out}: the folder {parent} does not exist; create it first")
    if out.is_dir():
        raise StoreExistsError(f"output {out} is a folder; give a file name (even --overwrite does not replace a folder)")
    if out.exists() and not overwrite:
        raise StoreExistsError(f"{out} already exists; pass --overwrite to replace it")


@handle_errors
def export(
    embeddings: Path = typer.Argument(..., help="KeyedEmbeddings folder (written by `vastgraph embed`)."),
    out: Path = typer.Argument(..., help="Output file."),
    fmt: ExportFormat = typer.Option(ExportFormat.word2vec, "--format", help="word2vec: text 'N d' then 'id v1 .. vd' lines (gensim reads it); parquet: ntype, id, vector columns; npy: the (N, d) float32 matrix, with the ids in OUT.ids.txt (one per line, row order)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
) -> None:
    """Export embeddings for other tools: word2vec text, Parquet, or a .npy matrix plus its id list."""
    import os

    import numpy as np

    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

    check_output_file(out, overwrite)
    keyed = KeyedEmbeddings.load(embeddings)
    if fmt == ExportFormat.word2vec:
        path = keyed.save_word2vec_format(out)
    elif fmt == ExportFormat.parquet:
        path = keyed.to_parquet(out)
    else:
        ids_path = out.with_name(out.name + ".ids.txt")
        keys = keyed.key_of(np.arange(len(keyed)))
        tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        tmp_ids = ids_path.with_name(f".{ids_path.name}.tmp-{os.getpid()}")
        try:
            with open(tmp, "wb") as f:
                np.save(f, np.ascontiguousarray(keyed.vectors, dtype=np.float32))
            with open(tmp_ids, "w", encoding="utf-8") as f:
                for k in keys:
                    f.write((f"{k[0]}:{k[1]}" if isinstance(k, tuple) else str(k)) + "\n")
            os.replace(tmp_ids, ids_path)
            os.replace(tmp, out)
        finally:
            for t in (tmp, tmp_ids):
                if t.exists():
                    t.unlink()
        path = str(out.absolute())
        console.print(f"ids: {ids_path}")
    os.chmod(path, 0o644)
    console.print(f"[green]wrote[/] {path}: {len(keyed):,} vectors × {keyed.dim} ({fmt.value})")
