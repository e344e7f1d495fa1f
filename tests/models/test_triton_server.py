"""A real Triton Inference Server (the ``nvidia-pytriton`` wheel's ``tritonserver``) loads what
``hepgan export --format triton --backend python`` writes and, for the same noise and
conditions, gives the events of our /v2 and of the artefact.

Tolerance, measured: Triton's Python backend runs the exported graph with the same
onnxruntime as a session in this process, so its events equal that session's bit for bit;
against the artefact's own path (torch and NumPy, which /v2 runs for given noise, bit for bit
the artefact's) they differ by at most tests/models/test_export.py's MAX_ULPS float32 ULPs
of each column's scale (2.4 measured, docs/onnx.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from hepgan.cli import main
from hepgan.models.artefact import load_artefact
from hepgan.service.settings import Settings
from tests.models.test_export import MAX_ULPS
from tests.support.onnx_parity import onnx_and_sampler, sampler_inputs, worst_ulps
from tests.support.threaded_server import ThreadedServer, serve_in_thread
from tests.support.tiny import make_tiny_artefact
from tests.support.triton_server import TritonServer, missing_reason, triton_server

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
httpclient = pytest.importorskip("tritonclient.http")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason())),
]

MODELS = ("showers", "events")
N_EVENTS = 200


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("triton_models")
    for kind in MODELS:
        make_tiny_artefact(folder / kind, kind=kind, n_events=1000, steps=2)
    return folder


@pytest.fixture(scope="module")
def repository(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    repository = tmp_path_factory.mktemp("triton") / "repository"
    for kind in MODELS:
        args = ["export", "--model", str(models_dir / kind), "--format", "triton"]
        assert main([*args, "--backend", "python", "-o", str(repository)]) == 0
    return repository


@pytest.fixture(scope="module")
def triton(repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    log = tmp_path_factory.mktemp("triton_log") / "tritonserver.log"
    with triton_server(repository, log=log) as server:
        yield server


@pytest.fixture(scope="module")
def ours(models_dir: Path) -> Iterator[ThreadedServer]:
    yield from serve_in_thread(Settings(models_dir=models_dir, warmup_events=16))


def _infer(
    url: str,
    name: str,
    noise: np.ndarray,
    conditions: np.ndarray | None,
    parameters: dict | None = None,
) -> np.ndarray:
    """Events for ``noise`` and ``conditions`` from the OIP server at ``url`` (host:port),
    with tritonclient over HTTP, binary tensors both ways, and request ``parameters``."""
    inputs = []
    for input_name, values in (("noise", noise), ("conditions", conditions)):
        if values is None:
            continue
        tensor = httpclient.InferInput(input_name, list(values.shape), "FP32")
        tensor.set_data_from_numpy(values.astype(np.float32), binary_data=True)
        inputs.append(tensor)
    outputs = [httpclient.InferRequestedOutput("events", binary_data=True)]
    with httpclient.InferenceServerClient(url, network_timeout=120) as client:
        result = client.infer(name, inputs, outputs=outputs, parameters=parameters)
    return result.as_numpy("events")


@pytest.mark.parametrize("name", MODELS)
def test_triton_gives_our_events(
    triton: TritonServer,
    ours: ThreadedServer,
    repository: Path,
    models_dir: Path,
    name: str,
) -> None:
    artefact = load_artefact(models_dir / name)
    session = ort.InferenceSession(
        str(repository / name / "1" / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    local, expected = onnx_and_sampler(artefact, session, n_events=N_EVENTS, seed=3)
    noise, conditions = sampler_inputs(artefact, n_events=N_EVENTS, seed=3)
    if not artefact.card.n_conditions:
        conditions = None

    from_triton = _infer(triton.http_address, name, noise, conditions)
    # Reference conditions may lie a little outside the training range, which ours refuses.
    ours_address = ours.url.removeprefix("http://")
    from_ours = _infer(ours_address, name, noise, conditions, {"extrapolate": True})

    assert from_triton.dtype == np.float32 and from_triton.shape == expected.shape
    # The model ran cleanly: no Python error in the server's log (e.g. from a DLPack capsule).
    assert "Traceback" not in triton.log.read_text(errors="replace")
    np.testing.assert_array_equal(from_triton, local)  # the same graph, the same runtime
    np.testing.assert_array_equal(from_ours, expected.astype(np.float32))
    worst = worst_ulps(from_triton, from_ours)
    assert worst.max() <= MAX_ULPS, dict(
        zip(artefact.card.feature_names, worst.tolist(), strict=True)
    )


def test_triton_reads_the_exported_configuration(triton: TritonServer, models_dir: Path) -> None:
    with httpclient.InferenceServerClient(triton.http_address) as client:
        index = client.get_model_repository_index()
        config = client.get_model_config("showers")
    assert sorted((entry["name"], entry["version"], entry["state"]) for entry in index) == [
        ("events", "1", "READY"),
        ("showers", "1", "READY"),
    ]
    card = load_artefact(models_dir / "showers").card
    assert config["name"] == "showers" and config["backend"] == "python"
    assert {item["name"]: item["dims"] for item in config["input"]} == {
        "noise": [card.architecture["latent_dim"]],
        "conditions": [1],
    }
    assert [(item["name"], item["dims"]) for item in config["output"]] == [
        ("events", [card.n_features])
    ]
    parameters = {key: value["string_value"] for key, value in config["parameters"].items()}
    assert json.loads(parameters["hepgan.feature_names"]) == card.feature_names


def test_triton_counts_the_requests(triton: TritonServer, models_dir: Path) -> None:
    artefact = load_artefact(models_dir / "events")
    noise = np.zeros((5, artefact.card.architecture["latent_dim"]), dtype=np.float32)
    with httpclient.InferenceServerClient(triton.http_address) as client:
        before = client.get_inference_statistics("events")["model_stats"][0]
        for _ in range(3):
            _infer(triton.http_address, "events", noise, None)
        after = client.get_inference_statistics("events")["model_stats"][0]
    assert after["name"] == "events" and after["version"] == "1"
    assert after["inference_count"] - before["inference_count"] == 15  # events, not requests
    success = after["inference_stats"]["success"]["count"]
    assert success - before["inference_stats"]["success"]["count"] == 3
