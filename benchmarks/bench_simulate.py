"""Speed of the example-data simulators (pure NumPy, one process).

    python -m benchmarks.bench_simulate [--repeats 3]

Times 10k showers in the ``small`` geometry, 1k in ``calochallenge-2`` and 100k
dimuon events (best of ``--repeats``, each run with a fresh generator seeded 0, 1,
...; file writing excluded), and prints the rates and the cost per voxel of the two
geometries relative to each other.
"""

from __future__ import annotations

import argparse
import itertools
import platform
from collections.abc import Callable

import numpy as np

from hepgan.models.geometry import get_geometry
from hepgan.simulators.dimuon import simulate_dimuon
from hepgan.simulators.showers import simulate_showers
from tests.support.timing import best_time


def with_fresh_generators(task: Callable[[np.random.Generator], object]) -> Callable[[], object]:
    """``task`` called with a new generator on each call, seeded 0, 1, 2, ..."""
    seeds = itertools.count()
    return lambda: task(np.random.default_rng(next(seeds)))


def shower_task(geometry_name: str, n_events: int) -> Callable[[np.random.Generator], object]:
    geometry = get_geometry(geometry_name)

    def task(rng: np.random.Generator) -> object:
        return simulate_showers(
            n_events, geometry=geometry, energy_min_mev=1000.0, energy_max_mev=100000.0, rng=rng
        )

    return task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per case; the best counts")
    args = parser.parse_args()
    cases = [
        ("showers small (120 voxels)", 10_000, shower_task("small", 10_000), 120),
        (
            "showers calochallenge-2 (6480 voxels)",
            1_000,
            shower_task("calochallenge-2", 1_000),
            6480,
        ),
        ("dimuon Z -> mu mu", 100_000, lambda rng: simulate_dimuon(100_000, rng=rng), None),
    ]
    print(f"machine: {platform.processor() or platform.machine()}, numpy {np.__version__}")
    print(f"{'case':40s} {'events':>8s} {'seconds':>8s} {'events/s':>10s}")
    per_voxel = []
    for name, n_events, task, n_voxels in cases:
        seconds = best_time(with_fresh_generators(task), repeats=args.repeats)
        print(f"{name:40s} {n_events:8d} {seconds:8.3f} {n_events / seconds:10,.0f}")
        if n_voxels:
            per_voxel.append(seconds / (n_events * n_voxels))
    print(
        f"time per voxel, calochallenge-2 / small: {per_voxel[1] / per_voxel[0]:.2f} "
        "(below 1: the per-event work is shared by more voxels)"
    )


if __name__ == "__main__":
    main()
