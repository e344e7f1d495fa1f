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

from collections.abc import Mapping

import numpy as np

from hepgan.validation.compare import compare_features, default_threads
from hepgan.validation.conditions import match_reference
from hepgan.validation.reference import PreparedReference
from hepgan.validation.report_schema import (
    Binning,
    ObservableHistogram,
    ObservableScore,
    ReportThresholds,
    ValidationReport,
)
from hepgan.validation.sorting import sort_columns
from hepgan.validation.verdict import apply_correction, summarise


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
    histograms: bool = False,
) -> ValidationReport:
    """Judge ``candidate`` observables against ``reference`` (same names; (N,) or (N, K) each).

    With conditions given for both, the reference is first restricted to the
    candidate's condition bins (:func:`hepgan.validation.conditions.match_reference`).
    ``threads``: how many blocks of features are compared at once (numpy's sort and
    the compiled sweep release the GIL); None: :func:`default_threads`. ``histograms``:
    attach each observable's binned samples (the bins of its JS and separation power).
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
    statistics = compare_features(
        {name: candidate[name] for name in per_event},
        reference_sorted,
        n_bins=thresholds.n_bins,
        threads=threads,
        histograms=histograms,
    )
    scores.extend(_scores(per_event, units, statistics, pooled=False))
    rng = np.random.default_rng(0)
    for name in pooled:
        reference_rows = prepared.observables[name]
        if selection is not None:
            reference_rows = reference_rows[selection]
        candidate_values = _pool(candidate[name], thresholds.max_pooled_values, rng)
        reference_values = _pool(reference_rows, thresholds.max_pooled_values, rng)
        pooled_statistics = compare_features(
            {name: candidate_values},
            sort_columns(reference_values),
            n_bins=thresholds.n_bins,
            threads=1,
            histograms=histograms,
        )
        scores.extend(_scores((name,), units, pooled_statistics, pooled=True))
    apply_correction(scores, thresholds)
    summary = summarise(scores, n_candidate, n_reference, thresholds, extrapolated=extrapolated)
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


def _scores(
    names: tuple[str, ...],
    units: Mapping[str, str],
    statistics: dict[str, np.ndarray],
    *,
    pooled: bool,
) -> list[ObservableScore]:
    """The scores of the features ``names`` of a ``compare_features`` result, in order.

    Built by pydantic-core's validation (about 4 us a score), which is faster than the
    Python loop of ``model_construct`` (about 9 us): a one-event report has 53 of them."""
    keys = [key for key in statistics if key not in _HISTOGRAM_KEYS]
    rows = zip(*(statistics[key].tolist() for key in keys), strict=True)  # one per feature
    return [
        ObservableScore(
            name=name,
            unit=units.get(name, ""),
            pooled=pooled,
            ks_adjusted_pvalue=None,
            failing=False,
            histogram=_histogram(statistics, index),
            **dict(zip(keys, row, strict=True)),
        )
        for index, (name, row) in enumerate(zip(names, rows, strict=True))
    ]


_HISTOGRAM_KEYS = ("histogram_edges", "histogram_reference", "histogram_candidate")


def _histogram(statistics: dict[str, np.ndarray], index: int) -> ObservableHistogram | None:
    """Feature ``index``'s binned samples from a ``compare_features`` result, if it has them."""
    if "histogram_edges" not in statistics:
        return None
    return ObservableHistogram.model_construct(
        edges=statistics["histogram_edges"][index].tolist(),
        reference_counts=statistics["histogram_reference"][index].tolist(),
        candidate_counts=statistics["histogram_candidate"][index].tolist(),
    )


def _pool(rows: np.ndarray, max_values: int, rng: np.random.Generator) -> np.ndarray:
    """Entries of (N, K) flattened, NaN dropped, at most ``max_values`` kept; (P,)."""
    values = np.asarray(rows, dtype=np.float64).reshape(-1)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        raise ValueError("a pooled observable has no finite entries")
    if len(values) > max_values:
        values = rng.choice(values, size=max_values, replace=False)
    return values
