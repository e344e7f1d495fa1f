"""Open Inference Protocol (KServe v2) model routes: metadata, readiness and inference, and
the Triton extensions that SONIC-style clients call.

``GET /v2/models/{name}``, ``GET /v2/models/{name}/ready`` and
``POST /v2/models/{name}/infer`` (:mod:`hepgan.service.oip.inference` says what goes in and
out; :mod:`hepgan.service.oip.tensors` how tensors are coded); Triton's
``GET /v2/models/{name}/config`` (:mod:`hepgan.service.oip.model_config`),
and ``GET /v2/models[/{name}]/stats`` (:mod:`hepgan.service.oip.statistics`); the repository
index is :mod:`hepgan.service.routers.oip_repository`. Errors are a status and
``{"error": message}`` (:mod:`hepgan.service.oip.errors`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import StreamingResponse

from hepgan.service.dependencies import MetricsDep, RegistryDep, SettingsDep
from hepgan.service.errors import ModelNotReadyError, UnknownModelError
from hepgan.service.footprint import whole_response_bytes
from hepgan.service.metrics import ServiceMetrics
from hepgan.service.model import LoadedModel
from hepgan.service.oip.errors import OipError
from hepgan.service.oip.inference import CONDITIONS, EVENTS, NOISE, Inference, event_limit
from hepgan.service.oip.model_config import model_config
from hepgan.service.oip.statistics import InferenceStatistics
from hepgan.service.oip.tensors import HEADER_LENGTH, TensorError, decode_request, encode_response
from hepgan.service.registry import ModelRegistry
from hepgan.service.request_body import INLINE_PARSE_BYTES, PARSED_VALUE_BYTES
from hepgan.service.settings import Settings

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


def _statistics(app: FastAPI) -> InferenceStatistics:
    """The app's inference statistics, made at the first request that needs them."""
    if not hasattr(app.state, "oip_statistics"):
        app.state.oip_statistics = InferenceStatistics(VERSION)
    return app.state.oip_statistics


def _widths(model: LoadedModel) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """The inputs and outputs of ``model``: (name, values per event), inputs in /v2's order."""
    card = model.artefact.card
    inputs = [(NOISE, card.architecture["latent_dim"])]
    if card.n_conditions:
        inputs.insert(0, (CONDITIONS, card.n_conditions))
    return inputs, [(EVENTS, card.n_features)]


def _tensor(name: str, width: int) -> dict:
    return {"name": name, "datatype": "FP32", "shape": [-1, width]}


@router.get("/stats", summary="inference statistics of every model (Triton's form)")
async def all_statistics(request: Request, registry: RegistryDep) -> dict:
    statistics = _statistics(request.app)
    return {"model_stats": [statistics.of(name).as_dict() for name in sorted(registry.models)]}


@router.get(
    "/{name}",
    summary="model metadata: inputs, outputs, datatypes, shapes",
    responses=_ERRORS,
)
async def model_metadata(name: str, registry: RegistryDep) -> dict:
    inputs, outputs = _widths(_model(registry, name))
    return {
        "name": name,
        "versions": [VERSION],
        "platform": PLATFORM,
        "inputs": [_tensor(*tensor) for tensor in inputs],
        "outputs": [_tensor(*tensor) for tensor in outputs],
    }


@router.get(
    "/{name}/config",
    summary="the model's configuration as Triton's ModelConfig (JSON)",
    responses=_ERRORS,
)
async def config(name: str, registry: RegistryDep, settings: SettingsDep) -> dict:
    model = _model(registry, name)
    inputs, outputs = _widths(model)
    return model_config(
        model,
        platform=PLATFORM,
        inputs=inputs,
        outputs=outputs,
        max_batch_size=event_limit(settings, model.artefact.card.n_features),
    )


@router.get(
    "/{name}/stats",
    summary="the model's inference statistics (Triton's form)",
    responses=_ERRORS,
)
async def statistics(name: str, request: Request, registry: RegistryDep) -> dict:
    _model(registry, name)
    return {"model_stats": [_statistics(request.app).of(name).as_dict()]}


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
    statistics = _statistics(request.app).of(name)
    started = time.perf_counter_ns()
    phases: dict[str, int] = {}
    try:
        response, n_events = await _answered(name, model, request, settings, metrics, phases)
    except Exception:
        statistics.failed(time.perf_counter_ns() - started)
        raise
    statistics.succeeded(n_events, time.perf_counter_ns() - started, phases)
    return response


async def _answered(
    name: str,
    model: LoadedModel,
    request: Request,
    settings: Settings,
    metrics: ServiceMetrics,
    phases: dict[str, int],
) -> tuple[StreamingResponse, int]:
    """The response to an inference request for ``model`` and its number of events; ``phases``
    gets the nanoseconds spent decoding, inferring and encoding (:mod:`.statistics`)."""
    clock = time.perf_counter_ns()
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
    phases["compute_input"], clock = time.perf_counter_ns() - clock, time.perf_counter_ns()
    events, parameters = await inference.run()
    phases["compute_infer"], clock = time.perf_counter_ns() - clock, time.perf_counter_ns()
    document = {"model_name": name, "model_version": VERSION, "parameters": parameters}
    if decoded.id is not None:
        document["id"] = decoded.id
    pieces, headers = await _off_the_loop_if_large(
        events.nbytes, encode_response, document, {EVENTS: events}, decoded
    )
    phases["compute_output"] = time.perf_counter_ns() - clock
    media_type = headers.pop("Content-Type")
    headers["Content-Length"] = str(sum(len(piece) for piece in pieces))
    response = StreamingResponse(_sent_in_turn(pieces), media_type=media_type, headers=headers)
    return response, inference.n_events


async def _sent_in_turn(pieces: list[bytes]) -> AsyncIterator[bytes]:
    """The pieces of a body one by one, each released once sent (a whole body of hundreds of
    megabytes would be copied into the socket's buffer in one go, on the event loop)."""
    pieces.reverse()
    while pieces:
        yield pieces.pop()
