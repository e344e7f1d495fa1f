"""A reference sample prepared once for many reports (the service's held-out events)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hepgan.validation.stats.sorting import SortedColumns, from_sorted_rows, sort_columns

# A selection of fewer than 1 / SMALL_SELECTION_FRACTION of the events is sorted on its own;
# a larger one is taken from the sorted events. Measured for 53 observables (docs/benchmarks.md,
# "Small requests, third pass"): sorting a third of 2,000 or 20,000 events costs about what the
# masked copy costs, a tenth about a fifth of it.
SMALL_SELECTION_FRACTION = 3


class PreparedReference:
    """A reference sample whose per-event observables are sorted once, for many reports.

    ``observables``: name -> (M,) per event, or (M, K) to be pooled. Besides the sorted
    columns (with their quantile integral unless ``keep_integral`` is false: a reference
    used once lets the sweep sum it feature by feature, without an (F, M + 1) array) it
    keeps the observables as rows (F, M) in their dtype, and, once a large selection asks
    for it, each observable's sorting order: the reference matched to a batch's conditions
    (a subset of K events) comes out sorted by a sort of its K events when K is small, by
    one masked copy of the sorted events otherwise. Memory: 8 bytes an event and
    observable for the sorted values, 8 for the integral, 4 or 8 for the rows, 8 for the
    order.
    """

    def __init__(
        self, observables: Mapping[str, np.ndarray], *, keep_integral: bool = True
    ) -> None:
        self.keep_integral = keep_integral
        self.observables = {name: np.asarray(values) for name, values in observables.items()}
        lengths = {len(values) for values in self.observables.values()}
        if len(lengths) != 1:
            raise ValueError(f"reference observables differ in length: {sorted(lengths)}")
        self.n_events = lengths.pop()
        self._rows: dict[tuple[str, ...], np.ndarray] = {}
        self._sorted: dict[tuple[str, ...], SortedColumns] = {}
        self._order: dict[tuple[str, ...], np.ndarray] = {}

    def sorted_events(self, names: tuple[str, ...], selection: np.ndarray | None) -> SortedColumns:
        """The per-event observables ``names`` of the selected events (distinct indices, or
        None for all), sorted per observable."""
        if names not in self._sorted:
            self._sorted[names] = sort_columns(self.rows(names).T, with_integral=self.keep_integral)
        full = self._sorted[names]
        if selection is None:
            return full
        if len(selection) * SMALL_SELECTION_FRACTION < self.n_events:
            # Sorting the selected events (in their own dtype, float32 as generated: the
            # same order, widened exactly after) costs less than a pass over every sorted
            # position; the same values, so the same statistics.
            rows = self.rows(names).take(selection, axis=1)  # (F, K) C-ordered, unlike [:, k]
            return from_sorted_rows(np.sort(rows, axis=1).astype(np.float64, copy=False))
        if names not in self._order:  # (F, M): event index at each sorted position
            self._order[names] = np.argsort(self.rows(names), axis=1, kind="stable")
        selected = np.zeros(self.n_events, dtype=bool)
        selected[selection] = True
        kept = selected[self._order[names]].reshape(-1)  # (F M,): each sorted position's event
        n_kept = int(selected.sum())
        # compress: a boolean index of the (F, M) array costs 2 to 4 times as much
        return from_sorted_rows(full.values.reshape(-1).compress(kept).reshape(len(names), n_kept))

    def rows(self, names: tuple[str, ...]) -> np.ndarray:
        """The per-event observables ``names``, one row each, (F, M), in their dtype; kept."""
        if names not in self._rows:
            self._rows[names] = np.stack([self.observables[name] for name in names])
        return self._rows[names]
