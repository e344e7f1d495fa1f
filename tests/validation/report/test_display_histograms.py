"""The histograms drawn by the page and by ``hepgan validate --plots``: binned once by
boost-histogram, normalised by every entry, bars for discrete variables, log bins over
decades, no density a point mass could blow up; and the report carries the very numbers the
PNGs draw."""

from __future__ import annotations

import numpy as np
import pytest

from hepgan.validation.report.build import build_report
from hepgan.validation.report.display_histograms import (
    MAX_DISCRETE_VALUES,
    display_edges,
    display_histogram,
)
from hepgan.validation.report.labels import axis_label
from hepgan.validation.report.plots import draw_overlay, hep_style, ratio_figure


def test_counts_equal_numpys_on_the_same_edges_and_flow_counts_in_the_normalisation() -> None:
    rng = np.random.default_rng(0)
    candidate, reference = rng.normal(0.2, 1.3, 5000), rng.normal(0.0, 1.0, 8000)
    display = display_histogram(candidate, reference, n_bins=25)
    edges = display.edges
    assert len(edges) == 26 and not display.discrete and not display.log_x
    low, high = np.quantile(np.concatenate([candidate, reference]), [0.005, 0.995])
    assert edges[0] == low and edges[-1] == np.nextafter(high, np.inf)
    np.testing.assert_allclose(np.diff(edges), (edges[-1] - edges[0]) / 25, rtol=1e-9)
    for sample, drawn in ((candidate, display.candidate), (reference, display.reference)):
        np.testing.assert_array_equal(drawn.counts, np.histogram(sample, bins=edges)[0])
        outside = np.sum((sample < edges[0]) | (sample >= edges[-1]))
        assert outside > 0 and drawn.counts.sum() == len(sample) - outside
        assert drawn.total == len(sample)  # the entries outside the edges count in N
        widths = np.diff(edges)
        np.testing.assert_allclose(drawn.density, drawn.counts / (len(sample) * widths))
        np.testing.assert_allclose(drawn.error, np.sqrt(drawn.counts) / (len(sample) * widths))
        assert np.sum(drawn.density * widths) == pytest.approx(1 - outside / len(sample))
    c, r = display.candidate.counts, display.reference.counts
    filled = (c > 0) & (r > 0)
    expected = (c / len(candidate)) / (r / len(reference))
    np.testing.assert_allclose(display.ratio[filled], expected[filled])
    np.testing.assert_allclose(
        display.ratio_error[filled], expected[filled] * np.sqrt(1 / c[filled] + 1 / r[filled])
    )
    assert np.isnan(display.ratio[~filled]).all()
    json = display.to_json()
    assert json["candidate"]["n_events"] == 5000 and json["reference"]["n_events"] == 8000
    assert all((value is None) == (not ok) for value, ok in zip(json["ratio"], filled, strict=True))


