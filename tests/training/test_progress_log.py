"""Training says how it is doing when its output is not a terminal (issue 27, part 4): a line
every PROGRESS_EVERY_SECONDS with the step, steps/s, the losses and the best metric."""

from __future__ import annotations

import io
import re

import pytest

from hepgan.training import progress_log
from hepgan.training.loop import run_training
from hepgan.training.progress_log import ProgressLog
from tests.support.tiny import tiny_config, toy_training_data


class _Clock:
    """A clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_every_interval_with_rate_losses_and_best_metric() -> None:
    clock, stream = _Clock(), io.StringIO()
    log = ProgressLog(total_steps=1000, enabled=True, every_seconds=30, stream=stream, clock=clock)
    losses = {"critic": 0.5123, "generator": -1.234}
    clock.now += 29.0
    log.step(290, losses, best_metric=float("inf"), best_step=-1)
    assert stream.getvalue() == ""  # not 30 s yet
    clock.now += 11.0
    log.step(400, losses, best_metric=float("inf"), best_step=-1)
    clock.now += 50.0
    log.step(900, losses, best_metric=0.04123, best_step=800)
    assert stream.getvalue().splitlines() == [
        "hepgan train: step 400/1000 (40%), 10 steps/s, critic 0.512 generator -1.23, "
        "no validation yet",
        "hepgan train: step 900/1000 (90%), 10 steps/s, critic 0.512 generator -1.23, "
        "best metric 0.04123 at step 800",
    ]


def test_disabled_log_is_silent() -> None:
    clock, stream = _Clock(), io.StringIO()
    log = ProgressLog(total_steps=None, enabled=False, every_seconds=0, stream=stream, clock=clock)
    clock.now += 60
    log.step(10, {"critic": 1.0}, best_metric=0.1, best_step=5)
    assert stream.getvalue() == ""


def test_training_into_a_log_file_prints_progress_lines(
    tmp_path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # capsys's stderr is no terminal, as a batch job's log file; a line after every step
    monkeypatch.setattr(progress_log, "PROGRESS_EVERY_SECONDS", 0.0)
    data = toy_training_data("events", n_events=600, seed=1)
    run_training(tiny_config(tmp_path / "toy", data, steps=6, progress=True), data)
    lines = [line for line in capsys.readouterr().err.splitlines() if "steps/s" in line]
    assert len(lines) == 6
    assert re.fullmatch(
        r"hepgan train: step 1/6 \(17%\), \S+ steps/s, .+, no validation yet", lines[0]
    )
    assert re.fullmatch(
        r"hepgan train: step 6/6 \(100%\), .+, best metric \S+ at step 3", lines[-1]
    )
