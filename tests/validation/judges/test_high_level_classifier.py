"""The CaloChallenge-style high-level judge: separates what differs, not what does not."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from hepgan.models.geometry import get_geometry
from hepgan.simulators.showers import simulate_showers
from hepgan.validation.judges.high_level_classifier import (
    HighLevelClassifierOptions,
    high_level_classifier_test,
    shower_high_level_features,
)
from hepgan.validation.report.observables import shower_observables

N_PER_CLASS = 4000
OPTIONS = HighLevelClassifierOptions(max_epochs=20, patience=3, batch_size=512)


def _gaussian_js(shift: float) -> float:
    """JS(N(0, 1) || N(shift, 1)) in nats by quadrature: 1/2 KL(p||m) + 1/2 KL(q||m)."""
    p, q = stats.norm(0.0, 1.0), stats.norm(shift, 1.0)

    def integrand(x: float) -> float:
        m = 0.5 * (p.pdf(x) + q.pdf(x))
        return 0.5 * (p.pdf(x) * math.log(p.pdf(x) / m) + q.pdf(x) * math.log(q.pdf(x) / m))

    return integrate.quad(integrand, -12.0, 12.0 + shift, limit=200)[0]


@pytest.mark.slow
def test_two_clearly_different_samples_are_separated() -> None:
    rng = np.random.default_rng(1)
    reference = rng.normal(size=(N_PER_CLASS, 6))
    candidate = rng.normal(size=(N_PER_CLASS, 6))
    candidate[:, 2] += 3.0  # one feature shifted by three standard deviations
    result = high_level_classifier_test(candidate, reference, options=OPTIONS, seed=2)
    # The Bayes-optimal AUC for a shift d of a unit Gaussian is Phi(d / sqrt 2) = 0.983.
    assert result.auc == pytest.approx(stats.norm.cdf(3.0 / math.sqrt(2.0)), abs=0.02)
    assert result.js_nats == pytest.approx(_gaussian_js(3.0), abs=0.05)
    assert result.n_test == 2 * round(OPTIONS.test_fraction * N_PER_CLASS)
    assert 1 <= result.best_epoch <= result.epochs
    assert result.stopped_by in ("patience", "max_epochs", "max_seconds")


@pytest.mark.slow
def test_two_samples_of_one_distribution_look_alike_and_calibration_removes_overconfidence() -> (
    None
):
    rng = np.random.default_rng(3)
    reference, candidate = rng.normal(size=(2, N_PER_CLASS, 6))
    result = high_level_classifier_test(candidate, reference, options=OPTIONS, seed=4)
    # The AUC of 1,600 test events per class scatters by about 0.01 around 0.5.
    assert result.auc == pytest.approx(0.5, abs=0.04)
    assert result.js_nats < 0.005
    assert result.calibration[0] >= 0.0


def test_the_judge_is_deterministic_with_a_seed() -> None:
    rng = np.random.default_rng(5)
    candidate, reference = rng.normal(size=(1000, 3)), rng.normal(0.2, 1, size=(1000, 3))
    options = HighLevelClassifierOptions(max_epochs=2, hidden=64, batch_size=256)
    first = high_level_classifier_test(candidate, reference, options=options, seed=7)
    second = high_level_classifier_test(candidate, reference, options=options, seed=7)
    assert first.score() == second.score()
    assert first.auc > 0.5


def test_shower_inputs_are_the_calochallenge_high_level_features() -> None:
    geometry = get_geometry("small")
    incident, voxels = simulate_showers(
        200, geometry=geometry, energy_min_mev=1e3, energy_max_mev=1e5, rng=np.random.default_rng(5)
    )
    observables = shower_observables(voxels, incident, geometry)
    features = shower_high_level_features(observables, incident)
    layers = geometry.n_layers
    assert features.shape == (200, 5 * layers + 1)
    layer_energy = voxels.reshape(200, layers, -1).sum(axis=2, dtype=np.float64)
    np.testing.assert_allclose(features[:, :layers], np.log10(layer_energy + 1e-8), rtol=1e-5)
    np.testing.assert_allclose(
        features[:, layers], observables["centre_x_layer_00"] / 100.0, rtol=1e-6
    )
    np.testing.assert_allclose(features[:, -1], np.log10(incident / 1000.0))
