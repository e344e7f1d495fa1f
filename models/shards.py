"""Sharded mass production: TOTAL events split over W ranks, one ROOT file per rank, and a
manifest of the shards.

- Rank r of W writes ``STEM.rankRRRRR.root`` beside the output name ``STEM.root`` with
  n_r = TOTAL // W + (1 if r < TOTAL % W else 0) events, so the counts add up to TOTAL.
- Its random stream is ``numpy.random.SeedSequence(seed, spawn_key=(r,))`` (what
  ``SeedSequence(seed).spawn(W)[r]`` gives): independent streams from one seed, the same for
  a rank whatever the other ranks do, so a lost shard can be regenerated alone.
- The plan is everything that decides a shard's events: the model (sha256 of its card), the
  seed, the total, the world size, the condition flags and the noise batch size (part of what
  a seed means), and the output name.
- Every shard is written under a temporary name and renamed when complete
  (:mod:`hepgan.atomic`), and carries its plan in a ``hepgan_shard`` string (JSON); then its
  checksum goes into ``STEM.rankRRRRR.SUFFIX.sha256`` (``sha256sum`` format), the mark that
  the shard is done. ``resume`` keeps a shard only when its plan is this run's and its bytes
  match that checksum (:func:`shard_problem`), and regenerates it otherwise.
- ``STEM.manifest.json`` lists the shards, their event counts and sha256 checksums; it is
  written once every shard is done, after checking each one again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hepgan.atomic import atomic_destination
from hepgan.errors import ConfigError

if TYPE_CHECKING:
    from hepgan.models.artefact import ModelArtefact

# /2: the plan holds the conditions and the noise batch size; shards have .sha256 files.
MANIFEST_FORMAT = "hepgan-shards/2"
SHARD_KEY = "hepgan_shard"  # the string object in each shard that holds its plan (JSON)


@dataclass(frozen=True)
class ShardPlan:
    """What every rank of one production agrees on: every setting that changes the events."""

    output: str  # the output name given, e.g. "out.root"; shards go beside it
    total_events: int
    world_size: int
    seed: int
    artefact_sha256: str  # sha256 of the artefact's model.json: which model made the events
    batch_size: int  # events per noise batch (Sampler.generate): part of what a seed means
    # --condition flags as {name: [low, high]} (low == high: fixed); empty: drawn from the
    # reference sample
    conditions: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.total_events < 1:
            raise ConfigError(f"-n/--events must be a positive integer, got {self.total_events}")
        if self.world_size < 1:
            raise ConfigError(f"--world-size must be a positive integer, got {self.world_size}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {self.batch_size}")

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

    def checksum_path(self, rank: int) -> Path:
        """``STEM.rankRRRRR.SUFFIX.sha256``: the shard's sha256, written once it is complete."""
        path = self.path(rank)
        return path.with_name(f"{path.name}.sha256")

    @property
    def manifest_path(self) -> Path:
        output = Path(self.output)
        return output.with_name(f"{output.stem}.manifest.json")

    def plan_record(self) -> dict[str, Any]:
        """The plan as JSON values (the output by its name), as shards and the manifest hold it."""
        return json.loads(json.dumps({**asdict(self), "output": Path(self.output).name}))

    def shard_record(self, rank: int) -> dict[str, Any]:
        """What shard ``rank`` stores about itself: the plan, its rank, count and seed."""
        return {
            **self.plan_record(),
            "rank": rank,
            "events": self.events(rank),
            "stream_seed": self.stream_seed(rank),
        }

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any], path: Path) -> ShardPlan:
        """The plan a manifest at ``path`` records (its output beside it)."""
        values = {item.name: manifest[item.name] for item in fields(cls) if item.name in manifest}
        return cls(**{**values, "output": str(path.with_name(manifest["output"]))})


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


