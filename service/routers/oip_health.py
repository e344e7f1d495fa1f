"""Open Inference Protocol (KServe v2) server routes, open to all like /healthz and /readyz:
``GET /v2`` (server metadata), ``/v2/health/live`` and ``/v2/health/ready``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hepgan import __version__
from hepgan.service.dependencies import RegistryDep

router = APIRouter(prefix="/v2", tags=["open inference protocol"])

# Triton's extensions this server implements (its repository index without load/unload is not
# the whole model_repository extension, so that one is not claimed).
EXTENSIONS = ["binary_tensor_data", "model_configuration", "statistics"]


@router.get("", summary="server metadata: name, version, protocol extensions")
async def server_metadata() -> dict:
    return {"name": "hepgan", "version": __version__, "extensions": EXTENSIONS}


@router.get("/health/live", summary="the process is alive (200)")
async def live() -> dict:
    return {"live": True}


@router.get(
    "/health/ready",
    summary="every loadable model is loaded (200; 503 until then)",
    responses={503: {"description": "still loading, or no model to serve"}},
)
async def ready(registry: RegistryDep, response: Response) -> dict:
    is_ready = not registry.loading and bool(registry.models)
    if not is_ready:
        response.status_code = 503
    return {"ready": is_ready}
