"""A run's timeline: steps and resource spans from its events (:func:`build_timeline`), drawn
as a server-side SVG Gantt chart (:func:`timeline_svg`). Pure: no web framework, no I/O.

Steps span STEP_START to STEP_SUCCESS / STEP_FAILURE (a STEP_SKIPPED is a mark; STEP_RETRY
marks where an attempt failed). A resource spans its open (RESOURCE_OPEN's time less its
duration: the time it took to open) to its close (RESOURCE_CLOSE), the opening and closing
drawn darker; a RESOURCE_FAILURE ends a span (a failed close) or is a failed open. A resource
with nothing to tear down records no close: once the run ended, its span is drawn to the end.
Resources are grouped by the process that opened them: the coordinator (events with no place in
their message) or a worker (``pid N``, as the multiprocess and Dask workers record it). A span
still open is drawn to ``now`` while the run goes (to the run's end once it ended).

Every user string in the SVG is escaped.

Example:
    >>> from outfitter._instance import EventRecord, EventType as E
    >>> def ev(i, t, kind, step=None, res=None, msg="", dur=None):
    ...     return EventRecord(i, "r", t, kind, step, res, msg, dur, None)
    >>> events = [ev(1, 10.0, E.RUN_START), ev(2, 10.5, E.RESOURCE_OPEN, res="db", dur=0.5),
    ...           ev(3, 10.6, E.STEP_START, step="load"), ev(4, 11.0, E.STEP_SUCCESS, step="load")]
    >>> timeline = build_timeline(events, now=12.0, finished=False)
    >>> [(lane.name, [row.label for row in lane.rows]) for lane in timeline.lanes]
    [('Steps', ['load']), ('Resources · coordinator', ['db'])]
    >>> db = timeline.lanes[1].rows[0].spans[0]
    >>> db.start, db.ready, db.end, db.status
    (10.0, 10.5, None, 'OPEN')
    >>> "<svg" in timeline_svg(timeline)
    True
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from .._instance import EventRecord, EventType

__all__ = ["Lane", "Row", "Span", "Timeline", "build_timeline", "process_of", "timeline_svg"]

COORDINATOR = "coordinator"
_WHERE = re.compile(r"pid (\d+)(?: on (\S+))?")
_STEP_END = {
    EventType.STEP_SUCCESS: "SUCCESS",
    EventType.STEP_FAILURE: "FAILURE",
}
_RUN_END = (EventType.RUN_SUCCESS, EventType.RUN_FAILURE, EventType.RUN_CANCELED)


@dataclass
class Span:
    """One bar: a step's run or a resource's life. ``ready`` is when a resource finished
    opening and ``closing`` when it began to close (None for steps); ``end`` is None while
    it is still open."""

    kind: str
    key: str
    start: float
    end: float | None
    status: str
    ready: float | None = None
    closing: float | None = None
    retries: list[float] = field(default_factory=list)
    detail: str = ""


@dataclass
class Row:
    """One line of the chart: a step, or a resource in one process (a second line when its
    spans overlap, e.g. a step-scoped resource opened by two concurrent steps)."""

    label: str
    spans: list[Span] = field(default_factory=list)


@dataclass
class Lane:
    """A group of rows: the steps, or the resources one process opened."""

    name: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class Timeline:
    """The run's lanes between ``start`` and ``end`` (epoch seconds); ``live`` while the run
    goes (open spans then end at ``end``, which is now)."""

    start: float
    end: float
    lanes: list[Lane]
    live: bool


def process_of(message: str) -> str:
    """Which process an event's message says it came from: ``pid N`` (``pid N on HOST``) for a
    worker, the coordinator when it names none.

    Example:
        >>> process_of("pid 42"), process_of(""), process_of("pid 7 on box ValueError: x")
        ('pid 42', 'coordinator', 'pid 7 on box')
    """
    match = _WHERE.match(message)
    return COORDINATOR if match is None else match.group(0)


def _step_process(event: EventRecord) -> str | None:
    """The process a step event names in its data, if the engine records one."""
    data = event.data
    if isinstance(data, dict) and isinstance(data.get("pid"), int):
        return f"pid {data['pid']}"
    return None


class _Builder:
    def __init__(self) -> None:
        self.steps: dict[str, list[Span]] = {}
        self.step_lane: dict[str, str] = {}
        self.open_steps: dict[str, Span] = {}
        self.resources: dict[str, dict[str, list[Span]]] = {}
        self.open_resources: dict[tuple[str, str], list[Span]] = {}

    def step(self, event: EventRecord) -> None:
        key = event.step_key or "?"
        kind, ts = event.event_type, event.timestamp
        where = _step_process(event)
        if where is not None:
            self.step_lane[key] = where
        if kind is EventType.STEP_START:
            span = Span("step", key, ts, None, "RUNNING")
            self.open_steps[key] = span
            self.steps.setdefault(key, []).append(span)
        elif kind is EventType.STEP_RETRY:
            self._open_step(key, ts - (event.duration or 0.0)).retries.append(ts)
        elif kind in _STEP_END:
            # its start was not recorded (or not yet read): it began its duration before
            span = self._open_step(key, ts - (event.duration or 0.0))
            del self.open_steps[key]
            span.end, span.status = ts, _STEP_END[kind]
            span.detail = event.message
        elif kind is EventType.STEP_SKIPPED:
            self.steps.setdefault(key, []).append(
                Span("step", key, ts, ts, "SKIPPED", detail=event.message)
            )

    def _open_step(self, key: str, start: float) -> Span:
        span = self.open_steps.get(key)
        if span is None:
            span = Span("step", key, start, None, "RUNNING")
            self.open_steps[key] = span
            self.steps.setdefault(key, []).append(span)
        return span

    def resource(self, event: EventRecord) -> None:
        key = event.resource_key or "?"
        where = process_of(event.message)
        ts, took = event.timestamp, event.duration or 0.0
        spans = self.resources.setdefault(where, {}).setdefault(key, [])
        open_now = self.open_resources.setdefault((where, key), [])
        if event.event_type is EventType.RESOURCE_OPEN:
            span = Span("resource", key, ts - took, None, "OPEN", ready=ts)
            spans.append(span)
            open_now.append(span)
        elif open_now:  # a close, or a failed close, of the last one opened
            span = open_now.pop()
            span.end, span.closing = ts, ts - took
            if event.event_type is EventType.RESOURCE_FAILURE:
                span.status, span.detail = "FAILURE", _failure_text(event)
            else:
                span.status = "CLOSED"
        elif event.event_type is EventType.RESOURCE_FAILURE:  # it failed to open
            spans.append(Span("resource", key, ts - took, ts, "FAILURE", ready=ts, closing=ts))
            spans[-1].detail = _failure_text(event)


def _failure_text(event: EventRecord) -> str:
    data = event.data
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return event.message


def _rows(label: str, spans: list[Span]) -> list[Row]:
    """Spans into rows, a new row when a span starts before the previous one in that row
    ended (open spans end at infinity)."""
    rows: list[Row] = []
    ends: list[float] = []
    for span in sorted(spans, key=lambda s: s.start):
        for i, end in enumerate(ends):
            if span.start >= end:
                rows[i].spans.append(span)
                ends[i] = span.end if span.end is not None else float("inf")
                break
        else:
            rows.append(Row(label if not rows else f"{label} #{len(rows) + 1}", [span]))
            ends.append(span.end if span.end is not None else float("inf"))
    return rows


def build_timeline(
    events: Iterable[EventRecord],
    *,
    now: float,
    finished: bool,
    run_start: float | None = None,
    run_end: float | None = None,
) -> Timeline:
    """The timeline of a run from its events. ``now`` ends the spans still open while the
    run goes; once ``finished``, they end at the run's end (``run_end``, else the last event).
    """
    builder = _Builder()
    first: float | None = run_start
    last: float | None = None
    ended: float | None = None
    for event in events:
        ts = event.timestamp
        kind = event.event_type
        begin = ts - (event.duration or 0.0) if kind is not EventType.LOG else ts
        first = begin if first is None else min(first, begin)
        last = ts if last is None else max(last, ts)
        if kind in _RUN_END:
            ended = ts
        elif kind.value.startswith("STEP_"):
            builder.step(event)
        elif kind.value.startswith("RESOURCE_"):
            builder.resource(event)
    start = first if first is not None else now
    end = run_end or ended or last or start if finished else max(now, last or start)
    if finished:  # what was left open stopped with the run (canceled, or a crash)
        for span in builder.open_steps.values():
            span.status = "INCOMPLETE"
        for spans in builder.open_resources.values():
            for span in spans:  # nothing to tear down (no close is recorded), or never closed
                span.status, span.detail = "HELD", "no close recorded: held until the run ended"
    lanes: list[Lane] = []
    step_lanes: dict[str, Lane] = {}
    for key, spans in builder.steps.items():
        name = f"Steps · {builder.step_lane[key]}" if key in builder.step_lane else "Steps"
        lane = step_lanes.get(name)
        if lane is None:
            lane = step_lanes[name] = Lane(name)
            lanes.append(lane)
        lane.rows.extend(_rows(key, spans))
    processes = sorted(builder.resources, key=lambda w: (w != COORDINATOR, _pid_order(w)))
    for where in processes:
        lane = Lane(f"Resources · {where}")
        for key, spans in builder.resources[where].items():
            lane.rows.extend(_rows(key, spans))
        lanes.append(lane)
    return Timeline(start, max(end, start), lanes, live=not finished)


def _pid_order(where: str) -> tuple[int, str]:
    match = _WHERE.match(where)
    return (int(match.group(1)), where) if match else (0, where)


# -- drawing ----------------------------------------------------------------------------------

_LABEL_W = 230
_CHART_W = 760
_ROW_H = 20
_LANE_H = 22
_AXIS_H = 24
_COLORS = {
    "SUCCESS": "#1f8a4c",
    "FAILURE": "#c62828",
    "RUNNING": "#2f5fd0",
    "SKIPPED": "#9aa3ad",
    "INCOMPLETE": "#b26a00",
    "OPEN": "#7b5cc4",
    "CLOSED": "#7b5cc4",
    "HELD": "#7b5cc4",
}


def _seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1e3:.0f} ms"
    if value < 120:
        return f"{value:.2f} s"
    return f"{value / 60:.1f} min"


def _tick_step(total: float) -> float:
    for step in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60):
        if total / step <= 8:
            return step
    return 60 * max(1, round(total / 8 / 60))


def _title(span: Span, now: float) -> str:
    end = span.end if span.end is not None else now
    parts = [f"{span.key}: {span.status.lower()}", _seconds(max(end - span.start, 0.0))]
    if span.ready is not None and span.ready > span.start:
        parts.append(f"opened in {_seconds(span.ready - span.start)}")
    if span.closing is not None and span.end is not None and span.end > span.closing:
        parts.append(f"closed in {_seconds(span.end - span.closing)}")
    if span.retries:
        parts.append(f"{len(span.retries)} retr{'y' if len(span.retries) == 1 else 'ies'}")
    text = ", ".join(parts)
    return f"{text}\n{span.detail}" if span.detail else text


def timeline_svg(timeline: Timeline) -> Markup:
    """The timeline as an SVG document (every label and tooltip escaped)."""
    total = max(timeline.end - timeline.start, 1e-3)
    scale = _CHART_W / total

    def x(t: float) -> float:
        return _LABEL_W + max(0.0, min(t - timeline.start, total)) * scale

    out: list[str] = []
    y = _AXIS_H
    for lane in timeline.lanes:
        out.append(
            f'<text class="lane" x="4" y="{y + 15}" font-weight="600">{escape(lane.name)}</text>'
        )
        y += _LANE_H
        for row in lane.rows:
            out.append(
                f'<text class="row" x="14" y="{y + 14}"><title>{escape(row.label)}</title>'
                f"{escape(_clip(row.label))}</text>"
            )
            for span in row.spans:
                out.append(_bar(span, x, y, timeline.end))
            y += _ROW_H
    height = y + 6
    axis = [
        f'<line x1="{_LABEL_W}" y1="{_AXIS_H - 4}" x2="{_LABEL_W + _CHART_W}" '
        f'y2="{_AXIS_H - 4}" stroke="#d9dee5"/>'
    ]
    step = _tick_step(total)
    tick = 0.0
    while tick <= total + 1e-9:
        tx = _LABEL_W + tick * scale
        axis.append(
            f'<line x1="{tx:.1f}" y1="{_AXIS_H - 4}" x2="{tx:.1f}" y2="{height}" '
            f'stroke="#eef0f3"/><text x="{tx:.1f}" y="{_AXIS_H - 8}" font-size="10" '
            f'fill="#5f6b7a" text-anchor="middle">{_seconds(tick) if tick else "0"}</text>'
        )
        tick += step
    width = _LABEL_W + _CHART_W + 20
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" font-size="12" '
        f'font-family="system-ui, sans-serif" aria-label="run timeline">'
        + "".join(axis)
        + "".join(out)
        + "</svg>"
    )


def _clip(label: str, limit: int = 32) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _bar(span: Span, x: Any, y: int, now: float) -> str:
    end = span.end if span.end is not None else now
    x0, x1 = x(span.start), x(end)
    w = max(x1 - x0, 2.0)
    color = _COLORS.get(span.status, "#8a8f98")
    live = span.status in ("OPEN", "RUNNING")
    title = f"<title>{escape(_title(span, now))}</title>"
    classes = f"span {span.kind} {span.status}"
    parts = [
        f'<g class="{classes}" data-key="{escape(span.key)}">{title}'
        f'<rect x="{x0:.1f}" y="{y + 3}" width="{w:.1f}" height="{_ROW_H - 6}" rx="2" '
        f'fill="{color}" fill-opacity="{0.45 if span.kind == "resource" else 0.9}"'
        + (' stroke-dasharray="3 2" stroke="#2f5fd0"' if live else "")
        + "/>"
    ]
    if span.kind == "resource":  # opening and closing drawn solid
        if span.ready is not None and span.ready > span.start:
            rw = max(x(span.ready) - x0, 1.0)
            parts.append(
                f'<rect x="{x0:.1f}" y="{y + 3}" width="{rw:.1f}" height="{_ROW_H - 6}" '
                f'fill="{color}"/>'
            )
        if span.closing is not None and span.end is not None and span.end > span.closing:
            cx = x(span.closing)
            parts.append(
                f'<rect x="{cx:.1f}" y="{y + 3}" width="{max(x1 - cx, 1.0):.1f}" '
                f'height="{_ROW_H - 6}" fill="{color}"/>'
            )
    for retry in span.retries:
        rx = x(retry)
        parts.append(
            f'<line class="retry" x1="{rx:.1f}" y1="{y + 1}" x2="{rx:.1f}" y2="{y + _ROW_H - 1}" '
            f'stroke="#b26a00" stroke-width="2"/>'
        )
    parts.append("</g>")
    return "".join(parts)
