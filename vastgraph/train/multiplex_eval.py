"""The GATNE link-prediction protocol on a multiplex graph: ROC-AUC, PR-AUC and F1 per relation.

Cen et al., *Representation Learning for Attributed Multiplex Heterogeneous Network*, KDD 2019,
§4 (evaluation): each relation ``r`` has test pairs with labels (true edges and the dataset's
sampled non-edges); a method scores every pair with its relation-``r`` representation (cosine of
the two nodes' relation-``r`` embeddings for an embedder), and per relation

* ROC-AUC — ``sklearn.metrics.roc_auc_score``;
* PR-AUC — the area under the precision–recall curve (``auc(recall, precision)`` of
  ``precision_recall_curve``, as the paper's evaluation code computes it);
* F1 — of the prediction "edge" for the ``P`` highest-scored pairs, ``P`` = the number of true
  edges of that relation (the paper's threshold rule: no threshold is tuned on the test labels
  beyond their count).

The paper reports the unweighted mean over relations (``"mean"`` here).

Example:
    >>> import numpy as np
    >>> split = {"src": np.array([0, 1, 2, 3]), "dst": np.array([1, 2, 3, 0]),
    ...          "etype": np.array([0, 0, 0, 0]), "label": np.array([1, 1, 0, 0])}
    >>> res = evaluate_link_pairs(lambda u, v, r: -np.abs(u - v).astype(float), split, ["r"])
    >>> res["r"]["roc_auc"], res["r"]["f1"]
    (0.75, 1.0)
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from vastgraph.errors import EmptyInputError, ValidationError

#: pair scorer(u dense ids (p,), v dense ids (p,), relation index) -> scores (p,), higher = more likely an edge
PairScorer = Callable[[np.ndarray, np.ndarray, int], np.ndarray]

METRICS = ("roc_auc", "pr_auc", "f1")


def link_metrics(labels: Any, scores: Any) -> dict[str, float]:
    """ROC-AUC, PR-AUC and top-``P`` F1 of one relation's scored pairs (see the module docstring).

    Args:
        labels: 0/1 ``(p,)``, both classes present.
        scores: finite float ``(p,)``.

    Returns:
        ``{"roc_auc", "pr_auc", "f1", "n_pos", "n_neg"}``.
    """
    from sklearn.metrics import auc, f1_score, precision_recall_curve, roc_auc_score

    y = np.asarray(labels).astype(np.int64).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValidationError(f"labels {y.shape} and scores {s.shape} must have the same length")
    if not np.isin(y, (0, 1)).all():
        raise ValidationError("labels: expected 0/1 values")
    if not np.isfinite(s).all():
        raise ValidationError(f"scores: {int((~np.isfinite(s)).sum())} non-finite value(s)")
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == y.size:
        raise EmptyInputError(f"labels: need both true edges and non-edges; got {n_pos} of {y.size} positive")
    prec, rec, _ = precision_recall_curve(y, s)
    pred = np.zeros(y.size, np.int64)
    pred[np.argsort(-s, kind="stable")[:n_pos]] = 1
    return {"roc_auc": float(roc_auc_score(y, s)), "pr_auc": float(auc(rec, prec)),
            "f1": float(f1_score(y, pred)), "n_pos": n_pos, "n_neg": int(y.size - n_pos)}


def evaluate_link_pairs(scorer: PairScorer, split: dict[str, np.ndarray], relations: Sequence[Any]
                        ) -> dict[str, dict[str, float]]:
    """The GATNE protocol: per relation and their mean, on labelled pairs.

    Args:
        scorer: ``scorer(u, v, r) -> scores``, ``r`` the relation's index in ``relations``.
        split: ``{"src", "dst", "etype", "label"}`` equal-length arrays (dense ids; ``etype`` indexes
            ``relations``), e.g. ``Dataset.splits["test"]`` of a GATNE-format dataset.
        relations: relation names (edge types' ``rel`` or any labels), in index order.

    Returns:
        ``{relation name: {"roc_auc", "pr_auc", "f1", "n_pos", "n_neg"}, "mean": {"roc_auc", "pr_auc", "f1"}}``
        over the relations that have labelled pairs.
    """
    src, dst = np.asarray(split["src"], np.int64), np.asarray(split["dst"], np.int64)
    et, label = np.asarray(split["etype"], np.int64), np.asarray(split["label"], np.int64)
    if not (src.size == dst.size == et.size == label.size):
        raise ValidationError("split: src, dst, etype and label must have equal lengths")
    if et.size and (et.min() < 0 or et.max() >= len(relations)):
        raise ValidationError(f"split['etype']: values in [{et.min()}, {et.max()}], expected [0, {len(relations)})")
    out: dict[str, dict[str, float]] = {}
    for r, name in enumerate(relations):
        sel = et == r
        if not sel.any():
            continue
        s = np.asarray(scorer(src[sel], dst[sel], r), dtype=np.float64)
        if s.shape != (int(sel.sum()),):
            raise ValidationError(f"scorer returned shape {s.shape} for relation {name!r}; expected ({int(sel.sum())},)")
        out[str(getattr(name, "rel", name))] = link_metrics(label[sel], s)
    if not out:
        raise EmptyInputError("split: no labelled pairs for any relation")
    out["mean"] = {m: float(np.mean([v[m] for v in out.values()])) for m in METRICS}
    return out


def cosine_pair_scorer(vectors: Any) -> PairScorer:
    """Cosine of the two nodes' vectors: one ``(n, d)`` matrix for every relation, or one per relation
    (a sequence / ``(m, n, d)`` array, e.g. ``GATNE.relation_embeddings_``)."""
    arr = [np.asarray(v, np.float32) for v in vectors] if isinstance(vectors, (list, tuple)) \
        else np.asarray(vectors, np.float32)
    per_rel = isinstance(arr, list) or arr.ndim == 3
    mats = list(arr) if per_rel else [arr]
    for x in mats:
        if x.ndim != 2:
            raise ValidationError(f"vectors: expected (n, d) matrices; got shape {x.shape}")
    mats = [x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12) for x in mats]

    def score(u: np.ndarray, v: np.ndarray, r: int) -> np.ndarray:
        x = mats[r] if per_rel else mats[0]
        return (x[u] * x[v]).sum(axis=1).astype(np.float64)

    return score
