"""Node-classification evaluation of embeddings: the DeepWalk / NetMF protocol.

Perozzi et al. (KDD 2014), Qiu et al. (WSDM 2018, ``predict.py``), as run by the peer benchmarks
(``shared/peers/common.py: eval_multilabel``):

1. vectors are L2-normalised (zero rows stay zero);
2. for each training ratio ``r`` and each of ``repeats`` splits of
   ``sklearn.model_selection.ShuffleSplit(n_splits=repeats, test_size=1 − r, random_state)`` over
   the labelled nodes, a one-vs-rest liblinear logistic regression (``C``) is trained;
3. multi-label: each test node gets its ``k`` highest-scoring labels, ``k`` = its true label count;
   single-label: the arg-max class;
4. micro- and macro-F1 (``zero_division=0``) per split, reported as mean and (population) std.

The splits depend only on ``random_state`` and the number of labelled nodes, so every method
evaluated with the same seed sees the same splits.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.seeding import sklearn_seed
from vastgraph.train.metrics import f1_scores


@dataclass(frozen=True)
class NodeClassificationResult:
    """Per-ratio, per-split micro/macro F1 of :func:`evaluate_node_classification`.

    Attributes:
        train_ratios: the training ratios, in the order given.
        micro_f1: ``micro_f1[i][j]`` for ratio ``i``, split ``j``.
        macro_f1: likewise.
        multilabel: whether labels were multi-hot.
        n_labeled: labelled nodes the splits were drawn from.
        n_classes: number of classes (label columns).
    """

    train_ratios: tuple[float, ...]
    micro_f1: tuple[tuple[float, ...], ...]
    macro_f1: tuple[tuple[float, ...], ...]
    multilabel: bool
    n_labeled: int
    n_classes: int

    def _index(self, ratio: float) -> int:
        for i, r in enumerate(self.train_ratios):
            if abs(r - ratio) < 1e-12:
                return i
        raise ValidationError(f"ratio={ratio!r}: not evaluated; evaluated ratios: "
                              f"{', '.join(map(str, self.train_ratios))}")

    def micro(self, ratio: float) -> float:
        """Mean micro-F1 at ``ratio``."""
        return float(np.mean(self.micro_f1[self._index(ratio)]))

    def macro(self, ratio: float) -> float:
        """Mean macro-F1 at ``ratio``."""
        return float(np.mean(self.macro_f1[self._index(ratio)]))

    def rows(self) -> list[dict[str, Any]]:
        """One dict per ratio: ``train_ratio, micro_f1, micro_f1_std, macro_f1, macro_f1_std, repeats``."""
        out = []
        for r, mi, ma in zip(self.train_ratios, self.micro_f1, self.macro_f1):
            out.append({"train_ratio": r, "micro_f1": float(np.mean(mi)), "micro_f1_std": float(np.std(mi)),
                        "macro_f1": float(np.mean(ma)), "macro_f1_std": float(np.std(ma)),
                        "repeats": len(mi)})
        return out

    def to_frame(self) -> Any:
        """:meth:`rows` as a ``pandas.DataFrame`` indexed by ``train_ratio``."""
        import pandas as pd

        return pd.DataFrame(self.rows()).set_index("train_ratio")


def _check_vectors(vectors: Any, name: str = "vectors") -> np.ndarray:
    x = np.asarray(vectors)
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValidationError(f"{name}: shape {x.shape}, expected (n_nodes, dimensions)")
    if x.dtype.kind not in "fiu":
        raise ValidationError(f"{name}: dtype {x.dtype}; expected numbers")
    x = x.astype(np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        r = int(np.argwhere(bad)[0][0])
        raise ValidationError(f"{name}: row {r} holds NaN/inf ({int(bad.any(axis=1).sum())} rows in all)")
    return x


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm; zero rows stay zero."""
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    norm[norm == 0] = 1.0
    return x / norm



def top_k_predictions(scores: np.ndarray, k: np.ndarray) -> np.ndarray:
    """0/1 matrix with the ``k[i]`` highest ``scores[i]`` set per row (ties: lower column first)."""
    n, c = scores.shape
    order = np.argsort(-scores, axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(n)[:, None], order] = np.arange(c)[None, :]
    return (rank < np.asarray(k)[:, None]).astype(np.int64)


def _check_ratios(train_ratios: Any) -> tuple[float, ...]:
    ratios = (train_ratios,) if np.isscalar(train_ratios) else tuple(train_ratios)
    if not ratios:
        raise ValidationError("train_ratios: empty; expected ratios in (0, 1)")
    out = []
    for r in ratios:
        if isinstance(r, bool) or not isinstance(r, (int, float, np.integer, np.floating)) \
                or not 0.0 < float(r) < 1.0:
            raise ValidationError(f"train_ratios: {r!r} is not in (0, 1)")
        out.append(float(r))
    return tuple(out)


