"""What every figure of the report shares: the HEP style (mplhep), the main-over-ratio
layout, the ratio panel with arrows for points off its scale, legends outside the data.

matplotlib and mplhep are imported only when plotting.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

RATIO_LIMITS = (0.5, 1.5)  # the ratio panel's y range
GENERATED_COLOUR = "tab:red"


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


def ratio_values(cand_counts: np.ndarray, ref_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(c / n_c) / (r / n_r) per bin, error ratio sqrt(1/c + 1/r); NaN where a bin is empty."""
    n_cand, n_ref = cand_counts.sum(), ref_counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (cand_counts / n_cand) / (ref_counts / n_ref)
        error = ratio * np.sqrt(1.0 / cand_counts + 1.0 / ref_counts)
    empty = (cand_counts == 0) | (ref_counts == 0)
    return np.where(empty, np.nan, ratio), np.where(empty, np.nan, error)


def off_scale_arrows(axes, x: np.ndarray, cand_counts: np.ndarray, ref_counts: np.ndarray) -> int:
    """Draw generated / reference at ``x`` on the ratio panel ``axes`` (:func:`ratio_values`),
    within :data:`RATIO_LIMITS`; a ratio beyond them is an arrow (a triangle) at the panel's
    edge, pointing the way it left. Returns how many arrows were drawn."""
    ratio, error = ratio_values(np.asarray(cand_counts), np.asarray(ref_counts))
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
