"""Curvature-space embeddings: Euclidean vs Poincaré vs learned vs mixed, same dimension and budget.

usage: python bench/bench_curvature.py [--quick] [--repeats 3]
                                       [--datasets hgcn,trees,cora,amazon,blogcatalog,throughput]
                                       [--epochs N] [--workers N] [--hgcn-* ...] [--json out.json]

The HGCN table alone (airport and disease_lp, d = 8 and 16, 3 seeds; about 15 minutes with
``--workers 2`` on two free cores, much longer on a loaded machine):

    python bench/bench_curvature.py --datasets hgcn --workers 2
    python bench/bench_curvature.py --datasets hgcn --quick        # d = 8, one seed, 20 epochs

0. ``hgcn``: link prediction on HGCN's ``airport`` and ``disease_lp`` (Chami et al. 2019; also the
   generated ``tree`` / ``sbm`` with ``--hgcn-datasets``) under HGCN's protocol — 85/5/10 edge
   split (``split_edges(test_fraction=0.1, valid_fraction=0.05)``, as many uniform non-edges as
   edges in validation and test), early stopping on validation AUC (``--hgcn-patience``) with the
   best epoch's state kept — for Euclid / Poincaré / learned κ (one stereographic block from −1)
   / mixed (``k``(−1) × ``k``(+1) × E thirds, learned block weights). Table: test AUC mean ± std
   over ``--repeats`` seeds and the final curvatures of every seed. All geometries share one
   setup (:func:`hgcn_setup`: softmax loss, 10 negatives ∝ degree^0.75, batch 1024, lr 0.1,
   curvature lr 0.005, 2 burn-in epochs, at most 40 epochs). The papers' numbers are of a
   2-layer HGCN *with node features* (HGCN 96.4 / 90.8; CurvLearn's airport example, a TF HGCN:
   Euclidean 93.68 < Poincaré 94.51 < stereographic 95.13); these are feature-free shallow
   embeddings, for which HGCN's own Table 2 reports Airport EUC 92.0 / HYP 94.5 and Disease
   EUC 59.8 / HYP 63.5.

Sections (every geometry gets the same epochs, negatives, batch size, learning rates and loss; the
Nickel & Kiela softmax loss on the model's distance ``sqrt(−s(u, v))``; MixedCurvature on
``--threads`` torch threads, default 1, which on a shared machine beats 2):

1. ``trees``: balanced tree (branching 3, depth 6), uniform random tree (n=2000), hierarchical SBM
   (3 levels, branching 3, 16 nodes per block) — reconstruction mAP (Nickel & Kiela 2017) and
   average distortion (Gu et al. 2019, after the best global scale) of MixedCurvature embeddings
   with ``manifold`` euclidean / poincare / mixed at dimensions 2, 4, 8, 16 (mixed at d=2 is
   ``h1,e1``: the H×S×E split needs 3 dimensions); distances ``sqrt(−score)`` so the mixed
   model is ranked by the block weights it was trained with; float64, batch ``max(32, pairs/8)``,
   20 uniform negatives, 10 burn-in epochs (:data:`TREE_SETUP`).
2. link prediction AUC (``split_edges`` 10%, scored with ``MixedCurvature.score``) on Cora
   structure, GATNE Amazon per edge type and BlogCatalog for euclidean / poincare / learned / mixed,
   with the learned curvatures. Reference ordering (CurvLearn's airports example): Euclidean 93.68
   < Poincaré 94.51 < learned stereographic 95.13 AUC.
3. ``throughput``: training pairs/s of MixedCurvature (mixed, d=48, 5 negatives, batch 8192) vs
   vastgraph's numba Euclidean SGNS (``LINE`` order 2, d=48, same number of edge samples and negatives).

Each cell is the median over ``--repeats`` seeds. Prints markdown tables and one ``RESULT {json}``
line per cell. Real datasets come from ``../shared/datasets`` (or ``$VASTGRAPH_DATA``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import markdown_table, median, save_json  # noqa: E402

SECTIONS = ("hgcn", "trees", "cora", "amazon", "blogcatalog", "throughput")


def data_root() -> Path:
    env = os.environ.get("VASTGRAPH_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "datasets"


def spec_for(kind: str, d: int) -> str:
    return "h1,e1" if (kind == "mixed" and d < 3) else kind


TREE_SETUP = dict(batch_size=32, negative=20, negative_power=0.0, burn_in=10, dtype="float64")
"""Nickel & Kiela's reconstruction setup: small batches, many uniform negatives, burn-in at lr/10."""
LP_SETUP = dict(batch_size=1024, negative=10, burn_in=2)
"""Link prediction: larger batches; the curvature learning rate is ``--lp-curvature-lr`` (a fast one
lets κ run away on graphs with many steps: it acts as a free distance scale for the loss)."""


