"""Sensors that react to runs reaching a status: ``@run_status_sensor`` and
``@run_failure_sensor``.

They read the instance's run-end events (RUN_START, RUN_SUCCESS, RUN_FAILURE, RUN_CANCELED)
across runs; the cursor is the id of the last event handled. The first evaluation only places
the cursor after every event recorded so far, so the function is called once for each run that
reaches the status after the sensor started, never for older ones (as in Dagster).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from .._instance import EventRecord, EventType, Instance, RunRecord, RunStatus
from ..exceptions import DefinitionError, InvocationError, InvocationTypeError
from .sensors import RunRequest, SensorDefinition, SkipReason

__all__ = [
    "RunFailureSensorContext",
    "RunStatusSensorContext",
    "RunStatusSensorDefinition",
    "build_run_status_sensor_context",
    "run_failure_sensor",
    "run_status_sensor",
]

_EVENT_OF_STATUS = {
    RunStatus.STARTED: EventType.RUN_START,
    RunStatus.SUCCESS: EventType.RUN_SUCCESS,
    RunStatus.FAILURE: EventType.RUN_FAILURE,
    RunStatus.CANCELED: EventType.RUN_CANCELED,
}

_BATCH = 1000
"""Events handled by one evaluation at most; the rest wait for the next tick."""


class RunStatusSensorContext:
    """What a run status sensor receives for each run: ``dagster_run`` (the run's record:
    ``run_id``, ``job_name``, ``status``, ``tags``, ``run_config``), ``dagster_event`` (the
    event that recorded the status), ``sensor_name``, ``instance``, ``log``, ``resources`` and
    ``partition_key``. Tests build one with :func:`build_run_status_sensor_context`.

    Example:
        >>> from outfitter import RunStatusSensorContext
        >>> from outfitter._instance import RunRecord, RunStatus
        >>> run = RunRecord("r1", "nightly", RunStatus.SUCCESS, None, None, {}, None)
        >>> RunStatusSensorContext(sensor_name="s", dagster_run=run).dagster_run.job_name
        'nightly'
    """

    __outfitter_context__: ClassVar[bool] = True

    def __init__(
        self,
        *,
        sensor_name: str,
        dagster_run: RunRecord,
        dagster_event: EventRecord | None = None,
        instance: Any = None,
        log: logging.Logger | None = None,
        resources: Any = None,
        partition_key: str | None = None,
        repository_def: Any = None,
    ) -> None:
        self.sensor_name = sensor_name
        self.dagster_run = dagster_run
        self.dagster_event = dagster_event
        self.instance = instance
        self.log = log or logging.getLogger("outfitter.sensors")
        self.resources = resources
        self.partition_key = partition_key
        self.repository_def = repository_def
        self._default_name = False

    def for_run_failure(self) -> RunFailureSensorContext:
        """The same run as a :class:`RunFailureSensorContext` (what a ``@run_failure_sensor``
        takes), resources included."""
        return RunFailureSensorContext(
            sensor_name=self.sensor_name,
            dagster_run=self.dagster_run,
            dagster_event=self.dagster_event,
            instance=self.instance,
            log=self.log,
            resources=self.resources,
            partition_key=self.partition_key,
            repository_def=self.repository_def,
        )

    def __enter__(self) -> RunStatusSensorContext:
        # Dagster's context is a context manager that closes the resources it opened; ours opens
        # them around each call, so ``with`` has nothing to close
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


class RunFailureSensorContext(RunStatusSensorContext):
    """What a run failure sensor receives: a :class:`RunStatusSensorContext` whose run failed,
    with ``failure_event`` (the RUN_FAILURE event: ``message``, and ``data`` with the error's
    ``message`` and ``traceback``), ``error`` (the failure's message, secrets masked) and
    ``get_step_failure_events()``.

    Example:
        >>> from outfitter import RunFailureSensorContext
        >>> from outfitter._instance import EventRecord, EventType, RunRecord, RunStatus
        >>> run = RunRecord("r1", "nightly", RunStatus.FAILURE, None, None, {}, None)
        >>> event = EventRecord(3, "r1", 0.0, EventType.RUN_FAILURE, None, None, "boom", None,
        ...                     {"message": "ValueError: boom"})
        >>> RunFailureSensorContext(sensor_name="s", dagster_run=run, dagster_event=event).error
        'ValueError: boom'
    """

    @property
    def failure_event(self) -> EventRecord | None:
        """The RUN_FAILURE event (read from the instance when the context was built without
        it)."""
        if self.dagster_event is None and self.instance is not None:
            events = self.instance.all_events(
                self.dagster_run.run_id, event_type=EventType.RUN_FAILURE
            )
            self.dagster_event = events[-1] if events else None
        return self.dagster_event

    @property
    def error(self) -> str | None:
        """What failed the run (type and message), as recorded."""
        event = self.failure_event
        if event is None:
            return None
        data = event.data if isinstance(event.data, dict) else {}
        return str(data.get("message") or event.message) or None

    def get_step_failure_events(self) -> list[EventRecord]:
        """The run's STEP_FAILURE events (empty without an instance)."""
        if self.instance is None:
            return []
        events: list[EventRecord] = self.instance.all_events(
            self.dagster_run.run_id, event_type=EventType.STEP_FAILURE
        )
        return events


def build_run_status_sensor_context(
    sensor_name: str,
    dagster_event: EventRecord | None,
    dagster_instance: Instance,
    dagster_run: RunRecord,
    context: Any = None,
    resources: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    *,
    repository_def: Any = None,
    logging_tags: Mapping[str, str] | None = None,
) -> RunStatusSensorContext:
    """A :class:`RunStatusSensorContext` for calling a ``@run_status_sensor`` directly in a
    test, from a run recorded in ``dagster_instance`` (``result.dagster_run``) and the event of
    its status (``result.get_run_success_event()`` / ``get_run_failure_event()``); call
    ``.for_run_failure()`` on it for a ``@run_failure_sensor``. ``resources`` are opened for
    each call and closed after it (resources given as keyword arguments to the call work too).
    ``context`` lends its logger; ``repository_def`` and ``logging_tags`` are accepted for
    Dagster's signature.

    Example:
        >>> from outfitter import (Instance, ResourceParam, build_run_status_sensor_context,
        ...                        op, job, run_failure_sensor)
        >>> @op
        ... def fails() -> None:
        ...     raise ValueError("no rows")
        >>> @job
        ... def nightly() -> None:
        ...     fails()
        >>> @run_failure_sensor
        ... def alert(context, alerts: ResourceParam[list]):
        ...     alerts.append(f"{context.dagster_run.job_name}: {context.error}")
        >>> sent: list[str] = []
        >>> with Instance.ephemeral() as instance:
        ...     result = nightly.execute_in_process(instance=instance, raise_on_error=False)
        ...     context = build_run_status_sensor_context(
        ...         sensor_name="alert",
        ...         dagster_instance=instance,
        ...         dagster_run=result.dagster_run,
        ...         dagster_event=result.get_run_failure_event(),
        ...         resources={"alerts": sent},
        ...     ).for_run_failure()
        ...     alert(context)
        >>> sent
        ['nightly: ValueError: no rows']
    """
    owner = "build_run_status_sensor_context()"
    problems: list[str] = []
    if not isinstance(dagster_run, RunRecord):
        shown = f" {dagster_run!r}" if isinstance(dagster_run, str) else ""  # a run id
        problems.append(
            f"dagster_run must be a run record, got {type(dagster_run).__name__}{shown}"
        )
    if dagster_event is not None and not isinstance(dagster_event, EventRecord):
        problems.append(
            f"dagster_event must be an event record or None, got {type(dagster_event).__name__}"
        )
    if not isinstance(dagster_instance, Instance):
        problems.append(
            f"dagster_instance must be an Instance, got {type(dagster_instance).__name__}"
        )
    if problems:
        raise InvocationTypeError(
            f"{owner}: " + "; ".join(problems),
            hint="pass what a run gives: result = job.execute_in_process(instance=instance, "
            "raise_on_error=False); dagster_run=result.dagster_run, "
            "dagster_event=result.get_run_failure_event(), dagster_instance=instance.",
        )
    del logging_tags  # our sensor logger takes no per-context tags
    return RunStatusSensorContext(
        sensor_name=sensor_name,
        dagster_run=dagster_run,
        dagster_event=dagster_event,
        instance=dagster_instance,
        log=getattr(context, "log", None),
        resources=resources,
        partition_key=partition_key,
        repository_def=repository_def,
    )


def _names(values: Iterable[Any] | None) -> tuple[str, ...]:
    return tuple(v if isinstance(v, str) else str(getattr(v, "name", v)) for v in values or ())


class RunStatusSensorDefinition(SensorDefinition):
    """What ``@run_status_sensor`` and ``@run_failure_sensor`` make.

    Example:
        >>> from outfitter import DagsterRunStatus, run_status_sensor
        >>> @run_status_sensor(run_status=DagsterRunStatus.SUCCESS, monitored_jobs=["etl"])
        ... def after_etl(context):
        ...     context.log.info(f"{context.dagster_run.job_name} succeeded")
        >>> after_etl.run_status, after_etl.monitored_job_names
        (<RunStatus.SUCCESS: 'SUCCESS'>, ('etl',))
    """

    context_class: type[RunStatusSensorContext] = RunStatusSensorContext
    decorator = "@run_status_sensor"

    def __init__(
        self,
        run_status: Any,
        fn: Callable[..., Any],
        *,
        monitored_jobs: Iterable[Any] | None = None,
        request_job: Any = None,
        request_jobs: Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        owner = f"sensor {kwargs.get('name') or getattr(fn, '__name__', fn)!r}"
        try:
            status = RunStatus(str(getattr(run_status, "value", run_status)).upper())
        except ValueError:
            status = None
        if status not in _EVENT_OF_STATUS:
            choices = ", ".join(s.value for s in _EVENT_OF_STATUS)
            raise DefinitionError(
                f"{owner}: run_status must be one of {choices}, got {run_status!r}",
                hint="e.g. run_status=DagsterRunStatus.SUCCESS (QUEUED runs record no event "
                "to react to).",
            )
        super().__init__(evaluation_fn=fn, job=request_job, jobs=request_jobs, **kwargs)
        self.run_status: RunStatus = status
        self.monitored_job_names = _names(monitored_jobs)

    def referenced_jobs(self) -> list[tuple[str, str]]:
        """The jobs it names: those it requests runs of, and those it monitors."""
        return [*super().referenced_jobs(), *(("monitors", n) for n in self.monitored_job_names)]

    def _call(self, context: Any, kwargs: dict[str, Any]) -> Any:
        if isinstance(context, RunStatusSensorContext):  # direct invocation with one run
            if self.context_class is RunFailureSensorContext and not isinstance(
                context, RunFailureSensorContext
            ):
                context = context.for_run_failure()
            return super()._call(context, kwargs)
        instance = getattr(context, "instance", None)
        if instance is None:
            raise InvocationError(
                f"{self.owner} reads runs from an instance, and its context has none",
                hint="pass a RunStatusSensorContext(dagster_run=...) to call it for one run, "
                "or build_sensor_context(instance=instance).",
            )
        if context.cursor is None:
            # run_status_sensor_definition.py: the first tick starts from the latest event, so
            # only runs that reach the status after the sensor started are seen
            context.update_cursor(str(instance.last_event_id()))
            return SkipReason(f"started watching for runs that reach {self.run_status.value}")
        after = int(context.cursor)
        # read first: ids only grow, so every event up to it is in the scan below
        horizon = instance.last_event_id()
        events: list[EventRecord] = instance.events_of_types(
            [_EVENT_OF_STATUS[self.run_status]], after_id=after, limit=_BATCH
        )
        results: list[Any] = []
        for event in events:
            run = instance.get_run(event.run_id)
            if run is None:
                continue
            if self.monitored_job_names and run.job_name not in self.monitored_job_names:
                continue
            per_run = self.context_class(
                sensor_name=self.name,
                dagster_run=run,
                dagster_event=event,
                instance=instance,
                log=context.log,
                resources=context.resources,
            )
            result = super()._call(per_run, dict(kwargs))
            if inspect.isgenerator(result):
                result = list(result)
            items = list(result) if isinstance(result, list | tuple) else [result]
            if not self.job_names and any(isinstance(r, RunRequest) for r in items):
                raise self._untargeted()
            results.extend(r for r in items if r is not None)
        # only once every event was handled: a raise handles them again. Past the last one
        # read, or (a whole scan, none left) past every event recorded before it began
        if len(events) == _BATCH:
            context.update_cursor(str(events[-1].id))
        elif max(horizon, events[-1].id if events else 0) > after:
            context.update_cursor(str(max(horizon, events[-1].id if events else 0)))
        requests = [r for r in results if not isinstance(r, SkipReason)]
        if requests:
            return requests
        if results:
            return results[-1]
        return SkipReason(f"no run reached {self.run_status.value} since the last evaluation")

    def _untargeted(self) -> InvocationError:
        # sensor_definition.py (resolve_run_requests) fails the tick of a sensor without a
        # target that returns a RunRequest; the cursor does not move, so nothing is lost
        return InvocationError(
            f"{self.owner} returned a RunRequest, but it has no job to run: a {self.decorator} "
            "launches only its request_job (or one of its request_jobs), and it was given "
            "neither",
            hint=f"add request_job=my_job to {self.decorator}(...) (or request_jobs=[...] with "
            "RunRequest(job_name=...)); to only react to the run, return None or a SkipReason.",
        )


def run_status_sensor(
    run_status: Any,
    *,
    name: str | None = None,
    monitored_jobs: Iterable[Any] | None = None,
    request_job: Any = None,
    request_jobs: Iterable[Any] | None = None,
    minimum_interval_seconds: float = 30,
    default_status: str = "STOPPED",
    required_resource_keys: Iterable[str] | None = None,
    description: str | None = None,
) -> Callable[[Callable[..., Any]], RunStatusSensorDefinition]:
    """Declare a sensor called once for each run that reaches ``run_status`` (STARTED,
    SUCCESS, FAILURE or CANCELED) after it started, optionally only runs of
    ``monitored_jobs``. The function takes a :class:`RunStatusSensorContext` and resources by
    annotation; RunRequests it returns launch ``request_job`` (or one of ``request_jobs``).

    Example:
        >>> from outfitter import DagsterRunStatus, RunRequest, run_status_sensor
        >>> @run_status_sensor(run_status=DagsterRunStatus.SUCCESS, request_job="report")
        ... def then_report(context):
        ...     return RunRequest(run_key=context.dagster_run.run_id)
        >>> then_report.job_name
        'report'
    """

    def wrap(fn: Callable[..., Any]) -> RunStatusSensorDefinition:
        return RunStatusSensorDefinition(
            run_status,
            fn,
            name=name,
            monitored_jobs=monitored_jobs,
            request_job=request_job,
            request_jobs=request_jobs,
            minimum_interval_seconds=minimum_interval_seconds,
            default_status=default_status,
            required_resource_keys=required_resource_keys,
            description=description,
        )

    return wrap


class RunFailureSensorDefinition(RunStatusSensorDefinition):
    """What ``@run_failure_sensor`` makes: a run status sensor for FAILURE whose context is a
    :class:`RunFailureSensorContext`."""

    context_class = RunFailureSensorContext
    decorator = "@run_failure_sensor"


def run_failure_sensor(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    monitored_jobs: Iterable[Any] | None = None,
    request_job: Any = None,
    request_jobs: Iterable[Any] | None = None,
    minimum_interval_seconds: float = 30,
    default_status: str = "STOPPED",
    required_resource_keys: Iterable[str] | None = None,
    description: str | None = None,
) -> Any:
    """Declare a sensor called once for each run that fails after it started (optionally only
    runs of ``monitored_jobs``), with a :class:`RunFailureSensorContext`: the place to alert
    through a resource.

    Example:
        >>> from outfitter import ResourceParam, run_failure_sensor
        >>> @run_failure_sensor
        ... def alert(context, alerts: ResourceParam[list]):
        ...     alerts.append(f"{context.dagster_run.job_name} failed: {context.error}")
        >>> alert.run_status.value
        'FAILURE'
    """

    def wrap(f: Callable[..., Any]) -> RunStatusSensorDefinition:
        return RunFailureSensorDefinition(
            RunStatus.FAILURE,
            f,
            name=name,
            monitored_jobs=monitored_jobs,
            request_job=request_job,
            request_jobs=request_jobs,
            minimum_interval_seconds=minimum_interval_seconds,
            default_status=default_status,
            required_resource_keys=required_resource_keys,
            description=description,
        )

    return wrap(fn) if fn is not None else wrap