def test_a_variable_of_few_values_is_counted_per_value_the_nearest_for_generated_ones() -> None:
    rng = np.random.default_rng(1)
    reference = rng.choice([-1.0, 0.0, 1.0], 900)
    candidate = np.array([-1.2, -0.51, -0.5, -0.49, 0.3, 0.7, 2.5])  # between and beyond
    display = display_histogram(candidate, reference)
    assert display.discrete and display.edges is None and not display.log_y
    np.testing.assert_array_equal(display.x, [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(display.candidate.counts, [3, 2, 2])  # -0.5: the lower
    np.testing.assert_array_equal(
        display.reference.counts, [np.sum(reference == v) for v in (-1.0, 0.0, 1.0)]
    )
    np.testing.assert_allclose(display.candidate.density, [3 / 7, 2 / 7, 2 / 7])  # fractions
    many = np.arange(MAX_DISCRETE_VALUES + 1, dtype=float)
    assert display_histogram(many, many).discrete is False
    assert display_histogram(many[:-1], many[:-1]).discrete is True


def test_log_bins_where_a_positive_range_spans_over_two_decades() -> None:
    rng = np.random.default_rng(2)
    wide = rng.lognormal(0.0, 2.0, 4000)  # about five decades between the quantiles
    edges, log_x = display_edges(wide, 30)
    assert log_x
    np.testing.assert_allclose(np.diff(np.log(edges)), np.log(edges[-1] / edges[0]) / 30)
    display = display_histogram(wide[:2000], wide[2000:], n_bins=30)
    assert display.log_x and display.log_y
    np.testing.assert_allclose(display.x, np.sqrt(edges[1:] * edges[:-1]))  # geometric centres
    narrow = rng.uniform(10.0, 900.0, 4000)  # under two decades
    assert display_edges(narrow, 30)[1] is False
    with_zero = np.concatenate([[0.0] * 100, wide])  # not positive: linear
    assert display_edges(with_zero, 30)[1] is False


def test_a_point_mass_gives_no_density_above_what_its_bin_holds() -> None:
    """A spike at one value (an empty layer's width, a capped fraction) on reference-quantile
    bins gives bins of zero width and densities of millions; on display bins each bin is as
    wide as the others, and one at the top edge is drawn, not lost to the overflow."""
    rng = np.random.default_rng(3)
    reference = np.concatenate([np.zeros(4000), rng.uniform(0.0, 1.0, 3000), np.ones(1000)])
    candidate = np.concatenate([np.zeros(1500), rng.uniform(0.0, 1.0, 2500)])
    display = display_histogram(candidate, reference, n_bins=20)
    widths = np.diff(display.edges)
    np.testing.assert_allclose(widths, np.full(20, widths[0]))  # no narrow bin
    assert display.edges[-1] > 1.0  # the capped values are inside the last bin
    assert display.reference.counts[0] >= 4000 and display.reference.counts[-1] >= 1000
    assert display.reference.counts.sum() == len(reference)
    highest = max(display.reference.density.max(), display.candidate.density.max())
    assert highest == pytest.approx(display.reference.counts[0] / (len(reference) * widths[0]))
    assert highest < 1.0 / widths[0]  # at most every event in one bin


def test_the_reports_display_is_what_the_cli_draws() -> None:
    rng = np.random.default_rng(4)
    candidate = {"M": rng.normal(91.0, 3.0, 900), "Q1": rng.choice([-1.0, 1.0], 900)}
    reference = {"M": rng.normal(91.2, 2.5, 3000), "Q1": rng.choice([-1.0, 1.0], 3000)}
    plain = build_report(candidate, reference)
    assert all(score.display is None for score in plain.observables)  # only when asked
    report = build_report(candidate, reference, units={"M": "GeV"}, histograms=True)
    for name in ("M", "Q1"):
        stored = report.score(name).display
        display = display_histogram(candidate[name], reference[name])
        assert stored.model_dump() == display.to_json()
        with hep_style() as (plt, hep):
            figure, (top, bottom) = ratio_figure(plt)
            draw_overlay((top, bottom), hep, display, axis_label(name), report.score(name))
            if stored.discrete:
                drawn = [patch.get_height() for patch in top.patches]
            else:
                steps = [p for p in top.patches if type(p).__name__ == "StepPatch"]
                drawn = [float(v) for step in steps for v in step.get_data().values]
            plt.close(figure)
        np.testing.assert_allclose(drawn, stored.reference.density + stored.candidate.density)


def test_a_pooled_observable_has_its_display_of_the_pooled_entries() -> None:
    rng = np.random.default_rng(5)
    candidate = {"n": rng.normal(size=300), "spectrum": rng.exponential(2.0, (300, 6))}
    reference = {"n": rng.normal(size=900), "spectrum": rng.exponential(2.1, (900, 6))}
    display = build_report(candidate, reference, histograms=True).score("spectrum").display
    assert display.candidate.n_events == 300 * 6 and display.reference.n_events == 900 * 6
    expected = display_histogram(candidate["spectrum"], reference["spectrum"])
    assert display.model_dump() == expected.to_json()
