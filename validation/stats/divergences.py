"""Entropy, KL and JS divergences and the separation power of histograms, in nats.

Inputs are histograms along the last axis (counts or probabilities; each is
normalised to sum to 1), so (F, B) arrays give F values at once. 0 ln 0 = 0.
Divide a value in nats by ln 2 for bits (:func:`nats_to_bits`).
"""

from __future__ import annotations

import math

import numpy as np


def normalise(histogram: np.ndarray) -> np.ndarray:
    """p_i = h_i / sum_i h_i along the last axis; an all-zero histogram is an error."""
    histogram = np.asarray(histogram, dtype=np.float64)
    if histogram.size and histogram.min() < 0:  # one reduction, not a mask and any()
        raise ValueError("histogram counts must be non-negative")
    totals = histogram.sum(axis=-1, keepdims=True)
    if not totals.size or totals.min() <= 0:
        raise ValueError("cannot normalise an empty histogram")
    return histogram / totals


def nats_to_bits(value: np.ndarray | float) -> np.ndarray | float:
    """bits = nats / ln 2."""
    return value / math.log(2.0)


def entropy(histogram: np.ndarray) -> np.ndarray:
    """Shannon entropy H(p) = -sum_i p_i ln p_i, nats."""
    p = normalise(histogram)
    return -np.sum(_x_log_y(p, p), axis=-1)


def kl_divergence(p_histogram: np.ndarray, q_histogram: np.ndarray) -> np.ndarray:
    """KL(p || q) = sum_i p_i ln(p_i / q_i) >= 0, nats; +inf where q_i = 0 < p_i."""
    return _kl(normalise(p_histogram), normalise(q_histogram))


def js_divergence(p_histogram: np.ndarray, q_histogram: np.ndarray) -> np.ndarray:
    """JS(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q) / 2; in [0, ln 2] nats."""
    return _js(_normalised_pair(p_histogram, q_histogram))


def separation_power(p_histogram: np.ndarray, q_histogram: np.ndarray) -> np.ndarray:
    """CaloChallenge separation power S = 1/2 sum_i (p_i - q_i)^2 / (p_i + q_i), in [0, 1]."""
    return _separation(_normalised_pair(p_histogram, q_histogram))


def js_and_separation_power(
    p_histogram: np.ndarray, q_histogram: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`js_divergence` and :func:`separation_power` of the same histograms, normalised
    (and checked) once: the same values as the two calls."""
    pair = _normalised_pair(p_histogram, q_histogram)
    return _js(pair), _separation(pair)


def _normalised_pair(p_histogram: np.ndarray, q_histogram: np.ndarray) -> np.ndarray:
    """p and q normalised, stacked (2, ..., B) after broadcasting to one shape: one check and
    division for both (the same values as normalising each)."""
    if np.shape(p_histogram) != np.shape(q_histogram):
        p_histogram, q_histogram = np.broadcast_arrays(p_histogram, q_histogram)
    return normalise(np.stack([p_histogram, q_histogram]))


def _kl(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KL(p || q) of normalised histograms, nats."""
    ratio = np.where(q > 0, p / np.where(q > 0, q, 1.0), np.inf)  # only used where p > 0
    return np.sum(_x_log_y(p, ratio), axis=-1)


def _js(pair: np.ndarray) -> np.ndarray:
    """JS(p || q) of normalised histograms ``pair`` = (p, q), nats: the KL terms of p and q to
    the mixture m as one computation. Each term's histograms are divided by their sums once
    more (as :func:`kl_divergence` does: a sum of probabilities is 1 only to rounding),
    without the checks, which normalised inputs and their mixture pass."""
    mixture = _unit_sums(0.5 * (pair[0] + pair[1]))
    both = _unit_sums(pair)
    # p_i ln(p_i / m_i), 0 where p_i = 0: ln 1 = 0 stands in (m_i may be 0 there); where
    # p_i > 0, m_i > 0 (m >= p / 2). The same products as _kl's, without its masks.
    ratio = np.divide(both, mixture, out=np.ones_like(both), where=both > 0)
    terms = np.sum(both * np.log(ratio), axis=-1)  # (2, ...)
    return 0.5 * terms[0] + 0.5 * terms[1]


def _separation(pair: np.ndarray) -> np.ndarray:
    """Separation power of normalised histograms ``pair`` = (p, q): (p_i - q_i)^2 / (p_i + q_i),
    0 where both are 0."""
    total = pair[0] + pair[1]
    squares = np.square(pair[0] - pair[1])
    return 0.5 * np.sum(np.divide(squares, total, out=squares, where=total > 0), axis=-1)


def _unit_sums(histogram: np.ndarray) -> np.ndarray:
    """h_i / sum_i h_i along the last axis, for histograms known non-negative and non-empty."""
    return histogram / histogram.sum(axis=-1, keepdims=True)


def gaussian_kl(mean_p: float, std_p: float, mean_q: float, std_q: float) -> float:
    """KL between two Gaussians, nats:

    KL(N(m_p, s_p^2) || N(m_q, s_q^2))
        = ln(s_q / s_p) + ((m_p - m_q)^2 + s_p^2 - s_q^2) / (2 s_q^2).
    """
    return math.log(std_q / std_p) + ((mean_p - mean_q) ** 2 + std_p**2 - std_q**2) / (
        2.0 * std_q**2
    )


def _x_log_y(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x ln y with 0 ln(anything) = 0 (and x ln 0 = -inf for x > 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, x * np.log(np.where(x > 0, y, 1.0)), 0.0)
