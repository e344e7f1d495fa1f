"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``../shared/data`` beside the checkout (override with ``HEPGAN_SHARED_DATA``)."""
    return Path(os.environ.get("HEPGAN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``cuda`` skip, saying why, where torch sees no CUDA device."""
    cuda_tests = [item for item in items if item.get_closest_marker("cuda")]
    if not cuda_tests:
        return
    import torch

    if torch.cuda.is_available():
        return
    reason = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
    for item in cuda_tests:
        item.add_marker(reason)


@pytest.fixture
def shared_data() -> Path:
    """The folder of real ROOT files written by ROOT itself; skips when it is absent."""
    folder = shared_data_dir()
    if not folder.is_dir():
        pytest.skip(f"real ROOT files not found at {folder} (set HEPGAN_SHARED_DATA)")
    return folder
