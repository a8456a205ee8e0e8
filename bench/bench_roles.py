"""Structural roles: do GraLSP / GraphSTONE embeddings find the roles that degree features find?

struc2vec's protocol (Ribeiro et al., KDD 2017): a logistic regression on the node vectors,
80/20 random splits (10 by default), mean accuracy. Graphs: the role-labelled synthetic graphs of
:mod:`vastgraph.datasets.roles` (houses on a cycle and on a path, a barbell; labels = roles), the
mirrored karate club without noise, as in struc2vec (metric: twin AUC, the probability that a
node's mirror twin is closer to it than another node, ties 1/2: the mirrored twins must coincide) and the HGCN airport graph (4
population classes), when the shared datasets are present.

Methods (all unsupervised, the same classifier on top):

* ``degree``: ``log(1 + degree)``, ``log(1 + mean neighbour degree)``;
* ``aw-raw``: the raw anonymous-walk type distribution (100 walks of 8 steps per node, first order);
* ``role-features``: :func:`vastgraph.sampling.structural_context.role_features` (smoothed prefix
  distributions + log degrees: the structural models' inputs and role targets);
* ``deepwalk``: :class:`vastgraph.embed.deepwalk.DeepWalk` (d = 64, 10 walks of 40 steps);
* ``gralsp`` / ``graphstone``: ``Trainer(model, "unsupervised")`` embeddings (d = 64).

Run: ``.venv/bin/python bench/bench_roles.py [--full] [--noise 0.05] [--seed 0]``; quick by
default (fewer epochs on the airport graph). Prints a markdown table and one ``RESULT {json}`` line
per graph.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

METHODS = ("degree", "aw-raw", "role-features", "deepwalk", "gralsp", "graphstone")


def role_accuracy(x: np.ndarray, y: np.ndarray, splits: int, seed: int) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    accs = []
    for s in range(splits):
        perm = np.random.default_rng([seed, s]).permutation(y.size)
        k = int(0.8 * y.size)
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        clf.fit(x[perm[:k]], y[perm[:k]])
        accs.append(float((clf.predict(x[perm[k:]]) == y[perm[k:]]).mean()))
    return float(np.mean(accs))


def twin_auc(x: np.ndarray, twins: np.ndarray) -> float:
    """Probability that a node's mirror twin is closer to it than another node (ties count 1/2),
    averaged over nodes, on standardised vectors (1: twins coincide; 0.5: chance)."""
    x = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 1e-12, x.std(axis=0), 1.0)
    d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2)
    n = x.shape[0]
    dt = d[np.arange(n), twins]
    tol = 1e-9 * (1.0 + dt)
    others = np.ones((n, n), dtype=bool)
    others[np.arange(n), np.arange(n)] = False
    others[np.arange(n), twins] = False
    farther = ((d > (dt + tol)[:, None]) & others).sum(axis=1)
    ties = ((np.abs(d - dt[:, None]) <= tol[:, None]) & others).sum(axis=1)
    return float(np.mean((farther + 0.5 * ties) / others.sum(axis=1)))


def degree_features(graph) -> np.ndarray:
    from vastgraph.sampling.structural_context import degree_statistics

    d, m = degree_statistics(graph, None)
    return np.stack([np.log1p(d), np.log1p(m)], axis=1)


def raw_distribution(graph, seed: int) -> np.ndarray:
    from vastgraph.sampling.anonymous import walk_type_distribution

    dist, _ = walk_type_distribution(graph, walks_per_node=100, walk_length=8, random_state=seed)
    return dist.toarray()


def role_feats(graph, seed: int) -> np.ndarray:
    from vastgraph.sampling.structural_context import StructuralContext

    return StructuralContext.build(graph, walks_per_node=100, walk_length=8, random_state=seed).structural_features()


def deepwalk(graph, seed: int) -> np.ndarray:
    from vastgraph.embed.deepwalk import DeepWalk

    return np.asarray(DeepWalk(dimensions=64, walks_per_node=10, walk_length=40, window=5,
                               random_state=seed).fit(graph).embedding_)


def gnn(name: str, graph, seed: int, epochs: int, batch_size: int) -> tuple[np.ndarray, int]:
    from vastgraph.train.models import create_model
    from vastgraph.train.trainer import Trainer

    model = create_model(name, graph, hidden=64, out_dim=64, random_state=seed)
    tr = Trainer(model, "unsupervised", epochs=epochs, batch_size=batch_size, patience=10,
                 random_state=seed).fit(graph)
    return tr.embed(), len(tr.history_)


def graphs(noise: float, seed: int, data_root: str | None) -> list[tuple[str, object, np.ndarray | None,
                                                                        np.ndarray | None, bool]]:
    from vastgraph.datasets.roles import role_graphs

    from vastgraph.datasets.roles import mirrored_karate

    out = [(rg.name, rg.graph, rg.labels, None, False) for rg in role_graphs(noise=noise, random_state=seed)
           if rg.twins is None]
    rg = mirrored_karate(1)  # struc2vec: no noise, so that the twins are exactly mirrored
    out.append((rg.name, rg.graph, None, rg.twins, False))
    root = data_root or os.environ.get("VASTGRAPH_DATA") or str(Path(__file__).resolve().parents[2] / "shared"
                                                                 / "datasets")
    if Path(root, "airport").is_dir():
        from vastgraph.datasets import load_dataset

        g = load_dataset("airport", root=root).graph
        out.append(("HGCN airport (4 classes)", g, np.asarray(g.labels(g.node_types[0])), None, True))
    return out


def main() -> None:
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--noise", type=float, default=0.05, help="random edges added to the synthetic graphs (fraction)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--splits", type=int, default=10)
    ap.add_argument("--full", action="store_true", help="more epochs (default: quick)")
    ap.add_argument("--data-root", default=None, help="folder holding airport/ (default: ../shared/datasets)")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    methods = [m for m in args.methods.split(",") if m]
    rows = []
    for name, graph, labels, twins, large in graphs(args.noise, args.seed, args.data_root):
        rec = {"graph": name, "nodes": int(graph.num_nodes()),
               "metric": "accuracy" if labels is not None else "twin AUC"}
        for m in methods:
            t0 = time.perf_counter()
            if m == "degree":
                x = degree_features(graph)
            elif m == "aw-raw":
                x = raw_distribution(graph, args.seed)
            elif m == "role-features":
                x = role_feats(graph, args.seed)
            elif m == "deepwalk":
                x = deepwalk(graph, args.seed)
            else:
                epochs = (60 if args.full else 15) if large else (200 if args.full else 80)
                x, ran = gnn(m, graph, args.seed, epochs, 512 if large else 32)
                rec[f"{m}_epochs"] = ran
            score = role_accuracy(x, labels, args.splits, args.seed) if labels is not None else twin_auc(x, twins)
            rec[m] = round(score, 3)
            rec[f"{m}_seconds"] = round(time.perf_counter() - t0, 1)
            print(f"# {name}: {m} {score:.3f} ({rec[f'{m}_seconds']}s)", flush=True)
        rows.append(rec)
    print("| graph | nodes | metric | " + " | ".join(methods) + " |")
    print("|---|---|---|" + "---|" * len(methods))
    for r in rows:
        print(f"| {r['graph']} | {r['nodes']} | {r['metric']} | " + " | ".join(f"{r[m]:.3f}" for m in methods) + " |")
    for r in rows:
        print("RESULT " + json.dumps(r))


if __name__ == "__main__":
    main()
