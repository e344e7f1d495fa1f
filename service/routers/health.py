"""Liveness and readiness, open to all (no API key): what load balancers and Kubernetes poll."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hepgan.service.dependencies import RegistryDep
from hepgan.service.schemas import Health, Readiness

router = APIRouter(tags=["health"])


# GET and HEAD: load balancers and uptime probes use either.
@router.api_route(
    "/healthz", methods=["GET", "HEAD"], response_model=Health, summary="the process is alive"
)
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="every loadable model is loaded and warmed up (503 until then)",
    responses={503: {"model": Readiness, "description": "still loading, or no model to serve"}},
)
async def readyz(registry: RegistryDep, response: Response) -> Readiness:
    ready = not registry.loading and bool(registry.models)
    if not ready:
        response.status_code = 503
    return Readiness(
        ready=ready,
        loading=registry.loading,
        models=sorted(registry.models),
        broken=dict(registry.broken),
    )
