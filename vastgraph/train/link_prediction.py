"""Link prediction: held-out edge splits and the evaluation of embeddings (or any scorer) on them.

:func:`split_edges` holds out a fraction of one edge type's edges (both directions of an undirected
edge), rebuilds the remaining graph with :class:`~vastgraph.graph.builder.GraphBuilder`, and samples
as many negative pairs uniformly from the non-edges of the *full* graph.

:func:`evaluate_link_prediction` scores pairs in one of two ways:

* ``mode="score"``: the score is ``x_u · x_v`` (``operator="dot"``) or their cosine
  (``"cosine"``) — or the output of a user scorer ``scorer(src, dst)``;
* ``mode="classifier"`` (node2vec's protocol, Grover & Leskovec, KDD 2016): a logistic regression is
  trained on edge features ``x_u ∘ x_v`` (``"hadamard"``), ``(x_u + x_v)/2`` (``"average"``),
  ``|x_u − x_v|`` (``"l1"``), ``(x_u − x_v)²`` (``"l2"``), or the 1-D ``"dot"``/``"cosine"``,
  on training pairs — given as ``train_pairs`` or a ``train_fraction`` of the given pairs — and
  scores the remaining pairs.

Metrics: ROC-AUC and average precision over positives vs negatives; MRR and Hits@K with each
positive ranked against the **global list of all evaluated negatives** (the OGB ``collab``/``ppa``
convention), rank = ``1 + #(neg > pos) + ½ #(neg = pos)``, Hits@K = fraction of positives with
rank ≤ K (so K ≥ the number of negatives gives 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import numpy as np

from vastgraph.errors import SchemaError, ValidationError
from vastgraph.train.metrics import average_precision, hits_at_k, mrr, roc_auc
from vastgraph.seeding import sklearn_seed
from vastgraph.train.node_classification import _check_vectors

if TYPE_CHECKING:
    from vastgraph.graph.hetero_graph import HeteroGraph
    from vastgraph.graph.schema import EdgeType
    from vastgraph.graph.view import GraphView

SCORE_OPERATORS = ("dot", "cosine")
FEATURE_OPERATORS = ("hadamard", "average", "l1", "l2", "dot", "cosine")
MODES = ("score", "classifier")
_ENUMERATE_LIMIT = 4_000_000


# ------------------------------------------------------------------------------------------ split
@dataclass(frozen=True)
class EdgeSplit:
    """A held-out edge split of one edge type.

    Pairs are ``(k, 2)`` int64 dense ids: column 0 of ``etype``'s source type, column 1 of its
    destination type (for an undirected edge type within one node type, ``u < v``). Unpacking gives
    ``train_graph, test_pos, test_neg``.

    Attributes:
        train_graph: the graph without the test and validation edges.
        etype: the split edge type.
        test_pos, test_neg: held-out edges and as many sampled non-edges.
        valid_pos, valid_neg: likewise for validation (``(0, 2)`` when not asked for).
        offsets: global-id offsets of the source and destination node types.
    """

    train_graph: HeteroGraph
    etype: EdgeType
    test_pos: np.ndarray
    test_neg: np.ndarray
    valid_pos: np.ndarray
    valid_neg: np.ndarray
    offsets: tuple[int, int] = (0, 0)

    def to_global(self, pairs: np.ndarray) -> np.ndarray:
        """Pairs of dense ids → pairs of global node ids (rows of an ``embedding_``)."""
        return np.asarray(pairs, dtype=np.int64) + np.asarray(self.offsets, dtype=np.int64)[None, :]

    def __iter__(self) -> Iterator[Any]:
        return iter((self.train_graph, self.test_pos, self.test_neg))


def _fraction(name: str, value: Any, allow_zero: bool) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    v = float(value) if ok else float("nan")
    if not ok or not ((0.0 <= v if allow_zero else 0.0 < v) and v < 1.0):
        lo = "[0" if allow_zero else "(0"
        raise ValidationError(f"{name}={value!r}: expected a number in {lo}, 1)")
    return v


def _spanning_forest_keys(u: np.ndarray, v: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Canonical keys ``min·n + max`` of a uniformly random-weight spanning forest of the pairs."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import minimum_spanning_tree

    a, b = np.minimum(u, v), np.maximum(u, v)
    key = np.unique(a * n + b)
    a, b = key // n, key % n
    w = rng.random(key.size) + 1.0  # strictly positive
    tree = minimum_spanning_tree(sp.csr_matrix((w, (a, b)), shape=(n, n))).tocoo()
    ta, tb = np.minimum(tree.row, tree.col).astype(np.int64), np.maximum(tree.row, tree.col).astype(np.int64)
    return np.unique(ta * n + tb)


def _sample_non_edges(count: int, n_src: int, n_dst: int, kind: str, edge_keys: np.ndarray,
                      rng: np.random.Generator, enumerate_limit: int = _ENUMERATE_LIMIT) -> np.ndarray:
    """``count`` distinct keys ``u·n_dst + v`` drawn uniformly from the pairs that are not edges.

    ``kind``: ``"sym"`` (``u < v``), ``"dir"`` (``u ≠ v``) or ``"bip"`` (all pairs). ``edge_keys``
    are the sorted unique keys of the existing pairs of that space.
    """
    if kind == "sym":
        space = n_src * (n_src - 1) // 2
    elif kind == "dir":
        space = n_src * (n_src - 1)
    else:
        space = n_src * n_dst
    free = space - edge_keys.size
    if free < count:
        raise ValidationError(f"split_edges: {count} negative pairs are needed but the graph has only "
                              f"{free} non-adjacent pairs; lower test_fraction/valid_fraction")
    if space <= enumerate_limit:
        if kind == "sym":
            u, v = np.triu_indices(n_src, k=1)
            keys = u.astype(np.int64) * n_dst + v
        else:
            keys = np.arange(space, dtype=np.int64) if kind == "bip" else None
            if kind == "dir":
                u, v = np.nonzero(~np.eye(n_src, dtype=bool))
                keys = u.astype(np.int64) * n_dst + v
        keys = keys[~np.isin(keys, edge_keys, assume_unique=True)]
        return keys[rng.choice(keys.size, size=count, replace=False)]
    out = np.empty(0, dtype=np.int64)
    while out.size < count:
        need = count - out.size
        batch = int(need * space / free * 1.2) + 64
        u = rng.integers(0, n_src, batch, dtype=np.int64)
        v = rng.integers(0, n_dst, batch, dtype=np.int64)
        if kind != "bip":
            ok = u != v
            u, v = u[ok], v[ok]
        if kind == "sym":
            u, v = np.minimum(u, v), np.maximum(u, v)
        keys = u * n_dst + v
        if edge_keys.size:
            pos = np.minimum(np.searchsorted(edge_keys, keys), edge_keys.size - 1)
            keys = keys[edge_keys[pos] != keys]
        keys = np.concatenate([out, keys])
        _, first = np.unique(keys, return_index=True)
        out = keys[np.sort(first)][:count]
    return out


def _rebuild(graph: GraphView, et: EdgeType, removed: np.ndarray, n_dst: int) -> HeteroGraph:
    """The graph rebuilt with :class:`GraphBuilder`, minus the pairs of ``et`` whose key is removed."""
    from vastgraph.graph.builder import GraphBuilder

    kinds = {graph.id_index(nt).kind for nt in graph.node_types}
    dense = kinds == {"range"}
    b = GraphBuilder(directed=True, duplicates="keep",
                     self_loops="keep", id_mode="dense" if dense else "map")
    for nt in graph.node_types:
        ids = {"count": graph.num_nodes(nt)} if dense else {"ids": graph.external_ids(nt)}
        data = {name: graph.node_data(nt, name) for name in graph.node_data_names(nt)}
        b.add_nodes(nt, features=graph.features(nt), labels=graph.labels(nt), data=data or None, **ids)
    for e in graph.edge_types:
        edges = graph.coo(e)
        src, dst = edges.src, edges.dst
        keep = np.ones(src.size, dtype=bool)
        sym = graph.is_undirected(e) and e.src == e.dst
        if sym:
            keep = src <= dst
        if e == et and removed.size:
            a, c = (np.minimum(src, dst), np.maximum(src, dst)) if sym else (src, dst)
            keep &= ~np.isin(a * n_dst + c, removed)
        b.add_edge_type((e.src, e.rel, e.dst), directed=not graph.is_undirected(e))
        s, d = src[keep], dst[keep]
        if not dense:
            s, d = graph.external_ids(e.src, s), graph.external_ids(e.dst, d)
        b.add_edges(s, d, etype=(e.src, e.rel, e.dst),
                    weight=None if edges.weight is None else np.asarray(edges.weight)[keep],
                    time=None if edges.time is None else np.asarray(edges.time)[keep])
    out = b.build()
    out.info = {**dict(getattr(graph, "info", None) or {}), "build": out.info.get("build")}
    return out


def split_edges(graph: GraphView, etype: Any = None, *, test_fraction: float = 0.1, valid_fraction: float = 0.0,
                random_state: Any = 0, keep_connected: bool = False) -> EdgeSplit:
    """Hold out edges of one edge type for link prediction, with as many negative pairs.

    The candidate pairs are the distinct pairs of the edge type, self-loops excluded (``u < v``
    for an undirected type within one node type). ``round(test_fraction · pairs)`` of them are held
    out for testing (and ``round(valid_fraction · pairs)`` for validation); every stored copy of a
    held-out pair — both directions, parallel edges — is removed from the training graph, which is
    rebuilt with :class:`GraphBuilder` (same nodes, ids, features, labels and other edge types).
    Negative pairs are drawn uniformly, without repetition, from the pairs of the same space that
    are not edges of the full graph; test and validation negatives are disjoint.

    Args:
        graph: a :class:`~vastgraph.graph.view.GraphView` (the training graph comes back as a
            local :class:`~vastgraph.graph.hetero_graph.HeteroGraph`).
        etype: the edge type to split (None: the only one).
        test_fraction: in (0, 1). Default 0.1.
        valid_fraction: in [0, 1). Default 0.0.
        random_state: None, an int or a ``numpy.random.Generator``. Default 0.
        keep_connected: hold out only edges off a random spanning forest, so the training graph
            keeps the full graph's connected components (no node loses all its edges). Default False.

    Returns:
        :class:`EdgeSplit`.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_edges(np.arange(20), (np.arange(20) + 1) % 20)
        >>> train, pos, neg = split_edges(b.build(), test_fraction=0.2, random_state=0)
        >>> pos.shape, neg.shape, train.num_undirected_edges()
        ((4, 2), (4, 2), 16)
    """
    from vastgraph.seeding import seed_from

    test_fraction = _fraction("test_fraction", test_fraction, allow_zero=False)
    valid_fraction = _fraction("valid_fraction", valid_fraction, allow_zero=True)
    if test_fraction + valid_fraction >= 1.0:
        raise ValidationError(f"test_fraction + valid_fraction = {test_fraction + valid_fraction}: "
                              "expected < 1 so that training edges remain")
    et = graph.edge_type(etype)
    n_src, n_dst = graph.num_nodes(et.src), graph.num_nodes(et.dst)
    same = et.src == et.dst
    sym = bool(graph.is_undirected(et)) and same
    kind = "sym" if sym else ("dir" if same else "bip")
    edges = graph.coo(et)
    src, dst = edges.src, edges.dst
    cand = src < dst if sym else (src != dst if same else np.ones(src.size, dtype=bool))
    pairs = np.unique(src[cand] * n_dst + dst[cand])
    m_test = int(round(test_fraction * pairs.size))
    m_valid = int(round(valid_fraction * pairs.size))
    if m_test < 1:
        raise ValidationError(f"split_edges: edge type {et} has {pairs.size} distinct pairs; "
                              f"test_fraction={test_fraction} holds out none; too few edges to split")
    if valid_fraction > 0 and m_valid < 1:
        raise ValidationError(f"split_edges: valid_fraction={valid_fraction} of {pairs.size} pairs "
                              "holds out none; too few edges to split")
    rng = np.random.default_rng(int(seed_from(random_state)))
    avail = pairs
    if keep_connected:
        n_all = n_src if same else n_src + n_dst
        pu, pv = pairs // n_dst, pairs % n_dst + (0 if same else n_src)
        tree = _spanning_forest_keys(pu, pv, n_all, rng)
        canon = np.minimum(pu, pv) * n_all + np.maximum(pu, pv)
        avail = pairs[~np.isin(canon, tree)]
    if m_test + m_valid > avail.size or (not keep_connected and m_test + m_valid >= pairs.size):
        raise ValidationError(
            f"split_edges: {m_test + m_valid} pairs to hold out but only {avail.size} of {pairs.size} "
            f"can be removed{' without disconnecting the graph' if keep_connected else ''}; "
            "too few edges to split")
    chosen = avail[rng.permutation(avail.size)[:m_test + m_valid]]
    negatives = _sample_non_edges(m_test + m_valid, n_src, n_dst, kind, pairs, rng)
    train = _rebuild(graph, et, np.sort(chosen), n_dst)
    train.info["edge_split"] = {"etype": str(et), "test": m_test, "valid": m_valid,
                                "keep_connected": bool(keep_connected)}

    def as_pairs(keys: np.ndarray) -> np.ndarray:
        return np.stack([keys // n_dst, keys % n_dst], axis=1).astype(np.int64)

    offsets = graph.node_offsets()
    return EdgeSplit(train, et, as_pairs(chosen[:m_test]), as_pairs(negatives[:m_test]),
                     as_pairs(chosen[m_test:]), as_pairs(negatives[m_test:]),
                     (int(offsets[et.src]), int(offsets[et.dst])))


# ------------------------------------------------------------------------------------------ evaluation
@dataclass(frozen=True)
class LinkPredictionResult:
    """Scores of :func:`evaluate_link_prediction` (see the module docstring for conventions)."""

    auc: float
    ap: float
    mrr: float
    hits: dict[int, float] = field(default_factory=dict)
    n_pos: int = 0
    n_neg: int = 0
    mode: str = "score"
    operator: str = "dot"

    def as_dict(self) -> dict[str, Any]:
        """Flat dict: ``auc, ap, mrr, hits@K..., n_pos, n_neg, mode, operator``."""
        out: dict[str, Any] = {"auc": self.auc, "ap": self.ap, "mrr": self.mrr}
        out.update({f"hits@{k}": v for k, v in self.hits.items()})
        out.update({"n_pos": self.n_pos, "n_neg": self.n_neg, "mode": self.mode, "operator": self.operator})
        return out


def _check_pairs(name: str, pairs: Any, n: int | None) -> np.ndarray:
    p = np.asarray(pairs)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] < 1:
        raise ValidationError(f"{name}: shape {p.shape}, expected (k, 2) with k >= 1")
    if p.dtype.kind not in "iu":
        raise ValidationError(f"{name}: dtype {p.dtype}; expected integer node ids")
    p = p.astype(np.int64)
    if n is not None and (p.min() < 0 or p.max() >= n):
        raise SchemaError(f"{name}: node id(s) outside [0, {n}) (the vectors' rows)")
    return p


def edge_features(vectors: np.ndarray, pairs: np.ndarray, operator: str) -> np.ndarray:
    """Edge features of ``pairs`` from node ``vectors`` (``(k, d)``, or ``(k, 1)`` for dot/cosine).

    Operators: ``hadamard`` ``x_u * x_v``; ``average`` ``(x_u + x_v)/2``; ``l1`` ``|x_u − x_v|``;
    ``l2`` ``(x_u − x_v)²``; ``dot`` ``x_u · x_v``; ``cosine`` ``x_u · x_v / (‖x_u‖ ‖x_v‖)``.
    """
    xu, xv = vectors[pairs[:, 0]], vectors[pairs[:, 1]]
    if operator == "hadamard":
        return xu * xv
    if operator == "average":
        return 0.5 * (xu + xv)
    if operator == "l1":
        return np.abs(xu - xv)
    if operator == "l2":
        return (xu - xv) ** 2
    if operator == "dot":
        return np.einsum("ij,ij->i", xu, xv)[:, None]
    if operator == "cosine":
        nu, nv = np.linalg.norm(xu, axis=1), np.linalg.norm(xv, axis=1)
        den = nu * nv
        dot = np.einsum("ij,ij->i", xu, xv)
        return np.divide(dot, den, out=np.zeros_like(dot), where=den > 0)[:, None]
    raise ValidationError(f"operator={operator!r}: expected one of {', '.join(FEATURE_OPERATORS)}")


def evaluate_link_prediction(vectors: Any, pos_pairs: Any, neg_pairs: Any, *, operator: str = "dot",
                             mode: str | None = None,
                             train_pairs: tuple[Any, Any] | None = None, train_fraction: float = 0.5,
                             ks: Sequence[int] = (10, 50, 100), random_state: Any = 0,
                             C: float = 1.0) -> LinkPredictionResult:
    """AUC, AP, MRR and Hits@K of embeddings (or a scorer) on positive vs negative pairs.

    Args:
        vectors: ``(n, d)`` node vectors indexed by the ids in the pairs, or a callable
            ``scorer(src, dst) -> (k,) scores`` (then ``mode`` must be ``"score"``).
        pos_pairs: ``(k⁺, 2)`` node-id pairs that are edges.
        neg_pairs: ``(k⁻, 2)`` pairs that are not.
        operator: ``"dot"`` | ``"cosine"`` (score mode) or ``"hadamard"`` | ``"average"`` | ``"l1"``
            | ``"l2"`` | ``"dot"`` | ``"cosine"`` (classifier features). Default ``"dot"``.
        mode: ``"score"`` or ``"classifier"``; None picks ``"score"`` for dot/cosine and
            ``"classifier"`` otherwise. Default None.
        train_pairs: classifier mode: ``(train_pos, train_neg)`` to fit on; all given pairs are then
            evaluated. Default None: fit on ``train_fraction`` of the given positives and negatives
            (a seeded random split) and evaluate on the rest.
        train_fraction: in (0, 1). Default 0.5.
        ks: cut-offs of Hits@K. Default (10, 50, 100).
        random_state: seed of the train/evaluation split of the pairs. Default 0.
        C: inverse regularisation of the logistic regression. Default 1.0.

    Returns:
        :class:`LinkPredictionResult` over the evaluated pairs.

    Example:
        >>> x = np.array([[1.0, 0], [1, 0], [0, 1], [0, 1]])
        >>> r = evaluate_link_prediction(x, [[0, 1], [2, 3]], [[0, 2], [1, 3]], ks=(1,))
        >>> r.auc, r.hits
        (1.0, {1: 1.0})
    """
    scorer: Callable[[np.ndarray, np.ndarray], Any] | None = vectors if callable(vectors) else None
    x = None if scorer is not None else _check_vectors(vectors)
    if operator not in FEATURE_OPERATORS:
        raise ValidationError(f"operator={operator!r}: expected one of {', '.join(FEATURE_OPERATORS)}")
    if mode is None:
        mode = "score" if (scorer is not None or operator in SCORE_OPERATORS) else "classifier"
    if mode not in MODES:
        raise ValidationError(f"mode={mode!r}: expected one of {', '.join(MODES)}")
    if mode == "score" and scorer is None and operator not in SCORE_OPERATORS:
        raise ValidationError(f"operator={operator!r} with mode='score': expected one of "
                              f"{', '.join(SCORE_OPERATORS)} (other operators need mode='classifier')")
    if mode == "classifier" and scorer is not None:
        raise ValidationError("mode='classifier' needs node vectors, not a scorer")
    ks = tuple(ks)
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValidationError(f"ks: {k!r} is not an integer >= 1")
    n = None if x is None else x.shape[0]
    pos = _check_pairs("pos_pairs", pos_pairs, n)
    neg = _check_pairs("neg_pairs", neg_pairs, n)

    if mode == "score":
        if scorer is not None:
            both = np.concatenate([pos, neg])
            s = np.asarray(scorer(both[:, 0], both[:, 1]), dtype=np.float64).reshape(-1)
            if s.shape != (both.shape[0],) or not np.isfinite(s).all():
                raise ValidationError(f"scorer: returned shape {s.shape} (expected ({both.shape[0]},)) "
                                      "or non-finite scores")
            s_pos, s_neg = s[:pos.shape[0]], s[pos.shape[0]:]
        else:
            s_pos = edge_features(x, pos, operator)[:, 0]
            s_neg = edge_features(x, neg, operator)[:, 0]
    else:
        from sklearn.linear_model import LogisticRegression

        if train_pairs is not None:
            if not isinstance(train_pairs, (tuple, list)) or len(train_pairs) != 2:
                raise ValidationError("train_pairs: expected (train_pos, train_neg)")
            tr_pos = _check_pairs("train_pairs[0]", train_pairs[0], n)
            tr_neg = _check_pairs("train_pairs[1]", train_pairs[1], n)
        else:
            frac = _fraction("train_fraction", train_fraction, allow_zero=False)
            rng = np.random.default_rng(sklearn_seed(random_state))
            parts = []
            for name, p in (("pos_pairs", pos), ("neg_pairs", neg)):
                k = int(round(frac * p.shape[0]))
                if k < 1 or k >= p.shape[0]:
                    raise ValidationError(f"{name}: {p.shape[0]} pairs cannot be split by train_fraction="
                                          f"{frac} into non-empty training and evaluation parts")
                perm = rng.permutation(p.shape[0])
                parts.append((p[perm[:k]], p[perm[k:]]))
            (tr_pos, pos), (tr_neg, neg) = parts
        feats = edge_features(x, np.concatenate([tr_pos, tr_neg]), operator)
        y = np.r_[np.ones(tr_pos.shape[0]), np.zeros(tr_neg.shape[0])]
        clf = LogisticRegression(solver="liblinear", C=float(C), random_state=sklearn_seed(random_state))
        clf.fit(feats, y)
        s_pos = clf.decision_function(edge_features(x, pos, operator))
        s_neg = clf.decision_function(edge_features(x, neg, operator))

    labels = np.r_[np.ones(s_pos.size), np.zeros(s_neg.size)]
    scores = np.r_[s_pos, s_neg]
    return LinkPredictionResult(
        auc=roc_auc(labels, scores), ap=average_precision(labels, scores), mrr=mrr(s_pos, s_neg),
        hits={int(k): hits_at_k(s_pos, s_neg, int(k)) for k in ks}, n_pos=int(s_pos.size),
        n_neg=int(s_neg.size), mode=mode, operator="scorer" if scorer is not None else operator)
