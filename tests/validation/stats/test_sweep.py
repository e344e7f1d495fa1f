"""The compiled sweep: KS and W1 equal scipy's on every shape of data, whichever sample is
larger, and the edge counts behind the histograms equal numpy's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hepgan.validation.stats.sorting import sort_columns
from hepgan.validation.stats.sweep import SCAN_ENTRIES, bin_counts, ks_and_wasserstein

N_FEATURES = 5


def _log_normal_with_zeros(rng: np.random.Generator, n: int) -> np.ndarray:
    values = rng.lognormal(0.0, 1.5, size=(n, N_FEATURES))  # like calorimeter voxel energies
    values[rng.uniform(size=values.shape) < 0.3] = 0.0
    return values


def _samples(kind: str, n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(candidate (n, F), reference (m, F)) of one kind of comparison."""
    rng = np.random.default_rng(seed)
    reference = rng.normal(size=(m, N_FEATURES))
    if kind == "continuous":
        return rng.normal(0.05, 1.05, size=(n, N_FEATURES)), reference
    if kind == "zeros":
        return _log_normal_with_zeros(rng, n), _log_normal_with_zeros(rng, m)
    if kind == "integers":
        return rng.poisson(3.0, size=(n, N_FEATURES)) * 1.0, rng.poisson(3.2, size=(m, N_FEATURES))
    if kind == "below":
        return rng.normal(-20.0, 1.0, size=(n, N_FEATURES)), reference
    if kind == "above":
        return rng.normal(20.0, 1.0, size=(n, N_FEATURES)), reference
    if kind == "inside":
        return rng.uniform(-0.1, 0.1, size=(n, N_FEATURES)), reference
    if kind == "subsample":  # every candidate value ties with a reference value
        return reference[rng.choice(m, size=n, replace=False)], reference
    if kind == "mismatched":
        return rng.normal(2.0, 4.0, size=(n, N_FEATURES)), reference
    if kind == "constant":  # one value in each sample, the same one
        return np.full((n, N_FEATURES), 2.5), np.full((m, N_FEATURES), 2.5)
    raise ValueError(kind)


@pytest.mark.parametrize(
    ("kind", "n", "m"),
    [
        ("continuous", 1_000, 10_000),  # n much smaller than m: gaps beyond the 16-entry scan
        ("continuous", 700, 700),  # n == m
        ("continuous", 900, 300),  # n > m: the reference's points are swept
        ("continuous", 20, 20_000),  # gaps of 1,000 entries: galloping
        ("zeros", 1_000, 10_000),  # 30 % exact zeros in both samples
        ("integers", 1_000, 8_000),  # integer values: every value a long tie run
        ("integers", 8_000, 1_000),
        ("below", 300, 3_000),  # candidate entirely below the reference
        ("above", 300, 3_000),  # entirely above: every search runs to the row's end
        ("above", 300, 3_200),
        ("below", 30, 64),
        ("inside", 300, 3_000),  # inside a narrow part of the reference
        ("subsample", 1_000, 10_000),  # the reference's own values: many crossings
        ("mismatched", 1_000, 10_000),  # a bad candidate: a large KS
        ("constant", 40, 70),
        ("continuous", 1, 50),
        ("continuous", 2, 50),
        ("continuous", 50, 1),
        ("integers", 3, 50),
    ],
)
def test_ks_and_w1_equal_scipy(kind: str, n: int, m: int) -> None:
    raw_candidate, raw_reference = _samples(kind, n, m, seed=n + m)
    swept = ks_and_wasserstein(sort_columns(raw_candidate), sort_columns(raw_reference))
    features = range(N_FEATURES)
    expected_ks = [
        stats.ks_2samp(raw_candidate[:, f], raw_reference[:, f]).statistic for f in features
    ]
    expected_w1 = [
        stats.wasserstein_distance(raw_candidate[:, f], raw_reference[:, f]) for f in features
    ]
    np.testing.assert_allclose(swept.ks, expected_ks, rtol=0, atol=1e-15)
    np.testing.assert_allclose(swept.w1, expected_w1, rtol=1e-9, atol=1e-12)


def test_a_prepared_integral_and_a_computed_one_give_the_same_statistics() -> None:
    raw_candidate, raw_reference = _samples("zeros", 400, 4_000, seed=2)
    candidate = sort_columns(raw_candidate)
    prepared = sort_columns(raw_reference, with_integral=True)
    plain = sort_columns(raw_reference)
    assert prepared.integral is not None and plain.integral is None
    with_kept = ks_and_wasserstein(candidate, prepared)
    without = ks_and_wasserstein(candidate, plain)
    np.testing.assert_array_equal(with_kept.ks, without.ks)
    np.testing.assert_array_equal(with_kept.w1, without.w1)
    # rows of a sample, as the report compares blocks of features
    part = ks_and_wasserstein(candidate.rows(2, 4), prepared.rows(2, 4))
    np.testing.assert_array_equal(part.w1, with_kept.w1[2:4])


def test_features_must_match() -> None:
    with pytest.raises(ValueError, match="3 features, reference 2"):
        ks_and_wasserstein(sort_columns(np.zeros((4, 3))), sort_columns(np.zeros((8, 2))))


@pytest.mark.parametrize("gap", [1, SCAN_ENTRIES - 1, SCAN_ENTRIES, SCAN_ENTRIES + 1, 1_000])
def test_bin_counts_equal_numpy(gap: int) -> None:
    """Entries per bin of ascending edges, ties and edges past both ends included, whatever
    the distance between consecutive edges' counts (inside the branch-free scan or galloping)."""
    rng = np.random.default_rng(gap)
    rows = np.sort(np.round(rng.normal(size=(3, 40 * gap)), 1), axis=1)
    keys = np.concatenate([[-9.0], rows[0, ::gap], [9.0]])
    keys = np.broadcast_to(keys, (3, len(keys)))
    below = np.stack(
        [np.searchsorted(row, key, side="left") for row, key in zip(rows, keys, strict=True)]
    )  # (F, E): #{row < edge}
    expected = np.diff(below, prepend=0, append=rows.shape[1])  # (F, E + 1), open outer bins
    np.testing.assert_array_equal(bin_counts(rows, keys), expected)
