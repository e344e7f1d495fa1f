"""Load: 32 concurrent clients for 60 s of mixed requests, good and hostile (issues 15 and 26),
against a real ``hepgan serve``.

Holds when: no 5xx and no transport error, every response has the status its request
deserves (the size and event limits answer 413/422 under load as they do idle), every 200
from generate carries the events asked for (read back from its JSON, npz, Arrow or ROOT
body), and the server's resident memory grows less than 10% from the first to the last
10 s. Latency percentiles and throughput are reported (docs/reliability.md), not asserted.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pytest

from tests.reliability.conftest import SERVER_LIMITS
from tests.reliability.figures import record_figures
from tests.support.live_server import LiveServer

CLIENTS = 32
DURATION_S = float(os.environ.get("HEPGAN_LOAD_SECONDS", "60"))
WINDOW_S = min(10.0, DURATION_S / 3)  # memory is compared between the first and last window
RSS_PERIOD_S = 0.5
MAX_EVENTS = int(SERVER_LIMITS["HEPGAN_MAX_EVENTS_PER_REQUEST"])
MAX_BODY = int(SERVER_LIMITS["HEPGAN_MAX_BODY_BYTES"])
SHOWER_RANGE = {"min": 2000.0, "max": 50000.0, "distribution": "log-uniform"}  # in training range
INFER = "/v2/models/showers/infer"


def _conditions_tensor(data: Any, n_events: int) -> dict[str, Any]:
    return {
        "inputs": [{"name": "conditions", "shape": [n_events, 1], "datatype": "FP32", "data": data}]
    }


def _nested(head: bytes, item: bytes, tail: bytes) -> bytes:
    """A body of ``item`` repeated to fill the body limit, between ``head`` and ``tail``."""
    n_items = (MAX_BODY - len(head) - len(tail)) // (len(item) + 1)
    return head + b",".join([item] * n_items) + tail


@dataclass(frozen=True)
class Probe:
    """One kind of request in the mix, and the statuses a correct server answers it with."""

    name: str
    weight: int
    method: str
    path: str
    expected: frozenset[int]
    body: dict[str, Any] | None = None
    raw_body: bytes | None = None
    authorised: bool = True
    events: int = 0  # events a 200 response carries
    headers: dict[str, str] = field(default_factory=dict)


PROBES = (
    Probe("list models", 4, "GET", "/v1/models", frozenset({200})),
    Probe("model card", 3, "GET", "/v1/models/showers", frozenset({200})),
    Probe("healthz", 2, "GET", "/healthz", frozenset({200}), authorised=False),
    Probe("readyz", 2, "GET", "/readyz", frozenset({200}), authorised=False),
    Probe("metrics", 2, "GET", "/metrics", frozenset({200})),
    Probe(
        "dimuon json + report",
        15,
        "POST",
        "/v1/models/dimuon/generate",
        frozenset({200}),
        body={"n_events": 500},
        events=500,
    ),
    Probe(
        "dimuon npz seeded",
        8,
        "POST",
        "/v1/models/dimuon/generate",
        frozenset({200}),
        body={"n_events": 2000, "format": "npz", "seed": 7, "validate": False},
        events=2000,
    ),
    Probe(
        "showers json + report",
        12,
        "POST",
        "/v1/models/showers/generate",
        frozenset({200}),
        body={"n_events": 200, "conditions": {"incident_energy": 20000.0}},
        events=200,
    ),
    Probe(
        "showers root + report",
        8,
        "POST",
        "/v1/models/showers/generate",
        frozenset({200}),
        body={"n_events": 500, "conditions": {"incident_energy": SHOWER_RANGE}, "format": "root"},
        events=500,
    ),
    Probe(
        "showers arrow",
        5,
        "POST",
        "/v1/models/showers/generate",
        frozenset({200}),
        body={"n_events": 2000, "format": "arrow", "validate": False},
        events=2000,
    ),
    Probe(
        "over the event limit",
        4,
        "POST",
        "/v1/models/dimuon/generate",
        frozenset({422}),
        body={"n_events": MAX_EVENTS + 1},
    ),
    Probe(
        "over the body limit",
        3,
        "POST",
        "/v1/models/showers/generate",
        frozenset({413}),
        body={"n_events": 9000, "conditions": {"incident_energy": [20000.123456] * 9000}},
    ),
    Probe(
        "unknown model",
        2,
        "POST",
        "/v1/models/no-such-model/generate",
        frozenset({404}),
        body={"n_events": 10},
    ),
    Probe(
        "malformed json",
        2,
        "POST",
        "/v1/models/dimuon/generate",
        frozenset({422}),
        raw_body=b'{"n_events": ',
    ),
    Probe(
        "no api key",
        2,
        "POST",
        "/v1/models/dimuon/generate",
        frozenset({401}),
        body={"n_events": 10},
        authorised=False,
    ),
    # Issue 26's hostile requests, each answered at once with its 4xx.
    Probe(
        "v2 infer",
        6,
        "POST",
        INFER,
        frozenset({200}),
        body={**_conditions_tensor([20000.0] * 200, 200), "parameters": {"validate": False}},
    ),
    Probe(
        "nested per-event items",
        2,
        "POST",
        "/v1/models/showers/generate",
        frozenset({422}),
        raw_body=_nested(
            b'{"n_events":9,"conditions":{"incident_energy":[', b"[[[[[[[]]]]]]]", b"]}}"
        ),
    ),
    Probe(
        "v2 nested data",
        2,
        "POST",
        INFER,
        frozenset({400}),
        raw_body=_nested(
            b'{"inputs":[{"name":"conditions","shape":[9,1],"datatype":"FP32","data":[',
            b"[[[]]]",
            b"]}]}",
        ),
    ),
    Probe(
        "v2 strings as numbers",
        2,
        "POST",
        INFER,
        frozenset({400}),
        body=_conditions_tensor(["5000", "6000"], 2),
    ),
    Probe(
        "v2 shape 2^32 x 2^32",
        1,
        "POST",
        INFER,
        frozenset({400}),
        body={
            "inputs": [
                {"name": "conditions", "shape": [2**32, 2**32], "datatype": "FP32", "data": []}
            ]
        },
    ),
    Probe(
        "head over the limit",
        1,
        "GET",
        "/v1/models",
        frozenset({431}),
        headers={"X-Large": "a" * (64 * 1024 + 1)},
    ),
)


PROBE_EVENTS = {probe.name: probe.events for probe in PROBES}


@dataclass
class LoadRecord:
    """What the clients saw: one entry per request, plus the server's memory over time."""

    started: float = field(default_factory=time.monotonic)
    results: list[tuple[str, int, float, int]] = field(default_factory=list)  # name, status, s, ev
    rss: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, bytes)
    transport_errors: list[str] = field(default_factory=list)  # request kind: the error


