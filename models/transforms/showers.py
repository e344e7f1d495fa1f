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

    With ``layer_size`` P > 0 the shares are hierarchical, for voxels ordered layer by
    layer (L = V / P layers of P voxels): the shares within each layer
    x_li / E_l, the layers' fractions of the total E_l / sum_k E_k and the response,
    [x_li / E_l, E_l / E, E / E_inc] (N, V + L + 1), each group renormalised by the inverse,
    x_li = s_li / sum_j s_lj * f_l / sum_k f_k * r * E_inc. A deep layer's few deposits
    then have shares of order one instead of 1e-5 of the shower.
    """

    condition_index: int = 0
    layer_size: int = 0
    kind: ClassVar[str] = "energy_shares"

    def output_width(self, input_width: int) -> int:
        """V voxels in; V shares (and L layer fractions) and the response out."""
        return input_width + self._layers(input_width) + 1

    def _layers(self, n_voxels: int) -> int:
        """L, the number of layers (0 without ``layer_size``)."""
        if not self.layer_size:
            return 0
        if n_voxels % self.layer_size:
            raise ValueError(f"{n_voxels} voxels are not layers of {self.layer_size}")
        return n_voxels // self.layer_size

    def layers_in_output(self, output_width: int) -> int:
        """L from the forward output's width V + L + 1 (V = L P); 0 without ``layer_size``."""
        return (output_width - 1) // (self.layer_size + 1) if self.layer_size else 0

    def forward(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        n_events, n_voxels = values.shape
        n_layers = self._layers(n_voxels)
        energy = condition_column(conditions, self.condition_index)  # (N,)
        if not n_layers:
            shares, total = _normalise(values)
            return np.column_stack([shares, total / energy])  # (N, V + 1)
        layers = values.reshape(n_events, n_layers, self.layer_size)
        within, layer_energy = _normalise(layers)  # (N, L, P), (N, L)
        fractions, total = _normalise(layer_energy)  # (N, L), (N,)
        return np.column_stack([within.reshape(n_events, n_voxels), fractions, total / energy])

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        values = np.maximum(np.asarray(values, dtype=np.float64), 0.0)
        n_events = len(values)
        n_layers = self.layers_in_output(values.shape[1])
        n_voxels = values.shape[1] - 1 - n_layers
        energy = values[:, -1] * condition_column(conditions, self.condition_index)  # (N,) MeV
        shares, _ = _normalise(values[:, :n_voxels])  # (N, V)
        if n_layers:
            within, _ = _normalise(shares.reshape(n_events, n_layers, self.layer_size))
            fractions, _ = _normalise(values[:, n_voxels:-1])  # (N, L)
            shares = (within * fractions[:, :, None]).reshape(n_events, n_voxels)
        return shares * energy[:, None]  # (N, V)

    def inverse_owned(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        """:meth:`inverse` computed in ``values`` itself; returns a view (N, V) of it. With
        layers the shares are only normalised within each layer (the whole shower's
        normalisation of :meth:`inverse` cancels there)."""
        np.maximum(values, 0.0, out=values)
        n_events = len(values)
        n_layers = self.layers_in_output(values.shape[1])
        n_voxels = values.shape[1] - 1 - n_layers
        energy = values[:, -1] * condition_column(conditions, self.condition_index)  # (N,) MeV
        shares = values[:, :n_voxels]  # (N, V), a view
        if not n_layers:
            _normalise_in_place(shares)
            shares *= energy[:, None]
            return shares
        within = shares.reshape(n_events, n_layers, self.layer_size)  # a view: rows contiguous
        _normalise_in_place(within)
        fractions = values[:, n_voxels:-1]  # (N, L)
        _normalise_in_place(fractions)
        fractions *= energy[:, None]  # each layer's energy, MeV
        within *= fractions[:, :, None]
        return shares


def _normalise_in_place(values: np.ndarray) -> None:
    """values / their sum over the last axis, written into ``values``; rows summing to 0 stay
    0."""
    total = values.sum(axis=-1, keepdims=True)
    np.divide(values, np.where(total > 0, total, 1.0), out=values)


def _normalise(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values / their sum over the last axis, the sum); rows summing to 0 stay 0."""
    total = values.sum(axis=-1)
    return values / np.where(total > 0, total, 1.0)[..., None], total
