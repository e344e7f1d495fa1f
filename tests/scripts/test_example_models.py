"""The example models shipped in examples/models (served at once by scripts/demo.sh):

- each is what ``hepgan train --config scripts/examples/NAME.toml`` (scripts/train_examples.sh)
  writes: its card records that file's seed, steps and data, and it ran the whole step budget;
- each was trained with today's default settings, so a change of the defaults without a
  rebuild of the examples fails here;
- served by a real server, a batch of each gets a PASS or WARN verdict, not FAIL.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hepgan.models.artefact import load_artefact
from hepgan.training.config import TrainConfig, read_toml
from tests.support.threaded_server import ThreadedServer, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "models"
NAMES = ("showers_small", "dimuon")
# what each run chooses for itself; every other setting must be the default
RUN_FIELDS = set(
    "data tree features voxels condition out run_dir description seed max_steps max_minutes "
    "device".split()
)


def _recipe(name: str) -> dict:
    return read_toml(ROOT / "scripts" / "examples" / f"{name}.toml")


@pytest.mark.parametrize("name", NAMES)
def test_the_example_is_its_recipes_run_with_the_default_settings(name: str) -> None:
    artefact = load_artefact(EXAMPLES / name)  # checks the weights' checksums
    recipe = _recipe(name)
    training = artefact.card.training
    config = training.config
    for key in ("seed", "max_steps", "data", "description"):
        assert config[key] == recipe[key], key
    assert training.steps == recipe["max_steps"]  # the whole budget, not a time cap
    assert artefact.card.description == recipe["description"]
    assert [Path(file.path).name for file in training.data_files] == [
        Path(path).name for path in recipe["data"]
    ]
    showers = "voxels" in recipe
    kind = {"voxels": recipe["voxels"]} if showers else {"features": ["x"]}
    defaults = TrainConfig(data=["x"], out="x", **kind).to_dict()
    changed = {
        key: (_applying(config[key], key, showers), _applying(value, key, showers))
        for key, value in defaults.items()
        if key not in RUN_FIELDS
        and key in config
        and _applying(config[key], key, showers) != _applying(value, key, showers)
    }
    assert not changed, f"{name} was trained with other settings than today's defaults: {changed}"


def _applying(value, key: str, showers: bool):
    """A setting as far as it applies to the model's kind: an event model ignores the
    [shower] table and the two stages, a shower model the [events] table."""
    if key == ("events" if showers else "shower"):
        return None
    if key == "network" and not showers:
        return {name: v for name, v in value.items() if name not in SHOWER_NETWORK}
    return value


SHOWER_NETWORK = ("two_stage", "stage_one_hidden")  # network settings of showers only


@pytest.mark.parametrize("name", NAMES)
def test_the_examples_own_report_passes_or_warns(name: str) -> None:
    card = json.loads((EXAMPLES / name / "model.json").read_text())
    summary = card["validation"]["reference_report"]
    assert summary["status"] in ("pass", "warn"), summary["reasons"]


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    from hepgan.service.settings import Settings

    yield from serve_in_thread(Settings(models_dir=EXAMPLES, device="cpu"))


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("showers_small", {"n_events": 10_000, "seed": 3}),
        ("dimuon", {"n_events": 10_000, "seed": 3}),
    ],
)
def test_served_examples_pass_or_warn(server: ThreadedServer, name: str, body: dict) -> None:
    """What the demo's first request sees: a batch with its report, not a FAIL."""
    response = httpx.post(
        f"{server.url}/v1/models/{name}/generate",
        json={**body, "format": "json", "validate": True},
        timeout=300,
    )
    assert response.status_code == 200, response.text
    summary = response.json()["report"]["summary"]
    print(name, summary["status"], summary["reasons"], file=sys.stderr)
    assert summary["status"] in ("pass", "warn"), summary["reasons"]
