"""The 1-D Wasserstein-1 (earth mover's) distance between two samples, all features at once."""

from __future__ import annotations

import numpy as np
import torch

from hepgan.validation.sorting import (
    SortedColumns,
    cdf_integral_at,
    count_at_or_below,
    sort_columns,
)


def wasserstein_sorted(
    candidate: SortedColumns, reference: SortedColumns, *, reference_at_or_below: torch.Tensor
) -> np.ndarray:
    """W1 = integral |F1(t) - F2(t)| dt per feature, (F,), in the units of the feature.

    Between consecutive candidate points a <= b the candidate CDF is a constant
    c = k / n and the reference CDF F2 crosses c once, at z* = the (ceil(k m / n))-th
    reference value, so with I(x) = integral_{-inf}^{x} F2:
    integral_a^b |c - F2| = c (z - a) - (I(z) - I(a)) + (I(b) - I(z)) - c (b - z),
    z = clamp(z*, a, b). Below the first candidate point the integral is I(x_1).
    ``reference_at_or_below`` (F, n) is #{ref <= x} at the sorted candidate points.
    """
    n, m = candidate.n_events, reference.n_events
    points = candidate.values  # (F, n)
    integral_at_points = cdf_integral_at(reference, points, reference_at_or_below)  # (F, n)
    reference_max = reference.values[:, -1:]  # (F, 1)
    end = torch.maximum(points[:, -1:], reference_max)  # (F, 1) where both CDFs reach 1
    integral_at_end = torch.where(
        reference_max >= points[:, -1:], reference.cdf_integral[:, -1:], integral_at_points[:, -1:]
    )
    lower = points  # (F, n): a for k = 1..n
    upper = torch.cat([points[:, 1:], end], dim=1)  # (F, n): b for k = 1..n
    integral_lower = integral_at_points
    integral_upper = torch.cat([integral_at_points[:, 1:], integral_at_end], dim=1)
    steps = torch.arange(1, n + 1, device=points.device)  # k
    level = steps.to(torch.float64) / n  # (n,) candidate CDF on [a, b)
    crossing_index = (steps * m + n - 1) // n - 1  # ceil(k m / n) - 1, (n,)
    crossing = reference.values[:, crossing_index]  # (F, n)
    integral_crossing = reference.cdf_integral[:, crossing_index]
    clamped = torch.minimum(torch.maximum(crossing, lower), upper)
    integral_clamped = torch.where(
        crossing < lower,
        integral_lower,
        torch.where(crossing > upper, integral_upper, integral_crossing),
    )
    pieces = (
        level * (clamped - lower)
        - (integral_clamped - integral_lower)
        + (integral_upper - integral_clamped)
        - level * (upper - clamped)
    )
    total = integral_at_points[:, 0] + pieces.sum(dim=1)
    return total.cpu().numpy()


def wasserstein_batched(candidate: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """W1 of every feature, (F,): candidate (n, F) against reference (m, F)."""
    sorted_candidate = sort_columns(candidate)
    sorted_reference = sort_columns(reference)
    at_or_below = count_at_or_below(sorted_reference, sorted_candidate.values)
    return wasserstein_sorted(sorted_candidate, sorted_reference, reference_at_or_below=at_or_below)
