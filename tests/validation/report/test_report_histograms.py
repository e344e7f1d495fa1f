"""The report's binned histograms: asked for, they are the very bins of its JS and S."""

from __future__ import annotations

import numpy as np
import pytest

from hepgan.validation.report.build import build_report
from hepgan.validation.report.schema import SCHEMA_VERSION, ValidationReport
from hepgan.validation.stats.binning import quantile_edge_indices
from hepgan.validation.stats.divergences import js_divergence, separation_power

N_BINS = 20


def _samples(seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    candidate = {"mass": rng.normal(91.0, 3.0, 700), "spectrum": rng.exponential(2.0, (700, 6))}
    reference = {"mass": rng.normal(91.2, 2.5, 3000), "spectrum": rng.exponential(2.1, (3000, 6))}
    return candidate, reference


def test_histograms_only_when_asked() -> None:
    report = build_report(*_samples())
    assert report.schema_version == SCHEMA_VERSION
    assert all(score.histogram is None for score in report.observables)


def test_histograms_are_the_bins_of_js_and_separation_power() -> None:
    from hepgan.validation.report.schema import ReportThresholds

    candidate, reference = _samples()
    report = build_report(
        candidate, reference, thresholds=ReportThresholds(n_bins=N_BINS), histograms=True
    )
    for score in report.observables:
        histogram = score.histogram
        edges = np.array(histogram.edges)
        ref_counts = np.array(histogram.reference_counts)
        cand_counts = np.array(histogram.candidate_counts)
        assert len(edges) == N_BINS + 1 and len(ref_counts) == len(cand_counts) == N_BINS
        assert np.all(np.diff(edges) >= 0)
        assert cand_counts.sum() == score.n_candidate and ref_counts.sum() == score.n_reference
        js = js_divergence(cand_counts[None], ref_counts[None])[0]
        assert js == pytest.approx(score.js_nats, rel=1e-12, abs=1e-15)
        power = separation_power(cand_counts[None], ref_counts[None])[0]
        assert power == pytest.approx(score.separation_power, rel=1e-12, abs=1e-15)
    mass = report.score("mass").histogram
    sorted_reference = np.sort(reference["mass"])
    interior = sorted_reference[quantile_edge_indices(len(sorted_reference), N_BINS)]
    np.testing.assert_array_equal(mass.edges[1:-1], interior)  # reference quantiles
    assert mass.edges[0] == min(candidate["mass"].min(), reference["mass"].min())
    assert mass.edges[-1] == max(candidate["mass"].max(), reference["mass"].max())


def test_a_version_1_report_still_reads() -> None:
    """A client of the first schema wrote reports without histograms; they still validate."""
    old = build_report(*_samples()).model_dump(mode="json")
    old["schema_version"] = "1"
    for score in old["observables"]:
        del score["histogram"]
    assert ValidationReport.model_validate(old).observables[0].histogram is None
