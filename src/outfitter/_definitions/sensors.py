"""Sensors and schedules: functions evaluated by the daemon that ask for runs.

They take an optional first ``context`` and resources by annotation, exactly like assets; the
resources are opened for each evaluation and closed after it. They return or yield
``RunRequest`` / ``SkipReason``.
"""

from __future__ import annotations

import datetime as dt
import enum
import inspect
import logging
import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, overload

from .._config.run_config import RunConfig
from .._resources.context import Resources, did_you_mean
from ..exceptions import DefinitionError, InvocationError
from .params import Params, classify_params

__all__ = [
    "DefaultScheduleStatus",
    "DefaultSensorStatus",
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
    job_name: str | None = None
    """Which of the sensor's jobs to run (needed when it targets several, ``jobs=[...]``)."""

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.job_name is not None and not isinstance(self.job_name, str):
            problems.append(f"job_name must be a string or None, got {self.job_name!r}")
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
        self._default_name = False

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
        self._default_name = False


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
    context = SensorEvaluationContext(
        sensor_name="test_sensor",
        cursor=cursor,
        last_tick=last_tick,
        instance=instance,
        resources=resources,
    )
    context._default_name = True  # named after the sensor it is passed to
    return context


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
        >>> nightly(build_schedule_context(scheduled_execution_time=when)).run_key
        '2026-03-01'
    """
    context = ScheduleEvaluationContext(
        schedule_name="test_schedule",
        scheduled_execution_time=scheduled_execution_time,
        instance=instance,
        resources=resources,
    )
    context._default_name = True  # named after the schedule it is passed to
    return context


class DefaultSensorStatus(enum.StrEnum):
    """Whether a sensor runs as soon as a daemon sees it (``RUNNING``) or waits for
    ``outfitter sensors start`` (``STOPPED``, the default). Only the first sight counts: once
    started or stopped, the state stored in the instance wins.

    Example:
        >>> from outfitter import DefaultSensorStatus, sensor
        >>> @sensor(default_status=DefaultSensorStatus.RUNNING)
        ... def watch():
        ...     return None
        >>> watch.default_status
        'RUNNING'
    """

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


class DefaultScheduleStatus(enum.StrEnum):
    """Whether a schedule runs as soon as a daemon sees it (``RUNNING``) or waits for
    ``outfitter schedules start`` (``STOPPED``, the default).

    Example:
        >>> from outfitter import DefaultScheduleStatus, ScheduleDefinition
        >>> nightly = ScheduleDefinition(
        ...     name="nightly", cron_schedule="0 3 * * *", job_name="refresh",
        ...     default_status=DefaultScheduleStatus.RUNNING)
        >>> nightly.default_status
        'RUNNING'
    """

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


class _Instigator:
    """Shared by sensors and schedules: the function, its parameters, its jobs."""

    kind = "instigator"
    event_params = 0
    """How many parameters after the context carry what the sensor reacts to (an asset
    sensor's event), neither context nor resources."""

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str | None,
        job: Any = None,
        *,
        jobs: Iterable[Any] | None = None,
        job_name: str | None = None,
        required_resource_keys: Iterable[str] | None = None,
    ) -> None:
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
        self.event_names = tuple(self.params.inputs[: self.event_params])
        extra = extra[len(self.event_names) :]
        if extra:
            raise DefinitionError(
                f"{self.owner} has parameters {extra} that are neither the context "
                f"({self.params.context!r}) nor resources",
                hint="a sensor/schedule takes an optional context (its first parameter that "
                "is not a resource) and resources annotated with a resource class or "
                "ResourceParam[T].",
            )
        given = [n for n, v in (("job", job), ("jobs", jobs), ("job_name", job_name)) if v]
        if len(given) > 1:
            raise DefinitionError(
                f"{self.owner} was given {' and '.join(given)}; it takes only one of them",
                hint="pass job=my_job, job_name='my_job', or jobs=[job_a, job_b] (then each "
                "RunRequest says which with job_name=).",
            )
        self.job = job
        self.jobs: tuple[Any, ...] = tuple(jobs or ())
        self._job_name = job_name
        self.required_resource_keys = frozenset(required_resource_keys or ())
        self.__doc__ = fn.__doc__

    @property
    def job_names(self) -> tuple[str, ...]:
        """The names of the jobs its run requests may launch (empty: all assets)."""
        if self._job_name is not None:
            return (self._job_name,)
        targets = self.jobs or ((self.job,) if self.job is not None else ())
        return tuple(t if isinstance(t, str) else str(getattr(t, "name", t)) for t in targets)

    @property
    def job_name(self) -> str | None:
        """The name of the job its run requests launch when it targets exactly one."""
        names = self.job_names
        return names[0] if len(names) == 1 else None

    def referenced_jobs(self) -> list[tuple[str, str]]:
        """``(role, job name)`` for every job it names (``Definitions`` checks they exist)."""
        return [("targets", name) for name in self.job_names]

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
        """Resource keys it asks for (annotated parameters and ``required_resource_keys``)."""
        return frozenset(r.key for r in self.params.resources) | self.required_resource_keys

    def evaluate(
        self, context: Any, resources: Any = None, parent: Any = None
    ) -> list[RunRequest] | SkipReason:
        """Call the function with its resources opened for this evaluation and closed after it
        (process-scoped ones come from ``parent``, the daemon's process scope); what it returned
        as a list of requests or one SkipReason (what the daemon acts on)."""
        return _normalize(self.raw_evaluate(context, resources, parent), self.owner)

    def raw_evaluate(self, context: Any, resources: Any = None, parent: Any = None) -> Any:
        """As :meth:`evaluate`, but what the function returned, as it returned it (a generator's
        items as a list: they are produced while its resources are open)."""
        from .._resources.scope import RunScope

        bindings = resources if resources is not None else context.resources
        scope = RunScope(bindings or {}, parent=parent, keys=self.resource_keys)
        for key in sorted(self.resource_keys):
            if key not in scope.plan.bindings:
                raise scope.plan.missing(key, asked_by=self.owner)
        given_resources = getattr(context, "resources", None)
        masked: BaseException | None = None
        try:
            with scope:
                kwargs: dict[str, Any] = {r.key: scope.get(r.key) for r in self.params.resources}
                if self.required_resource_keys and context is not None:
                    context.resources = Resources(
                        {k: scope.get(k) for k in sorted(self.required_resource_keys)},
                        owner=self.owner,
                    )
                result = self._call(context, kwargs)
                if inspect.isgenerator(result):
                    result = list(result)
        except Exception as exc:
            # what it says, with the secrets its resources resolved masked (tick records, the
            # daemon's log and `sensors preview` show it)
            masked = scope.redactor.exception(exc)
            if masked is exc:
                raise
        finally:
            if self.required_resource_keys and context is not None:
                context.resources = given_resources
        if masked is not None:
            raise masked  # out here, so it chains no unmasked context
        return result

    def _call(self, context: Any, kwargs: dict[str, Any]) -> Any:
        """Call the function once with ``kwargs`` (its resources) and the context; a special
        sensor (asset, run status) overrides this to find what to react to first."""
        if self.params.context is not None:
            kwargs[self.params.context] = context
        return self.fn(**kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Direct invocation for tests: pass a context (from build_*_context) and/or resources
        as keyword arguments. Returns what the function returned (a generator's items as a
        list), as Dagster's ``SensorDefinition.__call__`` does."""
        name = self.params.context or "context"
        context = args[0] if args else kwargs.pop(name, kwargs.pop("context", None))
        if context is None:
            context = self._default_context()
        if getattr(context, "_default_name", False):
            self._rename(context)
        if kwargs:
            return self.raw_evaluate(context, resources=kwargs)
        return self.raw_evaluate(context)

    def _rename(self, context: Any) -> None:
        """A context from build_*_context() takes the name of what it is passed to."""

    def _default_context(self) -> Any:
        raise InvocationError(f"{self.owner} needs a context", hint="use build_*_context().")


def _normalize(result: Any, owner: str) -> list[RunRequest] | SkipReason:
    if result is None:
        return []
    if isinstance(result, SkipReason):
        return result
    if isinstance(result, RunRequest):
        return [result]
    if isinstance(result, Iterable) and not isinstance(result, str | bytes | Mapping):
        items = [r for r in result if r is not None]
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


_NO_FN = object()


class SensorDefinition(_Instigator):
    """What ``@sensor`` makes; also a public constructor, as in Dagster:
    ``SensorDefinition(name=..., evaluation_fn=fn, job=... | job_name=... | jobs=[...])``.

    Example:
        >>> from outfitter import RunRequest, SensorDefinition
        >>> def check(context):
        ...     return RunRequest(run_key="a")
        >>> watch = SensorDefinition(name="watch", evaluation_fn=check, job_name="refresh")
        >>> watch.name, watch.job_name, watch.default_status
        ('watch', 'refresh', 'STOPPED')
    """

    kind = "sensor"

    def __init__(
        self,
        name_or_fn: Any = None,
        /,
        *,
        name: str | None = None,
        evaluation_fn: Callable[..., Any] | None = None,
        job: Any = None,
        jobs: Iterable[Any] | None = None,
        job_name: str | None = None,
        minimum_interval_seconds: float = 30,
        default_status: str = "STOPPED",
        required_resource_keys: Iterable[str] | None = None,
        description: str | None = None,
    ) -> None:
        # SensorDefinition("name", evaluation_fn=fn), or (fn, name=...) as @sensor makes it
        if callable(name_or_fn) and evaluation_fn is None:
            evaluation_fn = name_or_fn
        elif name_or_fn is not None:
            name = name_or_fn
        if evaluation_fn is None:
            raise DefinitionError(
                f"sensor {name!r} has no evaluation_fn",
                hint="pass evaluation_fn=a function returning RunRequests, or use @sensor.",
            )
        super().__init__(
            evaluation_fn,
            name,
            job,
            jobs=jobs,
            job_name=job_name,
            required_resource_keys=required_resource_keys,
        )
        if description is not None:
            self.__doc__ = description
        self.minimum_interval_seconds = minimum_interval_seconds
        self.default_status: str = default_status
        self._raise_problems()
        self.default_status = _normalized_status(default_status)

    def _problems(self) -> list[Problem]:
        return [
            *_interval_problems(self.minimum_interval_seconds, self.owner),
            *super()._problems(),
        ]

    def _rename(self, context: Any) -> None:
        context.sensor_name = self.name

    def _default_context(self) -> SensorEvaluationContext:
        return SensorEvaluationContext(sensor_name=self.name)


class ScheduleDefinition(_Instigator):
    """What ``@schedule`` makes; also a public constructor, as in Dagster:
    ``ScheduleDefinition(name=, cron_schedule=, job=|job_name=, run_config=,
    execution_timezone=)``. Without a function, each tick asks for one run with ``run_config``.

    Example:
        >>> from outfitter import ScheduleDefinition, build_schedule_context
        >>> nightly = ScheduleDefinition(
        ...     name="nightly", cron_schedule="0 3 * * *", job_name="refresh",
        ...     run_config={"ops": {"load": {"config": {"full": True}}}})
        >>> nightly(build_schedule_context()).run_config
        {'ops': {'load': {'config': {'full': True}}}}
    """

    kind = "schedule"

    def __init__(
        self,
        name_or_fn: Any = None,
        /,
        *,
        name: str | None = None,
        cron_schedule: str,
        job: Any = None,
        job_name: str | None = None,
        run_config: Any = None,
        tags: Mapping[str, str] | None = None,
        execution_timezone: str | None = None,
        default_status: str = "STOPPED",
        execution_fn: Callable[..., Any] | None = None,
        required_resource_keys: Iterable[str] | None = None,
        description: str | None = None,
    ) -> None:
        if callable(name_or_fn) and execution_fn is None:  # (fn, cron_schedule=...)
            execution_fn = name_or_fn
        elif name_or_fn is not None:
            name = name_or_fn
        self.run_config = run_config
        self.tags = dict(tags or {})
        if execution_fn is None:
            if not name:
                raise DefinitionError(
                    "a ScheduleDefinition without a function needs a name",
                    hint="pass name='nightly' (the daemon and the CLI know it by its name).",
                )
            execution_fn = self._constant_request
        super().__init__(
            execution_fn,
            name,
            job,
            job_name=job_name,
            required_resource_keys=required_resource_keys,
        )
        if description is not None:
            self.__doc__ = description
        self.cron_schedule = cron_schedule
        self.execution_timezone = "UTC" if execution_timezone is None else execution_timezone
        self.default_status: str = default_status
        self._raise_problems()
        self.default_status = _normalized_status(default_status)

    def _constant_request(self) -> RunRequest:
        # as Dagster's ScheduleDefinition without execution_fn: one run per tick, its config
        return RunRequest(run_config=self.run_config, tags=self.tags)

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

    def _rename(self, context: Any) -> None:
        context.schedule_name = self.name

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
    jobs: Iterable[Any] | None = None,
    job_name: str | None = None,
    minimum_interval_seconds: float = 30,
    name: str | None = None,
    default_status: str = "STOPPED",
    required_resource_keys: Iterable[str] | None = None,
    description: str | None = None,
) -> Callable[[Callable[..., Any]], SensorDefinition]: ...


def sensor(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    job: Any = None,
    jobs: Iterable[Any] | None = None,
    job_name: str | None = None,
    minimum_interval_seconds: float = 30,
    name: str | None = None,
    default_status: str = "STOPPED",
    required_resource_keys: Iterable[str] | None = None,
    description: str | None = None,
) -> SensorDefinition | Callable[[Callable[..., Any]], SensorDefinition]:
    """Declare a sensor: evaluated by the daemon every ``minimum_interval_seconds``; returns or
    yields RunRequests for its job (``job=``, ``job_name=``, or one of ``jobs=[...]`` named by
    ``RunRequest(job_name=...)``), or a SkipReason.

    Example:
        >>> from outfitter import RunRequest, build_sensor_context, sensor
        >>> @sensor(job_name="refresh", minimum_interval_seconds=10)
        ... def new_tables(context):
        ...     yield RunRequest(run_key="users")
        >>> [r.run_key for r in new_tables(build_sensor_context())]
        ['users']
    """

    def wrap(f: Callable[..., Any]) -> SensorDefinition:
        return SensorDefinition(
            name=name,
            evaluation_fn=f,
            job=job,
            jobs=jobs,
            job_name=job_name,
            minimum_interval_seconds=minimum_interval_seconds,
            default_status=default_status,
            required_resource_keys=required_resource_keys,
            description=description,
        )

    return wrap(fn) if fn is not None else wrap


def schedule(
    cron_schedule: str,
    *,
    job: Any = None,
    job_name: str | None = None,
    name: str | None = None,
    execution_timezone: str | None = None,
    default_status: str = "STOPPED",
    required_resource_keys: Iterable[str] | None = None,
    description: str | None = None,
) -> Callable[[Callable[..., Any]], ScheduleDefinition]:
    """Declare a schedule: evaluated by the daemon at each ``cron_schedule`` time; returns
    RunRequests for its job (``job=`` or ``job_name=``), or a SkipReason.

    Example:
        >>> from outfitter import RunRequest, schedule
        >>> @schedule("0 * * * *", name="hourly", job_name="refresh")
        ... def hourly(context):
        ...     return RunRequest(run_key=context.scheduled_execution_time.isoformat())
        >>> hourly.cron_schedule, hourly.job_name
        ('0 * * * *', 'refresh')
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
            name=name,
            execution_fn=f,
            cron_schedule=cron_schedule,
            job=job,
            job_name=job_name,
            execution_timezone=execution_timezone,
            default_status=default_status,
            required_resource_keys=required_resource_keys,
            description=description,
        )

    return wrap
