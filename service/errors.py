"""Errors raised while serving a request, and the handlers that turn them into 4xx responses.

Every error a client can cause becomes a 4xx whose ``detail`` names the field
(FastAPI's ``[{"loc": [...], "msg": ..., "type": ...}]`` shape for 422s), so a
client never sees a 500 for its own input. A 422 lists the first
:data:`MAX_ERRORS_SHOWN` errors and then one entry counting the rest.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hepgan.errors import HepganError

MAX_ERRORS_SHOWN = 10


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


class OverloadedError(HepganError):
    """The server holds as much as a bound allows (503 with Retry-After); retry later."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def _request_input_error(_request: Request, error: RequestInputError) -> JSONResponse:
    detail = [{"type": "value_error", "loc": ["body", *error.loc], "msg": error.message}]
    return JSONResponse({"detail": detail}, status_code=422)


def _unknown_model(_request: Request, error: UnknownModelError) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=404)


def _model_not_ready(_request: Request, error: ModelNotReadyError) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": "5"})


def overloaded_response(_request: Request, error: OverloadedError) -> JSONResponse:
    """503 with Retry-After and ``{"detail"}``."""
    headers = {"Retry-After": str(error.retry_after_s)}
    return JSONResponse({"detail": str(error)}, status_code=503, headers=headers)


def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    """The first MAX_ERRORS_SHOWN errors without the echoed input, then a count of the rest."""
    errors = error.errors()
    detail = [
        {"type": item["type"], "loc": list(item["loc"]), "msg": item["msg"]}
        for item in errors[:MAX_ERRORS_SHOWN]
    ]
    if len(errors) > MAX_ERRORS_SHOWN:
        more = len(errors) - MAX_ERRORS_SHOWN
        detail.append({"type": "more_errors", "loc": ["body"], "msg": f"{more} more errors"})
    return JSONResponse({"detail": detail}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    """Register the 4xx handlers on ``app``."""
    app.add_exception_handler(RequestInputError, _request_input_error)
    app.add_exception_handler(UnknownModelError, _unknown_model)
    app.add_exception_handler(ModelNotReadyError, _model_not_ready)
    app.add_exception_handler(OverloadedError, overloaded_response)
    app.add_exception_handler(RequestValidationError, _validation_error)
