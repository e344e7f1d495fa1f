"""The web page for physicists: ``/`` lists the models, ``/models/{name}`` shows one with its
training history, a generate form and the validation of the batch.

The page is static (HTML, CSS and JavaScript in ``service/page/``, plotly.js from the
installed ``plotly`` wheel): nothing is fetched from the network, so it works on a
cluster node behind a firewall. It loads without the API key; its scripts ask for the
key when the service has one (the shell says so), keep it for the browser tab
(sessionStorage) and send it as the Bearer token to the ``/v1`` routes, which check it.
Pages and assets are not API: left out of the OpenAPI schema on purpose.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from hepgan.service.dependencies import SettingsDep

router = APIRouter(include_in_schema=False)

PAGE_FOLDER = Path(__file__).resolve().parent.parent / "page"
PAGE_ASSET_PREFIX = "/page-assets"
_PAGE_ASSETS = ("page.css", "api.js", "plots.js", "calorimeter.js", "views.js")


def _plotly_js() -> Path:
    """plotly.js as shipped inside the installed ``plotly`` Python package."""
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


@cache
def _shell_template() -> str:
    return (PAGE_FOLDER / "index.html").read_text(encoding="utf-8")


def _shell(request: Request, settings: SettingsDep) -> HTMLResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    html = (
        _shell_template()
        .replace("{{ROOT}}", root)
        .replace("{{KEY_REQUIRED}}", "true" if settings.api_key is not None else "false")
    )
    return HTMLResponse(html)


@router.get("/")
async def model_list_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _shell(request, settings)


@router.get("/models/{name}")
async def model_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _shell(request, settings)


@router.get(PAGE_ASSET_PREFIX + "/{asset}")
async def page_asset(asset: str) -> FileResponse:
    if asset == "plotly.min.js":
        return FileResponse(_plotly_js(), media_type="text/javascript")
    if asset not in _PAGE_ASSETS:
        raise HTTPException(status_code=404, detail=f"no page asset {asset!r}")
    return FileResponse(PAGE_FOLDER / asset)
