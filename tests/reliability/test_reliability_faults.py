"""Faults: training killed mid-checkpoint, damaged inputs, tampered and broken artefacts.

Every fault must end in a clear outcome: training resumes and finishes with a valid
artefact, bad input exits with status 2 and one line naming the file and object, a
tampered artefact is refused at load, and a service with a broken artefact keeps
serving the others while /readyz names the broken one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.reliability.conftest import GOOD_MODELS, HOSTILE_MODELS, TAMPERED_MODEL
from tests.reliability.figures import record_figures
from tests.support.live_server import LiveServer

# A network small enough that its steps take seconds, checkpointing every 4 steps. Each
# checkpoint write lasts a few milliseconds, so the watcher below may miss one: enough
# steps give it about a dozen writes to catch (with 16 it missed them in 2 runs of 5).
MAX_STEPS = 64
TRAIN_CONFIG = f"""\
data = ["showers.root"]
tree = "showers"
voxels = "voxels"
condition = "incident_energy"
out = "artefact"
seed = 3
batch_size = 64
max_steps = {MAX_STEPS}
max_minutes = 10
validate_every = 4
validation_events = 300
device = "cpu"
[network]
latent_dim = 8
generator_hidden = [16, 16]
critic_hidden = [16, 16]
"""
KILL_TIMEOUT_S = 240.0


def hepgan(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the ``hepgan`` CLI in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "hepgan.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit status 2, no traceback, and a last stderr line that names every needle."""
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("hepgan "), line
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with 2000 simulated small-geometry showers and the tiny training config."""
    folder = tmp_path_factory.mktemp("faults")
    result = hepgan(
        "simulate", "showers", "--geometry", "small", "-n", "2000", "--energy-min", "1000",
        "--energy-max", "100000", "--seed", "5", "-o", "showers.root", cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (folder / "tiny.toml").write_text(TRAIN_CONFIG)
    return folder


class CheckpointWatcher:
    """Polls a run folder and opens every checkpoint file the moment it becomes visible.

    A visible file is one whose name does not start with a dot (temporary files are
    ``.NAME.partial``). Each new version (size, mtime) is read in full with safetensors;
    a half-written checkpoint would fail to open. ``partial_seen`` is set as soon as a
    temporary checkpoint file exists, i.e. while a checkpoint is being written.
    """

    def __init__(self, run_folder: Path) -> None:
        self.run_folder = run_folder
        self.opened = 0
        self.failures: list[str] = []
        self.partial_seen = threading.Event()
        self._seen: set[tuple[str, int, int]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> CheckpointWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._check_once()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._check_once()
            time.sleep(0.002)

    def _check_once(self) -> None:
        from hepgan.training.checkpoint import load_checkpoint

        if not self.run_folder.is_dir():
            return
        for path in self.run_folder.iterdir():
            if path.name.endswith(".partial"):
                self.partial_seen.set()
                continue
            if path.suffix != ".safetensors" or path.name.startswith("."):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            version = (path.name, stat.st_size, stat.st_mtime_ns)
            if version in self._seen:
                continue
            self._seen.add(version)
            self.opened += 1
            try:
                load_checkpoint(path)
            except Exception as error:  # any failure to read is what this watcher looks for
                self.failures.append(f"{path.name} ({stat.st_size} bytes): {error}")


def _validations_done(metrics: Path) -> int:
    if not metrics.is_file():
        return 0
    lines = metrics.read_text().splitlines()
    return sum('"event": "validation"' in line for line in lines)


@pytest.fixture(scope="module")
def killed_then_resumed(workdir: Path) -> Iterator[dict[str, object]]:
    """Train, SIGKILL while a checkpoint is being written, then train again with --resume."""
    run_folder = workdir / "artefact" / "run"
    command = [sys.executable, "-m", "hepgan.cli", "train", "--config", "tiny.toml"]
    outcome: dict[str, object] = {}
    with CheckpointWatcher(run_folder) as watcher:
        process = subprocess.Popen(command, cwd=workdir, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + KILL_TIMEOUT_S
        # Wait for one checkpoint after the step-0 one, then kill during the next write.
        while _validations_done(run_folder / "metrics.jsonl") < 1:
            assert process.poll() is None, f"training ended early: {process.stderr.read()}"
            assert time.monotonic() < deadline, "no validation step within the time limit"
            time.sleep(0.01)
        watcher.partial_seen.clear()
        while not watcher.partial_seen.wait(timeout=0.01):
            assert process.poll() is None, "training ended before a checkpoint write was seen"
            assert time.monotonic() < deadline, "no checkpoint write within the time limit"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stderr.close()
        # A temporary file left behind proves the kill landed inside a checkpoint write.
        outcome["partial_files_left_by_kill"] = sorted(
            p.name for p in run_folder.iterdir() if p.name.endswith(".partial")
        )
        outcome["exit_after_kill"] = process.returncode
        outcome["step_at_kill"] = _last_step(run_folder / "metrics.jsonl")
        outcome["visible_after_kill"] = sorted(
            p.name for p in run_folder.iterdir() if not p.name.startswith(".")
        )
        resumed = hepgan("train", "--config", "tiny.toml", "--resume", cwd=workdir)
        outcome["resume"] = resumed
    outcome["checkpoint_versions_opened"] = watcher.opened
    outcome["unreadable_checkpoints"] = watcher.failures
    yield outcome


def _last_step(metrics: Path) -> int:
    steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines() if line]
    return max(steps, default=0)


@pytest.mark.slow
def test_training_killed_mid_checkpoint_resumes_to_a_valid_artefact(
    workdir: Path, killed_then_resumed: dict[str, object]
) -> None:
    from hepgan.models.artefact import load_artefact

    outcome = killed_then_resumed
    resumed = outcome.pop("resume")
    assert outcome["exit_after_kill"] == -signal.SIGKILL
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "wrote artefact" in resumed.stdout
    assert outcome["unreadable_checkpoints"] == []
    assert outcome["checkpoint_versions_opened"] >= 2
    assert "last.safetensors" in outcome["visible_after_kill"]
    artefact = load_artefact(workdir / "artefact")
    energies = np.full(50, 20000.0)  # MeV, inside the training range
    features = artefact.generate(50, conditions=energies[:, None], seed=1)  # (50, 120)
    assert features.shape == (50, 120) and np.isfinite(features).all()
    steps = [
        json.loads(line)["step"]
        for line in (workdir / "artefact" / "run" / "metrics.jsonl").read_text().splitlines()
        if '"event": "validation"' in line
    ]
    assert steps == sorted(set(steps)) and steps[-1] == MAX_STEPS, steps
    record_figures("fault_training_kill", {**outcome, "final_step": steps[-1]})


def _truncate(data: bytes) -> bytes:
    """The first 60% of the file, as a copy cut short leaves it."""
    return data[: len(data) * 6 // 10]


def _scramble_middle(data: bytes) -> bytes:
    """64 KiB of random bytes over the middle of the file (compressed baskets)."""
    damaged = bytearray(data)
    middle = len(data) // 2
    damaged[middle : middle + 65536] = np.random.default_rng(0).bytes(65536)
    return bytes(damaged)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("damage", "name"), [(_truncate, "truncated"), (_scramble_middle, "corrupt")]
)
def test_damaged_root_file_is_a_clear_error(workdir: Path, damage, name: str) -> None:
    damaged = f"{name}.root"
    (workdir / damaged).write_bytes(damage((workdir / "showers.root").read_bytes()))
    result = hepgan("train", "--config", "tiny.toml", "--data", damaged,
                    "--out", f"out_{name}", cwd=workdir)  # fmt: skip
    line = assert_one_line_error(result, damaged)
    record_figures(f"fault_{name}_root", {"exit_status": result.returncode, "message": line})


@pytest.mark.slow
def test_missing_branch_is_a_clear_error(workdir: Path) -> None:
    result = hepgan("train", "--config", "tiny.toml", "--voxels", "voxelz",
                    "--out", "out_branch", cwd=workdir)  # fmt: skip
    line = assert_one_line_error(result, "showers.root", "voxelz", "voxels")
    record_figures("fault_missing_branch", {"exit_status": result.returncode, "message": line})


@pytest.mark.slow
def test_tampered_weights_are_refused_at_load(models_dir: Path, tmp_path: Path) -> None:
    from hepgan.errors import ArtefactError
    from hepgan.models.artefact import load_artefact

    with pytest.raises(ArtefactError, match=r"generator\.safetensors.*sha256"):
        load_artefact(models_dir / TAMPERED_MODEL)
    result = hepgan("generate", "--model", str(models_dir / TAMPERED_MODEL), "-n", "10",
                    "-o", "out.root", cwd=tmp_path)  # fmt: skip
    line = assert_one_line_error(result, "generator.safetensors", "sha256")
    assert not (tmp_path / "out.root").exists()
    record_figures("fault_tampered_weights", {"exit_status": result.returncode, "message": line})


@pytest.mark.slow
def test_broken_artefacts_do_not_stop_the_others(live_server: LiveServer) -> None:
    readiness = httpx.get(f"{live_server.url}/readyz", timeout=10)
    assert readiness.status_code == 200
    body = readiness.json()
    assert body["ready"] is True and body["models"] == sorted(GOOD_MODELS)
    assert set(body["broken"]) == set(HOSTILE_MODELS)
    assert "sha256" in body["broken"][TAMPERED_MODEL]
    for name in GOOD_MODELS:
        served = httpx.post(
            f"{live_server.url}/v1/models/{name}/generate",
            json={"n_events": 20, "seed": 1, "validate": False},
            headers=live_server.auth,
            timeout=60,
        )
        assert served.status_code == 200, served.text
    refused = httpx.post(
        f"{live_server.url}/v1/models/{TAMPERED_MODEL}/generate",
        json={"n_events": 20},
        headers=live_server.auth,
        timeout=60,
    )
    assert refused.status_code == 404
    assert "failed to load" in refused.json()["detail"]
    record_figures("fault_broken_artefact_served_beside", {"readyz": body})


@pytest.mark.slow
def test_image_healthcheck_passes_with_a_broken_artefact(live_server: LiveServer) -> None:
    """The Dockerfile's HEALTHCHECK command, pointed at this server, reports it healthy."""
    dockerfile = (Path(__file__).resolve().parents[2] / "Dockerfile").read_text()
    (instruction,) = [
        line
        for line in dockerfile.splitlines()
        if line.strip().startswith("CMD [") and "/readyz" in line
    ]
    command = json.loads(instruction.strip().removeprefix("CMD "))
    port = live_server.url.rsplit(":", 1)[1]
    command = [arg.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for arg in command]
    assert command[0] == "python"
    healthy = subprocess.run([sys.executable, *command[1:]], capture_output=True, timeout=30)
    assert healthy.returncode == 0, healthy.stderr
    unused = [arg.replace(f"127.0.0.1:{port}", "127.0.0.1:9") for arg in command]
    unhealthy = subprocess.run([sys.executable, *unused[1:]], capture_output=True, timeout=30)
    assert unhealthy.returncode != 0
