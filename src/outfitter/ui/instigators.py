"""The UI's sensors and schedules pages: every sensor and schedule with its status (start and
stop), its interval or cron, when it is next evaluated and its last tick; one sensor's or
schedule's page with its cursor, tick history and, for a sensor, a preview of one evaluation
(:func:`outfitter._daemon.preview`, the same function as ``outfitter sensors preview``).

Status changes go through the instance, as ``outfitter sensors start|stop`` do; a daemon (the
one ``outfitter dev`` runs, or ``outfitter daemon`` in another process) picks them up.

Example:
    >>> schedule_every(ScheduleDefinition(lambda: None, cron_schedule="0 6 * * *"))
    '0 6 * * * (UTC)'
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .._daemon import Preview, preview
from .._definitions.definitions import Definitions
from .._definitions.sensors import ScheduleDefinition, SensorDefinition
from .._instance import Instance, InstigatorState, TickRecord
from .._resources.context import did_you_mean
from . import app as _app  # app imports this module: names are read at call time

__all__ = ["Row", "routes", "schedule_every"]

TICKS_SHOWN = 100
"""The latest ticks an instigator's page lists."""

NEXT_SCHEDULED = 5
"""How many upcoming times a schedule's page lists."""

NEXT_AT_DAEMON_TICK = "at the next daemon tick"

Instigator = SensorDefinition | ScheduleDefinition


@dataclass(frozen=True)
class Row:
    """One sensor or schedule as the pages show it."""

    name: str
    kind: str
    job: str | None
    status: str
    every: str
    next_tick: str
    last: TickRecord | None
    state: InstigatorState | None

    @property
    def href(self) -> str:
        """Its page."""
        return "/instigators/" + quote(self.name, safe="")

    @property
    def running(self) -> bool:
        """Whether a daemon evaluates it."""
        return self.status == "RUNNING"


def when(timestamp: float | None) -> str:
    """An epoch time as the pages show it (UTC).

    Example:
        >>> when(0)
        '1970-01-01 00:00:00 UTC'
    """
    if timestamp is None:
        return "-"
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def as_json(value: Any) -> str:
    """Data (a run request's redacted config) as indented JSON text (escaped by the template).

    Example:
        >>> print(as_json({"db": {"env": "DB_URL"}}))
        {
          "db": {
            "env": "DB_URL"
          }
        }
    """
    return json.dumps(value, indent=2, default=str, sort_keys=True)


def schedule_every(definition: ScheduleDefinition) -> str:
    """A schedule's cron and the time zone it is read in."""
    return f"{definition.cron_schedule} ({definition.execution_timezone})"


def _scheduled(moment: dt.datetime) -> str:
    text = moment.strftime("%Y-%m-%d %H:%M %Z")
    utc = moment.astimezone(dt.UTC)
    if moment.utcoffset() != dt.timedelta(0):
        text += utc.strftime(" (%H:%M UTC)")
    return text


def next_tick(
    definition: Instigator, state: InstigatorState | None, status: str, now: float
) -> str:
    """When a daemon evaluates it next: a schedule at its next cron time after its last tick
    (or now), a sensor its minimum interval after its last tick.

    Example:
        >>> next_tick(SensorDefinition(lambda: None), None, "RUNNING", 0.0)
        'at the next daemon tick'
    """
    if status != "RUNNING":
        return "- (stopped)"
    last = state.last_tick_time if state is not None else None
    if isinstance(definition, ScheduleDefinition):
        base = dt.datetime.fromtimestamp(now if last is None else last, dt.UTC)
        try:
            due = definition.next_after(base)
        except Exception as exc:  # the daemon records it as a FAILURE tick
            return f"unknown ({type(exc).__name__}: {exc})"
        if due.timestamp() <= now:
            return f"{_scheduled(due)}, due: {NEXT_AT_DAEMON_TICK}"
        return _scheduled(due)
    if last is None or last + definition.minimum_interval_seconds <= now:
        return NEXT_AT_DAEMON_TICK
    return when(last + definition.minimum_interval_seconds)


def upcoming(definition: ScheduleDefinition, now: float, count: int = NEXT_SCHEDULED) -> list[str]:
    """The next ``count`` times a schedule fires after ``now``.

    Example:
        >>> upcoming(ScheduleDefinition(lambda: None, cron_schedule="0 6 * * *"), 0.0, 2)
        ['1970-01-01 06:00 UTC', '1970-01-02 06:00 UTC']
    """
    times: list[str] = []
    moment = dt.datetime.fromtimestamp(now, dt.UTC)
    try:
        for _ in range(count):
            moment = definition.next_after(moment)
            times.append(_scheduled(moment))
    except Exception as exc:
        times.append(f"unknown ({type(exc).__name__}: {exc})")
    return times


