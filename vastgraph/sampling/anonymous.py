"""Anonymous walks: walks with node identities replaced by first-occurrence positions.

An anonymous walk (Micali & Zhu 2016; Ivanov & Burnaev, ICML 2018) keeps only the *shape* of a
walk: ``(a, b, c, d, b) → (0, 1, 2, 3, 1)``. The distribution of anonymous walks from a node
describes its neighbourhood's structure independently of ids — GraLSP (Jin et al., AAAI 2020)
and GraphSTONE (Long et al., KDD 2020) build structural GNNs on it.

Anonymised arrays use 0-based positions (the design text writes them 1-based) and keep -1 for
padding after a walk's dead end.
"""

from __future__ import annotations

import math
from typing import Any

import numba as nb
import numpy as np
import scipy.sparse as sp

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.graph.view import GraphView
from vastgraph.sampling.walks import random_walks, walk_edge_type

_BLOCK = 256


@nb.njit(nogil=True, parallel=True, cache=True)
def _anonymize_kernel(walks, out):  # pragma: no cover - numba
    n, length = walks.shape
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for blk in nb.prange(n_blocks):
        seen = np.empty(length, dtype=np.int64)
        for i in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            k = 0
            for j in range(length):
                x = np.int64(walks[i, j])
                if x < 0:
                    out[i, j] = -1
                    continue
                pos = -1
                for r in range(k):
                    if seen[r] == x:
                        pos = r
                        break
                if pos < 0:
                    seen[k] = x
                    pos = k
                    k += 1
                out[i, j] = pos


def _anon_dtype(length: int) -> np.dtype:
    if length <= np.iinfo(np.int8).max:
        return np.dtype(np.int8)
    if length <= np.iinfo(np.int16).max:
        return np.dtype(np.int16)
    return np.dtype(np.int32)


def _as_walks(walks: Any, name: str = "walks") -> np.ndarray:
    arr = np.asarray(walks)
    if arr.ndim != 2:
        raise ValidationError(f"{name}: shape {arr.shape}; expected 2-D (n_walks, nodes per walk)")
    if arr.dtype.kind not in "iu":
        raise ValidationError(f"{name}: dtype {arr.dtype}; expected integer node ids")
    if arr.shape[1] == 0:
        raise ValidationError(f"{name}: shape {arr.shape}; expected at least one node per walk")
    return arr


def anonymize(walks: Any) -> np.ndarray:
    """Replace every node of each walk by the position of its first occurrence in that walk.

    ``(a, b, c, d, b) → (0, 1, 2, 3, 1)``; negative entries (padding after a dead end) stay -1.

    Args:
        walks: integer array ``(n_walks, L)`` of node ids (any non-negative ids, -1 = padding).

    Returns:
        ``(n_walks, L)`` int8 (int16 for L > 127, int32 for L > 32767).

    Example:
        >>> anonymize([[7, 4, 9, 2, 4], [3, 3, 5, -1, -1]]).tolist()
        [[0, 1, 2, 3, 1], [0, 0, 1, -1, -1]]
    """
    arr = _as_walks(walks)
    out = np.empty(arr.shape, dtype=_anon_dtype(arr.shape[1]))
    if arr.size:
        _anonymize_kernel(np.ascontiguousarray(arr), out)
    return out


def _check_anonymous(anon: Any, name: str = "anon") -> np.ndarray:
    """Validate an anonymised array: column 0 is 0, each value <= 1 + the row's earlier maximum,
    and -1 only as a suffix."""
    a = _as_walks(anon, name)
    if a.shape[0] == 0:
        return a
    pad = a < 0
    if (a < -1).any() or (pad[:, 1:] < pad[:, :-1]).any() or (a[:, 0] != 0).any():
        raise ValidationError(f"{name}: not anonymised walks (rows must start with 0 and hold -1 only "
                              "as trailing padding); pass node walks through anonymize() first")
    run_max = np.maximum.accumulate(a, axis=1)
    if (a[:, 1:] > run_max[:, :-1] + 1).any():
        raise ValidationError(f"{name}: not anonymised walks (a value exceeds 1 + the earlier "
                              "maximum of its row); pass node walks through anonymize() first")
    return a


