"""Sensors and schedules: functions evaluated by the daemon that ask for runs.

They take an optional first ``context`` and resources by annotation, exactly like assets; the
resources are opened for each evaluation and closed after it. They return or yield
``RunRequest`` / ``SkipReason``.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, overload

from .._config.run_config import RunConfig
from .._resources.context import did_you_mean
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

# The Gregorian calendar repeats every 400 years (146097 days, a whole number of weeks), so a cron
# expression with no fire time within 400 years of any moment has none at all. Fewer years would
# be wrong: '0 0 * 2 1#5' (a fifth Monday in February) fires in 2044, then 2072, 2112, ...
NEVER_FIRES_HORIZON_YEARS = 400
_CRON_FIELDS = "'minute hour day-of-month month day-of-week'"

Problem = tuple[str, str]
"""One definition problem: what is wrong (naming the sensor or schedule and the value), and how
to fix it."""


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

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.run_key is not None and not isinstance(self.run_key, str):
            problems.append(
                f"run_key must be a string or None, got {self.run_key!r} of type "
                f"{type(self.run_key).__name__}"
            )
        if not isinstance(self.tags, Mapping):
            problems.append(f"tags must be a mapping, got {type(self.tags).__name__}")
        if self.run_config is not None and not isinstance(self.run_config, RunConfig | Mapping):
            problems.append(
                f"run_config must be a RunConfig or a mapping, got {type(self.run_config).__name__}"
            )
        if problems:
            raise InvocationError(
                "invalid RunRequest: " + "; ".join(problems),
                hint="e.g. RunRequest(run_key=f'users@{version}', tags={'table': 'users'}, "
                "run_config=RunConfig(resources={...})).",
            )


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

    # a parameter annotated with this class is the context (params.py)
    __outfitter_context__: ClassVar[bool] = True

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

    # a parameter annotated with this class is the context (params.py)
    __outfitter_context__: ClassVar[bool] = True

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
        # the context is its first non-resource parameter, any name (as in Dagster)
        self.params: Params = classify_params(fn, self.owner, instigator=True)
        extra = [*self.params.inputs, *([self.params.config] if self.params.config else [])]
        if extra:
            raise DefinitionError(
                f"{self.owner} has parameters {extra} that are neither the context "
                f"({self.params.context!r}) nor resources",
                hint="a sensor/schedule takes an optional context (its first parameter that "
                "is not a resource) and resources annotated with a resource class or "
                "ResourceParam[T].",
            )
        self.job = job
        self.__doc__ = fn.__doc__

    @property
    def job_name(self) -> str | None:
        """The name of the job its run requests launch."""
        return getattr(self.job, "name", None)

    def definition_problems(self) -> list[str]:
        """Every problem with how this sensor or schedule is defined, one line each (naming it,
        the value and the fix); empty when it can run. Checked when it is made and again by
        ``Definitions``."""
        return [_line(problem) for problem in self._problems()]

    def _problems(self) -> list[Problem]:
        return _status_problems(getattr(self, "default_status", "STOPPED"), self.owner)

    def _raise_problems(self) -> None:
        problems = self._problems()
        if len(problems) == 1:
            [(what, fix)] = problems
            raise DefinitionError(what, hint=fix)
        if problems:
            raise DefinitionError(
                f"{len(problems)} problems in {self.owner}",
                problems=[_line(problem) for problem in problems],
                hint="fix every item listed.",
            )

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
        scope = RunScope(bindings or {}, parent=parent, keys=self.resource_keys)
        masked: BaseException | None = None
        try:
            with scope:
                kwargs: dict[str, Any] = {r.key: scope.get(r.key) for r in self.params.resources}
                if self.params.context is not None:
                    kwargs[self.params.context] = context
                result = self.fn(**kwargs)
                if inspect.isgenerator(result):
                    result = list(result)
        except Exception as exc:
            # what it says, with the secrets its resources resolved masked (tick records, the
            # daemon's log and `sensors preview` show it)
            masked = scope.redactor.exception(exc)
            if masked is exc:
                raise
        if masked is not None:
            raise masked  # out here, so it chains no unmasked context
        return _normalize(result, self.owner)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Direct invocation for tests: pass a context (from build_*_context) and/or resources
        as keyword arguments."""
        name = self.params.context or "context"
        context = args[0] if args else kwargs.pop(name, kwargs.pop("context", None))
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
        self.minimum_interval_seconds = minimum_interval_seconds
        self.default_status: str = default_status
        self._raise_problems()
        self.default_status = _normalized_status(default_status)

    def _problems(self) -> list[Problem]:
        return [
            *_interval_problems(self.minimum_interval_seconds, self.owner),
            *super()._problems(),
        ]

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
        self.cron_schedule = cron_schedule
        self.execution_timezone = "UTC" if execution_timezone is None else execution_timezone
        self.default_status: str = default_status
        self._raise_problems()
        self.default_status = _normalized_status(default_status)

    def _problems(self) -> list[Problem]:
        timezone = _timezone_problems(self.execution_timezone, self.owner)
        tz = None if timezone else self.timezone()
        return [
            *_cron_problems(self.cron_schedule, tz, self.owner),
            *timezone,
            *super()._problems(),
        ]

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


