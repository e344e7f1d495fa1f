"""Torch equivalents of the transform steps, for graphs that leave Python (ONNX export).

Each numpy step of :mod:`hepgan.models.transforms` gets a module that computes the same
function in float64 torch operations that ONNX expresses (no ``searchsorted``, no in-place
column assignment, no ``cosh``/``sinh``/``erf`` in double, which ONNX Runtime's CPU kernels
lack): :func:`inverse_module` for the inverse (features at generation) and
:func:`forward_module` for the forward map (conditions). Both take values (N, F_in) and the
physical conditions (N, C), float64, and return (N, F_out) float64.

Every step kind the library fits is exportable in both directions where generation needs
it, except :class:`QuantileNormal`'s forward (its probit, ``ndtri``, is never needed at
generation); :class:`NotExportable` names a step that has no module. One approximation:
the normal CDF of :class:`QuantileNormal`'s inverse is a series in float64
(:func:`normal_cdf`), an absolute error of about 1e-9 in probability.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

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

Tensor = torch.Tensor
# A block function: (selected values (N, F_sel), conditions (N, C)) -> (N, F_sel), float64.
BlockFunction = Callable[[Tensor, Tensor], Tensor]


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
ROOT_FLOOR = 1e-300  # float64 floor under square roots (:func:`_root`)


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


def _cosh_sinh(x: Tensor) -> tuple[Tensor, Tensor]:
    """(cosh x, sinh x) from exp (ONNX Runtime has no double Cosh/Sinh)."""
    up, down = torch.exp(x), torch.exp(-x)
    return 0.5 * (up + down), 0.5 * (up - down)


def _replacement_index(width: int, columns: Sequence[int]) -> Tensor:
    """Index into [values (width), new columns] that puts new column k at ``columns[k]``."""
    index = np.arange(width)
    index[np.asarray(columns, dtype=np.int64)] = width + np.arange(len(columns))
    return torch.as_tensor(index, dtype=torch.int64)


class ReplaceColumns(nn.Module):
    """out = values with ``columns`` replaced by ``block``: one concatenation and one gather,
    so a graph over thousands of voxels stays a few nodes."""

    def __init__(self, width: int, columns: Sequence[int]) -> None:
        super().__init__()
        self.register_buffer("index", _replacement_index(width, columns), persistent=False)

    def forward(self, values: Tensor, block: Tensor) -> Tensor:
        return torch.index_select(torch.cat([values, block], dim=1), 1, self.index)


class ColumnBlock(nn.Module):
    """A :class:`ColumnStep` direction: ``function`` on the step's columns, the rest kept."""

    def __init__(self, step: ColumnStep, width: int, function: BlockFunction) -> None:
        super().__init__()
        self.function = function
        self.columns = None if step.columns is None else list(step.columns)
        if self.columns is not None:
            self.register_buffer(
                "selected", torch.as_tensor(self.columns, dtype=torch.int64), persistent=False
            )
            self.replace = ReplaceColumns(width, self.columns)

    def forward(self, values: Tensor, conditions: Tensor) -> Tensor:
        if self.columns is None:
            return self.function(values, conditions)
        block = self.function(torch.index_select(values, 1, self.selected), conditions)
        return self.replace(values, block)


class Moments(nn.Module):
    """m(E), s(E) of :class:`ConditionalStandardise`: its tables interpolated in u = ln E."""

    def __init__(self, step: ConditionalStandardise) -> None:
        super().__init__()
        self.condition_index = step.condition_index
        self.register_buffer("knots", _double(step.knots))  # (K,)
        self.register_buffer("mean", _double(step.mean))  # (K, F)
        self.register_buffer("std", _double(step.std))  # (K, F)

    def forward(self, conditions: Tensor) -> tuple[Tensor, Tensor]:
        n_knots = self.knots.shape[0]
        u = torch.log(conditions[:, self.condition_index])  # (N,)
        positions = torch.arange(n_knots, dtype=torch.float64)
        position = interpolate(u, self.knots, positions)  # (N,)
        low = torch.floor(position).clamp(0, max(n_knots - 2, 0)).to(torch.int64)
        high = (low + 1).clamp(max=n_knots - 1)
        weight = (position - low.double()).unsqueeze(1)  # (N, 1)
        mean = (1 - weight) * self.mean[low] + weight * self.mean[high]
        std = (1 - weight) * self.std[low] + weight * self.std[high]
        return mean, std


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


