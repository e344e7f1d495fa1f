"""Generator and critic shapes, conditioning, and rebuilding from the stored config."""

from __future__ import annotations

import torch

from hepgan.models.networks import Critic, GanConfig, Generator


def test_shapes_and_conditioning() -> None:
    config = GanConfig(n_features=7, n_conditions=2, latent_dim=5, generator_hidden=[16, 16])
    generator, critic = Generator(config), Critic(config)
    noise = generator.sample_noise(4, generator=torch.Generator().manual_seed(0))
    conditions = torch.randn(4, 2)
    fake = generator(noise, conditions)
    assert fake.shape == (4, 7)
    assert critic(fake, conditions).shape == (4,)
    # The conditions reach the output: changing them changes the sample.
    assert not torch.allclose(fake, generator(noise, conditions + 1.0))


def test_unconditional_and_rebuilt_from_dict() -> None:
    config = GanConfig(n_features=3)
    rebuilt = GanConfig.from_dict(config.to_dict())
    assert rebuilt == config
    generator = Generator(rebuilt)
    assert generator(torch.zeros(2, config.latent_dim)).shape == (2, 3)
