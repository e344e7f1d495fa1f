"""The report's JSON schema: thresholds, binning, per-observable scores, summary, report.

``schema_version`` is in every report; a field added later is optional, so clients of an
earlier version keep working.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from hepgan.validation.report.conditions import ConditionSelection
from hepgan.validation.stats.ks import MIN_ASYMPTOTIC_EFFECTIVE_EVENTS
from hepgan.validation.stats.multiple_testing import Correction

# "1": the first report; "2": the status "insufficient" and ObservableScore.histogram
# (optional, only when asked); "3": the optional ``calorimeter`` section and ``labels``, and
# the resolution thresholds; "4": the optional ``display`` histograms (ObservableScore.display,
# VoxelSpectrum.display) with the binned samples.
SCHEMA_VERSION = "4"
Status = Literal["pass", "warn", "fail", "insufficient"]


class ReportThresholds(BaseModel):
    """When a report passes, warns or fails; stored in every report."""

    significance: float = Field(
        default=0.01, gt=0, lt=1, description="level of the KS tests after the correction"
    )
    correction: Correction = "holm"
    ks_warn_excess: float = Field(
        default=0.02, ge=0, description="warn if worst KS > KS critical value + this"
    )
    ks_fail_excess: float = Field(
        default=0.10, ge=0, description="fail if worst KS > KS critical value + this"
    )
    js_warn_nats: float = Field(
        default=0.01, ge=0, description="warn if mean JS > its noise floor + this, nats"
    )
    js_fail_nats: float = Field(
        default=0.05, ge=0, description="fail if mean JS > its noise floor + this, nats"
    )
    max_failing_for_pass: int = Field(
        default=0, ge=0, description="per-event observables failing the corrected KS test allowed"
    )
    n_bins: int = Field(default=50, ge=2, description="reference-quantile bins for JS and S")
    min_events_for_verdict: int = Field(
        default=100,
        ge=1,
        description="fewer candidate events give the status 'insufficient' (two per JS bin)",
    )
    max_pooled_values: int = Field(
        default=1_000_000, ge=100, description="largest sample kept for a pooled observable"
    )
    n_energy_bins: int = Field(
        default=5, ge=1, description="log-spaced incident-energy bins of the calorimeter section"
    )
    resolution_max_sigmas: float = Field(
        default=3.0,
        gt=0,
        description="fail if a bin's generated resolution differs from the reference's by more "
        "than this many combined standard errors (and by resolution_relative_tolerance)",
    )
    resolution_relative_tolerance: float = Field(
        default=0.10,
        ge=0,
        description="... and by more than this fraction of the reference's resolution, so huge "
        "samples are not failed for a negligible difference",
    )


class Binning(BaseModel):
    """The histogram binning behind JS and the separation power."""

    kind: Literal["reference-quantile"] = "reference-quantile"
    n_bins: int
    description: str = (
        "interior edges at the reference's b/B quantiles; outer bins open to -inf and +inf; "
        "bins between tied edges are empty in both samples"
    )


class ObservableHistogram(BaseModel):
    """The binned histograms JS and the separation power were computed on (same bins)."""

    edges: list[float] = Field(
        description="B + 1 edges: the reference-quantile interior edges, closed by the smaller "
        "and the larger of the two samples' extremes (the outer bins are open in the statistics)"
    )
    reference_counts: list[float] = Field(description="B reference events per bin")
    candidate_counts: list[float] = Field(description="B candidate events per bin")


class DisplaySample(BaseModel):
    """One sample on the display bins (:mod:`hepgan.validation.report.display_histograms`)."""

    n_events: int = Field(
        description="every entry of the sample, those outside the edges included: the "
        "densities' normalisation N"
    )
    counts: list[float] = Field(description="B entries per bin, inside the edges")
    density: list[float] = Field(
        description="counts / (N width), per unit of the observable (a discrete variable: the "
        "fraction counts / N, no unit)"
    )
    density_error: list[float] = Field(description="Poisson errors sqrt(counts) / (N width)")


class DisplayHistogram(BaseModel):
    """What the page and ``hepgan validate --plots`` draw, binned once by boost-histogram
    (:mod:`hepgan.validation.report.display_histograms`): not the bins of JS and S."""

    discrete: bool = Field(
        description="true: bars per distinct reference value (at most 12; a generated value "
        "counts for the nearest); false: bins between the pooled 0.5 % and 99.5 % quantiles"
    )
    x: list[float] = Field(
        description="B bin centres (geometric where log_x) or the discrete values, in the "
        "observable's unit"
    )
    edges: list[float] | None = Field(
        description="B + 1 edges in the observable's unit, uniform (log-spaced where log_x); "
        "null for a discrete variable"
    )
    log_x: bool = Field(description="the bins are log-spaced: draw x on a log axis")
    log_y: bool = Field(description="the densities span decades: draw y on a log axis first")
    reference: DisplaySample
    candidate: DisplaySample
    ratio: list[float | None] = Field(
        description="candidate density / reference density; null where either count is 0"
    )
    ratio_error: list[float | None] = Field(
        description="ratio sqrt(1/c + 1/r) of the counts c and r; null where the ratio is"
    )


class ObservableScore(BaseModel):
    """The comparison of one observable."""

    name: str
    unit: str = ""
    pooled: bool = Field(description="entries of a 2-D observable pooled over events")
    n_candidate: int
    n_reference: int
    ks: float = Field(description="Kolmogorov-Smirnov statistic sup|F1 - F2|")
    ks_pvalue: float
    ks_pvalue_method: Literal["exact", "asymp"] = Field(
        description="exact: lattice-path count; asymp: Kolmogorov distribution (scipy kstwo) "
        f"at n m / (n + m), used when that is >= {MIN_ASYMPTOTIC_EFFECTIVE_EVENTS}"
    )
    ks_adjusted_pvalue: float | None = Field(description="after the correction; None if pooled")
    failing: bool = Field(description="adjusted p-value <= significance")
    js_nats: float
    js_bits: float
    w1: float = Field(description="Wasserstein-1 distance, in the observable's unit")
    separation_power: float = Field(description="1/2 sum (h1 - h2)^2 / (h1 + h2), 0 to 1")
    candidate_mean: float
    reference_mean: float
    candidate_std: float
    reference_std: float
    histogram: ObservableHistogram | None = Field(
        default=None, description="the binned samples, when the report was asked for them"
    )
    display: DisplayHistogram | None = Field(
        default=None,
        description="the histograms to draw, when the report was asked for histograms",
    )


class ClassifierScore(BaseModel):
    """A classifier two-sample test: 0.5 AUC means the samples cannot be told apart."""

    auc: float = Field(description="ROC AUC on held-out events")
    js_estimate_nats: float = Field(
        description="ln 2 + 1/2 E_ref[ln D] + 1/2 E_cand[ln(1 - D)] on held-out events, >= 0"
    )
    n_train: int
    n_test: int
    n_features: int
    seed: int
    epochs: int | None = Field(default=None, description="epochs the judge trained")
    best_epoch: int | None = Field(default=None, description="the 1-based epoch kept")
    stopped_by: str | None = Field(
        default=None,
        description='why training stopped: "patience" (converged), "max_epochs" or '
        '"max_seconds" (a wall-clock cap, given in max_seconds)',
    )
    max_seconds: float | None = Field(default=None, description="the wall-clock cap, if any")


class ReportSummary(BaseModel):
    """The headline numbers of a report."""

    status: Status
    reasons: list[str] = Field(description="why the status is not pass (empty if it is)")
    n_candidate: int
    n_reference: int
    ks_critical_value: float = Field(
        description="c(a) sqrt((n+m)/(n m)) at the significance a, per-event sizes"
    )
    ks_pvalue_method: str = Field(
        description="how the per-event observables' p-values were computed, and why"
    )
    worst_ks: float
    worst_observable: str
    mean_js_nats: float
    mean_js_bits: float
    js_noise_floor_nats: float = Field(
        description="expected JS for samples of one distribution, (B - 1)/8 (1/n + 1/m)"
    )
    max_separation_power: float
    n_observables: int
    n_failing: int
    failing_observables: list[str]
    significance: float
    correction: Correction
    extrapolated: bool = Field(
        description="the candidate's conditions lie outside the range the model was trained on"
    )


class ResponseStatistics(BaseModel):
    """E_tot / E_inc of one sample in one incident-energy bin."""

    n_events: int
    response: float = Field(description="mean of E_tot / E_inc")
    response_error: float = Field(description="standard error of the mean, s / sqrt(n)")
    resolution: float = Field(description="sigma / mean of E_tot / E_inc")
    resolution_error: float = Field(
        description="large-sample standard error of sigma / mean, c sqrt((1 + 2 c^2) / (2 n))"
    )


class EnergyBin(BaseModel):
    """Response and resolution of both samples in one incident-energy bin."""

    energy_range_mev: tuple[float, float]
    candidate: ResponseStatistics
    reference: ResponseStatistics


class VoxelSpectrum(BaseModel):
    """Pooled voxel energies > 0 of both samples on shared log-spaced edges (MeV)."""

    edges: list[float]
    candidate_counts: list[float]
    reference_counts: list[float]
    display: DisplayHistogram | None = Field(
        default=None, description="these counts as drawn: densities per MeV and their ratio"
    )


class CalorimeterMetrics(BaseModel):
    """The calorimeter's own metrics (:mod:`hepgan.validation.report.calorimeter`)."""

    geometry_shape: tuple[int, int, int] = Field(description="(layers, angles, radii)")
    energy_bins: list[EnergyBin]
    candidate_layer_images: list[list[list[float]]] = Field(
        description="mean voxel energy (L, A, R), MeV"
    )
    reference_layer_images: list[list[list[float]]]
    candidate_layer_sparsity: list[float] = Field(
        description="mean fraction of each layer's voxels with energy > 0, (L,)"
    )
    reference_layer_sparsity: list[float]
    voxel_spectrum: VoxelSpectrum | None = Field(
        description="None where it was not asked for (a service's report without histograms)"
    )


class ValidationReport(BaseModel):
    """A candidate sample judged against a reference sample."""

    schema_version: str = SCHEMA_VERSION
    summary: ReportSummary
    thresholds: ReportThresholds
    binning: Binning
    conditions: ConditionSelection | None = Field(
        default=None, description="how the reference was matched to the candidate's conditions"
    )
    observables: list[ObservableScore]
    classifier: ClassifierScore | None = None
    calorimeter: CalorimeterMetrics | None = Field(
        default=None, description="showers only: response, resolution, layer images, sparsity"
    )
    labels: dict[str, str] | None = Field(
        default=None,
        description="observable -> axis title with its symbol and unit (HTML: <sub>, Greek "
        "letters), for plots",
    )

    def score(self, name: str) -> ObservableScore:
        """The score of observable ``name``."""
        for score in self.observables:
            if score.name == name:
                return score
        raise KeyError(f"no observable {name!r} in the report")
