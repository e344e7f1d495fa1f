"""The budgets of admission control: take, refuse with the setting named, give back; and /v1
charging them, on a real server."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from hepgan.service.admission import HELD_KEY, RETRY_AFTER_S, Budget
from hepgan.service.errors import OverloadedError
from hepgan.service.footprint import request_memory_bytes
from hepgan.service.settings import Settings
from tests.support.threaded_server import ThreadedServer


def _budget() -> Budget:
    return Budget(100, what="memory held by requests in flight", setting="HEPGAN_X")


def test_requests_share_the_budget_and_one_beyond_it_is_refused() -> None:
    budget, first, second, third = _budget(), {}, {}, {}
    budget.take(first, 60)
    budget.take(second, 40)
    with pytest.raises(OverloadedError, match=r"at 100 of 100 bytes \(HEPGAN_X\)") as refused:
        budget.take(third, 1)
    assert refused.value.retry_after_s == RETRY_AFTER_S and third[HELD_KEY] == []
    assert first[HELD_KEY] == [(budget, 60)] and budget.in_use == 100
    budget.give_back(60)
    budget.take(third, 50)
    assert budget.in_use == 90


def test_a_request_larger_than_the_budget_runs_alone() -> None:
    budget, alone, other = _budget(), {}, {}
    budget.take(alone, 10_000)  # clamped to the whole budget
    assert budget.in_use == 100
    with pytest.raises(OverloadedError):
        budget.take(other, 1)


def test_memory_estimate_counts_report_sample_two_chunks_and_per_event_conditions() -> None:
    estimate = request_memory_bytes(
        1_000_000,
        n_features=120,
        n_conditions=1,
        per_event_conditions=1,
        chunk_events=1000,
        report_events=2500,  # three chunks
    )
    assert estimate == (3000 + 2000) * (4 * 120 + 8) * 4 + 8 * 1_000_000
    small = request_memory_bytes(
        10, n_features=3, n_conditions=0, per_event_conditions=0, chunk_events=1000, report_events=0
    )
    assert small == 10 * 12 * 4


def test_a_request_adding_to_what_it_holds_counts_only_the_others() -> None:
    budget, request, other = _budget(), {}, {}
    budget.take(request, 30)  # its body
    budget.take(request, 500)  # its parse: clamped so that the request holds the budget
    assert budget.in_use == 100 and sum(cost for _, cost in request[HELD_KEY]) == 100
    with pytest.raises(OverloadedError):
        budget.take(other, 1)


def test_a_v1_stream_holds_its_memory_until_its_last_byte(model_dir: Path) -> None:
    """/v1 charges a request's estimated memory to the budget (here 1 MiB, less than the
    100,000-event stream's two chunks, so it holds all of it): while that stream is unread a
    one-event request is refused with 503 naming the setting; once it is closed, admitted."""
    settings = Settings(
        models_dir=model_dir, warmup_events=0, chunk_events=1000, max_bytes_in_flight=1 << 20
    )
    url = "/v1/models/showers_tiny/generate"
    large = {"n_events": 100_000, "seed": 1, "format": "npz", "validate": False}
    small = {"n_events": 1, "seed": 1, "format": "npz", "validate": False}
    server = ThreadedServer(settings).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            with client.stream("POST", url, json=large) as held:  # 48 MB, not read
                assert held.status_code == 200
                refused = client.post(url, json=small)
            assert refused.status_code == 503, refused.text
            assert "HEPGAN_MAX_BYTES_IN_FLIGHT" in refused.json()["detail"]
            assert refused.headers["Retry-After"] == str(RETRY_AFTER_S)
            # Closed: the server stops at its next write and gives the budget back.
            deadline = time.monotonic() + 30
            while (status := client.post(url, json=small).status_code) == 503:
                assert time.monotonic() < deadline, "the budget was not given back"
                time.sleep(0.05)
            assert status == 200
    finally:
        server.stop()
