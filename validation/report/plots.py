"""Histogram overlays of generated and reference samples with a ratio panel, one PNG per
observable, in HEP style (mplhep), and the report's calorimeter figures beside them.

matplotlib (Agg backend, no display needed) and mplhep are imported only when plotting.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hepgan.validation.report.calorimeter_plots import plot_calorimeter
from hepgan.validation.report.display_histograms import (
    N_DISPLAY_BINS,
    DisplayHistogram,
    display_histogram,
)
from hepgan.validation.report.figures import (
    draw_display,
    hep_style,
    legend_outside,
    ratio_figure,
)
from hepgan.validation.report.labels import axis_label
from hepgan.validation.report.schema import ObservableScore, ValidationReport


def plot_overlays(
    candidate: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray],
    out_dir: str | Path,
    *,
    report: ValidationReport | None = None,
    units: Mapping[str, str] | None = None,
    n_bins: int = N_DISPLAY_BINS,
    max_plots: int = 200,
    progress: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write ``<observable>.png`` for each observable in both samples; returns the paths.

    HEP style (mplhep): the display histograms the page draws too
    (:func:`~hepgan.validation.report.display_histograms.display_histogram`: densities with
    Poisson errors on bins between the pooled 0.5 % and 99.5 % quantiles, log-spaced over
    decades, or bars per value of a discrete variable), a ratio panel generated / reference
    below the main axis (its own axis, never overlapping; ratios beyond it are arrows at its
    edge), the axis labelled with the observable's symbol and unit
    (:func:`hepgan.validation.report.labels.axis_label`) and a legend with the sample sizes
    and, with ``report``, KS (p-value), JS and S.
    2-D observables are pooled, NaN entries dropped, as in the report.
    ``units``: observable -> unit, before the report's (:func:`x_labels`). With a report that has a
    calorimeter section, its figures too (:func:`plot_calorimeter`). ``progress``, when
    given, is called with each file's path once it is written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = {score.name: score for score in report.observables} if report else {}
    names = [name for name in candidate if name in reference][:max_plots]
    labels = x_labels(names, report, units)
    written = []
    with hep_style() as (plt, hep):
        for name in names:
            cand = _finite(candidate[name])
            ref = _finite(reference[name])
            if len(cand) == 0 or len(ref) == 0:
                continue
            figure, axes = ratio_figure(plt)
            display = display_histogram(cand, ref, n_bins=n_bins)
            draw_overlay(axes, hep, display, labels[name], scores.get(name))
            path = out_dir / f"{_file_stem(name)}.png"
            figure.savefig(path, dpi=80)
            plt.close(figure)
            written.append(path)
            if progress is not None:
                progress(path)
    if report is not None and report.calorimeter is not None:
        for path in plot_calorimeter(report.calorimeter, out_dir):
            written.append(path)
            if progress is not None:
                progress(path)
    return written


def x_labels(
    names: Sequence[str],
    report: ValidationReport | None = None,
    units: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Each observable's x-axis title (:func:`~hepgan.validation.report.labels.axis_label`):
    its symbol and unit, the unit from ``units``, else from the report's score (which
    ``hepgan validate`` fills from the files' column names: GeV for E1, px1, ...)."""
    report_units = {score.name: score.unit for score in report.observables} if report else {}
    given = units or {}
    return {name: axis_label(name, given.get(name) or report_units.get(name, "")) for name in names}


def draw_overlay(
    axes: tuple[Any, Any],
    hep: Any,
    display: DisplayHistogram,
    x_label: str,
    score: ObservableScore | None = None,
) -> None:
    """``display`` on the main axis and the ratio panel (:func:`draw_display`), the legend
    above them with, given a ``score``, its KS (p-value), JS and S; ``x_label`` under the
    ratio panel."""
    top, bottom = axes
    draw_display(axes, hep, display)
    if score is not None:
        top.plot(
            [],
            [],
            " ",
            label=f"KS {score.ks:.3f} ($p$ = {_pvalue(score.ks_pvalue)})\n"
            f"JS {score.js_nats:.2g} nats, $S$ = {score.separation_power:.2g}",
        )
    legend_outside(top)
    bottom.set_xlabel(x_label)


def _pvalue(value: float) -> str:
    """A p-value as text; one that underflowed to 0 is shown as a bound."""
    return "$< 10^{-300}$" if value == 0 else f"{value:.2g}"


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    return values[np.isfinite(values)]


def _file_stem(name: str) -> str:
    """An observable name made safe as a file name (e.g. ``voxels[3]`` -> ``voxels_3_``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)
