"""The two-sample Kolmogorov-Smirnov test of all features at once.

KS = sup_x |F1(x) - F2(x)| between the empirical CDFs of a candidate sample
(n events) and a reference sample (m events). The statistic equals
``scipy.stats.ks_2samp`` (ties and unequal sizes included); the two-sided
p-value is computed by one of scipy's methods, chosen by ``method`` as in
``ks_2samp``: "exact" (lattice-path count, O(n m) per distinct statistic), "asymp"
(the Kolmogorov distribution ``scipy.stats.kstwo`` at round(n m / (n + m)), which
carries the finite-size corrections), or "auto" (scipy's default: exact when both
samples have at most 10,000 events). :func:`report_pvalue_method` is the validation
report's own choice, by the effective size n m / (n + m) instead of the largest
sample (see there). The statistic (:func:`ks_statistics`) comes from
:mod:`hepgan.validation.stats.sweep`; :func:`ks_pvalue` turns statistics into p-values.
"""

from __future__ import annotations

import functools
import math
from typing import Literal

import numpy as np
from scipy import stats

# Private, but the only way to the exact two-sample distribution without the samples
# themselves; scipy >= 1.10 (pyproject) has it with this signature, and the tests compare
# every exact p-value with ks_2samp's, so a scipy that changes it fails there.
from scipy.stats._stats_py import _attempt_exact_2kssamp

from hepgan.validation.stats.kolmogorov import kolmogorov_sf
from hepgan.validation.stats.sorting import sort_columns
from hepgan.validation.stats.sweep import ks_and_wasserstein

# scipy's "auto": above this sample size the exact p-value is replaced by the asymptotic one.
MAX_EXACT_EVENTS = 10_000
# The report's rule: asymptotic p-values from this effective size n m / (n + m) on.
MIN_ASYMPTOTIC_EFFECTIVE_EVENTS = 200
PValueMethod = Literal["auto", "exact", "asymp"]
# Exact p-values kept, by (n, m, step): small reports meet the same few sizes and statistics
# again and again (a one-event report computes about twenty, 5 us each); about 200 bytes an
# entry with its key, so 3 MiB at most.
EXACT_PVALUES_KEPT = 1 << 14


def ks_statistics(candidate: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """KS statistic of every feature, (F,), without p-values (training picks checkpoints by
    it; it needs no p-value): candidate (n, F) against reference (m, F)."""
    return ks_and_wasserstein(sort_columns(candidate), sort_columns(reference)).ks


def report_pvalue_method(n: int, m: int) -> Literal["exact", "asymp"]:
    """The validation report's p-value method: "asymp" when n m / (n + m) >= 200, else "exact".

    The exact count costs O(n m) per distinct statistic (docs/benchmarks.md gives the
    time for a service batch); the asymptotic value one formula per statistic. Measured
    against the exact p-values (p from 0.001 to 0.5, sizes 1,000 x 250 to 10,000 x
    10,000), the asymptotic ones differ by at most 0.009 in absolute value (1 to 4 % of p), far
    inside the scatter of a p-value between two samples of one distribution.
    """
    return "asymp" if n * m / (n + m) >= MIN_ASYMPTOTIC_EFFECTIVE_EVENTS else "exact"


def ks_pvalue(
    statistic: np.ndarray, n: int, m: int, *, method: PValueMethod = "auto"
) -> np.ndarray:
    """Two-sided p-value of KS statistics (F,) for sample sizes n and m, as scipy's ``method``.

    "exact": lattice-path count, one per distinct statistic (each kept: the others are
    look-ups); "asymp":
    P = kstwo.sf(D, round(n m / (n + m))), evaluated once per distinct statistic;
    "auto": exact when max(n, m) <= 10,000, else asymp.
    """
    statistic = np.asarray(statistic, dtype=np.float64)
    if method == "auto":
        method = "exact" if max(n, m) <= MAX_EXACT_EVENTS else "asymp"
    if method == "asymp":
        distinct, index = np.unique(statistic, return_inverse=True)
        effective_n = np.round(n * m / (n + m))
        return np.clip(kolmogorov_sf(distinct, int(effective_n)), 0.0, 1.0)[index]
    if method != "exact":
        raise ValueError(f"unknown p-value method {method!r}; use 'auto', 'exact' or 'asymp'")
    g = math.gcd(n, m)
    lcm = (n // g) * m
    steps = np.round(statistic * lcm).astype(np.int64)  # h = D lcm, an integer for exact D
    pvalue = [_exact_pvalue(n, m, step) if step > 0 else 1.0 for step in steps.ravel().tolist()]
    return np.clip(np.array(pvalue).reshape(statistic.shape), 0.0, 1.0)


@functools.lru_cache(maxsize=EXACT_PVALUES_KEPT)
def _exact_pvalue(n: int, m: int, step: int) -> float:
    """The exact p-value by scipy's compiled lattice-path count, the routine
    ``ks_2samp(method="exact")`` calls; where it fails scipy uses the asymptotic value,
    and so does this. A pure function of its integers, so kept (:data:`EXACT_PVALUES_KEPT`)."""
    g = math.gcd(n, m)
    statistic = step / ((n // g) * m)
    success, _, probability = _attempt_exact_2kssamp(n, m, g, statistic, "two-sided")
    if success:
        return float(probability)
    return float(stats.kstwo.sf(statistic, np.round(n * m / (n + m))))


def ks_critical_value(n: int, m: int, *, alpha: float = 0.05) -> float:
    """KS value above which equality is rejected at level alpha (asymptotic):

    D_crit = c(alpha) sqrt((n + m) / (n m)), c(alpha) = sqrt(-ln(alpha / 2) / 2).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    return math.sqrt(-math.log(alpha / 2.0) / 2.0) * math.sqrt((n + m) / (n * m))
