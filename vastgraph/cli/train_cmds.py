"""CLI command of the GNN layer: ``vastgraph train MODEL STORE --task ...``."""

from __future__ import annotations

import inspect
import time
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from vastgraph.cli._common import console, handle_errors, print_json, print_table, progress_bar

# Trainer arguments the command sets itself (not through --config/--set)
_FIXED_TRAINER_ARGS = ("self", "model", "task", "progress", "checkpoint_dir", "device", "random_state")


class TrainTask(str, Enum):
    node_classification = "node-classification"
    link_prediction = "link-prediction"
    unsupervised = "unsupervised"


def _split_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(model params, trainer params)``: keys of the Trainer's constructor go to the trainer."""
    from vastgraph.train.trainer import Trainer

    trainer_keys = set(inspect.signature(Trainer.__init__).parameters) - set(_FIXED_TRAINER_ARGS)
    return ({k: v for k, v in params.items() if k not in trainer_keys},
            {k: v for k, v in params.items() if k in trainer_keys})


def _node_split(labels: Any, ratio: float, seed: int) -> tuple[Any, Any, Any]:
    import numpy as np

    from vastgraph.errors import ValidationError

    labelled = np.arange(labels.shape[0]) if labels.ndim == 2 else np.flatnonzero(labels >= 0)
    perm = np.random.default_rng(seed).permutation(labelled)
    n_tr = int(round(ratio * perm.size))
    n_va = max(1, int(round(0.1 * n_tr)))
    if n_tr - n_va < 1 or n_tr >= perm.size:
        raise ValidationError(f"--train-ratio {ratio}: {perm.size} labelled nodes give {n_tr} for training "
                              "(10% of them for validation) and the rest for testing; each part needs a node")
    return perm[n_va:n_tr], perm[:n_va], perm[n_tr:]


@handle_errors
def train(
    model: str = typer.Argument(..., help="gcn | sage | gat | gin | gralsp | graphstone | hgcn"),
    store: Path = typer.Argument(..., help="Store folder."),
    task: TrainTask = typer.Option(TrainTask.node_classification, help="node-classification | link-prediction | unsupervised (the model's own loss, then embeddings out)."),
    config: Optional[Path] = typer.Option(None, help="YAML file of model and trainer parameters."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Parameter override key=value (repeatable), e.g. --set hidden=128 --set lr=0.005."),
    epochs: Optional[int] = typer.Option(None, help="Maximum epochs (shortcut for --set epochs=N)."),
    seed: int = typer.Option(0, help="random_state of the split, the model and the trainer."),
    train_ratio: float = typer.Option(0.3, help="Node classification: fraction of labelled nodes for training (10% of them validate)."),
    out: Optional[Path] = typer.Option(None, help="Output folder: model.pt, metrics.json, embeddings/ (KeyedEmbeddings), checkpoints/."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/checkpoints/last.pt."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the results in an existing output folder."),
    device: str = typer.Option("cpu", help="torch device (cpu, cuda)."),
    as_json: bool = typer.Option(False, "--json", help="Print metrics as JSON."),
) -> None:
    """Train a GNN on a store (node classification or link prediction) and report test metrics."""
    import numpy as np

    from vastgraph.config import load_yaml_config, parse_assignments, validate_params
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
    from vastgraph.errors import StoreExistsError, ValidationError
    from vastgraph.graph import open_graph
    from vastgraph.nn.registry import get_model
    from vastgraph.report import write_json
    from vastgraph.train.models import create_model, model_params
    from vastgraph.train.trainer import Trainer

    cls = get_model(model)
    params: dict[str, Any] = {}
    if config is not None:
        params.update(load_yaml_config(config))
    params.update(parse_assignments(set_))
    if epochs is not None:
        params["epochs"] = epochs
    mparams, tparams = _split_params(params)
    if not 0.0 < train_ratio < 1.0:
        raise ValidationError(f"--train-ratio {train_ratio}: expected a number in (0, 1)")
    if resume and out is None:
        raise ValidationError("--resume needs --out (the folder holding checkpoints/last.pt)")
    if out is not None and (out / "model.pt").exists() and not (resume or overwrite):
        raise StoreExistsError(f"{out} already holds a trained model; pass --resume to continue or --overwrite")
    graph = open_graph(store)
    split = None
    if task is TrainTask.link_prediction:
        from vastgraph.train.link_prediction import split_edges

        with progress_bar("holding out 10% test + 5% validation edges"):
            split = split_edges(graph, mparams.get("etype"), test_fraction=0.1, valid_fraction=0.05,
                                random_state=seed)
        graph = split.train_graph
    if "random_state" in model_params(model):
        mparams.setdefault("random_state", seed)
    net = create_model(model, graph, **mparams)
    tparams = validate_params(Trainer, {"model": net, **tparams}, where="parameters (--config/--set)")
    tparams.pop("model")
    total = int(tparams.get("epochs", inspect.signature(Trainer.__init__).parameters["epochs"].default))
    t0 = time.perf_counter()
    with progress_bar(f"training {model}", total=total) as update:
        def report(epoch: int, loss: float, valid: float | None) -> None:
            extra = "" if valid is None else f" valid {valid:.4f}"
            update(epoch, description=f"training {model} loss {loss:.4f}{extra}")

        trainer = Trainer(net, task.value, random_state=seed, device=device, progress=report,
                          checkpoint_dir=None if out is None else out / "checkpoints", **tparams)
        if task is TrainTask.unsupervised:
            trainer.fit(graph, resume=resume)
            metrics = {"final_loss": trainer.history_[-1]["loss"] if trainer.history_ else None}
        elif split is None:
            nt = getattr(net, "ntype", None) or net.config().get("ntype") or graph.node_type()
            labels = graph.labels(nt)
            if labels is None:
                raise ValidationError(f"node type {nt!r} has no labels; node classification needs them "
                                      "(or use --task link-prediction)")
            tr_idx, va_idx, te_idx = _node_split(np.asarray(labels), train_ratio, seed)
            trainer.fit(graph, train_idx=tr_idx, valid_idx=va_idx, resume=resume)
            metrics = trainer.evaluate(te_idx)
        else:
            trainer.fit(split=split, resume=resume)
            metrics = trainer.evaluate()
    elapsed = time.perf_counter() - t0
    summary = {"model": model, "task": task.value, **metrics, "best_epoch": trainer.best_epoch_,
               "epochs_run": len(trainer.history_), "seconds": round(elapsed, 3)}
    if out is not None:
        trainer.save(out / "model.pt")
        write_json(out / "metrics.json", {**summary, "history": trainer.history_,
                                          "model_config": net.config(), "seed": seed})
        vectors = trainer.embed()
        meta = {"method": model, "task": task.value, "seed": seed}
        if vectors.shape[0] == graph.num_nodes_total():
            keyed = KeyedEmbeddings.from_graph(graph, vectors, meta)
        else:
            nt = getattr(net, "ntype", None) or net.config().get("ntype")
            keyed = KeyedEmbeddings(vectors, [nt], [0, vectors.shape[0]], {nt: graph.id_index(nt)}, meta)
        keyed.save(out / "embeddings", overwrite=True)
    rows = [{k: v for k, v in summary.items()}]
    if as_json:
        print_json(rows[0])
    else:
        print_table(f"{model} ({task.value}), test metrics", rows)
        if out is not None:
            console.print(f"[green]wrote[/] {out}: model.pt, metrics.json, embeddings/")
