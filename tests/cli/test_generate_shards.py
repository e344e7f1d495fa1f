"""``hepgan generate`` as a sharded production: two gloo processes under torchrun, --resume,
a killed rank that leaves no half-written shard, and resume and manifest checks that keep
only the shards of this production, intact (issue 26, row 8)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import uproot

from hepgan.cli import main
from hepgan.datafiles.root_writer import write_root
from hepgan.errors import ConfigError
from hepgan.models.artefact import CARD_FILE, load_artefact, sha256_of
from hepgan.models.sampler import default_batch_size
from hepgan.models.shards import (
    SHARD_KEY,
    ShardPlan,
    all_shards_written,
    check_manifest,
    write_shard,
)
from tests.support.tiny import make_tiny_artefact

TOTAL = 1001
SEED = 5


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_artefact(tmp_path_factory.mktemp("shards") / "toy", kind="events")


def _tree_name(handle) -> str:
    return next(key for key, kind in handle.classnames().items() if kind == "TTree")


def _arrays(path: Path) -> dict[str, np.ndarray]:
    """The branches of the shard's tree (``events`` or ``showers``)."""
    with uproot.open(path) as handle:
        return handle[_tree_name(handle)].arrays(library="np")


def _plan(model: Path, output: Path, world_size: int = 2) -> ShardPlan:
    return ShardPlan(
        output=str(output),
        total_events=TOTAL,
        world_size=world_size,
        seed=SEED,
        artefact_sha256=sha256_of(model / CARD_FILE),
        batch_size=default_batch_size(load_artefact(model).card.n_features),
    )


def _generate(model: Path, output: Path, *extra: str) -> list[str]:
    args = ["generate", "--model", str(model), "-n", str(TOTAL), "--seed", str(SEED)]
    return [*args, "-o", str(output), *extra]


def _environment() -> dict[str, str]:
    """This environment without a launcher's variables (pytest may run under one)."""
    launcher = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "SLURM_ARRAY_TASK_ID")
    return {key: value for key, value in os.environ.items() if key not in launcher}


@pytest.mark.slow
def test_two_gloo_ranks_write_the_fixed_streams_and_a_manifest(model: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.root"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc-per-node", "2", "-m", "hepgan.cli", *_generate(model, output)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=_environment(), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "out.manifest.json",
        "out.rank00000.root",
        "out.rank00000.root.sha256",
        "out.rank00001.root",
        "out.rank00001.root.sha256",
    ]
    manifest = check_manifest(tmp_path / "out.manifest.json")
    assert [shard["events"] for shard in manifest["shards"]] == [501, 500]
    assert manifest["total_events"] == TOTAL and manifest["seed"] == SEED
    # The same union of events as the fixed assignment: stream r -> shard r, in this process.
    artefact = load_artefact(model)
    expected_folder = tmp_path / "expected"
    expected_folder.mkdir()
    plan = _plan(model, expected_folder / "out.root")
    for rank in range(2):
        written = _arrays(tmp_path / f"out.rank{rank:05d}.root")
        expected = _arrays(write_shard(artefact, plan, rank))
        assert written.keys() == expected.keys()
        for name in expected:
            np.testing.assert_array_equal(written[name], expected[name], err_msg=name)
    first, second = (_arrays(tmp_path / f"out.rank{rank:05d}.root")["E1"] for rank in range(2))
    assert not np.array_equal(first[:500], second[:500])  # two streams, not one repeated


