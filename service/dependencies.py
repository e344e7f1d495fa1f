"""Small FastAPI dependencies: the app's settings, models and metrics, and the API key check.

All are ``async def`` although none awaits: FastAPI runs a plain ``def`` dependency in
its thread pool, a thread hop per dependency and request (four per generate request,
a fifth of a small request's time on a loaded machine); these take microseconds.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hepgan.service.metrics import ServiceMetrics
from hepgan.service.registry import ModelRegistry
from hepgan.service.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_registry(request: Request) -> ModelRegistry:
    return request.app.state.registry


async def get_metrics(request: Request) -> ServiceMetrics:
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]

_bearer = HTTPBearer(auto_error=False, description="the service's API key, when one is set")


async def require_api_key(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 unless the request carries ``Authorization: Bearer <HEPGAN_API_KEY>`` (when set)."""
    if settings.api_key is None:
        return
    expected = settings.api_key.get_secret_value().encode()
    given = b"" if credentials is None else credentials.credentials.encode()
    if credentials is None or not hmac.compare_digest(given, expected):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