def _events_in(response: httpx.Response) -> int:
    """Events a 200 generate response really carries, read back from its format."""
    kind = response.headers["content-type"].split(";")[0]
    body = io.BytesIO(response.content)
    if kind == "application/json":
        return len(response.json()["features"])
    if kind == "application/x-npz":
        with np.load(body, allow_pickle=False) as archive:
            return len(archive["features"])
    if kind == "application/vnd.apache.arrow.stream":
        import pyarrow.ipc

        return pyarrow.ipc.open_stream(body).read_all().num_rows
    if kind == "application/x-root":
        import uproot

        with uproot.open(body) as file:
            (tree,) = [name for name, cls in file.classnames().items() if cls == "TTree"]
            return file[tree].num_entries
    raise AssertionError(f"unexpected content type {kind}")


async def _send(client: httpx.AsyncClient, server: LiveServer, probe: Probe) -> tuple[int, int]:
    """(status, events read back from the body) of one request of kind ``probe``."""
    headers = {"Content-Type": "application/json"} if probe.raw_body is not None else {}
    headers.update(probe.headers)
    if probe.authorised:
        headers.update(server.auth)
    response = await client.request(
        probe.method, probe.path, json=probe.body, content=probe.raw_body, headers=headers
    )
    events = _events_in(response) if probe.events and response.status_code == 200 else 0
    return response.status_code, events


