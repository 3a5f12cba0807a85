"""Requests the UI refuses: a ``Host`` that is not the address it serves (DNS rebinding), and a
state-changing request (POST, PUT, PATCH, DELETE) from another origin (cross-site request
forgery).

A state-changing request must prove it comes from the UI's own pages: an ``Origin`` header
naming the host it was sent to, or, when a client sends no ``Origin``, a same-origin
``Referer`` or htmx's ``HX-Request`` header (a custom header another site cannot send without
a CORS preflight, which the UI never answers).

Example:
    >>> same_origin("http://127.0.0.1:3000", "127.0.0.1:3000")
    True
    >>> same_origin("http://evil.example", "127.0.0.1:3000")
    False
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["LOOPBACK", "OriginCheck", "allowed_hosts", "same_origin"]

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def allowed_hosts(bound: str) -> list[str]:
    """The host names a request may address: loopback names, plus the address the server is
    bound to when it is a specific one (``0.0.0.0`` allows no more than loopback)."""
    hosts = list(LOOPBACK)
    if bound not in ("0.0.0.0", "::", "") and bound not in hosts:
        hosts.append(bound)
    return hosts


def same_origin(origin: str, host: str) -> bool:
    """Whether an ``Origin`` or ``Referer`` value points at ``host`` (the request's ``Host``
    header, port included)."""
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


class OriginCheck:
    """ASGI middleware: state-changing requests from another origin get 403."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _UNSAFE:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            if not _trusted(headers):
                await _forbidden(send)
                return
        await self.app(scope, receive, send)


def _trusted(headers: dict[str, str]) -> bool:
    host = headers.get("host", "")
    origin = headers.get("origin")
    if origin is not None:
        return same_origin(origin, host)
    referer = headers.get("referer")
    if referer is not None:
        return same_origin(referer, host)
    return headers.get("hx-request") == "true"


async def _forbidden(send: Send) -> None:
    body = b"Refused: this request did not come from the Outfitter UI's own pages."
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
