"""The 1-D Wasserstein-1 (earth mover's) distance between two samples, all features at once."""

from __future__ import annotations

import numpy as np
import torch

from hepgan.validation.pruned_ranks import rank_smaller_in_larger
from hepgan.validation.sorting import SortedColumns, sort_columns, sort_reference


def wasserstein_sorted(
    candidate: SortedColumns, reference: SortedColumns, *, reference_below: torch.Tensor
) -> np.ndarray:
    """W1 = integral_0^1 |Q1(u) - Q2(u)| du per feature, (F,), in the units of the feature.

    On the candidate's quantile cell u in [k/n, (k+1)/n] Q1 = x_k, and Q2 crosses x_k
    at u* = l_k / m, l_k = #{ref < x_k} (``reference_below``, (F, n)). With the
    reference's centred quantile integral S(u) = integral_0^u (Q2 - mean) and
    h_k(u) = x_k u - S(u), which peaks at u*, each cell gives
    2 h_k(v_k) - h_k(k/n) - h_k((k+1)/n), v_k = clamp(u*, k/n, (k+1)/n). Summed:

        W1 = sum_k x_k (2 v_k - (2k + 1)/n) - 2 sum_k S(v_k) + 2 sum_{k=0}^{n} S(k/n) - S(1),

    x_k shifted by the reference mean (W1 does not change; the sums keep their
    precision: about 1e-10 relative to scipy.stats.wasserstein_distance). S is
    linear between its knots S(j/m) (``quantile_integral``):
    S(u) = S(j/m) + (u - j/m) (y_j - mean) with j = floor(u m).
    """
    n, m = candidate.n_events, reference.n_events
    device = candidate.values.device
    x = candidate.values - reference.mean[:, None]  # (F, n)
    grid = torch.arange(n + 1, device=device, dtype=torch.float64) / n  # cell edges k / n
    lower, upper = grid[:-1], grid[1:]  # (n,)
    clamped = torch.clamp(reference_below.to(torch.float64) / m, min=lower, max=upper)  # v_k
    scaled = clamped * m
    cells = scaled.to(torch.int64).clamp_(max=m - 1)  # floor(v_k m), (F, n)
    offsets = scaled.sub_(cells).div_(m)  # v_k - j / m (scaled is spent)
    at_clamped = (
        torch.gather(reference.quantile_integral, 1, cells).sum(dim=1)
        + (offsets * torch.gather(reference.values, 1, cells)).sum(dim=1)
        - reference.mean * offsets.sum(dim=1)
    )  # sum_k S(v_k)
    clamped_sum = (x * clamped).sum(dim=1)  # sum_k x_k v_k
    w1 = (
        2.0 * clamped_sum
        - torch.mv(x, lower + upper)  # sum_k x_k (2k + 1) / n
        - 2.0 * at_clamped
        + 2.0 * _grid_integral_sum(reference, n)
        - reference.quantile_integral[:, m]  # S(1)
    )
    return w1.cpu().numpy()


def _grid_integral_sum(reference: SortedColumns, n: int) -> torch.Tensor:
    """sum_{k=0}^{n} S(k/n) per feature, (F,): with j_k = min(floor(k m / n), m - 1) and
    o_k = k/n - j_k/m, it is sum_j [N_j S(j/m) + W_j (y_j - mean)], N_j = #{k: j_k = j},
    W_j = sum of o_k over those k: two matrix-vector products over the reference."""
    m = reference.n_events
    device = reference.values.device
    steps = torch.arange(n + 1, device=device)
    cells = torch.clamp(steps * m // n, max=m - 1)  # (n + 1,)
    offsets = steps.to(torch.float64) / n - cells.to(torch.float64) / m
    counts = torch.bincount(cells, minlength=m).to(torch.float64)  # (m,)
    weights = torch.bincount(cells, weights=offsets, minlength=m)  # (m,)
    return (
        torch.mv(reference.quantile_integral[:, :m], counts)
        + torch.mv(reference.values, weights)
        - reference.mean * weights.sum()
    )


def wasserstein_batched(candidate: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """W1 of every feature, (F,): candidate (n, F) against reference (m, F)."""
    sorted_candidate = sort_columns(candidate)
    sorted_reference = sort_reference(reference)
    ranks = rank_smaller_in_larger(sorted_candidate, sorted_reference)
    return wasserstein_sorted(ranks.points, ranks.other, reference_below=ranks.wasserstein_below)
