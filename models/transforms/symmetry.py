"""The exact symmetries of a cylindrical geometry with equal angular bins.

With A equal angular bins, rotating a shower by k bins (a -> a + k mod A) and reflecting it
(a -> A - 1 - a, i.e. phi -> -phi) are symmetries of the data: the 2 A elements of the
dihedral group. Each is a permutation of the voxels (index (layer A + angle) R + radius)
that keeps layers and radii.

Training can use them as augmentation (:mod:`hepgan.training.symmetry`). At generation,
:class:`DihedralSymmetry` gives each generated shower a random element of the group, so the
generated sample is exactly as symmetric as the geometry: a generator that prefers some
angular bins (a centre of energy off the axis in one direction more than another) loses
that tell. This holds only where the physics keeps the symmetry too (photons and electrons
without a magnetic field across the calorimeter).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

# Up to this many values (showers x voxels) one gather with an index per value is quickest.
SMALL_GATHER_VALUES = 1 << 16


def dihedral_permutations(shape: tuple[int, int, int], n_extra_columns: int = 0) -> np.ndarray:
    """(2 A, V + n_extra) gather indices for voxels of ``shape`` (layers, angles A, radii):
    ``voxels[:, p]`` is the shower rotated and/or reflected; extra columns after the voxels
    (the response) are left in place. The identity is one of the rows."""
    layers, angles, radii = shape
    layer, angle, radius = np.meshgrid(
        np.arange(layers), np.arange(angles), np.arange(radii), indexing="ij"
    )
    n_voxels = layers * angles * radii
    permutations = []
    for reflect in (False, True):
        for shift in range(angles):
            source = ((angles - 1 - angle) if reflect else angle) + shift
            index = (layer * angles + source % angles) * radii + radius
            extra = np.arange(n_voxels, n_voxels + n_extra_columns)
            permutations.append(np.concatenate([index.reshape(-1), extra]))
    return np.unique(np.asarray(permutations), axis=0)  # one angle: identity and reflection agree


@dataclass(frozen=True)
class DihedralSymmetry:
    """Random rotations and reflections of generated showers (voxels in MeV, layer by layer,
    then angle, then radius) of a geometry with ``angles`` equal angular bins."""

    layers: int
    angles: int
    radii: int

    @cached_property
    def permutations(self) -> np.ndarray:
        """(G, V) gather indices, one row per group element (:func:`dihedral_permutations`)."""
        return dihedral_permutations((self.layers, self.angles, self.radii))

    def apply(self, showers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Each shower (N, V) rotated/reflected by its own uniformly drawn group element; a
        new array. A few showers take one gather through their own index rows; many take one
        gather per element, about one copy of the showers without an (N, V) index array."""
        elements = rng.integers(len(self.permutations), size=len(showers))
        if showers.size <= SMALL_GATHER_VALUES:
            return np.take_along_axis(showers, self.permutations[elements], axis=1)
        out = np.empty_like(showers)
        for element, permutation in enumerate(self.permutations):
            rows = np.flatnonzero(elements == element)
            out[rows] = showers[rows][:, permutation]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"layers": self.layers, "angles": self.angles, "radii": self.radii}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DihedralSymmetry:
        return cls(int(data["layers"]), int(data["angles"]), int(data["radii"]))
