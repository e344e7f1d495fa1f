"""The acceptance of event models: fitted from the training events, kept with the transform,
and the sampler's redraw of generated events outside it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hepgan.models.networks import GanConfig, Generator
from hepgan.models.sampler import Sampler
from hepgan.models.transforms import EventTransformSettings, FeatureTransform, fit_event_transform
from hepgan.models.transforms.acceptance import (
    Acceptance,
    fit_acceptance,
    transverse_momentum_and_eta,
)

NAMES = ["E1", "px1", "py1", "pz1", "E2", "px2", "py2", "pz2"]
ACCEPTANCE = EventTransformSettings(acceptance=True)


def _dimuons(n: int, seed: int) -> np.ndarray:
    from hepgan.simulators.dimuon import simulate_dimuon

    events = simulate_dimuon(n, rng=np.random.default_rng(seed))
    return np.column_stack([events[name] for name in NAMES]).astype(np.float32)


def _sampler(transform: FeatureTransform, seed: int = 0) -> Sampler:
    """An untrained generator whose weights are scaled so its outputs spread as N(0, ~1)
    columns would, through a transform fitted on dimuons."""
    torch.manual_seed(seed)
    config = GanConfig(n_features=8, latent_dim=8, generator_hidden=[16], critic_hidden=[16])
    generator = Generator(config).eval()
    with torch.no_grad():
        for parameter in generator.parameters():
            parameter.mul_(3.0)
    return Sampler(generator, transform, FeatureTransform(), n_features=8)


def test_the_fitted_acceptance_is_the_simulators_and_holds_every_training_event() -> None:
    events = _dimuons(5000, seed=1)
    acceptance = fit_acceptance(events, [[0, 1, 2, 3], [4, 5, 6, 7]])
    # The simulator's cuts: |eta| < 2.4 and pT > 5 GeV for each muon.
    assert all(2.35 < value <= 2.4 for value in acceptance.abs_eta_max)
    assert all(5.0 <= value < 8.0 for value in acceptance.pt_min)  # few muons are that soft
    assert acceptance.contains(events).all()
    pt, eta = transverse_momentum_and_eta(events, [4, 5, 6, 7])
    np.testing.assert_allclose(np.hypot(*events[:, [5, 6]].T.astype(np.float64)), pt, rtol=1e-12)
    assert np.abs(eta).max() == pytest.approx(acceptance.abs_eta_max[1])
    # A muon past the edge, one too soft and one along the beam (pT = 0) are outside.
    outside = np.repeat(events[:1].astype(np.float64), 3, axis=0)
    outside[0, 3] = 10.0 * np.hypot(outside[0, 1], outside[0, 2])  # eta = asinh(10) = 3.0
    outside[1, [5, 6]] *= 1.0 / np.hypot(outside[1, 5], outside[1, 6])  # pT 1 GeV
    outside[2, [1, 2]] = 0.0
    assert not acceptance.contains(outside).any()


def test_the_acceptance_is_saved_with_the_transform_and_old_cards_have_none() -> None:
    events = _dimuons(2000, seed=2)
    transform = fit_event_transform(events, NAMES, ACCEPTANCE)
    assert isinstance(transform.acceptance, Acceptance)
    data = json.loads(json.dumps(transform.to_dict()))
    assert FeatureTransform.from_dict(data).acceptance == transform.acceptance
    del data["acceptance"]
    assert FeatureTransform.from_dict(data).acceptance is None
    assert fit_event_transform(events, NAMES).acceptance is None  # off by default
    assert fit_event_transform(events[:, :3], ["a", "b", "c"], ACCEPTANCE).acceptance is None


def test_generated_events_outside_the_acceptance_are_redrawn_reproducibly() -> None:
    events = _dimuons(4000, seed=3)
    transform = fit_event_transform(events, NAMES, ACCEPTANCE)
    acceptance = transform.acceptance
    assert acceptance is not None
    unrestricted = _sampler(FeatureTransform(transform.steps))
    raw = unrestricted.generate(np.zeros((3000, 0)), seed=7)
    # An untrained generator spills well past the edges, so the redraw has work to do.
    assert 0.05 < 1 - acceptance.contains(raw).mean() < 0.9
    sampler = _sampler(transform)
    generated = sampler.generate(np.zeros((3000, 0)), seed=7)
    assert acceptance.contains(generated).all()
    # Events inside at the first draw are kept as they are; the seed fixes the redraws.
    kept = acceptance.contains(raw)
    np.testing.assert_array_equal(generated[kept], raw[kept])
    np.testing.assert_array_equal(generated, sampler.generate(np.zeros((3000, 0)), seed=7))


def test_an_acceptance_nothing_reaches_does_not_stall_generation() -> None:
    events = _dimuons(2000, seed=4)
    transform = fit_event_transform(events, NAMES, ACCEPTANCE)
    transform.acceptance = Acceptance(
        groups=[[0, 1, 2, 3]], pt_min=[1e6], abs_eta_max=[0.0]
    )  # no muon has pT >= 1 PeV
    generated = _sampler(transform).generate(np.zeros((50, 0)), seed=1)
    assert generated.shape == (50, 8)
    assert np.isfinite(generated).all()
