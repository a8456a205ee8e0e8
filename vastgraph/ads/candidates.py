"""Candidate generators and pair features over a multiplex graph (the first stage of retrieval).

A :class:`RetrievalContext` holds what one retrieval round may look at: the graph of the past
(one node type, one edge type per relation) and embedding spaces learned from that graph only.
From it come

* candidate generators — each proposes, per query node ``q`` and relation ``r``, its top-``M``
  items, excluding ``q`` and its known ``r``-neighbours:

  - ``"coneighbour"``: shared ``r``-neighbours, ties by ``r``-popularity (the co-click analogue,
    :func:`vastgraph.ads.multiplex.coneighbour_scorer`);
  - ``"coneighbour-all"``: links in the other relations (weight 2 each) plus shared neighbours in
    the union of all relations;
  - one per embedding space: nearest items by cosine through a faiss inner-product index over
    L2-normalised vectors (per relation when the space has one matrix per relation);
  - one per curvature model: geodesic nearest neighbours
    (:meth:`~vastgraph.embed.manifold_keyed.ManifoldKeyedEmbeddings.search`);

* pair features (:meth:`RetrievalContext.features`) for the learned ranker: per relation ``r``
  common neighbours, Adamic–Adar ``Σ_z 1/log(1 + deg z)``, Jaccard; links and common neighbours
  in every other relation and in their union; degrees of both ends (in ``r`` and in total); the
  cosine in every space; the relation-aware curvature score; the relation index; and, when the
  graph has edge times, the recency of both ends (time since their last ``r``-edge, NaN if none).

Example:
    >>> from vastgraph.graph.builder import GraphBuilder
    >>> b = GraphBuilder(directed=False)
    >>> _ = b.add_nodes("node", ids=np.arange(5))
    >>> _ = b.add_edges([0, 0, 3, 3], [1, 2, 1, 2], etype=("node", "r", "node"))
    >>> ctx = RetrievalContext(b.build())
    >>> idx, _ = ctx.generate("coneighbour", np.array([0]), 0, 1)
    >>> idx.tolist()
    [[3]]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import scipy.sparse as sp

from vastgraph.errors import SchemaError, ValidationError

if TYPE_CHECKING:
    from vastgraph.graph.view import GraphView

PAIR_CHUNK = 200_000


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class RetrievalContext:
    """A multiplex graph and the embedding spaces learned from it (see the module docstring).

    Args:
        graph: one node type; every edge type (relation) goes from it to it.
        spaces: ``{name: vectors}``: an ``(n, d)`` matrix (every relation) or ``m`` of them (a list
            or an ``(m, n, d)`` array, one per relation in graph order). Default none.
        curvature: ``{name: fitted MixedCurvature}`` (geodesic generator, relation-aware score).
        candidates: ``M``, items each generator proposes per query. Default 100.
    """

    def __init__(self, graph: GraphView, spaces: Mapping[str, Any] | None = None, *,
                 curvature: Mapping[str, Any] | None = None, candidates: int = 100) -> None:
        from vastgraph.validation import check_int

        self.graph = graph
        self.candidates = check_int("candidates", candidates, 1)
        ets = list(graph.edge_types)
        types = {e.src for e in ets} | {e.dst for e in ets}
        if len(types) != 1:
            raise SchemaError(f"RetrievalContext: a multiplex graph has one node type; edge types span {sorted(types)}")
        self.etypes = ets
        self.relations = [e.rel for e in ets]
        self.n = n = graph.num_nodes(ets[0].src)
        self.adj: list[sp.csr_matrix] = []
        self.last_time: list[np.ndarray] | None = [] if any(graph.has_times(e) for e in ets) else None
        for e in ets:
            c = graph.coo(e)
            a = sp.csr_matrix((np.ones(len(c), np.float32), (c.src, c.dst)), shape=(n, n))
            if not graph.is_undirected(e):
                a = a + a.T
            a.data[:] = 1.0
            self.adj.append(a)
            if self.last_time is not None:
                lt = np.full(n, np.nan)
                if c.time is not None and len(c):
                    t = np.asarray(c.time, np.float64)
                    mx = np.full(n, -np.inf)
                    np.maximum.at(mx, c.src, t)
                    np.maximum.at(mx, c.dst, t)
                    lt = np.where(np.isfinite(mx), mx, np.nan)
                self.last_time.append(lt)
        self.t_now = (max(float(np.nanmax(t)) for t in self.last_time if np.isfinite(t).any())
                      if self.last_time is not None and any(np.isfinite(t).any() for t in self.last_time) else None)
        union = sum(self.adj[1:], self.adj[0].copy()).tocsr()
        union.data[:] = 1.0
        self.union = union
        self.deg = [np.asarray(a.sum(axis=1)).ravel() for a in self.adj]
        self.deg_union = np.asarray(union.sum(axis=1)).ravel()
        self._aa = [1.0 / np.log1p(np.maximum(d, 1.0)) for d in self.deg]
        self.spaces: dict[str, list[np.ndarray]] = {}
        for name, vec in (spaces or {}).items():
            mats = list(vec) if isinstance(vec, (list, tuple)) or np.ndim(vec) == 3 else [vec] * len(ets)
            if len(mats) != len(ets) or any(np.shape(x) [0] != n or np.ndim(x) != 2 for x in mats):
                raise ValidationError(f"spaces[{name!r}]: expected (n={n}, d) or one per relation ({len(ets)})")
            self.spaces[name] = [_normalise(x) for x in mats]
        self.curvature = dict(curvature or {})
        self._faiss: dict[tuple[str, int], Any] = {}

    # ------------------------------------------------------------------ generators
    @property
    def generator_names(self) -> list[str]:
        return ["coneighbour", "coneighbour-all"] + list(self.spaces) + list(self.curvature)

    def _batch(self) -> int:
        return int(max(1, min(512, (1 << 23) // max(self.n, 1))))

    def _heuristic_scores(self, name: str, q: np.ndarray, r: int) -> np.ndarray:
        a = self.adj[r]
        if name == "coneighbour":
            pop = self.deg[r] / (self.deg[r].max() + 1.0)
            return (a[q] @ a.T).toarray() + pop[None, :]
        other = sum((self.adj[j][q] for j in range(len(self.adj)) if j != r), sp.csr_matrix((q.size, self.n)))
        cn = (self.union[q] @ self.union.T).toarray()
        pop = self.deg_union / (self.deg_union.max() + 1.0)
        return 2.0 * np.asarray(other.todense()) * (cn.max() + 1.0) + cn + pop[None, :]

    def _mask_known(self, q: np.ndarray, r: int, idx: np.ndarray) -> np.ndarray:
        """True where ``idx[i, j]`` is ``q[i]`` itself or a known ``r``-neighbour (or padding)."""
        known = self.adj[r][q]
        rows = np.repeat(np.arange(q.size), np.diff(known.indptr))
        kk = np.sort(rows.astype(np.int64) * self.n + known.indices)
        keys = np.arange(q.size)[:, None].astype(np.int64) * self.n + idx
        pos = np.minimum(np.searchsorted(kk, keys), max(kk.size - 1, 0))
        hit = (kk[pos] == keys) if kk.size else np.zeros(idx.shape, bool)
        return hit | (idx == q[:, None]) | (idx < 0)

    def generate(self, name: str, queries: Any, r: int, m: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``m`` items of generator ``name`` for ``queries`` in relation index ``r``.

        Returns ``(items int64 (q, m), scores float64 (q, m))``, ``-1`` / ``-inf`` padding.
        """
        from vastgraph.ads.retrieval import top_k

        if name not in self.generator_names:
            raise ValidationError(f"generator {name!r}: expected one of {self.generator_names}")
        m = self.candidates if m is None else int(m)
        q = np.asarray(queries, np.int64)
        out_i = np.full((q.size, m), -1, np.int64)
        out_s = np.full((q.size, m), -np.inf)
        if name in ("coneighbour", "coneighbour-all"):
            b = self._batch()
            for lo in range(0, q.size, b):
                qq = q[lo:lo + b]
                s = self._heuristic_scores(name, qq, r)
                kn = self.adj[r][qq].tocoo()
                s[kn.row, kn.col] = -np.inf
                s[np.arange(qq.size), qq] = -np.inf
                out_i[lo:lo + b], out_s[lo:lo + b] = top_k(s, m)
            return out_i, out_s
        extra = int(self.deg[r][q].max()) + 1 if q.size else 1
        kk = min(self.n, m + extra)
        if name in self.spaces:
            x = self.spaces[name][r]
            key = (name, r if len({id(v) for v in self.spaces[name]}) > 1 else 0)
            if key not in self._faiss:
                import faiss

                index = faiss.IndexFlatIP(x.shape[1])
                index.add(np.ascontiguousarray(x))
                self._faiss[key] = index
            sc, idx = self._faiss[key].search(np.ascontiguousarray(x[q]), kk)
            sc = sc.astype(np.float64)
        else:
            model = self.curvature[name]
            dist, idx = model.keyed_.search(model.embedding_[q], kk)
            sc = -np.asarray(dist, np.float64)
        idx = np.asarray(idx, np.int64)
        bad = self._mask_known(q, r, idx)
        sc = np.where(bad, -np.inf, sc)
        order = np.argsort(-sc, axis=1, kind="stable")[:, :m]
        out_s[:, :order.shape[1]] = np.take_along_axis(sc, order, axis=1)
        out_i[:, :order.shape[1]] = np.where(np.isfinite(out_s[:, :order.shape[1]]),
                                             np.take_along_axis(idx, order, axis=1), -1)
        return out_i, out_s

    def merged_candidates(self, queries: Any, r: int, generators: list[str] | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
        """Union of the generators' candidates: ``(query position int64 (p,), item int64 (p,))``, unique pairs."""
        q = np.asarray(queries, np.int64)
        rows, items = [], []
        for name in generators or self.generator_names:
            idx, _ = self.generate(name, q, r)
            ok = idx >= 0
            rows.append(np.nonzero(ok)[0])
            items.append(idx[ok])
        key = np.unique(np.concatenate(rows).astype(np.int64) * self.n + np.concatenate(items))
        return key // self.n, key % self.n

    # ------------------------------------------------------------------ features
    def feature_names(self) -> list[str]:
        names = ["relation"]
        for rel in self.relations:
            names += [f"cn[{rel}]", f"aa[{rel}]", f"jaccard[{rel}]", f"link[{rel}]"]
        names += ["cn_same", "aa_same", "jaccard_same", "cn[union]", "links_other", "deg_u", "deg_v",
                  "deg_u[union]", "deg_v[union]"]
        names += [f"cos[{s}]" for s in self.spaces] + [f"curv[{c}]" for c in self.curvature]
        if self.last_time is not None:
            names += ["recency_u", "recency_v"]
        return names

    def features(self, u: Any, v: Any, r: int) -> np.ndarray:
        """``(p, F)`` float32 features of pairs ``(u, v)`` in relation index ``r`` (:meth:`feature_names`).

        ``link[r]`` of the pair's own relation is always 0 (a known ``r``-edge is not a candidate).
        """
        u, v = np.asarray(u, np.int64), np.asarray(v, np.int64)
        if not 0 <= r < len(self.adj):
            raise ValidationError(f"relation index {r}: expected [0, {len(self.adj)})")
        out = []
        for lo in range(0, u.size, PAIR_CHUNK):
            out.append(self._features(u[lo:lo + PAIR_CHUNK], v[lo:lo + PAIR_CHUNK], r))
        return np.concatenate(out) if out else np.zeros((0, len(self.feature_names())), np.float32)

    def _features(self, u: np.ndarray, v: np.ndarray, r: int) -> np.ndarray:
        cols: list[np.ndarray] = [np.full(u.size, r, np.float64)]
        per: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for j, a in enumerate(self.adj):
            both = a[u].multiply(a[v]).tocsr()
            cn = np.asarray(both.sum(axis=1)).ravel()
            aa = both @ self._aa[j]
            jac = cn / np.maximum(self.deg[j][u] + self.deg[j][v] - cn, 1.0)
            link = np.zeros(u.size) if j == r else np.asarray(a[u, v]).ravel()
            per.append((cn, aa, jac))
            cols += [cn, aa, jac, link]
        cols += list(per[r])
        cols.append(np.asarray(self.union[u].multiply(self.union[v]).sum(axis=1)).ravel())
        cols.append(sum(np.asarray(self.adj[j][u, v]).ravel() for j in range(len(self.adj)) if j != r)
                    if len(self.adj) > 1 else np.zeros(u.size))
        cols += [self.deg[r][u], self.deg[r][v], self.deg_union[u], self.deg_union[v]]
        for mats in self.spaces.values():
            cols.append((mats[r][u] * mats[r][v]).sum(axis=1))
        for model in self.curvature.values():
            cols.append(np.asarray(model.score(u, v, self.etypes[r]), np.float64))
        if self.last_time is not None:
            lt = self.last_time[r]
            now = self.t_now if self.t_now is not None else np.nan
            cols += [now - lt[u], now - lt[v]]
        return np.column_stack(cols).astype(np.float32)
