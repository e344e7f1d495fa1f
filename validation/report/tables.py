"""Observables of a table of columns read from a file (what ``hepgan validate`` compares).

A shower table (``incident_energy`` and 2-D ``voxels``) whose voxel count belongs to a
geometry (stored beside the data, else a preset) gives the shower observables of that
geometry, pooled voxel spectrum included, and its incident energies as conditions. Any
other table gives its columns flattened to features (``voxels[0]``, ...) plus the derived
event observables; a shower table without a geometry keeps its incident energies as
conditions, so the reference is still matched to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from hepgan.datafiles.datasets import flatten_columns
from hepgan.datafiles.units import guess_unit
from hepgan.models.geometry import CylindricalGeometry, resolve_geometry
from hepgan.validation.report.calorimeter import ShowerSample
from hepgan.validation.report.observables import ObservableDefinition


@dataclass
class TableObservables:
    """Observables by name, the conditions they were made at (or None), their units."""

    observables: dict[str, np.ndarray]
    conditions: dict[str, np.ndarray] | None
    units: dict[str, str]
    showers: ShowerSample | None = None  # the voxels themselves, when a geometry reads them
    geometry: CylindricalGeometry | None = None

    def events(self, rows: np.ndarray) -> TableObservables:
        """The events ``rows`` (indices) of every observable, condition and shower."""
        return TableObservables(
            {name: values[rows] for name, values in self.observables.items()},
            None
            if self.conditions is None
            else {name: values[rows] for name, values in self.conditions.items()},
            self.units,
            None if self.showers is None else self.showers.events(rows),
            self.geometry,
        )


def table_observables(
    table: Mapping[str, np.ndarray], *, stored_geometry: dict | None = None
) -> TableObservables:
    """The observables of ``table``'s columns (see the module docstring)."""
    voxels = table.get("voxels")
    if voxels is not None and "incident_energy" in table and np.ndim(voxels) == 2:
        energy = np.asarray(table["incident_energy"], dtype=np.float64)  # (N,) MeV
        conditions = {"incident_energy": energy}
        geometry = resolve_geometry(np.shape(voxels)[1], stored=stored_geometry)
        if geometry is not None:
            definition = ObservableDefinition(
                kind="showers", geometry=geometry, voxel_spectrum=True
            )
            observables = definition.compute(voxels, energy[:, None])
            units = definition.units(list(observables))
            showers = ShowerSample(np.asarray(voxels), energy)
            return TableObservables(observables, conditions, units, showers, geometry)
        table = {"voxels": voxels}
    else:
        conditions = None
    features, names = flatten_columns(table, dtype=np.float64)  # (N, F)
    definition = ObservableDefinition(
        kind="events",
        feature_names=tuple(names),
        feature_units=tuple(guess_unit(name, "events") for name in names),
    )
    observables = definition.compute(features, None)
    return TableObservables(observables, conditions, definition.units(list(observables)))
