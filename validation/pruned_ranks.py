"""Reference ranks at the sorted candidate points, searched exactly only where KS and W1 need them.

:func:`~hepgan.validation.sorting.reference_ranks` runs one binary search in the
reference per candidate point. When the candidate is much smaller than the reference
most of them are wasted: KS reads only the largest CDF differences, and W1 only which
candidate quantile cell the reference CDF falls in. Here the ranks are searched at
every ``stride``-th sorted candidate point; the points between two samples get bounds
from monotonicity, and only the points whose bounds could change KS or W1 are searched,
each inside its bounds. All features at once, on any device.

Notation: candidate x (F, n) and reference y (F, m), ascending per feature;
r_i = #{y <= x_i}, l_i = #{y < x_i}; samples at P_k = min(k s, n - 1), k = 0 .. B with
B = ceil(n / s); block k holds the points P_k <= i < P_{k+1} (the last block also n - 1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from hepgan.validation.sorting import SortedColumns, with_quantile_integral

# Spacing of the reference summary through which sample points are first searched.
SUMMARY_SPACING = 64


@dataclass(frozen=True)
class RankBounds:
    """Bounds on r_i = #{ref <= x_i} and l_i = #{ref < x_i} at the sorted candidate points,
    each (F, n) int64: at_or_below_low <= r <= at_or_below_high, below_low <= l <= below_high.

    From :func:`pruned_reference_ranks`, tight enough that KS fed with
    (at_or_below_high, below_low) and W1 fed with :func:`wasserstein_below` are exact.
    """

    at_or_below_low: torch.Tensor  # (F, n)
    at_or_below_high: torch.Tensor  # (F, n)
    below_low: torch.Tensor  # (F, n)
    below_high: torch.Tensor  # (F, n)
    ks_numerator: torch.Tensor | None = None  # (F,) KS n m = max(D+, D-) n m, exact


@dataclass(frozen=True)
class _Samples:
    """Exact ranks at the sample points P_k = min(k s, n - 1), k = 0 .. B."""

    positions: torch.Tensor  # (B + 1,) P_k
    at_or_below: torch.Tensor  # (F, B + 1) r at P_k
    below: torch.Tensor  # (F, B + 1) l at P_k


@dataclass(frozen=True)
class _Limits:
    """Per block (F, B), in units of 1 / (n m): a point i of the block may need its exact
    ranks for D+ where (i + 1) m > plus, for D- where i m < minus, and for W1 where
    (i + 1) m > crossing_low and i m < crossing_high."""

    plus: torch.Tensor
    minus: torch.Tensor
    crossing_low: torch.Tensor
    crossing_high: torch.Tensor

    def select(self, blocks: torch.Tensor) -> _Limits:
        """The limits of the flat block indices ``blocks`` (K,), each (K, 1)."""
        return _Limits(
            *(
                _read(field, blocks)[:, None]
                for field in (self.plus, self.minus, self.crossing_low, self.crossing_high)
            )
        )


@dataclass(frozen=True)
class SmallerInLarger:
    """The points of the smaller sample ranked in the larger, as KS and W1 read them.

    Both statistics are symmetric in their samples, so they are computed on the points
    of the smaller one: ``ks_statistic_sorted(points, other, reference_at_or_below=
    at_or_below, reference_below=below)`` (or ``ks_numerator / (k n_other)`` where the
    ranking already found it) and ``wasserstein_sorted(points, other,
    reference_below=wasserstein_below)``. ``other`` carries its quantile integral.
    """

    points: SortedColumns  # the smaller sample, (F, k)
    other: SortedColumns  # the larger sample, with its quantile integral
    at_or_below: torch.Tensor  # (F, k) #{other <= point} or an upper bound that keeps KS exact
    below: torch.Tensor  # (F, k) #{other < point} or a lower bound that keeps KS exact
    wasserstein_below: torch.Tensor  # (F, k) #{other < point}, or a bound on the same W1 side
    ks_numerator: torch.Tensor | None = None  # (F,) KS k n_other, when already known


def rank_smaller_in_larger(candidate: SortedColumns, reference: SortedColumns) -> SmallerInLarger:
    """Rank the smaller sample's points in the larger one.

    A candidate no larger than the reference (which has its tie groups and quantile
    integral) is ranked by :func:`pruned_reference_ranks`. A larger candidate gets
    the reference's points ranked in it instead: two binary searches per reference
    point, exact, and the candidate's quantile integral (one cumulative sum).
    """
    if candidate.n_events <= reference.n_events:
        bounds = pruned_reference_ranks(candidate, reference)
        return SmallerInLarger(
            candidate,
            reference,
            at_or_below=bounds.at_or_below_high,
            below=bounds.below_low,
            wasserstein_below=wasserstein_below(bounds, reference.n_events),
            ks_numerator=bounds.ks_numerator,
        )
    below = torch.searchsorted(candidate.values, reference.values, right=False)
    return SmallerInLarger(
        reference,
        with_quantile_integral(candidate),
        at_or_below=torch.searchsorted(candidate.values, reference.values, right=True),
        below=below,
        wasserstein_below=below,
    )


def pruned_reference_ranks(
    candidate: SortedColumns, reference: SortedColumns, *, stride: int = 8
) -> RankBounds:
    """Bounds on (#{ref <= x_i}, #{ref < x_i}) at each sorted candidate point, (F, n) each.

    The ranks are searched exactly at the samples P_k (every ``stride``-th point and n - 1).
    A point i of block k has r_a <= r_i <= r_b and l_a <= l_i <= l_b (a = P_k, b = P_{k+1};
    exact where x_a = x_b). Then a point is searched exactly, inside its bounds, where

    - KS: its D+ term (i + 1) m - r_i n could exceed the samples' max_k ((P_k + 1) m - r_k n),
      or its D- term l_i n - i m could exceed max(0, max_k (l_k n - P_k m)); so the maxima
      of the terms over the bounds (r_high in D+, l_low in D-) are the exact ones;
    - W1: l_low < l_high and the bounds do not place l_i / m surely at or below i / n
      (l_high n <= i m) or surely at or above (i + 1) / n (l_low n >= (i + 1) m).

    Meant for a candidate smaller than the reference, correct for any sizes. The reference
    needs its tie-group starts (:func:`~hepgan.validation.sorting.sort_reference`).
    """
    _check_inputs(candidate, reference, stride)
    n, m = candidate.n_events, reference.n_events
    samples = _exact_at_samples(candidate.values, reference, stride)
    bounds = _bounds_from_samples(samples, stride, n)
    keys = _keys_to_search(samples, stride, n, m)
    searched = _search_keys(bounds, keys, candidate.values, reference)
    # KS: every point left unsearched has its terms below the samples' maxima.
    best = torch.maximum(*_sample_maxima(samples, n, m))[:, 0]  # (F,)
    return replace(bounds, ks_numerator=torch.maximum(best, searched))


def wasserstein_below(bounds: RankBounds, reference_events: int) -> torch.Tensor:
    """l_eff = where(l_high n <= i m, l_high, l_low), (F, n): gives W1 the same clamped
    crossing clamp(l / m, i / n, (i + 1) / n) as the exact l_i, with m = ``reference_events``."""
    n = bounds.below_high.shape[1]
    cell_start = torch.arange(n, device=bounds.below_high.device) * reference_events  # i m
    surely_below = bounds.below_high * n <= cell_start
    return torch.where(surely_below, bounds.below_high, bounds.below_low)


def _check_inputs(candidate: SortedColumns, reference: SortedColumns, stride: int) -> None:
    """A positive stride, a reference with tie-group starts, the same features in both."""
    if stride < 1:
        raise ValueError(f"stride must be a positive number of candidate points, got {stride}")
    if reference.group_start is None:
        raise ValueError("the reference has no tie-group starts: prepare it with sort_reference")
    if candidate.n_features != reference.n_features:
        raise ValueError(
            f"candidate has {candidate.n_features} features, reference {reference.n_features}"
        )


def _exact_at_samples(values: torch.Tensor, reference: SortedColumns, stride: int) -> _Samples:
    """r and l at P_k = min(k s, n - 1), k = 0 .. ceil(n / s): one batched binary search."""
    n = values.shape[1]
    n_blocks = -(-n // stride)
    positions = (torch.arange(n_blocks + 1, device=values.device) * stride).clamp_(max=n - 1)
    points = values[:, positions]  # (F, B + 1)
    row_start = _row_starts(reference)[:, None]  # (F, 1)
    at_or_below = _two_level_search(reference, points)
    return _Samples(positions, at_or_below, _count_below(reference, row_start, points, at_or_below))


def _two_level_search(reference: SortedColumns, points: torch.Tensor) -> torch.Tensor:
    """r = #{y <= x} for keys (F, K), ascending per row, first among every 64th reference
    value, y_{64 j + 63} (a summary small enough to stay in cache), then inside the window
    of at most 63 entries it leaves: j = #{summary <= x} puts r in [64 j, 64 j + 63]
    (y_{64 j + 63} > x, or the row ends first).

    The window is searched by binary lifting, the same six halves for every key:
    r = 64 j + sum of the halves h in 32, 16, ..., 1 for which y_{r + h - 1} <= x.
    A plain search of keys spread over a 100,000-entry row misses the cache at each of
    its last levels; this one is about twice as fast.
    """
    m = reference.n_events
    summary = reference.values[:, SUMMARY_SPACING - 1 :: SUMMARY_SPACING].contiguous()
    found = torch.searchsorted(summary, points, right=True) * SUMMARY_SPACING  # 64 j
    half = SUMMARY_SPACING // 2
    while half >= 1:
        probe = found + (half - 1)  # the last entry of the next `half`
        inside = torch.gather(reference.values, 1, probe.clamp(max=m - 1)) <= points
        found += (inside & (probe < m)) * half  # past the row's end never counts
        half //= 2
    return found


def _row_starts(reference: SortedColumns) -> torch.Tensor:
    """f m: the flat index of each feature's first reference value, (F,)."""
    return torch.arange(reference.n_features, device=reference.values.device) * reference.n_events


def _count_below(
    reference: SortedColumns,
    row_start: torch.Tensor,
    points: torch.Tensor,
    at_or_below: torch.Tensor,
) -> torch.Tensor:
    """l = #{y < x} from r = #{y <= x}: the start of y_{r-1}'s tie group where y_{r-1} = x,
    else r. Any shape of keys; ``row_start`` (f m) broadcast to it locates each key's row."""
    last = row_start + (at_or_below - 1).clamp(min=0)  # flat index of y_{r-1}
    equal = (at_or_below > 0) & (_read(reference.values, last) == points)
    return torch.where(equal, _read(reference.group_start, last), at_or_below)


def _read(values: torch.Tensor, flat_index: torch.Tensor) -> torch.Tensor:
    """values.reshape(-1)[flat_index] for any shape of index, without copying ``values``:
    ``index_select`` where it is contiguous (on the CPU about twice as fast as the
    alternatives), else ``torch.take`` (an expanded ``group_start``: a reference without ties)."""
    if not values.is_contiguous():
        return torch.take(values, flat_index)
    picked = values.view(-1).index_select(0, flat_index.reshape(-1))
    return picked.view(flat_index.shape)


def _bounds_from_samples(samples: _Samples, stride: int, n: int) -> RankBounds:
    """r in [r_a, r_b] and l in [l_a, l_b] at every point of block k (a = P_k, b = P_{k+1}),
    exact at the samples themselves; each (F, n)."""
    bounds = RankBounds(
        at_or_below_low=_spread(samples.at_or_below[:, :-1], stride, n),
        at_or_below_high=_spread(samples.at_or_below[:, 1:], stride, n),
        below_low=_spread(samples.below[:, :-1], stride, n),
        below_high=_spread(samples.below[:, 1:], stride, n),
    )
    bounds.at_or_below_high[:, ::stride] = samples.at_or_below[:, :-1]  # P_k, k < B
    bounds.below_high[:, ::stride] = samples.below[:, :-1]
    bounds.at_or_below_low[:, -1] = samples.at_or_below[:, -1]  # P_B = n - 1
    bounds.below_low[:, -1] = samples.below[:, -1]
    return bounds


def _spread(per_block: torch.Tensor, stride: int, n: int) -> torch.Tensor:
    """(F, B) -> (F, n): each block's value at its s points, v[f, i] = per_block[f, i // s]."""
    n_features, n_blocks = per_block.shape
    spread = per_block[:, :, None].expand(n_features, n_blocks, stride)
    return spread.reshape(n_features, n_blocks * stride)[:, :n].contiguous()


def _keys_to_search(samples: _Samples, stride: int, n: int, m: int) -> torch.Tensor:
    """Points that may need their exact ranks, as flat indices f n + i (K,): first the blocks
    with such a point strictly between their samples (a < i < b), then those points."""
    limits = _limits(samples, n, m)
    starts, stops = samples.positions[:-1], samples.positions[1:]  # (B,) a, b
    n_blocks = len(starts)
    blocks = torch.nonzero(_may_matter(limits, starts + 1, stops, m).reshape(-1)).squeeze(1)
    block_in_row = blocks % n_blocks  # (K_b,) k of each block f B + k
    steps = torch.arange(1, stride, device=starts.device)  # (s - 1,)
    indices = starts.index_select(0, block_in_row)[:, None] + steps  # (K_b, s - 1) i = a + j
    inside = indices < stops.index_select(0, block_in_row)[:, None]
    needed = inside & _may_matter(limits.select(blocks), indices, indices + 1, m)
    block, step = torch.nonzero(needed, as_tuple=True)
    return blocks.index_select(0, block) // n_blocks * n + indices[block, step]


def _limits(samples: _Samples, n: int, m: int) -> _Limits:
    """Where the points i of block k (a < i < b) may need exact ranks, from the bounds
    r in [r_a, r_b], l in [l_a, l_b] and the maxima best+ and best- the samples reach
    (:func:`_sample_maxima`); all in units of 1 / (n m):

        D+: (i + 1) m - r_a n > best+   <=>  (i + 1) m > best+ + r_a n
        D-: l_b n - i m > best-         <=>  i m < l_b n - best-
        W1: l_a n < (i + 1) m and i m < l_b n

    D+ only where r_a < r_b, D- and W1 only where l_a < l_b (elsewhere r, l are exact).
    """
    r_a, r_b = samples.at_or_below[:, :-1], samples.at_or_below[:, 1:]  # (F, B)
    l_a, l_b = samples.below[:, :-1], samples.below[:, 1:]
    best_plus, best_minus = _sample_maxima(samples, n, m)  # (F, 1)
    loose_l_b = torch.where(l_a < l_b, l_b * n, 0)  # 0: i m < 0 for no point
    return _Limits(
        plus=torch.where(r_a < r_b, best_plus + r_a * n, n * m),  # n m: (i + 1) m > n m for none
        minus=loose_l_b - best_minus,
        crossing_low=l_a * n,
        crossing_high=loose_l_b,
    )


def ks_terms(
    index: torch.Tensor, at_or_below: torch.Tensor, below: torch.Tensor, n: int, m: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The KS terms x n m at the i-th sorted candidate point (shapes broadcast):
    D+ = (i + 1) m - r_i n, reached at the point, and D- = l_i n - i m, just below it
    (r_i = #{ref <= x_i}, l_i = #{ref < x_i}); KS n m is the largest of them and 0."""
    cell_start = index * m
    return cell_start + m - at_or_below * n, below * n - cell_start


def _sample_maxima(samples: _Samples, n: int, m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """best+ = max_k ((P_k + 1) m - r_k n) and best- = max(0, max_k (l_k n - P_k m)), each
    (F, 1): the KS terms (x n m) that the exact ranks at the samples already reach."""
    plus, minus = ks_terms(samples.positions, samples.at_or_below, samples.below, n, m)
    return plus.amax(dim=1, keepdim=True), minus.amax(dim=1, keepdim=True).clamp(min=0)


def _may_matter(limits: _Limits, first: torch.Tensor, stop: torch.Tensor, m: int) -> torch.Tensor:
    """Whether some point first <= i < stop may need its exact ranks (shapes broadcast): the
    largest (i + 1) m is stop m, the smallest i m is first m."""
    first_m, stop_m = first * m, stop * m
    plus = stop_m > limits.plus
    minus = first_m < limits.minus
    crossing = (stop_m > limits.crossing_low) & (first_m < limits.crossing_high)
    return (first < stop) & (plus | minus | crossing)


def _search_keys(
    bounds: RankBounds, keys: torch.Tensor, values: torch.Tensor, reference: SortedColumns
) -> torch.Tensor:
    """Replace the bounds at the flat indices ``keys`` (K,) with the exact ranks, in place:
    a bounded binary search for r in [r_low, r_high] in each key's reference row, then l.
    Returns the largest KS term max(D+, D-) n m of the searched points per row, (F,)."""
    n, m = values.shape[1], reference.n_events
    largest = torch.zeros(values.shape[0], dtype=torch.int64, device=values.device)
    if len(keys) == 0:
        return largest
    rows = keys // n  # (K,) f
    row_start = rows * m  # f m
    points = _read(values, keys)
    low = _read(bounds.at_or_below_low, keys)
    length = _read(bounds.at_or_below_high, keys) - low
    # A point selected for l alone may have r_low = r_high = r: the one-entry window
    # starting at min(r, m - 1) holds r.
    first = row_start + low.clamp(max=m - 1)
    at_or_below = _bounded_search(reference.values, points, first, length.clamp(min=1))
    at_or_below -= row_start
    below = _count_below(reference, row_start, points, at_or_below)
    for field, exact in (
        (bounds.at_or_below_low, at_or_below),
        (bounds.at_or_below_high, at_or_below),
        (bounds.below_low, below),
        (bounds.below_high, below),
    ):
        field.view(-1).scatter_(0, keys, exact)
    index = keys - rows * n  # i
    terms = torch.maximum(*ks_terms(index, at_or_below, below, n, m))
    return largest.scatter_reduce_(0, rows, terms, "amax")


def _bounded_search(
    values: torch.Tensor, points: torch.Tensor, first: torch.Tensor, length: torch.Tensor
) -> torch.Tensor:
    """first + #{j in [first, first + length): y_j <= x} for keys (K,) over the flattened
    ``values``, where y_j <= x before ``first`` and y_j > x from first + length on; length >= 1.

    Branchless halving of every key's window at once: a window of L entries starting at
    base keeps its answer in [base, base + L]; probing y_{base + L//2} <= x moves base up
    by L//2, and L becomes L - L//2. After ceil(log2(max L)) steps L = 1 and one more
    comparison gives the answer.
    """
    base = first
    for _ in range(int(length.max() - 1).bit_length()):
        half = length >> 1
        probe = base + half
        base = torch.where(_read(values, probe) <= points, probe, base)
        length = length - half
    return base + (_read(values, base) <= points)
