"""Graph-level classification of many small graphs: an anonymous-walk model against GIN.

The expressiveness suite's protocol (GraLSP, AAAI 2020; GraphSTONE, KDD 2020; GSKN, WWW 2021):
families that 1-WL cannot separate (CSL, regular pairs, decalin vs bicyclopentyl) are classified
by pooling node representations; message passing (GIN) is bounded by 1-WL, anonymous walks are not.

Anonymous-walk features. From every node ``walks_per_node`` random walks of ``walk_length`` steps
are anonymised (``a_0 … a_L``, :func:`~vastgraph.sampling.anonymous.anonymize`). An anonymous walk
is exactly its pattern of revisits ``{(i, j) : a_i = a_j}``; the node feature is its revisit
profile, for each lag ``δ = 1 … L``

    f_v[δ] = E_{w from v} [ mean_t 1(a_t = a_{t−δ}) ] = Σ_types P(type | v) · r_δ(type),

a fixed linear statistic of the node's walk-type distribution. On a d-regular graph
``f_v[δ] ≈ (A^δ)_vv / d^δ``: closed walks, which count the cycles through v — invisible to 1-WL.
By Micali & Zhu the walk distribution of length 2(m + 1) determines v's neighbourhood of m edges,
so longer walks see more (default L = 12).

Models, trained by the same loop on the same folds (full-batch Adam, cross-entropy):

* ``"anonymous-walk"``: node features standardised → MLP → one GIN layer
  (``torch_geometric.nn.GINConv``) → mean pooling → linear classifier;
* ``"gin"``: K. Xu et al., "How Powerful are Graph Neural Networks?", ICLR 2019 — constant node
  input, 3 ``GINConv`` layers, sum pooling of every layer (concatenated) → linear classifier.

Example:
    >>> from vastgraph.datasets.expressiveness import csl_graphs
    >>> fam = csl_graphs(copies=4, random_state=0)
    >>> res = classify_graphs(fam.graphs, fam.labels, folds=4, random_state=0)
    >>> res.accuracy["anonymous-walk"] > res.accuracy["gin"]
    True
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GINConv, global_add_pool, global_mean_pool

from vastgraph.validation import check_int
from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.view import GraphView
from vastgraph.sampling.anonymous import anonymize, traced_pattern_profile
from vastgraph.seeding import seed_from
from vastgraph.sampling.walks import random_walks

MODELS = ("anonymous-walk", "gin")


def _check_graphs(graphs: Sequence[GraphView]) -> list[GraphView]:
    graphs = list(graphs)
    if not graphs:
        raise EmptyInputError("graphs: empty list; expected at least one graph")
    for i, g in enumerate(graphs):
        if not isinstance(g, GraphView):
            raise ValidationError(f"graphs[{i}]: {type(g).__name__}; expected a vastgraph GraphView (e.g. HeteroGraph)")
        if len(g.edge_types) != 1 or g.edge_types[0].src != g.edge_types[0].dst:
            raise ValidationError(f"graphs[{i}]: expected one edge type within one node type "
                                  f"(got {[str(e) for e in g.edge_types]})")
    return graphs


def _edge_index(g: GraphView) -> np.ndarray:
    e = g.coo()
    return np.stack([e.src, e.dst])


def anonymous_walk_features(graphs: Sequence[GraphView], *, walk_length: int = 12, walks_per_node: int = 200,
                            traced: bool = True, random_state: Any = None) -> list[np.ndarray]:
    """Revisit profiles ``f_v[δ]`` (δ = 1..L) of the anonymous walks from every node of every graph,
    then (``traced``) their traced-pattern profiles
    (:func:`~vastgraph.sampling.anonymous.traced_pattern_profile` up to 4 nodes: 4 columns, the last
    the rate of walks that trace a complete ``K_4``).

    All graphs are walked together as one disjoint union (one kernel call).

    Args:
        graphs: homogeneous graphs (one edge type each).
        walk_length: steps per walk ``L`` (>= 1). Default 12.
        walks_per_node: walks per node (>= 1). Default 200.
        traced: append the 4 traced-pattern columns (needs ``walk_length >= 3``). Default True.
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        one float32 ``(n_i, walk_length + 4·traced)`` array per graph.

    Example:
        >>> from vastgraph.datasets.expressiveness import graph_from_edges
        >>> two_triangles = graph_from_edges([0, 1, 2, 3, 4, 5], [1, 2, 0, 4, 5, 3], 6)
        >>> f = anonymous_walk_features([two_triangles], walk_length=3, walks_per_node=50, random_state=0)
        >>> f[0].shape  # 3 lags, then traced patterns of 3 and 4 nodes
        (6, 7)
        >>> bool(abs(f[0][:, 2].mean() - 0.25) < 0.05)  # lag-3 return: a closed triangle walk, probability 1/4
        True
    """
    graphs = _check_graphs(graphs)
    length = check_int("walk_length", walk_length, 1)
    wpn = check_int("walks_per_node", walks_per_node, 1)
    sizes = np.array([g.num_nodes() for g in graphs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    edges = np.concatenate([_edge_index(g) + offsets[i] for i, g in enumerate(graphs)], axis=1)
    if edges.shape[1] == 0:
        raise EmptyInputError("graphs: no edges in any graph; anonymous walks need edges")
    b = GraphBuilder(directed=True, id_mode="dense")
    b.add_nodes("node", count=int(offsets[-1]))
    b.add_edges(edges[0], edges[1])
    union = b.build()
    walks = random_walks(union, walks_per_node=wpn, walk_length=length, random_state=seed_from(random_state))
    n = int(offsets[-1])
    lag_sum = np.zeros((n, length), dtype=np.float64)
    lag_cnt = np.zeros((n, length), dtype=np.float64)
    for r in range(wpn):  # walks r·n .. r·n + n − 1 start at nodes 0..n−1
        a = anonymize(walks[r * n:(r + 1) * n]).astype(np.int16)
        for d in range(1, length + 1):
            valid = (a[:, d:] >= 0) & (a[:, :-d] >= 0)
            lag_sum[:, d - 1] += ((a[:, d:] == a[:, :-d]) & valid).sum(axis=1)
            lag_cnt[:, d - 1] += valid.sum(axis=1)
    feats = np.divide(lag_sum, lag_cnt, out=np.zeros_like(lag_sum), where=lag_cnt > 0)
    if traced and length >= 2:
        feats = np.concatenate([feats, traced_pattern_profile(walks, n, max_nodes=4)], axis=1)
    feats = feats.astype(np.float32)
    return [feats[offsets[i]:offsets[i + 1]] for i in range(len(graphs))]


def graph_data(graphs: Sequence[GraphView], features: Sequence[np.ndarray] | None = None,
               labels: Any = None) -> list[Data]:
    """PyG ``Data`` objects (``x``: the given features or a constant 1, ``edge_index``, ``y``)."""
    graphs = _check_graphs(graphs)
    out = []
    for i, g in enumerate(graphs):
        x = torch.ones(g.num_nodes(), 1) if features is None else torch.as_tensor(features[i], dtype=torch.float32)
        d = Data(x=x, edge_index=torch.from_numpy(_edge_index(g)), num_nodes=g.num_nodes())
        if labels is not None:
            d.y = torch.tensor([int(labels[i])])
        out.append(d)
    return out


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads (``None``: unchanged), restoring them after.

    Tiny graph batches are fastest on one thread; on a busy machine extra threads mostly spin.
    """
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(check_int("num_threads", n, 1))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _mlp(i: int, h: int) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Linear(i, h), torch.nn.ReLU(), torch.nn.Linear(h, h))


