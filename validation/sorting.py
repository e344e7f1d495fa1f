"""Samples sorted column by column: the shared first step of KS, W1 and the binned divergences.

Every statistic here is a function of the two empirical CDFs. With both samples
sorted per feature, the empirical CDF of one sample at the points of the other
is one batched binary search (``torch.searchsorted`` over all features at once),
and ties are resolved with the tie-group bounds stored beside the values. A
reference sample is sorted once and reused for every candidate batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class SortedColumns:
    """A sample of N events and F features, sorted along the events axis, with tie bounds.

    ``values`` (F, N) float64 ascending per row. ``group_start[f, i]`` is the first
    index j with ``values[f, j] == values[f, i]`` and ``group_end[f, i]`` one past the
    last, so ``group_end`` is the count of entries <= the value and ``group_start``
    the count of entries < it. ``cdf_integral[f, i]`` is I(v) = integral from -inf
    to v = values[f, i] of the empirical CDF F(t) dt (units of the feature).
    """

    values: torch.Tensor  # (F, N)
    group_start: torch.Tensor  # (F, N) int64
    group_end: torch.Tensor  # (F, N) int64
    cdf_integral: torch.Tensor  # (F, N)

    @property
    def n_events(self) -> int:
        return int(self.values.shape[1])

    @property
    def n_features(self) -> int:
        return int(self.values.shape[0])


def as_feature_rows(samples: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(N, F) or (N,) events -> (F, N) contiguous float64 tensor, one row per feature."""
    tensor = torch.as_tensor(samples)
    if tensor.ndim == 1:
        tensor = tensor[:, None]  # (N, 1)
    if tensor.ndim != 2:
        raise ValueError(f"expected samples of shape (N, F), got {tuple(tensor.shape)}")
    if tensor.shape[0] == 0:
        raise ValueError("cannot compare an empty sample")
    return tensor.to(torch.float64).T.contiguous()  # (F, N)


def sort_columns(samples: np.ndarray | torch.Tensor) -> SortedColumns:
    """Sort (N, F) events per feature and record tie groups and the CDF integral.

    The CDF integral at the sorted points is I(v_0) = 0 and
    I(v_i) = sum_{k < i} ((k + 1) / N) (v_{k+1} - v_k).
    """
    rows = as_feature_rows(samples)  # (F, N)
    if not bool(torch.isfinite(rows).all()):
        raise ValueError("samples contain NaN or infinite values")
    values = torch.sort(rows, dim=1).values  # (F, N)
    group_start, group_end = _tie_groups(values)
    n_events = values.shape[1]
    step_heights = torch.arange(1, n_events, device=values.device, dtype=torch.float64) / n_events
    cdf_integral = torch.zeros_like(values)
    cdf_integral[:, 1:] = torch.cumsum(step_heights * torch.diff(values, dim=1), dim=1)
    return SortedColumns(values, group_start, group_end, cdf_integral)


def _tie_groups(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """First index and one-past-last index of each entry's run of equal values, each (F, N).

    Runs are numbered over the flattened rows (each row starts a new run), so one
    cumulative sum labels them all and a gather reads their bounds.
    """
    n_rows, n_events = values.shape
    starts = torch.ones_like(values, dtype=torch.bool)  # (F, N): entry begins a run
    starts[:, 1:] = values[:, 1:] != values[:, :-1]
    if bool(starts.all()):  # no ties: every run is a single entry
        positions = torch.arange(n_events, device=values.device).expand(n_rows, n_events)
        return positions.contiguous(), positions + 1
    flat_starts = starts.reshape(-1)
    run = torch.cumsum(flat_starts, dim=0) - 1  # (F N,) run label of each entry
    run_first = torch.nonzero(flat_starts).squeeze(1)  # (runs,) flat index of each run's start
    run_end = torch.cat([run_first[1:], run_first.new_tensor([flat_starts.numel()])])
    row_offset = (torch.arange(n_rows, device=values.device) * n_events)[:, None]  # (F, 1)
    group_start = run_first[run].reshape(n_rows, n_events) - row_offset
    group_end = run_end[run].reshape(n_rows, n_events) - row_offset
    return group_start, group_end


def count_at_or_below(sample: SortedColumns, points: torch.Tensor) -> torch.Tensor:
    """#{sample <= x} for each x in ``points`` (F, K), per feature row; int64 (F, K)."""
    return torch.searchsorted(sample.values, points.contiguous(), right=True)


def count_below(
    sample: SortedColumns, points: torch.Tensor, at_or_below: torch.Tensor
) -> torch.Tensor:
    """#{sample < x} from the counts <= x: one less tie group where x equals a sample value."""
    last_index = (at_or_below - 1).clamp(min=0)  # (F, K)
    last_value = torch.gather(sample.values, 1, last_index)
    last_start = torch.gather(sample.group_start, 1, last_index)
    equal = (at_or_below > 0) & (last_value == points)
    return torch.where(equal, last_start, at_or_below)


def cdf_integral_at(
    sample: SortedColumns, points: torch.Tensor, at_or_below: torch.Tensor
) -> torch.Tensor:
    """I(x) = integral_{-inf}^{x} F(t) dt for each x in ``points`` (F, K); 0 below the sample.

    With r = #{sample <= x} >= 1: I(x) = I(v_{r-1}) + (r / N) (x - v_{r-1}).
    """
    last_index = (at_or_below - 1).clamp(min=0)  # (F, K)
    last_value = torch.gather(sample.values, 1, last_index)
    integral = torch.gather(sample.cdf_integral, 1, last_index)
    integral = integral + at_or_below.to(torch.float64) / sample.n_events * (points - last_value)
    return torch.where(at_or_below > 0, integral, torch.zeros_like(integral))
