"""Sorted columns: the ranks of candidate points in the reference, and the float32 path."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hepgan.validation.pruned_ranks import rank_smaller_in_larger
from hepgan.validation.report import build_report
from hepgan.validation.sorting import quantile_integral_grid, sort_columns, sort_reference


@pytest.mark.parametrize(("n", "m"), [(400, 40), (30, 1), (41, 40)])
def test_a_larger_candidate_gets_the_reference_points_ranked_in_it_exactly(n: int, m: int) -> None:
    """With more candidate than reference events the reference's points are ranked in the
    candidate, #{x <= y} and #{x < y} exactly, with values tied within and across samples."""
    rng = np.random.default_rng(n * 1000 + m)
    candidate = sort_columns(np.round(rng.normal(size=(n, 3)), 1))  # one decimal: many ties
    reference = sort_reference(np.round(rng.normal(size=(m, 3)), 1))
    ranks = rank_smaller_in_larger(candidate, reference)
    assert ranks.points is reference and ranks.other.values is candidate.values
    for feature in range(3):
        row, points = candidate.values[feature].numpy(), reference.values[feature].numpy()
        np.testing.assert_array_equal(
            ranks.at_or_below[feature], np.searchsorted(row, points, "right")
        )
        np.testing.assert_array_equal(ranks.below[feature], np.searchsorted(row, points, "left"))
        np.testing.assert_array_equal(ranks.wasserstein_below[feature], ranks.below[feature])
        expected = np.concatenate([[0.0], np.cumsum(row - row.mean()) / n])
        np.testing.assert_allclose(ranks.other.quantile_integral[feature], expected, atol=1e-12)


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
    assert narrow.values.dtype == wide.values.dtype  # both widened to float64
    np.testing.assert_array_equal(narrow.values, wide.values)
    np.testing.assert_allclose(narrow.std, wide.std, rtol=1e-12)


def test_report_on_float32_observables_equals_scipy() -> None:
    """Float32 observables (as a generator gives) keep KS exact against scipy."""
    rng = np.random.default_rng(2)
    candidate = rng.lognormal(size=(3000, 2)).astype(np.float32)
    reference = rng.lognormal(0.05, 1.0, size=(5000, 2)).astype(np.float32)
    _assert_report_equals_scipy(candidate, reference)


def test_the_kept_quantile_integral_grid_is_the_computed_one() -> None:
    reference = sort_reference(np.random.default_rng(3).exponential(size=(700, 2)))
    kept = reference.quantile_integral_grid(300)
    assert reference.quantile_integral_grid(300) is kept  # reused, not recomputed
    np.testing.assert_array_equal(kept, quantile_integral_grid(reference, 300))
    for size in (301, 302, 303):  # only the last sizes are kept
        reference.quantile_integral_grid(size)
    assert reference.quantile_integral_grid(300) is not kept
    # S(k / n) at the knots k / n = j / m is the quantile integral itself
    np.testing.assert_allclose(
        quantile_integral_grid(reference, 7),
        reference.quantile_integral[:, ::100],
        rtol=1e-12,
        atol=1e-12,
    )
