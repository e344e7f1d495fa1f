"""CaloChallenge HDF5: round trip and errors naming the file and the dataset."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from hepgan.datafiles.calochallenge import read_calochallenge, write_calochallenge
from hepgan.errors import InputFileError


@pytest.fixture
def showers() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    incident = rng.uniform(1e3, 1e6, 300)  # (N,) MeV
    voxels = rng.exponential(5.0, (300, 368)).astype(np.float32)  # (N, V) MeV
    return incident, voxels


def test_round_trip_keeps_values_and_layout(
    tmp_path: Path, showers: tuple[np.ndarray, np.ndarray]
) -> None:
    incident, voxels = showers
    path = write_calochallenge(tmp_path / "dataset.h5", incident, voxels)

    with h5py.File(path, "r") as stored:  # the CaloChallenge layout itself
        assert stored["incident_energies"].shape == (300, 1)
        assert stored["showers"].shape == (300, 368)
    read_incident, read_voxels = read_calochallenge(path)

    assert read_incident.shape == (300,) and read_incident.dtype == np.float64
    assert read_voxels.dtype == np.float32
    np.testing.assert_array_equal(read_incident, incident)
    np.testing.assert_array_equal(read_voxels, voxels)


def _write_raw(path: Path, **datasets: np.ndarray) -> Path:
    with h5py.File(path, "w") as output:
        for name, values in datasets.items():
            output.create_dataset(name, data=values)
    return path


def test_missing_dataset_lists_the_existing_ones(tmp_path: Path) -> None:
    path = _write_raw(tmp_path / "bad.h5", energies=np.ones((3, 1)), showers=np.ones((3, 4)))
    with pytest.raises(InputFileError) as caught:
        read_calochallenge(path)
    message = str(caught.value)
    assert f"no dataset 'incident_energies' in file {path}" in message
    assert "datasets: energies, showers" in message


@pytest.mark.parametrize(
    ("datasets", "expected"),
    [
        (
            {"incident_energies": np.ones((3, 2)), "showers": np.ones((3, 4))},
            "dataset 'incident_energies' in file .* has shape \\(3, 2\\): expected \\(N, 1\\)",
        ),
        (
            {"incident_energies": np.ones((3, 1)), "showers": np.ones((4, 4))},
            "dataset 'showers' in file .* has shape \\(4, 4\\): "
            "expected \\(N, voxels\\) with N = 3",
        ),
        (
            {"incident_energies": np.ones((3, 1)), "showers": np.ones(3)},
            "dataset 'showers' in file .* has shape \\(3,\\)",
        ),
        (
            {"incident_energies": np.ones((2, 1)), "showers": np.array([b"ab", b"cd"])},
            "dataset 'showers' in file .* is of type \\|S2: expected numbers",
        ),
    ],
)
def test_wrong_shape_or_type_names_the_dataset(
    tmp_path: Path, datasets: dict[str, np.ndarray], expected: str
) -> None:
    path = _write_raw(tmp_path / "bad.h5", **datasets)
    with pytest.raises(InputFileError, match=expected):
        read_calochallenge(path)


def test_group_instead_of_dataset(tmp_path: Path) -> None:
    path = tmp_path / "group.h5"
    with h5py.File(path, "w") as output:
        output.create_dataset("incident_energies", data=np.ones((2, 1)))
        output.create_group("showers")
    with pytest.raises(InputFileError, match="dataset 'showers' in file .* is a group"):
        read_calochallenge(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="input file not found: .*absent.h5"):
        read_calochallenge(tmp_path / "absent.h5")


def test_not_hdf5_or_truncated(tmp_path: Path, showers: tuple[np.ndarray, np.ndarray]) -> None:
    text = tmp_path / "text.h5"
    text.write_text("not HDF5")
    with pytest.raises(InputFileError, match=f"cannot open {text} as HDF5"):
        read_calochallenge(text)

    whole = write_calochallenge(tmp_path / "whole.h5", *showers).read_bytes()
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputFileError, match=f"{truncated}.*truncated or corrupt"):
        read_calochallenge(truncated)
