"""Each particle's kinematics computed differentiably from the critic's input (events).

An event model learns transformed columns (the pair frame of two muons, quantile-
Gaussianised), in which a detector's acceptance edge (|eta| < 2.4 for each muon) is no
simple boundary: the dimuon generator put a tenth of its events beyond it (docs/quality.md).
:class:`ParticleKinematicsFeatures` undoes the feature transform in the graph, as the
exported sampler does (:class:`~hepgan.models.transforms.torch_chain.TransformChain`, float64), and
gives the critic, for each four-vector (E, px, py, pz) in GeV,

    ln(pT + 1 GeV),  eta = asinh(pz / pT),  ln(E + 1 GeV)

standardised on real training events, so the edges and tails of the per-particle
distributions are as visible to the critic as the pair variables it already sees.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from hepgan.models.critic.physics_critic import StandardisedFeatures
from hepgan.models.transforms import FeatureTransform
from hepgan.models.transforms.torch_chain import TransformChain

MIN_TRANSVERSE_MOMENTUM = 1e-3  # GeV: the floor of pT inside eta = asinh(pz / pT)
MAX_ABS_ETA = 10.0  # eta is clipped to +-10 (a muon at |eta| 10 is far outside any detector)


def particle_kinematics(physical: torch.Tensor, groups: Sequence[Sequence[int]]) -> torch.Tensor:
    """(B, F) physical events -> (B, 3 K) [ln(pT + 1), eta, ln(E + 1)] per particle k, whose
    columns [E, px, py, pz] (GeV) are ``groups[k]``."""
    columns = []
    for energy, px, py, pz in groups:
        pt = torch.sqrt(physical[:, px] ** 2 + physical[:, py] ** 2 + 1e-12)
        eta = torch.asinh(physical[:, pz] / pt.clamp(min=MIN_TRANSVERSE_MOMENTUM))
        columns += [
            torch.log1p(pt),
            eta.clamp(-MAX_ABS_ETA, MAX_ABS_ETA),
            torch.log1p(physical[:, energy].clamp(min=0.0)),
        ]
    return torch.stack(columns, dim=1)


class ParticleKinematicsFeatures(StandardisedFeatures):
    """Critic inputs (B, 3 K) from transformed features (B, F') and conditions (B, C): the
    per-particle kinematics of :func:`particle_kinematics`, standardised by their mean and
    width over real transformed training events."""

    def __init__(
        self,
        transforms: tuple[FeatureTransform, FeatureTransform],
        widths: tuple[int, int],
        groups: Sequence[Sequence[int]],
        real_features: torch.Tensor,
        real_conditions: torch.Tensor,
    ) -> None:
        """``widths``: the physical (features, conditions) widths."""
        super().__init__()
        feature_transform, condition_transform = transforms
        self.features_out = TransformChain(feature_transform, widths[0], inverse=True)
        self.conditions_out = TransformChain(condition_transform, widths[1], inverse=True)
        self.groups = [list(group) for group in groups]
        self.to(real_features.device)
        self.fit_standardisation(real_features, real_conditions)

    @property
    def width(self) -> int:
        return 3 * len(self.groups)

    def raw(self, features: torch.Tensor, conditions: torch.Tensor | None) -> torch.Tensor:
        """Unstandardised kinematics (B, 3 K) float32 of transformed inputs."""
        if conditions is None or conditions.shape[1] == 0:
            physical_conditions = features.new_zeros((len(features), 0), dtype=torch.float64)
        else:
            transformed_conditions = conditions.double()
            physical_conditions = self.conditions_out(
                transformed_conditions, transformed_conditions
            )
        physical = self.features_out(features.double(), physical_conditions)  # (B, F) GeV
        return particle_kinematics(physical, self.groups).float()
