"""Degree-corrected stochastic block model with power-law degree propensities.

Karrer & Newman, *Stochastic blockmodels and community structure in networks*, Phys. Rev. E 83,
016107 (2011); the mixing parameter follows the LFR benchmark (Lancichinetti, Fortunato, Radicchi,
Phys. Rev. E 78, 046110, 2008).

Model. Node ``i`` gets block ``b_i`` (equal-size blocks, randomly placed) and propensity
``θ_i ~ Pareto``: ``P(θ > t) = t^{-(γ-1)}`` for ``t >= 1`` (degree exponent ``γ``), capped so that
the expected degree stays below ``max_degree`` (default: the structural cut-off
``sqrt(n · avg_degree)``). ``m = n · avg_degree / 2`` edges are drawn independently: one endpoint
``u`` with probability ``∝ θ_u``; with probability ``1 - mixing`` the other endpoint ``v`` is drawn
from ``u``'s block, else from the other blocks, ``∝ θ_v``. So ``E[deg_i] ∝ θ_i`` and a fraction
``1 - mixing`` of the edges lie inside blocks. Self-loops are rejected and repeated pairs merged;
draws are repeated in vectorised rounds until ``m`` distinct edges exist.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vastgraph.datasets.dataset import Dataset
from vastgraph.validation import check_float, check_int
from vastgraph.errors import ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.seeding import seed_from

_MAX_ROUNDS = 64




def pareto_propensity(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """``n`` draws with ``P(θ > t) = t^{-(exponent-1)}``, ``t >= 1`` (float64)."""
    return (1.0 - rng.random(n)) ** (-1.0 / (exponent - 1.0))


def draw_grouped(rng: np.random.Generator, cum: np.ndarray, start: np.ndarray, mass: np.ndarray,
                 group: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Positions drawn ``∝ weight`` inside ``group`` (where ``inside``) or outside it (elsewhere).

    ``cum`` is the cumulative weight (length n+1) of items sorted by group; group ``g`` spans
    ``[start[g], start[g] + mass[g])`` of the cumulative scale.
    """
    total = cum[-1]
    u = rng.random(group.shape[0])
    s, w = start[group], mass[group]
    r_in = s + u * w
    r_out = u * (total - w)
    r_out = np.where(r_out >= s, r_out + w, r_out)
    r = np.where(inside, r_in, r_out)
    pos = np.searchsorted(cum, r, side="right") - 1
    return np.clip(pos, 0, cum.shape[0] - 2)


def power_law_sbm(n_nodes: int = 1000, n_blocks: int = 5, avg_degree: float = 10.0, mixing: float = 0.1,
                  exponent: float = 2.5, max_degree: float | None = None, random_state: Any = None) -> Dataset:
    """Generate an undirected degree-corrected SBM with power-law degrees (see the module docstring).

    Args:
        n_nodes: number of nodes ``n``. Default 1000.
        n_blocks: number of blocks (= classes). Default 5.
        avg_degree: target mean degree (``m = n · avg_degree / 2`` edges). Default 10.
        mixing: fraction of edges between blocks, in [0, 1] (chance level is ``1 - 1/n_blocks``).
            Default 0.1. Ignored when ``n_blocks == 1``.
        exponent: power-law exponent ``γ > 1`` of the degree distribution. Default 2.5.
        max_degree: cap on a node's expected degree. Default ``sqrt(n · avg_degree)``.
        random_state: None, an int seed or a ``numpy.random.Generator``.

    Returns:
        A :class:`Dataset` named ``"sbm"``: one node type ``"node"`` (labels = block, node data
        ``propensity`` float32), one undirected edge type ``("node", "edge", "node")`` without
        self-loops or duplicates.

    Example:
        >>> ds = power_law_sbm(n_nodes=500, n_blocks=4, random_state=0)
        >>> ds.graph.num_undirected_edges()
        2500
    """
    n = check_int("n_nodes", n_nodes, 2)
    k = check_int("n_blocks", n_blocks, 1)
    if k > n:
        raise ValidationError(f"n_blocks={k}: expected at most n_nodes={n}")
    deg = check_float("avg_degree", avg_degree, 0.0, (n - 1) / 2.0, low_open=True)
    mix = check_float("mixing", mixing, 0.0, 1.0, low_open=False)
    gamma = check_float("exponent", exponent, 1.0, 1e6, low_open=True)
    cap = math.sqrt(n * deg) if max_degree is None else check_float("max_degree", max_degree, 1.0, 1e18, low_open=False)
    cap = max(cap, deg)
    rng = np.random.default_rng(int(seed_from(random_state)))

    labels = rng.permutation(np.arange(n, dtype=np.int64) % k)
    theta = pareto_propensity(rng, n, gamma)
    for _ in range(8):  # clipping lowers the mean, so re-clip until stable
        limit = cap * theta.mean() / deg
        if theta.max() <= limit * (1 + 1e-9):
            break
        theta = np.minimum(theta, limit)
    order = np.argsort(labels, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(theta[order])])
    first = np.searchsorted(labels[order], np.arange(k))
    start = cum[first]
    mass = np.diff(np.append(start, cum[-1]))
    label_sorted = labels[order]
    use_mix = mix if k > 1 else 0.0

    m = int(round(n * deg / 2.0))
    keys = np.zeros(0, dtype=np.int64)
    rounds = 0
    while keys.size < m and rounds < _MAX_ROUNDS:
        need = m - keys.size
        draws = int(need * 1.15) + 16
        u_pos = np.searchsorted(cum, rng.random(draws) * cum[-1], side="right") - 1
        u_pos = np.clip(u_pos, 0, n - 1)
        inside = rng.random(draws) >= use_mix
        v_pos = draw_grouped(rng, cum, start, mass, label_sorted[u_pos], inside)
        u, v = order[u_pos], order[v_pos]
        ok = u != v
        new = np.minimum(u[ok], v[ok]) * n + np.maximum(u[ok], v[ok])
        allk = np.concatenate([keys, new])
        _, first_idx = np.unique(allk, return_index=True)
        keys = allk[np.sort(first_idx)][:m]
        rounds += 1
    src, dst = keys // n, keys % n
    within = float(np.mean(labels[src] == labels[dst])) if keys.size else float("nan")

    b = GraphBuilder(directed=False, duplicates="first", self_loops="drop", id_mode="dense")
    b.add_nodes("node", count=n, labels=labels, data={"propensity": theta.astype(np.float32)})
    b.add_edges(src, dst, etype=("node", "edge", "node"), source="power_law_sbm")
    info: dict[str, Any] = {
        "dataset": "sbm",
        "source": "synthetic: vastgraph.datasets.synthetic_sbm.power_law_sbm",
        "citation": "B. Karrer, M. E. J. Newman. Stochastic blockmodels and community structure in "
                    "networks. Phys. Rev. E 83, 016107, 2011.",
        "params": {"n_nodes": n, "n_blocks": k, "avg_degree": deg, "mixing": mix, "exponent": gamma,
                   "max_degree": cap, "random_state": None if random_state is None else repr(random_state)},
        "edges": int(keys.size),
        "target_edges": m,
        "within_block_fraction": within,
        "chance_within_block_fraction": float(np.sum(np.bincount(labels, minlength=k) ** 2) / n**2),
        "counting": "num_edges = graph.num_undirected_edges()",
    }
    if keys.size < m:
        info["notes"] = (f"only {keys.size} distinct edges after {_MAX_ROUNDS} rounds (the requested "
                         "density is too high for the degree cap)")
    b.info.update(info)
    return Dataset(name="sbm", graph=b.build(), splits={}, info=info, missing=[])
