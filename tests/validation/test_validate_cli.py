"""``hepgan validate`` end to end on ROOT and CaloChallenge HDF5 files written to disk."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hepgan.cli import main
from hepgan.datafiles.calochallenge import write_calochallenge
from hepgan.datafiles.root_writer import write_root
from hepgan.models.geometry import get_geometry


def _dimuon_columns(n: int, seed: int, *, mass_scale: float = 1.0) -> dict[str, np.ndarray]:
    """Back-to-back muon pairs in their rest frame boosted along z: M known per event."""
    rng = np.random.default_rng(seed)
    mass = rng.normal(91.2, 2.5, n) * mass_scale  # GeV
    cos_theta, phi = rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n)
    sin_theta = np.sqrt(1 - cos_theta**2)
    half = mass / 2
    px, py, pz = half * sin_theta * np.cos(phi), half * sin_theta * np.sin(phi), half * cos_theta
    return {
        "E1": half, "px1": px, "py1": py, "pz1": pz,
        "E2": half, "px2": -px, "py2": -py, "pz2": -pz,
        "M": mass, "Q1": rng.choice([-1, 1], n).astype(np.int32),
    }  # fmt: skip


def _showers(n: int, seed: int, *, energy: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Toy showers in the small geometry: exponential voxel energies scaled by E_inc, MeV."""
    rng = np.random.default_rng(seed)
    geometry = get_geometry("small")
    incident = np.full(n, energy) if energy else 10 ** rng.uniform(3, 5, n)
    shape = rng.exponential(1.0, (n, geometry.n_voxels)) * (rng.uniform(size=(n, 1)) + 0.5)
    shape[rng.uniform(size=shape.shape) < 0.3] = 0.0  # sparsity
    voxels = shape / shape.sum(axis=1, keepdims=True) * incident[:, None] * 0.9
    return incident, voxels.astype(np.float32)


def _validate_with_report(
    reference: Path, candidate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, dict]:
    """Run ``hepgan validate --report``: exit status, terminal output, the report as JSON."""
    report_path = tmp_path / "report.json"
    status = main(
        ["validate", "--reference", str(reference), "--candidate", str(candidate),
         "--report", str(report_path)]
    )  # fmt: skip
    return status, capsys.readouterr().out, json.loads(report_path.read_text())


@pytest.fixture
def dimuon_files(tmp_path: Path) -> tuple[Path, Path]:
    reference = write_root(tmp_path / "reference.root", _dimuon_columns(4000, 1), tree="events")
    candidate = write_root(tmp_path / "candidate.root", _dimuon_columns(1000, 2), tree="events")
    return reference, candidate


