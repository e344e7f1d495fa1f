"""Open Inference Protocol (Triton) repository route: ``POST /v2/repository/index``, every
model folder and its state (:mod:`hepgan.service.oip.repository`)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from hepgan.service.dependencies import RegistryDep
from hepgan.service.oip.errors import OipError
from hepgan.service.oip.repository import decode_index_request, repository_index
from hepgan.service.routers.oip_models import VERSION

router = APIRouter(prefix="/v2/repository", tags=["open inference protocol"])


@router.post(
    "/index",
    summary='every model folder and its state, READY or UNAVAILABLE (body: {"ready": bool})',
    responses={400: {"description": 'a body that is not {"ready": bool}: {"error": message}'}},
)
async def index(request: Request, registry: RegistryDep) -> list[dict]:
    try:
        ready_only = decode_index_request(await request.body())
    except ValueError as error:
        raise OipError(400, str(error)) from None
    return repository_index(registry, version=VERSION, ready_only=ready_only)
