"""Shared histogram bins for two samples, with edges at quantiles of the reference.

Edges at the reference's b / B quantiles (b = 1 .. B - 1) give every reference bin
about the same count, so no near-empty reference bin dominates a divergence. The
outer bins are open, (-inf, e_1) and [e_{B-1}, +inf), so candidate events beyond the
reference's range are counted, not dropped. Tied reference values can merge
edges; the bins between equal edges are then empty in both samples and add
nothing to a divergence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepgan.validation.stats.sorting import SortedColumns
from hepgan.validation.stats.sweep import bin_counts

DEFAULT_BINS = 50


@dataclass(frozen=True)
class HistogramPair:
    """Counts of a candidate and a reference sample on the same bins, each (F, B)."""

    candidate: np.ndarray  # (F, B)
    reference: np.ndarray  # (F, B)
    edges: np.ndarray  # (F, B - 1) interior edges, units of the feature


def quantile_edge_indices(n_events: int, n_bins: int) -> np.ndarray:
    """Positions floor(b m / B), b = 1 .. B - 1, of the interior edges in a sorted sample."""
    if n_bins < 2:
        raise ValueError(f"need at least 2 bins, got {n_bins}")
    return np.arange(1, n_bins) * n_events // n_bins


def shared_histograms(
    candidate: SortedColumns, reference: SortedColumns, *, n_bins: int = DEFAULT_BINS
) -> HistogramPair:
    """Histogram both samples on the reference-quantile bins; counts (F, B)."""
    edges = reference.values[:, quantile_edge_indices(reference.n_events, n_bins)]  # (F, B - 1)
    return HistogramPair(
        candidate=bin_counts(candidate.values, edges),
        reference=bin_counts(reference.values, edges),
        edges=edges,
    )


def plotting_edges(
    candidate: SortedColumns, reference: SortedColumns, pair: HistogramPair
) -> np.ndarray:
    """All B + 1 edges of ``pair``'s bins (F, B + 1): the interior edges closed by the smaller
    and the larger of the two samples' extremes, so the open outer bins can be drawn."""
    low = np.minimum(candidate.values[:, 0], reference.values[:, 0])  # (F,)
    high = np.maximum(candidate.values[:, -1], reference.values[:, -1])  # (F,)
    return np.column_stack([low, pair.edges, high])
