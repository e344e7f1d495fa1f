"""Histogram overlays of candidate and reference with a ratio panel, one PNG per observable.

matplotlib (Agg backend, no display needed) is imported only when plotting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from hepgan.validation.report_schema import ValidationReport


def plot_overlays(
    candidate: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray],
    out_dir: str | Path,
    *,
    report: ValidationReport | None = None,
    n_bins: int = 40,
    max_plots: int = 200,
) -> list[Path]:
    """Write ``<observable>.png`` for each observable in both samples; returns the paths.

    Bins are uniform between the 0.5 % and 99.5 % quantiles of the pooled samples
    (log-spaced when both samples are positive and span over two decades); both
    histograms are unit-normalised densities; the ratio panel shows candidate /
    reference with Poisson errors. With ``report``, the title shows KS and JS.
    2-D observables are pooled, NaN entries dropped, as in the report.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = {score.name: score for score in report.observables} if report else {}
    written = []
    for name in [name for name in candidate if name in reference][:max_plots]:
        cand = _finite(candidate[name])
        ref = _finite(reference[name])
        if len(cand) == 0 or len(ref) == 0:
            continue
        edges, log_x = _edges(np.concatenate([cand, ref]), n_bins)
        cand_counts, _ = np.histogram(cand, bins=edges)
        ref_counts, _ = np.histogram(ref, bins=edges)
        figure, (top, bottom) = plt.subplots(
            2, 1, sharex=True, figsize=(6, 5), gridspec_kw={"height_ratios": [3, 1], "hspace": 0}
        )
        widths = np.diff(edges)
        for counts, total, label, style in (
            (ref_counts, len(ref), f"reference ({len(ref)})", {"color": "black"}),
            (cand_counts, len(cand), f"candidate ({len(cand)})", {"color": "tab:red"}),
        ):
            top.stairs(counts / (total * widths), edges, label=label, **style)
        top.set_ylabel("density")
        top.legend(frameon=False)
        if name in scores:
            score = scores[name]
            top.set_title(f"{name}: KS {score.ks:.3f}, JS {score.js_nats:.2g} nats", fontsize=10)
        ratio, error = _ratio(cand_counts, len(cand), ref_counts, len(ref))
        centres = 0.5 * (edges[1:] + edges[:-1])
        bottom.errorbar(centres, ratio, yerr=error, fmt="o", markersize=2, color="tab:red")
        bottom.axhline(1.0, color="black", linewidth=0.8)
        bottom.set_ylim(0.5, 1.5)
        bottom.set_ylabel("cand / ref")
        unit = scores[name].unit if name in scores and scores[name].unit else ""
        bottom.set_xlabel(f"{name} [{unit}]" if unit else name)
        if log_x:
            bottom.set_xscale("log")
            top.set_yscale("log")
        path = out_dir / f"{_file_stem(name)}.png"
        figure.savefig(path, dpi=80, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written


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