class MassShellInverse(nn.Module):
    """E = sqrt(|p|^2 + max(m^2, 0)) for every [E, px, py, pz] group (:class:`MassShellEnergy`)."""

    def __init__(self, step: MassShellEnergy, width: int) -> None:
        super().__init__()
        self.groups = [list(group) for group in step.groups]
        self.replace = ReplaceColumns(width, [group[0] for group in self.groups])

    def forward(self, values: Tensor, conditions: Tensor) -> Tensor:
        energies = []
        for e, px, py, pz in self.groups:
            momentum_squared = values[:, px] ** 2 + values[:, py] ** 2 + values[:, pz] ** 2
            energies.append(torch.sqrt(momentum_squared + values[:, e].clamp(min=0.0)))
        return self.replace(values, torch.stack(energies, dim=1))


def _root(x: Tensor) -> Tensor:
    """sqrt(max(x, 1e-300)): as sqrt(max(x, 0)) to 1e-150, but with a finite gradient (0 below
    the floor) where the critic differentiates through the inverse; sqrt at 0 has an
    infinite one, and 0 x inf is NaN."""
    return torch.sqrt(x.clamp(min=ROOT_FLOOR))


def boost(energy: Tensor, momentum: Tensor, beta: Tensor) -> tuple[Tensor, Tensor]:
    """Lorentz boost of (E (N,), p (N, 3)) by velocity beta (N, 3), c = 1 (as the numpy step):
    E' = gamma (E + beta.p), p' = p + (gamma^2 / (gamma + 1) beta.p + gamma E) beta."""
    beta_squared = (beta**2).sum(dim=1).clamp(max=1 - 1e-15)
    gamma = 1 / torch.sqrt(1 - beta_squared)
    beta_dot_p = (beta * momentum).sum(dim=1)
    scale = gamma**2 / (gamma + 1) * beta_dot_p + gamma * energy
    return gamma * (energy + beta_dot_p), momentum + scale.unsqueeze(1) * beta


class PairFrameInverse(nn.Module):
    """The pair and its decay back to two four-vectors on their mass shells (:class:`PairFrame`)."""

    def __init__(self, step: PairFrame, width: int) -> None:
        super().__init__()
        self.columns = list(step.columns)
        self.register_buffer(
            "selected", torch.as_tensor(self.columns, dtype=torch.int64), persistent=False
        )
        self.replace = ReplaceColumns(width, self.columns)

    def forward(self, values: Tensor, conditions: Tensor) -> Tensor:
        pair = torch.index_select(values, 1, self.selected)  # (N, 8)
        m1_sq, mass, pt, rapidity, m2_sq, phi, cos_theta, phi_star = pair.unbind(dim=1)
        m1, m2 = _root(m1_sq), _root(m2_sq)
        mass = torch.maximum(mass, m1 + m2)
        pt = pt.clamp(min=0.0)
        p_star = _root((mass**2 - (m1 + m2) ** 2) * (mass**2 - (m1 - m2) ** 2)) / (
            2 * mass.clamp(min=ROOT_FLOOR)
        )
        cos_theta = cos_theta.clamp(-1.0, 1.0)
        sin_theta = _root(1 - cos_theta**2)
        direction = torch.stack(
            [sin_theta * torch.cos(phi_star), sin_theta * torch.sin(phi_star), cos_theta], dim=1
        )  # (N, 3)
        transverse_mass = torch.sqrt(mass**2 + pt**2)
        cosh_y, sinh_y = _cosh_sinh(rapidity)
        energy = transverse_mass * cosh_y
        momentum = torch.stack(
            [pt * torch.cos(phi), pt * torch.sin(phi), transverse_mass * sinh_y], dim=1
        )
        beta = momentum / energy.unsqueeze(1)
        parts = []
        for sign, particle_mass in ((1.0, m1), (-1.0, m2)):
            rest_momentum = sign * p_star.unsqueeze(1) * direction
            e, p = boost(torch.sqrt(p_star**2 + particle_mass**2), rest_momentum, beta)
            parts += [e.unsqueeze(1), p]
        return self.replace(values, torch.cat(parts, dim=1))  # [E1, p1, E2, p2] in place