async def _client(
    index: int, client: httpx.AsyncClient, server: LiveServer, record: LoadRecord, end: float
) -> None:
    rng = random.Random(index)
    weights = [probe.weight for probe in PROBES]
    while time.monotonic() < end:
        (probe,) = rng.choices(PROBES, weights=weights)
        start = time.monotonic()
        try:
            status, events = await _send(client, server, probe)
        except httpx.TransportError as error:
            status, events = 0, 0  # an error: the server dropped or refused the connection
            record.transport_errors.append(f"{probe.name}: {error!r}")
        record.results.append((probe.name, status, time.monotonic() - start, events))


async def _sample_memory(server: LiveServer, record: LoadRecord, end: float) -> None:
    while time.monotonic() < end:
        record.rss.append((time.monotonic() - record.started, server.rss_bytes()))
        await asyncio.sleep(RSS_PERIOD_S)


async def _run_load(server: LiveServer) -> LoadRecord:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    timeout = httpx.Timeout(60.0)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=timeout) as client:
        for probe in PROBES:  # warm-up: every code path once before memory is measured
            await _send(client, server, probe)
        record = LoadRecord()
        end = record.started + DURATION_S
        await asyncio.gather(
            _sample_memory(server, record, end),
            *(_client(i, client, server, record, end) for i in range(CLIENTS)),
        )
    record.rss.append((time.monotonic() - record.started, server.rss_bytes()))
    return record


def _summarise(record: LoadRecord) -> dict[str, Any]:
    elapsed = time.monotonic() - record.started
    statuses = Counter(status for _, status, _, _ in record.results)
    latencies = np.array([seconds for _, _, seconds, _ in record.results]) * 1000.0  # ms
    generate = np.array(
        [seconds for name, status, seconds, ev in record.results if ev > 0 and status == 200]
    )
    times = np.array([t for t, _ in record.rss])
    rss = np.array([b for _, b in record.rss], dtype=float) / 2**20  # MiB
    first = rss[times <= WINDOW_S].mean()
    last = rss[times >= times[-1] - WINDOW_S].mean()
    return {
        "clients": CLIENTS,
        "duration_s": round(elapsed, 1),
        "requests": len(record.results),
        "requests_per_s": round(len(record.results) / elapsed, 1),
        "events_delivered": sum(ev for _, _, _, ev in record.results),
        "events_per_s": round(sum(ev for _, _, _, ev in record.results) / elapsed),
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "server_errors_5xx": sum(n for status, n in statuses.items() if status >= 500),
        "transport_errors": statuses.get(0, 0),
        "transport_errors_by_request": dict(
            Counter(name for name, status, _, _ in record.results if status == 0)
        ),
        "responses_with_wrong_event_count": sum(
            status == 200 and events != PROBE_EVENTS[name]
            for name, status, _, events in record.results
        ),
        "latency_ms": {f"p{q}": round(float(np.percentile(latencies, q)), 1) for q in (50, 90, 99)}
        | {"max": round(float(latencies.max()), 1)},
        "generate_latency_ms_p99": round(float(np.percentile(generate, 99)) * 1000.0, 1),
        "rss_mib_first_window": round(float(first), 1),
        "rss_mib_last_window": round(float(last), 1),
        "rss_growth": round(float(last / first - 1.0), 4),
        "rss_window_s": WINDOW_S,
        "rss_mib_per_window": [
            round(float(rss[(times >= start) & (times < start + WINDOW_S)].mean()), 1)
            for start in np.arange(0.0, times[-1] - WINDOW_S / 2, WINDOW_S)
        ],
    }


@pytest.mark.slow
@pytest.mark.timeout(DURATION_S + 300)
def test_mixed_load_holds(live_server: LiveServer) -> None:
    record = asyncio.run(_run_load(live_server))
    figures = _summarise(record)
    record_figures("load", figures)
    unexpected = Counter(
        (name, status)
        for name, status, _, _ in record.results
        if status not in next(p for p in PROBES if p.name == name).expected
    )
    assert figures["server_errors_5xx"] == 0, figures["statuses"]
    assert figures["transport_errors"] == 0, record.transport_errors
    assert figures["responses_with_wrong_event_count"] == 0
    assert not unexpected, f"responses with the wrong status (probe, status): {dict(unexpected)}"
    sent = {name for name, _, _, _ in record.results}
    assert sent == {probe.name for probe in PROBES}, "some request kinds were never sent"
    assert figures["rss_growth"] < 0.10, figures
