"""``hepgan generate``: offline batch generation into ROOT or CaloChallenge HDF5 files.

Under ``torchrun`` (or in a Slurm array, or with ``--rank``/``--world-size``) it is one rank
of a sharded production: :mod:`hepgan.models.shards` says what each rank writes.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hepgan.commands import new_command, output_format, parse_condition_flag
from hepgan.errors import ConfigError
from hepgan.progress import Progress

if TYPE_CHECKING:
    from hepgan.models.card import ModelCard


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
        help="fix a condition, or draw it in [LO, HI] (log-uniformly when LO > 0, as the "
        "service does); default: drawn from the reference sample",
    )
    parser.add_argument(
        "--extrapolate",
        action="store_true",
        help="allow conditions outside the model's training range (refused by default, as by "
        "the service)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("-o", "--output", required=True, help="output file (.root or .h5)")
    sharding = parser.add_argument_group(
        "sharded production",
        "one ROOT file per rank (OUT.rank00003.root) and OUT.manifest.json; the rank and world "
        "size come from torchrun (RANK, WORLD_SIZE) or a Slurm array unless given",
    )
    sharding.add_argument("--rank", type=int, default=None, help="this process's shard")
    sharding.add_argument("--world-size", type=int, default=None, help="number of shards")
    sharding.add_argument(
        "--resume",
        action="store_true",
        help="keep the shards already written by this production (the same settings, and "
        "intact by their .sha256 file); regenerate the others, saying why",
    )
    parser.set_defaults(run=_run)


def condition_bounds(
    specs: list[str],
    names: list[str],
    training_ranges: Mapping[str, Sequence[float]] | None = None,
) -> dict[str, list[float]]:
    """{name: [low, high]} from NAME=VALUE (low == high) / NAME=LO:HI specs, in the model's
    condition order; every condition must be given. Empty when no spec is given.

    With ``training_ranges`` ({name: [lo, hi]}, the card's), a spec outside its range is
    refused with the service's message (:func:`hepgan.models.conditions.outside_training_range`).
    """
    from hepgan.models.conditions import outside_training_range

    if not specs:
        return {}
    values: dict[str, list[float]] = {}
    for spec in specs:
        name, low, high = parse_condition_flag(spec)
        if name not in names:
            raise ConfigError(
                f"--condition {spec!r}: NAME must be one of "
                f"{', '.join(names) or '(this model takes no conditions)'}"
            )
        if training_ranges is not None and name in training_ranges:
            outside = outside_training_range(
                low, high, training_ranges[name], how_to_allow="pass --extrapolate"
            )
            if outside:
                raise ConfigError(f"--condition {name}: {outside}")
        values[name] = [low, high]
    missing = [name for name in names if name not in values]
    if missing:
        raise ConfigError(f"--condition: give every condition; missing {', '.join(missing)}")
    return {name: values[name] for name in names}


def _run(args: argparse.Namespace) -> int:
    import numpy as np

    from hepgan.devices import resolve_device
    from hepgan.models.artefact import load_artefact
    from hepgan.models.conditions import draw_conditions

    device = resolve_device(args.device)
    if args.events < 1:
        raise ConfigError(f"-n/--events must be a positive integer, got {args.events}")
    output = Path(args.output)
    file_format = output_format(output)
    _make_output_folder(output)
    position = _shard_position(args)
    if position is not None:
        return _run_shard(args, *position)
    artefact = load_artefact(args.model)
    card = artefact.card
    bounds = condition_bounds(args.condition, card.condition_names, _checked_ranges(args, card))
    conditions = draw_conditions(bounds, args.events, seed=args.seed)
    if conditions is None:
        conditions = artefact.sample_conditions(args.events, seed=args.seed)
    with Progress("generate", total=args.events, unit="events") as progress:
        features = artefact.generate(
            args.events,
            conditions=conditions,
            seed=args.seed,
            device=str(device),
            progress=progress.update,
        )
    if file_format == "root":
        from hepgan.datafiles.root_writer import write_root

        write_root(
            output,
            artefact.output_columns(features, conditions),
            tree=card.output.tree,
            metadata=artefact.output_metadata(),
        )
    else:
        if card.kind != "showers":
            raise ConfigError("-o/--output: HDF5 (CaloChallenge) output is for shower models only")
        from hepgan.datafiles.calochallenge import write_calochallenge

        write_calochallenge(
            output, conditions[:, 0], features, attributes=artefact.output_metadata()
        )
    nonzero = f", {np.mean(features > 0):.1%} non-zero values" if card.kind == "showers" else ""
    print(f"wrote {args.events} events from model {artefact.name} to {output}{nonzero}")
    return 0


def _make_output_folder(output: Path) -> None:
    """Create ``-o/--output``'s folder (and its parents) when missing; every rank of a sharded
    production may race to, so an existing folder is fine."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"-o/--output: cannot create folder {output.parent}: {error}") from None


def _checked_ranges(
    args: argparse.Namespace, card: ModelCard
) -> Mapping[str, Sequence[float]] | None:
    """The training ranges ``--condition`` values must lie in; None with ``--extrapolate``."""
    return None if args.extrapolate else card.condition_ranges


def _shard_position(args: argparse.Namespace) -> tuple[int, int] | None:
    """(rank, world size) from the flags, else the launcher's environment; None for one file."""
    from hepgan.models.shards import shard_position

    found = shard_position()
    rank = args.rank if args.rank is not None else (found[0] if found else None)
    world_size = args.world_size if args.world_size is not None else (found[1] if found else None)
    if rank is None and world_size is None:
        return (0, 1) if args.resume else None
    if rank is None or world_size is None:
        raise ConfigError("--rank and --world-size go together (or come from torchrun or Slurm)")
    if not 0 <= rank < world_size:
        raise ConfigError(f"--rank must be in [0, {world_size}), got {rank}")
    return rank, world_size


def _run_shard(args: argparse.Namespace, rank: int, world_size: int) -> int:
    """Write this rank's shard (unless ``--resume`` finds it), then the manifest once all are."""
    from hepgan.devices import resolve_device
    from hepgan.models.artefact import CARD_FILE, load_artefact, sha256_of
    from hepgan.models.conditions import draw_conditions
    from hepgan.models.sampler import default_batch_size
    from hepgan.models.shards import (
        ShardPlan,
        all_shards_written,
        shard_problem,
        write_manifest,
        write_shard,
    )
    from hepgan.training import distributed

    if Path(args.output).suffix.lower() != ".root":
        raise ConfigError(f"-o/--output: sharded production writes ROOT files; got {args.output}")
    if args.seed is None:
        raise ConfigError(
            "--seed: a sharded production needs a seed, from which every rank derives its own "
            "stream (and --resume regenerates a lost shard)"
        )
    artefact = load_artefact(args.model)
    plan = ShardPlan(
        output=args.output,
        total_events=args.events,
        world_size=world_size,
        seed=args.seed,
        artefact_sha256=sha256_of(Path(args.model) / CARD_FILE),
        batch_size=default_batch_size(artefact.card.n_features),
        conditions=condition_bounds(
            args.condition, artefact.card.condition_names, _checked_ranges(args, artefact.card)
        ),
    )
    context = distributed.start(resolve_device(args.device))
    device = str(context.device)  # one GPU per local rank when torchrun starts several
    try:
        path = plan.path(rank)
        problem = shard_problem(plan, rank) if args.resume else None
        if args.resume and problem is None:
            print(f"rank {rank}: kept {path} ({plan.events(rank)} events, already written)")
        else:
            if problem is not None and path.exists():  # say why a shard there is not kept
                print(f"rank {rank}: regenerating {path}: {problem}")
            n_events = plan.events(rank)
            conditions = draw_conditions(plan.conditions, n_events, seed=plan.stream_seed(rank))
            with Progress(f"generate rank {rank}", total=n_events, unit="events") as progress:
                write_shard(
                    artefact,
                    plan,
                    rank,
                    conditions=conditions,
                    device=device,
                    progress=progress.update,
                )
            print(f"rank {rank}: wrote {n_events} events from model {artefact.name} to {path}")
        context.barrier()
        # Under torchrun rank 0 writes the manifest after everyone; independent jobs (Slurm
        # arrays) each try once their shard is in place, and the last one finds them all.
        if context.is_main if context.enabled else all_shards_written(plan):
            manifest = write_manifest(plan, writer=f"rank{rank}")
            print(f"rank {rank}: wrote {manifest} ({plan.world_size} shards)")
    finally:
        distributed.stop(context)
    return 0
