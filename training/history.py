"""metrics.jsonl: the run's history, one JSON object per line (losses, validations,
rollbacks), written by rank 0 and flushed as written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class History:
    """metrics.jsonl on rank 0: one JSON object per line, flushed as written."""

    def __init__(self, path: Path, *, enabled: bool, keep_up_to_step: int | None) -> None:
        self.path, self.enabled = path, enabled
        self.records: list[dict[str, Any]] = []
        if enabled and keep_up_to_step is not None and path.exists():
            # On resume, drop lines written after the checkpoint: they will be redone.
            lines = [json.loads(line) for line in path.read_text().splitlines() if line]
            self.records = [r for r in lines if r.get("step", 0) <= keep_up_to_step]
        if enabled:
            path.write_text("".join(json.dumps(r) + "\n" for r in self.records))

    def write(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        if self.enabled:
            with open(self.path, "a") as handle:
                handle.write(json.dumps(record) + "\n")
