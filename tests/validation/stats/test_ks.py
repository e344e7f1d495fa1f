"""ks_statistics and ks_pvalue, all features at once, equal scipy.stats.ks_2samp feature by
feature, statistic and p-value."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hepgan.validation.stats.ks import (
    EXACT_PVALUES_KEPT,
    PValueMethod,
    _exact_pvalue,
    ks_critical_value,
    ks_pvalue,
    ks_statistics,
    report_pvalue_method,
)


def _ks_test(
    candidate: np.ndarray, reference: np.ndarray, method: PValueMethod = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """The statistics and p-values of every feature, as the report computes them."""
    statistic = ks_statistics(candidate, reference)
    return statistic, ks_pvalue(statistic, len(candidate), len(reference), method=method)


def _scipy(
    candidate: np.ndarray, reference: np.ndarray, method: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    results = [
        stats.ks_2samp(candidate[:, f], reference[:, f], method=method)
        for f in range(candidate.shape[1])
    ]
    return np.array([r.statistic for r in results]), np.array([r.pvalue for r in results])


@pytest.mark.parametrize(
    ("n", "m", "kind"),
    [
        (20, 20, "continuous"),  # equal sizes, exact p-value
        (50, 70, "continuous"),  # unequal sizes, exact
        (37, 2000, "continuous"),  # very unequal, exact
        (300, 200, "ties"),  # many ties inside and across the samples
        (800, 1200, "shifted"),  # small p-values, exact
        (500, 20_000, "continuous"),  # asymptotic p-value (above 10,000 events)
        (12_000, 3_000, "ties"),  # asymptotic with ties
    ],
)
def test_statistic_and_pvalue_equal_scipy(n: int, m: int, kind: str) -> None:
    rng = np.random.default_rng(n + m)
    n_features = 12
    if kind == "ties":
        candidate = rng.integers(0, 6, size=(n, n_features)).astype(float)
        reference = rng.integers(0, 7, size=(m, n_features)).astype(float)
    else:
        shift = 0.2 if kind == "shifted" else 0.05
        candidate = rng.normal(size=(n, n_features))
        reference = rng.normal(shift, 1.1, size=(m, n_features))
    statistic, pvalue = _ks_test(candidate, reference)
    expected_statistic, expected_pvalue = _scipy(candidate, reference)
    np.testing.assert_allclose(statistic, expected_statistic, rtol=0, atol=1e-9)
    np.testing.assert_allclose(pvalue, expected_pvalue, rtol=1e-9, atol=1e-14)


def test_many_features_at_once_match_scipy() -> None:
    rng = np.random.default_rng(3)
    candidate = rng.standard_t(5, size=(400, 200))
    reference = rng.standard_t(5, size=(15_000, 200)) * 1.02
    statistic, pvalue = _ks_test(candidate, reference)
    expected_statistic, expected_pvalue = _scipy(candidate, reference)
    np.testing.assert_allclose(statistic, expected_statistic, rtol=0, atol=1e-9)
    np.testing.assert_allclose(pvalue, expected_pvalue, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize(
    ("n", "m", "method"),
    [(800, 1200, "asymp"), (300, 200, "asymp"), (12_000, 300, "exact"), (2_000, 8_000, "exact")],
)
def test_explicit_method_equals_scipy_with_the_same_method(n: int, m: int, method: str) -> None:
    rng = np.random.default_rng(n + 2 * m)
    candidate = rng.normal(size=(n, 6))
    reference = np.round(rng.normal(0.1, 1.0, size=(m, 6)), 2)  # ties across the samples
    statistic, pvalue = _ks_test(candidate, reference, method)
    expected_statistic, expected_pvalue = _scipy(candidate, reference, method)
    np.testing.assert_allclose(statistic, expected_statistic, rtol=0, atol=1e-9)
    np.testing.assert_allclose(pvalue, expected_pvalue, rtol=1e-9, atol=1e-14)


def test_report_method_is_asymptotic_from_an_effective_size_of_200() -> None:
    assert report_pvalue_method(10_000, 2_000) == "asymp"  # n m / (n + m) = 1667
    assert report_pvalue_method(400, 400) == "asymp"  # 200
    assert report_pvalue_method(10_000, 150) == "exact"  # 148
    assert report_pvalue_method(300, 300) == "exact"  # 150


def test_asymptotic_pvalue_is_near_the_exact_one_at_the_switch() -> None:
    # At the smallest effective size the report uses it for, the asymptotic p-value
    # stays within 0.01 of the exact one (a few per cent of p).
    rng = np.random.default_rng(5)
    candidate, reference = rng.normal(size=(2_000, 40)), rng.normal(0.08, 1.0, size=(250, 40))
    assert report_pvalue_method(2_000, 250) == "asymp"
    _, exact = _ks_test(candidate, reference, "exact")
    _, asymptotic = _ks_test(candidate, reference, "asymp")
    assert exact.min() < 0.05 < exact.max()  # the range where p-values decide
    np.testing.assert_allclose(asymptotic, exact, atol=0.01)


def test_disjoint_samples_have_statistic_one() -> None:
    candidate = np.arange(30.0)[:, None]
    reference = np.arange(100.0, 140.0)[:, None]
    statistic, pvalue = _ks_test(candidate, reference)
    assert statistic[0] == 1.0
    assert pvalue[0] == pytest.approx(stats.ks_2samp(candidate[:, 0], reference[:, 0]).pvalue)


def test_identical_samples_have_statistic_zero_and_pvalue_one() -> None:
    values = np.random.default_rng(0).normal(size=(500, 3))
    statistic, pvalue = _ks_test(values, values)
    np.testing.assert_array_equal(statistic, 0.0)
    np.testing.assert_array_equal(pvalue, 1.0)


def test_critical_value_is_the_asymptotic_quantile() -> None:
    # c(alpha) = sqrt(-ln(alpha / 2) / 2) is the leading term of the Kolmogorov quantile.
    n, m = 10_000, 100_000
    for alpha in (0.05, 0.01):
        scaled = ks_critical_value(n, m, alpha=alpha) * np.sqrt(n * m / (n + m))
        assert scaled == pytest.approx(stats.kstwobign.isf(alpha), rel=1e-3)


def test_critical_value_rejects_at_its_level() -> None:
    # Under the null, about alpha of the features exceed the critical value.
    rng = np.random.default_rng(11)
    n, m = 300, 3_000
    statistic = ks_statistics(rng.normal(size=(n, 1000)), rng.normal(size=(m, 1000)))
    rate = np.mean(statistic > ks_critical_value(n, m, alpha=0.05))
    assert 0.03 < rate < 0.07


def test_kept_exact_pvalues_equal_scipy_on_every_repeat() -> None:
    """The exact p-values are kept by (n, m, statistic): a repeat is served from the kept
    values and still equals ks_2samp's exact p-value, as the first computation did."""
    rng = np.random.default_rng(5)
    reference = rng.normal(size=211)
    candidates = [rng.normal(size=1) for _ in range(6)]
    _exact_pvalue.cache_clear()
    for _ in range(2):
        for candidate in candidates:
            statistic = ks_statistics(candidate[:, None], reference[:, None])
            pvalue = ks_pvalue(statistic, 1, len(reference), method="exact")
            expected = stats.ks_2samp(candidate, reference, method="exact").pvalue
            assert pvalue[0] == pytest.approx(expected, rel=1e-12)
    info = _exact_pvalue.cache_info()
    assert info.hits >= len(candidates) and info.currsize <= len(candidates)
    assert info.maxsize == EXACT_PVALUES_KEPT
