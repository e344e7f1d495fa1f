"""The rules for a model's conditions that ``hepgan generate`` and the service share: how a
range [LO, HI] is drawn, and when a requested value is outside what the model was trained on.

One rule, in one place, so the CLI and the service give the same events and the same refusal:

- a range with no distribution named is drawn log-uniformly, exp(U(ln LO, ln HI)), when
  0 < LO (incident energies span decades, and a physicist asks for each decade equally
  often), else uniformly, U(LO, HI); ``"uniform"`` or ``"log-uniform"`` names one explicitly;
- a value or range outside the card's training range [lo, hi] is refused with
  :func:`outside_training_range`'s message unless extrapolation was asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

Distribution = Literal["uniform", "log-uniform"]


def range_distribution(low: float, requested: Distribution | None = None) -> Distribution:
    """How a [LO, HI] range is drawn: ``requested`` when given, else log-uniform when 0 < LO
    (energies span decades), else uniform."""
    if requested is not None:
        return requested
    return "log-uniform" if low > 0 else "uniform"


def draw_range(
    low: float,
    high: float,
    n: int,
    rng: np.random.Generator,
    distribution: Distribution | None = None,
) -> np.ndarray:
    """n draws (n,) float64 from [low, high]: U(low, high), or exp(U(ln low, ln high)) for
    log-uniform, as :func:`range_distribution` decides."""
    if range_distribution(low, distribution) == "log-uniform":
        return np.exp(rng.uniform(np.log(low), np.log(high), size=n))
    return rng.uniform(low, high, size=n)


def draw_conditions(
    bounds: Mapping[str, Sequence[float]], n_events: int, *, seed: int | None
) -> np.ndarray | None:
    """Conditions (N, C) in the order of ``bounds`` ({name: [low, high]}, low == high for a
    fixed value), each range drawn by :func:`draw_range`'s default rule from
    ``numpy.random.default_rng(seed)``; None when ``bounds`` is empty."""
    if not bounds:
        return None
    rng = np.random.default_rng(seed)
    columns = [
        np.full(n_events, float(low)) if low == high else draw_range(low, high, n_events, rng)
        for low, high in bounds.values()
    ]
    return np.column_stack(columns)  # (N, C)


def outside_training_range(
    low: float, high: float, training_range: Sequence[float], *, how_to_allow: str
) -> str | None:
    """Why [low, high] (low == high for one value) is outside the training range [lo, hi],
    or None when it is inside. ``how_to_allow`` ends the message: the option that allows
    extrapolation where the request was made (a body field, a CLI flag)."""
    train_low, train_high = training_range
    if train_low <= low and high <= train_high:
        return None
    asked = f"{low:g}" if low == high else f"[{low:g}, {high:g}]"
    return (
        f"{asked} is outside the training range [{train_low:g}, {train_high:g}]; "
        f"{how_to_allow} to allow it"
    )
