"""Feature transforms: the inverse undoes the forward, outputs keep their physical constraints."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from hepgan.models.transforms import (
    EventTransformSettings,
    FeatureTransform,
    ShowerTransformSettings,
    fit_condition_transform,
    fit_event_transform,
    fit_shower_transform,
)
from hepgan.models.transforms.columns import LogOffset, QuantileNormal, Standardise
from hepgan.models.transforms.kinematics import LabPair, PairFrame
from hepgan.models.transforms.showers import EnergyShares

# Each voxel's share of the whole shower: no geometry, so no layers and no random symmetry
WHOLE_SHOWER = ShowerTransformSettings(layer_shares=False, random_symmetry=False, hit_mask=False)


def _round_trip(transform: FeatureTransform) -> FeatureTransform:
    return FeatureTransform.from_dict(json.loads(json.dumps(transform.to_dict())))


def test_event_transform_inverts_and_snaps_charges() -> None:
    rng = np.random.default_rng(1)
    energy = rng.exponential(30.0, 5000) + 2.0  # GeV, skewed
    phi = rng.uniform(-np.pi, np.pi, 5000)
    charge = rng.choice([-1.0, 1.0], 5000)
    features = np.column_stack([energy, phi, charge])  # (N, 3)
    transform = _round_trip(fit_event_transform(features))
    transformed = transform.forward(features)
    # Continuous columns become standard normal, the discrete one standardised.
    assert np.allclose(transformed.mean(axis=0), 0.0, atol=0.02)
    assert np.allclose(transformed.std(axis=0), 1.0, atol=0.05)
    back = transform.inverse(transformed)
    assert np.allclose(back[:, :2], features[:, :2], rtol=1e-3, atol=1e-3)
    assert np.array_equal(back[:, 2], charge)
    # Anything the generator outputs maps into the training range and onto allowed charges.
    wild = rng.normal(0.0, 3.0, (1000, 3))
    physical = transform.inverse(wild)
    assert physical[:, 0].min() >= energy.min() - 1e-4
    assert physical[:, 0].max() <= energy.max() + 1e-3
    assert set(np.unique(physical[:, 2])) <= {-1.0, 1.0}


def test_quantile_normal_matches_normal_quantiles() -> None:
    """y = Phi^-1(F(x)): the median maps to 0 and the 84th percentile to about 1."""
    x = np.random.default_rng(2).uniform(0.0, 1.0, (20001, 1))
    transform = fit_event_transform(x)
    step = transform.steps[0]
    assert isinstance(step, QuantileNormal)
    y = transform.forward(np.array([[0.5], [0.8413447]]))
    assert y[0, 0] == pytest.approx(0.0, abs=0.02)
    assert y[1, 0] == pytest.approx(1.0, abs=0.03)


@pytest.mark.parametrize("energy_shares", [True, False])
def test_shower_transform_inverts_and_never_goes_negative(energy_shares: bool) -> None:
    rng = np.random.default_rng(3)
    energy = np.exp(rng.uniform(np.log(1e3), np.log(1e5), 2000))  # MeV
    voxels = rng.exponential(1.0, (2000, 12)) * energy[:, None] * 1e-2
    voxels[voxels < 1.0] = 0.0  # readout threshold of 1 MeV
    fitted = fit_shower_transform(
        voxels, energy, replace(WHOLE_SHOWER, energy_shares=energy_shares)
    )
    transform = _round_trip(fitted)
    transformed = transform.forward(voxels, energy[:, None])
    assert np.all(np.isfinite(transformed))
    assert transformed.shape == (2000, 13 if energy_shares else 12)
    back = transform.inverse(transformed, energy[:, None])
    assert np.allclose(back, voxels, rtol=1e-4, atol=1e-4)
    assert np.array_equal(back == 0, voxels == 0)
    wild = transform.inverse(rng.normal(0.0, 5.0, transformed.shape), energy[:, None])
    assert wild.min() >= 0.0
    # Below the smallest training deposit nothing is kept: as sparse as the detector.
    assert np.all((wild == 0) | (wild >= 0.999 * voxels[voxels > 0].min()))


def test_condition_transform_is_log_then_standardise() -> None:
    energy = np.array([[1e3], [1e4], [1e5]])  # MeV
    transform = fit_condition_transform(energy, log_columns=[0])
    assert [type(step) for step in transform.steps] == [LogOffset, Standardise]
    y = transform.forward(energy)[:, 0]
    expected = np.log(energy[:, 0])
    expected = (expected - expected.mean()) / expected.std()
    assert np.allclose(y, expected, atol=1e-6)
    assert np.allclose(transform.inverse(y[:, None]), energy, rtol=1e-5)


def test_unknown_step_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown transform step 'exec'"):
        FeatureTransform.from_dict({"steps": [{"kind": "exec"}]})


def test_four_vectors_go_back_on_the_mass_shell() -> None:
    """E1 is modelled as m^2 = E^2 - |p|^2; the inverse gives E = sqrt(|p|^2 + m^2) >= |p|."""
    rng = np.random.default_rng(5)
    momenta = rng.normal(0.0, 30.0, (4000, 3))  # GeV
    mass = 0.1056583755  # muon, GeV
    energy = np.sqrt((momenta**2).sum(axis=1) + mass**2)
    charge = rng.choice([-1.0, 1.0], 4000)
    features = np.column_stack([energy, momenta, charge])  # E1, px1, py1, pz1, Q1
    names = ["E1", "px1", "py1", "pz1", "Q1"]
    transform = _round_trip(fit_event_transform(features, names))
    assert transform.steps[0].to_dict() == {
        "kind": "mass_shell_energy",
        "groups": [[0, 1, 2, 3]],
    }
    back = transform.inverse(transform.forward(features))
    assert np.allclose(back, features, rtol=1e-3, atol=1e-3)
    generated = transform.inverse(rng.normal(0.0, 1.0, (1000, 5))).astype(np.float64)
    p_squared = (generated[:, 1:4] ** 2).sum(axis=1)
    assert np.allclose(generated[:, 0], np.sqrt(p_squared + mass**2), rtol=1e-6)


def test_energy_shares_make_the_response_one_column() -> None:
    """[x_i / sum x, sum x / E_inc]: the last column is the energy response."""
    voxels = np.array([[1.0, 3.0, 0.0], [2.0, 2.0, 4.0]])  # MeV
    energy = np.array([[10.0], [100.0]])
    step = EnergyShares(condition_index=0)
    shares = step.forward(voxels, energy)
    assert np.allclose(shares, [[0.25, 0.75, 0.0, 0.4], [0.25, 0.25, 0.5, 0.08]])
    # Shares that do not sum to 1 are renormalised; negative ones clipped.
    back = step.inverse(np.array([[0.5, 1.5, -1.0, 0.4]]), energy[:1])
    assert np.allclose(back, [[1.0, 3.0, 0.0]])


def test_cards_of_earlier_versions_still_load() -> None:
    """Whole-row steps once carried ``columns: null`` in the card, and energy shares had no
    ``layer_size`` (one group of shares); such cards still load, with the meaning they had."""
    old = {"steps": [{"kind": "energy_shares", "columns": None, "condition_index": 0}]}
    (step,) = FeatureTransform.from_dict(old).steps
    assert isinstance(step, EnergyShares) and step.to_dict() == {
        "kind": "energy_shares",
        "condition_index": 0,
        "layer_size": 0,
    }


def test_output_width_follows_the_steps_that_change_it() -> None:
    """A chain says how wide its output is: V + 1 for showers (shares and response)."""
    rng = np.random.default_rng(3)
    voxels = rng.exponential(5.0, (500, 7))  # MeV
    energy = rng.uniform(1e3, 1e4, 500)  # MeV
    shower = fit_shower_transform(voxels, energy, WHOLE_SHOWER)
    assert shower.output_width(7) == 8 == shower.forward(voxels, energy[:, None]).shape[1]
    # with the hit mask, an indicator for each share: V + 1 + V
    masked = fit_shower_transform(voxels, energy, replace(WHOLE_SHOWER, hit_mask=True))
    assert masked.output_width(7) == 15 == masked.forward(voxels, energy[:, None]).shape[1]
    events = fit_event_transform(rng.normal(size=(500, 3)), ["a", "b", "c"])
    assert events.output_width(3) == 3


def test_pair_frame_round_trip_on_simulated_dimuons() -> None:
    """Two four-vectors <-> (m1^2, M, pT, y, m2^2, phi, cos theta*, phi*), M as a column."""
    from hepgan.simulators.dimuon import simulate_dimuon

    events = simulate_dimuon(3000, rng=np.random.default_rng(6))
    names = ["E1", "px1", "py1", "pz1", "Q1", "E2", "px2", "py2", "pz2", "Q2"]
    features = np.column_stack([events[name] for name in names]).astype(np.float64)
    step = PairFrame(columns=[0, 1, 2, 3, 5, 6, 7, 8])
    pair = step.forward(features, None)
    assert np.allclose(pair[:, 1], events["M"], rtol=1e-4)  # the pair mass column, GeV
    assert np.all(np.abs(pair[:, 7]) <= 1.0)  # cos theta*
    assert np.array_equal(pair[:, [4, 9]], features[:, [4, 9]])  # charges untouched
    back = step.inverse(pair, None)
    assert np.allclose(back, features, rtol=1e-6, atol=1e-6)
    transform = _round_trip(fit_event_transform(features, names))
    assert transform.steps[0].kind == "pair_frame"
    generated = transform.inverse(np.random.default_rng(7).normal(0, 1, (2000, 10)))
    energy = generated[:, [0, 5]].astype(np.float64)
    momentum = (generated[:, [1, 2, 3, 6, 7, 8]].astype(np.float64) ** 2).reshape(2000, 2, 3)
    assert np.all(energy >= np.sqrt(momentum.sum(axis=2)) * (1 - 1e-6))  # on the mass shell


def test_lab_pair_round_trip_keeps_each_muon_in_the_acceptance() -> None:
    """Two four-vectors <-> (m1^2, M, pT1, eta1, m2^2, phi1, eta2, dphi): M and each muon's eta
    are columns, and pT2 solved from M rebuilds the second muon exactly."""
    from hepgan.simulators.dimuon import simulate_dimuon

    events = simulate_dimuon(3000, rng=np.random.default_rng(8))
    names = ["E1", "px1", "py1", "pz1", "E2", "px2", "py2", "pz2"]
    features = np.column_stack([events[name] for name in names]).astype(np.float64)
    step = LabPair(columns=list(range(8)))
    pair = step.forward(features, None)
    np.testing.assert_allclose(pair[:, 1], events["M"], rtol=1e-6)
    np.testing.assert_allclose(pair[:, [3, 6]], np.column_stack([events["eta1"], events["eta2"]]))
    assert np.all((pair[:, 7] >= 0) & (pair[:, 7] < 2 * np.pi))  # dphi, back to back at pi
    np.testing.assert_allclose(step.inverse(pair, None), features, rtol=1e-9, atol=1e-9)
    transform = _round_trip(
        fit_event_transform(features, names, EventTransformSettings(pair_variables="lab"))
    )
    assert transform.steps[0].kind == "lab_pair"
    # Whatever the generator outputs: each muon's eta in the training range, the M column
    # the four-vectors' pair mass.
    lab_pair, quantiles = transform.steps
    pair = quantiles.inverse(np.random.default_rng(9).normal(0, 2, (2000, 8)), None)
    generated = lab_pair.inverse(pair, None)
    for k, columns in enumerate(([1, 2, 3], [5, 6, 7])):  # px, py, pz of each muon
        px, py, pz = generated[:, columns].T
        eta = np.arcsinh(pz / np.hypot(px, py))
        assert np.abs(eta).max() <= np.abs(pair[:, [3, 6][k]]).max() + 1e-9 < 2.4
    energy = generated[:, 0] + generated[:, 4]
    momentum = generated[:, [1, 2, 3]] + generated[:, [5, 6, 7]]
    np.testing.assert_allclose(np.sqrt(energy**2 - (momentum**2).sum(axis=1)), pair[:, 1], 1e-9)


def test_conditional_standardise_follows_the_resolution() -> None:
    """A response with mean 0.18 and width 0.17 / sqrt(E / GeV): y = (x - m(E)) / s(E) is
    about N(0, 1) at every energy, and the inverse restores the energy dependence."""
    from hepgan.models.transforms import fit_conditional_standardise

    rng = np.random.default_rng(8)
    energy = np.exp(rng.uniform(np.log(1e3), np.log(1e5), 40000))  # MeV
    width = 0.17 / np.sqrt(energy / 1e3)
    response = 0.18 + width * rng.normal(size=40000)
    step = fit_conditional_standardise(response[:, None], energy, n_bins=20)
    y = step.forward(response[:, None], energy[:, None])[:, 0]
    for low, high in ((1e3, 3e3), (3e4, 1e5)):
        selected = (energy > low) & (energy < high)
        assert abs(y[selected].mean()) < 0.05 and abs(y[selected].std() - 1) < 0.1
    x = step.inverse(rng.normal(size=(40000, 1)), energy[:, None])[:, 0]
    high_energy = energy > 5e4
    assert np.std(x[high_energy]) == pytest.approx(np.std(response[high_energy]), rel=0.1)


LAYERS, PER_LAYER = 5, 4  # the toy layered showers' shape
SHAPE = (LAYERS, 1, PER_LAYER)  # their geometry's (layers, angles, radii)


def _layered_showers(seed: int, n: int, *, gamma_shape: float) -> tuple[np.ndarray, np.ndarray]:
    """Toy showers of LAYERS x PER_LAYER voxels (N, 20), about 30 % of them empty, with gamma
    deposits (smaller ``gamma_shape``: more tiny ones), and incident energies (N,)."""
    rng = np.random.default_rng(seed)
    width = LAYERS * PER_LAYER
    voxels = rng.gamma(gamma_shape, 2.0, (n, width)) * (rng.random((n, width)) > 0.3)
    return voxels, rng.uniform(50.0, 500.0, n)


def test_layer_shares_are_normalised_exactly_and_invert() -> None:
    """Hierarchical shares: within each layer and over the layers they sum to exactly one
    after the inverse's renormalisation, whatever the generator gives; the voxels add up to
    r E_inc, and physical showers come back (empty layers too)."""
    n, layers, per_layer = 300, LAYERS, PER_LAYER
    voxels, energy = _layered_showers(8, n, gamma_shape=0.5)
    voxels[:10, 4:8] = 0.0  # a whole empty layer
    energy = energy[:, None]
    step = EnergyShares(layer_size=per_layer)
    assert step.output_width(20) == 20 + layers + 1
    shares = step.forward(voxels, energy)
    within = shares[:, :20].reshape(n, layers, per_layer).sum(axis=2)
    layer_energy = voxels.reshape(n, layers, per_layer).sum(axis=2)
    np.testing.assert_allclose(within, (layer_energy > 0).astype(float), atol=1e-12)
    np.testing.assert_allclose(shares[:, 20:-1].sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(step.inverse(shares, energy), voxels, rtol=1e-12, atol=1e-12)
    # Any generator output (unnormalised, negative) gives non-negative voxels that sum to
    # r E_inc exactly, in layers holding the renormalised fractions of it.
    raw = np.abs(np.random.default_rng(9).normal(0.3, 0.3, shares.shape))
    back = step.inverse(raw, energy)
    np.testing.assert_allclose(back.sum(axis=1), raw[:, -1] * energy[:, 0], rtol=1e-12)
    np.testing.assert_allclose(
        back.reshape(n, layers, per_layer).sum(axis=2) / back.sum(axis=1, keepdims=True),
        raw[:, 20:-1] / raw[:, 20:-1].sum(axis=1, keepdims=True),
        rtol=1e-12,
    )
    raw[:, :-1] -= 0.5  # negative shares and fractions count as zero
    assert np.all(step.inverse(raw, energy) >= 0)
    with pytest.raises(ValueError, match="not layers of"):
        step.forward(voxels[:, :19], energy)


@pytest.mark.parametrize("fraction", [0.25, 0.5])
def test_shares_below_a_fraction_of_eps_read_as_empty_and_the_rest_invert(fraction: float) -> None:
    """Within layers and of the layers, a share below ``fraction`` eps comes back as 0 (the
    generator's blur of the empty voxels' point at ln eps); every other voxel comes back."""
    n, layers, per_layer = 500, LAYERS, PER_LAYER
    voxels, energy = _layered_showers(12, n, gamma_shape=0.3)
    transform = fit_shower_transform(
        voxels, energy, ShowerTransformSettings(empty_share_fraction=fraction), shape=SHAPE
    )
    within, of_layers = (s for s in transform.steps if isinstance(s, LogOffset))
    for step in (within, of_layers):
        assert step.empty_below == pytest.approx(fraction * step.offset)
    shares = EnergyShares(layer_size=per_layer).forward(voxels, energy[:, None])
    small_layer = shares[:, 20:-1] < of_layers.empty_below  # (N, L): the layer reads as empty
    cut = (shares[:, :20] < within.empty_below) | np.repeat(small_layer, per_layer, axis=1)
    assert 0 < (cut & (voxels > 0)).sum() < 0.2 * (voxels > 0).sum()
    transformed = transform.forward(voxels, energy[:, None])
    back = transform.inverse(transformed, energy[:, None])
    np.testing.assert_array_equal(back == 0, (voxels == 0) | cut)
    # what is kept is the original voxels, each layer rescaled as one (renormalised over what
    # the cut left of it and of the shower), and the shower's energy is the same
    kept = (back > 0).reshape(n, layers, per_layer)
    ratio = (back / np.where(back > 0, voxels, 1.0)).reshape(n, layers, per_layer)
    largest = np.where(kept, ratio, -np.inf).max(axis=2)  # (N, L)
    smallest = np.where(kept, ratio, np.inf).min(axis=2)
    filled = kept.any(axis=2)
    np.testing.assert_allclose(largest[filled], smallest[filled], rtol=1e-5)
    np.testing.assert_allclose(back.sum(axis=1), voxels.sum(axis=1), rtol=1e-5)


def test_the_gap_keeps_every_share_and_reads_the_blur_below_it_as_empty() -> None:
    """Non-zero shares (within layers and of the layers) move up by gap = 2 eps (the default),
    so the round trip is exact, and generated values between the empty point ln(eps) and
    ln(eps + gap) come back as empty voxels."""
    voxels, energy = _layered_showers(13, 500, gamma_shape=0.3)
    # a readout threshold, as in every shower file: float32 y cannot carry shares below about
    # 1e-7 (eps + gap), gap or not
    voxels[voxels < 1e-3] = 0.0
    transform = fit_shower_transform(voxels, energy, shape=SHAPE)
    within, of_layers = (s for s in transform.steps if isinstance(s, LogOffset))
    for step in (within, of_layers):
        assert step.gap == pytest.approx(2 * step.offset)
    back = transform.inverse(transform.forward(voxels, energy[:, None]), energy[:, None])
    np.testing.assert_array_equal(back == 0, voxels == 0)
    np.testing.assert_allclose(back, voxels, rtol=2e-5, atol=1e-5)
    # the step alone: the empty point, the blur above it, the smallest share
    eps, gap = within.offset, within.gap
    y = np.log([[eps, eps * 1.01, eps + 0.99 * gap, eps + gap + 1e-3 * eps]])
    got = LogOffset(offset=eps, gap=gap).inverse(y, None)[0]
    assert list(got[:3]) == [0.0, 0.0, 0.0] and got[3] == pytest.approx(1e-3 * eps, rel=1e-6)


@pytest.mark.parametrize("quantile", [0.01, 0.03])
def test_the_log_offset_is_the_chosen_quantile_of_each_groups_shares(quantile: float) -> None:
    """eps of y = ln(share + eps): that quantile of the non-zero shares within layers and of
    the non-zero layer fractions, each group its own; the transform still inverts."""
    per_layer = PER_LAYER
    voxels, energy = _layered_showers(10, 400, gamma_shape=0.5)
    transform = fit_shower_transform(
        voxels, energy, ShowerTransformSettings(log_offset_quantile=quantile), shape=SHAPE
    )
    offsets = [step.offset for step in transform.steps if isinstance(step, LogOffset)]
    shares = EnergyShares(layer_size=per_layer).forward(voxels, energy[:, None])
    for offset, group in zip(offsets, (shares[:, :20], shares[:, 20:-1]), strict=True):
        assert offset == pytest.approx(np.quantile(group[group > 0], quantile), rel=1e-6)
    back = transform.inverse(transform.forward(voxels, energy[:, None]), energy[:, None])
    np.testing.assert_allclose(back, voxels, rtol=2e-5, atol=1e-5)


def test_a_log_offset_per_layer_is_each_layers_own_quantile() -> None:
    """log_offset_per_layer: one eps for each layer's shares and one for each layer's fraction, each
    the chosen quantile of that layer's non-zero values (a deep layer's fractions are far
    smaller than the pooled quantile); the transform still inverts exactly."""
    voxels, energy = _layered_showers(11, 400, gamma_shape=0.5)
    voxels[:, PER_LAYER:] *= 1e-3  # a second layer with a thousandth of the first's energy
    settings = ShowerTransformSettings(log_offset_per_layer=True, log_offset_quantile=0.05)
    transform = fit_shower_transform(voxels, energy, settings, shape=SHAPE)
    steps = [step for step in transform.steps if isinstance(step, LogOffset)]
    shares = EnergyShares(layer_size=PER_LAYER).forward(voxels, energy[:, None])
    n_voxels = LAYERS * PER_LAYER
    groups = [list(range(layer * PER_LAYER, (layer + 1) * PER_LAYER)) for layer in range(LAYERS)]
    groups += [[n_voxels + layer] for layer in range(LAYERS)]
    assert [step.columns for step in steps] == groups
    for step, group in zip(steps, groups, strict=True):
        values = shares[:, group]
        assert step.offset == pytest.approx(np.quantile(values[values > 0], 0.05), rel=1e-6)
        assert step.gap == pytest.approx(2 * step.offset)
    first, second = steps[LAYERS].offset, steps[LAYERS + 1].offset
    assert second < 1e-2 * first
    back = transform.inverse(transform.forward(voxels, energy[:, None]), energy[:, None])
    np.testing.assert_array_equal(back == 0, voxels == 0)
    np.testing.assert_allclose(back, voxels, rtol=2e-5, atol=1e-5)
