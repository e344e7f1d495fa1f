"""A model's training history for the web page: losses and the selection metric by step.

Read from ``run/metrics.jsonl`` in the artefact folder, where ``hepgan train`` writes it
(one JSON object per line: ``{"step", "losses": {name: value}}`` every few steps and
``{"step", "event": "validation", "metric"}`` at each validation). An artefact copied
without its run folder has no history; the answer then says so.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hepgan.service.schemas import LossPoint, TrainingHistory, ValidationPoint

METRICS_FILE = Path("run") / "metrics.jsonl"
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
    losses, validations, unreadable = [], [], 0
    with open(path, "rb") as lines:
        for line in lines:
            record = _record(line)
            if record is None:
                unreadable += 1  # a run stopped mid-line, or a line that is no record
                continue
            point = _point(record)
            if isinstance(point, ValidationPoint):
                validations.append(point)
            elif isinstance(point, LossPoint):
                losses.append(point)
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


def _record(line: bytes) -> dict[str, Any] | None:
    """One line of metrics.jsonl as a JSON object, or None (not UTF-8 JSON, not an object)."""
    try:
        record = json.loads(line)
    except ValueError:  # not JSON, or not UTF-8
        return None
    return record if isinstance(record, dict) else None


def _point(record: dict[str, Any]) -> LossPoint | ValidationPoint | None:
    """A record as a point of the history; None for other records, and for those without an
    integer step or with values that are not finite numbers."""
    if type(record.get("step")) is not int:
        return None
    if record.get("event") == "validation":
        metric = record.get("metric")
        return ValidationPoint(step=record["step"], metric=metric) if _finite(metric) else None
    losses = record.get("losses")
    if record.get("event") is None and isinstance(losses, dict):
        if all(isinstance(name, str) and _finite(value) for name, value in losses.items()):
            return LossPoint(step=record["step"], losses=losses)
    return None


def _finite(value: Any) -> bool:
    """A finite number (JSON cannot carry NaN or infinities)."""
    return isinstance(value, int | float) and math.isfinite(value)
