"""With an API key set, every route but /healthz and /readyz needs it as a Bearer token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hepgan.client import Client, ServiceError
from hepgan.service.settings import Settings
from tests.support.threaded_server import ThreadedServer, serve_in_thread

KEY = "correct horse battery staple"
PROTECTED = [
    ("GET", "/v1/models"),
    ("GET", "/v1/models/dimuon_exact"),
    ("GET", "/v1/models/dimuon_exact/history"),
    ("POST", "/v1/models/dimuon_exact/generate"),
    ("GET", "/metrics"),
]


@pytest.fixture(scope="module")
def keyed_server(model_dir: Path) -> Iterator[ThreadedServer]:
    yield from serve_in_thread(Settings(models_dir=model_dir, api_key=KEY, warmup_events=0))


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_needs_no_key(keyed_server: ThreadedServer, path: str) -> None:
    assert httpx.get(f"{keyed_server.url}{path}").status_code == 200


@pytest.mark.parametrize("path", ["/", "/models/dimuon_exact", "/page-assets/views.js"])
def test_the_page_loads_without_the_key_and_asks_for_it(
    keyed_server: ThreadedServer, path: str
) -> None:
    """The page's shell and scripts are public; the data they fetch needs the key."""
    response = httpx.get(f"{keyed_server.url}{path}")
    assert response.status_code == 200
    if path != "/page-assets/views.js":
        assert 'data-key-required="true"' in response.text


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}])
def test_missing_or_wrong_key_is_401(
    keyed_server: ThreadedServer, method: str, path: str, headers: dict[str, str]
) -> None:
    response = httpx.request(
        method, f"{keyed_server.url}{path}", headers=headers, json={"n_events": 1}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"] == (
        "missing or wrong API key: send 'Authorization: Bearer <key>'"
    )


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_right_key_is_let_in(keyed_server: ThreadedServer, method: str, path: str) -> None:
    response = httpx.request(
        method,
        f"{keyed_server.url}{path}",
        headers={"Authorization": f"Bearer {KEY}"},
        json={"n_events": 1},
    )
    assert response.status_code == 200


def test_client_sends_the_key(keyed_server: ThreadedServer) -> None:
    with Client(keyed_server.url, api_key=KEY) as client:
        assert len(client.generate("dimuon_exact", 3, seed=1)) == 3
    with Client(keyed_server.url) as client, pytest.raises(ServiceError) as error:
        client.models()
    assert error.value.status_code == 401
    assert "missing or wrong API key" in str(error.value)
