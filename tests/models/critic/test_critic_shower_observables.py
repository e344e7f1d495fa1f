"""In-graph shower observables equal the numpy ones, and the in-graph inverse transform is exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hepgan.models.critic.physics_critic import PhysicsCritic, minibatch_standard_deviation
from hepgan.models.critic.shower_observables import (
    ShowerObservableFeatures,
    TransformedShowerEnergies,
    critic_shower_columns,
    shower_observables_torch,
    smooth_nonzero_count,
)
from hepgan.models.geometry import get_geometry
from hepgan.models.networks import GanConfig
from hepgan.models.transforms import (
    ShowerTransformSettings,
    fit_condition_transform,
    fit_shower_transform,
)
from hepgan.models.transforms.columns import LogOffset
from hepgan.simulators.showers import simulate_showers
from hepgan.validation.report.observables import shower_observables

GEOMETRY = get_geometry("small")
# the critic does not read hit indicators (shower.hit_mask): its transforms have none
WHOLE_SHOWER = ShowerTransformSettings(layer_shares=False, random_symmetry=False, hit_mask=False)
WIDTHS = (GEOMETRY.n_voxels, 1)  # physical widths: voxels, conditions (the incident energy)


def _graph_moments(energies: TransformedShowerEnergies, incident: torch.Tensor):
    """m(E), s(E) (N, F) of the graph's conditional standardisation (the first inverse step)."""
    return energies.features_out.steps[0].moments(incident[:, None])


@pytest.fixture(scope="module")
def showers() -> tuple[np.ndarray, np.ndarray]:
    return simulate_showers(
        3000,
        geometry=GEOMETRY,
        energy_min_mev=1e3,
        energy_max_mev=1e5,
        rng=np.random.default_rng(7),
    )


