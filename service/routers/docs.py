"""/docs (Swagger UI) and /redoc from installed assets, so they work behind a firewall.

FastAPI's own docs pages load Swagger UI and ReDoc from a CDN (jsDelivr): on a cluster
node without internet they are blank. The assets come from the ``fastapi-offline``
wheel instead: it ships both Swagger UI and ReDoc (``swagger-ui-bundle`` ships only
Swagger UI), depends on nothing but FastAPI, and is maintained against FastAPI's
releases. Only its static files are used; the pages are FastAPI's own HTML.

One line of ReDoc still points at the network: the "API docs by Redocly" footer loads
its logo from cdn.redoc.ly (behind a firewall: a failed request and a console error).
That URL is replaced by an empty inline image when the script is served.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse, Response

from hepgan.service.docs import OPENAPI_URL

# Pages and their assets are not API: left out of the OpenAPI schema on purpose. The pages
# need the key when the docs are not public (hepgan.service.docs); the assets never do.
pages = APIRouter(include_in_schema=False)
assets = APIRouter(include_in_schema=False)

DOCS_ASSET_PREFIX = "/docs-assets"
_ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
_REDOC_LOGO_URL = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
_EMPTY_IMAGE = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)  # a script without src


def _assets_folder() -> Path:
    """The folder of Swagger UI and ReDoc in the installed ``fastapi-offline`` package."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


def _prefix(request: Request) -> str:
    """The app's mount point (``root_path``) behind a proxy, "" otherwise."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _framed_nowhere(page: HTMLResponse) -> HTMLResponse:
    """``page`` with a Content-Security-Policy that allows its own assets and its inline
    scripts (by their sha256) only, and no framing (X-Frame-Options for older browsers)."""
    scripts = _INLINE_SCRIPT.findall(page.body)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in scripts
    )
    page.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    )
    page.headers["X-Frame-Options"] = "DENY"
    return page


@pages.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    root = _prefix(request)
    return _framed_nowhere(
        get_swagger_ui_html(
            openapi_url=f"{root}{OPENAPI_URL}",
            title=f"{request.app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
            swagger_js_url=f"{root}{DOCS_ASSET_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSET_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSET_PREFIX}/favicon.png",
        )
    )


@pages.get("/docs/oauth2-redirect")
async def swagger_ui_redirect() -> HTMLResponse:
    return _framed_nowhere(get_swagger_ui_oauth2_redirect_html())


@pages.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    root = _prefix(request)
    return _framed_nowhere(
        get_redoc_html(
            openapi_url=f"{root}{OPENAPI_URL}",
            title=f"{request.app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSET_PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSET_PREFIX}/favicon.png",
            with_google_fonts=False,
        )
    )


@cache
def _offline_redoc() -> bytes:
    """redoc.standalone.js with its one network URL (the footer logo) made inline."""
    return (
        (_assets_folder() / "redoc.standalone.js")
        .read_bytes()
        .replace(_REDOC_LOGO_URL, _EMPTY_IMAGE)
    )


@assets.get(DOCS_ASSET_PREFIX + "/{asset}")
async def docs_asset(asset: str) -> Response:
    if asset not in _ASSETS:
        raise HTTPException(status_code=404, detail=f"no docs asset {asset!r}")
    if asset == "redoc.standalone.js":
        return Response(_offline_redoc(), media_type="text/javascript")
    return FileResponse(_assets_folder() / asset)
