"""The CaloChallenge HDF5 format: datasets ``incident_energies`` (N, 1) and ``showers`` (N, voxels).

Energies in MeV; voxels flattened in (layer, angle, radius) order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hepgan.errors import InputFileError

INCIDENT = "incident_energies"
SHOWERS = "showers"


def write_calochallenge(
    path: str | Path, incident_energies: np.ndarray, showers: np.ndarray
) -> Path:
    """Write a CaloChallenge file: ``incident_energies`` (N,) or (N, 1), ``showers`` (N, V), MeV."""
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
    partial = path.with_name(f".{path.name}.partial")
    with h5py.File(partial, "w") as output:
        output.create_dataset(INCIDENT, data=incident)
        output.create_dataset(SHOWERS, data=showers, compression="gzip", compression_opts=4)
    partial.replace(path)
    return path
