"""The UI's runs pages: the list of runs (filtered by status and job, a page at a time), a run's
page (status, redacted run config and tags, the event log with its filters, failures with their
tracebacks, the timeline), the live fragments its page polls while the run goes, and cancel.

Handlers are plain functions (Starlette runs them in its thread pool: the instance's SQLite
calls never block the event loop). Everything shown comes from the instance, which stores run
config and events already redacted; nothing here un-redacts.

Example:
    >>> _duration(10.0, 75.5)
    '1 min 05 s'
    >>> _level_at_least("ERROR", "WARNING"), _level_at_least("INFO", "WARNING")
    (True, False)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import yaml
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .._instance import EventRecord, EventType, Instance, RunRecord, RunSignal, RunStatus
from . import app as _app  # app imports this module: names are read at call time
from .timeline import build_timeline, timeline_svg

__all__ = ["PAGE_SIZE", "routes"]

PAGE_SIZE = 50
"""Runs per page of the runs list."""

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_RANK = {name: i for i, name in enumerate(LEVELS)}
_ENGINE_LEVEL = {
    EventType.STEP_FAILURE: "ERROR",
    EventType.RESOURCE_FAILURE: "ERROR",
    EventType.RUN_FAILURE: "ERROR",
    EventType.STEP_RETRY: "WARNING",
    EventType.RUN_CANCELED: "WARNING",
}
"""The level of the engine's own events (a LOG event carries its record's level)."""


def _instance(request: Request) -> Instance:
    instance: Instance = request.app.state.instance
    return instance


# -- formatting ---------------------------------------------------------------------------------


def _when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _duration(start: float | None, end: float | None) -> str:
    """A run's or span's length for people: ms under a second, then s, min, h."""
    if start is None or end is None:
        return ""
    seconds = max(end - start, 0.0)
    if seconds < 1:
        return f"{seconds * 1e3:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _status_label(status: RunStatus) -> str:
    return "RUNNING" if status is RunStatus.STARTED else status.value


def _level_at_least(level: str, minimum: str) -> bool:
    return _RANK.get(level, 1) >= _RANK.get(minimum, 0)


@dataclass(frozen=True)
class _RunRow:
    run: RunRecord
    status: str
    label: str
    short_id: str
    started: str
    duration: str
    tags: list[tuple[str, str]]


def _run_row(run: RunRecord, now: float) -> _RunRow:
    end = run.end_time if run.end_time is not None else (now if run.start_time else None)
    return _RunRow(
        run,
        run.status.value,
        _status_label(run.status),
        run.run_id[:8],
        _when(run.start_time),
        _duration(run.start_time, end),
        sorted(run.tags.items()),
    )


@dataclass(frozen=True)
class _EventRow:
    id: int
    time: str
    offset: str
    type: str
    step: str
    resource: str
    level: str
    logger: str
    message: str
    duration: str
    failure: dict[str, str] | None
    css: str


def _event_row(event: EventRecord, start: float) -> _EventRow:
    data = event.data if isinstance(event.data, dict) else {}
    if event.event_type is EventType.LOG:
        level, logger = str(data.get("level", "INFO")), str(data.get("logger", ""))
    else:
        level, logger = _ENGINE_LEVEL.get(event.event_type, "INFO"), ""
    failure = None
    if "traceback" in data or "user_traceback" in data:
        failure = {
            k: str(data.get(k) or "")
            for k in ("error_type", "message", "traceback", "user_traceback")
        }
    moment = datetime.fromtimestamp(event.timestamp)
    return _EventRow(
        event.id,
        moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}",
        f"+{max(event.timestamp - start, 0.0):.3f} s",
        event.event_type.value,
        event.step_key or "",
        event.resource_key or "",
        level,
        logger,
        event.message,
        "" if event.duration is None else _duration(0.0, event.duration),
        failure,
        "LOG" if event.event_type is EventType.LOG else level,
    )


@dataclass(frozen=True)
class _EventFilter:
    step: str = ""
    type: str = ""
    level: str = ""

    @classmethod
    def of(cls, request: Request) -> _EventFilter:
        params = request.query_params
        level = params.get("level", "").upper()
        return cls(
            params.get("step", ""),
            params.get("type", "").upper(),
            level if level in _RANK else "",
        )

    def keep(self, row: _EventRow) -> bool:
        return (
            (not self.step or row.step == self.step)
            and (not self.type or row.type == self.type)
            and (not self.level or _level_at_least(row.level, self.level))
        )

    def query(self, **more: Any) -> str:
        values = {"step": self.step, "type": self.type, "level": self.level, **more}
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


# -- the list -----------------------------------------------------------------------------------


def runs_list(request: Request) -> Response:
    """``/runs?status=&job=&page=``: a page of runs, newest first."""
    instance = _instance(request)
    params = request.query_params
    problems: list[str] = []
    status: RunStatus | None = None
    raw_status = params.get("status", "").upper()
    if raw_status == "RUNNING":
        raw_status = "STARTED"
    if raw_status:
        try:
            status = RunStatus(raw_status)
        except ValueError:
            problems.append(f"there is no run status {params.get('status')!r}: showing all")
    job = params.get("job", "") or None
    try:
        page = max(int(params.get("page", "1")), 1)
    except ValueError:
        page = 1
    total = instance.count_runs(status=status, job_name=job)
    last_page = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(page, last_page)
    runs = instance.get_runs(
        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, status=status, job_name=job
    )
    if any(r.status is RunStatus.STARTED for r in runs) and instance.mark_dead_runs():
        # a run shown as running is running: those whose process died are failed first
        runs = instance.get_runs(
            limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, status=status, job_name=job
        )
    now = time.time()
    filters = {"status": status.value if status else "", "job": job or ""}

    def page_url(n: int) -> str:
        query = urlencode({k: v for k, v in {**filters, "page": n}.items() if v})
        return f"/runs?{query}" if query else "/runs"

    context = {
        "rows": [_run_row(r, now) for r in runs],
        "statuses": [(s.value, _status_label(s)) for s in RunStatus],
        "jobs": instance.job_names(),
        "status": filters["status"],
        "job": filters["job"],
        "page": page,
        "total": total,
        "first": (page - 1) * PAGE_SIZE + 1 if runs else 0,
        "last": (page - 1) * PAGE_SIZE + len(runs),
        "newer": page_url(page - 1) if page > 1 else None,
        "older": page_url(page + 1) if page < last_page else None,
        "problems": problems,
    }
    return _app.render(request, "runs_list.html", context)


# -- one run ------------------------------------------------------------------------------------


def _resolve(request: Request) -> RunRecord | Response:
    """The run the path names by its id or a unique prefix of it; a redirect to the full id
    for a prefix, a page listing the candidates when several runs match."""
    instance = _instance(request)
    given: str = request.path_params["run_id"]
    run = instance.get_run(given)
    if run is not None:
        return run
    matches = instance.get_runs(run_id_prefix=given, limit=21) if given else []
    if not matches:
        raise _app.not_found(f"no run {given!r} in this instance")
    if len(matches) == 1:
        path: str = request.scope["path"]
        target = f"/runs/{matches[0].run_id}{path[len('/runs/') + len(given) :]}"
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(target, status_code=307)
    now = time.time()
    context = {
        "prefix": given,
        "rows": [_run_row(r, now) for r in matches[:20]],
        "more": len(matches) > 20,
    }
    return _app.render(request, "run_ambiguous.html", context, status_code=300)


def _job_link(request: Request, name: str) -> str | None:
    current = _app.loaded(request)
    if name in current.flows:
        return f"/definitions/flows/{name}"
    defs = current.defs
    if defs is not None and any(j.name == name for j in defs.jobs):
        return f"/definitions/jobs/{name}"
    return None


_CANCEL_MESSAGES = {
    RunSignal.SENT: "Cancel requested: the run's process got SIGTERM. It stops its steps, closes "
    "its resources and records the run CANCELED.",
    RunSignal.NO_RUN: "This run is not in the instance.",
    RunSignal.NOT_STARTED: "The run has not started (it is queued): no process runs it yet, so "
    "there is nothing to stop.",
    RunSignal.FINISHED: "The run already finished: there is nothing to cancel.",
    RunSignal.ELSEWHERE: "The run's process ({where}) runs on another host (or in another "
    "container): it cannot be signalled from here. Cancel it where it runs.",
    RunSignal.GONE: "The run's process ({where}) no longer exists: the run was marked FAILURE.",
    RunSignal.UNVERIFIED: "Process {where} exists, but nothing proves it is still the run's "
    "process (no process identity was recorded and its heartbeat is old): it was not "
    "signalled, in case its pid now belongs to another program.",
    RunSignal.DENIED: "The run's process ({where}) belongs to another user: it cannot be "
    "signalled from here.",
    RunSignal.OWN_PROCESS: "The run runs inside this UI's own process: stopping it would stop "
    "the UI.",
}


def _header(request: Request, run: RunRecord, now: float) -> dict[str, Any]:
    end = run.end_time if run.end_time is not None else (now if run.start_time else None)
    cancel = request.query_params.get("cancel", "")
    where = f"pid {run.pid} on {run.host}" if run.pid is not None else "unknown"
    message = None
    if cancel in RunSignal.__members__:
        message = _CANCEL_MESSAGES[RunSignal(cancel)].format(where=where)
    return {
        "run": run,
        "status": run.status.value,
        "label": _status_label(run.status),
        "job_link": _job_link(request, run.job_name),
        "started": _when(run.start_time),
        "ended": _when(run.end_time),
        "duration": _duration(run.start_time, end),
        "process": where if run.pid is not None else "",
        "cancelable": run.status is RunStatus.STARTED,
        "cancel_message": message,
        "cancel_ok": cancel == RunSignal.SENT.value,
        "live": not run.status.is_finished,
    }


def _fresh(instance: Instance, run: RunRecord) -> RunRecord:
    """The run as it is now, after failing it if its process died (so a run shown running is
    running)."""
    if run.status is RunStatus.STARTED and run.run_id in instance.mark_dead_runs():
        return instance.get_run(run.run_id) or run
    return run


def _events_context(
    run: RunRecord, events: list[EventRecord], cursor: int, filters: _EventFilter
) -> dict[str, Any]:
    start = run.start_time or (events[0].timestamp if events else 0.0)
    rows = [_event_row(e, start) for e in events]
    return {
        "rows": [r for r in rows if filters.keep(r)],
        "cursor": cursor,
        "filters": filters,
        "poll_url": f"/runs/{run.run_id}/events?{filters.query(after=cursor)}",
        "live": not run.status.is_finished,
    }


def run_page(request: Request) -> Response:
    """``/runs/{run_id}``: a run's status, config, tags, events and timeline."""
    resolved = _resolve(request)
    if isinstance(resolved, Response):
        return resolved
    instance = _instance(request)
    run = _fresh(instance, resolved)
    events, cursor = instance.events_after(run.run_id, 0)
    filters = _EventFilter.of(request)
    now = time.time()
    steps = sorted({e.step_key for e in events if e.step_key})
    config = (
        None
        if run.run_config in (None, {})
        else yaml.safe_dump(run.run_config, sort_keys=False, allow_unicode=True)
    )
    context = {
        "run": run,
        "header": _header(request, run, now),
        "config": config,
        "tags": sorted(run.tags.items()),
        "steps": steps,
        "types": [t.value for t in EventType],
        "levels": LEVELS,
        "timeline": _timeline(run, events, now),
        **_events_context(run, events, cursor, filters),
    }
    return _app.render(request, "run.html", context)


