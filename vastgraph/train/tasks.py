"""The trainer's task strategies: what a task checks, its head, loss, loader, validation and metrics.

One small class per task, so the trainer's loop holds no ``if task == ...``:

* :class:`NodeClassification` (``"node-classification"``): a linear head ``z = W h_v + b``; loss
  cross-entropy ``−log softmax(z)_{y_v}`` (single-label) or binary cross-entropy per class on
  ``σ(z)`` (multi-label, a 0/1 label matrix). Metric: Micro-F1 (= accuracy for single labels;
  multi-label prediction ``z > 0``), with Macro-F1 in :meth:`evaluate`.
* :class:`LinkPrediction` (``"link-prediction"``): positives are the edges of ``split.train_graph``
  (each undirected edge once, no self-loops), each with ``num_negatives`` corrupted negatives; a
  :class:`~vastgraph.train.link_head.LinkHead` scores pairs and the loss is binary cross-entropy.
  Metric: ROC-AUC on the split's validation pairs; :meth:`evaluate` gives AUC and AP.
* :class:`Unsupervised` (``"unsupervised"``): the model's own ``unsupervised_loss`` over every node
  (GraLSP: skip-gram proximity + walk-type + role terms; GraphSTONE: skip-gram + role term), no
  head; the embeddings are the product. Training stops on the plateau of the training loss: the
  epoch's loss must fall by more than ``min_delta`` (relative, default 1%) below the best so far
  within ``patience`` epochs; the weights of the lowest-loss epoch are kept.

A task is set up by :meth:`Task.setup` with the fit arguments, builds the default loader over its
training items, and restores its state (labels, edge type, head) from a checkpoint's ``info``.

Example:
    >>> sorted(TASKS)
    ['link-prediction', 'node-classification', 'unsupervised']
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import torch

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.seeding import derive_int
from vastgraph.train.link_head import LinkHead
from vastgraph.train.loaders import LinkLoader, NodeLoader, pair_ids
from vastgraph.train.metrics import average_precision, f1_scores, roc_auc

__all__ = ["LinkPrediction", "NodeClassification", "TASKS", "Task", "Unsupervised", "make_task"]


def fingerprint(*arrays: np.ndarray) -> str:
    """A short digest of the training data (a checkpoint resumes only on the same data)."""
    h = hashlib.blake2b(digest_size=12)
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
        h.update(str(a.shape).encode())
    return h.hexdigest()


def check_labels(labels: Any, n: int) -> np.ndarray:
    """Labels as int64 ``(n,)`` class ids (-1 = unknown) or a ``(n, C)`` 0/1 matrix."""
    y = np.asarray(labels)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValidationError(f"labels: shape {y.shape}; expected ({n},) class ids or ({n}, C) 0/1 "
                              "(one row per node)")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise ValidationError(f"labels: {int((~np.isfinite(y)).sum())} NaN/inf values; expected class "
                                  "ids (-1 = unknown) or a 0/1 matrix")
        if not np.array_equal(y, np.round(y)):
            raise ValidationError("labels: non-integer values; expected class ids or a 0/1 matrix")
    elif y.dtype.kind not in "iub":
        raise ValidationError(f"labels: dtype {y.dtype}; expected integers")
    y = y.astype(np.int64)
    if y.ndim == 2 and not np.isin(y, (0, 1)).all():
        raise ValidationError("labels: a 2-D (multi-label) matrix must hold 0/1")
    if y.ndim == 1 and y.size and y.min() < -1:
        raise ValidationError(f"labels: value {int(y.min())}; expected class ids >= 0 (-1 = unknown)")
    return y


def check_idx(idx: Any, name: str, n: int, y: np.ndarray, required: bool) -> np.ndarray | None:
    """Node ids (or an ``(n,)`` boolean mask) as int64, in range and labelled."""
    if idx is None:
        if required:
            raise ValidationError(f"{name}: required for node classification (dense ids of the training nodes)")
        return None
    arr = np.asarray(idx)
    if arr.dtype == bool and arr.shape == (n,):
        arr = np.flatnonzero(arr)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ValidationError(f"{name}: {arr.dtype}{arr.shape}; expected a 1-D array of node ids or a ({n},) mask")
    arr = arr.astype(np.int64)
    if arr.size == 0:
        if required:
            raise EmptyInputError(f"{name}: empty; expected at least one training node")
        return None
    if arr.min() < 0 or arr.max() >= n:
        raise ValidationError(f"{name}: ids in [{arr.min()}, {arr.max()}]; expected ids in [0, {n})")
    if y.ndim == 1 and (y[arr] < 0).any():
        bad = arr[y[arr] < 0]
        raise ValidationError(f"{name}: {bad.size} node(s) without a label (-1), e.g. node {int(bad[0])}")
    return arr


class Task:
    """Base of the task strategies (see the module docstring)."""

    name = ""
    head: torch.nn.Module
    #: the task loss is the model's unsupervised loss (the trainer adds no second copy of it)
    owns_unsupervised_loss = False

    def improved(self, metric: float, best: float | None) -> bool:
        """Whether an epoch's validation ``metric`` improves on ``best`` (early stopping)."""
        return best is None or metric > best

    def setup(self, trainer: Any, graph: Any, *, train_idx: Any = None, valid_idx: Any = None, labels: Any = None,
              split: Any = None) -> Any:
        """Check the fit arguments, keep the training data, build the head; returns the training graph."""
        raise NotImplementedError

    def loader(self, trainer: Any, sampler: Any) -> Any:
        """The default training loader over this task's items."""
        raise NotImplementedError

    def loss(self, trainer: Any, batch: Any) -> torch.Tensor:
        """The task loss of one training batch."""
        raise NotImplementedError

    def has_validation(self) -> bool:
        raise NotImplementedError

    def validate(self, trainer: Any, seed: int) -> float:
        raise NotImplementedError

    def info(self) -> dict[str, Any]:
        """JSON-able state for checkpoints (``fingerprint`` included)."""
        raise NotImplementedError

    def restore(self, trainer: Any, graph: Any, info: dict[str, Any]) -> None:
        """Rebuild the task's state and head from a checkpoint's ``info`` on ``graph``."""
        raise NotImplementedError


