"""The 1-D Wasserstein-1 (earth mover's) distance between two samples, all features at once."""

from __future__ import annotations

import numpy as np

from hepgan.validation.sorting import sort_columns
from hepgan.validation.sweep import ks_and_wasserstein


def wasserstein_batched(candidate: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """W1 = integral_0^1 |Q1(u) - Q2(u)| du of every feature, (F,), in the units of the
    feature: candidate (n, F) against reference (m, F) (the sweep of
    :mod:`hepgan.validation.sweep`)."""
    return ks_and_wasserstein(sort_columns(candidate), sort_columns(reference)).w1
