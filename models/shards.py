"""Sharded mass production: TOTAL events split over W ranks, one ROOT file per rank, and a
manifest of the shards.

- Rank r of W writes ``STEM.rankRRRRR.root`` beside the output name ``STEM.root`` with
  n_r = TOTAL // W + (1 if r < TOTAL % W else 0) events, so the counts add up to TOTAL.
- Its random stream is ``numpy.random.SeedSequence(seed, spawn_key=(r,))`` (what
  ``SeedSequence(seed).spawn(W)[r]`` gives): independent streams from one seed, the same for
  a rank whatever the other ranks do, so a lost shard can be regenerated alone.
- Every shard is written under a temporary name and renamed when complete
  (:mod:`hepgan.atomic`), and carries its plan in a ``hepgan_shard`` string (JSON), so a
  shard present on disk is complete and ``resume`` can tell whether it belongs to this run.
- ``STEM.manifest.json`` lists the shards, their event counts and sha256 checksums; it is
  written once every shard exists.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hepgan.atomic import atomic_destination
from hepgan.errors import ConfigError

if TYPE_CHECKING:
    from hepgan.models.artefact import ModelArtefact

MANIFEST_FORMAT = "hepgan-shards/1"
SHARD_KEY = "hepgan_shard"  # the string object in each shard that holds its plan (JSON)


@dataclass(frozen=True)
class ShardPlan:
    """What every rank of one production agrees on."""

    output: str  # the output name given, e.g. "out.root"; shards go beside it
    total_events: int
    world_size: int
    seed: int
    artefact_sha256: str  # sha256 of the artefact's model.json: which model made the events

    def __post_init__(self) -> None:
        if self.total_events < 1:
            raise ConfigError(f"-n/--events must be a positive integer, got {self.total_events}")
        if self.world_size < 1:
            raise ConfigError(f"--world-size must be a positive integer, got {self.world_size}")

    def events(self, rank: int) -> int:
        """n_r = TOTAL // W + (1 if r < TOTAL % W else 0): the counts add up to TOTAL."""
        base, extra = divmod(self.total_events, self.world_size)
        return base + (1 if rank < extra else 0)

    def stream_seed(self, rank: int) -> int:
        """Rank ``rank``'s seed: the first word of SeedSequence(seed, spawn_key=(rank,))."""
        sequence = np.random.SeedSequence(self.seed, spawn_key=(rank,))
        return int(sequence.generate_state(1)[0])

    def path(self, rank: int) -> Path:
        """``STEM.rankRRRRR.SUFFIX`` beside the output name."""
        output = Path(self.output)
        return output.with_name(f"{output.stem}.rank{rank:05d}{output.suffix}")

    @property
    def manifest_path(self) -> Path:
        output = Path(self.output)
        return output.with_name(f"{output.stem}.manifest.json")

    def shard_record(self, rank: int) -> dict[str, Any]:
        """What shard ``rank`` stores about itself: the plan, its rank, count and seed."""
        return {
            **asdict(self),
            "output": Path(self.output).name,
            "rank": rank,
            "events": self.events(rank),
            "stream_seed": self.stream_seed(rank),
        }


def shard_position(environ: Mapping[str, str] | None = None) -> tuple[int, int] | None:
    """(rank, world size) from the launcher's environment, or None outside one:
    torchrun (RANK, WORLD_SIZE), a Slurm array (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN,
    SLURM_ARRAY_TASK_COUNT). A Kubernetes indexed Job gives JOB_COMPLETION_INDEX only: pass
    ``--rank $JOB_COMPLETION_INDEX --world-size COMPLETIONS``."""
    environ = os.environ if environ is None else environ
    if "WORLD_SIZE" in environ and "RANK" in environ:
        return int(environ["RANK"]), int(environ["WORLD_SIZE"])
    if "SLURM_ARRAY_TASK_ID" in environ and "SLURM_ARRAY_TASK_COUNT" in environ:
        first = int(environ.get("SLURM_ARRAY_TASK_MIN", "0"))
        task = int(environ["SLURM_ARRAY_TASK_ID"])
        return task - first, int(environ["SLURM_ARRAY_TASK_COUNT"])
    return None


