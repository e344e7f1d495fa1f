"""The 1-D Wasserstein-1 (earth mover's) distance between two samples, all features at once."""

from __future__ import annotations

import numpy as np
import torch

from hepgan.validation.pruned_ranks import rank_smaller_in_larger
from hepgan.validation.sorting import (
    SortedColumns,
    quantile_integral_grid,
    sort_columns,
    sort_reference,
)


def wasserstein_sorted(
    candidate: SortedColumns,
    reference: SortedColumns,
    *,
    reference_below: torch.Tensor,
    reference_grid: torch.Tensor | None = None,
) -> np.ndarray:
    """W1 = integral_0^1 |Q1(u) - Q2(u)| du per feature, (F,), in the units of the feature.

    On the candidate's quantile cell u in [k/n, (k+1)/n] Q1 = x_k, and Q2 crosses x_k
    at u* = l_k / m, l_k = #{ref < x_k} (``reference_below``, (F, n)). With the
    reference's centred quantile integral S(u) = integral_0^u (Q2 - mean) and
    h_k(u) = x_k u - S(u), which peaks at u*, each cell gives
    2 h_k(v_k) - h_k(k/n) - h_k((k+1)/n), v_k = clamp(u*, k/n, (k+1)/n). Summed:

        W1 = sum_k x_k (2 v_k - (2k + 1)/n) - 2 sum_k S(v_k) + 2 sum_{k=0}^{n} S(k/n) - S(1).

    S(v_k) is the grid value S(k/n) or S((k+1)/n) except in the few cells that Q2
    crosses inside, where it is the knot S(l_k / m). ``reference_grid``: S(k/n),
    k = 0 .. n, (F, n + 1), when the caller has it (else computed). x_k is shifted by the
    reference mean (W1 does not change; the sums keep their precision: about 1e-10
    relative to scipy.stats.wasserstein_distance).
    """
    n, m = candidate.n_events, reference.n_events
    device = candidate.values.device
    grid = quantile_integral_grid(reference, n) if reference_grid is None else reference_grid
    x = candidate.values - reference.mean[:, None]  # (F, n)
    edges = torch.arange(n + 1, device=device, dtype=torch.float64) / n  # k / n
    lower, upper = edges[:-1], edges[1:]  # (n,)
    clamped = torch.clamp(reference_below.to(torch.float64) / m, min=lower, max=upper)  # v_k
    cell_start = torch.arange(n, device=device) * m  # k m
    crossing = reference_below * n  # u* n m
    crossed_below = crossing <= cell_start  # u* <= k / n: v_k = k / n
    at_clamped = torch.where(crossed_below, grid[:, :-1], grid[:, 1:])  # S(v_k), (F, n)
    crossed_inside = ~crossed_below & (crossing < cell_start + m)
    rows, cells = torch.nonzero(crossed_inside, as_tuple=True)
    at_clamped[rows, cells] = reference.quantile_integral[rows, reference_below[rows, cells]]
    w1 = (
        2.0 * (x * clamped).sum(dim=1)
        - torch.mv(x, lower + upper)  # sum_k x_k (2k + 1) / n
        - 2.0 * at_clamped.sum(dim=1)
        + 2.0 * grid.sum(dim=1)
        - grid[:, n]  # S(1); S(0) = 0
    )
    return w1.cpu().numpy()


def wasserstein_batched(candidate: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """W1 of every feature, (F,): candidate (n, F) against reference (m, F)."""
    sorted_candidate = sort_columns(candidate)
    sorted_reference = sort_reference(reference)
    ranks = rank_smaller_in_larger(sorted_candidate, sorted_reference)
    return wasserstein_sorted(ranks.points, ranks.other, reference_below=ranks.wasserstein_below)