# ----------------------------------------------------------------------------------- node classification
class NodeClassification(Task):
    """Single- or multi-label node classification (see the module docstring)."""

    name = "node-classification"

    def _labels(self, trainer: Any, y: np.ndarray) -> None:
        self.multilabel = y.ndim == 2
        self.y = torch.from_numpy(y.astype(np.float32) if self.multilabel else y).to(trainer.device)

    def _head(self, trainer: Any, n_classes: int) -> None:
        d = trainer.model.out_dim
        self.head = torch.nn.Linear(d, n_classes)
        gen = torch.Generator().manual_seed(derive_int(trainer._seed, 0xEAD))
        bound = float(np.sqrt(6.0 / (d + n_classes)))
        with torch.no_grad():
            self.head.weight.copy_(torch.rand(self.head.weight.shape, generator=gen) * 2 * bound - bound)
            self.head.bias.zero_()

    def setup(self, trainer: Any, graph: Any, *, train_idx: Any = None, valid_idx: Any = None, labels: Any = None,
              split: Any = None) -> Any:
        if graph is None:
            raise ValidationError("graph: required for node classification")
        self.ntype = trainer.sampler_.ntype
        if self.ntype is None:
            raise ValidationError("node classification: the model has no ntype and the graph has node types "
                                  f"{', '.join(graph.node_types)}; build the model with ntype=...")
        n = int(graph.num_nodes(self.ntype))
        if labels is None:
            labels = graph.labels(self.ntype)
            if labels is None:
                raise ValidationError(f"labels: node type {self.ntype!r} has no labels; pass labels=...")
        y = check_labels(labels, n)
        self.train = check_idx(train_idx, "train_idx", n, y, True)
        self.valid = check_idx(valid_idx, "valid_idx", n, y, False)
        self._labels(trainer, y)
        self.num_classes = int(y.shape[1]) if self.multilabel else int(y.max(initial=0)) + 1
        self.fingerprint = fingerprint(self.train, np.zeros(0) if self.valid is None else self.valid, y)
        self._head(trainer, self.num_classes)
        return graph

    def loader(self, trainer: Any, sampler: Any) -> NodeLoader:
        return NodeLoader(sampler, self.train, batch_size=trainer.batch_size, random_state=trainer._seed,
                          unsupervised=trainer.unsupervised_weight > 0)

    def _loss_fn(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.multilabel:
            return torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
        return torch.nn.functional.cross_entropy(logits, target)

    def loss(self, trainer: Any, batch: Any) -> torch.Tensor:
        logits = self.head(trainer.model(batch.input.to(trainer.device)))
        return self._loss_fn(logits, self.y[torch.from_numpy(batch.nodes).to(trainer.device)])

    def has_validation(self) -> bool:
        return self.valid is not None

    def predict_ids(self, trainer: Any, ids: np.ndarray, seed: int) -> np.ndarray:
        self.head.eval()
        with torch.no_grad():
            logits = self.head(trainer.forward_ids(ids, seed)).cpu().numpy()
        return (logits > 0).astype(np.int64) if self.multilabel else logits.argmax(1)

    def f1(self, trainer: Any, ids: np.ndarray, y: np.ndarray, seed: int) -> tuple[float, float]:
        return f1_scores(y.astype(np.int64), self.predict_ids(trainer, ids, seed))

    def labels_of(self, ids: np.ndarray) -> np.ndarray:
        return self.y[torch.from_numpy(ids).to(self.y.device)].cpu().numpy()

    def validate(self, trainer: Any, seed: int) -> float:
        return self.f1(trainer, self.valid, self.labels_of(self.valid), seed)[0]

    def predict(self, trainer: Any, nodes: Any, seed: int) -> np.ndarray:
        return self.predict_ids(trainer, trainer.check_ids(nodes), seed)

    def evaluate(self, trainer: Any, seed: int, nodes: Any = None, labels: Any = None, **_: Any) -> dict[str, float]:
        ids = trainer.check_ids(nodes)
        if ids.size == 0:
            raise EmptyInputError("evaluate: nodes is empty")
        y = self.labels_of(ids) if labels is None else check_labels(labels, trainer.num_ids())[ids]
        if y.ndim == 1 and (y < 0).any():
            raise ValidationError(f"evaluate: {int((y < 0).sum())} node(s) without a label (-1)")
        micro, macro = self.f1(trainer, ids, y, seed)
        return {"micro_f1": micro, "macro_f1": macro}

    def info(self) -> dict[str, Any]:
        return {"multilabel": self.multilabel, "num_classes": self.num_classes, "ntype": self.ntype,
                "fingerprint": self.fingerprint}

    def restore(self, trainer: Any, graph: Any, info: dict[str, Any]) -> None:
        self.ntype = info["ntype"]
        self.num_classes = int(info["num_classes"])
        self.fingerprint = info.get("fingerprint")
        n = graph.num_nodes(self.ntype)
        labels = graph.labels(self.ntype)
        if bool(info["multilabel"]):
            y = np.zeros((n, self.num_classes), np.int64) if labels is None else check_labels(labels, n)
        else:
            y = np.zeros(n, np.int64) if labels is None else check_labels(labels, n)
        self._labels(trainer, y)
        self.multilabel = bool(info["multilabel"])
        self.train = self.valid = None
        self.head = torch.nn.Linear(trainer.model.out_dim, self.num_classes)


# ----------------------------------------------------------------------------------- link prediction
class LinkPrediction(Task):
    """Link prediction on an :class:`~vastgraph.train.link_prediction.EdgeSplit` (see the module docstring)."""

    name = "link-prediction"
    split: Any = None

    def setup(self, trainer: Any, graph: Any, *, train_idx: Any = None, valid_idx: Any = None, labels: Any = None,
              split: Any = None) -> Any:
        from vastgraph.train.link_prediction import EdgeSplit
        from vastgraph.train.samplers import built_on

        if not isinstance(split, EdgeSplit):
            raise ValidationError(f"split: {type(split).__name__}; link prediction needs an EdgeSplit "
                                  "(vastgraph.train.link_prediction.split_edges)")
        tg = split.train_graph
        if graph is not None and graph is not tg:
            raise ValidationError("graph: for link prediction pass split.train_graph (or nothing); training on "
                                  "another graph would show the held-out edges")
        origin = built_on(trainer.model)
        if origin is not None and origin is not tg:
            raise ValidationError("model: built on a different graph than split.train_graph; build it on "
                                  "split.train_graph so the held-out edges stay hidden")
        self.split = split
        self.etype = et = tg.edge_type(split.etype)
        edges = tg.coo(et)
        src, dst = edges.src.astype(np.int64), edges.dst.astype(np.int64)
        keep = src != dst if et.src == et.dst else np.ones(src.size, dtype=bool)
        if tg.is_undirected(et) and et.src == et.dst:
            keep &= src < dst
        self.train = np.stack([src[keep], dst[keep]], axis=1)
        if self.train.shape[0] == 0:
            raise EmptyInputError(f"link prediction: edge type {et} of split.train_graph has no training edges")
        vp, vn = np.asarray(split.valid_pos, np.int64), np.asarray(split.valid_neg, np.int64)
        self.fingerprint = fingerprint(self.train, vp, vn)
        self.valid = (vp, vn) if vp.shape[0] and vn.shape[0] else None
        self.head = LinkHead(trainer.model.out_dim, trainer.link_head, model=trainer.model,
                             random_state=derive_int(trainer._seed, 0xEAD))
        return tg

    def loader(self, trainer: Any, sampler: Any) -> LinkLoader:
        return LinkLoader(sampler, trainer.graph_, self.etype, self.train, batch_size=trainer.batch_size,
                          num_negatives=trainer.num_negatives, random_state=trainer._seed,
                          unsupervised=trainer.unsupervised_weight > 0)

    def loss(self, trainer: Any, batch: Any) -> torch.Tensor:
        dev = trainer.device
        h = trainer.model(batch.input.to(dev))
        pairs = torch.from_numpy(batch.pairs).to(dev)
        logits = self.head(h[pairs[:, 0]], h[pairs[:, 1]])
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(batch.target).to(dev))

    def has_validation(self) -> bool:
        return self.valid is not None

    @torch.no_grad()
    def scores(self, trainer: Any, pairs: np.ndarray, seed: int) -> np.ndarray:
        ids = pair_ids(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), self.etype, trainer.sampler_.ntype,
                       trainer.graph_.node_offsets())
        uniq, inv = np.unique(ids.reshape(-1), return_inverse=True)
        h = trainer.forward_ids(uniq, seed)
        inv_t = torch.from_numpy(inv.reshape(-1, 2)).to(trainer.device)
        self.head.eval()
        return self.head(h[inv_t[:, 0]], h[inv_t[:, 1]]).float().cpu().numpy()

    def validate(self, trainer: Any, seed: int) -> float:
        vp, vn = self.valid
        s = self.scores(trainer, np.concatenate([vp, vn]), seed)
        return roc_auc(np.r_[np.ones(len(vp)), np.zeros(len(vn))], s)

    def predict(self, trainer: Any, pairs: Any, seed: int) -> np.ndarray:
        arr = np.asarray(pairs)
        if arr.ndim != 2 or arr.shape[1] != 2 or (arr.size and arr.dtype.kind not in "iu"):
            raise ValidationError(f"pairs: {arr.dtype}{arr.shape}; expected (k, 2) integer node ids")
        return 1.0 / (1.0 + np.exp(-self.scores(trainer, arr, seed)))

    def evaluate(self, trainer: Any, seed: int, nodes: Any = None, labels: Any = None, *, pos_pairs: Any = None,
                 neg_pairs: Any = None) -> dict[str, float]:
        if pos_pairs is None and neg_pairs is None and self.split is not None:
            pos_pairs, neg_pairs = self.split.test_pos, self.split.test_neg
        if pos_pairs is None or neg_pairs is None:
            raise ValidationError("evaluate: pass pos_pairs and neg_pairs (no split to take them from)")
        pp, nn_ = np.asarray(pos_pairs, np.int64).reshape(-1, 2), np.asarray(neg_pairs, np.int64).reshape(-1, 2)
        if not len(pp) or not len(nn_):
            raise EmptyInputError("evaluate: needs at least one positive and one negative pair")
        s = self.scores(trainer, np.concatenate([pp, nn_]), seed)
        y = np.r_[np.ones(len(pp)), np.zeros(len(nn_))]
        return {"auc": roc_auc(y, s), "ap": average_precision(y, s)}

    def info(self) -> dict[str, Any]:
        return {"etype": str(self.etype), "fingerprint": self.fingerprint}

    def restore(self, trainer: Any, graph: Any, info: dict[str, Any]) -> None:
        self.etype = graph.edge_type(info["etype"])
        self.fingerprint = info.get("fingerprint")
        self.train = self.valid = None
        self.head = LinkHead(trainer.model.out_dim, trainer.link_head, model=trainer.model)


