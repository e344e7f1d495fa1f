"""The critic's per-particle kinematics: computed in the graph from the transformed input,
equal to the numpy values of the physical events, with finite gradients everywhere."""

from __future__ import annotations

import numpy as np
import torch

from hepgan.models.critic.particle_kinematics import ParticleKinematicsFeatures
from hepgan.models.critic.physics_critic import PhysicsCritic
from hepgan.models.networks import GanConfig
from hepgan.models.transforms import fit_condition_transform, fit_event_transform
from hepgan.models.transforms.acceptance import transverse_momentum_and_eta

NAMES = ["E1", "px1", "py1", "pz1", "E2", "px2", "py2", "pz2"]
GROUPS = [[0, 1, 2, 3], [4, 5, 6, 7]]


def _features(n_events: int = 3000, seed: int = 1):
    """(physical dimuons (N, 8) GeV as files store them (float32, so some squared masses
    come out negative), their transforms, transformed features and conditions)."""
    from hepgan.simulators.dimuon import simulate_dimuon

    events = simulate_dimuon(n_events, rng=np.random.default_rng(seed))
    physical = np.column_stack([events[name] for name in NAMES]).astype(np.float32)
    physical = physical.astype(np.float64)
    transforms = (fit_event_transform(physical, NAMES), fit_condition_transform(physical[:, :0]))
    transformed = torch.from_numpy(transforms[0].forward(physical))
    return physical, transforms, transformed, torch.zeros(n_events, 0)


def test_the_in_graph_kinematics_equal_the_numpy_ones() -> None:
    physical, transforms, transformed, conditions = _features()
    module = ParticleKinematicsFeatures(transforms, (8, 0), GROUPS, transformed, conditions)
    assert module.width == 6
    in_graph = module.raw(transformed, conditions).numpy()  # (N, 6)
    # What the numpy inverse gives for the same transformed values (the round trip through
    # the float32 transformed space moves the physical values by about 1e-4 relative).
    back = transforms[0].inverse(transformed.numpy()).astype(np.float64)
    for k, group in enumerate(GROUPS):
        pt, eta = transverse_momentum_and_eta(back, group)
        np.testing.assert_allclose(in_graph[:, 3 * k], np.log1p(pt), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(in_graph[:, 3 * k + 1], eta, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(
            in_graph[:, 3 * k + 2], np.log1p(back[:, group[0]]), rtol=1e-5, atol=1e-5
        )
    # and these are the simulated muons' own kinematics to the transform's precision
    _, simulated_eta = transverse_momentum_and_eta(physical, GROUPS[0])
    np.testing.assert_allclose(in_graph[:, 1], simulated_eta, atol=2e-3)
    standardised = module(transformed, conditions)
    np.testing.assert_allclose(standardised.mean(dim=0).numpy(), 0.0, atol=1e-4)
    np.testing.assert_allclose(standardised.std(dim=0).numpy(), 1.0, atol=1e-3)


def test_the_critics_gradient_penalty_stays_finite_for_any_generator_output() -> None:
    """Wild generator outputs (cos theta* beyond +-1, negative squared masses, far tails) must
    not give NaN gradients, first or second order (the gradient penalty)."""
    _, transforms, transformed, conditions = _features(2000)
    module = ParticleKinematicsFeatures(transforms, (8, 0), GROUPS, transformed, conditions)
    critic = PhysicsCritic(GanConfig(n_features=8, critic_hidden=[32]), observables=module)
    wild = torch.randn(512, 8, generator=torch.Generator().manual_seed(3)) * 4.0
    wild[:8] = torch.tensor([-50.0, 50.0, 0.0, -50.0, 50.0, 0.0, 50.0, -50.0])  # clipped ends
    wild.requires_grad_(True)
    score = critic(wild, torch.zeros(512, 0))
    (gradient,) = torch.autograd.grad(score.sum(), wild, create_graph=True)
    penalty = ((gradient.norm(dim=1) - 1) ** 2).mean()
    penalty.backward()
    assert torch.isfinite(gradient).all()
    assert all(torch.isfinite(p.grad).all() for p in critic.parameters() if p.grad is not None)