def _row_keys(a: np.ndarray) -> np.ndarray:
    """Keys whose sort order is the rows' lexicographic order (with -1 smallest).

    Each value v ∈ [-1, L) becomes the digit v + 1 ∈ [0, L]; rows pack into int64 when
    (L + 1)^L fits, else into byte strings without zero bytes (so numpy compares them fully).
    """
    n, length = a.shape
    base = length + 1
    digits = a.astype(np.int64) + 1
    if length * math.log2(base) < 62.0:
        key = np.zeros(n, dtype=np.int64)
        for j in range(length):
            key = key * base + digits[:, j]
        return key
    if base <= 255:
        raw = (digits + 1).astype(np.uint8)
    elif base <= 255 * 255:
        raw = np.empty((n, 2 * length), dtype=np.uint8)
        raw[:, 0::2] = digits // 255 + 1
        raw[:, 1::2] = digits % 255 + 1
    else:
        raise ValidationError(f"anonymous walks of {length} nodes are too long to key (max {255 * 255 - 1})")
    raw = np.ascontiguousarray(raw)
    return raw.view(f"S{raw.shape[1]}").ravel()


def walk_types(anon: Any) -> tuple[np.ndarray, np.ndarray]:
    """Dense walk-type ids of anonymised walks and the vocabulary of distinct types.

    Types are numbered in lexicographic order of their encodings (padding -1 sorts first), so the
    ids of a set of walks do not depend on the walks' order.

    Args:
        anon: ``(n_walks, L)`` output of :func:`anonymize`.

    Returns:
        ``(type_ids, vocabulary)``: int32 ``(n_walks,)`` and ``(n_types, L)`` (anon's dtype) with
        ``vocabulary[type_ids] == anon``.

    Example:
        >>> ids, vocab = walk_types(anonymize([[1, 2, 1], [5, 6, 7], [8, 9, 8]]))
        >>> ids.tolist(), vocab.tolist()
        ([0, 1, 0], [[0, 1, 0], [0, 1, 2]])
    """
    a = _check_anonymous(anon)
    if a.shape[0] == 0:
        return np.empty(0, np.int32), np.empty((0, a.shape[1]), a.dtype)
    _, first, inverse = np.unique(_row_keys(a), return_index=True, return_inverse=True)
    return inverse.reshape(-1).astype(np.int32), a[first].copy()


class AnonymousWalkVocabulary:
    """A fixed set of anonymous walk types, to encode walks of any graph with the same ids.

    Args:
        types: ``(n_types, L)`` anonymised walks (deduplicated and sorted lexicographically).

    Attributes:
        types: the sorted, distinct types; id ``i`` is ``types[i]``.

    Example:
        >>> vocab = AnonymousWalkVocabulary.from_walks(anonymize([[1, 2, 1], [5, 6, 7]]))
        >>> vocab.encode(anonymize([[3, 4, 3], [1, 1, 1]])).tolist()
        [0, -1]
    """

    def __init__(self, types: Any) -> None:
        _, self.types = walk_types(types)
        if self.types.shape[0] == 0:
            raise EmptyInputError("AnonymousWalkVocabulary: types is empty; expected at least one walk type")
        self._keys = _row_keys(self.types)

    @classmethod
    def from_walks(cls, anon: Any) -> "AnonymousWalkVocabulary":
        """The vocabulary of every type that occurs in ``anon``."""
        return cls(anon)

    @property
    def walk_length(self) -> int:
        """Nodes per walk (columns) that this vocabulary encodes."""
        return int(self.types.shape[1])

    def __len__(self) -> int:
        return int(self.types.shape[0])

    def encode(self, anon: Any, *, unknown_id: int = -1) -> np.ndarray:
        """Type id of each anonymised walk; types outside the vocabulary get ``unknown_id``.

        Args:
            anon: ``(n_walks, L)`` anonymised walks with this vocabulary's ``L``.
            unknown_id: id for unknown types: -1 (default) or e.g. ``len(vocab)`` as an "other" id.

        Returns:
            int32 ``(n_walks,)``.
        """
        a = _check_anonymous(anon)
        if a.shape[1] != self.walk_length:
            raise ValidationError(f"anon: walks of {a.shape[1]} nodes; this vocabulary encodes walks "
                                  f"of {self.walk_length} nodes")
        keys = _row_keys(a)
        pos = np.searchsorted(self._keys, keys)
        pos_c = np.minimum(pos, len(self) - 1)
        found = self._keys[pos_c] == keys
        return np.where(found, pos_c, int(unknown_id)).astype(np.int32)

    def __repr__(self) -> str:
        return f"AnonymousWalkVocabulary(n_types={len(self)}, walk_length={self.walk_length})"


