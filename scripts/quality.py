"""Judge a trained model against an independent, held-out test file: the targets of issue 12.

    python scripts/quality.py dimuon --model M --test dimuon_test.root --json out.json
    python scripts/quality.py showers --model M --test showers_test.root --json out.json

The test file is simulated with its own seed: none of its events was seen in
training or in the checkpoint choice. The model generates as many events as
the test file holds (for showers, at the test events' incident energies).

The classifier is the CaloChallenge-style high-level judge
(:mod:`hepgan.validation.judges.high_level_classifier`: two hidden layers of 2,048 units,
early stopping, calibrated JS); for showers on log10 energy per layer, centres and
widths per layer and log10 E_inc, for events on the features.

dimuon targets: KS <= 0.02 for every feature and for the pair mass M recomputed from
the generated four-vectors; classifier AUC <= 0.60.
showers targets: separation power median <= 0.005 and max <= 0.02 over the shower
observables; E_visible / E_incident within 1 % (mean) and 5 % (standard deviation,
the resolution) in each of 5 log-spaced incident-energy bins; classifier AUC <= 0.75.
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
    HighLevelClassifierOptions,
    high_level_classifier_test,
    shower_high_level_features,
)
from hepgan.validation.report.build import build_report
from hepgan.validation.report.observables import ObservableDefinition
from hepgan.validation.stats.ks import ks_statistics

PEAK_WINDOW_GEV = (70.0, 110.0)
PEAK_BIN_GEV = 0.25
N_ENERGY_BINS = 5


def test_tree(test: str, artefact) -> str | None:
    """The TTree to read a ROOT test file from (the model's output tree); None for HDF5."""
    return None if is_hdf5(test) else artefact.card.output.tree


def mass_peak(masses: np.ndarray) -> float:
    """Position (GeV) of the maximum of the M histogram (0.25 GeV bins in 70-110 GeV) after a
    5-bin moving average, which keeps bin-to-bin noise from moving the peak."""
    edges = np.arange(PEAK_WINDOW_GEV[0], PEAK_WINDOW_GEV[1] + PEAK_BIN_GEV / 2, PEAK_BIN_GEV)
    counts, _ = np.histogram(masses, bins=edges)
    smoothed = np.convolve(counts, np.ones(5) / 5, mode="same")
    centre = 0.5 * (edges[:-1] + edges[1:])
    return float(centre[np.argmax(smoothed)])


def judge_dimuon(model: str, test: str, *, seed: int, options: HighLevelClassifierOptions) -> dict:
    artefact = load_artefact(model)
    names = artefact.card.feature_names
    columns = read_table(test, tree=test_tree(test, artefact), branches=names, progress=False)
    reference = np.column_stack([columns[name] for name in names]).astype(np.float64)  # (M, F)
    generated = artefact.generate(len(reference), seed=seed).astype(np.float64)  # (M, F)
    ks = ks_statistics(generated, reference)
    definition = ObservableDefinition.of_card(artefact.card)
    observables = [definition.compute(sample, None) for sample in (generated, reference)]
    mass = [sample["M_from_four_vectors"] for sample in observables]
    mass_ks = float(ks_statistics(mass[0][:, None], mass[1][:, None])[0])
    peaks = [mass_peak(values) for values in mass]
    judge = high_level_classifier_test(generated, reference, options=options, seed=seed)
    auc = judge.auc
    result = {
        "n_events": len(reference),
        "feature_ks": dict(zip(names, map(float, ks), strict=True)),
        "max_feature_ks": float(ks.max()),
        "mass_ks": mass_ks,
        "mass_peak_generated_gev": peaks[0],
        "mass_peak_reference_gev": peaks[1],
        "mass_peak_shift_gev": abs(peaks[0] - peaks[1]),
        "classifier_auc": auc,
        "classifier": judge.to_dict(),
    }
    result["targets"] = {
        "every feature KS <= 0.02": result["max_feature_ks"] <= 0.02,
        "M KS <= 0.02": mass_ks <= 0.02,
        "classifier AUC <= 0.60": auc <= 0.60,
    }
    return result


def energy_response(
    ratio: np.ndarray, energy: np.ndarray, edges: np.ndarray
) -> list[tuple[float, float]]:
    """(mean, standard deviation) of E_visible / E_incident in each incident-energy bin."""
    which = np.clip(np.searchsorted(edges, energy, side="right") - 1, 0, len(edges) - 2)
    return [
        (float(ratio[which == b].mean()), float(ratio[which == b].std()))
        for b in range(len(edges) - 1)
    ]


def judge_showers(model: str, test: str, *, seed: int, options: HighLevelClassifierOptions) -> dict:
    artefact = load_artefact(model)
    columns = read_table(
        test,
        tree=test_tree(test, artefact),
        branches=["incident_energy", "voxels"],
        progress=False,
    )
    energy = np.asarray(columns["incident_energy"], dtype=np.float64)  # (M,) MeV
    reference_voxels = np.asarray(columns["voxels"], dtype=np.float64)  # (M, V) MeV
    generated_voxels = artefact.generate(len(energy), conditions=energy[:, None], seed=seed)
    definition = ObservableDefinition.of_card(artefact.card)
    observables = [
        definition.compute(voxels, energy[:, None])
        for voxels in (generated_voxels, reference_voxels)
    ]
    report = build_report(observables[0], observables[1])
    separation = {score.name: score.separation_power for score in report.observables}
    edges = np.geomspace(energy.min(), energy.max() * (1 + 1e-9), N_ENERGY_BINS + 1)
    responses = [energy_response(o["e_total_over_incident"], energy, edges) for o in observables]
    bins = []
    for b, ((gen_mean, gen_std), (ref_mean, ref_std)) in enumerate(zip(*responses, strict=True)):
        bins.append(
            {
                "energy_range_mev": [float(edges[b]), float(edges[b + 1])],
                "mean_generated": gen_mean,
                "mean_reference": ref_mean,
                "mean_relative_difference": gen_mean / ref_mean - 1,
                "resolution_generated": gen_std / gen_mean,
                "resolution_reference": ref_std / ref_mean,
                "resolution_relative_difference": (gen_std / gen_mean) / (ref_std / ref_mean) - 1,
            }
        )
    high_level = [shower_high_level_features(o, energy) for o in observables]
    judge = high_level_classifier_test(high_level[0], high_level[1], options=options, seed=seed)
    powers = np.array(list(separation.values()))
    result = {
        "n_events": len(energy),
        "separation_power": separation,
        "median_separation_power": float(np.median(powers)),
        "max_separation_power": float(powers.max()),
        "worst_observable": max(separation, key=separation.get),
        "energy_bins": bins,
        "max_mean_deviation": max(abs(b["mean_relative_difference"]) for b in bins),
        "max_resolution_deviation": max(abs(b["resolution_relative_difference"]) for b in bins),
        "classifier_auc": judge.auc,
        "classifier": judge.to_dict(),
    }
    result["targets"] = {
        "separation power median <= 0.005": result["median_separation_power"] <= 0.005,
        "separation power max <= 0.02": result["max_separation_power"] <= 0.02,
        "E ratio mean within 1 % in 5 bins": result["max_mean_deviation"] <= 0.01,
        "E ratio resolution within 5 % in 5 bins": result["max_resolution_deviation"] <= 0.05,
        "classifier AUC <= 0.75": judge.auc <= 0.75,
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("dimuon", "showers"))
    parser.add_argument("--model", required=True)
    parser.add_argument(
        "--test", required=True, help="independent test file (ROOT or CaloChallenge HDF5)"
    )
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument(
        "--classifier-seconds",
        type=float,
        default=HighLevelClassifierOptions.max_seconds,
        help="wall-clock cap of the high-level classifier's training",
    )
    parser.add_argument(
        "--classifier-epochs",
        type=int,
        default=HighLevelClassifierOptions.max_epochs,
        help="most epochs of the high-level classifier (a fixed count compares models fairly "
        "on a shared machine, where a wall-clock cap buys a varying number of epochs)",
    )
    parser.add_argument(
        "--classifier-events",
        type=int,
        default=HighLevelClassifierOptions.max_events_per_class,
        help="events per class for the high-level classifier (60 / 20 / 20 split)",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    judge = judge_dimuon if args.kind == "dimuon" else judge_showers
    options = HighLevelClassifierOptions(
        max_seconds=args.classifier_seconds,
        max_epochs=args.classifier_epochs,
        max_events_per_class=args.classifier_events,
    )
    result = judge(args.model, args.test, seed=args.seed, options=options)
    card = load_artefact(args.model).card
    result["training"] = {
        "wall_seconds": card.training.wall_seconds,
        "steps": card.training.steps,
        "best_step": card.training.best_step,
        "loss": card.training.loss,
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