def existing_shard(plan: ShardPlan, rank: int) -> bool:
    """True when shard ``rank`` is on disk and was written by this plan (same model, seed,
    total and world size). A file renamed into place is complete (atomic writes)."""
    import uproot

    path = plan.path(rank)
    if not path.is_file():
        return False
    try:
        with uproot.open(path) as handle:
            stored = json.loads(str(handle[SHARD_KEY]))
    except (OSError, KeyError, ValueError):  # not ours, or not ROOT at all: regenerate it
        return False
    return stored == plan.shard_record(rank)


def write_shard(
    artefact: ModelArtefact,
    plan: ShardPlan,
    rank: int,
    *,
    conditions: np.ndarray | None = None,
    device: str = "cpu",
) -> Path:
    """Generate rank ``rank``'s events and write its shard (atomically); returns its path.

    ``conditions`` (n_r, C) physical; default: drawn from the reference sample with the
    rank's stream seed, as ``hepgan generate`` does with ``--seed``.
    """
    from hepgan.datafiles.root_writer import write_root

    n_events = plan.events(rank)
    seed = plan.stream_seed(rank)
    if conditions is None:
        conditions = artefact.sample_conditions(n_events, seed=seed)
    features = artefact.generate(n_events, conditions=conditions, seed=seed, device=device)
    return write_root(
        plan.path(rank),
        artefact.output_columns(features, conditions),
        tree=artefact.card.output.tree,
        metadata={"model": artefact.name, SHARD_KEY: json.dumps(plan.shard_record(rank))},
    )


def all_shards_written(plan: ShardPlan) -> bool:
    return all(plan.path(rank).is_file() for rank in range(plan.world_size))


def write_manifest(plan: ShardPlan, *, writer: str = "") -> Path:
    """``STEM.manifest.json``: the plan and, per shard, its file, events, seed and sha256."""
    from hepgan.models.artefact import sha256_of

    shards = [
        {
            "rank": rank,
            "file": plan.path(rank).name,
            "events": plan.events(rank),
            "stream_seed": plan.stream_seed(rank),
            "sha256": sha256_of(plan.path(rank)),
        }
        for rank in range(plan.world_size)
    ]
    manifest = {
        "format": MANIFEST_FORMAT,
        **asdict(plan),
        "output": Path(plan.output).name,
        "shards": shards,
    }
    with atomic_destination(plan.manifest_path, writer=writer) as partial:
        partial.write_text(json.dumps(manifest, indent=1))
    return plan.manifest_path


def check_manifest(path: str | Path) -> dict[str, Any]:
    """Read a manifest and check it against the files beside it: every shard present with its
    sha256 and its number of entries, the counts adding up to the total. Returns the manifest;
    raises :class:`ConfigError` saying what does not match."""
    import uproot

    from hepgan.models.artefact import sha256_of

    path = Path(path)
    manifest = json.loads(path.read_text())
    if manifest.get("format") != MANIFEST_FORMAT:
        raise ConfigError(f"{path} is not a hepgan shard manifest ({MANIFEST_FORMAT})")
    counted = 0
    for shard in manifest["shards"]:
        file = path.with_name(shard["file"])
        if not file.is_file():
            raise ConfigError(f"{path}: shard {file} is missing")
        if sha256_of(file) != shard["sha256"]:
            raise ConfigError(f"{path}: shard {file} does not match its sha256")
        with uproot.open(file) as handle:
            entries = next(
                handle[key].num_entries
                for key, kind in handle.classnames().items()
                if kind == "TTree"
            )
        if entries != shard["events"]:
            raise ConfigError(f"{path}: shard {file} holds {entries} events, not {shard['events']}")
        counted += entries
    if counted != manifest["total_events"] or len(manifest["shards"]) != manifest["world_size"]:
        raise ConfigError(
            f"{path}: {len(manifest['shards'])} shards with {counted} events for "
            f"{manifest['world_size']} ranks and {manifest['total_events']} events"
        )
    return manifest