def fit(graph: Any, manifold: str, d: int, args: argparse.Namespace, seed: int, setup: dict[str, Any],
        epochs: int | None = None):
    from vastgraph.embed.curvature import MixedCurvature

    setup = dict({"curvature_lr": args.curvature_lr}, **setup)
    return MixedCurvature(dimensions=d, manifold=manifold, epochs=epochs or args.epochs, lr=args.lr,
                          num_threads=args.threads, random_state=seed, **setup).fit(graph)


def score_distance(model: Any):
    """``sqrt(−s(u, v))``: the distance the model ranks by (block weights included)."""
    return lambda u, v: np.sqrt(np.maximum(-model.score(u, v), 0.0))


def emit(rec: dict[str, Any]) -> None:
    print("RESULT " + json.dumps(rec, default=float), flush=True)


def tree_graphs(quick: bool) -> dict[str, Any]:
    from vastgraph.datasets.hierarchies import balanced_tree, hierarchical_sbm, random_tree

    if quick:
        return {"balanced_tree(3,4)": balanced_tree(3, 4), "random_tree(300)": random_tree(300, random_state=0),
                "hsbm(2,3,8)": hierarchical_sbm(2, 3, block_size=8, decay=0.25, random_state=0)}
    return {"balanced_tree(3,6)": balanced_tree(3, 6), "random_tree(2000)": random_tree(2000, random_state=0),
            "hsbm(3,3,16)": hierarchical_sbm(3, 3, block_size=16, decay=0.25, random_state=0)}


