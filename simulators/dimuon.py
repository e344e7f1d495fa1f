"""Z -> mu mu events with detector smearing and a background share, CMS dimuon layout.

Branches (GeV, radians) as in the CMS dimuon sample used in uproot tutorials:
Type, Run, Event, E1, px1, py1, pz1, pt1, eta1, phi1, Q1, E2, ..., Q2, M.

``Type`` is a string ("GT", "GG") in the CMS sample; a GAN needs numbers, so it
is stored as an int32: 1 = "GG" (both muons reconstructed as global muons),
0 = "GT" (one global, one tracker-only muon). :data:`TYPE_ENCODING` says so and
the CLI writes it into the file.

Generation per event (all vectorised):

- signal (share 1 - background_fraction): the mass from a relativistic
  Breit-Wigner, dN/ds ~ 1 / ((s - M_Z^2)^2 + M_Z^2 Gamma_Z^2) with s = M^2,
  truncated to the mass window; decay angle dN/dcos(theta) ~ 1 + cos^2(theta)
  in the rest frame; charges opposite.
- background: the Drell-Yan continuum and fakes as a falling exponential in M
  (slope ``background_slope_gev``), isotropic decay, a share of same-sign pairs.
- the pair's transverse momentum from a Gamma distribution (mode ~3 GeV, mean
  ~9 GeV, roughly the measured Z pt spectrum), its rapidity Gaussian (width 2,
  a flat-topped LHC Z rapidity distribution cut at |eta| < 2.4 by acceptance),
  azimuth uniform; muons boosted from the rest frame to the lab.
- detector: pt smeared with sigma(pt)/pt = a (+) b pt (CMS muon resolution,
  1-2 % below 100 GeV); E, px, py, pz and M recomputed from the smeared
  (pt, eta, phi); acceptance |eta| < 2.4 and pt > pt_min for both muons, events
  outside are regenerated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepgan.errors import ConfigError

MUON_MASS_GEV = 0.1056583755  # PDG 2024
BRANCHES = (
    "Type",
    "Run",
    "Event",
    *(f"{name}{i}" for i in (1, 2) for name in ("E", "px", "py", "pz", "pt", "eta", "phi", "Q")),
    "M",
)
TYPE_ENCODING = "Type: 1 = GG (two global muons), 0 = GT (one global, one tracker muon)"
TYPE_CODES = {"GT": 0, "GG": 1}


@dataclass(frozen=True)
class DimuonConfig:
    """Physics and detector settings of the dimuon generator (GeV)."""

    z_mass_gev: float = 91.1876  # PDG
    z_width_gev: float = 2.4952  # PDG
    mass_min_gev: float = 40.0  # generated pair-mass window (before smearing)
    mass_max_gev: float = 140.0
    background_fraction: float = 0.1  # share of continuum / fake pairs in the window
    background_slope_gev: float = 25.0  # dN/dM ~ exp(-M / slope)
    same_sign_fraction: float = 0.25  # share of background pairs with equal charges
    pair_pt_shape: float = 1.5  # Gamma shape of the pair pt
    pair_pt_scale_gev: float = 6.0  # Gamma scale of the pair pt
    pair_rapidity_sigma: float = 2.0  # Gaussian width of the pair rapidity
    pt_resolution_constant: float = 0.01  # a in sigma(pt)/pt = a (+) b pt
    pt_resolution_slope_per_gev: float = 1.0e-4  # b
    eta_max: float = 2.4  # acceptance
    pt_min_gev: float = 5.0
    global_muon_probability: float = 0.93  # per muon; Type GG when both are global
    first_run: int = 165088  # run numbers start in the range of CMS Run2011A
    events_per_run: float = 20000.0  # mean events per run


def simulate_dimuon(
    n_events: int, *, rng: np.random.Generator, config: DimuonConfig | None = None
) -> dict[str, np.ndarray]:
    """``n_events`` accepted events as branch name -> (N,) array (GeV, radians)."""
    config = config or DimuonConfig()
    _check_config(n_events, config)
    batches, accepted = [], 0
    while accepted < n_events or not batches:  # one batch at least, so n_events = 0 has dtypes
        # Oversample by the expected acceptance (about 0.5) so one or two passes suffice.
        batch = _generate_batch(max(2 * (n_events - accepted), 64), rng=rng, config=config)
        batches.append(batch)
        accepted += len(batch["M"])
    columns = {
        name: np.concatenate([batch[name] for batch in batches])[:n_events] for name in batches[0]
    }
    columns["Run"], columns["Event"] = run_and_event_numbers(n_events, rng=rng, config=config)
    return {name: columns[name] for name in BRANCHES}


def breit_wigner_masses(
    n: int,
    *,
    mass_gev: float,
    width_gev: float,
    low_gev: float,
    high_gev: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Masses (n,) GeV from the relativistic Breit-Wigner in s = M^2, truncated to [low, high].

    s = M^2 + M Gamma tan(u), u uniform between the arctangents of the window edges:
    the inverse CDF of the Cauchy distribution in s.
    """
    scale = mass_gev * width_gev
    u_low, u_high = np.arctan((np.array([low_gev, high_gev]) ** 2 - mass_gev**2) / scale)
    s = mass_gev**2 + scale * np.tan(rng.uniform(u_low, u_high, n))
    return np.sqrt(s)


