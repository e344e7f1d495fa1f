"""/healthz, /readyz and /metrics."""

from __future__ import annotations

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


def test_metrics_count_requests_events_and_failed_reports(http: httpx.Client) -> None:
    body = {"n_events": 300, "seed": 3, "format": "npz"}
    assert http.post("/v1/models/dimuon_untrained/generate", json=body).status_code == 200
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    route = 'route="/v1/models/{name}/generate"'
    assert f'hepgan_http_requests_total{{method="POST",{route},status="200"}}' in text
    assert (
        f'hepgan_http_request_duration_seconds_bucket{{le="0.001",method="POST",{route}}}' in text
    )
    assert _sample(text, 'hepgan_events_generated_total{model="dimuon_untrained"}') >= 300
    assert _sample(text, 'hepgan_validation_failures_total{model="dimuon_untrained"}') >= 1
    assert (
        _sample(text, 'hepgan_validation_reports_total{model="dimuon_untrained",status="fail"}')
        >= 1
    )


def _sample(text: str, series: str) -> float:
    """The value of one series in Prometheus text format."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{series} not in the metrics")
