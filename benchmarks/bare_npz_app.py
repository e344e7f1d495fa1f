"""The yardstick of ``bench_small_requests``: a bare FastAPI endpoint that answers a generate
body with an npz of ``n_events`` x 121 float32 zeros (120 voxels + the incident energy).

    python -m uvicorn benchmarks.bare_npz_app:app --port 8000

It reads the body, takes ``n_events`` from it and builds the npz with ``numpy.savez`` per
request, as the simplest endpoint returning the same-sized array would; no middleware,
no validation, no model.
"""

from __future__ import annotations

import io

import numpy as np
import orjson
from fastapi import FastAPI, Request, Response

N_COLUMNS = 121
app = FastAPI()


@app.post("/v1/models/{name}/generate")
async def generate(name: str, request: Request) -> Response:
    n_events = int(orjson.loads(await request.body())["n_events"])
    buffer = io.BytesIO()
    np.savez(buffer, events=np.zeros((n_events, N_COLUMNS), dtype=np.float32))
    return Response(buffer.getvalue(), media_type="application/x-npz")
