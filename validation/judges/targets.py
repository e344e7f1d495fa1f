"""The quality targets: a generated sample judged against an independent simulated one.

Showers: the separation power S = 1/2 sum (h1 - h2)^2 / (h1 + h2) of every shower
observable (median <= 0.005, max <= 0.02), the response E_vis / E_inc (mean within 1 %)
and the resolution (its standard deviation over its mean, within 5 %) in each of 5
log-spaced incident-energy bins, and the high-level judge's AUC (<= 0.75).
Events with a pair mass: the KS of every feature and of M (<= 0.02), the judge's AUC
(<= 0.60). The judge is trained to convergence (:mod:`.high_level_classifier`); its
training record is part of the result, so an unconverged judge cannot pass unnoticed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hepgan.validation.judges.high_level_classifier import (
    SHOWER_INPUT_GROUPS,
    HighLevelClassifierOptions,
    classifier_inputs,
    high_level_classifier_test,
)
from hepgan.validation.report.build import build_report
from hepgan.validation.report.calorimeter import ShowerSample, response_by_energy
from hepgan.validation.report.observables import ObservableDefinition
from hepgan.validation.stats.ks import ks_statistics

PEAK_WINDOW_GEV = (70.0, 110.0)
PEAK_BIN_GEV = 0.25


def response_targets(generated: ShowerSample, reference: ShowerSample) -> list[dict[str, Any]]:
    """The report's response and resolution per incident-energy bin
    (:func:`~hepgan.validation.report.calorimeter.response_by_energy`) with the targets'
    relative differences, generated / reference - 1, of the mean and of sigma / mean."""
    bins = []
    for row in response_by_energy(generated, reference):
        gen, ref = row["candidate"], row["reference"]
        bins.append(
            {
                **row,
                "mean_relative_difference": gen["response"] / ref["response"] - 1,
                "resolution_relative_difference": gen["resolution"] / ref["resolution"] - 1,
            }
        )
    return bins


def judge_showers(
    generated_voxels: np.ndarray,
    reference_voxels: np.ndarray,
    energy_mev: np.ndarray,
    definition: ObservableDefinition,
    *,
    options: HighLevelClassifierOptions,
    groups: Sequence[str] = SHOWER_INPUT_GROUPS,
    separation_by_group: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """The shower targets for generated and reference showers (N, V) MeV at the same incident
    energies ``energy_mev`` (N,), their observables by ``definition``. With
    ``separation_by_group`` the judge also trains on each input group alone (with the
    incident energy): where the separation is."""
    generated, reference = (
        definition.compute(voxels, energy_mev[:, None])
        for voxels in (generated_voxels, reference_voxels)
    )
    report = build_report(generated, reference)
    separation = {score.name: score.separation_power for score in report.observables}
    powers = np.array(list(separation.values()))
    bins = response_targets(
        *(ShowerSample(voxels, energy_mev) for voxels in (generated_voxels, reference_voxels))
    )
    inputs = [classifier_inputs(o, energy_mev, groups) for o in (generated, reference)]
    judge = high_level_classifier_test(*inputs, options=options, seed=seed)
    result: dict[str, Any] = {
        "n_events": len(energy_mev),
        "separation_power": separation,
        "median_separation_power": float(np.median(powers)),
        "max_separation_power": float(powers.max()),
        "worst_observable": max(separation, key=separation.get),
        "energy_bins": bins,
        "max_mean_deviation": max(abs(b["mean_relative_difference"]) for b in bins),
        "max_resolution_deviation": max(abs(b["resolution_relative_difference"]) for b in bins),
        "classifier_inputs": list(groups),
        "classifier_auc": judge.auc,
        "classifier": judge.to_dict(),
    }
    if separation_by_group:
        result["auc_by_input_group"] = {
            group: high_level_classifier_test(
                *(classifier_inputs(o, energy_mev, [group]) for o in (generated, reference)),
                options=options,
                seed=seed,
            ).auc
            for group in SHOWER_INPUT_GROUPS
        }
    result["targets"] = {
        "separation power median <= 0.005": result["median_separation_power"] <= 0.005,
        "separation power max <= 0.02": result["max_separation_power"] <= 0.02,
        "E ratio mean within 1 % in 5 bins": result["max_mean_deviation"] <= 0.01,
        "E ratio resolution within 5 % in 5 bins": result["max_resolution_deviation"] <= 0.05,
        "classifier AUC <= 0.75": judge.auc <= 0.75,
    }
    return result


def mass_peak(masses: np.ndarray) -> float:
    """Position (GeV) of the maximum of the M histogram (0.25 GeV bins in 70-110 GeV) after a
    5-bin moving average, which keeps bin-to-bin noise from moving the peak."""
    edges = np.arange(PEAK_WINDOW_GEV[0], PEAK_WINDOW_GEV[1] + PEAK_BIN_GEV / 2, PEAK_BIN_GEV)
    counts, _ = np.histogram(masses, bins=edges)
    smoothed = np.convolve(counts, np.ones(5) / 5, mode="same")
    centre = 0.5 * (edges[:-1] + edges[1:])
    return float(centre[np.argmax(smoothed)])


def judge_pair_events(
    generated: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray],
    feature_names: Sequence[str],
    *,
    options: HighLevelClassifierOptions,
    seed: int = 0,
) -> dict[str, Any]:
    """The event targets for event observables (the features and ``M_from_four_vectors``)
    of generated and reference events; the judge sees every per-event observable."""
    ks = ks_statistics(
        np.column_stack([generated[name] for name in feature_names]),
        np.column_stack([reference[name] for name in feature_names]),
    )
    mass = [np.asarray(o["M_from_four_vectors"], np.float64) for o in (generated, reference)]
    mass_ks = float(ks_statistics(mass[0][:, None], mass[1][:, None])[0])
    peaks = [mass_peak(values) for values in mass]
    inputs = [classifier_inputs(o) for o in (generated, reference)]
    judge = high_level_classifier_test(*inputs, options=options, seed=seed)
    result: dict[str, Any] = {
        "n_events": len(mass[1]),
        "feature_ks": dict(zip(feature_names, map(float, ks), strict=True)),
        "max_feature_ks": float(ks.max()),
        "mass_ks": mass_ks,
        "mass_peak_generated_gev": peaks[0],
        "mass_peak_reference_gev": peaks[1],
        "mass_peak_shift_gev": abs(peaks[0] - peaks[1]),
        "classifier_auc": judge.auc,
        "classifier": judge.to_dict(),
    }
    result["targets"] = {
        "every feature KS <= 0.02": result["max_feature_ks"] <= 0.02,
        "M KS <= 0.02": mass_ks <= 0.02,
        "classifier AUC <= 0.60": judge.auc <= 0.60,
    }
    return result
