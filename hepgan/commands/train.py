"""``hepgan train``: fit a conditional GAN to showers or event features and write its artefact."""

from __future__ import annotations

import argparse

from hepgan.commands import new_command

EXAMPLES = """examples:
  hepgan train --data showers.root --tree showers --voxels voxels --condition incident_energy \\
      --out models/showers --max-minutes 10
  hepgan train --data dimuon.root --tree events --features E1,px1,py1,pz1,Q1,E2,px2,py2,pz2,Q2 \\
      --out models/dimuon --loss wgan-gp --seed 1
  torchrun --nproc-per-node 4 -m hepgan.cli train --config showers.toml --resume
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = new_command(
        subparsers,
        "train",
        help="train a conditional GAN on ROOT or CaloChallenge HDF5 files",
        description="Train a conditional GAN and write a model artefact folder (model.json, "
        "safetensors weights, held-out reference sample). Settings come from defaults, then "
        "--config FILE.toml, then the flags given here.",
    )
    parser.epilog = EXAMPLES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--data", help="input file(s), comma-separated; globs allowed")
    parser.add_argument("--tree", help="TTree name (ROOT inputs; default: the only tree)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--features", help="event-feature branches, comma-separated")
    group.add_argument("--voxels", help="the voxel branch of a shower file")
    parser.add_argument("--condition", help="conditioning branch, e.g. incident_energy")
    parser.add_argument("--out", help="artefact folder to write")
    parser.add_argument("--config", help="TOML file with any of the settings")
    parser.add_argument("--loss", choices=("wgan-gp", "bce"), help="training objective")
    parser.add_argument("--max-minutes", type=float, help="wall-clock budget of the training loop")
    parser.add_argument("--epochs", type=float, help="passes over the training split")
    parser.add_argument("--max-steps", type=int, help="generator steps")
    parser.add_argument("--seed", type=int, help="random seed")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), help="where to train")
    parser.add_argument("--resume", action="store_true", default=None, help="continue a run")
    parser.add_argument("--run-dir", help="checkpoints, history and plots (default OUT/run)")
    parser.add_argument("--geometry", help="shower geometry preset (default: from the file)")
    parser.add_argument("--max-events", type=int, help="read at most this many events")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from hepgan.training.config import build_config, read_toml
    from hepgan.training.loop import train

    file_values = read_toml(args.config) if args.config else {}
    flags = {
        name: getattr(args, name)
        for name in (
            "data",
            "tree",
            "features",
            "voxels",
            "condition",
            "out",
            "loss",
            "max_minutes",
            "epochs",
            "max_steps",
            "seed",
            "device",
            "resume",
            "run_dir",
            "geometry",
            "max_events",
        )
    }
    if flags["features"] or flags["voxels"]:  # a flag picks the kind: drop the file's other one
        file_values.pop("voxels" if flags["features"] else "features", None)
    result = train(build_config(file_values, flags))
    if result.stopped_by:
        return 130 if result.stopped_by == "SIGINT" else 143
    if result.artefact is not None:
        print(
            f"wrote {result.artefact} (best step {result.best_step} of {result.step}, "
            f"mean KS {result.best_metric:.4f} on the validation split)"
        )
    return 0
