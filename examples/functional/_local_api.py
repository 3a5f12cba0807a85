"""A tiny local HTTP API standing in for a remote service, so examples run without network.

POST /token with {"user", "password"} returns {"token"} when the password matches the
ORDERS_API_PASSWORD environment variable; GET /orders and /users need that bearer token.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "t-123"
DATA = {
    "/orders": [{"id": i, "amount": 10.0 * i} for i in range(1, 6)],
    "/users": [{"id": 1, "name": "ada"}, {"id": 2, "name": "grace"}],
}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        creds = json.loads(self.rfile.read(length) or b"{}")
        ok = creds.get("password") == os.environ.get("ORDERS_API_PASSWORD", "demo-api-secret")
        self._reply(200 if ok else 401, {"token": TOKEN} if ok else {"error": "denied"})

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._reply(401, {"error": "no token"})
        elif self.path in DATA:
            self._reply(200, DATA[self.path])
        else:
            self._reply(404, {"error": "not found"})

    def _reply(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextlib.contextmanager
def local_api() -> Iterator[str]:
    """Serve the stand-in API on a free loopback port; yields its base URL."""
    server = _serve()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def serve_local_api() -> str:
    """Serve the stand-in API for the rest of this process (from a daemon thread, so there is
    nothing to stop: a server stopped while the interpreter exits could wait forever for its
    thread); returns its base URL."""
    return f"http://127.0.0.1:{_serve().server_address[1]}"
