"""The Open Inference Protocol (KServe v2) routes, through the official tritonclient[http]
against a live uvicorn server on loopback, and raw HTTP for the protocol's error rules."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from hepgan.models.artefact import load_artefact
from hepgan.service.settings import Settings
from tests.service.conftest import CHUNK_EVENTS, MAX_BODY_BYTES, MAX_EVENTS
from tests.support.threaded_server import ThreadedServer, serve_in_thread

httpclient = pytest.importorskip("tritonclient.http")
from tritonclient.utils import InferenceServerException  # noqa: E402

SHOWERS = "showers_tiny"
DIMUON = "dimuon_exact"
KEY = "oip key"


@pytest.fixture
def triton(server: ThreadedServer) -> Iterator[Any]:
    client = httpclient.InferenceServerClient(server.url.removeprefix("http://"))
    yield client
    client.close()


def _energies(n_events: int) -> np.ndarray:
    return np.geomspace(2e3, 5e4, n_events, dtype=np.float32)[:, None]  # (N, 1) MeV


def _input(name: str, values: np.ndarray, *, binary: bool) -> Any:
    tensor = httpclient.InferInput(name, list(values.shape), "FP32")
    tensor.set_data_from_numpy(values, binary_data=binary)
    return tensor


def _v1_features(http: httpx.Client, name: str, body: dict[str, Any]) -> httpx.Response:
    response = http.post(f"/v1/models/{name}/generate", json={**body, "format": "npz"})
    assert response.status_code == 200, response.text
    return response


def test_server_health_and_metadata(triton: Any) -> None:
    assert triton.is_server_live() and triton.is_server_ready()
    metadata = triton.get_server_metadata()
    assert metadata["name"] == "hepgan" and "binary_tensor_data" in metadata["extensions"]


def test_model_metadata_gives_tensors_datatypes_and_shapes(triton: Any, model_dir: Path) -> None:
    card = load_artefact(model_dir / SHOWERS).card
    metadata = triton.get_model_metadata(SHOWERS)
    assert metadata["name"] == SHOWERS and metadata["versions"] == ["1"]
    assert metadata["inputs"] == [
        {"name": "conditions", "datatype": "FP32", "shape": [-1, 1]},
        {"name": "noise", "datatype": "FP32", "shape": [-1, card.architecture["latent_dim"]]},
    ]
    assert metadata["outputs"] == [
        {"name": "events", "datatype": "FP32", "shape": [-1, card.n_features]}
    ]
    unconditional = triton.get_model_metadata(DIMUON)
    assert [tensor["name"] for tensor in unconditional["inputs"]] == ["noise"]


def test_model_readiness(triton: Any) -> None:
    assert triton.is_model_ready(SHOWERS)
    assert not triton.is_model_ready("no_such_model")


@pytest.mark.parametrize("binary", [True, False])
def test_infer_with_a_seed_gives_the_events_of_v1(
    triton: Any, http: httpx.Client, binary: bool
) -> None:
    n_events = 2 * CHUNK_EVENTS + 500  # three chunks, three derived seeds
    energies = _energies(n_events)
    result = triton.infer(
        SHOWERS,
        [_input("conditions", energies, binary=binary)],
        outputs=[httpclient.InferRequestedOutput("events", binary_data=binary)],
        parameters={"seed": 42},
    )
    events = result.as_numpy("events")
    v1 = _v1_features(
        http,
        SHOWERS,
        {
            "n_events": n_events,
            "conditions": {"incident_energy": energies[:, 0].tolist()},
            "seed": 42,
        },
    )
    with np.load(io.BytesIO(v1.content), allow_pickle=False) as arrays:
        np.testing.assert_array_equal(events, arrays["features"])
    parameters = result.get_response()["parameters"]
    assert parameters["seed"] == 42
    assert parameters["validation_status"] == v1.headers["X-HEPGAN-Validation-Status"]
    assert f"{parameters['validation_worst_ks']:.4g}" == v1.headers["X-HEPGAN-Worst-KS"]
    assert str(parameters["validation_events"]) == v1.headers["X-HEPGAN-Events-Validated"]


def test_infer_for_a_model_without_conditions(triton: Any, http: httpx.Client) -> None:
    latent_dim = triton.get_model_metadata(DIMUON)["inputs"][0]["shape"][1]
    noise_only = triton.infer(
        DIMUON, [_input("noise", np.zeros((3, latent_dim), np.float32), binary=True)]
    )
    assert noise_only.as_numpy("events").shape[0] == 3
    # Without noise or conditions, the number of events is a parameter (raw JSON here:
    # tritonclient always sends an input tensor).
    response = http.post(
        f"/v2/models/{DIMUON}/infer",
        json={"inputs": [], "parameters": {"n_events": 2500, "seed": 9, "validate": False}},
    )
    assert response.status_code == 200, response.text
    (output,) = response.json()["outputs"]
    v1 = _v1_features(http, DIMUON, {"n_events": 2500, "seed": 9, "validate": False})
    with np.load(io.BytesIO(v1.content), allow_pickle=False) as arrays:
        expected = arrays["features"]
    assert output["shape"] == list(expected.shape)
    np.testing.assert_array_equal(np.asarray(output["data"], np.float32), expected.reshape(-1))


def test_infer_with_noise_is_the_artefacts_sampler(triton: Any, model_dir: Path) -> None:
    artefact = load_artefact(model_dir / SHOWERS)
    noise = (
        np.random.default_rng(1)
        .standard_normal((700, artefact.card.architecture["latent_dim"]))
        .astype(np.float32)
    )
    energies = _energies(700)
    result = triton.infer(
        SHOWERS,
        [_input("conditions", energies, binary=True), _input("noise", noise, binary=True)],
        parameters={"validate": False},
    )
    expected = artefact.sampler.generate_from_noise(noise, energies.astype(np.float64))
    np.testing.assert_array_equal(result.as_numpy("events"), expected)
    assert result.get_response()["parameters"] == {"validation_status": "skipped"}


def _json_input(name: str, values: list, shape: list[int], datatype: str = "FP32") -> dict:
    return {"name": name, "shape": shape, "datatype": datatype, "data": values}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"inputs": [_json_input("conditions", [5e3], [1, 1]), _json_input("x", [1], [1])]},
            "unknown input 'x'",
        ),
        (
            {"inputs": [_json_input("conditions", [5e3, 6e3], [1, 1])]},
            "2 values given for shape [1, 1]",
        ),
        ({"inputs": [_json_input("conditions", [5e3, 6e3], [1, 2])]}, "must have shape [N, 1]"),
        ({"inputs": [_json_input("conditions", [5e3], [1, 1], "BYTES")]}, "datatype 'BYTES'"),
        (
            {"inputs": [_json_input("conditions", [5e3], [1, 1], {})]},
            "Expected `str`, got `object` - at `$.inputs[0].datatype`",
        ),
        ({"inputs": [_json_input("conditions", [5e3], [1, 1], "INT32")]}, "must be FP32 or FP64"),
        ({"inputs": [_json_input("noise", [0.0] * 8, [1, 8])]}, "'conditions' [N, 1] is required"),
        ({"inputs": [_json_input("conditions", [1e9], [1, 1])]}, "outside the training range"),
        (
            {"inputs": [_json_input("conditions", [5e3], [1, 1])], "parameters": {"seed": -1}},
            "'seed'",
        ),
        (
            {
                "inputs": [_json_input("conditions", [5e3], [1, 1])],
                "parameters": {"seed": 2**64},
            },
            "'seed' must be an integer in [0, 2^63)",
        ),
        (
            {"inputs": [_json_input("conditions", [5e3], [1, 1])], "outputs": {}},
            "Expected `array`, got `object` - at `$.outputs`",
        ),
        ({"inputs": [_json_input("conditions", [5e3], [1, 1])], "id": 7}, "got `int` - at `$.id`"),
        (
            {"inputs": [_json_input("conditions", [5e3], [1, 1])], "id": None},
            "got `null` - at `$.id`",
        ),
        (
            {
                "inputs": [_json_input("conditions", [5e3], [1, 1])],
                "parameters": {"validate": "no"},
            },
            "'validate'",
        ),
        (
            {"inputs": [_json_input("conditions", [5e3], [1, 1])], "outputs": [{"name": "m"}]},
            "unknown output 'm'",
        ),
        (
            {
                "inputs": [
                    _json_input("conditions", [5e3], [1, 1]),
                    _json_input("noise", [0.0] * 8, [1, 8]),
                ],
                "parameters": {"seed": 1},
            },
            "'noise' or parameter 'seed', not both",
        ),
        (
            {
                "inputs": [
                    _json_input("conditions", [5e3] * 2, [2, 1]),
                    _json_input("noise", [0.0] * 8, [1, 8]),
                ]
            },
            "differ in their first axis",
        ),
        (
            {
                "inputs": [
                    {
                        "name": "conditions",
                        "shape": [1, 1],
                        "datatype": "FP32",
                        "parameters": {"binary_data_size": 4},
                    }
                ]
            },
            "ends before its binary data",
        ),
    ],
)
def test_bad_requests_are_400_with_an_error_naming_the_tensor(
    http: httpx.Client, body: dict, message: str
) -> None:
    response = http.post(f"/v2/models/{SHOWERS}/infer", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_more_events_than_the_limit_is_400(http: httpx.Client) -> None:
    body = {"inputs": [], "parameters": {"n_events": MAX_EVENTS + 1}}
    response = http.post(f"/v2/models/{DIMUON}/infer", json=body)
    assert response.status_code == 400
    assert f"{MAX_EVENTS + 1} events asked; the limit is {MAX_EVENTS}" in response.json()["error"]
    response = http.post(f"/v2/models/{DIMUON}/infer", json={"inputs": []})
    assert response.status_code == 400 and "'n_events'" in response.json()["error"]


def test_not_json_and_unknown_model(http: httpx.Client) -> None:
    response = http.post(f"/v2/models/{SHOWERS}/infer", content=b"{")
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]
    response = http.post("/v2/models/nope/infer", json={"inputs": []})
    assert response.status_code == 404 and "available models" in response.json()["error"]
    response = http.get("/v2/models/nope")
    assert response.status_code == 404 and SHOWERS in response.json()["error"]


def test_body_over_the_limit_is_413_with_an_error(http: httpx.Client) -> None:
    response = http.post(f"/v2/models/{SHOWERS}/infer", content=b" " * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert "HEPGAN_MAX_BODY_BYTES" in response.json()["error"]


def test_tritonclient_raises_the_servers_error(triton: Any) -> None:
    with pytest.raises(InferenceServerException, match="outside the training range") as error:
        triton.infer(SHOWERS, [_input("conditions", np.full((2, 1), 1e9, np.float32), binary=True)])
    assert error.value.status() == "400"


@pytest.fixture(scope="module")
def keyed_server(model_dir: Path) -> Iterator[ThreadedServer]:
    yield from serve_in_thread(Settings(models_dir=model_dir, api_key=KEY, warmup_events=0))


def test_the_api_key_applies_as_on_v1(keyed_server: ThreadedServer) -> None:
    for path in ("/v2", "/v2/health/live", "/v2/health/ready"):
        assert httpx.get(f"{keyed_server.url}{path}").status_code == 200
    for method, path in (
        ("GET", f"/v2/models/{SHOWERS}"),
        ("GET", f"/v2/models/{SHOWERS}/ready"),
        ("POST", f"/v2/models/{SHOWERS}/infer"),
    ):
        response = httpx.request(method, f"{keyed_server.url}{path}", json={"inputs": []})
        assert response.status_code == 401
        assert response.json() == {
            "error": "missing or wrong API key: send 'Authorization: Bearer <key>'"
        }
    client = httpclient.InferenceServerClient(keyed_server.url.removeprefix("http://"))
    headers = {"Authorization": f"Bearer {KEY}"}
    result = client.infer(
        SHOWERS, [_input("conditions", _energies(5), binary=True)], headers=headers
    )
    assert result.as_numpy("events").shape[0] == 5
    with pytest.raises(InferenceServerException, match="API key"):
        client.infer(SHOWERS, [_input("conditions", _energies(5), binary=True)])
    client.close()


def test_admission_control_applies_as_on_v1(model_dir: Path) -> None:
    """Requests beyond the memory budget get 503 with Retry-After, in the protocol's form."""
    from concurrent.futures import ThreadPoolExecutor

    settings = Settings(models_dir=model_dir, warmup_events=0, max_bytes_in_flight=1 << 20)
    body = {"inputs": [_json_input("conditions", [[5e4]] * 5000, [5000, 1])]}
    server = ThreadedServer(settings).start()
    try:
        url = f"{server.url}/v2/models/{SHOWERS}/infer"
        with ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(lambda _: httpx.post(url, json=body, timeout=120), range(4)))
    finally:
        server.stop()
    statuses = sorted(response.status_code for response in responses)
    assert statuses[0] == 200 and statuses[-1] == 503, statuses
    refused = next(response for response in responses if response.status_code == 503)
    assert "HEPGAN_MAX_BYTES_IN_FLIGHT" in refused.json()["error"]
    assert refused.headers["Retry-After"] == "1"
