"""The GATNE protocol: ROC-AUC / PR-AUC / top-P F1 per relation and their mean."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.train.multiplex_eval import cosine_pair_scorer, evaluate_link_pairs, link_metrics


def test_link_metrics_known_values():
    m = link_metrics([1, 1, 0, 0], [0.9, 0.2, 0.5, 0.1])
    assert m["roc_auc"] == pytest.approx(0.75)
    # top-2 predicted positive: 0.9 (true) and 0.5 (false) -> precision 1/2, recall 1/2
    assert m["f1"] == pytest.approx(0.5)
    assert 0.0 < m["pr_auc"] <= 1.0 and m["n_pos"] == 2 and m["n_neg"] == 2
    perfect = link_metrics([0, 1, 0, 1], [0.0, 1.0, 0.1, 0.9])
    assert perfect["roc_auc"] == perfect["f1"] == 1.0 and perfect["pr_auc"] == pytest.approx(1.0)


def test_link_metrics_errors():
    with pytest.raises(EmptyInputError):
        link_metrics([1, 1], [0.1, 0.2])
    with pytest.raises(ValidationError, match="non-finite"):
        link_metrics([1, 0], [np.nan, 0.2])
    with pytest.raises(ValidationError, match="same length"):
        link_metrics([1, 0, 1], [0.1, 0.2])


def test_evaluate_per_relation_with_relation_vectors():
    rng = np.random.default_rng(0)
    n, d = 40, 8
    vec = rng.normal(size=(2, n, d)).astype(np.float32)
    src = rng.integers(0, n, 200)
    dst = rng.integers(0, n, 200)
    et = np.repeat([0, 1], 100)
    score = cosine_pair_scorer(vec)
    s0 = np.array([score(src[i:i + 1], dst[i:i + 1], int(et[i]))[0] for i in range(200)])
    label = (s0 > np.median(s0)).astype(np.int64)
    split = {"src": src, "dst": dst, "etype": et, "label": label}
    res = evaluate_link_pairs(score, split, ["x", "y"])
    assert res["x"]["roc_auc"] == pytest.approx(1.0) and res["y"]["f1"] == pytest.approx(1.0)
    # the other relation's vectors do not know these labels
    swapped = evaluate_link_pairs(cosine_pair_scorer(vec[::-1]), split, ["x", "y"])
    assert swapped["mean"]["roc_auc"] < 0.8
    sel = et == 0
    assert res["x"]["roc_auc"] == pytest.approx(roc_auc_score(label[sel], s0[sel]))
    assert res["mean"]["roc_auc"] == pytest.approx(np.mean([res["x"]["roc_auc"], res["y"]["roc_auc"]]))


def test_evaluate_bad_split():
    split = {"src": np.array([0]), "dst": np.array([1]), "etype": np.array([3]), "label": np.array([1])}
    with pytest.raises(ValidationError, match="etype"):
        evaluate_link_pairs(lambda u, v, r: np.zeros(u.size), split, ["a"])
