"""Physics observables of showers and events, vectorised over events.

Shower observables (DESIGN.md section 4) come from the voxel energies (MeV) and
the detector geometry; event observables are the features themselves plus
derived quantities declared here (the dimuon pair mass from the four-vectors).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hepgan.models.geometry import CylindricalGeometry

# Bytes of one chunk of voxels widened to float64.
CHUNK_BYTES = 2 << 20
# Four-vector branches (GeV) from which the pair mass is derived.
DIMUON_FOUR_VECTORS = ("E1", "px1", "py1", "pz1", "E2", "px2", "py2", "pz2")


def shower_observables(
    voxels: np.ndarray, incident_energy: np.ndarray, geometry: CylindricalGeometry
) -> dict[str, np.ndarray]:
    """Per-shower observables, each (N,), from voxels (N, V) MeV and incident energies (N,) MeV.

    - ``e_total_over_incident`` = sum of voxel energies / incident energy
    - ``e_layer_LL`` = energy in layer LL, MeV
    - ``centre_x_layer_LL``, ``centre_y_layer_LL`` = <x>, <y> weighted by voxel energy, mm
    - ``width_x_layer_LL``, ``width_y_layer_LL`` = sqrt(<x^2> - <x>^2), mm (0 for an empty layer)
    - ``longitudinal_cog_x0`` = sum_l E_l t_l / sum_l E_l, layer-centre depth t_l in X0
    - ``n_nonzero`` = number of voxels with energy > 0 (sparsity)

    Computed in float64; returned in float32 when the voxels are float32 (as a
    generator gives them), so a report sorts them at float32 speed.
    """
    dtype = _output_dtype(voxels)
    voxels = np.asarray(voxels)
    incident_energy = np.asarray(incident_energy, dtype=np.float64).reshape(-1)
    if voxels.ndim != 2 or voxels.shape[1] != geometry.n_voxels:
        raise ValueError(
            f"voxels must be (N, {geometry.n_voxels}) for geometry {geometry.name!r}, "
            f"got {voxels.shape}"
        )
    if len(incident_energy) != len(voxels):
        raise ValueError(f"{len(incident_energy)} incident energies for {len(voxels)} showers")
    n_layers = geometry.n_layers
    x, y = (coordinate.reshape(-1) for coordinate in geometry.voxel_xy_mm())  # (A * R,)
    sums = _layer_sums(voxels, np.stack([np.ones_like(x), x, x**2, y, y**2], axis=1), n_layers)
    layer_energy = sums[:, :, 0]  # (N, L): sum E
    inverse_energy = _inverse_or_zero(layer_energy)
    moments = sums[:, :, 1:] * inverse_energy[:, :, None]  # <x>, <x^2>, <y>, <y^2>; 0 if empty
    centres = moments[:, :, 0::2]  # (N, L, 2): <x>, <y>
    widths = np.sqrt(np.clip(moments[:, :, 1::2] - centres**2, 0.0, None))
    total = layer_energy.sum(axis=1)  # (N,)
    depth = geometry.layer_depth_centres_x0()  # (L,)
    names = [
        "e_total_over_incident",
        *_per_layer("e_layer", n_layers),
        *_per_layer("centre_x_layer", n_layers),
        *_per_layer("centre_y_layer", n_layers),
        *_per_layer("width_x_layer", n_layers),
        *_per_layer("width_y_layer", n_layers),
        "longitudinal_cog_x0",
        "n_nonzero",
    ]
    rows = np.concatenate(  # (K, N): one row per observable, cast once
        [
            (total / incident_energy)[None, :],
            layer_energy.T,
            centres.transpose(2, 1, 0).reshape(2 * n_layers, -1),
            widths.transpose(2, 1, 0).reshape(2 * n_layers, -1),
            ((layer_energy @ depth) * _inverse_or_zero(total))[None, :],
            np.count_nonzero(voxels > 0, axis=1)[None, :],
        ]
    ).astype(dtype)
    return dict(zip(names, rows, strict=True))


def shower_observable_units(observable_names: Sequence[str]) -> dict[str, str]:
    """The unit of each shower observable name (MeV, mm, X0, or '' for ratios and counts)."""
    prefixes = {"e_layer": "MeV", "centre_": "mm", "width_": "mm", "longitudinal_cog": "X0"}
    return {
        name: next((unit for prefix, unit in prefixes.items() if name.startswith(prefix)), "")
        for name in observable_names
    }


def voxel_energy_spectrum(voxels: np.ndarray) -> np.ndarray:
    """Voxel energies (N, V), MeV, with empty voxels (<= 0) as NaN.

    Pooled over events with the NaN entries dropped (as the report does with a 2-D
    observable), this is the spectrum of deposited voxel energies.
    """
    voxels = np.asarray(voxels, dtype=np.float64)
    return np.where(voxels > 0, voxels, np.nan)


def event_observables(features: np.ndarray, feature_names: Sequence[str]) -> dict[str, np.ndarray]:
    """The features (N, F) by name, plus derived quantities when their inputs are present.

    ``M_from_four_vectors`` (GeV) = sqrt(max((E1 + E2)^2 - |p1 + p2|^2, 0)) when
    E1, px1, py1, pz1, E2, px2, py2, pz2 are among the features. Computed in float64,
    returned in float32 when the features are float32.
    """
    dtype = _output_dtype(features)
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[1] != len(feature_names):
        raise ValueError(
            f"features must be (N, {len(feature_names)}) for the names given, got {features.shape}"
        )
    columns = {name: features[:, index] for index, name in enumerate(feature_names)}
    observables = dict(columns)
    if all(name in columns for name in DIMUON_FOUR_VECTORS):
        energy = columns["E1"] + columns["E2"]
        momentum_squared = sum(
            (columns[f"{axis}1"] + columns[f"{axis}2"]) ** 2 for axis in ("px", "py", "pz")
        )
        observables["M_from_four_vectors"] = np.sqrt(np.clip(energy**2 - momentum_squared, 0, None))
    return {name: values.astype(dtype) for name, values in observables.items()}


def _output_dtype(values: np.ndarray) -> type[np.floating]:
    """float32 for float32 input, float64 otherwise."""
    return np.float32 if np.asarray(values).dtype == np.float32 else np.float64


def _layer_sums(voxels: np.ndarray, weights: np.ndarray, n_layers: int) -> np.ndarray:
    """sum_v E_v w_v per layer, (N, L, W), float64, for voxels (N, V) and weights (V / L, W).

    In chunks of events whose float64 copy stays small (reused memory, no page faults).
    """
    rows = voxels.reshape(-1, weights.shape[0])  # (N L, A R)
    sums = np.empty((len(rows), weights.shape[1]))
    chunk = max(1, CHUNK_BYTES // (8 * weights.shape[0]))
    for start in range(0, len(rows), chunk):
        stop = start + chunk
        np.matmul(rows[start:stop].astype(np.float64), weights, out=sums[start:stop])
    return sums.reshape(len(voxels), n_layers, -1)


def _inverse_or_zero(values: np.ndarray) -> np.ndarray:
    """1 / v, and 0 where v <= 0 (an empty layer or shower weighs nothing)."""
    return np.divide(1.0, values, out=np.zeros_like(values), where=values > 0)


def _per_layer(prefix: str, n_layers: int) -> list[str]:
    """prefix_00, prefix_01, ... for each layer."""
    return [f"{prefix}_{layer:02d}" for layer in range(n_layers)]
