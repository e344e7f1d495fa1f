"""KS and W1 of two sorted samples in one compiled sweep through the smaller one's points.

Notation: points x (F, k) and other sample y (F, n), ascending per feature, k <= n
(both statistics are symmetric, so the smaller sample's points are the ones visited);
r_i = #{y <= x_i} and l_i = #{y < x_i}. Both ranks only grow with i, so each is
searched from the last one: one branch-free count over the next 16 entries of y
(enough for most points when n / k is small), then galloping. The sweep reads every
point once and the other sample only up to the last point, so its cost is
O(k log(n / k)) per feature (plus O(n) to sum y's quantile integral where none is
kept), with no (F, k) working arrays. One call takes all F features: the loops over
features and points run compiled, none in Python.

Per point, exactly (integers over k n):

- KS = max(D+, D-, 0), D+ = max_i ((i + 1) n - r_i k), reached at x_i, and
  D- = max_i (l_i k - i n), reached just below x_i. Within a run of tied points the
  last one (D+) and the first one (D-) carry the true CDF values; the others give
  smaller differences, so ties need no special care. Equal to ``scipy.stats.ks_2samp``.
- W1 = integral_0^1 |Q_x(u) - Q_y(u)| du. On the cell u in [i/k, (i+1)/k], Q_x = x_i,
  and Q_y crosses x_i at u* = l_i / n. With y's centred quantile integral
  S(u) = integral_0^u (Q_y - mean_y), linear between its knots S_j = S(j / n), and
  v_i = clamp(u*, i/k, (i+1)/k), the cell contributes
  (x_i - mean_y)(2 v_i - (2i + 1)/k) + S(i/k) + S((i+1)/k) - 2 S(v_i).
  Centring keeps the sums precise far from zero (about 1e-11 relative to
  ``scipy.stats.wasserstein_distance``).

The kernels are compiled by numba on first use (cached on disk) and release the GIL,
so callers can run blocks of features in threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from hepgan.validation.stats.sorting import SortedColumns, centred_integral

# Entries of the other sample counted without a branch before galloping starts.
SCAN_ENTRIES = 16
# Passed for the integral of a sample that has none kept: the sweep sums it itself.
_NO_INTEGRAL = np.empty((0, 0))


@dataclass(frozen=True)
class SweepResult:
    """KS and W1 of each feature, (F,) each."""

    ks: np.ndarray  # sup |F1 - F2|, dimensionless
    w1: np.ndarray  # in the unit of the feature


def ks_and_wasserstein(candidate: SortedColumns, reference: SortedColumns) -> SweepResult:
    """KS and W1 of every feature of two sorted samples (the same features in order).

    The smaller sample's points are swept through the larger one, which needs its
    quantile integral: kept on a prepared reference, else summed inside the sweep, one
    feature at a time (no (F, n + 1) array).
    """
    if candidate.n_features != reference.n_features:
        raise ValueError(
            f"candidate has {candidate.n_features} features, reference {reference.n_features}"
        )
    points, other = candidate, reference
    if candidate.n_events > reference.n_events:
        points, other = reference, candidate
    integral = other.integral if other.integral is not None else _NO_INTEGRAL
    numerator = np.empty(points.n_features, dtype=np.int64)
    w1 = np.empty(points.n_features, dtype=np.float64)
    _sweep(points.values, other.values, integral, other.mean, numerator, w1)
    ks = numerator / (float(points.n_events) * other.n_events)
    return SweepResult(ks=ks, w1=w1)


def bin_counts(rows: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Entries of each row in each bin, (F, E + 1) float64, for rows (F, N) ascending and
    interior edges (F, E) ascending per row: bin 0 is x < e_0, bin b is e_(b-1) <= x < e_b,
    the last x >= e_(E-1): the differences of #{x < e_b}, in one compiled pass."""
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    edges = np.ascontiguousarray(edges, dtype=np.float64)
    counts = np.empty((edges.shape[0], edges.shape[1] + 1), dtype=np.float64)
    _bin_counts(rows, edges, counts)
    return counts


