"""The vectorised Kolmogorov survival function equals scipy's kstwo.sf and smirnov."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from hepgan.validation.stats.kolmogorov import kolmogorov_sf, smirnov_sf


@pytest.mark.parametrize("n", [50, 141, 500, 1_556, 9_091])
def test_kolmogorov_sf_equals_scipy_kstwo_in_every_region(n: int) -> None:
    rng = np.random.default_rng(n)
    statistic = np.concatenate(
        [
            rng.uniform(0.0, 2.5, 300) / np.sqrt(n),  # Durbin, Pelz-Good and Smirnov regions
            rng.uniform(0.0, 1.0, 30),  # up to the far tail, x >= 0.5 included
            [0.0, 0.4 / n, 1.0 / n, 1.0 - 0.5 / n, 1.0],  # the end points scipy treats apart
        ]
    )
    expected = stats.kstwo.sf(statistic, n)
    np.testing.assert_allclose(kolmogorov_sf(statistic, n), expected, rtol=1e-9, atol=1e-300)


def test_kolmogorov_sf_equals_scipy_kstwo_above_the_durbin_range() -> None:
    # Beyond n = 100,000 scipy uses Pelz-Good down to small x (scipy's tail costs seconds here).
    n = 150_000
    statistic = np.linspace(0.05, 1.45, 40) / np.sqrt(n)
    expected = stats.kstwo.sf(statistic, n)
    np.testing.assert_allclose(kolmogorov_sf(statistic, n), expected, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("n", [200, 3_000, 9_091])
def test_smirnov_sum_equals_scipy_smirnov(n: int) -> None:
    statistic = np.linspace(1.4, 8.0, 25) / np.sqrt(n)
    expected = special.smirnov(n, statistic)
    np.testing.assert_allclose(smirnov_sf(statistic, n), expected, rtol=1e-10, atol=1e-300)