def _line(problem: Problem) -> str:
    what, fix = problem
    return f"{what}{'' if what.endswith(('.', '?')) else '.'} Fix: {fix}"


def _normalized_status(value: Any) -> str:
    return str(getattr(value, "value", value)).upper()


def _status_problems(value: Any, owner: str) -> list[Problem]:
    if _normalized_status(value) in ("RUNNING", "STOPPED"):
        return []
    return [
        (
            f"{owner}: default_status must be 'RUNNING' or 'STOPPED', got {value!r}",
            "use 'RUNNING' to start evaluating as soon as the daemon starts.",
        )
    ]


def _interval_problems(value: Any, owner: str) -> list[Problem]:
    """``minimum_interval_seconds`` must be a finite number greater than 0 (nan, inf, 0 and
    negative numbers would make the daemon evaluate the sensor never or without pause)."""
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if is_number and math.isfinite(value) and value > 0:
        return []
    got = repr(value) if is_number else f"{value!r} of type {type(value).__name__}"
    return [
        (
            f"{owner}: minimum_interval_seconds must be a finite number of seconds greater "
            f"than 0, got {got}",
            "pass the seconds to wait between evaluations as a number, e.g. "
            "minimum_interval_seconds=30.",
        )
    ]


def _timezone_problems(value: Any, owner: str) -> list[Problem]:
    """``execution_timezone`` must name a zone of the IANA database (as zoneinfo knows it)."""
    from zoneinfo import ZoneInfo, available_timezones

    if isinstance(value, str):
        try:
            ZoneInfo(value)
        except (KeyError, ValueError, OSError):
            # ZoneInfoNotFoundError (a KeyError): no such zone; ValueError: not a relative key
            # ('', '/etc/localtime', '../x'); OSError: a directory ('Europe') on some platforms
            pass
        else:
            return []
    suggestion = did_you_mean(value, available_timezones()) if isinstance(value, str) else ""
    return [
        (
            f"{owner}: execution_timezone {value!r} is not a time zone zoneinfo knows."
            + suggestion,
            "use an IANA time zone name such as 'UTC', 'Europe/Paris' or 'America/New_York' "
            "(zoneinfo.available_timezones() lists them; install the tzdata package where the "
            "system has no time zone database).",
        )
    ]


def _cron_problems(expression: Any, tz: dt.tzinfo | None, owner: str) -> list[Problem]:
    """What is wrong with ``expression`` as a schedule's cron: not a string, not valid cron, not
    five fields, or no time ever matches it (read in ``tz``, UTC when None)."""
    from croniter import CroniterBadDateError, croniter

    example = "e.g. '0 6 * * *' for 06:00 every day, '*/15 * * * *' every 15 minutes"
    if not isinstance(expression, str):
        return [
            (
                f"{owner}: cron_schedule must be a string, got {expression!r} of type "
                f"{type(expression).__name__}",
                f"write the cron expression as a string of five fields {_CRON_FIELDS}, {example}.",
            )
        ]
    try:
        fields = croniter.expand(expression)[0]
    except (ValueError, LookupError, TypeError, AttributeError) as exc:
        reason = str(exc).strip() or type(exc).__name__
        return [
            (
                f"{owner}: cron_schedule {expression!r} is not a valid cron expression ({reason})",
                f"use five fields {_CRON_FIELDS} with values in range (minute 0-59, hour 0-23, "
                f"day 1-31, month 1-12, weekday 0-7), {example}.",
            )
        ]
    if len(fields) != 5:
        return [
            (
                f"{owner}: cron_schedule {expression!r} has {len(fields)} fields; schedules take "
                "standard cron expressions of 5 (no seconds or years field)",
                f"use five fields {_CRON_FIELDS}, {example}.",
            )
        ]
    start = dt.datetime(2000, 1, 1, tzinfo=tz or dt.UTC)
    try:
        croniter(expression, start, max_years_between_matches=NEVER_FIRES_HORIZON_YEARS).get_next(
            dt.datetime
        )
    except CroniterBadDateError:
        return [
            (
                f"{owner}: cron_schedule {expression!r} never fires: no date matches it (none in "
                f"{NEVER_FIRES_HORIZON_YEARS} years, a whole cycle of the calendar)",
                "use a day of the month that exists in the months it names (days 1-28 exist in "
                "every month, 29 only in leap-year Februaries; 'L' is the last day of the month, "
                "e.g. '0 0 L 2 *').",
            )
        ]
    return []


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
    if callable(cron_schedule):
        raise DefinitionError(
            f"@schedule needs a cron expression; it was given the function "
            f"{getattr(cron_schedule, '__name__', cron_schedule)!r}",
            hint="write @schedule('0 6 * * *') (or @schedule(cron_schedule=...)) above the "
            "function, not a bare @schedule.",
        )
    if not isinstance(cron_schedule, str):
        owner = f"schedule {name!r}" if name else "@schedule"
        [(what, fix)] = _cron_problems(cron_schedule, None, owner)
        raise DefinitionError(what, hint=fix)

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
