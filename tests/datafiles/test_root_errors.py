"""Bad ROOT input gives an error a user can act on: it names the file and the object."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from hepgan.datafiles.root_reader import read_events
from hepgan.datafiles.root_writer import write_root
from hepgan.errors import ConfigError, InputFileError

HZZ = "uproot-HZZ.root"


@pytest.fixture
def shower_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    columns = {
        "incident_energy": rng.uniform(1e3, 1e5, 4000),  # (N,) MeV
        "voxels": rng.exponential(10.0, (4000, 368)).astype(np.float32),  # (N, 368) MeV
    }
    return write_root(
        tmp_path / "showers.root",
        columns,
        tree="showers",
        metadata={"report": "{}"},
        rows_per_basket=500,
    )


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.root"
    with pytest.raises(InputFileError, match="input file not found: .*nowhere.root"):
        read_events(missing, tree="events", branches=["x"])


def test_pattern_matching_nothing_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"no file matches the pattern .*run_\*\.root"):
        read_events(str(tmp_path / "run_*.root"), tree="events", branches=["x"])


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="is a folder, not a file"):
        read_events(tmp_path, tree="events", branches=["x"])


def test_missing_tree_lists_the_trees_and_the_nearest(shared_data: Path) -> None:
    with pytest.raises(InputFileError) as caught:
        read_events(shared_data / HZZ, tree="event", branches=["NJet"])
    message = str(caught.value)
    assert "no tree 'event' (did you mean 'events'?)" in message
    assert str(shared_data / HZZ) in message
    assert "trees in this file: events" in message


def test_object_that_is_not_a_tree(shower_file: Path) -> None:
    with pytest.raises(InputFileError, match="'report' in file .*showers.root is a TObjString"):
        read_events(shower_file, tree="report", branches=["x"])


def test_missing_branch_lists_nearest_and_existing(shared_data: Path) -> None:
    with pytest.raises(InputFileError) as caught:
        read_events(shared_data / HZZ, tree="events", branches=["NJet", "Jet_PX"])
    message = str(caught.value)
    assert "no branch 'Jet_PX' (did you mean 'Jet_Px'" in message
    assert f"tree 'events' in file {shared_data / HZZ}" in message
    assert "branches there: NJet, Jet_Px, Jet_Py" in message


def test_missing_branch_in_a_later_file_is_reported_before_reading(
    shared_data: Path, tmp_path: Path, shower_file: Path
) -> None:
    other = write_root(tmp_path / "other.root", {"incident_energy": np.ones(3)}, tree="showers")
    with pytest.raises(
        InputFileError, match="no branch 'voxels' in tree 'showers' in file .*other"
    ):
        read_events([shower_file, other], tree="showers", branches=["voxels"], progress=False)


def test_tree_without_entries(tmp_path: Path) -> None:
    path = write_root(tmp_path / "empty.root", {"x": np.ones(0)}, tree="events")
    with pytest.raises(InputFileError, match="tree 'events' has no entries in file .*empty.root"):
        read_events(path, tree="events", branches=["x"])


def test_files_with_different_array_sizes_cannot_be_combined(
    tmp_path: Path, shower_file: Path
) -> None:
    other = write_root(
        tmp_path / "other.root", {"voxels": np.zeros((3, 100), np.float32)}, tree="showers"
    )
    with pytest.raises(InputFileError, match=r"'voxels' is float\[100\] in file .*other.root"):
        read_events([shower_file, other], tree="showers", branches=["voxels"])


@pytest.mark.parametrize(
    ("branch", "typename"),
    [("label", "std::string"), ("hits", "std::vector<std::vector<double>>")],
)
def test_non_numeric_branch_names_its_type(tmp_path: Path, branch: str, typename: str) -> None:
    path = tmp_path / "mixed.root"
    with uproot.recreate(path) as output:  # uproot writes an RNTuple for a dict of arrays
        output["events"] = {
            "label": ak.Array(["a", "bb"]),
            "hits": ak.Array([[[1.0]], [[2.0, 3.0], []]]),
        }
    with pytest.raises(InputFileError) as caught:
        read_events(path, tree="events", branches=[branch])
    message = str(caught.value)
    assert f"branch {branch!r} in tree 'events' in file {path}" in message
    assert f"has type {typename!r}: expected numbers" in message


def test_not_a_root_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.root"
    path.write_text("this is not ROOT\n" * 100)
    with pytest.raises(InputFileError, match=f"cannot open {path} as a ROOT file"):
        read_events(path, tree="events", branches=["x"])


def test_real_file_truncated_before_its_directory(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / HZZ).read_bytes()
    path = tmp_path / "cut.root"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError) as caught:
        read_events(path, tree="events", branches=["NJet"])
    assert f"cannot open {path} as a ROOT file (not ROOT, truncated or corrupt)" in str(
        caught.value
    )


def test_damaged_tree_header_names_the_file_and_the_tree(shower_file: Path) -> None:
    key = uproot.open(shower_file).key("showers")  # where the TTree object itself is stored
    data = bytearray(shower_file.read_bytes())
    body = key.fSeekKey + key.fKeylen
    data[body + 20 : body + key.fNbytes - key.fKeylen - 10] = bytes(key.fNbytes - key.fKeylen - 30)
    shower_file.write_bytes(bytes(data))

    with pytest.raises(InputFileError) as caught:
        read_events(shower_file, tree="showers", branches=["voxels"], progress=False)

    message = str(caught.value)
    assert f"cannot read tree 'showers' in file {shower_file}: the file is truncated" in message


def test_truncated_data_names_the_file_and_the_branch(shower_file: Path, tmp_path: Path) -> None:
    data = shower_file.read_bytes()
    path = tmp_path / "cut.root"
    path.write_bytes(data[: int(len(data) * 0.9)])  # the tree's metadata survives, baskets not

    with pytest.raises(InputFileError) as caught:
        read_events(path, tree="showers", branches=["incident_energy", "voxels"], progress=False)

    message = str(caught.value)
    assert "cannot read branch 'voxels' (entries " in message
    assert f"of tree 'showers' in file {path}: the file is truncated or corrupt" in message


def test_corrupt_compressed_data_names_the_file(shared_data: Path, tmp_path: Path) -> None:
    path = tmp_path / "corrupt.root"
    shutil.copyfile(shared_data / HZZ, path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = bytes(2000)  # zero a stretch of compressed baskets
    path.write_bytes(bytes(data))

    events = uproot.open(path)["events"]
    with pytest.raises(InputFileError) as caught:
        read_events(path, tree="events", branches=list(events.keys()), progress=False)

    message = str(caught.value)
    assert f"of tree 'events' in file {path}: the file is truncated or corrupt" in message
    assert "cannot read branch" in message


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        ("NJet >", "cut 'NJet >' is not a valid expression"),
        ("__import__('os')", "unknown function '__import__'"),
        ("Jet_Px > 20", "gives one value per object, not one per event"),
        ("NJet", "must give one true/false per event"),
    ],
)
def test_bad_cut_names_the_expression(shared_data: Path, cut: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        read_events(shared_data / HZZ, tree="events", branches=["MET_px"], cut=cut, progress=False)


def test_cut_on_a_missing_branch_names_file_and_nearest(shared_data: Path) -> None:
    with pytest.raises(InputFileError) as caught:
        read_events(shared_data / HZZ, tree="events", branches=["MET_px"], cut="Njet >= 2")
    message = str(caught.value)
    assert "no branch 'Njet' (did you mean 'NJet'" in message
    assert "used in the cut 'Njet >= 2'" in message
    assert str(shared_data / HZZ) in message


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"branches": "NJet"}, "branches must be a list of names"),
        ({"branches": []}, "branches is empty"),
        ({"branches": ["NJet", "NJet"]}, "branches names NJet more than once"),
        ({"max_objects": 0}, "max_objects must be an integer >= 1"),
        ({"step_size": "100 XB"}, "step_size '100 XB' is not a memory size"),
        ({"step_size": 0}, "step_size must be entries >= 1"),
    ],
)
def test_bad_options_name_the_option(shared_data: Path, options: dict, expected: str) -> None:
    arguments = {"tree": "events", "branches": ["NJet"], **options}
    with pytest.raises(ConfigError, match=re.escape(expected)):
        read_events(shared_data / HZZ, progress=False, **arguments)


def test_branch_clashing_with_a_multiplicity_column(tmp_path: Path) -> None:
    path = tmp_path / "clash.root"
    with uproot.recreate(path) as output:
        output["events"] = {"x": ak.Array([[1.0], [2.0, 3.0]]), "x_n": np.array([7, 8])}
    with pytest.raises(
        ConfigError, match="'x_n' clashes with the multiplicity column of the jagged"
    ):
        read_events(path, tree="events", branches=["x", "x_n"], progress=False)
