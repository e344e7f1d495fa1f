"""Physics of the Grindhammer-Peters shower simulator, checked on its voxel output.

Tolerances are statistical (k standard errors computed from the sample) unless a
comment says otherwise; seeds are fixed so the suite is deterministic.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from hepgan.errors import ConfigError
from hepgan.models.geometry import GEOMETRIES, CylindricalGeometry, get_geometry
from hepgan.simulators.showers import (
    GFLASH,
    deposit_showers,
    sample_longitudinal_parameters,
    simulate_showers,
)

# The homogeneous-medium coefficients of Grindhammer & Peters, hep-ex/0001020, written out
# here so that the tests check the simulator against the paper, not against itself.
# Longitudinal fluctuations (y = E / E_c): <ln T> = ln(ln y - 0.812),
# <ln alpha> = ln(0.81 + (0.458 + 2.26 / Z) ln y), sigma(ln T) = 1 / (-1.4 + 1.26 ln y),
# sigma(ln alpha) = 1 / (-0.58 + 0.86 ln y), rho(ln T, ln alpha) = 0.705 - 0.023 ln y.
# Radial profile (E in GeV, tau = t / T): R_C = z1 + z2 tau, z1 = 0.0251 + 0.00319 ln E,
# z2 = 0.1162 - 0.000381 Z; R_T = k1 (exp(k3 (tau - k2)) + exp(k4 (tau - k2))),
# k1 = 0.659 - 0.00309 Z, k2 = 0.645, k3 = -2.59, k4 = 0.3585 + 0.0412 ln E;
# p = p1 exp((p2 - tau) / p3 - exp((p2 - tau) / p3)), p1 = 2.632 - 0.00094 Z,
# p2 = 0.401 + 0.00187 Z, p3 = 1.313 - 0.0686 ln E. Spots: N = 93 ln(Z) E^0.876,
# T_spot = T (0.698 + 0.00212 Z), alpha_spot = alpha (0.639 + 0.00334 Z).
# Transcribed from Geant4's GFlash (GVFlashHomoShowerTuning.hh, "Tuning class for GFlash
# homogeneous shower parameterisation", which implements the paper); the paper's own
# equation numbers could not be checked in the session that wrote this.
PUBLISHED = {
    "log_t_offset": -0.812,
    "log_alpha_a1": 0.81,
    "log_alpha_a2": 0.458,
    "log_alpha_a3": 2.26,
    "sigma_log_t_1": -1.4,
    "sigma_log_t_2": 1.26,
    "sigma_log_alpha_1": -0.58,
    "sigma_log_alpha_2": 0.86,
    "rho_1": 0.705,
    "rho_2": -0.023,
    "core_c1": 0.0251,
    "core_c2": 0.00319,
    "core_c3": 0.1162,
    "core_c4": -0.000381,
    "tail_t1": 0.659,
    "tail_t2": -0.00309,
    "tail_k2": 0.645,
    "tail_k3": -2.59,
    "tail_t5": 0.3585,
    "tail_t6": 0.0412,
    "weight_c1": 2.632,
    "weight_c2": -0.00094,
    "weight_c3": 0.401,
    "weight_c4": 0.00187,
    "weight_c5": 1.313,
    "weight_c6": -0.0686,
    "spots_n1": 93.0,
    "spots_n2": 0.876,
    "spots_t1": 0.698,
    "spots_t2": 0.00212,
    "spots_a1": 0.639,
    "spots_a2": 0.00334,
}

ENERGIES_MEV = np.array([1000.0, 3000.0, 10000.0, 30000.0, 100000.0])
EVENTS_PER_ENERGY = 2000


def contained_geometry(*, radial_edges_in_moliere_radii: tuple[float, ...]) -> CylindricalGeometry:
    """Tungsten read out in 100 layers of 0.4 X0 (40 X0 deep), one angular bin.

    Deep and wide enough that leakage is below 0.5 %, so what is measured is the
    parametrisation and the sampling model, not the presets' leakage.
    """
    preset = get_geometry("calochallenge-2")
    edges = tuple(preset.moliere_radius_mm * x for x in radial_edges_in_moliere_radii)
    return dataclasses.replace(
        preset, name="contained", n_layers=100, n_angles=1, radial_edges_mm=edges
    )


def simulate(
    n_events: int, geometry: CylindricalGeometry, low_mev: float, high_mev: float, *, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``simulate_showers`` with a fresh generator seeded with ``seed``."""
    return simulate_showers(
        n_events,
        geometry=geometry,
        energy_min_mev=low_mev,
        energy_max_mev=high_mev,
        rng=np.random.default_rng(seed),
    )


