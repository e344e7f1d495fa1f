"""``hepgan simulate``: files uproot and h5py read back with the documented layout; flag errors."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import uproot

from hepgan.cli import main
from hepgan.models.geometry import get_geometry
from hepgan.simulators.dimuon import BRANCHES, TYPE_ENCODING


def test_showers_root_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "showers.root"
    status = main(
        [
            "simulate",
            "showers",
            "--geometry",
            "small",
            "-n",
            "500",
            "--seed",
            "3",
            "-o",
            str(output),
        ]
    )
    assert status == 0
    summary = capsys.readouterr().out
    assert "Simulated 500 electromagnetic showers" in summary and str(output) in summary
    geometry = get_geometry("small")
    with uproot.open(output) as file:
        tree = file["showers"]
        assert tree.num_entries == 500
        assert tree["incident_energy"].typename == "double"
        assert tree["voxels"].typename == f"float[{geometry.n_voxels}]"
        incident = tree["incident_energy"].array(library="np")
        voxels = tree["voxels"].array(library="np")
        assert json.loads(str(file["geometry"]))["name"] == "small"
        simulation = json.loads(str(file["simulation"]))
    assert simulation["seed"] == 3
    assert voxels.shape == (500, geometry.n_voxels) and voxels.dtype == np.float32
    assert 1000.0 <= incident.min() and incident.max() <= 100000.0  # the default range, MeV
    assert simulation["sampling_fraction"] == pytest.approx(geometry.sampling_fraction)
    assert simulation["energy_scale"].startswith("calibrated")
    # Calibrated energies: the total is the incident energy less the leakage (a few per cent
    # through the 4.5 Moliere radii and 24 X0 of the small geometry), never above it on average.
    ratio = voxels.sum(axis=1) / incident
    assert 0.95 < ratio.mean() < 1.0


def test_showers_calochallenge_hdf5(tmp_path: Path) -> None:
    output = tmp_path / "showers.h5"
    arguments = ["simulate", "showers", "--geometry", "calochallenge-2", "-n", "20"]
    arguments += ["--energy-min", "5000", "--energy-max", "6000", "-o", str(output)]
    assert main(arguments) == 0
    with h5py.File(output, "r") as file:
        incident = file["incident_energies"][:]
        showers = file["showers"][:]
        attributes = dict(file.attrs)
    geometry = get_geometry("calochallenge-2")
    # Read as CaloChallenge dataset 2 is: incident_energies (N, 1) and showers (N, 45 x 16 x 9)
    # in MeV, calibrated (E_tot / E_inc near 1 less leakage), zero below 15.15 keV per voxel.
    assert incident.shape == (20, 1) and showers.shape == (20, 45 * 16 * 9)
    assert showers.dtype == np.float32
    assert np.all((incident >= 5000.0) & (incident <= 6000.0))
    assert np.all((showers == 0) | (showers >= 0.01515))
    assert 0.9 < (showers.sum(axis=1) / incident[:, 0]).mean() < 1.0
    assert attributes["sampling_fraction"] == pytest.approx(geometry.sampling_fraction)
    assert json.loads(attributes["geometry"])["name"] == "calochallenge-2"


def test_same_seed_same_file_contents(tmp_path: Path) -> None:
    arrays = []
    for name in ("a.root", "b.root"):
        output = tmp_path / name
        assert main(["simulate", "dimuon", "-n", "300", "--seed", "9", "-o", str(output)]) == 0
        with uproot.open(output) as file:
            arrays.append(file["events"].arrays(library="np"))
    for branch in BRANCHES:
        np.testing.assert_array_equal(arrays[0][branch], arrays[1][branch])


def test_dimuon_root_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "dimuon.root"
    assert main(["simulate", "dimuon", "-n", "2000", "--seed", "4", "-o", str(output)]) == 0
    assert "Simulated 2000 dimuon events" in capsys.readouterr().out
    with uproot.open(output) as file:
        tree = file["events"]
        assert tuple(tree.keys()) == BRANCHES
        assert tree["Type"].typename == "int32_t" and tree["M"].typename == "double"
        columns = tree.arrays(library="np")
        assert str(file["type_encoding"]) == TYPE_ENCODING
    assert len(columns["M"]) == 2000
    assert abs(np.median(columns["M"]) - 91.19) < 1.0


@pytest.mark.parametrize(
    ("arguments", "flag"),
    [
        (["showers", "--geometry", "huge"], "--geometry"),
        (["showers", "-n", "0"], "-n/--events"),
        (["showers", "--seed", "-1"], "--seed"),
        (["showers", "--energy-min", "10"], "--energy-min"),
        (["showers", "--energy-min", "5000", "--energy-max", "1000"], "--energy-max"),
        (["showers", "--energy-max", "nan"], "--energy-max"),
        (["showers", "-o", "{tmp}/showers.csv"], "-o/--output"),
        (["showers", "-o", "{tmp}/missing/showers.root"], "-o/--output"),
        (["dimuon", "-o", "{tmp}/dimuon.h5"], "-o/--output"),
        (["dimuon", "--background-fraction", "2"], "--background-fraction"),
    ],
)
def test_bad_flags_exit_2_with_one_line_naming_the_flag(
    arguments: list[str], flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = [argument.format(tmp=tmp_path) for argument in arguments]
    if "-o" not in arguments:
        arguments += ["-o", str(tmp_path / "out.root")]
    assert main(["simulate", *arguments]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and flag in error, error
    assert "Traceback" not in error
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_unparsable_number_is_an_argparse_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["simulate", "showers", "-n", "many", "-o", str(tmp_path / "x.root")])
    assert exit_info.value.code == 2
