"""The image installs a wheel built from the Docker build context alone: it holds every module."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.deploy.deploy_helpers import REPO_ROOT

# Folder in the repository -> import prefix in the installed package (pyproject's package-dir).
PACKAGE_FOLDERS = {
    "hepgan": "hepgan",
    "models": "hepgan/models",
    "training": "hepgan/training",
    "datafiles": "hepgan/datafiles",
    "simulators": "hepgan/simulators",
    "service": "hepgan/service",
    "validation": "hepgan/validation",
}


def _build_context_paths() -> list[str]:
    """The paths .dockerignore lets into the build context (it whitelists with `!`)."""
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    return [line[1:].rstrip("/") for line in lines if line.startswith("!")]


@pytest.mark.slow
def test_wheel_from_build_context_contains_every_module(tmp_path: Path) -> None:
    context = tmp_path / "context"
    for name in _build_context_paths():
        source = REPO_ROOT / name
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        if source.is_dir():
            shutil.copytree(source, context / name, ignore=ignore)
        else:
            context.mkdir(exist_ok=True)
            shutil.copy2(source, context / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--no-cache-dir", "--wheel-dir", str(wheels), str(context)],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("hepgan-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"{prefix}/{path.relative_to(REPO_ROOT / folder).as_posix()}"
        for folder, prefix in PACKAGE_FOLDERS.items()
        for path in (REPO_ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    } | {  # the web page's HTML, CSS and scripts (pyproject `package-data`)
        f"hepgan/service/page/{path.name}" for path in (REPO_ROOT / "service" / "page").iterdir()
    }
    missing = sorted(expected - shipped)
    assert not missing, (
        f"files left out of the wheel (pyproject `packages`, `package-data`?): {missing}"
    )
