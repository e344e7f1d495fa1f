"""The training sample: columns, units, layout, geometry, and a seeded, disjoint split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hepgan.datafiles.calochallenge import write_calochallenge
from hepgan.datafiles.root_writer import write_root
from hepgan.errors import ConfigError
from hepgan.models.geometry import get_geometry
from hepgan.simulators.dimuon import simulate_dimuon
from hepgan.simulators.showers import simulate_showers
from hepgan.training.config import TrainConfig
from hepgan.training.data import load_training_data


@pytest.fixture(scope="module")
def dimuon_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    events = simulate_dimuon(1000, rng=np.random.default_rng(1))
    path = tmp_path_factory.mktemp("d") / "dimuon.root"
    return write_root(path, events, tree="events")


def test_events_columns_units_and_layout(dimuon_file: Path) -> None:
    config = TrainConfig(
        data=[str(dimuon_file)], tree="events", features=["E1", "phi1", "Q1", "eta1"], out="m"
    )
    data = load_training_data(config)
    assert data.kind == "events" and data.features.shape == (1000, 4)
    assert data.feature_units == ["GeV", "rad", "e", ""]
    layout = {column.name: column for column in data.output.columns}
    assert list(layout) == ["E1", "phi1", "Q1", "eta1"]  # one branch per feature, in order
    assert layout["Q1"].dtype == "int32" and layout["Q1"].flat
    assert (layout["eta1"].start, layout["eta1"].stop) == (3, 4)
    assert data.files[0].sha256 and data.files[0].size_bytes == dimuon_file.stat().st_size


def test_split_is_seeded_disjoint_and_complete(dimuon_file: Path) -> None:
    config = TrainConfig(data=[str(dimuon_file)], tree="events", features=["E1"], out="m")
    data = load_training_data(config)
    split = data.split(config)
    assert split.sizes() == {"n_train": 700, "n_validation": 100, "n_reference": 200}
    everything = np.concatenate([split.train, split.validation, split.reference])
    assert np.array_equal(np.sort(everything), np.arange(1000))
    again = data.split(config)
    assert np.array_equal(again.reference, split.reference)
    config.seed = 1
    assert not np.array_equal(data.split(config).reference, split.reference)


def test_calochallenge_hdf5_with_geometry_from_the_voxel_count(tmp_path: Path) -> None:
    geometry = get_geometry("small")
    energy, voxels = simulate_showers(
        300, geometry=geometry, energy_min_mev=1e3, energy_max_mev=1e4,
        rng=np.random.default_rng(2),
    )  # fmt: skip
    path = write_calochallenge(tmp_path / "showers.h5", energy, voxels)
    config = TrainConfig(
        data=[str(path)], tree="ignored", voxels="voxels", condition="incident_energy", out="m"
    )
    data = load_training_data(config)
    assert data.kind == "showers" and data.geometry.name == "small"
    assert data.features.shape == (300, 120) and data.conditions.shape == (300, 1)
    assert [c.name for c in data.output.columns] == ["incident_energy", "voxels"]


def test_errors_name_the_setting(dimuon_file: Path) -> None:
    overlap = TrainConfig(
        data=[str(dimuon_file)], tree="events", features=["E1", "M"], condition="M", out="m"
    )
    with pytest.raises(ConfigError, match="--condition M is also a feature"):
        load_training_data(overlap)
    config = TrainConfig(data=[str(dimuon_file)], tree="events", features=["E1"], out="m")
    data = load_training_data(config)
    config.reference_fraction, config.validation_fraction = 0.0005, 0.0005
    with pytest.raises(ConfigError, match="too few to split"):
        data.split(config)


def test_input_files_are_expanded_once(dimuon_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Training, the table reader and the ROOT reader share one expansion of --data."""
    from hepgan.datafiles import input_paths

    expanded: list[str] = []
    expand_one = input_paths._expand_one
    monkeypatch.setattr(
        input_paths, "_expand_one", lambda entry: expanded.append(entry) or expand_one(entry)
    )
    pattern = str(dimuon_file.parent / "dimuon*.root")
    config = TrainConfig(data=[pattern], tree="events", features=["E1", "px1"], out="m")
    assert load_training_data(config).features.shape == (1000, 2)
    assert expanded == [pattern]
