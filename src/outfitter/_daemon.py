"""The daemon: evaluates running sensors on their interval and schedules on their cron, launches
the runs they request, and records ticks, cursors and run keys in the instance.

A ``(sensor, run_key)`` is launched at most once, across restarts too (keys are claimed in the
instance before the run starts). A sensor that raises records a failed tick and the daemon goes
on. SIGTERM / Ctrl-C let the current tick finish, then process-scoped resources close.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

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
from ._instance import Instance
from ._resources.bindings import resource_bindings
from ._resources.markers import Scope
from ._resources.scope import PROCESS_SCOPE, RunScope

__all__ = ["Daemon"]

_LOG = logging.getLogger("outfitter.daemon")


class Daemon:
    """Evaluates the sensors and schedules of ``defs`` against ``instance``.

    ``clock`` returns the current time in epoch seconds (tests pass a controllable one).

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
    ) -> None:
        self.defs = defs
        self.instance = instance
        self.clock = clock
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self.bindings = resource_bindings(defs._resources)
        self.process_scope = RunScope(self.bindings, level=Scope.PROCESS)

    # -- control -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to end after the current tick."""
        self._stop.set()

    def run(self, max_ticks: int | None = None) -> None:
        """Tick until stopped (SIGTERM / Ctrl-C when in the main thread), then close
        process-scoped resources."""
        handlers: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                handlers[sig] = signal.signal(sig, lambda *_: self.stop())
        try:
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

    def close(self) -> None:
        """Close process-scoped resources."""
        self.process_scope.close()

    # -- one pass --------------------------------------------------------------------------------

    def tick(self) -> list[str]:
        """Evaluate every due sensor and schedule once; returns the ids of launched runs."""
        launched: list[str] = []
        now = self.clock()
        token = PROCESS_SCOPE.set(self.process_scope)  # runs launched here share it
        try:
            for sensor_def in self.defs.sensors:
                launched += self._sensor(sensor_def, now)
            for schedule_def in self.defs.schedules:
                launched += self._schedule(schedule_def, now)
        finally:
            PROCESS_SCOPE.reset(token)
        return launched

    def _state(self, definition: SensorDefinition | ScheduleDefinition) -> Any:
        state = self.instance.get_instigator(definition.name)
        if state is None:
            state = self.instance.set_instigator(
                definition.name, definition.kind, default_status=definition.default_status
            )
        return state

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
            log=_LOG,
        )
        run_ids = self._evaluate(sensor_def, context, now)
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
        moment = dt.datetime.fromtimestamp(state.last_tick_time, dt.UTC)
        due = None
        nxt = schedule_def.next_after(moment)
        while nxt.timestamp() <= now:
            due = nxt
            nxt = schedule_def.next_after(nxt)
        if due is None:
            return []
        context = ScheduleEvaluationContext(
            schedule_name=schedule_def.name,
            scheduled_execution_time=due,
            instance=self.instance,
            log=_LOG,
        )
        run_ids = self._evaluate(schedule_def, context, due.timestamp())
        self.instance.set_instigator(schedule_def.name, "schedule", last_tick_time=due.timestamp())
        return run_ids

    def _evaluate(
        self,
        definition: SensorDefinition | ScheduleDefinition,
        context: Any,
        timestamp: float,
    ) -> list[str]:
        name, kind = definition.name, definition.kind
        try:
            result = definition.evaluate(
                context, resources=self.bindings, parent=self.process_scope
            )
            run_ids: list[str] = []
            if not isinstance(result, SkipReason):
                for request in result:
                    run_id = self._launch(definition, request)
                    if run_id is not None:
                        run_ids.append(run_id)
        except Exception as exc:
            _LOG.exception("%s %r failed", kind, name)
            self.instance.record_tick(
                name,
                kind,
                timestamp=timestamp,
                status="FAILURE",
                error=f"{type(exc).__name__}: {exc}",
                cursor=getattr(context, "cursor", None),
            )
            return []
        if isinstance(result, SkipReason):
            self.instance.record_tick(
                name,
                kind,
                timestamp=timestamp,
                status="SKIPPED",
                skip_reason=result.message,
                cursor=getattr(context, "cursor", None),
            )
        else:
            status = "SUCCESS" if run_ids else "SKIPPED"
            reason = None if run_ids else "every requested run_key was already launched"
            if not result:
                reason = "no run requested"
            self.instance.record_tick(
                name,
                kind,
                timestamp=timestamp,
                status=status,
                run_ids=run_ids,
                skip_reason=reason,
                cursor=getattr(context, "cursor", None),
            )
        return run_ids

    def _job(self, definition: SensorDefinition | ScheduleDefinition) -> JobDefinition:
        name = definition.job_name
        if name is None:
            return self.defs.get_implicit_global_asset_job_def()
        return self.defs.get_job_def(name)

    def _launch(
        self, definition: SensorDefinition | ScheduleDefinition, request: RunRequest
    ) -> str | None:
        key = request.run_key
        if key is not None and not self.instance.claim_run_key(definition.name, key):
            return None
        tags = {**dict(request.tags), definition.kind: definition.name}
        if key is not None:
            tags["run_key"] = key
        try:
            job = self._job(definition)
            if request.asset_selection is not None:
                from ._execution.materialize import materialize

                result = materialize(
                    self.defs.assets,
                    resources=self.defs._resources,
                    run_config=request.run_config,
                    instance=self.instance,
                    selection=request.asset_selection,
                    raise_on_error=False,
                    tags=tags,
                )
            else:
                result = job.execute(
                    run_config=request.run_config,
                    instance=self.instance,
                    raise_on_error=False,
                    tags=tags,
                )
        except Exception:
            if key is not None:
                self.instance.release_run_key(definition.name, key)
            raise
        if key is not None:
            self.instance.set_run_key_run(definition.name, key, result.run_id)
        return result.run_id
