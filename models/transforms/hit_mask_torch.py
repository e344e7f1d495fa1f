"""The hit mask's inverse steps in torch (float64), for the exported sampler's graph; the
numpy steps and their maths are in :mod:`hepgan.models.transforms.hit_mask`."""

from __future__ import annotations

import torch
from torch import nn

from hepgan.models.transforms.hit_mask import HitIndicators


class HitIndicatorsInverse(nn.Module):
    """(N, F + M) -> (N, F): x_j (1 + ([h_j > 1/2] - 1)) for the masked columns, the others
    unchanged (one matrix product with the fixed selection S (M, F), which ONNX runs as one
    MatMul), and the M indicator columns dropped."""

    def __init__(self, step: HitIndicators, width: int) -> None:
        super().__init__()
        n_masked = len(step.columns)
        self.n_values = width - n_masked  # static, so ONNX knows the output width
        selection = torch.zeros(n_masked, self.n_values, dtype=torch.float64)
        selection[torch.arange(n_masked), torch.tensor(step.columns)] = 1.0
        self.register_buffer("selection", selection)

    def forward(self, values: torch.Tensor, conditions: torch.Tensor) -> torch.Tensor:
        hits = (values[:, self.n_values :] > 0.5).to(values.dtype)  # (N, M)
        return values[:, : self.n_values] * (1.0 + (hits - 1.0) @ self.selection)


class Identity(nn.Module):
    """(values, conditions) -> values: the inverse of
    :class:`~hepgan.models.transforms.hit_mask.ZeroWhereEmpty`."""

    def forward(self, values: torch.Tensor, conditions: torch.Tensor) -> torch.Tensor:
        return values
