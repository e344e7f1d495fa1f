"""Cylindrical calorimeter geometries: layers x angular bins x radial bins.

Voxels are flattened in (layer, angle, radius) order, as in the CaloChallenge
datasets: ``index = (layer * n_angles + angle) * n_radii + radius``. Lengths are
in mm, depths in radiation lengths X0, energies in MeV.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from hepgan.errors import ConfigError
from hepgan.models.sampling_fraction import mip_sampling_fraction


@dataclass(frozen=True)
class CylindricalGeometry:
    """A sampling calorimeter read out in cylindrical voxels around the shower axis."""

    name: str
    n_layers: int  # longitudinal layers
    n_angles: int  # angular bins in the transverse plane, equal widths over 2 pi
    radial_edges_mm: tuple[float, ...]  # n_radii + 1 edges, first 0; energy beyond the last leaks
    layer_thickness_x0: float  # thickness of one layer in radiation lengths
    moliere_radius_mm: float  # Moliere radius R_M of the absorber
    critical_energy_mev: float  # critical energy E_c of the absorber, MeV
    atomic_number: float  # effective Z of the absorber
    # visible share of the deposited energy (active / total); files hold calibrated energies,
    # visible / sampling_fraction (the CaloChallenge convention), so this is metadata
    sampling_fraction: float
    # Sampling fluctuations: sigma(E_visible) / E_visible = a / sqrt(E_deposited / GeV).
    stochastic_term: float = 0.17
    readout_threshold_mev: float = 0.0  # calibrated voxel energies below this read as 0
    material: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def n_radii(self) -> int:
        return len(self.radial_edges_mm) - 1

    @property
    def shape(self) -> tuple[int, int, int]:
        """(layers, angles, radii)."""
        return (self.n_layers, self.n_angles, self.n_radii)

    @property
    def n_voxels(self) -> int:
        return self.n_layers * self.n_angles * self.n_radii

    def layer_depth_centres_x0(self) -> np.ndarray:
        """Depth of each layer's centre in X0, shape (n_layers,)."""
        return (np.arange(self.n_layers) + 0.5) * self.layer_thickness_x0

    def radial_centres_mm(self) -> np.ndarray:
        """Mid-points of the radial bins in mm, shape (n_radii,)."""
        edges = np.asarray(self.radial_edges_mm)
        return 0.5 * (edges[:-1] + edges[1:])

    def angle_centres_rad(self) -> np.ndarray:
        """Centres of the angular bins in radians, shape (n_angles,)."""
        width = 2 * np.pi / self.n_angles
        return (np.arange(self.n_angles) + 0.5) * width

    def voxel_xy_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """Transverse centre (x, y) in mm of the voxels of one layer, each (n_angles, n_radii).

        x = r cos(phi), y = r sin(phi) at the bin centres. With one angular bin
        both are taken as r and 0: only the radius is resolved.
        """
        r = self.radial_centres_mm()[None, :]
        phi = self.angle_centres_rad()[:, None]
        if self.n_angles == 1:
            return np.broadcast_to(r, (1, self.n_radii)).copy(), np.zeros((1, self.n_radii))
        return r * np.cos(phi), r * np.sin(phi)

    def to_dict(self) -> dict:
        """JSON-serialisable description (stored in the model card)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CylindricalGeometry:
        values = dict(data)
        values["radial_edges_mm"] = tuple(float(edge) for edge in values["radial_edges_mm"])
        return cls(**values)


# Tungsten absorber: X0 = 3.5 mm, R_M = 9.3 mm, E_c = 7.97 MeV, Z = 74 (PDG). Silicon-tungsten
# readout: stochastic term 16.5 % sqrt(GeV) as measured for the CALICE Si-W ECAL prototype
# (NIM A 608 (2009) 372); the threshold is the 15.15 keV per voxel (calibrated energy) of
# CaloChallenge datasets 2-3. Each layer is 1.4 mm W + 0.3 mm Si (dataset 2; the small
# geometry's layers are six times thicker), so the sampling fraction is the MIP value
# of hepgan.models.sampling_fraction, 3.6 %.
ABSORBER_MM, ACTIVE_MM = 1.4, 0.3
_TUNGSTEN = dict(
    moliere_radius_mm=9.327,
    critical_energy_mev=7.97,
    atomic_number=74.0,
    stochastic_term=0.165,
    readout_threshold_mev=0.01515,
    material="W/Si",
)

GEOMETRIES: dict[str, CylindricalGeometry] = {
    # Fast enough for CI: 10 layers x 4 angles x 3 radii = 120 voxels, 24 X0 deep.
    "small": CylindricalGeometry(
        name="small",
        n_layers=10,
        n_angles=4,
        radial_edges_mm=(0.0, 4.65, 13.95, 41.85),
        layer_thickness_x0=2.4,
        sampling_fraction=mip_sampling_fraction("W", 6 * ABSORBER_MM, "Si", 6 * ACTIVE_MM),
        extra={"absorber_w_mm": 6 * ABSORBER_MM, "active_si_mm": 6 * ACTIVE_MM},
        **_TUNGSTEN,
    ),
    # CaloChallenge dataset 2: 45 layers x 16 angles x 9 radii = 6480 voxels, radial bins of
    # 4.65 mm; each layer 1.4 mm W + 0.3 mm Si, about 0.4 X0.
    "calochallenge-2": CylindricalGeometry(
        name="calochallenge-2",
        n_layers=45,
        n_angles=16,
        radial_edges_mm=tuple(4.65 * i for i in range(10)),
        layer_thickness_x0=0.4,
        sampling_fraction=mip_sampling_fraction("W", ABSORBER_MM, "Si", ACTIVE_MM),
        extra={"absorber_w_mm": ABSORBER_MM, "active_si_mm": ACTIVE_MM},
        **_TUNGSTEN,
    ),
}


def get_geometry(name: str) -> CylindricalGeometry:
    """The preset called ``name``; raises :class:`ConfigError` listing the presets otherwise."""
    try:
        return GEOMETRIES[name]
    except KeyError:
        known = ", ".join(sorted(GEOMETRIES))
        raise ConfigError(f"unknown geometry {name!r}; known geometries: {known}") from None


def resolve_geometry(
    n_voxels: int, *, name: str | None = None, stored: dict | None = None
) -> CylindricalGeometry | None:
    """The geometry of showers with ``n_voxels`` voxels: the preset ``name`` when given, else
    the ``stored`` description (what a simulator wrote beside the data), else the preset
    with that many voxels; None when none has. A named or stored geometry with another voxel
    count is a :class:`ConfigError`."""
    if name:
        geometry = get_geometry(name)
    elif stored is not None:
        try:
            geometry = CylindricalGeometry.from_dict(stored)
        except (TypeError, ValueError, KeyError) as error:
            raise ConfigError(f"unreadable geometry description: {error}") from None
    else:
        return next((g for g in GEOMETRIES.values() if g.n_voxels == n_voxels), None)
    if geometry.n_voxels != n_voxels:
        raise ConfigError(
            f"geometry {geometry.name} has {geometry.n_voxels} voxels, the data {n_voxels}"
        )
    return geometry
