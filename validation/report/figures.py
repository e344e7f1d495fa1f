"""What every figure of the report shares: the HEP style (mplhep), the main-over-ratio
layout, a display histogram drawn on it, the ratio panel with arrows for points off its
scale, legends outside the data.

matplotlib and mplhep are imported only when plotting.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from hepgan.validation.report.display_histograms import DisplayHistogram

RATIO_LIMITS = (0.5, 1.5)  # the ratio panel's y range
GENERATED_COLOUR = "tab:red"
REFERENCE_COLOUR = "black"


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


def ratio_figure(plt, *, height_ratios: tuple[float, float] = (3, 1)):
    """A figure with a main axis over a lower axis (a third of its height by default); they
    share x and a small gap keeps the lower panel's ticks off the main axis."""
    figure, (top, bottom) = plt.subplots(
        2,
        1,
        sharex=True,
        figsize=(8, 7.5),
        gridspec_kw={"height_ratios": list(height_ratios), "hspace": 0.08},
        layout="constrained",
    )
    top.tick_params(labelbottom=False)
    return figure, (top, bottom)


def off_scale_arrows(axes, x: np.ndarray, ratio: np.ndarray, error: np.ndarray) -> int:
    """Draw the ratios generated / reference (NaN: not drawn) at ``x`` on the ratio panel
    ``axes`` with their errors, within :data:`RATIO_LIMITS`; a ratio beyond them is an arrow
    (a triangle) at the panel's edge, pointing the way it left. Returns how many arrows were
    drawn."""
    low, high = RATIO_LIMITS
    inside = (ratio >= low) & (ratio <= high)
    axes.errorbar(
        x[inside], ratio[inside], yerr=error[inside], fmt="o", markersize=3, color=GENERATED_COLOUR
    )
    pad = 0.04 * (high - low)
    for beyond, edge, marker in ((ratio > high, high - pad, "^"), (ratio < low, low + pad, "v")):
        if beyond.any():
            axes.plot(
                x[beyond], np.full(beyond.sum(), edge), marker, color=GENERATED_COLOUR, markersize=7
            )
    axes.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    axes.set_ylim(low, high)
    axes.set_ylabel("gen. / ref.", fontsize="small")
    return int(((ratio > high) | (ratio < low)).sum())


def draw_display(axes: tuple[Any, Any], hep: Any, display: DisplayHistogram) -> None:
    """A :class:`~hepgan.validation.report.display_histograms.DisplayHistogram` as drawn:
    step histograms of the densities with their errors (mplhep), or bars of the fractions for
    a discrete variable, on the main axis (its suggested scales), the ratio below
    (:func:`off_scale_arrows`). The legend is the caller's (:func:`legend_outside`)."""
    top, bottom = axes
    samples = (
        (display.reference, "reference", REFERENCE_COLOUR, -0.5),
        (display.candidate, "generated", GENERATED_COLOUR, 0.5),
    )
    if display.discrete:
        gaps = np.diff(display.x)
        width = 0.4 * (gaps.min() if len(gaps) else 1.0)
        for sample, name, colour, shift in samples:
            top.bar(
                display.x + shift * width,
                sample.density,
                width=width,
                yerr=sample.error,
                color=colour,
                alpha=0.7,
                label=f"{name} ($N$ = {sample.total:,})",
            )
        top.set_ylabel("fraction of events")
        top.set_xticks(display.x)
    else:
        for sample, name, colour, _ in samples:
            hep.histplot(
                sample.density,
                display.edges,
                yerr=sample.error,
                histtype="step",
                color=colour,
                label=f"{name} ($N$ = {sample.total:,})",
                ax=top,
            )
        top.set_ylabel("normalised density")
        if display.log_x:
            bottom.set_xscale("log")
        if display.log_y:
            top.set_yscale("log")
    off_scale_arrows(bottom, display.x, display.ratio, display.ratio_error)


def legend_outside(axes, **options: Any) -> None:
    """The legend above the axis, outside it: never on the data."""
    axes.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.01),
        ncols=2,
        fontsize="x-small",
        frameon=False,
        **options,
    )
