"""The parts of a run that its settings choose, built for the trainer: the critic (plain,
or seeing in-graph observables and the minibatch spread), the symmetry augmentation of
shower batches and the generator weight average."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from hepgan.errors import ConfigError
from hepgan.models.networks import Critic, GanConfig
from hepgan.models.transforms import FeatureTransform
from hepgan.models.transforms.hit_mask import gated_columns
from hepgan.models.transforms.kinematics import four_vector_groups
from hepgan.models.transforms.symmetry import dihedral_permutations
from hepgan.training.config import TrainConfig
from hepgan.training.ema import GeneratorAverage
from hepgan.training.symmetry import (
    RandomSymmetry,
    symmetrise_shower_transform,
)

OBSERVABLE_FIT_EVENTS = 20_000  # real training events that fix the observables' standardisation


def build_critic(
    config: TrainConfig,
    gan_config: GanConfig,
    *,
    geometry: Any,
    feature_names: Sequence[str],
    transforms: tuple[FeatureTransform, FeatureTransform],
    real: tuple[torch.Tensor, torch.Tensor],
) -> nn.Module:
    """The plain :class:`Critic`, or a :class:`PhysicsCritic` when ``critic_observables`` or
    ``minibatch_std_group`` ask for one; ``real`` are transformed training (features,
    conditions). The observables are the shower observables for showers (``geometry``),
    each particle's kinematics for events with four-vectors among ``feature_names``."""
    if not config.critic_observables and config.minibatch_std_group == 0:
        return Critic(gan_config)
    from hepgan.models.critic.physics_critic import PhysicsCritic

    observables: nn.Module | None = None
    if config.critic_observables and gated_columns(transforms[0].steps)[0]:
        raise ConfigError(
            "critic_observables does not read the hit indicators of shower.hit_mask yet: "
            "set [shower] hit_mask = false to use it"
        )
    if config.critic_observables and geometry is None:
        groups = four_vector_groups(feature_names)
        if not groups:
            raise ConfigError(
                "critic_observables needs showers (--voxels) with a known geometry, or "
                "events with four-vectors (E1, px1, py1, pz1, ...)"
            )
        from hepgan.models.critic.particle_kinematics import ParticleKinematicsFeatures

        physical_widths = (len(feature_names), gan_config.n_conditions)
        observables = ParticleKinematicsFeatures(
            transforms,
            physical_widths,
            groups,
            real[0][:OBSERVABLE_FIT_EVENTS],
            real[1][:OBSERVABLE_FIT_EVENTS],
        )
    elif config.critic_observables:
        from hepgan.models.critic.shower_observables import (
            ShowerObservableFeatures,
            TransformedShowerEnergies,
        )

        energies = TransformedShowerEnergies(
            transforms, (geometry.n_voxels, gan_config.n_conditions)
        )
        observables = ShowerObservableFeatures(
            energies.to(real[0].device),
            geometry,
            geometry.readout_threshold_mev,
            real[0][:OBSERVABLE_FIT_EVENTS],
            real[1][:OBSERVABLE_FIT_EVENTS],
        )
    return PhysicsCritic(
        gan_config, observables=observables, minibatch_group=config.minibatch_std_group
    )


def build_symmetry(
    config: TrainConfig, geometry: Any, feature_transform: FeatureTransform, device: torch.device
) -> RandomSymmetry | None:
    """With ``symmetry_augmentation``: symmetrise the (fitted) shower transform in place and
    return the batch augmentation; else None."""
    if not config.symmetry_augmentation:
        return None
    if geometry is None:
        raise ConfigError("symmetry_augmentation needs showers (--voxels) with a known geometry")
    if gated_columns(feature_transform.steps)[0]:
        raise ConfigError(
            "symmetry_augmentation does not permute the hit indicators of shower.hit_mask yet: "
            "set [shower] hit_mask = false to use it"
        )
    # the response column (and with layer shares the layers' fractions) stay in place
    n_extra = feature_transform.output_width(geometry.n_voxels) - geometry.n_voxels
    permutations = dihedral_permutations(geometry.shape, n_extra_columns=n_extra)
    symmetrise_shower_transform(feature_transform, permutations)
    return RandomSymmetry(permutations, device)


def build_average(config: TrainConfig, generator: nn.Module) -> GeneratorAverage | None:
    """The generator weight average when ``ema_decay`` > 0, else None."""
    return GeneratorAverage(generator, config.ema_decay) if config.ema_decay > 0 else None
