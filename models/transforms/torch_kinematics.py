"""Torch inverses of the four-vector steps (:mod:`.kinematics`), in float64 operations that
ONNX expresses (no ``cosh``/``sinh`` in double, which ONNX Runtime's CPU kernels lack); the
column machinery and the rest of the steps are in :mod:`.torch_ops`."""

from __future__ import annotations

import torch
from torch import nn

from hepgan.models.transforms.kinematics import LabPair, MassShellEnergy, PairFrame
from hepgan.models.transforms.torch_columns import ReplaceColumns

Tensor = torch.Tensor
ROOT_FLOOR = 1e-300  # float64 floor under square roots (:func:`_root`)


def _cosh_sinh(x: Tensor) -> tuple[Tensor, Tensor]:
    """(cosh x, sinh x) from exp (ONNX Runtime has no double Cosh/Sinh)."""
    up, down = torch.exp(x), torch.exp(-x)
    return 0.5 * (up + down), 0.5 * (up - down)


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