# ----------------------------------------------------------------------------------- unsupervised
class Unsupervised(Task):
    """The model's unsupervised loss over every node; early stopping on the training-loss plateau.

    Args:
        min_delta: relative decrease of the epoch loss below the best so far that counts as progress
            (>= 0). Default 0.01.
    """

    name = "unsupervised"
    owns_unsupervised_loss = True

    def __init__(self, min_delta: float = 0.01) -> None:
        from vastgraph.validation import check_float

        self.min_delta = check_float("min_delta", min_delta, low=0.0, low_open=False)
        self.train: np.ndarray | None = None
        self.last_loss: float | None = None

    def setup(self, trainer: Any, graph: Any, *, train_idx: Any = None, valid_idx: Any = None, labels: Any = None,
              split: Any = None) -> Any:
        if graph is None:
            raise ValidationError("graph: required for unsupervised training")
        if not callable(getattr(trainer.model, "unsupervised_loss", None)):
            raise ValidationError(f"model: {type(trainer.model).__name__} has no unsupervised_loss; the "
                                  "unsupervised task trains models that define one (gralsp, graphstone)")
        self.ntype = trainer.sampler_.ntype
        n = int(trainer.sampler_.num_nodes)
        if n == 0:
            raise EmptyInputError("unsupervised training: the model's node type has no nodes")
        self.train = np.arange(n, dtype=np.int64) if train_idx is None else check_idx(
            train_idx, "train_idx", n, np.zeros(n, np.int64), True)
        self.fingerprint = fingerprint(self.train, np.array([n]))
        self.head = torch.nn.Identity()
        return graph

    def loader(self, trainer: Any, sampler: Any) -> NodeLoader:
        return NodeLoader(sampler, self.train, batch_size=trainer.batch_size, random_state=trainer._seed,
                          unsupervised=True)

    def loss(self, trainer: Any, batch: Any) -> torch.Tensor:
        return trainer.model.unsupervised_loss(batch.input.to(trainer.device))

    def has_validation(self) -> bool:
        return True

    def validate(self, trainer: Any, seed: int) -> float:
        """Minus the epoch's training loss (the trainer keeps the weights of its best epoch)."""
        return -float(trainer.epoch_loss_)

    def improved(self, metric: float, best: float | None) -> bool:
        return best is None or metric > best + self.min_delta * abs(best)

    @torch.no_grad()
    def mean_loss(self, trainer: Any, nodes: np.ndarray, seed: int) -> float:
        """Eval-mode unsupervised loss over ``nodes`` (batches of ``trainer.batch_size``)."""
        trainer.model.eval()
        total = 0.0
        for b, lo in enumerate(range(0, nodes.size, trainer.batch_size)):
            part = nodes[lo:lo + trainer.batch_size]
            batch = trainer.sampler_.sample(part, derive_int(seed, b), unsupervised=True).to(trainer.device)
            total += float(trainer.model.unsupervised_loss(batch)) * part.size
        return total / max(nodes.size, 1)

    def predict(self, trainer: Any, nodes: Any, seed: int) -> np.ndarray:
        return trainer.forward_ids(trainer.check_ids(nodes), seed).float().cpu().numpy()

    def evaluate(self, trainer: Any, seed: int, nodes: Any = None, labels: Any = None, **_: Any) -> dict[str, float]:
        ids = trainer.check_ids(nodes)
        if ids.size == 0:
            raise EmptyInputError("evaluate: nodes is empty")
        return {"loss": self.mean_loss(trainer, ids, seed)}

    def info(self) -> dict[str, Any]:
        return {"ntype": self.ntype, "fingerprint": self.fingerprint, "min_delta": self.min_delta}

    def restore(self, trainer: Any, graph: Any, info: dict[str, Any]) -> None:
        self.ntype = info.get("ntype")
        self.fingerprint = info.get("fingerprint")
        self.min_delta = float(info.get("min_delta", self.min_delta))
        self.train = None
        self.head = torch.nn.Identity()


TASKS: dict[str, type[Task]] = {NodeClassification.name: NodeClassification, LinkPrediction.name: LinkPrediction,
                                Unsupervised.name: Unsupervised}


def make_task(task: Any) -> Task:
    """A task strategy from its name (or a :class:`Task` instance, returned as is)."""
    if isinstance(task, Task):
        return task
    cls = TASKS.get(task) if isinstance(task, str) else None
    if cls is None:
        raise ValidationError(f"task={task!r}: expected one of {', '.join(TASKS)}")
    return cls()
