"""The daemon: evaluates running sensors on their interval and schedules on their cron, launches
the runs they request, and records ticks, cursors and run keys in the instance.

- A ``(sensor, run_key)`` launches at most once and is never lost, across crashes and restarts
  too: the key is claimed in the same SQLite transaction that creates the run it launches (so a
  kill -9 at any moment leaves both or neither), and a sensor's cursor (a schedule's last tick)
  moves on only once every request of its evaluation was launched or found already launched;
  after a crash, the next evaluation asks again for what was not launched.
- Each sensor and schedule is isolated: whatever one raises (its function, its cron, its
  timezone, a request that cannot launch) is recorded as a FAILURE tick, and the daemon goes on
  with the others.
- SIGTERM / Ctrl-C let the current tick finish, with the runs it launches (they do not cancel:
  the daemon tells them it handles SIGTERM itself), then process-scoped resources close. A
  second signal cancels the runs in flight.
- Every tick first records as FAILURE the runs whose process died (``mark_dead_runs``).

:func:`preview` evaluates one sensor without launching or storing anything (``outfitter sensors
preview`` and the UI's preview both use it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
import sqlite3
import textwrap
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._config.redaction import Redactor
from ._definitions.definitions import Definitions
from ._definitions.job import JobDefinition
from ._definitions.sensors import (
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
)
from ._execution.heartbeat import host_handles_sigterm
from ._instance import Instance, RunRecord, RunStatus
from ._resources.bindings import resource_bindings
from ._resources.markers import Scope
from ._resources.scope import PROCESS_SCOPE, RunScope
from .exceptions import DefinitionError

__all__ = ["Daemon", "Preview", "PreviewLog", "PreviewRequest", "preview"]

_LOG = logging.getLogger("outfitter.daemon")

Definition = SensorDefinition | ScheduleDefinition

_REPEAT_FAILURE_AFTER = 60.0
"""Seconds before the same scheduling failure of a definition is recorded as a tick again
(a broken cron would otherwise add a tick at every poll)."""

_CATCH_UP = 1000
"""Cron slots stepped through one by one to find a schedule's latest due slot; beyond that,
the latest slot is found from the current time."""


class _KeyTaken(Exception):
    """The run key was claimed (its run created) by someone else meanwhile."""


class _KeyedLaunch:
    """The instance a keyed request's run records in: creating the run claims its key in the
    same transaction (it raises :class:`_KeyTaken` instead when the key already launched a
    run). The run is created STARTED, stamped with this process, so no crash leaves a claimed
    key whose run never started and no one will mark dead."""

    def __init__(self, instance: Instance, name: str, run_key: str) -> None:
        self._instance = instance
        self._name = name
        self._run_key = run_key

    def create_run(
        self,
        job_name: str,
        *,
        run_config: Any = None,
        tags: dict[str, str] | None = None,
        **_: Any,
    ) -> RunRecord:
        record = self._instance.create_run_for_key(
            self._name,
            self._run_key,
            job_name,
            run_config=run_config,
            tags=tags,
            status=RunStatus.STARTED,
        )
        if record is None:
            raise _KeyTaken(self._run_key)
        return record

    def __getattr__(self, name: str) -> Any:
        return getattr(self._instance, name)


class _Masking(logging.Filter):
    """Masks a record's text (its message with the arguments, and its traceback) with
    ``redactor`` before handlers format it."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor(_log_text(record))
        record.args = None
        record.exc_info = None
        record.exc_text = None
        return True


