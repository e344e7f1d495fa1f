"""Adjusted p-values for many tests at once (one per observable).

With 368 observables, about 4 fail a 1 % test by chance alone; the adjusted
p-values control that. An observable fails when its adjusted p-value is at or
below the stated significance.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Correction = Literal["holm", "benjamini-hochberg"]


def holm_adjusted(pvalues: np.ndarray) -> np.ndarray:
    """Holm step-down (family-wise error): with p sorted ascending, p~_(i) = max_{j <= i}
    min(1, (M - j + 1) p_(j)), i and j counted from 1."""
    pvalues = np.asarray(pvalues, dtype=np.float64)
    order = np.argsort(pvalues, kind="stable")
    n_tests = len(pvalues)
    scaled = (n_tests - np.arange(n_tests)) * pvalues[order]
    adjusted = np.empty_like(pvalues)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted


def benjamini_hochberg_adjusted(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg (false discovery rate): with p sorted ascending,
    p~_(i) = min_{j >= i} min(1, M p_(j) / j), i and j counted from 1."""
    pvalues = np.asarray(pvalues, dtype=np.float64)
    order = np.argsort(pvalues, kind="stable")
    n_tests = len(pvalues)
    scaled = n_tests * pvalues[order] / np.arange(1, n_tests + 1)
    adjusted = np.empty_like(pvalues)
    adjusted[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return adjusted


def adjusted_pvalues(pvalues: np.ndarray, *, correction: Correction) -> np.ndarray:
    """The p-values adjusted by ``correction`` ("holm" or "benjamini-hochberg")."""
    if correction == "holm":
        return holm_adjusted(pvalues)
    if correction == "benjamini-hochberg":
        return benjamini_hochberg_adjusted(pvalues)
    raise ValueError(f"unknown correction {correction!r}; use 'holm' or 'benjamini-hochberg'")