def _init(module: torch.nn.Module, seed: int) -> None:
    gen = torch.Generator().manual_seed(int(seed))
    for m in module.modules():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight, generator=gen)
            torch.nn.init.zeros_(m.bias)


class GINGraphNet(torch.nn.Module):
    """GIN (Xu et al., ICLR 2019): ``h ← MLP((1 + ε) h_v + Σ_u h_u)`` layers, sum pooling of each layer.

    Shapes: ``embed(batch) -> (n_graphs, num_layers · hidden)``; ``forward -> (n_graphs, n_classes)``.
    """

    def __init__(self, in_dim: int, hidden: int, n_classes: int, num_layers: int = 3, seed: int = 0) -> None:
        super().__init__()
        self.convs = torch.nn.ModuleList(GINConv(_mlp(in_dim if i == 0 else hidden, hidden), train_eps=True)
                                         for i in range(num_layers))
        self.head = torch.nn.Linear(num_layers * hidden, n_classes)
        _init(self, seed)

    def embed(self, batch: Batch) -> torch.Tensor:
        h, pooled = batch.x, []
        for i, conv in enumerate(self.convs):
            h = conv(h, batch.edge_index)
            if i < len(self.convs) - 1:
                h = F.relu(h)
            pooled.append(global_add_pool(h, batch.batch))
        return torch.cat(pooled, dim=1)

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.head(self.embed(batch))


