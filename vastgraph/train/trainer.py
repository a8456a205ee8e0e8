"""One trainer for every node model: mini-batches, task heads, early stopping, checkpoints, seeds.

The trainer drives any :class:`~vastgraph.nn.base.NodeModel` (PyG baselines, GraLSP, GraphSTONE,
HGCN) on the same loaders and splits, so model comparisons are like for like.

Tasks are strategies (:mod:`vastgraph.train.tasks`): node classification (single- or
multi-label), link prediction, each with its head, loss, default loader and metrics, and
``"unsupervised"`` (the model's own unsupervised loss over every node, stopped on the plateau of
the training loss; :meth:`Trainer.embed` gives the embeddings).

Optionally ``unsupervised_weight · model.unsupervised_loss(batch)`` is added to each batch loss
(e.g. GraLSP's skip-gram + walk-type objective); the loader then also samples its draws. Adam with
weight decay optimises model and head.

Loop. The trainer iterates a loader (:mod:`vastgraph.train.loaders`): the one passed as
``Trainer(..., loader=...)``, or the task's default, built by ``fit`` from the graph with
:func:`vastgraph.train.samplers.sampler_for`. Each epoch calls ``loader.set_epoch(epoch)``; the
loader shuffles with a seed of ``(seed, epoch)`` and samples batch ``b`` with a seed of
``(seed, epoch, b)``. After each epoch the validation set is evaluated (model in eval mode) and the
best validation metric tracked; after ``patience`` epochs without improvement training stops, and
the best weights are restored at the end. Every run is therefore a function of ``random_state``
alone (on one device). Models take tensors only: the trainer never samples.

Checkpoints (:mod:`vastgraph.train.checkpoint`). With ``checkpoint_dir``, ``last.pt`` is written
after every epoch (model, head and optimiser state, epoch, seed, early-stopping state with the best
weights, history and configurations) to a temporary file renamed into place, so a crash never
leaves half a file. ``fit(..., resume=True)`` continues from it and ends with exactly the result of
an uninterrupted run. :meth:`Trainer.save` / :meth:`Trainer.load` store and rebuild a trained model;
the model is rebuilt through the model registry by its registered name and config, never by
importing a module the file names.

Example:
    >>> import numpy as np
    >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
    >>> from vastgraph.train.models import create_model
    >>> graph = power_law_sbm(60, 2, avg_degree=6, random_state=0).graph
    >>> model = create_model("sage", graph, hidden=16, out_dim=16, random_state=0)
    >>> trainer = Trainer(model, "node-classification", epochs=3, random_state=0)
    >>> order = np.random.default_rng(0).permutation(60)
    >>> trainer = trainer.fit(graph, train_idx=order[:30], valid_idx=order[30:40])
    >>> 0.0 <= trainer.evaluate(order[40:])["micro_f1"] <= 1.0
    True
    >>> trainer.embed().shape
    (60, 16)
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from vastgraph.errors import NotFittedError, ValidationError
from vastgraph.nn.base import NodeModel
from vastgraph.seeding import derive_int, seed_from
from vastgraph.train.checkpoint import (CHECKPOINT_NAME, check_fields, read_checkpoint, registry_name,
                                        write_checkpoint)
from vastgraph.train.link_head import resolve_head_kind
from vastgraph.train.tasks import TASKS, Task, make_task

__all__ = ["CHECKPOINT_NAME", "TASKS", "Trainer"]
EpochProgress = Callable[[int, float, "float | None"], Any]


class Trainer:
    """Train a node model for node classification or link prediction (see the module docstring).

    Args:
        model: a :class:`~vastgraph.nn.base.NodeModel`.
        task: ``"node-classification"`` | ``"link-prediction"`` | ``"unsupervised"`` (or a
            :class:`~vastgraph.train.tasks.Task`).
            Default ``"node-classification"``.
        epochs: maximum epochs, >= 1. Default 200.
        batch_size: training items (nodes or positive edges) per batch, >= 1. Default 512.
        lr: Adam learning rate, > 0. Default 0.01.
        weight_decay: Adam weight decay, >= 0. Default 5e-4.
        patience: epochs without validation improvement before stopping (None: never stop early).
            Default 20.
        unsupervised_weight: weight of ``model.unsupervised_loss`` in each batch loss, >= 0. Default 0.
        link_head: ``"auto"`` | ``"dot"`` | ``"hadamard"`` | ``"distance"`` (link prediction). Default ``"auto"``.
        num_negatives: corrupted edges per positive (link prediction), >= 1. Default 1.
        eval_batch_size: nodes per forward call in evaluation and :meth:`embed`. Default 4096.
        device: torch device for model and tensors (``"cpu"``, ``"cuda"``). Default ``"cpu"``.
        random_state: None, an int or a ``numpy.random.Generator``. Default None.
        progress: ``progress(epochs_done, train_loss, valid_metric_or_None)`` after every epoch. Default None.
        checkpoint_dir: folder for ``last.pt`` (written after each epoch). Default None.
        loader: the training loader to iterate (``set_epoch`` + iteration, a ``sampler`` attribute for
            evaluation, see :mod:`vastgraph.train.loaders`); None: the task's default, built by ``fit``.

    Attributes (after fit):
        history_: one dict per epoch: ``epoch``, ``loss``, ``valid`` (metric or None), ``time`` (s).
        best_epoch_, best_metric_: epoch and value of the best validation metric (None without validation).
        head_: the task head; task_: the task strategy; sampler_: the sampler used for inference.
    """

    def __init__(self, model: NodeModel, task: str = "node-classification", *, epochs: int = 200,
                 batch_size: int = 512, lr: float = 0.01, weight_decay: float = 5e-4, patience: int | None = 20,
                 unsupervised_weight: float = 0.0, link_head: str = "auto", num_negatives: int = 1,
                 eval_batch_size: int = 4096, device: str = "cpu", random_state: Any = None,
                 progress: EpochProgress | None = None, checkpoint_dir: str | os.PathLike | None = None,
                 loader: Any = None) -> None:
        from vastgraph.validation import check_float, check_int, check_progress

        if not isinstance(model, NodeModel):
            raise ValidationError(f"model: {type(model).__name__} is not a vastgraph.nn.base.NodeModel; wrap it "
                                  "in a NodeModel subclass (forward(batch) -> (len(batch), out_dim))")
        self.task_: Task = make_task(task)
        self.model = model
        self.task = self.task_.name
        self.epochs = check_int("epochs", epochs, 1)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.lr = check_float("lr", lr)
        self.weight_decay = check_float("weight_decay", weight_decay, low_open=False)
        self.patience = None if patience is None else check_int("patience", patience, 1)
        self.unsupervised_weight = check_float("unsupervised_weight", unsupervised_weight, low_open=False)
        self.link_head = resolve_head_kind(link_head, model)
        self.num_negatives = check_int("num_negatives", num_negatives, 1)
        self.eval_batch_size = check_int("eval_batch_size", eval_batch_size, 1)
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError):
            raise ValidationError(f"device={device!r}: expected a torch device such as 'cpu' or 'cuda'") from None
        self.random_state = random_state
        self.progress = check_progress(progress)
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        if loader is not None and not (hasattr(loader, "__iter__") and hasattr(loader, "sampler")):
            raise ValidationError(f"loader: {type(loader).__name__} is not a training loader (an iterable of "
                                  "batches with a sampler attribute, see vastgraph.train.loaders)")
        self.loader = loader
        if not isinstance(getattr(model, "out_dim", None), int):
            raise ValidationError(f"model: {type(model).__name__} has no integer out_dim")
        self.head_: torch.nn.Module | None = None
        self.history_: list[dict[str, Any]] = []
        self.best_epoch_: int | None = None
        self.best_metric_: float | None = None
        self.graph_: Any = None
        self.sampler_: Any = None
        self._seed: int | None = None

    @property
    def split_(self) -> Any:
        return getattr(self.task_, "split", None)

    # ------------------------------------------------------------------ fit
    def fit(self, graph: Any = None, *, train_idx: Any = None, valid_idx: Any = None, labels: Any = None,
            split: Any = None, resume: bool = False) -> "Trainer":
        """Train the model; returns self.

        Node classification: ``fit(graph, train_idx=..., valid_idx=..., labels=...)`` — dense ids (or
        boolean masks) of the model's node type; ``labels`` defaults to ``graph.labels(ntype)``.
        Link prediction: ``fit(split=EdgeSplit)`` (``graph``, if given, must be ``split.train_graph``;
        the model must be built on it). ``resume=True`` continues from ``checkpoint_dir/last.pt``
        when it exists.

        Raises:
            ValidationError: bad labels (wrong length, NaN, unlabelled training nodes), ids out of range,
                a model built on another graph, or a checkpoint written for other data.
            EmptyInputError: no training nodes or edges.
        """
        from vastgraph.train.samplers import sampler_for

        self._seed = int(seed_from(self.random_state) % np.uint64(2**63))
        target = split.train_graph if graph is None and split is not None and hasattr(split, "train_graph") else graph
        self.sampler_ = self.loader.sampler if self.loader is not None else (
            sampler_for(self.model, target) if target is not None else None)
        self.graph_ = self.task_.setup(self, graph, train_idx=train_idx, valid_idx=valid_idx, labels=labels,
                                       split=split)
        if self.sampler_ is None:
            self.sampler_ = sampler_for(self.model, self.graph_)
        self.head_ = self.task_.head
        self.model.to(self.device)
        self.head_.to(self.device)
        params = list(self.model.parameters()) + list(self.head_.parameters())
        self.optimizer_ = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        self.history_, self.best_epoch_, self.best_metric_ = [], None, None
        self._best_state: dict[str, Any] | None = None
        self._bad, self._stopped, self.epoch_ = 0, False, -1
        if resume:
            if self.checkpoint_dir is None:
                raise ValidationError("resume=True needs checkpoint_dir (where last.pt was written)")
            path = self.checkpoint_dir / CHECKPOINT_NAME
            if path.exists():
                self._restore(read_checkpoint(path))
        loader = self.loader if self.loader is not None else self.task_.loader(self, self.sampler_)
        for epoch in range(self.epoch_ + 1, self.epochs):
            if self._stopped:
                break
            self._run_epoch(epoch, loader)
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state["model"])
            self.head_.load_state_dict(self._best_state["head"])
        self.model.eval()
        self.head_.eval()
        return self

    # ------------------------------------------------------------------ epochs
    def _run_epoch(self, epoch: int, loader: Any) -> None:
        t0 = time.perf_counter()
        self.model.train()
        self.head_.train()
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(epoch)
        total, count = 0.0, 0
        for batch in loader:
            loss = self.task_.loss(self, batch)
            if self.unsupervised_weight > 0 and not self.task_.owns_unsupervised_loss:
                extra = self.model.unsupervised_loss(batch.input.to(self.device))
                if extra is not None:
                    loss = loss + self.unsupervised_weight * extra
            self.optimizer_.zero_grad()
            loss.backward()
            self.optimizer_.step()
            total += float(loss.detach()) * len(batch)
            count += len(batch)
        train_loss = total / max(count, 1)
        self.epoch_loss_ = train_loss
        metric = self.task_.validate(self, derive_int(self._seed, epoch, 0xA11D)) if self.task_.has_validation() \
            else None
        if metric is not None:
            if self.task_.improved(metric, self.best_metric_):
                self.best_metric_, self.best_epoch_, self._bad = metric, epoch, 0
                self._best_state = {"model": _clone(self.model.state_dict()), "head": _clone(self.head_.state_dict())}
            else:
                self._bad += 1
        self._stopped = self.patience is not None and metric is not None and self._bad >= self.patience
        self.epoch_ = epoch
        self.history_.append({"epoch": epoch, "loss": train_loss, "valid": metric,
                              "time": time.perf_counter() - t0})
        if self.checkpoint_dir is not None:
            write_checkpoint(self.checkpoint_dir / CHECKPOINT_NAME, self._state())
        if self.progress is not None:
            self.progress(epoch + 1, train_loss, metric)

    # ------------------------------------------------------------------ inference
    def num_ids(self) -> int:
        """Ids of the model's id space (nodes of its type, or all nodes for global ids)."""
        return int(self.sampler_.num_nodes)

    def check_ids(self, nodes: Any) -> np.ndarray:
        """``nodes`` as int64 ids in range (None: every id, in order)."""
        n = self.num_ids()
        if nodes is None:
            return np.arange(n, dtype=np.int64)
        arr = np.asarray(nodes)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise ValidationError(f"nodes: {arr.dtype}{arr.shape}; expected a 1-D array of node ids")
        arr = arr.astype(np.int64)
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise ValidationError(f"nodes: ids in [{arr.min()}, {arr.max()}]; expected ids in [0, {n})")
        return arr

    @torch.no_grad()
    def forward_ids(self, ids: np.ndarray, seed: int) -> torch.Tensor:
        """Eval-mode model outputs of ``ids``, in chunks of ``eval_batch_size`` sampled with seeds ``(seed, chunk)``."""
        self.model.eval()
        outs = [self.model(self.sampler_.sample(ids[lo:lo + self.eval_batch_size], derive_int(seed, c))
                           .to(self.device))
                for c, lo in enumerate(range(0, ids.size, self.eval_batch_size))]
        return torch.cat(outs) if outs else torch.zeros((0, self.model.out_dim), device=self.device)

    def _check_fitted(self) -> None:
        if self.head_ is None:
            raise NotFittedError("Trainer: call fit() (or Trainer.load) first")

    def embed(self, nodes: Any = None) -> np.ndarray:
        """Eval-mode representations, float32 ``(len(nodes), out_dim)`` (None: every node, in id order)."""
        self._check_fitted()
        return self.forward_ids(self.check_ids(nodes), derive_int(self._seed, 0xE1BED)).float().cpu().numpy()

    def predict(self, nodes: Any) -> np.ndarray:
        """Node classification: class ids ``(n,)`` (multi-label: 0/1 ``(n, C)``) of ``nodes``.
        Link prediction: edge probabilities ``(k,)`` of dense ``(k, 2)`` pairs of the split edge type."""
        self._check_fitted()
        return self.task_.predict(self, nodes, derive_int(self._seed, 0x9ED))

    def evaluate(self, nodes: Any = None, labels: Any = None, *, pos_pairs: Any = None,
                 neg_pairs: Any = None) -> dict[str, float]:
        """Test metrics: ``{"micro_f1", "macro_f1"}`` of ``nodes`` (labels default to the fitted ones), or
        ``{"auc", "ap"}`` of positive/negative pairs (default: the split's test pairs)."""
        self._check_fitted()
        return self.task_.evaluate(self, derive_int(self._seed, 0x7E57), nodes, labels, pos_pairs=pos_pairs,
                                   neg_pairs=neg_pairs)

    # ------------------------------------------------------------------ checkpoints
    def _trainer_config(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                "weight_decay": self.weight_decay, "patience": self.patience,
                "unsupervised_weight": self.unsupervised_weight, "link_head": self.link_head,
                "num_negatives": self.num_negatives, "eval_batch_size": self.eval_batch_size,
                "random_state": self._seed}

    def _state(self) -> dict[str, Any]:
        from vastgraph.nn.registry import model_name
        from vastgraph.train.checkpoint import FORMAT, VERSION

        best = None if self._best_state is None else dict(self._best_state)
        return {"format": FORMAT, "version": VERSION, "task": self.task, "model": model_name(self.model),
                "model_config": self.model.config(), "trainer_config": self._trainer_config(),
                "info": self.task_.info(), "model_state": self.model.state_dict(),
                "head_state": self.head_.state_dict(), "optimizer_state": self.optimizer_.state_dict(),
                "epoch": self.epoch_, "stopped": self._stopped, "rng": {"seed": self._seed},
                "history": list(self.history_),
                "early_stopping": {"best_metric": self.best_metric_, "best_epoch": self.best_epoch_,
                                   "bad_epochs": self._bad, "best_state": best}}

    def save(self, path: str | os.PathLike) -> str:
        """Write a checkpoint (model, head, optimiser, epoch, seed, history, configs) atomically; returns the path."""
        self._check_fitted()
        return write_checkpoint(Path(path), self._state())

    def _restore(self, ckpt: dict[str, Any]) -> None:
        from vastgraph.nn.registry import model_name

        check_fields(ckpt, "last.pt")
        name = model_name(self.model)
        mine = {k: v for k, v in self.model.config().items() if k != "random_state"}
        theirs = {k: v for k, v in ckpt["model_config"].items() if k != "random_state"}
        if ckpt["model"] != name or json.dumps(mine, sort_keys=True, default=str) != \
                json.dumps(theirs, sort_keys=True, default=str):
            raise ValidationError(f"checkpoint: written for {ckpt['model']} {theirs}; this trainer has "
                                  f"{name} {mine}")
        if ckpt["task"] != self.task or ckpt["info"].get("fingerprint") != self.task_.info().get("fingerprint"):
            raise ValidationError("checkpoint: written for another task or other training data (labels, "
                                  "train/valid ids or edges differ); remove it or train without resume")
        try:
            self.model.load_state_dict(ckpt["model_state"])
            self.head_.load_state_dict(ckpt["head_state"])
        except RuntimeError as exc:
            raise ValidationError(f"checkpoint: weights do not fit this model ({exc})") from None
        if "optimizer_state" in ckpt:
            self.optimizer_.load_state_dict(ckpt["optimizer_state"])
        self._seed = int(ckpt["rng"]["seed"])
        self.epoch_ = int(ckpt["epoch"])
        self._stopped = bool(ckpt["stopped"])
        self.history_ = list(ckpt["history"])
        es = ckpt["early_stopping"]
        self.best_metric_, self.best_epoch_, self._bad = es["best_metric"], es["best_epoch"], int(es["bad_epochs"])
        self._best_state = es["best_state"]

    @classmethod
    def load(cls, path: str | os.PathLike, graph: Any, *, device: str = "cpu") -> "Trainer":
        """Rebuild a trainer and its model from a checkpoint written by :meth:`save` (or ``last.pt``).

        ``graph`` must be the graph the model was trained on (for link prediction, the training graph).
        The model is rebuilt through the registry (its registered name and config); a checkpoint naming
        anything else is refused before any import. The result predicts, embeds and evaluates; ``fit``
        would train anew.

        Raises:
            StoreError: no such file.
            CorruptStoreError: unreadable, not a trainer checkpoint, or a model name not in the registry.
            ValidationError: weights that do not fit the model built on ``graph``.

        Example:
            >>> trainer = Trainer.load("out/model.pt", graph)  # doctest: +SKIP
            >>> trainer.embed().shape  # doctest: +SKIP
        """
        from vastgraph.train.models import create_model
        from vastgraph.train.samplers import sampler_for

        ckpt = read_checkpoint(Path(path))
        name = registry_name(ckpt, path)
        check_fields(ckpt, path)
        model = create_model(name, graph, **ckpt["model_config"])
        tr = cls(model, ckpt["task"], device=device, **ckpt["trainer_config"])
        tr.graph_ = graph
        tr._seed = int(ckpt["rng"]["seed"])
        tr.sampler_ = sampler_for(model, graph)
        tr.task_.restore(tr, graph, dict(ckpt["info"]))
        tr.head_ = tr.task_.head
        try:
            model.load_state_dict(ckpt["model_state"])
            tr.head_.load_state_dict(ckpt["head_state"])
        except RuntimeError as exc:
            raise ValidationError(f"checkpoint {path}: weights do not fit the model built on this graph ({exc})") from None
        model.to(tr.device).eval()
        tr.head_.to(tr.device).eval()
        tr.history_ = list(ckpt["history"])
        tr.epoch_ = int(ckpt["epoch"])
        es = ckpt["early_stopping"]
        tr.best_metric_, tr.best_epoch_ = es["best_metric"], es["best_epoch"]
        return tr


def _clone(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in state.items()}
