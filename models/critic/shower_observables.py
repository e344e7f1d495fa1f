"""Shower observables computed differentiably in the torch graph, from the critic's input.

The critic works in the transformed space of :func:`~hepgan.models.transforms.fit_shower_transform`
(readout threshold, energy shares + response, y = ln(share + eps + gap), conditional
standardisation). :class:`TransformedShowerEnergies` undoes that chain in the graph with
the shower transform's own torch inverse
(:class:`~hepgan.models.transforms.torch_chain.TransformChain`) in its differentiable mode,
in float32: without the readout threshold and the empty-share cut (no gradient), exp
clamped where float32 overflows. With the default transform that is

    x = y s(E) + m(E);  share_i = max(exp(x_i) - eps - gap, 0);  r = max(x_last, 0)
    E_i = share_i / sum_j share_j * r * E_inc                       (MeV)

or, with shares within layers and fractions of the layers,
E_li = share_li / sum_j share_lj * f_l / sum_k f_k * r * E_inc,
with m(E), s(E) interpolated linearly in ln E between the fitted knots.
:func:`shower_observables_torch` then gives the observables of
:func:`hepgan.validation.report.observables.shower_observables` (same names, same formulas),
and :class:`ShowerObservableFeatures` turns them into standardised critic inputs:
ln of the layer energies over E_inc, centres and widths per layer (softened, so that their
gradients stay bounded), a smooth non-zero count per layer
sum_i sigmoid((ln E_i - ln E_thr) / tau), which has a gradient where the hard count
does not, the longitudinal centre of gravity and the response. (CaloGAN's discriminator
sees layer energies and sparsity the same way.)
"""

from __future__ import annotations

import torch
from torch import nn

from hepgan.models.critic.physics_critic import StandardisedFeatures
from hepgan.models.geometry import CylindricalGeometry
from hepgan.models.transforms import FeatureTransform
from hepgan.models.transforms.torch_chain import TransformChain

SMOOTH_COUNT_TEMPERATURE = 0.5  # tau of the smooth non-zero count, in ln E
# f0 of the critic's layer observables: ln(E_layer / E_inc + f0), and centres and widths with
# E_layer + f0 E_inc as their weight, so that no input gradient grows without bound
CRITIC_LAYER_SOFTENING = 1e-4
CRITIC_WIDTH_SOFTENING_MM2 = 1.0  # added to each width's variance (mm^2) before the root


