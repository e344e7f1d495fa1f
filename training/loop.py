"""The training loop: seeded, checkpointed, resumable, guarded against divergence.

One *step* is one generator update after ``n_critic`` critic updates, each on a
fresh batch of real events (a seeded permutation per epoch; under DDP every
rank takes its share of each global batch). Every ``validate_every`` steps the
generator makes ``validation_events`` events for the validation split's
conditions; the **selection metric** is the mean two-sample KS statistic over
the physics observables (:mod:`hepgan.validation.observables`) against the
validation events, and the checkpoint with the lowest value is the one written
into the artefact. After each validation the full state is checkpointed
(``run/last.safetensors``), so ``--resume`` continues exactly: same weights,
optimizer moments, random states and step.

A NaN or a loss beyond ``divergence_threshold`` triggers a rollback to the last
checkpoint with the learning rates scaled by ``rollback_lr_factor`` and the
noise reseeded; after ``max_rollbacks`` the run stops with an error instead of
writing garbage. SIGINT/SIGTERM stop the loop at the end of the current step,
after a checkpoint.

Files in the run folder: ``options.json`` (the resolved settings),
``metrics.jsonl`` (one JSON object per line: losses, validations, rollbacks),
``split.npz``, ``last.safetensors``, ``best.safetensors`` and, at the end,
``plots/``.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hepgan.devices import resolve_device
from hepgan.errors import ConfigError, HepganError
from hepgan.models.networks import Critic, GanConfig, Generator
from hepgan.models.transforms import (
    FeatureTransform,
    fit_condition_transform,
    fit_event_transform,
    fit_shower_transform,
)
from hepgan.training import distributed, losses
from hepgan.training.checkpoint import load_checkpoint, save_checkpoint
from hepgan.training.config import TrainConfig
from hepgan.training.data import Split, TrainingData, load_training_data
from hepgan.training.export import write_artefact

LOG_EVERY = 10  # generator steps between loss lines in metrics.jsonl


class TrainingDivergedError(HepganError):
    """The losses stayed non-finite or exploded through every allowed rollback."""


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


def fit_transforms(
    data: TrainingData, rows: np.ndarray, config: TrainConfig
) -> tuple[FeatureTransform, FeatureTransform]:
    """Feature and condition transforms fitted on the training rows only."""
    features, conditions = data.features[rows], data.conditions[rows]
    if data.kind == "showers":
        feature_transform = fit_shower_transform(
            features, conditions[:, 0], energy_shares=config.shower_energy_shares
        )
        condition_transform = fit_condition_transform(conditions, log_columns=[0])
    else:
        feature_transform = fit_event_transform(
            features, data.feature_names, pair_frame=config.event_pair_frame
        )
        condition_transform = fit_condition_transform(conditions)
    return feature_transform, condition_transform


class Trainer:
    """The state of one run and the steps that change it."""

    def __init__(
        self,
        config: TrainConfig,
        data: TrainingData,
        split: Split,
        *,
        device: torch.device,
        world: distributed.Distributed,
    ) -> None:
        self.config, self.data, self.split = config, data, split
        self.device, self.world = device, world
        self.run_folder = config.run_folder
        self.feature_transform, self.condition_transform = fit_transforms(data, split.train, config)
        self.train_features = self._to_device(
            self.feature_transform.forward(data.features[split.train], data.conditions[split.train])
        )  # (N_train, F)
        self.train_conditions = self._to_device(
            self.condition_transform.forward(data.conditions[split.train])
        )  # (N_train, C)
        torch.manual_seed(config.seed)  # the initial weights; DDP then broadcasts rank 0's
        self.gan_config = GanConfig(
            n_features=self.train_features.shape[1],  # the transformed width
            n_conditions=data.conditions.shape[1],
            latent_dim=config.network.latent_dim,
            generator_hidden=config.network.generator_hidden,
            critic_hidden=config.network.critic_hidden,
        )
        self.generator = Generator(self.gan_config).to(device)
        self.critic = Critic(self.gan_config).to(device)
        self.generator_ddp = world.wrap(self.generator, device)
        self.critic_ddp = world.wrap(self.critic, device)
        self.generator_forward = self.generator_ddp
        if config.compile:  # inductor: Triton kernels on CUDA, C++ on the CPU
            self.generator_forward = torch.compile(self.generator_ddp)
        betas = tuple(config.adam_betas)
        self.learning_rates = config.learning_rates  # (generator, critic)
        self.optimizer_generator = torch.optim.Adam(
            self.generator.parameters(), lr=self.learning_rates[0], betas=betas
        )
        self.optimizer_critic = torch.optim.Adam(
            self.critic.parameters(), lr=self.learning_rates[1], betas=betas
        )
        self.precision = _precision(config.precision, device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.precision == torch.float16)
        self.n_critic = config.n_critic if config.loss == "wgan-gp" else 1
        self.noise = torch.Generator()
        self.noise.manual_seed(_derived_seed(config.seed, world.rank, 0))
        # counters; part of the checkpoint
        self.step = 0
        self.critic_batches = 0  # global batches consumed, over all epochs
        self.lr_scale = 1.0
        self.best_metric = math.inf
        self.best_step = -1
        self.rollbacks = 0
        self._validation_reference: dict[str, np.ndarray] | None = None

    # --- batches -----------------------------------------------------------------------

    def _to_device(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).to(self.device)

    @property
    def batches_per_epoch(self) -> int:
        return max(1, len(self.train_features) // self.config.batch_size)

    @property
    def epoch(self) -> float:
        return self.critic_batches / self.batches_per_epoch

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """This rank's share of the next global batch: features (B, F), conditions (B, C)."""
        epoch, position = divmod(self.critic_batches, self.batches_per_epoch)
        order = np.random.default_rng([self.config.seed, epoch]).permutation(
            len(self.train_features)
        )
        size = self.config.batch_size
        rows = self.world.shard(order[position * size : (position + 1) * size])
        self.critic_batches += 1
        index = torch.from_numpy(rows).to(self.device)
        return self.train_features[index], self.train_conditions[index]

    def _autocast(self):
        return torch.autocast(
            self.device.type, dtype=self.precision or torch.float32, enabled=bool(self.precision)
        )

    # --- one step ----------------------------------------------------------------------

    def critic_update(self) -> dict[str, float]:
        """One critic step on a real batch and as many generated events; returns its terms."""
        real, conditions = self.next_batch()
        noise = self.generator.sample_noise(len(real), generator=self.noise, device=self.device)
        with torch.no_grad(), self._autocast():
            fake = self.generator_forward(noise, conditions)  # (B, F)
        with self._autocast():
            terms = losses.critic_terms(
                self.config.loss,
                self.critic_ddp,
                real,
                fake.float(),
                conditions,
                penalty_weight=self.config.penalty_weight,
                generator=self.noise,
            )
        self.optimizer_critic.zero_grad(set_to_none=True)
        self.scaler.scale(sum(terms.values())).backward()
        self.scaler.step(self.optimizer_critic)
        self.scaler.update()
        return {name: value.detach() for name, value in terms.items()}

    def generator_update(self, conditions: torch.Tensor) -> dict[str, torch.Tensor]:
        """One generator step for the given conditions (B, C); returns its terms."""
        noise = self.generator.sample_noise(
            len(conditions), generator=self.noise, device=self.device
        )
        self.critic.requires_grad_(False)  # the critic is not trained here: skip its gradients
        with self._autocast():
            fake = self.generator_forward(noise, conditions)
            terms = losses.generator_terms(self.config.loss, self.critic(fake, conditions))
        self.critic.requires_grad_(True)
        self.optimizer_generator.zero_grad(set_to_none=True)
        self.scaler.scale(sum(terms.values())).backward()
        self.scaler.step(self.optimizer_generator)
        self.scaler.update()
        return {name: value.detach() for name, value in terms.items()}

    def train_step(self) -> dict[str, float]:
        """``n_critic`` critic updates then one generator update; the mean of each term."""
        totals: dict[str, torch.Tensor] = {}
        for _ in range(self.n_critic):
            for name, value in self.critic_update().items():
                totals[name] = totals.get(name, 0.0) + value / self.n_critic
        _, conditions = self.next_batch()
        totals.update(self.generator_update(conditions))
        self.step += 1
        return {name: float(value) for name, value in totals.items()}

    def diverged(self, terms: dict[str, float]) -> bool:
        limit = self.config.divergence_threshold
        return any(not math.isfinite(value) or abs(value) > limit for value in terms.values())

    # --- learning rates and rollbacks ---------------------------------------------------

    def _apply_lr_scale(self) -> None:
        for optimizer, base in (
            (self.optimizer_generator, self.learning_rates[0]),
            (self.optimizer_critic, self.learning_rates[1]),
        ):
            for group in optimizer.param_groups:
                group["lr"] = base * self.lr_scale

    def roll_back(self) -> None:
        """Back to the last checkpoint, learning rates scaled down, noise reseeded."""
        self.rollbacks += 1
        if self.rollbacks > self.config.max_rollbacks:
            raise TrainingDivergedError(
                f"training diverged {self.rollbacks} times (NaN or |loss| > "
                f"{self.config.divergence_threshold:g}) even after lowering the learning rate to "
                f"{self.lr_scale:g} x; try a smaller learning rate or --loss wgan-gp"
            )
        rollbacks = self.rollbacks
        self.load_state(load_checkpoint(self.run_folder / "last.safetensors"))
        self.rollbacks = rollbacks
        self.lr_scale *= self.config.rollback_lr_factor
        self._apply_lr_scale()
        self.noise.manual_seed(_derived_seed(self.config.seed, self.world.rank, rollbacks))

    # --- checkpoints --------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything --resume needs; noise states of every rank (a collective under DDP)."""
        noise_states = self.world.gather(self.noise.get_state())
        return {
            "generator": self.generator.state_dict(),
            "critic": self.critic.state_dict(),
            "optimizer_generator": self.optimizer_generator.state_dict(),
            "optimizer_critic": self.optimizer_critic.state_dict(),
            "scaler": self.scaler.state_dict(),
            "noise": noise_states,
            "counters": {
                "step": self.step,
                "critic_batches": self.critic_batches,
                "lr_scale": self.lr_scale,
                "best_metric": self.best_metric if math.isfinite(self.best_metric) else None,
                "best_step": self.best_step,
                "rollbacks": self.rollbacks,
                "world_size": self.world.world_size,
            },
        }

    def load_state(self, state: dict[str, Any]) -> None:
        counters = state["counters"]
        if counters["world_size"] != self.world.world_size:
            raise ConfigError(
                f"--resume: the checkpoint was written by {counters['world_size']} processes, "
                f"this run has {self.world.world_size}"
            )
        self.generator.load_state_dict(state["generator"])
        self.critic.load_state_dict(state["critic"])
        self.optimizer_generator.load_state_dict(state["optimizer_generator"])
        self.optimizer_critic.load_state_dict(state["optimizer_critic"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.noise.set_state(state["noise"][self.world.rank])
        self.step = counters["step"]
        self.critic_batches = counters["critic_batches"]
        self.lr_scale = counters["lr_scale"]
        best = counters["best_metric"]
        self.best_metric = math.inf if best is None else best
        self.best_step = counters["best_step"]
        self.rollbacks = counters["rollbacks"]

    def save(self) -> None:
        """Checkpoint to run/last.safetensors (rank 0 writes; every rank takes part)."""
        state = self.state()
        if self.world.is_main:
            save_checkpoint(self.run_folder / "last.safetensors", state)
        self.world.barrier()

    # --- validation ---------------------------------------------------------------------

    def generate(self, conditions: np.ndarray, *, seed: int) -> np.ndarray:
        """Physical events (N, F) for physical conditions (N, C), with a fixed noise seed."""
        noise_source = torch.Generator().manual_seed(seed)
        transformed = self._to_device(self.condition_transform.forward(conditions))
        outputs = []
        self.generator.eval()
        with torch.inference_mode():
            for start in range(0, len(conditions), 8192):
                batch = transformed[start : start + 8192]
                noise = self.generator.sample_noise(
                    len(batch), generator=noise_source, device=self.device
                )
                outputs.append(self.generator(noise, batch).float().cpu().numpy())
        self.generator.train()
        return self.feature_transform.inverse(np.concatenate(outputs), conditions)

    def observables(self, features: np.ndarray, conditions: np.ndarray) -> dict[str, np.ndarray]:
        from hepgan.validation import observables

        if self.data.kind == "showers":
            return observables.shower_observables(features, conditions[:, 0], self.data.geometry)
        return observables.event_observables(features, self.data.feature_names)

    def validate(self) -> dict[str, Any]:
        """Generate for the validation conditions; per-observable KS and their mean."""
        from hepgan.validation.ks import ks_statistics

        rows = self.split.validation[: self.config.validation_events]
        conditions = self.data.conditions[rows]
        if self._validation_reference is None:
            self._validation_reference = self.observables(self.data.features[rows], conditions)
        reference = self._validation_reference
        generated = self.observables(
            self.generate(conditions, seed=self.config.seed + 1), conditions
        )
        names = list(reference)
        ks = ks_statistics(
            np.column_stack([generated[name] for name in names]),
            np.column_stack([reference[name] for name in names]),
        )  # (K,)
        worst = int(np.argmax(ks))
        return {
            "metric": float(np.mean(ks)),
            "worst_ks": float(ks[worst]),
            "worst_observable": names[worst],
            "ks": dict(zip(names, map(float, ks), strict=True)),
        }


def _precision(setting: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype; None means full float32.

    "off": float32. "bf16": bfloat16 on any device (CPU autocast supports it).
    "fp16": float16 with loss scaling, CUDA only. "auto": bf16 on GPUs that support
    it, else fp16 on CUDA; float32 on the CPU, where bf16 is opt-in (8 bits of
    mantissa, and its speed depends on the CPU's own bf16 support).
    """
    if setting == "off":
        return None
    if setting == "bf16":
        return torch.bfloat16
    if device.type != "cuda":
        if setting == "fp16":
            raise ConfigError("precision fp16 needs CUDA; on the CPU use bf16 or off")
        return None
    if setting == "fp16" or not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16


def _derived_seed(seed: int, rank: int, rollbacks: int) -> int:
    """A 63-bit seed for the noise of (seed, rank, rollback count), independent streams."""
    return int(np.random.SeedSequence([seed, rank, rollbacks]).generate_state(1, np.uint64)[0] >> 1)


@contextmanager
def _stop_on_signals() -> Iterator[dict[str, str | None]]:
    """While inside, SIGINT/SIGTERM only set ``flag["signal"]``; the loop stops at a step's end."""
    flag: dict[str, str | None] = {"signal": None}

    def handler(signum: int, frame: Any) -> None:
        flag["signal"] = signal.Signals(signum).name

    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class _History:
    """metrics.jsonl on rank 0: one JSON object per line, flushed as written."""

    def __init__(self, path: Path, *, enabled: bool, keep_up_to_step: int | None) -> None:
        self.path, self.enabled = path, enabled
        self.records: list[dict[str, Any]] = []
        if enabled and keep_up_to_step is not None and path.exists():
            # On resume, drop lines written after the checkpoint: they will be redone.
            lines = [json.loads(line) for line in path.read_text().splitlines() if line]
            self.records = [r for r in lines if r.get("step", 0) <= keep_up_to_step]
        if enabled:
            path.write_text("".join(json.dumps(r) + "\n" for r in self.records))

    def write(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        if self.enabled:
            with open(self.path, "a") as handle:
                handle.write(json.dumps(record) + "\n")


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
        trainer._apply_lr_scale()
    else:
        trainer.save()  # step 0: something to roll back to
    history = _History(
        run_folder / "metrics.jsonl",
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
    stopped_by = None
    with _stop_on_signals() as flag, bar:
        while True:
            out_of_time = budget is not None and time.monotonic() - started > budget
            done = (config.max_steps is not None and trainer.step >= config.max_steps) or (
                config.epochs is not None and trainer.epoch >= config.epochs
            )
            if world.any(out_of_time or done or flag["signal"] is not None):
                # Every rank learns which signal (if any) stopped a rank, so all take one path.
                stopped_by = next((name for name in world.gather(flag["signal"]) if name), None)
                break
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
        result.artefact = write_artefact(trainer, history.records, wall_seconds=wall)
    world.barrier()
    return result


def _validate_and_checkpoint(trainer: Trainer, history: _History, bar: Any) -> None:
    """Rank 0 validates and keeps the best generator; every rank checkpoints."""
    world = trainer.world
    record: dict[str, Any] = {}
    if world.is_main:
        record = trainer.validate()
        improved = record["metric"] < trainer.best_metric
        if improved:
            trainer.best_metric, trainer.best_step = record["metric"], trainer.step
            save_checkpoint(
                trainer.run_folder / "best.safetensors",
                {"generator": trainer.generator.state_dict(), "validation": record},
            )
        history.write(
            {
                "step": trainer.step,
                "epoch": round(trainer.epoch, 4),
                "event": "validation",
                "best": improved,
                **record,
            }
        )
        bar.set_postfix({"KS": f"{record['metric']:.4f}", "best": trainer.best_step}, refresh=False)
    best = world.gather((trainer.best_metric, trainer.best_step))[0]
    trainer.best_metric, trainer.best_step = best
    trainer.save()
