"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hepgan.service.settings import Settings
from tests.support.threaded_server import ThreadedServer, serve_in_thread


def test_healthz_says_ok(http: httpx.Client) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_lists_models_and_the_broken_folder(http: httpx.Client) -> None:
    response = http.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True and body["loading"] is False
    assert body["models"] == ["dimuon_exact", "dimuon_untrained", "showers_tiny"]
    assert list(body["broken"]) == ["broken"]
    assert "model.json is not a valid model card" in body["broken"]["broken"]


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[ThreadedServer]:
    (tmp_path / "models").mkdir()
    yield from serve_in_thread(Settings(models_dir=tmp_path / "models"))


def test_readyz_is_503_with_no_model_to_serve(empty_server: ThreadedServer) -> None:
    response = httpx.get(f"{empty_server.url}/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False and body["models"] == []
    assert list(body["broken"].values()) == ["no artefact folders found"]
    assert httpx.get(f"{empty_server.url}/healthz").status_code == 200


MODEL = "dimuon_untrained"
GENERATE_ROUTE = 'route="/v1/models/{name}/generate"'
COUNTED = {  # series: how much one 300-event request with a (failing) report adds
    f'hepgan_http_requests_total{{method="POST",{GENERATE_ROUTE},status="200"}}': 1,
    f'hepgan_http_request_duration_seconds_count{{method="POST",{GENERATE_ROUTE}}}': 1,
    f'hepgan_events_generated_total{{model="{MODEL}"}}': 300,
    f'hepgan_validation_failures_total{{model="{MODEL}"}}': 1,
    f'hepgan_validation_reports_total{{model="{MODEL}",status="fail"}}': 1,
}


def test_metrics_count_requests_events_and_failed_reports(http: httpx.Client) -> None:
    # The server is shared by the session: compare with the counts just before this request.
    before = _samples(http)
    body = {"n_events": 300, "seed": 3, "format": "npz"}
    assert http.post(f"/v1/models/{MODEL}/generate", json=body).status_code == 200
    request_series = next(iter(COUNTED))
    deadline = time.monotonic() + 5.0  # the request is counted after its last byte is sent
    after = _samples(http)
    while after[request_series] == before[request_series] and time.monotonic() < deadline:
        time.sleep(0.01)
        after = _samples(http)
    assert {series: after[series] - before[series] for series in COUNTED} == COUNTED
    response = http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    bucket = (
        f'hepgan_http_request_duration_seconds_bucket{{le="0.001",method="POST",{GENERATE_ROUTE}}}'
    )
    assert bucket in response.text


def _samples(http: httpx.Client) -> dict[str, float]:
    """The value of each series of COUNTED in /metrics now (0 for a series not yet written)."""
    response = http.get("/metrics")
    assert response.status_code == 200
    values = dict.fromkeys(COUNTED, 0.0)
    for line in response.text.splitlines():
        series, _, value = line.rpartition(" ")
        if series in values:
            values[series] = float(value)
    return values
