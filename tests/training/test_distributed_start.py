"""``distributed.start()`` under a torchrun environment: each rank takes the device of its
LOCAL_RANK and makes it current, so NCCL's collectives (and the pickled objects of
``all_gather_object``) run on the rank's own GPU and not all on GPU 0.

Each rank is a real process given the variables torchrun sets (RANK, LOCAL_RANK,
WORLD_SIZE, MASTER_ADDR, MASTER_PORT) and a real gloo group on the CPU
(:mod:`tests.training.start_worker`). A world of one needs no group (start() returns at
once), so the jobs here have two and three ranks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.ports import LOOPBACK, free_port

WORKER = Path(__file__).with_name("start_worker.py")


def _run_job(layout: list[tuple[int, int]], device: str) -> list[dict]:
    """Run one worker per (RANK, LOCAL_RANK) in ``layout``; each one's printed choice."""
    port = free_port()
    processes = []
    for rank, local_rank in layout:
        env = {
            **os.environ,
            "RANK": str(rank),
            "LOCAL_RANK": str(local_rank),
            "WORLD_SIZE": str(len(layout)),
            "MASTER_ADDR": LOOPBACK,
            "MASTER_PORT": str(port),
        }
        processes.append(
            subprocess.Popen(
                [sys.executable, str(WORKER), device],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    chosen = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=180)
        assert process.returncode == 0, stderr[-3000:]
        chosen.append(json.loads(stdout.strip().splitlines()[-1]))
    return chosen


def test_each_rank_takes_the_gpu_of_its_local_rank() -> None:
    # Two nodes: ranks 0 and 1 on the first (local ranks 0, 1), rank 2 on the second (0).
    chosen = _run_job([(0, 0), (1, 1), (2, 0)], "cuda")
    assert [(c["rank"], c["local_rank"], c["world_size"]) for c in chosen] == [
        (0, 0, 3),
        (1, 1, 3),
        (2, 0, 3),
    ]
    assert [c["device"] for c in chosen] == ["cuda:0", "cuda:1", "cuda:0"]
    assert [c["made_current"] for c in chosen] == [["cuda:0"], ["cuda:1"], ["cuda:0"]]


def test_on_the_cpu_start_joins_gloo_and_the_collectives_run() -> None:
    chosen = _run_job([(0, 0), (1, 1)], "cpu")
    for rank, choice in enumerate(chosen):
        assert choice == {
            "rank": rank,
            "world_size": 2,
            "local_rank": rank,
            "device": "cpu",
            "made_current": [],
            "backend": "gloo",
            "any_rank_is_1": True,
            "gathered_ranks": [0, 1],
        }
