"""A models folder (two good artefacts, two hostile ones) and a real server for reliability tests.

One server process serves the whole module set: the load test, the fuzzer and the
security checks all talk to it over loopback HTTP. Its limits are set low so the
tests reach them quickly: 5000 events per request, 64 KiB bodies. (The hostile-input
tests share a second server with their own limits: ``hostile``, hostile_server.py.)
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.hostile_server import EDITED_CARD, HOSTILE_SETTINGS, NO_CARD, SHOWERS
from tests.support.cards import write_resealed_card
from tests.support.live_server import LiveServer, serve

API_KEY = "reliability-test-key-0123456789abcdef"
SERVER_LIMITS = {
    "HEPGAN_MAX_EVENTS_PER_REQUEST": "5000",
    "HEPGAN_MAX_BODY_BYTES": "65536",
    "HEPGAN_DEVICE": "cpu",
    "MALLOC_ARENA_MAX": "2",  # malloc tuned as in the Dockerfile
    "MALLOC_MMAP_THRESHOLD_": "131072",
}
GOOD_MODELS = ("dimuon", "showers")
TAMPERED_MODEL = "tampered"  # weights changed after model.json recorded their sha256
PICKLED_MODEL = "pickled"  # weights replaced by a pickle, model.json's sha256 updated to match
ESCAPING_FOLDER = "escaping-folder"  # a symlink to an artefact outside the models folder
ESCAPING_WEIGHTS = "escaping-weights"  # its weights file is a symlink to a file outside
HOSTILE_MODELS = (TAMPERED_MODEL, PICKLED_MODEL, ESCAPING_FOLDER, ESCAPING_WEIGHTS)


class _TouchOnUnpickle:
    """Unpickling this creates ``marker``: proof that a loader ran code from a weights file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def tamper_with_weights(folder: Path) -> None:
    """Flip one byte in the middle of the generator weights (model.json keeps the old sha256)."""
    weights = folder / "generator.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))


def replace_weights_with_pickle(folder: Path, marker: Path) -> None:
    """Write a code-running pickle as the weights and make model.json's checksum agree with it."""
    weights = folder / "generator.safetensors"
    weights.write_bytes(pickle.dumps({"weight": _TouchOnUnpickle(marker)}))
    card = json.loads((folder / "model.json").read_text())
    card["checksums"][weights.name] = hashlib.sha256(weights.read_bytes()).hexdigest()
    write_resealed_card(folder, card)


@pytest.fixture(scope="session")
def unpickle_marker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file that exists only if something unpickled the hostile weights."""
    return tmp_path_factory.mktemp("marker") / "unpickled"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory, unpickle_marker: Path) -> Path:
    """dimuon (events), showers (small geometry), and hostile copies of dimuon (HOSTILE_MODELS)."""
    from tests.support.tiny import make_tiny_artefact

    folder = tmp_path_factory.mktemp("models")
    outside = tmp_path_factory.mktemp("outside_the_models_folder")
    make_tiny_artefact(folder / "dimuon", kind="events", seed=1)
    make_tiny_artefact(folder / "showers", kind="showers", seed=2)
    shutil.copytree(folder / "dimuon", folder / TAMPERED_MODEL)
    tamper_with_weights(folder / TAMPERED_MODEL)
    shutil.copytree(folder / "dimuon", folder / PICKLED_MODEL)
    replace_weights_with_pickle(folder / PICKLED_MODEL, unpickle_marker)
    shutil.copytree(folder / "dimuon", outside / "dimuon")
    (folder / ESCAPING_FOLDER).symlink_to(outside / "dimuon", target_is_directory=True)
    shutil.copytree(folder / "dimuon", folder / ESCAPING_WEIGHTS)
    (folder / ESCAPING_WEIGHTS / "generator.safetensors").unlink()
    (folder / ESCAPING_WEIGHTS / "generator.safetensors").symlink_to(
        outside / "dimuon" / "generator.safetensors"
    )
    return folder


@pytest.fixture(scope="session")
def live_server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    log = tmp_path_factory.mktemp("server") / "serve.log"
    with serve(models_dir, api_key=API_KEY, log=log, environment=SERVER_LIMITS) as server:
        yield server


@pytest.fixture(scope="session")
def temporary_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's TMPDIR: where ROOT responses are written, empty between requests."""
    return tmp_path_factory.mktemp("server-tmp")


@pytest.fixture(scope="session")
def hostile_models(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dimuon and showers, a folder without a card, a card edited by one character."""
    folder = tmp_path_factory.mktemp("hostile-models")
    for name in ("dimuon", "showers"):
        shutil.copytree(models_dir / name, folder / name)
    (folder / NO_CARD).mkdir()
    shutil.copytree(models_dir / "dimuon", folder / EDITED_CARD)
    card = folder / EDITED_CARD / "model.json"
    text = card.read_text()
    card.write_text(text.replace('"kind": "events"', '"kind": "showers"', 1))  # a, e: one char
    return folder


@pytest.fixture(scope="session")
def hostile(
    hostile_models: Path, temporary_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    log = tmp_path_factory.mktemp("hostile-server") / "serve.log"
    environment = {**SERVER_LIMITS, **HOSTILE_SETTINGS, "TMPDIR": str(temporary_dir)}
    with serve(hostile_models, api_key=API_KEY, log=log, environment=environment) as server:
        with httpx.Client(base_url=server.url, headers=server.auth, timeout=60) as client:
            for output in ("json", "npy", "arrow", "root"):  # first use of each encoder
                body = {"n_events": 5000, "format": output, "seed": 1}
                assert client.post(SHOWERS, json=body).status_code == 200
        yield server


@pytest.fixture
def client(hostile: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hostile.url, headers=hostile.auth, timeout=120) as http:
        yield http