def run_events(request: Request) -> Response:
    """``/runs/{run_id}/events``: the event log (filtered); with ``after=CURSOR``, only the
    rows of newer events, the next poller and the refreshed header (out of band)."""
    resolved = _resolve(request)
    if isinstance(resolved, Response):
        return resolved
    instance = _instance(request)
    run = _fresh(instance, resolved)  # the status before the events: none missed at the end
    filters = _EventFilter.of(request)
    after = request.query_params.get("after")
    try:
        cursor = max(int(after), 0) if after is not None else 0
    except ValueError:
        cursor = 0
    events, new_cursor = instance.events_after(run.run_id, cursor)
    context = {
        "run": run,
        "header": _header(request, run, time.time()),
        "incremental": after is not None,
        **_events_context(run, events, new_cursor, filters),
    }
    if after is None:  # the whole table (the filter form's target)
        context["steps"] = sorted({e.step_key for e in events if e.step_key})
    return _app.render(request, "run_events.html", context)


def _timeline(run: RunRecord, events: list[EventRecord], now: float) -> Any:
    timeline = build_timeline(
        events,
        now=now,
        finished=run.status.is_finished,
        run_start=run.start_time,
        run_end=run.end_time,
    )
    return {"svg": timeline_svg(timeline), "empty": not timeline.lanes, "live": timeline.live}


