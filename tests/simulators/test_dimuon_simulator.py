"""Physics of the Z -> mu mu generator: the mass peak, four-vectors, charges, acceptance."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import curve_fit
from scipy.special import voigt_profile

from hepgan.errors import ConfigError
from hepgan.simulators.dimuon import (
    BRANCHES,
    MUON_MASS_GEV,
    DimuonConfig,
    breit_wigner_masses,
    invariant_mass,
    one_plus_cos2_samples,
    simulate_dimuon,
)

CONFIG = DimuonConfig()


@pytest.fixture(scope="module")
def events() -> dict[str, np.ndarray]:
    return simulate_dimuon(50_000, rng=np.random.default_rng(21))


def test_smeared_mass_peaks_at_the_z_with_its_width() -> None:
    signal = simulate_dimuon(
        200_000, rng=np.random.default_rng(22), config=DimuonConfig(background_fraction=0.0)
    )
    low, high = 81.0, 101.0
    mass = signal["M"][(signal["M"] > low) & (signal["M"] < high)]
    counts, edges = np.histogram(mass, bins=200, range=(low, high))
    centres, width = 0.5 * (edges[1:] + edges[:-1]), edges[1] - edges[0]

    def voigt(x, norm, peak, gamma, sigma):  # Breit-Wigner (FWHM gamma) (x) Gaussian (sigma)
        return norm * width * voigt_profile(x - peak, sigma, gamma / 2.0)

    (_, peak, gamma, sigma), _ = curve_fit(
        voigt, centres, counts, p0=(len(mass), 91.0, 2.0, 1.0), sigma=np.sqrt(counts + 1.0)
    )
    # Statistical errors from the fit are 0.005 GeV (peak) and 0.017 GeV (width); the
    # tolerances (about 5 of them) also cover the Voigt shape only approximating a
    # relativistic Breit-Wigner smeared with an event-dependent resolution.
    assert peak == pytest.approx(CONFIG.z_mass_gev, abs=0.025)
    assert gamma == pytest.approx(CONFIG.z_width_gev, abs=0.08)
    # Resolution: sigma_M ~ M / 2 * sqrt(2) * sigma(pt)/pt, about 0.7 GeV for 1.1 %.
    assert 0.6 < sigma < 0.8


def test_breit_wigner_sampler_follows_the_relativistic_density() -> None:
    masses = breit_wigner_masses(
        100_000,
        mass_gev=91.1876,
        width_gev=2.4952,
        low_gev=60.0,
        high_gev=120.0,
        rng=np.random.default_rng(23),
    )
    grid = np.linspace(60.0, 120.0, 60_001)
    density = 2 * grid / ((grid**2 - 91.1876**2) ** 2 + (91.1876 * 2.4952) ** 2)  # dN/dM
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(grid))])
    cdf /= cdf[-1]
    assert stats.kstest(masses, lambda m: np.interp(m, grid, cdf)).pvalue > 1e-3


def test_decay_angle_follows_one_plus_cos_squared() -> None:
    cos_theta = one_plus_cos2_samples(100_000, rng=np.random.default_rng(24))
    cdf = lambda c: 3.0 / 8.0 * (c + c**3 / 3.0 + 4.0 / 3.0)  # noqa: E731
    assert stats.kstest(cos_theta, cdf).pvalue > 1e-3


def test_four_vectors_are_consistent(events: dict[str, np.ndarray]) -> None:
    for i in (1, 2):
        energy, px, py, pz = (events[f"{name}{i}"] for name in ("E", "px", "py", "pz"))
        np.testing.assert_allclose(invariant_mass(energy, px, py, pz), MUON_MASS_GEV, rtol=1e-3)
        np.testing.assert_allclose(events[f"pt{i}"], np.hypot(px, py), rtol=1e-12)
        np.testing.assert_allclose(events[f"eta{i}"], np.arcsinh(pz / np.hypot(px, py)), atol=1e-9)
        np.testing.assert_allclose(events[f"phi{i}"], np.arctan2(py, px), atol=1e-12)
    total = {name: events[f"{name}1"] + events[f"{name}2"] for name in ("E", "px", "py", "pz")}
    recomputed = np.sqrt(total["E"] ** 2 - total["px"] ** 2 - total["py"] ** 2 - total["pz"] ** 2)
    np.testing.assert_allclose(events["M"], recomputed, rtol=1e-9)


def test_acceptance_charges_and_background_share(events: dict[str, np.ndarray]) -> None:
    for i in (1, 2):
        assert np.all(np.abs(events[f"eta{i}"]) < CONFIG.eta_max)
        assert np.all(events[f"pt{i}"] > CONFIG.pt_min_gev)
        assert set(np.unique(events[f"Q{i}"])) == {-1, 1}
    same_sign = np.mean(events["Q1"] == events["Q2"])
    # Only background pairs can have equal charges: share ~ background x same-sign share,
    # changed a little by the acceptance; binomial error 0.07 % for 50k events.
    assert same_sign == pytest.approx(
        CONFIG.background_fraction * CONFIG.same_sign_fraction, abs=0.01
    )
    # The continuum fills the low-mass side the Z tail barely reaches.
    assert 0.02 < np.mean(events["M"] < 60.0) < CONFIG.background_fraction
    assert set(np.unique(events["Type"])) == {0, 1}


def test_signal_pairs_have_opposite_charges() -> None:
    signal = simulate_dimuon(
        5000, rng=np.random.default_rng(25), config=DimuonConfig(background_fraction=0.0)
    )
    np.testing.assert_array_equal(signal["Q1"], -signal["Q2"])


def test_branches_and_run_event_numbers(events: dict[str, np.ndarray]) -> None:
    assert tuple(events) == BRANCHES
    assert all(len(values) == 50_000 for values in events.values())
    run, event = events["Run"], events["Event"]
    assert np.all(np.diff(run) >= 0)
    same_run = np.diff(run) == 0
    assert np.all(np.diff(event)[same_run] > 0)  # unique and increasing within a run
    assert np.all(event > 0)


def test_same_seed_same_events() -> None:
    first = simulate_dimuon(1000, rng=np.random.default_rng(26))
    second = simulate_dimuon(1000, rng=np.random.default_rng(26))
    for name in BRANCHES:
        np.testing.assert_array_equal(first[name], second[name])


@pytest.mark.parametrize(
    ("n_events", "config", "message"),
    [
        (-1, DimuonConfig(), "n_events"),
        (10, DimuonConfig(background_fraction=1.5), "background_fraction"),
        (10, DimuonConfig(mass_min_gev=100.0, mass_max_gev=50.0), "mass window"),
    ],
)
def test_bad_settings_name_the_field(n_events: int, config: DimuonConfig, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        simulate_dimuon(n_events, rng=np.random.default_rng(0), config=config)
