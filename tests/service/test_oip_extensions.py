"""Our /v2 answers the Triton extensions SONIC-style clients call, as a real Triton does:
``get_model_config`` (GET /v2/models/{name}/config), ``get_inference_statistics``
(GET /v2/models[/{name}]/stats) and the repository index (POST /v2/repository/index), checked
with tritonclient against our server and, key for key, against the ``nvidia-pytriton`` wheel's
tritonserver serving the same model exported with ``--backend python``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from hepgan.cli import main
from hepgan.models.artefact import load_artefact
from hepgan.models.export.onnx_file import card_metadata
from hepgan.service.oip.inference import MAX_RESPONSE_VALUES
from hepgan.service.settings import Settings
from tests.service.conftest import MAX_EVENTS
from tests.support.threaded_server import ThreadedServer, serve_in_thread
from tests.support.triton_server import TritonServer, missing_reason, triton_server

httpclient = pytest.importorskip("tritonclient.http")
from tritonclient.utils import InferenceServerException  # noqa: E402 - after the skip

MODEL = "showers_tiny"
KEY = "correct horse battery staple"


@pytest.fixture
def client(server: ThreadedServer) -> Iterator:
    with httpclient.InferenceServerClient(server.url.removeprefix("http://")) as client:
        yield client


def _infer(client, n_events: int, *, energy: float = 5000.0) -> None:
    latent = client.get_model_metadata(MODEL)["inputs"][1]["shape"][1]
    inputs = [
        httpclient.InferInput("conditions", [n_events, 1], "FP32"),
        httpclient.InferInput("noise", [n_events, latent], "FP32"),
    ]
    inputs[0].set_data_from_numpy(np.full((n_events, 1), energy, dtype=np.float32))
    inputs[1].set_data_from_numpy(np.zeros((n_events, latent), dtype=np.float32))
    client.infer(MODEL, inputs, parameters={"validate": False})


def test_the_configuration_is_the_served_model(client, model_dir: Path) -> None:
    config = client.get_model_config(MODEL)
    artefact = load_artefact(model_dir / MODEL)
    card = artefact.card
    assert config["name"] == MODEL and config["platform"] == "hepgan_pytorch"
    assert config["max_batch_size"] == min(MAX_EVENTS, MAX_RESPONSE_VALUES // card.n_features)
    assert [(item["name"], item["dims"], item["data_type"]) for item in config["input"]] == [
        ("conditions", [1], "TYPE_FP32"),
        ("noise", [card.architecture["latent_dim"]], "TYPE_FP32"),
    ]
    assert [(item["name"], item["dims"]) for item in config["output"]] == [
        ("events", [card.n_features])
    ]
    assert [group["kind"] for group in config["instance_group"]] == ["KIND_CPU"]
    parameters = {key: value["string_value"] for key, value in config["parameters"].items()}
    assert parameters == card_metadata(artefact)  # what hepgan export writes


def test_statistics_count_requests_events_and_failures(client) -> None:
    def stats() -> dict:
        (entry,) = client.get_inference_statistics(MODEL)["model_stats"]
        return entry

    before = stats()
    for n_events in (5, 7, 9):
        _infer(client, n_events)
    with pytest.raises(InferenceServerException, match="outside the training range"):
        _infer(client, 2, energy=1e12)
    after = stats()
    assert after["name"] == MODEL and after["version"] == "1"
    assert after["inference_count"] - before["inference_count"] == 21
    assert after["execution_count"] - before["execution_count"] == 3
    assert after["last_inference"] >= before["last_inference"] and after["last_inference"] > 0
    counts = {
        key: after["inference_stats"][key]["count"] - before["inference_stats"][key]["count"]
        for key in ("success", "fail", "compute_input", "compute_infer", "compute_output")
    }
    assert counts == {
        "success": 3,
        "fail": 1,
        "compute_input": 3,
        "compute_infer": 3,
        "compute_output": 3,
    }
    spent = {key: after["inference_stats"][key]["ns"] for key in ("success", "compute_infer")}
    assert spent["success"] > spent["compute_infer"] > 0


def test_statistics_of_every_model(client, server: ThreadedServer) -> None:
    served = [model["name"] for model in httpx.get(f"{server.url}/v1/models").json()["models"]]
    every = client.get_inference_statistics()["model_stats"]
    assert [entry["name"] for entry in every] == sorted(served)


def test_the_repository_index_lists_served_and_broken_folders(client, server) -> None:
    index = client.get_model_repository_index()
    states = {entry["name"]: entry["state"] for entry in index}
    assert states == {
        "broken": "UNAVAILABLE",
        "dimuon_exact": "READY",
        "dimuon_untrained": "READY",
        "showers_tiny": "READY",
    }
    assert [entry["name"] for entry in index] == sorted(states)
    assert "reason" in index[0] and all(entry["version"] == "1" for entry in index)
    ready = httpx.post(f"{server.url}/v2/repository/index", json={"ready": True}).json()
    assert [entry["name"] for entry in ready] == ["dimuon_exact", "dimuon_untrained", MODEL]


@pytest.mark.parametrize(
    ("body", "named"),
    [(b'{"ready": "yes"}', "ready"), (b'{"readiness": true}', "readiness"), (b"{", "not JSON")],
)
def test_a_bad_index_request_is_400_naming_the_field(server, body: bytes, named: str) -> None:
    response = httpx.post(f"{server.url}/v2/repository/index", content=body)
    assert response.status_code == 400 and named in response.json()["error"]


@pytest.mark.parametrize("route", ["config", "stats"])
def test_an_unknown_model_is_404_listing_the_models(server, route: str) -> None:
    response = httpx.get(f"{server.url}/v2/models/nope/{route}")
    assert response.status_code == 404
    assert "'nope'" in response.json()["error"] and MODEL in response.json()["error"]


def test_the_server_says_which_extensions_it_has(client) -> None:
    extensions = client.get_server_metadata()["extensions"]
    assert {"model_configuration", "statistics"} <= set(extensions)


# Against a real Triton serving the same model.


@pytest.fixture(scope="module")
def triton(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    repository = tmp_path_factory.mktemp("extensions") / "repository"
    args = ["export", "--model", str(model_dir / MODEL), "--format", "triton"]
    assert main([*args, "--backend", "python", "-o", str(repository)]) == 0
    with triton_server(repository, log=repository.parent / "tritonserver.log") as server:
        yield server


def _key_types(value: object) -> object:
    """The shape of a JSON value: dicts as {key: shape}, lists as the shape of their first item,
    scalars as their type's name."""
    if isinstance(value, dict):
        return {key: _key_types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_key_types(value[0])] if value else []
    return type(value).__name__


