"""Build the FastAPI app: settings, middleware, routers, and model loading in ``lifespan``.

``uvicorn hepgan.service.main:create_app --factory`` serves it with settings
from the environment; ``hepgan serve`` does the same with flags.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from hepgan import __version__
from hepgan.service.admission import AdmissionMiddleware, Budget
from hepgan.service.dependencies import require_api_key
from hepgan.service.docs import OPENAPI_URL, add_protected_openapi, docs_are_public
from hepgan.service.errors import install_error_handlers
from hepgan.service.limits import BodyLimitMiddleware
from hepgan.service.metrics import MetricsMiddleware, ServiceMetrics
from hepgan.service.oip.errors import install_oip_error_handlers
from hepgan.service.redirects import RelativeRedirectMiddleware
from hepgan.service.registry import ModelRegistry
from hepgan.service.routers import (
    docs,
    generate,
    health,
    history,
    metrics,
    models,
    oip_health,
    oip_models,
    oip_repository,
    page,
)
from hepgan.service.settings import Settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the models in a thread while the server already answers /healthz and /readyz."""
    registry = ModelRegistry(app.state.settings, app.state.metrics)
    app.state.registry = registry
    loading = asyncio.create_task(asyncio.to_thread(registry.load_all))
    try:
        yield
    finally:
        await loading
        registry.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service app; ``settings`` default to the ``HEPGAN_*`` environment."""
    settings = settings or Settings()
    docs_public = docs_are_public(settings)
    app = FastAPI(
        title="hepgan",
        version=__version__,
        summary="Synthetic HEP events from conditional GANs, each batch with a validation report",
        lifespan=lifespan,
        docs_url=None,  # served from installed assets by routers.docs, not from a CDN
        redoc_url=None,
        openapi_url=OPENAPI_URL if docs_public else None,
    )
    app.state.settings = settings
    app.state.metrics = ServiceMetrics()
    app.state.budgets = {
        "memory": Budget(
            settings.max_bytes_in_flight,
            what="memory held by requests in flight",
            setting="HEPGAN_MAX_BYTES_IN_FLIGHT",
        ),
        "root_disk": Budget(
            settings.root_max_bytes_total,
            what="temporary disk of ROOT responses in flight",
            setting="HEPGAN_ROOT_MAX_BYTES_TOTAL",
        ),
    }
    install_error_handlers(app)
    install_oip_error_handlers(app)
    # Outermost last: metrics see every response, admission gives back what the body took.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        timeout_s=settings.body_timeout_s,
        budget=app.state.budgets["memory"],
    )
    app.add_middleware(AdmissionMiddleware)
    app.add_middleware(RelativeRedirectMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    protected = {
        "dependencies": [Depends(require_api_key)],
        "responses": {401: {"description": "missing or wrong API key (when one is set)"}},
    }
    # Routes are tried in order: generate first spares the hot path's request trying the
    # others (about 20 us); no other route's path matches a generate request.
    app.include_router(generate.router, **protected)
    app.include_router(health.router)
    app.include_router(docs.assets)
    app.include_router(docs.pages, **({} if docs_public else protected))
    app.include_router(page.router)  # the page loads without the key; its data needs it
    app.include_router(models.router, **protected)
    app.include_router(history.router, **protected)
    app.include_router(metrics.router, **protected)
    app.include_router(oip_health.router)  # the Open Inference Protocol (KServe v2)
    app.include_router(oip_models.router, **protected)
    app.include_router(oip_repository.router, **protected)
    if not docs_public:
        add_protected_openapi(app)
    return app
