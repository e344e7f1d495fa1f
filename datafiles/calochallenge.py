"""The CaloChallenge HDF5 format: datasets ``incident_energies`` (N, 1) and ``showers`` (N, voxels).

Energies in MeV; voxels flattened in (layer, angle, radius) order.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hepgan.atomic import atomic_destination
from hepgan.errors import InputFileError

if TYPE_CHECKING:
    import h5py

INCIDENT = "incident_energies"
SHOWERS = "showers"


def write_calochallenge(
    path: str | Path,
    incident_energies: np.ndarray,
    showers: np.ndarray,
    *,
    attributes: dict[str, str | float | int] | None = None,
) -> Path:
    """Write a CaloChallenge file: ``incident_energies`` (N,) or (N, 1), ``showers`` (N, V), MeV.

    ``attributes`` go into the file's root HDF5 attributes (metadata that CaloChallenge
    tools ignore: they read the two datasets only).
    """
    import h5py

    path = Path(path)
    incident = np.asarray(incident_energies, dtype=np.float64).reshape(-1, 1)  # (N, 1)
    showers = np.asarray(showers, dtype=np.float32)  # (N, V)
    if showers.ndim != 2 or len(showers) != len(incident):
        raise ValueError(
            f"showers must be (N, V) with N = {len(incident)}, got shape {showers.shape}"
        )
    if not path.parent.exists():
        raise InputFileError(f"cannot write {path}: folder {path.parent} does not exist")
    with atomic_destination(path) as partial, h5py.File(partial, "w") as output:
        output.create_dataset(INCIDENT, data=incident)
        output.create_dataset(SHOWERS, data=showers, compression="gzip", compression_opts=4)
        output.attrs.update(attributes or {})
    return path


def read_calochallenge(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a CaloChallenge file: incident energies (N,) float64 and showers (N, V) float32, MeV.

    Raises :class:`InputFileError` naming the file and the dataset when the file
    is missing, not HDF5 (or truncated), lacks a dataset (the existing ones are
    listed), or holds datasets of the wrong shape or type.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"input file not found: {path}")
    try:
        source = h5py.File(path, "r")
    except OSError as err:
        raise InputFileError(
            f"cannot open {path} as HDF5 (not HDF5, truncated or corrupt): {err}"
        ) from err
    with source:
        incident = _read_dataset(source, path, INCIDENT)
        showers = _read_dataset(source, path, SHOWERS)
    if incident.ndim == 2 and incident.shape[1] == 1:
        incident = incident[:, 0]
    if incident.ndim != 1:
        raise InputFileError(
            f"dataset {INCIDENT!r} in file {path} has shape {incident.shape}: expected (N, 1)"
        )
    if showers.ndim != 2 or len(showers) != len(incident):
        raise InputFileError(
            f"dataset {SHOWERS!r} in file {path} has shape {showers.shape}: expected "
            f"(N, voxels) with N = {len(incident)} as in {INCIDENT!r}"
        )
    return incident.astype(np.float64, copy=False), showers.astype(np.float32, copy=False)


def _read_dataset(source: h5py.Group, path: Path, name: str) -> np.ndarray:
    """Read one numeric dataset of an open h5py file, or raise naming the file and dataset."""
    import h5py

    if name not in source:
        existing = ", ".join(sorted(source.keys())) or "(none)"
        raise InputFileError(f"no dataset {name!r} in file {path}; datasets: {existing}")
    dataset = source[name]
    if not isinstance(dataset, h5py.Dataset) or dataset.dtype.kind not in "biuf":
        kind = "a group" if not isinstance(dataset, h5py.Dataset) else f"of type {dataset.dtype}"
        raise InputFileError(f"dataset {name!r} in file {path} is {kind}: expected numbers (MeV)")
    try:
        return dataset[()]
    except OSError as err:
        raise InputFileError(
            f"cannot read dataset {name!r} in file {path}: truncated or corrupt ({err})"
        ) from err
