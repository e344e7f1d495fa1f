"""The validation report of a candidate sample against a reference sample.

Per observable: KS statistic and p-value, JS divergence (nats and bits) and
separation power on shared reference-quantile bins, W1, means and widths. The
summary gives the worst KS beside the KS critical value for the two sample
sizes (the noise floor), the mean JS, how many observables fail the KS test at
the stated significance after a multiple-testing correction, and a status.
KS p-values are exact (lattice-path counts) for small samples and asymptotic
(Kolmogorov distribution) from an effective size n m / (n + m) of 200 on
(:func:`hepgan.validation.ks.report_pvalue_method`); each score and the summary
say which.

Status:

- ``fail``: worst KS > critical value + ``ks_fail_excess``, or mean JS > its noise floor +
  ``js_fail_nats``;
- ``warn``: worst KS > critical value + ``ks_warn_excess``, mean JS > noise floor +
  ``js_warn_nats``, or more than ``max_failing_for_pass`` observables failing the
  corrected KS test;
- ``pass`` otherwise;
- ``insufficient`` instead of any of these when the candidate has fewer than
  ``min_events_for_verdict`` events: the scores are still given, but too noisy to judge.

The JS noise floor is the expected binned JS of two samples of one distribution,
E[JS] ~ (B - 1) / 8 (1/n + 1/m) nats for B bins (the chi-square limit), so small
samples are not failed for their statistical noise alone.

1-D observables are per event, (N,). A 2-D observable (N, K), e.g. the voxel
energies, is pooled: after condition matching its entries are flattened, NaN
entries dropped (the marker for "not part of the spectrum"), and at most
``max_pooled_values`` entries kept (seeded choice). Its KS p-value treats the
pooled entries as independent, which they are not; it is reported but a pooled
observable never counts towards ``n_failing``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from hepgan.validation.binning import shared_histograms
from hepgan.validation.conditions import ConditionSelection, match_reference
from hepgan.validation.divergences import js_divergence, nats_to_bits, separation_power
from hepgan.validation.ks import (
    MIN_ASYMPTOTIC_EFFECTIVE_EVENTS,
    ks_critical_value,
    ks_pvalue,
    report_pvalue_method,
)
from hepgan.validation.multiple_testing import Correction, adjusted_pvalues
from hepgan.validation.sorting import SortedColumns, from_sorted_rows, sort_columns
from hepgan.validation.sweep import ks_and_wasserstein

SCHEMA_VERSION = "1"
# Elements (events x features) of one block of working arrays: 2 MB of float64.
BLOCK_ELEMENTS = 1 << 18
# Most threads a report uses by default (blocks of features run in parallel).
MAX_DEFAULT_THREADS = 8
# Candidate values (events x features) per thread below which more threads cost more than
# they save: 53 x 10,000 (a service batch) takes 7.7 ms on one thread and 10.4 ms on two.
MIN_THREAD_ELEMENTS = 1 << 20
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


class Binning(BaseModel):
    """The histogram binning behind JS and the separation power."""

    kind: Literal["reference-quantile"] = "reference-quantile"
    n_bins: int
    description: str = (
        "interior edges at the reference's b/B quantiles; outer bins open to -inf and +inf; "
        "bins between tied edges are empty in both samples"
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

    def score(self, name: str) -> ObservableScore:
        """The score of observable ``name``."""
        for score in self.observables:
            if score.name == name:
                return score
        raise KeyError(f"no observable {name!r} in the report")


class PreparedReference:
    """A reference sample whose per-event observables are sorted once, for many reports.

    ``observables``: name -> (M,) per event, or (M, K) to be pooled. Besides the sorted
    columns (with their quantile integral unless ``keep_integral`` is false: a reference
    used once lets the sweep sum it feature by feature, without an (F, M + 1) array) it
    keeps each observable's sorting order, so the reference matched to a batch's
    conditions (a subset of events) comes out sorted by one masked copy instead of a
    sort per request.
    """

    def __init__(
        self, observables: Mapping[str, np.ndarray], *, keep_integral: bool = True
    ) -> None:
        self.keep_integral = keep_integral
        self.observables = {name: np.asarray(values) for name, values in observables.items()}
        lengths = {len(values) for values in self.observables.values()}
        if len(lengths) != 1:
            raise ValueError(f"reference observables differ in length: {sorted(lengths)}")
        self.n_events = lengths.pop()
        self._sorted: dict[tuple[str, ...], SortedColumns] = {}
        self._order: dict[tuple[str, ...], np.ndarray] = {}

    def sorted_events(self, names: tuple[str, ...], selection: np.ndarray | None) -> SortedColumns:
        """The per-event observables ``names`` of the selected events (distinct indices, or
        None for all), sorted per observable."""
        if names not in self._sorted:
            rows = self._rows(names)
            self._sorted[names] = sort_columns(rows.T, with_integral=self.keep_integral)
        full = self._sorted[names]
        if selection is None:
            return full
        if names not in self._order:  # (F, M): event index at each sorted position
            self._order[names] = np.argsort(self._rows(names), axis=1, kind="stable")
        order = self._order[names]
        selected = np.zeros(self.n_events, dtype=bool)
        selected[selection] = True
        kept = selected[order]  # (F, M): the event at each sorted position is selected
        n_kept = int(selected.sum())
        return from_sorted_rows(full.values[kept].reshape(len(names), n_kept))

    def _rows(self, names: tuple[str, ...]) -> np.ndarray:
        """The per-event observables ``names``, one row each, (F, M)."""
        return np.stack([self.observables[name] for name in names])


def build_report(
    candidate: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray] | PreparedReference,
    *,
    candidate_conditions: Mapping[str, np.ndarray] | None = None,
    reference_conditions: Mapping[str, np.ndarray] | None = None,
    units: Mapping[str, str] | None = None,
    thresholds: ReportThresholds | None = None,
    extrapolated: bool = False,
    threads: int | None = None,
) -> ValidationReport:
    """Judge ``candidate`` observables against ``reference`` (same names; (N,) or (N, K) each).

    With conditions given for both, the reference is first restricted to the
    candidate's condition bins (:func:`hepgan.validation.conditions.match_reference`).
    ``threads``: how many blocks of features are compared at once (numpy's sort and
    the compiled sweep release the GIL); None: :func:`default_threads`.
    """
    threads = default_threads() if threads is None else threads
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    thresholds = thresholds or ReportThresholds()
    units = units or {}
    if isinstance(reference, PreparedReference):
        prepared = reference
    else:
        prepared = PreparedReference(reference, keep_integral=False)
    per_event, pooled = _split_observables(candidate, prepared)
    selection, condition_match = None, None
    if candidate_conditions is not None or reference_conditions is not None:
        if candidate_conditions is None or reference_conditions is None:
            raise ValueError("give conditions for both the candidate and the reference, or neither")
        selection, condition_match = match_reference(candidate_conditions, reference_conditions)

    scores: list[ObservableScore] = []
    n_candidate = len(candidate[per_event[0]])
    reference_sorted = prepared.sorted_events(per_event, selection)
    n_reference = reference_sorted.n_events
    statistics = _compare(
        {name: candidate[name] for name in per_event},
        reference_sorted,
        n_bins=thresholds.n_bins,
        threads=threads,
    )
    scores.extend(_scores(per_event, units, statistics, pooled=False))
    rng = np.random.default_rng(0)
    for name in pooled:
        reference_rows = prepared.observables[name]
        if selection is not None:
            reference_rows = reference_rows[selection]
        candidate_values = _pool(candidate[name], thresholds.max_pooled_values, rng)
        reference_values = _pool(reference_rows, thresholds.max_pooled_values, rng)
        pooled_statistics = _compare(
            {name: candidate_values},
            sort_columns(reference_values),
            n_bins=thresholds.n_bins,
            threads=1,
        )
        scores.extend(_scores((name,), units, pooled_statistics, pooled=True))
    _apply_correction(scores, thresholds)
    summary = _summarise(scores, n_candidate, n_reference, thresholds, extrapolated=extrapolated)
    return ValidationReport(
        summary=summary,
        thresholds=thresholds,
        binning=Binning(n_bins=thresholds.n_bins),
        conditions=condition_match,
        observables=scores,
    )


def _split_observables(
    candidate: Mapping[str, np.ndarray], reference: PreparedReference
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names of the per-event (1-D) and pooled (2-D) observables, after checking shapes."""
    if not candidate:
        raise ValueError("the candidate has no observables")
    missing = [name for name in candidate if name not in reference.observables]
    if missing:
        raise ValueError(
            f"reference lacks observables {missing}; it has {sorted(reference.observables)}"
        )
    per_event, pooled, lengths = [], [], set()
    for name, values in candidate.items():
        values = np.asarray(values)
        if values.ndim not in (1, 2) or values.ndim != reference.observables[name].ndim:
            raise ValueError(
                f"observable {name!r}: candidate shape {values.shape} and reference shape "
                f"{reference.observables[name].shape} must both be (N,) or both (N, K)"
            )
        lengths.add(len(values))
        if values.ndim == 1:
            per_event.append(name)
        else:
            pooled.append(name)
    if len(lengths) != 1:
        raise ValueError(f"candidate observables differ in length: {sorted(lengths)}")
    if not per_event:
        raise ValueError("the candidate needs at least one per-event (1-D) observable")
    return tuple(per_event), tuple(pooled)


