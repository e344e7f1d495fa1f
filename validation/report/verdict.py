"""The verdict of a report: the multiple-testing correction, the noise floors and the
pass/warn/fail status with its reasons."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hepgan.validation.report.schema import ReportThresholds, Status
from hepgan.validation.stats.ks import (
    MIN_ASYMPTOTIC_EFFECTIVE_EVENTS,
    ks_critical_value,
    report_pvalue_method,
)
from hepgan.validation.stats.multiple_testing import adjusted_pvalues


def corrected_pvalues(
    pvalues: list[float], thresholds: ReportThresholds
) -> tuple[list[float], list[bool]]:
    """The per-event observables' KS p-values (F,) adjusted by ``thresholds.correction``, and
    whether each fails: adjusted p-value <= ``thresholds.significance``."""
    adjusted = adjusted_pvalues(np.array(pvalues), correction=thresholds.correction)
    return adjusted.tolist(), (adjusted <= thresholds.significance).tolist()


def js_noise_floor(n: int, m: int, *, n_bins: int) -> float:
    """Expected binned JS of two samples (n, m events) of one distribution on B bins, nats:
    E[JS] ~ (B - 1) / 8 (1/n + 1/m), from JS ~ 1/4 sum (p - q)^2 / (p + q) for small p - q."""
    return (n_bins - 1) / 8.0 * (1.0 / n + 1.0 / m)


def summarise(
    scores: Mapping[str, list[Any]],
    n_candidate: int,
    n_reference: int,
    thresholds: ReportThresholds,
    *,
    extrapolated: bool,
    calorimeter_reasons: Sequence[str] = (),
) -> dict[str, Any]:
    """The summary and its pass/warn/fail status (rules in :mod:`hepgan.validation.report.build`),
    as the JSON of a :class:`~hepgan.validation.report.schema.ReportSummary` (its fields
    in order).

    ``scores``: the observables' score columns by field name, one entry per observable
    (``name``, ``ks``, ``js_nats``, ``separation_power`` and ``failing`` are read).
    ``calorimeter_reasons``: failures of the calorimeter section (a resolution outside its
    uncertainty, :func:`hepgan.validation.report.calorimeter.resolution_mismatches`), listed
    first among the fail reasons.
    """
    ks, names = scores["ks"], scores["name"]
    worst = max(range(len(ks)), key=ks.__getitem__)  # the first of equal largest, as max()
    worst_ks, worst_name = ks[worst], names[worst]
    mean_js = float(np.mean(scores["js_nats"]))
    failing = [name for name, fails in zip(names, scores["failing"], strict=True) if fails]
    critical = ks_critical_value(n_candidate, n_reference, alpha=thresholds.significance)
    fail_reasons, warn_reasons = list(calorimeter_reasons), []
    # Each criterion gives one reason: the fail threshold's, else the warn threshold's.
    for excess, reasons, word in (
        (thresholds.ks_fail_excess, fail_reasons, "fail"),
        (thresholds.ks_warn_excess, warn_reasons, "warn"),
    ):
        if worst_ks > critical + excess:
            reasons.append(
                f"worst KS {worst_ks:.4f} ({worst_name}) exceeds the critical value "
                f"{critical:.4f} + {excess} ({word} threshold)"
            )
            break
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
            break
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
    return {
        "status": status,
        "reasons": fail_reasons + warn_reasons,
        "n_candidate": n_candidate,
        "n_reference": n_reference,
        "ks_critical_value": critical,
        "ks_pvalue_method": method,
        "worst_ks": worst_ks,
        "worst_observable": worst_name,
        "mean_js_nats": mean_js,
        "mean_js_bits": mean_js / math.log(2.0),
        "js_noise_floor_nats": js_floor,
        "max_separation_power": max(scores["separation_power"]),
        "n_observables": len(names),
        "n_failing": len(failing),
        "failing_observables": failing,
        "significance": thresholds.significance,
        "correction": thresholds.correction,
        "extrapolated": extrapolated,
    }
