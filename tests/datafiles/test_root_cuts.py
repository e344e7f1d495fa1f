"""Cut expressions: parsed with ast, evaluated on numpy/awkward arrays, never with eval."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepgan.datafiles.root_cuts import parse_cut
from hepgan.errors import ConfigError

X = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
PT = ak.Array([[30.0, 10.0], [], [50.0], [5.0, 5.0, 90.0], [1.0]])  # 5 events, jagged
ARRAYS = {"x": ak.Array(X), "pt": PT, "q1": np.array([1, -1, 1, 1, -1]), "q2": -np.ones(5)}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("x > 2", X > 2),
        ("0 < x <= 3", (X > 0) & (X <= 3)),
        ("x > 1 and not x > 3", (X > 1) & ~(X > 3)),
        ("(x < 1) | (x >= 4)", (X < 1) | (X >= 4)),
        ("abs(x - 2) < 1.5", np.abs(X - 2) < 1.5),
        ("sqrt(x) ** 2 + 1 > 2.5", X + 1 > 2.5),
        ("q1 * q2 < 0", np.array([True, False, True, True, False])),
        ("any(pt > 40)", np.array([False, False, True, True, False])),
        ("all(pt > 4)", np.array([True, True, True, True, False])),
        ("count(pt) >= 2", np.array([True, False, False, True, False])),
        ("sum(pt) > 35", np.array([True, False, True, True, False])),
        ("max(pt) > 20", np.array([True, False, True, True, False])),  # empty event: NaN, false
        ("min(pt) < 6 or x == 1", np.array([False, True, False, True, True])),
    ],
)
def test_cut_gives_one_boolean_per_event(expression: str, expected: np.ndarray) -> None:
    mask = parse_cut(expression).evaluate(ARRAYS)
    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(mask, expected)


def test_cut_lists_the_branches_it_reads_not_the_functions() -> None:
    assert parse_cut("abs(x) < 1 and any(pt > 2) and x > 0").names == ("x", "pt")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("x >", "is not a valid expression"),
        ("x >> 2", "RShift is not allowed"),
        ("x in 3", "In is not allowed"),
        ("x.real > 1", "Attribute is not allowed"),
        ("[x][0] > 1", "is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("'a' < x", "only numbers are allowed"),
        ("open(x) > 1", "unknown function 'open'"),
        ("sqrt(x, 2) > 1", "wrong arguments to sqrt()"),
        ("1 > 0", "uses no branch"),
    ],
)
def test_invalid_cut_is_refused_before_reading(expression: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_cut(expression)
    assert f"cut {expression!r}" in str(caught.value)
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("pt > 20", "one value per object, not one per event"),
        ("x * 2", "must give one true/false per event"),
        ("count(pt)", "must give one true/false per event"),
    ],
)
def test_cut_that_is_not_one_boolean_per_event(expression: str, expected: str) -> None:
    cut = parse_cut(expression)
    with pytest.raises(ConfigError, match=expected):
        cut.evaluate(ARRAYS)
