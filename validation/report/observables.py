"""Physics observables of showers and events, vectorised over events.

Shower observables (formulas in :func:`shower_observables`) come from the voxel energies
(MeV) and the detector geometry; event observables are the features themselves plus
derived quantities declared here (the dimuon pair mass from the four-vectors).
:class:`ObservableDefinition` is the one entry point: every report (training's checkpoint
choice, the model card, the service, ``hepgan validate``) computes its observables
through it. Where this module sits among the others: the README's Layout section.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from hepgan.models.geometry import CylindricalGeometry

if TYPE_CHECKING:
    from hepgan.models.card import ModelCard

# Four-vector branches (GeV) from which the pair mass is derived.
DIMUON_FOUR_VECTORS = ("E1", "px1", "py1", "pz1", "E2", "px2", "py2", "pz2")
# Units of the derived event observables (eta and the rapidity are dimensionless).
DERIVED_UNITS = {
    "M_from_four_vectors": "GeV",
    "pt1_from_four_vectors": "GeV",
    "pt2_from_four_vectors": "GeV",
    "phi1_from_four_vectors": "rad",
    "phi2_from_four_vectors": "rad",
    "pt_pair_from_four_vectors": "GeV",
}


@dataclass(frozen=True)
class ObservableDefinition:
    """What a report compares for one kind of data.

    ``kind`` "showers": the shower observables of ``geometry`` (:func:`shower_observables`),
    from voxels (N, V) MeV and the incident energy (first condition, MeV); with
    ``voxel_spectrum`` also the pooled voxel energy spectrum (:func:`voxel_energy_spectrum`),
    N x V values, which makes a report several times slower: offline judgements
    (``hepgan validate``) include it, training's checkpoint choice and the service do not.
    ``kind`` "events": the features by ``feature_names`` plus derived quantities
    (:func:`event_observables`).
    """

    kind: str
    feature_names: tuple[str, ...] = ()
    feature_units: tuple[str, ...] = ()
    geometry: CylindricalGeometry | None = None
    voxel_spectrum: bool = False

    @classmethod
    def of_card(cls, card: ModelCard) -> ObservableDefinition:
        """The observables of a model card's kind, features and geometry."""
        geometry = CylindricalGeometry.from_dict(card.geometry) if card.geometry else None
        return cls(
            kind=card.kind,
            feature_names=tuple(card.feature_names),
            feature_units=tuple(card.feature_units),
            geometry=geometry,
        )

    def compute(self, features: np.ndarray, conditions: np.ndarray | None) -> dict[str, np.ndarray]:
        """Observables by name, each (N,) (or (N, V) for the pooled voxel spectrum)."""
        if self.kind != "showers":
            return event_observables(features, self.feature_names)
        if self.geometry is None or conditions is None:
            raise ValueError("shower observables need the geometry and the incident energies")
        energy = np.asarray(conditions).reshape(len(features), -1)[:, 0]  # (N,) MeV
        observables = shower_observables(features, energy, self.geometry, layout=self._layout)
        if self.voxel_spectrum:
            observables["voxel_energy"] = voxel_energy_spectrum(features)
        return observables

    @functools.cached_property
    def _layout(self) -> ShowerLayout | None:
        """The geometry's :class:`ShowerLayout`, made on first use and kept (a report's
        observables of a one-event batch took 19 of their 26 us making it)."""
        return None if self.geometry is None else ShowerLayout.of(self.geometry)

    def units(self, names: Sequence[str]) -> dict[str, str]:
        """The unit of each observable name ('' for ratios and counts)."""
        if self.kind == "showers":
            return shower_observable_units(names)
        known = {**dict(zip(self.feature_names, self.feature_units, strict=False)), **DERIVED_UNITS}
        return {name: known.get(name, "") for name in names}


