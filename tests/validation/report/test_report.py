"""The validation report: statistics, summary, status, conditions, JSON round trip and schema."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from scipy import stats

from hepgan.validation.report import compare as compare_module
from hepgan.validation.report.build import build_report
from hepgan.validation.report.conditions import match_reference
from hepgan.validation.report.reference import PreparedReference
from hepgan.validation.report.schema import ReportThresholds, ValidationReport
from hepgan.validation.report.verdict import js_noise_floor
from hepgan.validation.stats.binning import shared_histograms
from hepgan.validation.stats.divergences import js_divergence
from hepgan.validation.stats.multiple_testing import benjamini_hochberg_adjusted, holm_adjusted
from hepgan.validation.stats.sorting import sort_columns


def _sample(rng: np.random.Generator, n: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    return {
        "energy": rng.exponential(10.0, n) + shift,
        "angle": rng.uniform(-1, 1, n),
        "width": rng.normal(5.0, 1.0, n),
    }


def test_report_scores_equal_scipy_and_pass_for_the_same_distribution() -> None:
    rng = np.random.default_rng(0)
    candidate, reference = _sample(rng, 2000), _sample(rng, 8000)
    report = build_report(candidate, reference, units={"energy": "MeV"})
    for name in candidate:
        score = report.score(name)
        # n m / (n + m) = 1600: the report's p-values are asymptotic, as scipy's "asymp"
        scipy_result = stats.ks_2samp(candidate[name], reference[name], method="asymp")
        assert score.ks_pvalue_method == "asymp"
        assert score.ks == pytest.approx(scipy_result.statistic, abs=1e-12)
        assert score.ks_pvalue == pytest.approx(scipy_result.pvalue, rel=1e-9)
        assert score.w1 == pytest.approx(
            stats.wasserstein_distance(candidate[name], reference[name]), rel=1e-10
        )
        assert 0 <= score.js_nats <= np.log(2)
        assert score.js_bits == pytest.approx(score.js_nats / np.log(2))
    assert report.score("energy").unit == "MeV"
    summary = report.summary
    assert summary.status == "pass" and summary.reasons == []
    assert (summary.n_candidate, summary.n_reference, summary.n_observables) == (2000, 8000, 3)
    assert summary.ks_critical_value == pytest.approx(
        np.sqrt(-np.log(0.01 / 2) / 2) * np.sqrt(10_000 / (2000 * 8000))
    )
    assert summary.ks_pvalue_method.startswith("asymptotic")
    assert "n m / (n + m) = 1600" in summary.ks_pvalue_method
    assert summary.worst_ks == max(score.ks for score in report.observables)


def test_small_samples_get_exact_pvalues_equal_to_scipy() -> None:
    rng = np.random.default_rng(4)
    candidate, reference = _sample(rng, 150), _sample(rng, 1200)  # n m / (n + m) = 133
    report = build_report(candidate, reference)
    assert report.summary.ks_pvalue_method.startswith("exact")
    for name in candidate:
        score = report.score(name)
        assert score.ks_pvalue_method == "exact"
        exact = stats.ks_2samp(candidate[name], reference[name], method="exact").pvalue
        assert score.ks_pvalue == pytest.approx(exact, rel=1e-9)


def test_shifted_candidate_fails_with_reasons() -> None:
    rng = np.random.default_rng(1)
    report = build_report(_sample(rng, 2000, shift=3.0), _sample(rng, 20_000))
    assert report.summary.status == "fail"
    assert report.summary.worst_observable == "energy"
    assert report.summary.failing_observables == ["energy"]
    assert any("worst KS" in reason for reason in report.summary.reasons)
    assert report.summary.ks_pvalue_method.startswith("asymptotic")


def test_thresholds_decide_the_status() -> None:
    rng = np.random.default_rng(2)
    candidate, reference = _sample(rng, 3000, shift=0.3), _sample(rng, 30_000)
    lenient = ReportThresholds(ks_warn_excess=0.5, ks_fail_excess=0.9, max_failing_for_pass=3)
    strict = ReportThresholds(ks_warn_excess=0.0, ks_fail_excess=0.0)
    assert build_report(candidate, reference, thresholds=lenient).summary.status == "pass"
    assert build_report(candidate, reference, thresholds=strict).summary.status == "fail"


def test_report_json_round_trip_and_schema() -> None:
    rng = np.random.default_rng(3)
    report = build_report(_sample(rng, 500), _sample(rng, 1000), extrapolated=True)
    text = report.model_dump_json()
    again = ValidationReport.model_validate_json(text)
    assert again == report
    assert json.loads(text)["summary"]["extrapolated"] is True
    schema = ValidationReport.model_json_schema()
    assert {"summary", "observables", "thresholds", "binning"} <= set(schema["properties"])
    summary_fields = schema["$defs"]["ReportSummary"]["properties"]
    for field in ("worst_ks", "ks_critical_value", "mean_js_nats", "n_failing", "status"):
        assert field in summary_fields
    assert report.binning.kind == "reference-quantile" and report.binning.n_bins == 50


def test_prepared_reference_gives_the_same_report() -> None:
    rng = np.random.default_rng(4)
    candidate, reference = _sample(rng, 700), _sample(rng, 3000)
    prepared = PreparedReference(reference)
    first = build_report(candidate, prepared)
    assert build_report(candidate, prepared) == first == build_report(candidate, reference)


def test_blocks_of_features_in_threads_give_the_same_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 20,000 candidate events: 13 features per block, so 30 features make three blocks,
    # each in a thread of its own even at this size.
    monkeypatch.setattr(compare_module, "MIN_THREAD_ELEMENTS", 1)
    compare_block, block_threads = compare_module._compare_block, set()
    # The first two blocks in the pool wait for each other, so they must run side by side in
    # two threads (a pool whose first thread took every block would time out here instead of
    # passing or failing by the machine's load).
    main, both_running, arrivals, lock = (
        threading.get_ident(),
        threading.Barrier(2, timeout=30),
        [],
        threading.Lock(),
    )

    def recorded(*args: object) -> dict[str, np.ndarray]:
        block_threads.add(threading.get_ident())
        with lock:
            wait = threading.get_ident() != main and len(arrivals) < 2
            arrivals.append(wait)
        if wait:
            both_running.wait()
        return compare_block(*args)

    monkeypatch.setattr(compare_module, "_compare_block", recorded)
    rng = np.random.default_rng(5)
    candidate = {f"f{index}": rng.normal(0.01 * index, 1.0, 20_000) for index in range(30)}
    reference = {f"f{index}": rng.normal(0.0, 1.0, 2_000).round(1) for index in range(30)}
    prepared = PreparedReference(reference)
    threaded = build_report(candidate, prepared, threads=3)
    assert len(block_threads) > 1  # the blocks ran in the pool's threads, side by side
    assert threading.get_ident() not in block_threads
    block_threads.clear()
    assert threaded == build_report(candidate, prepared, threads=1)
    assert block_threads == {threading.get_ident()}  # one thread: no pool at all
    for score in threaded.observables:
        expected = stats.ks_2samp(candidate[score.name], reference[score.name]).statistic
        assert score.ks == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="threads"):
        build_report(candidate, prepared, threads=0)


def test_matched_reference_from_the_prepared_order_equals_sorting_the_matched_events() -> None:
    # The prepared reference picks the matched events out of its sorted columns; the
    # report must equal one against those events sorted from scratch (ties included).
    rng = np.random.default_rng(8)
    energy = rng.uniform(0, 100, 6000)
    reference = {**_sample(rng, 6000), "counts": rng.integers(0, 5, 6000).astype(float)}
    candidate_energy = rng.uniform(20, 70, 900)
    candidate = {**_sample(rng, 900), "counts": rng.integers(0, 5, 900).astype(float)}
    prepared = PreparedReference(reference)
    matched = build_report(
        candidate,
        prepared,
        candidate_conditions={"energy": candidate_energy},
        reference_conditions={"energy": energy},
    )
    selection, _ = match_reference({"energy": candidate_energy}, {"energy": energy})
    direct = build_report(
        candidate, {name: values[selection] for name, values in reference.items()}
    )
    assert matched.observables == direct.observables
    assert matched.summary.n_reference == len(selection) < 6000


def test_single_condition_value_uses_a_window_of_the_reference() -> None:
    rng = np.random.default_rng(5)
    energy = 10 ** rng.uniform(3, 5, 20_000)  # MeV, log-uniform reference
    reference = {"response": rng.normal(3.0 * np.log10(energy), 1.0)}
    candidate = {"response": rng.normal(3.0 * np.log10(50_000.0), 1.0, 500)}
    report = build_report(
        candidate,
        reference,
        candidate_conditions={"incident_energy": np.full(500, 50_000.0)},
        reference_conditions={"incident_energy": energy},
    )
    (variable,) = report.conditions.variables
    assert variable.mode == "window"
    assert variable.window == pytest.approx((47_500.0, 52_500.0))
    expected = np.count_nonzero(np.abs(energy - 50_000.0) <= 2500.0)
    assert report.summary.n_reference == report.conditions.n_reference_matched == expected
    assert report.summary.status == "pass"
    unmatched = build_report(candidate, reference)  # against the whole reference: far off
    assert unmatched.summary.status == "fail"


def test_spread_conditions_match_the_reference_bin_by_bin() -> None:
    rng = np.random.default_rng(6)
    energy = rng.uniform(0, 100, 50_000)
    reference = {"response": rng.normal(energy, 1.0)}
    candidate_energy = rng.uniform(60, 100, 2000) ** 1.0  # only the upper part of the range
    candidate = {"response": rng.normal(candidate_energy, 1.0)}
    report = build_report(
        candidate,
        reference,
        candidate_conditions={"energy": candidate_energy},
        reference_conditions={"energy": energy},
    )
    (variable,) = report.conditions.variables
    assert variable.mode == "bins"
    assert variable.bins_used == [6, 7, 8, 9]  # deciles of the reference energy above 60
    assert report.conditions.n_candidate_unmatched == 0
    assert report.summary.status == "pass"


def test_pooled_observable_is_compared_but_not_counted_as_failing() -> None:
    rng = np.random.default_rng(7)
    candidate = {"n": rng.normal(size=300), "cells": rng.exponential(1.0, (300, 20))}
    reference = {"n": rng.normal(size=900), "cells": rng.exponential(1.5, (900, 20))}
    candidate["cells"][candidate["cells"] < 0.1] = np.nan  # NaN entries are left out
    report = build_report(candidate, reference)
    pooled = report.score("cells")
    assert pooled.pooled and pooled.ks_adjusted_pvalue is None and not pooled.failing
    assert pooled.n_candidate == np.count_nonzero(~np.isnan(candidate["cells"]))
    assert pooled.n_reference == 900 * 20
    assert pooled.ks > 0.1


def test_bad_inputs_name_the_problem() -> None:
    rng = np.random.default_rng(8)
    reference = _sample(rng, 100)
    with pytest.raises(ValueError, match="lacks observables"):
        build_report({"other": np.ones(10)}, reference)
    with pytest.raises(ValueError, match="'energy'.*NaN"):
        build_report({"energy": np.array([1.0, np.nan])}, reference)
    with pytest.raises(ValueError, match="both"):
        build_report(_sample(rng, 10), reference, candidate_conditions={"e": np.ones(10)})


def test_multiple_testing_corrections() -> None:
    pvalues = np.array([0.01, 0.04, 0.03, 0.005])
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, running maximum
    np.testing.assert_allclose(holm_adjusted(pvalues), [0.03, 0.06, 0.06, 0.02])
    random = np.random.default_rng(9).uniform(size=40) ** 3
    np.testing.assert_allclose(
        benjamini_hochberg_adjusted(random), stats.false_discovery_control(random), rtol=1e-12
    )


def test_js_noise_floor_is_the_mean_js_of_samples_of_one_distribution() -> None:
    rng = np.random.default_rng(10)
    candidate, reference = rng.normal(size=(500, 400)), rng.normal(size=(2000, 400))
    pair = shared_histograms(sort_columns(candidate), sort_columns(reference), n_bins=20)
    mean_js = js_divergence(pair.candidate, pair.reference).mean()
    assert mean_js == pytest.approx(js_noise_floor(500, 2000, n_bins=20), rel=0.1)


def test_too_few_events_give_no_verdict_but_say_the_minimum() -> None:
    rng = np.random.default_rng(3)
    reference = _sample(rng, 8000)
    thresholds = ReportThresholds()
    for n, expected in (
        (1, "insufficient"),
        (thresholds.min_events_for_verdict - 1, "insufficient"),
    ):
        summary = build_report(_sample(rng, n), reference).summary
        assert summary.status == expected and summary.n_candidate == n
        assert summary.reasons[0] == (
            f"{n} events are fewer than the {thresholds.min_events_for_verdict} a verdict needs "
            "(min_events_for_verdict): the scores are too noisy to judge"
        )
    enough = build_report(_sample(rng, thresholds.min_events_for_verdict), reference).summary
    assert enough.status != "insufficient"


def test_a_reference_match_at_hand_gives_the_report_of_the_conditions() -> None:
    rng = np.random.default_rng(11)
    reference = {"energy": rng.normal(size=2000)}
    reference_conditions = {"e_inc": rng.uniform(1.0, 100.0, 2000)}
    candidate = {"energy": rng.normal(size=300)}
    candidate_conditions = {"e_inc": rng.uniform(10.0, 20.0, 300)}
    match = match_reference(candidate_conditions, reference_conditions)
    by_conditions = build_report(
        candidate,
        reference,
        candidate_conditions=candidate_conditions,
        reference_conditions=reference_conditions,
    )
    assert by_conditions.summary.n_reference == len(match[0]) < 2000
    assert build_report(candidate, reference, reference_match=match) == by_conditions
    with pytest.raises(ValueError, match="not both"):
        build_report(
            candidate, reference, candidate_conditions=candidate_conditions, reference_match=match
        )
    with pytest.raises(ValueError, match="for both the candidate and the reference, or neither"):
        build_report(candidate, reference, candidate_conditions=candidate_conditions)


def test_a_failing_criterion_is_not_listed_again_as_a_warning() -> None:
    rng = np.random.default_rng(11)
    report = build_report(_sample(rng, 2000, shift=20.0), _sample(rng, 2000))
    reasons = report.summary.reasons
    assert report.summary.status == "fail"
    assert [r for r in reasons if r.startswith("worst KS")] == [
        r for r in reasons if r.startswith("worst KS") and "(fail threshold)" in r
    ]
    assert len([r for r in reasons if r.startswith("worst KS")]) == 1
    assert len([r for r in reasons if r.startswith("mean JS")]) == 1


def test_the_report_builders_keep_their_documented_path_without_an_eager_import() -> None:
    """README's earlier path, hepgan.validation.report.build_report, still works; importing the
    package alone does not load the builder (and its statistics)."""
    import subprocess
    import sys

    from hepgan.validation import report
    from hepgan.validation.report import build

    assert report.build_report is build.build_report
    assert report.build_report_dict is build.build_report_dict
    probe = (
        "import sys, hepgan.validation.report; "
        "print('hepgan.validation.report.build' in sys.modules)"
    )
    assert (
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "False"
    )
