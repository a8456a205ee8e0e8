"""GATNE training machinery: the epoch plan (pairs, neighbour tables, negatives) and the torch model.

Used by :class:`vastgraph.embed.gatne.GATNE`; see its module docstring for the model. The hot path
is one fused, loop-free step per mini-batch:

* a batch holds pairs of **one** relation ``r`` (each relation's pairs are shuffled and cut into
  batches, and the batches of all relations are interleaved in random order), so every transform
  of ``r`` is one dense matmul with no per-relation loop or per-row weight gather;
* the neighbour samples are an ``(n, m·ns)`` int tensor of edge-table rows drawn once per epoch
  (``ns`` fixed neighbours per node and relation, as in the reference implementation), gathered
  with ``index_select`` and averaged;
* negatives are drawn in bulk from a unigram^0.75 alias table (``O(1)`` per draw, vectorised);
* the big tables (base, edge, context) are gathered into leaf tensors, so autograd only sees the
  batch's rows, and their updates go back with ``index_add_``: plain per-pair SGD, or lazy Adam
  (:class:`torch.optim.SparseAdam` over the coalesced sparse row gradients); the small dense
  transforms use Adam.

On CPU with a fixed ``num_threads`` every step is deterministic (``index_add_`` and the reductions
run serially in a fixed order), so a seed reproduces the embeddings.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def alias_noise(counts: np.ndarray, power: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """Alias table ``(prob float32 (n,), alias int32 (n,))`` of ``counts ** power`` (uniform when all zero).

    Example:
        >>> prob, alias = alias_noise(np.array([1.0, 0.0, 3.0]))
        >>> draws = draw_alias(prob, alias, 20000, np.random.default_rng(0))
        >>> int((draws == 1).sum()), bool(abs((draws == 2).mean() - 3 ** 0.75 / (1 + 3 ** 0.75)) < 0.02)
        (0, True)
    """
    from vastgraph.sampling.alias import build_alias

    w = np.asarray(counts, dtype=np.float64) ** power
    if not np.isfinite(w).all() or w.sum() <= 0:
        w = np.ones(w.shape[0])
    return build_alias(np.array([0, w.shape[0]], dtype=np.int64), w)


def draw_alias(prob: np.ndarray, alias: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` int64 draws from an alias table (vectorised Walker/Vose)."""
    j = rng.integers(0, prob.shape[0], size=size)
    keep = rng.random(size, dtype=np.float32) < prob[j]
    return np.where(keep, j, alias[j].astype(np.int64))


def epoch_quota(sizes: list[int], cap: int | None) -> list[int]:
    """Pairs per relation in one epoch: all of them, or with ``cap`` below their total a share
    proportional to the relation's size (at least one when it has any).

    Example:
        >>> epoch_quota([300, 100, 0], 200), epoch_quota([300, 100], None)
        ([150, 50, 0], [300, 100])
    """
    total = sum(sizes)
    if cap is None or cap >= total:
        return list(sizes)
    return [max(1, round(cap * p / total)) if p else 0 for p in sizes]


