"""Sparsity as a decision: hit indicators for shower shares, and empty values set to zero.

A deep calorimeter layer often lights one voxel or none. A generator with a continuous
output cannot make that discrete pattern: it blurs around the empty value. With a hit mask
the transformed row carries, for each masked column j, an indicator h_j = 1 if the share is
non-zero else 0, and the generator decides h_j with a hard threshold
(:class:`~hepgan.models.networks.Generator`, straight-through gradients). Two steps do it:

- :class:`HitIndicators`, on the shares: appends h_j for the ``columns`` (forward); the
  inverse keeps a share only where h_j > 1/2 and drops the indicators.
- :class:`ZeroWhereEmpty`, last in the chain, on the standardised values: y_j -> h_j y_j, so
  an empty column reads exactly 0 in the generator's space whatever the incident energy,
  which a generator that multiplies its value by its own decision matches exactly. Its
  inverse is the identity: the empty values are zeroed by :class:`HitIndicators` later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from hepgan.models.transforms.steps import RowStep, as_slice


@dataclass
class HitIndicators(RowStep):
    """[x, h] with h_j = 1 where x_j > 0 else 0 for each of ``columns`` (N, F) -> (N, F + M);
    inverse: x_j kept where h_j > 1/2, else 0, and the M indicator columns dropped."""

    columns: list[int] = field(default_factory=list)  # the M masked columns, in order
    kind: ClassVar[str] = "hit_indicators"

    def output_width(self, input_width: int) -> int:
        return input_width + len(self.columns)

    def forward(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        hits = (values[:, self.columns] > 0).astype(np.float64)  # (N, M)
        return np.column_stack([values, hits])

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return self.inverse_owned(np.array(values, dtype=np.float64), conditions)

    def inverse_owned(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        """The first F columns of ``values`` (a view), the masked ones zeroed in place."""
        out = values[:, : values.shape[1] - len(self.columns)]  # (N, F)
        empty = values[:, out.shape[1] :] <= 0.5  # (N, M)
        columns = as_slice(self.columns)
        if isinstance(columns, slice):  # a view: zeroed where it lies
            np.copyto(out[:, columns], 0.0, where=empty)
        else:
            out[:, columns] = np.where(empty, 0.0, out[:, columns])
        return out


@dataclass
class ZeroWhereEmpty(RowStep):
    """y_j -> h_j y_j for each of ``columns``, h_j the indicator column ``indicators[j]``
    (forward); the inverse is the identity. Width unchanged."""

    columns: list[int] = field(default_factory=list)  # the M masked columns
    indicators: list[int] = field(default_factory=list)  # their M indicator columns
    kind: ClassVar[str] = "zero_where_empty"

    def forward(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out = np.array(values, dtype=np.float64)  # a copy
        out[:, self.columns] *= out[:, self.indicators]
        return out

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)


def gated_columns(steps: list) -> tuple[list[int], list[int]]:
    """(masked columns, their indicator columns) of a chain's :class:`ZeroWhereEmpty` step, in
    the generator's space; ([], []) for a chain without a hit mask."""
    for step in steps:
        if isinstance(step, ZeroWhereEmpty):
            return list(step.columns), list(step.indicators)
    return [], []
