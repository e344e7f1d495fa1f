"""Samples sorted column by column: the shared first step of KS, W1 and the binned divergences.

Every statistic here is a function of the two empirical distributions. With both
samples sorted per feature, one sample's CDF at the other's points comes from one
sweep (:mod:`hepgan.validation.stats.sweep`). The reference is sorted once, with what the
statistics read from it (the integral of its quantile function, its moments), and
reused for every candidate batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

# Elements (events x features) per block when sorting a large sample: 16 MB of float64.
SORT_BLOCK_ELEMENTS = 1 << 21


@dataclass(frozen=True)
class SortedColumns:
    """A sample of N events and F features, sorted along the events axis.

    ``values`` (F, N) float64, ascending per row, C-contiguous; ``mean`` and ``std``
    (F,) its moments. ``integral``: the centred quantile integral (F, N + 1) of
    :func:`quantile_integral` when it was computed with the sample (a prepared
    reference keeps it; others get it computed where it is needed).
    """

    values: np.ndarray  # (F, N)
    mean: np.ndarray  # (F,)
    std: np.ndarray  # (F,)
    integral: np.ndarray | None = None  # (F, N + 1)

    def rows(self, start: int, stop: int) -> SortedColumns:
        """Features ``start`` to ``stop`` (views, no copy)."""
        integral = None if self.integral is None else self.integral[start:stop]
        return SortedColumns(
            self.values[start:stop], self.mean[start:stop], self.std[start:stop], integral
        )

    @property
    def n_events(self) -> int:
        return int(self.values.shape[1])

    @property
    def n_features(self) -> int:
        return int(self.values.shape[0])


def as_feature_rows(samples: np.ndarray, *, checked: bool = False) -> np.ndarray:
    """(N, F) or (N,) events -> (F, N) C-contiguous array, one row per feature: float32
    samples stay float32 (half the memory traffic to sort), others become float64.

    ``checked``: the caller has already rejected NaN and infinities.
    """
    samples = np.asarray(samples)
    if samples.ndim == 1:
        samples = samples[:, None]  # (N, 1)
    if samples.ndim != 2:
        raise ValueError(f"expected samples of shape (N, F), got {samples.shape}")
    if samples.shape[0] == 0:
        raise ValueError("cannot compare an empty sample")
    dtype = np.float32 if samples.dtype == np.float32 else np.float64
    rows = np.ascontiguousarray(samples.T, dtype=dtype)  # (F, N)
    if not checked and not np.isfinite(rows).all():
        raise ValueError("samples contain NaN or infinite values")
    return rows


def sort_columns(
    samples: np.ndarray, *, checked: bool = False, with_integral: bool = False
) -> SortedColumns:
    """Sort (N, F) events per feature (``checked``: as :func:`as_feature_rows`);
    ``with_integral``: keep the quantile integral too (a reference sorted once).

    Float32 samples are sorted as float32 and then widened (float64 holds every
    float32 exactly, so the order and all comparisons are the same), about twice as
    fast as sorting them widened. numpy's vectorised sort releases the GIL, so callers
    may sort blocks of features in parallel threads. Large samples are sorted, and
    their moments and integral computed, in blocks of features written into the
    results, so the working arrays stay small (fresh large arrays cost a page fault
    per 4 kB). ``samples`` as the transpose of (F, N) rows is read without a copy.
    """
    samples = np.asarray(samples)
    if samples.ndim == 1:
        samples = samples[:, None]
    n_events, n_features = samples.shape
    block = max(1, SORT_BLOCK_ELEMENTS // max(n_events, 1))
    values = np.empty((n_features, n_events), dtype=np.float64)
    mean, std = np.empty(n_features), np.empty(n_features)
    integral = np.empty((n_features, n_events + 1)) if with_integral else None
    for start in range(0, n_features, block):
        rows = as_feature_rows(samples[:, start : start + block], checked=checked)
        stop = start + len(rows)
        values[start:stop] = np.sort(rows, axis=1)
        piece = SortedColumns(values[start:stop], *_moments(values[start:stop]))
        mean[start:stop], std[start:stop] = piece.mean, piece.std
        if integral is not None:
            quantile_integral(piece, out=integral[start:stop])
    return SortedColumns(values, mean, std, integral)


def from_sorted_rows(values: np.ndarray) -> SortedColumns:
    """A sample from rows (F, N) float64 already ascending, with its moments."""
    return SortedColumns(values, *_moments(values))


def quantile_integral(sample: SortedColumns, out: np.ndarray | None = None) -> np.ndarray:
    """S_j = sum_{i < j} (values_i - mean) / N, (F, N + 1): the integral of the centred
    quantile function Q(u) - mean from 0 to j / N, in the feature's unit (centred so
    that sums of it keep their precision far from zero); written into ``out`` if given."""
    shape = (sample.n_features, sample.n_events + 1)
    integral = np.empty(shape, dtype=np.float64) if out is None else out
    for feature in range(sample.n_features):
        centred_integral(sample.values[feature], sample.mean[feature], integral[feature])
    return integral


@njit(nogil=True, cache=True)
def centred_integral(values, mean, out):
    """out[j] = sum_{i < j} (values_i - mean) / N for j = 0 .. N: one row of
    :func:`quantile_integral`, also summed inside the sweep where none is kept."""
    out[0] = 0.0
    for j in range(len(values)):
        out[j + 1] = out[j] + (values[j] - mean)
    out[1:] /= len(values)


def _moments(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation sqrt(mean((x - mean)^2)) of each row of (F, N), each (F,)."""
    mean = rows.sum(axis=1) / rows.shape[1]  # what rows.mean(axis=1) computes, without its checks
    centred = rows - mean[:, None]
    return mean, np.sqrt(np.einsum("fn,fn->f", centred, centred) / rows.shape[1])
