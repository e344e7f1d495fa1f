"""write_shower_file picks the writer by the file's suffix, and refuses any other suffix."""

from __future__ import annotations

from pathlib import Path

import pytest

from hepgan.datafiles.calochallenge import read_calochallenge
from hepgan.datafiles.datasets import read_table
from hepgan.errors import ConfigError
from hepgan.models.geometry import get_geometry
from hepgan.simulators.files import write_shower_file


def _write(path: Path) -> str:
    geometry = get_geometry("small")
    summary = write_shower_file(
        path, 5, geometry=geometry, energy_min_mev=1000.0, energy_max_mev=2000.0, seed=1
    )
    return summary.layout


def test_the_suffix_picks_root_or_calochallenge_hdf5(tmp_path: Path) -> None:
    assert _write(tmp_path / "s.ROOT").startswith("TTree 'showers'")
    assert read_table(tmp_path / "s.ROOT", tree="showers", progress=None)["voxels"].shape[0] == 5
    assert _write(tmp_path / "s.hdf5").startswith("CaloChallenge HDF5")
    assert read_calochallenge(tmp_path / "s.hdf5")[1].shape[0] == 5


def test_another_suffix_is_refused_and_nothing_written(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must end in one of .root, .h5, .hdf5"):
        _write(tmp_path / "s.csv")
    assert list(tmp_path.iterdir()) == []
