"""``hepgan simulate showers|dimuon``: write the example data the GANs learn from.

Showers (Grindhammer-Peters) go to ROOT (TTree ``showers``: ``incident_energy``
float64 MeV, ``voxels`` float32[n_voxels] MeV) or CaloChallenge HDF5; dimuon
events (Z -> mu mu) to ROOT (TTree ``events``, the CMS dimuon branches).
The simulation and the file (:mod:`hepgan.simulators.files`) are the library's; this
command checks the flags and prints the summary.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hepgan.commands import new_command, output_format
from hepgan.errors import ConfigError


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
    from hepgan.simulators.files import write_shower_file
    from hepgan.simulators.showers import MIN_ENERGY_MEV

    if args.geometry not in GEOMETRIES:
        known = ", ".join(GEOMETRIES)
        raise ConfigError(f"--geometry: unknown preset {args.geometry!r}; choose one of {known}")
    output_format(args.output)  # ROOT or CaloChallenge HDF5
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
    summary = write_shower_file(
        args.output,
        args.events,
        geometry=geometry,
        energy_min_mev=args.energy_min,
        energy_max_mev=args.energy_max,
        seed=args.seed,
    )
    n_layers, n_angles, n_radii = geometry.shape
    print(
        f"Simulated {args.events} electromagnetic showers (Grindhammer-Peters) in geometry "
        f"{geometry.name} ({n_layers} x {n_angles} x {n_radii} = {geometry.n_voxels} voxels, "
        f"{geometry.material}) with incident energies log-uniform in "
        f"[{args.energy_min:g}, {args.energy_max:g}] MeV, seed {args.seed}, in "
        f"{summary.elapsed_s:.2f} s ({args.events / summary.elapsed_s:,.0f} showers/s). Wrote "
        f"{args.output} ({_megabytes(args.output):.1f} MB; {summary.layout}). Calibrated "
        f"energies (visible / sampling fraction {geometry.sampling_fraction:.4f}); total over "
        f"incident energy: mean {summary.response_mean:.4f}, standard deviation "
        f"{summary.response_std:.4f}; {summary.nonzero_fraction:.1%} of voxels above the "
        f"{geometry.readout_threshold_mev:g} MeV readout threshold."
    )
    return 0


def _run_dimuon(args: argparse.Namespace) -> int:
    from hepgan.simulators.dimuon import BRANCHES, TYPE_CODES, DimuonConfig
    from hepgan.simulators.files import write_dimuon_file

    if args.output.suffix.lower() != ".root":
        raise ConfigError(f"-o/--output: {args.output} must end in .root")
    if not 0.0 <= args.background_fraction <= 1.0:
        raise ConfigError(
            f"--background-fraction must be in [0, 1], got {args.background_fraction:g}"
        )
    config = DimuonConfig(background_fraction=args.background_fraction)
    summary = write_dimuon_file(args.output, args.events, config=config, seed=args.seed)
    print(
        f"Simulated {args.events} dimuon events (Z -> mu mu, background share "
        f"{config.background_fraction:.0%}, pt resolution {config.pt_resolution_constant:.0%} "
        f"(+) {config.pt_resolution_slope_per_gev:g} pt), seed {args.seed}, in "
        f"{summary.elapsed_s:.2f} s. Wrote {args.output} ({_megabytes(args.output):.1f} MB; "
        f"TTree 'events', {len(BRANCHES)} branches, GeV). Pair mass: median "
        f"{summary.mass_median_gev:.2f} GeV, {summary.near_z_fraction:.1%} within 5 GeV of the "
        f"Z mass; {summary.opposite_sign_fraction:.1%} opposite-sign; "
        f"{summary.global_global_fraction:.1%} of Type {TYPE_CODES['GG']} (GG)."
    )
    return 0


def _megabytes(path: Path) -> float:
    return path.stat().st_size / 1e6