class LabPairInverse(nn.Module):
    """The pair mass and the lab-frame directions back to two four-vectors (:class:`LabPair`)."""

    def __init__(self, step: LabPair, width: int) -> None:
        super().__init__()
        self.register_buffer(
            "selected", torch.as_tensor(list(step.columns), dtype=torch.int64), persistent=False
        )
        self.replace = ReplaceColumns(width, list(step.columns))

    def forward(self, values: Tensor, conditions: Tensor) -> Tensor:
        pair = torch.index_select(values, 1, self.selected)  # (N, 8)
        m1_sq, mass, pt1, eta1, m2_sq, phi1, eta2, dphi = pair.unbind(dim=1)
        m1_sq, m2_sq, pt1 = m1_sq.clamp(min=0.0), m2_sq.clamp(min=0.0), pt1.clamp(min=0.0)
        cosh1, sinh1 = _cosh_sinh(eta1)
        h, sinh2 = _cosh_sinh(eta2)
        e1 = _root((pt1 * cosh1) ** 2 + m1_sq)
        c = pt1 * (torch.cos(dphi) + sinh1 * sinh2)
        k = (mass**2 - m1_sq - m2_sq).clamp(min=0.0) / 2
        a = (e1**2 * h**2 - c**2).clamp(min=ROOT_FLOOR)
        pt2 = (k * c + e1 * _root(k**2 * h**2 - a * m2_sq)).clamp(min=0.0) / a
        phi2 = phi1 + dphi
        parts = [
            e1,
            pt1 * torch.cos(phi1),
            pt1 * torch.sin(phi1),
            pt1 * sinh1,
            _root((pt2 * h) ** 2 + m2_sq),
            pt2 * torch.cos(phi2),
            pt2 * torch.sin(phi2),
            pt2 * sinh2,
        ]
        return self.replace(values, torch.stack(parts, dim=1))


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


def _column_functions(step: Step, direction: str) -> BlockFunction | None:
    """The block function of a column step in ``direction`` ("forward"/"inverse"), or None."""
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
            x = (torch.exp(x.clamp(max=700.0)) - offset - gap).clamp(min=0.0)
            return torch.where(x < empty_below, torch.zeros_like(x), x) if empty_below > 0 else x

        return log_offset_inverse
    if isinstance(step, ZeroBelow):
        threshold = step.threshold
        if direction == "forward":
            return lambda x, c: x
        return lambda x, c: torch.where(x < threshold, torch.zeros_like(x), x)
    if isinstance(step, Standardise):
        mean, std = _double(step.mean), _double(step.std)
        if direction == "forward":
            return lambda x, c: (x - mean) / std
        return lambda x, c: x * std + mean
    if isinstance(step, SnapToValues) and direction == "forward":
        return lambda x, c: x
    return None


def _column_module(step: ColumnStep, width: int, direction: str) -> nn.Module | None:
    function = _column_functions(step, direction)
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


def _module(step: Step, width: int, direction: str) -> nn.Module:
    module: nn.Module | None = None
    if isinstance(step, ColumnStep):
        module = _column_module(step, width, direction)
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


def inverse_module(step: Step, width: int) -> nn.Module:
    """``step.inverse`` as a module of (values (N, ``width``), conditions) in float64;
    ``width`` is the step's forward output width. Raises :class:`NotExportable`."""
    return _module(step, width, "inverse")


def forward_module(step: Step, width: int) -> nn.Module:
    """``step.forward`` as a module of (values (N, ``width``), conditions) in float64;
    ``width`` is the step's input width. Raises :class:`NotExportable`."""
    return _module(step, width, "forward")