def _stored_record(path: Path) -> dict[str, Any] | None:
    """The plan record a shard holds, or None when it has none (not ours, or not ROOT)."""
    import uproot

    try:
        with uproot.open(path) as handle:
            record = json.loads(str(handle[SHARD_KEY]))
    except (OSError, KeyError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _recorded_sha256(plan: ShardPlan, rank: int) -> str | None:
    """The sha256 in shard ``rank``'s ``.sha256`` file (``HEX  NAME``), or None."""
    try:
        digest, _, name = plan.checksum_path(rank).read_text().strip().partition("  ")
    except (OSError, UnicodeDecodeError):
        return None
    return digest if name == plan.path(rank).name else None


def shard_problem(plan: ShardPlan, rank: int) -> str | None:
    """Why shard ``rank`` on disk cannot be kept for ``plan``, or None when it can: it exists,
    holds this plan's record (every setting that changes its events) and matches the sha256
    recorded when it was written."""
    from hepgan.models.artefact import sha256_of

    path = plan.path(rank)
    if not path.is_file():
        return "it is missing"
    stored = _stored_record(path)
    if stored is None:
        return f"it holds no {SHARD_KEY} record"
    expected = plan.shard_record(rank)
    differing = sorted(key for key in {*stored, *expected} if stored.get(key) != expected.get(key))
    if differing:
        return f"it was written by another production (its {', '.join(differing)} differ)"
    recorded = _recorded_sha256(plan, rank)
    if recorded is None:
        return f"it has no recorded checksum ({plan.checksum_path(rank).name})"
    if sha256_of(path) != recorded:
        return f"it does not match its recorded sha256 ({plan.checksum_path(rank).name})"
    return None


def write_shard(
    artefact: ModelArtefact,
    plan: ShardPlan,
    rank: int,
    *,
    conditions: np.ndarray | None = None,
    device: str = "cpu",
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Generate rank ``rank``'s events and write its shard (atomically), then its ``.sha256``
    file; returns the shard's path.

    ``conditions`` (n_r, C) physical, drawn as ``plan.conditions`` says; default: drawn from
    the reference sample with the rank's stream seed, as ``hepgan generate`` does with
    ``--seed``. ``progress`` gets the number of events of each generated batch.
    """
    from hepgan.datafiles.root_writer import write_root
    from hepgan.models.artefact import sha256_of

    # Not done until written again: other ranks must not check the old shard for the manifest.
    plan.checksum_path(rank).unlink(missing_ok=True)
    n_events = plan.events(rank)
    seed = plan.stream_seed(rank)
    if conditions is None:
        conditions = artefact.sample_conditions(n_events, seed=seed)
    features = artefact.generate(
        n_events,
        conditions=conditions,
        seed=seed,
        device=device,
        batch_size=plan.batch_size,
        progress=progress,
    )
    path = write_root(
        plan.path(rank),
        artefact.output_columns(features, conditions),
        tree=artefact.card.output.tree,
        metadata={**artefact.output_metadata(), SHARD_KEY: json.dumps(plan.shard_record(rank))},
    )
    with atomic_destination(plan.checksum_path(rank)) as partial:
        partial.write_text(f"{sha256_of(path)}  {path.name}\n")
    return path


def all_shards_written(plan: ShardPlan) -> bool:
    """Every shard is there with its ``.sha256`` file (written after the shard: the mark that
    it is done)."""
    return all(
        plan.path(rank).is_file() and plan.checksum_path(rank).is_file()
        for rank in range(plan.world_size)
    )


def write_manifest(plan: ShardPlan, *, writer: str = "") -> Path:
    """``STEM.manifest.json``: the plan and, per shard, its file, events, seed and sha256.

    Each shard is checked again first (:func:`shard_problem`); one that fails stops the
    manifest with a :class:`ConfigError` naming it: rerun with ``--resume`` to regenerate it.
    """
    shards = []
    for rank in range(plan.world_size):
        problem = shard_problem(plan, rank)
        if problem is not None:
            raise ConfigError(
                f"shard {plan.path(rank)}: {problem}; no manifest written: run the production "
                "again with --resume to regenerate it"
            )
        shards.append(
            {
                "rank": rank,
                "file": plan.path(rank).name,
                "events": plan.events(rank),
                "stream_seed": plan.stream_seed(rank),
                "sha256": _recorded_sha256(plan, rank),
            }
        )
    manifest = {"format": MANIFEST_FORMAT, **plan.plan_record(), "shards": shards}
    with atomic_destination(plan.manifest_path, writer=writer) as partial:
        partial.write_text(json.dumps(manifest, indent=1))
    return plan.manifest_path


def _manifest_plan(path: Path, manifest: Any) -> ShardPlan:
    """The plan a manifest records, or a :class:`ConfigError` when it is not a manifest."""
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ConfigError(
            f"{path} is not a hepgan shard manifest ({MANIFEST_FORMAT}; found format {found!r})"
        )
    try:
        return ShardPlan.from_manifest(manifest, path)
    except (KeyError, TypeError, ValueError) as error:  # ValueError: an output name with a "/"
        raise ConfigError(f"{path}: the plan is incomplete or malformed ({error})") from None


def _entries(file: Path) -> int:
    """Entries of the first TTree in ROOT file ``file``."""
    import uproot

    with uproot.open(file) as handle:
        return next(
            handle[key].num_entries for key, kind in handle.classnames().items() if kind == "TTree"
        )


def check_manifest(path: str | Path) -> dict[str, Any]:
    """Read a manifest and check it against the files beside it: one shard for each rank
    0..W-1, each the file of its rank, present, with its sha256, the plan record of this
    manifest and its share n_r of the events. Returns the manifest; raises
    :class:`ConfigError` saying what does not match."""
    from hepgan.models.artefact import sha256_of

    path = Path(path)
    manifest = json.loads(path.read_text())
    plan = _manifest_plan(path, manifest)
    ranks = [shard.get("rank") for shard in manifest.get("shards", [])]
    numbers = all(isinstance(rank, int) for rank in ranks)
    if not numbers or sorted(ranks) != list(range(plan.world_size)):
        raise ConfigError(
            f"{path}: lists the ranks {ranks}; a manifest of {plan.world_size} ranks lists each "
            f"of 0..{plan.world_size - 1} once"
        )
    for shard in manifest["shards"]:
        rank = shard["rank"]
        file = plan.path(rank)
        if shard.get("file") != file.name:
            raise ConfigError(f"{path}: rank {rank} is {shard.get('file')!r}, not {file.name}")
        if not file.is_file():
            raise ConfigError(f"{path}: shard {file} is missing")
        if sha256_of(file) != shard["sha256"]:
            raise ConfigError(f"{path}: shard {file} does not match its sha256")
        if _stored_record(file) != plan.shard_record(rank):
            raise ConfigError(f"{path}: shard {file} was written by another production")
        entries = _entries(file)
        if not entries == shard["events"] == plan.events(rank):
            raise ConfigError(
                f"{path}: shard {file} holds {entries} events; rank {rank} has "
                f"{plan.events(rank)} (listed: {shard['events']})"
            )
    return manifest
