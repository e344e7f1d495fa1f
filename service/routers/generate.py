"""POST /v1/models/{name}/generate: synthetic events with their validation report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from hepgan.service.dependencies import MetricsDep, RegistryDep, SettingsDep
from hepgan.service.errors import RequestInputError
from hepgan.service.jobs import GenerationJob
from hepgan.service.schemas import GENERATE_EXAMPLES, GeneratedEvents, GenerateRequest

router = APIRouter(prefix="/v1/models", tags=["generate"])

_BINARY = {"schema": {"type": "string", "format": "binary"}}
_RESPONSES = {
    200: {
        "description": (
            "The events and their report in the requested format. Headers X-HEPGAN-Validation-"
            "Status, X-HEPGAN-Worst-KS, X-HEPGAN-Worst-Observable, X-HEPGAN-Failing-Observables, "
            "X-HEPGAN-Events-Validated and X-HEPGAN-Extrapolated summarise the report."
        ),
        "content": {
            "application/json": {"schema": GeneratedEvents.model_json_schema()},
            "application/x-npz": {
                **_BINARY,
                "example": "numpy.load(io.BytesIO(body), allow_pickle=False): features, "
                "conditions, feature_names, condition_names, report (JSON bytes), meta",
            },
            "application/vnd.apache.arrow.stream": {
                **_BINARY,
                "example": "pyarrow.ipc.open_stream(body): output columns; "
                "schema.metadata[b'report'] holds the report",
            },
            "application/x-root": {
                **_BINARY,
                "example": "uproot.open(file): the tree of `hepgan generate`; "
                "str(file['report']) holds the report",
            },
        },
    },
    400: {"description": "the body cannot be parsed (not UTF-8 JSON)"},
    404: {"description": "unknown model; the message lists the models"},
    413: {"description": "request body over the size limit"},
    422: {"description": "a field is malformed, over a limit, or outside the training range"},
}


@router.post(
    "/{name}/generate",
    summary="generate events with a validation report",
    response_class=Response,
    responses=_RESPONSES,
)
async def generate(
    name: str,
    request: Annotated[GenerateRequest, Body(openapi_examples=GENERATE_EXAMPLES)],
    registry: RegistryDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> Response:
    limit = settings.max_events_per_request
    if request.n_events > limit:
        raise RequestInputError(
            ("n_events",),
            f"{request.n_events} events asked; the limit is {limit} per request "
            "(HEPGAN_MAX_EVENTS_PER_REQUEST): split the request",
        )
    model = registry.get(name)
    job = GenerationJob(model, request, settings=settings, metrics=metrics)
    return await job.respond()
