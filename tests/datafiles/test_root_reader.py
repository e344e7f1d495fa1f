"""read_events on real ROOT files (written by ROOT) and on files the tests write with uproot."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from hepgan.datafiles.root_reader import read_events
from hepgan.datafiles.root_writer import write_root

HZZ = "uproot-HZZ.root"
NANOAOD = "nanoAOD_2015_CMS_Open_Data_ttbar.root"
RNTUPLE = "Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root"


def _leading_padded(jagged: ak.Array, width: int) -> np.ndarray:
    """Independent reference for the jagged layout: a Python loop over events."""
    rows = np.zeros((len(jagged), width), dtype=np.asarray(ak.flatten(jagged)).dtype)
    for row, objects in zip(rows, ak.to_list(jagged), strict=True):
        kept = objects[:width]
        row[: len(kept)] = kept
    return rows


def test_hzz_jagged_ttree_gives_leading_objects_padded_with_zeros(shared_data: Path) -> None:
    path = shared_data / HZZ
    columns = read_events(
        path,
        tree="events",
        branches=["NJet", "Jet_Px", "Muon_E", "Muon_Charge", "MET_px"],
        max_objects=3,
        progress=False,
    )

    assert list(columns) == [
        "NJet",
        "Jet_Px",
        "Jet_Px_n",
        "Muon_E",
        "Muon_E_n",
        "Muon_Charge",
        "Muon_Charge_n",
        "MET_px",
    ]
    events = uproot.open(path)["events"].arrays(["NJet", "Jet_Px", "Muon_E", "Muon_Charge"])
    assert columns["Jet_Px"].shape == (2421, 3)
    assert columns["Jet_Px"].dtype == np.float32
    np.testing.assert_array_equal(columns["Jet_Px"], _leading_padded(events["Jet_Px"], 3))
    np.testing.assert_array_equal(columns["Muon_E"], _leading_padded(events["Muon_E"], 3))
    np.testing.assert_array_equal(columns["Muon_Charge"], _leading_padded(events["Muon_Charge"], 3))
    # The multiplicity counts objects before truncation: it equals ROOT's own counter branch.
    np.testing.assert_array_equal(columns["Jet_Px_n"], events["NJet"])
    assert columns["Jet_Px_n"].max() > 3  # some events were truncated, so the test means something
    assert columns["MET_px"].shape == (2421,)


def test_nanoaod_many_branches_and_a_cut_on_a_jagged_branch(shared_data: Path) -> None:
    path = shared_data / NANOAOD
    branches = ["run", "event", "nJet", "Jet_pt", "Jet_eta", "Muon_pt", "MET_pt", "HLT_IsoMu27"]
    columns = read_events(
        path,
        tree="Events",
        branches=branches,
        cut="any(Jet_pt > 30) and MET_pt > 20",
        max_objects=2,
        progress=False,
    )

    events = uproot.open(path)["Events"].arrays(branches)
    keep = np.asarray(ak.any(events["Jet_pt"] > 30, axis=1) & (events["MET_pt"] > 20))
    assert 0 < keep.sum() < len(keep)
    assert len(columns["run"]) == keep.sum()
    np.testing.assert_array_equal(columns["event"], events["event"][keep])
    np.testing.assert_array_equal(columns["Jet_pt"], _leading_padded(events["Jet_pt"][keep], 2))
    np.testing.assert_array_equal(columns["Jet_pt_n"], events["nJet"][keep])
    assert columns["HLT_IsoMu27"].dtype == np.bool_


def test_rntuple_dimuon_is_read_like_a_ttree(shared_data: Path) -> None:
    path = shared_data / RNTUPLE
    columns = read_events(
        path, tree="Events", branches=["nMuon", "Muon_pt", "Muon_charge"], progress=False
    )

    muons = uproot.open(path)["Events"].arrays(["Muon_pt", "Muon_charge", "nMuon"])
    assert columns["Muon_pt"].shape == (1000, 4)
    np.testing.assert_array_equal(columns["Muon_pt"], _leading_padded(muons["Muon_pt"], 4))
    np.testing.assert_array_equal(columns["Muon_pt_n"], muons["nMuon"])
    np.testing.assert_array_equal(columns["Muon_charge_n"], columns["nMuon"])


def test_rntuple_cut_selects_events(shared_data: Path) -> None:
    # uproot's own cut= is silently ignored for RNTuples; ours must select.
    path = shared_data / RNTUPLE
    columns = read_events(
        path, tree="Events", branches=["Muon_pt"], cut="nMuon == 2", progress=False
    )

    n_muons = uproot.open(path)["Events"]["nMuon"].array(library="np")
    assert len(columns["Muon_pt"]) == np.sum(n_muons == 2) < 1000
    assert set(columns["Muon_pt_n"]) == {2}
    assert "nMuon" not in columns  # read for the cut, not returned


def _shower_columns(n_events: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "incident_energy": rng.uniform(1e3, 1e5, n_events),  # (N,) MeV
        "voxels": rng.exponential(10.0, (n_events, 368)).astype(np.float32),  # (N, 368) MeV
    }


def test_fixed_size_array_branch_round_trips(tmp_path: Path) -> None:
    written = _shower_columns(500, seed=1)
    path = write_root(tmp_path / "showers.root", written, tree="showers")
    assert uproot.open(path)["showers"].typenames()["voxels"] == "float[368]"

    columns = read_events(
        path, tree="showers", branches=["voxels", "incident_energy"], progress=False
    )

    assert list(columns) == ["voxels", "incident_energy"]
    assert columns["voxels"].shape == (500, 368)
    assert columns["voxels"].dtype == np.float32
    np.testing.assert_array_equal(columns["voxels"], written["voxels"])
    np.testing.assert_array_equal(columns["incident_energy"], written["incident_energy"])


def test_multidimensional_array_branch_is_flattened_in_c_order(tmp_path: Path) -> None:
    path = tmp_path / "matrix.root"
    matrices = np.arange(24, dtype=np.float32).reshape(2, 3, 4)  # (N, 3, 4)
    with uproot.recreate(path) as output:
        output.mktree("events", {"m": (np.float32, (3, 4))}).extend({"m": matrices})
    assert uproot.open(path)["events"].typenames()["m"] == "float[3][4]"

    columns = read_events(path, tree="events", branches=["m"], progress=False)

    np.testing.assert_array_equal(columns["m"], matrices.reshape(2, 12))


def test_many_files_and_glob_patterns_are_read_in_order(tmp_path: Path) -> None:
    parts = [_shower_columns(100 + 10 * index, seed=index) for index in range(3)]
    for index, part in enumerate(parts):
        write_root(tmp_path / f"run_{index}.root", part, tree="showers")
    expected = np.concatenate([part["voxels"] for part in parts])

    from_glob = read_events(
        str(tmp_path / "run_*.root"), tree="showers", branches=["voxels"], progress=False
    )
    from_list = read_events(
        [tmp_path / "run_0.root", str(tmp_path / "run_[12].root")],
        tree="showers",
        branches=["voxels"],
        progress=False,
    )

    np.testing.assert_array_equal(from_glob["voxels"], expected)
    np.testing.assert_array_equal(from_list["voxels"], expected)


def test_existing_name_with_glob_characters_is_taken_literally(tmp_path: Path) -> None:
    literal = write_root(tmp_path / "run[1].root", _shower_columns(20, seed=1), tree="showers")
    write_root(tmp_path / "run1.root", _shower_columns(30, seed=2), tree="showers")

    columns = read_events(literal, tree="showers", branches=["incident_energy"], progress=False)

    assert columns["incident_energy"].shape == (20,)  # not run1.root, which the pattern matches


@pytest.mark.parametrize("step_size", [101, "20 kB"])  # 24 and 4 chunks
def test_small_chunks_give_the_same_result_as_one_read(
    shared_data: Path, step_size: int | str
) -> None:
    options = dict(
        tree="events",
        branches=["Jet_Px", "Muon_Px", "MET_px"],
        cut="NMuon >= 1",
        progress=False,
    )
    whole = read_events(shared_data / HZZ, step_size=10_000, **options)
    chunked = read_events(shared_data / HZZ, step_size=step_size, **options)

    assert list(chunked) == list(whole)
    for name in whole:
        np.testing.assert_array_equal(chunked[name], whole[name])


def test_cut_that_keeps_nothing_gives_empty_columns_of_the_right_width(tmp_path: Path) -> None:
    path = write_root(tmp_path / "showers.root", _shower_columns(50, seed=2), tree="showers")

    columns = read_events(
        path,
        tree="showers",
        branches=["voxels", "incident_energy"],
        cut="incident_energy < 0",
        progress=False,
    )

    assert columns["voxels"].shape == (0, 368)
    assert columns["incident_energy"].shape == (0,)


def test_progress_bar_goes_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_root(tmp_path / "showers.root", _shower_columns(50, seed=3), tree="showers")
    # tqdm(disable=None) shows the bar only on a terminal; pretend stderr is one.
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)

    read_events(path, tree="showers", branches=["incident_energy"], step_size=20)
    shown = capsys.readouterr()

    read_events(path, tree="showers", branches=["incident_energy"], progress=False)
    hidden = capsys.readouterr()

    assert "reading showers" in shown.err and "50/50" in shown.err
    assert shown.out == "" and hidden.err == ""
