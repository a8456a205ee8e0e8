"""Ranking and classification metrics used by the evaluation protocols (numpy, vectorised).

Each function reproduces the scikit-learn definition where one exists (``f1_score`` with
``zero_division=0``, ``roc_auc_score``, ``average_precision_score``) and is tested against it.
Link-prediction ranks follow one convention (:func:`ranks_against_negatives`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vastgraph.errors import ValidationError


def _binary(labels: Any, scores: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=np.float64)
    if y.ndim != 1 or s.shape != y.shape:
        raise ValidationError(f"{name}: labels shape {y.shape} and scores shape {s.shape} must be "
                              "equal and 1-D")
    if not np.isfinite(s).all():
        raise ValidationError(f"{name}: scores hold NaN/inf")
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValidationError(f"{name}: labels must be 0/1")
    y = y.astype(bool)
    if y.all() or not y.any():
        raise ValidationError(f"{name}: needs both positive and negative labels "
                              f"(got {int(y.sum())} positive of {y.size})")
    return y, s


def roc_auc(labels: Any, scores: Any) -> float:
    """Area under the ROC curve: ``P(s⁺ > s⁻) + ½ P(s⁺ = s⁻)`` (Mann–Whitney with tie correction).

    Args:
        labels: 0/1 ``(n,)``.
        scores: ``(n,)``, higher means more likely positive.

    Example:
        >>> roc_auc([0, 1, 1, 0], [0.1, 0.9, 0.5, 0.5])
        0.875
    """
    y, s = _binary(labels, scores, "roc_auc")
    order = np.argsort(s, kind="mergesort")
    ss = s[order]
    # average ranks (1-based) over ties
    starts = np.r_[0, np.flatnonzero(np.diff(ss)) + 1]
    ends = np.r_[starts[1:], ss.size]
    avg = (starts + ends + 1) / 2.0
    ranks = np.empty(ss.size)
    ranks[order] = np.repeat(avg, ends - starts)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def average_precision(labels: Any, scores: Any) -> float:
    """Average precision ``Σ_n (R_n − R_{n−1}) P_n`` over distinct score thresholds (no interpolation).

    Example:
        >>> round(average_precision([0, 1, 1, 0], [0.1, 0.9, 0.5, 0.5]), 4)
        0.8333
    """
    y, s = _binary(labels, scores, "average_precision")
    order = np.argsort(-s, kind="mergesort")
    ys, ss = y[order], s[order]
    last = np.r_[np.flatnonzero(np.diff(ss)), ss.size - 1]  # end of each tie group
    tp = np.cumsum(ys)[last]
    fp = (last + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / tp[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def ranks_against_negatives(pos_scores: Any, neg_scores: Any) -> np.ndarray:
    """Rank of each positive among negatives: ``1 + #(neg > pos) + ½ #(neg = pos)``.

    ``neg_scores`` 1-D: every positive is ranked against the same global list of negatives (the
    OGB ``collab``/``ppa`` convention). 2-D ``(n_pos, k)``: row ``i`` holds positive ``i``'s own
    negatives (the OGB ``citation2`` convention).

    Returns:
        float64 ``(n_pos,)`` ranks (half-integers where ties occur).
    """
    pos = np.asarray(pos_scores, dtype=np.float64)
    neg = np.asarray(neg_scores, dtype=np.float64)
    if pos.ndim != 1:
        raise ValidationError(f"pos_scores: shape {pos.shape}, expected (n_pos,)")
    if not (np.isfinite(pos).all() and np.isfinite(neg).all()):
        raise ValidationError("ranks_against_negatives: scores hold NaN/inf")
    if neg.ndim == 1:
        if neg.size == 0:
            raise ValidationError("neg_scores: no negatives to rank against")
        srt = np.sort(neg)
        greater = srt.size - np.searchsorted(srt, pos, side="right")
        equal = np.searchsorted(srt, pos, side="right") - np.searchsorted(srt, pos, side="left")
    elif neg.ndim == 2 and neg.shape[0] == pos.shape[0] and neg.shape[1] > 0:
        greater = (neg > pos[:, None]).sum(axis=1)
        equal = (neg == pos[:, None]).sum(axis=1)
    else:
        raise ValidationError(f"neg_scores: shape {neg.shape}, expected (n_neg,) or "
                              f"({pos.shape[0]}, k) with k >= 1")
    return 1.0 + greater + 0.5 * equal


def mrr(pos_scores: Any, neg_scores: Any) -> float:
    """Mean reciprocal rank of the positives (ranks of :func:`ranks_against_negatives`)."""
    return float(np.mean(1.0 / ranks_against_negatives(pos_scores, neg_scores)))


def hits_at_k(pos_scores: Any, neg_scores: Any, k: int) -> float:
    """Fraction of positives whose rank (:func:`ranks_against_negatives`) is at most ``k``."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValidationError(f"k={k!r}: expected an integer >= 1")
    return float(np.mean(ranks_against_negatives(pos_scores, neg_scores) <= k))


def f1_scores(y_true: Any, y_pred: Any) -> tuple[float, float]:
    """``(micro F1, macro F1)`` as scikit-learn's ``f1_score(..., zero_division=0)``.

    1-D class ids: macro averages over the classes present in ``y_true`` or ``y_pred``.
    2-D 0/1 indicator matrices (multi-label): macro averages over all columns; a column with no
    true and no predicted positive scores 0. Per class ``F1 = 2TP / (2TP + FP + FN)``.

    Example:
        >>> f1_scores([0, 1, 1], [0, 1, 0])
        (0.6666666666666666, 0.6666666666666666)
    """
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    if t.shape != p.shape or t.ndim not in (1, 2):
        raise ValidationError(f"f1_scores: y_true shape {t.shape} and y_pred shape {p.shape} must be "
                              "equal, 1-D class ids or 2-D indicator matrices")
    if t.ndim == 1:
        classes, inv = np.unique(np.r_[t, p], return_inverse=True)
        c = classes.size
        ti, pi = inv[:t.size], inv[t.size:]
        tp = np.bincount(ti[ti == pi], minlength=c).astype(np.float64)
        fp = np.bincount(pi, minlength=c) - tp
        fn = np.bincount(ti, minlength=c) - tp
    else:
        tb, pb = t.astype(bool), p.astype(bool)
        tp = (tb & pb).sum(axis=0).astype(np.float64)
        fp = (~tb & pb).sum(axis=0).astype(np.float64)
        fn = (tb & ~pb).sum(axis=0).astype(np.float64)
    den = 2 * tp + fp + fn
    per_class = np.divide(2 * tp, den, out=np.zeros_like(tp), where=den > 0)
    tot = 2 * tp.sum() + fp.sum() + fn.sum()
    micro = float(2 * tp.sum() / tot) if tot > 0 else 0.0
    macro = float(per_class.mean()) if per_class.size else 0.0
    return micro, macro
