"""metrics.jsonl: written a line per record, read back skipping lines that are not objects,
cut back to the checkpoint on resume; loss and validation records told apart."""

from __future__ import annotations

import json
from pathlib import Path

from hepgan.models.run_history import (
    History,
    loss_records,
    read_records,
    validation_records,
)

LOSSES = {"step": 10, "epoch": 0.5, "losses": {"critic": -1.5, "generator": 0.25}}
VALIDATION = {"step": 20, "epoch": 1.0, "event": "validation", "best": True, "metric": 0.1}
ROLLBACK = {"step": 25, "event": "rollback", "losses": {"critic": float("nan")}}
LATER = {"step": 30, "epoch": 1.5, "losses": {"critic": -1.0, "generator": 0.5}}


def test_records_are_written_and_read_back_in_order(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    history = History(path, enabled=True, keep_up_to_step=None)
    for record in (LOSSES, VALIDATION, ROLLBACK):
        history.write(record)
    assert len(path.read_text().splitlines()) == 3
    records, unreadable = read_records(path)
    assert unreadable == 0
    assert [r["step"] for r in records] == [10, 20, 25] and records[0] == LOSSES
    assert loss_records(records) == [LOSSES]
    assert validation_records(records) == [VALIDATION]
    assert history.records == [LOSSES, VALIDATION, ROLLBACK]


def test_a_disabled_history_keeps_records_but_writes_nothing(tmp_path: Path) -> None:
    history = History(tmp_path / "metrics.jsonl", enabled=False, keep_up_to_step=None)
    history.write(LOSSES)
    assert history.records == [LOSSES] and list(tmp_path.iterdir()) == []


def test_lines_that_are_not_records_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    lines = [json.dumps(LOSSES), "[1, 2]", "7", "\n", json.dumps(VALIDATION), '{"step": 3']
    path.write_text("\n".join(lines))
    with open(path, "ab") as handle:
        handle.write(b"\n\xff\xfe not text\n")
    records, unreadable = read_records(path)
    assert records == [LOSSES, VALIDATION] and unreadable == 4


def test_malformed_records_are_neither_losses_nor_validations() -> None:
    malformed = [
        {"losses": {"critic": 1.0}},  # no step
        {"step": "10", "losses": {"critic": 1.0}},
        {"step": True, "losses": {"critic": 1.0}},
        {"step": 10, "losses": [1.0]},
        {"step": 20, "event": "validation"},  # no metric
        {"step": 20, "event": "validation", "metric": "0.1"},
        {"step": 20, "event": "validation", "metric": False},
    ]
    assert loss_records(malformed) == [] and validation_records(malformed) == []


def test_resume_keeps_the_records_up_to_the_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    first = History(path, enabled=True, keep_up_to_step=None)
    for record in (LOSSES, VALIDATION, ROLLBACK, LATER):
        first.write(record)
    with open(path, "a") as handle:
        handle.write('{"step": 40, "losses": {"cri')  # killed mid-line
    resumed = History(path, enabled=True, keep_up_to_step=20)
    assert resumed.records == [LOSSES, VALIDATION]
    assert read_records(path) == ([LOSSES, VALIDATION], 0)  # the file is cut back too
    resumed.write(LATER)
    assert read_records(path) == ([LOSSES, VALIDATION, LATER], 0)
