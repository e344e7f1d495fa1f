"""The calorimeter's own metrics of a report: response and resolution by incident-energy bin,
the mean shower image and the sparsity of each layer, the pooled voxel energy spectrum.

What a calorimeter physicist reads first (CaloChallenge's ``evaluate.py`` draws the same),
generated next to reference:

- per incident-energy bin: the response <E_tot / E_inc> with its standard error s / sqrt(n),
  and the resolution sigma / mean of E_tot / E_inc with its large-sample (normal-theory)
  standard error (:func:`resolution_standard_error`);
- per layer: the mean energy of each voxel (angle x radius, MeV) and the sparsity, the
  mean fraction of the layer's voxels with energy > 0;
- the pooled spectrum of the voxel energies > 0 on log-spaced bins (for a log-log plot).

Voxels are (N, L A R) in the geometry's (layer, angle, radius) order, MeV; incident
energies (N,) MeV. Everything is compact: a few numbers per bin, L A R per image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hepgan.models.geometry import CylindricalGeometry
from hepgan.validation.report.display_histograms import display_from_counts

# Incident-energy bins of the response table (log-spaced over the reference's energies).
N_ENERGY_BINS = 5
# Fewest events of each sample in an energy bin for its mean and width to be shown.
MIN_EVENTS_PER_ENERGY_BIN = 10
# Log-spaced bins of the pooled voxel energy spectrum.
N_SPECTRUM_BINS = 40


@dataclass(frozen=True)
class ShowerSample:
    """Showers as the calorimeter metrics read them: voxels (N, V), incident energies (N,), MeV."""

    voxels: np.ndarray  # (N, V) MeV
    incident_energy: np.ndarray  # (N,) MeV

    def __post_init__(self) -> None:
        voxels, energy = np.asarray(self.voxels), np.asarray(self.incident_energy)
        if voxels.ndim != 2 or energy.shape != (len(voxels),):
            raise ValueError(
                f"showers need voxels (N, V) and incident energies (N,), got {voxels.shape} "
                f"and {energy.shape}"
            )

    def events(self, rows: np.ndarray | None) -> ShowerSample:
        """The showers ``rows`` (indices; None: all)."""
        if rows is None:
            return self
        return ShowerSample(self.voxels[rows], self.incident_energy[rows])

    @property
    def response(self) -> np.ndarray:
        """E_tot / E_inc per shower (N,): the sum of the voxel energies over the incident energy."""
        return self.voxels.sum(axis=1, dtype=np.float64) / self.incident_energy


@dataclass(frozen=True)
class CalorimeterInputs:
    """What the calorimeter section of a report is made of: both samples' showers (the
    reference's before condition matching) and their geometry."""

    candidate: ShowerSample
    reference: ShowerSample
    geometry: CylindricalGeometry
    # the pooled voxel spectrum: every voxel of both samples binned, the section's largest
    # cost (26 of 35 ms for 5,000 against 10,000 showers of 120 voxels); for plots
    voxel_spectrum: bool = True


def resolution_standard_error(resolution: float, n_events: int) -> float:
    """Standard error of the coefficient of variation c = s / mean of n events, by the
    large-sample formula for a normal sample: se(c) = c sqrt((1 + 2 c^2) / (2 n))."""
    return resolution * float(np.sqrt((1.0 + 2.0 * resolution**2) / (2.0 * n_events)))


def _response_statistics(response: np.ndarray) -> dict[str, float | int]:
    """n, mean, its standard error s / sqrt(n), resolution s / mean and its standard error."""
    n = len(response)
    mean = float(response.mean())
    std = float(response.std(ddof=1))
    resolution = std / mean
    return {
        "n_events": n,
        "response": mean,
        "response_error": std / float(np.sqrt(n)),
        "resolution": resolution,
        "resolution_error": resolution_standard_error(resolution, n),
    }


def energy_bin_edges(reference_energy: np.ndarray, n_bins: int = N_ENERGY_BINS) -> np.ndarray:
    """(n_bins + 1,) edges, MeV: log-spaced from the reference's smallest to its largest incident
    energy (linear if it has a non-positive one); one bin when all energies are equal."""
    low, high = float(np.min(reference_energy)), float(np.max(reference_energy))
    if high <= low:
        return np.array([low * (1 - 1e-9), high * (1 + 1e-9)] if low > 0 else [low - 1, high + 1])
    high = np.nextafter(high, np.inf)  # the largest energy inside the last bin
    if low > 0:
        return np.geomspace(low, high, n_bins + 1)
    return np.linspace(low, high, n_bins + 1)


def response_by_energy(
    candidate: ShowerSample, reference: ShowerSample, *, n_bins: int = N_ENERGY_BINS
) -> list[dict[str, Any]]:
    """Per incident-energy bin (:func:`energy_bin_edges` of the reference): the response and
    resolution of each sample with their standard errors (:func:`_response_statistics`).
    Bins with fewer than :data:`MIN_EVENTS_PER_ENERGY_BIN` events in either sample, or a
    sample without energy (sigma/mean undefined; the KS of E_tot/E_inc fails then), are left
    out."""
    edges = energy_bin_edges(reference.incident_energy, n_bins)
    samples = [(sample.incident_energy, sample.response) for sample in (candidate, reference)]
    bins = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        responses = [response[(energy >= low) & (energy < high)] for energy, response in samples]
        if min(len(values) for values in responses) < MIN_EVENTS_PER_ENERGY_BIN:
            continue
        if min(values.mean() for values in responses) <= 0:  # no energy: sigma/mean undefined
            continue
        bins.append(
            {
                "energy_range_mev": [float(low), float(high)],
                "candidate": _response_statistics(responses[0]),
                "reference": _response_statistics(responses[1]),
            }
        )
    return bins


