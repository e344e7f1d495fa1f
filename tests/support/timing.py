"""Wall-clock timing for the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_time(task: Callable[[], object], *, repeats: int) -> float:
    """Shortest wall time of ``repeats`` runs of ``task()``, seconds (time.perf_counter)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return min(times)
