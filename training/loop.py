"""The training loop: seeded, checkpointed, resumable, guarded against divergence.

:func:`train` reads the data and runs :func:`run_training`: every ``validate_every``
steps rank 0 validates (:meth:`Trainer.validate`) and keeps the best generator, and
the full state is checkpointed (``run/last.safetensors``), so ``--resume``
continues exactly: same weights, optimizer moments, random states and step.

A NaN or a loss beyond ``divergence_threshold`` triggers a rollback
(:meth:`Trainer.roll_back`); after ``max_rollbacks`` the run stops with an error
instead of writing garbage. SIGINT/SIGTERM stop the loop at the end of the current
step, after a checkpoint.

Files in the run folder: ``options.json`` (the resolved settings),
``metrics.jsonl`` (:mod:`hepgan.models.run_history`), ``split.npz``,
``last.safetensors``, ``best.safetensors`` and, at the end, ``plots/``.

Progress goes to stderr: a tqdm bar on a terminal, else a line every 30 s
(:mod:`hepgan.training.progress_log`); ``progress = false`` silences both.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from hepgan.devices import resolve_device
from hepgan.errors import ConfigError
from hepgan.models.run_history import METRICS_FILE, History
from hepgan.training import distributed
from hepgan.training.checkpoint import load_checkpoint
from hepgan.training.config import TrainConfig
from hepgan.training.data import TrainingData, load_training_data
from hepgan.training.export import write_artefact
from hepgan.training.progress_log import ProgressLog
from hepgan.training.signals import stop_on_signals
from hepgan.training.trainer import Trainer

LOG_EVERY = 10  # generator steps between loss lines in metrics.jsonl


@dataclass
class TrainResult:
    """What a finished (or cleanly stopped) run produced."""

    artefact: Path | None  # None when stopped by a signal or on a rank other than 0
    step: int
    best_step: int
    best_metric: float
    stopped_by: str | None = None  # "SIGTERM", "SIGINT" when interrupted
    rollbacks: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


def train(
    config: TrainConfig, *, callbacks: Sequence[Callable[[Trainer], None]] = ()
) -> TrainResult:
    """Run ``hepgan train``: read the data, train, write the artefact (rank 0).

    ``callbacks`` are called with the trainer after every step (tests use one
    to inject a NaN).
    """
    config.validate()
    world = distributed.start(resolve_device(config.device))
    try:
        data = load_training_data(config)
        return run_training(config, data, device=world.device, world=world, callbacks=callbacks)
    finally:
        distributed.stop(world)


def run_training(
    config: TrainConfig,
    data: TrainingData,
    *,
    device: torch.device | None = None,
    world: distributed.Distributed | None = None,
    callbacks: Sequence[Callable[[Trainer], None]] = (),
) -> TrainResult:
    """Train on ``data`` already in memory (see :func:`train`)."""
    from tqdm import tqdm

    device = device or resolve_device(config.device)
    world = world or distributed.Distributed(device=device)
    if device.type == "cpu":
        torch.set_num_threads(config.cpu_threads)
    run_folder = config.run_folder
    split = data.split(config)
    checkpoint_path = run_folder / "last.safetensors"
    if config.resume and not checkpoint_path.exists():
        raise ConfigError(f"--resume: no checkpoint at {checkpoint_path}")
    if world.is_main:
        run_folder.mkdir(parents=True, exist_ok=True)
        split.save(run_folder / "split.npz")
        (run_folder / "options.json").write_text(
            json.dumps({**config.to_dict(), "world_size": world.world_size}, indent=1)
        )
    trainer = Trainer(config, data, split, device=device, world=world)
    if config.resume:
        trainer.load_state(load_checkpoint(checkpoint_path))
    else:
        trainer.save()  # step 0: something to roll back to
    history = History(
        run_folder / METRICS_FILE,
        enabled=world.is_main,
        keep_up_to_step=trainer.step if config.resume else None,
    )
    started = time.monotonic()
    budget = None if config.max_minutes is None else config.max_minutes * 60.0
    bar = tqdm(
        total=config.max_steps,
        initial=trainer.step,
        desc=f"train {data.kind}",
        unit="step",
        file=sys.stderr,
        disable=None if (config.progress and world.is_main) else True,
    )
    # Where the bar is off because stderr is no terminal (a log file), a line now and then.
    log = ProgressLog(
        total_steps=config.max_steps,
        enabled=config.progress and world.is_main and not sys.stderr.isatty(),
        first_step=trainer.step,
    )
    stopped_by = None
    with stop_on_signals() as flag, bar:
        while True:
            out_of_time = budget is not None and time.monotonic() - started > budget
            done = (config.max_steps is not None and trainer.step >= config.max_steps) or (
                config.epochs is not None and trainer.epoch >= config.epochs
            )
            if world.any(out_of_time or done or flag["signal"] is not None):
                # Every rank learns which signal (if any) stopped a rank, so all take one path.
                stopped_by = next((name for name in world.gather(flag["signal"]) if name), None)
                break
            if config.learning_rate_final_fraction < 1.0 and trainer.step % LOG_EVERY == 0:
                trainer.follow_budget(
                    budget_used(config, trainer.step, time.monotonic() - started, world)
                )
            terms = trainer.train_step()
            for callback in callbacks:
                callback(trainer)
            if world.any(trainer.diverged(terms)):
                history.write({"step": trainer.step, "event": "rollback", "losses": terms})
                print(
                    f"hepgan train: step {trainer.step}: loss diverged ({terms}); rolling back "
                    f"to the last checkpoint with learning rates x{config.rollback_lr_factor}",
                    file=sys.stderr,
                )
                trainer.roll_back()
                bar.n = trainer.step
                continue
            bar.update(1)
            log.step(
                trainer.step, terms, best_metric=trainer.best_metric, best_step=trainer.best_step
            )
            if trainer.step % LOG_EVERY == 0:
                history.write(
                    {"step": trainer.step, "epoch": round(trainer.epoch, 4), "losses": terms}
                )
                bar.set_postfix({k: f"{v:.3g}" for k, v in terms.items()}, refresh=False)
            if trainer.step % config.validate_every == 0:
                _validate_and_checkpoint(trainer, history, bar)
    if stopped_by is None and trainer.step % config.validate_every != 0:
        _validate_and_checkpoint(trainer, history, bar)
    elif stopped_by is not None:
        trainer.save()
        if world.is_main:
            print(
                f"hepgan train: {stopped_by} at step {trainer.step}: checkpoint saved in "
                f"{checkpoint_path}; continue with --resume",
                file=sys.stderr,
            )
    result = TrainResult(
        artefact=None,
        step=trainer.step,
        best_step=trainer.best_step,
        best_metric=trainer.best_metric,
        stopped_by=stopped_by,
        rollbacks=trainer.rollbacks,
        history=history.records,
    )
    if stopped_by is None and world.is_main:
        wall = time.monotonic() - started
        result.artefact = write_artefact(trainer.finished(wall_seconds=wall), history.records)
    world.barrier()
    return result


def budget_used(
    config: TrainConfig, step: int, seconds: float, world: distributed.Distributed
) -> float:
    """The fraction of the run's budget used, in [0, 1]: the larger of step / max_steps and
    seconds / (60 max_minutes), the same on every rank (rank 0's clock, so every rank steps
    with the same learning rate); 0 without limits. Called every LOG_EVERY steps."""
    fractions = [0.0]
    if config.max_steps:
        fractions.append(step / config.max_steps)
    if config.max_minutes:
        fractions.append(world.gather(seconds)[0] / (60.0 * config.max_minutes))
    return min(1.0, max(fractions))


def _validate_and_checkpoint(trainer: Trainer, history: History, bar: Any) -> None:
    """Rank 0 validates and keeps the best generator; every rank checkpoints."""
    world = trainer.world
    record: dict[str, Any] = {}
    if world.is_main:
        with trainer.averaged_weights():  # validated and kept: the averaged weights
            record = trainer.validate()
            improved = trainer.keep_if_best(record)
        history.write(
            {
                "step": trainer.step,
                "epoch": round(trainer.epoch, 4),
                "event": "validation",
                "best": improved,
                **record,
            }
        )
        bar.set_postfix(
            {"metric": f"{record['metric']:.4f}", "best": trainer.best_step}, refresh=False
        )
    trainer.share_best()
    trainer.save()
