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
import torch

from hepgan.validation.sorting import SortedColumns, sort_columns, sort_reference

DEFAULT_BINS = 50


@dataclass(frozen=True)
class HistogramPair:
    """Counts of a candidate and a reference sample on the same bins, each (F, B)."""

    candidate: np.ndarray  # (F, B)
    reference: np.ndarray  # (F, B)
    edges: np.ndarray  # (F, B - 1) interior edges, units of the feature


def quantile_edge_indices(n_events: int, n_bins: int) -> torch.Tensor:
    """Positions floor(b m / B), b = 1 .. B - 1, of the interior edges in a sorted sample."""
    if n_bins < 2:
        raise ValueError(f"need at least 2 bins, got {n_bins}")
    return torch.arange(1, n_bins) * n_events // n_bins


def shared_histograms(
    candidate: SortedColumns, reference: SortedColumns, *, n_bins: int = DEFAULT_BINS
) -> HistogramPair:
    """Histogram both samples on the reference-quantile bins; counts (F, B)."""
    positions = quantile_edge_indices(reference.n_events, n_bins).to(reference.values.device)
    edges = reference.values[:, positions]  # (F, B - 1)
    reference_below = reference.group_start[:, positions]  # #{ref < edge}
    candidate_below = torch.searchsorted(candidate.values, edges.contiguous(), right=False)
    return HistogramPair(
        candidate=_counts_from_cumulative(candidate_below, candidate.n_events),
        reference=_counts_from_cumulative(reference_below, reference.n_events),
        edges=edges.cpu().numpy(),
    )


def histogram_pair(
    candidate: np.ndarray, reference: np.ndarray, *, n_bins: int = DEFAULT_BINS
) -> HistogramPair:
    """:func:`shared_histograms` on raw samples: candidate (n, F), reference (m, F)."""
    return shared_histograms(sort_columns(candidate), sort_reference(reference), n_bins=n_bins)


def _counts_from_cumulative(below_edges: torch.Tensor, n_events: int) -> np.ndarray:
    """Per-bin counts from #{x < edge} at the interior edges (F, B - 1) -> (F, B)."""
    zeros = torch.zeros_like(below_edges[:, :1])
    totals = torch.full_like(zeros, n_events)
    cumulative = torch.cat([zeros, below_edges, totals], dim=1)  # (F, B + 1)
    return torch.diff(cumulative, dim=1).cpu().numpy().astype(np.float64)
