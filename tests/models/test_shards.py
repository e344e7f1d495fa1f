"""The shard plan: counts that add up, one independent stream per rank, launcher detection."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hepgan.errors import ConfigError
from hepgan.models.shards import ShardPlan, shard_position


def _plan(total: int, world_size: int, seed: int = 3) -> ShardPlan:
    return ShardPlan(
        output="runs/out.root",
        total_events=total,
        world_size=world_size,
        seed=seed,
        artefact_sha256="0" * 64,
        batch_size=4096,
        conditions={"incident_energy": [1e3, 1e5]},
    )


# Another value of each field of the plan: every one changes the events (or their file).
OTHER_VALUES = {
    "output": "runs/other.root",
    "total_events": 11,
    "world_size": 3,
    "seed": 4,
    "artefact_sha256": "1" * 64,
    "batch_size": 1024,
    "conditions": {"incident_energy": [5e4, 5e4]},
}


def test_every_setting_of_the_plan_is_in_each_shards_record() -> None:
    """A shard of a production that differs in any one setting is not this production's."""
    plan = _plan(10, 2)
    assert sorted(OTHER_VALUES) == sorted(field.name for field in dataclasses.fields(ShardPlan))
    for name, value in OTHER_VALUES.items():
        other = dataclasses.replace(plan, **{name: value})
        assert other.shard_record(1) != plan.shard_record(1), name


@pytest.mark.parametrize(("total", "world_size"), [(1, 1), (10, 3), (1_000_000, 7), (5, 8)])
def test_counts_add_up_and_differ_by_one_at_most(total: int, world_size: int) -> None:
    plan = _plan(total, world_size)
    counts = [plan.events(rank) for rank in range(world_size)]
    assert sum(counts) == total
    assert max(counts) - min(counts) <= 1


def test_each_rank_has_the_spawned_stream_of_the_seed() -> None:
    plan = _plan(100, 4, seed=11)
    spawned = np.random.SeedSequence(11).spawn(4)
    assert [plan.stream_seed(rank) for rank in range(4)] == [
        int(child.generate_state(1)[0]) for child in spawned
    ]
    assert len({plan.stream_seed(rank) for rank in range(4)}) == 4
    # A rank's stream does not depend on the world size: a lost shard is regenerated alone.
    assert _plan(100, 9, seed=11).stream_seed(2) == plan.stream_seed(2)


def test_shard_and_manifest_names() -> None:
    plan = _plan(10, 2)
    assert plan.path(3).as_posix() == "runs/out.rank00003.root"
    assert plan.checksum_path(3).as_posix() == "runs/out.rank00003.root.sha256"
    assert plan.manifest_path.as_posix() == "runs/out.manifest.json"


def test_bad_plans_name_the_flag() -> None:
    with pytest.raises(ConfigError, match="--events"):
        _plan(0, 2)
    with pytest.raises(ConfigError, match="--world-size"):
        _plan(10, 0)
    with pytest.raises(ConfigError, match="batch_size"):
        dataclasses.replace(_plan(10, 2), batch_size=0)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"RANK": "3", "WORLD_SIZE": "8", "LOCAL_RANK": "1"}, (3, 8)),
        (
            {
                "SLURM_ARRAY_TASK_ID": "12",
                "SLURM_ARRAY_TASK_MIN": "10",
                "SLURM_ARRAY_TASK_COUNT": "4",
            },
            (2, 4),
        ),
        ({"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"}, (2, 4)),
        ({"JOB_COMPLETION_INDEX": "2"}, None),  # Kubernetes: --rank/--world-size say it
    ],
)
def test_launchers_are_recognised(environ: dict[str, str], expected) -> None:
    assert shard_position(environ) == expected
