"""A critic that sees the physics and the batch's spread next to the features.

D(x', c) = MLP([x', phi(x', c), sigma_group(x', phi), c]), where

- phi are differentiable shower observables computed from x' in the graph
  (:class:`~hepgan.models.critic.shower_observables.ShowerObservableFeatures`), when given;
- sigma_group is the minibatch standard deviation (Karras et al. 2018): the standard
  deviation of each input column over a group of G consecutive samples, averaged over the
  columns, one number per group appended to each of its samples. A generator that
  collapses (too narrow a resolution) gives a smaller spread than real batches, which
  the critic can then see. Groups never mix real and generated samples because the
  batches the critic scores together are concatenations of whole batches of a multiple
  of G samples (a batch that is not a multiple of G is one group).
"""

from __future__ import annotations

import torch
from torch import nn

from hepgan.models.networks import GanConfig, join_conditions, mlp


def minibatch_standard_deviation(inputs: torch.Tensor, group: int) -> torch.Tensor:
    """(B, K) -> (B, 1): mean over the K columns of the standard deviation (biased, + 1e-8
    inside the root) over each group of ``group`` consecutive rows."""
    size = group if group > 0 and len(inputs) % group == 0 else len(inputs)
    grouped = inputs.reshape(-1, size, inputs.shape[1])  # (B / G, G, K)
    spread = torch.sqrt(grouped.var(dim=1, unbiased=False) + 1e-8).mean(dim=1)  # (B / G,)
    return spread.repeat_interleave(size)[:, None]


class StandardisedFeatures(nn.Module):
    """Critic columns :meth:`raw` computes from (transformed features, conditions), standardised
    by their mean and width over real transformed training events, fitted once by
    :meth:`fit_standardisation`; a subclass's ``width`` property is their number."""

    def raw(self, features: torch.Tensor, conditions: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def fit_standardisation(
        self, real_features: torch.Tensor, real_conditions: torch.Tensor
    ) -> None:
        with torch.no_grad():
            raw = self.raw(real_features, real_conditions)
        self.register_buffer("shift", raw.mean(dim=0))
        self.register_buffer("scale", raw.std(dim=0).clamp(min=1e-6))

    def forward(self, features: torch.Tensor, conditions: torch.Tensor | None) -> torch.Tensor:
        return (self.raw(features, conditions) - self.shift) / self.scale


class PhysicsCritic(nn.Module):
    """D(x', c) with in-graph observables and/or a minibatch standard deviation column."""

    def __init__(
        self,
        config: GanConfig,
        *,
        observables: StandardisedFeatures | None = None,
        minibatch_group: int = 0,
    ) -> None:
        super().__init__()
        self.config = config
        self.observables = observables
        self.minibatch_group = minibatch_group
        width = config.n_features + (observables.width if observables is not None else 0)
        width += 1 if minibatch_group > 0 else 0
        self.net = mlp(width + config.n_conditions, config.critic_hidden, 1, config.negative_slope)

    def forward(
        self, features: torch.Tensor, conditions: torch.Tensor | None = None
    ) -> torch.Tensor:
        inputs = features
        if self.observables is not None:
            inputs = torch.cat([inputs, self.observables(features, conditions)], dim=1)
        if self.minibatch_group > 0:
            inputs = torch.cat(
                [inputs, minibatch_standard_deviation(inputs, self.minibatch_group)], dim=1
            )
        return self.net(join_conditions(inputs, conditions)).squeeze(-1)  # (B,)
