"""One trainer for every node model: mini-batches, task heads, early stopping, checkpoints, seeds.

The trainer drives any :class:`~vastgraph.nn.base.NodeModel` (PyG baselines, GraLSP, GraphSTONE,
HGCN) on the same loaders and splits, so model comparisons are like for like.

Tasks.

* ``"node-classification"``: a linear head ``z = W h_v + b`` over the model's output; loss
  cross-entropy ``−log softmax(z)_{y_v}`` (single-label) or binary cross-entropy per class on
  ``σ(z)`` (multi-label, 0/1 label matrix). Validation metric: Micro-F1 (= accuracy for single
  labels; multi-label prediction ``z > 0``).
* ``"link-prediction"``: positive pairs are the edges of ``split.train_graph`` (each undirected edge
  once, no self-loops); each positive gets ``num_negatives`` tail-corrupted negatives from
  :func:`vastgraph.sampling.negative.corrupt_edges` (never a training edge); a
  :class:`~vastgraph.train.link_head.LinkHead` scores pairs and the loss is binary cross-entropy
  ``−log σ(s⁺) − Σ log σ(−s⁻)`` (averaged). Validation metric: ROC-AUC on the split's validation
  pairs; :meth:`Trainer.evaluate` reports AUC and AP on its test pairs.

Optionally ``unsupervised_weight · model.unsupervised_loss(batch nodes)`` is added to each batch loss
(e.g. GraLSP's skip-gram + walk-type objective). Adam with weight decay optimises model and head.

Loop. Each epoch shuffles the training items with a ``torch.Generator`` seeded from
``(seed, epoch)``, calls ``model.reseed`` with a seed of ``(seed, epoch, batch)`` before every batch,
evaluates the validation set (model in eval mode), and tracks the best validation metric; after
``patience`` epochs without improvement training stops, and the best weights are restored at the
end. Every run is therefore a function of ``random_state`` alone (on one device).

Checkpoints. With ``checkpoint_dir``, ``last.pt`` is written after every epoch (``torch.save`` of
model, head and optimiser state, epoch, seed, early-stopping state with the best weights, history and
configurations) to a temporary file renamed into place, so a crash never leaves half a file.
``fit(..., resume=True)`` continues from it and ends with exactly the result of an uninterrupted run.
:meth:`Trainer.save` / :meth:`Trainer.load` store and rebuild a trained model (the model class is
rebuilt from ``model.config()``).

Example:
    >>> import numpy as np
    >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
    >>> from vastgraph.nn.pyg_baselines import GraphSAGE
    >>> graph = power_law_sbm(60, 2, avg_degree=6, random_state=0).graph
    >>> model = GraphSAGE(graph, hidden=16, out_dim=16, random_state=0)
    >>> trainer = Trainer(model, "node-classification", epochs=3, random_state=0)
    >>> order = np.random.default_rng(0).permutation(60)
    >>> trainer = trainer.fit(graph, train_idx=order[:30], valid_idx=order[30:40])
    >>> 0.0 <= trainer.evaluate(order[40:])["micro_f1"] <= 1.0
    True
    >>> trainer.embed().shape
    (60, 16)
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from vastgraph.validation import check_float, check_int, check_progress
from vastgraph.errors import CorruptStoreError, EmptyInputError, StoreError, ValidationError
from vastgraph.nn.base import NodeModel
from vastgraph.seeding import derive_int, seed_from
from vastgraph.train.link_head import LinkHead, resolve_head_kind
from vastgraph.train.metrics import average_precision, f1_scores, roc_auc

TASKS = ("node-classification", "link-prediction")
CHECKPOINT_NAME = "last.pt"
_FORMAT = "vastgraph-trainer"
_VERSION = 1
EpochProgress = Callable[[int, float, "float | None"], Any]


class Trainer:
    """Train a node model for node classification or link prediction (see the module docstring).

    Args:
        model: a :class:`~vastgraph.nn.base.NodeModel`.
        task: ``"node-classification"`` | ``"link-prediction"``. Default ``"node-classification"``.
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

    Attributes (after fit):
        history_: one dict per epoch: ``epoch``, ``loss``, ``valid`` (metric or None), ``time`` (s).
        best_epoch_, best_metric_: epoch and value of the best validation metric (None without validation).
        head_: the task head.
    """

    def __init__(self, model: NodeModel, task: str = "node-classification", *, epochs: int = 200,
                 batch_size: int = 512, lr: float = 0.01, weight_decay: float = 5e-4, patience: int | None = 20,
                 unsupervised_weight: float = 0.0, link_head: str = "auto", num_negatives: int = 1,
                 eval_batch_size: int = 4096, device: str = "cpu", random_state: Any = None,
                 progress: EpochProgress | None = None, checkpoint_dir: str | os.PathLike | None = None) -> None:
        if not isinstance(model, NodeModel):
            raise ValidationError(f"model: {type(model).__name__} is not a vastgraph.nn.base.NodeModel; wrap it "
                                  "in a NodeModel subclass (forward(nodes) -> (len(nodes), out_dim))")
        if task not in TASKS:
            raise ValidationError(f"task={task!r}: expected one of {', '.join(TASKS)}")
        self.model = model
        self.task = task
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
        if not isinstance(getattr(model, "out_dim", None), int):
            raise ValidationError(f"model: {type(model).__name__} has no integer out_dim")
        self.head_: torch.nn.Module | None = None
        self.history_: list[dict[str, Any]] = []
        self.best_epoch_: int | None = None
        self.best_metric_: float | None = None
        self.graph_: Any = None
        self.split_: Any = None
        self._seed: int | None = None
        self._info: dict[str, Any] = {}

    # ------------------------------------------------------------------ ids and inputs
    def _ntype(self, graph: Any) -> str | None:
        nt = getattr(self.model, "ntype", None) or self.model.config().get("ntype")
        if nt is None and len(graph.node_types) == 1:
            nt = graph.node_types[0]
        return nt

    def _num_ids(self) -> int:
        nt = self._ntype(self.graph_)
        return int(self.graph_.num_nodes(nt)) if nt is not None else int(self.graph_.num_nodes_total())

    def _pair_ids(self, pairs: np.ndarray) -> np.ndarray:
        """Dense ``(k, 2)`` pairs of the split edge type → model ids (dense of ntype, or global)."""
        et, nt = self._info["etype"], self._ntype(self.graph_)
        if nt is not None and et.src == nt and et.dst == nt:
            return pairs
        off = self.graph_.node_offsets()
        return pairs + np.array([off[et.src], off[et.dst]], dtype=np.int64)[None, :]

    def _check_labels(self, labels: Any, n: int) -> np.ndarray:
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

    def _check_idx(self, idx: Any, name: str, n: int, y: np.ndarray, required: bool) -> np.ndarray | None:
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

    def _fingerprint(self, *arrays: np.ndarray) -> str:
        h = hashlib.blake2b(digest_size=12)
        for a in arrays:
            h.update(np.ascontiguousarray(a).tobytes())
            h.update(str(a.shape).encode())
        return h.hexdigest()

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
        self._seed = int(seed_from(self.random_state) % np.uint64(2**63))
        if self.task == "node-classification":
            self._setup_nodes(graph, train_idx, valid_idx, labels)
        else:
            self._setup_links(graph, split)
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
                self._restore(self._read(path))
        for epoch in range(self.epoch_ + 1, self.epochs):
            if self._stopped:
                break
            self._run_epoch(epoch)
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state["model"])
            self.head_.load_state_dict(self._best_state["head"])
        self.model.eval()
        self.head_.eval()
        return self

    def _setup_nodes(self, graph: Any, train_idx: Any, valid_idx: Any, labels: Any) -> None:
        if graph is None:
            raise ValidationError("graph: required for node classification")
        self.graph_ = graph
        nt = self._ntype(graph)
        if nt is None:
            raise ValidationError("node classification: the model has no ntype and the graph has node types "
                                  f"{', '.join(graph.node_types)}; build the model with ntype=...")
        n = int(graph.num_nodes(nt))
        if labels is None:
            labels = graph.labels(nt)
            if labels is None:
                raise ValidationError(f"labels: node type {nt!r} has no labels; pass labels=...")
        y = self._check_labels(labels, n)
        tr = self._check_idx(train_idx, "train_idx", n, y, True)
        va = self._check_idx(valid_idx, "valid_idx", n, y, False)
        multilabel = y.ndim == 2
        n_classes = int(y.shape[1]) if multilabel else int(y.max(initial=0)) + 1
        self._info = {"multilabel": multilabel, "num_classes": n_classes, "ntype": nt,
                      "fingerprint": self._fingerprint(tr, np.zeros(0) if va is None else va, y)}
        self._y = torch.from_numpy(y.astype(np.float32) if multilabel else y).to(self.device)
        self._train, self._valid = tr, va
        self.head_ = torch.nn.Linear(self.model.out_dim, n_classes)
        gen = torch.Generator().manual_seed(derive_int(self._seed, 0xEAD))
        bound = float(np.sqrt(6.0 / (self.model.out_dim + n_classes)))
        with torch.no_grad():
            self.head_.weight.copy_(torch.rand(self.head_.weight.shape, generator=gen) * 2 * bound - bound)
            self.head_.bias.zero_()

    def _setup_links(self, graph: Any, split: Any) -> None:
        from vastgraph.train.link_prediction import EdgeSplit

        if not isinstance(split, EdgeSplit):
            raise ValidationError(f"split: {type(split).__name__}; link prediction needs an EdgeSplit "
                                  "(vastgraph.train.link_prediction.split_edges)")
        tg = split.train_graph
        if graph is not None and graph is not tg:
            raise ValidationError("graph: for link prediction pass split.train_graph (or nothing); training on "
                                  "another graph would show the held-out edges")
        model_graph = getattr(self.model, "graph", None)
        if model_graph is not None and model_graph is not tg:
            raise ValidationError("model: built on a different graph than split.train_graph; build it on "
                                  "split.train_graph so the held-out edges stay hidden")
        self.graph_, self.split_ = tg, split
        et = tg.edge_type(split.etype)
        adj = tg.adjacency(et)
        src = np.repeat(np.arange(adj.n_rows, dtype=np.int64), adj.degree())
        dst = np.asarray(adj.indices, dtype=np.int64)
        keep = src != dst if et.src == et.dst else np.ones(src.size, dtype=bool)
        if tg.is_undirected(et) and et.src == et.dst:
            keep &= src < dst
        pos = np.stack([src[keep], dst[keep]], axis=1)
        if pos.shape[0] == 0:
            raise EmptyInputError(f"link prediction: edge type {et} of split.train_graph has no training edges")
        vp, vn = np.asarray(split.valid_pos, np.int64), np.asarray(split.valid_neg, np.int64)
        self._info = {"etype": et, "fingerprint": self._fingerprint(pos, vp, vn)}
        self._train = pos
        self._valid = (vp, vn) if vp.shape[0] and vn.shape[0] else None
        self.head_ = LinkHead(self.model.out_dim, self.link_head, model=self.model,
                              random_state=derive_int(self._seed, 0xEAD))

    # ------------------------------------------------------------------ epochs
    def _run_epoch(self, epoch: int) -> None:
        t0 = time.perf_counter()
        self.model.train()
        self.head_.train()
        n_items = self._train.shape[0]
        gen = torch.Generator().manual_seed(derive_int(self._seed, epoch, 0))
        perm = torch.randperm(n_items, generator=gen).numpy()
        total, count = 0.0, 0
        for b, lo in enumerate(range(0, n_items, self.batch_size)):
            idx = perm[lo:lo + self.batch_size]
            bseed = derive_int(self._seed, epoch, b + 1)
            self.model.reseed(bseed)
            loss, nodes = (self._node_loss(idx) if self.task == "node-classification"
                           else self._link_loss(idx, bseed))
            if self.unsupervised_weight > 0:
                extra = self.model.unsupervised_loss(nodes)
                if extra is not None:
                    loss = loss + self.unsupervised_weight * extra
            self.optimizer_.zero_grad()
            loss.backward()
            self.optimizer_.step()
            total += float(loss.detach()) * idx.size
            count += idx.size
        train_loss = total / count
        metric = self._validate(epoch) if self._valid is not None else None
        if metric is not None:
            if self.best_metric_ is None or metric > self.best_metric_:
                self.best_metric_, self.best_epoch_, self._bad = metric, epoch, 0
                self._best_state = {"model": _clone(self.model.state_dict()), "head": _clone(self.head_.state_dict())}
            else:
                self._bad += 1
        self._stopped = self.patience is not None and metric is not None and self._bad >= self.patience
        self.epoch_ = epoch
        self.history_.append({"epoch": epoch, "loss": train_loss, "valid": metric,
                              "time": time.perf_counter() - t0})
        if self.checkpoint_dir is not None:
            self._write(self.checkpoint_dir / CHECKPOINT_NAME)
        if self.progress is not None:
            self.progress(epoch + 1, train_loss, metric)

    def _node_loss(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        nodes = torch.from_numpy(self._train[idx]).to(self.device)
        logits = self.head_(self.model(nodes))
        target = self._y[nodes]
        if self._info["multilabel"]:
            return torch.nn.functional.binary_cross_entropy_with_logits(logits, target), nodes
        return torch.nn.functional.cross_entropy(logits, target), nodes

    def _link_loss(self, idx: np.ndarray, bseed: int) -> tuple[torch.Tensor, torch.Tensor]:
        from vastgraph.sampling.negative import corrupt_edges

        pos = self._train[idx]
        ns, nd = corrupt_edges(self.graph_, pos[:, 0], pos[:, 1], etype=self._info["etype"],
                               num_negatives=self.num_negatives, random_state=derive_int(bseed, 2))
        pairs = self._pair_ids(np.concatenate([pos, np.stack([ns, nd], axis=1)]))
        target = torch.zeros(pairs.shape[0], device=self.device)
        target[:pos.shape[0]] = 1.0
        logits, nodes = self._pair_logits(pairs)
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, target), nodes

    def _pair_logits(self, pairs: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        uniq, inv = np.unique(pairs.reshape(-1), return_inverse=True)
        nodes = torch.from_numpy(uniq).to(self.device)
        h = self.model(nodes)
        inv_t = torch.from_numpy(inv.reshape(-1, 2)).to(self.device)
        return self.head_(h[inv_t[:, 0]], h[inv_t[:, 1]]), nodes

    @torch.no_grad()
    def _eval_forward(self, ids: np.ndarray, seed: int) -> torch.Tensor:
        self.model.eval()
        self.model.reseed(seed)
        outs = [self.model(torch.from_numpy(ids[lo:lo + self.eval_batch_size]).to(self.device))
                for lo in range(0, ids.size, self.eval_batch_size)]
        return torch.cat(outs) if outs else torch.zeros((0, self.model.out_dim), device=self.device)

    @torch.no_grad()
    def _scores(self, pairs: np.ndarray, seed: int) -> np.ndarray:
        ids = self._pair_ids(np.asarray(pairs, dtype=np.int64).reshape(-1, 2))
        uniq, inv = np.unique(ids.reshape(-1), return_inverse=True)
        h = self._eval_forward(uniq, seed)
        inv_t = torch.from_numpy(inv.reshape(-1, 2)).to(self.device)
        self.head_.eval()
        return self.head_(h[inv_t[:, 0]], h[inv_t[:, 1]]).float().cpu().numpy()

    def _validate(self, epoch: int) -> float:
        seed = derive_int(self._seed, epoch, 0xA11D)
        if self.task == "link-prediction":
            vp, vn = self._valid
            s = self._scores(np.concatenate([vp, vn]), seed)
            return roc_auc(np.r_[np.ones(len(vp)), np.zeros(len(vn))], s)
        return self._f1(self._valid, self._y[torch.from_numpy(self._valid).to(self.device)].cpu().numpy(), seed)[0]

    def _f1(self, nodes: np.ndarray, y: np.ndarray, seed: int) -> tuple[float, float]:
        self.head_.eval()
        with torch.no_grad():
            logits = self.head_(self._eval_forward(nodes, seed)).cpu().numpy()
        pred = (logits > 0).astype(np.int64) if self._info["multilabel"] else logits.argmax(1)
        return f1_scores(y.astype(np.int64), pred)

    # ------------------------------------------------------------------ use
    def _check_fitted(self) -> None:
        if self.head_ is None:
            from vastgraph.errors import NotFittedError

            raise NotFittedError("Trainer: call fit() (or Trainer.load) first")

    def _nodes(self, nodes: Any) -> np.ndarray:
        n = self._num_ids()
        if nodes is None:
            return np.arange(n, dtype=np.int64)
        arr = np.asarray(nodes)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise ValidationError(f"nodes: {arr.dtype}{arr.shape}; expected a 1-D array of node ids")
        arr = arr.astype(np.int64)
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise ValidationError(f"nodes: ids in [{arr.min()}, {arr.max()}]; expected ids in [0, {n})")
        return arr

    def embed(self, nodes: Any = None) -> np.ndarray:
        """Eval-mode representations, float32 ``(len(nodes), out_dim)`` (None: every node, in id order)."""
        self._check_fitted()
        ids = self._nodes(nodes)
        return self._eval_forward(ids, derive_int(self._seed, 0xE1BED)).float().cpu().numpy()

    def predict(self, nodes: Any) -> np.ndarray:
        """Node classification: class ids ``(n,)`` (multi-label: 0/1 ``(n, C)``) of ``nodes``.
        Link prediction: edge probabilities ``(k,)`` of dense ``(k, 2)`` pairs of the split edge type."""
        self._check_fitted()
        seed = derive_int(self._seed, 0x9ED)
        if self.task == "link-prediction":
            pairs = np.asarray(nodes)
            if pairs.ndim != 2 or pairs.shape[1] != 2 or (pairs.size and pairs.dtype.kind not in "iu"):
                raise ValidationError(f"pairs: {pairs.dtype}{pairs.shape}; expected (k, 2) integer node ids")
            return 1.0 / (1.0 + np.exp(-self._scores(pairs, seed)))
        ids = self._nodes(nodes)
        self.head_.eval()
        with torch.no_grad():
            logits = self.head_(self._eval_forward(ids, seed)).cpu().numpy()
        return (logits > 0).astype(np.int64) if self._info["multilabel"] else logits.argmax(1)

    def evaluate(self, nodes: Any = None, labels: Any = None, *, pos_pairs: Any = None,
                 neg_pairs: Any = None) -> dict[str, float]:
        """Test metrics: ``{"micro_f1", "macro_f1"}`` of ``nodes`` (labels default to the fitted ones), or
        ``{"auc", "ap"}`` of positive/negative pairs (default: the split's test pairs)."""
        self._check_fitted()
        seed = derive_int(self._seed, 0x7E57)
        if self.task == "link-prediction":
            if pos_pairs is None and neg_pairs is None and self.split_ is not None:
                pos_pairs, neg_pairs = self.split_.test_pos, self.split_.test_neg
            if pos_pairs is None or neg_pairs is None:
                raise ValidationError("evaluate: pass pos_pairs and neg_pairs (no split to take them from)")
            pp, nn_ = np.asarray(pos_pairs, np.int64).reshape(-1, 2), np.asarray(neg_pairs, np.int64).reshape(-1, 2)
            if not len(pp) or not len(nn_):
                raise EmptyInputError("evaluate: needs at least one positive and one negative pair")
            s = self._scores(np.concatenate([pp, nn_]), seed)
            y = np.r_[np.ones(len(pp)), np.zeros(len(nn_))]
            return {"auc": roc_auc(y, s), "ap": average_precision(y, s)}
        ids = self._nodes(nodes)
        if ids.size == 0:
            raise EmptyInputError("evaluate: nodes is empty")
        if labels is None:
            y = self._y[torch.from_numpy(ids).to(self.device)].cpu().numpy()
        else:
            y = self._check_labels(labels, self._num_ids())[ids]
        if y.ndim == 1 and (y < 0).any():
            raise ValidationError(f"evaluate: {int((y < 0).sum())} node(s) without a label (-1)")
        micro, macro = self._f1(ids, y, seed)
        return {"micro_f1": micro, "macro_f1": macro}

    # ------------------------------------------------------------------ checkpoints
    def _trainer_config(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                "weight_decay": self.weight_decay, "patience": self.patience,
                "unsupervised_weight": self.unsupervised_weight, "link_head": self.link_head,
                "num_negatives": self.num_negatives, "eval_batch_size": self.eval_batch_size,
                "random_state": self._seed}

    def _state(self) -> dict[str, Any]:
        cls = type(self.model)
        info = {k: (str(v) if k == "etype" else v) for k, v in self._info.items()}
        best = None if self._best_state is None else dict(self._best_state)
        return {"format": _FORMAT, "version": _VERSION, "task": self.task,
                "model_class": f"{cls.__module__}:{cls.__qualname__}", "model_config": self.model.config(),
                "trainer_config": self._trainer_config(), "info": info,
                "model_state": self.model.state_dict(), "head_state": self.head_.state_dict(),
                "optimizer_state": self.optimizer_.state_dict(), "epoch": self.epoch_, "stopped": self._stopped,
                "rng": {"seed": self._seed}, "history": list(self.history_),
                "early_stopping": {"best_metric": self.best_metric_, "best_epoch": self.best_epoch_,
                                   "bad_epochs": self._bad, "best_state": best}}

    def _write(self, path: Path) -> str:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(self._state(), f)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return str(path)

    def save(self, path: str | os.PathLike) -> str:
        """Write a checkpoint (model, head, optimiser, epoch, seed, history, configs) atomically; returns the path."""
        self._check_fitted()
        return self._write(Path(path))

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        if not Path(path).is_file():
            raise StoreError(f"checkpoint {path}: no such file")
        try:
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # unpickling errors of a truncated / foreign file
            raise CorruptStoreError(f"checkpoint {path}: cannot be read ({type(exc).__name__}: {exc})") from None
        if not isinstance(ckpt, dict) or ckpt.get("format") != _FORMAT:
            raise CorruptStoreError(f"checkpoint {path}: not a vastgraph trainer checkpoint")
        if ckpt.get("version") != _VERSION:
            raise CorruptStoreError(f"checkpoint {path}: format version {ckpt.get('version')!r}; this vastgraph "
                                    f"reads version {_VERSION}")
        return ckpt

    def _restore(self, ckpt: dict[str, Any]) -> None:
        cls = type(self.model)
        name = f"{cls.__module__}:{cls.__qualname__}"
        mine = {k: v for k, v in self.model.config().items() if k != "random_state"}
        theirs = {k: v for k, v in ckpt["model_config"].items() if k != "random_state"}
        if ckpt["model_class"] != name or json.dumps(mine, sort_keys=True, default=str) != \
                json.dumps(theirs, sort_keys=True, default=str):
            raise ValidationError(f"checkpoint: written for {ckpt['model_class']} {theirs}; this trainer has "
                                  f"{name} {mine}")
        if ckpt["task"] != self.task or ckpt["info"].get("fingerprint") != self._info.get("fingerprint"):
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
        The result predicts, embeds and evaluates; ``fit`` would train anew.

        Example:
            >>> trainer = Trainer.load("out/model.pt", graph)  # doctest: +SKIP
            >>> trainer.embed().shape  # doctest: +SKIP
        """
        ckpt = cls._read(Path(path))
        module_name, _, attr = ckpt["model_class"].partition(":")
        try:
            model_cls = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError):
            raise CorruptStoreError(f"checkpoint {path}: model class {ckpt['model_class']} is not available") from None
        if not (isinstance(model_cls, type) and issubclass(model_cls, NodeModel)):
            raise CorruptStoreError(f"checkpoint {path}: {ckpt['model_class']} is not a NodeModel")
        model = model_cls(graph, **ckpt["model_config"])
        tr = cls(model, ckpt["task"], device=device, **ckpt["trainer_config"])
        tr.graph_ = graph
        tr._seed = int(ckpt["rng"]["seed"])
        info = dict(ckpt["info"])
        if tr.task == "link-prediction":
            info["etype"] = graph.edge_type(info["etype"])
            tr.head_ = LinkHead(model.out_dim, tr.link_head, model=model)
        else:
            labels = graph.labels(info["ntype"])
            y = np.zeros(graph.num_nodes(info["ntype"]), np.int64) if labels is None else \
                tr._check_labels(labels, graph.num_nodes(info["ntype"]))
            tr._y = torch.from_numpy(y.astype(np.float32) if info["multilabel"] else y).to(tr.device)
            tr.head_ = torch.nn.Linear(model.out_dim, int(info["num_classes"]))
        tr._info = info
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