def run_timeline(request: Request) -> Response:
    """``/runs/{run_id}/timeline``: the timeline fragment (it polls itself while the run
    goes)."""
    resolved = _resolve(request)
    if isinstance(resolved, Response):
        return resolved
    instance = _instance(request)
    run = _fresh(instance, resolved)
    events, _ = instance.events_after(run.run_id, 0)
    context = {"run": run, "timeline": _timeline(run, events, time.time())}
    return _app.render(request, "run_timeline.html", context)


def cancel_run(request: Request) -> Response:
    """``POST /runs/{run_id}/cancel``: SIGTERM to the run's process when it is alive on this
    host (and is the run's process); back to the run's page, which says what happened."""
    resolved = _resolve(request)
    if isinstance(resolved, Response):
        return resolved
    instance = _instance(request)
    outcome = instance.signal_run(resolved.run_id)
    if outcome is RunSignal.GONE:
        instance.mark_dead_runs()
    return RedirectResponse(
        f"/runs/{resolved.run_id}?{urlencode({'cancel': outcome.value})}", status_code=303
    )


routes: list[BaseRoute] = [
    Route("/runs", runs_list),
    Route("/runs/{run_id}", run_page),
    Route("/runs/{run_id}/events", run_events),
    Route("/runs/{run_id}/timeline", run_timeline),
    Route("/runs/{run_id}/cancel", cancel_run, methods=["POST"]),
]
"""The runs section's pages and fragments."""