@njit(nogil=True, cache=True, inline="always")
def _first_not_before(values, start, key, strict):
    """The first j >= start with values[j] >= key (strict) or values[j] > key (not strict),
    where every entry before ``start`` is below: a branch-free count of the next
    SCAN_ENTRIES entries, then galloping (probes at start + 16 + 1, 3, 7, ...) and a
    binary search in the last doubling."""
    size = len(values)
    if start + SCAN_ENTRIES <= size:
        count = 0
        for offset in range(SCAN_ENTRIES):
            entry = values[start + offset]
            count += (entry < key) if strict else (entry <= key)
        if count < SCAN_ENTRIES:
            return start + count
        start += SCAN_ENTRIES
    found, width = start, 1
    while found + width <= size:
        entry = values[found + width - 1]
        if not ((entry < key) if strict else (entry <= key)):
            break
        found += width
        width *= 2
    stop = min(found + width - 1, size)
    while found < stop:
        middle = (found + stop) >> 1
        entry = values[middle]
        if (entry < key) if strict else (entry <= key):
            found = middle + 1
        else:
            stop = middle
    return found


@njit(nogil=True, cache=True)
def _sweep(points, other, integral, other_mean, ks_numerator, w1):
    """KS x k n and W1 of each feature (module docstring) into ``ks_numerator`` and ``w1``.
    points (F, k), other (F, n) ascending; integral (F, n + 1) = S_j of ``other``, or
    (0, 0) to have each row's S_j summed here (sorting.centred_integral)."""
    n_features, k = points.shape
    n = other.shape[1]
    cells_per_point, cells_rest = n // k, n % k
    summing = integral.shape[0] == 0
    summed = np.empty(n + 1 if summing else 0)  # one row's S_j, reused for every feature
    for feature in range(n_features):
        x, y, mean = points[feature], other[feature], other_mean[feature]
        if summing:
            centred_integral(y, mean, summed)
            knots = summed
        else:
            knots = integral[feature]
        below, at_or_below, largest = 0, 0, 0
        knot, knot_rest = 0, 0  # floor(i n / k) and its remainder, for u = i / k
        cell_start, total = 0.0, 0.0  # S(i / k), starting at S(0) = 0
        for i in range(k):
            value = x[i]
            if i == 0 or value != x[i - 1]:
                below = _first_not_before(y, at_or_below, value, True)
                at_or_below = below
                if below < n and y[below] <= value:  # ties with the other sample
                    at_or_below = _first_not_before(y, below, value, False)
            largest = max(largest, (i + 1) * n - at_or_below * k, below * k - i * n)
            knot += cells_per_point
            knot_rest += cells_rest
            if knot_rest >= k:
                knot += 1
                knot_rest -= k
            last = min(knot, n - 1)  # S((i + 1) / k) on the knot segment [last, last + 1] / n
            cell_end = knots[last] + ((i + 1) / k - last / n) * (y[last] - mean)
            crossing = below * k  # u* k n
            if crossing <= i * n:
                clamped, at_clamped = i / k, cell_start
            elif crossing >= (i + 1) * n:
                clamped, at_clamped = (i + 1) / k, cell_end
            else:
                clamped, at_clamped = below / n, knots[below]
            total += (
                (value - mean) * (2.0 * clamped - (2 * i + 1) / k)
                + cell_start
                + cell_end
                - 2.0 * at_clamped
            )
            cell_start = cell_end
        ks_numerator[feature] = largest
        w1[feature] = total


@njit(nogil=True, cache=True)
def _bin_counts(rows, edges, counts):
    """counts[f, b] = entries of rows[f] in bin b of the edges (open outer bins). Each edge's
    count below is stepped to from the last one's, entry by entry (reference-quantile bins
    hold a few entries each), galloping after SCAN_ENTRIES of them."""
    n = rows.shape[1]
    for feature in range(rows.shape[0]):
        row = rows[feature]
        below = 0  # #{row < the previous edge}
        for edge in range(edges.shape[1]):
            key = edges[feature, edge]
            found, stop = below, min(below + SCAN_ENTRIES, n)
            while found < stop and row[found] < key:
                found += 1
            if found == stop and stop < n:  # every entry so far is below the edge
                found = _first_not_before(row, stop, key, True)
            counts[feature, edge] = found - below
            below = found
        counts[feature, edges.shape[1]] = n - below
