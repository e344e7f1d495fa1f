"""A training run's history file, ``metrics.jsonl`` in the run folder (so ``run/metrics.jsonl``
in an artefact): one JSON object per line, written by rank 0 and flushed as written.

Records, by kind:

- losses, every few generator steps: ``{"step", "epoch", "losses": {name: value}}``;
- a validation: ``{"step", "epoch", "event": "validation", "best": bool, "metric", ...}``
  with the validation's scores (:class:`hepgan.validation.report.selection.SelectionReference`);
- a rollback after diverged losses: ``{"step", "event": "rollback", "losses": {...}}``.

This module is the one place that writes and reads the file; a run stopped mid-line leaves
a last line that is not JSON, which readers skip and count.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

METRICS_FILE = "metrics.jsonl"  # in the run folder


class History:
    """The history file of a run being trained (rank 0 writes; other ranks keep nothing)."""

    def __init__(self, path: Path, *, enabled: bool, keep_up_to_step: int | None) -> None:
        self.path, self.enabled = path, enabled
        self.records: list[dict[str, Any]] = []
        if enabled and keep_up_to_step is not None and path.exists():
            # On resume, drop lines written after the checkpoint: they will be redone.
            records, _ = read_records(path)
            self.records = [
                r for r in records if _step(r) is not None and r["step"] <= keep_up_to_step
            ]
        if enabled:
            path.write_text("".join(json.dumps(r) + "\n" for r in self.records))

    def write(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        if self.enabled:
            with open(self.path, "a") as handle:
                handle.write(json.dumps(record) + "\n")


def read_records(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The records of a history file in order, and how many lines were not a JSON object
    (skipped: a run stopped mid-line, or a file edited by hand)."""
    records, unreadable = [], 0
    with open(path, "rb") as lines:  # bytes: a line that is not UTF-8 is one unreadable line
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:  # json.JSONDecodeError, UnicodeDecodeError
                record = None
            if isinstance(record, dict):
                records.append(record)
            else:
                unreadable += 1
    return records, unreadable


def loss_records(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The loss records (not rollbacks) with an integer step and a dict of losses."""
    return [
        r
        for r in records
        if r.get("event") is None and _step(r) is not None and isinstance(r.get("losses"), dict)
    ]


def validation_records(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The validation records with an integer step and a numeric selection metric."""
    return [
        r
        for r in records
        if r.get("event") == "validation" and _step(r) is not None and _number(r.get("metric"))
    ]


def _step(record: dict[str, Any]) -> int | None:
    step = record.get("step")
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