@dataclass(frozen=True)
class ShowerLayout:
    """What the shower observables read of a geometry: their names in order (1 + 6 L + 2),
    the transverse voxel centres of a layer x, y (A R,) mm, and the layer-centre depths (L,) X0.
    """

    names: tuple[str, ...]
    x: np.ndarray  # (A * R,) mm, float64
    y: np.ndarray  # (A * R,) mm, float64
    depth: np.ndarray  # (L,) X0, float64

    @classmethod
    def of(cls, geometry: CylindricalGeometry) -> ShowerLayout:
        n_layers = geometry.n_layers
        x, y = (coordinate.reshape(-1) for coordinate in geometry.voxel_xy_mm())  # (A * R,)
        names = (
            "e_total_over_incident",
            *_per_layer("e_layer", n_layers),
            *_per_layer("centre_x_layer", n_layers),
            *_per_layer("centre_y_layer", n_layers),
            *_per_layer("width_x_layer", n_layers),
            *_per_layer("width_y_layer", n_layers),
            "longitudinal_cog_x0",
            "n_nonzero",
            *_per_layer("n_hits_layer", n_layers),
        )
        return cls(
            names=names,
            x=np.ascontiguousarray(x, dtype=np.float64),
            y=np.ascontiguousarray(y, dtype=np.float64),
            depth=np.asarray(geometry.layer_depth_centres_x0(), dtype=np.float64),
        )


def shower_observables(
    voxels: np.ndarray,
    incident_energy: np.ndarray,
    geometry: CylindricalGeometry,
    *,
    layout: ShowerLayout | None = None,
) -> dict[str, np.ndarray]:
    """Per-shower observables, each (N,), from voxels (N, V) MeV and incident energies (N,) MeV.

    - ``e_total_over_incident`` = sum of voxel energies / incident energy
    - ``e_layer_LL`` = energy in layer LL, MeV
    - ``centre_x_layer_LL``, ``centre_y_layer_LL`` = <x>, <y> weighted by voxel energy, mm
    - ``width_x_layer_LL``, ``width_y_layer_LL`` = sqrt(<x^2> - <x>^2), mm (0 for an empty layer)
    - ``longitudinal_cog_x0`` = sum_l E_l t_l / sum_l E_l, layer-centre depth t_l in X0
    - ``n_nonzero`` = number of voxels with energy > 0 (sparsity)
    - ``n_hits_layer_LL`` = number of voxels of layer LL with energy > 0 (the sparsity of each
      layer: a deep layer of a real shower often lights one voxel or none)

    Computed in float64 in one compiled pass over the voxels; returned in float32 when
    the voxels are float32 (as a generator gives them), so a report sorts them at
    float32 speed. ``layout``: the geometry's :class:`ShowerLayout`, when the caller keeps it.
    """
    dtype = _output_dtype(voxels)
    voxels = np.ascontiguousarray(voxels, dtype=dtype)
    incident_energy = np.asarray(incident_energy, dtype=np.float64).reshape(-1)
    if voxels.ndim != 2 or voxels.shape[1] != geometry.n_voxels:
        raise ValueError(
            f"voxels must be (N, {geometry.n_voxels}) for geometry {geometry.name!r}, "
            f"got {voxels.shape}"
        )
    if len(incident_energy) != len(voxels):
        raise ValueError(f"{len(incident_energy)} incident energies for {len(voxels)} showers")
    layout = ShowerLayout.of(geometry) if layout is None else layout
    rows = np.empty((len(layout.names), len(voxels)))  # (K, N): one row per observable, cast once
    _shower_rows(voxels, incident_energy, layout.x, layout.y, layout.depth, rows)
    return dict(zip(layout.names, rows.astype(dtype, copy=False), strict=True))


