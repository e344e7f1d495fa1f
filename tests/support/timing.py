"""Wall-clock timing for the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_time(
    task: Callable[[], object], *, repeats: int, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Shortest time of ``repeats`` runs of ``task()``, seconds of ``clock``: wall time
    (time.perf_counter) by default; time.process_time counts this process's CPU time only,
    which other processes on a shared machine disturb far less."""
    times = []
    for _ in range(repeats):
        start = clock()
        task()
        times.append(clock() - start)
    return min(times)
