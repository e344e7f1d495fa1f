"""The metric functions of scripts/quality.py (which writes the figures of docs/quality.md)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "quality.py"


@pytest.fixture(scope="module")
def quality():
    spec = importlib.util.spec_from_file_location("quality_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mass_peak_finds_the_maximum_of_a_broad_peak(quality) -> None:
    rng = np.random.default_rng(0)
    masses = rng.normal(91.19, 2.5, 200_000)
    # 0.25 GeV bins: the peak is found to within one bin, wherever it is
    assert quality.mass_peak(masses) == pytest.approx(91.19, abs=0.25)
    assert quality.mass_peak(masses - 3.0) == pytest.approx(88.19, abs=0.25)


def test_mass_peak_ignores_a_one_bin_spike(quality) -> None:
    rng = np.random.default_rng(1)
    masses = rng.normal(91.19, 2.5, 200_000)
    # about 8,000 events in the peak's bin; 12,000 in one bin at 80 GeV beat it before the
    # 5-bin moving average and not after (12,000 / 5 = 2,400)
    spiked = np.concatenate([masses, np.full(12_000, 80.1)])
    counts, _ = np.histogram(spiked, bins=np.arange(70.0, 110.125, 0.25))
    assert counts.argmax() == 40  # the bin [80.0, 80.25)
    assert quality.mass_peak(spiked) == pytest.approx(91.19, abs=0.25)


def test_energy_response_per_bin_by_hand(quality) -> None:
    edges = np.array([1.0, 2.0, 4.0])
    energy = np.array([1.0, 1.5, 2.0, 3.9, 4.0])  # the top edge belongs to the last bin
    ratio = np.array([1.0, 3.0, 2.0, 4.0, 6.0])
    (mean_low, std_low), (mean_high, std_high) = quality.energy_response(ratio, energy, edges)
    assert (mean_low, std_low) == (2.0, 1.0)  # {1, 3}
    assert mean_high == 4.0 and std_high == pytest.approx(math.sqrt(8.0 / 3.0))  # {2, 4, 6}


def test_a_test_file_is_read_from_the_models_tree_or_as_hdf5(quality) -> None:
    # Only the card's output tree is read: an artefact trained on a ROOT file's "showers" tree.
    artefact = SimpleNamespace(card=SimpleNamespace(output=SimpleNamespace(tree="showers")))
    assert quality.test_tree("test.root", artefact) == "showers"
    assert quality.test_tree("dataset_2.h5", artefact) is None
    assert quality.test_tree("DATASET.HDF5", artefact) is None
