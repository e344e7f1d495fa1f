"""The condition rules that ``hepgan generate`` and the service share (hepgan.models.conditions)."""

from __future__ import annotations

import numpy as np
import pytest

from hepgan.models.conditions import (
    draw_conditions,
    draw_range,
    outside_training_range,
    range_distribution,
)


def test_ranges_from_positive_lows_are_log_uniform_unless_named() -> None:
    assert range_distribution(1000.0) == "log-uniform"
    assert range_distribution(0.0) == "uniform"
    assert range_distribution(-2.0) == "uniform"
    assert range_distribution(1000.0, "uniform") == "uniform"
    assert range_distribution(1000.0, "log-uniform") == "log-uniform"


def test_draw_range_default_is_log_uniform_for_positive_lows() -> None:
    values = draw_range(2000.0, 50000.0, 20000, np.random.default_rng(1))
    assert values.min() >= 2000 and values.max() <= 50000
    # log-uniform on [2000, 50000]: the median is sqrt(2000 * 50000) = 10000
    assert 9500 < np.median(values) < 10500


def test_draw_range_uniform_when_asked_or_when_the_low_edge_is_not_positive() -> None:
    asked = draw_range(10000.0, 20000.0, 20000, np.random.default_rng(1), "uniform")
    assert abs(asked.mean() - 15000) < 100  # std of the mean 2887 / sqrt(20000) = 20
    signed = draw_range(-1.0, 1.0, 20000, np.random.default_rng(1))
    assert abs(signed.mean()) < 0.02  # std of the mean 0.577 / sqrt(20000) = 0.004
    assert signed.min() < -0.99 and signed.max() > 0.99


def test_draw_conditions_fixes_values_and_keeps_the_order_of_the_bounds() -> None:
    conditions = draw_conditions({"a": [5.0, 5.0], "b": [1.0, 100.0]}, 1000, seed=3)
    assert conditions.shape == (1000, 2)
    assert np.all(conditions[:, 0] == 5.0)
    assert 1.0 <= conditions[:, 1].min() and conditions[:, 1].max() <= 100.0
    assert 8 < np.median(conditions[:, 1]) < 12.5  # log-uniform: median sqrt(100) = 10
    np.testing.assert_array_equal(
        conditions, draw_conditions({"a": [5.0, 5.0], "b": [1.0, 100.0]}, 1000, seed=3)
    )
    assert draw_conditions({}, 10, seed=3) is None


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [
        (500000.0, 500000.0, "500000 is outside the training range [1000, 100000]; X to allow it"),
        (10.0, 5000.0, "[10, 5000] is outside the training range [1000, 100000]; X to allow it"),
        (1000.0, 100001.0, "[1000, 100001] is outside the training range"),
    ],
)
def test_outside_training_range_says_what_and_how(low: float, high: float, message: str) -> None:
    text = outside_training_range(low, high, (1000.0, 100000.0), how_to_allow="X")
    assert text is not None and text.startswith(message)


def test_inside_training_range_is_none() -> None:
    assert outside_training_range(1000.0, 100000.0, (1000.0, 100000.0), how_to_allow="X") is None
    assert outside_training_range(5e4, 5e4, (1000.0, 100000.0), how_to_allow="X") is None