@pytest.mark.slow
def test_resume_regenerates_only_the_missing_shard(model: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.root"
    for rank in range(2):
        assert main([*_generate(model, output), "--rank", str(rank), "--world-size", "2"]) == 0
    before = check_manifest(tmp_path / "out.manifest.json")
    lost = tmp_path / "out.rank00001.root"
    kept = tmp_path / "out.rank00000.root"
    original = _arrays(lost)
    lost.unlink()
    (tmp_path / ".out.rank00001.root.partial").write_bytes(b"half a shard")  # a killed write
    (tmp_path / "out.manifest.json").unlink()
    kept_stat = kept.stat()
    for rank in range(2):
        args = [*_generate(model, output), "--rank", str(rank), "--world-size", "2", "--resume"]
        assert main(args) == 0
    assert (
        kept.stat().st_mtime_ns == kept_stat.st_mtime_ns and kept.stat().st_ino == kept_stat.st_ino
    )
    regenerated = _arrays(lost)
    for name in original:
        np.testing.assert_array_equal(regenerated[name], original[name], err_msg=name)
    after = check_manifest(tmp_path / "out.manifest.json")
    assert after["shards"][0] == before["shards"][0]
    assert not list(tmp_path.glob(".*.partial"))


def test_resume_regenerates_a_shard_of_another_production(model: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.root"
    assert main([*_generate(model, output), "--rank", "0", "--world-size", "1"]) == 0
    other_seed = _generate(model, output, "--rank", "0", "--world-size", "1", "--resume")
    other_seed[other_seed.index("--seed") + 1] = str(SEED + 1)
    assert main(other_seed) == 0
    manifest = check_manifest(tmp_path / "out.manifest.json")
    assert manifest["seed"] == SEED + 1  # the shard of seed 5 was not kept for seed 6


@pytest.mark.slow
def test_a_killed_rank_leaves_no_shard_and_resume_completes_it(tmp_path: Path) -> None:
    showers = make_tiny_artefact(tmp_path / "showers", kind="showers")
    output = tmp_path / "out.root"
    args = ["generate", "--model", str(showers), "-n", "200000", "--seed", "1", "-o", str(output)]
    args += ["--rank", "0", "--world-size", "1"]
    partial = tmp_path / ".out.rank00000.root.partial"
    process = subprocess.Popen(
        [sys.executable, "-m", "hepgan.cli", *args], env=_environment(), cwd=tmp_path
    )
    deadline = time.monotonic() + 240
    while not partial.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert partial.exists(), "the rank finished before it could be killed mid-write"
    assert not (tmp_path / "out.rank00000.root").exists()  # never a half-written shard
    assert not (tmp_path / "out.manifest.json").exists()
    assert main([*args, "--resume"]) == 0
    assert check_manifest(tmp_path / "out.manifest.json")["shards"][0]["events"] == 200000


@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        (["--rank", "2", "--world-size", "2"], "--rank"),
        (["--rank", "0"], "--world-size"),
        (["--world-size", "0", "--rank", "0"], "--rank"),
    ],
)
def test_shard_flags_are_checked(model: Path, tmp_path: Path, capsys, extra, flag) -> None:
    assert main([*_generate(model, tmp_path / "out.root"), *extra]) == 2
    assert flag in capsys.readouterr().err


def test_a_sharded_production_needs_a_seed_and_root(model: Path, tmp_path: Path, capsys) -> None:
    args = ["generate", "--model", str(model), "-n", "10", "--rank", "0", "--world-size", "2"]
    assert main([*args, "-o", str(tmp_path / "out.root")]) == 2
    assert "--seed" in capsys.readouterr().err
    assert main([*args, "--seed", "1", "-o", str(tmp_path / "out.h5")]) == 2
    assert "ROOT" in capsys.readouterr().err


