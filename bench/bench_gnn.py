"""GNN benchmark: the GraphSTONE protocol on Cora, CiteSeer and PubMed, every model through one Trainer.

Protocol (Long et al., GraphSTONE, KDD 2020, Tables 2–3): transductive node classification with
30% and 70% of the labelled nodes for training (10% of those held out as validation for early
stopping; the rest of the nodes are the test set), Macro/Micro-F1 averaged over the seeds; link
reconstruction AUC with 10% of the edges held out (``split_edges``, 5% more for validation).
Models gcn, sage, gat, gin (PyG layers on our fanout sampler) and, when importable, gralsp and
graphstone, all trained by :class:`vastgraph.train.trainer.Trainer` on the same splits and loaders.

Peer (timing and a sanity F1): PyG's own ``torch_geometric.nn.models.GraphSAGE`` (2 layers, mean
aggregation, same hidden width, dropout, Adam settings and epochs), trained **full-batch** on the
whole graph's ``edge_index`` (no sampling: PyG's NeighborLoader needs pyg-lib/torch-sparse, which are
not installed), with the same train/valid/test split and validation each epoch. ``x_peer`` is our
seconds per epoch divided by the peer's.

Usage:
    python bench/bench_gnn.py --quick --datasets cora --models gcn,sage,gat,gin
    python bench/bench_gnn.py --datasets cora,citeseer,pubmed --seeds 5 --epochs 200 --device cuda

Prints a markdown table and one ``RESULT {json}`` line per (dataset, model).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import REPO, markdown_table, median, save_json  # noqa: E402

RATIOS = (0.3, 0.7)


def data_root() -> str | None:
    env = os.environ.get("VASTGRAPH_DATA")
    if env:
        return env
    for base in [REPO, *REPO.parents]:
        if (base / "shared" / "datasets" / "manifest.json").is_file():
            return str(base / "shared" / "datasets")
    return None


def node_split(labelled: np.ndarray, ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(labelled)
    n_tr = int(round(ratio * perm.size))
    n_va = max(1, int(round(0.1 * n_tr)))
    return perm[n_va:n_tr], perm[:n_va], perm[n_tr:]


def model_params(name: str, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    return {"hidden": args.hidden, "out_dim": args.hidden, "dropout": args.dropout, "random_state": seed}


def run_node(name: str, graph: Any, ratio: float, seed: int, args: argparse.Namespace) -> dict[str, float]:
    from vastgraph.train.models import create_model
    from vastgraph.train.trainer import Trainer

    labels = graph.labels()
    train, valid, test = node_split(np.flatnonzero(labels >= 0), ratio, seed)
    model = create_model(name, graph, **model_params(name, args, seed))
    tr = Trainer(model, "node-classification", epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                 weight_decay=5e-4, patience=args.patience, device=args.device, random_state=seed)
    tr.fit(graph, train_idx=train, valid_idx=valid)
    res = tr.evaluate(test)
    res["epoch_s"] = median([h["time"] for h in tr.history_])
    return res


def run_link(name: str, graph: Any, seed: int, args: argparse.Namespace) -> float:
    from vastgraph.train.models import create_model
    from vastgraph.train.link_prediction import split_edges
    from vastgraph.train.trainer import Trainer

    split = split_edges(graph, test_fraction=0.1, valid_fraction=0.05, random_state=seed)
    model = create_model(name, split.train_graph, **model_params(name, args, seed))
    tr = Trainer(model, "link-prediction", epochs=args.epochs, batch_size=args.link_batch_size, lr=args.lr,
                 weight_decay=0.0, patience=args.patience, device=args.device, random_state=seed)
    tr.fit(split=split)
    return tr.evaluate()["auc"]


def run_peer(graph: Any, ratio: float, seed: int, args: argparse.Namespace) -> dict[str, float]:
    """PyG GraphSAGE, full-batch, same split / widths / optimiser / epochs / early stopping."""
    import torch
    from torch_geometric.nn.models import GraphSAGE as PygSAGE

    from vastgraph.train.metrics import f1_scores

    dev = torch.device(args.device)
    labels = graph.labels()
    train, valid, test = node_split(np.flatnonzero(labels >= 0), ratio, seed)
    x = torch.from_numpy(np.array(graph.features(), dtype=np.float32)).to(dev)
    src, dst = graph.edge_index()
    ei = torch.from_numpy(np.stack([np.asarray(src, np.int64), np.asarray(dst, np.int64)])).to(dev)
    y = torch.from_numpy(labels.astype(np.int64)).to(dev)
    n_cls = int(labels.max()) + 1
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(0, 2**31, (1,), generator=gen)))
        net = PygSAGE(x.shape[1], args.hidden, num_layers=2, out_channels=args.hidden, dropout=args.dropout)
        head = torch.nn.Linear(args.hidden, n_cls)
        net.to(dev)
        head.to(dev)
        opt = torch.optim.Adam(list(net.parameters()) + list(head.parameters()), lr=args.lr, weight_decay=5e-4)
        tr_t, va_t = torch.from_numpy(train).to(dev), torch.from_numpy(valid).to(dev)
        best, best_test, bad, times = -1.0, None, 0, []
        for _ in range(args.epochs):
            t0 = time.perf_counter()
            net.train()
            head.train()
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(head(net(x, ei))[tr_t], y[tr_t])
            loss.backward()
            opt.step()
            net.eval()
            head.eval()
            with torch.no_grad():
                pred = head(net(x, ei)).argmax(1)
            acc = float((pred[va_t] == y[va_t]).float().mean())
            if dev.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
            if acc > best:
                best, bad = acc, 0
                best_test = f1_scores(labels[test], pred.cpu().numpy()[test])
            else:
                bad += 1
                if bad >= args.patience:
                    break
    return {"micro_f1": best_test[0], "macro_f1": best_test[1], "epoch_s": median(times)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="cora,citeseer,pubmed")
    ap.add_argument("--models", default="gcn,sage,gat,gin,gralsp,graphstone")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--patience", type=int, default=20)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--link-batch-size", type=int, default=2048)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--root", default=None, help="datasets folder (default: $VASTGRAPH_DATA or ../shared/datasets)")
    ap.add_argument("--no-link", action="store_true", help="skip link reconstruction")
    ap.add_argument("--quick", action="store_true", help="2 seeds, 30 epochs, patience 10")
    ap.add_argument("--json", default=None, help="also write all results to this file")
    args = ap.parse_args()
    if args.quick:
        args.seeds, args.epochs, args.patience = min(args.seeds, 2), min(args.epochs, 30), min(args.patience, 10)

    from vastgraph.datasets import load_dataset
    from vastgraph.errors import RegistryError
    from vastgraph.nn.registry import get_model

    models = []
    for name in args.models.split(","):
        try:
            get_model(name)
            models.append(name)
        except RegistryError as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
    root = args.root or data_root()
    header = ["dataset", "model", "Mi-F1@30%", "Ma-F1@30%", "Mi-F1@70%", "Ma-F1@70%", "link AUC", "s/epoch",
              "x_peer"]
    rows, records = [], []
    for ds_name in args.datasets.split(","):
        graph = load_dataset(ds_name, root=root).graph
        peer = {r: [run_peer(graph, r, s, args) for s in range(args.seeds)] for r in RATIOS}
        peer_epoch = median([p["epoch_s"] for r in RATIOS for p in peer[r]])
        for name in ["pyg-sage (full-batch peer)"] + models:
            if name.startswith("pyg-sage"):
                res = peer
                auc = float("nan")
            else:
                res = {r: [run_node(name, graph, r, s, args) for s in range(args.seeds)] for r in RATIOS}
                auc = float("nan") if args.no_link else float(np.mean([run_link(name, graph, s, args)
                                                                        for s in range(args.seeds)]))
            rec: dict[str, Any] = {"bench": "gnn", "dataset": ds_name, "model": name, "seeds": args.seeds,
                                   "epochs": args.epochs, "device": args.device}
            for r in RATIOS:
                pct = int(round(100 * r))
                rec[f"micro_f1@{pct}"] = float(np.mean([x["micro_f1"] for x in res[r]]))
                rec[f"macro_f1@{pct}"] = float(np.mean([x["macro_f1"] for x in res[r]]))
            rec["link_auc"] = auc
            rec["epoch_s"] = median([x["epoch_s"] for r in RATIOS for x in res[r]])
            rec["x_peer"] = rec["epoch_s"] / peer_epoch
            records.append(rec)
            print("RESULT " + json.dumps(rec), flush=True)
            rows.append([ds_name, name, *(f"{100 * rec[k]:.2f}" for k in
                                          ("micro_f1@30", "macro_f1@30", "micro_f1@70", "macro_f1@70")),
                         "–" if auc != auc else f"{100 * auc:.2f}", f"{rec['epoch_s']:.4f}",
                         f"{rec['x_peer']:.2f}"])
    print()
    print(markdown_table(header, rows))
    save_json(args.json, records)


if __name__ == "__main__":
    main()
