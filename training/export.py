"""The end of a run: the best generator, its report on the held-out reference, the artefact, plots.

The card's ``validation`` holds the selection metric of the chosen checkpoint
(on the validation split) and the summary of a full validation report of that
checkpoint against the reference sample, which neither training nor the
checkpoint choice has seen.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hepgan.models.artefact import save_artefact
from hepgan.models.card import ModelCard, ReferenceSample, TrainingProvenance
from hepgan.training.checkpoint import load_checkpoint

SELECTION_METRIC = "mean KS over observables (validation split)"

if TYPE_CHECKING:
    from hepgan.training.loop import Trainer


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


def reference_report(trainer: Trainer) -> tuple[Any, dict, dict]:
    """Report (a ValidationReport) of the trainer's current generator against the reference split,
    with the generated and reference observables it compared."""
    from hepgan.validation.report import build_report

    data, rows = trainer.data, trainer.split.reference
    conditions = data.conditions[rows]  # (M, C)
    generated = trainer.generate(conditions, seed=trainer.config.seed + 2)  # (M, F)
    generated_observables = trainer.observables(generated, conditions)
    reference_observables = trainer.observables(data.features[rows], conditions)
    named_conditions = dict(zip(data.condition_names, conditions.T, strict=True))
    report = build_report(
        generated_observables,
        reference_observables,
        candidate_conditions=named_conditions or None,
        reference_conditions=named_conditions or None,
    )
    return report, generated_observables, reference_observables


def write_artefact(trainer: Trainer, history: list[dict[str, Any]], *, wall_seconds: float) -> Path:
    """Load the best generator, report on it, write the artefact folder and the plots."""
    config, data, split = trainer.config, trainer.data, trainer.split
    best_path = trainer.run_folder / "best.safetensors"
    if best_path.exists():
        trainer.generator.load_state_dict(load_checkpoint(best_path)["generator"])
    report, generated, reference = reference_report(trainer)
    best_validation = next(
        (r for r in reversed(history) if r.get("event") == "validation" and r.get("best")), {}
    )
    reference_rows = split.reference
    card = ModelCard(
        kind=data.kind,
        description=f"{config.loss} GAN trained on "
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
            "features": trainer.feature_transform.to_dict(),
            "conditions": trainer.condition_transform.to_dict(),
        },
        architecture=trainer.gan_config.to_dict(),
        reference=ReferenceSample(file="reference.safetensors", n_events=len(reference_rows)),
        training=TrainingProvenance(
            seed=config.seed,
            loss=config.loss,
            config=config.to_dict(),
            data_files=data.files,
            split=split.sizes(),
            steps=trainer.step,
            best_step=trainer.best_step,
            selection_metric=SELECTION_METRIC,
            wall_seconds=round(wall_seconds, 1),
            device=f"{trainer.device.type} x {trainer.world.world_size}",
        ),
        validation={
            "selection_metric": SELECTION_METRIC,
            "best_step": trainer.best_step,
            "validation_mean_ks": trainer.best_metric,
            "validation_ks": best_validation.get("ks", {}),
            "reference_report": report.summary.model_dump(mode="json"),
        },
        versions=library_versions(),
    )
    folder = save_artefact(
        config.out,
        card=card,
        generator_state=trainer.generator.state_dict(),
        reference_features=data.features[reference_rows],
        reference_conditions=data.conditions[reference_rows],
    )
    write_plots(
        trainer.run_folder / "plots",
        history,
        generated,
        reference,
        report=report,
        max_observables=config.plot_observables,
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
) -> None:
    """``history.png`` (losses and the selection metric by step) and real vs generated
    histograms of the ``max_observables`` observables with the largest KS."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hepgan.validation.plots import plot_overlays

    folder.mkdir(parents=True, exist_ok=True)
    loss_records = [r for r in history if "losses" in r and r.get("event") is None]
    validations = [r for r in history if r.get("event") == "validation"]
    figure, (loss_axes, metric_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for name in loss_records[0]["losses"] if loss_records else []:
        loss_axes.plot(
            [r["step"] for r in loss_records], [r["losses"][name] for r in loss_records], label=name
        )
    loss_axes.set(xlabel="generator step", ylabel="loss", title="losses")
    if loss_records:
        loss_axes.legend()
    metric_axes.plot([r["step"] for r in validations], [r["metric"] for r in validations], "o-")
    metric_axes.set(xlabel="generator step", ylabel="mean KS", title="selection metric")
    figure.tight_layout()
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
