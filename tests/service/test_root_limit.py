"""A ROOT body is written whole before its first byte goes out, so a large one is refused
(``HEPGAN_ROOT_MAX_BUFFERED_BYTES``) rather than left to outlast a proxy's read timeout
(issue 26, row 9). A real uvicorn on loopback with a small limit."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uproot

from hepgan.service.settings import Settings
from tests.service.conftest import CHUNK_EVENTS, REPORT_MAX_EVENTS
from tests.support.threaded_server import serve_in_thread

URL = "/v1/models/showers_tiny/generate"
LIMIT = 2 << 20  # bytes: the 1 MiB overhead of the estimate and about 2,000 tiny showers


@pytest.fixture(scope="module")
def http(model_dir: Path) -> Iterator[httpx.Client]:
    settings = Settings(
        models_dir=model_dir,
        chunk_events=CHUNK_EVENTS,
        report_max_events=REPORT_MAX_EVENTS,
        root_max_buffered_bytes=LIMIT,
        warmup_events=0,
    )
    for server in serve_in_thread(settings):
        with httpx.Client(base_url=server.url, timeout=120) as client:
            yield client


def _refusal(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text[:300]
    (item,) = response.json()["detail"]
    assert item["loc"] == ["body", "n_events"]
    return item["msg"]


def test_a_root_body_over_the_limit_is_refused_with_the_ways_out(http: httpx.Client) -> None:
    message = _refusal(http.post(URL, json={"n_events": 50_000, "format": "root"}))
    assert "HEPGAN_ROOT_MAX_BUFFERED_BYTES" in message and str(LIMIT) in message
    assert '"npz"' in message and '"arrow"' in message and "hepgan generate" in message
    # The same batch as a stream is served: only ROOT waits for its whole body.
    streamed = http.post(URL, json={"n_events": 50_000, "format": "npz", "validate": False})
    assert streamed.status_code == 200


def test_the_largest_root_body_the_message_names_is_served_and_fits(http: httpx.Client) -> None:
    message = _refusal(http.post(URL, json={"n_events": 50_000, "format": "root"}))
    most = int(re.search(r"(\d+) events of this model", message).group(1))
    assert 0 < most < 50_000
    _refusal(http.post(URL, json={"n_events": most + 1, "format": "root", "validate": False}))
    served = http.post(URL, json={"n_events": most, "format": "root", "validate": False})
    assert served.status_code == 200, served.text[:300]
    assert len(served.content) <= LIMIT  # the estimate bounds the real file
    with uproot.open(io.BytesIO(served.content)) as handle:
        assert handle["showers"].num_entries == most


def test_the_limit_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().root_max_buffered_bytes == 128 << 20
    monkeypatch.setenv("HEPGAN_ROOT_MAX_BUFFERED_BYTES", "12345")
    assert Settings().root_max_buffered_bytes == 12345
