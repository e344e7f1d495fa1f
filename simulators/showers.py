"""Electromagnetic showers from the Grindhammer-Peters parametrisation (GFlash).

Reference: G. Grindhammer and S. Peters, "The parameterized simulation of
electromagnetic showers in homogeneous and sampling calorimeters",
hep-ex/0001020; coefficients as in Geant4's ``GVFlashHomoShowerTuning`` and
``GFlashHomoShowerParameterisation`` (homogeneous medium, checked against both).

Per shower of incident energy E (MeV), with y = E / E_c:

1. Longitudinal energy profile: a Gamma distribution in depth t (X0),
   dE/dt = E (beta t)^(alpha-1) beta exp(-beta t) / Gamma(alpha), with the
   shower maximum T = (alpha - 1) / beta. ln T and ln alpha are drawn per event
   as correlated Gaussians (means, widths and correlation depend on ln y).
2. Spots: the energy is carried by N_spot = 93 ln(Z) (E/GeV)^0.876 spots whose
   depths follow their own Gamma profile (T_spot = T (0.698 + 0.00212 Z),
   alpha_spot = alpha (0.639 + 0.00334 Z)); the spots of a layer share the
   layer's energy equally.
3. Radial profile of the spots in a layer: core plus tail in Moliere radii,
   f(r) = p 2r R_C^2/(r^2+R_C^2)^2 + (1-p) 2r R_T^2/(r^2+R_T^2)^2, with R_C,
   R_T and p functions of tau (depth in units of the event's shower maximum);
   uniform in azimuth. Spots are counted per voxel with a multinomial draw, the
   exact distribution of independently placed spots; spots beyond the last
   radial edge or layer leak.
4. Sampling fluctuations: the visible energy of a voxel is
   f_samp * Gamma(shape = E_dep / q, scale = q) with q = a^2 * 1 GeV, so the
   summed visible energy has sigma/E = a / sqrt(E_dep / GeV) exactly (Gamma
   variables with one scale add up to a Gamma). Files hold **calibrated**
   energies, visible / f_samp (as the CaloChallenge datasets do), so E_tot/E_inc
   is near 1 less leakage; calibrated voxel energies below the readout threshold
   read as 0.

The absorber is treated as homogeneous tungsten (the paper's sampling-calorimeter
shifts of T and alpha, through F_s and e-hat, are not applied); the sampling
calorimeter enters through the sampling fraction and the stochastic term.

Everything is vectorised over events; the only Python loop runs over layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepgan.errors import ConfigError
from hepgan.models.geometry import CylindricalGeometry

MEV_PER_GEV = 1000.0
# Below this the parametrisation's widths (1 / (-1.4 + 1.26 ln y)) are not defined for
# tungsten-like media, and hep-ex/0001020 was fitted from 1 GeV upward.
MIN_ENERGY_MEV = 100.0


@dataclass(frozen=True)
class GrindhammerPetersCoefficients:
    """Homogeneous-medium coefficients, hep-ex/0001020 (Geant4 GVFlashHomoShowerTuning).

    ln y with y = E / E_c, ln E with E in GeV, Z the absorber's atomic number.
    """

    # <ln T> = ln(ln y + t1)
    log_t_offset: float = -0.812
    # <ln alpha> = ln(a1 + (a2 + a3 / Z) ln y)
    log_alpha_a1: float = 0.81
    log_alpha_a2: float = 0.458
    log_alpha_a3: float = 2.26
    # sigma(ln T) = 1 / (s1 + s2 ln y)
    sigma_log_t_1: float = -1.4
    sigma_log_t_2: float = 1.26
    # sigma(ln alpha) = 1 / (s1 + s2 ln y)
    sigma_log_alpha_1: float = -0.58
    sigma_log_alpha_2: float = 0.86
    # correlation(ln T, ln alpha) = r1 + r2 ln y
    rho_1: float = 0.705
    rho_2: float = -0.023
    # R_C(tau) = z1 + z2 tau, z1 = c1 + c2 ln E, z2 = c3 + c4 Z  (Moliere radii)
    core_c1: float = 0.0251
    core_c2: float = 0.00319
    core_c3: float = 0.1162
    core_c4: float = -0.000381
    # R_T(tau) = k1 (exp(k3 (tau - k2)) + exp(k4 (tau - k2))), k1 = t1 + t2 Z, k4 = t5 + t6 ln E
    tail_t1: float = 0.659
    tail_t2: float = -0.00309
    tail_k2: float = 0.645
    tail_k3: float = -2.59
    tail_t5: float = 0.3585
    tail_t6: float = 0.0412
    # p(tau) = p1 exp((p2 - tau)/p3 - exp((p2 - tau)/p3)), p1 = c1 + c2 Z, p2 = c3 + c4 Z,
    # p3 = c5 + c6 ln E
    weight_c1: float = 2.632
    weight_c2: float = -0.00094
    weight_c3: float = 0.401
    weight_c4: float = 0.00187
    weight_c5: float = 1.313
    weight_c6: float = -0.0686
    # N_spot = n1 ln(Z) (E/GeV)^n2
    spots_n1: float = 93.0
    spots_n2: float = 0.876
    # T_spot = T (t1 + t2 Z), alpha_spot = alpha (a1 + a2 Z)
    spots_t1: float = 0.698
    spots_t2: float = 0.00212
    spots_a1: float = 0.639
    spots_a2: float = 0.00334
    # alpha is kept above this so the profile has a maximum (as in earlier GFlash releases)
    alpha_floor: float = 1.1


GFLASH = GrindhammerPetersCoefficients()


@dataclass(frozen=True)
class LongitudinalParameters:
    """Per-event longitudinal profile parameters, each (N,)."""

    shower_max_x0: np.ndarray  # T, depth of the maximum in X0
    alpha: np.ndarray  # Gamma shape
    mean_log_alpha: np.ndarray  # <ln alpha> at this energy (enters tau)

    @property
    def beta(self) -> np.ndarray:
        """beta = (alpha - 1) / T, per X0."""
        return (self.alpha - 1.0) / self.shower_max_x0


def sample_longitudinal_parameters(
    energy_mev: np.ndarray,
    *,
    geometry: CylindricalGeometry,
    rng: np.random.Generator,
    coefficients: GrindhammerPetersCoefficients = GFLASH,
) -> LongitudinalParameters:
    """Draw (T, alpha) per event as correlated log-normals.

    ln T = <ln T> + sigma_T (sqrt((1+rho)/2) g1 + sqrt((1-rho)/2) g2),
    ln alpha = <ln alpha> + sigma_a (sqrt((1+rho)/2) g1 - sqrt((1-rho)/2) g2),
    g1, g2 standard normal, so corr(ln T, ln alpha) = rho.
    """
    c = coefficients
    log_y = np.log(energy_mev / geometry.critical_energy_mev)  # (N,)
    z = geometry.atomic_number
    mean_log_t = np.log(log_y + c.log_t_offset)
    mean_log_alpha = np.log(c.log_alpha_a1 + (c.log_alpha_a2 + c.log_alpha_a3 / z) * log_y)
    sigma_log_t = 1.0 / (c.sigma_log_t_1 + c.sigma_log_t_2 * log_y)
    sigma_log_alpha = 1.0 / (c.sigma_log_alpha_1 + c.sigma_log_alpha_2 * log_y)
    rho = c.rho_1 + c.rho_2 * log_y
    g1, g2 = rng.standard_normal((2, len(log_y)))  # (N,) each
    common = np.sqrt((1.0 + rho) / 2.0) * g1
    opposite = np.sqrt((1.0 - rho) / 2.0) * g2
    shower_max = np.exp(mean_log_t + sigma_log_t * (common + opposite))
    alpha = np.exp(mean_log_alpha + sigma_log_alpha * (common - opposite))
    return LongitudinalParameters(
        shower_max_x0=shower_max,
        alpha=np.maximum(alpha, c.alpha_floor),
        mean_log_alpha=mean_log_alpha,
    )


def gamma_layer_fractions(alpha: np.ndarray, beta: np.ndarray, edges_x0: np.ndarray) -> np.ndarray:
    """Share of a Gamma(alpha, beta) profile in each depth interval, shape (N, L).

    fraction_l = P(alpha, beta t_{l+1}) - P(alpha, beta t_l), P the regularised
    lower incomplete gamma function; ``edges_x0`` (L + 1,) in X0.
    """
    from scipy.special import gammainc

    cumulative = gammainc(alpha[:, None], beta[:, None] * edges_x0[None, :])  # (N, L + 1)
    return np.diff(cumulative, axis=1)


def spot_counts(
    energy_mev: np.ndarray,
    *,
    atomic_number: float,
    coefficients: GrindhammerPetersCoefficients = GFLASH,
) -> np.ndarray:
    """Number of spots per shower, N_spot = n1 ln(Z) (E/GeV)^n2, rounded, (N,) int64."""
    c = coefficients
    mean = c.spots_n1 * np.log(atomic_number) * (energy_mev / MEV_PER_GEV) ** c.spots_n2
    return np.maximum(np.rint(mean), 1).astype(np.int64)


def radial_profile_parameters(
    energy_mev: np.ndarray,
    tau: np.ndarray,
    *,
    atomic_number: float,
    coefficients: GrindhammerPetersCoefficients = GFLASH,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Core radius R_C, tail radius R_T (Moliere radii) and core weight p at depth tau, each (N,).

    R_C = z1 + z2 tau; R_T = k1 (exp(k3 (tau - k2)) + exp(k4 (tau - k2)));
    p = p1 exp((p2 - tau)/p3 - exp((p2 - tau)/p3)), clipped to [0, 1]; E in GeV.
    """
    c = coefficients
    z = atomic_number
    log_e = np.log(energy_mev / MEV_PER_GEV)
    core = c.core_c1 + c.core_c2 * log_e + (c.core_c3 + c.core_c4 * z) * tau
    k4 = c.tail_t5 + c.tail_t6 * log_e
    tail = (c.tail_t1 + c.tail_t2 * z) * (
        np.exp(c.tail_k3 * (tau - c.tail_k2)) + np.exp(k4 * (tau - c.tail_k2))
    )
    p3 = c.weight_c5 + c.weight_c6 * log_e
    scaled = (c.weight_c3 + c.weight_c4 * z - tau) / p3
    weight = (c.weight_c1 + c.weight_c2 * z) * np.exp(scaled - np.exp(scaled))
    return core, tail, np.clip(weight, 0.0, 1.0)


