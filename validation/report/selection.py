"""The scores training chooses its best checkpoint by, against its validation events.

Per observable k: the two-sample KS statistic and the separation power
S = 1/2 sum_b (p_b - q_b)^2 / (p_b + q_b) on DEFAULT_BINS reference-quantile bins (the
report's bins). The **selection metric** is the mean over the observables of the statistic
``selection_metric`` names, "ks" or "separation_power"; lower is better.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hepgan.validation.stats.binning import DEFAULT_BINS, shared_histograms
from hepgan.validation.stats.divergences import separation_power
from hepgan.validation.stats.sorting import SortedColumns, sort_columns
from hepgan.validation.stats.sweep import ks_and_wasserstein


@dataclass(frozen=True)
class SelectionReference:
    """The validation events' observables, sorted once for every validation of a run."""

    names: tuple[str, ...]
    sorted_columns: SortedColumns  # (K observables, N events), sorted per observable

    @classmethod
    def from_observables(cls, observables: Mapping[str, np.ndarray]) -> SelectionReference:
        """From per-event observables, name -> (N,) array."""
        names = tuple(observables)
        return cls(names, sort_columns(np.column_stack([observables[name] for name in names])))

    def scores(self, generated: Mapping[str, np.ndarray], selection_metric: str) -> dict[str, Any]:
        """The validation record of generated observables (name -> (M,) array, every name of
        the reference): ``metric`` (the mean of ``selection_metric``'s statistic), the mean KS
        and separation power, the worst KS and its observable, and both statistics by name."""
        reference, names = self.sorted_columns, self.names
        candidate = sort_columns(np.column_stack([generated[name] for name in names]))
        ks = ks_and_wasserstein(candidate, reference).ks  # (K,)
        histograms = shared_histograms(candidate, reference, n_bins=DEFAULT_BINS)
        separation = separation_power(histograms.candidate, histograms.reference)  # (K,)
        statistics = {"ks": ks, "separation_power": separation}
        if selection_metric not in statistics:
            raise ValueError(
                f"selection_metric must be one of {', '.join(statistics)}, got {selection_metric!r}"
            )
        worst = int(np.argmax(ks))
        return {
            "metric": float(np.mean(statistics[selection_metric])),
            "mean_ks": float(np.mean(ks)),
            "mean_separation_power": float(np.mean(separation)),
            "worst_ks": float(ks.max()),
            "worst_observable": names[worst],
            "ks": dict(zip(names, map(float, ks), strict=True)),
            "separation_power": dict(zip(names, map(float, separation), strict=True)),
        }
