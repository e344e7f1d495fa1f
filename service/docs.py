"""The API documentation routes (/docs, /redoc, /openapi.json, /docs/oauth2-redirect).

Open without a key when no API key is set, or when ``HEPGAN_PUBLIC_DOCS`` is true.
Otherwise they need the key like every route but /healthz and /readyz: the schema
describes the routes, models and limits of the deployment. (A browser sends no
Authorization header, so to read /docs in a browser open them with the setting.)
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, JSONResponse

from hepgan.service.dependencies import require_api_key
from hepgan.service.settings import Settings

DOCS_URLS: dict[str, Any] = {
    "docs_url": "/docs",
    "redoc_url": "/redoc",
    "openapi_url": "/openapi.json",
    "swagger_ui_oauth2_redirect_url": "/docs/oauth2-redirect",
}


def docs_are_public(settings: Settings) -> bool:
    return settings.api_key is None or settings.public_docs


def fastapi_docs_urls(settings: Settings) -> dict[str, Any]:
    """FastAPI's own doc routes when they are public; none (see add_protected_docs) otherwise."""
    if docs_are_public(settings):
        return DOCS_URLS
    return {"docs_url": None, "redoc_url": None, "openapi_url": None}


def add_protected_docs(app: FastAPI) -> None:
    """The four doc routes behind the API key (out of the schema, as FastAPI's own are)."""
    key = [Depends(require_api_key)]
    title = app.title

    @app.get(DOCS_URLS["openapi_url"], include_in_schema=False, dependencies=key)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get(DOCS_URLS["docs_url"], include_in_schema=False, dependencies=key)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=DOCS_URLS["openapi_url"],
            title=f"{title} - Swagger UI",
            oauth2_redirect_url=DOCS_URLS["swagger_ui_oauth2_redirect_url"],
        )

    @app.get(DOCS_URLS["swagger_ui_oauth2_redirect_url"], include_in_schema=False, dependencies=key)
    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(DOCS_URLS["redoc_url"], include_in_schema=False, dependencies=key)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=DOCS_URLS["openapi_url"], title=f"{title} - ReDoc")
