"""Metapath-guided random walks over a heterogeneous graph (metapath2vec)."""

from __future__ import annotations

from typing import Any, Sequence

import numba as nb
import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.store import GraphStore
from vastgraph.sampling.alias import alias_draw, alias_tables
from vastgraph.seeding import next_int, seed_from
from vastgraph.sampling.walk_kernels import LANES, init_lanes
from vastgraph.sampling.walks import check_counts, check_start, row_sums, run_chunked

REVERSE_PREFIX = "~"


@nb.njit(nogil=True, parallel=True, cache=True)
def _metapath_kernel(indptrs, indices, probs, aliases, weighted, dst_offsets, start_offset, starts,
                     first, count, walk_length, seed, out):  # pragma: no cover - numba
    """Step ``j`` (1-based) follows adjacency ``(j - 1) % len(indptrs)``; ids out are global."""
    n_steps = len(indptrs)  # tuples of equal-typed arrays, indexed by the step
    n_blocks = (count + LANES - 1) // LANES
    for blk in nb.prange(n_blocks):
        i0 = blk * LANES
        nl = min(LANES, count - i0)
        st = np.empty(LANES, np.uint64)
        cur = np.empty(LANES, np.int64)
        init_lanes(starts, first, i0, nl, seed, st, cur, out)
        for lane in range(nl):
            out[i0 + lane, 0] += start_offset
        for j in range(1, walk_length + 1):
            s = (j - 1) % n_steps
            indptr = indptrs[s]
            ind = indices[s]
            prob = probs[s]
            alias = aliases[s]
            use_w = weighted[s]
            off = dst_offsets[s]
            for lane in range(nl):
                v = cur[lane]
                if v >= 0:
                    a = indptr[v]
                    d = indptr[v + 1] - a
                    if d > 0:
                        if use_w:
                            state, k = alias_draw(st[lane], a, d, prob, alias)
                        else:
                            state, k = next_int(st[lane], d)
                        st[lane] = state
                        v = np.int64(ind[a + k])
                    else:
                        v = -1
                    cur[lane] = v
                out[i0 + lane, j] = v + off if v >= 0 else -1


