"""The ablation's variants (scripts/ablation/*.toml) are valid training settings in the current
layout, and the driver refuses a variant that has no file before it trains anything."""

from __future__ import annotations

import os
import subprocess
import warnings
from pathlib import Path

import pytest

from hepgan.training.config import build_config, read_toml
from tests.conftest import REPO_ROOT

VARIANTS = sorted((REPO_ROOT / "scripts" / "ablation").glob("*.toml"))


def test_there_are_variants_and_base_is_one() -> None:
    assert "base" in {path.stem for path in VARIANTS} and len(VARIANTS) > 1


@pytest.mark.parametrize("path", VARIANTS, ids=[path.stem for path in VARIANTS])
def test_each_variant_is_a_valid_training_config(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # no deprecated flat names
        config = build_config(
            read_toml(path), {"data": "showers.root", "voxels": "voxels", "out": "model"}
        )
    config.validate()


def test_the_driver_refuses_an_unknown_variant(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "VARIANTS_TO_RUN": "base no_such_variant",
        "ABLATION_DIR": str(tmp_path / "ablation"),
    }
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "ablation.sh")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "no variant no_such_variant" in result.stderr
    assert not (tmp_path / "ablation" / "models").exists()  # nothing trained
