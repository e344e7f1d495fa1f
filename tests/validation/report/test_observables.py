"""Shower and event observables on hand-made inputs with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from hepgan.models.geometry import get_geometry
from hepgan.validation.report.observables import (
    event_observables,
    shower_observable_units,
    shower_observables,
    voxel_energy_spectrum,
)

SMALL = get_geometry("small")  # 10 layers x 4 angles x 3 radii


def _voxel(layer: int, angle: int, radius: int) -> int:
    return (layer * SMALL.n_angles + angle) * SMALL.n_radii + radius


def test_single_voxel_shower() -> None:
    voxels = np.zeros((1, SMALL.n_voxels))
    voxels[0, _voxel(3, 1, 2)] = 500.0  # MeV
    observables = shower_observables(voxels, np.array([1000.0]), SMALL)
    x, y = SMALL.voxel_xy_mm()
    assert observables["e_total_over_incident"][0] == pytest.approx(0.5)
    assert observables["e_layer_03"][0] == 500.0
    assert observables["e_layer_02"][0] == 0.0
    assert observables["centre_x_layer_03"][0] == pytest.approx(x[1, 2])
    assert observables["centre_y_layer_03"][0] == pytest.approx(y[1, 2])
    assert observables["width_x_layer_03"][0] == pytest.approx(0.0, abs=1e-9)
    assert observables["centre_x_layer_00"][0] == 0.0  # empty layer
    assert observables["longitudinal_cog_x0"][0] == pytest.approx(3.5 * SMALL.layer_thickness_x0)
    assert observables["n_nonzero"][0] == 1


def test_two_opposite_voxels_give_zero_centre_and_known_width() -> None:
    # Angles 0 and 2 of 4 are opposite (pi apart): equal energies put the centre on the axis,
    # and the width along their direction is the radius of the bin centre.
    voxels = np.zeros((2, SMALL.n_voxels))
    voxels[:, _voxel(0, 0, 1)] = 100.0
    voxels[:, _voxel(0, 2, 1)] = 100.0
    voxels[1, _voxel(9, 0, 0)] = 200.0  # second shower: half its energy in the last layer
    observables = shower_observables(voxels, np.array([400.0, 400.0]), SMALL)
    radius = SMALL.radial_centres_mm()[1]
    x, y = SMALL.voxel_xy_mm()
    assert observables["centre_x_layer_00"] == pytest.approx([0.0, 0.0], abs=1e-9)
    width = np.hypot(observables["width_x_layer_00"], observables["width_y_layer_00"])
    assert width == pytest.approx([radius, radius])
    assert np.hypot(x[0, 1], y[0, 1]) == pytest.approx(radius)
    depth = SMALL.layer_depth_centres_x0()
    assert observables["longitudinal_cog_x0"] == pytest.approx(
        [depth[0], (depth[0] + depth[9]) / 2]
    )
    assert observables["e_total_over_incident"] == pytest.approx([0.5, 1.0])
    assert observables["n_nonzero"].tolist() == [2, 3]


def test_units_and_spectrum() -> None:
    units = shower_observable_units(
        ["e_layer_00", "centre_x_layer_01", "longitudinal_cog_x0", "n_nonzero"]
    )
    assert units == {
        "e_layer_00": "MeV",
        "centre_x_layer_01": "mm",
        "longitudinal_cog_x0": "X0",
        "n_nonzero": "",
    }
    spectrum = voxel_energy_spectrum(np.array([[0.0, 2.0], [3.0, -1.0]]))
    assert np.isnan(spectrum[0, 0]) and np.isnan(spectrum[1, 1])
    assert spectrum[0, 1] == 2.0 and spectrum[1, 0] == 3.0


def test_wrong_voxel_count_is_an_error() -> None:
    with pytest.raises(ValueError, match="small"):
        shower_observables(np.zeros((2, 10)), np.ones(2), SMALL)


def test_dimuon_mass_from_four_vectors() -> None:
    # Two massless muons back to back along x with 45.6 GeV each: M = 91.2 GeV.
    # A second event: a muon at rest-like four-vector pair with a known invariant mass.
    names = ["E1", "px1", "py1", "pz1", "E2", "px2", "py2", "pz2", "M"]
    features = np.array(
        [
            [45.6, 45.6, 0.0, 0.0, 45.6, -45.6, 0.0, 0.0, 91.2],
            [50.0, 0.0, 30.0, 40.0, 50.0, 0.0, -30.0, 40.0, 0.0],  # E=100, p=(0,0,80): M=60
        ]
    )
    observables = event_observables(features, names)
    assert observables["M_from_four_vectors"] == pytest.approx([91.2, 60.0])
    assert set(names) < set(observables)
    np.testing.assert_array_equal(observables["E1"], features[:, 0])
    # event 2: muon 1 at pt 30 GeV along +y with pz 40 (eta = asinh(4/3) = ln 3), muon 2 along
    # -y; the pair at rest in the transverse plane, E = 100 and pz = 80: y = 1/2 ln(180 / 20)
    assert observables["pt1_from_four_vectors"] == pytest.approx([45.6, 30.0])
    assert observables["eta1_from_four_vectors"] == pytest.approx([0.0, np.log(3.0)])
    assert observables["phi1_from_four_vectors"] == pytest.approx([0.0, np.pi / 2])
    assert observables["phi2_from_four_vectors"] == pytest.approx([np.pi, -np.pi / 2])
    assert observables["pt_pair_from_four_vectors"] == pytest.approx([0.0, 0.0], abs=1e-12)
    assert observables["y_pair_from_four_vectors"] == pytest.approx([0.0, 0.5 * np.log(9.0)])


def test_event_observables_without_four_vectors_are_the_features() -> None:
    observables = event_observables(np.ones((3, 2)), ["a", "b"])
    assert list(observables) == ["a", "b"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_observables_keep_the_precision_of_their_input(dtype: type[np.floating]) -> None:
    voxels = np.random.default_rng(0).exponential(size=(5, SMALL.n_voxels)).astype(dtype)
    showers = shower_observables(voxels, np.full(5, 100.0), SMALL)
    events = event_observables(voxels[:, :2], ["a", "b"])
    assert {values.dtype for values in (*showers.values(), *events.values())} == {np.dtype(dtype)}


def test_random_showers_equal_the_layer_formulas_in_numpy() -> None:
    """Every observable of sparse random showers (empty voxels, layers and one empty shower)
    equals the formulas of shower_observables' docstring written out with numpy's own sums."""
    rng = np.random.default_rng(3)
    voxels = rng.exponential(50.0, size=(200, SMALL.n_voxels))
    voxels[rng.uniform(size=voxels.shape) < 0.6] = 0.0
    voxels[:20, : SMALL.n_voxels // SMALL.n_layers] = 0.0  # layer 0 empty in 20 showers
    voxels[-1] = 0.0  # no energy at all
    incident = rng.uniform(1e3, 1e5, 200)
    result = shower_observables(voxels, incident, SMALL)
    layers = voxels.reshape(200, SMALL.n_layers, -1)  # (N, L, A R)
    x, y = (coordinate.reshape(-1) for coordinate in SMALL.voxel_xy_mm())
    energy = layers.sum(axis=2)  # (N, L)
    weight = np.divide(1.0, energy, out=np.zeros_like(energy), where=energy > 0)
    for name, position in (("x", x), ("y", y)):
        centre = (layers @ position) * weight
        variance = np.clip((layers @ position**2) * weight - centre**2, 0.0, None)
        for layer in range(SMALL.n_layers):
            np.testing.assert_allclose(
                result[f"centre_{name}_layer_{layer:02d}"], centre[:, layer], atol=1e-9
            )
            # squared: <x^2> - <x>^2 of a one-voxel layer is 0 to rounding (1e-13 mm^2),
            # which the square root lifts to 1e-7 mm in either computation
            np.testing.assert_allclose(
                result[f"width_{name}_layer_{layer:02d}"] ** 2, variance[:, layer], atol=1e-9
            )
    for layer in range(SMALL.n_layers):
        np.testing.assert_allclose(result[f"e_layer_{layer:02d}"], energy[:, layer], rtol=1e-12)
    total = energy.sum(axis=1)
    np.testing.assert_allclose(result["e_total_over_incident"], total / incident, rtol=1e-12)
    cog = np.divide(
        energy @ SMALL.layer_depth_centres_x0(), total, out=np.zeros(200), where=total > 0
    )
    np.testing.assert_allclose(result["longitudinal_cog_x0"], cog, rtol=1e-12)
    np.testing.assert_array_equal(result["n_nonzero"], np.count_nonzero(voxels > 0, axis=1))
    hits = np.count_nonzero(voxels.reshape(len(voxels), SMALL.n_layers, -1) > 0, axis=2)
    for layer in range(SMALL.n_layers):
        np.testing.assert_array_equal(result[f"n_hits_layer_{layer:02d}"], hits[:, layer])
    assert result["longitudinal_cog_x0"][-1] == 0.0 and result["width_x_layer_00"][0] == 0.0