class TransformedShowerEnergies(nn.Module):
    """(transformed features (B, F'), transformed conditions (B, C)) -> (voxel energies (B, V)
    MeV, incident energies (B,) MeV), differentiable, float32: the inverses of the shower's
    feature and condition transforms (``transforms``), fitted on ``widths`` = (V, C) physical
    columns, without their cuts (:class:`TransformChain`'s differentiable mode)."""

    def __init__(
        self,
        transforms: tuple[FeatureTransform, FeatureTransform],
        widths: tuple[int, int],
        energy_condition_index: int = 0,
    ) -> None:
        super().__init__()
        feature_transform, condition_transform = transforms
        self.features_out = TransformChain(
            feature_transform, widths[0], inverse=True, differentiable=True
        )
        self.conditions_out = TransformChain(
            condition_transform, widths[1], inverse=True, differentiable=True
        )
        self.index = energy_condition_index
        self.float()

    def forward(
        self, features: torch.Tensor, conditions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        physical_conditions = self.conditions_out(conditions, conditions)  # (B, C) MeV
        voxels = self.features_out(features, physical_conditions)  # (B, V) MeV
        return voxels, physical_conditions[:, self.index]


def shower_observables_torch(
    voxels: torch.Tensor,
    incident_energy: torch.Tensor,
    geometry: CylindricalGeometry,
    *,
    layer_softening: float = 0.0,
    width_softening_mm2: float = 1e-12,
) -> dict[str, torch.Tensor]:
    """The observables of :func:`hepgan.validation.report.observables.shower_observables`, in torch,
    from voxels (N, V) MeV and incident energies (N,) MeV; each (N,). Centres and widths of an
    empty layer are 0; ``n_nonzero`` is the hard count (no gradient).

    With the defaults the formulas are the numpy ones. For a critic's input,
    ``layer_softening`` = f0 divides each layer's moments by E_layer + f0 E_inc instead of
    E_layer, and widths are sqrt(variance + ``width_softening_mm2``): the gradients of a
    centre or width, (x_i - c) / E_layer, stay bounded for a layer whose energy tends to 0,
    where the exact observables' grow without bound."""
    n, layers = len(voxels), geometry.n_layers
    cells = voxels.reshape(n, layers, -1)  # (N, L, A R)
    x, y = (
        torch.as_tensor(c.reshape(-1), dtype=voxels.dtype, device=voxels.device)
        for c in geometry.voxel_xy_mm()
    )
    energy = cells.sum(dim=2)  # (N, L)
    occupied = energy > 0
    weight = energy + layer_softening * incident_energy[:, None]
    safe = torch.where(weight > 0, weight, torch.ones_like(weight))
    centre_x, centre_y = (cells @ x) / safe, (cells @ y) / safe
    width_x = torch.sqrt(
        torch.clamp((cells @ (x * x)) / safe - centre_x**2, min=0.0) + width_softening_mm2
    )
    width_y = torch.sqrt(
        torch.clamp((cells @ (y * y)) / safe - centre_y**2, min=0.0) + width_softening_mm2
    )
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
    """sum_i sigmoid((ln E_i - ln E_thr) / tau) over the last axis: the voxels above the readout
    threshold, counted smoothly (the hard count as tau -> 0); (N, V) -> (N,), (N, L, A R) ->
    (N, L)."""
    threshold = max(threshold_mev, 1e-12)
    log_energy = torch.log(torch.clamp(voxels, min=threshold * 1e-6))
    return torch.sigmoid((log_energy - torch.log(torch.tensor(threshold))) / temperature).sum(-1)


class ShowerObservableFeatures(StandardisedFeatures):
    """Critic inputs from the transformed features: (B, 6 L + 2) standardised columns of
    ln(E_layer / E_inc + f0), centres and widths per layer (mm / 10, softened by f0 and
    ``CRITIC_WIDTH_SOFTENING_MM2``: see :func:`shower_observables_torch`), the smooth non-zero
    count of each layer over its voxels, the longitudinal centre of gravity (X0) and the
    response E_tot / E_inc. The standardisation (mean, width) is fitted once on real
    transformed training events."""

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
        return 6 * self.geometry.n_layers + 2

    def raw(self, features: torch.Tensor, conditions: torch.Tensor) -> torch.Tensor:
        voxels, incident = self.energies(features, conditions)
        return critic_shower_columns(voxels, incident, self.geometry, self.threshold)


def critic_shower_columns(
    voxels: torch.Tensor,
    incident: torch.Tensor,
    geometry: CylindricalGeometry,
    threshold_mev: float,
) -> torch.Tensor:
    """The unstandardised columns of :class:`ShowerObservableFeatures` (B, 6 L + 2) from
    voxels (B, V) MeV and incident energies (B,) MeV."""
    observables = shower_observables_torch(
        voxels,
        incident,
        geometry,
        layer_softening=CRITIC_LAYER_SOFTENING,
        width_softening_mm2=CRITIC_WIDTH_SOFTENING_MM2,
    )
    layers = range(geometry.n_layers)
    columns = [
        torch.log(observables[f"e_layer_{layer:02d}"] / incident + CRITIC_LAYER_SOFTENING)
        for layer in layers
    ]
    for prefix in ("centre_x_layer", "centre_y_layer", "width_x_layer", "width_y_layer"):
        columns += [observables[f"{prefix}_{layer:02d}"] / 10.0 for layer in layers]
    cells = voxels.reshape(len(voxels), geometry.n_layers, -1)  # (B, L, A R)
    counts = smooth_nonzero_count(cells, threshold_mev) / cells.shape[2]  # (B, L)
    columns += list(counts.unbind(dim=1))
    columns += [observables["longitudinal_cog_x0"], observables["e_total_over_incident"]]
    return torch.stack(columns, dim=1)  # (B, 6 L + 2)
