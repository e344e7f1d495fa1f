"""Reference-quantile histograms and the exact W1 distance of the sweep."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hepgan.validation.stats.binning import shared_histograms
from hepgan.validation.stats.sorting import sort_columns
from hepgan.validation.stats.sweep import ks_and_wasserstein


def _w1(candidate: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """W1 of every feature, as the report computes it (the sweep of the sorted samples)."""
    return ks_and_wasserstein(sort_columns(candidate), sort_columns(reference)).w1


def test_histograms_equal_numpy_on_the_same_open_bins() -> None:
    rng = np.random.default_rng(0)
    candidate = rng.normal(0.5, 2.0, size=(3000, 4))
    reference = np.round(rng.normal(size=(5000, 4)), 1)  # ties among the edges
    pair = shared_histograms(sort_columns(candidate), sort_columns(reference), n_bins=20)
    for feature in range(4):
        edges = np.concatenate([[-np.inf], pair.edges[feature], [np.inf]])
        for sample, counts in ((candidate, pair.candidate), (reference, pair.reference)):
            # bins [e_i, e_{i+1}): count values below each edge
            below = np.array([np.sum(sample[:, feature] < edge) for edge in edges[1:-1]])
            expected = np.diff(np.concatenate([[0], below, [len(sample)]]))
            np.testing.assert_array_equal(counts[feature], expected)


def test_reference_quantile_bins_hold_equal_reference_counts() -> None:
    reference = np.random.default_rng(1).exponential(size=(10_000, 2))
    pair = shared_histograms(sort_columns(reference[:100]), sort_columns(reference), n_bins=10)
    np.testing.assert_array_equal(pair.reference, 1000.0)


@pytest.mark.parametrize(
    ("n", "m", "kind"),
    [
        (1, 1, "normal"),
        (5, 7, "normal"),
        (1000, 3000, "normal"),
        (300, 200, "ties"),
        (200, 100, "far"),
    ],
)
def test_wasserstein_equals_scipy(n: int, m: int, kind: str) -> None:
    rng = np.random.default_rng(n * m)
    if kind == "ties":
        candidate = rng.integers(0, 6, size=(n, 5)).astype(float)
        reference = rng.integers(0, 7, size=(m, 5)).astype(float)
    else:
        offset = 10.0 if kind == "far" else 0.3
        candidate = rng.normal(size=(n, 5))
        reference = rng.normal(offset, 1.5, size=(m, 5))
    expected = [stats.wasserstein_distance(candidate[:, f], reference[:, f]) for f in range(5)]
    np.testing.assert_allclose(_w1(candidate, reference), expected, rtol=1e-9)


def test_wasserstein_of_a_shift_is_the_shift() -> None:
    values = np.random.default_rng(2).normal(size=(1000, 1))
    assert _w1(values + 2.5, values)[0] == pytest.approx(2.5)
