"""Judge a trained model against an independent simulated file: the quality targets.

    python scripts/quality.py showers --model M --test showers_test.root --json out.json
    python scripts/quality.py dimuon --model M --test dimuon_test.root --json out.json

The file must be independent of everything the model saw: simulated with its own seed,
neither trained on nor used to choose a checkpoint or a setting (scripts/quality.sh keeps
a selection file for choices and a test file for the final table). The model generates as
many events as the file holds (showers at the file's incident energies) and
:mod:`hepgan.validation.judges.targets` judges them: for showers the separation powers,
the response and resolution in 5 energy bins and the high-level judge; for dimuon events
the KS of every feature and of the pair mass, and the judge.

The judge trains to convergence (``--judge converged``, the default: up to 50 epochs,
stopped after 10 without a better validation loss) or by the CaloChallenge's protocol
(``--judge calochallenge``: all 50 epochs, the best validation accuracy kept); its record
(epochs, kept epoch, why it stopped, the validation history) is in the output.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from hepgan.datafiles.datasets import is_hdf5, read_table
from hepgan.models.artefact import load_artefact
from hepgan.validation.judges.high_level_classifier import (
    CALOCHALLENGE_INPUT_GROUPS,
    SHOWER_INPUT_GROUPS,
    HighLevelClassifierOptions,
)
from hepgan.validation.judges.targets import judge_pair_events, judge_showers
from hepgan.validation.report.observables import ObservableDefinition

JUDGES = ("converged", "calochallenge")
INPUTS = {"all": SHOWER_INPUT_GROUPS, "calochallenge": CALOCHALLENGE_INPUT_GROUPS}


def _read_test(test: str, artefact, branches: list[str]) -> dict[str, np.ndarray]:
    """The test file's columns (ROOT: the model's output tree; HDF5: the CaloChallenge layout)."""
    tree = None if is_hdf5(test) else artefact.card.output.tree
    return read_table(test, tree=tree, branches=branches, progress=False)


def _judge(args: argparse.Namespace, options: HighLevelClassifierOptions) -> dict:
    artefact = load_artefact(args.model)
    definition = ObservableDefinition.of_card(artefact.card)
    if args.kind == "showers":
        columns = _read_test(args.test, artefact, ["incident_energy", "voxels"])
        energy = np.asarray(columns["incident_energy"], dtype=np.float64)  # (M,) MeV
        reference = np.asarray(columns["voxels"], dtype=np.float64)  # (M, V) MeV
        generated = artefact.generate(len(energy), conditions=energy[:, None], seed=args.seed)
        return judge_showers(
            generated,
            reference,
            energy,
            definition,
            options=options,
            groups=INPUTS[args.inputs],
            separation_by_group=args.by_group,
            seed=args.seed,
        )
    names = artefact.card.feature_names
    columns = _read_test(args.test, artefact, names)
    reference = np.column_stack([columns[name] for name in names]).astype(np.float64)
    generated = artefact.generate(len(reference), seed=args.seed).astype(np.float64)
    observables = [definition.compute(sample, None) for sample in (generated, reference)]
    return judge_pair_events(*observables, names, options=options, seed=args.seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("dimuon", "showers"))
    parser.add_argument("--model", required=True)
    parser.add_argument("--test", required=True, help="independent file (ROOT or HDF5)")
    parser.add_argument("--seed", type=int, default=123, help="generation and judge seed")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--judge", choices=JUDGES, default="converged")
    parser.add_argument(
        "--inputs",
        choices=sorted(INPUTS),
        default="all",
        help="shower judge inputs: 'all' (energies, centres, widths, hit counts per layer) "
        "or 'calochallenge' (without the hit counts)",
    )
    parser.add_argument(
        "--by-group",
        action="store_true",
        help="showers: also train the judge on each input group alone (where it separates)",
    )
    parser.add_argument(
        "--classifier-events",
        type=int,
        default=HighLevelClassifierOptions.max_events_per_class,
        help="events per class for the judge (60 / 20 / 20 split)",
    )
    parser.add_argument(
        "--classifier-seconds",
        type=float,
        default=None,
        help="a wall-clock cap of the judge's training (none by default; reported if hit)",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    settings = dict(
        max_events_per_class=args.classifier_events, max_seconds=args.classifier_seconds
    )
    options = (
        HighLevelClassifierOptions.calochallenge(**settings)
        if args.judge == "calochallenge"
        else HighLevelClassifierOptions(**settings)
    )
    result = {"judge": args.judge, "test_file": args.test, **_judge(args, options)}
    training = load_artefact(args.model).card.training
    result["training"] = {
        "wall_seconds": training.wall_seconds,
        "steps": training.steps,
        "best_step": training.best_step,
        "loss": training.loss,
    }
    result["evaluation_seconds"] = round(time.perf_counter() - start, 1)
    text = json.dumps(result, indent=1)
    if args.json:
        with open(args.json, "w") as handle:
            handle.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
