"""Structural topics: an anchor-based topic model over anonymous walks (GraphSTONE's Graph Anchor LDA).

Q. Long, Y. Jin, G. Song, Y. Li, W. Lin, "Graph Structural-topic Neural Network", KDD 2020. The
anchor-word recovery it builds on: S. Arora, R. Ge, Y. Halpern, D. Mimno, A. Moitra, D. Sontag,
Y. Wu, M. Zhu, "A Practical Algorithm for Topic Modeling with Provable Guarantees", ICML 2013.

Words and documents. Random walks start ``walks_per_node`` times at every node; each walk is
anonymised (:func:`~vastgraph.sampling.anonymous.anonymize`) and its anonymous type is a *word*;
the walks of a node form its *document*, the count matrix ``H`` ``(n, V)``.

Co-occurrence. With ``n_d`` the words of document ``d``, the word–word co-occurrence (Arora et al.)

    Q = (1/N) Σ_d (H_d H_dᵀ − diag(H_d)) / (n_d (n_d − 1)),

an estimate of ``P(w₁, w₂)`` for two walks of one node; ``Q̄`` is ``Q`` with rows normalised to
``P(w₂ | w₁)``.

Anchors. A topic's anchor is a walk type that (nearly) only occurs in that topic. ``"nmf"``
(GraphSTONE's choice, default): factorise ``Q ≈ W H`` with ``K`` components by scikit-learn's NMF
and take, for each component, the candidate walk type of largest weight in its row of ``H``.
``"greedy"`` (Arora et al.'s FastAnchorWords): pick the candidate row of ``Q̄`` farthest from the
span of the rows picked so far (Gram–Schmidt). Candidates are the ``n_anchors`` walk types that
occur in the most documents (GraphSTONE accepts only anchors frequent across documents).

Recovery. Each row is a mixture of anchor rows, ``Q̄_w ≈ Σ_k C_wk Q̄_{s_k}`` with ``C_w`` on the
simplex, found by minimising ``KL(Q̄_w ‖ C_w Q̄_S)`` (RecoverKL) with the EM / multiplicative
update ``C ← C ⊙ ((Q̄ ⊘ C Q̄_S) Q̄_Sᵀ)``, which stays on the simplex; Bayes' rule then gives the
topic–walk distributions ``P(w | z=k) ∝ C_wk P(w)``.

Node topics. The node–topic matrix ``θ`` ``(n, K)`` solves ``Ĥ ≈ θ Φ`` (``Ĥ`` row-normalised
documents, ``Φ`` the topic–walk matrix held fixed) by scikit-learn's NMF with the
Kullback–Leibler loss (``non_negative_factorization(update_H=False)``), rows normalised to sum 1.
GraphSTONE (:class:`vastgraph.nn.graphstone.GraphSTONE`) takes ``θ`` as an array.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from vastgraph.errors import EmptyInputError, NotFittedError, ValidationError
from vastgraph.graph.view import GraphView
from vastgraph.sampling.anonymous import AnonymousWalkVocabulary, walk_type_distribution
from vastgraph.sampling.structural_context import check_graph
from vastgraph.sampling.walks import random_walks, walk_edge_type
from vastgraph.seeding import seed_from
from vastgraph.validation import check_float, check_int

_EPS = 1e-12
ANCHOR_METHODS = ("nmf", "greedy")


def cooccurrence(counts: Any) -> np.ndarray:
    """Arora et al.'s word–word co-occurrence ``Q`` ``(V, V)`` of a document–word count matrix.

    Documents with fewer than two words are left out; ``Q`` sums to 1 when every document has at
    least two words.

    Args:
        counts: ``(N, V)`` non-negative counts (dense or scipy sparse).

    Example:
        >>> cooccurrence(np.array([[2, 0], [1, 1]])).round(3).tolist()
        [[0.5, 0.25], [0.25, 0.0]]
    """
    h = sp.csr_array(counts, dtype=np.float64)
    n_docs = h.shape[0]
    nd = np.asarray(h.sum(axis=1)).ravel()
    denom = nd * (nd - 1.0)
    scale = np.divide(1.0, denom, out=np.zeros_like(denom), where=denom > 0)
    hs = sp.csr_array(sp.diags_array(np.sqrt(scale)) @ h)
    q = (hs.T @ hs).toarray()
    q -= np.diag(np.asarray((sp.diags_array(scale) @ h).sum(axis=0)).ravel())
    return np.maximum(q, 0.0) / max(n_docs, 1)


def _row_normalise(m: np.ndarray) -> np.ndarray:
    s = m.sum(axis=1, keepdims=True)
    return np.divide(m, s, out=np.zeros_like(m), where=s > 0)


def select_anchors(q: np.ndarray, n_topics: int, candidates: np.ndarray, method: str = "nmf",
                   random_state: Any = None) -> np.ndarray:
    """Indices of ``n_topics`` distinct anchor words among ``candidates`` (see module docstring)."""
    candidates = np.asarray(candidates, dtype=np.int64)
    if candidates.size < n_topics:
        raise ValidationError(f"n_topics={n_topics}: only {candidates.size} candidate anchor walk types; "
                              "expected at least n_topics (lower n_topics, raise n_anchors or walk more)")
    if method == "nmf":
        from sklearn.decomposition import NMF

        model = NMF(n_components=n_topics, init="nndsvda", max_iter=500,
                    random_state=int(seed_from(random_state) % (2**31)))
        model.fit(q)
        weights = model.components_[:, candidates]  # (K, |candidates|)
        anchors: list[int] = []
        for k in np.argsort(-weights.max(axis=1)):
            order = np.argsort(-weights[k], kind="stable")
            pick = next(int(candidates[j]) for j in order if int(candidates[j]) not in anchors)
            anchors.append(pick)
        return np.asarray(anchors, dtype=np.int64)
    rows = _row_normalise(q)[candidates].copy()
    anchors_pos: list[int] = []
    norms = (rows ** 2).sum(axis=1)
    first = int(np.argmax(norms))
    anchors_pos.append(first)
    basis = rows[first] / max(np.sqrt(norms[first]), _EPS)
    rows = rows - np.outer(rows @ basis, basis)
    for _ in range(1, n_topics):
        norms = (rows ** 2).sum(axis=1)
        norms[anchors_pos] = -1.0
        nxt = int(np.argmax(norms))
        anchors_pos.append(nxt)
        basis = rows[nxt] / max(np.sqrt(max(norms[nxt], 0.0)), _EPS)
        rows = rows - np.outer(rows @ basis, basis)
    return candidates[np.asarray(anchors_pos)]


def recover_topics(q: np.ndarray, anchors: np.ndarray, iterations: int = 300) -> np.ndarray:
    """Topic–word matrix ``(K, V)`` (rows sum to 1) from co-occurrence ``q`` and anchor words.

    RecoverKL by EM: ``C ← C ⊙ ((Q̄ ⊘ (C Q̄_S)) Q̄_Sᵀ)`` per word, then ``P(w|k) ∝ C_wk P(w)``.
    """
    p_w = q.sum(axis=1)
    qbar = _row_normalise(q)
    x = qbar[anchors]  # (K, V)
    k = anchors.size
    c = np.full((q.shape[0], k), 1.0 / k)
    for _ in range(iterations):
        proj = c @ x
        ratio = np.divide(qbar, proj, out=np.zeros_like(qbar), where=proj > _EPS)
        c *= ratio @ x.T
        c = _row_normalise(c)
        c[p_w <= 0] = 1.0 / k
    c[anchors] = np.eye(k)
    a = c * p_w[:, None]
    return _row_normalise(np.ascontiguousarray(a.T))


class StructuralTopicModel:
    """Anchor-based topic model of nodes' anonymous walks (GraphSTONE's structural topics).

    See the module docstring for the maths. scikit-learn style: hyperparameters stored unchanged,
    ``fit(graph)`` returns self, learned state in attributes ending in ``_``.

    Args:
        n_topics: topics ``K`` (>= 1). Default 5.
        walk_length: steps per walk (>= 1; walks hold ``walk_length + 1`` nodes). Default 6.
        walks_per_node: walks (words) per node (>= 2). Default 64.
        n_anchors: candidate anchor walk types: the ``n_anchors`` types present in the most
            documents (>= n_topics); ``None`` (default) allows every type.
        anchor_method: ``"nmf"`` (GraphSTONE, default) or ``"greedy"`` (Arora et al.).
        max_walk_types: vocabulary cap: the most frequent walk types kept (>= n_topics);
            rarer walks are dropped from the documents. Default 1000.
        p, q: node2vec walk parameters (> 0). Default 1, 1 (GraLSP uses p = 0.25).
        etype: edge type to walk (same source and destination type); default the only one.
        recover_iterations: EM iterations of the topic recovery (>= 1). Default 300.
        random_state: None, an int or a ``numpy.random.Generator``.

    Attributes:
        vocabulary_: :class:`~vastgraph.sampling.anonymous.AnonymousWalkVocabulary` (columns).
        doc_walk_: ``scipy.sparse.csr_array`` ``(n, V)`` walk-type counts per node.
        cooccurrence_: ``(V, V)`` ``Q``.
        anchors_: int64 ``(K,)`` anchor walk-type ids.
        topic_walk_: float64 ``(K, V)`` ``P(walk type | topic)``, rows sum to 1.
        node_topic_: float32 ``(n, K)`` ``θ``, rows sum to 1.

    Shapes:
        ``fit(graph).node_topic_``: ``(graph.num_nodes(ntype), n_topics)``.

    Example:
        >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
        >>> graph = power_law_sbm(60, 2, avg_degree=6, random_state=0).graph
        >>> stm = StructuralTopicModel(n_topics=2, random_state=0).fit(graph)
        >>> stm.node_topic_.shape
        (60, 2)
    """

    def __init__(self, n_topics: int = 5, *, walk_length: int = 6, walks_per_node: int = 64,
                 n_anchors: int | None = None, anchor_method: str = "nmf", max_walk_types: int = 1000,
                 p: float = 1.0, q: float = 1.0, etype: Any = None, recover_iterations: int = 300,
                 random_state: Any = None) -> None:
        self.n_topics = n_topics
        self.walk_length = walk_length
        self.walks_per_node = walks_per_node
        self.n_anchors = n_anchors
        self.anchor_method = anchor_method
        self.max_walk_types = max_walk_types
        self.p = p
        self.q = q
        self.etype = etype
        self.recover_iterations = recover_iterations
        self.random_state = random_state

    def _check(self) -> None:
        k = check_int("n_topics", self.n_topics, 1)
        check_int("walk_length", self.walk_length, 1)
        check_int("walks_per_node", self.walks_per_node, 2)
        check_int("max_walk_types", self.max_walk_types, k)
        check_int("recover_iterations", self.recover_iterations, 1)
        if self.n_anchors is not None:
            check_int("n_anchors", self.n_anchors, k)
        if self.anchor_method not in ANCHOR_METHODS:
            raise ValidationError(f"anchor_method={self.anchor_method!r}: expected one of {', '.join(ANCHOR_METHODS)}")
        check_float("p", self.p)
        check_float("q", self.q)

    def _documents(self, graph: GraphView, vocabulary: AnonymousWalkVocabulary | None,
                   seed: np.uint64) -> tuple[sp.csr_array, AnonymousWalkVocabulary]:
        check_graph(graph, "StructuralTopicModel")
        et = walk_edge_type(graph, self.etype, "StructuralTopicModel")
        n = graph.num_nodes(et.src)
        if n == 0:
            raise EmptyInputError(f"graph: node type {et.src!r} has no nodes; expected at least one")
        if graph.num_edges(et) == 0:
            raise EmptyInputError(f"graph: edge type {et} has no edges; structural topics need walks")
        walks = random_walks(graph, walks_per_node=int(self.walks_per_node), walk_length=int(self.walk_length),
                             etype=et, p=float(self.p), q=float(self.q), random_state=int(seed))
        counts, vocab = walk_type_distribution(walks, n_nodes=n, vocabulary=vocabulary, normalize=False)
        return sp.csr_array(counts), vocab

    def fit(self, graph: GraphView) -> "StructuralTopicModel":
        """Sample walks on ``graph``, find anchors and topics, and compute ``node_topic_``."""
        self._check()
        k = int(self.n_topics)
        seed = seed_from(self.random_state)
        counts, vocab = self._documents(graph, None, seed)
        freq = np.asarray(counts.sum(axis=0)).ravel()
        if freq.size > self.max_walk_types:  # truncate the vocabulary to the most frequent types
            keep = np.sort(np.argsort(-freq, kind="stable")[: int(self.max_walk_types)])
            vocab = AnonymousWalkVocabulary(vocab.types[keep])
            counts = sp.csr_array(counts[:, keep])
        q = cooccurrence(counts)
        doc_freq = np.asarray((counts > 0).sum(axis=0)).ravel()
        order = np.argsort(-doc_freq, kind="stable")
        order = order[doc_freq[order] > 0]
        if self.n_anchors is not None:
            order = order[: int(self.n_anchors)]
        candidates = order[q.sum(axis=1)[order] > 0]
        anchors = select_anchors(q, k, candidates, self.anchor_method, random_state=int(seed) ^ 0x5A5A)
        self.vocabulary_ = vocab
        self.doc_walk_ = counts
        self.cooccurrence_ = q
        self.anchors_ = anchors
        self.topic_walk_ = recover_topics(q, anchors, int(self.recover_iterations))
        self.node_topic_ = self._infer(counts)
        return self

    def _infer(self, counts: sp.csr_array) -> np.ndarray:
        from sklearn.decomposition import non_negative_factorization

        docs = sp.csr_array(sp.diags_array(1.0 / np.maximum(np.asarray(counts.sum(axis=1)).ravel(), 1.0)) @ counts)
        k = self.topic_walk_.shape[0]
        empty = np.asarray(docs.sum(axis=1)).ravel() <= 0
        theta = np.full((docs.shape[0], k), 1.0 / k)
        if (~empty).any():
            w, _, _ = non_negative_factorization(docs[~empty], H=self.topic_walk_, n_components=k,
                                                 update_H=False, solver="mu",
                                                 beta_loss="kullback-leibler", max_iter=500, tol=1e-6)
            theta[~empty] = w
        theta = _row_normalise(theta)
        theta[theta.sum(axis=1) <= 0] = 1.0 / k
        return theta.astype(np.float32)

    def _fitted(self) -> None:
        if not hasattr(self, "node_topic_"):
            raise NotFittedError("StructuralTopicModel is not fitted; call fit(graph) first")

    def transform(self, graph: GraphView) -> np.ndarray:
        """Node–topic matrix ``θ`` ``(n, K)`` of ``graph``'s nodes under the fitted topics.

        New walks are sampled on ``graph`` and encoded with the fitted vocabulary (unknown walk
        types are dropped); the topic–walk matrix stays fixed.
        """
        self._fitted()
        seed = seed_from(self.random_state)
        counts, _ = self._documents(graph, self.vocabulary_, seed)
        return self._infer(counts)

    def fit_transform(self, graph: GraphView) -> np.ndarray:
        """``fit(graph).node_topic_``."""
        return self.fit(graph).node_topic_

    def topic_walks(self, top: int = 5) -> list[list[tuple[tuple[int, ...], float]]]:
        """The ``top`` most probable anonymous walk types of each topic with their probabilities."""
        self._fitted()
        top = check_int("top", top, 1)
        out = []
        for row in self.topic_walk_:
            idx = np.argsort(-row, kind="stable")[:top]
            out.append([(tuple(int(x) for x in self.vocabulary_.types[i] if x >= 0), float(row[i])) for i in idx])
        return out
