"""Column-wise steps: each column on its own (ratios, logs, thresholds, standardisation,
quantiles, discrete values)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from hepgan.models.transforms.steps import ColumnStep, condition_column


@dataclass
class DivideByCondition(ColumnStep):
    """y = x / c_k: energies as fractions of the incident energy (condition column k)."""

    condition_index: int = 0
    kind: ClassVar[str] = "divide_by_condition"

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return x / condition_column(conditions, self.condition_index)[:, None]

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return y * condition_column(conditions, self.condition_index)[:, None]


@dataclass
class LogOffset(ColumnStep):
    """y = ln(x + offset + gap) for x > 0 and y = ln(offset) for x = 0; inverse
    x = max(exp(y) - offset - gap, 0), so never negative, and x = 0 where that is below
    ``empty_below``.

    Zeros sit at the point ln(offset), which a generator can only blur. A ``gap`` > 0 moves
    the non-zero values up by it, so the blur up to ln(offset + gap) reads as empty and every
    value still comes back; ``empty_below`` reads the blur as empty without the gap, at the
    cost of the values below it (for shower shares, fractions of the offset:
    :attr:`~hepgan.models.transforms.settings.ShowerTransformSettings.empty_share_fraction`)."""

    offset: float = 0.0
    empty_below: float = 0.0
    gap: float = 0.0
    kind: ClassVar[str] = "log_offset"

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        x = np.maximum(x, 0.0)
        return np.log(x + self.offset + np.where(x > 0, self.gap, 0.0))

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        x = np.maximum(np.exp(np.minimum(y, 700.0)) - self.offset - self.gap, 0.0)
        return np.where(x < self.empty_below, 0.0, x) if self.empty_below > 0 else x


@dataclass
class ZeroBelow(ColumnStep):
    """Readout threshold: forward is the identity; inverse sets x < threshold to exactly 0.

    The threshold is just below the smallest non-zero value seen in training (MeV for
    voxels), so generated showers are as sparse as the detector's.
    """

    threshold: float = 0.0
    kind: ClassVar[str] = "zero_below"

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return x

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return np.where(y < self.threshold, 0.0, y)

    def _inverse_into(self, block: np.ndarray, conditions: np.ndarray | None) -> None:
        np.copyto(block, 0.0, where=block < self.threshold)


@dataclass
class Standardise(ColumnStep):
    """y = (x - mean) / std per column; inverse x = y std + mean."""

    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    kind: ClassVar[str] = "standardise"

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return (x - np.asarray(self.mean)) / np.asarray(self.std)

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return y * np.asarray(self.std) + np.asarray(self.mean)


@dataclass
class ConditionalStandardise(ColumnStep):
    """y = (x - m(E)) / s(E) per column, with the mean m and standard deviation s fitted in
    bins of u = ln(E / MeV) (condition column ``condition_index``) and interpolated linearly
    in u between the bins' centres ``knots`` (constant beyond them).

    The generator then meets every column at zero mean and unit width whatever the
    incident energy; how the mean and width change with energy (the calorimeter's
    response and resolution) is carried by the fit. Inverse x = y s(E) + m(E).
    """

    condition_index: int = 0
    knots: list[float] = field(default_factory=list)  # (K,) bin centres in ln(E / MeV)
    mean: list[list[float]] = field(default_factory=list)  # (K, F_selected)
    std: list[list[float]] = field(default_factory=list)  # (K, F_selected)
    kind: ClassVar[str] = "conditional_standardise"

    @functools.cached_property
    def _tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """knots (K,), mean and std (K, F_selected) as arrays, converted once: a fitted step
        is never changed, and converting the lists cost a small batch a tenth of a ms."""
        return np.asarray(self.knots), np.asarray(self.mean), np.asarray(self.std)

    def _moments(self, conditions: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """m(E), s(E), each (N, F_selected), by linear interpolation in ln E: W @ table, with
        W (N, K) holding each event's two interpolation weights (1 - w at its lower knot, w at
        the next); one matrix product per table instead of four gathers of (N, F)."""
        u = np.log(condition_column(conditions, self.condition_index))  # (N,)
        knots, mean, std = self._tables  # (K,), (K, F), (K, F)
        position = np.interp(u, knots, np.arange(len(knots), dtype=np.float64))  # (N,)
        low = np.clip(np.floor(position).astype(np.intp), 0, max(len(knots) - 2, 0))
        high = np.minimum(low + 1, len(knots) - 1)
        weight = position - low  # (N,)
        rows = np.arange(len(u))
        weights = np.zeros((len(u), len(knots)))  # (N, K)
        weights[rows, low] = 1 - weight
        weights[rows, high] += weight  # += : one knot (K = 1) takes both
        return weights @ mean, weights @ std

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        mean, std = self._moments(conditions)
        return (x - mean) / std

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        mean, std = self._moments(conditions)
        return y * std + mean

    def _inverse_into(self, block: np.ndarray, conditions: np.ndarray | None) -> None:
        """y s(E) + m(E) in place, without the two temporaries of :meth:`_inverse`."""
        mean, std = self._moments(conditions)
        block *= std
        block += mean


@dataclass
class QuantileNormal(ColumnStep):
    """Gaussianise each column through its empirical CDF: y = Phi^-1(F(x)).

    F is the piecewise-linear interpolation of ``knots`` (column values at the
    probabilities ``probabilities``), clipped to [p_0, p_K-1] so y stays finite;
    the inverse is x = F^-1(Phi(y)), so generated values stay inside the range
    seen in training.
    """

    probabilities: list[float] = field(default_factory=list)
    knots: list[list[float]] = field(default_factory=list)  # (F_selected, K)
    kind: ClassVar[str] = "quantile_normal"

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        from scipy.special import ndtri

        probs = np.asarray(self.probabilities)
        u = np.column_stack(
            [np.interp(x[:, j], knots, probs) for j, knots in enumerate(self.knots)]
        )
        return ndtri(u)

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        from scipy.special import ndtr

        probs = np.asarray(self.probabilities)
        u = ndtr(y)
        return np.column_stack(
            [np.interp(u[:, j], probs, knots) for j, knots in enumerate(self.knots)]
        )


@dataclass
class SnapToValues(ColumnStep):
    """Discrete columns (charges): forward is the identity; inverse rounds to the nearest value."""

    values: list[list[float]] = field(default_factory=list)  # allowed values of each column
    kind: ClassVar[str] = "snap_to_values"

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return x

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out = np.empty_like(y)
        for j, allowed in enumerate(self.values):
            allowed_array = np.asarray(allowed)  # (V,)
            nearest = np.abs(y[:, j, None] - allowed_array[None, :]).argmin(axis=1)
            out[:, j] = allowed_array[nearest]
        return out
