"""The UI's resources pages: ``/resources`` (every resource key: class, description, scope,
whether it is set at launch, how many steps and instigators use it) and ``/resources/{key}``
(its config with EnvVar names and masked secrets, nested resources both ways, what a launch must
configure, and every use). What they show is computed by :mod:`~outfitter.ui.resource_info`.

Example:
    >>> client.get("/resources/warehouse").status_code  # doctest: +SKIP
    200
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .._resources.context import did_you_mean
from . import app as ui  # the module, not its names: app imports this module while loading
from .resource_info import SCOPE_HELP, ResourceCatalog, resource_catalog

__all__ = ["routes"]


def _catalog(request: Request) -> ResourceCatalog:
    current = ui.loaded(request)
    return resource_catalog(current.defs, current.flows)


async def resources_list(request: Request) -> Response:
    """Every resource of the loaded code, nested ones under the resource that holds them."""
    catalog = _catalog(request)
    return ui.render(request, "resources_list.html", {"catalog": catalog, "scope_help": SCOPE_HELP})


async def resource_detail(request: Request) -> Response:
    """One resource: config, nesting, launch needs and uses (404 naming close keys)."""
    key = request.path_params["key"]
    catalog = _catalog(request)
    info = catalog.resources.get(key)
    if info is None:
        known = ", ".join(repr(k) for k in catalog.resources) or "none"
        raise ui.not_found(
            f"no resource {key!r} is bound in these definitions (resources: {known})."
            + did_you_mean(key, catalog.resources)
        )
    return ui.render(
        request,
        "resource_detail.html",
        {"info": info, "catalog": catalog, "scope_help": SCOPE_HELP},
    )


routes: list[BaseRoute] = [
    Route("/resources", resources_list),
    Route("/resources/{key:path}", resource_detail),
]
