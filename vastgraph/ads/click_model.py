"""Click-through-rate model for search ads, with and without graph features.

Reference: the feature families of production CTR models for sponsored search — position, bid,
historic CTR of the query and the ad, query/ad text match (Richardson, Dominowska, Ragno,
*Predicting clicks: estimating the click-through rate for new ads*, WWW 2007; McMahan et al.,
*Ad click prediction: a view from the trenches*, KDD 2013) — plus graph features from node
embeddings: the cosine of the query and ad vectors and their Hadamard product (the edge
features of node2vec, Grover & Leskovec, KDD 2016).

Features of an impression of ad ``a`` for query ``q`` at position ``p``:

* position: one-hot of ``p`` (positions above the largest training position share its column) and ``log p``;
* ``log(bid + 0.01)``;
* historic CTR, smoothed towards the global training CTR ``μ``: ``(clicks + α μ) / (impressions + α)``
  for ``q`` and for ``a``, with ``log(1 + impressions)``. Counts come from the training events only.
  For a training row they exclude the row's own day (out-of-fold by day; 5 random folds when the
  training events span one day), so the model never learns from a CTR that contains its own label;
* text match: shared tokens of the query text and the ad's bid words, and their Jaccard index;
* graph (optional, ``graph_features``): ``cos(x_q, x_a)``, ``x̂_q ⊙ x̂_a`` (unit vectors) and an
  indicator that both have vectors (0 features otherwise).

The classifier is scikit-learn's ``LogisticRegression`` (``kind="logistic"``) or ``MLPClassifier``
(``kind="mlp"``) on standardised features.

Protocol for graph features: the embeddings must come from a graph built on days *before* the
click model's training events (e.g. graph on days ``0..h-1``, fit on ``h..T-1``, evaluate on ``T``);
a graph that holds the training clicks encodes their labels, and the model then over-trusts the
graph features. With ``graph_last_day`` set, :meth:`ClickModel.fit` enforces this. :meth:`ClickModel.evaluate` refuses test events on days the
model was trained on, or (with ``graph_last_day``) on days the graph behind the embeddings had seen.

Example:
    >>> from vastgraph.ads.world import generate_world
    >>> w = generate_world(n_queries=60, n_ads=40, n_advertisers=6, n_days=3, events_per_day=600)
    >>> m = ClickModel(random_state=0).fit(w.events_for_days([0, 1]))
    >>> res = m.evaluate(w.events_for_days([2]))
    >>> 0.0 <= res["auc"] <= 1.0
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vastgraph.validation import check_float, check_int
from vastgraph.errors import EmptyInputError, NotFittedError, SchemaError, ValidationError
from vastgraph.seeding import seed_from
from vastgraph.train.metrics import roc_auc

KINDS = ("logistic", "mlp")
_NEEDED = ("query", "ad", "position")


def _tokens(texts: np.ndarray) -> pd.DataFrame:
    """Distinct ``(row, token)`` pairs of space-separated texts."""
    s = pd.Series(np.asarray(texts, dtype=object)).fillna("").astype(str).str.split().explode()
    s = s[s.notna() & (s != "")]
    return pd.DataFrame({"row": s.index.to_numpy(dtype=np.int64), "tok": s.to_numpy(dtype=object)}).drop_duplicates()


def text_overlap(query_text: Any, bid_words: Any) -> tuple[np.ndarray, np.ndarray]:
    """Shared tokens and Jaccard index of each (query text, bid words) pair, float64 ``(n,)`` each.

    Example:
        >>> text_overlap(["red shoe", "a"], ["shoe red heel", ""])
        (array([2., 0.]), array([0.66666667, 0.        ]))
    """
    qt, at = np.asarray(query_text, dtype=object), np.asarray(bid_words, dtype=object)
    n = qt.size
    tq, ta = _tokens(qt), _tokens(at)
    shared = np.bincount(tq.merge(ta, on=["row", "tok"])["row"].to_numpy(), minlength=n).astype(np.float64)
    nq = np.bincount(tq["row"].to_numpy(), minlength=n)
    na = np.bincount(ta["row"].to_numpy(), minlength=n)
    union = nq + na - shared
    return shared, np.where(union > 0, shared / np.maximum(union, 1), 0.0)


class ClickModel:
    """Logistic or MLP click model over position, bid, historic CTR, text match and graph features.

    Args:
        kind: ``"logistic"`` or ``"mlp"``. Default ``"logistic"``.
        graph_features: a :class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings` with query and
            ad vectors (trained on a graph of the training days only), or None. Default None.
        query_type, ad_type: node types of the embeddings. Defaults ``"query"``, ``"ad"``.
        hadamard: add ``x̂_q ⊙ x̂_a`` (else only the cosine). Default True.
        prior_strength: ``α`` of the smoothed CTRs. Default 10.
        C: inverse L2 strength of the logistic regression. Default 1.0.
        hidden: hidden layer sizes of the MLP. Default ``(32,)``.
        max_iter: optimiser iterations. Default 300.
        graph_last_day: last day of the log the graph behind ``graph_features`` was built from
            (None: unknown); :meth:`evaluate` refuses test events on or before it. Default None.
        random_state: None, an int or a ``numpy.random.Generator``. Default 0.

    Attributes:
        feature_names_: names of the feature columns. train_days_: days of the training events.

    Example:
        >>> # see the module docstring
    """

    def __init__(self, kind: str = "logistic", graph_features: Any = None, *, query_type: str = "query",
                 ad_type: str = "ad", hadamard: bool = True, prior_strength: float = 10.0, C: float = 1.0,
                 hidden: tuple[int, ...] = (32,), max_iter: int = 300, graph_last_day: int | None = None,
                 random_state: Any = 0) -> None:
        self.kind = kind
        self.graph_features = graph_features
        self.query_type = query_type
        self.ad_type = ad_type
        self.hadamard = hadamard
        self.prior_strength = prior_strength
        self.C = C
        self.hidden = hidden
        self.max_iter = max_iter
        self.graph_last_day = graph_last_day
        self.random_state = random_state

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> None:
        if self.kind not in KINDS:
            raise ValidationError(f"kind={self.kind!r}: expected one of {', '.join(KINDS)}")
        check_float("prior_strength", self.prior_strength)
        check_float("C", self.C)
        check_int("max_iter", self.max_iter, 1)
        hid = tuple(np.atleast_1d(np.asarray(self.hidden, dtype=object)).tolist())
        if not hid:
            raise ValidationError(f"hidden={self.hidden!r}: expected one or more layer sizes >= 1")
        for h in hid:
            check_int("hidden", h, 1)
        if self.graph_last_day is not None:
            check_int("graph_last_day", self.graph_last_day, 0)
        kv = self.graph_features
        if kv is not None:
            types = list(getattr(kv, "node_types", []))
            if not hasattr(kv, "vectors_for"):
                raise ValidationError(f"graph_features: got {type(kv).__name__}; expected KeyedEmbeddings or None")
            for name, nt in (("query_type", self.query_type), ("ad_type", self.ad_type)):
                if nt not in types:
                    raise SchemaError(f"{name}={nt!r}: not a node type of graph_features; they have {types}")

    @staticmethod
    def _check_events(events: Any, name: str, labels: bool) -> pd.DataFrame:
        if not isinstance(events, pd.DataFrame):
            raise ValidationError(f"{name}: got {type(events).__name__}; expected an events DataFrame")
        need = _NEEDED + (("click",) if labels else ())
        missing = [c for c in need if c not in events.columns]
        if missing:
            raise ValidationError(f"{name}: columns {missing} are missing; have {list(events.columns)}")
        if len(events) == 0:
            raise EmptyInputError(f"{name}: no rows")
        pos = events["position"].to_numpy()
        if pos.dtype.kind not in "iu" or pos.min() < 1:
            raise ValidationError(f"{name}: 'position' must hold integers >= 1 (1-based slots)")
        if labels and not np.isin(events["click"].to_numpy(), (0, 1)).all():
            raise ValidationError(f"{name}: 'click' must hold 0/1")
        return events.reset_index(drop=True)

    # ------------------------------------------------------------------ features
    def _ctr_stats(self, events: pd.DataFrame) -> None:
        y = events["click"].to_numpy().astype(np.float64)
        self.mu_ = float(y.mean())
        days = events["day"].to_numpy().astype(np.int64) if "day" in events.columns else None
        if days is None or np.unique(days).size < 2:
            rng = np.random.default_rng(int(seed_from(self.random_state)))
            days = rng.integers(0, 5, len(events))
        self._fold = days
        self._stats = {}
        for col in ("query", "ad"):
            key = events[col].to_numpy(dtype=object)
            tot = pd.DataFrame({"k": key, "y": y}).groupby("k", sort=False)["y"].agg(["sum", "count"])
            per = pd.DataFrame({"k": key, "f": days, "y": y}).groupby(["k", "f"], sort=False)["y"].agg(["sum", "count"])
            self._stats[col] = (tot, per)

    def _ctr(self, events: pd.DataFrame, col: str, training: bool) -> tuple[np.ndarray, np.ndarray]:
        tot, per = self._stats[col]
        key = events[col].to_numpy(dtype=object)
        at = tot.reindex(key)
        clicks = np.nan_to_num(at["sum"].to_numpy(np.float64))
        imps = np.nan_to_num(at["count"].to_numpy(np.float64))
        if training:  # out of fold: drop the row's own day (fold) from its counts
            own = per.reindex(pd.MultiIndex.from_arrays([key, self._fold]))
            clicks = clicks - np.nan_to_num(own["sum"].to_numpy(np.float64))
            imps = imps - np.nan_to_num(own["count"].to_numpy(np.float64))
        a = float(self.prior_strength)
        return (clicks + a * self.mu_) / (imps + a), np.log1p(imps)

    def _graph(self, events: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        kv = self.graph_features
        n = len(events)
        vecs = []
        for col, nt in (("query", self.query_type), ("ad", self.ad_type)):
            pos = pd.Index(np.asarray(kv.ids_for(nt), dtype=object)).get_indexer(events[col].to_numpy(dtype=object))
            v = np.asarray(kv.vectors_for(nt), dtype=np.float64)[np.maximum(pos, 0)]
            v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
            vecs.append(np.where((pos >= 0)[:, None], v, 0.0))
        has = (np.abs(vecs[0]).sum(axis=1) > 0) & (np.abs(vecs[1]).sum(axis=1) > 0)
        had = vecs[0] * vecs[1]
        cols = [had.sum(axis=1), has.astype(np.float64)]
        names = ["graph_cosine", "graph_known"]
        if self.hadamard:
            cols.extend(had.T)
            names.extend(f"graph_hadamard_{i}" for i in range(had.shape[1]))
        return np.column_stack(cols) if n else np.zeros((0, len(names))), names

    def _features(self, events: pd.DataFrame, training: bool) -> np.ndarray:
        pos = events["position"].to_numpy().astype(np.int64)
        onehot = (np.minimum(pos, self.max_position_)[:, None] == np.arange(1, self.max_position_ + 1)[None, :])
        bid = events["bid"].to_numpy(np.float64) if "bid" in events.columns else np.zeros(len(events))
        qctr, qimp = self._ctr(events, "query", training)
        actr, aimp = self._ctr(events, "ad", training)
        qt = events["query_text"].to_numpy(dtype=object) if "query_text" in events.columns else np.full(len(events), "")
        bw = events["bid_words"].to_numpy(dtype=object) if "bid_words" in events.columns else np.full(len(events), "")
        shared, jac = text_overlap(qt, bw)
        cols = [onehot.astype(np.float64), np.log(pos)[:, None], np.log(np.maximum(bid, 0.0) + 0.01)[:, None],
                np.column_stack([qctr, qimp, actr, aimp, shared, jac])]
        names = [f"position_{p}" for p in range(1, self.max_position_ + 1)] + [
            "log_position", "log_bid", "query_ctr", "query_log_impressions", "ad_ctr", "ad_log_impressions",
            "shared_tokens", "token_jaccard"]
        if self.graph_features is not None:
            g, gnames = self._graph(events)
            cols.append(g)
            names.extend(gnames)
        self.feature_names_ = names
        return np.hstack(cols)

    # ------------------------------------------------------------------ API
    def fit(self, events_train: pd.DataFrame) -> "ClickModel":
        """Fit on impressions with ``query, ad, position, click`` (and ``day, bid, query_text, bid_words``)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.neural_network import MLPClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self._check_params()
        ev = self._check_events(events_train, "events_train", labels=True)
        y = ev["click"].to_numpy().astype(np.int64)
        if y.min() == y.max():
            raise ValidationError(f"events_train: every click is {int(y[0])}; expected both clicks and non-clicks")
        if self.graph_features is not None and self.graph_last_day is not None and "day" in ev.columns \
                and int(ev["day"].min()) <= int(self.graph_last_day):
            raise ValidationError(f"events_train: day {int(ev['day'].min())} is not after graph_last_day="
                                  f"{self.graph_last_day}; graph features of a graph that saw the training clicks "
                                  "leak their labels (train on later days than the graph)")
        self.max_position_ = int(ev["position"].max())
        self._ctr_stats(ev)
        X = self._features(ev, training=True)
        seed = int(seed_from(self.random_state)) % (2**32)
        if self.kind == "logistic":
            clf = LogisticRegression(C=float(self.C), max_iter=int(self.max_iter))
        else:
            clf = MLPClassifier(hidden_layer_sizes=tuple(int(h) for h in np.atleast_1d(self.hidden)), alpha=1e-4,
                                max_iter=int(self.max_iter), early_stopping=True, random_state=seed)
        self.model_ = make_pipeline(StandardScaler(), clf).fit(X, y)
        self.train_days_ = (sorted(int(d) for d in pd.unique(ev["day"])) if "day" in ev.columns else [])
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this ClickModel is not fitted yet; call fit(events_train) first")

    def predict_proba(self, events: pd.DataFrame) -> np.ndarray:
        """Predicted click probability of each impression, float64 ``(n,)`` (labels are not read)."""
        self._check_fitted()
        ev = self._check_events(events, "events", labels=False)
        return self.model_.predict_proba(self._features(ev, training=False))[:, 1].astype(np.float64)

    def evaluate(self, events_test: pd.DataFrame) -> dict[str, float]:
        """AUC and log-loss on later days: ``{"auc", "logloss", "n", "ctr", "mean_prediction"}``.

        Raises :class:`ValidationError` when the test events hold a day that training (or, with
        ``graph_last_day``, the graph behind the graph features) has seen.
        """
        self._check_fitted()
        ev = self._check_events(events_test, "events_test", labels=True)
        if "day" in ev.columns:
            days = np.unique(ev["day"].to_numpy())
            seen = sorted(set(days.tolist()) & set(self.train_days_))
            if seen:
                raise ValidationError(f"events_test: days {seen} were used by fit(); evaluate on later days")
            if self.graph_last_day is not None and days.min() <= self.graph_last_day:
                raise ValidationError(f"events_test: day {int(days.min())} is not after graph_last_day="
                                      f"{self.graph_last_day}; the graph features would leak the test day")
        y = ev["click"].to_numpy().astype(np.int64)
        p = np.clip(self.predict_proba(ev), 1e-7, 1 - 1e-7)
        logloss = float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))
        auc = roc_auc(y, p) if 0 < y.sum() < y.size else float("nan")
        return {"auc": auc, "logloss": logloss, "n": int(y.size), "ctr": float(y.mean()),
                "mean_prediction": float(p.mean())}