def layer_images(voxels: np.ndarray, geometry: CylindricalGeometry) -> np.ndarray:
    """Mean voxel energy over showers, (L, A, R) MeV (summed in float64, without a copy)."""
    return np.asarray(voxels).reshape(-1, *geometry.shape).mean(axis=0, dtype=np.float64)


def layer_sparsity(voxels: np.ndarray, geometry: CylindricalGeometry) -> np.ndarray:
    """Mean over showers of the fraction of each layer's A R voxels with energy > 0, (L,)."""
    hit = np.asarray(voxels).reshape(len(voxels), geometry.n_layers, -1) > 0  # (N, L, A R)
    return hit.mean(axis=(0, 2))


def voxel_spectrum(
    candidate: np.ndarray, reference: np.ndarray, *, n_bins: int = N_SPECTRUM_BINS
) -> dict[str, list[float]] | None:
    """Counts of the voxel energies > 0 of both samples on shared log-spaced edges between the
    smallest and largest positive energy (MeV), and as drawn (``display``: densities per MeV
    and their ratio, :func:`~hepgan.validation.report.display_histograms.display_from_counts`);
    None when a sample has no positive voxel.

    Binned as log10 E on uniform bins (numpy's fast path for uniform bins: a tenth of the
    time of searching log-spaced edges, which a service's report would pay per request)."""
    logs = [np.log10(values[values > 0]) for values in map(np.asarray, (candidate, reference))]
    if min(len(values) for values in logs) == 0:
        return None
    low = min(float(values.min()) for values in logs)
    high = max(float(values.max()) for values in logs)
    high = high if high > low else low + 1.0
    counts = [np.histogram(values, bins=n_bins, range=(low, high))[0] for values in logs]
    edges = 10.0 ** np.linspace(low, high, n_bins + 1)
    return {
        "edges": edges.tolist(),
        "candidate_counts": counts[0].astype(float).tolist(),
        "reference_counts": counts[1].astype(float).tolist(),
        "display": display_from_counts(edges, counts[0], counts[1], log_x=True).to_json(),
    }


def calorimeter_section(
    candidate: ShowerSample,
    reference: ShowerSample,
    geometry: CylindricalGeometry,
    *,
    n_energy_bins: int = N_ENERGY_BINS,
    with_voxel_spectrum: bool = True,
) -> dict[str, Any]:
    """The report's ``calorimeter`` section as JSON (a
    :class:`~hepgan.validation.report.schema.CalorimeterMetrics`); its ``voxel_spectrum`` is
    None unless ``with_voxel_spectrum``."""
    for which, sample in (("candidate", candidate), ("reference", reference)):
        if sample.voxels.shape[1] != geometry.n_voxels:
            raise ValueError(
                f"{which} showers have {sample.voxels.shape[1]} voxels; geometry "
                f"{geometry.name!r} has {geometry.n_voxels} ({geometry.shape})"
            )
    return {
        "geometry_shape": list(geometry.shape),
        "energy_bins": response_by_energy(candidate, reference, n_bins=n_energy_bins),
        "candidate_layer_images": layer_images(candidate.voxels, geometry).tolist(),
        "reference_layer_images": layer_images(reference.voxels, geometry).tolist(),
        "candidate_layer_sparsity": layer_sparsity(candidate.voxels, geometry).tolist(),
        "reference_layer_sparsity": layer_sparsity(reference.voxels, geometry).tolist(),
        "voxel_spectrum": (
            voxel_spectrum(candidate.voxels, reference.voxels) if with_voxel_spectrum else None
        ),
    }


def resolution_mismatches(
    energy_bins: list[dict[str, Any]], *, max_sigmas: float, relative_tolerance: float
) -> list[str]:
    """A failure reason for each energy bin whose generated resolution differs from the
    reference's by more than ``max_sigmas`` combined standard errors
    sqrt(se_gen^2 + se_ref^2) AND by more than ``relative_tolerance`` of the reference's
    (so huge samples are not failed for a negligible difference)."""
    reasons = []
    for row in energy_bins:
        generated, reference = row["candidate"], row["reference"]
        difference = generated["resolution"] - reference["resolution"]
        combined = float(np.hypot(generated["resolution_error"], reference["resolution_error"]))
        relative = difference / reference["resolution"]
        if abs(difference) > max_sigmas * combined and abs(relative) > relative_tolerance:
            low, high = row["energy_range_mev"]
            word = "narrow" if difference < 0 else "wide"
            reasons.append(
                f"resolution sigma/mean of E_tot/E_inc too {word} at E_inc {low:.4g} to "
                f"{high:.4g} MeV: generated {generated['resolution']:.3g} +- "
                f"{generated['resolution_error']:.2g} vs reference {reference['resolution']:.3g} "
                f"+- {reference['resolution_error']:.2g} ({abs(difference) / combined:.1f} "
                f"combined standard errors, {relative:+.0%})"
            )
    return reasons
