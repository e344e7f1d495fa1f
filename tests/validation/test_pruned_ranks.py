"""Pruned reference ranks: bounds that hold, exact KS maxima, settled W1 crossings, and KS and
W1 from them equal to scipy's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from hepgan.validation.ks import ks_statistic_sorted
from hepgan.validation.pruned_ranks import RankBounds, pruned_reference_ranks, wasserstein_below
from hepgan.validation.sorting import SortedColumns, sort_columns, sort_reference
from hepgan.validation.wasserstein import wasserstein_sorted

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
    raise ValueError(kind)


def _exact_ranks(candidate: SortedColumns, reference: SortedColumns) -> tuple[np.ndarray, ...]:
    """(r, l) = (#{ref <= x_i}, #{ref < x_i}) by numpy, feature by feature, each (F, n)."""
    x, y = candidate.values.numpy(), reference.values.numpy()
    return tuple(
        np.stack([np.searchsorted(y[f], x[f], side=side) for f in range(len(x))])
        for side in ("right", "left")
    )


def _check_guarantees(
    bounds: RankBounds, at_or_below: np.ndarray, below: np.ndarray, m: int
) -> None:
    """The three promises of pruned_reference_ranks, against the exact ranks r and l."""
    r, l_exact = at_or_below, below
    r_low, r_high = bounds.at_or_below_low.numpy(), bounds.at_or_below_high.numpy()
    l_low, l_high = bounds.below_low.numpy(), bounds.below_high.numpy()
    # 1. The bounds hold.
    assert (r_low <= r).all() and (r <= r_high).all()
    assert (l_low <= l_exact).all() and (l_exact <= l_high).all()
    # 2. KS maxima over the bounds are the exact ones (x n m).
    n = r.shape[1]
    i = np.arange(n)
    np.testing.assert_array_equal(
        ((i + 1) * m - r_high * n).max(axis=1), ((i + 1) * m - r * n).max(axis=1)
    )
    np.testing.assert_array_equal(
        np.maximum(0, (l_low * n - i * m).max(axis=1)),
        np.maximum(0, (l_exact * n - i * m).max(axis=1)),
    )
    # 3. W1: the crossing l_i / m is known, or surely at or below i / n, or surely at or
    # above (i + 1) / n.
    settled = (l_low == l_high) | (l_high * n <= i * m) | (l_low * n >= (i + 1) * m)
    assert settled.all()


def _check_statistics(
    bounds: RankBounds,
    candidate: SortedColumns,
    reference: SortedColumns,
    raw_candidate: np.ndarray,
    raw_reference: np.ndarray,
) -> None:
    """KS and W1 from the bounds, and the KS the search found, equal scipy's, feature by feature."""
    ks = ks_statistic_sorted(
        candidate,
        reference,
        reference_at_or_below=bounds.at_or_below_high,
        reference_below=bounds.below_low,
    )
    w1 = wasserstein_sorted(
        candidate, reference, reference_below=wasserstein_below(bounds, reference.n_events)
    )
    features = range(raw_candidate.shape[1])
    expected_ks = [
        stats.ks_2samp(raw_candidate[:, f], raw_reference[:, f]).statistic for f in features
    ]
    expected_w1 = [
        stats.wasserstein_distance(raw_candidate[:, f], raw_reference[:, f]) for f in features
    ]
    np.testing.assert_allclose(ks, expected_ks, rtol=0, atol=1e-12)
    # The maximum the pruned search found itself (what the report reads) is the same KS.
    found = bounds.ks_numerator.double().numpy() / (candidate.n_events * reference.n_events)
    np.testing.assert_allclose(found, expected_ks, rtol=0, atol=1e-12)
    np.testing.assert_allclose(w1, expected_w1, rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize(
    ("kind", "n", "m"),
    [
        ("continuous", 1_000, 10_000),  # n much smaller than m
        ("continuous", 700, 700),  # n == m
        ("continuous", 900, 300),  # n > m
        ("zeros", 1_000, 10_000),  # 30 % exact zeros in both samples
        ("integers", 1_000, 8_000),  # integer values: every value a long tie run
        ("below", 300, 3_000),  # candidate entirely below the reference
        ("above", 300, 3_000),  # entirely above
        ("above", 300, 3_200),  # and the reference a whole number of 64-entry summary windows
        ("below", 30, 64),
        ("inside", 300, 3_000),  # inside a narrow part of the reference
        ("subsample", 1_000, 10_000),  # the reference's own values: many crossings
        ("mismatched", 1_000, 10_000),  # a bad candidate: a large KS
        ("continuous", 1, 50),
        ("continuous", 2, 50),
        ("continuous", 3, 50),
        ("integers", 3, 50),
    ],
)
@pytest.mark.parametrize("stride", [1, 3, 8, 16])
def test_bounds_keep_their_guarantees_and_statistics_equal_scipy(
    kind: str, n: int, m: int, stride: int
) -> None:
    raw_candidate, raw_reference = _samples(kind, n, m, seed=n + m + stride)
    candidate, reference = sort_columns(raw_candidate), sort_reference(raw_reference)
    bounds = pruned_reference_ranks(candidate, reference, stride=stride)
    for tensor in (
        bounds.at_or_below_low,
        bounds.at_or_below_high,
        bounds.below_low,
        bounds.below_high,
    ):
        assert tensor.shape == (N_FEATURES, n) and tensor.dtype == torch.int64
    at_or_below, below = _exact_ranks(candidate, reference)
    _check_guarantees(bounds, at_or_below, below, m)
    _check_statistics(bounds, candidate, reference, raw_candidate, raw_reference)


def test_most_points_keep_loose_bounds_on_a_close_candidate() -> None:
    # The point of pruning: with 1 point in 8 sampled, about 6 % more are searched.
    raw_candidate, raw_reference = _samples("continuous", 2_000, 20_000, seed=1)
    candidate, reference = sort_columns(raw_candidate), sort_reference(raw_reference)
    bounds = pruned_reference_ranks(candidate, reference, stride=8)
    loose = (bounds.at_or_below_low < bounds.at_or_below_high).double().mean()
    assert loose > 0.7


def test_feature_rows_of_a_prepared_reference_give_the_same_bounds() -> None:
    # Rows (views) of a reference, as the report compares blocks of features.
    raw_candidate, raw_reference = _samples("zeros", 400, 4_000, seed=2)
    candidate, reference = sort_columns(raw_candidate), sort_reference(raw_reference)
    whole = pruned_reference_ranks(candidate, reference, stride=4)
    part = pruned_reference_ranks(candidate.rows(2, 4), reference.rows(2, 4), stride=4)
    torch.testing.assert_close(part.below_low, whole.below_low[2:4])
    torch.testing.assert_close(part.at_or_below_high, whole.at_or_below_high[2:4])


def test_rejects_a_stride_below_one_and_a_reference_without_tie_groups() -> None:
    candidate = sort_columns(np.zeros((4, 1)))
    with pytest.raises(ValueError, match="stride"):
        pruned_reference_ranks(candidate, sort_reference(np.zeros((8, 1))), stride=0)
    with pytest.raises(ValueError, match="tie-group"):
        pruned_reference_ranks(candidate, sort_columns(np.zeros((8, 1))))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_gives_the_bounds_of_the_cpu() -> None:
    raw_candidate, raw_reference = _samples("zeros", 1_000, 10_000, seed=3)
    on_cpu = pruned_reference_ranks(sort_columns(raw_candidate), sort_reference(raw_reference))
    on_cuda = pruned_reference_ranks(
        sort_columns(raw_candidate, device="cuda"), sort_reference(raw_reference, device="cuda")
    )
    for name in ("at_or_below_low", "at_or_below_high", "below_low", "below_high"):
        torch.testing.assert_close(getattr(on_cuda, name).cpu(), getattr(on_cpu, name))
