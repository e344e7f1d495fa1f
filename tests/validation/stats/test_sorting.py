"""Sorted columns: moments, the quantile integral, the float32 path and blocks of features."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hepgan.validation.report.build import build_report
from hepgan.validation.stats import sorting
from hepgan.validation.stats.sorting import quantile_integral, sort_columns


def test_sorted_rows_moments_and_quantile_integral() -> None:
    samples = np.round(np.random.default_rng(0).normal(3.0, 2.0, size=(500, 3)), 1)
    ordered = sort_columns(samples, with_integral=True)
    np.testing.assert_array_equal(ordered.values, np.sort(samples.T, axis=1))
    np.testing.assert_allclose(ordered.mean, samples.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(ordered.std, samples.std(axis=0), rtol=1e-12)
    for feature in range(3):
        row = ordered.values[feature]
        expected = np.concatenate([[0.0], np.cumsum(row - row.mean()) / len(row)])
        np.testing.assert_allclose(ordered.integral[feature], expected, atol=1e-12)
    np.testing.assert_array_equal(quantile_integral(ordered), ordered.integral)


def test_blocks_of_a_large_sample_give_the_whole_sort(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = np.random.default_rng(1).exponential(size=(1_000, 7))
    whole = sort_columns(samples, with_integral=True)
    monkeypatch.setattr(sorting, "SORT_BLOCK_ELEMENTS", 2_500)  # blocks of 2 features
    blocked = sort_columns(samples, with_integral=True)
    for field in ("values", "mean", "std", "integral"):
        np.testing.assert_array_equal(getattr(blocked, field), getattr(whole, field))


def _assert_report_equals_scipy(candidate: np.ndarray, reference: np.ndarray) -> None:
    """The report's KS (to 1e-15) and W1 (to 1e-9) of two features, (n, 2) and (m, 2),
    equal scipy's."""
    report = build_report(
        {"a": candidate[:, 0], "b": candidate[:, 1]}, {"a": reference[:, 0], "b": reference[:, 1]}
    )
    for index, name in enumerate("ab"):
        expected = stats.ks_2samp(candidate[:, index], reference[:, index]).statistic
        assert report.score(name).ks == pytest.approx(expected, abs=1e-15)
        w1 = stats.wasserstein_distance(candidate[:, index], reference[:, index])
        assert report.score(name).w1 == pytest.approx(w1, rel=1e-9)


@pytest.mark.parametrize(("n", "m"), [(40, 400), (400, 40), (150, 150)])
def test_ks_and_w1_equal_scipy_whichever_sample_is_larger(n: int, m: int) -> None:
    rng = np.random.default_rng(n + m)
    candidate = np.round(rng.normal(size=(n, 2)), 1)
    reference = np.round(rng.normal(0.2, 1.1, size=(m, 2)), 1)
    _assert_report_equals_scipy(candidate, reference)


def test_float32_columns_sort_as_their_float64_widening() -> None:
    samples = np.random.default_rng(1).lognormal(size=(1000, 4)).astype(np.float32)
    narrow, wide = sort_columns(samples), sort_columns(samples.astype(np.float64))
    assert narrow.values.dtype == wide.values.dtype == np.float64  # both widened
    np.testing.assert_array_equal(narrow.values, wide.values)
    np.testing.assert_allclose(narrow.std, wide.std, rtol=1e-12)


def test_report_on_float32_observables_equals_scipy() -> None:
    """Float32 observables (as a generator gives) keep KS exact against scipy."""
    rng = np.random.default_rng(2)
    candidate = rng.lognormal(size=(3000, 2)).astype(np.float32)
    reference = rng.lognormal(0.05, 1.0, size=(5000, 2)).astype(np.float32)
    _assert_report_equals_scipy(candidate, reference)


def test_bad_samples_are_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        sort_columns(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        sort_columns(np.array([[1.0], [np.nan]]))