class AnonymousWalkGraphNet(torch.nn.Module):
    """Anonymous-walk features → MLP → one GIN layer → mean pooling → linear classifier.

    Shapes: ``embed(batch) -> (n_graphs, hidden)``; ``forward -> (n_graphs, n_classes)``.
    """

    def __init__(self, in_dim: int, hidden: int, n_classes: int, seed: int = 0) -> None:
        super().__init__()
        self.encode = _mlp(in_dim, hidden)
        self.conv = GINConv(_mlp(hidden, hidden), train_eps=True)
        self.head = torch.nn.Linear(hidden, n_classes)
        _init(self, seed)

    def embed(self, batch: Batch) -> torch.Tensor:
        h = F.relu(self.encode(batch.x))
        h = self.conv(h, batch.edge_index)
        return global_mean_pool(h, batch.batch)

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.head(self.embed(batch))


@dataclass
class GraphClassificationResult:
    """Accuracy per model: mean over folds and each fold's value."""

    accuracy: dict[str, float]
    fold_accuracy: dict[str, list[float]] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        return [{"model": m, "accuracy": a, "folds": len(self.fold_accuracy.get(m, []))}
                for m, a in self.accuracy.items()]


def train_graph_model(model: torch.nn.Module, train: Batch, epochs: int, lr: float) -> torch.nn.Module:
    """Full-batch Adam on cross-entropy for ``epochs`` steps (the loop shared by all models)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        opt.zero_grad()
        loss = F.cross_entropy(model(train), train.y)
        loss.backward()
        opt.step()
    model.eval()
    return model


def _folds(labels: np.ndarray, folds: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Stratified fold assignment: each class's graphs dealt round-robin after a shuffle."""
    fold_of = np.empty(labels.size, dtype=np.int64)
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        fold_of[idx] = (np.arange(idx.size) + int(rng.integers(folds))) % folds
    return [np.flatnonzero(fold_of == f) for f in range(folds)]


