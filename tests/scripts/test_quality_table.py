"""scripts/quality_table.py: docs/quality.md's tables from scripts/quality.py's JSON files."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "quality_table.py"


@pytest.fixture(scope="module")
def quality_table():
    spec = importlib.util.spec_from_file_location("quality_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shower_result(auc: float, steps: int) -> dict:
    return {
        "training": {"steps": steps, "wall_seconds": 600.0},
        "classifier_auc": auc,
        "classifier": {
            "auc_isotonic": auc - 0.001,
            "epochs": 23,
            "best_epoch": 13,
            "stopped_by": "patience",
        },
        "median_separation_power": 0.01,
        "max_separation_power": 0.1,
        "max_mean_deviation": 0.004,
        "max_resolution_deviation": 0.05,
        "energy_bins": [],
        "classifier_inputs": ["energies", "hits"],
        "auc_by_input_group": {"energies": 0.8, "hits": 0.9},
    }


def test_one_row_per_model_and_the_spread(quality_table, tmp_path: Path) -> None:
    paths = []
    for seed, auc in ((1, 0.90), (2, 0.80)):
        paths.append(tmp_path / f"showers_seed{seed}_test.json")
        paths[-1].write_text(json.dumps(_shower_result(auc, 3000 + seed)))
    lines = quality_table.table(paths).splitlines()
    assert len(lines) == 2 + 2 + 1
    assert lines[2].startswith("| showers_seed1_test | 3001 | 10.0 | 0.900 | 0.899 |")
    assert lines[2].endswith("| 23 / 13 / patience |")
    assert "| 0.850 (0.800 - 0.900) |" in lines[-1]


def test_the_group_table(quality_table, tmp_path: Path) -> None:
    path = tmp_path / "groups.json"
    path.write_text(json.dumps(_shower_result(0.95, 10)))
    text = quality_table.group_table(path)
    assert "| hits (+ E_inc) | 0.900 |" in text and "| all (energies, hits) | 0.950 |" in text