def exponential_masses(
    n: int, *, slope_gev: float, low_gev: float, high_gev: float, rng: np.random.Generator
) -> np.ndarray:
    """Masses (n,) GeV with dN/dM ~ exp(-M / slope) on [low, high], by inverse CDF."""
    span = 1.0 - np.exp(-(high_gev - low_gev) / slope_gev)
    return low_gev - slope_gev * np.log1p(-span * rng.uniform(0.0, 1.0, n))


def one_plus_cos2_samples(n: int, *, rng: np.random.Generator) -> np.ndarray:
    """cos(theta) (n,) with density 3/8 (1 + c^2) on [-1, 1].

    The CDF gives c^3 + 3 c + 4 - 8 u = 0, solved by Cardano's formula (one real root).
    """
    half_q = 2.0 - 4.0 * rng.uniform(0.0, 1.0, n)
    root = np.sqrt(half_q**2 + 1.0)
    return np.cbrt(-half_q + root) + np.cbrt(-half_q - root)


def boost(
    energy: np.ndarray, momentum: np.ndarray, velocity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lorentz-boost four-vectors (E (N,), p (N, 3)) by velocity beta (N, 3), c = 1.

    E' = gamma (E + beta.p); p' = p + (gamma^2 / (gamma + 1) beta.p + gamma E) beta.
    """
    beta2 = np.sum(velocity**2, axis=1)  # (N,)
    gamma = 1.0 / np.sqrt(1.0 - beta2)
    beta_dot_p = np.sum(velocity * momentum, axis=1)
    coefficient = gamma**2 / (gamma + 1.0) * beta_dot_p + gamma * energy
    return gamma * (energy + beta_dot_p), momentum + coefficient[:, None] * velocity


def invariant_mass(
    energy: np.ndarray, px: np.ndarray, py: np.ndarray, pz: np.ndarray
) -> np.ndarray:
    """M = sqrt(E^2 - |p|^2) (GeV), negative squares clipped to 0."""
    return np.sqrt(np.maximum(energy**2 - px**2 - py**2 - pz**2, 0.0))


def _generate_batch(
    n: int, *, rng: np.random.Generator, config: DimuonConfig
) -> dict[str, np.ndarray]:
    """``n`` generated events, of which the accepted ones are returned (columns (n_acc,))."""
    c = config
    is_background = rng.uniform(0.0, 1.0, n) < c.background_fraction
    window = dict(low_gev=c.mass_min_gev, high_gev=c.mass_max_gev, rng=rng)
    mass = np.where(
        is_background,
        exponential_masses(n, slope_gev=c.background_slope_gev, **window),
        breit_wigner_masses(n, mass_gev=c.z_mass_gev, width_gev=c.z_width_gev, **window),
    )
    cos_theta = np.where(
        is_background, rng.uniform(-1.0, 1.0, n), one_plus_cos2_samples(n, rng=rng)
    )
    phi_star = rng.uniform(-np.pi, np.pi, n)
    p_star = np.sqrt(mass**2 / 4.0 - MUON_MASS_GEV**2)
    sin_theta = np.sqrt(1.0 - cos_theta**2)
    direction = np.stack(
        [sin_theta * np.cos(phi_star), sin_theta * np.sin(phi_star), cos_theta], 1
    )  # (n, 3)

    pair_pt = rng.gamma(c.pair_pt_shape, c.pair_pt_scale_gev, n)
    pair_rapidity = rng.normal(0.0, c.pair_rapidity_sigma, n)
    pair_phi = rng.uniform(-np.pi, np.pi, n)
    transverse_mass = np.sqrt(mass**2 + pair_pt**2)
    pair_energy = transverse_mass * np.cosh(pair_rapidity)
    pair_momentum = np.stack(
        [
            pair_pt * np.cos(pair_phi),
            pair_pt * np.sin(pair_phi),
            transverse_mass * np.sinh(pair_rapidity),
        ],
        1,
    )  # (n, 3)
    velocity = pair_momentum / pair_energy[:, None]

    charge1 = rng.choice(np.array([-1, 1], dtype=np.int32), n)
    same_sign = is_background & (rng.uniform(0.0, 1.0, n) < c.same_sign_fraction)
    charge2 = np.where(same_sign, charge1, -charge1).astype(np.int32)

    columns: dict[str, np.ndarray] = {}
    accepted = np.ones(n, dtype=bool)
    for index, sign, charge in ((1, 1.0, charge1), (2, -1.0, charge2)):
        _, momentum = boost(mass / 2.0, sign * p_star[:, None] * direction, velocity)
        muon = _smeared_muon(momentum, rng=rng, config=c)
        accepted &= (np.abs(muon["eta"]) < c.eta_max) & (muon["pt"] > c.pt_min_gev)
        columns |= {f"{name}{index}": values for name, values in muon.items()}
        columns[f"Q{index}"] = charge
    columns["M"] = invariant_mass(
        *(columns[f"{name}1"] + columns[f"{name}2"] for name in ("E", "px", "py", "pz"))
    )
    both_global = rng.uniform(0.0, 1.0, (2, n)) < c.global_muon_probability
    columns["Type"] = np.where(both_global.all(0), TYPE_CODES["GG"], TYPE_CODES["GT"]).astype(
        np.int32
    )
    return {name: values[accepted] for name, values in columns.items()}


def _smeared_muon(
    momentum: np.ndarray, *, rng: np.random.Generator, config: DimuonConfig
) -> dict[str, np.ndarray]:
    """Detector-level muon from its true momentum (N, 3): pt smeared, angles kept.

    sigma(pt) / pt = sqrt(a^2 + (b pt)^2); then px = pt cos(phi), py = pt sin(phi),
    pz = pt sinh(eta), E = sqrt(p^2 + m_mu^2).
    """
    true_pt = np.hypot(momentum[:, 0], momentum[:, 1])
    eta = np.arcsinh(momentum[:, 2] / true_pt)
    phi = np.arctan2(momentum[:, 1], momentum[:, 0])
    resolution = np.hypot(
        config.pt_resolution_constant, config.pt_resolution_slope_per_gev * true_pt
    )
    pt = true_pt * np.abs(1.0 + resolution * rng.standard_normal(len(true_pt)))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    energy = np.sqrt(px**2 + py**2 + pz**2 + MUON_MASS_GEV**2)
    return {"E": energy, "px": px, "py": py, "pz": pz, "pt": pt, "eta": eta, "phi": phi}


def run_and_event_numbers(
    n: int, *, rng: np.random.Generator, config: DimuonConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Run (N,) int32 and Event (N,) int64 numbers, in data-taking order.

    A new run starts after each event with probability 1 / events_per_run; event
    numbers increase within a run by random gaps (the sample is a selection).
    """
    new_run = rng.uniform(0.0, 1.0, n) < 1.0 / config.events_per_run
    run = (config.first_run + np.cumsum(new_run)).astype(np.int32)
    gaps = rng.integers(1, 2000, n)
    event = np.cumsum(gaps)
    starts = new_run.copy()
    starts[:1] = True
    run_start = np.flatnonzero(starts)  # first event of each run
    offset = np.repeat(event[run_start] - gaps[run_start], np.diff(np.r_[run_start, n]))
    return run, (event - offset).astype(np.int64)


def _check_config(n_events: int, config: DimuonConfig) -> None:
    if n_events < 0:
        raise ConfigError(f"n_events must be >= 0, got {n_events}")
    if not 0.0 <= config.background_fraction <= 1.0:
        raise ConfigError(
            f"background_fraction must be in [0, 1], got {config.background_fraction}"
        )
    if not 2 * MUON_MASS_GEV < config.mass_min_gev < config.mass_max_gev:
        raise ConfigError(
            f"mass window must satisfy 2 m_mu < mass_min_gev < mass_max_gev, got "
            f"[{config.mass_min_gev}, {config.mass_max_gev}]"
        )
