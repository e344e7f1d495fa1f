"""Example-data files: simulate in chunks under a progress bar and write ROOT or HDF5.

Showers go to ROOT (TTree ``showers``: ``incident_energy`` float64 MeV, ``voxels``
float32[n_voxels] calibrated MeV, the geometry and the simulation's provenance as JSON
beside it) or to the CaloChallenge HDF5 layout (the same as root attributes); dimuon
events to ROOT (TTree ``events``, the CMS dimuon branches, GeV). Each writer returns a
summary of what it wrote, for the user to check at a glance.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hepgan.datafiles.calochallenge import write_calochallenge
from hepgan.datafiles.datasets import file_format
from hepgan.datafiles.root_writer import write_root
from hepgan.models.geometry import CylindricalGeometry
from hepgan.simulators.dimuon import (
    BRANCHES,
    TYPE_CODES,
    TYPE_ENCODING,
    DimuonConfig,
    run_and_event_numbers,
    simulate_dimuon,
)
from hepgan.simulators.showers import simulate_showers

# Voxel values simulated per chunk: bounds the float64 working memory to about 100 MB.
VOXELS_PER_CHUNK = 4_000_000
DIMUON_EVENTS_PER_CHUNK = 200_000
# How shower files store energies, as the CaloChallenge datasets do (file metadata).
ENERGY_SCALE = "calibrated: visible energy / sampling_fraction, MeV"


@dataclass
class ShowerFileSummary:
    """What :func:`write_shower_file` wrote."""

    elapsed_s: float
    layout: str
    response_mean: float  # E_total / E_incident over the showers
    response_std: float
    nonzero_fraction: float  # voxels above the readout threshold


@dataclass
class DimuonFileSummary:
    """What :func:`write_dimuon_file` wrote."""

    elapsed_s: float
    mass_median_gev: float
    near_z_fraction: float  # pair mass within 5 GeV of the Z mass
    opposite_sign_fraction: float
    global_global_fraction: float  # Type GG: two global muons


def write_shower_file(
    path: Path,
    n_events: int,
    *,
    geometry: CylindricalGeometry,
    energy_min_mev: float,
    energy_max_mev: float,
    seed: int,
) -> ShowerFileSummary:
    """Simulate ``n_events`` showers (incident energies log-uniform in the range, MeV) and
    write them to ``path`` (``.root``, or CaloChallenge HDF5 for ``.h5``/``.hdf5``)."""
    output_format = file_format(path)  # before simulating: a wrong suffix fails at once
    rng = np.random.default_rng(seed)
    chunk = max(1, VOXELS_PER_CHUNK // geometry.n_voxels)
    start = time.perf_counter()
    energies, showers = [], []
    with _progress(n_events, "showers") as bar:
        for size in _chunk_sizes(n_events, chunk):
            energy, voxels = simulate_showers(
                size,
                geometry=geometry,
                energy_min_mev=energy_min_mev,
                energy_max_mev=energy_max_mev,
                rng=rng,
            )
            energies.append(energy)
            showers.append(voxels)
            bar.update(size)
    incident = np.concatenate(energies)  # (N,)
    voxels = np.concatenate(showers)  # (N, V)
    elapsed = time.perf_counter() - start
    provenance: dict[str, Any] = {
        "generator": "hepgan simulate showers (Grindhammer-Peters, hep-ex/0001020)",
        "seed": seed,
        "energy_min_mev": energy_min_mev,
        "energy_max_mev": energy_max_mev,
        "energy_scale": ENERGY_SCALE,
        "sampling_fraction": geometry.sampling_fraction,
        "readout_threshold_mev": geometry.readout_threshold_mev,
    }
    geometry_json = json.dumps(geometry.to_dict())
    if output_format == "root":
        write_root(
            path,
            {"incident_energy": incident, "voxels": voxels},
            tree="showers",
            metadata={"geometry": geometry_json, "simulation": json.dumps(provenance)},
        )
        layout = f"TTree 'showers': incident_energy (MeV), voxels[{geometry.n_voxels}] (MeV)"
    else:
        write_calochallenge(
            path, incident, voxels, attributes={"geometry": geometry_json, **provenance}
        )
        layout = "CaloChallenge HDF5: incident_energies (N, 1), showers (N, V), MeV"
    ratio = voxels.sum(axis=1, dtype=np.float64) / incident  # (N,)
    return ShowerFileSummary(
        elapsed_s=elapsed,
        layout=layout,
        response_mean=float(ratio.mean()),
        response_std=float(ratio.std()),
        nonzero_fraction=float(np.mean(voxels > 0)),
    )


def write_dimuon_file(
    path: Path, n_events: int, *, config: DimuonConfig, seed: int
) -> DimuonFileSummary:
    """Simulate ``n_events`` dimuon events and write them to the ROOT file ``path``."""
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    chunks = []
    with _progress(n_events, "events") as bar:
        for size in _chunk_sizes(n_events, DIMUON_EVENTS_PER_CHUNK):
            chunks.append(simulate_dimuon(size, rng=rng, config=config))
            bar.update(size)
    columns = {name: np.concatenate([chunk[name] for chunk in chunks]) for name in BRANCHES}
    # One data-taking sequence for the whole file instead of one per chunk.
    columns["Run"], columns["Event"] = run_and_event_numbers(n_events, rng=rng, config=config)
    elapsed = time.perf_counter() - start
    provenance = {"generator": "hepgan simulate dimuon", "seed": seed, **vars(config)}
    write_root(
        path,
        columns,
        tree="events",
        metadata={"type_encoding": TYPE_ENCODING, "simulation": json.dumps(provenance)},
    )
    mass = columns["M"]
    return DimuonFileSummary(
        elapsed_s=elapsed,
        mass_median_gev=float(np.median(mass)),
        near_z_fraction=float(np.mean(np.abs(mass - config.z_mass_gev) < 5.0)),
        opposite_sign_fraction=float(np.mean(columns["Q1"] != columns["Q2"])),
        global_global_fraction=float(np.mean(columns["Type"] == TYPE_CODES["GG"])),
    )


def _chunk_sizes(total: int, chunk: int) -> list[int]:
    """Sizes of consecutive chunks of at most ``chunk`` adding up to ``total``."""
    return [min(chunk, total - start) for start in range(0, total, chunk)]


def _progress(total: int, unit: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit=f" {unit}", disable=None, file=sys.stderr, desc="simulate")
