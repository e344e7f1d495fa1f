"""The end of a run: the best generator, its report on the held-out reference, the artefact, plots.

The card's ``validation`` holds the selection metric of the chosen checkpoint
(on the validation split) and the summary of a full validation report of that
checkpoint against the reference sample, which neither training nor the
checkpoint choice has seen.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hepgan.models.artefact import save_artefact
from hepgan.models.card import ModelCard, ReferenceSample, TrainingProvenance
from hepgan.models.run_history import loss_records, validation_records
from hepgan.models.sampler import Sampler
from hepgan.training.config import TrainConfig
from hepgan.training.data import Split, TrainingData
from hepgan.validation.report.observables import ObservableDefinition

# How the checkpoint was chosen, by the setting selection_metric (card.training.selection_metric)
SELECTION_METRIC_LABELS = {
    "ks": "mean KS over observables (validation split)",
    "separation_power": "mean separation power over observables (validation split)",
}


@dataclass
class FinishedRun:
    """What the end of a run hands to the artefact: the chosen generator and its story."""

    config: TrainConfig
    data: TrainingData
    split: Split
    sampler: Sampler  # the chosen checkpoint's generator with the run's transforms
    architecture: dict[str, Any]  # GanConfig.to_dict() of the generator
    observables: ObservableDefinition
    steps: int
    best_step: int
    best_metric: float
    device: str  # e.g. "cpu x 1", "cuda x 4"
    wall_seconds: float


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries whose behaviour the weights depend on."""
    import safetensors
    import torch

    import hepgan

    return {
        "python": platform.python_version(),
        "hepgan": hepgan.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
    }


def reference_report(run: FinishedRun) -> tuple[Any, dict, dict]:
    """Report (a ValidationReport) of the run's chosen generator against the reference split,
    with the generated and reference observables it compared.

    The events are generated for the reference conditions as the artefact stores them
    (float32) with seed ``config.seed + 2``, through the artefact's own sampler: the report
    the service gives for those events (``/v2`` with their noise); a ``/v1`` request with that
    seed draws each chunk's noise from a seed of its own, so it scores other draws
    (:mod:`hepgan.models.sampler`).
    """
    from hepgan.validation.report.build import build_report

    rows = run.split.reference
    features = run.data.features[rows].astype(np.float32)  # (M, F), as stored
    conditions = run.data.conditions[rows].astype(np.float32).astype(np.float64)  # (M, C)
    generated = run.sampler.generate(conditions, seed=run.config.seed + 2)  # (M, F)
    generated_observables = run.observables.compute(generated, conditions)
    reference_observables = run.observables.compute(features, conditions)
    named_conditions = dict(zip(run.data.condition_names, conditions.T, strict=True))
    report = build_report(
        generated_observables,
        reference_observables,
        candidate_conditions=named_conditions or None,
        reference_conditions=named_conditions or None,
        units=run.observables.units(list(generated_observables)),
    )
    return report, generated_observables, reference_observables


def write_artefact(run: FinishedRun, history: list[dict[str, Any]]) -> Path:
    """Report on the chosen generator, write the artefact folder and the plots."""
    config, data, split = run.config, run.data, run.split
    report, generated, reference = reference_report(run)
    best_validation = next((r for r in reversed(validation_records(history)) if r.get("best")), {})
    reference_rows = split.reference
    card = ModelCard(
        kind=data.kind,
        description=config.description
        or f"{config.loss} GAN trained on "
        + ", ".join(Path(file.path).name for file in data.files),
        feature_names=data.feature_names,
        feature_units=data.feature_units,
        condition_names=data.condition_names,
        condition_units=data.condition_units,
        condition_ranges={
            name: (float(column.min()), float(column.max()))
            for name, column in zip(
                data.condition_names, data.conditions[split.train].T, strict=True
            )
        },
        geometry=data.geometry.to_dict() if data.geometry is not None else None,
        output=data.output,
        transforms={
            "features": run.sampler.feature_transform.to_dict(),
            "conditions": run.sampler.condition_transform.to_dict(),
        },
        architecture=run.architecture,
        reference=ReferenceSample(file="reference.safetensors", n_events=len(reference_rows)),
        training=TrainingProvenance(
            seed=config.seed,
            loss=config.loss,
            config=config.to_dict(),
            data_files=data.files,
            split=split.sizes(),
            steps=run.steps,
            best_step=run.best_step,
            selection_metric=SELECTION_METRIC_LABELS[config.selection_metric],
            wall_seconds=round(run.wall_seconds, 1),
            device=run.device,
        ),
        validation={
            "selection_metric": SELECTION_METRIC_LABELS[config.selection_metric],
            "best_step": run.best_step,
            "validation_mean_ks": best_validation.get("mean_ks", run.best_metric),
            "validation_ks": best_validation.get("ks", {}),
            "validation_separation_power": best_validation.get("separation_power", {}),
            "reference_report": report.summary.model_dump(mode="json"),
        },
        versions=library_versions(),
    )
    folder = save_artefact(
        config.out,
        card=card,
        generator_state=run.sampler.generator.state_dict(),
        reference_features=data.features[reference_rows],
        reference_conditions=data.conditions[reference_rows],
    )
    write_plots(
        config.run_folder / "plots",
        history,
        generated,
        reference,
        report=report,
        max_observables=config.plot_observables,
        selection_metric=SELECTION_METRIC_LABELS[config.selection_metric],
    )
    return folder


def write_plots(
    folder: Path,
    history: list[dict[str, Any]],
    generated: dict[str, np.ndarray],
    reference: dict[str, np.ndarray],
    *,
    report: Any,
    max_observables: int,
    selection_metric: str = SELECTION_METRIC_LABELS["ks"],
) -> None:
    """``history.png`` (losses and the selection metric by step) and real vs generated
    histograms of the ``max_observables`` observables with the largest KS, in HEP style."""
    from hepgan.validation.report.plots import hep_style, plot_overlays

    folder.mkdir(parents=True, exist_ok=True)
    logged, validations = loss_records(history), validation_records(history)
    best = [r["step"] for r in validations if r.get("best")]
    with hep_style() as (plt, _):
        figure, (loss_axes, metric_axes) = plt.subplots(
            1, 2, figsize=(13, 5.5), layout="constrained"
        )
        for name in logged[0]["losses"] if logged else []:
            loss_axes.plot(
                [r["step"] for r in logged],
                [r["losses"][name] for r in logged],
                label=f"{name} ({len(logged)} points)",
            )
        loss_axes.set(xlabel="generator step", ylabel="loss")
        if logged:
            loss_axes.legend(fontsize="small")
        metric_axes.plot(
            [r["step"] for r in validations],
            [r["metric"] for r in validations],
            "o-",
            color="black",
            label=f"validation ({len(validations)} points)",
        )
        if best:
            metric_axes.axvline(
                best[-1], color="tab:red", linestyle="--", label="chosen checkpoint"
            )
        metric_axes.set(xlabel="generator step", ylabel=f"selection metric: {selection_metric}")
        metric_axes.legend(fontsize="small")
        figure.savefig(folder / "history.png", dpi=100)
        plt.close(figure)
    worst_first = sorted(report.observables, key=lambda score: -score.ks)[:max_observables]
    shown = [score.name for score in worst_first if score.name in generated]
    plot_overlays(
        {name: generated[name] for name in shown},
        {name: reference[name] for name in shown},
        folder / "observables",
        report=report,
    )
