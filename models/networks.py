"""Conditional generator and critic: small multilayer perceptrons.

Both networks work in the *transformed* feature space (see
:mod:`hepgan.models.transforms`): the generator maps noise z ~ N(0, 1) and the
transformed conditions c to transformed features x' = G(z, c); the critic scores
(x', c) with one real number (a logit for the cross-entropy loss, an unbounded
Wasserstein score for WGAN-GP). No batch normalisation anywhere: the gradient
penalty needs per-sample gradients, and a network without batch statistics
behaves the same in training and generation and under DDP.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn


@dataclass
class GanConfig:
    """Everything needed to rebuild the networks; stored in the model card as ``architecture``."""

    n_features: int  # F: width of one generated sample, in the transformed space
    n_conditions: int = 0  # C: width of the condition vector (0: unconditional)
    latent_dim: int = 64  # Z: width of the Gaussian noise vector
    generator_hidden: list[int] = field(default_factory=lambda: [256, 256, 256])
    critic_hidden: list[int] = field(default_factory=lambda: [256, 256, 256])
    negative_slope: float = 0.2  # slope of LeakyReLU for negative inputs

    def __post_init__(self) -> None:
        if self.n_features < 1 or self.n_conditions < 0 or self.latent_dim < 1:
            raise ValueError(f"invalid network sizes: {self}")
        self.generator_hidden = [int(width) for width in self.generator_hidden]
        self.critic_hidden = [int(width) for width in self.critic_hidden]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GanConfig:
        return cls(**data)


def mlp(n_inputs: int, hidden: list[int], n_outputs: int, negative_slope: float) -> nn.Sequential:
    """Linear -> LeakyReLU blocks of widths ``hidden``, then a final linear layer."""
    layers: list[nn.Module] = []
    width = n_inputs
    for next_width in hidden:
        layers += [nn.Linear(width, next_width), nn.LeakyReLU(negative_slope)]
        width = next_width
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """x' = G(z, c): noise (B, Z), transformed conditions (B, C) -> transformed features (B, F)."""

    def __init__(self, config: GanConfig) -> None:
        super().__init__()
        self.config = config
        self.net = mlp(
            config.latent_dim + config.n_conditions,
            config.generator_hidden,
            config.n_features,
            config.negative_slope,
        )

    def forward(self, noise: torch.Tensor, conditions: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(join_conditions(noise, conditions))  # (B, F)

    def sample_noise(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        device: str | torch.device = "cpu",
    ) -> torch.Tensor:
        """z ~ N(0, 1), shape (n, Z). Drawn on the CPU generator so results match across devices."""
        noise = torch.randn(n, self.config.latent_dim, generator=generator)
        return noise.to(device)


class Critic(nn.Module):
    """D(x', c): transformed features (B, F) and conditions (B, C) -> score (B,)."""

    def __init__(self, config: GanConfig) -> None:
        super().__init__()
        self.config = config
        self.net = mlp(
            config.n_features + config.n_conditions,
            config.critic_hidden,
            1,
            config.negative_slope,
        )

    def forward(
        self, features: torch.Tensor, conditions: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.net(join_conditions(features, conditions)).squeeze(-1)  # (B,)


def join_conditions(first: torch.Tensor, conditions: torch.Tensor | None) -> torch.Tensor:
    """Concatenate the conditions (B, C) to the inputs (B, K) when there are any."""
    if conditions is None or conditions.shape[-1] == 0:
        return first
    return torch.cat([first, conditions.to(first.dtype)], dim=-1)  # (B, K + C)
