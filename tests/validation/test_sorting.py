"""Sorted columns: the ranks of candidate points in the reference, and the float32 path."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hepgan.validation.report import build_report
from hepgan.validation.sorting import reference_ranks, sort_columns, sort_reference


@pytest.mark.parametrize(("n", "m"), [(40, 400), (400, 40), (150, 150), (1, 30), (30, 1)])
def test_reference_ranks_equal_numpy_searchsorted_with_ties(n: int, m: int) -> None:
    """Both branches (candidate searched in the reference, and the reverse) give the exact
    counts #{ref <= x} and #{ref < x}, with values tied within and across samples."""
    rng = np.random.default_rng(n * 1000 + m)
    candidate = np.round(rng.normal(size=(n, 3)), 1)  # (n, F): one decimal, many ties
    reference = np.round(rng.normal(size=(m, 3)), 1)
    sorted_candidate, sorted_reference = sort_columns(candidate), sort_reference(reference)
    at_or_below, below = reference_ranks(sorted_candidate, sorted_reference)
    for feature in range(3):
        row = sorted_reference.values[feature].numpy()
        points = sorted_candidate.values[feature].numpy()
        np.testing.assert_array_equal(at_or_below[feature], np.searchsorted(row, points, "right"))
        np.testing.assert_array_equal(below[feature], np.searchsorted(row, points, "left"))


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
    report = build_report(
        {"a": candidate[:, 0], "b": candidate[:, 1]},
        {"a": reference[:, 0], "b": reference[:, 1]},
    )
    for index, name in enumerate("ab"):
        expected = stats.ks_2samp(candidate[:, index], reference[:, index]).statistic
        assert report.score(name).ks == pytest.approx(expected, abs=1e-15)
        w1 = stats.wasserstein_distance(candidate[:, index], reference[:, index])
        assert report.score(name).w1 == pytest.approx(w1, rel=1e-9)
