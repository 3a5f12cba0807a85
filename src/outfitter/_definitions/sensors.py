"""Sensors and schedules: functions evaluated by the daemon that ask for runs.

They take an optional first ``context`` and resources by annotation, exactly like assets; the
resources are opened for each evaluation and closed after it. They return or yield
``RunRequest`` / ``SkipReason``.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, overload

from .._config.run_config import RunConfig
from ..exceptions import DefinitionError, InvocationError
from .params import Params, classify_params

__all__ = [
    "RunRequest",
    "ScheduleDefinition",
    "ScheduleEvaluationContext",
    "SensorDefinition",
    "SensorEvaluationContext",
    "SkipReason",
    "build_schedule_context",
    "build_sensor_context",
    "schedule",
    "sensor",
]

_LOG = logging.getLogger("outfitter.sensors")


@dataclass(frozen=True)
class RunRequest:
    """A run a sensor or schedule asks for. ``run_key`` makes it idempotent: the daemon never
    launches the same (sensor, run_key) twice. ``run_config`` may carry launch-time resource
    config (``RunConfig(resources={"db": Database(table="users")})``).

    Example:
        >>> from outfitter import RunRequest
        >>> RunRequest(run_key="users", tags={"table": "users"}).run_key
        'users'
    """

    run_key: str | None = None
    run_config: RunConfig | Mapping[str, Any] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    asset_selection: list[Any] | None = None


@dataclass(frozen=True)
class SkipReason:
    """Why an evaluation asked for no run.

    Example:
        >>> from outfitter import SkipReason
        >>> SkipReason("no new files").message
        'no new files'
    """

    message: str = ""


class SensorEvaluationContext:
    """What a sensor receives as ``context``: its cursor, last tick, instance and logger.

    Example:
        >>> from outfitter import build_sensor_context
        >>> context = build_sensor_context(cursor="5")
        >>> context.update_cursor("6")
        >>> context.cursor
        '6'
    """

    def __init__(
        self,
        *,
        sensor_name: str,
        cursor: str | None = None,
        last_tick: Any = None,
        instance: Any = None,
        log: logging.Logger | None = None,
        resources: Any = None,
    ) -> None:
        self.sensor_name = sensor_name
        self.cursor = cursor
        self.last_tick = last_tick
        self.instance = instance
        self.log = log or _LOG
        self.resources = resources
        self.cursor_updated = False

    def update_cursor(self, cursor: str | None) -> None:
        """Remember ``cursor`` for the next evaluation (stored with the tick)."""
        self.cursor = cursor
        self.cursor_updated = True


class ScheduleEvaluationContext:
    """What a schedule receives as ``context``: the time the run was scheduled for.

    Example:
        >>> import datetime as dt
        >>> from outfitter import build_schedule_context
        >>> when = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        >>> build_schedule_context(scheduled_execution_time=when).scheduled_execution_time.year
        2026
    """

    def __init__(
        self,
        *,
        schedule_name: str,
        scheduled_execution_time: dt.datetime | None = None,
        instance: Any = None,
        log: logging.Logger | None = None,
        resources: Any = None,
    ) -> None:
        self.schedule_name = schedule_name
        self.scheduled_execution_time = scheduled_execution_time
        self.instance = instance
        self.log = log or _LOG
        self.resources = resources


def build_sensor_context(
    resources: Any = None,
    cursor: str | None = None,
    instance: Any = None,
    last_tick: Any = None,
) -> SensorEvaluationContext:
    """A sensor context for calling a sensor directly in a test; ``resources`` are opened for
    each call and closed after it.

    Example:
        >>> from outfitter import ResourceParam, RunRequest, build_sensor_context, sensor
        >>> @sensor
        ... def tables(context, names: ResourceParam[dict]):
        ...     return [RunRequest(run_key=n) for n in names]
        >>> reqs = tables(build_sensor_context(resources={"names": {"a": 1}}))
        >>> [r.run_key for r in reqs]
        ['a']
    """
    return SensorEvaluationContext(
        sensor_name="test_sensor",
        cursor=cursor,
        last_tick=last_tick,
        instance=instance,
        resources=resources,
    )


def build_schedule_context(
    scheduled_execution_time: dt.datetime | None = None,
    resources: Any = None,
    instance: Any = None,
) -> ScheduleEvaluationContext:
    """A schedule context for calling a schedule directly in a test.

    Example:
        >>> import datetime as dt
        >>> from outfitter import RunRequest, build_schedule_context, schedule
        >>> @schedule("0 0 * * *")
        ... def nightly(context):
        ...     return RunRequest(run_key=context.scheduled_execution_time.date().isoformat())
        >>> when = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
        >>> nightly(build_schedule_context(scheduled_execution_time=when))[0].run_key
        '2026-03-01'
    """
    return ScheduleEvaluationContext(
        schedule_name="test_schedule",
        scheduled_execution_time=scheduled_execution_time,
        instance=instance,
        resources=resources,
    )


class _Instigator:
    """Shared by sensors and schedules: the function, its parameters, its job."""

    kind = "instigator"

    def __init__(self, fn: Callable[..., Any], name: str | None, job: Any) -> None:
        if not callable(fn):
            raise DefinitionError(
                f"@{self.kind} must decorate a function", hint="write it above `def ...`."
            )
        self.fn = fn
        self.name = name or fn.__name__
        self.owner = f"{self.kind} {self.name!r}"
        self.params: Params = classify_params(fn, self.owner)
        if self.params.inputs:
            raise DefinitionError(
                f"{self.owner} has parameters {list(self.params.inputs)} that are neither "
                "context nor resources",
                hint="a sensor/schedule takes an optional first `context` and resources "
                "annotated with a resource class or ResourceParam[T].",
            )
        self.job = job
        self.__doc__ = fn.__doc__

    @property
    def job_name(self) -> str | None:
        """The name of the job its run requests launch."""
        return getattr(self.job, "name", None)

    @property
    def resource_keys(self) -> frozenset[str]:
        """Resource keys it asks for."""
        return frozenset(r.key for r in self.params.resources)

    def evaluate(
        self, context: Any, resources: Any = None, parent: Any = None
    ) -> list[RunRequest] | SkipReason:
        """Call the function with its resources opened for this evaluation and closed after it
        (process-scoped ones come from ``parent``, the daemon's process scope)."""
        from .._resources.scope import RunScope

        bindings = resources if resources is not None else context.resources
        with RunScope(bindings or {}, parent=parent, keys=self.resource_keys) as scope:
            kwargs: dict[str, Any] = {r.key: scope.get(r.key) for r in self.params.resources}
            if self.params.context is not None:
                kwargs[self.params.context] = context
            result = self.fn(**kwargs)
            if inspect.isgenerator(result):
                result = list(result)
        return _normalize(result, self.owner)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Direct invocation for tests: pass a context (from build_*_context) and/or resources
        as keyword arguments."""
        context = args[0] if args else kwargs.pop("context", None)
        if context is None:
            context = self._default_context()
        if kwargs:
            return self.evaluate(context, resources=kwargs)
        return self.evaluate(context)

    def _default_context(self) -> Any:
        raise InvocationError(f"{self.owner} needs a context", hint="use build_*_context().")


def _normalize(result: Any, owner: str) -> list[RunRequest] | SkipReason:
    if result is None:
        return []
    if isinstance(result, SkipReason):
        return result
    if isinstance(result, RunRequest):
        return [result]
    if isinstance(result, Iterable):
        items = list(result)
        skips = [r for r in items if isinstance(r, SkipReason)]
        requests = [r for r in items if isinstance(r, RunRequest)]
        if len(skips) + len(requests) != len(items):
            bad = next(r for r in items if not isinstance(r, RunRequest | SkipReason))
            raise InvocationError(
                f"{owner} returned {type(bad).__name__}, not RunRequest or SkipReason",
                hint="return or yield RunRequest(...) objects, or a SkipReason(...).",
            )
        if skips and not requests:
            return skips[0]
        return requests
    raise InvocationError(
        f"{owner} returned {type(result).__name__}, not RunRequest or SkipReason",
        hint="return or yield RunRequest(...) objects, or a SkipReason(...).",
    )


class SensorDefinition(_Instigator):
    """What ``@sensor`` makes."""

    kind = "sensor"

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        job: Any = None,
        minimum_interval_seconds: float = 30,
        default_status: str = "STOPPED",
    ) -> None:
        super().__init__(fn, name, job)
        if minimum_interval_seconds <= 0:
            raise DefinitionError(
                f"{self.owner}: minimum_interval_seconds must be positive",
                hint="use the number of seconds between evaluations, e.g. 30.",
            )
        self.minimum_interval_seconds = minimum_interval_seconds
        self.default_status = _status(default_status, self.owner)

    def _default_context(self) -> SensorEvaluationContext:
        return SensorEvaluationContext(sensor_name=self.name)


class ScheduleDefinition(_Instigator):
    """What ``@schedule`` makes."""

    kind = "schedule"

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        cron_schedule: str,
        name: str | None = None,
        job: Any = None,
        execution_timezone: str | None = None,
        default_status: str = "STOPPED",
    ) -> None:
        super().__init__(fn, name, job)
        from croniter import croniter

        if not croniter.is_valid(cron_schedule):
            raise DefinitionError(
                f"{self.owner}: {cron_schedule!r} is not a valid cron expression",
                hint="use five fields, e.g. '0 * * * *' for hourly.",
            )
        self.cron_schedule = cron_schedule
        self.execution_timezone = execution_timezone or "UTC"
        self.default_status = _status(default_status, self.owner)

    def timezone(self) -> dt.tzinfo:
        """The timezone the cron expression is read in."""
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.execution_timezone)

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first scheduled time strictly after ``moment``."""
        from croniter import croniter

        local = moment.astimezone(self.timezone())
        nxt: dt.datetime = croniter(self.cron_schedule, local).get_next(dt.datetime)
        return nxt

    def _default_context(self) -> ScheduleEvaluationContext:
        return ScheduleEvaluationContext(schedule_name=self.name)


def _status(value: str, owner: str) -> str:
    status = str(getattr(value, "value", value)).upper()
    if status not in ("RUNNING", "STOPPED"):
        raise DefinitionError(
            f"{owner}: default_status must be 'RUNNING' or 'STOPPED', got {value!r}",
            hint="use 'RUNNING' to start evaluating as soon as the daemon starts.",
        )
    return status


@overload
def sensor(fn: Callable[..., Any], /) -> SensorDefinition: ...


@overload
def sensor(
    fn: None = None,
    /,
    *,
    job: Any = None,
    minimum_interval_seconds: float = 30,
    name: str | None = None,
    default_status: str = "STOPPED",
) -> Callable[[Callable[..., Any]], SensorDefinition]: ...


def sensor(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    job: Any = None,
    minimum_interval_seconds: float = 30,
    name: str | None = None,
    default_status: str = "STOPPED",
) -> SensorDefinition | Callable[[Callable[..., Any]], SensorDefinition]:
    """Declare a sensor: evaluated by the daemon every ``minimum_interval_seconds``; returns or
    yields RunRequests for ``job`` (or a SkipReason).

    Example:
        >>> from outfitter import RunRequest, build_sensor_context, sensor
        >>> @sensor(minimum_interval_seconds=10)
        ... def new_tables(context):
        ...     yield RunRequest(run_key="users")
        >>> [r.run_key for r in new_tables(build_sensor_context())]
        ['users']
    """

    def wrap(f: Callable[..., Any]) -> SensorDefinition:
        return SensorDefinition(
            f,
            name=name,
            job=job,
            minimum_interval_seconds=minimum_interval_seconds,
            default_status=default_status,
        )

    return wrap(fn) if fn is not None else wrap


def schedule(
    cron_schedule: str,
    *,
    job: Any = None,
    name: str | None = None,
    execution_timezone: str | None = None,
    default_status: str = "STOPPED",
) -> Callable[[Callable[..., Any]], ScheduleDefinition]:
    """Declare a schedule: evaluated by the daemon at each ``cron_schedule`` time; returns
    RunRequests for ``job`` (or a SkipReason).

    Example:
        >>> from outfitter import RunRequest, schedule
        >>> @schedule("0 * * * *", name="hourly")
        ... def hourly(context):
        ...     return RunRequest(run_key=context.scheduled_execution_time.isoformat())
        >>> hourly.cron_schedule
        '0 * * * *'
    """

    def wrap(f: Callable[..., Any]) -> ScheduleDefinition:
        return ScheduleDefinition(
            f,
            cron_schedule=cron_schedule,
            name=name,
            job=job,
            execution_timezone=execution_timezone,
            default_status=default_status,
        )

    return wrap
