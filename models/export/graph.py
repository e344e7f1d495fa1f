"""The artefact's sampler as one torch module: (noise, physical conditions) -> physical events.

It computes what :meth:`hepgan.models.sampler.Sampler.generate` computes for given noise:
the conditions' transform (float64), the generator (float32) and the features' inverse
transform (float64, steps in reverse order), with the torch equivalents of
:mod:`hepgan.models.transforms.torch_ops`, chained by
:class:`~hepgan.models.transforms.torch_chain.TransformChain`. Inputs and output are float32.
"""

from __future__ import annotations

import torch
from torch import nn

from hepgan.models.sampler import Sampler
from hepgan.models.transforms.torch_chain import TransformChain


class ExportedSampler(nn.Module):
    """events (B, F) = inverse(G(noise (B, Z), forward(conditions (B, C))), conditions), for
    the generator and transforms of ``sampler``."""

    def __init__(self, sampler: Sampler) -> None:
        super().__init__()
        self.generator = sampler.generator
        n_conditions = sampler.generator.config.n_conditions
        self.conditions_in = TransformChain(
            sampler.condition_transform, n_conditions, inverse=False
        )
        self.features_out = TransformChain(
            sampler.feature_transform, sampler.n_features, inverse=True
        )

    def forward(self, noise: torch.Tensor, conditions: torch.Tensor) -> torch.Tensor:
        physical = conditions.double()  # (B, C)
        transformed = self.conditions_in(physical, physical).float()  # (B, C)
        output = self.generator(noise, transformed).double()  # (B, F')
        return self.features_out(output, physical).float()  # (B, F)


class NoiseOnlySampler(nn.Module):
    """For a model without conditions: events (B, F) from noise (B, Z) alone."""

    def __init__(self, sampler: Sampler) -> None:
        super().__init__()
        self.sampler = ExportedSampler(sampler)

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return self.sampler(noise, noise[:, :0])  # (B, 0) conditions
