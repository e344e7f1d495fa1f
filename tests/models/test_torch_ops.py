"""The torch forms of the transform steps compute what the numpy steps compute."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from hepgan.models.transforms import (
    EventTransformSettings,
    FeatureTransform,
    ShowerTransformSettings,
    fit_condition_transform,
    fit_event_transform,
    fit_shower_transform,
)
from hepgan.models.transforms.columns import LogOffset, QuantileNormal
from hepgan.models.transforms.torch_chain import TransformChain
from hepgan.models.transforms.torch_ops import (
    NotExportable,
    forward_module,
    interpolate,
    inverse_module,
)


def _showers(rng: np.random.Generator, n: int = 400, voxels: int = 30):
    energy = np.exp(rng.uniform(np.log(1e3), np.log(1e5), n))  # (N,) MeV
    deposits = rng.gamma(1.0, 1.0, (n, voxels)) * energy[:, None] / voxels
    deposits[deposits < 0.3 * energy[:, None] / voxels] = 0.0
    return deposits, energy[:, None]


def _dimuons(rng: np.random.Generator, n: int = 400):
    from hepgan.simulators.dimuon import simulate_dimuon

    events = simulate_dimuon(n, rng=rng)
    names = ["E1", "px1", "py1", "pz1", "Q1", "E2", "px2", "py2", "pz2", "Q2"]
    return np.column_stack([events[name] for name in names]).astype(np.float64), names


SHAPE = (5, 1, 6)  # the toy showers' 30 voxels as layers of 6
WHOLE_SHOWER = ShowerTransformSettings(layer_shares=False, random_symmetry=False)


def _fitted_chains(rng: np.random.Generator):
    """(name, transform, physical values, conditions) for every recipe the library fits."""
    voxels, energy = _showers(rng)
    events, names = _dimuons(rng)

    def shower(settings: ShowerTransformSettings) -> FeatureTransform:
        return fit_shower_transform(voxels, energy[:, 0], settings, shape=SHAPE)

    yield "showers", shower(WHOLE_SHOWER), voxels, energy
    yield "showers-layers", shower(ShowerTransformSettings()), voxels, energy
    cut = ShowerTransformSettings(empty_share_fraction=0.5)
    yield "showers-empty-cut", shower(cut), voxels, energy
    per_layer = ShowerTransformSettings(log_offset_per_layer=True)
    yield "showers-offset-per-layer", shower(per_layer), voxels, energy
    ratio = ShowerTransformSettings(energy_shares=False, layer_shares=False)
    yield "showers-ratio", shower(ratio), voxels, energy
    yield "dimuon-pair-frame", fit_event_transform(events, names), events, None
    lab = EventTransformSettings(pair_variables="lab")
    yield "dimuon-lab-pair", fit_event_transform(events, names, lab), events, None
    mass_shell = EventTransformSettings(pair_frame=False)
    yield "dimuon-mass-shell", fit_event_transform(events, names, mass_shell), events, None


@pytest.mark.parametrize(
    "recipe",
    [
        "showers",
        "showers-layers",
        "showers-ratio",
        "dimuon-pair-frame",
        "dimuon-lab-pair",
        "dimuon-mass-shell",
    ],
)
def test_every_fitted_step_inverts_as_numpy_does(recipe: str) -> None:
    rng = np.random.default_rng(1)
    name, transform, values, conditions = next(
        chain for chain in _fitted_chains(rng) if chain[0] == recipe
    )
    torch_conditions = torch.zeros(len(values), 0, dtype=torch.float64)
    if conditions is not None:
        torch_conditions = torch.from_numpy(conditions)
    inputs = [np.asarray(values, dtype=np.float64)]
    for step in transform.steps:
        inputs.append(step.forward(inputs[-1], conditions))
    kinds = []
    for index, step in enumerate(transform.steps):
        transformed = inputs[index + 1]
        # Beyond the fitted values too: the clamps (negative energies, |cos| > 1) must agree.
        noisy = transformed + rng.normal(0, 0.3, transformed.shape) * transformed.std(axis=0)
        for y in (transformed, noisy):
            expected = step.inverse(y, conditions)
            module = inverse_module(step, transformed.shape[1])
            got = module(torch.from_numpy(y), torch_conditions).numpy()
            # Components near zero (py of a muon after a boost) get an absolute tolerance at
            # the column's scale; the normal CDF's series is good to 1e-9 (torch_ops).
            scale = np.abs(expected).max(axis=0)
            error = np.abs(got - expected)
            assert np.all(error <= 1e-9 * scale), (step.kind, (error / scale).max())
        kinds.append(step.kind)
    assert kinds, name


def test_condition_transform_forward_matches_numpy() -> None:
    rng = np.random.default_rng(2)
    conditions = np.column_stack([np.exp(rng.uniform(7, 11, 300)), rng.normal(0, 2, 300)])
    transform = fit_condition_transform(conditions, log_columns=[0])
    values = conditions
    for step in transform.steps:
        expected = step.forward(values, conditions)
        module = forward_module(step, values.shape[1])
        got = module(torch.from_numpy(values), torch.from_numpy(conditions)).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=step.kind)
        values = expected
    np.testing.assert_allclose(values, FeatureTransform(transform.steps).forward(conditions), 1e-6)


@pytest.mark.parametrize("uniform", [True, False])
def test_interpolate_is_numpy_interp(uniform: bool) -> None:
    rng = np.random.default_rng(3)
    xp = np.linspace(0, 1, 101) if uniform else np.sort(rng.uniform(0, 1, 12))
    if uniform:
        xp[0], xp[-1] = 0.002, 0.998  # the quantile grid's outer knots stand half an event in
    fp = np.cumsum(rng.uniform(0, 1, (3, len(xp))), axis=1)  # (F, K)
    x = rng.uniform(-0.2, 1.2, (500, 3))
    x[:5] = xp[[0, 1, 2, -2, -1], None]  # exactly on knots
    got = interpolate(torch.from_numpy(x), torch.from_numpy(xp), torch.from_numpy(fp)).numpy()
    expected = np.column_stack([np.interp(x[:, j], xp, fp[j]) for j in range(3)])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_a_step_without_a_torch_form_is_named() -> None:
    step = QuantileNormal(probabilities=[0.1, 0.9], knots=[[0.0, 1.0]])
    with pytest.raises(NotExportable, match="quantile_normal.*forward"):
        forward_module(step, 1)


def test_the_differentiable_inverse_leaves_out_the_cuts_and_stays_finite_in_float32() -> None:
    """The critic's mode: the readout threshold and the empty-share cut are not applied (the
    numpy inverse without them is the same map), and in float32 a generated value far above
    any fitted one still gives finite showers with finite gradients (exp clamped at 80)."""
    rng = np.random.default_rng(4)
    voxels, energy = _showers(rng)
    settings = ShowerTransformSettings(empty_share_fraction=0.5)
    transform = fit_shower_transform(voxels, energy[:, 0], settings, shape=SHAPE)
    y = transform.forward(voxels, energy).astype(np.float64)
    y += rng.normal(0, 0.3, y.shape)  # generated-like: some shares fall below the cut
    uncut = y
    for step in reversed(transform.steps[1:]):  # without the readout threshold (the first)
        step = replace(step, empty_below=0.0) if isinstance(step, LogOffset) else step
        uncut = step.inverse(uncut, energy)
    exact = TransformChain(transform, voxels.shape[1], inverse=True)
    plain = exact(torch.from_numpy(y), torch.from_numpy(energy)).numpy()
    assert (plain[uncut > 0] == 0).any()  # the cuts do apply in the exact mode
    chain = TransformChain(transform, voxels.shape[1], inverse=True, differentiable=True)
    got = chain(torch.from_numpy(y), torch.from_numpy(energy)).numpy()
    np.testing.assert_allclose(got, uncut, rtol=1e-9, atol=1e-12 * uncut.max())
    chain.float()
    huge = torch.full((2, y.shape[1]), 200.0, requires_grad=True)  # exp(200) is inf in float32
    showers = chain(huge, torch.from_numpy(energy[:2]).float())
    assert showers.dtype == torch.float32 and torch.isfinite(showers).all()
    (gradient,) = torch.autograd.grad(showers.sum(), huge)
    assert torch.isfinite(gradient).all()
    with pytest.raises(ValueError, match="inverse"):
        TransformChain(transform, voxels.shape[1], inverse=False, differentiable=True)
