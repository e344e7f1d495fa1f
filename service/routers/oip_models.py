"""Open Inference Protocol (KServe v2) model routes: metadata, readiness and inference.

``GET /v2/models/{name}``, ``GET /v2/models/{name}/ready`` and
``POST /v2/models/{name}/infer`` (:mod:`hepgan.service.oip.inference` says what goes in and
out; :mod:`hepgan.service.oip.tensors` how tensors are coded). Errors are a status and
``{"error": message}`` (:mod:`hepgan.service.oip.errors`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from hepgan.service.dependencies import MetricsDep, RegistryDep, SettingsDep
from hepgan.service.errors import ModelNotReadyError, UnknownModelError
from hepgan.service.footprint import whole_response_bytes
from hepgan.service.model import LoadedModel
from hepgan.service.oip.errors import OipError
from hepgan.service.oip.inference import CONDITIONS, EVENTS, NOISE, Inference
from hepgan.service.oip.tensors import HEADER_LENGTH, TensorError, decode_request, encode_response
from hepgan.service.registry import ModelRegistry
from hepgan.service.request_body import INLINE_PARSE_BYTES, PARSED_VALUE_BYTES

T = TypeVar("T")
router = APIRouter(prefix="/v2/models", tags=["open inference protocol"])

VERSION = "1"  # one version per served artefact folder
PLATFORM = "hepgan_pytorch"
_ERRORS = {
    400: {"description": 'malformed request: {"error": message naming the tensor or field}'},
    404: {"description": 'unknown model: {"error": message listing the models}'},
    503: {"description": 'models still loading: {"error": ...}'},
}


def _model(registry: ModelRegistry, name: str) -> LoadedModel:
    try:
        return registry.get(name)
    except UnknownModelError as error:
        raise OipError(404, str(error)) from None
    except ModelNotReadyError as error:
        raise OipError(503, str(error), headers={"Retry-After": "5"}) from None


async def _off_the_loop_if_large(size: int, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)``, in a worker thread when ``size`` (bytes) is over INLINE_PARSE_BYTES."""
    if size <= INLINE_PARSE_BYTES:
        return function(*args)
    return await anyio.to_thread.run_sync(function, *args)


def _tensor(name: str, width: int) -> dict:
    return {"name": name, "datatype": "FP32", "shape": [-1, width]}


@router.get(
    "/{name}", summary="model metadata: inputs, outputs, datatypes, shapes", responses=_ERRORS
)
async def model_metadata(name: str, registry: RegistryDep) -> dict:
    card = _model(registry, name).artefact.card
    inputs = [_tensor(NOISE, card.architecture["latent_dim"])]
    if card.n_conditions:
        inputs.insert(0, _tensor(CONDITIONS, card.n_conditions))
    return {
        "name": name,
        "versions": [VERSION],
        "platform": PLATFORM,
        "inputs": inputs,
        "outputs": [_tensor(EVENTS, card.n_features)],
    }


@router.get("/{name}/ready", summary="the model is loaded (200)", responses=_ERRORS)
async def model_ready(name: str, registry: RegistryDep) -> dict:
    _model(registry, name)
    return {"name": name, "ready": True}


_TENSOR = {
    "type": "object",
    "required": ["name", "shape", "datatype"],
    "properties": {
        "name": {"type": "string", "enum": ["conditions", "noise"]},
        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "datatype": {"type": "string", "enum": ["FP32", "FP64"]},
        "data": {"type": "array", "description": "row-major values, flat or nested"},
        "parameters": {"type": "object", "description": "binary_data_size for binary data"},
    },
}
_INFER_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["inputs"],
                "properties": {
                    "id": {"type": "string"},
                    "inputs": {"type": "array", "items": _TENSOR},
                    "outputs": {"type": "array", "items": {"type": "object"}},
                    "parameters": {
                        "type": "object",
                        "description": "seed, validate, extrapolate, n_events, binary_data_output",
                    },
                },
            },
            "example": {
                "inputs": [
                    {
                        "name": "conditions",
                        "shape": [2, 1],
                        "datatype": "FP32",
                        "data": [5000.0, 20000.0],
                    }
                ],
                "parameters": {"seed": 1},
            },
        }
    },
}


@router.post(
    "/{name}/infer",
    openapi_extra={"requestBody": _INFER_BODY},
    summary="events for conditions (and optionally noise or a seed), with the report summary",
    responses={
        200: {
            "description": "JSON, or JSON then binary tensor data (Inference-Header-Content-Length)"
        },
        **_ERRORS,
    },
)
async def infer(
    name: str,
    request: Request,
    registry: RegistryDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> StreamingResponse:
    model = _model(registry, name)
    try:
        body = await request.body()
        # Decoding builds up to PARSED_VALUE_BYTES per value (commas + 1): charged first, and
        # done in a worker thread for a large body, so /healthz keeps its latency.
        values = body.count(b",") + 1
        request.app.state.budgets["memory"].take(request.scope, values * PARSED_VALUE_BYTES)
        decoded = await _off_the_loop_if_large(
            len(body), decode_request, body, request.headers.get(HEADER_LENGTH)
        )
    except TensorError as error:
        raise OipError(400, str(error)) from None
    except HTTPException as error:  # the body size limit, met while reading a chunked body
        raise OipError(error.status_code, str(error.detail)) from None
    inference = Inference(model, decoded, settings=settings, metrics=metrics)
    card = model.artefact.card
    memory = whole_response_bytes(  # charged like /v1's requests (admission control)
        inference.n_events,
        n_features=card.n_features,
        n_conditions=card.n_conditions,
        json_text=not decoded.wants_binary(EVENTS),
    )
    request.app.state.budgets["memory"].take(request.scope, memory)
    events, parameters = await inference.run()
    document = {"model_name": name, "model_version": VERSION, "parameters": parameters}
    if decoded.id is not None:
        document["id"] = decoded.id
    pieces, headers = await _off_the_loop_if_large(
        events.nbytes, encode_response, document, {EVENTS: events}, decoded
    )
    media_type = headers.pop("Content-Type")
    headers["Content-Length"] = str(sum(len(piece) for piece in pieces))
    return StreamingResponse(_sent_in_turn(pieces), media_type=media_type, headers=headers)


async def _sent_in_turn(pieces: list[bytes]) -> AsyncIterator[bytes]:
    """The pieces of a body one by one, each released once sent (a whole body of hundreds of
    megabytes would be copied into the socket's buffer in one go, on the event loop)."""
    pieces.reverse()
    while pieces:
        yield pieces.pop()