def _float_array(values: np.ndarray) -> np.ndarray:
    """``values`` as float32 if they are, else as float64."""
    values = np.asarray(values)
    return values if values.dtype == np.float32 else values.astype(np.float64, copy=False)


def _check_finite(rows: np.ndarray, names: tuple[str, ...]) -> None:
    """Reject NaN and infinities in (F, N) observable rows, naming the first bad observable."""
    finite = np.isfinite(rows).all(axis=1)  # (F,)
    if not finite.all():
        name = names[int(np.argmin(finite))]
        raise ValueError(f"observable {name!r} of the candidate has NaN or infinite values")


def default_threads() -> int:
    """Threads a report uses unless told: the machine's cores, at most 8."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_THREADS))


def _compare(
    candidate: Mapping[str, np.ndarray],
    reference: SortedColumns,
    *,
    n_bins: int,
    threads: int,
) -> dict[str, np.ndarray]:
    """KS, p-value, W1, JS, separation power, sizes and moments per feature, each (F,).

    Candidate: name -> (n,) values, checked finite here, against the sorted reference
    (the same features in order), in blocks of features whose working arrays stay small
    (about 2 MB): fresh large arrays cost a page fault per 4 kB on first touch, small
    ones are recycled by the allocator. Up to ``threads`` blocks are stacked, checked,
    sorted and compared at once (numpy's sort and the compiled sweep release the GIL),
    one thread per MIN_THREAD_ELEMENTS candidate values at most.
    """
    names = tuple(candidate)
    n_events, n_features = len(candidate[names[0]]), len(names)
    threads = max(1, min(threads, n_events * n_features // MIN_THREAD_ELEMENTS))
    # Equal blocks, as many as a multiple of the threads, so none waits on a last short one.
    n_blocks = -(-n_features // max(1, BLOCK_ELEMENTS // n_events))
    n_blocks = min(n_features, -(-n_blocks // threads) * threads)
    block = -(-n_features // n_blocks)

    def compare(start: int) -> dict[str, np.ndarray]:
        block_names = names[start : start + block]
        rows = np.stack([_float_array(candidate[name]) for name in block_names])  # (F_block, n)
        _check_finite(rows, block_names)
        sorted_block = sort_columns(rows.T, checked=True)
        return _compare_block(sorted_block, reference.rows(start, start + block), n_bins)

    starts = range(0, n_features, block)
    workers = min(threads, len(starts))
    if workers == 1:  # no pool to start and wait on
        parts = [compare(start) for start in starts]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(compare, starts))
    statistics = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    method = report_pvalue_method(n_events, reference.n_events)
    statistics["ks_pvalue"] = ks_pvalue(
        statistics["ks"], n_events, reference.n_events, method=method
    )
    statistics["ks_pvalue_method"] = np.full(n_features, method)
    statistics["js_bits"] = nats_to_bits(statistics["js_nats"])
    statistics["n_candidate"] = np.full(n_features, n_events)
    statistics["n_reference"] = np.full(n_features, reference.n_events)
    return statistics


def _compare_block(
    candidate: SortedColumns, reference: SortedColumns, n_bins: int
) -> dict[str, np.ndarray]:
    """The statistics of one block of features that need the samples, each (F_block,)."""
    swept = ks_and_wasserstein(candidate, reference)
    histograms = shared_histograms(candidate, reference, n_bins=n_bins)
    return {
        "ks": swept.ks,
        "w1": swept.w1,
        "js_nats": js_divergence(histograms.candidate, histograms.reference),
        "separation_power": separation_power(histograms.candidate, histograms.reference),
        "candidate_mean": candidate.mean,
        "reference_mean": reference.mean,
        "candidate_std": candidate.std,
        "reference_std": reference.std,
    }


def _scores(
    names: tuple[str, ...],
    units: Mapping[str, str],
    statistics: dict[str, np.ndarray],
    *,
    pooled: bool,
) -> list[ObservableScore]:
    """The scores of the features ``names`` of a :func:`_compare` result, in order (built
    without re-validating: the values are Python numbers of the declared types, from
    :func:`_compare`, and validation would cost 20 us per score)."""
    columns = {key: column.tolist() for key, column in statistics.items()}
    return [
        ObservableScore.model_construct(
            name=name,
            unit=units.get(name, ""),
            pooled=pooled,
            ks_adjusted_pvalue=None,
            failing=False,
            **{key: values[index] for key, values in columns.items()},
        )
        for index, name in enumerate(names)
    ]


def _pool(rows: np.ndarray, max_values: int, rng: np.random.Generator) -> np.ndarray:
    """Entries of (N, K) flattened, NaN dropped, at most ``max_values`` kept; (P,)."""
    values = np.asarray(rows, dtype=np.float64).reshape(-1)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        raise ValueError("a pooled observable has no finite entries")
    if len(values) > max_values:
        values = rng.choice(values, size=max_values, replace=False)
    return values


def _apply_correction(scores: list[ObservableScore], thresholds: ReportThresholds) -> None:
    """Set the adjusted p-values and ``failing`` of the per-event observables."""
    tested = [score for score in scores if not score.pooled]
    adjusted = adjusted_pvalues(
        np.array([score.ks_pvalue for score in tested]), correction=thresholds.correction
    )
    for score, value in zip(tested, adjusted, strict=True):
        score.ks_adjusted_pvalue = float(value)
        score.failing = bool(value <= thresholds.significance)


def js_noise_floor(n: int, m: int, *, n_bins: int) -> float:
    """Expected binned JS of two samples (n, m events) of one distribution on B bins, nats:
    E[JS] ~ (B - 1) / 8 (1/n + 1/m), from JS ~ 1/4 sum (p - q)^2 / (p + q) for small p - q."""
    return (n_bins - 1) / 8.0 * (1.0 / n + 1.0 / m)


def _summarise(
    scores: list[ObservableScore],
    n_candidate: int,
    n_reference: int,
    thresholds: ReportThresholds,
    *,
    extrapolated: bool,
) -> ReportSummary:
    worst = max(scores, key=lambda score: score.ks)
    mean_js = float(np.mean([score.js_nats for score in scores]))
    failing = [score.name for score in scores if score.failing]
    critical = ks_critical_value(n_candidate, n_reference, alpha=thresholds.significance)
    fail_reasons, warn_reasons = [], []
    for excess, reasons, word in (
        (thresholds.ks_fail_excess, fail_reasons, "fail"),
        (thresholds.ks_warn_excess, warn_reasons, "warn"),
    ):
        if worst.ks > critical + excess:
            reasons.append(
                f"worst KS {worst.ks:.4f} ({worst.name}) exceeds the critical value "
                f"{critical:.4f} + {excess} ({word} threshold)"
            )
    js_floor = js_noise_floor(n_candidate, n_reference, n_bins=thresholds.n_bins)
    for limit, reasons, word in (
        (thresholds.js_fail_nats, fail_reasons, "fail"),
        (thresholds.js_warn_nats, warn_reasons, "warn"),
    ):
        if mean_js > js_floor + limit:
            reasons.append(
                f"mean JS {mean_js:.4g} nats exceeds the noise floor {js_floor:.3g} + {limit} "
                f"({word} threshold)"
            )
    if len(failing) > thresholds.max_failing_for_pass:
        warn_reasons.append(
            f"{len(failing)} observables fail the KS test at {thresholds.significance} after "
            f"the {thresholds.correction} correction"
        )
    status: Status = "fail" if fail_reasons else "warn" if warn_reasons else "pass"
    if n_candidate < thresholds.min_events_for_verdict:
        status = "insufficient"
        fail_reasons.insert(
            0,
            f"{n_candidate} events are fewer than the {thresholds.min_events_for_verdict} "
            "a verdict needs (min_events_for_verdict): the scores are too noisy to judge",
        )
    effective = n_candidate * n_reference / (n_candidate + n_reference)
    kind = (
        "exact (lattice-path count"
        if report_pvalue_method(n_candidate, n_reference) == "exact"
        else "asymptotic (Kolmogorov distribution, scipy kstwo"
    )
    method = (
        f"{kind}, n m / (n + m) = {effective:.0f}; exact below {MIN_ASYMPTOTIC_EFFECTIVE_EVENTS})"
    )
    return ReportSummary(
        status=status,
        reasons=fail_reasons + warn_reasons,
        n_candidate=n_candidate,
        n_reference=n_reference,
        ks_critical_value=critical,
        ks_pvalue_method=method,
        worst_ks=worst.ks,
        worst_observable=worst.name,
        mean_js_nats=mean_js,
        mean_js_bits=mean_js / math.log(2.0),
        js_noise_floor_nats=js_floor,
        max_separation_power=max(score.separation_power for score in scores),
        n_observables=len(scores),
        n_failing=len(failing),
        failing_observables=failing,
        significance=thresholds.significance,
        correction=thresholds.correction,
        extrapolated=extrapolated,
    )
