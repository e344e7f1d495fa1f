"""uvicorn's HTTP protocol (httptools) with the guards a connection needs before any ASGI code.

What uvicorn leaves open, and what this protocol does about it:

- a request head sent a byte at a time, or not at all (slowloris): uvicorn cancels its
  keep-alive timer on the first byte and sets none on a fresh connection. Here each request
  head (request line and headers) must arrive within ``HEPGAN_HEADER_TIMEOUT_S`` of the
  connection opening or of the previous response's end, else the connection is closed;
- a head of any size: httptools buffers a header value however long it is (64 MB was
  answered 200). Here a head over ``HEPGAN_MAX_HEAD_BYTES``, or with more than
  ``HEPGAN_MAX_HEADER_FIELDS`` fields, gets 431 and the connection is closed, as soon as the
  bytes read while the head is incomplete pass the bound (so at most one read, 256 KiB,
  beyond it is ever held). Only a request's own head counts, from its first byte;
- a client that asks for a large response and never reads it: uvicorn waits for the socket
  to drain forever, holding the request's memory budget. Here a response whose bytes wait
  in the write buffer (asyncio's ``pause_writing`` without ``resume_writing``) for
  ``HEPGAN_SEND_TIMEOUT_S`` is abandoned: the connection is aborted, the app sees a
  disconnect, and what the request took from the budgets is given back
  (:mod:`hepgan.service.admission`);
- one client taking every connection slot (``HEPGAN_MAX_CONNECTIONS``): here one client
  address holds at most ``HEPGAN_MAX_CONNECTIONS_PER_CLIENT`` connections; beyond that a new
  one gets 503 and is closed.

(Bodies have their own deadline: :mod:`hepgan.service.limits`.) ``hepgan serve`` passes this
class to uvicorn by its import path; the settings are read once per process from the
environment.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from hepgan.service.settings import Settings

IMPORT_PATH = "hepgan.service.http_protocol:HeadTimeoutProtocol"
_REASONS = {431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}
_connections_per_client: Counter[str] = Counter()  # client address -> open connections


@functools.cache
def _settings() -> Settings:
    return Settings()


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a head over the limits."""


class HeadTimeoutProtocol(HttpToolsProtocol):
    """Bounds each request head in time, size and fields, each response's drain time, and
    the connections of each client address."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._send_deadline: asyncio.TimerHandle | None = None
        self._in_head = False  # between a request's first byte and the end of its head
        self._head_read = 0  # bytes read while the head is incomplete
        self._head_parsed = 0  # bytes of the URL, header names and values parsed
        self._head_fields = 0
        self._refusal: bytes | None = None  # the answer to a head over the limits
        self._client: str | None = None

    # --- connections per client ---

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limit = _settings().max_connections_per_client
        peer = transport.get_extra_info("peername")
        if limit and isinstance(peer, tuple):
            self._client = str(peer[0])
            _connections_per_client[self._client] += 1
            if _connections_per_client[self._client] > limit:
                self._refuse(
                    503,
                    f"too many connections from {self._client}: at most {limit} "
                    "(HEPGAN_MAX_CONNECTIONS_PER_CLIENT)",
                )
                return
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        self._stop_send_deadline()
        if self._client is not None:
            _connections_per_client[self._client] -= 1
            if not _connections_per_client[self._client]:
                del _connections_per_client[self._client]
            self._client = None
        super().connection_lost(exc)

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with ``message`` (plain text) and close the connection."""
        body = message.encode("ascii", "replace")
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, _REASONS[status], len(body), body)
        )
        self.transport.close()

    # --- the request head: deadline, size, fields ---

    def _await_head(self) -> None:
        self._stop_waiting()
        self._head_deadline = self.loop.call_later(
            _settings().header_timeout_s, self._head_too_late
        )

    def _stop_waiting(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_late(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def _over_limits(self, n_bytes: int) -> bytes | None:
        """Why a head of ``n_bytes`` and the fields seen so far is refused, or None."""
        settings = _settings()
        if n_bytes > settings.max_head_bytes:
            return b"over %d bytes (HEPGAN_MAX_HEAD_BYTES)" % settings.max_head_bytes
        if self._head_fields > settings.max_header_fields:
            return b"more than %d fields (HEPGAN_MAX_HEADER_FIELDS)" % settings.max_header_fields
        return None

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return
        in_head = self._in_head
        super().data_received(data)  # a callback's _HeadTooLarge ends in send_400_response
        if in_head and self._in_head and not self.transport.is_closing():
            # A read that began and ended inside a head is all head, and the parser holds it
            # (a long header value reaches on_header only once complete). The read in which
            # the head began is not counted: the bound is loose by at most one read.
            self._head_read += len(data)
            self._refusal = self._over_limits(self._head_read)
            if self._refusal is not None:
                self.send_400_response("")

    def send_400_response(self, msg: str) -> None:
        if self._refusal is not None:  # a head over the limits: 431, not uvicorn's 400
            self._refuse(431, "the request head has " + self._refusal.decode())
            return
        super().send_400_response(msg)

    def _parsed(self, n_bytes: int, n_fields: int = 0) -> None:
        """Count a parsed part of the head; raises _HeadTooLarge past a limit (which stops
        the parser: httptools turns it into HttpParserCallbackError, uvicorn into a 400)."""
        self._head_parsed += n_bytes
        self._head_fields += n_fields
        self._refusal = self._over_limits(self._head_parsed)
        if self._refusal is not None:
            raise _HeadTooLarge

    def on_message_begin(self) -> None:
        self._in_head = True  # each request's head has its own limits
        self._head_read = self._head_parsed = self._head_fields = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._parsed(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._parsed(len(name) + len(value), 1)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._stop_waiting()
        self._in_head = False
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._await_head()  # the next request's head, however slowly its bytes come

    # --- responses the client does not read ---

    def pause_writing(self) -> None:
        super().pause_writing()
        self._stop_send_deadline()
        self._send_deadline = self.loop.call_later(
            _settings().send_timeout_s, self._not_drained_in_time
        )

    def resume_writing(self) -> None:
        self._stop_send_deadline()
        super().resume_writing()

    def _stop_send_deadline(self) -> None:
        if self._send_deadline is not None:
            self._send_deadline.cancel()
            self._send_deadline = None

    def _not_drained_in_time(self) -> None:
        """The client has not read for send_timeout_s: drop the connection and its buffer."""
        self._send_deadline = None
        self.transport.abort()  # close() would wait for the buffer to drain: it never does
