"""`hepgan train` and `hepgan generate` end to end on simulated ROOT files, as users run them."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from hepgan.models.artefact import load_artefact
from hepgan.training.checkpoint import load_checkpoint

TINY = """
max_minutes = 5
batch_size = 64
validate_every = {validate_every}
validation_events = 300
progress = false
[network]
latent_dim = 8
generator_hidden = [32, 32]
critic_hidden = [32, 32]
"""
DIMUON_FEATURES = "E1,px1,py1,pz1,Q1,E2,px2,py2,pz2,Q2"


def _hepgan(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["hepgan", *args], capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    _hepgan("simulate", "dimuon", "-n", "2000", "--seed", "2", "-o", str(folder / "dimuon.root"))
    _hepgan(
        "simulate", "showers", "--geometry", "small", "-n", "1500", "--seed", "1",
        "-o", str(folder / "showers.root"),
    )  # fmt: skip
    (folder / "tiny.toml").write_text(TINY.format(validate_every=5))
    return folder


@pytest.mark.slow
def test_dimuon_train_then_generate_root(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "dimuon"
    trained = _hepgan(
        "train", "--data", str(inputs / "dimuon.root"), "--tree", "events",
        "--features", DIMUON_FEATURES, "--out", str(out), "--config", str(inputs / "tiny.toml"),
        "--max-steps", "10", "--seed", "3", "--loss", "bce",
    )  # fmt: skip
    assert f"wrote {out}" in trained.stdout
    card = load_artefact(out).card
    assert card.training.loss == "bce" and card.training.seed == 3 and card.training.steps == 10
    assert card.feature_units[:2] == ["GeV", "GeV"] and card.feature_units[4] == "e"
    assert card.training.data_files[0].path.endswith("dimuon.root")
    history = [
        json.loads(line) for line in (out / "run" / "metrics.jsonl").read_text().splitlines()
    ]
    assert [r["step"] for r in history if r.get("event") == "validation"] == [5, 10]
    assert (out / "run" / "plots" / "history.png").stat().st_size > 0
    assert (
        len(list((out / "run" / "plots" / "observables").glob("*.png"))) == 19
    )  # 10 + M, pt, eta, phi of each, pt and y of the pair
    _hepgan(
        "generate", "--model", str(out), "-n", "500", "--seed", "4", "-o", str(tmp_path / "g.root")
    )
    import uproot

    with uproot.open(tmp_path / "g.root") as generated:
        events = generated["events"].arrays(library="np")
    # the input's branches first, then what the input file also holds beside them and the
    # model derives from its four-vectors (each muon's pT, eta, phi and the pair mass)
    features = DIMUON_FEATURES.split(",")
    assert list(events)[: len(features)] == features
    assert set(events) - set(features) == {"pt1", "eta1", "phi1", "pt2", "eta2", "phi2", "M"}
    assert events["Q1"].dtype == np.int32 and set(np.unique(events["Q1"])) <= {-1, 1}
    assert len(events["E1"]) == 500


@pytest.mark.slow
def test_a_dimuon_critic_that_sees_each_muon_trains_and_keeps_the_acceptance(
    tmp_path: Path,
) -> None:
    """critic_observables on events: the critic differentiates through the pair frame's
    inverse, where the file's float32 muons have squared masses at or below zero (a square
    root's infinite slope there gave NaN losses from step 2 on these 3,000 events until the
    roots were floored)."""
    out, config, data = tmp_path / "dimuon", tmp_path / "critic.toml", tmp_path / "d.root"
    config.write_text(
        "critic_observables = true\nvalidate_every = 4\n[events]\nacceptance = true\n"
    )
    _hepgan("simulate", "dimuon", "-n", "3000", "--seed", "2", "-o", str(data))
    _hepgan(
        "train", "--data", str(data), "--tree", "events",
        "--features", "E1,px1,py1,pz1,E2,px2,py2,pz2", "--out", str(out),
        "--config", str(config), "--max-steps", "8", "--seed", "1",
    )  # fmt: skip
    history = (out / "run" / "metrics.jsonl").read_text()
    assert '"rollback"' not in history
    artefact = load_artefact(out)
    acceptance = artefact.feature_transform.acceptance
    assert acceptance is not None and max(acceptance.abs_eta_max) <= 2.4
    assert acceptance.contains(artefact.generate(2000, seed=3)).all()


@pytest.mark.slow
def test_showers_train_then_generate_root_and_hdf5(inputs: Path, tmp_path: Path) -> None:
    out, config = tmp_path / "showers", tmp_path / "old_names.toml"
    # a setting by its name before the [shower] table: still read, with a warning
    config.write_text("shower_random_symmetry = false\n" + TINY.format(validate_every=5))
    trained = _hepgan(
        "train", "--data", str(inputs / "showers.root"), "--tree", "showers", "--voxels", "voxels",
        "--condition", "incident_energy", "--out", str(out),
        "--config", str(config), "--max-steps", "5",
    )  # fmt: skip
    assert "FutureWarning: setting shower_random_symmetry is deprecated" in trained.stderr
    artefact = load_artefact(out)
    assert artefact.card.geometry["name"] == "small"
    assert artefact.card.training.loss == "wgan-gp"
    assert artefact.card.training.config["shower"]["random_symmetry"] is False
    assert artefact.feature_transform.symmetry is None
    _hepgan(
        "generate", "--model", str(out), "-n", "300", "--condition", "incident_energy=2000:50000",
        "--seed", "1", "-o", str(tmp_path / "g.h5"),
    )  # fmt: skip
    from hepgan.datafiles.calochallenge import read_calochallenge

    energies, voxels = read_calochallenge(tmp_path / "g.h5")
    assert voxels.shape == (300, 120) and voxels.min() >= 0.0
    assert 2000 <= energies.min() and energies.max() <= 50000
    _hepgan(
        "generate", "--model", str(out), "-n", "50", "--condition", "incident_energy=10000",
        "-o", str(tmp_path / "g.root"),
    )  # fmt: skip
    import uproot

    with uproot.open(tmp_path / "g.root") as generated:
        showers = generated["showers"].arrays(library="np")
    assert list(showers) == ["incident_energy", "voxels"]
    assert np.all(showers["incident_energy"] == 10000.0)


@pytest.mark.slow
def test_sigterm_saves_and_resume_finishes(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "m"
    (tmp_path / "run.toml").write_text(TINY.format(validate_every=2))
    args = [
        "hepgan", "train", "--data", str(inputs / "dimuon.root"), "--tree", "events",
        "--features", DIMUON_FEATURES, "--out", str(out), "--config", str(tmp_path / "run.toml"),
    ]  # fmt: skip
    process = subprocess.Popen([*args, "--max-steps", "100000"], stderr=subprocess.PIPE, text=True)
    history = out / "run" / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (
        history.exists() and '"validation"' in history.read_text()
    ):
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr[-2000:]
    assert "SIGTERM at step" in stderr and "continue with --resume" in stderr
    stopped_at = load_checkpoint(out / "run" / "last.safetensors")["counters"]["step"]
    assert stopped_at >= 2
    assert not (out / "model.json").exists()  # stopped runs write no artefact
    resumed = subprocess.run(
        [*args, "--resume", "--max-steps", str(stopped_at + 3)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert load_artefact(out).card.training.steps == stopped_at + 3


@pytest.mark.slow
def test_bad_flags_exit_2_with_one_line(inputs: Path, tmp_path: Path) -> None:
    result = _hepgan(
        "train", "--data", str(inputs / "dimuon.root"), "--features", "E1", check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "hepgan train: error: --out: give the folder to write the model artefact to"
    )
    missing = _hepgan(
        "train", "--data", str(inputs / "dimuon.root"), "--features", "E1,Mass", "--out",
        str(tmp_path / "m"), check=False,
    )  # fmt: skip
    assert missing.returncode == 2 and "Mass" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    no_model = _hepgan("generate", "--model", str(tmp_path), "-n", "5", "-o", "x.root", check=False)
    assert no_model.returncode == 2 and "has no model.json" in no_model.stderr
