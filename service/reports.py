"""The validation report of a generated batch, and its short summary for response headers.

The report is :func:`hepgan.validation.report.build.build_report_dict` of the batch's
observables against the artefact's reference sample, the reference matched to
the batch's conditions. A large batch is validated on its first
``report_max_events`` events (independent draws, so a random subsample); the
report's ``scope`` says how many events it covers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hepgan.service.errors import RequestInputError
from hepgan.service.model import LoadedModel

if TYPE_CHECKING:
    from hepgan.validation.report.calorimeter import CalorimeterInputs


def batch_report(
    model: LoadedModel,
    features: np.ndarray,  # (n, F)
    conditions: np.ndarray,  # (n, C)
    *,
    n_events_in_batch: int,
    extrapolated: bool,
    histograms: bool = False,
) -> dict[str, Any]:
    """The report of ``features`` (the first n events of a batch) as a JSON-able dict;
    ``histograms``: with each observable's binned samples."""
    from hepgan.validation.report.build import build_report_dict

    names = model.condition_names
    candidate = model.observables.compute(features, conditions)
    if extrapolated:  # inside the training range non-finite values are the report's to score
        _refuse_non_finite(candidate)
    report = build_report_dict(
        candidate,
        model.reference,
        candidate_conditions={name: conditions[:, j] for j, name in enumerate(names)} or None,
        reference_conditions=model.prepared_conditions if names else None,
        units=model.observable_units,
        extrapolated=extrapolated,
        histograms=histograms,
        calorimeter=_calorimeter_inputs(model, features, conditions, histograms),
    )
    return {
        **report,
        "scope": {
            "events_in_batch": n_events_in_batch,
            "events_validated": len(features),
            "subsample": (
                "all events"
                if len(features) == n_events_in_batch
                else f"the first {len(features)} events (independent draws: a random subsample)"
            ),
        },
    }


def _calorimeter_inputs(
    model: LoadedModel, features: np.ndarray, conditions: np.ndarray, histograms: bool
) -> CalorimeterInputs | None:
    """The batch's and the reference's showers (incident energy: the first condition) and the
    geometry, for the report's calorimeter section, its voxel spectrum only with the
    ``histograms`` (for plots); None for event models."""
    from hepgan.validation.report.calorimeter import CalorimeterInputs, ShowerSample

    geometry = model.observables.geometry
    if model.observables.kind != "showers" or geometry is None:
        return None
    reference_voxels, reference_conditions = model.artefact.reference()  # (M, V), (M, C)
    return CalorimeterInputs(
        ShowerSample(features, np.asarray(conditions, dtype=np.float64)[:, 0]),
        ShowerSample(reference_voxels, np.asarray(reference_conditions, dtype=np.float64)[:, 0]),
        geometry,
        voxel_spectrum=histograms,
    )


def _refuse_non_finite(candidate: dict[str, np.ndarray]) -> None:
    """422 when a per-event observable of an extrapolating batch is not finite."""
    not_finite = [
        name
        for name, values in candidate.items()
        if values.ndim == 1 and not np.isfinite(values).all()
    ]
    if not_finite:
        raise RequestInputError(
            ("conditions",),
            f"this far outside the training range the model gives non-finite {not_finite[0]}, "
            'so no report can be built; ask nearer the range or send "validate": false',
        )


def summary_headers(report: dict[str, Any] | None) -> dict[str, str]:
    """``X-HEPGAN-*`` headers: status, worst KS and where, failing count, events validated."""
    if report is None:
        return {"X-HEPGAN-Validation-Status": "skipped"}
    summary = report["summary"]
    return {
        "X-HEPGAN-Validation-Status": str(summary["status"]),
        "X-HEPGAN-Worst-KS": f"{summary['worst_ks']:.4g}",
        "X-HEPGAN-KS-Critical-Value": f"{summary['ks_critical_value']:.4g}",
        "X-HEPGAN-Mean-JS-Nats": f"{summary['mean_js_nats']:.4g}",
        "X-HEPGAN-Worst-Observable": str(summary["worst_observable"]),
        "X-HEPGAN-Failing-Observables": str(summary["n_failing"]),
        "X-HEPGAN-Events-Validated": str(report["scope"]["events_validated"]),
        "X-HEPGAN-Extrapolated": str(summary["extrapolated"]).lower(),
    }
