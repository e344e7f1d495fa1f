"""A model's training history for the web page: losses and the selection metric by step.

Read from ``run/metrics.jsonl`` in the artefact folder, where ``hepgan train`` writes it
(the format and its reader: :mod:`hepgan.models.run_history`). An artefact copied without
its run folder has no history; the answer then says so.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hepgan.models.run_history import METRICS_FILE as RUN_METRICS_FILE
from hepgan.models.run_history import loss_records, read_records, validation_records
from hepgan.service.schemas import TrainingHistory

# In the artefact's run folder (models.artefact.RUN_FOLDER, not imported here: it loads torch).
METRICS_FILE = Path("run") / RUN_METRICS_FILE
# Most loss points sent: a long run is thinned to every k-th record (validations all kept).
MAX_LOSS_POINTS = 2000


def read_history(folder: Path, card_training: dict[str, Any] | None) -> TrainingHistory:
    """The history of the artefact in ``folder``; ``card_training``: the card's provenance."""
    path = folder / METRICS_FILE
    selection = (card_training or {}).get("selection_metric", "")
    best_step = (card_training or {}).get("best_step")
    why_not = _why_unreadable(folder, path)
    if why_not:
        return TrainingHistory(
            available=False, message=why_not, selection_metric=selection, best_step=best_step
        )
    records, unreadable = read_records(path)
    validations = [
        {"step": r["step"], "metric": r["metric"]}
        for r in validation_records(records)
        if _finite(r["metric"])
    ]
    losses = [
        {"step": r["step"], "losses": r["losses"]}
        for r in loss_records(records)
        if all(_finite(value) for value in r["losses"].values())
    ]
    stride = -(-len(losses) // MAX_LOSS_POINTS) or 1
    return TrainingHistory(
        available=True,
        message=f"{len(losses)} loss records (every {stride} shown), {len(validations)} "
        f"validations from {METRICS_FILE}"
        + (f"; {unreadable} unreadable lines skipped" if unreadable else ""),
        selection_metric=selection,
        best_step=best_step,
        losses=losses[::stride],
        validations=validations,
    )


def _why_unreadable(folder: Path, path: Path) -> str:
    """Why ``path`` gives no history ("" when it can be read): missing, or leading outside
    ``folder`` by a symlink (refused, as the artefact's other files are)."""
    if not path.is_file():
        return (
            f"no training history: {METRICS_FILE} is not in the artefact folder "
            "(it was copied without its run folder)"
        )
    if not path.resolve().is_relative_to(folder.resolve()):
        return f"no training history: {METRICS_FILE} leads outside the artefact folder; not read"
    return ""


def _finite(value: Any) -> bool:
    """A finite number (JSON cannot carry NaN or infinities)."""
    return isinstance(value, int | float) and math.isfinite(value)
