"""Shower steps: voxel energies (MeV) as shares of the shower and its response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hepgan.models.transforms.steps import RowStep, condition_column


@dataclass
class EnergyShares(RowStep):
    """Voxels (N, V) -> their shares of the shower's total and the total over the incident
    energy: [x_i / sum_j x_j, sum_j x_j / E_inc] (N, V + 1).

    The energy response (sum / E_inc) becomes one column the generator learns directly;
    the inverse renormalises the generated shares to sum to 1 and scales them by the
    generated total, x_i = s_i / sum_j s_j * r * E_inc (0 where all shares are 0).
    """

    condition_index: int = 0
    kind: ClassVar[str] = "energy_shares"

    def output_width(self, input_width: int) -> int:
        """V voxels in, V shares and the response out."""
        return input_width + 1

    def forward(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        total = values.sum(axis=1)  # (N,)
        shares = values / np.where(total > 0, total, 1.0)[:, None]  # (N, V)
        response = total / condition_column(conditions, self.condition_index)  # (N,)
        return np.column_stack([shares, response])  # (N, V + 1)

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        shares = np.maximum(values[:, :-1], 0.0)  # (N, V)
        response = np.maximum(values[:, -1], 0.0)  # (N,)
        total = shares.sum(axis=1)
        normalised = shares / np.where(total > 0, total, 1.0)[:, None]
        energy = response * condition_column(conditions, self.condition_index)
        return normalised * energy[:, None]  # (N, V)
