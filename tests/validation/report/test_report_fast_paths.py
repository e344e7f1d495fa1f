"""What a service's small reports skip or keep gives what the straightforward computation gives.

Each fast path (the report built as JSON without a pydantic object per score, the reference's
conditions prepared once, the matched reference sorted from kept rows, JS and separation power
from one normalisation, the exact p-values looked up once per distinct statistic) is compared
here, bit for bit, with the computation it replaces, written out plainly.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import orjson
import pytest
from scipy.stats._stats_py import _attempt_exact_2kssamp

from hepgan.validation.report import build as report_module
from hepgan.validation.report import reference as reference_module
from hepgan.validation.report.build import build_report, build_report_dict
from hepgan.validation.report.conditions import PreparedConditions, match_reference
from hepgan.validation.report.reference import PreparedReference
from hepgan.validation.report.schema import ObservableScore, ValidationReport
from hepgan.validation.stats.divergences import (
    js_and_separation_power,
    js_divergence,
    kl_divergence,
    normalise,
    separation_power,
)
from hepgan.validation.stats.ks import ks_pvalue
from hepgan.validation.stats.sorting import sort_columns


def _observables(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {
        "energy": rng.exponential(10.0, n).astype(np.float32),  # float32, as generated
        "width": rng.normal(5.0, 1.0, n),
        "hits": rng.integers(0, 4, n).astype(np.float64),  # many ties
    }


@pytest.mark.parametrize(
    ("n_candidate", "single_energy", "histograms"),
    [(1, True, False), (16, False, True), (300, False, False), (40, True, True)],
)
def test_the_report_dict_is_the_report_model_as_json(
    n_candidate: int, single_energy: bool, histograms: bool
) -> None:
    rng = np.random.default_rng(n_candidate)
    reference = _observables(rng, 3000)
    reference["cells"] = rng.exponential(1.0, (3000, 6))  # pooled
    candidate = _observables(rng, n_candidate)
    candidate["cells"] = rng.exponential(1.2, (n_candidate, 6))
    energy = rng.uniform(1_000, 100_000, 3000)
    candidate_energy = rng.uniform(1_000, 100_000, n_candidate)
    if single_energy:
        candidate_energy[:] = 20_000.0
    options = {
        "candidate_conditions": {"incident_energy": candidate_energy},
        "reference_conditions": PreparedConditions({"incident_energy": energy}),
        "units": {"energy": "MeV"},
        "histograms": histograms,
        "extrapolated": single_energy,
    }
    document = build_report_dict(candidate, PreparedReference(reference), **options)
    model = ValidationReport.model_validate(document)
    assert model.model_dump(mode="json") == document
    assert orjson.dumps(model.model_dump(mode="json")) == orjson.dumps(document)
    assert build_report(candidate, reference, **options) == model
    assert [score["name"] for score in document["observables"]] == list(candidate)
    assert document["observables"][-1]["pooled"] is True
    assert document["observables"][-1]["ks_adjusted_pvalue"] is None


def test_a_score_row_has_the_fields_of_an_observable_score_in_order() -> None:
    fields = list(ObservableScore.model_fields)
    assert list(inspect.signature(report_module._score_row).parameters) == fields
    assert list(report_module._score_row(*fields)) == fields
    assert list(report_module._score_row(*fields).values()) == fields


# The matching as it was written before the reference's conditions were prepared once: a
# pass over every reference event per window and per bin, and a random choice per cell.


def _straightforward_match(
    candidate: dict[str, np.ndarray], reference: dict[str, np.ndarray]
) -> tuple[np.ndarray, list[tuple]]:
    n_reference = len(next(iter(reference.values())))
    keep = np.ones(n_reference, dtype=bool)
    described, binned = [], []
    for name, values in candidate.items():
        if np.ptp(values) <= 1e-9 * max(abs(float(values[0])), 1.0):
            distance = np.abs(reference[name] - values[0])
            half_width = 0.05 * abs(float(values[0]))
            wanted = min(200, n_reference)
            if np.count_nonzero(distance <= half_width) < wanted:
                half_width = float(np.partition(distance, wanted - 1)[wanted - 1])
            keep &= distance <= half_width
            described.append((name, values[0] - half_width, values[0] + half_width))
        else:
            quantiles = np.quantile(reference[name], np.linspace(0, 1, 11)[1:-1])
            edges = np.unique(quantiles)
            bins = np.searchsorted(edges, values, side="right")
            binned.append((bins, np.searchsorted(edges, reference[name], side="right"), edges))
            described.append((name, edges.tolist(), sorted(np.unique(bins).tolist())))
    if binned:
        sizes = [len(edges) + 1 for _, _, edges in binned]
        candidate_cell = np.ravel_multi_index([c for c, _, _ in binned], sizes)
        reference_cell = np.ravel_multi_index([r for _, r, _ in binned], sizes)
    else:
        candidate_cell = np.zeros(len(next(iter(candidate.values()))), dtype=np.int64)
        reference_cell = np.zeros(n_reference, dtype=np.int64)
    allowed = np.flatnonzero(keep)
    allowed_cells = reference_cell[allowed]
    rng = np.random.default_rng(0)
    cells, counts = np.unique(candidate_cell, return_counts=True)
    available = np.array([np.count_nonzero(allowed_cells == cell) for cell in cells])
    scale = np.min(available[available > 0] / counts[available > 0])
    chosen = []
    for cell, count in zip(cells[available > 0], counts[available > 0], strict=True):
        members = allowed[allowed_cells == cell]
        take = min(len(members), max(1, int(np.floor(scale * count + 1e-9))))
        chosen.append(rng.choice(members, size=take, replace=False))
    return np.sort(np.concatenate(chosen)), described


def _described(selection) -> list[tuple]:
    return [
        (v.name, *v.window) if v.mode == "window" else (v.name, v.edges, v.bins_used)
        for v in selection.variables
    ]


@pytest.mark.parametrize("seed", range(6))
def test_prepared_conditions_match_as_the_straightforward_matching(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_reference = [150, 2000, 20_000][seed % 3]
    reference = {
        "energy": np.round(rng.uniform(0, 1000, n_reference), 1 + seed % 2),  # ties
        "angle": rng.normal(0.0, 1.0, n_reference),
    }
    prepared = PreparedConditions(reference)
    cases = [
        {"energy": np.full(n, value)}
        for n in (1, 16, 500)
        for value in (0.0, 3.0, 500.0, reference["energy"][7], 2000.0)
    ]
    cases += [
        {"energy": rng.uniform(100, 900, 16)},
        {"energy": rng.uniform(0, 1000, 300), "angle": rng.normal(0.0, 1.0, 300)},
        {"energy": np.full(16, 400.0), "angle": rng.normal(0.0, 1.0, 16)},
        {"angle": np.full(3, 0.25), "energy": np.full(3, 600.0)},
    ]
    for candidate in cases:
        expected, described = _straightforward_match(candidate, reference)
        for table in (prepared, reference):  # prepared once, or from the raw values
            chosen, selection = match_reference(candidate, table)
            np.testing.assert_array_equal(chosen, expected)
            assert _described(selection) == described
            assert selection.n_reference_matched == len(expected)


@pytest.mark.parametrize("n_selected", [1, 150, 700, 1500, 2000])
@pytest.mark.parametrize("fraction", [0, 3, 10**9])  # always sort, the default, always mask
def test_a_matched_reference_equals_sorting_its_events(
    n_selected: int, fraction: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(n_selected)
    observables = _observables(rng, 2000)
    prepared = PreparedReference(observables)
    names = tuple(observables)
    prepared.sorted_events(names, None)
    selection = np.sort(rng.choice(2000, size=n_selected, replace=False))
    monkeypatch.setattr(reference_module, "SMALL_SELECTION_FRACTION", fraction)
    matched = prepared.sorted_events(names, selection)
    rows = np.stack([observables[name][selection].astype(np.float64) for name in names])
    expected = sort_columns(rows.T)
    assert matched.values.flags.c_contiguous and matched.values.dtype == np.float64
    np.testing.assert_array_equal(matched.values, expected.values)
    np.testing.assert_array_equal(matched.mean, expected.mean)
    np.testing.assert_array_equal(matched.std, expected.std)


def test_js_and_separation_power_equal_their_definitions() -> None:
    rng = np.random.default_rng(3)
    candidate = rng.integers(0, 4, (53, 50)).astype(np.float64)  # a few events: many zeros
    reference = rng.integers(0, 40, (53, 50)).astype(np.float64)
    candidate[:, 0] = reference[:, 0] = 1.0  # no empty histogram
    candidate[:, 1] = reference[:, 1] = 0.0  # a bin empty in both
    js, separation = js_and_separation_power(candidate, reference)
    np.testing.assert_array_equal(js, js_divergence(candidate, reference))
    np.testing.assert_array_equal(separation, separation_power(candidate, reference))
    # JS as two KL terms to the mixture, the separation power masked where p + q = 0
    p, q = normalise(candidate), normalise(reference)
    mixture = 0.5 * (p + q)
    expected_js = 0.5 * kl_divergence(p, mixture) + 0.5 * kl_divergence(q, mixture)
    np.testing.assert_array_equal(js, expected_js)
    total = p + q
    squares = np.where(total > 0, (p - q) ** 2 / np.where(total > 0, total, 1.0), 0.0)
    np.testing.assert_array_equal(separation, 0.5 * np.sum(squares, axis=-1))
    with pytest.raises(ValueError, match="empty"):
        js_and_separation_power(np.zeros((1, 5)), np.ones((1, 5)))
    with pytest.raises(ValueError, match="non-negative"):
        js_and_separation_power(-np.ones((1, 5)), np.ones((1, 5)))


def test_exact_pvalues_once_per_statistic_equal_one_count_each() -> None:
    n, m = 7, 200
    statistic = np.array([0.0, 1 / 200, 0.5, 13 / 1400, 0.5, 1.0, 0.99])
    pvalues = ks_pvalue(statistic, n, m, method="exact")
    for value, pvalue in zip(statistic, pvalues, strict=True):
        if value == 0.0:
            assert pvalue == 1.0
            continue
        _, _, expected = _attempt_exact_2kssamp(n, m, math.gcd(n, m), value, "two-sided")
        assert pvalue == min(max(expected, 0.0), 1.0)
    assert ks_pvalue(np.float64(0.5), n, m, method="exact").shape == ()
