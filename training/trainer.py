"""One training run's state and the steps that change it.

One *step* is one generator update after ``n_critic`` critic updates, each on a
fresh batch of real events (a seeded permutation per epoch; under DDP every
rank takes its share of each global batch). :meth:`Trainer.validate` generates
events for the validation split's conditions through the same
:class:`~hepgan.models.sampler.Sampler` as the artefact and the service; the
**selection metric** is the mean two-sample KS statistic (``selection_metric = "ks"``)
or separation power (``"separation_power"``) over the physics observables
(:class:`~hepgan.validation.report.observables.ObservableDefinition`) against
the validation events. :meth:`Trainer.state` is everything ``--resume`` needs.
A rollback (:meth:`Trainer.roll_back`) returns to the last checkpoint with the
learning rates scaled by ``rollback_lr_factor`` and the noise reseeded.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from typing import Any

import numpy as np
import torch

from hepgan.errors import ConfigError, HepganError
from hepgan.models.networks import GanConfig, Generator
from hepgan.models.sampler import Sampler
from hepgan.models.transforms import fit_transforms
from hepgan.models.transforms.hit_mask import gated_columns
from hepgan.models.transforms.stages import hit_layer_size, layer_level_columns
from hepgan.training import builders, distributed, losses
from hepgan.training.checkpoint import load_checkpoint, save_checkpoint
from hepgan.training.config import TrainConfig
from hepgan.training.data import Split, TrainingData
from hepgan.training.devices import autocast_dtype
from hepgan.training.export import FinishedRun
from hepgan.validation.report.observables import ObservableDefinition
from hepgan.validation.report.selection import SelectionReference


class TrainingDivergedError(HepganError):
    """The losses stayed non-finite or exploded through every allowed rollback."""


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
        fitted = fit_transforms(
            data.kind,
            data.features[split.train],
            data.conditions[split.train],
            data.feature_names,
            shower=config.shower,
            events=config.events,
            shower_shape=data.geometry.shape if data.geometry is not None else None,
            seed=config.seed,
        )
        self.feature_transform, self.condition_transform = fitted.features, fitted.conditions
        self.symmetry = builders.build_symmetry(
            config, data.geometry, self.feature_transform, device
        )
        self.train_features = self._to_device(
            self.feature_transform.forward(fitted.training_features, data.conditions[split.train])
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
            hit_mask_columns=gated_columns(self.feature_transform.steps)[0],
            hit_layer_size=hit_layer_size(self.feature_transform.steps),
            stage_one_columns=(
                layer_level_columns(self.feature_transform.steps, self.train_features.shape[1])
                if config.network.two_stage and data.kind == "showers"
                else []
            ),
            stage_one_hidden=config.network.stage_one_hidden,
        )
        self.generator = Generator(self.gan_config).to(device)
        self.critic = builders.build_critic(
            config,
            self.gan_config,
            geometry=data.geometry,
            feature_names=data.feature_names,
            transforms=(self.feature_transform, self.condition_transform),
            real=(self.train_features, self.train_conditions),
        ).to(device)
        self.average = builders.build_average(config, self.generator)
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
        self.precision = autocast_dtype(config.precision, device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.precision == torch.float16)
        self.n_critic = config.n_critic if config.loss == "wgan-gp" else 1
        self.noise = torch.Generator()
        self.noise.manual_seed(_derived_seed(config.seed, world.rank, 0))
        # counters; part of the checkpoint
        self.step = 0
        self.critic_batches = 0  # global batches consumed, over all epochs
        self.lr_scale = 1.0
        self.schedule_factor = 1.0  # the learning rate schedule's (follow_budget), not saved
        self.best_metric = math.inf
        self.best_step = -1
        self.rollbacks = 0
        self.observables = ObservableDefinition(
            kind=data.kind, feature_names=tuple(data.feature_names), geometry=data.geometry
        )
        self._validation_reference: SelectionReference | None = None

    # --- checkpoint choice ----------------------------------------------------------------

    def keep_if_best(self, record: dict[str, Any]) -> bool:
        """After a validation: if its metric beats the best so far, remember this step and
        write the generator to run/best.safetensors. Returns whether it did."""
        if record["metric"] >= self.best_metric:
            return False
        self.best_metric, self.best_step = record["metric"], self.step
        save_checkpoint(
            self.run_folder / "best.safetensors",
            {"generator": self.generator.state_dict(), "validation": record},
        )
        return True

    def share_best(self) -> None:
        """Every rank takes rank 0's best metric and step (a collective under DDP)."""
        self.best_metric, self.best_step = self.world.gather((self.best_metric, self.best_step))[0]

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
        return self.symmetrised(self.train_features[index]), self.train_conditions[index]

    def symmetrised(self, features: torch.Tensor) -> torch.Tensor:
        """Transformed showers (B, F), each moved by a random element of the geometry's symmetry
        group with ``symmetry_augmentation``, real and generated alike: the critic then compares
        the two samples up to the symmetry, which generation restores exactly
        (``shower.random_symmetry``); unchanged without it."""
        return features if self.symmetry is None else self.symmetry(features, self.noise)

    def _autocast(self):
        return torch.autocast(
            self.device.type, dtype=self.precision or torch.float32, enabled=bool(self.precision)
        )

    # --- one step ----------------------------------------------------------------------

    def critic_update(self) -> dict[str, torch.Tensor]:
        """One critic step on a real batch and as many generated events; returns its terms."""
        real, conditions = self.next_batch()
        noise = self.generator.sample_noise(len(real), generator=self.noise, device=self.device)
        with torch.no_grad(), self._autocast():
            fake = self.symmetrised(self.generator_forward(noise, conditions))  # (B, F)
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
            fake = self.symmetrised(self.generator_forward(noise, conditions))
            terms = losses.generator_terms(self.config.loss, self.critic(fake, conditions))
        self.critic.requires_grad_(True)
        self.optimizer_generator.zero_grad(set_to_none=True)
        self.scaler.scale(sum(terms.values())).backward()
        self.scaler.step(self.optimizer_generator)
        self.scaler.update()
        if self.average is not None:
            self.average.update(self.generator)
        return {name: value.detach() for name, value in terms.items()}

    def averaged_weights(self):
        """Context in which the generator holds the averaged weights (when averaging)."""
        return self.average.swapped_in(self.generator) if self.average else nullcontext()

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

    def follow_budget(self, progress: float) -> None:
        """Set the learning rates for ``progress`` in [0, 1], the fraction of the run's budget
        used: lr = lr_0 x lr_scale x (1 - (1 - f) progress), f = learning_rate_final_fraction."""
        final = self.config.learning_rate_final_fraction
        self.schedule_factor = 1.0 - (1.0 - final) * min(max(progress, 0.0), 1.0)
        self._apply_lr_scale()

    def _apply_lr_scale(self) -> None:
        """Learning rates = the configured ones x ``lr_scale`` (lowered by rollbacks) x the
        budget schedule's factor (:meth:`follow_budget`)."""
        for optimizer, base in (
            (self.optimizer_generator, self.learning_rates[0]),
            (self.optimizer_critic, self.learning_rates[1]),
        ):
            for group in optimizer.param_groups:
                group["lr"] = base * self.lr_scale * self.schedule_factor

    def roll_back(self) -> None:
        """Back to the last checkpoint, learning rates scaled down, noise reseeded."""
        self.rollbacks += 1
        if self.rollbacks > self.config.max_rollbacks:
            raise TrainingDivergedError(
                f"training diverged {self.rollbacks} times (NaN or |loss| > "
                f"{self.config.divergence_threshold:g}) even after lowering the learning rate to "
                f"{self.lr_scale:g} x; try a smaller learning rate or --loss wgan-gp"
            )
        self._restore(load_checkpoint(self.run_folder / "last.safetensors"))
        self.lr_scale *= self.config.rollback_lr_factor
        self._apply_lr_scale()
        self.noise.manual_seed(_derived_seed(self.config.seed, self.world.rank, self.rollbacks))

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
            "generator_average": self.average.state_dict() if self.average else {},
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
        """Continue from a checkpoint (``--resume``): weights, optimisers, random states,
        counters and the learning rates as they were."""
        self._restore(state)
        self.rollbacks = state["counters"]["rollbacks"]
        self._apply_lr_scale()

    def _restore(self, state: dict[str, Any]) -> None:
        """Everything of a checkpoint but the rollback count, which a rollback keeps."""
        counters = state["counters"]
        if counters["world_size"] != self.world.world_size:
            raise ConfigError(
                f"--resume: the checkpoint was written by {counters['world_size']} processes, "
                f"this run has {self.world.world_size}"
            )
        try:
            self.generator.load_state_dict(state["generator"])
            self.critic.load_state_dict(state["critic"])
        except RuntimeError as error:  # missing, unexpected or differently shaped weights
            first = str(error).splitlines()[1].strip() if "\n" in str(error) else str(error)
            raise ConfigError(
                "--resume: the checkpoint's networks differ from the ones these settings build "
                f"({first}); resume with the settings the run started with (its options.json; "
                "runs begun before [network] two_stage or [shower] hit_mask became the default "
                "resume with two_stage = false or hit_mask = false)"
            ) from None
        self.optimizer_generator.load_state_dict(state["optimizer_generator"])
        self.optimizer_critic.load_state_dict(state["optimizer_critic"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        if self.average is not None and state.get("generator_average"):
            self.average.load_state_dict(state["generator_average"])
        self.noise.set_state(state["noise"][self.world.rank])
        self.step = counters["step"]
        self.critic_batches = counters["critic_batches"]
        self.lr_scale = counters["lr_scale"]
        best = counters["best_metric"]
        self.best_metric = math.inf if best is None else best
        self.best_step = counters["best_step"]

    def save(self) -> None:
        """Checkpoint to run/last.safetensors (rank 0 writes; every rank takes part)."""
        state = self.state()
        if self.world.is_main:
            save_checkpoint(self.run_folder / "last.safetensors", state)
        self.world.barrier()

    # --- validation ---------------------------------------------------------------------

    def sampler(self) -> Sampler:
        """The current generator with this run's transforms: how events are generated."""
        return Sampler(
            self.generator,
            self.feature_transform,
            self.condition_transform,
            n_features=self.data.features.shape[1],
        )

    def finished(self, *, wall_seconds: float) -> FinishedRun:
        """The run's outcome for the artefact, with the best checkpoint's generator loaded."""
        best_path = self.run_folder / "best.safetensors"
        if best_path.exists():
            self.generator.load_state_dict(load_checkpoint(best_path)["generator"])
        return FinishedRun(
            config=self.config,
            data=self.data,
            split=self.split,
            sampler=self.sampler(),
            architecture=self.gan_config.to_dict(),
            observables=self.observables,
            steps=self.step,
            best_step=self.best_step,
            best_metric=self.best_metric,
            device=f"{self.device.type} x {self.world.world_size}",
            wall_seconds=wall_seconds,
        )

    def validate(self) -> dict[str, Any]:
        """Generate for the validation conditions and score the events against the validation
        split's (:meth:`SelectionReference.scores`: per-observable KS and separation power,
        and the selection metric, the mean of the statistic ``selection_metric`` names)."""
        rows = self.split.validation[: self.config.validation_events]
        conditions = self.data.conditions[rows]
        if self._validation_reference is None:
            self._validation_reference = SelectionReference.from_observables(
                self.observables.compute(self.data.features[rows], conditions)
            )
        events = self.sampler().generate(conditions, seed=self.config.seed + 1, device=self.device)
        generated = self.observables.compute(events, conditions)
        return self._validation_reference.scores(generated, self.config.selection_metric)


def _derived_seed(seed: int, rank: int, rollbacks: int) -> int:
    """A 63-bit seed for the noise of (seed, rank, rollback count), independent streams."""
    return int(np.random.SeedSequence([seed, rank, rollbacks]).generate_state(1, np.uint64)[0] >> 1)
