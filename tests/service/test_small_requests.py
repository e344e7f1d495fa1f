"""The fast path of small requests: no thread-pool hop for dependencies, tiny CPU batches
generated and one-chunk bodies encoded on the event loop, exactly as in a thread."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
import torch

from hepgan.client import read_npz_batch
from hepgan.service import dependencies, jobs, model
from hepgan.service.request_body import read_generate_request
from hepgan.service.workers import DeviceWorker, one_torch_thread

URL = "/v1/models/showers_tiny/generate"


def test_generate_dependencies_run_on_the_event_loop() -> None:
    """FastAPI runs a plain ``def`` dependency in its thread pool: a hop per request."""
    for dependency in (
        dependencies.get_settings,
        dependencies.get_registry,
        dependencies.get_metrics,
        dependencies.require_api_key,
        read_generate_request,
    ):
        assert inspect.iscoroutinefunction(dependency), dependency.__name__


@pytest.mark.parametrize("validate", [False, True])
def test_one_chunk_body_is_the_same_on_the_loop_and_in_a_thread(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch, validate: bool
) -> None:
    body = {"n_events": 50, "seed": 11, "format": "npz", "validate": validate}
    assert 50 * 121 <= jobs.INLINE_ENCODE_VALUES  # encoded on the event loop
    on_loop = read_npz_batch(http.post(URL, json=body).raise_for_status().content)
    monkeypatch.setattr(jobs, "INLINE_ENCODE_VALUES", 0)  # now in a worker thread
    in_thread = read_npz_batch(http.post(URL, json=body).raise_for_status().content)
    np.testing.assert_array_equal(on_loop.features, in_thread.features)
    np.testing.assert_array_equal(on_loop.conditions, in_thread.conditions)
    assert orjson.dumps(on_loop.report) == orjson.dumps(in_thread.report)
    assert (on_loop.report is None) is not validate


def test_tiny_cpu_batches_are_generated_on_the_loop_with_the_workers_events(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A seeded 16-event batch (16 x 120 values) skips the device thread and gets the events the
    device thread gives the same seed; an unseeded one skips the dynamic batcher (on in this
    server); a larger one still goes to the device thread."""
    calls: list[int] = []
    call = DeviceWorker.call

    async def counted_call(
        worker: DeviceWorker, function: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Any:
        calls.append(args[0])  # n_events
        return await call(worker, function, *args, **kwargs)

    monkeypatch.setattr(DeviceWorker, "call", counted_call)
    body = {"n_events": 16, "seed": 21, "format": "npz", "validate": False}
    assert 16 * 120 <= model.INLINE_GENERATE_VALUES < 100 * 120
    on_loop = read_npz_batch(http.post(URL, json=body).raise_for_status().content)
    assert calls == []
    unseeded = {key: value for key, value in body.items() if key != "seed"}
    http.post(URL, json=unseeded).raise_for_status()
    assert calls == []
    http.post(URL, json={**body, "n_events": 100}).raise_for_status()
    assert calls == [100]
    monkeypatch.setattr(model, "INLINE_GENERATE_VALUES", 0)  # now on the device thread
    on_worker = read_npz_batch(http.post(URL, json=body).raise_for_status().content)
    assert calls == [100, 16]
    np.testing.assert_array_equal(on_loop.features, on_worker.features)
    np.testing.assert_array_equal(on_loop.conditions, on_worker.conditions)


def test_one_torch_thread_restores_the_threads_count() -> None:
    before = torch.get_num_threads()
    with one_torch_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
