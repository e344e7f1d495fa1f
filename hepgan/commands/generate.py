"""``hepgan generate``: offline batch generation into ROOT or CaloChallenge HDF5 files."""

from __future__ import annotations

import argparse

from hepgan.commands import new_command, parse_condition_flag, range_distribution
from hepgan.errors import ConfigError

SUFFIXES = (".root", ".h5", ".hdf5")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = new_command(
        subparsers,
        "generate",
        help="generate events with a trained model into a ROOT or HDF5 file",
        description="Generate events with a model artefact, written in the layout of the "
        "training input (same tree and branches), so the same analysis code reads them.",
    )
    parser.add_argument("--model", required=True, help="model artefact folder")
    parser.add_argument("-n", "--events", type=int, required=True, help="number of events")
    parser.add_argument(
        "--condition",
        action="append",
        default=[],
        metavar="NAME=VALUE|NAME=LO:HI",
        help="fix a condition, or draw it log-uniformly (energies) in [LO, HI]; default: drawn "
        "from the reference sample",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("-o", "--output", required=True, help="output file (.root or .h5)")
    parser.set_defaults(run=_run)


def parse_conditions(specs: list[str], names: list[str], n_events: int, *, seed: int | None):
    """Conditions (N, C) from NAME=VALUE / NAME=LO:HI specs; None when none are given.

    A range is sampled as :func:`range_distribution` says (log-uniform when 0 < LO).
    """
    import numpy as np

    if not specs:
        return None
    values: dict[str, tuple[float, float]] = {}
    for spec in specs:
        name, low, high = parse_condition_flag(spec)
        if name not in names:
            raise ConfigError(
                f"--condition {spec!r}: NAME must be one of "
                f"{', '.join(names) or '(this model takes no conditions)'}"
            )
        values[name] = (low, high)
    missing = [name for name in names if name not in values]
    if missing:
        raise ConfigError(f"--condition: give every condition; missing {', '.join(missing)}")
    rng = np.random.default_rng(seed)
    columns = []
    for name in names:
        lo, hi = values[name]
        if lo == hi:
            columns.append(np.full(n_events, lo))
        elif range_distribution(lo) == "log-uniform":
            columns.append(np.exp(rng.uniform(np.log(lo), np.log(hi), n_events)))
        else:
            columns.append(rng.uniform(lo, hi, n_events))
    return np.column_stack(columns)  # (N, C)


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from hepgan.devices import resolve_device
    from hepgan.models.artefact import load_artefact

    device = resolve_device(args.device)
    if args.events < 1:
        raise ConfigError(f"-n/--events must be a positive integer, got {args.events}")
    output = Path(args.output)
    if output.suffix.lower() not in SUFFIXES:
        raise ConfigError(f"-o/--output: {output} must end in {', '.join(SUFFIXES)}")
    if not output.parent.is_dir():
        raise ConfigError(f"-o/--output: folder {output.parent} does not exist")
    artefact = load_artefact(args.model)
    card = artefact.card
    conditions = parse_conditions(args.condition, card.condition_names, args.events, seed=args.seed)
    if conditions is None:
        conditions = artefact.sample_conditions(args.events, seed=args.seed)
    features = artefact.generate(
        args.events, conditions=conditions, seed=args.seed, device=str(device)
    )
    if output.suffix.lower() == ".root":
        from hepgan.datafiles.root_writer import write_root

        write_root(
            output,
            artefact.output_columns(features, conditions),
            tree=card.output.tree,
            metadata={"model": artefact.name},
        )
    else:
        if card.kind != "showers":
            raise ConfigError("-o/--output: HDF5 (CaloChallenge) output is for shower models only")
        from hepgan.datafiles.calochallenge import write_calochallenge

        write_calochallenge(output, conditions[:, 0], features)
    nonzero = f", {np.mean(features > 0):.1%} non-zero values" if card.kind == "showers" else ""
    print(f"wrote {args.events} events from model {artefact.name} to {output}{nonzero}")
    return 0
