"""Histogram overlays of generated and reference samples with a ratio panel, one PNG per
observable, in HEP style (mplhep), and the report's calorimeter figures beside them.

matplotlib (Agg backend, no display needed) and mplhep are imported only when plotting.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hepgan.validation.report.calorimeter_plots import plot_calorimeter
from hepgan.validation.report.figures import (
    hep_style,
    legend_outside,
    off_scale_arrows,
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
    n_bins: int = 40,
    max_plots: int = 200,
    progress: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write ``<observable>.png`` for each observable in both samples; returns the paths.

    HEP style (mplhep): step histograms of both samples as unit-normalised densities with
    Poisson error bars sqrt(N) / (N_total width), a ratio panel generated / reference below
    the main axis (its own axis, never overlapping), the axis labelled with the
    observable's symbol and unit (:func:`hepgan.validation.report.labels.axis_label`) and a
    legend with the sample sizes and, with ``report``, KS (p-value), JS and S.
    Bins are uniform between the 0.5 % and 99.5 % quantiles of the pooled samples
    (log-spaced when both samples are positive and span over two decades).
    A variable of at most :data:`MAX_DISCRETE_VALUES` distinct values (a charge, a type) is
    drawn as bars, one per value. Ratios beyond the ratio panel are arrows at its edge.
    2-D observables are pooled, NaN entries dropped, as in the report.
    ``units``: observable -> unit, where no report gives them. With a report that has a
    calorimeter section, its figures too (:func:`plot_calorimeter`). ``progress``, when
    given, is called with each file's path once it is written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = {score.name: score for score in report.observables} if report else {}
    units = {**(units or {}), **{name: score.unit for name, score in scores.items()}}
    written = []
    with hep_style() as (plt, hep):
        for name in [name for name in candidate if name in reference][:max_plots]:
            cand = _finite(candidate[name])
            ref = _finite(reference[name])
            if len(cand) == 0 or len(ref) == 0:
                continue
            figure, axes = ratio_figure(plt)
            draw_overlay(axes, hep, name, cand, ref, scores.get(name), units.get(name, ""), n_bins)
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


# Most distinct reference values of a variable drawn as bars (a charge, a type), not as a histogram.
MAX_DISCRETE_VALUES = 12


def draw_overlay(
    axes: tuple[Any, Any],
    hep: Any,
    name: str,
    cand: np.ndarray,
    ref: np.ndarray,
    score: ObservableScore | None,
    unit: str,
    n_bins: int,
) -> None:
    """Densities of ``ref`` and ``cand`` (1-D, finite) on the main axis, their ratio below."""
    top, bottom = axes
    values = np.unique(ref)
    if len(values) <= MAX_DISCRETE_VALUES:
        cand_counts, ref_counts, centres = _draw_bars(top, values, cand, ref)
    else:
        edges, log_x = _edges(np.concatenate([cand, ref]), n_bins)
        cand_counts, ref_counts = _draw_densities(top, hep, edges, cand, ref)
        centres = 0.5 * (edges[1:] + edges[:-1])
        if log_x:
            bottom.set_xscale("log")
            top.set_yscale("log")
    if score is not None:
        top.plot(
            [],
            [],
            " ",
            label=f"KS {score.ks:.3f} ($p$ = {_pvalue(score.ks_pvalue)})\n"
            f"JS {score.js_nats:.2g} nats, $S$ = {score.separation_power:.2g}",
        )
    legend_outside(top)
    off_scale_arrows(bottom, centres, cand_counts, ref_counts)
    bottom.set_xlabel(axis_label(name, unit))


def _draw_densities(
    top, hep, edges: np.ndarray, cand: np.ndarray, ref: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Step histograms of both samples as unit-normalised densities with Poisson errors;
    returns their counts (candidate, reference)."""
    cand_counts, _ = np.histogram(cand, bins=edges)
    ref_counts, _ = np.histogram(ref, bins=edges)
    widths = np.diff(edges)
    for counts, total, label, colour in (
        (ref_counts, len(ref), f"reference ($N$ = {len(ref):,})", "black"),
        (cand_counts, len(cand), f"generated ($N$ = {len(cand):,})", "tab:red"),
    ):
        norm = total * widths
        hep.histplot(
            counts / norm,
            edges,
            yerr=np.sqrt(counts) / norm,
            histtype="step",
            color=colour,
            label=label,
            ax=top,
        )
    top.set_ylabel("normalised density")
    return cand_counts, ref_counts


def _draw_bars(
    top, values: np.ndarray, cand: np.ndarray, ref: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bars of the fraction of each sample at each of the reference's ``values``; a generated
    value between them counts for the nearest. Returns the counts and the bar positions."""
    nearest = np.abs(cand[:, None] - values[None, :]).argmin(axis=1)
    cand_counts = np.bincount(nearest, minlength=len(values))
    ref_counts = np.array([(ref == value).sum() for value in values])
    width = 0.4 * (np.min(np.diff(values)) if len(values) > 1 else 1.0)
    for counts, total, label, colour, shift in (
        (ref_counts, len(ref), f"reference ($N$ = {len(ref):,})", "black", -0.5),
        (cand_counts, len(cand), f"generated ($N$ = {len(cand):,})", "tab:red", 0.5),
    ):
        top.bar(
            values + shift * width,
            counts / total,
            width=width,
            yerr=np.sqrt(counts) / total,
            color=colour,
            alpha=0.7,
            label=label,
        )
    top.set_ylabel("fraction of events")
    top.set_xticks(values)
    return cand_counts, ref_counts, values


def _pvalue(value: float) -> str:
    """A p-value as text; one that underflowed to 0 is shown as a bound."""
    return "$< 10^{-300}$" if value == 0 else f"{value:.2g}"


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    return values[np.isfinite(values)]


def _edges(values: np.ndarray, n_bins: int) -> tuple[np.ndarray, bool]:
    """Uniform (or log-uniform) edges between the 0.5 % and 99.5 % quantiles."""
    low, high = np.quantile(values, [0.005, 0.995])
    if low > 0 and high / low > 100:
        return np.geomspace(low, high, n_bins + 1), True
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, n_bins + 1), False


def _file_stem(name: str) -> str:
    """An observable name made safe as a file name (e.g. ``voxels[3]`` -> ``voxels_3_``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)
