"""The local engine's node and edge draws: negatives, corrupted edges and edge samples.

Exclusion of true neighbours binary-searches the anchor's sorted CSR row (re-drawn up to
``max_retries`` times, then an exact draw over the allowed nodes). Degree and edge-weight draws use
alias tables the engine builds once per graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.sampling.engine import EdgeSample
from vastgraph.sampling.local.negative_kernels import coins, draw_edges, draw_negatives
from vastgraph.sampling.negative import check_corrupt, check_negatives
from vastgraph.seeding import derive_seed, seed_from

_EMPTY_F32, _EMPTY_I32 = np.zeros(0, np.float32), np.zeros(0, np.int32)


def _tables(eng: Any, ntype: str, etypes: list, distribution: str, power: float) -> tuple:
    if distribution == "uniform":
        return False, _EMPTY_F32, _EMPTY_I32, _EMPTY_F32
    prob, alias, w = eng.degree_tables(ntype, etypes, power)
    return True, prob, alias, w


def _run(eng: Any, ntype: str, n: int, tables: tuple, anchors: np.ndarray | None, adj: Any,
         max_retries: int, seed: np.uint64, stream_ids: np.ndarray) -> np.ndarray:
    n_cand = eng.graph.num_nodes(ntype)
    out = np.empty(n, dtype=np.int64)
    if n == 0:
        return out
    if n_cand == 0:
        raise ValidationError(f"node type {ntype!r} has no nodes to draw negatives from")
    use_alias, prob, alias, w = tables
    check = anchors is not None
    if check:
        indptr, indices = np.asarray(adj.indptr), np.asarray(adj.indices)
    else:
        anchors, indptr, indices = np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.int32)
    draw_negatives(np.int64(n_cand), use_alias, prob, alias, w, anchors, indptr, indices, check, max_retries,
                   seed, stream_ids, out)
    return out


def sample_negatives(eng: Any, n: Any, ntype: str | None, etype: Any, distribution: str, power: Any,
                     exclude_neighbors_of: Any, max_retries: Any, random_state: Any) -> np.ndarray:
    """See :func:`~vastgraph.sampling.negative.sample_negatives`."""
    n, ntype, et, anchors, etypes, power, max_retries = check_negatives(
        eng.graph, n, ntype, etype, distribution, power, exclude_neighbors_of, max_retries)
    tables = _tables(eng, ntype, etypes, distribution, power)
    adj = eng.adjacency(et) if anchors is not None else None
    return _run(eng, ntype, n, tables, anchors, adj, max_retries, seed_from(random_state),
                np.arange(n, dtype=np.int64))


def corrupt_edges(eng: Any, src: Any, dst: Any, etype: Any, num_negatives: Any, mode: str, filtered: bool,
                  distribution: str, power: Any, max_retries: Any,
                  random_state: Any) -> tuple[np.ndarray, np.ndarray]:
    """See :func:`~vastgraph.sampling.negative.corrupt_edges`."""
    et, s, d, q, power, max_retries = check_corrupt(eng.graph, src, dst, etype, num_negatives, mode,
                                                    distribution, power, max_retries)
    neg_src, neg_dst = np.repeat(s, q), np.repeat(d, q)
    total = neg_src.size
    seed = seed_from(random_state)
    if mode == "tail":
        tail = np.ones(total, dtype=bool)
    elif mode == "head":
        tail = np.zeros(total, dtype=bool)
    else:
        tail = coins(derive_seed(seed, 0xC0), np.int64(total))
    ids = np.arange(total, dtype=np.int64)
    for is_tail in (True, False):
        sel = ids[tail] if is_tail else ids[~tail]
        if sel.size == 0:
            continue
        ntype = et.dst if is_tail else et.src
        tables = _tables(eng, ntype, [et], distribution, power)
        anchors = (neg_src if is_tail else neg_dst)[sel] if filtered else None
        adj = eng.adjacency(et, not is_tail)
        draws = _run(eng, ntype, sel.size, tables, anchors, adj, max_retries, seed, sel)
        if is_tail:
            neg_dst[sel] = draws
        else:
            neg_src[sel] = draws
    return neg_src, neg_dst


def sample_edges(eng: Any, n: Any, etype: Any, weighted: bool | None, random_state: Any) -> EdgeSample:
    """``n`` edges with replacement: draw ``i`` from ``stream(seed, i)``, uniformly over the stored
    entries or ∝ weight (one alias table over all entries, cached)."""
    graph = eng.graph
    et = graph.edge_type(etype)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValidationError(f"n={n!r}: expected an int >= 0")
    if weighted not in (None, True, False):
        raise ValidationError(f"weighted={weighted!r}: expected None, True or False")
    if weighted and not graph.has_weights(et):
        raise ValidationError(f"weighted=True but edge type {str(et)!r} has no weights")
    use_w = graph.has_weights(et) if weighted is None else bool(weighted)
    adj = eng.adjacency(et)
    n = int(n)
    src, dst, pos = (np.empty(n, dtype=np.int64) for _ in range(3))
    if n == 0:
        return EdgeSample(src, dst, pos, et)
    if adj.nnz == 0:
        raise EmptyInputError(f"edge type {et} has no edges to sample")
    prob, alias = eng.edge_alias(et) if use_w else (_EMPTY_F32, _EMPTY_I32)
    draw_edges(np.asarray(adj.indptr), np.asarray(adj.indices), use_w, prob, alias, seed_from(random_state),
               src, dst, pos)
    return EdgeSample(src, dst, pos, et)
