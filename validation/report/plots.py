"""Histogram overlays of generated and reference samples with a ratio panel, one PNG per
observable, in HEP style (mplhep).

matplotlib (Agg backend, no display needed) and mplhep are imported only when plotting.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

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
) -> list[Path]:
    """Write ``<observable>.png`` for each observable in both samples; returns the paths.

    HEP style (mplhep): step histograms of both samples as unit-normalised densities with
    Poisson error bars sqrt(N) / (N_total width), a ratio panel generated / reference below
    the main axis (its own axis, never overlapping), the axis labelled with the
    observable's symbol and unit (:func:`hepgan.validation.report.labels.axis_label`) and a
    legend with the sample sizes and, with ``report``, KS (p-value), JS and S.
    Bins are uniform between the 0.5 % and 99.5 % quantiles of the pooled samples
    (log-spaced when both samples are positive and span over two decades).
    2-D observables are pooled, NaN entries dropped, as in the report.
    ``units``: observable -> unit, where no report gives them.
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
    return written


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
    edges, log_x = _edges(np.concatenate([cand, ref]), n_bins)
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
    if score is not None:
        top.plot(
            [],
            [],
            " ",
            label=f"KS {score.ks:.3f} ($p$ = {score.ks_pvalue:.2g})\n"
            f"JS {score.js_nats:.2g} nats, $S$ = {score.separation_power:.2g}",
        )
    top.set_ylabel("normalised density")
    if log_x:
        bottom.set_xscale("log")
        top.set_yscale("log")
    _legend_above_the_data(top)
    ratio, error = _ratio(cand_counts, len(cand), ref_counts, len(ref))
    centres = 0.5 * (edges[1:] + edges[:-1])
    bottom.errorbar(centres, ratio, yerr=error, fmt="o", markersize=3, color="tab:red")
    bottom.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    bottom.set_ylim(0.5, 1.5)
    bottom.set_ylabel("gen. / ref.", fontsize="small")
    bottom.set_xlabel(axis_label(name, unit))


def ratio_figure(plt):
    """A figure with a main axis over a ratio axis of a third of its height; they share x
    and a small gap keeps the ratio panel's ticks off the main axis."""
    figure, (top, bottom) = plt.subplots(
        2,
        1,
        sharex=True,
        figsize=(8, 7.5),
        gridspec_kw={"height_ratios": [3, 1], "hspace": 0.08},
        layout="constrained",
    )
    top.tick_params(labelbottom=False)
    return figure, (top, bottom)


@contextmanager
def hep_style() -> Iterator[tuple[Any, Any]]:
    """pyplot on the Agg backend (no display) in mplhep's ROOT style for the block, and
    mplhep; yields (pyplot, mplhep). The style is undone after the block."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep as hep

    with plt.style.context(hep.style.ROOT):
        yield plt, hep


def _legend_above_the_data(axes) -> None:
    """The legend in the upper part of the main axis, which is raised so that the
    histograms stay below it (a legend must never hide the data)."""
    axes.legend(loc="upper left", fontsize="x-small", frameon=False)
    low, high = axes.get_ylim()
    if axes.get_yscale() == "log":
        axes.set_ylim(low, high * (high / low) ** 0.6)
    else:
        axes.set_ylim(low, low + (high - low) * 1.55)


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


def _ratio(
    cand_counts: np.ndarray, n_cand: int, ref_counts: np.ndarray, n_ref: int
) -> tuple[np.ndarray, np.ndarray]:
    """(c / n_c) / (r / n_r) per bin, error ratio sqrt(1/c + 1/r); NaN where a bin is empty."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (cand_counts / n_cand) / (ref_counts / n_ref)
        error = ratio * np.sqrt(1.0 / cand_counts + 1.0 / ref_counts)
    empty = (cand_counts == 0) | (ref_counts == 0)
    return np.where(empty, np.nan, ratio), np.where(empty, np.nan, error)


def _file_stem(name: str) -> str:
    """An observable name made safe as a file name (e.g. ``voxels[3]`` -> ``voxels_3_``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)