def _definitions(defs: Definitions | None) -> list[Instigator]:
    if defs is None:
        return []
    return [*defs.sensors, *defs.schedules]


def _row(definition: Instigator, instance: Instance, now: float) -> Row:
    state = instance.get_instigator(definition.name)
    status = state.status if state is not None else definition.default_status
    ticks = instance.get_ticks(definition.name, limit=1)
    every = (
        schedule_every(definition)
        if isinstance(definition, ScheduleDefinition)
        else f"every {definition.minimum_interval_seconds:g}s"
    )
    return Row(
        name=definition.name,
        kind=definition.kind,
        job=", ".join(definition.job_names) or None,
        status=status,
        every=every,
        next_tick=next_tick(definition, state, status, now),
        last=ticks[0] if ticks else None,
        state=state,
    )


def _find(request: Request, name: str) -> tuple[Instigator, Definitions]:
    """The sensor or schedule ``name`` and the definitions it is in (one load of them)."""
    defs = _app.loaded(request).defs
    definitions = _definitions(defs)
    for definition in definitions:
        if definition.name == name:
            assert defs is not None
            return definition, defs
    suggestion = did_you_mean(name, [d.name for d in definitions])
    raise _app.not_found(f"no sensor or schedule named {name!r}.{suggestion}")


def _instance(request: Request) -> Instance:
    instance: Instance = request.app.state.instance
    return instance


def _daemon_note(request: Request) -> str:
    if request.app.state.daemon is not None:
        return (
            "The daemon is running in this process (outfitter dev): it evaluates the running "
            "sensors and schedules and launches their runs."
        )
    return (
        "No daemon runs in this process: run `outfitter daemon` or `outfitter dev` to evaluate "
        "them (start and stop here still apply to any daemon on this instance)."
    )


async def _list(request: Request) -> Response:
    instance = _instance(request)
    now = time.time()
    rows = [_row(d, instance, now) for d in _definitions(_app.loaded(request).defs)]
    return _app.render(
        request,
        "instigators.html",
        {"rows": rows, "note": _daemon_note(request), "when": when},
    )


async def _page(request: Request, name: str, shown: Preview | None = None) -> Response:
    definition, _ = _find(request, name)
    instance = _instance(request)
    now = time.time()
    ticks = instance.get_ticks(definition.name, limit=TICKS_SHOWN + 1)
    schedule_times = upcoming(definition, now) if isinstance(definition, ScheduleDefinition) else []
    return _app.render(
        request,
        "instigator.html",
        {
            "row": _row(definition, instance, now),
            "ticks": ticks[:TICKS_SHOWN],
            "more_ticks": len(ticks) > TICKS_SHOWN,
            "ticks_shown": TICKS_SHOWN,
            "upcoming": schedule_times,
            "note": _daemon_note(request),
            "preview": shown,
            "message": None,
            "when": when,
            "as_json": as_json,
        },
    )


async def _detail(request: Request) -> Response:
    return await _page(request, request.path_params["name"])


async def _set_status(request: Request, status: str) -> Response:
    definition, _ = _find(request, request.path_params["name"])
    instance = _instance(request)
    instance.set_instigator(
        definition.name, definition.kind, status=status, default_status=definition.default_status
    )
    if request.headers.get("hx-request") == "true":
        row = _row(definition, instance, time.time())
        return _app.render(request, "instigator_row.html", {"row": row, "when": when})
    back = request.headers.get("referer") or ""
    base = str(request.base_url).rstrip("/")
    if back.startswith(base + "/instigators"):
        return RedirectResponse(back, status_code=303)
    return RedirectResponse("/instigators", status_code=303)


async def _start(request: Request) -> Response:
    return await _set_status(request, "RUNNING")


async def _stop(request: Request) -> Response:
    return await _set_status(request, "STOPPED")


async def _preview(request: Request) -> Response:
    definition, defs = _find(request, request.path_params["name"])
    htmx = request.headers.get("hx-request") == "true"
    if not isinstance(definition, SensorDefinition):
        message = (
            f"{definition.name!r} is a schedule: only sensors are previewed (its next times are "
            "listed on its page)."
        )
        context: dict[str, Any] = {"preview": None, "message": message, "as_json": as_json}
        return _app.render(request, "instigator_preview.html", context, status_code=400)
    shown = await run_in_threadpool(preview, defs, _instance(request), definition.name)
    if htmx:
        context = {"preview": shown, "message": None, "as_json": as_json}
        return _app.render(request, "instigator_preview.html", context)
    return await _page(request, definition.name, shown)


routes: list[BaseRoute] = [
    Route("/instigators", _list),
    Route("/instigators/{name}", _detail),
    Route("/instigators/{name}/start", _start, methods=["POST"]),
    Route("/instigators/{name}/stop", _stop, methods=["POST"]),
    Route("/instigators/{name}/preview", _preview, methods=["POST"]),
]
