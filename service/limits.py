"""Request body size limit, enforced before the body is parsed (413 naming the limit)."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hepgan.service.oip_errors import is_oip_path


class BodySizeLimitMiddleware:
    """Refuses bodies over ``max_bytes``, by Content-Length or while reading a chunked body."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.detail = f"request body exceeds the limit of {max_bytes} bytes (HEPGAN_MAX_BODY_BYTES)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            # The inference protocol's routes (/v2) answer errors as {"error": ...}.
            key = "error" if is_oip_path(scope["path"]) else "detail"
            await JSONResponse({key: self.detail}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            # A chunked body has no Content-Length: count it as it arrives. FastAPI turns the
            # HTTPException raised while it reads the body into the 413 response.
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(status_code=413, detail=self.detail)
            return message

        await self.app(scope, counting_receive, send)
