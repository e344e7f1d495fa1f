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

from collections.abc import Mapping
from typing import Literal

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


def match_reference(
    candidate_conditions: Mapping[str, np.ndarray],
    reference_conditions: Mapping[str, np.ndarray],
    *,
    n_bins: int = 10,
    window_fraction: float = 0.05,
    min_reference_events: int = 200,
    seed: int = 0,
) -> tuple[np.ndarray, ConditionSelection]:
    """Indices (K,) of the reference events matched to the candidate's conditions, and how."""
    missing = sorted(set(candidate_conditions) - set(reference_conditions))
    if missing:
        raise ValueError(
            f"reference has no condition {missing}; it has {sorted(reference_conditions)}"
        )
    names = list(candidate_conditions)
    candidate = {name: np.asarray(candidate_conditions[name], dtype=np.float64) for name in names}
    reference = {name: np.asarray(reference_conditions[name], dtype=np.float64) for name in names}
    n_reference = len(next(iter(reference.values())))
    keep = np.ones(n_reference, dtype=bool)
    variables: list[ConditionMatch] = []
    binned: list[tuple[np.ndarray, np.ndarray, int]] = []  # candidate bin, reference bin, n bins
    for name in names:
        values = candidate[name]
        if np.ptp(values) <= 1e-9 * max(abs(float(values[0])), 1.0):
            window, inside = _window(
                reference[name], float(values[0]), window_fraction, min_reference_events
            )
            keep &= inside
            variables.append(ConditionMatch(name=name, mode="window", window=window))
        else:
            edges = np.unique(np.quantile(reference[name], np.linspace(0, 1, n_bins + 1)[1:-1]))
            candidate_bin = np.searchsorted(edges, values, side="right")
            reference_bin = np.searchsorted(edges, reference[name], side="right")
            binned.append((candidate_bin, reference_bin, len(edges) + 1))
            used = sorted(int(b) for b in np.unique(candidate_bin))
            variables.append(
                ConditionMatch(name=name, mode="bins", edges=edges.tolist(), bins_used=used)
            )
    n_candidate = len(next(iter(candidate.values())))
    if binned:
        sizes = [size for _, _, size in binned]
        candidate_cell = np.ravel_multi_index([c for c, _, _ in binned], sizes)
        reference_cell = np.ravel_multi_index([r for _, r, _ in binned], sizes)
    else:
        candidate_cell = np.zeros(n_candidate, dtype=np.int64)
        reference_cell = np.zeros(n_reference, dtype=np.int64)
    chosen, unmatched = _stratified(candidate_cell, np.flatnonzero(keep), reference_cell, seed)
    selection = ConditionSelection(
        variables=variables,
        n_reference_total=n_reference,
        n_reference_matched=len(chosen),
        n_candidate_unmatched=unmatched,
    )
    return chosen, selection


def _window(
    values: np.ndarray, centre: float, fraction: float, min_events: int
) -> tuple[tuple[float, float], np.ndarray]:
    """Reference events within centre (1 +- fraction), or the nearest ``min_events`` of them."""
    distance = np.abs(values - centre)
    half_width = fraction * abs(centre)
    wanted = min(min_events, len(values))
    if np.count_nonzero(distance <= half_width) < wanted:
        half_width = float(np.partition(distance, wanted - 1)[wanted - 1])
    return (centre - half_width, centre + half_width), distance <= half_width


def _stratified(
    candidate_cell: np.ndarray, allowed: np.ndarray, reference_cell: np.ndarray, seed: int
) -> tuple[np.ndarray, int]:
    """Reference indices from ``allowed`` in the candidate's proportions over condition cells.

    The matched size is the largest K with K c_k / n <= r_k in every cell k that
    has reference events (c_k candidate, r_k reference events); cells without
    reference events are counted as unmatched candidate events.
    """
    rng = np.random.default_rng(seed)
    allowed_cells = reference_cell[allowed]
    cells, candidate_counts = np.unique(candidate_cell, return_counts=True)
    reference_counts = np.array([np.count_nonzero(allowed_cells == cell) for cell in cells])
    available = reference_counts > 0
    unmatched = int(candidate_counts[~available].sum())
    if not available.any():
        raise ValueError("no reference event matches the candidate's conditions")
    scale = np.min(reference_counts[available] / candidate_counts[available])
    chosen = []
    for cell, count in zip(cells[available], candidate_counts[available], strict=True):
        members = allowed[allowed_cells == cell]
        take = min(len(members), max(1, int(np.floor(scale * count + 1e-9))))
        chosen.append(rng.choice(members, size=take, replace=False))
    return np.sort(np.concatenate(chosen)), unmatched
