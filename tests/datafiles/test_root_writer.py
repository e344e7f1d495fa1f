"""write_root writes a real TTree (not an RNTuple), in baskets, with metadata beside it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import uproot

from hepgan.datafiles.root_reader import read_events
from hepgan.datafiles.root_writer import write_root
from hepgan.errors import InputFileError


def test_writes_a_ttree_with_a_fixed_size_voxel_branch(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    columns = {
        "incident_energy": rng.uniform(1e3, 1e5, 2500),  # (N,) MeV
        "voxels": rng.exponential(1.0, (2500, 368)).astype(np.float32),  # (N, 368) MeV
        "label": rng.integers(0, 3, 2500).astype(np.int32),
    }
    report = json.dumps({"status": "pass"})

    path = write_root(
        tmp_path / "out.root",
        columns,
        tree="showers",
        metadata={"report": report},
        rows_per_basket=1000,
    )

    root_file = uproot.open(path)
    assert root_file.classname_of("showers") == "TTree"
    tree = root_file["showers"]
    assert tree.typenames() == {
        "incident_energy": "double",
        "voxels": "float[368]",
        "label": "int32_t",
    }
    assert tree["voxels"].num_baskets == 3  # 2500 rows in baskets of 1000
    assert str(root_file["report"]) == report
    read_back = read_events(path, tree="showers", branches=list(columns), progress=False)
    for name, values in columns.items():
        np.testing.assert_array_equal(read_back[name], values)
    assert not list(tmp_path.glob(".*.partial"))  # the temporary file was renamed into place


def test_refuses_columns_of_different_lengths(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="columns differ in length"):
        write_root(tmp_path / "out.root", {"a": np.ones(3), "b": np.ones(4)}, tree="t")


def test_missing_output_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="folder .*missing does not exist"):
        write_root(tmp_path / "missing" / "out.root", {"a": np.ones(3)}, tree="t")
