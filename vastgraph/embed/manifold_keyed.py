"""ManifoldKeyedEmbeddings: KeyedEmbeddings whose rows are points of a product of curved spaces.

The artifact of :class:`~vastgraph.embed.curvature.MixedCurvature`: the vectors, ids and folder
format of :class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings`, plus the manifold (blocks,
kinds, learned curvatures) stored in the metadata under ``"manifold"`` (``ProductSpace.to_spec()``),
so a saved folder loads back with its geometry. Nearest neighbours default to the geodesic
distance ``sqrt(Σ_b d_{κ_b}(x^b, y^b)²)`` through a :class:`~vastgraph.embed.geodesic_search.GeodesicIndex`
(exact scan up to ``exact_threshold`` rows, faiss candidates + exact re-ranking above it), cached per
node type; the flat metrics of the base class (``"cosine"``, ``"dot"``, ``"l2"``) stay available.
``build_index("geodesic", ...)`` attaches a persisted geodesic index (saved beside the vectors with
the manifold it was built for, reloaded without rebuilding its faiss candidate stage).

Example:
    >>> space = ProductSpace.parse("poincare", 2)
    >>> kv = ManifoldKeyedEmbeddings(np.array([[0.0, 0.0], [0.5, 0.0], [0.0, 0.9]]), ["n"], [0, 3],
    ...                              {"n": ["a", "b", "c"]}, space=space)
    >>> kv.most_similar("a", topn=1)[0][0]
    'b'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from vastgraph.embed.geodesic_search import GeodesicIndex
from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
from vastgraph.errors import StoreError, ValidationError
from vastgraph.geometry.manifolds import ProductSpace

GEODESIC = "geodesic"


class ManifoldKeyedEmbeddings(KeyedEmbeddings):
    """Immutable node points keyed by ``(node type, external id)`` with their product space.

    Args:
        vectors, node_types, offsets, ids, meta, copy: as :class:`KeyedEmbeddings`.
        space: the :class:`ProductSpace` of the rows; default read from ``meta["manifold"]``.
        exact_threshold: rows up to which geodesic search scans exactly. Default 20000.
    """

    def __init__(self, vectors: Any, node_types: list[str], offsets: Any, ids: dict[str, Any],
                 meta: dict[str, Any] | None = None, *, copy: bool = True, space: ProductSpace | None = None,
                 exact_threshold: int = 20000) -> None:
        meta = dict(meta or {})
        if space is not None:
            if not isinstance(space, ProductSpace):
                raise ValidationError(f"space: {type(space).__name__}; expected a ProductSpace")
            meta["manifold"] = space.to_spec()
        elif "manifold" not in meta:
            raise ValidationError("ManifoldKeyedEmbeddings: no space given and meta has no 'manifold' entry")
        self._exact_threshold = int(exact_threshold)
        super().__init__(vectors, node_types, offsets, ids, meta, copy=copy)

    def _init(self, vectors: np.ndarray, types: list[str], offsets: np.ndarray, index: dict[str, Any],
              meta: dict[str, Any]) -> None:
        super()._init(vectors, types, offsets, index, meta)
        spec = meta.get("manifold")
        if not isinstance(spec, dict):
            raise StoreError(f"manifold embeddings: metadata 'manifold' is {spec!r}; expected a space description")
        self._space = ProductSpace.from_spec(spec)
        if self._space.dim != vectors.shape[1]:
            raise ValidationError(f"manifold {self._space.spec_string()!r} has dimension {self._space.dim} but the "
                                  f"vectors have {vectors.shape[1]} columns")
        if not hasattr(self, "_exact_threshold"):
            self._exact_threshold = 20000
        self._geo: dict[str | None, tuple[GeodesicIndex, int]] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_geo"] = {}
        return state

    @classmethod
    def from_graph(cls, graph: Any, vectors: Any, meta: dict[str, Any] | None = None, *, copy: bool = True,
                   space: ProductSpace | None = None) -> "ManifoldKeyedEmbeddings":
        """Key ``vectors`` (global-id order) by the graph's node types and ids, with ``space``."""
        meta = dict(meta or {})
        if space is not None:
            meta["manifold"] = space.to_spec()
        return super().from_graph(graph, vectors, meta, copy=copy)  # type: ignore[return-value]

    @classmethod
    def load(cls, path: str | os.PathLike, *, mmap: bool = True, verify: bool = False,
             index: str = "rebuild") -> "ManifoldKeyedEmbeddings":
        """Open a folder written by :meth:`save` (refuses plain embedding folders without a manifold)."""
        from vastgraph.embed.keyed_embeddings import _read_meta

        p = Path(path).absolute()
        if not p.is_dir():
            raise StoreError(f"{p}: no such embedding folder")
        meta = _read_meta(p)
        if not isinstance(meta.get("meta"), dict) or "manifold" not in meta["meta"]:
            raise StoreError(f"{p}: embedding folder without a manifold; open it with "
                             "KeyedEmbeddings.load")
        return super().load(path, mmap=mmap, verify=verify, index=index)  # type: ignore[return-value]

    # ------------------------------------------------------------------ geometry
    @property
    def space(self) -> ProductSpace:
        """The product space of the rows (curvatures as learned)."""
        return self._space

    def curvatures(self) -> list[float]:
        """Curvature of each block."""
        return self._space.curvatures()

    def build_index(self, kind: str = "geodesic", metric: str = GEODESIC, *, ntype: str | None = None,
                    **params: Any) -> Any:
        """Attach a persisted index: ``kind="geodesic"`` (a :class:`GeodesicIndex`; ``params`` go to it),
        or a flat-metric faiss index as :meth:`KeyedEmbeddings.build_index`."""
        if kind != "geodesic":
            return super().build_index(kind, metric, ntype=ntype, **params)
        if metric != GEODESIC:
            raise ValidationError(f"metric={metric!r}: a geodesic index ranks by 'geodesic' distance")
        from vastgraph.embed.vector_index import GeodesicVectorIndex

        nt = None if ntype is None else self._ntype(ntype)
        rows, _ = self._index_rows(nt)
        index = GeodesicVectorIndex(ntype=nt, **params).build(rows, self._space)
        self._vindex = index
        return index

    def _saved_index_spec(self) -> Any:
        return self._meta.get("manifold")

    def geodesic_index(self, ntype: str | None = None) -> tuple[GeodesicIndex, int]:
        """The :class:`GeodesicIndex` over ``ntype``'s rows (all rows for None) and its first row:
        the attached persisted one when it covers ``ntype``, else one built on first use and cached."""
        vi = self._vindex
        if vi is not None and vi.kind == "geodesic" and vi.ntype == ntype:
            return vi.geo, (self._span(ntype)[0] if ntype is not None else 0)
        with self._lock:
            if ntype not in self._geo:
                a, b = self._span(ntype) if ntype is not None else (0, len(self))
                idx = GeodesicIndex(np.asarray(self._vectors[a:b]), self._space,
                                    exact_threshold=self._exact_threshold)
                self._geo[ntype] = (idx, a)
            return self._geo[ntype]

    def distance(self, a: Any, b: Any, ntype: str | None = None) -> float:
        """Geodesic distance between two keys (external ids, or ``(ntype, id)``)."""
        import torch

        rows = []
        for key in (a, b):
            ext, nt = self._split_key(key)
            rows.append(int(self.index_of(ext, nt if nt is not None else ntype)[0]))
        x = torch.from_numpy(np.asarray(self._vectors[rows], dtype=np.float64))
        with torch.no_grad():
            return float(self._space.dist(x[0], x[1]))

    def search(self, queries: Any, topn: int = 10, *, ntype: str | None = None,
               metric: str = GEODESIC) -> tuple[np.ndarray, np.ndarray]:
        """Top-``topn`` rows per query point: geodesic distance (ascending) by default.

        Args:
            queries: ``(q, d)`` or ``(d,)`` points.
            topn: neighbours per query. Default 10.
            ntype: only rows of this node type. Default all rows.
            metric: ``"geodesic"`` (default), or the base class's ``"cosine"``, ``"dot"``, ``"l2"``.

        Returns:
            ``(scores float32 (q, k), rows int64 (q, k))`` with global row numbers.
        """
        if metric != GEODESIC:
            return super().search(queries, topn, ntype=ntype, metric=metric)
        if isinstance(topn, bool) or not isinstance(topn, (int, np.integer)) or topn < 1:
            raise ValidationError(f"topn={topn!r}: expected an integer >= 1")
        nt = None if ntype is None else self._ntype(ntype)
        index, start = self.geodesic_index(nt)
        if len(index) == 0:
            q = np.atleast_2d(np.asarray(queries))
            return np.zeros((q.shape[0], 0), np.float32), np.zeros((q.shape[0], 0), np.int64)
        dist, rows = index.search(queries, int(topn))
        return dist.astype(np.float32), rows + start

    def most_similar(self, query: Any, topn: int = 10, ntype: str | None = None,
                     metric: str = GEODESIC) -> list[Any]:
        """As :meth:`KeyedEmbeddings.most_similar`, ranking by geodesic distance (ascending) by default."""
        return super().most_similar(query, topn=topn, ntype=ntype, metric=metric)

    def __repr__(self) -> str:
        return super().__repr__().replace("KeyedEmbeddings(", "ManifoldKeyedEmbeddings(", 1)[:-1] + \
            f"; manifold={self._space.spec_string()})"
