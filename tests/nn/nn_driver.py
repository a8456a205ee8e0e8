"""Test helper: a model built on a graph, called with node ids through its sampler."""

from __future__ import annotations

import torch


class Driver:
    """A model built on a graph plus its sampler, called with node ids (test convenience).

    ``reseed(s)`` then training-mode calls sample with seeds ``(s, call)``; eval-mode calls always use
    ``(s, eval)``, so the same ids give the same output. Other attributes come from the model.
    """

    def __init__(self, model, graph):
        from vastgraph.train.samplers import sampler_for

        self.model, self.graph = model, graph
        self.sampler = sampler_for(model, graph)
        self.seed, self.calls = 0, 0

    def __getattr__(self, name):
        if name == "context":
            return self.sampler.context
        return getattr(self.model, name)

    def reseed(self, seed):
        self.seed, self.calls = int(seed), 0

    def eval(self):
        self.model.eval()
        return self

    def train(self, mode=True):
        self.model.train(mode)
        return self

    def batch(self, nodes, unsupervised=False):
        import numpy as np

        from vastgraph.seeding import derive_int

        ids = nodes.detach().cpu().numpy() if torch.is_tensor(nodes) else np.asarray(nodes)
        if self.model.training:
            seed = derive_int(self.seed, self.calls)
            self.calls += 1
        else:
            seed = derive_int(self.seed, 2**62)
        return self.sampler.sample(ids, seed, unsupervised=unsupervised)

    def __call__(self, nodes):
        return self.model(self.batch(nodes))

    def unsupervised_loss(self, nodes):
        return self.model.unsupervised_loss(self.batch(nodes, unsupervised=True))

    def walk_loss(self, nodes, rng):
        i, j, k = self.sampler.context.sample_triplets(nodes, self.model.triplets_per_node, rng)
        return self.model.walk_loss(*(torch.from_numpy(t) for t in (i, j, k)))

    def sample_blocks(self, nodes, seed):
        return self.sampler.blocks(nodes, seed)


def make(name, graph, **params):
    """``create_model(name, graph, **params)`` wrapped in a :class:`Driver`."""
    from vastgraph.train.models import create_model

    return Driver(create_model(name, graph, **params), graph)
