"""The GAN game's value and its optimal discriminator (Goodfellow et al. 2014).

V(G, D) = E_{x~p}[ln D(x)] + E_{x~q}[ln(1 - D(x))] for data density p and
generator density q. For a fixed generator the best discriminator is
D*(x) = p(x) / (p(x) + q(x)), and then V(G, D*) = 2 JS(p || q) - 2 ln 2.
"""

from __future__ import annotations

import math

import numpy as np


def gan_value(log_d_data: np.ndarray, log_one_minus_d_generated: np.ndarray) -> float:
    """V = mean ln D(x_data) + mean ln(1 - D(x_generated)), nats; at most 0."""
    return float(np.mean(log_d_data) + np.mean(log_one_minus_d_generated))


def optimal_discriminator(p_density: np.ndarray, q_density: np.ndarray) -> np.ndarray:
    """D*(x) = p(x) / (p(x) + q(x)), the best discriminator of p (label 1) against q (label 0)."""
    p_density, q_density = np.asarray(p_density), np.asarray(q_density)
    return p_density / (p_density + q_density)


def value_at_optimum(js_nats: float) -> float:
    """V(G, D*) = 2 JS(p || q) - 2 ln 2, nats; -2 ln 2 when the generator is perfect."""
    return 2.0 * js_nats - 2.0 * math.log(2.0)


def js_from_value(value: float) -> float:
    """JS(p || q) = ln 2 + V(G, D) / 2, clipped at 0: the JS a discriminator's value implies
    (a lower bound, reached when D = D*)."""
    return max(0.0, math.log(2.0) + 0.5 * value)