def radial_bin_probabilities(
    core: np.ndarray, tail: np.ndarray, weight: np.ndarray, edges_rm: np.ndarray
) -> np.ndarray:
    """Probability of a spot in each radial bin, (N, R), from the core + tail profile.

    Each term integrates to F(r) = r^2 / (r^2 + R^2); edges ``edges_rm`` (R + 1,) in
    Moliere radii. The remainder 1 - sum is the lateral leakage.
    """
    r2 = edges_rm[None, :] ** 2  # (1, R + 1)
    cumulative = weight[:, None] * r2 / (r2 + core[:, None] ** 2) + (1.0 - weight[:, None]) * r2 / (
        r2 + tail[:, None] ** 2
    )  # (N, R + 1)
    return np.diff(cumulative, axis=1)


def sampling_response(
    deposited_mev: np.ndarray, *, geometry: CylindricalGeometry, rng: np.random.Generator
) -> np.ndarray:
    """Calibrated energy per voxel, MeV, same shape as ``deposited_mev``.

    E_cal = E_vis / f_samp = Gamma(shape = E_dep / q, scale = q), q = a^2 GeV: mean E_dep,
    relative variance q / E_dep. Calibrated values below the readout threshold become 0.
    """
    quantum_mev = geometry.stochastic_term**2 * MEV_PER_GEV
    calibrated = rng.gamma(deposited_mev / quantum_mev, quantum_mev)
    calibrated[calibrated < geometry.readout_threshold_mev] = 0.0
    return calibrated


