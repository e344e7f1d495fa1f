"""The CaloChallenge-style high-level judge: separates what differs, not what does not."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from hepgan.models.geometry import get_geometry
from hepgan.simulators.showers import simulate_showers
from hepgan.validation.judges.high_level_classifier import (
    CALOCHALLENGE_INPUT_GROUPS,
    HighLevelClassifierOptions,
    high_level_classifier_test,
    shower_high_level_features,
)
from hepgan.validation.report.observables import shower_observables

N_PER_CLASS = 4000
# the judge's procedure at a size that separates 6-D Gaussians in seconds
OPTIONS = HighLevelClassifierOptions(
    max_epochs=20, patience=3, batch_size=512, hidden=256, hidden_layers=2
)


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
    # the CaloChallenge's isotonic calibration: its ties cost a little AUC, and it estimates
    # the same JS
    assert result.auc_isotonic == pytest.approx(result.auc, abs=0.01)
    assert result.js_isotonic_nats == pytest.approx(_gaussian_js(3.0), abs=0.05)
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
    assert result.js_isotonic_nats < 0.01
    assert result.calibration[0] >= 0.0


def _shifted(seed: int, n: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    reference = rng.normal(size=(n, 4))
    candidate = rng.normal(size=(n, 4))
    candidate[:, 0] += 0.5
    return candidate, reference


def test_the_kept_epoch_is_the_best_of_the_recorded_history() -> None:
    """Each epoch's validation loss and accuracy are recorded; the kept epoch has the lowest
    loss (the default) or the highest accuracy (the CaloChallenge's choice); patience stops
    the judge only when the kept epoch is that many epochs old."""
    candidate, reference = _shifted(8)
    small = dict(hidden=32, hidden_layers=2, batch_size=200, max_epochs=12)
    by_loss = high_level_classifier_test(
        candidate, reference, options=HighLevelClassifierOptions(patience=2, **small), seed=1
    )
    losses = [loss for loss, _ in by_loss.history]
    assert len(by_loss.history) == by_loss.epochs
    assert by_loss.best_epoch == 1 + int(np.argmin(losses))
    if by_loss.stopped_by == "patience":
        assert by_loss.epochs - by_loss.best_epoch == 2
    else:
        assert by_loss.epochs == 12 and by_loss.stopped_by == "max_epochs"
    public = HighLevelClassifierOptions.calochallenge(**small)
    by_accuracy = high_level_classifier_test(candidate, reference, options=public, seed=1)
    accuracies = [accuracy for _, accuracy in by_accuracy.history]
    assert (by_accuracy.epochs, by_accuracy.stopped_by, by_accuracy.keep) == (
        12,
        "max_epochs",
        "accuracy",
    )
    assert by_accuracy.best_epoch == 1 + int(np.argmax(accuracies))


def test_a_wall_clock_cap_is_reported_not_hidden() -> None:
    """A judge stopped by its cap says so, in its result and in the report's score."""
    candidate, reference = _shifted(9)
    options = HighLevelClassifierOptions(hidden=32, hidden_layers=1, max_seconds=0.0)
    result = high_level_classifier_test(candidate, reference, options=options, seed=2)
    assert (result.epochs, result.stopped_by, result.max_seconds) == (1, "max_seconds", 0.0)
    score = result.score()
    assert (score.epochs, score.best_epoch, score.stopped_by, score.max_seconds) == (
        1,
        1,
        "max_seconds",
        0.0,
    )
    with pytest.raises(ValueError, match="keep"):
        HighLevelClassifierOptions(keep="auc")


def test_the_judge_is_deterministic_with_a_seed() -> None:
    rng = np.random.default_rng(5)
    candidate, reference = rng.normal(size=(1000, 3)), rng.normal(0.2, 1, size=(1000, 3))
    options = HighLevelClassifierOptions(
        max_epochs=5, hidden=64, batch_size=256, learning_rate=1e-3
    )
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
    assert features.shape == (200, 6 * layers + 1)
    hits = np.count_nonzero(voxels.reshape(200, layers, -1) > 0, axis=2)
    np.testing.assert_array_equal(features[:, 5 * layers : 6 * layers], hits)
    public = shower_high_level_features(observables, incident, CALOCHALLENGE_INPUT_GROUPS)
    np.testing.assert_array_equal(public, np.delete(features, range(5 * layers, 6 * layers), 1))
    only_widths = shower_high_level_features(observables, incident, ["widths"])
    np.testing.assert_array_equal(only_widths[:, :-1], features[:, 3 * layers : 5 * layers])
    with pytest.raises(ValueError, match="input groups"):
        shower_high_level_features(observables, incident, ["voxels"])
    layer_energy = voxels.reshape(200, layers, -1).sum(axis=2, dtype=np.float64)
    np.testing.assert_allclose(features[:, :layers], np.log10(layer_energy + 1e-8), rtol=1e-5)
    np.testing.assert_allclose(
        features[:, layers], observables["centre_x_layer_00"] / 100.0, rtol=1e-6
    )
    np.testing.assert_allclose(features[:, -1], np.log10(incident / 1000.0))


def test_progress_is_called_after_every_epoch_with_the_validation_loss() -> None:
    rng = np.random.default_rng(3)
    calls: list[tuple[int, float]] = []
    result = high_level_classifier_test(
        rng.normal(0.5, 1.0, (3000, 2)),
        rng.normal(0.0, 1.0, (3000, 2)),
        options=OPTIONS,
        seed=1,
        progress=lambda epoch, loss: calls.append((epoch, loss)),
    )
    assert [epoch for epoch, _ in calls] == list(range(1, result.epochs + 1))
    assert all(0.0 < loss < math.log(4.0) for _, loss in calls)  # a BCE, ln 2 when guessing