def test_event_files_report_and_table(
    dimuon_files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, report = _validate_with_report(*dimuon_files, tmp_path, capsys)
    assert status == 0
    assert "status: PASS" in out and "worst KS" in out and "KS critical value" in out
    names = {score["name"] for score in report["observables"]}
    assert {"M", "M_from_four_vectors", "E1", "Q1"} <= names
    assert report["summary"]["n_candidate"] == 1000 and report["summary"]["n_reference"] == 4000
    mass = next(s for s in report["observables"] if s["name"] == "M_from_four_vectors")
    direct = next(s for s in report["observables"] if s["name"] == "M")
    assert mass["ks"] == pytest.approx(direct["ks"], abs=2e-3)  # same masses up to float32


def test_event_plots_are_labelled_with_units(dimuon_files: tuple[Path, Path]) -> None:
    """The dimuon columns' units (GeV for E1, px1, ...) reach the report and the plot's axes."""
    from hepgan.validation.report.files import compare_files
    from hepgan.validation.report.plots import x_labels

    reference, candidate = dimuon_files
    comparison = compare_files(candidate, reference, tree="events")
    units = {score.name: score.unit for score in comparison.report.observables}
    assert units["E1"] == units["px1"] == units["M_from_four_vectors"] == "GeV"
    assert units["Q1"] == "e" and units["eta1_from_four_vectors"] == ""  # no unit: none shown
    labels = x_labels(comparison.candidate.observables, comparison.report)
    assert labels["E1"] == "$E_{1}$ [GeV]"
    assert labels["px1"] == "$p_{x,1}$ [GeV]"
    assert labels["pz2"] == "$p_{z,2}$ [GeV]"
    assert labels["M"] == r"$m_{\mu\mu}$ [GeV]"
    assert labels["Q1"] == "$q_{1}$ [e]"
    assert labels["eta1_from_four_vectors"] == r"$\eta_{1}$"
    override = x_labels(["E1"], comparison.report, {"E1": "TeV"})  # given units come first
    assert override["E1"] == "$E_{1}$ [TeV]"


@pytest.mark.slow
def test_features_plots_classifier_and_fail_on_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = write_root(tmp_path / "ref.root", _dimuon_columns(3000, 3), tree="events")
    shifted = write_root(
        tmp_path / "cand.root", _dimuon_columns(1000, 4, mass_scale=1.1), tree="events"
    )
    plots = tmp_path / "plots"
    arguments = [
        *("validate", "--reference", str(reference), "--candidate", str(shifted)),
        *("--tree", "events", "--features", "M,E1", "--plots", str(plots), "--classifier"),
    ]
    report_path = tmp_path / "report.json"
    assert main([*arguments, "--report", str(report_path)]) == 0  # a fail still exits 0
    out = capsys.readouterr().out
    assert "status: FAIL" in out and "classifier AUC" in out and "stopped by" in out
    # how the judge trained is kept in the report: a capped or unconverged judge shows
    classifier = json.loads(report_path.read_text())["classifier"]
    assert 1 <= classifier["best_epoch"] <= classifier["epochs"] <= 50
    assert classifier["stopped_by"] in ("patience", "max_epochs")
    assert classifier["max_seconds"] is None
    assert sorted(path.name for path in plots.iterdir()) == ["E1.png", "M.png"]
    assert (plots / "M.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main([*arguments, "--fail-on-fail"]) == 1


def test_shower_files_use_observables_and_match_energies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incident, voxels = _showers(3000, 5)
    reference = write_root(
        tmp_path / "showers.root", {"incident_energy": incident, "voxels": voxels}, tree="showers"
    )
    candidate = write_calochallenge(tmp_path / "candidate.h5", *_showers(400, 6, energy=20_000.0))
    status, out, report = _validate_with_report(reference, candidate, tmp_path, capsys)
    assert status == 0
    assert "reference matched on incident_energy: window" in out
    names = {score["name"] for score in report["observables"]}
    assert {"e_total_over_incident", "e_layer_09", "longitudinal_cog_x0", "voxel_energy"} <= names
    assert report["conditions"]["variables"][0]["mode"] == "window"
    assert report["summary"]["n_reference"] == report["conditions"]["n_reference_matched"] < 3000
    units = {score["name"]: score["unit"] for score in report["observables"]}
    assert units["e_layer_00"] == "MeV" and units["width_x_layer_00"] == "mm"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--significance", "1.5"], "--significance"),
        (["--bins", "1"], "--bins"),
        (["--features", "E1,nope"], "nope"),
        (["--report", "/no/such/folder/r.json"], "--report"),
    ],
)
def test_bad_flags_exit_2_with_one_line(
    dimuon_files: tuple[Path, Path],
    extra: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reference, candidate = dimuon_files
    status = main(
        ["validate", "--reference", str(reference), "--candidate", str(candidate), *extra]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_file_and_mismatched_columns(
    dimuon_files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference, _ = dimuon_files
    missing = tmp_path / "absent.root"
    assert main(["validate", "--reference", str(reference), "--candidate", str(missing)]) == 2
    assert f"--candidate: file {missing} does not exist" in capsys.readouterr().err
    other = write_root(tmp_path / "other.root", {"E1": np.ones(10), "pt": np.ones(10)}, tree="t")
    assert main(["validate", "--reference", str(reference), "--candidate", str(other)]) == 2
    assert "do not hold the same columns" in capsys.readouterr().err
