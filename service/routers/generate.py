"""POST /v1/models/{name}/generate: synthetic events with their validation report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from hepgan.models.card import OutputColumn
from hepgan.service.admission import Budget
from hepgan.service.dependencies import MetricsDep, RegistryDep, SettingsDep
from hepgan.service.errors import RequestInputError
from hepgan.service.footprint import request_memory_bytes, root_file_bytes
from hepgan.service.jobs import GenerationJob
from hepgan.service.registry import LoadedModel
from hepgan.service.request_body import GENERATE_REQUEST_OPENAPI, read_generate_request
from hepgan.service.schemas import GeneratedEvents, GenerateRequest
from hepgan.service.settings import Settings

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
    408: {"description": "the body did not arrive within HEPGAN_BODY_TIMEOUT_S"},
    422: {
        "description": "a field is malformed, over a limit, or outside the training range "
        "(the first errors, then a count of the rest)"
    },
    503: {
        "description": "the server holds as much as its bounds allow (HEPGAN_MAX_BYTES_IN_FLIGHT, "
        "HEPGAN_ROOT_MAX_BYTES_TOTAL): retry after Retry-After seconds"
    },
}


@router.post(
    "/{name}/generate",
    summary="generate events with a validation report",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra=GENERATE_REQUEST_OPENAPI,
)
async def generate(
    name: str,
    request: Annotated[GenerateRequest, Depends(read_generate_request)],
    http_request: Request,
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
    _admit(http_request, model, request, settings)
    return await job.respond()


def _admit(
    http_request: Request, model: LoadedModel, request: GenerateRequest, settings: Settings
) -> None:
    """Take the request's memory (and ROOT file's disk) from the budgets, or 503 / 422."""
    budgets: dict[str, Budget] = http_request.app.state.budgets
    card = model.artefact.card
    per_event = sum(isinstance(spec, list) for spec in request.conditions.values())
    memory = request_memory_bytes(
        request.n_events,
        n_features=card.n_features,
        n_conditions=card.n_conditions,
        per_event_conditions=per_event,
        chunk_events=settings.chunk_events,
        report_events=settings.report_max_events if request.run_validation else 0,
    )
    disk = 0
    if request.format == "root":
        disk = root_file_bytes(request.n_events, card.output.columns)
        if disk > settings.root_max_bytes_per_request:
            raise RequestInputError(
                ("n_events",),
                f"a ROOT file of {request.n_events} events takes up to {disk} bytes of temporary "
                f"disk; the limit is {settings.root_max_bytes_per_request} "
                "(HEPGAN_ROOT_MAX_BYTES_PER_REQUEST): ask fewer events or another format",
            )
        _check_root_wait(request.n_events, card.output.columns, settings)
    scope = http_request.scope
    budgets["memory"].take(scope, memory)
    budgets["root_disk"].take(scope, disk)


def _check_root_wait(n_events: int, columns: list[OutputColumn], settings: Settings) -> None:
    """A 422 naming ``n_events`` for a ROOT body over ``HEPGAN_ROOT_MAX_BUFFERED_BYTES``: it is
    written whole before its first byte goes out (uproot needs a seekable file), and a client
    behind a proxy would wait past the proxy's read timeout (docs/reliability.md)."""
    limit = settings.root_max_buffered_bytes
    root_bytes = root_file_bytes(n_events, columns)
    if root_bytes <= limit:
        return
    per_event = root_file_bytes(1, columns) - root_file_bytes(0, columns)
    most = max(0, (limit - root_file_bytes(0, columns)) // per_event)
    raise RequestInputError(
        ("n_events",),
        f"a ROOT body of {n_events} events is about {root_bytes} bytes, written whole before "
        f"its first byte is sent; the limit is {limit} bytes (HEPGAN_ROOT_MAX_BUFFERED_BYTES), "
        f"{most} events of this model, so that the response starts within a proxy's timeout: "
        'ask fewer events, or format "npz" or "arrow" (streamed as they are generated), or '
        "run hepgan generate for large ROOT files",
    )