def moment_shower_maximum(layer_energy: np.ndarray, geometry: CylindricalGeometry) -> np.ndarray:
    """Per-event shower maximum T = m - v / m (X0) from the layer profile's moments, (N,).

    For a Gamma profile, mean m = alpha / beta and variance v = alpha / beta^2, so
    m - v / m = (alpha - 1) / beta. The layer width's d^2/12 is taken off v.
    """
    depth = geometry.layer_depth_centres_x0()  # (L,)
    weights = layer_energy / layer_energy.sum(axis=1, keepdims=True)  # (N, L)
    mean = weights @ depth
    variance = (weights * (depth[None, :] - mean[:, None]) ** 2).sum(axis=1)
    variance -= geometry.layer_thickness_x0**2 / 12.0
    return mean - variance / mean


def test_coefficients_are_the_published_ones() -> None:
    coefficients = dataclasses.asdict(GFLASH)
    assert coefficients.pop("alpha_floor") == 1.1  # ours, not the paper's: see showers.py
    assert coefficients == PUBLISHED


def test_mean_shower_maximum_grows_like_log_energy() -> None:
    geometry = contained_geometry(radial_edges_in_moliere_radii=(0.0, 1.0, 20.0))
    rng = np.random.default_rng(11)
    means, errors, expected = [], [], []
    for energy in ENERGIES_MEV:
        incident = np.full(EVENTS_PER_ENERGY, energy)
        # Deposited energy (before the sampling fluctuations): the moment estimator is
        # biased by O(q / E) on the noisy visible profile at 1 GeV.
        deposited = deposit_showers(incident, geometry=geometry, rng=rng)
        layers = deposited.reshape(EVENTS_PER_ENERGY, geometry.n_layers, -1).sum(axis=2)
        shower_max = moment_shower_maximum(layers, geometry)
        means.append(shower_max.mean())
        errors.append(shower_max.std(ddof=1) / np.sqrt(EVENTS_PER_ENERGY))
        # Mean of the log-normal of hep-ex/0001020: exp(<ln T> + sigma^2 / 2).
        log_y = np.log(energy / geometry.critical_energy_mev)
        sigma = 1.0 / (PUBLISHED["sigma_log_t_1"] + PUBLISHED["sigma_log_t_2"] * log_y)
        expected.append((log_y + PUBLISHED["log_t_offset"]) * np.exp(sigma**2 / 2.0))
    means, errors, expected = map(np.asarray, (means, errors, expected))
    assert np.all(np.abs(means - expected) < 4.0 * errors), (means, expected, errors)
    slope, _ = np.polyfit(np.log(ENERGIES_MEV), means, 1)
    # Paper: <T> = ln y - 0.858, slope 1 per e-fold of energy. The log-normal's shrinking
    # width makes it 0.99 between 1 and 100 GeV; the fit's standard error is ~0.005.
    assert slope == pytest.approx(1.0, abs=0.03)


def test_visible_fraction_is_stable_and_resolution_falls_like_one_over_sqrt_energy() -> None:
    geometry = contained_geometry(radial_edges_in_moliere_radii=(0.0, 1.0, 3.5, 20.0))
    rng = np.random.default_rng(12)
    ratio_means, spreads = [], []
    for energy in ENERGIES_MEV:
        incident, voxels = simulate_showers(
            EVENTS_PER_ENERGY,
            geometry=geometry,
            energy_min_mev=energy,
            energy_max_mev=energy,
            rng=rng,
        )
        ratio = voxels.sum(axis=1, dtype=np.float64) / incident  # (N,)
        ratio_means.append(ratio.mean())
        spreads.append(ratio.std(ddof=1) / ratio.mean())
    ratio_means, spreads = np.asarray(ratio_means), np.asarray(spreads)
    # Calibrated energies: every energy within 1 % of the incident one (leakage < 0.5 %,
    # the statistical error of each mean < 0.4 %).
    np.testing.assert_allclose(ratio_means, 1.0, rtol=0.01)
    log_energy = np.log(ENERGIES_MEV)
    exponent, intercept = np.polyfit(log_energy, np.log(spreads), 1)
    # The relative error of a standard deviation from n Gaussian values is 1/sqrt(2 (n-1));
    # propagated through the straight-line fit that is the slope's standard error.
    slope_error = np.sqrt(
        1.0 / (2 * (EVENTS_PER_ENERGY - 1)) / np.sum((log_energy - log_energy.mean()) ** 2)
    )
    assert exponent == pytest.approx(-0.5, abs=4.0 * slope_error)
    # The fitted line at 1 GeV is the stochastic term a of sigma/E = a / sqrt(E / GeV).
    assert np.exp(intercept + exponent * np.log(1000.0)) == pytest.approx(
        geometry.stochastic_term, rel=0.05
    )


