"""uvicorn's HTTP protocol (httptools) with a deadline for each request's head.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive``, but
cancels that timer on the first byte received, and sets none on a fresh
connection: a client that sends its request line and headers a byte at a time, or
nothing at all, holds the connection forever (slowloris). Here a connection must
deliver each request head (request line and headers) within ``HEPGAN_HEADER_TIMEOUT_S``
of opening or of the previous response's end, else it is closed. (Bodies have their
own deadline: :mod:`hepgan.service.limits`.)

``hepgan serve`` passes this class to uvicorn by its import path; the timeout is read
once per process from the settings (the environment).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from hepgan.service.settings import Settings

IMPORT_PATH = "hepgan.service.http_protocol:HeadTimeoutProtocol"


@functools.cache
def _header_timeout_s() -> float:
    return Settings().header_timeout_s


class HeadTimeoutProtocol(HttpToolsProtocol):
    """Closes a connection whose request head is not complete in time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None

    def _await_head(self) -> None:
        self._stop_waiting()
        self._head_deadline = self.loop.call_later(_header_timeout_s(), self._head_too_late)

    def _stop_waiting(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_late(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def on_headers_complete(self) -> None:
        self._stop_waiting()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._await_head()  # the next request's head, however slowly its bytes come

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)
