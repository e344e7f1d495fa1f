"""The sampling fraction comes from the layer materials' minimum ionisation."""

from __future__ import annotations

import pytest

from hepgan.models.geometry import GEOMETRIES
from hepgan.models.sampling_fraction import mip_sampling_fraction

# PDG "Atomic and nuclear properties": <-dE/dx>_min (MeV cm^2 / g) and density (g / cm^3).
SILICON = (1.664, 2.329)
TUNGSTEN = (1.145, 19.30)


def test_dataset_2_layer_gives_the_mip_fraction() -> None:
    si_mev = SILICON[0] * SILICON[1] * 0.03  # 0.3 mm Si
    w_mev = TUNGSTEN[0] * TUNGSTEN[1] * 0.14  # 1.4 mm W
    fraction = mip_sampling_fraction("W", 1.4, "Si", 0.3)
    assert fraction == pytest.approx(si_mev / (si_mev + w_mev), rel=1e-12)
    assert 0.01 < fraction < 0.04  # a few per cent, as for Si-W calorimeters
    assert GEOMETRIES["calochallenge-2"].sampling_fraction == pytest.approx(fraction)
    # The small geometry's layers are the same sandwich, six times thicker.
    assert GEOMETRIES["small"].sampling_fraction == pytest.approx(fraction)


def test_limits_and_unknown_material() -> None:
    assert mip_sampling_fraction("W", 0.0, "Si", 0.3) == 1.0
    assert mip_sampling_fraction("W", 1.4, "Si", 0.6) > mip_sampling_fraction("W", 1.4, "Si", 0.3)
    with pytest.raises(ValueError, match="Pb"):
        mip_sampling_fraction("Pb", 1.0, "Si", 0.3)
