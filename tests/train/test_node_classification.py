"""Node-classification protocol: quality separation, top-k logic, reference equality, determinism."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from vastgraph.errors import ValidationError
from vastgraph.train.metrics import f1_scores
from vastgraph.train.node_classification import (NodeClassificationResult, evaluate_node_classification,
                                                 top_k_predictions)


def blocks(n_blocks=4, size=60, noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_blocks), size)
    good = np.eye(n_blocks)[y] + noise * rng.standard_normal((y.size, n_blocks))
    rand = rng.standard_normal((y.size, 8))
    return good, rand, y


def test_good_embedding_scores_high_random_at_chance():
    good, rand, y = blocks()
    r_good = evaluate_node_classification(good, y)
    r_rand = evaluate_node_classification(rand, y)
    assert r_good.micro(0.5) > 0.95 and r_good.macro(0.1) > 0.9
    assert abs(r_rand.micro(0.5) - 0.25) < 0.1 and abs(r_rand.micro(0.1) - 0.25) < 0.1
    assert not r_good.multilabel and r_good.n_labeled == 240 and r_good.n_classes == 4


def test_top_k_predictions_hand_made():
    scores = np.array([[0.9, 0.1, 0.5, 0.3],
                       [0.2, 0.3, 0.1, 0.0],
                       [0.5, 0.5, 0.5, 0.1]])
    pred = top_k_predictions(scores, np.array([2, 1, 2]))
    np.testing.assert_array_equal(pred, [[1, 0, 1, 0], [0, 1, 0, 0], [1, 1, 0, 0]])
    np.testing.assert_array_equal(top_k_predictions(scores, np.array([0, 4, 3])).sum(axis=1), [0, 4, 3])


def reference_protocol(x, y, ratio, repeats, seed):
    """The peers' eval_multilabel protocol written directly with scikit-learn."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import ShuffleSplit
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import normalize

    x = normalize(x, norm="l2")
    mi, ma = [], []
    for tr, te in ShuffleSplit(n_splits=repeats, test_size=1 - ratio, random_state=seed).split(x):
        clf = OneVsRestClassifier(LogisticRegression(solver="liblinear", C=1.0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(x[tr], y[tr])
            score = clf.predict_proba(x[te])
        yt = y[te]
        pred = np.zeros_like(yt)
        for i, k in enumerate(yt.sum(axis=1)):
            pred[i, np.argsort(-score[i])[:k]] = 1
        mi.append(f1_score(yt, pred, average="micro", zero_division=0))
        ma.append(f1_score(yt, pred, average="macro", zero_division=0))
    return np.mean(mi), np.mean(ma)


def test_multilabel_matches_reference_protocol():
    rng = np.random.default_rng(1)
    n, c = 200, 5
    y = (rng.random((n, c)) < 0.25).astype(np.uint8)
    y[np.arange(n), rng.integers(0, c, n)] = 1  # at least one label each
    x = y + 0.8 * rng.standard_normal((n, c))
    res = evaluate_node_classification(x, y, train_ratios=(0.3, 0.5), repeats=3, random_state=4)
    assert res.multilabel and res.n_classes == c
    for ratio in (0.3, 0.5):
        mi, ma = reference_protocol(x, y, ratio, 3, 4)
        assert res.micro(ratio) == pytest.approx(mi, abs=1e-12)
        assert res.macro(ratio) == pytest.approx(ma, abs=1e-12)
    assert 0.5 < res.micro(0.5) < 1.0


def test_unknown_labels_are_excluded():
    good, _, y = blocks()
    y = y.copy()
    y[::3] = -1
    res = evaluate_node_classification(good, y, train_ratios=(0.5,), repeats=2)
    assert res.n_labeled == int((y >= 0).sum()) and res.micro(0.5) > 0.95
    multi = np.eye(4, dtype=np.uint8)[np.repeat(np.arange(4), 60)]
    multi[:10] = 0
    assert evaluate_node_classification(good, multi, train_ratios=(0.5,), repeats=1).n_labeled == 230


def test_deterministic_by_seed_and_tables():
    _, rand, y = blocks(seed=2)
    a = evaluate_node_classification(rand, y, random_state=3)
    b = evaluate_node_classification(rand, y, random_state=3)
    c = evaluate_node_classification(rand, y, random_state=4)
    assert a == b and a.micro_f1 != c.micro_f1
    rows = a.rows()
    assert [r["train_ratio"] for r in rows] == [0.1, 0.5] and rows[0]["repeats"] == 5
    assert rows[1]["micro_f1"] == pytest.approx(np.mean(a.micro_f1[1]))
    assert rows[1]["micro_f1_std"] == pytest.approx(np.std(a.micro_f1[1]))
    frame = a.to_frame()
    assert list(frame.index) == [0.1, 0.5] and "macro_f1_std" in frame.columns
    with pytest.raises(ValidationError, match="ratio=0.3: not evaluated"):
        a.micro(0.3)
    assert isinstance(a, NodeClassificationResult)


def test_f1_scores_agree_with_sklearn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(5)
    t = rng.integers(0, 5, 300)
    p = np.where(rng.random(300) < 0.6, t, rng.integers(0, 7, 300))
    assert f1_scores(t, p) == pytest.approx((f1_score(t, p, average="micro"),
                                             f1_score(t, p, average="macro", zero_division=0)))
    tm = (rng.random((100, 6)) < 0.3).astype(int)
    pm = (rng.random((100, 6)) < 0.3).astype(int)
    tm[:, 5] = 0
    pm[:, 5] = 0  # a column with no true and no predicted positive
    assert f1_scores(tm, pm) == pytest.approx((f1_score(tm, pm, average="micro", zero_division=0),
                                               f1_score(tm, pm, average="macro", zero_division=0)))


@pytest.mark.parametrize("make,match", [
    (lambda x, y: (x[:10], y), "labels: shape"),
    (lambda x, y: (np.where(np.arange(x.shape[0])[:, None] == 7, np.nan, x), y), "row 7 holds NaN"),
    (lambda x, y: (x[:, 0], y), "vectors: shape"),
    (lambda x, y: (x, np.full_like(y, -1)), "all 240 nodes are unknown"),
    (lambda x, y: (x, y - 2), "< -1"),
    (lambda x, y: (x, 2 * np.eye(4, dtype=int)[y]), "must hold 0/1"),
    (lambda x, y: (x, y + 0.5), "expected integers"),
])
def test_bad_inputs(make, match):
    good, _, y = blocks()
    x, lab = make(good, y)
    with pytest.raises(ValidationError, match=match):
        evaluate_node_classification(x, lab)


@pytest.mark.parametrize("kwargs,match", [
    ({"train_ratios": (0.0,)}, r"0.0 is not in \(0, 1\)"),
    ({"train_ratios": (0.5, 1.0)}, r"1.0 is not in \(0, 1\)"),
    ({"train_ratios": 1.5}, r"1.5 is not in \(0, 1\)"),
    ({"train_ratios": ()}, "empty"),
    ({"repeats": 0}, "repeats=0"),
    ({"C": -1.0}, "C=-1.0"),
])
def test_bad_parameters(kwargs, match):
    good, _, y = blocks()
    with pytest.raises(ValidationError, match=match):
        evaluate_node_classification(good, y, **kwargs)


def test_too_few_labelled_nodes_for_a_split():
    good, _, y = blocks()
    lab = np.full_like(y, -1)
    lab[0] = 1
    with pytest.raises(ValidationError, match="leaves 0 training"):
        evaluate_node_classification(good, lab, train_ratios=(0.5,))
