"""A diffusion bidder (AIGB / DiffBid): plan the day's state trajectory conditioned on the return, then
read the bid off an inverse-dynamics head.

Reference: Guo et al., *AIGB: Generative Auto-bidding via Diffusion Modeling*, KDD 2024 (DiffBid),
after Ajay et al., *Is Conditional Generative Modeling all you need for Decision-Making?*
(Decision Diffuser), ICLR 2023, and Ho & Salimans, *Classifier-Free Diffusion Guidance*, 2022.

* The trajectory ``x = (x_0, …, x_T)`` is the sequence of *plan states*: remaining budget share,
  value won so far (``/ S``) and cost per acquisition so far (``/ C``) — the quantities the return
  and the constraints are made of. A DDPM with ``K`` noise levels (cosine schedule) learns
  ``p(x | y, c)``: a 1-D convolutional noise predictor over time, modulated (FiLM) by the noise
  level, the normalised return ``y`` and the episode context ``c`` (budget over target CPA, logged
  cost per click, the graph features). ``y`` is dropped with probability 0.2 in training so the
  sampler can use classifier-free guidance ``ε = ε(x, ∅) + w·(ε(x, y) − ε(x, ∅))``.
* An inverse-dynamics MLP ``a_t = f(s_t, x_{t+1}, x_{t+1} − x_t)`` maps the full state and the
  planned next plan state to the bid multiplier (log), fitted on the logged transitions.
* At step ``t`` the sampler starts from noise and runs ``sample_steps`` deterministic DDIM steps
  (Song et al., *Denoising Diffusion Implicit Models*, ICLR 2021) over the ``K`` trained noise
  levels; after every step the observed past ``x_0..x_t`` is written back (in-painting the
  history); the action is ``f(s_t, x̂_{t+1})``, clipped to the range of the logged actions.

Example:
    >>> import torch; torch.set_num_threads(1)
    >>> from vastgraph.ads.world import generate_world
    >>> from vastgraph.ads.bidding.market import BiddingMarket
    >>> from vastgraph.ads.bidding.episodes import episode_specs, collect_episodes, rollout
    >>> w = generate_world(n_queries=60, n_ads=40, n_advertisers=6, n_days=3, events_per_day=600)
    >>> mks = [BiddingMarket(w, d, steps=6, k_candidates=8) for d in (1, 2)]
    >>> logged = collect_episodes(mks[:1], [episode_specs(mks[0])], rollouts_per_day=2)
    >>> bidder = DiffusionBidder(epochs=2, diffusion_steps=4).fit(logged)
    >>> roll = rollout(mks[1], bidder, episode_specs(mks[1]))
    >>> bool((roll.spend <= roll.budget + 1e-9).all())
    True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vastgraph.ads.bidding.episodes import N_BASE
from vastgraph.ads.bidding.generative import GenerativeBidder
from vastgraph.errors import ValidationError
from vastgraph.validation import check_int

PLAN = (1, 6, 5)  # budget_left, value_so_far, cpa_ratio (indices into the state)
CONTEXT = (8, 4)  # log(B/C), cost per click at t = 0 (then the graph features)


def _nets(n_features: int, n_ctx: int, channels: int, blocks: int) -> Any:
    import torch
    from torch import nn

    n_plan = len(PLAN)

    class Block(nn.Module):
        def __init__(self, dilation: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv1d(channels, channels, 5, padding=2 * dilation, dilation=dilation)
            self.conv2 = nn.Conv1d(channels, channels, 5, padding=2 * dilation, dilation=dilation)
            self.film = nn.Linear(channels, 2 * channels)
            self.norm = nn.GroupNorm(8, channels)

        def forward(self, h: Any, cond: Any) -> Any:
            scale, shift = self.film(cond)[..., None].chunk(2, dim=1)
            z = torch.nn.functional.gelu(self.norm(self.conv1(h)))
            z = z * (1 + scale) + shift
            return h + self.conv2(torch.nn.functional.gelu(z))

    class Denoiser(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Conv1d(n_plan, channels, 3, padding=1)
            self.cond = nn.Sequential(nn.Linear(channels + 2 + n_ctx, channels), nn.GELU(),
                                      nn.Linear(channels, channels))
            self.blocks = nn.ModuleList([Block(d) for d in (1, 2, 4, 1)[:blocks]])
            self.out = nn.Conv1d(channels, n_plan, 3, padding=1)
            self.channels = channels

        def level(self, k: Any) -> Any:
            half = self.channels // 2
            f = torch.exp(-math.log(1000.0) * torch.arange(half, dtype=torch.float32, device=k.device) / half)
            arg = k.float()[:, None] * f[None]
            return torch.cat([arg.sin(), arg.cos()], dim=1)

        def forward(self, x: Any, k: Any, y: Any, has_y: Any, ctx: Any) -> Any:
            cond = self.cond(torch.cat([self.level(k), (y * has_y)[:, None], has_y[:, None], ctx], dim=1))
            h = self.inp(x.transpose(1, 2))
            for b in self.blocks:
                h = b(h, cond)
            return self.out(h).transpose(1, 2)

    class InvDyn(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mlp = nn.Sequential(nn.Linear(n_features + 2 * n_plan, 128), nn.GELU(), nn.Linear(128, 128),
                                     nn.GELU(), nn.Linear(128, 1))

        def forward(self, s: Any, nxt: Any, cur: Any) -> Any:
            return self.mlp(torch.cat([s, nxt, nxt - cur], dim=-1)).squeeze(-1)

    class Nets(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.denoiser = Denoiser()
            self.invdyn = InvDyn()

    return Nets()


class DiffusionBidder(GenerativeBidder):
    """Diffusion planner + inverse dynamics bidder (see the module docstring).

    Args:
        diffusion_steps: noise levels ``K``. Default 20.
        channels, blocks: noise-predictor size. Defaults 64, 4.
        guidance: classifier-free guidance weight ``w``. Default 1.2.
        sample_steps: DDIM steps of the sampler at each decision (at most ``diffusion_steps``). Default 5.
        epochs: passes over the logged episodes. Default 80. batch_size, lr: Adam. Defaults 64, 2e-3.
        use_graph, target_quantile, target_boost, random_state, name: see
            :class:`~vastgraph.ads.bidding.generative.GenerativeBidder`.
    """

    kind = "diffusion"

    def __init__(self, *, diffusion_steps: int = 20, channels: int = 64, blocks: int = 4, guidance: float = 1.2,
                 sample_steps: int = 5, epochs: int = 80, batch_size: int = 64, lr: float = 2e-3, **kw: Any) -> None:
        super().__init__(**kw)
        self.diffusion_steps = check_int("diffusion_steps", diffusion_steps, 2)
        self.sample_steps = min(check_int("sample_steps", sample_steps, 1), self.diffusion_steps)
        self.channels, self.blocks = check_int("channels", channels, 8), check_int("blocks", blocks, 1, 4)
        if self.channels % 8:
            raise ValidationError(f"channels={channels}: expected a multiple of 8")
        self.guidance = float(guidance)
        if not np.isfinite(self.guidance) or self.guidance < 0:
            raise ValidationError(f"guidance={guidance!r}: expected a finite number >= 0")
        self.epochs, self.batch_size, self.lr = check_int("epochs", epochs, 1), check_int("batch_size", batch_size, 1), float(lr)

    def _config(self) -> dict[str, Any]:
        return {"diffusion_steps": self.diffusion_steps, "sample_steps": self.sample_steps,
                "channels": self.channels, "blocks": self.blocks,
                "guidance": self.guidance, "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr}

    @property
    def _ctx_idx(self) -> list[int]:
        return [*CONTEXT, *range(N_BASE, self.n_features)]

    def _build(self) -> Any:
        return _nets(self.n_features, len(self._ctx_idx), self.channels, self.blocks)

    def _schedule(self) -> tuple[Any, Any, Any]:
        import torch

        K = self.diffusion_steps
        s = 0.008
        f = torch.cos((torch.arange(K + 1, dtype=torch.float64) / K + s) / (1 + s) * math.pi / 2) ** 2
        abar = (f / f[0])[1:].clamp(1e-5, 1.0)
        beta = (1 - abar / torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])).clamp(1e-5, 0.999)
        return beta.float(), (1 - beta).float(), abar.float()

    def _train(self, data: dict[str, np.ndarray], epochs: int | None) -> None:
        import torch

        dev = self._torch_device()
        s = torch.from_numpy(data["states"]).to(dev)  # (N, T+1, F) normalised
        a = torch.from_numpy(data["actions"]).to(dev)
        x0 = s[:, :, list(PLAN)]
        ctx = s[:, 0, self._ctx_idx]
        y = torch.from_numpy(data["returns"]).to(dev)
        n, T = s.shape[0], self.steps
        beta, alpha, abar = (v.to(dev) for v in self._schedule())
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.lr, weight_decay=1e-4)
        gen = torch.Generator().manual_seed(self.random_state % (2 ** 63))
        n_steps = max(1, (epochs or self.epochs) * max(1, n // self.batch_size))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, total_steps=n_steps, pct_start=0.1)
        self.net.train()
        for _ in range(n_steps):  # minibatches of whole episodes
            idx = torch.randint(0, n, (min(self.batch_size, n),), generator=gen)
            B = idx.numel()
            k = torch.randint(0, self.diffusion_steps, (B,), generator=gen).to(dev)
            noise = torch.randn((B, T + 1, len(PLAN)), generator=gen).to(dev)
            has_y = (torch.rand(B, generator=gen) > 0.2).float().to(dev)
            t = torch.randint(0, T, (B,), generator=gen).to(dev)
            idx = idx.to(dev)
            ab = abar[k][:, None, None]
            xk = ab.sqrt() * x0[idx] + (1 - ab).sqrt() * noise
            eps = self.net.denoiser(xk, k, y[idx], has_y, ctx[idx])
            loss_d = torch.mean((eps - noise) ** 2)
            pred = self.net.invdyn(s[idx, t], x0[idx, t + 1], x0[idx, t])
            loss_a = torch.mean((pred - a[idx, t]) ** 2)
            loss = loss_d + loss_a
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
            opt.step()
            sched.step()

    def reset(self, roll: Any) -> None:
        super().reset(roll)
        import torch

        self._gen = torch.Generator().manual_seed(self.random_state % (2 ** 63) + int(roll.day))

    def _act(self, s: np.ndarray, roll: Any, t: int) -> np.ndarray:
        import torch

        E, T = s.shape[0], self.steps
        dev = self._torch_device()
        st = torch.from_numpy(s).to(dev)
        known = st[:, :, list(PLAN)]
        ctx = st[:, 0, self._ctx_idx]
        y = torch.from_numpy(self._target / self.y_scale).to(dev)
        # the conditional and unconditional passes of classifier-free guidance as one batch
        y2, has2, ctx2 = torch.cat([y, y]), torch.cat([torch.ones(E), torch.zeros(E)]).to(dev), torch.cat([ctx, ctx])
        abar = self._schedule()[2].to(dev)
        levels = np.unique(np.linspace(0, self.diffusion_steps - 1, self.sample_steps).round().astype(int))[::-1]
        x = torch.randn((E, T + 1, len(PLAN)), generator=self._gen).to(dev)
        x[:, :t + 1] = known
        for i, k in enumerate(levels):  # deterministic DDIM steps, history written back each time
            kk = torch.full((2 * E,), int(k), dtype=torch.long, device=dev)
            e_c, e_u = self.net.denoiser(torch.cat([x, x]), kk, y2, has2, ctx2).chunk(2)
            eps = e_u + self.guidance * (e_c - e_u)
            x0 = ((x - (1 - abar[k]).sqrt() * eps) / abar[k].sqrt()).clamp(-6.0, 6.0)
            if i + 1 < len(levels):
                nxt = abar[int(levels[i + 1])]
                x = nxt.sqrt() * x0 + (1 - nxt).sqrt() * eps
            else:
                x = x0
            x[:, :t + 1] = known
        return self.net.invdyn(st[:, t], x[:, t + 1], x[:, t]).cpu().numpy().astype(np.float64)


__all__ = ["DiffusionBidder"]
