"""Samples sorted column by column: the shared first step of KS, W1 and the binned divergences.

Every statistic here is a function of the two empirical distributions. With
both samples sorted per feature, one sample's CDF at the other's points comes from
batched binary searches over all features at once
(:mod:`hepgan.validation.pruned_ranks`). The reference is sorted once, with what the
statistics read from it (tie-group starts, the integral of its quantile function and
its values on the grid of a batch size, its moments), and reused for every candidate
batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

# Sizes whose quantile-integral grid a sorted sample keeps.
GRIDS_KEPT = 2
# Elements (events x features) per block when sorting a reference: 16 MB of float64.
PREPARE_BLOCK_ELEMENTS = 1 << 21


@dataclass(frozen=True)
class SortedColumns:
    """A sample of N events and F features, sorted along the events axis.

    ``values`` (F, N) float64, ascending per row; ``mean`` and ``std`` (F,) its moments.
    A reference sample (:func:`sort_reference`) also has ``group_start[f, i]``, the
    first index j with ``values[f, j] == values[f, i]`` (= #{entries < value}), and
    ``quantile_integral`` (F, N + 1), S_j = sum_{i < j} (values_i - mean) / N: the
    integral of the centred quantile function Q(u) - mean from 0 to j / N, in the
    feature's unit (centred so that sums of it keep their precision far from zero).
    """

    values: torch.Tensor  # (F, N)
    mean: torch.Tensor  # (F,)
    std: torch.Tensor  # (F,)
    group_start: torch.Tensor | None = None  # (F, N) int64
    quantile_integral: torch.Tensor | None = None  # (F, N + 1)
    # quantile_integral_grid(k) of the last GRIDS_KEPT sizes k asked (not copied by rows())
    _grids: dict[int, torch.Tensor] = field(default_factory=dict, compare=False, repr=False)

    def quantile_integral_grid(self, n_cells: int) -> torch.Tensor:
        """:func:`quantile_integral_grid` of this sample (which needs its quantile
        integral), kept for the last two sizes asked: a reference prepared once meets
        the same batch size again and again."""
        grid = self._grids.get(n_cells)
        if grid is None:  # reports in concurrent threads may both compute it: harmless
            grid = quantile_integral_grid(self, n_cells)
            while len(self._grids) >= GRIDS_KEPT:
                self._grids.pop(next(iter(self._grids), None), None)
            self._grids[n_cells] = grid
        return grid

    def rows(self, start: int, stop: int) -> SortedColumns:
        """Features ``start`` to ``stop`` (views, no copy)."""
        return SortedColumns(
            *(None if field is None else field[start:stop] for field in self._fields())
        )

    def _fields(self) -> tuple[torch.Tensor | None, ...]:
        return (self.values, self.mean, self.std, self.group_start, self.quantile_integral)

    @property
    def n_events(self) -> int:
        return int(self.values.shape[1])

    @property
    def n_features(self) -> int:
        return int(self.values.shape[0])


def as_feature_rows(
    samples: np.ndarray | torch.Tensor,
    *,
    device: str | None = None,
    checked: bool = False,
) -> torch.Tensor:
    """(N, F) or (N,) events -> (F, N) contiguous tensor, one row per feature: float32
    samples stay float32 (half the memory traffic to sort), others become float64.

    No copy when ``samples`` is the transpose of a contiguous (F, N) float32 or float64
    array on the device. ``checked``: the caller has already rejected NaN and infinities.
    """
    tensor = torch.as_tensor(samples, device=device)
    if tensor.ndim == 1:
        tensor = tensor[:, None]  # (N, 1)
    if tensor.ndim != 2:
        raise ValueError(f"expected samples of shape (N, F), got {tuple(tensor.shape)}")
    if tensor.shape[0] == 0:
        raise ValueError("cannot compare an empty sample")
    dtype = torch.float32 if tensor.dtype == torch.float32 else torch.float64
    rows = tensor.to(dtype).T.contiguous()  # (F, N)
    if not checked and not bool(torch.isfinite(rows).all()):
        raise ValueError("samples contain NaN or infinite values")
    return rows


def sort_columns(
    samples: np.ndarray | torch.Tensor, *, device: str | None = None, checked: bool = False
) -> SortedColumns:
    """Sort (N, F) candidate events per feature; values and moments only (``checked``: as
    :func:`as_feature_rows`).

    Float32 samples are sorted as float32 and then widened (float64 holds every
    float32 exactly, so the order and all comparisons are the same), about twice
    as fast as sorting them widened. On the CPU the work is numpy's alone (its
    vectorised sort is about twice as fast as torch's, and it releases the GIL),
    so callers may sort blocks of features in parallel threads.
    """
    rows = as_feature_rows(samples, device=device, checked=checked)
    if rows.device.type == "cpu":
        values = np.sort(rows.numpy(), axis=1).astype(np.float64, copy=False)  # (F, N)
        return SortedColumns(
            torch.from_numpy(values),
            torch.from_numpy(values.mean(axis=1)),
            torch.from_numpy(values.std(axis=1)),
        )
    values = torch.sort(rows, dim=1).values.to(torch.float64)
    mean, std = _moments(values)
    return SortedColumns(values, mean, std)


def sort_reference(
    samples: np.ndarray | torch.Tensor, *, device: str | None = None
) -> SortedColumns:
    """Sort (N, F) reference events per feature, with tie-group starts and quantile integral.

    Works through blocks of features (about 16 MB each) written into the result, so
    the large arrays are allocated once and the working arrays are recycled.
    """
    if np.ndim(samples) == 1:
        samples = samples[:, None]
    n_events, n_features = samples.shape
    block = max(1, PREPARE_BLOCK_ELEMENTS // max(n_events, 1))
    target = torch.device(device or "cpu")
    values = torch.empty((n_features, n_events), dtype=torch.float64, device=target)
    for start in range(0, n_features, block):
        piece = samples[:, start : start + block]
        rows = as_feature_rows(piece, device=device)
        values[start : start + piece.shape[1]] = _sort_rows(rows)
    return reference_from_sorted(values)


def reference_from_sorted(values: torch.Tensor) -> SortedColumns:
    """A reference from rows (F, N) float64 already ascending: adds moments, tie-group
    starts and the quantile integral, in blocks of features (about 16 MB each)."""
    n_features, n_events = values.shape
    block = max(1, PREPARE_BLOCK_ELEMENTS // max(n_events, 1))
    group_start = torch.empty_like(values, dtype=torch.int64)
    quantile_integral = torch.zeros(
        (n_features, n_events + 1), dtype=torch.float64, device=values.device
    )
    means, stds = [], []
    for start in range(0, n_features, block):
        piece = values[start : start + block]  # (F_block, N)
        stop = start + len(piece)
        mean, std = _moments(piece)
        means.append(mean)
        stds.append(std)
        group_start[start:stop] = _group_starts(piece)
        centred = piece - means[-1][:, None]  # (F_block, N)
        torch.cumsum(centred, dim=1, out=quantile_integral[start:stop, 1:])
    quantile_integral[:, 1:] /= n_events
    return SortedColumns(
        values,
        torch.cat(means),
        torch.cat(stds),
        group_start=group_start,
        quantile_integral=quantile_integral,
    )


def with_quantile_integral(sample: SortedColumns) -> SortedColumns:
    """``sample`` plus its quantile integral S_j = sum_{i < j} (values_i - mean) / N, (F, N + 1)."""
    quantile_integral = torch.zeros(
        (sample.n_features, sample.n_events + 1), dtype=torch.float64, device=sample.values.device
    )
    torch.cumsum(sample.values - sample.mean[:, None], dim=1, out=quantile_integral[:, 1:])
    quantile_integral[:, 1:] /= sample.n_events
    return SortedColumns(
        sample.values,
        sample.mean,
        sample.std,
        group_start=sample.group_start,
        quantile_integral=quantile_integral,
    )


def quantile_integral_grid(sample: SortedColumns, n_cells: int) -> torch.Tensor:
    """S(k / n) for k = 0 .. n (n = ``n_cells``), (F, n + 1), of a sample with its quantile
    integral: S is linear between its knots S(j / N), so
    S(u) = S(j / N) + (u - j / N) (y_j - mean) with j = min(floor(u N), N - 1)."""
    n_events = sample.n_events
    steps = torch.arange(n_cells + 1, device=sample.values.device)
    cells = torch.clamp(steps * n_events // n_cells, max=n_events - 1)  # (n + 1,) j
    offsets = steps.to(torch.float64) / n_cells - cells.to(torch.float64) / n_events
    knots = sample.quantile_integral.index_select(1, cells)  # (F, n + 1)
    values = sample.values.index_select(1, cells) - sample.mean[:, None]
    return knots + offsets * values


def _moments(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation sqrt(mean((x - mean)^2)) of each row of (F, N), each (F,).

    Two plain passes: on the CPU several times faster than ``torch.std`` (Welford's
    update per element), and as precise for these sample sizes.
    """
    mean = rows.mean(dim=1)
    centred = rows - mean[:, None]
    return mean, torch.sqrt((centred * centred).mean(dim=1))


def _sort_rows(rows: torch.Tensor) -> torch.Tensor:
    """Each row of (F, N) ascending. On the CPU numpy's vectorised sort is about twice as
    fast as torch's; elsewhere torch sorts on the device."""
    if rows.device.type == "cpu":
        return torch.from_numpy(np.sort(rows.numpy(), axis=1))
    return torch.sort(rows, dim=1).values


def _group_starts(values: torch.Tensor) -> torch.Tensor:
    """First index of each entry's run of equal values in its sorted row, (F, N) int64.

    Runs are numbered over the flattened rows (each row starts a new run), so one
    cumulative sum labels them all and a gather reads where each run starts.
    """
    n_rows, n_events = values.shape
    starts = torch.ones_like(values, dtype=torch.bool)  # (F, N): entry begins a run
    starts[:, 1:] = values[:, 1:] != values[:, :-1]
    if bool(starts.all()):  # no ties: every run is a single entry
        return torch.arange(n_events, device=values.device).expand(n_rows, n_events)
    flat_starts = starts.reshape(-1)
    run = torch.cumsum(flat_starts, dim=0) - 1  # (F N,) run label of each entry
    run_first = torch.nonzero(flat_starts).squeeze(1)  # (runs,) flat index of each run's start
    row_offset = (torch.arange(n_rows, device=values.device) * n_events)[:, None]  # (F, 1)
    return run_first[run].reshape(n_rows, n_events) - row_offset
