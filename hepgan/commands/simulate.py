"""``hepgan simulate showers|dimuon``: write the example data the GANs learn from.

Showers (Grindhammer-Peters) go to ROOT (TTree ``showers``: ``incident_energy``
float64 MeV, ``voxels`` float32[n_voxels] MeV) or CaloChallenge HDF5; dimuon
events (Z -> mu mu) to ROOT (TTree ``events``, the CMS dimuon branches).
Simulation runs in chunks under a progress bar and ends with a summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from hepgan.commands import new_command
from hepgan.errors import ConfigError

SHOWER_SUFFIXES = (".root", ".h5", ".hdf5")
# Voxel values simulated per chunk: bounds the float64 working memory to about 100 MB.
VOXELS_PER_CHUNK = 4_000_000
DIMUON_EVENTS_PER_CHUNK = 200_000
# How shower files store energies, as the CaloChallenge datasets do (file metadata).
ENERGY_SCALE = "calibrated: visible energy / sampling_fraction, MeV"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = new_command(
        subparsers,
        "simulate",
        help="simulate example data: calorimeter showers or Z -> mu mu events",
    )
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    showers = new_command(
        kinds,
        "showers",
        help="electromagnetic showers (Grindhammer-Peters) in a cylindrical calorimeter",
    )
    showers.add_argument(
        "--geometry",
        default="small",
        help="detector preset: small (10 x 4 x 3 voxels, for CI) or calochallenge-2 (45 x 16 x 9)",
    )
    _add_common_flags(showers, output_help="output file, .root or .h5 (CaloChallenge HDF5)")
    showers.add_argument(
        "--energy-min", type=float, default=1000.0, help="lowest incident energy, MeV"
    )
    showers.add_argument(
        "--energy-max", type=float, default=100000.0, help="highest incident energy, MeV"
    )
    dimuon = new_command(
        kinds,
        "dimuon",
        help="Z -> mu mu events with detector smearing and background, CMS dimuon branches",
    )
    _add_common_flags(dimuon, output_help="output file, .root")
    dimuon.add_argument(
        "--background-fraction",
        type=float,
        default=0.1,
        help="share of Drell-Yan continuum and fake pairs in the 40-140 GeV mass window",
    )
    parser.set_defaults(run=_run)


def _add_common_flags(parser: argparse.ArgumentParser, *, output_help: str) -> None:
    parser.add_argument("-n", "--events", type=int, default=10000, help="number of events")
    parser.add_argument("--seed", type=int, default=0, help="random seed (>= 0)")
    parser.add_argument("-o", "--output", type=Path, required=True, help=output_help)


def _run(args: argparse.Namespace) -> int:
    if args.events < 1:
        raise ConfigError(f"-n/--events must be a positive integer, got {args.events}")
    if args.seed < 0:
        raise ConfigError(f"--seed must be >= 0, got {args.seed}")
    if not args.output.parent.is_dir():
        raise ConfigError(f"-o/--output: folder {args.output.parent} does not exist")
    if args.kind == "showers":
        return _run_showers(args)
    return _run_dimuon(args)


def _run_showers(args: argparse.Namespace) -> int:
    import numpy as np

    from hepgan.models.geometry import GEOMETRIES
    from hepgan.simulators.showers import MIN_ENERGY_MEV, simulate_showers

    if args.geometry not in GEOMETRIES:
        known = ", ".join(GEOMETRIES)
        raise ConfigError(f"--geometry: unknown preset {args.geometry!r}; choose one of {known}")
    if args.output.suffix.lower() not in SHOWER_SUFFIXES:
        raise ConfigError(
            f"-o/--output: {args.output} must end in one of {', '.join(SHOWER_SUFFIXES)}"
        )
    if not (np.isfinite(args.energy_min) and args.energy_min >= MIN_ENERGY_MEV):
        raise ConfigError(
            f"--energy-min must be >= {MIN_ENERGY_MEV:g} MeV, the range of the "
            f"parametrisation; got {args.energy_min:g}"
        )
    if not (np.isfinite(args.energy_max) and args.energy_max >= args.energy_min):
        raise ConfigError(
            f"--energy-max must be >= --energy-min ({args.energy_min:g} MeV), "
            f"got {args.energy_max:g}"
        )
    geometry = GEOMETRIES[args.geometry]
    rng = np.random.default_rng(args.seed)
    chunk = max(1, VOXELS_PER_CHUNK // geometry.n_voxels)
    start = time.perf_counter()
    energies, showers = [], []
    with _progress(args.events, "showers") as bar:
        for size in _chunk_sizes(args.events, chunk):
            energy, voxels = simulate_showers(
                size,
                geometry=geometry,
                energy_min_mev=args.energy_min,
                energy_max_mev=args.energy_max,
                rng=rng,
            )
            energies.append(energy)
            showers.append(voxels)
            bar.update(size)
    incident = np.concatenate(energies)  # (N,)
    voxels = np.concatenate(showers)  # (N, V)
    elapsed = time.perf_counter() - start
    provenance = {
        "generator": "hepgan simulate showers (Grindhammer-Peters, hep-ex/0001020)",
        "seed": args.seed,
        "energy_min_mev": args.energy_min,
        "energy_max_mev": args.energy_max,
        "energy_scale": ENERGY_SCALE,
        "sampling_fraction": geometry.sampling_fraction,
        "readout_threshold_mev": geometry.readout_threshold_mev,
    }
    if args.output.suffix.lower() == ".root":
        from hepgan.datafiles.root_writer import write_root

        write_root(
            args.output,
            {"incident_energy": incident, "voxels": voxels},
            tree="showers",
            metadata={
                "geometry": json.dumps(geometry.to_dict()),
                "simulation": json.dumps(provenance),
            },
        )
        layout = f"TTree 'showers': incident_energy (MeV), voxels[{geometry.n_voxels}] (MeV)"
    else:
        from hepgan.datafiles.calochallenge import write_calochallenge

        write_calochallenge(
            args.output,
            incident,
            voxels,
            attributes={"geometry": json.dumps(geometry.to_dict()), **provenance},
        )
        layout = "CaloChallenge HDF5: incident_energies (N, 1), showers (N, V), MeV"
    ratio = voxels.sum(axis=1, dtype=np.float64) / incident  # (N,)
    n_layers, n_angles, n_radii = geometry.shape
    print(
        f"Simulated {args.events} electromagnetic showers (Grindhammer-Peters) in geometry "
        f"{geometry.name} ({n_layers} x {n_angles} x {n_radii} = {geometry.n_voxels} voxels, "
        f"{geometry.material}) with incident energies log-uniform in "
        f"[{args.energy_min:g}, {args.energy_max:g}] MeV, seed {args.seed}, in {elapsed:.2f} s "
        f"({args.events / elapsed:,.0f} showers/s). Wrote {args.output} "
        f"({_megabytes(args.output):.1f} MB; {layout}). Calibrated energies (visible / "
        f"sampling fraction {geometry.sampling_fraction:.4f}); total over incident energy: mean "
        f"{ratio.mean():.4f}, standard deviation {ratio.std():.4f}; "
        f"{np.mean(voxels > 0):.1%} of voxels above the "
        f"{geometry.readout_threshold_mev:g} MeV readout threshold."
    )
    return 0


def _run_dimuon(args: argparse.Namespace) -> int:
    import numpy as np

    from hepgan.datafiles.root_writer import write_root
    from hepgan.simulators.dimuon import (
        BRANCHES,
        TYPE_CODES,
        TYPE_ENCODING,
        DimuonConfig,
        run_and_event_numbers,
        simulate_dimuon,
    )

    if args.output.suffix.lower() != ".root":
        raise ConfigError(f"-o/--output: {args.output} must end in .root")
    if not 0.0 <= args.background_fraction <= 1.0:
        raise ConfigError(
            f"--background-fraction must be in [0, 1], got {args.background_fraction:g}"
        )
    config = DimuonConfig(background_fraction=args.background_fraction)
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    chunks = []
    with _progress(args.events, "events") as bar:
        for size in _chunk_sizes(args.events, DIMUON_EVENTS_PER_CHUNK):
            chunks.append(simulate_dimuon(size, rng=rng, config=config))
            bar.update(size)
    columns = {name: np.concatenate([chunk[name] for chunk in chunks]) for name in BRANCHES}
    # One data-taking sequence for the whole file instead of one per chunk.
    columns["Run"], columns["Event"] = run_and_event_numbers(args.events, rng=rng, config=config)
    elapsed = time.perf_counter() - start
    provenance = {"generator": "hepgan simulate dimuon", "seed": args.seed, **vars(config)}
    write_root(
        args.output,
        columns,
        tree="events",
        metadata={"type_encoding": TYPE_ENCODING, "simulation": json.dumps(provenance)},
    )
    mass = columns["M"]
    near_z = np.abs(mass - config.z_mass_gev) < 5.0
    opposite = columns["Q1"] != columns["Q2"]
    print(
        f"Simulated {args.events} dimuon events (Z -> mu mu, background share "
        f"{config.background_fraction:.0%}, pt resolution {config.pt_resolution_constant:.0%} "
        f"(+) {config.pt_resolution_slope_per_gev:g} pt), seed {args.seed}, in {elapsed:.2f} s. "
        f"Wrote {args.output} ({_megabytes(args.output):.1f} MB; TTree 'events', "
        f"{len(BRANCHES)} branches, GeV). Pair mass: median {np.median(mass):.2f} GeV, "
        f"{near_z.mean():.1%} within 5 GeV of the Z mass; {opposite.mean():.1%} opposite-sign; "
        f"{np.mean(columns['Type'] == TYPE_CODES['GG']):.1%} of Type {TYPE_CODES['GG']} (GG)."
    )
    return 0


def _chunk_sizes(total: int, chunk: int) -> list[int]:
    """Sizes of consecutive chunks of at most ``chunk`` adding up to ``total``."""
    return [min(chunk, total - start) for start in range(0, total, chunk)]


def _progress(total: int, unit: str):
    from tqdm import tqdm

    return tqdm(total=total, unit=f" {unit}", disable=None, file=sys.stderr, desc="simulate")


def _megabytes(path: Path) -> float:
    return path.stat().st_size / 1e6
