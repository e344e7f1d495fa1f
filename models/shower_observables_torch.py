"""Shower observables computed differentiably in the torch graph, from the critic's input.

The critic works in the transformed space of :func:`~hepgan.models.transforms.fit_shower_transform`
(readout threshold, energy shares + response, y = ln(share + eps), conditional
standardisation). :class:`TransformedShowerEnergies` undoes that chain in torch,

    x = y s(E) + m(E);  share_i = max(exp(x_i) - eps, 0);  r = max(x_V, 0)
    E_i = share_i / sum_j share_j * r * E_inc                       (MeV)

with m(E), s(E) interpolated linearly in ln E between the fitted knots, as the numpy
step does. :func:`shower_observables_torch` then gives the observables of
:func:`hepgan.validation.observables.shower_observables` (same names, same formulas),
and :class:`ShowerObservableFeatures` turns them into standardised critic inputs:
ln of the layer energies over E_inc, centres and widths per layer, the longitudinal
centre of gravity, the response and a smooth non-zero count
sum_i sigmoid((ln E_i - ln E_thr) / tau), which has a gradient where the hard count
does not. (CaloGAN's discriminator sees layer energies and sparsity the same way.)
"""

from __future__ import annotations

import torch
from torch import nn

from hepgan.models.geometry import CylindricalGeometry
from hepgan.models.physics_critic import StandardisedFeatures
from hepgan.models.transforms import FeatureTransform
from hepgan.models.transforms.columns import ConditionalStandardise, LogOffset, Standardise
from hepgan.models.transforms.showers import EnergyShares

SMOOTH_COUNT_TEMPERATURE = 0.5  # tau of the smooth non-zero count, in ln E
LAYER_ENERGY_FLOOR = 1e-6  # added to E_layer / E_inc before the log


