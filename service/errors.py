"""Errors raised while serving a request, and the handlers that turn them into 4xx responses.

Every error a client can cause becomes a 4xx whose ``detail`` names the field
(FastAPI's ``[{"loc": [...], "msg": ..., "type": ...}]`` shape for 422s), so a
client never sees a 500 for its own input.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hepgan.errors import HepganError


class RequestInputError(HepganError):
    """A request field is well-typed but unusable for this model (422, naming the field)."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(f"{'.'.join(str(part) for part in loc)}: {message}")
        self.loc = loc
        self.message = message


class UnknownModelError(HepganError):
    """No loaded model has this name (404, listing the models)."""


class ModelNotReadyError(HepganError):
    """The model is still loading (503); ask /readyz."""


def _request_input_error(_request: Request, error: RequestInputError) -> JSONResponse:
    detail = [{"type": "value_error", "loc": ["body", *error.loc], "msg": error.message}]
    return JSONResponse({"detail": detail}, status_code=422)


def _unknown_model(_request: Request, error: UnknownModelError) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=404)


def _model_not_ready(_request: Request, error: ModelNotReadyError) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": "5"})


def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """Pydantic's errors without the echoed input (a body can hold a million conditions).

    A body sent without a JSON content type (``curl -d`` sends a form) is not parsed
    as JSON; the message says so instead of "Input should be a valid dictionary".
    """
    not_json = "json" not in request.headers.get("content-type", "")
    detail = [
        {
            "type": item["type"],
            "loc": list(item["loc"]),
            "msg": (
                "the body must be a JSON object sent with 'Content-Type: application/json'"
                if not_json and tuple(item["loc"]) == ("body",)
                else item["msg"]
            ),
        }
        for item in error.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    """Register the 4xx handlers on ``app``."""
    app.add_exception_handler(RequestInputError, _request_input_error)
    app.add_exception_handler(UnknownModelError, _unknown_model)
    app.add_exception_handler(ModelNotReadyError, _model_not_ready)
    app.add_exception_handler(RequestValidationError, _validation_error)