def evaluate_node_classification(vectors: Any, labels: Any, *, train_ratios: Sequence[float] = (0.1, 0.5),
                                 repeats: int = 5, random_state: Any = 0, C: float = 1.0,
                                 n_jobs: int | None = None) -> NodeClassificationResult:
    """Micro/macro-F1 of one-vs-rest logistic regression on the vectors (DeepWalk/NetMF protocol).

    Args:
        vectors: ``(n, d)`` node vectors (finite).
        labels: ``(n,)`` class ids with -1 for unknown, or ``(n, C)`` 0/1 multi-hot (an all-zero
            row is unknown). Unknown nodes take part in no split.
        train_ratios: fractions of labelled nodes used for training, each in (0, 1).
            Default (0.1, 0.5).
        repeats: splits per ratio. Default 5.
        random_state: seed of the ``ShuffleSplit`` splits (and of liblinear). Default 0.
        C: inverse L2 regularisation of the logistic regression. Default 1.0.
        n_jobs: processes for the one-vs-rest fits (joblib). Default None (one).

    Returns:
        :class:`NodeClassificationResult`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> y = np.repeat([0, 1], 50)
        >>> x = np.eye(2)[y] + 0.1 * rng.standard_normal((100, 2))
        >>> evaluate_node_classification(x, y, train_ratios=(0.5,), repeats=2).micro(0.5)
        1.0
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import ShuffleSplit
    from sklearn.multiclass import OneVsRestClassifier

    x = _check_vectors(vectors)
    n = x.shape[0]
    y = np.asarray(labels)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValidationError(f"labels: shape {y.shape}, expected ({n},) or ({n}, C) to match vectors "
                              f"of shape {x.shape}")
    if y.dtype.kind not in "iub" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise ValidationError(f"labels: dtype {y.dtype}; expected integers")
    ratios = _check_ratios(train_ratios)
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValidationError(f"repeats={repeats!r}: expected an integer >= 1")
    if isinstance(C, bool) or not isinstance(C, (int, float, np.integer, np.floating)) \
            or not np.isfinite(C) or C <= 0:
        raise ValidationError(f"C={C!r}: expected a positive number")
    multilabel = y.ndim == 2
    if multilabel:
        y = y.astype(np.int64)
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValidationError("labels: a multi-label matrix must hold 0/1")
        known = np.flatnonzero(y.sum(axis=1) > 0)
        n_classes = y.shape[1]
    else:
        y = y.astype(np.int64)
        if y.size and y.min() < -1:
            raise ValidationError(f"labels: {int(y.min())} < -1 (-1 marks unknown)")
        known = np.flatnonzero(y >= 0)
        n_classes = int(y.max(initial=-1) + 1)
    if known.size == 0:
        raise ValidationError(f"labels: all {n} nodes are unknown; nothing to evaluate")
    xk = l2_normalize(x[known])
    yk = y[known]
    for r in ratios:
        n_test = int(np.ceil((1.0 - r) * known.size))
        if n_test < 1 or known.size - n_test < 1:
            raise ValidationError(f"train_ratios: {r} leaves {known.size - n_test} training and {n_test} "
                                  f"test nodes of {known.size} labelled ones; each needs at least one")
    seed = sklearn_seed(random_state)
    micro_all, macro_all = [], []
    for r in ratios:
        mi, ma = [], []
        splitter = ShuffleSplit(n_splits=int(repeats), test_size=1 - r, random_state=seed)
        for tr, te in splitter.split(xk):
            clf = OneVsRestClassifier(LogisticRegression(solver="liblinear", C=float(C), random_state=seed),
                                      n_jobs=n_jobs)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=UserWarning)
                warnings.simplefilter("ignore", category=ConvergenceWarning)
                warnings.simplefilter("ignore", category=FutureWarning)
                clf.fit(xk[tr], yk[tr])
                if multilabel:
                    pred = top_k_predictions(clf.predict_proba(xk[te]), yk[te].sum(axis=1))
                else:
                    pred = clf.predict(xk[te])
            f_mi, f_ma = f1_scores(yk[te], pred)
            mi.append(f_mi)
            ma.append(f_ma)
        micro_all.append(tuple(mi))
        macro_all.append(tuple(ma))
    return NodeClassificationResult(ratios, tuple(micro_all), tuple(macro_all), multilabel,
                                    int(known.size), n_classes)
