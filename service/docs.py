"""Who may read the API documentation (/docs, /redoc, /openapi.json, /docs/oauth2-redirect).

Open without a key when no API key is set, or when ``HEPGAN_PUBLIC_DOCS`` is true.
Otherwise they need the key like every route but /healthz and /readyz: the schema
describes the routes, models and limits of the deployment. (A browser sends no
Authorization header, so to read /docs in a browser open them with the setting.)
The pages themselves are :mod:`hepgan.service.routers.docs`; their static assets
(Swagger UI, ReDoc) hold nothing of the deployment and stay open.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from hepgan.service.dependencies import require_api_key
from hepgan.service.settings import Settings

OPENAPI_URL = "/openapi.json"


def docs_are_public(settings: Settings) -> bool:
    return settings.api_key is None or settings.public_docs


def add_protected_openapi(app: FastAPI) -> None:
    """/openapi.json behind the API key (out of the schema, as FastAPI's own is)."""

    @app.get(OPENAPI_URL, include_in_schema=False, dependencies=[Depends(require_api_key)])
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())
