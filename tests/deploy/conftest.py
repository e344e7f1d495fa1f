"""Fixtures for the deployment checks: the Dockerfile's runtime stage, parsed."""

from __future__ import annotations

import pytest

from tests.deploy.deploy_helpers import REPO_ROOT, RuntimeStage, parse_runtime_stage


@pytest.fixture(scope="session")
def runtime_stage() -> RuntimeStage:
    """The final stage of the repository's Dockerfile."""
    return parse_runtime_stage((REPO_ROOT / "Dockerfile").read_text())
