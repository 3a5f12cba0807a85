"""The launchpad: a run config editor for a job (``?job=``), an asset selection (``?select=``,
Dagster's selection syntax included) or a flow (``?flow=``), pre-filled with the scaffold of
exactly the config that run takes, validated as you type by the engine's own check
(``POST /launchpad/validate`` returns the problems fragment), and ``POST /launchpad/launch``,
which checks again and starts the run in a separate process (:mod:`~outfitter.ui.launcher`),
then redirects to its page. Without a target, ``/launchpad`` lists what can be launched.

No value the user typed for a secret field is sent back in a page or fragment.

Example:
    >>> [route.path for route in routes]
    ['/launchpad', '/launchpad/validate', '/launchpad/launch']
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .._config.problems import ConfigProblem
from .._config.redaction import Redactor
from .._definitions.definitions import IMPLICIT_ASSET_JOB
from .._execution.config_check import run_config_yaml
from .._resources.configurable import PartialResource
from ..exceptions import OutfitterError
from . import app as _app  # app imports this module: names are read at call time
from .launcher import ALL_ASSETS, Launcher, Target, parse_run_config, parse_tags
from .workspace import Loaded

__all__ = ["routes"]

MAX_FORM = 1_000_000
"""The largest launchpad form accepted, in bytes."""

_LAUNCHER_LOCK = threading.Lock()


@dataclass(frozen=True)
class ResourceRow:
    """A resource the run can open, as the launchpad lists it."""

    key: str
    label: str
    set_at_launch: bool
    owner: str | None


def launcher_of(request: Request) -> Launcher:
    """The app's launcher (made on first use), which starts and reaps run processes."""
    state = request.app.state
    with _LAUNCHER_LOCK:
        launcher: Launcher | None = getattr(state, "launcher", None)
        if launcher is None:
            launcher = state.launcher = Launcher(state.workspace, state.instance)
        return launcher


def _chosen(params: Any) -> tuple[str, str] | None:
    """``(kind, name)`` from the query (or form) parameters, None when nothing is chosen."""
    if params.get("flow"):
        return "flow", str(params["flow"])
    if params.get("job"):
        return "job", str(params["job"])
    picks = [str(v).strip() for v in params.getlist("select")] if hasattr(params, "getlist") else []
    picks = [v for v in picks if v]
    if picks:
        return "select", ALL_ASSETS if ALL_ASSETS in picks else ",".join(picks)
    return None


def _target(current: Loaded, kind: str, name: str) -> Target:
    try:
        return Target.resolve(current.defs, current.flows, kind, name)
    except OutfitterError as exc:
        raise _app.not_found(str(exc)) from None


def _scaffold_text(target: Target) -> str:
    scaffold = target.scaffold()
    if not scaffold:
        return f"# {target.label} takes no config.\n"
    return (
        f"# Run config for {target.label}. `<required: TYPE>` marks a value to fill in;\n"
        "# {env: NAME} reads the environment variable NAME when the run opens the resource.\n"
        + run_config_yaml(scaffold)
    )


def _check(target: Target, config: str, tags: str) -> tuple[list[ConfigProblem], Redactor]:
    """Every problem of the editor's text (YAML, tags, then the engine's check), with their
    texts' secrets masked, and the redactor of the secrets the config gives."""
    data, problems = parse_run_config(config)
    problems = problems + parse_tags(tags)[1]
    redact = target.secrets_in(data) if data else Redactor()
    if not problems or all(p.path.startswith("tags.") for p in problems):
        try:
            problems = target.validate(data) + problems
        except OutfitterError as exc:  # the code can no longer build this run
            problems = [ConfigProblem("", str(exc), None), *problems]
    return [
        ConfigProblem(p.path, redact(p.message), redact(p.hint) if p.hint else None)
        for p in problems
    ], redact


def _resource_rows(target: Target) -> list[ResourceRow]:
    return [
        ResourceRow(key, spec.label, isinstance(spec.source, PartialResource), spec.owner)
        for key, spec in target.resources()
    ]


