"""Request body limits, enforced while the body arrives, before it is parsed.

- size: over ``max_bytes`` by Content-Length, or while reading a chunked body: 413
  naming the limit;
- time: the whole body must arrive within ``timeout_s`` of the first read: 408, so a
  slow sender cannot hold a connection and its partial body indefinitely;
- memory: each part taken from the memory budget as it arrives (what parsing will add is
  charged by :mod:`hepgan.service.request_body`): 503 when the budget is spent.

Requests without a body (GET) pass through with one dictionary look-up.
"""

from __future__ import annotations

import asyncio
import sys

from fastapi import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hepgan.service.admission import Budget
from hepgan.service.oip.errors import is_oip_path


class BodyLimitMiddleware:
    """Refuses bodies over ``max_bytes`` or slower than ``timeout_s``; charges ``budget``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout_s: float, budget: Budget) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.budget = budget
        self.detail = f"request body exceeds the limit of {max_bytes} bytes (HEPGAN_MAX_BODY_BYTES)"
        self.late = f"request body not received within {timeout_s:g} s (HEPGAN_BODY_TIMEOUT_S)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            # The inference protocol's routes (/v2) answer errors as {"error": ...}.
            key = "error" if is_oip_path(scope["path"]) else "detail"
            await JSONResponse({key: self.detail}, status_code=413)(scope, receive, send)
            return
        received = 0
        deadline: float | None = None
        more_body = True

        async def limited_receive() -> Message:
            # FastAPI turns an HTTPException raised while it reads the body into its response.
            nonlocal received, deadline, more_body
            if not more_body:  # after the body only a disconnect can come: no deadline
                return await receive()
            if deadline is None:
                deadline = asyncio.get_running_loop().time() + self.timeout_s
            try:
                message = await _receive_before(receive, deadline)
            except TimeoutError:
                raise HTTPException(status_code=408, detail=self.late) from None
            more_body = message.get("more_body", False) and message["type"] == "http.request"
            size = len(message.get("body", b""))
            received += size
            if received > self.max_bytes:
                raise HTTPException(status_code=413, detail=self.detail)
            self.budget.take(scope, size)
            return message

        await self.app(scope, limited_receive, send)


async def _receive_before(receive: Receive, deadline: float) -> Message:
    """``await receive()``, raising TimeoutError at loop time ``deadline``."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout_at(deadline):  # a timer, no task: cheap per request
            return await receive()
    remaining = deadline - asyncio.get_running_loop().time()
    try:
        return await asyncio.wait_for(receive(), remaining)
    except asyncio.TimeoutError:  # not the built-in TimeoutError before 3.11
        raise TimeoutError from None
