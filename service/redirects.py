"""Redirects stay on this site: a ``Location`` header is sent as a path, never with a host.

Starlette's slash redirect (``/docs/`` -> ``/docs``) writes an absolute URL built from the
request's ``Host`` header, so ``Host: evil.example`` was sent to ``http://evil.example/docs``
(a redirect a cache or a crafted link could serve to others). A relative reference is a valid
``Location`` (RFC 9110, section 10.2.2) and the browser resolves it against the URL it asked
for. The service redirects nowhere else, so every redirect's Location loses its scheme and
host here: one integer comparison per response.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def on_site(location: bytes) -> bytes:
    """``location`` without its scheme and host: ``http://h/docs?x`` -> ``/docs?x``."""
    parts = urlsplit(location.decode("latin-1"))
    path = "/" + parts.path.lstrip("/")  # "//evil.example" would be a host again
    return (path + (f"?{parts.query}" if parts.query else "")).encode("latin-1")


class RelativeRedirectMiddleware:
    """Rewrites the Location header of 3xx responses to a path on this site."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_on_site(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                message["headers"] = [
                    (name, on_site(value) if name.lower() == b"location" else value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, send_on_site)