def test_moliere_radius_contains_about_ninety_percent() -> None:
    """PDG: about 90 % of the energy within R_M and 99 % within 3.5 R_M (approximate rules)."""
    geometry = contained_geometry(radial_edges_in_moliere_radii=(0.0, 1.0, 3.5, 50.0))
    incident, voxels = simulate(3000, geometry, 1000.0, 100000.0, seed=13)
    per_radius = voxels.reshape(len(incident), geometry.n_layers, -1).sum(axis=(0, 1))  # (3,)
    cumulative = np.cumsum(per_radius) / per_radius.sum()
    assert 0.85 < cumulative[0] < 0.95
    assert cumulative[1] > 0.975


def test_log_t_and_log_alpha_are_correlated_log_normals() -> None:
    geometry = get_geometry("small")
    energy = np.full(200_000, 10000.0)
    profile = sample_longitudinal_parameters(
        energy, geometry=geometry, rng=np.random.default_rng(14)
    )
    log_y = np.log(10000.0 / geometry.critical_energy_mev)
    log_t, log_alpha = np.log(profile.shower_max_x0), np.log(profile.alpha)
    assert log_t.std() == pytest.approx(
        1.0 / (PUBLISHED["sigma_log_t_1"] + PUBLISHED["sigma_log_t_2"] * log_y), rel=0.01
    )
    assert log_alpha.std() == pytest.approx(
        1.0 / (PUBLISHED["sigma_log_alpha_1"] + PUBLISHED["sigma_log_alpha_2"] * log_y), rel=0.01
    )
    assert np.corrcoef(log_t, log_alpha)[0, 1] == pytest.approx(
        PUBLISHED["rho_1"] + PUBLISHED["rho_2"] * log_y, abs=0.01
    )
    assert stats.skew(log_t) == pytest.approx(0.0, abs=0.02)


@pytest.mark.parametrize("name", sorted(GEOMETRIES))
def test_layout_energies_and_determinism(name: str) -> None:
    geometry = GEOMETRIES[name]
    n = 2000 if name == "small" else 200

    incident, voxels = simulate(n, geometry, 1000.0, 100000.0, seed=1)
    assert incident.dtype == np.float64 and voxels.dtype == np.float32
    assert voxels.shape == (n, geometry.n_voxels)
    assert np.all(voxels >= 0) and np.all(np.isfinite(voxels))
    assert np.all((voxels == 0) | (voxels >= geometry.readout_threshold_mev))
    # Log-uniform: ln E is uniform on [ln 1 GeV, ln 100 GeV].
    uniform = stats.uniform(np.log(1000.0), np.log(100.0))
    assert stats.kstest(np.log(incident), uniform.cdf).pvalue > 1e-3
    _, same_voxels = simulate(n, geometry, 1000.0, 100000.0, seed=1)
    np.testing.assert_array_equal(voxels, same_voxels)
    assert not np.array_equal(voxels, simulate(n, geometry, 1000.0, 100000.0, seed=2)[1])


def test_azimuthal_symmetry_on_average() -> None:
    geometry = get_geometry("small")
    _, voxels = simulate(5000, geometry, 10000.0, 10000.0, seed=15)
    per_angle = voxels.reshape(-1, *geometry.shape).sum(axis=(1, 3))  # (N, A)
    shares = per_angle.sum(axis=0) / per_angle.sum()
    errors = per_angle.std(axis=0) / np.sqrt(len(per_angle)) / per_angle.sum() * len(per_angle)
    assert np.all(np.abs(shares - 1.0 / geometry.n_angles) < 4.0 * errors)


@pytest.mark.parametrize(
    ("n_events", "low", "high", "message"),
    [
        (-1, 1000.0, 2000.0, "n_events"),
        (10, 10.0, 2000.0, "energy_min_mev"),
        (10, 2000.0, 1000.0, "energy_max_mev"),
        (10, 1000.0, float("inf"), "finite"),
    ],
)
def test_bad_arguments_name_the_parameter(
    n_events: int, low: float, high: float, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        simulate_showers(
            n_events,
            geometry=get_geometry("small"),
            energy_min_mev=low,
            energy_max_mev=high,
            rng=np.random.default_rng(0),
        )
