"""Progress of a training run as plain lines, for output that is not a terminal (a batch job's
log file, ``docker logs``, CI), where the tqdm bar is off: without them a run says nothing
until it ends.

One line every ``every_seconds`` (the first once that long has passed):

    hepgan train: step 1200/5000 (24%), 11.3 steps/s, critic 0.512 generator -1.23,
    best metric 0.0412 at step 1000

steps/s counts the generator steps since the previous line over the wall time between them.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping
from typing import TextIO

PROGRESS_EVERY_SECONDS = 30.0  # wall seconds between two lines


class ProgressLog:
    """Writes a progress line to ``stream`` (default stderr) at most every ``every_seconds``
    (default :data:`PROGRESS_EVERY_SECONDS`); silent when not ``enabled``."""

    def __init__(
        self,
        *,
        total_steps: int | None,
        enabled: bool,
        first_step: int = 0,
        every_seconds: float | None = None,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total_steps = total_steps
        self.enabled = enabled
        self.every_seconds = PROGRESS_EVERY_SECONDS if every_seconds is None else every_seconds
        self.stream = stream
        self.clock = clock
        self._last_time = clock()
        self._last_step = first_step

    def step(
        self, step: int, losses: Mapping[str, float], *, best_metric: float, best_step: int
    ) -> None:
        """Called after every generator step; writes a line when ``every_seconds`` have passed."""
        if not self.enabled:
            return
        now = self.clock()
        elapsed = now - self._last_time
        if elapsed < self.every_seconds:
            return
        rate = (step - self._last_step) / elapsed if elapsed > 0 else math.inf
        self._last_time, self._last_step = now, step
        print(self.line(step, rate, losses, best_metric, best_step), file=self.stream or sys.stderr)

    def line(
        self,
        step: int,
        rate: float,
        losses: Mapping[str, float],
        best_metric: float,
        best_step: int,
    ) -> str:
        """The text of one progress line (module docstring)."""
        where = f"step {step}"
        if self.total_steps:
            where += f"/{self.total_steps} ({step / self.total_steps:.0%})"
        terms = " ".join(f"{name} {value:.3g}" for name, value in losses.items())
        best = (
            f"best metric {best_metric:.4g} at step {best_step}"
            if math.isfinite(best_metric)
            else "no validation yet"
        )
        return f"hepgan train: {where}, {rate:.3g} steps/s, {terms}, {best}"