@njit(nogil=True, cache=True, error_model="numpy")
def _shower_rows(voxels, incident_energy, x, y, depth, rows):
    """The observables of each shower into rows (1 + 6 L + 2, N), in the order of
    :func:`shower_observables`' names: one pass over the voxels (N, L A R), float64 sums."""
    n_layers, per_layer = len(depth), len(x)
    for event in range(voxels.shape[0]):
        total, depth_sum, nonzero = 0.0, 0.0, 0
        for layer in range(n_layers):
            energy, sum_x, sum_xx, sum_y, sum_yy = 0.0, 0.0, 0.0, 0.0, 0.0
            hits = 0
            for cell in range(per_layer):
                deposit = np.float64(voxels[event, layer * per_layer + cell])
                hits += deposit > 0
                energy += deposit
                sum_x += deposit * x[cell]
                sum_xx += deposit * x[cell] * x[cell]
                sum_y += deposit * y[cell]
                sum_yy += deposit * y[cell] * y[cell]
            centre_x, centre_y, width_x, width_y = 0.0, 0.0, 0.0, 0.0
            if energy > 0:  # an empty layer weighs nothing: centre and width 0
                centre_x, centre_y = sum_x / energy, sum_y / energy
                width_x = np.sqrt(max(sum_xx / energy - centre_x * centre_x, 0.0))
                width_y = np.sqrt(max(sum_yy / energy - centre_y * centre_y, 0.0))
            rows[1 + layer, event] = energy
            rows[1 + n_layers + layer, event] = centre_x
            rows[1 + 2 * n_layers + layer, event] = centre_y
            rows[1 + 3 * n_layers + layer, event] = width_x
            rows[1 + 4 * n_layers + layer, event] = width_y
            rows[3 + 5 * n_layers + layer, event] = hits
            nonzero += hits
            total += energy
            depth_sum += energy * depth[layer]
        rows[0, event] = total / incident_energy[event]
        rows[1 + 5 * n_layers, event] = depth_sum / total if total > 0 else 0.0
        rows[2 + 5 * n_layers, event] = nonzero


def shower_observable_units(observable_names: Sequence[str]) -> dict[str, str]:
    """The unit of each shower observable name (MeV, mm, X0, or '' for ratios and counts)."""
    prefixes = {
        "e_layer": "MeV",
        "centre_": "mm",
        "width_": "mm",
        "longitudinal_cog": "X0",
        "voxel_energy": "MeV",
    }
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

    When E1, px1, py1, pz1, E2, px2, py2, pz2 are among the features, derived from them
    (``*_from_four_vectors``): the pair mass ``M`` (GeV) = sqrt(max((E1 + E2)^2 - |p1 + p2|^2,
    0)); each particle's ``pt`` = sqrt(px^2 + py^2) (GeV), pseudorapidity ``eta`` =
    asinh(pz / pt) and azimuth ``phi`` = atan2(py, px) (rad); the pair's ``pt_pair`` (GeV)
    and rapidity ``y_pair`` = 1/2 ln((E + pz) / (E - pz)). Computed in float64, returned in
    float32 when the features are float32.
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
        observables.update(_kinematics(columns))
    return {name: values.astype(dtype) for name, values in observables.items()}


def _kinematics(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each particle's pt, eta, phi and the pair's pt and rapidity (float64; see
    :func:`event_observables`); eta and y are clipped to +-1e3 where pt or E - |pz| is 0."""
    derived = {}
    for index in ("1", "2"):
        px, py, pz = (columns[f"{axis}{index}"] for axis in ("px", "py", "pz"))
        pt = np.hypot(px, py)
        derived[f"pt{index}_from_four_vectors"] = pt
        with np.errstate(divide="ignore", invalid="ignore"):
            derived[f"eta{index}_from_four_vectors"] = np.clip(np.arcsinh(pz / pt), -1e3, 1e3)
        derived[f"phi{index}_from_four_vectors"] = np.arctan2(py, px)
    energy = columns["E1"] + columns["E2"]
    px, py, pz = (columns[f"{axis}1"] + columns[f"{axis}2"] for axis in ("px", "py", "pz"))
    derived["pt_pair_from_four_vectors"] = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        rapidity = 0.5 * np.log((energy + pz) / (energy - pz))
    derived["y_pair_from_four_vectors"] = np.clip(np.nan_to_num(rapidity), -1e3, 1e3)
    return derived


def _output_dtype(values: np.ndarray) -> type[np.floating]:
    """float32 for float32 input, float64 otherwise."""
    return np.float32 if np.asarray(values).dtype == np.float32 else np.float64


def _per_layer(prefix: str, n_layers: int) -> list[str]:
    """prefix_00, prefix_01, ... for each layer."""
    return [f"{prefix}_{layer:02d}" for layer in range(n_layers)]