def test_a_tampered_shard_fails_the_manifest_check(model: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.root"
    assert main([*_generate(model, output), "--rank", "0", "--world-size", "1"]) == 0
    with open(tmp_path / "out.rank00000.root", "r+b") as handle:
        handle.seek(-10, os.SEEK_END)
        handle.write(b"0123456789")
    with pytest.raises(ConfigError, match="sha256"):
        check_manifest(tmp_path / "out.manifest.json")


@pytest.fixture(scope="module")
def showers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model with a condition (incident_energy, MeV), for --condition."""
    return make_tiny_artefact(tmp_path_factory.mktemp("shards") / "showers", kind="showers")


def _zero_keeping_the_record(path: Path) -> None:
    """Rewrite shard ``path`` with every value zeroed and its plan record kept as it was: a
    valid ROOT file that claims to be the same shard."""
    with uproot.open(path) as handle:
        tree = _tree_name(handle).split(";")[0]
        metadata = {"model": str(handle["model"]), SHARD_KEY: str(handle[SHARD_KEY])}
    zeroed = {name: np.zeros_like(values) for name, values in _arrays(path).items()}
    write_root(path, zeroed, tree=tree, metadata=metadata)


def test_resume_with_other_conditions_does_not_keep_the_shard(
    showers: Path, tmp_path: Path, capsys
) -> None:
    output = tmp_path / "out.root"
    first = [*_generate(showers, output), "--rank", "0", "--world-size", "1"]
    assert main([*first, "--condition", "incident_energy=2000:3000"]) == 0
    capsys.readouterr()
    assert main([*first, "--condition", "incident_energy=50000:60000", "--resume"]) == 0
    said = capsys.readouterr().out
    assert "regenerating" in said and "conditions" in said
    energies = _arrays(tmp_path / "out.rank00000.root")["incident_energy"]
    assert energies.min() >= 50000 and energies.max() <= 60000  # no events of the first run
    assert check_manifest(tmp_path / "out.manifest.json")["conditions"] == {
        "incident_energy": [50000.0, 60000.0]
    }


@pytest.mark.parametrize("damage", ["zeroed", "checksum file lost"])
def test_resume_regenerates_a_damaged_shard_and_says_so(
    model: Path, tmp_path: Path, capsys, damage: str
) -> None:
    output = tmp_path / "out.root"
    args = [*_generate(model, output), "--rank", "0", "--world-size", "1"]
    assert main(args) == 0
    shard = tmp_path / "out.rank00000.root"
    original = _arrays(shard)
    if damage == "zeroed":
        _zero_keeping_the_record(shard)
    else:
        (tmp_path / "out.rank00000.root.sha256").unlink()
    capsys.readouterr()
    assert main([*args, "--resume"]) == 0
    said = capsys.readouterr().out
    assert f"regenerating {shard}" in said
    assert ("sha256" if damage == "zeroed" else "no recorded checksum") in said
    regenerated = _arrays(shard)
    for name in original:
        np.testing.assert_array_equal(regenerated[name], original[name], err_msg=name)
    check_manifest(tmp_path / "out.manifest.json")


def test_the_manifest_is_not_written_over_a_damaged_shard(
    model: Path, tmp_path: Path, capsys
) -> None:
    """Independent ranks (a Slurm array): the last one checks every shard before the
    manifest, so a shard damaged after it was written is not blessed by another rank."""
    output = tmp_path / "out.root"
    for rank in range(2):
        assert main([*_generate(model, output), "--rank", str(rank), "--world-size", "2"]) == 0
    (tmp_path / "out.manifest.json").unlink()
    _zero_keeping_the_record(tmp_path / "out.rank00000.root")
    capsys.readouterr()
    resume = [*_generate(model, output), "--world-size", "2", "--resume", "--rank"]
    assert main([*resume, "1"]) == 2
    message = capsys.readouterr().err
    assert "out.rank00000.root" in message and "sha256" in message and "--resume" in message
    assert not (tmp_path / "out.manifest.json").exists()
    assert main([*resume, "0"]) == 0  # regenerates shard 0, then all are good
    check_manifest(tmp_path / "out.manifest.json")


@pytest.mark.parametrize("edit", ["a shard listed twice", "one file for two ranks"])
def test_a_manifest_that_lists_a_shard_twice_fails_the_check(
    model: Path, tmp_path: Path, edit: str
) -> None:
    output = tmp_path / "out.root"
    for rank in range(2):
        assert main([*_generate(model, output), "--rank", str(rank), "--world-size", "2"]) == 0
    path = tmp_path / "out.manifest.json"
    manifest = json.loads(path.read_text())
    first = manifest["shards"][0]
    if edit == "a shard listed twice":
        manifest["shards"] = [first, first]
    else:
        manifest["shards"] = [first, {**first, "rank": 1}]
    manifest["total_events"] = 2 * first["events"]  # so that the counts add up
    path.write_text(json.dumps(manifest))
    with pytest.raises(ConfigError, match="rank"):
        check_manifest(path)


def test_a_manifest_pointing_at_another_productions_shard_fails_the_check(
    model: Path, tmp_path: Path
) -> None:
    """The shard's own plan record must be the manifest's, even with its sha256 listed."""
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for folder, seed in ((ours, SEED), (theirs, SEED + 1)):
        folder.mkdir()
        args = _generate(model, folder / "out.root", "--rank", "0", "--world-size", "1")
        args[args.index("--seed") + 1] = str(seed)
        assert main(args) == 0
    shard = ours / "out.rank00000.root"
    shard.write_bytes((theirs / "out.rank00000.root").read_bytes())
    path = ours / "out.manifest.json"
    manifest = json.loads(path.read_text())
    manifest["shards"][0]["sha256"] = sha256_of(shard)
    path.write_text(json.dumps(manifest))
    with pytest.raises(ConfigError, match="another production"):
        check_manifest(path)
    path.write_text(json.dumps({**manifest, "format": "hepgan-shards/1"}))
    with pytest.raises(ConfigError, match="hepgan-shards/2"):
        check_manifest(path)
    path.write_text(json.dumps({**manifest, "output": "../out.root"}))
    with pytest.raises(ConfigError, match="malformed"):
        check_manifest(path)
    elsewhere = {**manifest["shards"][0], "file": "../theirs/out.rank00000.root"}
    path.write_text(json.dumps({**manifest, "shards": [elsewhere]}))
    with pytest.raises(ConfigError, match="rank 0 is"):
        check_manifest(path)


def test_a_shard_being_written_again_is_not_done(model: Path, tmp_path: Path) -> None:
    """Its old .sha256 goes first, so that no other rank checks the old shard meanwhile."""
    output = tmp_path / "out.root"
    assert main([*_generate(model, output), "--rank", "0", "--world-size", "1"]) == 0
    plan = _plan(model, output, world_size=1)
    assert all_shards_written(plan)
    wrong = np.zeros((3, 7))  # conditions of the wrong shape: generation fails
    with pytest.raises(ConfigError, match="shape"):
        write_shard(load_artefact(model), plan, 0, conditions=wrong)
    assert (tmp_path / "out.rank00000.root").is_file()  # the old shard stays
    assert not all_shards_written(plan)
