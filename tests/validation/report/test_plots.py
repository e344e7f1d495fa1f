"""Static figures in HEP style: symbols and units on the axis, a ratio panel apart from the
main axis, a legend with the sample sizes and the statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hepgan.validation.report.build import build_report
from hepgan.validation.report.display_histograms import display_histogram
from hepgan.validation.report.labels import axis_label
from hepgan.validation.report.plots import draw_overlay, hep_style, plot_overlays, ratio_figure


@pytest.mark.parametrize(
    ("name", "unit", "label"),
    [
        ("M", "GeV", r"$m_{\mu\mu}$ [GeV]"),
        ("e_total_over_incident", "", r"$E_{\mathrm{tot}}/E_{\mathrm{inc}}$"),
        ("e_layer_03", "MeV", r"$E_{\mathrm{layer}\ 3}$ [MeV]"),
        ("width_y_layer_12", "mm", r"$\sigma_{y,12}$ [mm]"),
        ("pt2", "GeV", r"$p_{T,2}$ [GeV]"),
        ("some_branch", "cm", "some_branch [cm]"),
    ],
)
def test_axis_labels_use_symbols_and_units(name: str, unit: str, label: str) -> None:
    assert axis_label(name, unit) == label


def test_ratio_panel_sits_below_the_main_axis() -> None:
    with hep_style() as (plt, _):
        figure, (top, bottom) = ratio_figure(plt)
        figure.canvas.draw()
        main, ratio = top.get_position(), bottom.get_position()
        labels = top.get_xticklabels()
        plt.close(figure)
    assert ratio.y1 < main.y0  # a gap: the panels do not overlap
    assert main.height > 2 * ratio.height
    assert not any(label.get_visible() and label.get_text() for label in labels)


def test_overlay_figure_has_error_bars_and_a_legend_with_sizes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    candidate = {"M": rng.normal(91.0, 3.0, 800)}
    reference = {"M": rng.normal(91.2, 2.5, 3000)}
    report = build_report(candidate, reference, units={"M": "GeV"})
    (path,) = plot_overlays(candidate, reference, tmp_path, report=report)
    assert path.name == "M.png" and path.stat().st_size > 10_000
    with hep_style() as (plt, hep):
        figure, (top, bottom) = ratio_figure(plt)
        display = display_histogram(candidate["M"], reference["M"])
        draw_overlay((top, bottom), hep, display, axis_label("M", "GeV"), report.score("M"))
        legend = [text.get_text() for text in top.get_legend().get_texts()]
        xlabel = bottom.get_xlabel()
        error_bars = len(top.containers)
        plt.close(figure)
    assert "reference ($N$ = 3,000)" in legend and "generated ($N$ = 800)" in legend
    assert any(text.startswith("KS ") and "JS" in text for text in legend)
    assert xlabel == r"$m_{\mu\mu}$ [GeV]"
    assert error_bars >= 2  # one error-bar container per sample


def _drawn(candidate: np.ndarray, reference: np.ndarray, name: str = "x"):
    """What draw_overlay drew: (bars, step histograms, legend box, main axis box, the ratio
    panel's line markers)."""
    with hep_style() as (plt, hep):
        figure, (top, bottom) = ratio_figure(plt)
        display = display_histogram(candidate, reference, n_bins=20)
        draw_overlay((top, bottom), hep, display, axis_label(name))
        figure.canvas.draw()
        legend = top.get_legend().get_window_extent()
        area = top.get_window_extent()
        markers = [line.get_marker() for line in bottom.get_lines()]
        bars = [patch for patch in top.patches if type(patch).__name__ == "Rectangle"]
        steps = [patch for patch in top.patches if type(patch).__name__ == "StepPatch"]
        drawn = (len(bars), len(steps), legend, area, markers)
        plt.close(figure)
    return drawn


def test_a_discrete_variable_is_drawn_as_bars_and_the_legend_sits_above_the_data() -> None:
    rng = np.random.default_rng(3)
    charge = rng.choice([-1.0, 1.0], 1000)
    bars, _, legend, area, _ = _drawn(rng.choice([-1.0, 1.0], 800), charge, "Q1")
    assert bars == 4  # two values, two samples
    assert legend.y0 >= area.y1  # outside the axis: never on the data
    continuous_bars, steps, *_ = _drawn(rng.normal(size=800), rng.normal(size=1000))
    assert continuous_bars == 0 and steps > 0


def test_ratios_off_the_panel_are_arrows_at_its_edge() -> None:
    rng = np.random.default_rng(4)
    reference = rng.normal(0.0, 1.0, 20_000)
    candidate = rng.normal(0.0, 3.0, 20_000)  # tails far above, centre far below
    *_, markers = _drawn(candidate, reference)
    assert "^" in markers and "v" in markers
    *_, same = _drawn(rng.normal(0.0, 1.0, 20_000), reference)
    assert "^" not in same and "v" not in same
