"""The calorimeter section of a report as PNG figures in HEP style (mplhep), the page's
figures for ``hepgan validate --plots``: response and resolution by incident energy, the
sparsity per layer, the pooled voxel energy spectrum (log-log, with a ratio panel) and the
mean shower image of every layer (angle x radius: reference, generated, their ratio).

Everything is drawn from the report's numbers (:class:`CalorimeterMetrics`); matplotlib and
mplhep are imported only when plotting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hepgan.validation.report.display_histograms import display_from_counts
from hepgan.validation.report.figures import (
    GENERATED_COLOUR,
    REFERENCE_COLOUR,
    draw_display,
    hep_style,
    legend_outside,
    ratio_figure,
)
from hepgan.validation.report.schema import CalorimeterMetrics


def plot_calorimeter(section: CalorimeterMetrics, out_dir: str | Path) -> list[Path]:
    """Write ``response_resolution.png``, ``sparsity.png``, ``voxel_spectrum.png`` (when the
    section has one) and ``layer_images.png`` into ``out_dir``; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with hep_style() as (plt, hep):
        for name, draw in (
            ("response_resolution", _response_resolution),
            ("sparsity", _sparsity),
            ("voxel_spectrum", _voxel_spectrum),
            ("layer_images", _layer_images),
        ):
            figure = draw(plt, hep, section)
            if figure is None:
                continue
            path = out_dir / f"{name}.png"
            figure.savefig(path, dpi=80)
            plt.close(figure)
            written.append(path)
    return written


def _response_resolution(plt, hep, section: CalorimeterMetrics) -> Any:
    """<E_tot/E_inc> (top) and sigma/mean (bottom) against E_inc, with standard errors."""
    if not section.energy_bins:
        return None
    figure, (top, bottom) = ratio_figure(plt, height_ratios=(1, 1))
    centres = np.array([np.sqrt(low * high) for low, high in _ranges(section)])  # MeV
    for sample, colour, shift in (
        ("reference", REFERENCE_COLOUR, 0.97),
        ("candidate", GENERATED_COLOUR, 1.03),
    ):
        rows = [getattr(row, sample) for row in section.energy_bins]
        label = "reference" if sample == "reference" else "generated"
        for axes, key in ((top, "response"), (bottom, "resolution")):
            axes.errorbar(
                centres * shift,
                [getattr(row, key) for row in rows],
                yerr=[getattr(row, f"{key}_error") for row in rows],
                fmt="o",
                color=colour,
                label=label,
            )
    bottom.set_xscale("log")
    bottom.xaxis.set_minor_formatter(plt.NullFormatter())  # the minor labels would collide
    top.set_ylabel(r"$\langle E_{\mathrm{tot}}/E_{\mathrm{inc}} \rangle$")
    bottom.set_ylabel(r"$\sigma / \mu$ of $E_{\mathrm{tot}}/E_{\mathrm{inc}}$")
    bottom.set_xlabel(r"$E_{\mathrm{inc}}$ [MeV]")
    bottom.set_ylim(bottom=0)
    legend_outside(top)
    return figure


def _sparsity(plt, hep, section: CalorimeterMetrics) -> Any:
    """The mean fraction of each layer's voxels with energy > 0, per layer."""
    figure, axes = plt.subplots(figsize=(8, 6), layout="constrained")
    layers = np.arange(len(section.reference_layer_sparsity))
    for values, colour, label in (
        (section.reference_layer_sparsity, REFERENCE_COLOUR, "reference"),
        (section.candidate_layer_sparsity, GENERATED_COLOUR, "generated"),
    ):
        axes.step(layers, values, where="mid", color=colour, label=label, marker="o")
    axes.set(xlabel="layer", ylabel="fraction of voxels with $E > 0$", ylim=(0, 1.02))
    legend_outside(axes)
    return figure


def _voxel_spectrum(plt, hep, section: CalorimeterMetrics) -> Any:
    """Densities of the pooled voxel energies > 0 on log-spaced bins, log-log, with a ratio
    (:func:`~hepgan.validation.report.display_histograms.display_from_counts`, as the page)."""
    spectrum = section.voxel_spectrum
    if spectrum is None:
        return None
    figure, (top, bottom) = ratio_figure(plt)
    display = display_from_counts(
        spectrum.edges, spectrum.candidate_counts, spectrum.reference_counts, log_x=True
    )
    draw_display((top, bottom), hep, display)
    legend_outside(top)
    bottom.set_xlabel(r"$E_{\mathrm{voxel}}$ [MeV]")
    return figure


def _layer_images(plt, hep, section: CalorimeterMetrics) -> Any:
    """One row per layer: reference and generated mean images on one log colour scale, and
    generated / reference from 0.5 to 1.5; angle bins up, radial bins across."""
    from matplotlib.colors import LogNorm

    reference = np.array(section.reference_layer_images)  # (L, A, R) MeV
    generated = np.array(section.candidate_layer_images)
    n_layers = len(reference)
    positive = np.concatenate([reference[reference > 0], generated[generated > 0]])
    if len(positive) == 0:
        return None
    norm = LogNorm(vmin=positive.min(), vmax=positive.max())
    figure, axes = plt.subplots(
        n_layers, 3, figsize=(11, 2.2 * n_layers + 1), squeeze=False, layout="constrained"
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(reference > 0, generated / reference, np.nan)
    for layer in range(n_layers):
        row = axes[layer]
        energy = row[0].imshow(
            np.ma.masked_less_equal(reference[layer], 0), norm=norm, origin="lower", aspect="auto"
        )
        row[1].imshow(
            np.ma.masked_less_equal(generated[layer], 0), norm=norm, origin="lower", aspect="auto"
        )
        ratios = row[2].imshow(
            ratio[layer], vmin=0.5, vmax=1.5, cmap="RdBu", origin="lower", aspect="auto"
        )
        row[0].set_ylabel(f"layer {layer}\nangle bin", fontsize="small")
        for axis in row:
            axis.tick_params(labelsize="x-small")
    for axis, title in zip(
        axes[0], ("reference", "generated", "generated / reference"), strict=True
    ):
        axis.set_title(title, fontsize="small")
    for axis in axes[-1]:
        axis.set_xlabel("radial bin", fontsize="small")
    figure.colorbar(energy, ax=axes[:, :2], label="mean voxel energy [MeV]", location="bottom")
    figure.colorbar(ratios, ax=axes[:, 2], label="gen. / ref.", location="bottom")
    return figure


def _ranges(section: CalorimeterMetrics) -> list[tuple[float, float]]:
    return [tuple(row.energy_range_mev) for row in section.energy_bins]
