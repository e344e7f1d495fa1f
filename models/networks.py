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
    # consecutive columns whose value the generator gates by a hit decision (a hit mask): the
    # last len(hit_mask_columns) outputs are the decisions h_j in {0, 1}, and output j is
    # multiplied by h_j (see hepgan.models.transforms.hit_mask); [] for no hit mask
    hit_mask_columns: list[int] = field(default_factory=list)
    # with a hit mask over layer shares: P, the voxels per layer, when the masked columns are
    # the V = L P within-layer shares then the L layer fractions; a layer decided hit whose P
    # voxels are all decided empty lights its voxel of largest logit, so the layer decisions
    # alone say which layers are empty; 0: every decision on its own
    hit_layer_size: int = 0
    # two stages: these outputs (indices among all F, hit decisions included) come from a first
    # network of (z, c) alone, the others from a second one that also sees them; the critic
    # adds a branch that scores them alone with c; [] for one network (a shower's layer-level
    # columns: hepgan.models.transforms.stages)
    stage_one_columns: list[int] = field(default_factory=list)
    stage_one_hidden: list[int] = field(default_factory=lambda: [128, 128])

    def __post_init__(self) -> None:
        if self.n_features < 1 or self.n_conditions < 0 or self.latent_dim < 1:
            raise ValueError(f"invalid network sizes: {self}")
        self.generator_hidden = [int(width) for width in self.generator_hidden]
        self.critic_hidden = [int(width) for width in self.critic_hidden]
        self.hit_mask_columns = [int(column) for column in self.hit_mask_columns]
        self.stage_one_columns = [int(column) for column in self.stage_one_columns]
        self.stage_one_hidden = [int(width) for width in self.stage_one_hidden]
        n_values = self.n_features - len(self.hit_mask_columns)
        if any(not 0 <= column < n_values for column in self.hit_mask_columns):
            raise ValueError(f"hit_mask_columns must index the first {n_values} outputs")
        masked = self.hit_mask_columns
        if masked != list(range(masked[0], masked[0] + len(masked)) if masked else []):
            raise ValueError("hit_mask_columns must be consecutive ascending columns")
        if self.hit_layer_size and len(masked) % (self.hit_layer_size + 1):
            raise ValueError(
                f"hit_layer_size {self.hit_layer_size}: the {len(masked)} masked columns are "
                "not L layers of that many voxels and L layer fractions"
            )
        stage_one = set(self.stage_one_columns)
        distinct = len(stage_one) == len(self.stage_one_columns)
        if not distinct or not stage_one <= set(range(self.n_features)):
            raise ValueError(f"stage_one_columns must be distinct among {self.n_features}")
        if len(stage_one) == self.n_features:
            raise ValueError("stage_one_columns must leave the second stage some outputs")

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
    """x' = G(z, c): noise (B, Z), transformed conditions (B, C) -> transformed features (B, F).

    With ``stage_one_columns`` S (two stages): s = G1(z, c) gives the |S| columns S and
    G2(z, c, s) the F - |S| others, put back in column order; without: one network."""

    def __init__(self, config: GanConfig) -> None:
        super().__init__()
        self.config = config
        inputs = config.latent_dim + config.n_conditions
        first = config.stage_one_columns
        self.stage_one: nn.Sequential | None = None
        if first:
            self.stage_one = mlp(inputs, config.stage_one_hidden, len(first), config.negative_slope)
            others = sorted(set(range(config.n_features)) - set(first))
            # output column j is column order[j] of [G1 outputs, G2 outputs]
            order = torch.argsort(torch.tensor(first + others))
            self.register_buffer("stage_order", order, persistent=False)
        self.net = mlp(
            inputs + len(first),
            config.generator_hidden,
            config.n_features - len(first),
            config.negative_slope,
        )

    def forward(self, noise: torch.Tensor, conditions: torch.Tensor | None = None) -> torch.Tensor:
        inputs = join_conditions(noise, conditions)  # (B, Z + C)
        if self.stage_one is None:
            out = self.net(inputs)  # (B, F)
        else:
            first = self.stage_one(inputs)  # (B, |S|)
            others = self.net(torch.cat([inputs, first], dim=1))  # (B, F - |S|)
            out = torch.cat([first, others], dim=1)[:, self.stage_order]  # (B, F)
        if not self.config.hit_mask_columns:
            return out
        return self._gate(out)

    def _gate(self, out: torch.Tensor) -> torch.Tensor:
        """The hit mask: h = H(t) for the last M outputs t (logits), straight-through in
        training (dh/dt = sigmoid'(t)); masked column j (of the consecutive columns a to
        a + M) becomes y_j h_j, the others pass unchanged. (B, F)."""
        first = self.config.hit_mask_columns[0]
        n_masked = len(self.config.hit_mask_columns)
        n_values = out.shape[1] - n_masked
        logits = out[:, n_values:]  # (B, M)
        hits = (logits > 0).to(out.dtype)
        if self.config.hit_layer_size:
            hits = hits + self._lit_by_layer(logits, hits)
        if self.training:
            soft = torch.sigmoid(logits)
            hits = hits + soft - soft.detach()
        gated = out[:, first : first + n_masked] * hits  # (B, M)
        return torch.cat([out[:, :first], gated, out[:, first + n_masked : n_values], hits], dim=1)

    def _lit_by_layer(self, logits: torch.Tensor, hits: torch.Tensor) -> torch.Tensor:
        """(B, M) ones at the voxel of largest logit of each layer decided hit (h_l = 1) whose
        P voxels are all decided empty, zeros elsewhere: the layer decision wins, so a hit
        layer is never emptied by its voxels' decisions. No gradient flows through it."""
        size = self.config.hit_layer_size
        n_layers = logits.shape[1] // (size + 1)
        n_voxels = n_layers * size
        voxels = logits[:, :n_voxels].detach().reshape(-1, n_layers, size)  # (B, L, P)
        unlit = hits[:, :n_voxels].reshape(-1, n_layers, size).sum(dim=2) == 0  # (B, L)
        lit_layer = hits[:, n_voxels:] > 0  # (B, L)
        largest = voxels == voxels.amax(dim=2, keepdim=True)  # (B, L, P)
        light = largest & (unlit & lit_layer).unsqueeze(2)  # (B, L, P)
        return torch.cat([light.reshape(-1, n_voxels), torch.zeros_like(lit_layer)], dim=1).to(
            hits.dtype
        )

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
    """D(x', c): transformed features (B, F) and conditions (B, C) -> score (B,).

    With ``stage_one_columns`` S: D(x', c) = D_all(x', c) + D_S(x'_S, c), a branch that sees
    the first stage's columns alone, so their joint distribution given c is not drowned by
    the F - |S| others."""

    def __init__(self, config: GanConfig) -> None:
        super().__init__()
        self.config = config
        self.net = mlp(
            config.n_features + config.n_conditions,
            config.critic_hidden,
            1,
            config.negative_slope,
        )
        first = config.stage_one_columns
        self.stage_one: nn.Sequential | None = None
        if first:
            self.stage_one = mlp(
                len(first) + config.n_conditions, config.stage_one_hidden, 1, config.negative_slope
            )
            self.register_buffer("stage_one_index", torch.tensor(first), persistent=False)

    def forward(
        self, features: torch.Tensor, conditions: torch.Tensor | None = None
    ) -> torch.Tensor:
        score = self.net(join_conditions(features, conditions))  # (B, 1)
        if self.stage_one is not None:
            first = features[:, self.stage_one_index]  # (B, |S|)
            score = score + self.stage_one(join_conditions(first, conditions))
        return score.squeeze(-1)  # (B,)


def join_conditions(first: torch.Tensor, conditions: torch.Tensor | None) -> torch.Tensor:
    """Concatenate the conditions (B, C) to the inputs (B, K) when there are any."""
    if conditions is None or conditions.shape[-1] == 0:
        return first
    return torch.cat([first, conditions.to(first.dtype)], dim=-1)  # (B, K + C)