class Daemon:
    """Evaluates the sensors and schedules of ``defs`` against ``instance``.

    ``clock`` returns the current time in epoch seconds (tests pass a controllable one).

    It logs to the ``outfitter.daemon`` logger: each launched run at INFO (the sensor or
    schedule, its run key, the run id and how the run ended), each failed tick once at ERROR
    with its reason, telling an evaluation that raised from requests that could not launch
    (their config problems listed); tracebacks only with ``debug=True``.

    Example:
        >>> from outfitter import Definitions, Instance
        >>> from outfitter._daemon import Daemon
        >>> with Instance.ephemeral() as instance:
        ...     Daemon(Definitions(), instance).tick()
        []
    """

    def __init__(
        self,
        defs: Definitions,
        instance: Instance,
        *,
        clock: Callable[[], float] = time.time,
        poll_interval: float = 1.0,
        debug: bool = False,
    ) -> None:
        self.defs = defs
        self.instance = instance
        self.clock = clock
        self.poll_interval = poll_interval
        self.debug = debug
        self._stop = threading.Event()
        self._failures: dict[str, tuple[str, float]] = {}  # name -> last failure recorded, when
        self.bindings = resource_bindings(defs._resources)
        self.process_scope = RunScope(self.bindings, level=Scope.PROCESS)

    # -- control -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to end after the current tick."""
        self._stop.set()

    def run(self, max_ticks: int | None = None) -> None:
        """Tick until stopped, then close process-scoped resources.

        In the main thread, SIGTERM and Ctrl-C stop the loop after the current tick, whose runs
        finish first; a second signal cancels the runs in flight (KeyboardInterrupt)."""
        handlers: dict[signal.Signals, Any] = {}
        hosting: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                handlers[sig] = signal.signal(sig, self._on_signal)
            hosting = host_handles_sigterm()
        try:
            with hosting:
                ticks = 0
                while not self._stop.is_set():
                    self.tick()
                    ticks += 1
                    if max_ticks is not None and ticks >= max_ticks:
                        break
                    self._stop.wait(self.poll_interval)
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            self.close()

    def _on_signal(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self._stop.is_set():
            raise KeyboardInterrupt(f"{name} received twice: canceling the runs in flight")
        _LOG.warning(
            "%s received: finishing the current tick and its runs, then stopping "
            "(send it again to cancel the runs in flight)",
            name,
        )
        self.stop()

    def close(self) -> None:
        """Close process-scoped resources."""
        self.process_scope.close()

    # -- one pass --------------------------------------------------------------------------------

    def tick(self) -> list[str]:
        """Evaluate every due sensor and schedule once; returns the ids of launched runs."""
        try:
            self.instance.mark_dead_runs()
        except sqlite3.Error as exc:  # the runs stay as they are until the next tick
            _LOG.warning("could not check for dead runs: %s", exc)
        launched: list[str] = []
        now = self.clock()
        token = PROCESS_SCOPE.set(self.process_scope)  # runs launched here share it
        try:
            definitions: list[Definition] = [*self.defs.sensors, *self.defs.schedules]
            for definition in definitions:
                launched += self._isolated(definition, now)
        finally:
            PROCESS_SCOPE.reset(token)
        return launched

    def _isolated(self, definition: Definition, now: float) -> list[str]:
        """One sensor or schedule's turn: whatever it raises outside its evaluation (reading
        its state, its cron, its timezone) is a FAILURE tick, and the others go on."""
        try:
            if isinstance(definition, ScheduleDefinition):
                return self._schedule(definition, now)
            return self._sensor(definition, now)
        except (Exception, SystemExit) as exc:
            error = f"{type(exc).__name__}: {exc}"
            last = self._failures.get(definition.name)
            if last is None or last[0] != error or now - last[1] >= _REPEAT_FAILURE_AFTER:
                self._failures[definition.name] = (error, now)
                _LOG.error(
                    "%s %r: tick failed: %s",
                    definition.kind,
                    definition.name,
                    error,
                    exc_info=exc if self.debug else None,
                )
                with contextlib.suppress(Exception):  # the instance itself may be what fails
                    self.instance.record_tick(
                        definition.name,
                        definition.kind,
                        timestamp=now,
                        status="FAILURE",
                        error=error,
                    )
            return []

    def _state(self, definition: Definition) -> Any:
        state = self.instance.get_instigator(definition.name)
        if state is None:
            state = self.instance.set_instigator(
                definition.name, definition.kind, default_status=definition.default_status
            )
        return state

    def _log(self, name: str) -> logging.Logger:
        """The ``context.log`` of sensor or schedule ``name``: ``outfitter.daemon.<name>``
        (printed wherever the daemon's own lines go), its records masked with the secrets the
        evaluations resolved before any handler sees them."""
        logger = logging.getLogger(f"{_LOG.name}.{name}")
        if not any(isinstance(f, _Masking) for f in logger.filters):
            logger.addFilter(_Masking(self.process_scope.redactor))
        return logger

    def _sensor(self, sensor_def: SensorDefinition, now: float) -> list[str]:
        state = self._state(sensor_def)
        if state.status != "RUNNING":
            return []
        last = state.last_tick_time
        if last is not None and now - last < sensor_def.minimum_interval_seconds:
            return []
        ticks = self.instance.get_ticks(sensor_def.name, limit=1)
        context = SensorEvaluationContext(
            sensor_name=sensor_def.name,
            cursor=state.cursor,
            last_tick=ticks[0] if ticks else None,
            instance=self.instance,
            log=self._log(sensor_def.name),
        )
        run_ids = self._evaluate(sensor_def, context, now)
        # only now: a crash before this line evaluates the same cursor again
        self.instance.set_instigator(
            sensor_def.name,
            "sensor",
            cursor=context.cursor if context.cursor_updated else None,
            last_tick_time=now,
        )
        return run_ids

    def _schedule(self, schedule_def: ScheduleDefinition, now: float) -> list[str]:
        state = self._state(schedule_def)
        if state.status != "RUNNING":
            return []
        if state.last_tick_time is None:  # just started: begin from now, no backfill
            self.instance.set_instigator(schedule_def.name, "schedule", last_tick_time=now)
            return []
        due = _latest_due(schedule_def, state.last_tick_time, now)
        if due is None:
            return []
        context = ScheduleEvaluationContext(
            schedule_name=schedule_def.name,
            scheduled_execution_time=due,
            instance=self.instance,
            log=self._log(schedule_def.name),
        )
        run_ids = self._evaluate(schedule_def, context, due.timestamp())
        self.instance.set_instigator(schedule_def.name, "schedule", last_tick_time=due.timestamp())
        return run_ids

    def _evaluate(self, definition: Definition, context: Any, timestamp: float) -> list[str]:
        name, kind = definition.name, definition.kind
        try:
            result = definition.evaluate(
                context, resources=self.bindings, parent=self.process_scope
            )
        except (Exception, SystemExit) as exc:
            _LOG.error(
                "%s %r: tick failed: evaluation raised %s: %s",
                kind,
                name,
                type(exc).__name__,
                exc,
                exc_info=exc if self.debug else None,
            )
            self.instance.record_tick(
                name,
                kind,
                timestamp=timestamp,
                status="FAILURE",
                error=f"{type(exc).__name__}: {exc}",
                cursor=getattr(context, "cursor", None),
            )
            return []
        cursor = getattr(context, "cursor", None)
        if isinstance(result, SkipReason):
            self.instance.record_tick(
                name,
                kind,
                timestamp=timestamp,
                status="SKIPPED",
                skip_reason=result.message,
                cursor=cursor,
            )
            return []
        run_ids: list[str] = []
        errors: list[str] = []
        for request in result:  # one request that cannot launch does not stop the others
            try:
                run_id = self._launch(definition, request)
            except (Exception, SystemExit) as exc:
                errors.append(f"run request {request.run_key!r}: {type(exc).__name__}: {exc}")
                if self.debug:
                    _LOG.debug("run request %r of %s %r", request.run_key, kind, name, exc_info=exc)
                continue
            if run_id is None:
                _LOG.debug("%s %r: run key %r already launched a run", kind, name, request.run_key)
                continue
            run_ids.append(run_id)
            record = self.instance.get_run(run_id)
            _LOG.info(
                "%s %r launched run %s (run key %r): %s",
                kind,
                name,
                run_id,
                request.run_key,
                record.status.value if record is not None else "unknown",
            )
        if errors:
            _LOG.error(
                "%s %r: tick failed: %d of %d run request(s) could not launch:\n%s",
                kind,
                name,
                len(errors),
                len(result),
                "\n".join(textwrap.indent(e, "  ") for e in errors),
            )
        if errors:
            status, reason = "FAILURE", None
        elif run_ids:
            status, reason = "SUCCESS", None
        else:
            status = "SKIPPED"
            reason = "every requested run_key was already launched" if result else None
            reason = reason or "no run requested"
        self.instance.record_tick(
            name,
            kind,
            timestamp=timestamp,
            status=status,
            run_ids=run_ids,
            skip_reason=reason,
            error="; ".join(errors) or None,
            cursor=cursor,
        )
        return run_ids

    def _job(self, definition: Definition, request: RunRequest) -> JobDefinition:
        return _requested_job(self.defs, definition, request)

    def _launch(self, definition: Definition, request: RunRequest) -> str | None:
        """Launch one request and wait for its run; None if its run_key already launched a
        run. A request the launch refuses (invalid config) raises, and claims nothing."""
        key = request.run_key
        instance: Any = self.instance
        if key is not None:
            if self.instance.run_key_run(definition.name, key) is not None:
                return None  # cheap; the claim itself is what guarantees at most once
            instance = _KeyedLaunch(self.instance, definition.name, key)
        tags = {**dict(request.tags), definition.kind: definition.name}
        if key is not None:
            tags["run_key"] = key
        job = self._job(definition, request)
        try:
            if request.asset_selection is not None:
                from ._execution.materialize import materialize

                result = materialize(
                    self.defs.assets,
                    resources=self.defs._resources,
                    run_config=request.run_config,
                    instance=instance,
                    selection=request.asset_selection,
                    raise_on_error=False,
                    tags=tags,
                )
            else:
                result = job.execute(
                    run_config=request.run_config,
                    instance=instance,
                    raise_on_error=False,
                    tags=tags,
                )
        except _KeyTaken:  # another daemon launched it meanwhile
            return None
        return result.run_id


def _requested_job(defs: Definitions, definition: Definition, request: RunRequest) -> JobDefinition:
    """The job ``request`` launches: the one it names (one of the definition's jobs), else the
    definition's only job, else (no job given) a run of all assets."""
    names = definition.job_names
    name = request.job_name
    if name is not None:
        if names and name not in names:
            raise DefinitionError(
                f"{definition.owner} requested a run of job {name!r}, which is not one of its "
                f"jobs ({', '.join(names)})",
                hint=f"add it to jobs=[...] of the {definition.kind}, or fix the name.",
            )
        return defs.get_job_def(name)
    if len(names) > 1:
        # sensor_definition.py: a sensor with several jobs needs RunRequest(job_name=...)
        raise DefinitionError(
            f"{definition.owner} targets several jobs ({', '.join(names)}) and a RunRequest "
            "does not say which",
            hint="return RunRequest(job_name='...', ...) naming one of them.",
        )
    if names:
        return defs.get_job_def(names[0])
    return defs.get_implicit_global_asset_job_def()


def _latest_due(schedule_def: ScheduleDefinition, last: float, now: float) -> dt.datetime | None:
    """The latest cron slot after ``last`` and at or before ``now``, or None (schedules do not
    backfill: only the latest due slot runs)."""
    moment = dt.datetime.fromtimestamp(last, dt.UTC)
    due = None
    nxt = schedule_def.next_after(moment)
    for _ in range(_CATCH_UP):
        if nxt.timestamp() > now:
            return due
        due = nxt
        nxt = schedule_def.next_after(nxt)
    # stopped for a long time: find the latest slot from now instead of stepping to it
    from croniter import croniter

    local = dt.datetime.fromtimestamp(now, dt.UTC).astimezone(schedule_def.timezone())
    latest: dt.datetime = croniter(schedule_def.cron_schedule, local).get_prev(dt.datetime)
    following = schedule_def.next_after(latest)
    return following if following.timestamp() <= now else latest


# -- preview --------------------------------------------------------------------------------------

_OUTFITTER_DIR = str(Path(__file__).resolve().parent)


@dataclass(frozen=True)
class PreviewRequest:
    """One run a previewed sensor asked for, safe to show: ``run_config`` is plain data with
    ``EnvVar`` values as ``{"env": NAME}`` and every secret masked, like ``tags``."""

    run_key: str | None
    run_config: Any
    tags: dict[str, str]
    asset_selection: list[str] | None = None


@dataclass(frozen=True)
class PreviewLog:
    """One line the sensor logged through ``context.log`` (INFO and above), secrets masked."""

    level: str
    message: str


@dataclass(frozen=True)
class Preview:
    """What one evaluation of a sensor returned, nothing of it launched or stored: its run
    requests, or its skip reason, or the error it raised (``error``: type and message;
    ``traceback``: the user's own frames), with what it logged and the cursor it would store.
    Every text is masked with the secrets its resources resolved."""

    name: str
    requests: list[PreviewRequest] = field(default_factory=list)
    skip_reason: str | None = None
    error: str | None = None
    traceback: str = ""
    logs: list[PreviewLog] = field(default_factory=list)
    cursor: str | None = None
    cursor_updated: bool = False
    exception: BaseException | None = field(default=None, repr=False, compare=False)
    """The (masked) exception behind ``error``, for a caller that re-raises it."""


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def preview(defs: Definitions, instance: Instance, name: str, *, debug: bool = False) -> Preview:
    """Evaluate the sensor ``name`` once, with its stored cursor and its resources opened for
    the evaluation (process-scoped ones too) and closed after it, launching nothing and storing
    no cursor or tick. What the sensor raises is returned as ``error`` (re-raised with
    ``debug``); an unknown name raises :class:`~outfitter.exceptions.DefinitionError` with a
    did-you-mean.

    Example:
        >>> from outfitter import Definitions, Instance, RunRequest, sensor
        >>> @sensor
        ... def tables(context):
        ...     context.log.info("found 1 table")
        ...     return RunRequest(run_key="users", tags={"table": "users"})
        >>> with Instance.ephemeral() as instance:
        ...     shown = preview(Definitions(sensors=[tables]), instance, "tables")
        >>> [(r.run_key, r.tags) for r in shown.requests], [line.message for line in shown.logs]
        ([('users', {'table': 'users'})], ['found 1 table'])
    """
    definition: SensorDefinition = defs.get_sensor_def(name)
    bindings = resource_bindings(defs._resources)
    state = instance.get_instigator(definition.name)
    ticks = instance.get_ticks(definition.name, limit=1)
    capture = _Capture()
    log = logging.Logger(f"outfitter.sensor.{definition.name}", logging.INFO)  # outside the tree
    log.addHandler(capture)
    context = SensorEvaluationContext(
        sensor_name=definition.name,
        cursor=state.cursor if state else None,
        last_tick=ticks[0] if ticks else None,
        instance=instance,
        log=log,
    )
    process_scope = RunScope(bindings, level=Scope.PROCESS)
    result: list[RunRequest] | SkipReason = []
    failure: BaseException | None = None
    try:
        with process_scope:
            result = definition.evaluate(context, resources=bindings, parent=process_scope)
    except (Exception, SystemExit) as exc:
        if debug:
            raise
        failure = process_scope.redactor.exception(exc)
    redact = process_scope.redactor  # the evaluation's scopes added what they resolved to it
    logs = [PreviewLog(r.levelname, redact(_log_text(r))) for r in capture.records]
    cursor = redact(context.cursor) if context.cursor is not None else None
    common: dict[str, Any] = {
        "name": definition.name,
        "logs": logs,
        "cursor": cursor,
        "cursor_updated": context.cursor_updated,
    }
    if failure is not None:
        return Preview(
            error=redact(f"{type(failure).__name__}: {failure}"),
            traceback=redact(_user_frames(failure)),
            exception=failure,
            **common,
        )
    if isinstance(result, SkipReason):
        return Preview(skip_reason=redact(result.message), **common)
    return Preview(
        requests=[
            _shown(request, redact, _target_job(defs, definition, request)) for request in result
        ],
        **common,
    )


def _target_job(
    defs: Definitions, definition: SensorDefinition, request: RunRequest
) -> JobDefinition | None:
    """The job a request runs (None when its definitions have none by that name)."""
    try:
        return _requested_job(defs, definition, request)
    except DefinitionError:
        return None


def _shown(request: RunRequest, redact: Redactor, job: JobDefinition | None) -> PreviewRequest:
    from ._config.run_config import RunConfig
    from ._definitions.selection import AssetSelection
    from ._execution.config_check import resolve_target
    from ._execution.launch import record_config
    from ._resources.configurable import redacted_config

    config = request.run_config
    plain = config.to_config_dict() if isinstance(config, RunConfig) else config
    shown = redacted_config(plain)
    if job is not None and plain is not None:
        # as the run's record will keep it: a secret field's value is masked by the schema
        # of the resource or step it configures, also when given as a plain string
        with contextlib.suppress(Exception):
            graph, plan, _ = resolve_target(job, None)
            shown = redacted_config(record_config(plain, plan, graph))
    selection = request.asset_selection
    if isinstance(selection, AssetSelection):  # shown as written: AssetSelection.groups('x')
        selection = [selection]
    return PreviewRequest(
        run_key=redact(request.run_key) if request.run_key is not None else None,
        run_config=redact.value(shown),
        tags={redact(str(k)): redact(str(v)) for k, v in dict(request.tags).items()},
        asset_selection=None if selection is None else [redact(str(s)) for s in selection],
    )


def _log_text(record: logging.LogRecord) -> str:
    try:
        text = record.getMessage()
    except Exception as exc:  # a bad %-format in the sensor's call
        text = f"{record.msg!r} (could not format its arguments: {type(exc).__name__})"
    if record.exc_info:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    return text


def _user_frames(exc: BaseException) -> str:
    """The traceback of ``exc`` without Outfitter's own frames (those of the user's code)."""
    frames = traceback.extract_tb(exc.__traceback__)
    keep = [f for f in frames if not f.filename.startswith(_OUTFITTER_DIR)]
    return "".join(traceback.format_list(keep))
