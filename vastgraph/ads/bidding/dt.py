"""A Decision-Transformer bidder: a causal transformer over (return-to-go, state, action) tokens.

Reference: Chen et al., *Decision Transformer: Reinforcement Learning via Sequence Modeling*,
NeurIPS 2021; its use for auto-bidding in the NeurIPS 2024 auto-bidding competition baselines.

Each step ``t`` contributes three tokens — the return-to-go ``R̂_t = y − value_before_t / S`` (``y``
the episode's normalised return), the state ``s_t`` and the action ``log α_t`` — each a linear
embedding plus a learned embedding of ``t``. A causal transformer reads the sequence; the output at
the state token ``s_t`` predicts ``log α_t`` (mean squared error, behaviour cloning conditioned on
the return), over windows of ``context`` steps. At test time ``y`` is a high target return and ``R̂_t`` is lowered by the value won.

Example:
    >>> import torch; torch.set_num_threads(1)
    >>> from vastgraph.ads.world import generate_world
    >>> from vastgraph.ads.bidding.market import BiddingMarket
    >>> from vastgraph.ads.bidding.episodes import episode_specs, collect_episodes, rollout
    >>> w = generate_world(n_queries=60, n_ads=40, n_advertisers=6, n_days=3, events_per_day=600)
    >>> mks = [BiddingMarket(w, d, steps=6, k_candidates=8) for d in (1, 2)]
    >>> logged = collect_episodes(mks[:1], [episode_specs(mks[0])], rollouts_per_day=2)
    >>> dt = DecisionTransformerBidder(epochs=2).fit(logged)
    >>> roll = rollout(mks[1], dt, episode_specs(mks[1]))
    >>> bool((roll.spend <= roll.budget + 1e-9).all())
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vastgraph.ads.bidding.generative import GenerativeBidder
from vastgraph.validation import check_int


def _net(n_features: int, steps: int, d_model: int, layers: int, heads: int) -> Any:
    import torch
    from torch import nn

    class DTNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb_r = nn.Linear(1, d_model)
            self.emb_s = nn.Linear(n_features, d_model)
            self.emb_a = nn.Linear(1, d_model)
            self.emb_t = nn.Embedding(steps + 1, d_model)
            self.norm = nn.LayerNorm(d_model)
            layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout=0.0, batch_first=True,
                                               norm_first=True)
            self.body = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.head = nn.Sequential(nn.Linear(d_model, d_model), nn.GELU(), nn.Linear(d_model, 1))

        def forward(self, rtg: Any, s: Any, a: Any, tpos: Any) -> Any:
            B, L = s.shape[:2]
            te = self.emb_t(tpos)
            tok = torch.stack([self.emb_r(rtg[..., None]) + te, self.emb_s(s) + te, self.emb_a(a[..., None]) + te],
                              dim=2).reshape(B, 3 * L, -1)
            mask = torch.triu(torch.full((3 * L, 3 * L), float("-inf"), device=s.device), diagonal=1)
            h = self.body(self.norm(tok), mask=mask)
            return self.head(h[:, 1::3]).squeeze(-1)  # outputs at the state tokens

    return DTNet()


class DecisionTransformerBidder(GenerativeBidder):
    """Decision Transformer bidder (see the module docstring).

    Args:
        d_model, layers, heads: transformer size. Defaults 64, 2, 4.
        epochs: passes over the logged episodes. Default 60.
        batch_size, lr: Adam settings. Defaults 64, 1e-3.
        use_graph: False removes the graph features from the states (the ablation).
        target_quantile, target_boost, random_state, name: see
            :class:`~vastgraph.ads.bidding.generative.GenerativeBidder`.
    """

    kind = "decision-transformer"

    def __init__(self, *, d_model: int = 64, layers: int = 2, heads: int = 4, context: int = 12, epochs: int = 60,
                 batch_size: int = 64, lr: float = 1e-3, **kw: Any) -> None:
        super().__init__(**kw)
        self.context = check_int("context", context, 1)
        self.d_model, self.layers = check_int("d_model", d_model, 4), check_int("layers", layers, 1)
        self.heads, self.epochs = check_int("heads", heads, 1), check_int("epochs", epochs, 1)
        self.batch_size, self.lr = check_int("batch_size", batch_size, 1), float(lr)
        if self.d_model % self.heads:
            from vastgraph.errors import ValidationError

            raise ValidationError(f"d_model={d_model} must be a multiple of heads={heads}")

    def _config(self) -> dict[str, Any]:
        return {"d_model": self.d_model, "layers": self.layers, "heads": self.heads, "context": self.context,
                "epochs": self.epochs,
                "batch_size": self.batch_size, "lr": self.lr}

    def _build(self) -> Any:
        return _net(self.n_features, self.steps, self.d_model, self.layers, self.heads)

    def _rtg(self, y: Any, value_so_far: Any) -> Any:
        return (y - value_so_far) / self.y_scale

    def _train(self, data: dict[str, np.ndarray], epochs: int | None) -> None:
        import torch

        T = self.steps
        dev = self._torch_device()
        s = torch.from_numpy(np.ascontiguousarray(data["states"][:, :T])).to(dev)
        a = torch.from_numpy(data["actions"]).to(dev)
        raw_value = torch.from_numpy(np.ascontiguousarray(data["raw_states"][:, :T, 6])).to(dev)
        y = torch.from_numpy(data["returns"] * self.y_scale).to(dev)
        rtg = self._rtg(y[:, None], raw_value)
        n = s.shape[0]
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.lr, weight_decay=1e-4)
        gen = torch.Generator().manual_seed(self.random_state % (2 ** 63))
        n_epochs = epochs or self.epochs
        steps = max(1, n_epochs * max(1, n // self.batch_size))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, total_steps=steps, pct_start=0.1)
        K = min(self.context, T)
        self.net.train()
        for _ in range(steps):  # minibatches of windows of K steps
            B = min(self.batch_size, n)
            idx = torch.randint(0, n, (B,), generator=gen)[:, None].to(dev)
            tpos = (torch.randint(0, T - K + 1, (B,), generator=gen)[:, None] + torch.arange(K)[None]).to(dev)
            # the a_t token sits after s_t, so the causal mask hides it from the prediction at s_t
            pred = self.net(rtg[idx, tpos], s[idx, tpos], a[idx, tpos], tpos)
            loss = torch.mean((pred - a[idx, tpos]) ** 2)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
            opt.step()
            sched.step()

    def _act(self, s: np.ndarray, roll: Any, t: int) -> np.ndarray:
        import torch

        lo = max(0, t + 1 - self.context)
        value = roll.states[:, lo:t + 1, 6]
        rtg = self._rtg(self._target[:, None], value).astype(np.float32)
        a = np.zeros((s.shape[0], t + 1 - lo), np.float32)
        if t > lo:
            a[:, :t - lo] = (np.log(np.maximum(roll.actions[:, lo:t], 1e-3)) - self.a_mean) / self.a_std
        dev = self._torch_device()
        tpos = torch.arange(lo, t + 1, device=dev)[None].expand(s.shape[0], -1)
        out = self.net(torch.from_numpy(rtg).to(dev), torch.from_numpy(np.ascontiguousarray(s[:, lo:])).to(dev),
                       torch.from_numpy(a).to(dev), tpos)
        return out[:, -1].cpu().numpy().astype(np.float64)


__all__ = ["DecisionTransformerBidder"]
