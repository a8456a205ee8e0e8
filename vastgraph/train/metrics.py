"""Ranking and classification metrics used by the evaluation protocols.

ROC AUC, average precision and F1 come from scikit-learn (``roc_auc_score``,
``average_precision_score``, ``f1_score`` with ``zero_division=0``, imported when first used);
these wrappers add the library's input checks and error messages. Link-prediction ranks, which
scikit-learn does not provide, follow one convention (:func:`ranks_against_negatives`, vectorised
numpy).
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
    from sklearn.metrics import roc_auc_score

    y, s = _binary(labels, scores, "roc_auc")
    return float(roc_auc_score(y, s))


def average_precision(labels: Any, scores: Any) -> float:
    """Average precision ``Σ_n (R_n − R_{n−1}) P_n`` over distinct score thresholds (no interpolation).

    Example:
        >>> round(average_precision([0, 1, 1, 0], [0.1, 0.9, 0.5, 0.5]), 4)
        0.8333
    """
    from sklearn.metrics import average_precision_score

    y, s = _binary(labels, scores, "average_precision")
    return float(average_precision_score(y, s))


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
    if t.size == 0:
        return 0.0, 0.0
    from sklearn.metrics import f1_score

    if t.ndim == 1:  # class ids of any kind → codes 0..C-1 of the classes present in either
        _, inv = np.unique(np.r_[t, p], return_inverse=True)
        inv = inv.reshape(-1)
        t, p = inv[:t.size], inv[t.size:]
    else:
        t, p = t.astype(bool).astype(np.uint8), p.astype(bool).astype(np.uint8)
    micro = f1_score(t, p, average="micro", zero_division=0)
    macro = f1_score(t, p, average="macro", zero_division=0)
    return float(micro), float(macro)
