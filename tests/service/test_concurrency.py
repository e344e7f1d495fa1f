"""Many clients at once: right answers, merged small requests, and health never blocked."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from hepgan.client import read_npz_batch
from hepgan.service import model
from tests.service.conftest import MAX_EVENTS
from tests.support.threaded_server import ThreadedServer

EVENTS = "/v1/models/dimuon_exact/generate"
N_CLIENTS = 24


def _generate(url: str, body: dict) -> np.ndarray:
    response = httpx.post(f"{url}{EVENTS}", json={"format": "npz", **body}, timeout=60)
    assert response.status_code == 200, response.text
    return read_npz_batch(response.content).features


def test_concurrent_clients_get_their_own_events(server: ThreadedServer) -> None:
    seeded = [{"n_events": 10 + i, "seed": i, "validate": False} for i in range(N_CLIENTS)]
    unseeded = [{"n_events": 5 + i, "validate": i % 2 == 0} for i in range(N_CLIENTS)]
    with ThreadPoolExecutor(max_workers=2 * N_CLIENTS) as pool:
        results = list(pool.map(lambda body: _generate(server.url, body), seeded + unseeded))
    for body, features in zip(seeded + unseeded, results, strict=True):
        assert features.shape == (body["n_events"], 3)
    # Seeded requests are never merged: the same events as when asked alone.
    for body, features in zip(seeded[:4], results[:4], strict=True):
        np.testing.assert_array_equal(features, _generate(server.url, body))


def test_small_unseeded_requests_are_merged(
    server: ThreadedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model, "INLINE_GENERATE_VALUES", 0)  # as on a GPU: none on the loop
    metrics_before = _merged_calls(server.url)
    barrier = threading.Barrier(N_CLIENTS)

    def ask(_: int) -> np.ndarray:
        barrier.wait()  # all clients send at the same moment
        return _generate(server.url, {"n_events": 4, "validate": False})

    with ThreadPoolExecutor(max_workers=N_CLIENTS) as pool:
        results = list(pool.map(ask, range(N_CLIENTS)))
    assert all(features.shape == (4, 3) for features in results)
    calls, requests = (
        after - before
        for after, before in zip(_merged_calls(server.url), metrics_before, strict=True)
    )
    assert requests == N_CLIENTS
    assert calls < N_CLIENTS, "concurrent small requests should share generator calls"


def _merged_calls(url: str) -> tuple[float, float]:
    """(generator calls, requests merged into them) of dimuon_exact's batcher so far."""
    text = httpx.get(f"{url}/metrics").text
    values = {}
    for line in text.splitlines():
        for kind in ("count", "sum"):
            if line.startswith(f'hepgan_batcher_merged_requests_{kind}{{model="dimuon_exact"}}'):
                values[kind] = float(line.split()[-1])
    return values.get("count", 0.0), values.get("sum", 0.0)


def test_health_answers_while_a_large_batch_runs(server: ThreadedServer) -> None:
    done = threading.Event()
    statuses: list[int] = []
    answered_while_running = 0

    def large() -> None:
        body = {"n_events": MAX_EVENTS, "seed": 1, "format": "npz"}
        url = f"{server.url}/v1/models/showers_tiny/generate"
        try:
            statuses.append(httpx.post(url, json=body, timeout=120).status_code)
        finally:
            done.set()

    worker = threading.Thread(target=large)
    worker.start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        while not done.is_set():
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 200
            answered_while_running += not done.is_set()
    worker.join()
    assert statuses == [200]
    assert answered_while_running >= 5, "health checks were blocked by the large batch"