def walk_type_distribution(source: Any, *, n_nodes: int | None = None,
                           vocabulary: AnonymousWalkVocabulary | None = None, normalize: bool = True,
                           walks_per_node: int = 100, walk_length: int = 8, p: float = 1.0,
                           q: float = 1.0, etype: Any = None, start: Any = None,
                           random_state: Any = None) -> tuple[sp.csr_array, AnonymousWalkVocabulary]:
    """Per-node distribution (or counts) of anonymous walk types of the walks starting there.

    GraLSP / GraphSTONE describe a node by the distribution of the anonymous walks that start at
    it; Micali & Zhu show that the distribution of anonymous walks of length 2(m + 1) determines
    the node's neighbourhood with m edges.

    Args:
        source: node walks ``(n_walks, L)`` whose column 0 is the start node (e.g. from
            :func:`~vastgraph.sampling.walks.random_walks`), or a graph to sample them from with
            ``random_walks(graph, start=start, walks_per_node=..., walk_length=..., p=..., q=...,
            etype=..., random_state=...)`` (those arguments are ignored for walks).
        n_nodes: rows of the result; default the start type's node count for a graph, else
            ``max(start node) + 1``.
        vocabulary: fixed walk types (columns); default the types found in these walks. Walks of
            types outside it are left out (of the counts and of the normalisation).
        normalize: frequencies summing to 1 on each row that has walks (default), else counts.
        walks_per_node, walk_length, p, q, etype, start, random_state: walk sampling, for a graph
            ``source``. Defaults 100 walks of 8 steps, first order.

    Returns:
        ``(distribution, vocabulary)``: ``scipy.sparse.csr_array`` float64 ``(n_nodes, n_types)``
        and the :class:`AnonymousWalkVocabulary` whose ids are its columns.

    Example:
        >>> dist, vocab = walk_type_distribution(np.array([[0, 1, 0], [0, 1, 2], [1, 0, 1]]))
        >>> dist.toarray().tolist(), vocab.types.tolist()
        ([[0.5, 0.5], [1.0, 0.0]], [[0, 1, 0], [0, 1, 2]])
    """
    if isinstance(source, GraphView):
        et = walk_edge_type(source, etype, "walk_type_distribution")
        walks = random_walks(source, start=start, walks_per_node=walks_per_node, walk_length=walk_length,
                             etype=et, p=p, q=q, random_state=random_state)
        if n_nodes is None:
            n_nodes = source.num_nodes(et.src)
    else:
        walks = _as_walks(source)
    if walks.shape[0] == 0:
        raise EmptyInputError("walk_type_distribution: no walks")
    starts = walks[:, 0].astype(np.int64)
    if starts.min() < 0:
        raise ValidationError("walks: column 0 (the start node) holds a negative id")
    if n_nodes is None:
        n_nodes = int(starts.max()) + 1
    elif isinstance(n_nodes, bool) or not isinstance(n_nodes, (int, np.integer)) or n_nodes <= starts.max():
        raise ValidationError(f"n_nodes={n_nodes!r}: expected an integer > the largest start node "
                              f"({int(starts.max())})")
    anon = anonymize(walks)
    if vocabulary is None:
        ids, types = walk_types(anon)
        vocabulary = AnonymousWalkVocabulary(types)
    elif not isinstance(vocabulary, AnonymousWalkVocabulary):
        raise ValidationError(f"vocabulary={vocabulary!r}: expected an AnonymousWalkVocabulary or None")
    else:
        ids = vocabulary.encode(anon)
    keep = ids >= 0
    rows, cols = starts[keep], ids[keep].astype(np.int64)
    counts = sp.csr_array((np.ones(rows.size, dtype=np.float64), (rows, cols)),
                          shape=(int(n_nodes), len(vocabulary)))
    counts.sum_duplicates()
    if normalize:
        tot = np.bincount(rows, minlength=int(n_nodes)).astype(np.float64)
        scale = np.divide(1.0, tot, out=np.zeros_like(tot), where=tot > 0)
        counts = sp.csr_array(sp.diags_array(scale) @ counts)
    return counts, vocabulary


