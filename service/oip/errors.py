"""Errors of the Open Inference Protocol routes: a status and ``{"error": message}``.

The protocol's error body differs from ``/v1``'s (``{"detail": ...}``): :class:`OipError`
carries the status, and every HTTP error raised on a ``/v2`` path (the API key check, an
unknown route, a body over the size limit) is rendered the protocol's way, while other
paths keep FastAPI's default.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from hepgan.errors import HepganError
from hepgan.service.errors import OverloadedError, overloaded_response

OIP_PREFIX = "/v2"


def is_oip_path(path: str) -> bool:
    return path == OIP_PREFIX or path.startswith(OIP_PREFIX + "/")


class OipError(HepganError):
    """A failed inference-protocol request: HTTP ``status`` and the message for ``error``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers


def _oip_error(_request: Request, error: OipError) -> JSONResponse:
    return JSONResponse({"error": str(error)}, status_code=error.status, headers=error.headers)


def _overloaded(request: Request, error: OverloadedError) -> Response:
    """503 with Retry-After (admission control): ``{"error"}`` on /v2, ``{"detail"}`` elsewhere."""
    if is_oip_path(request.url.path):
        headers = {"Retry-After": str(error.retry_after_s)}
        return JSONResponse({"error": str(error)}, status_code=503, headers=headers)
    return overloaded_response(request, error)


async def _http_error(request: Request, error: HTTPException) -> Response:
    if is_oip_path(request.url.path):
        return JSONResponse(
            {"error": str(error.detail)}, status_code=error.status_code, headers=error.headers
        )
    return await http_exception_handler(request, error)


def install_oip_error_handlers(app: FastAPI) -> None:
    """Register the protocol's error rendering on ``app``."""
    app.add_exception_handler(OipError, _oip_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OverloadedError, _overloaded)
