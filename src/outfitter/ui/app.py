"""The UI's Starlette application: the pages of each section (``resources``,
``definitions``, ``launchpad``, ``runs``, ``instigators``), the vendored static files, reload,
and the request checks of :mod:`~outfitter.ui.security`.

Every page module exposes ``routes``; handlers render templates with :func:`render`, which
gives each template the current load of the workspace (``loaded``) and the instance.

Example:
    >>> from starlette.testclient import TestClient  # doctest: +SKIP
    >>> client = TestClient(create_app(workspace, instance))  # doctest: +SKIP
    >>> client.get("/resources").status_code  # doctest: +SKIP
    200
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from .._instance import Instance
from . import definitions, instigators, launchpad, resources, runs
from .security import OriginCheck, allowed_hosts
from .workspace import Loaded, Workspace

__all__ = ["create_app", "loaded", "not_found", "render"]

HERE = Path(__file__).resolve().parent

NAV = (
    ("Resources", "/resources"),
    ("Definitions", "/definitions"),
    ("Launchpad", "/launchpad"),
    ("Runs", "/runs"),
    ("Sensors & schedules", "/instigators"),
)


def loaded(request: Request) -> Loaded:
    """The workspace's current load (take it once per request)."""
    workspace: Workspace = request.app.state.workspace
    return workspace.current


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """``template`` rendered (every value escaped) with ``context``, the current load of the
    workspace (``loaded``), the workspace, the navigation and the current path."""
    templates: Jinja2Templates = request.app.state.templates
    workspace: Workspace = request.app.state.workspace
    full = {
        "loaded": workspace.current,
        "workspace": workspace,
        "nav": NAV,
        "path": request.url.path,
        "dev": request.app.state.daemon is not None,
        **(context or {}),
    }
    response: HTMLResponse = templates.TemplateResponse(
        request, template, full, status_code=status_code
    )
    return response


async def _home(request: Request) -> Response:
    return RedirectResponse("/resources", status_code=302)


async def _reload(request: Request) -> Response:
    workspace: Workspace = request.app.state.workspace
    workspace.reload()
    back = request.headers.get("referer") or "/resources"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return RedirectResponse(back if back.startswith(str(request.base_url)) else "/", 303)


async def _not_found(request: Request, exc: Exception) -> Response:
    detail = getattr(exc, "detail", None) or f"nothing is at {request.url.path}"
    return render(request, "not_found.html", {"message": detail}, status_code=404)


def not_found(message: str) -> HTTPException:
    """The exception a handler raises for a name that does not exist (rendered as a page)."""
    return HTTPException(404, detail=message)


def create_app(
    workspace: Workspace,
    instance: Instance,
    *,
    host: str = "127.0.0.1",
    daemon: Any = None,
) -> Starlette:
    """The UI over ``workspace`` and ``instance``. Requests must address ``host`` (or a
    loopback name); ``daemon`` is the daemon ``outfitter dev`` runs alongside, if any."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates = Jinja2Templates(env=environment)
    routes: list[BaseRoute] = [
        Route("/", _home),
        Route("/reload", _reload, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        *resources.routes,
        *definitions.routes,
        *launchpad.routes,
        *runs.routes,
        *instigators.routes,
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(host)),
            Middleware(OriginCheck),
        ],
        exception_handlers={404: _not_found},
    )
    app.state.workspace = workspace
    app.state.instance = instance
    app.state.templates = templates
    app.state.daemon = daemon
    return app
