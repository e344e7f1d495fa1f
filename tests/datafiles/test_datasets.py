"""read_table dispatches on the file suffix; flatten_columns builds the (N, F) training matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import uproot

from hepgan.datafiles.calochallenge import write_calochallenge
from hepgan.datafiles.datasets import (
    file_format,
    flatten_columns,
    read_table,
    unflatten_columns,
)
from hepgan.datafiles.root_writer import write_root
from hepgan.errors import ConfigError, InputFileError

RNTUPLE = "Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root"


def _showers(n_events: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    incident = rng.uniform(1e3, 1e5, n_events)  # (N,) MeV
    voxels = rng.exponential(2.0, (n_events, 40)).astype(np.float32)  # (N, V) MeV
    return incident, voxels


def test_hdf5_and_root_give_the_same_shower_columns(tmp_path: Path) -> None:
    incident, voxels = _showers(200, seed=1)
    h5_path = write_calochallenge(tmp_path / "showers.h5", incident, voxels)
    root_path = write_root(
        tmp_path / "showers.root",
        {"incident_energy": incident, "voxels": voxels},
        tree="showers",
        metadata={"report": "{}"},  # a non-tree object: the tree is still the only one
    )

    from_h5 = read_table(h5_path)
    from_root = read_table(root_path, progress=False)

    assert list(from_h5) == list(from_root) == ["incident_energy", "voxels"]
    for name in from_h5:
        np.testing.assert_array_equal(from_h5[name], from_root[name])


def test_several_hdf5_files_are_concatenated_and_columns_picked(tmp_path: Path) -> None:
    parts = [_showers(50 + index, seed=index) for index in range(2)]
    for index, (incident, voxels) in enumerate(parts):
        write_calochallenge(tmp_path / f"part_{index}.hdf5", incident, voxels)

    table = read_table(str(tmp_path / "part_*.hdf5"), branches=["voxels"])

    assert list(table) == ["voxels"]
    np.testing.assert_array_equal(table["voxels"], np.concatenate([v for _, v in parts]))


def test_rntuple_with_default_tree_and_branches(shared_data: Path) -> None:
    table = read_table(shared_data / RNTUPLE, max_objects=2, progress=False)

    # Every numeric top-level field; the record collection `_collection0` is not numeric.
    assert list(table) == [
        "Muon_pt",
        "Muon_pt_n",
        "Muon_eta",
        "Muon_eta_n",
        "Muon_phi",
        "Muon_phi_n",
        "Muon_mass",
        "Muon_mass_n",
        "Muon_charge",
        "Muon_charge_n",
        "nMuon",
    ]
    assert table["Muon_pt"].shape == (1000, 2)


def test_tree_must_be_named_when_a_file_holds_several(tmp_path: Path) -> None:
    path = tmp_path / "two.root"
    with uproot.recreate(path) as output:
        for name in ("signal", "background"):
            output.mktree(name, {"x": np.float64}).extend({"x": np.ones(3)})
    with pytest.raises(InputFileError, match="name the tree to read .*background, signal"):
        read_table(path)
    assert read_table(path, tree="signal", progress=False)["x"].shape == (3,)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"tree": "showers"}, "tree applies to ROOT files only"),
        ({"cut": "voxels > 0"}, "cut applies to ROOT files only"),
        ({"branches": ["energy"]}, "branches ['energy'] not in a CaloChallenge file"),
    ],
)
def test_root_only_options_are_refused_for_hdf5(
    tmp_path: Path, options: dict, expected: str
) -> None:
    path = write_calochallenge(tmp_path / "showers.h5", *_showers(5, seed=2))
    with pytest.raises(ConfigError) as caught:
        read_table(path, **options)
    assert expected in str(caught.value)


def test_unknown_or_mixed_formats_are_refused(tmp_path: Path) -> None:
    csv = tmp_path / "events.csv"
    csv.write_text("x\n1\n")
    with pytest.raises(InputFileError, match="cannot tell the format of .*events.csv"):
        read_table(csv)
    h5_path = write_calochallenge(tmp_path / "a.h5", *_showers(5, seed=3))
    root_path = write_root(tmp_path / "b.root", {"x": np.ones(5)}, tree="t")
    with pytest.raises(InputFileError, match="cannot mix ROOT and HDF5"):
        read_table([h5_path, root_path])


def test_flatten_columns_names_array_elements() -> None:
    columns = {
        "energy": np.array([1.0, 2.0]),  # (N,)
        "jet_pt": np.array([[10.0, 5.0, 0.0], [20.0, 0.0, 0.0]], dtype=np.float32),  # (N, 3)
        "jet_pt_n": np.array([2, 1]),  # (N,)
    }

    features, names = flatten_columns(columns)

    assert names == ["energy", "jet_pt[0]", "jet_pt[1]", "jet_pt[2]", "jet_pt_n"]
    assert features.dtype == np.float32
    np.testing.assert_array_equal(
        features, [[1.0, 10.0, 5.0, 0.0, 2.0], [2.0, 20.0, 0.0, 0.0, 1.0]]
    )
    assert flatten_columns(columns, dtype=np.float64)[0].dtype == np.float64


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({}, "no columns to flatten"),
        ({"a": np.ones(2), "b": np.ones(3)}, "columns differ in number of events"),
        ({"cube": np.ones((2, 2, 2))}, "column 'cube' must be (N,) or (N, K)"),
    ],
)
def test_flatten_columns_refuses_bad_shapes(columns: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        flatten_columns(columns)
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.root", "root"), ("a.ROOT", "root"), ("a.h5", "hdf5"), ("b/a.HDF5", "hdf5")],
)
def test_file_format_by_suffix_in_any_case(name: str, expected: str) -> None:
    assert file_format(Path(name)) == expected


def test_file_format_refuses_other_suffixes_listing_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"^out\.csv must end in one of \.root, \.h5, \.hdf5$"):
        file_format("out.csv")


def test_unflatten_columns_inverts_flatten_columns() -> None:
    rng = np.random.default_rng(0)
    columns = {"e": rng.normal(size=6), "voxels": rng.normal(size=(6, 4)), "q": rng.normal(size=6)}
    features, names = flatten_columns(columns, dtype=np.float64)
    back = unflatten_columns(features, names)
    assert list(back) == ["e", "voxels", "q"]
    for name, values in columns.items():
        np.testing.assert_array_equal(back[name], values)
    # "v[1]" without "v[0]" before it is no array: it stays a column of its own
    assert list(unflatten_columns(features[:, :3], ["a", "v[1]", "v[2]"])) == ["a", "v[1]", "v[2]"]