def _uniform_tuple(arrays: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Arrays as one numba type (read-only if any is, e.g. a memory map) so a step can index them."""
    arrays = [np.ascontiguousarray(a) for a in arrays]
    if all(a.flags.writeable for a in arrays):
        return tuple(arrays)
    views = []
    for a in arrays:
        v = a.view()
        v.flags.writeable = False
        views.append(v)
    return tuple(views)


def resolve_metapath(graph: GraphStore, metapath: Any) -> list[tuple[EdgeType, bool]]:
    """``[(edge type, reverse)]`` of a metapath; checks that consecutive steps chain.

    An element is anything ``graph.edge_type`` accepts (``"src:rel:dst"``, a bare relation, a
    3-tuple, an :class:`EdgeType`), or a string with the prefix ``"~"`` (``"~click"``,
    ``"~query:click:ad"``) for that edge type walked backwards, from its destination to its source.
    """
    if isinstance(metapath, (str, EdgeType)) or not isinstance(metapath, Sequence) or len(metapath) == 0:
        raise ValidationError(f"metapath={metapath!r}: expected a non-empty list of edge types, "
                              f"e.g. ['query:click:ad', '{REVERSE_PREFIX}query:click:ad']")
    steps = []
    for elem in metapath:
        if isinstance(elem, str) and elem.startswith(REVERSE_PREFIX):
            steps.append((graph.edge_type(elem[len(REVERSE_PREFIX):]), True))
        else:
            steps.append((graph.edge_type(elem), False))
    return steps


def _ends(step: tuple[EdgeType, bool]) -> tuple[str, str]:
    et, rev = step
    return (et.dst, et.src) if rev else (et.src, et.dst)


def _spell(step: tuple[EdgeType, bool]) -> str:
    return (REVERSE_PREFIX if step[1] else "") + str(step[0])


def metapath_walks(graph: GraphStore, metapath: Sequence[Any], *, start: Any = None, walks_per_node: int = 10,
                   walk_length: int = 80, weighted: bool | None = None,
                   random_state: Any = None) -> np.ndarray:
    """Random walks whose i-th step follows edge type ``metapath[i % len(metapath)]``.

    metapath2vec (Dong, Chawla & Swami, KDD 2017): the walk's node types follow a pattern such as
    query → ad → query, so the walk's context mixes types in a controlled way. Each step picks an
    out-edge of the current node in the step's edge type, uniformly or ∝ weight (alias tables).

    The steps must chain: the destination type of step ``i`` is the source type of step ``i + 1``;
    when the walk is longer than the metapath, the metapath repeats, so its last destination type
    must also equal its first source type. Element ``"~name"`` walks edge type ``name`` backwards
    (destination → source, through the CSC). A walk that reaches a node without out-edges in the
    next step's edge type stops; the rest of its row is -1. Row order: repetition-major (all start
    nodes for repetition 0, then repetition 1, ...); one random stream per walk, so results do not
    depend on the number of threads.

    Args:
        graph: a :class:`~vastgraph.graph.store.GraphStore`.
        metapath: edge types (see above), e.g. ``["query:click:ad", "~query:click:ad"]``.
        start: dense ids of the first step's source type; default all its nodes.
        walks_per_node: walks from each start node (>= 1). Default 10.
        walk_length: steps per walk (>= 1); rows hold ``walk_length + 1`` nodes. Default 80.
        weighted: ``None`` (default) uses the weights of every step whose edge type has them;
            ``True`` requires them on every step; ``False`` ignores them.
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        int64 ``(len(start) · walks_per_node, walk_length + 1)`` global node ids
        (``graph.node_offsets()[type] + dense id``), -1 after a dead end.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder()
        >>> _ = b.add_edges([0, 1], [0, 0], etype=("query", "click", "ad"))
        >>> g = b.build()
        >>> metapath_walks(g, ["click", "~click"], walk_length=2, walks_per_node=1, random_state=0).shape
        (2, 3)
    """
    steps = resolve_metapath(graph, metapath)
    for i in range(len(steps) - 1):
        if _ends(steps[i])[1] != _ends(steps[i + 1])[0]:
            raise ValidationError(
                f"metapath step {i} ({_spell(steps[i])}) ends at node type {_ends(steps[i])[1]!r} but "
                f"step {i + 1} ({_spell(steps[i + 1])}) starts at {_ends(steps[i + 1])[0]!r}")
    wpn, length = check_counts(walks_per_node, walk_length)
    if length > len(steps) and _ends(steps[-1])[1] != _ends(steps[0])[0]:
        raise ValidationError(
            f"metapath ends at node type {_ends(steps[-1])[1]!r} but starts at {_ends(steps[0])[0]!r}; "
            f"walk_length={length} > {len(steps)} steps repeats the metapath, so it must close "
            "into a cycle (or pass walk_length <= len(metapath))")
    start_type = _ends(steps[0])[0]
    starts = check_start(graph, start_type, start)
    offsets = graph.node_offsets()
    adjs = [graph.adjacency(et, reverse=rev) for et, rev in steps]
    flags = []
    for (et, rev), adj in zip(steps, adjs):
        if weighted is None:
            flags.append(adj.weight is not None)
        elif weighted not in (True, False):
            raise ValidationError(f"weighted={weighted!r}: expected None, True or False")
        elif weighted and adj.weight is None:
            raise ValidationError(f"weighted=True but metapath edge type {str(et)!r} has no weights")
        else:
            flags.append(bool(weighted))
    idx_dtype = np.result_type(*[adj.indices.dtype for adj in adjs])
    indptrs, indices, probs, aliases = [], [], [], []
    for (et, rev), adj, use_w in zip(steps, adjs, flags):
        indptrs.append(np.asarray(adj.indptr, dtype=np.int64))
        indices.append(np.asarray(adj.indices, dtype=idx_dtype))
        if use_w:
            row_sums(graph, et, rev)  # rejects negative weights
            prob, alias = alias_tables(graph, et, reverse=rev)
        else:
            prob, alias = np.empty(0, np.float32), np.empty(0, np.int32)
        probs.append(prob)
        aliases.append(alias)
    indptrs, indices, probs, aliases = (_uniform_tuple(x) for x in (indptrs, indices, probs, aliases))
    dst_offsets = np.array([offsets[_ends(s)[1]] for s in steps], dtype=np.int64)
    seed = seed_from(random_state)
    out = np.empty((starts.shape[0] * wpn, length + 1), dtype=np.int64)
    wflags = np.array(flags, dtype=np.bool_)
    start_offset = np.int64(offsets[start_type])

    def run(first: int, count: int, block: np.ndarray) -> None:
        _metapath_kernel(indptrs, indices, probs, aliases, wflags, dst_offsets, start_offset, starts,
                         first, count, length, seed, block)

    run_chunked(run, out, None)
    return out
