"""Torch equivalents of the transform steps, for graphs that leave Python (ONNX export).

Each numpy step of :mod:`hepgan.models.transforms` gets a module that computes the same
function in float64 torch operations that ONNX expresses (no ``searchsorted``, no in-place
column assignment, no ``cosh``/``sinh``/``erf`` in double, which ONNX Runtime's CPU kernels
lack): :func:`inverse_module` for the inverse (features at generation) and
:func:`forward_module` for the forward map (conditions). Both take values (N, F_in) and the
physical conditions (N, C), float64, and return (N, F_out) float64; chains of them are
:class:`~hepgan.models.transforms.torch_chain.TransformChain`. The four-vector steps'
modules are in :mod:`.torch_kinematics`, the column plumbing in :mod:`.torch_columns`.

The inverse has a **differentiable** mode, for a critic that sees physical observables of
its (transformed) input: the two cuts, the readout threshold (:class:`ZeroBelow`) and the
shares read as empty below ``LogOffset.empty_below``, are left out (they have no gradient),
and exp in :class:`LogOffset`'s inverse is clamped at :data:`FLOAT32_EXP_LIMIT` instead of
700, so a module cast to float32 (``.float()``: every table is a buffer) stays finite.

Every step kind the library fits is exportable in both directions where generation needs
it, except :class:`QuantileNormal`'s forward (its probit, ``ndtri``, is never needed at
generation); :class:`NotExportable` names a step that has no module. One approximation:
the normal CDF of :class:`QuantileNormal`'s inverse is a series in float64
(:func:`normal_cdf`), an absolute error of about 1e-9 in probability.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from hepgan.models.transforms.columns import (
    ConditionalStandardise,
    DivideByCondition,
    LogOffset,
    QuantileNormal,
    SnapToValues,
    Standardise,
    ZeroBelow,
)
from hepgan.models.transforms.kinematics import LabPair, MassShellEnergy, PairFrame
from hepgan.models.transforms.showers import EnergyShares
from hepgan.models.transforms.steps import ColumnStep, Step
from hepgan.models.transforms.torch_columns import BlockFunction, ColumnBlock
from hepgan.models.transforms.torch_kinematics import (
    LabPairInverse,
    MassShellInverse,
    PairFrameInverse,
)

Tensor = torch.Tensor


class NotExportable(ValueError):
    """A transform step (named in the message) has no torch/ONNX form in this direction."""


def _double(values: Sequence[float] | Sequence[Sequence[float]] | np.ndarray) -> Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float64))


def interpolate(x: Tensor, xp: Tensor, fp: Tensor) -> Tensor:
    """np.interp(x, xp, fp) for increasing ``xp`` (K,): x (N,) with fp (K,) -> (N,), or
    x (N, F) with one table per column fp (F, K) -> (N, F); constant beyond the ends.

    The segment i (xp[i] <= x < xp[i+1]) is found by counting the interior knots <= x
    (memory N K), or, when the interior knots are evenly spaced (quantile grids), by
    i = floor((x - xp[1]) / h) + 1; the weight is clipped to [0, 1], so a segment found
    one off at a knot by rounding gives the same value.
    """
    n_knots = xp.shape[0]
    if n_knots == 1:
        return torch.zeros_like(x) + (fp[..., 0].reshape(-1) if fp.ndim == 2 else fp[0])
    interior = xp[1:-1]
    spacing = torch.diff(interior) if n_knots > 3 else interior[:0]
    if n_knots > 3 and torch.allclose(spacing, spacing.mean(), rtol=1e-9, atol=0.0):
        step = (xp[n_knots - 2] - xp[1]) / (n_knots - 3)
        segment = torch.floor((x - xp[1]) / step) + 1
        segment = segment.clamp(0, n_knots - 2).to(torch.int64)
    else:
        segment = (x.unsqueeze(-1) >= interior).sum(-1).to(torch.int64)  # (N[, F])
    low, high = xp[segment], xp[segment + 1]
    width = torch.where(high > low, high - low, torch.ones_like(high))
    weight = ((x - low) / width).clamp(0.0, 1.0)
    if fp.ndim == 1:
        f_low, f_high = fp[segment], fp[segment + 1]
    else:
        table = fp.T  # (K, F)
        f_low = torch.gather(table, 0, segment)
        f_high = torch.gather(table, 0, segment + 1)
    return f_low + weight * (f_high - f_low)


# erf(z) by its Maclaurin series, sum_n (-1)^n z^(2n+1) / (n! (2n+1)) * 2 / sqrt(pi), for
# |z| <= ERF_SERIES_LIMIT: 80 terms reach 1e-22, and the largest term (about e^(z^2), 9e6)
# costs about 1e-9 in absolute rounding error, 60 times less than float32's erf.
ERF_SERIES_LIMIT = 4.0
ERF_SERIES_TERMS = 80
# Largest exponent of LogOffset's inverse: 700 in float64 (exp(709) overflows); 80 in the
# differentiable mode, which runs in float32 (exp(80) = 5.5e34 < 3.4e38, so the renormalised
# shares stay finite instead of inf / inf = NaN)
FLOAT64_EXP_LIMIT = 700.0
FLOAT32_EXP_LIMIT = 80.0


def normal_cdf(y: Tensor) -> Tensor:
    """Phi(y) = (1 + erf(y / sqrt 2)) / 2 in float64, absolute error about 1e-9 (ONNX Runtime
    has no double Erf). |y| beyond 4 sqrt 2 is taken at 4 sqrt 2, where 1 - Phi = 8e-9: below
    the outer knot of any quantile grid fitted on fewer than 6e7 events, so still clipped."""
    z = (y / math.sqrt(2.0)).clamp(-ERF_SERIES_LIMIT, ERF_SERIES_LIMIT)
    minus_z_squared = -(z * z)
    term, total = z, z
    for n in range(1, ERF_SERIES_TERMS):
        term = term * minus_z_squared / n
        total = total + term / (2 * n + 1)
    return 0.5 * (1.0 + total * (2.0 / math.sqrt(math.pi)))


class Moments(nn.Module):
    """m(E), s(E) of :class:`ConditionalStandardise`: its tables interpolated in u = ln E."""

    def __init__(self, step: ConditionalStandardise) -> None:
        super().__init__()
        self.condition_index = step.condition_index
        self.register_buffer("knots", _double(step.knots))  # (K,)
        self.register_buffer("mean", _double(step.mean))  # (K, F)
        self.register_buffer("std", _double(step.std))  # (K, F)
        positions = torch.arange(len(step.knots), dtype=torch.float64)
        self.register_buffer("positions", positions, persistent=False)  # (K,) 0, 1, ..

    def forward(self, conditions: Tensor) -> tuple[Tensor, Tensor]:
        n_knots = self.knots.shape[0]
        u = torch.log(conditions[:, self.condition_index])  # (N,)
        position = interpolate(u, self.knots, self.positions)  # (N,)
        low = torch.floor(position).clamp(0, max(n_knots - 2, 0)).to(torch.int64)
        high = (low + 1).clamp(max=n_knots - 1)
        weight = (position - low.to(position.dtype)).unsqueeze(1)  # (N, 1)
        mean = (1 - weight) * self.mean[low] + weight * self.mean[high]
        std = (1 - weight) * self.std[low] + weight * self.std[high]
        return mean, std


class StandardiseBlock(nn.Module):
    """y = (x - mean) / std (forward) or x = y std + mean (inverse) of :class:`Standardise`."""

    def __init__(self, step: Standardise, direction: str) -> None:
        super().__init__()
        self.inverse = direction == "inverse"
        self.register_buffer("mean", _double(step.mean))  # (F,)
        self.register_buffer("std", _double(step.std))  # (F,)

    def forward(self, x: Tensor, conditions: Tensor) -> Tensor:
        return x * self.std + self.mean if self.inverse else (x - self.mean) / self.std


class QuantileInverse(nn.Module):
    """x = F^-1(Phi(y)) of :class:`QuantileNormal`, per column."""

    def __init__(self, step: QuantileNormal) -> None:
        super().__init__()
        self.register_buffer("probabilities", _double(step.probabilities))  # (K,)
        self.register_buffer("knots", _double(step.knots))  # (F, K)

    def forward(self, y: Tensor, conditions: Tensor) -> Tensor:
        return interpolate(normal_cdf(y), self.probabilities, self.knots)


class SnapInverse(nn.Module):
    """Each column to its nearest allowed value (:class:`SnapToValues`); first on ties."""

    def __init__(self, step: SnapToValues) -> None:
        super().__init__()
        longest = max(len(allowed) for allowed in step.values)
        # Short lists are padded with their own first value: a repeat never wins argmin.
        table = [list(allowed) + [allowed[0]] * (longest - len(allowed)) for allowed in step.values]
        self.register_buffer("table", _double(table))  # (F, V)

    def forward(self, y: Tensor, conditions: Tensor) -> Tensor:
        nearest = torch.abs(y.unsqueeze(-1) - self.table).argmin(dim=-1)  # (N, F)
        return torch.gather(self.table.T, 0, nearest)


class EnergySharesInverse(nn.Module):
    """Shares and response back to voxels (:class:`EnergyShares`): x_i = s_i / sum_j s_j r E_inc,
    with layer shares x_li = s_li / sum_j s_lj * f_l / sum_k f_k * r E_inc."""

    def __init__(self, step: EnergyShares, width: int) -> None:
        super().__init__()
        self.condition_index = step.condition_index
        self.layer_size = step.layer_size
        self.n_layers = step.layers_in_output(width)
        self.n_voxels = width - 1 - self.n_layers  # static, so ONNX knows the output width

    def forward(self, values: Tensor, conditions: Tensor) -> Tensor:
        values = values.clamp(min=0.0)
        n_voxels = self.n_voxels
        energy = values[:, -1] * conditions[:, self.condition_index]  # (N,)
        shares = _normalise(values[:, :n_voxels])  # (N, V)
        if self.n_layers:
            within = _normalise(shares.reshape(-1, self.n_layers, self.layer_size))
            fractions = _normalise(values[:, n_voxels:-1])  # (N, L)
            shares = (within * fractions.unsqueeze(2)).reshape(-1, n_voxels)
        return shares * energy.unsqueeze(1)


def _normalise(values: Tensor) -> Tensor:
    """values / their sum over the last axis; rows summing to 0 stay 0."""
    total = values.sum(dim=-1, keepdim=True)
    return values / torch.where(total > 0, total, torch.ones_like(total))


def _column_functions(step: Step, direction: str, differentiable: bool) -> BlockFunction | None:
    """The block function of a column step in ``direction`` ("forward"/"inverse"), or None;
    ``differentiable``: the inverse without cuts, for float32 (see the module's docstring)."""
    if isinstance(step, DivideByCondition):
        column = step.condition_index

        def scale(x: Tensor, c: Tensor) -> Tensor:
            energy = c[:, column].unsqueeze(1)
            return x / energy if direction == "forward" else x * energy

        return scale
    if isinstance(step, LogOffset):
        offset, empty_below, gap = step.offset, step.empty_below, step.gap
        if direction == "forward":

            def log_offset(x: Tensor, c: Tensor) -> Tensor:
                x = x.clamp(min=0.0)
                return torch.log(x + offset + torch.where(x > 0, gap, 0.0))

            return log_offset

        def log_offset_inverse(x: Tensor, c: Tensor) -> Tensor:
            x = (torch.exp(x.clamp(max=FLOAT64_EXP_LIMIT)) - offset - gap).clamp(min=0.0)
            return torch.where(x < empty_below, torch.zeros_like(x), x) if empty_below > 0 else x

        def log_offset_inverse_differentiable(x: Tensor, c: Tensor) -> Tensor:
            return (torch.exp(x.clamp(max=FLOAT32_EXP_LIMIT)) - (offset + gap)).clamp(min=0.0)

        return log_offset_inverse_differentiable if differentiable else log_offset_inverse
    if isinstance(step, ZeroBelow):
        threshold = step.threshold
        if direction == "forward" or differentiable:
            return lambda x, c: x
        return lambda x, c: torch.where(x < threshold, torch.zeros_like(x), x)
    if isinstance(step, Standardise):
        return StandardiseBlock(step, direction)
    if isinstance(step, SnapToValues) and direction == "forward":
        return lambda x, c: x
    return None


def _column_module(
    step: ColumnStep, width: int, direction: str, differentiable: bool
) -> nn.Module | None:
    function = _column_functions(step, direction, differentiable)
    if function is not None:
        return ColumnBlock(step, width, function)
    if isinstance(step, ConditionalStandardise):
        moments = Moments(step)

        def standardise(x: Tensor, c: Tensor) -> Tensor:
            mean, std = moments(c)
            return (x - mean) / std if direction == "forward" else x * std + mean

        block = ColumnBlock(step, width, standardise)
        block.moments = moments  # registered, so its tables move and export with the block
        return block
    if isinstance(step, QuantileNormal) and direction == "inverse":
        return ColumnBlock(step, width, QuantileInverse(step))
    if isinstance(step, SnapToValues):
        return ColumnBlock(step, width, SnapInverse(step))
    return None


def _module(step: Step, width: int, direction: str, differentiable: bool = False) -> nn.Module:
    module: nn.Module | None = None
    if isinstance(step, ColumnStep):
        module = _column_module(step, width, direction, differentiable)
    elif direction == "inverse" and isinstance(step, MassShellEnergy):
        module = MassShellInverse(step, width)
    elif direction == "inverse" and isinstance(step, PairFrame):
        module = PairFrameInverse(step, width)
    elif direction == "inverse" and isinstance(step, LabPair):
        module = LabPairInverse(step, width)
    elif direction == "inverse" and isinstance(step, EnergyShares):
        module = EnergySharesInverse(step, width)
    if module is None:
        raise NotExportable(f"transform step {step.kind!r} has no ONNX form for its {direction}")
    return module


def inverse_module(step: Step, width: int, *, differentiable: bool = False) -> nn.Module:
    """``step.inverse`` as a module of (values (N, ``width``), conditions) in float64;
    ``width`` is the step's forward output width. ``differentiable``: without the cuts, for
    float32 (see the module's docstring). Raises :class:`NotExportable`."""
    return _module(step, width, "inverse", differentiable)


def forward_module(step: Step, width: int) -> nn.Module:
    """``step.forward`` as a module of (values (N, ``width``), conditions) in float64;
    ``width`` is the step's input width. Raises :class:`NotExportable`."""
    return _module(step, width, "forward")
