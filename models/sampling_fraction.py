"""The sampling fraction of a sampling calorimeter layer, from its materials.

A minimum-ionising particle crossing one layer (absorber thickness t_a, active
thickness t_s) loses (dE/dx)_min rho t in each material; the share seen by the
active material is the MIP sampling fraction

    f_samp = S_s t_s / (S_s t_s + S_a t_a),  S = (dE/dx)_min rho  (MeV / mm)

Minimum ionisation from the PDG tables of atomic and nuclear properties:
silicon 1.664 MeV cm^2/g at 2.329 g/cm^3, tungsten 1.145 MeV cm^2/g at 19.30 g/cm^3.
For 1.4 mm W + 0.3 mm Si (CaloChallenge dataset 2) this gives 3.6 %. Electromagnetic
showers sample somewhat less than a MIP in high-Z absorbers (e/mip < 1); that
correction is not applied, so the figure is the MIP value.
"""

from __future__ import annotations

# (dE/dx)_min rho in MeV per mm (PDG: MeV cm^2/g x g/cm^3 / 10).
MIP_STOPPING_POWER_MEV_PER_MM = {
    "Si": 1.664 * 2.329 / 10.0,
    "W": 1.145 * 19.30 / 10.0,
}


def mip_sampling_fraction(
    absorber: str, absorber_mm: float, active: str, active_mm: float
) -> float:
    """f_samp = S_active t_active / (S_active t_active + S_absorber t_absorber), MIP dE/dx."""
    for name in (absorber, active):
        if name not in MIP_STOPPING_POWER_MEV_PER_MM:
            known = ", ".join(sorted(MIP_STOPPING_POWER_MEV_PER_MM))
            raise ValueError(f"no minimum-ionisation dE/dx for material {name!r}; known: {known}")
    if absorber_mm < 0 or active_mm <= 0:
        raise ValueError("layer thicknesses must be >= 0 (absorber), > 0 (active) mm")
    seen = MIP_STOPPING_POWER_MEV_PER_MM[active] * active_mm
    return seen / (seen + MIP_STOPPING_POWER_MEV_PER_MM[absorber] * absorber_mm)