def _page_context(
    request: Request,
    target: Target,
    config: str,
    tags: str,
    problems: list[ConfigProblem],
    note: str | None = None,
) -> dict[str, Any]:
    launcher = launcher_of(request)
    can_launch = launcher.home is not None
    return {
        "target": target,
        "steps": target.steps,
        "resources": _resource_rows(target),
        "config_text": config,
        "tags_text": tags,
        "problems": problems,
        "label": target.label,
        "can_launch": can_launch,
        "in_memory_note": None if can_launch else IN_MEMORY,
        "note": note,
    }


def _page(request: Request) -> Response:
    current = _app.loaded(request)
    chosen = _chosen(request.query_params)
    if chosen is None:
        defs = current.defs
        return _app.render(
            request,
            "launchpad.html",
            {
                "target": None,
                "jobs": [
                    j.name for j in (defs.jobs if defs else []) if j.name != IMPLICIT_ASSET_JOB
                ],
                "assets": [
                    k.to_user_string() for a in (defs.assets if defs else []) for k in a.keys
                ],
                "flows": sorted(current.flows),
            },
        )
    target = _target(current, *chosen)
    config = _scaffold_text(target)
    problems, _ = _check(target, config, "")
    return _app.render(
        request, "launchpad.html", _page_context(request, target, config, "", problems)
    )


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded form of a POST (htmx and plain forms both send one)."""
    body = await request.body()
    if len(body) > MAX_FORM:
        raise HTTPException(413, detail=f"the form is larger than {MAX_FORM} bytes")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _form_target(request: Request, form: dict[str, str]) -> Target:
    """The target a POST names: its form's ``kind`` and ``target``, else the query's
    ``?job=``, ``?select=`` or ``?flow=``."""
    chosen = (form["kind"], form.get("target", "")) if form.get("kind") else None
    chosen = chosen or _chosen(request.query_params)
    if chosen is None:
        raise _app.not_found("the form names no job, selection or flow to launch")
    return _target(_app.loaded(request), *chosen)


async def _validate(request: Request) -> Response:
    form = await _form(request)

    def check() -> Response:
        try:
            target = _form_target(request, form)
        except HTTPException as exc:  # gone since the page was drawn (a reload): say so here
            gone = ConfigProblem("", str(exc.detail), "reload the launchpad page")
            label = f"{form.get('kind', '')} {form.get('target', '')!r}"
            return _app.render(
                request, "launchpad_problems.html", {"problems": [gone], "label": label}
            )
        problems, _ = _check(target, form.get("config", ""), form.get("tags", ""))
        return _app.render(
            request, "launchpad_problems.html", {"problems": problems, "label": target.label}
        )

    response: Response = await run_in_threadpool(check)
    return response


_SECRETS_REMOVED = (
    "Secret values were taken out of the editor (shown as ***): enter them again, or read "
    "them from the environment with {env: NAME}."
)


async def _launch(request: Request) -> Response:
    form = await _form(request)

    def launch() -> Response:
        target = _form_target(request, form)
        config, tags = form.get("config", ""), form.get("tags", "")
        problems, redact = _check(target, config, tags)
        launcher = launcher_of(request)
        if problems or launcher.home is None:
            shown = redact(config)
            note = _SECRETS_REMOVED if shown != config else None
            context = _page_context(request, target, shown, tags, problems, note)
            return _app.render(request, "launchpad.html", context, 409 if not problems else 422)
        run_id = launcher.launch(target, config, parse_tags(tags)[0])
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    response: Response = await run_in_threadpool(launch)
    return response


IN_MEMORY = (
    "Launching needs a local instance: this UI records into an in-memory instance, which the "
    "run's process cannot see. Start it over a directory (OUTFITTER_HOME, default ./.outfitter)."
)

routes: list[BaseRoute] = [
    Route("/launchpad", _page, methods=["GET"]),
    Route("/launchpad/validate", _validate, methods=["POST"]),
    Route("/launchpad/launch", _launch, methods=["POST"]),
]
