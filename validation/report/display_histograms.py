"""The histograms a person sees: one binning for the web page and ``hepgan validate --plots``.

The report's own histograms (``ObservableScore.histogram``) are on reference-quantile bins,
right for JS and the separation power but not for the eye: a point mass ties their edges
into bins of zero width. What is drawn is binned here instead, by boost-histogram, once,
and both the page (the report's ``display`` field) and the CLI's PNGs draw these numbers:

- bins uniform between the 0.5 % and 99.5 % quantiles of the pooled samples, log-spaced
  where that range is positive and spans over two decades (:func:`display_edges`); the
  upper edge belongs to the last bin, so a point mass at the top is drawn, not lost;
- a variable with at most :data:`MAX_DISCRETE_VALUES` distinct reference values (a charge,
  a type) is counted per value, a generated value between them for the nearest one;
- densities count / (N width) and their Poisson errors sqrt(count) / (N width), N every
  entry of the sample, those outside the edges included (a discrete variable: the fraction
  count / N); so the drawn area is the fraction of the sample inside the edges;
- the ratio generated / reference of the densities, with the error
  ratio sqrt(1/c + 1/r) (NaN where either sample has no entry in the bin).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boost_histogram as bh
import numpy as np

# Most distinct reference values of a variable drawn as bars (a charge, a type).
MAX_DISCRETE_VALUES = 12
# Bins of a continuous variable's display histogram.
N_DISPLAY_BINS = 40
# The pooled quantiles between which the bins run: the bulk, not the extreme events.
BULK_QUANTILES = (0.005, 0.995)
# A positive range spanning more than this ratio (two decades) gets log-spaced bins.
LOG_SPAN = 100.0


@dataclass(frozen=True)
class DisplayedSample:
    """One sample on the display bins: counts (B,) inside the edges, ``total`` every entry."""

    counts: np.ndarray  # (B,)
    total: int
    density: np.ndarray  # (B,) counts / (total width), 1/unit; discrete: counts / total
    error: np.ndarray  # (B,) sqrt(counts) / (total width)

    @classmethod
    def of(cls, counts: np.ndarray, total: int, widths: np.ndarray) -> DisplayedSample:
        counts = np.asarray(counts, dtype=np.float64)
        norm = max(total, 1) * widths
        return cls(counts, int(total), counts / norm, np.sqrt(counts) / norm)

    def to_json(self) -> dict[str, Any]:
        return {
            "n_events": self.total,
            "counts": self.counts.tolist(),
            "density": self.density.tolist(),
            "density_error": self.error.tolist(),
        }


@dataclass(frozen=True)
class DisplayHistogram:
    """Both samples on shared display bins, their ratio and the suggested axis scales.

    ``x`` (B,): the bin centres (geometric on log-spaced bins) or a discrete variable's
    values; ``edges`` (B + 1,), None for a discrete variable."""

    discrete: bool
    x: np.ndarray
    edges: np.ndarray | None
    log_x: bool
    log_y: bool
    reference: DisplayedSample
    candidate: DisplayedSample
    ratio: np.ndarray  # (B,) candidate density / reference density, NaN where either is 0
    ratio_error: np.ndarray  # (B,)

    def to_json(self) -> dict[str, Any]:
        """The report's ``display`` field (:class:`~hepgan.validation.report.schema.
        DisplayHistogram`); NaN ratios as null."""
        return {
            "discrete": self.discrete,
            "x": self.x.tolist(),
            "edges": None if self.edges is None else self.edges.tolist(),
            "log_x": self.log_x,
            "log_y": self.log_y,
            "reference": self.reference.to_json(),
            "candidate": self.candidate.to_json(),
            "ratio": _nan_to_none(self.ratio),
            "ratio_error": _nan_to_none(self.ratio_error),
        }


def display_histogram(
    candidate: np.ndarray, reference: np.ndarray, *, n_bins: int = N_DISPLAY_BINS
) -> DisplayHistogram:
    """Both samples (1-D, finite) binned for display (the module docstring's rules)."""
    candidate = np.asarray(candidate, dtype=np.float64).reshape(-1)
    reference = np.asarray(reference, dtype=np.float64).reshape(-1)
    if len(candidate) == 0 or len(reference) == 0:
        raise ValueError("a display histogram needs entries in both samples")
    values = np.unique(reference)
    if len(values) <= MAX_DISCRETE_VALUES:
        return _discrete_histogram(candidate, reference, values)
    edges, log_x = display_edges(np.concatenate([candidate, reference]), n_bins)
    axis = bh.axis.Variable(edges)  # underflow and overflow: counted in N, not drawn
    counts = [bh.Histogram(axis).fill(sample).values() for sample in (candidate, reference)]
    return display_from_counts(
        edges,
        counts[0],
        counts[1],
        n_candidate=len(candidate),
        n_reference=len(reference),
        log_x=log_x,
    )


def display_edges(values: np.ndarray, n_bins: int) -> tuple[np.ndarray, bool]:
    """(n_bins + 1,) edges uniform between the pooled 0.5 % and 99.5 % quantiles of
    ``values``, log-spaced (and True) where that range is positive and spans over two decades;
    the upper edge just above the upper quantile, so a value equal to it is inside. A range
    of zero width is widened to +-0.5 around its value."""
    low, high = (float(q) for q in np.quantile(values, BULK_QUANTILES))
    if high <= low:
        low, high = low - 0.5, high + 0.5
    high = float(np.nextafter(high, np.inf))  # bins are [a, b): the top value inside
    if low > 0 and high / low > LOG_SPAN:
        return np.geomspace(low, high, n_bins + 1), True
    return np.linspace(low, high, n_bins + 1), False


def display_from_counts(
    edges: np.ndarray,
    candidate_counts: np.ndarray,
    reference_counts: np.ndarray,
    *,
    n_candidate: int | None = None,
    n_reference: int | None = None,
    log_x: bool,
) -> DisplayHistogram:
    """Densities, errors and ratio of counts already binned on ``edges`` (B + 1,); each
    sample's N is its total entries (default: the sum of its counts, nothing outside)."""
    edges = np.asarray(edges, dtype=np.float64)
    widths = np.diff(edges)
    candidate = DisplayedSample.of(candidate_counts, _total(candidate_counts, n_candidate), widths)
    reference = DisplayedSample.of(reference_counts, _total(reference_counts, n_reference), widths)
    centres = np.sqrt(edges[1:] * edges[:-1]) if log_x else 0.5 * (edges[1:] + edges[:-1])
    return _with_ratio(False, centres, edges, log_x, reference, candidate)


def _discrete_histogram(
    candidate: np.ndarray, reference: np.ndarray, values: np.ndarray
) -> DisplayHistogram:
    """Counts per distinct reference value (K,); a candidate entry counts for the nearest
    value (the lower one at a tie)."""
    midpoints = 0.5 * (values[1:] + values[:-1])
    axis = bh.axis.Integer(0, len(values), underflow=False, overflow=False)
    counts = [
        bh.Histogram(axis).fill(np.searchsorted(midpoints, sample, side="left")).values()
        for sample in (candidate, reference)
    ]
    ones = np.ones(len(values))  # a fraction per value, not a density
    return _with_ratio(
        True,
        values,
        None,
        False,
        DisplayedSample.of(counts[1], len(reference), ones),
        DisplayedSample.of(counts[0], len(candidate), ones),
    )


def _with_ratio(
    discrete: bool,
    x: np.ndarray,
    edges: np.ndarray | None,
    log_x: bool,
    reference: DisplayedSample,
    candidate: DisplayedSample,
) -> DisplayHistogram:
    """The histogram with its ratio and its y scale: log where log x, or where the positive
    densities span over two decades."""
    ratio, error = density_ratio(candidate, reference)
    positive = np.concatenate([reference.density, candidate.density])
    positive = positive[positive > 0]
    spans = len(positive) > 0 and positive.max() / positive.min() > LOG_SPAN
    log_y = not discrete and (log_x or bool(spans))
    return DisplayHistogram(discrete, x, edges, log_x, log_y, reference, candidate, ratio, error)


def density_ratio(
    candidate: DisplayedSample, reference: DisplayedSample
) -> tuple[np.ndarray, np.ndarray]:
    """candidate density / reference density per bin, with the error ratio sqrt(1/c + 1/r)
    of the counts c and r; NaN where either count is 0."""
    c, r = candidate.counts, reference.counts
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = candidate.density / reference.density
        error = ratio * np.sqrt(1.0 / c + 1.0 / r)
    empty = (c == 0) | (r == 0)
    return np.where(empty, np.nan, ratio), np.where(empty, np.nan, error)


def _total(counts: np.ndarray, given: int | None) -> int:
    return int(np.sum(counts)) if given is None else int(given)


def _nan_to_none(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(value) else value for value in values.tolist()]
