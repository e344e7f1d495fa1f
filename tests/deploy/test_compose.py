"""compose.yaml: one GPU node; the service and the training job from the same image."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml

from hepgan.cli import build_parser
from tests.deploy.deploy_helpers import REPO_ROOT, RuntimeStage


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())["services"]


def _gpu_devices(service: dict[str, Any]) -> list[dict[str, Any]]:
    return service["deploy"]["resources"]["reservations"]["devices"]


@pytest.mark.parametrize("name", ["serve", "train"])
def test_service_reserves_an_nvidia_gpu(services: dict[str, Any], name: str) -> None:
    (device,) = _gpu_devices(services[name])
    assert device["driver"] == "nvidia"
    assert "gpu" in device["capabilities"]
    assert device.get("count", 0) == "all" or device.get("count", 0) >= 1


def test_serve_matches_the_image(services: dict[str, Any], runtime_stage: RuntimeStage) -> None:
    serve = services["serve"]
    assert serve["build"]["context"] == "."
    assert serve["command"] == runtime_stage.cmd
    published = [str(port).rsplit(":", 1)[-1] for port in serve["ports"]]
    assert published == [str(port) for port in runtime_stage.exposed_ports]
    (models,) = [
        v for v in serve["volumes"] if v["target"] == runtime_stage.env["HEPGAN_MODELS_DIR"]
    ]
    assert models["read_only"] is True
    assert any("/readyz" in part for part in serve["healthcheck"]["test"])


def test_training_uses_the_same_image_only_on_request(services: dict[str, Any]) -> None:
    train, serve = services["train"], services["serve"]
    assert train["image"] == serve["image"]
    assert train["profiles"] == ["train"]
    assert train["healthcheck"] == {"disable": True}
    assert {volume["target"] for volume in train["volumes"]} == {"/data", "/models"}
    parsed = build_parser().parse_args(train["command"])
    assert parsed.command == "train" and parsed.config.startswith("/data/")


def test_docker_compose_accepts_the_file() -> None:
    docker = shutil.which("docker")
    has_compose = docker and subprocess.run([docker, "compose", "version"], capture_output=True)
    if not has_compose or has_compose.returncode != 0:
        pytest.skip("`docker compose config` skipped: the Docker Compose plugin is not installed")
    result = subprocess.run(
        [docker, "compose", "--file", "compose.yaml", "config", "--quiet"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