def classify_graphs(graphs: Sequence[GraphView], labels: Any, *, models: Sequence[str] = MODELS, folds: int = 4,
                    epochs: int = 300, hidden: int = 32, lr: float = 0.01, walk_length: int = 12,
                    walks_per_node: int = 200, random_state: Any = None, num_threads: int | None = 1,
                    progress: Callable[[int, int], Any] | None = None) -> GraphClassificationResult:
    """Cross-validated graph classification accuracy of each model on the same stratified folds.

    Args:
        graphs: small homogeneous graphs.
        labels: ``(len(graphs),)`` integer classes.
        models: names among ``"anonymous-walk"``, ``"gin"``. Default both.
        folds: cross-validation folds (>= 2; each class needs at least ``folds`` graphs). Default 4.
        epochs: training steps per fold (>= 1). Default 300.
        hidden: hidden width (>= 1). Default 32.
        lr: Adam learning rate. Default 0.01.
        walk_length, walks_per_node: anonymous-walk feature sampling. Defaults 12, 200.
        random_state: None, an int or a ``numpy.random.Generator``.
        num_threads: torch threads while training (restored after); ``None`` leaves them. Default 1.
        progress: optional ``progress(done, total)`` after each (model, fold).

    Returns:
        :class:`GraphClassificationResult` (accuracy on held-out folds).
    """
    graphs = _check_graphs(graphs)
    y = np.asarray(labels)
    if y.shape != (len(graphs),) or y.dtype.kind not in "iu":
        raise ValidationError(f"labels: shape {y.shape} dtype {y.dtype}; expected ({len(graphs)},) integers")
    folds = check_int("folds", folds, 2)
    epochs = check_int("epochs", epochs, 1)
    hidden = check_int("hidden", hidden, 1)
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ValidationError(f"models={list(models)!r}: expected names among {', '.join(MODELS)}")
    _, y = np.unique(y, return_inverse=True)
    y = y.reshape(-1)
    counts = np.bincount(y)
    if counts.min() < folds:
        raise ValidationError(f"folds={folds}: the smallest class has {int(counts.min())} graphs; "
                              "expected at least one per fold")
    if progress is not None and not callable(progress):
        raise ValidationError(f"progress={progress!r}: expected None or a callable(done, total)")
    rng = np.random.default_rng(seed_from(random_state))
    fold_idx = _folds(y, folds, rng)
    n_classes = int(y.max()) + 1
    feats = None
    if "anonymous-walk" in models:
        feats = anonymous_walk_features(graphs, walk_length=walk_length, walks_per_node=walks_per_node,
                                        random_state=rng)
    result = GraphClassificationResult({}, {})
    total, done = len(models) * folds, 0
    for name in models:
        accs = []
        for f in range(folds):
            test = fold_idx[f]
            train = np.setdiff1d(np.arange(len(graphs)), test)
            seed = int(rng.integers(2**31))
            if name == "gin":
                data = graph_data(graphs, None, y)
                model: torch.nn.Module = GINGraphNet(1, hidden, n_classes, seed=seed)
            else:
                stacked = np.concatenate([feats[i] for i in train])
                mu, sd = stacked.mean(axis=0), stacked.std(axis=0)
                sd = np.where(sd > 1e-8, sd, 1.0)
                data = graph_data(graphs, [(x - mu) / sd for x in feats], y)
                model = AnonymousWalkGraphNet(feats[0].shape[1], hidden, n_classes, seed=seed)
            with torch_threads(num_threads):
                train_graph_model(model, Batch.from_data_list([data[i] for i in train]), epochs, lr)
                with torch.no_grad():
                    pred = model(Batch.from_data_list([data[i] for i in test])).argmax(dim=1).numpy()
            accs.append(float((pred == y[test]).mean()))
            done += 1
            if progress is not None:
                progress(done, total)
        result.fold_accuracy[name] = accs
        result.accuracy[name] = float(np.mean(accs))
    return result


def pooled_representations(graphs: Sequence[GraphView], model: str = "anonymous-walk", *, hidden: int = 32,
                           walk_length: int = 12, walks_per_node: int = 200,
                           random_state: Any = None) -> np.ndarray:
    """Graph embeddings ``(n_graphs, dim)`` of an untrained (randomly initialised) model.

    For ``"gin"`` 1-WL-equivalent graphs get equal rows whatever the weights; for
    ``"anonymous-walk"`` the pooled revisit profiles themselves (``(n_graphs, walk_length)``) are
    returned, which differ for graphs with different cycle structure.
    """
    graphs = _check_graphs(graphs)
    if model not in MODELS:
        raise ValidationError(f"model={model!r}: expected one of {', '.join(MODELS)}")
    rng = np.random.default_rng(seed_from(random_state))
    if model == "anonymous-walk":
        feats = anonymous_walk_features(graphs, walk_length=walk_length, walks_per_node=walks_per_node,
                                        random_state=rng)
        return np.stack([f.mean(axis=0) for f in feats])
    net = GINGraphNet(1, check_int("hidden", hidden, 1), 2, seed=int(rng.integers(2**31))).eval()
    with torch_threads(1), torch.no_grad():
        return net.embed(Batch.from_data_list(graph_data(graphs))).numpy()


