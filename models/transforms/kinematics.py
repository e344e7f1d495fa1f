"""Four-vector steps (GeV): energies on the mass shell, and two particles as a pair and its
decay. Each maps whole rows, since a momentum's components only mean something together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from hepgan.models.transforms.steps import RowStep


@dataclass
class MassShellEnergy(RowStep):
    """Four-vectors (E, px, py, pz) in GeV: E is replaced by the squared mass m^2 = E^2 - |p|^2.

    The inverse puts E back on the mass shell, E = sqrt(|p|^2 + max(m^2, 0)), so generated
    particles have E >= |p| and pair masses built from generated four-vectors inherit the
    momentum correlations only, not independent errors in E. ``groups`` lists the column
    indices [E, px, py, pz] of each particle.
    """

    groups: list[list[int]] = field(default_factory=list)
    kind: ClassVar[str] = "mass_shell_energy"

    def forward(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out = np.array(values, dtype=np.float64, copy=True)
        for e, px, py, pz in self.groups:
            out[:, e] = out[:, e] ** 2 - (out[:, px] ** 2 + out[:, py] ** 2 + out[:, pz] ** 2)
        return out

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out = np.array(values, dtype=np.float64, copy=True)
        for e, px, py, pz in self.groups:
            momentum_squared = out[:, px] ** 2 + out[:, py] ** 2 + out[:, pz] ** 2
            out[:, e] = np.sqrt(momentum_squared + np.maximum(out[:, e], 0.0))
        return out


def _boost(energy: np.ndarray, momentum: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, ...]:
    """Lorentz boost of four-vectors (E (N,), p (N, 3)) by velocity beta (N, 3), c = 1:
    E' = gamma (E + beta.p), p' = p + (gamma^2 / (gamma + 1) beta.p + gamma E) beta."""
    beta_squared = np.minimum((beta**2).sum(axis=1), 1 - 1e-15)
    gamma = 1 / np.sqrt(1 - beta_squared)
    beta_dot_p = (beta * momentum).sum(axis=1)
    scale = gamma**2 / (gamma + 1) * beta_dot_p + gamma * energy
    return gamma * (energy + beta_dot_p), momentum + scale[:, None] * beta


def _two_particles(values: np.ndarray, columns: list[int]) -> tuple[np.ndarray, ...]:
    """(a float64 copy of values (N, F), E1 (N,), p1 (N, 3), E2, p2, the pair's E (N,) and
    p (N, 3), its mass M = sqrt(max(E^2 - |p|^2, 0)) (N,)) for ``columns`` [E1, px1, .., pz2]."""
    out = np.array(values, dtype=np.float64, copy=True)
    index = np.asarray(columns)
    e1, p1 = out[:, index[0]], out[:, index[1:4]]
    e2, p2 = out[:, index[4]], out[:, index[5:8]]
    energy, momentum = e1 + e2, p1 + p2
    mass = np.sqrt(np.maximum(energy**2 - (momentum**2).sum(axis=1), 0.0))
    return out, e1, p1, e2, p2, energy, momentum, mass


@dataclass
class PairFrame(RowStep):
    """Two particles' four-vectors (GeV) -> the pair and its decay (two-body kinematics).

    Columns [E1, px1, py1, pz1, E2, px2, py2, pz2] (indices in ``columns``) become
    [m1^2, M, pT, y, m2^2, phi, cos theta*, phi*]: the particles' squared masses, the pair
    mass M = sqrt((p1 + p2)^2), transverse momentum, rapidity y = 1/2 ln((E + pz)/(E - pz))
    and azimuth, and the direction of particle 1 in the pair rest frame (reached by a pure
    boost). The pair mass is then a generated column, and the inverse rebuilds both
    four-vectors exactly on their mass shells: p* = sqrt((M^2 - (m1 + m2)^2)(M^2 -
    (m1 - m2)^2)) / 2M back to back, boosted by the pair velocity.
    """

    columns: list[int] = field(default_factory=list)  # [E1, px1, py1, pz1, E2, px2, py2, pz2]
    kind: ClassVar[str] = "pair_frame"

    def forward(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out, e1, p1, e2, p2, energy, momentum, mass = _two_particles(values, self.columns)
        pt = np.hypot(momentum[:, 0], momentum[:, 1])
        rapidity = 0.5 * np.log((energy + momentum[:, 2]) / (energy - momentum[:, 2]))
        _, rest = _boost(e1, p1, -momentum / energy[:, None])  # particle 1 in the pair frame
        cos_theta = rest[:, 2] / np.maximum(np.linalg.norm(rest, axis=1), 1e-300)
        out[:, self.columns] = np.column_stack(
            [
                e1**2 - (p1**2).sum(axis=1),
                mass,
                pt,
                rapidity,
                e2**2 - (p2**2).sum(axis=1),
                np.arctan2(momentum[:, 1], momentum[:, 0]),
                cos_theta,
                np.arctan2(rest[:, 1], rest[:, 0]),
            ]
        )
        return out

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out = np.array(values, dtype=np.float64, copy=True)
        columns = np.asarray(self.columns)
        m1_sq, mass, pt, rapidity, m2_sq, phi, cos_theta, phi_star = out[:, columns].T
        m1, m2 = np.sqrt(np.maximum(m1_sq, 0.0)), np.sqrt(np.maximum(m2_sq, 0.0))
        mass = np.maximum(mass, m1 + m2)
        pt = np.maximum(pt, 0.0)
        p_star = np.sqrt(
            np.maximum((mass**2 - (m1 + m2) ** 2) * (mass**2 - (m1 - m2) ** 2), 0.0)
        ) / (2 * np.maximum(mass, 1e-300))
        cos_theta = np.clip(cos_theta, -1.0, 1.0)
        sin_theta = np.sqrt(1 - cos_theta**2)
        direction = np.column_stack(
            [sin_theta * np.cos(phi_star), sin_theta * np.sin(phi_star), cos_theta]
        )  # (N, 3)
        transverse_mass = np.sqrt(mass**2 + pt**2)
        energy = transverse_mass * np.cosh(rapidity)
        momentum = np.column_stack(
            [pt * np.cos(phi), pt * np.sin(phi), transverse_mass * np.sinh(rapidity)]
        )
        beta = momentum / energy[:, None]
        for offset, sign, particle_mass in ((0, 1.0, m1), (4, -1.0, m2)):
            rest_momentum = sign * p_star[:, None] * direction
            e, p = _boost(np.sqrt(p_star**2 + particle_mass**2), rest_momentum, beta)
            out[:, columns[offset]] = e
            out[:, columns[offset + 1 : offset + 4]] = p
        return out


@dataclass
class LabPair(RowStep):
    """Two particles' four-vectors (GeV) -> their pair mass and each one's lab-frame direction.

    Columns [E1, px1, py1, pz1, E2, px2, py2, pz2] (indices in ``columns``) become
    [m1^2, M, pT1, eta1, m2^2, phi1, eta2, dphi]: the squared masses, the pair mass M, the
    first particle's pT, pseudorapidity eta = asinh(pz / pT) and azimuth, the second's
    pseudorapidity and its azimuth relative to the first, dphi = (phi2 - phi1) mod 2 pi
    (back to back at pi, in the middle of the range). Unlike :class:`PairFrame`, each
    particle's eta is a column, so a detector's acceptance edge (|eta| < 2.4) is an edge of
    one column's range, which the quantile transform's inverse never crosses, while M stays
    a column. The inverse solves the mass for pT2: with E1 = sqrt(pT1^2 cosh^2 eta1 + m1^2),
    h = cosh eta2, c = pT1 (cos dphi + sinh eta1 sinh eta2), K = (M^2 - m1^2 - m2^2) / 2 and
    A = E1^2 h^2 - c^2, M^2 = (p1 + p2)^2 reads E1 sqrt(pT2^2 h^2 + m2^2) - c pT2 = K, whose
    root is pT2 = (K c + E1 sqrt(K^2 h^2 - A m2^2)) / A (pT2 = K / (E1 h - c) when massless).
    """

    columns: list[int] = field(default_factory=list)  # [E1, px1, py1, pz1, E2, px2, py2, pz2]
    kind: ClassVar[str] = "lab_pair"

    def forward(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out, e1, p1, e2, p2, _, _, mass = _two_particles(values, self.columns)
        pt1, pt2 = np.hypot(p1[:, 0], p1[:, 1]), np.hypot(p2[:, 0], p2[:, 1])
        phi1, phi2 = np.arctan2(p1[:, 1], p1[:, 0]), np.arctan2(p2[:, 1], p2[:, 0])
        out[:, self.columns] = np.column_stack(
            [
                e1**2 - (p1**2).sum(axis=1),
                mass,
                pt1,
                np.arcsinh(p1[:, 2] / pt1),
                e2**2 - (p2**2).sum(axis=1),
                phi1,
                np.arcsinh(p2[:, 2] / pt2),
                np.mod(phi2 - phi1, 2 * np.pi),
            ]
        )
        return out

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        out = np.array(values, dtype=np.float64, copy=True)
        columns = np.asarray(self.columns)
        m1_sq, mass, pt1, eta1, m2_sq, phi1, eta2, dphi = out[:, columns].T
        m1_sq, m2_sq, pt1 = np.maximum(m1_sq, 0.0), np.maximum(m2_sq, 0.0), np.maximum(pt1, 0.0)
        e1 = np.sqrt((pt1 * np.cosh(eta1)) ** 2 + m1_sq)
        h = np.cosh(eta2)
        c = pt1 * (np.cos(dphi) + np.sinh(eta1) * np.sinh(eta2))
        k = np.maximum(mass**2 - m1_sq - m2_sq, 0.0) / 2
        a = np.maximum(e1**2 * h**2 - c**2, 1e-300)
        pt2 = np.maximum(k * c + e1 * np.sqrt(np.maximum(k**2 * h**2 - a * m2_sq, 0.0)), 0.0) / a
        phi2 = phi1 + dphi
        first = [e1, pt1 * np.cos(phi1), pt1 * np.sin(phi1), pt1 * np.sinh(eta1)]
        second = [np.sqrt((pt2 * h) ** 2 + m2_sq), pt2 * np.cos(phi2), pt2 * np.sin(phi2)]
        out[:, columns] = np.column_stack([*first, *second, pt2 * np.sinh(eta2)])
        return out


def four_vector_groups(feature_names: Sequence[str]) -> list[list[int]]:
    """Column indices [E, px, py, pz] of every particle whose four names share a suffix
    (``E1, px1, py1, pz1``; ``Muon_E, Muon_px, ...`` style names are not matched)."""
    index = {name: j for j, name in enumerate(feature_names)}
    groups = []
    for name in feature_names:
        if name.startswith("E"):
            suffix = name[1:]
            members = [f"E{suffix}", f"px{suffix}", f"py{suffix}", f"pz{suffix}"]
            if all(member in index for member in members):
                groups.append([index[member] for member in members])
    return groups
