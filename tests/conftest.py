"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``../shared/data`` beside the checkout (override with ``HEPGAN_SHARED_DATA``)."""
    return Path(os.environ.get("HEPGAN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """The folder of real ROOT files written by ROOT itself; skips when it is absent."""
    folder = shared_data_dir()
    if not folder.is_dir():
        pytest.skip(f"real ROOT files not found at {folder} (set HEPGAN_SHARED_DATA)")
    return folder
