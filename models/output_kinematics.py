"""Branches an event file derives from its four-vectors, written beside the generated ones so
generated files keep the input's layout (the CMS dimuon branches pt1, eta1, phi1, ..., M).

For each particle whose four-vector (E, px, py, pz) in GeV is generated (names sharing a
suffix, :func:`~hepgan.models.transforms.kinematics.four_vector_groups`):

    pt = sqrt(px^2 + py^2)   (GeV),   eta = asinh(pz / pt),   phi = atan2(py, px)  (rad)

and, for exactly two particles, the pair's invariant mass
M = sqrt(max((E1 + E2)^2 - |p1 + p2|^2, 0)) in GeV. A name the model generates itself is
never replaced.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hepgan.models.transforms.kinematics import four_vector_groups

PAIR_MASS = "M"


def derived_kinematics(features: np.ndarray, feature_names: Sequence[str]) -> dict[str, np.ndarray]:
    """{name: (N,) float64} of the derived branches of ``features`` (N, F), in the order a
    CMS dimuon file has them (pt, eta, phi per particle, then M), without any name already in
    ``feature_names``."""
    features = np.asarray(features, dtype=np.float64)  # (N, F)
    derived: dict[str, np.ndarray] = {}
    groups = four_vector_groups(feature_names)
    for energy, px, py, pz in groups:
        suffix = feature_names[energy][1:]
        pt = np.hypot(features[:, px], features[:, py])
        with np.errstate(divide="ignore", invalid="ignore"):
            eta = np.arcsinh(features[:, pz] / pt)
        derived[f"pt{suffix}"] = pt
        derived[f"eta{suffix}"] = eta
        derived[f"phi{suffix}"] = np.arctan2(features[:, py], features[:, px])
    if len(groups) == 2:
        total = features[:, groups[0]] + features[:, groups[1]]  # (N, 4): E, px, py, pz
        mass_squared = total[:, 0] ** 2 - np.sum(total[:, 1:] ** 2, axis=1)
        derived[PAIR_MASS] = np.sqrt(np.maximum(mass_squared, 0.0))
    return {name: values for name, values in derived.items() if name not in feature_names}