def test_observables_in_the_graph_equal_the_numpy_ones(showers) -> None:
    incident, voxels = showers
    expected = shower_observables(voxels.astype(np.float64), incident, GEOMETRY)
    got = shower_observables_torch(
        torch.as_tensor(voxels, dtype=torch.float64), torch.as_tensor(incident), GEOMETRY
    )
    assert list(got) == list(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(got[name].numpy(), values, rtol=1e-9, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("layer_shares", [False, True], ids=["shares", "layers"])
def test_inverse_transform_in_the_graph_is_the_numpy_inverse_and_sums_exactly(
    showers, layer_shares: bool
) -> None:
    incident, voxels = showers
    settings = ShowerTransformSettings(
        layer_shares=layer_shares, random_symmetry=False, hit_mask=False
    )
    features = fit_shower_transform(voxels, incident, settings, shape=GEOMETRY.shape)
    conditions = fit_condition_transform(incident[:, None], log_columns=[0])
    energies = TransformedShowerEnergies((features, conditions), WIDTHS).double()
    transformed = features.forward(voxels, incident[:, None])
    # Generated-like inputs: the real ones plus noise, so the shares no longer sum to 1 before
    # the in-graph normalisation.
    noisy = transformed + 0.3 * np.random.default_rng(8).normal(size=transformed.shape)
    got, got_incident = energies(
        torch.as_tensor(noisy, dtype=torch.float64),
        torch.as_tensor(conditions.forward(incident[:, None]), dtype=torch.float64),
    )
    np.testing.assert_allclose(got_incident.numpy(), incident, rtol=1e-5)
    # The numpy inverse without its readout threshold (the first step) is the same map.
    numpy_inverse = features.steps[1:]
    expected = noisy.astype(np.float64)
    for step in reversed(numpy_inverse):
        expected = step.inverse(expected, incident[:, None])
    # The graph keeps the moments in float32, so a small share carries an absolute error of
    # about 1e-7 (eps + gap) E; 2e-5 MeV (20 eV) covers eps at the default 5 % quantile and the
    # default gap of 2 eps, far below any readout threshold (15 keV).
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-4, atol=2e-5)
    # The normalisation holds exactly: the voxels add up to the response the graph decoded
    # (its float32-stored moments) times E_inc, to float64 rounding.
    mean, std = _graph_moments(energies, got_incident)
    response = (
        torch.as_tensor(noisy[:, -1], dtype=torch.float64) * std[:, -1] + mean[:, -1]
    ).clamp(min=0)
    np.testing.assert_allclose(
        got.sum(dim=1).numpy(), (response * got_incident).numpy(), rtol=1e-12
    )


def test_smooth_count_tends_to_the_hard_count(showers) -> None:
    _, voxels = showers
    tensor = torch.as_tensor(voxels[:200], dtype=torch.float64)
    hard = (tensor >= GEOMETRY.readout_threshold_mev * 1.5).sum(1).double()
    soft = smooth_nonzero_count(tensor, GEOMETRY.readout_threshold_mev * 1.5, temperature=1e-3)
    assert torch.allclose(soft, hard, atol=0.5)


def test_physics_critic_sees_observables_and_the_batch_spread(showers) -> None:
    incident, voxels = showers
    features = fit_shower_transform(voxels, incident, WHOLE_SHOWER)
    conditions = fit_condition_transform(incident[:, None], log_columns=[0])
    x = torch.as_tensor(features.forward(voxels, incident[:, None]))
    c = torch.as_tensor(conditions.forward(incident[:, None]))
    observables = ShowerObservableFeatures(
        TransformedShowerEnergies((features, conditions), WIDTHS), GEOMETRY, 0.01515, x, c
    )
    standardised = observables(x, c)
    assert standardised.shape == (len(x), observables.width)
    assert torch.allclose(standardised.mean(0), torch.zeros(observables.width), atol=1e-3)
    config = GanConfig(n_features=x.shape[1], n_conditions=1, critic_hidden=[16])
    critic = PhysicsCritic(config, observables=observables, minibatch_group=4)
    scores = critic(x[:64].requires_grad_(True), c[:64])
    assert scores.shape == (64,)
    (gradient,) = torch.autograd.grad(scores.sum(), critic.net[0].weight)
    assert torch.isfinite(gradient).all()
    # Groups of 4: the spread of a group of identical rows is 0 (up to the 1e-8 floor).
    same = torch.ones(8, 3)
    same[4:] = torch.arange(12.0).reshape(4, 3)
    spread = minibatch_standard_deviation(same, 4)
    assert spread[:4].max() < 1e-3 and spread[4:].min() > 1.0


def test_softened_layer_moments_keep_the_input_gradients_bounded(showers) -> None:
    """Shares of the whole shower, a generated last layer whose energy tends to 0 (every share at
    the empty point, two a hair above it): the exact centre's gradient in the critic's input
    grows like (eps + gap) / E_layer; the softened one stays below (eps + gap) s r / f0 times
    the layer's size in mm (s: the largest width of the standardisation, r: the response)."""
    incident, voxels = showers
    features = fit_shower_transform(voxels, incident, WHOLE_SHOWER)
    conditions = fit_condition_transform(incident[:, None], log_columns=[0])
    energies = TransformedShowerEnergies((features, conditions), WIDTHS).double()
    (shares_offset,) = (s for s in features.steps if isinstance(s, LogOffset))
    offset = shares_offset.offset + shares_offset.gap  # eps + gap of every share
    # float64 inputs, which carry a share of 1e-9 eps above the empty point
    x = torch.as_tensor(features.forward(voxels[:1], incident[:1, None]), dtype=torch.float64)
    c = torch.as_tensor(conditions.forward(incident[:1, None]), dtype=torch.float64)
    layer_size = GEOMETRY.n_voxels // GEOMETRY.n_layers
    last = slice(GEOMETRY.n_voxels - layer_size, GEOMETRY.n_voxels)
    moments = _graph_moments(energies, energies(x, c)[1])  # at the E_inc the graph decodes
    mean, std = (m[0] for m in moments)
    empty_y = (np.log(offset) - mean)[last] / std[last]
    x[0, last] = empty_y - 1e-3  # empty
    x[0, last.start : last.start + 2] = empty_y[:2] + 1e-9 / std[last][:2]  # about 1e-9 eps
    gradients = {}
    for softening in (0.0, 1e-4):
        inputs = x.clone().requires_grad_(True)
        shower, incident_energy = energies(inputs, c)
        observables = shower_observables_torch(
            shower, incident_energy, GEOMETRY, layer_softening=softening
        )
        (gradient,) = torch.autograd.grad(observables["centre_x_layer_09"].sum(), inputs)
        assert torch.isfinite(gradient).all()
        gradients[softening] = gradient.abs().max().item()
    extent_mm = float(np.abs(GEOMETRY.voxel_xy_mm()[0]).max())
    response = float(x[0, -1] * std[-1] + mean[-1])
    bound = float(offset * std[last].max()) * response / 1e-4 * 2 * extent_mm
    assert gradients[1e-4] < bound, (gradients, bound)
    assert gradients[0.0] > 1e3 * bound, (gradients, bound)


@pytest.mark.parametrize(
    "settings",
    [
        WHOLE_SHOWER,
        ShowerTransformSettings(random_symmetry=False, hit_mask=False),
        ShowerTransformSettings(log_offset_per_layer=True, random_symmetry=False, hit_mask=False),
        ShowerTransformSettings(energy_shares=False, layer_shares=False, random_symmetry=False),
    ],
    ids=["shares", "layers", "eps-per-layer", "fractions"],
)
def test_the_critics_float32_observables_are_the_float64_numpy_ones(showers, settings) -> None:
    """What the critic sees (float32, from the transformed features) is what the numpy inverse
    without its two cuts (the readout threshold and the empty-share cut) gives in float64,
    to float32 rounding, for real and generated-like inputs."""
    incident, voxels = showers
    features = fit_shower_transform(voxels, incident, settings, shape=GEOMETRY.shape)
    conditions = fit_condition_transform(incident[:, None], log_columns=[0])
    x = features.forward(voxels, incident[:, None])
    c = conditions.forward(incident[:, None])
    observables = ShowerObservableFeatures(
        TransformedShowerEnergies((features, conditions), WIDTHS),
        GEOMETRY,
        GEOMETRY.readout_threshold_mev,
        torch.as_tensor(x),
        torch.as_tensor(c),
    )
    noisy = x + 0.3 * np.random.default_rng(9).normal(size=x.shape).astype(np.float32)
    energy = incident[:, None]

    def columns(log_values: np.ndarray) -> np.ndarray:
        """The critic's columns from the log-space values, by the numpy inverse in float64."""
        values = log_values
        for step in reversed(features.steps[1:-1]):  # the log offsets, the energy shares
            values = step.inverse(values, energy)
        return critic_shower_columns(
            torch.as_tensor(values),
            torch.as_tensor(incident),
            GEOMETRY,
            GEOMETRY.readout_threshold_mev,
        ).numpy()

    rng = np.random.default_rng(10)
    for inputs in (x, noisy):
        with torch.no_grad():
            got = observables.raw(torch.as_tensor(inputs), torch.as_tensor(c)).numpy()
        assert got.dtype == np.float32 and np.isfinite(got).all()
        # Float32 rounding, measured where it matters: the log-space values z = y s(E) + m(E)
        # (ln(share + eps + gap), and the response) that the shares are decoded from. Float32
        # carries each to a few of its steps there (the rounding of y, s, m, the product and
        # the sum), which a share just above the empty point turns into a large relative error
        # (exp(z) - eps - gap cancels). The float64 columns moved by up to 4 float32 steps of
        # every z (random draws) bound the float32 columns, to 4 times that spread.
        log_values = features.steps[-1].inverse(inputs.astype(np.float64), energy)
        expected = columns(log_values)
        steps = 4 * np.spacing(log_values.astype(np.float32)).astype(np.float64)
        spread = np.max(
            [
                np.abs(columns(log_values + rng.uniform(-1, 1, steps.shape) * steps) - expected)
                for _ in range(4)
            ],
            axis=0,
        )
        bound = 4 * spread + 4e-6 * (1 + np.abs(expected))
        worst = np.unravel_index(np.argmax(np.abs(got - expected) / bound), got.shape)
        assert np.all(np.abs(got - expected) <= bound), (worst, got[worst], expected[worst])