ENCODERS = ("gralsp", "graphstone")


def encoder_representations(graphs: Sequence[GraphView], model: str = "gralsp", *, hidden: int = 32,
                            walks_per_node: int = 100, walk_length: int = 8, epochs: int = 0,
                            random_state: Any = None) -> np.ndarray:
    """Graph embeddings ``(n_graphs, hidden)`` from GraLSP's or GraphSTONE's own encoder: mean pooling
    of its node representations on the disjoint union of ``graphs``.

    The model is built on the union by :func:`vastgraph.train.models.create_model` with structural
    inputs (the role features of the union's walks), so every graph is described in the same
    columns; ``epochs > 0`` first trains it with its unsupervised loss (``Trainer(...,
    "unsupervised")``), else the randomly initialised encoder is used. Node representations are
    computed with the model's sampler (seeded).

    Example:
        >>> from vastgraph.datasets.expressiveness import regular_pairs
        >>> fam = regular_pairs(0)
        >>> encoder_representations(fam.graphs[2:4], "gralsp", hidden=8, walks_per_node=20,
        ...                         random_state=0).shape  # C6 vs 2xC3
        (2, 8)
    """
    from vastgraph.seeding import derive_int
    from vastgraph.train.models import create_model
    from vastgraph.train.samplers import sampler_for
    from vastgraph.train.trainer import Trainer

    graphs = _check_graphs(graphs)
    if model not in ENCODERS:
        raise ValidationError(f"model={model!r}: expected one of {', '.join(ENCODERS)}")
    hidden = check_int("hidden", hidden, 1)
    epochs = check_int("epochs", epochs, 0)
    seed = int(seed_from(random_state) % np.uint64(2**31))
    sizes = np.array([g.num_nodes() for g in graphs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    edges = np.concatenate([_edge_index(g) + offsets[i] for i, g in enumerate(graphs)], axis=1)
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes("node", count=int(offsets[-1]))
    b.add_edges(edges[0], edges[1])
    union = b.build()
    params: dict[str, Any] = {"hidden": hidden, "out_dim": hidden, "walks_per_node": walks_per_node,
                              "walk_length": walk_length, "random_state": seed, "input_features": "structural"}
    if model == "graphstone":
        params["n_topics"] = 3
    with torch_threads(1):
        net = create_model(model, union, **params)
        if epochs:
            Trainer(net, "unsupervised", epochs=epochs, batch_size=256, patience=None,
                    random_state=seed).fit(union)
        sampler = sampler_for(net, union)
        net.eval()
        ids = np.arange(int(offsets[-1]), dtype=np.int64)
        with torch.no_grad():
            h = net(sampler.sample(ids, derive_int(seed, 7))).numpy()
    return np.stack([h[offsets[i]:offsets[i + 1]].mean(axis=0) for i in range(len(graphs))])


def encoder_accuracy(graphs: Sequence[GraphView], labels: Any, model: str = "gralsp", *, folds: int = 3,
                     random_state: Any = None, **params: Any) -> float:
    """Cross-validated accuracy of a logistic regression on :func:`encoder_representations` (stratified folds)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = np.asarray(labels)
    rng = np.random.default_rng(seed_from(random_state))
    x = encoder_representations(graphs, model, random_state=int(rng.integers(2**31)), **params)
    _, y = np.unique(y, return_inverse=True)
    accs = []
    for test in _folds(y.reshape(-1), check_int("folds", folds, 2), rng):
        train = np.setdiff1d(np.arange(y.size), test)
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x[train], y[train])
        accs.append(float((clf.predict(x[test]) == y[test]).mean()))
    return float(np.mean(accs))


__all__ = ["AnonymousWalkGraphNet", "ENCODERS", "encoder_accuracy", "encoder_representations", "GINGraphNet", "GraphClassificationResult", "anonymous_walk_features",
           "classify_graphs", "graph_data", "pooled_representations", "torch_threads", "train_graph_model"]
