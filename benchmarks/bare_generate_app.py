"""The peers benchmark's yardstick with the model: a bare FastAPI endpoint that calls the same
``artefact.generate`` in-process and answers an npz of the events and their conditions.

    HEPGAN_PEER_MODEL=DIR python -m uvicorn benchmarks.bare_generate_app:app --port 8000

It reads ``n_events`` from a ``/v1`` generate body, generates (conditions drawn from the
reference, as the service does without ``conditions``) and writes both arrays with
``numpy.savez``; no middleware, no checks, no report, no streaming: the limit of a Python web
stack with this model (:mod:`benchmarks.peers`).
"""

from __future__ import annotations

import io
import os

import anyio.to_thread
import numpy as np
import orjson
from fastapi import FastAPI, Request, Response

from hepgan.models.artefact import load_artefact

artefact = load_artefact(os.environ["HEPGAN_PEER_MODEL"])
app = FastAPI()


def _npz(n_events: int) -> bytes:
    conditions = artefact.sample_conditions(n_events)
    events = artefact.generate(n_events, conditions=conditions)
    buffer = io.BytesIO()
    np.savez(buffer, events=events, conditions=conditions.astype(np.float32))
    return buffer.getvalue()


@app.post("/v1/models/{name}/generate")
async def generate(name: str, request: Request) -> Response:
    """An npz of ``n_events`` events, generated in a worker thread."""
    n_events = int(orjson.loads(await request.body())["n_events"])
    body = await anyio.to_thread.run_sync(_npz, n_events)
    return Response(body, media_type="application/x-npz")
