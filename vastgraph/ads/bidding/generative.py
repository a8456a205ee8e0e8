"""What the generative bidders share: feature normalisation, return targets, the graph ablation, save/load.

A generative bidder is fitted on logged rollouts (:func:`~vastgraph.ads.bidding.episodes.collect_episodes`)
and acts as a :class:`~vastgraph.ads.bidding.episodes.BidPolicy`. At test time it is conditioned on a
high but *achievable* target return: the ``target_quantile`` of the normalised returns logged for the
same advertiser (returns are normalised by the episode's budget and target CPA, so episodes with
different budgets are comparable), times ``target_boost``; an advertiser with fewer than 3 logged
episodes gets the quantile of all logged returns. Conditioning on the best logged return instead
asks for an outlier (a lucky noisy episode) that the model has seen almost no trajectory for.
Actions are clipped to the range of the logged actions (0.5%–99.5% quantiles), so a model never
extrapolates to multipliers no behaviour policy used.

``threads`` is the number of torch CPU threads used while fitting and acting (default 1: the models
are small, and intra-op threads only add synchronisation, which is very slow on a busy machine);
the process's own setting is restored afterwards. ``device`` is the torch device of training and inference (``"cpu"`` or ``"cuda"``); the random
numbers of training and sampling are drawn on the CPU, so a seed gives the same run on a device.

Models are saved as one file (``torch.save`` of tensors and plain values, loaded with
``weights_only=True``); :func:`load_bidder` reads either kind.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from vastgraph.errors import NotFittedError, StoreError, ValidationError
from vastgraph.seeding import seed_from
from vastgraph.validation import check_int


class GenerativeBidder:
    """Base class (see the module docstring). Subclasses implement ``_build``, ``_train``, ``_act``."""

    kind = "base"

    def __init__(self, *, use_graph: bool = True, target_quantile: float = 0.9, target_boost: float = 1.0,
                 random_state: Any = 0, name: str | None = None, device: str = "cpu", threads: int = 1) -> None:
        self.use_graph = bool(use_graph)
        tq, tb = float(target_quantile), float(target_boost)
        if not 0.0 <= tq <= 1.0:
            raise ValidationError(f"target_quantile={target_quantile!r}: expected a number in [0, 1]")
        if not np.isfinite(tb) or tb <= 0:
            raise ValidationError(f"target_boost={target_boost!r}: expected a finite number > 0")
        self.target_quantile, self.target_boost = tq, tb
        self.random_state = int(seed_from(random_state))
        self.name = name or (self.kind + ("" if self.use_graph else " (no graph)"))
        self.net: Any = None
        self.fit_seconds = 0.0
        self.device = str(device)
        if self.device.split(":")[0] not in ("cpu", "cuda", "mps"):
            raise ValidationError(f"device={device!r}: expected 'cpu' or 'cuda' (optionally 'cuda:N')")
        self.a_lo, self.a_hi = -np.inf, np.inf
        self.threads = check_int("threads", threads, 1)

    def _threaded(self) -> Any:
        """Context: torch uses ``self.threads`` CPU threads inside, the caller's setting after."""
        import contextlib

        import torch

        @contextlib.contextmanager
        def ctx() -> Any:
            n = torch.get_num_threads()
            if n != self.threads:
                torch.set_num_threads(self.threads)
            try:
                yield
            finally:
                if n != self.threads:
                    torch.set_num_threads(n)

        return ctx()

    def _torch_device(self) -> Any:
        import torch

        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise ValidationError(f"device={self.device!r}: CUDA is not available on this machine")
        return torch.device(self.device)

    # ------------------------------------------------------------------ data
    def _mask(self, states: np.ndarray) -> np.ndarray:
        from vastgraph.ads.bidding.episodes import N_BASE

        if self.use_graph or states.shape[-1] <= N_BASE:
            return states
        out = states.copy()
        out[..., N_BASE:] = 0.0
        return out

    def _prepare(self, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        s = self._mask(np.asarray(data["states"], np.float32))
        if not np.isfinite(s).all():
            raise ValidationError("rollouts: states contain NaN or inf")
        self.n_features = int(s.shape[-1])
        self.steps = int(s.shape[1] - 1)
        flat = s.reshape(-1, s.shape[-1])
        self.s_mean = flat.mean(axis=0).astype(np.float32)
        self.s_std = np.maximum(flat.std(axis=0), 1e-3).astype(np.float32)
        a = np.asarray(data["actions"], np.float32)
        self.a_mean, self.a_std = float(a.mean()), float(max(a.std(), 1e-3))
        lo, hi = np.quantile(a, [0.005, 0.995])
        self.a_lo, self.a_hi = float((lo - self.a_mean) / self.a_std), float((hi - self.a_mean) / self.a_std)
        y = np.asarray(data["returns"], np.float32)
        self.y_scale = float(max(np.quantile(y, 0.99), 1e-6))
        agents = np.asarray(data["agents"], np.int64)
        self.target_default = float(np.quantile(y, self.target_quantile))
        table = np.full(int(agents.max()) + 1, self.target_default)
        order = np.argsort(agents, kind="stable")
        bounds = np.searchsorted(agents[order], np.arange(table.size + 1))
        for v in np.flatnonzero(np.diff(bounds) >= 3):  # advertisers, each a quantile of its own returns
            table[v] = np.quantile(y[order[bounds[v]:bounds[v + 1]]], self.target_quantile)
        self.target_table = table.astype(np.float32)
        return {"states": (s - self.s_mean) / self.s_std, "actions": (a - self.a_mean) / self.a_std,
                "returns": y / self.y_scale, "raw_states": s}

    def targets(self, agents: np.ndarray) -> np.ndarray:
        """The target (normalised) return of each episode's advertiser."""
        agents = np.asarray(agents, np.int64)
        inside = agents < self.target_table.size
        t = np.where(inside, self.target_table[np.minimum(agents, self.target_table.size - 1)], self.target_default)
        return t * self.target_boost

    # ------------------------------------------------------------------ the policy
    def fit(self, rollouts: list[Any], *, epochs: int | None = None) -> "GenerativeBidder":
        """Fit on logged rollouts (see the subclass for the objective)."""
        import time

        import torch

        from vastgraph.ads.bidding.episodes import stack_rollouts

        data = self._prepare(stack_rollouts(list(rollouts)))
        t0 = time.perf_counter()
        dev = self._torch_device()
        with torch.random.fork_rng(devices=[]), self._threaded():
            torch.manual_seed(self.random_state % (2 ** 63))
            self.net = self._build().to(dev)
            self._train(data, epochs)
        self.net.eval()
        self.fit_seconds = time.perf_counter() - t0
        return self

    def _check(self) -> None:
        if self.net is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(rollouts) or load_bidder(path)")

    def reset(self, roll: Any) -> None:
        self._check()
        if roll.states.shape[-1] != self.n_features:
            raise ValidationError(f"states have {roll.states.shape[-1]} features; the model was fitted on "
                                  f"{self.n_features} (same graph feature dimension needed)")
        self._target = self.targets(roll.agents).astype(np.float32)

    def act(self, roll: Any, t: int) -> np.ndarray:
        import torch

        s = (self._mask(roll.states[:, :t + 1]) - self.s_mean) / self.s_std
        with torch.no_grad(), self._threaded():
            a = self._act(np.asarray(s, np.float32), roll, t)
        a = np.clip(a, self.a_lo, self.a_hi)  # within the logged actions
        return np.clip(np.exp(a * self.a_std + self.a_mean), 0.02, 20.0)

    # ------------------------------------------------------------------ persistence
    def _config(self) -> dict[str, Any]:
        return {}

    def save(self, path: str | os.PathLike) -> str:
        """Write the fitted model to one file (atomically)."""
        import tempfile

        import torch

        self._check()
        path = os.fspath(path)
        blob = {"format": "vastgraph-bidder", "version": 1, "kind": self.kind, "name": self.name,
                "use_graph": self.use_graph, "target_quantile": self.target_quantile,
                "target_boost": self.target_boost, "random_state": int(self.random_state) % (2 ** 62),
                "n_features": self.n_features, "steps": self.steps, "a_mean": self.a_mean, "a_std": self.a_std,
                "a_lo": self.a_lo, "a_hi": self.a_hi,
                "y_scale": self.y_scale, "target_default": self.target_default,
                "s_mean": torch.from_numpy(self.s_mean), "s_std": torch.from_numpy(self.s_std),
                "target_table": torch.from_numpy(self.target_table), "config": self._config(),
                "state_dict": {k: v.detach().cpu() for k, v in self.net.state_dict().items()}}
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".bidder-", dir=folder)
        os.close(fd)
        try:
            with open(tmp, "wb") as fh:
                torch.save(blob, fh)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        return path