def epoch_batches(sizes: list[int], cap: int | None, batch_size: int, rng: np.random.Generator
                  ) -> list[tuple[int, np.ndarray]]:
    """One epoch's single-relation batches ``(relation, pair indices)`` in random order: each
    relation's :func:`epoch_quota` pairs, a uniform sample of its ``sizes[r]`` pairs, shuffled."""
    out: list[tuple[int, np.ndarray]] = []
    for r, (p, q) in enumerate(zip(sizes, epoch_quota(sizes, cap))):
        if q == 0:
            continue
        idx = rng.permutation(p)[:q]
        out += [(r, idx[lo:lo + batch_size]) for lo in range(0, q, batch_size)]
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def build_net(n: int, m: int, d: int, s: int, a: int, features: Any, torch: Any) -> Any:
    """The GATNE module: tables ``base (n, d)``, ``edge (n·m, s)``, ``context (n, d)`` as plain
    tensors (GATNE-T; GATNE-I keeps ``context`` only and maps features instead) and the dense
    transforms as parameters."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m, self.d, self.s = m, d, s
            self.inductive = features is not None
            if self.inductive:
                f = features.shape[1]
                self.register_buffer("x", features)
                self.base_map = nn.Parameter(torch.randn(f, d) / f ** 0.5)
                self.edge_in = nn.Parameter(torch.randn(m, f, s) / f ** 0.5)
                self.feat_out = nn.Parameter(torch.zeros(m, f, d))
                self.tables = {"context": torch.randn(n, d) / d ** 0.5}
            else:
                self.tables = {"base": torch.randn(n, d) / d ** 0.5, "edge": torch.randn(n * m, s) / s ** 0.5,
                               "context": torch.randn(n, d) / d ** 0.5}
            self.w1 = nn.Parameter(torch.randn(m, s, a) / s ** 0.5)
            self.w2 = nn.Parameter(torch.randn(m, a) / a ** 0.5)
            self.trans = nn.Parameter(torch.randn(m, s, d) / s ** 0.5)

        def to_device(self, dev: Any) -> Net:
            self.to(dev)
            self.tables = {k: v.to(dev) for k, v in self.tables.items()}
            return self

        def node_vectors(self, r: int, nodes: Any, rows: Any, leaves: dict[str, Any] | None = None) -> Any:
            """Normalised ``v_{i,r}`` of ``nodes (B,)`` with neighbour edge-table rows ``rows (B, m·ns)``.
            With ``leaves`` (a dict), the gathered table rows are made autograd leaves and stored there."""
            B = nodes.shape[0]
            if self.inductive:
                xb = self.x.index_select(0, nodes)
                base = xb @ self.base_map
                nb = rows.reshape(-1) // self.m                                 # neighbour node ids
                xn = self.x.index_select(0, nb).view(B, self.m, -1, self.x.shape[1])
                u = torch.einsum("bpkf,pfs->bps", xn, self.edge_in) / xn.shape[2]
            else:
                base = self.tables["base"].index_select(0, nodes)
                g = self.tables["edge"].index_select(0, rows.reshape(-1))
                u = g.view(B, self.m, -1, self.s).mean(dim=2)                   # U_i: (B, m, s)
                if leaves is not None:  # autograd stops at the gathered rows / neighbour means
                    leaves["base"], leaves["u"] = base.requires_grad_(True), u.requires_grad_(True)
            h = torch.tanh(u @ self.w1[r])                                      # (B, m, a)
            att = torch.softmax(h @ self.w2[r], dim=1)                          # (B, m)
            agg = torch.bmm(att.unsqueeze(1), u).squeeze(1)                     # (B, s)
            out = base + agg @ self.trans[r]
            if self.inductive:
                out = out + xb @ self.feat_out[r]
            return torch.nn.functional.normalize(out, dim=1)

    return Net()


class Trainer:
    """Optimisers and the fused step of :func:`build_net`'s model (see the module docstring)."""

    def __init__(self, net: Any, optimizer: str, lr: float, table_lr: float, torch: Any) -> None:
        self.net, self.torch, self.optimizer = net, torch, optimizer
        self.dense = torch.optim.Adam(list(net.parameters()), lr=lr)
        self.table_lr = table_lr
        self.sparse: dict[str, tuple[Any, Any]] = {}
        if optimizer == "adam":  # parameters sharing the tables' storage; the tables stay grad-free
            for k, t in net.tables.items():
                p = torch.nn.Parameter(t)
                self.sparse[k] = (p, torch.optim.SparseAdam([p], lr=table_lr))

    def step(self, r: int, u: Any, c: Any, neg: Any, rows: Any, lr_scale: float) -> float:
        """One step on relation ``r``'s pairs ``(u, c)`` (B,) with negatives ``neg (B, k)`` and
        neighbour rows ``rows (B, m·ns)``; returns the mean loss."""
        torch, net = self.torch, self.net
        B, k = u.shape[0], neg.shape[1]
        ctx = net.tables["context"]
        leaves: dict[str, Any] = {}
        v = net.node_vectors(r, u, rows, leaves)
        with torch.no_grad():  # the skip-gram head by hand: no autograd over the (B, 1 + k, d) context rows
            vd = v.detach()
            cp = ctx.index_select(0, c)
            pos = (vd * cp).sum(dim=1)
            gp = torch.sigmoid(pos) - 1.0                                       # dL/dpos, (B,)
            loss = -torch.nn.functional.logsigmoid(pos).sum()
            gv = gp.unsqueeze(1) * cp
            if k:
                nidx = neg.reshape(-1)
                cn = ctx.index_select(0, nidx).view(B, k, -1)
                sc = torch.bmm(cn, vd.unsqueeze(2)).squeeze(2)                  # (B, k)
                gn = torch.sigmoid(sc)                                          # dL/dsc
                loss -= torch.nn.functional.logsigmoid(-sc).sum()
                gv.add_(torch.bmm(gn.unsqueeze(1), cn).squeeze(1))
            gv.div_(B)
        self.dense.zero_grad(set_to_none=True)
        v.backward(gv)
        self.dense.step()
        # updates: the gradient of the batch-mean loss times ``scale`` (per-pair SGD: -lr·B, Adam: 1)
        scale = -self.table_lr * lr_scale * B if self.optimizer == "sgd" else 1.0
        with torch.no_grad():
            updates = [("context", c, (gp * (scale / B)).unsqueeze(1) * vd)]
            if k:
                updates.append(("context", nidx, ((gn * (scale / B)).unsqueeze(2) * vd.unsqueeze(1)).view(B * k, -1)))
            if "base" in leaves:
                ns = rows.shape[1] // net.m
                gu = leaves["u"].grad.mul_(scale / ns).unsqueeze(2).expand(B, net.m, ns, net.s)
                updates += [("base", u, leaves["base"].grad.mul_(scale)), ("edge", rows.reshape(-1), gu.reshape(-1, net.s))]
            if self.optimizer == "sgd":  # scatter_add_ runs serially per column on CPU: deterministic
                for name, index, delta in updates:
                    table = net.tables[name]
                    table.scatter_add_(0, index.unsqueeze(1).expand(-1, table.shape[1]), delta)
            else:
                merged: dict[str, list[Any]] = {}
                for name, index, grad in updates:
                    merged.setdefault(name, []).append((index, grad))
                for name, parts in merged.items():
                    p, opt = self.sparse[name]
                    index = torch.cat([i for i, _ in parts]) if len(parts) > 1 else parts[0][0]
                    grad = torch.cat([g for _, g in parts]) if len(parts) > 1 else parts[0][1]
                    p.grad = torch.sparse_coo_tensor(index.unsqueeze(0), grad, p.shape, check_invariants=False)
                    for group in opt.param_groups:
                        group["lr"] = self.table_lr * lr_scale
                    opt.step()
                    p.grad = None
        return float(loss) / B

    def snapshot(self) -> dict[str, Any]:
        """A copy of every parameter and table (to restore the best epoch)."""
        state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
        state.update({"table:" + k: t.detach().clone() for k, t in self.net.tables.items()})
        return state

    def restore(self, state: dict[str, Any]) -> None:
        with self.torch.no_grad():
            self.net.load_state_dict({k: v for k, v in state.items() if not k.startswith("table:")})
            for k, t in self.net.tables.items():
                t.copy_(state["table:" + k])


