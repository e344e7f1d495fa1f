"""The fast path of small requests: no thread-pool hop for dependencies, one-chunk bodies
encoded on the event loop exactly as in a thread."""

from __future__ import annotations

import inspect

import httpx
import numpy as np
import orjson
import pytest

from hepgan.client import read_npz_batch
from hepgan.service import dependencies, jobs
from hepgan.service.request_body import read_generate_request

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
