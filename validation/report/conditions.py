"""Match the reference sample to the conditions a candidate batch was generated at.

A shower at 10 GeV and one at 100 GeV differ in every observable, so a batch
made at given incident energies is compared with the reference events of the
same energies, not the whole reference. Per condition variable:

- a batch at a single value (all candidate values equal) is compared with the
  reference events in a window of +-``window_fraction`` around it, widened to
  the nearest ``min_reference_events`` events when the window holds fewer;
- a batch spread over a range is compared bin by bin: bins at quantiles of the
  reference's condition values, and from each bin the reference contributes
  events in the candidate's proportions (stratified, seeded choice), so the
  matched reference has the candidate's condition distribution.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, Field


class ConditionMatch(BaseModel):
    """How the reference was restricted for one condition variable."""

    name: str
    mode: Literal["window", "bins"]
    window: tuple[float, float] | None = Field(
        default=None, description="[low, high] of the reference values kept (window mode)"
    )
    edges: list[float] | None = Field(
        default=None, description="reference-quantile bin edges (bins mode), open outer bins"
    )
    bins_used: list[int] | None = Field(
        default=None, description="indices of the bins holding candidate events (bins mode)"
    )


class ConditionSelection(BaseModel):
    """The matched reference: which events, and how they were chosen."""

    variables: list[ConditionMatch]
    n_reference_total: int
    n_reference_matched: int
    n_candidate_unmatched: int = Field(
        description="candidate events in condition bins without any reference event"
    )


class PreparedConditions:
    """A reference sample's condition values prepared once for many matches (a service's
    held-out events): per variable the values sorted, with the event index at each sorted
    position, and per number of bins the reference-quantile edges and each event's cell.

    What this keeps is a function of the reference alone, so every match gives what
    matching against the raw values gives; memory: 16 bytes an event and variable sorted,
    8 for each variable binned and 24 for each set of binned variables met (per bin count).
    """

    def __init__(self, conditions: Mapping[str, np.ndarray]) -> None:
        self.values = {name: np.asarray(v, dtype=np.float64) for name, v in conditions.items()}
        lengths = {len(values) for values in self.values.values()}
        if len(lengths) > 1:
            raise ValueError(f"reference conditions differ in length: {sorted(lengths)}")
        self.n_events = lengths.pop() if lengths else 0
        self._sorted: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._bins: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        self._cells: dict[tuple[tuple[str, ...], int], CellTable] = {}

    def sorted_values(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Variable ``name``'s values in ascending order (M,), and the event at each position."""
        if name not in self._sorted:
            order = np.argsort(self.values[name], kind="stable")
            self._sorted[name] = self.values[name][order], order
        return self._sorted[name]

    def bins(self, name: str, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
        """Interior edges of ``n_bins`` reference-quantile bins of ``name`` (ties merged), and
        each event's bin (M,): 0 below the first edge, b from edge b - 1 on."""
        key = (name, n_bins)
        if key not in self._bins:
            values = self.values[name]
            edges = np.unique(np.quantile(values, np.linspace(0, 1, n_bins + 1)[1:-1]))
            self._bins[key] = edges, np.searchsorted(edges, values, side="right")
        return self._bins[key]

    def cells(self, names: tuple[str, ...], n_bins: int) -> CellTable:
        """The grid of the binned variables ``names``: each event's cell, and the events
        grouped by cell (:class:`CellTable`)."""
        key = (names, n_bins)
        if key not in self._cells:
            bins = [self.bins(name, n_bins) for name in names]
            sizes = [len(edges) + 1 for edges, _ in bins]
            cell = np.ravel_multi_index([b for _, b in bins], sizes)
            by_cell = np.argsort(cell, kind="stable")
            self._cells[key] = CellTable(cell, sizes, by_cell, cell[by_cell])
        return self._cells[key]


class CellTable(NamedTuple):
    """The reference events in a grid of condition bins."""

    cell: np.ndarray  # (M,) each event's cell: row-major index of its bins
    sizes: list[int]  # bins per variable
    events: np.ndarray  # (M,) the events by ascending cell, ascending within a cell
    event_cells: np.ndarray  # (M,) their cells, non-decreasing


def match_reference(
    candidate_conditions: Mapping[str, np.ndarray],
    reference_conditions: Mapping[str, np.ndarray] | PreparedConditions,
    *,
    n_bins: int = 10,
    window_fraction: float = 0.05,
    min_reference_events: int = 200,
    seed: int = 0,
) -> tuple[np.ndarray, ConditionSelection]:
    """Indices (K,) of the reference events matched to the candidate's conditions, and how.

    ``reference_conditions``: prepared once for many matches, or the values by name."""
    if not isinstance(reference_conditions, PreparedConditions):
        reference_conditions = PreparedConditions(reference_conditions)
    reference = reference_conditions
    missing = sorted(set(candidate_conditions) - set(reference.values))
    if missing:
        raise ValueError(f"reference has no condition {missing}; it has {sorted(reference.values)}")
    names = list(candidate_conditions)
    candidate = {name: np.asarray(candidate_conditions[name], dtype=np.float64) for name in names}
    n_reference = reference.n_events
    allowed: np.ndarray | None = None  # (K,) ascending: the events inside every window
    variables: list[ConditionMatch] = []
    binned: list[tuple[str, np.ndarray]] = []  # name, each candidate event's bin
    for name in names:
        values = candidate[name]
        if values.max() - values.min() <= 1e-9 * max(abs(float(values[0])), 1.0):  # np.ptp
            window, inside = _window(
                *reference.sorted_values(name),
                float(values[0]),
                window_fraction,
                min_reference_events,
            )
            if allowed is not None:
                inside = np.intersect1d(allowed, inside, assume_unique=True)
            allowed = inside
            variables.append(ConditionMatch(name=name, mode="window", window=window))
        else:
            edges, _ = reference.bins(name, n_bins)
            candidate_bin = np.searchsorted(edges, values, side="right")
            binned.append((name, candidate_bin))
            used = np.unique(candidate_bin).tolist()
            variables.append(
                ConditionMatch(name=name, mode="bins", edges=edges.tolist(), bins_used=used)
            )
    n_candidate = len(next(iter(candidate.values())))
    if binned:
        table = reference.cells(tuple(name for name, _ in binned), n_bins)
        candidate_cell = np.ravel_multi_index([bins for _, bins in binned], table.sizes)
        if allowed is None:  # every event: grouped by cell once for the reference
            events, event_cells = table.events, table.event_cells
        else:
            allowed_cells = table.cell[allowed]
            grouping = np.argsort(allowed_cells, kind="stable")
            events, event_cells = allowed[grouping], allowed_cells[grouping]
    else:  # one cell
        candidate_cell = np.zeros(n_candidate, dtype=np.int64)
        events = np.arange(n_reference) if allowed is None else allowed
        event_cells = np.zeros(len(events), dtype=np.int64)
    chosen, unmatched = _stratified(candidate_cell, events, event_cells, seed)
    selection = ConditionSelection(
        variables=variables,
        n_reference_total=n_reference,
        n_reference_matched=len(chosen),
        n_candidate_unmatched=unmatched,
    )
    return chosen, selection


def _window(
    sorted_values: np.ndarray, order: np.ndarray, centre: float, fraction: float, min_events: int
) -> tuple[tuple[float, float], np.ndarray]:
    """Reference events (ascending indices) within centre (1 +- fraction), or the nearest
    ``min_events`` of them: distance |x - centre| <= half width, the half width widened to
    the ``min_events``-th smallest distance when the window holds fewer.

    From the sorted values (M,) and their events ``order``: distances fall towards the
    centre's position and rise away from it on either side (a rounded difference is
    monotonic), so the events within a half width are one run of positions, found by
    bisection and checked by the same comparison on a slightly wider run; and the k nearest
    lie within k positions of the centre's.
    """
    half_width = fraction * abs(centre)
    wanted = min(min_events, len(sorted_values))
    positions = _within(sorted_values, centre, half_width)
    if positions.stop - positions.start < wanted:
        middle = int(np.searchsorted(sorted_values, centre))
        near = sorted_values[max(0, middle - wanted) : middle + wanted]  # holds the k nearest
        half_width = float(np.partition(np.abs(near - centre), wanted - 1)[wanted - 1])
        positions = _within(sorted_values, centre, half_width)
    return (centre - half_width, centre + half_width), np.sort(order[positions])


def _within(sorted_values: np.ndarray, centre: float, half_width: float) -> slice:
    """The positions of ascending ``sorted_values`` where |x - centre| <= half_width (as
    float64 arithmetic rounds it): bisection on a margin of 1e-6 (|centre| + half width),
    far above the rounding of the difference, then the exact comparison on that run."""
    margin = 1e-6 * (abs(centre) + half_width)
    low = int(np.searchsorted(sorted_values, centre - half_width - margin, side="left"))
    high = int(np.searchsorted(sorted_values, centre + half_width + margin, side="right"))
    inside = np.flatnonzero(np.abs(sorted_values[low:high] - centre) <= half_width)
    if len(inside) == 0:
        return slice(low, low)
    return slice(low + int(inside[0]), low + int(inside[-1]) + 1)


def _stratified(
    candidate_cell: np.ndarray, events: np.ndarray, event_cells: np.ndarray, seed: int
) -> tuple[np.ndarray, int]:
    """Reference indices from ``events`` (the allowed events grouped by their cells
    ``event_cells``, ascending within a cell) in the candidate's proportions over cells.

    The matched size is the largest K with K c_k / n <= r_k in every cell k that
    has reference events (c_k candidate, r_k reference events); cells without
    reference events are counted as unmatched candidate events. When every cell gives
    all its events (a batch at one condition value), no random choice is drawn: a
    choice of all of them, sorted, is them.
    """
    per_cell = np.bincount(candidate_cell)  # cell indices are small: bins per variable multiplied
    cells = np.flatnonzero(per_cell)  # as np.unique(candidate_cell), about 5 times faster
    starts = np.searchsorted(event_cells, cells, side="left").tolist()
    stops = np.searchsorted(event_cells, cells, side="right").tolist()
    # A few cells: Python numbers, not arrays of a few (the same divisions and floors)
    candidate_counts = per_cell[cells].tolist()
    available = [k for k in range(len(starts)) if stops[k] > starts[k]]  # cells with events
    unmatched = sum(candidate_counts) - sum(candidate_counts[k] for k in available)
    if not available:
        raise ValueError("no reference event matches the candidate's conditions")
    scale = min((stops[k] - starts[k]) / candidate_counts[k] for k in available)
    members = [events[starts[k] : stops[k]] for k in available]
    takes = [
        min(len(cell), max(1, math.floor(scale * candidate_counts[k] + 1e-9)))
        for cell, k in zip(members, available, strict=True)
    ]
    if all(take == len(cell) for take, cell in zip(takes, members, strict=True)):
        if len(members) == 1:  # one cell's events are ascending already (a copy: not a view)
            return members[0].copy(), unmatched
        return np.sort(np.concatenate(members)), unmatched
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(m, size=k, replace=False) for m, k in zip(members, takes, strict=True)]
    return np.sort(np.concatenate(chosen)), unmatched
