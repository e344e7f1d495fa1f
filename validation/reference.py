"""A reference sample prepared once for many reports (the service's held-out events)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hepgan.validation.sorting import SortedColumns, from_sorted_rows, sort_columns

# A selection of fewer than 1 / SMALL_SELECTION_FRACTION of the events is sorted on its own.
SMALL_SELECTION_FRACTION = 8


class PreparedReference:
    """A reference sample whose per-event observables are sorted once, for many reports.

    ``observables``: name -> (M,) per event, or (M, K) to be pooled. Besides the sorted
    columns (with their quantile integral unless ``keep_integral`` is false: a reference
    used once lets the sweep sum it feature by feature, without an (F, M + 1) array) it
    keeps each observable's sorting order, so the reference matched to a batch's
    conditions (a subset of events) comes out sorted by one masked copy instead of a
    sort per request.
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
        self._sorted: dict[tuple[str, ...], SortedColumns] = {}
        self._order: dict[tuple[str, ...], np.ndarray] = {}

    def sorted_events(self, names: tuple[str, ...], selection: np.ndarray | None) -> SortedColumns:
        """The per-event observables ``names`` of the selected events (distinct indices, or
        None for all), sorted per observable."""
        if names not in self._sorted:
            rows = self._rows(names)
            self._sorted[names] = sort_columns(rows.T, with_integral=self.keep_integral)
        full = self._sorted[names]
        if selection is None:
            return full
        if len(selection) * SMALL_SELECTION_FRACTION < self.n_events:
            # A few events (a tiny batch's window): sorting them costs less than a pass
            # over every sorted position; the same values, so the same statistics.
            rows = np.stack([self.observables[name][selection] for name in names])  # (F, K)
            return from_sorted_rows(np.sort(rows.astype(np.float64), axis=1))
        if names not in self._order:  # (F, M): event index at each sorted position
            self._order[names] = np.argsort(self._rows(names), axis=1, kind="stable")
        order = self._order[names]
        selected = np.zeros(self.n_events, dtype=bool)
        selected[selection] = True
        kept = selected[order]  # (F, M): the event at each sorted position is selected
        n_kept = int(selected.sum())
        return from_sorted_rows(full.values[kept].reshape(len(names), n_kept))

    def _rows(self, names: tuple[str, ...]) -> np.ndarray:
        """The per-event observables ``names``, one row each, (F, M)."""
        return np.stack([self.observables[name] for name in names])
