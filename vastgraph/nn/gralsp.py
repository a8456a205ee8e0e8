"""GraLSP: a mini-batch GNN whose aggregation sees local structure through anonymous walks.

Paper: Y. Jin, G. Song, C. Shi, *GraLSP: Graph Neural Networks with Local Structural Patterns*,
AAAI 2020 (arXiv:1911.07675); reference code KL4805/GraLSP.

Model. A :class:`~vastgraph.sampling.structural_context.StructuralContext` gives every node its
``(neighbour u, walk type w)`` pairs (``u`` within the adaptive radius ``r_w = ⌊2l/distinct⌋`` of a
walk of type ``w``). The ``"walk-pairs"`` loader samples ``num_samples`` pairs per node per layer
(GraphSAGE-style, ``num_layers`` hops, deduplicated per hop) into the blocks of a
:class:`~vastgraph.nn.batch.NodeBatch`; ``forward(batch)`` computes bottom-up with
:class:`~vastgraph.nn.gralsp_conv.GraLSPConv`:

    h_v^k = ReLU(W_s^k h_v^{k-1} + W_n^k mean_{(w,u)} [σ(Q^k e_w + q^k) ⊙ h_u^{k-1}])

(the last layer without ReLU, as in the reference), with walk-type embeddings ``e_w`` shared by
all layers. Inputs ``h^0``: the ``features`` array the factory composed (the graph's node features,
or the z-scored walk-type distributions when it has none, see ``input_features``), or a learned
embedding when None. Inputs wider than ``hidden`` first pass through a linear map to ``hidden``
(``project_inputs``): the gate then works on ``hidden`` channels, not on e.g. Cora's 1433, which
keeps the per-pair messages small. :func:`vastgraph.train.models.create_model` (``"gralsp"``)
builds the context and the inputs from a graph.

Losses (``unsupervised_loss``). ``L = L_node + walk_loss_weight · L_walk`` with

    L_node = −log σ(z_v·z_c) − Σ_{n=1..k} log σ(−z_v·z_n),  z = h / ‖h‖,

``c`` a node within ``window`` steps after ``v`` on one of its walks and ``k = negative`` nodes
drawn ∝ degree^0.75 (shared by the batch, as in the reference), and

    L_walk = −log σ(e_i·(e_j − e_k))

over walk types ``i, j`` counted above the node's average and ``k`` below it. ``L_walk`` trains only
the walk-type embeddings (which reach the nodes through the gates), and ``L_node`` pulls nodes that
are *near* each other together: with these two alone a node's role (hub, bridge, periphery, the
roof of a house) is lost wherever it is not also proximity. With ``role_features`` (the factory
passes the context's :meth:`~vastgraph.sampling.structural_context.StructuralContext.structural_features`:
smoothed anonymous-walk distributions and log degrees) a third term keeps it,

    L = L_node + walk_loss_weight · L_walk + role_loss_weight · L_role,
    L_role = mean_v ‖D h_v − s_v‖²   (D linear, s_v the node's role features),

so the representation must still encode the node's structure after aggregation.

Randomness. Parameters are initialised from ``random_state``. The model itself draws nothing: the
loader samples the pairs, contexts, negatives and triplets from the trainer's batch seeds.

Example:
    >>> import numpy as np
    >>> m = GraLSP(num_nodes=6, n_types=3, hidden=16, out_dim=8, random_state=0)
    >>> blocks = [Block(n_dst=3, dst=torch.tensor([0, 1, 2]), src=torch.tensor([3, 4, 5]),
    ...                 types=torch.tensor([0, 2, 1])),
    ...           Block(n_dst=2, dst=torch.tensor([0, 1]), src=torch.tensor([2, 2]), types=torch.tensor([1, 1]))]
    >>> batch = NodeBatch(n_id=torch.tensor([0, 1, 2, 3, 4, 5]), index=torch.tensor([0, 1, 1]),
    ...                   num_targets=2, blocks=blocks)
    >>> tuple(m(batch).shape)
    (3, 8)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from vastgraph.errors import ValidationError
from vastgraph.nn.base import NodeModel, check_features, check_num_nodes, model_seed, type_label
from vastgraph.nn.batch import Block, NodeBatch, check_batch
from vastgraph.nn.gralsp_conv import GraLSPConv
from vastgraph.validation import check_float, check_int, check_positive

INPUT_FEATURES = ("auto", "graph", "structural", "learned", "graph+structural")


class GraLSP(NodeModel):
    """GraLSP node model (see the module docstring).

    Args:
        num_nodes: nodes of the walked node type (>= 1).
        n_types: walk-type ids of the structural context (``StructuralContext.n_types``, >= 1).
        features: ``(num_nodes, F)`` input features ``h^0`` or None (a learned embedding of width
            ``hidden``). Default None.
        ntype, etype: the walked node and edge type (names kept in the config for the loader). Default None.
        hidden: width of the hidden layers (and of learned input embeddings). Default 64.
        out_dim: output width. Default 64.
        num_layers: GraLSP layers (hops). Default 2.
        dropout: dropout on each layer's inputs. Default 0.
        random_state: None, an int or a ``numpy.random.Generator``: initial weights (and the
            context's walks unless ``context_random_state``).
        walks_per_node, walk_length, p, q, min_count, window: structural context (see
            :meth:`StructuralContext.build`). Defaults 100, 8, 1, 1, 2, 4 (the paper walks with
            p = 0.25; on role-labelled graphs such return-biased walks bounce back and forth and the
            role features lose most of their signal, e.g. 0.54 vs 0.96 accuracy on houses on a cycle).
        num_samples: pairs the loader samples per node per layer. Default 20.
        type_dim: width of the walk-type embeddings. Default 32.
        attention: attention over the pairs of a node instead of the mean. Default False.
        negative: negatives per batch of the skip-gram loss (drawn by the loader). Default 8.
        walk_loss_weight: weight of the structural triplet loss. Default 0.1.
        triplets_per_node: walk-type triplets per node in the structural loss. Default 2.
        input_features: ``"auto"`` (graph features, else structural), ``"graph"``, ``"structural"``
            (role features: smoothed anonymous-walk prefix distributions and log degrees), ``"learned"`` (an embedding of width ``hidden``),
            ``"graph+structural"``: how the factory composed ``features``. Default ``"auto"``.
        project_inputs: a linear map of the inputs to ``hidden`` before the first layer; None
            (default) when the input width exceeds ``hidden``.
        context_random_state: seed of the context's walks; default ``random_state``'s seed.
        role_features: ``(num_nodes, R)`` targets of the role term ``L_role``, or None (no role term).
            Default None.
        role_loss_weight: weight of ``L_role`` (>= 0). Default 1.

    Shapes:
        ``forward``: a block-layout :class:`NodeBatch` of length ``B`` → ``(B, out_dim)``.
    """

    sampler_kind = "walk-pairs"

    def __init__(self, *, num_nodes: int, n_types: int, features: Any = None, ntype: str | None = None,
                 etype: Any = None, hidden: int = 64, out_dim: int = 64, num_layers: int = 2, dropout: float = 0.0,
                 random_state: Any = None, walks_per_node: int = 100, walk_length: int = 8, p: float = 1.0,
                 q: float = 1.0, num_samples: int = 20, type_dim: int = 32, attention: bool = False,
                 negative: int = 8, walk_loss_weight: float = 0.1, triplets_per_node: int = 2, min_count: int = 2,
                 window: int = 4, input_features: str = "auto", project_inputs: bool | None = None,
                 context_random_state: int | None = None, role_features: Any = None,
                 role_loss_weight: float = 1.0) -> None:
        super().__init__()
        self.hidden = check_int("hidden", hidden, 1)
        self.out_dim = check_int("out_dim", out_dim, 1)
        self.num_layers = check_int("num_layers", num_layers, 1)
        self.dropout = check_float("dropout", dropout, low=0.0, low_open=False, high=0.99)
        self.num_samples = check_int("num_samples", num_samples, 1)
        self.type_dim = check_int("type_dim", type_dim, 1)
        self.negative = check_int("negative", negative, 1)
        self.walk_loss_weight = check_float("walk_loss_weight", walk_loss_weight, low=0.0, low_open=False)
        self.triplets_per_node = check_int("triplets_per_node", triplets_per_node, 0)
        self.role_loss_weight = check_float("role_loss_weight", role_loss_weight, low=0.0, low_open=False)
        self.num_nodes = check_num_nodes(num_nodes)
        self.n_types = check_int("n_types", n_types, 1)
        if attention not in (True, False):
            raise ValidationError(f"attention={attention!r}: expected True or False")
        self.attention = bool(attention)
        if project_inputs not in (None, True, False):
            raise ValidationError(f"project_inputs={project_inputs!r}: expected None, True or False")
        self._project = project_inputs
        if input_features not in INPUT_FEATURES:
            raise ValidationError(f"input_features={input_features!r}: expected one of {', '.join(INPUT_FEATURES)}")
        walk = {"walks_per_node": check_int("walks_per_node", walks_per_node, 1),
                "walk_length": check_int("walk_length", walk_length, 2), "p": float(check_positive("p", p)),
                "q": float(check_positive("q", q)), "min_count": check_int("min_count", min_count, 1),
                "window": check_int("window", window, 1)}
        seed = model_seed(random_state)
        walk_seed = seed if context_random_state is None else model_seed(context_random_state)
        self.ntype, self.etype = type_label(ntype, "ntype"), type_label(etype, "etype")
        self._config = {"ntype": self.ntype, "etype": self.etype,
                        "hidden": self.hidden, "out_dim": self.out_dim, "num_layers": self.num_layers,
                        "dropout": self.dropout, "random_state": seed, **walk, "num_samples": self.num_samples,
                        "type_dim": self.type_dim, "attention": self.attention, "negative": self.negative,
                        "walk_loss_weight": self.walk_loss_weight, "triplets_per_node": self.triplets_per_node,
                        "input_features": input_features, "project_inputs": project_inputs,
                        "context_random_state": walk_seed, "role_loss_weight": self.role_loss_weight}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed % (2**63))
            in_dim = self._make_inputs(features, input_features)
            self.type_emb = torch.nn.Embedding(self.n_types, self.type_dim)
            torch.nn.init.xavier_uniform_(self.type_emb.weight)
            dims = [in_dim] + [self.hidden] * (self.num_layers - 1) + [self.out_dim]
            self._make_layers(dims)
            self.role_decoder = RoleDecoder.create(role_features, self.num_nodes, self.out_dim)

    # ------------------------------------------------------------------------------ building hooks
    def _make_inputs(self, features: Any, mode: str) -> int:
        self.input_proj = None
        if features is None:
            if mode not in ("learned", "auto", "structural"):
                raise ValidationError(f"input_features={mode!r}: needs features (an (n, F) array); got None")
            self.embedding = torch.nn.Embedding(self.num_nodes, self.hidden)
            self.register_buffer("features", None, persistent=False)
            return self.hidden
        if mode == "learned":
            raise ValidationError("input_features='learned': takes no features (pass features=None)")
        self.embedding = None
        x = check_features(features, self.num_nodes)
        self.register_buffer("features", torch.from_numpy(np.ascontiguousarray(x)), persistent=False)
        width = int(x.shape[1])
        if self._project or (self._project is None and width > self.hidden):
            self.input_proj = torch.nn.Linear(width, self.hidden)
            return self.hidden
        return width

    def _make_layers(self, dims: list[int]) -> None:
        self.convs = torch.nn.ModuleList(
            GraLSPConv(dims[k], dims[k + 1], type_dim=self.type_dim, attention=self.attention,
                       activation=k < len(dims) - 2, dropout=self.dropout) for k in range(len(dims) - 1))

    # ------------------------------------------------------------------------------ computing
    @property
    def _device(self) -> torch.device:
        return self.type_emb.weight.device

    def _inputs(self, ids: torch.Tensor) -> torch.Tensor:
        """``h^0`` rows of the nodes ``ids`` (a long tensor on the model's device)."""
        if self.embedding is not None:
            return self.embedding(ids)
        x = self.features[ids]
        return self.input_proj(x) if self.input_proj is not None else x

    def _layer(self, k: int, h_target: torch.Tensor, h_source: torch.Tensor, block: Block) -> torch.Tensor:
        return self.convs[k](h_target, h_source, block.dst, block.src, block.types, self.type_emb.weight)

    def _check(self, batch: Any) -> NodeBatch:
        batch = check_batch(batch, type(self).__name__, num_nodes=self.num_nodes, layout="blocks",
                            num_blocks=self.num_layers)
        if any(b.types is None for b in batch.blocks):
            raise ValidationError(f"{type(self).__name__}: every block needs walk types (block.types)")
        return batch

    def forward(self, batch: NodeBatch) -> torch.Tensor:
        """Representations ``(len(batch), out_dim)`` of the batch nodes (block layout, one block per layer)."""
        batch = self._check(batch).to(self._device)
        if len(batch) == 0:
            return torch.zeros(0, self.out_dim, device=self._device)
        h = self._inputs(batch.n_id)
        for k, block in enumerate(batch.blocks):
            h = self._layer(k, h[:block.n_dst], h, block)
        return h[:batch.num_targets][batch.index]

    # ------------------------------------------------------------------------------ losses
    def node_loss(self, batch: NodeBatch, n_centre: int, h: torch.Tensor | None = None) -> torch.Tensor:
        """SGNS on walk windows: ``−log σ(z_v·z_c) − Σ_n log σ(−z_v·z_n)`` averaged over the centres.

        ``batch`` holds the centres, then their contexts (``n_centre`` each), then the shared negatives;
        ``h`` its representations when already computed.
        """
        if n_centre == 0:
            return torch.zeros((), device=self._device)
        z = F.normalize(self(batch) if h is None else h, dim=1)
        zc, zx, zn = z[:n_centre], z[n_centre:2 * n_centre], z[2 * n_centre:]
        pos = F.logsigmoid((zc * zx).sum(dim=1))
        neg = F.logsigmoid(-(zc @ zn.T)).sum(dim=1)
        return -(pos + neg).mean()

    def walk_loss(self, i: torch.Tensor, j: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """Structural triplet loss ``−log σ(e_i·(e_j − e_k))`` over walk-type triplets."""
        if i.numel() == 0:
            return self.type_emb.weight.sum() * 0.0
        dev = self._device
        e = self.type_emb
        ei, ej, ek = (e(t.to(dev)) for t in (i, j, k))
        return -F.logsigmoid((ei * (ej - ek)).sum(dim=1)).mean()

    def unsupervised_loss(self, batch: NodeBatch) -> torch.Tensor:
        """``L_node + walk_loss_weight · L_walk`` (a scalar tensor) from the draws the loader put in
        ``batch.extras``: ``"sgns"`` (a NodeBatch of centres, contexts and negatives), ``"n_centre"``
        and ``"triplets"`` (``(i, j, k)`` long tensors)."""
        ex = batch.extras
        if not {"sgns", "n_centre", "triplets"} <= set(ex):
            raise ValidationError(f"{type(self).__name__}.unsupervised_loss: the batch carries no unsupervised "
                                  "draws; sample it with unsupervised=True")
        if len(batch) == 0:
            return self.type_emb.weight.sum() * 0.0
        sgns, n_centre = ex["sgns"], int(ex["n_centre"])
        h = self(sgns) if n_centre else None
        loss = self.node_loss(sgns, n_centre, h) + self.walk_loss_weight * self.walk_loss(*ex["triplets"])
        if self.role_decoder is not None and self.role_loss_weight > 0 and n_centre:
            ids = sgns.n_id[sgns.index[:n_centre]].to(self._device)
            loss = loss + self.role_loss_weight * self.role_decoder.loss(h[:n_centre], ids)
        return loss


class RoleDecoder(torch.nn.Module):
    """``L_role = mean_v ‖D h_v − s_v‖²``: a linear map ``D`` from representations to role features ``s``.

    Args:
        targets: ``(n, R)`` role features (a non-persistent buffer: the factory recomputes them).
        in_dim: width of the representations.

    Example:
        >>> dec = RoleDecoder(np.eye(3, dtype=np.float32), 4)
        >>> float(dec.loss(torch.zeros(2, 4), torch.tensor([0, 1])).detach()) >= 0
        True
    """

    def __init__(self, targets: Any, in_dim: int) -> None:
        super().__init__()
        t = check_features(targets, None, name="role_features")
        self.register_buffer("targets", torch.from_numpy(np.ascontiguousarray(t)), persistent=False)
        self.lin = torch.nn.Linear(int(in_dim), int(t.shape[1]))

    @classmethod
    def create(cls, targets: Any, num_nodes: int, in_dim: int) -> "RoleDecoder | None":
        """A decoder for ``targets`` (checked to have ``num_nodes`` rows), or None when ``targets`` is None."""
        if targets is None:
            return None
        check_features(targets, num_nodes, name="role_features")
        return cls(targets, in_dim)

    def loss(self, h: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """``mean ‖D h − s[ids]‖²`` over the rows of ``h`` (``(m, in_dim)``, ``ids`` ``(m,)``)."""
        return ((self.lin(h) - self.targets[ids]) ** 2).sum(dim=1).mean()