def bench_trees(args: argparse.Namespace, out: list[dict]) -> str:
    from vastgraph.train.distortion import average_distortion, reconstruction_map, sample_distance_pairs

    dims = (2, 8) if args.quick else (2, 4, 8, 16)
    rows = []
    for gname, g in tree_graphs(args.quick).items():
        for d in dims:
            cells = {}
            for kind in ("euclidean", "poincare", "mixed"):
                maps, dists = [], []
                for r in range(args.repeats):
                    setup = dict(TREE_SETUP, batch_size=max(32, 2 * g.num_edges() // 8))  # >= 8 steps per epoch
                    m = fit(g, spec_for(kind, d), d, args, seed=r, setup=setup)
                    dist = score_distance(m)
                    maps.append(reconstruction_map(dist, g, max_sources=args.sources, random_state=r))
                    e, gd = sample_distance_pairs(dist, g, n_sources=min(64, args.sources), random_state=r)
                    dists.append(average_distortion(e, gd, scale="best"))
                cells[kind] = (median(maps), median(dists))
                rec = {"section": "trees", "graph": gname, "dim": d, "manifold": spec_for(kind, d),
                       "map": cells[kind][0], "distortion": cells[kind][1], "curvatures": m.curvatures_,
                       "epochs": args.epochs, "repeats": args.repeats}
                emit(rec)
                out.append(rec)
            rows.append([gname, d] + [f"{cells[k][0]:.3f} / {cells[k][1]:.3f}" for k in ("euclidean", "poincare", "mixed")])
    return markdown_table(["graph", "d", "euclidean mAP / dist", "poincare mAP / dist", "mixed mAP / dist"], rows)


def lp_auc(graph: Any, etype: Any, manifold: str, d: int, args: argparse.Namespace, seed: int) -> tuple[float, list]:
    from vastgraph.train.link_prediction import split_edges
    from vastgraph.train.metrics import roc_auc

    split = split_edges(graph, etype, test_fraction=0.1, random_state=seed)
    m = fit(split.train_graph, manifold, d, args, seed, setup=dict(LP_SETUP, curvature_lr=args.lp_curvature_lr),
            epochs=args.lp_epochs)
    pos, neg = split.to_global(split.test_pos), split.to_global(split.test_neg)
    pairs = np.concatenate([pos, neg])
    s = m.score(pairs[:, 0], pairs[:, 1], etype=split.etype)
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    return roc_auc(y, s), m.curvatures_


def lp_tasks(name: str) -> list[tuple[str, Any, Any]]:
    from vastgraph.datasets.registry import load_dataset

    ds = load_dataset(name, root=str(data_root()), download=False)
    g = ds.graph
    if name == "amazon":
        return [(f"amazon {et.rel}", g, et) for et in g.edge_types]
    return [(f"{name} (structure)", g, g.edge_types[0])]


def bench_lp(names: list[str], args: argparse.Namespace, out: list[dict]) -> str:
    d = 16
    kinds = ("euclidean", "poincare", "learned", "mixed")
    rows = []
    for name in names:
        for label, g, et in lp_tasks(name):
            cells, curv = {}, {}
            for kind in kinds:
                res = [lp_auc(g, et, kind, d, args, seed=r) for r in range(args.repeats)]
                cells[kind] = median([a for a, _ in res])
                curv[kind] = res[-1][1]
                rec = {"section": "link_prediction", "task": label, "dim": d, "manifold": kind, "auc": cells[kind],
                       "curvatures": curv[kind], "epochs": args.lp_epochs, "repeats": args.repeats}
                emit(rec)
                out.append(rec)
            fmt = ", ".join(f"{c:+.2f}" for c in curv["mixed"])
            rows.append([label] + [f"{100 * cells[k]:.2f}" for k in kinds]
                        + [f"{curv['learned'][0]:+.3f}", f"[{fmt}]"])
    return markdown_table(["task (d=16)"] + [f"{k} AUC" for k in kinds] + ["learned κ", "mixed κ (h,s,e)"], rows)


HGCN_KINDS = ("euclidean", "poincare", "learned", "mixed")
HGCN_LABELS = {"euclidean": "Euclid", "poincare": "Poincaré", "learned": "learned κ", "mixed": "mixed H×S×E"}


def hgcn_setup(args: argparse.Namespace) -> dict[str, Any]:
    """The link-prediction training setup shared by every geometry of the ``hgcn`` section."""
    return dict(epochs=args.hgcn_epochs, batch_size=args.hgcn_batch, negative=args.hgcn_negative,
                negative_power=args.hgcn_negative_power, loss=args.hgcn_loss, lr=args.hgcn_lr,
                curvature_lr=args.hgcn_curvature_lr, burn_in=args.hgcn_burn_in, patience=args.hgcn_patience,
                init_scale=args.hgcn_init_scale)


def hgcn_cell(job: tuple[str, int, str, int, dict[str, Any], str]) -> dict[str, Any]:
    """One (dataset, d, manifold, seed) run: HGCN's 85/5/10 split, early stopping on validation AUC."""
    import torch

    from vastgraph.embed.curvature import MixedCurvature
    from vastgraph.train.link_prediction import split_edges
    from vastgraph.train.metrics import roc_auc

    name, d, kind, seed, setup, root = job
    torch.set_num_threads(1)
    g = hgcn_graph(name, root)
    split = split_edges(g, test_fraction=0.10, valid_fraction=0.05, random_state=seed)

    def pairs(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (np.concatenate([split.to_global(pos), split.to_global(neg)]),
                np.r_[np.ones(len(pos)), np.zeros(len(neg))])

    t0 = time.perf_counter()
    m = MixedCurvature(dimensions=d, manifold=kind, num_threads=1, random_state=seed, **setup)
    m.fit(split.train_graph, validation=pairs(split.valid_pos, split.valid_neg))
    p, y = pairs(split.test_pos, split.test_neg)
    return {"section": "hgcn", "dataset": name, "dim": d, "manifold": kind, "seed": seed,
            "auc": roc_auc(y, m.score(p[:, 0], p[:, 1])), "valid_auc": float(m.validation_auc_.max()),
            "best_epoch": int(m.best_epoch_), "curvatures": [round(c, 4) for c in m.curvatures_],
            "seconds": time.perf_counter() - t0, **setup}


def hgcn_graph(name: str, root: str) -> Any:
    """``airport`` / ``disease_lp`` from the shared datasets, or a generated ``tree`` / ``sbm``."""
    if name == "tree":
        from vastgraph.datasets.hierarchies import random_tree

        return random_tree(3000, random_state=0)
    if name == "sbm":
        from vastgraph.datasets.synthetic_sbm import power_law_sbm

        return power_law_sbm(n_nodes=3000, avg_degree=10, random_state=0).graph
    from vastgraph.datasets.registry import load_dataset

    return load_dataset(name, root=root, download=False).graph


def bench_hgcn(args: argparse.Namespace, out: list[dict]) -> str:
    """dataset × d × geometry: mean ± std test AUC over seeds, with the final curvatures."""
    setup = hgcn_setup(args)
    names = [s.strip() for s in args.hgcn_datasets.split(",") if s.strip()]
    dims = [int(x) for x in args.hgcn_dims.split(",")]
    jobs = [(n, d, k, r, setup, str(data_root())) for d in dims for r in range(args.repeats) for n in names
            for k in HGCN_KINDS]
    recs: list[dict[str, Any]] = []
    if args.workers > 1:
        from multiprocessing import get_context

        with get_context("spawn").Pool(args.workers) as pool:
            for rec in pool.imap(hgcn_cell, jobs, chunksize=1):
                emit(rec)
                recs.append(rec)
    else:
        for job in jobs:
            recs.append(hgcn_cell(job))
            emit(recs[-1])
    out.extend(recs)
    rows = []
    for n in names:
        for d in dims:
            row: list[Any] = [n, d]
            kappas = []
            for k in HGCN_KINDS:
                cell = [r for r in recs if (r["dataset"], r["dim"], r["manifold"]) == (n, d, k)]
                a = 100 * np.array([r["auc"] for r in cell])
                row.append(f"{a.mean():.2f} ± {a.std():.2f}")
                if k in ("learned", "mixed"):
                    kappas.append("; ".join("[" + ", ".join(f"{c:+.2f}" for c in r["curvatures"]) + "]" for r in cell))
            rows.append(row + kappas)
    return markdown_table(["dataset", "d"] + [f"{HGCN_LABELS[k]} AUC" for k in HGCN_KINDS]
                          + ["learned κ per seed", "mixed κ (h, s, e) per seed"], rows)


def bench_throughput(args: argparse.Namespace, out: list[dict]) -> str:
    from vastgraph.datasets.synthetic_sbm import power_law_sbm
    from vastgraph.embed.curvature import MixedCurvature
    from vastgraph.embed.line import LINE

    g = power_law_sbm(n_nodes=2000 if args.quick else 10000, avg_degree=10, random_state=0).graph
    entries = int(g.adjacency().nnz)
    d, epochs = 48, 3
    rates_m, rates_l = [], []
    for r in range(args.repeats):
        m = MixedCurvature(dimensions=d, manifold="mixed", epochs=epochs, negative=5, batch_size=8192,
                           num_threads=args.threads, random_state=r).fit(g)
        rates_m.append(m.pairs_per_second_)
        samples = entries * epochs
        t0 = time.perf_counter()
        LINE(dimensions=d, order=2, negative=5, samples=samples, random_state=r).fit(g)
        rates_l.append(samples / (time.perf_counter() - t0))
    rec = {"section": "throughput", "graph": f"sbm n={g.num_nodes()}", "dim": d, "threads": args.threads,
           "mixed_pairs_per_s": median(rates_m), "line2_pairs_per_s": median(rates_l),
           "ratio_mixed_over_line": median(rates_m) / median(rates_l), "repeats": args.repeats}
    emit(rec)
    out.append(rec)
    return markdown_table(["graph", "MixedCurvature pairs/s", "LINE-2 pairs/s", "ratio"],
                          [[rec["graph"], f"{rec['mixed_pairs_per_s']:.0f}", f"{rec['line2_pairs_per_s']:.0f}",
                            f"{rec['ratio_mixed_over_line']:.3f}"]])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small graphs, dims 2 and 8, Cora only, few epochs; "
                    "hgcn: d=8, one seed, 20 epochs")
    ap.add_argument("--repeats", type=int, default=None, help="seeds per cell (median); default 3, 1 with --quick")
    ap.add_argument("--datasets", default=None, help=f"comma-separated sections of {','.join(SECTIONS)}")
    ap.add_argument("--epochs", type=int, default=None,
                    help="tree epochs for every geometry (default 300, 200 with --quick)")
    ap.add_argument("--lp-epochs", type=int, default=None,
                    help="link-prediction epochs (default 50, 20 with --quick)")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--curvature-lr", type=float, default=0.05, help="trees (default 0.05)")
    ap.add_argument("--lp-curvature-lr", type=float, default=0.005, help="link prediction (default 0.005)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads of MixedCurvature (default 1)")
    ap.add_argument("--sources", type=int, default=None, help="mAP sources per graph (default 500, 100 with --quick)")
    ap.add_argument("--json", default=None, help="write all records here")
    ap.add_argument("--workers", type=int, default=1, help="processes for the hgcn section (default 1)")
    ap.add_argument("--hgcn-datasets", default=None, help="hgcn section: default airport,disease_lp "
                    "(also: tree, sbm = generated random tree / power-law SBM, 3000 nodes)")
    ap.add_argument("--hgcn-dims", default=None, help="hgcn section: dimensions (default 8,16; 8 with --quick)")
    ap.add_argument("--hgcn-epochs", type=int, default=None, help="hgcn: max epochs (default 40, 20 with --quick)")
    ap.add_argument("--hgcn-patience", type=int, default=10, help="hgcn: early-stopping patience in epochs")
    ap.add_argument("--hgcn-batch", type=int, default=1024)
    ap.add_argument("--hgcn-negative", type=int, default=10)
    ap.add_argument("--hgcn-negative-power", type=float, default=0.75,
                    help="negatives ∝ degree^p (0: uniform; uniform ones push nodes that lost all their edges "
                         "to the split away from everything)")
    ap.add_argument("--hgcn-loss", default="softmax", choices=("softmax", "fermi_dirac"))
    ap.add_argument("--hgcn-lr", type=float, default=0.1)
    ap.add_argument("--hgcn-curvature-lr", type=float, default=0.005)
    ap.add_argument("--hgcn-burn-in", type=int, default=2)
    ap.add_argument("--hgcn-init-scale", type=float, default=1e-3)
    args = ap.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.epochs = args.epochs or (200 if args.quick else 300)
    args.lp_epochs = args.lp_epochs or (20 if args.quick else 50)
    args.sources = args.sources or (100 if args.quick else 500)
    args.hgcn_datasets = args.hgcn_datasets or "airport,disease_lp"
    args.hgcn_dims = args.hgcn_dims or ("8" if args.quick else "8,16")
    args.hgcn_epochs = args.hgcn_epochs or (20 if args.quick else 40)
    default = "hgcn,trees,cora,throughput" if args.quick else ",".join(SECTIONS)
    sections = [s.strip() for s in (args.datasets or default).split(",") if s.strip()]
    bad = [s for s in sections if s not in SECTIONS]
    if bad:
        raise SystemExit(f"--datasets: unknown {bad}; expected some of {', '.join(SECTIONS)}")
    out: list[dict] = []
    tables = []
    if "hgcn" in sections:
        tables.append("### HGCN link prediction (85/5/10 split, early stopping on validation AUC): test AUC "
                      f"mean ± std over {args.repeats} seeds\n\nsetup: {hgcn_setup(args)}\n\n" + bench_hgcn(args, out))
    if "trees" in sections:
        tables.append("### Trees and hierarchies: reconstruction mAP / average distortion (best scale)\n\n"
                      + bench_trees(args, out))
    lp = [s for s in sections if s in ("cora", "amazon", "blogcatalog")]
    if lp:
        if not (data_root() / "manifest.json").is_file():
            print(f"skipping link prediction: no datasets at {data_root()}", flush=True)
        else:
            tables.append("### Link prediction AUC (split 10%)\n\n" + bench_lp(lp, args, out))
    if "throughput" in sections:
        tables.append("### Training throughput (pairs/s)\n\n" + bench_throughput(args, out))
    print(f"\ntrees: epochs={args.epochs} {TREE_SETUP}; link prediction: epochs={args.lp_epochs} {LP_SETUP}; "
          f"lr={args.lr} curvature_lr={args.curvature_lr} (trees) / {args.lp_curvature_lr} (link prediction) threads={args.threads} repeats={args.repeats}\n")
    print("\n\n".join(tables))
    save_json(args.json, out)


if __name__ == "__main__":
    main()