def load_bidder(path: str | os.PathLike, *, device: str = "cpu") -> GenerativeBidder:
    """Read a bidder written by :meth:`GenerativeBidder.save` (a Decision Transformer or a diffusion bidder) onto ``device``."""
    import torch

    from vastgraph.ads.bidding.diffusion import DiffusionBidder
    from vastgraph.ads.bidding.dt import DecisionTransformerBidder

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise StoreError(f"path={path!r}: no such file; expected a bidder written by save()")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        raise StoreError(f"{path}: cannot read a bidder ({exc})") from exc
    if not isinstance(blob, dict) or blob.get("format") != "vastgraph-bidder" or blob.get("version") != 1:
        raise StoreError(f"{path}: not a vastgraph-bidder version 1 file")
    cls = {"decision-transformer": DecisionTransformerBidder, "diffusion": DiffusionBidder}.get(blob["kind"])
    if cls is None:
        raise StoreError(f"{path}: unknown bidder kind {blob['kind']!r}")
    model = cls(**blob["config"], use_graph=blob["use_graph"], target_quantile=blob["target_quantile"],
                target_boost=blob["target_boost"], random_state=blob["random_state"], name=blob["name"], device=device)
    for key in ("n_features", "steps", "a_mean", "a_std", "a_lo", "a_hi", "y_scale", "target_default"):
        setattr(model, key, blob[key])
    model.s_mean, model.s_std = blob["s_mean"].numpy(), blob["s_std"].numpy()
    model.target_table = blob["target_table"].numpy()
    model.net = model._build()
    model.net.load_state_dict(blob["state_dict"])
    model.net.to(model._torch_device())
    model.net.eval()
    return model


__all__ = ["GenerativeBidder", "load_bidder"]
