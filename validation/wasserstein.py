"""The 1-D Wasserstein-1 (earth mover's) distance between two samples, all features at once."""

from __future__ import annotations

import numpy as np
import torch

from hepgan.validation.sorting import (
    SortedColumns,
    count_at_or_below,
    count_below,
    sort_columns,
    sort_reference,
)


def wasserstein_sorted(
    candidate: SortedColumns, reference: SortedColumns, *, reference_below: torch.Tensor
) -> np.ndarray:
    """W1 = integral_0^1 |Q1(u) - Q2(u)| du per feature, (F,), in the units of the feature.

    On the candidate's quantile cell u in [k/n, (k+1)/n] Q1 = x_k, and Q2 crosses x_k
    at u* = l_k / m, l_k = #{ref < x_k} (``reference_below``, (F, n)). With the
    reference's quantile integral S(u) = integral_0^u Q2 and h_k(u) = x_k u - S(u),
    which peaks at u*, each cell gives 2 h_k(clamp(u*)) - h_k(k/n) - h_k((k+1)/n).
    Both samples are shifted by the reference mean first (W1 does not change), so
    the sums stay precise: about 1e-10 relative to scipy.stats.wasserstein_distance.
    """
    n, m = candidate.n_events, reference.n_events
    device = candidate.values.device
    centre = reference.mean[:, None]  # (F, 1)
    x = candidate.values - centre  # (F, n)
    steps = torch.arange(n + 1, device=device)  # k
    grid = steps.to(torch.float64) / n  # (n + 1,) cell edges k / n
    cell = torch.clamp(steps * m // n, max=m - 1)  # reference cell holding k / n
    offset = grid - cell.to(torch.float64) / m
    integral_grid = reference.quantile_integral[:, cell] + offset * (
        reference.values[:, cell] - centre
    )
    lower, upper = grid[:-1], grid[1:]  # (n,)
    crossing = reference_below.to(torch.float64) / m  # (F, n)
    integral_crossing = torch.gather(reference.quantile_integral, 1, reference_below)
    clamped = torch.minimum(torch.maximum(crossing, lower), upper)
    integral_clamped = torch.where(
        crossing < lower,
        integral_grid[:, :-1],
        torch.where(crossing > upper, integral_grid[:, 1:], integral_crossing),
    )
    peaks = (x * clamped - integral_clamped).sum(dim=1)  # sum_k h_k(clamp(u*))
    ends = torch.mv(x, lower + upper)  # sum_k x_k (k/n + (k+1)/n)
    grid_integrals = integral_grid[:, :-1].sum(dim=1) + integral_grid[:, 1:].sum(dim=1)
    return (2.0 * peaks - ends + grid_integrals).cpu().numpy()


def wasserstein_batched(candidate: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """W1 of every feature, (F,): candidate (n, F) against reference (m, F)."""
    sorted_candidate = sort_columns(candidate)
    sorted_reference = sort_reference(reference)
    points = sorted_candidate.values
    below = count_below(sorted_reference, points, count_at_or_below(sorted_reference, points))
    return wasserstein_sorted(sorted_candidate, sorted_reference, reference_below=below)