def simulate_showers(
    n_events: int,
    *,
    geometry: CylindricalGeometry,
    energy_min_mev: float,
    energy_max_mev: float,
    rng: np.random.Generator,
    coefficients: GrindhammerPetersCoefficients = GFLASH,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate ``n_events`` showers with incident energies log-uniform in the range (MeV).

    Returns incident_energy (N,) float64 MeV and voxels (N, n_voxels) float32 calibrated
    MeV (visible / sampling fraction), flattened in (layer, angle, radius) order.
    """
    _check_range(n_events, energy_min_mev, energy_max_mev)
    log_energy = rng.uniform(np.log(energy_min_mev), np.log(energy_max_mev), n_events)
    incident = np.exp(log_energy)  # (N,)
    deposited = deposit_showers(incident, geometry=geometry, rng=rng, coefficients=coefficients)
    calibrated = sampling_response(deposited, geometry=geometry, rng=rng)  # (N, V)
    return incident, calibrated.astype(np.float32)


def deposit_showers(
    incident_mev: np.ndarray,
    *,
    geometry: CylindricalGeometry,
    rng: np.random.Generator,
    coefficients: GrindhammerPetersCoefficients = GFLASH,
) -> np.ndarray:
    """Energy deposited (before sampling) per voxel, (N, n_voxels) float64 MeV.

    Layer l gets E * fraction_l of the energy profile, carried by its spots in equal
    shares; a layer with energy but no spot gets one, so only leakage loses energy.
    """
    n_events = len(incident_mev)
    z = geometry.atomic_number
    profile = sample_longitudinal_parameters(
        incident_mev, geometry=geometry, rng=rng, coefficients=coefficients
    )
    depth_edges = np.arange(geometry.n_layers + 1) * geometry.layer_thickness_x0  # (L + 1,)
    layer_energy = incident_mev[:, None] * gamma_layer_fractions(
        profile.alpha, profile.beta, depth_edges
    )  # (N, L)
    # The same floor as for alpha keeps beta_spot = (alpha_spot - 1) / T_spot positive.
    spot_alpha = np.maximum(
        profile.alpha * (coefficients.spots_a1 + coefficients.spots_a2 * z),
        coefficients.alpha_floor,
    )
    spot_max = profile.shower_max_x0 * (coefficients.spots_t1 + coefficients.spots_t2 * z)
    spot_fractions = gamma_layer_fractions(
        spot_alpha, (spot_alpha - 1.0) / spot_max, depth_edges
    )  # (N, L)
    spot_pvals = np.concatenate([spot_fractions, 1.0 - spot_fractions.sum(1, keepdims=True)], 1)
    n_spots = spot_counts(incident_mev, atomic_number=z, coefficients=coefficients)
    spots_per_layer = rng.multinomial(n_spots, np.clip(spot_pvals, 0.0, None))[:, :-1]  # (N, L)
    spots_per_layer = np.where((spots_per_layer == 0) & (layer_energy > 0), 1, spots_per_layer)

    # tau = t / T * (alpha - 1) / alpha * <alpha> / (<alpha> - 1): depth over the centre of
    # gravity, rescaled to the average shower (GFlash ComputeTau).
    mean_alpha = np.exp(profile.mean_log_alpha)
    tau_per_x0 = (
        (profile.alpha - 1.0)
        / (profile.alpha * profile.shower_max_x0)
        * mean_alpha
        / (mean_alpha - 1.0)
    )  # (N,)
    edges_rm = np.asarray(geometry.radial_edges_mm) / geometry.moliere_radius_mm  # (R + 1,)
    deposited = np.empty((n_events, geometry.n_layers, geometry.n_angles, geometry.n_radii))
    for layer, depth in enumerate(geometry.layer_depth_centres_x0()):
        core, tail, weight = radial_profile_parameters(
            incident_mev, tau_per_x0 * depth, atomic_number=z, coefficients=coefficients
        )
        radial = radial_bin_probabilities(core, tail, weight, edges_rm)  # (N, R)
        spots = spots_per_layer[:, layer]  # (N,)
        cell = np.repeat(radial[:, None, :] / geometry.n_angles, geometry.n_angles, 1)
        cell = cell.reshape(n_events, -1)  # (N, A * R)
        pvals = np.concatenate([cell, 1.0 - cell.sum(1, keepdims=True)], 1)  # (N, A * R + 1)
        counts = rng.multinomial(spots, np.clip(pvals, 0.0, None))[:, :-1]  # (N, A * R)
        energy_per_spot = np.divide(
            layer_energy[:, layer], spots, out=np.zeros(n_events), where=spots > 0
        )  # (N,) MeV
        deposited[:, layer] = (counts * energy_per_spot[:, None]).reshape(
            n_events, geometry.n_angles, geometry.n_radii
        )
    return deposited.reshape(n_events, -1)


def _check_range(n_events: int, energy_min_mev: float, energy_max_mev: float) -> None:
    if n_events < 0:
        raise ConfigError(f"n_events must be >= 0, got {n_events}")
    if not (np.isfinite(energy_min_mev) and np.isfinite(energy_max_mev)):
        raise ConfigError("energy_min_mev and energy_max_mev must be finite")
    if energy_min_mev < MIN_ENERGY_MEV:
        raise ConfigError(
            f"energy_min_mev must be >= {MIN_ENERGY_MEV:g} MeV (the parametrisation's range), "
            f"got {energy_min_mev:g}"
        )
    if energy_max_mev < energy_min_mev:
        raise ConfigError(
            f"energy_max_mev ({energy_max_mev:g}) must be >= energy_min_mev ({energy_min_mev:g})"
        )