def infer(net: Any, rows_t: Any, n: int, m: int, d: int, torch: Any, chunk: int = 8192) -> np.ndarray:
    """``(m, n, d)`` float32 relation embeddings of every node with the neighbour rows ``rows_t``."""
    out = np.empty((m, n, d), dtype=np.float32)
    dev = rows_t.device
    with torch.no_grad():
        for r in range(m):
            for lo in range(0, n, chunk):
                u = torch.arange(lo, min(n, lo + chunk), device=dev)
                out[r, lo:lo + u.shape[0]] = net.node_vectors(r, u, rows_t.index_select(0, u)).cpu().numpy()
    return out


def validation_auc(rel_vecs: np.ndarray, split: dict[str, Any]) -> float:
    """Mean over relations of the ROC-AUC of cosine scores on a labelled split (the GATNE protocol's
    ``valid.txt``); relations whose pairs lack a class are skipped (nan when none is left)."""
    from sklearn.metrics import roc_auc_score

    src, dst = np.asarray(split["src"], np.int64), np.asarray(split["dst"], np.int64)
    et, lab = np.asarray(split["etype"], np.int64), np.asarray(split["label"], np.int64)
    aucs = []
    for r in range(rel_vecs.shape[0]):
        sel = et == r
        if not sel.any() or lab[sel].min() == lab[sel].max():
            continue
        x = rel_vecs[r]
        aucs.append(roc_auc_score(lab[sel], (x[src[sel]] * x[dst[sel]]).sum(axis=1)))
    return float(np.mean(aucs)) if aucs else float("nan")