@nb.njit(nogil=True, cache=True)
def _traced_kernel(anon, starts, n_nodes, max_nodes, out):  # pragma: no cover - numba
    n, length = anon.shape
    traced = np.zeros((length, length), dtype=np.bool_)
    best = np.empty(max_nodes + 1, dtype=np.int64)
    for i in range(n):
        traced[:, :] = False
        best[:] = -1
        edges = 0
        k = 1
        for t in range(1, length):
            b = anon[i, t]
            if b < 0:
                break
            a = anon[i, t - 1]
            if b + 1 > k:
                k = b + 1
            if a != b and not traced[a, b]:
                traced[a, b] = True
                traced[b, a] = True
                edges += 1
            if k <= max_nodes and edges - k + 1 > best[k]:
                best[k] = edges - k + 1
        col = 0
        for kk in range(3, max_nodes + 1):
            for r in range(1, (kk - 1) * (kk - 2) // 2 + 1):
                if best[kk] >= r:
                    out[starts[i], col] += 1.0
                col += 1


def traced_pattern_columns(max_nodes: int) -> list[tuple[int, int]]:
    """``(k, r)`` of each column of :func:`traced_pattern_profile`: ``k = 3..max_nodes``, ``r = 1..C(k-1, 2)``.

    Example:
        >>> traced_pattern_columns(4)
        [(3, 1), (4, 1), (4, 2), (4, 3)]
    """
    return [(k, r) for k in range(3, int(max_nodes) + 1) for r in range(1, (k - 1) * (k - 2) // 2 + 1)]


def traced_pattern_profile(walks: Any, n_nodes: int | None = None, *, max_nodes: int = 5) -> np.ndarray:
    """Per start node, how densely its walks' first ``k`` distinct nodes are joined by the walk's own steps.

    An anonymous walk records *which* earlier node each revisit returns to, so it determines the
    graph it traces: the distinct nodes ``0..k-1`` and the distinct edges between consecutive
    positions. While the walk has visited exactly ``k`` nodes, let ``ρ_k`` be the largest cycle rank
    ``edges − k + 1`` of that traced graph. Column ``(k, r)`` (see :func:`traced_pattern_columns`) is
    the fraction of the node's walks with ``ρ_k >= r``; ``(4, 3)`` means the walk traced a complete
    ``K_4``, ``(5, 6)`` a ``K_5``. A walk traces only edges that exist, so these are (normalised)
    counts of walk-traceable subgraphs at the node, which closed-walk counts (spectra) do not
    determine: the 4×4 rook's graph has ``K_4`` s and the Shrikhande graph none, and T(8) has more
    ``K_4`` s than the Chang graphs, though each pair is strongly regular with equal parameters.

    Args:
        walks: ``(n_walks, L)`` node walks, column 0 the start node, -1 as trailing padding.
        n_nodes: rows; default ``max(start) + 1``.
        max_nodes: largest ``k`` (3 .. 8). Default 5.

    Returns:
        float64 ``(n_nodes, len(traced_pattern_columns(max_nodes)))``; rows of nodes without walks are 0.

    Example:
        >>> tri = np.array([[0, 1, 2, 0, 1], [1, 2, 0, 2, 1]])  # the second never closes the triangle
        >>> traced_pattern_profile(tri, max_nodes=3).tolist()
        [[1.0], [0.0]]
    """
    w = _as_walks(walks)
    if not 3 <= int(max_nodes) <= 8:
        raise ValidationError(f"max_nodes={max_nodes!r}: expected an integer in [3, 8]")
    starts = w[:, 0].astype(np.int64)
    if starts.size and starts.min() < 0:
        raise ValidationError("walks: column 0 (the start node) holds a negative id")
    n = int(starts.max()) + 1 if n_nodes is None else int(n_nodes)
    if starts.size and starts.max() >= n:
        raise ValidationError(f"n_nodes={n_nodes!r}: expected more than the largest start node ({int(starts.max())})")
    out = np.zeros((n, len(traced_pattern_columns(max_nodes))), dtype=np.float64)
    if w.shape[0]:
        _traced_kernel(anonymize(w).astype(np.int64), starts, n, int(max_nodes), out)
    cnt = np.bincount(starts, minlength=n).astype(np.float64)
    return np.divide(out, cnt[:, None], out=np.zeros_like(out), where=cnt[:, None] > 0)


def receptive_radius(anon: Any, l: int | None = None) -> np.ndarray:
    """GraLSP's adaptive receptive radius of each walk: ``r = ⌊2·l / (distinct nodes in the walk)⌋``.

    A walk that revisits nodes (a dense neighbourhood) has few distinct nodes, so a larger radius
    along the walk counts as its neighbourhood (Jin et al., AAAI 2020).

    Args:
        anon: ``(n_walks, L)`` anonymised walks (distinct nodes = row maximum + 1).
        l: the walk length in the formula; default ``L`` (nodes per walk).

    Returns:
        int32 ``(n_walks,)``.

    Example:
        >>> receptive_radius(anonymize([[1, 2, 1, 2], [1, 2, 3, 4]])).tolist()
        [4, 2]
    """
    a = _check_anonymous(anon)
    if l is None:
        l = a.shape[1]
    if isinstance(l, bool) or not isinstance(l, (int, np.integer)) or l < 1:
        raise ValidationError(f"l={l!r}: expected an integer >= 1")
    distinct = a.max(axis=1).astype(np.int64) + 1 if a.shape[0] else np.empty(0, np.int64)
    return ((2 * int(l)) // distinct).astype(np.int32)
