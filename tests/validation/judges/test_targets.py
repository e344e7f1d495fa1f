"""The quality targets (hepgan.validation.judges.targets) and scripts/quality.py, which writes
the figures of docs/quality.md from them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from hepgan.validation.judges.targets import mass_peak, response_targets
from hepgan.validation.report.calorimeter import ShowerSample

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "quality.py"


def test_mass_peak_finds_the_maximum_of_a_broad_peak() -> None:
    rng = np.random.default_rng(0)
    masses = rng.normal(91.19, 2.5, 200_000)
    # 0.25 GeV bins: the peak is found to within one bin, wherever it is
    assert mass_peak(masses) == pytest.approx(91.19, abs=0.25)
    assert mass_peak(masses - 3.0) == pytest.approx(88.19, abs=0.25)


def test_mass_peak_ignores_a_one_bin_spike() -> None:
    rng = np.random.default_rng(1)
    masses = rng.normal(91.19, 2.5, 200_000)
    # about 8,000 events in the peak's bin; 12,000 in one bin at 80 GeV beat it before the
    # 5-bin moving average and not after (12,000 / 5 = 2,400)
    spiked = np.concatenate([masses, np.full(12_000, 80.1)])
    counts, _ = np.histogram(spiked, bins=np.arange(70.0, 110.125, 0.25))
    assert counts.argmax() == 40  # the bin [80.0, 80.25)
    assert mass_peak(spiked) == pytest.approx(91.19, abs=0.25)


def test_the_response_targets_are_the_reports_bins_with_relative_differences() -> None:
    rng = np.random.default_rng(2)
    energy = np.exp(rng.uniform(np.log(1e3), np.log(1e5), 4000))
    reference = ShowerSample(rng.gamma(50.0, 0.02, (4000, 3)) * energy[:, None] / 3, energy)
    generated = ShowerSample(1.1 * reference.voxels, energy)  # 10 % high, the same sigma / mean
    bins = response_targets(generated, reference)
    assert len(bins) == 5
    for row in bins:
        assert row["mean_relative_difference"] == pytest.approx(0.1)
        assert row["resolution_relative_difference"] == pytest.approx(0.0, abs=1e-12)
        assert row["candidate"]["n_events"] == row["reference"]["n_events"] >= 10


@pytest.mark.slow
def test_the_script_judges_a_model_and_records_how_the_judge_trained(tmp_path: Path) -> None:
    """scripts/quality.py on a tiny shower model and an independent simulated file: every
    target is evaluated, and the judge's record says it converged (or ran all its epochs)."""
    from hepgan.cli import main as hepgan
    from tests.support.tiny import make_tiny_artefact

    model = make_tiny_artefact(tmp_path / "model", kind="showers")
    test_file = tmp_path / "test.root"
    simulate = ["simulate", "showers", "--geometry", "small", "-n", "600", "--seed", "9"]
    assert (
        hepgan([*simulate, "--energy-min", "1000", "--energy-max", "100000", "-o", str(test_file)])
        == 0
    )
    spec = importlib.util.spec_from_file_location("quality_script", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "quality.json"
    arguments = ["showers", "--model", str(model), "--test", str(test_file), "--json", str(out)]
    assert script.main([*arguments, "--classifier-events", "300"]) == 0
    result = json.loads(out.read_text())
    assert set(result["targets"]) == {
        "separation power median <= 0.005",
        "separation power max <= 0.02",
        "E ratio mean within 1 % in 5 bins",
        "E ratio resolution within 5 % in 5 bins",
        "classifier AUC <= 0.75",
    }
    assert "n_hits_layer_09" in result["separation_power"]
    judge = result["classifier"]
    assert judge["stopped_by"] in ("patience", "max_epochs") and judge["max_seconds"] is None
    assert len(judge["history"]) == judge["epochs"] and 1 <= judge["best_epoch"] <= 50
    assert result["classifier_inputs"] == ["energies", "centres", "widths", "hits"]
    assert result["test_file"] == str(test_file) and result["judge"] == "converged"