@pytest.mark.slow
def test_the_configuration_has_tritons_keys_and_parameters(client, triton: TritonServer) -> None:
    with httpclient.InferenceServerClient(triton.http_address) as real:
        theirs = real.get_model_config(MODEL)
    ours = client.get_model_config(MODEL)
    assert set(ours) <= set(theirs), set(ours) - set(theirs)
    assert {"name", "platform", "max_batch_size", "input", "output", "parameters"} <= set(ours)
    for key, value in ours.items():  # each key's value has the same keys and types as Triton's
        if value not in ([], {}) and theirs[key] not in ([], {}):
            assert _key_types(value) == _key_types(theirs[key]), key
    assert ours["parameters"] == theirs["parameters"]  # the card, as the export wrote it
    by_name = {item["name"]: item["dims"] for item in theirs["input"]}
    assert {item["name"]: item["dims"] for item in ours["input"]} == by_name


@pytest.mark.slow
def test_statistics_and_index_have_tritons_shape(client, triton: TritonServer) -> None:
    with httpclient.InferenceServerClient(triton.http_address) as real:
        theirs = real.get_inference_statistics(MODEL)
        their_index = real.get_model_repository_index()
    ours = client.get_inference_statistics(MODEL)
    assert _key_types(ours) == _key_types(theirs)
    assert _key_types(their_index) == _key_types(
        [entry for entry in client.get_model_repository_index() if entry["state"] == "READY"]
    )


@pytest.fixture(scope="module")
def keyed_server(model_dir: Path) -> Iterator[ThreadedServer]:
    yield from serve_in_thread(Settings(models_dir=model_dir, api_key=KEY, warmup_events=0))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/v2/models/{MODEL}/config"),
        ("GET", f"/v2/models/{MODEL}/stats"),
        ("GET", "/v2/models/stats"),
        ("POST", "/v2/repository/index"),
    ],
)
def test_the_extensions_need_the_api_key(
    keyed_server: ThreadedServer, method: str, path: str
) -> None:
    url = f"{keyed_server.url}{path}"
    refused = httpx.request(method, url)
    assert refused.status_code == 401 and "API key" in refused.json()["error"]
    allowed = httpx.request(method, url, headers={"Authorization": f"Bearer {KEY}"})
    assert allowed.status_code == 200
