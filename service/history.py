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

from hepgan.service.schemas import TrainingHistory

METRICS_FILE = Path("run") / "metrics.jsonl"
# Most loss points sent: a long run is thinned to every k-th record (validations all kept).
MAX_LOSS_POINTS = 2000


def read_history(folder: Path, card_training: dict[str, Any] | None) -> TrainingHistory:
    """The history of the artefact in ``folder``; ``card_training``: the card's provenance."""
    path = folder / METRICS_FILE
    selection = (card_training or {}).get("selection_metric", "")
    best_step = (card_training or {}).get("best_step")
    if not path.is_file():
        return TrainingHistory(
            available=False,
            message=f"no training history: {METRICS_FILE} is not in the artefact folder "
            "(it was copied without its run folder)",
            selection_metric=selection,
            best_step=best_step,
        )
    losses, validations, unreadable = [], [], 0
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                unreadable += 1  # a run stopped mid-line
                continue
            if record.get("event") == "validation" and _finite(record.get("metric")):
                validations.append({"step": record["step"], "metric": record["metric"]})
            elif record.get("event") is None and isinstance(record.get("losses"), dict):
                if all(_finite(value) for value in record["losses"].values()):
                    losses.append({"step": record["step"], "losses": record["losses"]})
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


def _finite(value: Any) -> bool:
    """A finite number (JSON cannot carry NaN or infinities)."""
    return isinstance(value, int | float) and math.isfinite(value)