def interpolate_moments(
    u: torch.Tensor, knots: torch.Tensor, mean: torch.Tensor, std: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """m(u), s(u) (N, F): linear interpolation in u (N,) between ``knots`` (K,) of the rows of
    ``mean``/``std`` (K, F), constant beyond the outer knots (as np.interp)."""
    if len(knots) == 1:
        return mean.expand(len(u), -1), std.expand(len(u), -1)
    high = torch.searchsorted(knots, u.contiguous()).clamp(1, len(knots) - 1)  # (N,)
    low = high - 1
    weight = ((u - knots[low]) / (knots[high] - knots[low])).clamp(0.0, 1.0)[:, None]
    return (
        (1 - weight) * mean[low] + weight * mean[high],
        (1 - weight) * std[low] + weight * std[high],
    )


class TransformedShowerEnergies(nn.Module):
    """(transformed features (B, V + 1), transformed conditions (B, C)) -> (voxel energies (B, V)
    MeV, incident energies (B,) MeV), differentiable; the inverse of the default shower
    transform without its two (non-differentiable) cuts: the readout threshold and the
    shares read as empty below ``LogOffset.empty_below``."""

    def __init__(
        self,
        feature_transform: FeatureTransform,
        condition_transform: FeatureTransform,
        energy_condition_index: int = 0,
    ) -> None:
        super().__init__()
        kinds = [type(step) for step in feature_transform.steps]
        if EnergyShares not in kinds or kinds[-1] is not ConditionalStandardise:
            raise ValueError(
                "in-graph shower observables need the energy-shares shower transform "
                f"(shower_energy_shares = true); got steps {[k.__name__ for k in kinds]}"
            )
        if any(getattr(step, "layer_size", 0) for step in feature_transform.steps):
            raise ValueError(
                "in-graph shower observables need shares of the whole shower; "
                "shower_layer_shares = true is not supported with critic_observables"
            )
        log_step = next(s for s in feature_transform.steps if isinstance(s, LogOffset))
        standardise = feature_transform.steps[-1]
        condition_scale = next(s for s in condition_transform.steps if isinstance(s, Standardise))
        self.index = energy_condition_index
        self.eps = float(log_step.offset + log_step.gap)  # what exp(y) - eps undoes
        self.register_buffer("knots", torch.tensor(standardise.knots, dtype=torch.float32))
        self.register_buffer("mean", torch.tensor(standardise.mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(standardise.std, dtype=torch.float32))
        self.register_buffer(
            "condition_mean", torch.tensor(condition_scale.mean, dtype=torch.float32)
        )
        self.register_buffer(
            "condition_std", torch.tensor(condition_scale.std, dtype=torch.float32)
        )

    def forward(
        self, features: torch.Tensor, conditions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        k = self.index
        log_energy = conditions[:, k] * self.condition_std[k] + self.condition_mean[k]  # ln MeV
        mean, std = interpolate_moments(log_energy, self.knots, self.mean, self.std)
        x = features * std + mean  # (B, V + 1)
        shares = torch.clamp(torch.exp(torch.clamp(x[:, :-1], max=80.0)) - self.eps, min=0.0)
        response = torch.clamp(x[:, -1], min=0.0)
        incident = torch.exp(log_energy)
        total = shares.sum(dim=1, keepdim=True).clamp(min=torch.finfo(shares.dtype).tiny)
        return shares / total * (response * incident)[:, None], incident


def shower_observables_torch(
    voxels: torch.Tensor, incident_energy: torch.Tensor, geometry: CylindricalGeometry
) -> dict[str, torch.Tensor]:
    """The observables of :func:`hepgan.validation.observables.shower_observables`, in torch,
    from voxels (N, V) MeV and incident energies (N,) MeV; each (N,). Centres and widths of an
    empty layer are 0; ``n_nonzero`` is the hard count (no gradient)."""
    n, layers = len(voxels), geometry.n_layers
    cells = voxels.reshape(n, layers, -1)  # (N, L, A R)
    x, y = (
        torch.as_tensor(c.reshape(-1), dtype=voxels.dtype, device=voxels.device)
        for c in geometry.voxel_xy_mm()
    )
    energy = cells.sum(dim=2)  # (N, L)
    occupied = energy > 0
    safe = torch.where(occupied, energy, torch.ones_like(energy))
    centre_x, centre_y = (cells @ x) / safe, (cells @ y) / safe
    width_x = torch.sqrt(torch.clamp((cells @ (x * x)) / safe - centre_x**2, min=0.0) + 1e-12)
    width_y = torch.sqrt(torch.clamp((cells @ (y * y)) / safe - centre_y**2, min=0.0) + 1e-12)
    zero = torch.zeros_like(energy)
    centre_x, centre_y = (
        torch.where(occupied, centre_x, zero),
        torch.where(occupied, centre_y, zero),
    )
    width_x, width_y = torch.where(occupied, width_x, zero), torch.where(occupied, width_y, zero)
    total = energy.sum(dim=1)
    depth = torch.as_tensor(
        geometry.layer_depth_centres_x0(), dtype=voxels.dtype, device=voxels.device
    )
    safe_total = torch.where(total > 0, total, torch.ones_like(total))
    observables = {"e_total_over_incident": total / incident_energy}
    for name, values in (
        ("e_layer", energy),
        ("centre_x_layer", centre_x),
        ("centre_y_layer", centre_y),
        ("width_x_layer", width_x),
        ("width_y_layer", width_y),
    ):
        observables.update({f"{name}_{layer:02d}": values[:, layer] for layer in range(layers)})
    observables["longitudinal_cog_x0"] = torch.where(
        total > 0, (energy @ depth) / safe_total, torch.zeros_like(total)
    )
    observables["n_nonzero"] = (voxels > 0).sum(dim=1).to(voxels.dtype)
    return observables


def smooth_nonzero_count(
    voxels: torch.Tensor, threshold_mev: float, temperature: float = SMOOTH_COUNT_TEMPERATURE
) -> torch.Tensor:
    """sum_i sigmoid((ln E_i - ln E_thr) / tau), (N,): the voxels above the readout threshold,
    counted smoothly (the hard count as tau -> 0)."""
    threshold = max(threshold_mev, 1e-12)
    log_energy = torch.log(torch.clamp(voxels, min=threshold * 1e-6))
    return torch.sigmoid((log_energy - torch.log(torch.tensor(threshold))) / temperature).sum(1)


class ShowerObservableFeatures(StandardisedFeatures):
    """Critic inputs from the transformed features: (B, 5 L + 3) standardised columns of
    ln(E_layer / E_inc + 1e-6), centres and widths per layer (mm / 10), the longitudinal
    centre of gravity (X0), the response E_tot / E_inc and the smooth non-zero count / V.
    The standardisation (mean, width) is fitted once on real transformed training events."""

    def __init__(
        self,
        energies: TransformedShowerEnergies,
        geometry: CylindricalGeometry,
        threshold_mev: float,
        real_features: torch.Tensor,
        real_conditions: torch.Tensor,
    ) -> None:
        super().__init__()
        self.energies, self.geometry, self.threshold = energies, geometry, threshold_mev
        self.fit_standardisation(real_features, real_conditions)

    @property
    def width(self) -> int:
        return 5 * self.geometry.n_layers + 3

    def raw(self, features: torch.Tensor, conditions: torch.Tensor) -> torch.Tensor:
        voxels, incident = self.energies(features, conditions)
        observables = shower_observables_torch(voxels, incident, self.geometry)
        layers = range(self.geometry.n_layers)
        columns = [
            torch.log(observables[f"e_layer_{layer:02d}"] / incident + LAYER_ENERGY_FLOOR)
            for layer in layers
        ]
        for prefix in ("centre_x_layer", "centre_y_layer", "width_x_layer", "width_y_layer"):
            columns += [observables[f"{prefix}_{layer:02d}"] / 10.0 for layer in layers]
        columns += [
            observables["longitudinal_cog_x0"],
            observables["e_total_over_incident"],
            smooth_nonzero_count(voxels, self.threshold) / voxels.shape[1],
        ]
        return torch.stack(columns, dim=1)  # (B, 5 L + 3)
