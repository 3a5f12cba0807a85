"""Running a Flow: the task states engine (triggers, skips, retries, mapping, signals,
reference tasks) on the same run scope, instance records and signal handling as assets. Task
calls run in this process, or on the workers of a multiprocess or Dask executor.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from .. import signals
from .._execution.coordinator import Readiness, WorkerPool, record_closes, worker_pool
from .._execution.engine import _sigterm_as_cancel, begin_run, resource_listener
from .._execution.remote import Reply, RunPayload
from .._execution.scope import RunScope
from .._instance import EventType, Instance, RunStatus
from .._resources.bindings import resource_bindings
from .._resources.configurable import redacted_config
from .._resources.context import did_you_mean
from .._resources.markers import Scope
from .._resources.spec import ResourcePlan
from ..exceptions import ConfigError, MissingResourceError
from .flow import Flow
from .state import (
    Cancelled,
    Failed,
    Mapped,
    Running,
    Skipped,
    State,
    Success,
    TriggerFailed,
)
from .task import Parameter, Task

__all__ = ["run_flow"]

_UPSTREAM_SKIPPED = (
    "Upstream task was skipped; if this was not the intended behavior, consider changing "
    "`skip_on_upstream_skip=False` for this task."
)


def _check_parameters(flow: Flow, values: Mapping[str, Any]) -> None:
    params = {p.name: p for p in flow.parameters()}
    problems = [
        f"unknown parameter {name!r}." + did_you_mean(name, params)
        for name in sorted(values)
        if name not in params
    ]
    problems += [
        f"required parameter {name!r} was not given"
        for name, p in sorted(params.items())
        if p.required and name not in values
    ]
    if problems:
        raise ConfigError(
            f"invalid parameters for flow {flow.name!r}",
            problems=problems,
            hint=f"the flow's parameters are {sorted(params) or 'none'}; pass them as "
            "flow.run(parameters={...}) or flow.run(name=value). Nothing was run.",
        )


class _FlowRun:
    def __init__(
        self,
        flow: Flow,
        values: Mapping[str, Any],
        scope: RunScope,
        instance: Instance,
        run_id: str,
    ) -> None:
        self.flow = flow
        self.values = values
        self.scope = scope
        self.instance = instance
        self.run_id = run_id
        self.states: dict[Task, State] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    def event(self, kind: EventType, task: Task, message: str = "", duration: Any = None) -> None:
        self.instance.report_event(
            self.run_id, kind, step_key=task.slug, message=message, duration=duration
        )

    # -- one task ---------------------------------------------------------------------------------

    def prepare(self, task: Task) -> State | tuple[dict[str, Any], list[dict[str, Any]] | None]:
        """A task's final state when it will not run (a Parameter, an upstream skip, a trigger
        that fails), else its arguments: ``(kwargs, None)``, or ``(kwargs, calls)`` for a
        mapped task, one argument dict per child."""
        flow = self.flow
        edges = flow.edges_to(task)
        upstream_states = {e: self.states[e.upstream_task] for e in edges}
        if isinstance(task, Parameter):
            return Success("Parameter value.", result=self.values.get(task.name, task.default))
        if task.skip_on_upstream_skip and any(s.is_skipped() for s in upstream_states.values()):
            return Skipped(_UPSTREAM_SKIPPED)
        try:
            if not task.trigger(upstream_states):
                raise signals.TRIGGERFAIL("Trigger was False")
        except signals.Signal as sig:
            return sig.state
        except Exception as exc:
            return TriggerFailed(f"Unexpected error while checking the trigger: {exc}", exc)
        kwargs: dict[str, Any] = {}
        mapped: dict[str, list[Any]] = {}
        for edge in edges:
            if edge.key is None:
                continue
            value = self.states[edge.upstream_task].result
            if edge.mapped:
                mapped[edge.key] = list(value)
            else:
                kwargs[edge.key] = value
        for key, (value, is_mapped) in flow.constants.get(task, {}).items():
            if is_mapped:
                mapped[key] = list(value)
            else:
                kwargs[key] = value
        if not mapped:
            return kwargs, None
        size = min(len(v) for v in mapped.values())
        return kwargs, [{k: v[i] for k, v in mapped.items()} for i in range(size)]

    def run_task(self, task: Task) -> State:
        prepared = self.prepare(task)
        if isinstance(prepared, State):
            return prepared
        kwargs, calls = prepared
        if calls is None:
            return self.call(task, kwargs)
        return _mapped([self.call(task, {**kwargs, **child}) for child in calls])

    def call(self, task: Task, kwargs: dict[str, Any]) -> State:
        """One run of ``task`` (with its retries), its resources from this run's scope."""
        for res in task.params.resources:
            kwargs[res.key] = self.scope.get(res.key)
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                value = task.run(**kwargs)
                if inspect.isawaitable(value):
                    if self.loop is None:
                        self.loop = asyncio.new_event_loop()
                    value = self.loop.run_until_complete(value)
                return Success("Task run succeeded.", result=value)
            except signals.PAUSE as sig:
                return sig.state
            except signals.SUCCESS as sig:  # SKIP is a SUCCESS
                return sig.state
            except signals.TRIGGERFAIL as sig:
                return sig.state
            except Exception as exc:
                if attempt <= task.max_retries:
                    self.event(
                        EventType.STEP_RETRY,
                        task,
                        f"retry {attempt} of {task.max_retries}: "
                        + self.scope.redact(f"{type(exc).__name__}: {exc}"),
                        time.perf_counter() - started,
                    )
                    if task.retry_delay:
                        time.sleep(task.retry_delay)
                    continue
                message = self.scope.redact(f"{type(exc).__name__}: {exc}")
                if isinstance(exc, signals.FAIL):
                    return Failed(str(exc) or message, result=exc)
                return Failed(f"Error during execution of task: {message}", result=exc)

    # -- the flow ---------------------------------------------------------------------------------

    def run_all(self, reused: Mapping[Task, State]) -> None:
        for task in self.flow.sorted_tasks():
            prior = reused.get(task)
            if prior is not None and prior.is_finished():
                self.states[task] = prior
                continue
            started = self._start(task)
            self._finish(task, self.run_task(task), started)

    def _start(self, task: Task) -> float:
        self.states[task] = Running()
        self.event(EventType.STEP_START, task)
        return time.perf_counter()

    def _finish(self, task: Task, state: State, started: float) -> None:
        self.states[task] = state
        duration = time.perf_counter() - started
        if state.is_skipped():
            self.event(EventType.STEP_SKIPPED, task, state.message or "", duration)
        elif state.is_failed():
            self.event(EventType.STEP_FAILURE, task, state.message or "", duration)
        else:
            self.event(EventType.STEP_SUCCESS, task, state.message or "", duration)

    def run_all_on(self, pool: WorkerPool, reused: Mapping[Task, State], local: set[Task]) -> None:
        """Run the flow with task calls on ``pool``'s workers: a task is submitted once every
        upstream task has finished, so independent tasks (and a mapped task's children) run in
        parallel. Triggers, mapping and state bookkeeping stay here; ``local`` tasks (resource
        managers' setup and cleanup) run in this process."""
        order = self.flow.sorted_tasks()
        index = {t: i for i, t in enumerate(order)}
        readiness = Readiness({t: self.flow.upstream_tasks(t) for t in order})
        ready = deque(readiness.initial)
        inflight: dict[int, tuple[Task, int]] = {}
        calls: dict[Task, list[State | None]] = {}  # one slot per call; a mapped task has many
        mapped: set[Task] = set()
        started: dict[Task, float] = {}
        while ready or inflight:
            while ready:
                task = ready.popleft()
                prior = reused.get(task)
                if prior is not None and prior.is_finished():
                    self.states[task] = prior
                    ready.extend(readiness.finish(task))
                    continue
                started[task] = self._start(task)
                prepared = self.run_task(task) if task in local else self.prepare(task)
                if isinstance(prepared, State):
                    self._finish(task, prepared, started[task])
                    ready.extend(readiness.finish(task))
                    continue
                kwargs, children = prepared
                if children is not None:
                    mapped.add(task)
                    if not children:
                        self._finish(task, _mapped([]), started[task])
                        ready.extend(readiness.finish(task))
                        continue
                arguments = [kwargs] if children is None else [{**kwargs, **c} for c in children]
                calls[task] = [None] * len(arguments)
                for i, call in enumerate(arguments):
                    item = ("task", task.slug or task.name, index[task], call, task.name)
                    inflight[pool.submit(item)] = (task, i)
            for token, reply in pool.wait(0.5):
                task, i = inflight.pop(token)
                self.instance.record_events(self.run_id, reply.events)
                state = reply.value
                if not isinstance(state, State):
                    state = Failed(reply.message or "the task's worker failed", result=reply.error)
                results = calls[task]
                results[i] = state
                if all(r is not None for r in results):
                    done = [r for r in results if r is not None]
                    final = _mapped(done) if task in mapped else done[0]
                    self._finish(task, final, started[task])
                    ready.extend(readiness.finish(task))

    def cancel(self) -> None:
        """Ctrl-C / SIGTERM: mark unfinished tasks Cancelled, then run the cleanup of every
        resource block whose setup succeeded and whose cleanup has not run."""
        for task in self.flow.tasks:
            state = self.states.get(task)
            if state is None or not state.is_finished():
                self.states[task] = Cancelled("Run cancelled (Ctrl-C / SIGTERM).")
        for block in reversed(self.flow.resource_blocks):
            init = self.states.get(block.init_task)
            setup = self.states.get(block.setup_task) if block.setup_task else init
            cleanup = self.states.get(block.cleanup_task)
            if (
                init is not None
                and init.is_successful()
                and not init.is_cancelled()
                and setup is not None
                and setup.is_successful()
                and not setup.is_cancelled()
                and (cleanup is None or cleanup.is_cancelled())
            ):
                resource = setup.result if block.setup_task else None
                try:
                    init.result.cleanup(resource)
                    self.states[block.cleanup_task] = Success("Cleaned up after cancel.")
                except Exception as exc:
                    self.states[block.cleanup_task] = Failed(f"Cleanup after cancel: {exc}", exc)


def _mapped(children: list[State]) -> State:
    return Mapped(
        f"Mapped {len(children)} run(s).",
        result=[c.result for c in children],
        map_states=children,
    )


def _final_state(flow: Flow, states: Mapping[Task, State]) -> State:
    result = dict(states)
    if not all(states[t].is_finished() for t in flow.terminal_tasks()):
        return Running("Not all terminal tasks are finished.", result=result)
    reference = [states[t] for t in flow.reference_tasks()]
    if any(s.is_failed() for s in reference):
        return Failed("Some reference tasks failed.", result=result)
    if all(s.is_successful() for s in reference):
        return Success("All reference tasks succeeded.", result=result)
    return Success("No reference tasks failed.", result=result)


def run_flow(
    flow: Flow,
    values: Mapping[str, Any],
    *,
    task_states: Mapping[Task, State],
    resources: Any,
    instance: Any,
    executor: Any,
) -> State:
    """Run ``flow`` with ``executor`` (default: in this process); see :meth:`Flow.run`."""
    from .._execution.executors import check_executor

    check_executor(executor, f"flow {flow.name!r}")
    remote = executor is not None and executor.name != "in_process"
    _check_parameters(flow, values)
    order = flow.sorted_tasks()
    bindings = {**resource_bindings(flow.resources), **resource_bindings(resources)}
    needed = {r.key for t in order for r in t.params.resources}
    missing = sorted(needed - set(bindings))
    if missing:
        raise MissingResourceError(
            f"flow {flow.name!r} has tasks asking for resource(s) "
            f"{', '.join(repr(k) for k in missing)}, which are not bound."
            + did_you_mean(missing[0], bindings),
            keys=missing,
            hint="bind them with Flow(..., resources={...}) or flow.run(resources={...}).",
        )
    plan = ResourcePlan(bindings)
    reused = {
        task: state
        for task, state in task_states.items()
        if not any(task in (b.setup_task, b.cleanup_task) for b in flow.resource_blocks)
    }
    own_instance = instance is None
    inst: Instance = instance if instance is not None else Instance.ephemeral()
    try:
        run_id = begin_run(
            inst, flow.name, {"parameters": redacted_config(dict(values))}, {"kind": "flow"}
        )
        scope = RunScope(
            plan, run_id=run_id, instance=inst, listener=resource_listener(inst, run_id)
        )
        run = _FlowRun(flow, values, scope, inst, run_id)
        failure: BaseException | None = None
        closes: list[Reply] = []
        try:
            with _sigterm_as_cancel():
                if remote:
                    _run_on_workers(run, executor, plan, reused, closes)
                else:
                    scope.open(k for k in needed if plan.specs[k].scope is not Scope.STEP)
                    run.run_all(reused)
        except KeyboardInterrupt as exc:
            failure = exc
            run.cancel()
            scope.close(exc)
            inst.report_event(run_id, EventType.RUN_CANCELED, message=flow.name)
            inst.set_run_status(run_id, RunStatus.CANCELED)
            raise
        except BaseException as exc:  # a resource failed to open, or the workers to start
            failure = exc
            inst.report_event(
                run_id, EventType.RUN_FAILURE, message=scope.redact(f"{type(exc).__name__}: {exc}")
            )
            inst.set_run_status(run_id, RunStatus.FAILURE)
            raise
        finally:
            if failure is None:
                first_failed = next(
                    (
                        s.result
                        for s in run.states.values()
                        if s.is_failed() and isinstance(s.result, BaseException)
                    ),
                    None,
                )
                scope.close(first_failed)
            elif not isinstance(failure, KeyboardInterrupt):
                scope.close(failure)
            if run.loop is not None:
                run.loop.close()
        state = _final_state(flow, run.states)
        teardown_errors = record_closes(inst, run_id, closes)
        if teardown_errors and state.is_successful():
            state = Failed(
                "Resources failed to close in worker processes: " + "; ".join(teardown_errors),
                result=state.result,
            )
        ok = state.is_successful()
        inst.report_event(
            run_id,
            EventType.RUN_SUCCESS if ok else EventType.RUN_FAILURE,
            message=state.message or "",
        )
        inst.set_run_status(run_id, RunStatus.SUCCESS if ok else RunStatus.FAILURE)
        return state
    finally:
        if own_instance:
            inst.close()


def _run_on_workers(
    run: _FlowRun,
    executor: Any,
    plan: ResourcePlan,
    reused: Mapping[Task, State],
    closes: list[Reply],
) -> None:
    """Run the flow's task calls on the workers of ``executor``. Resource managers' tasks run
    here, in the coordinating process, so their resource is set up once and always cleaned
    up; values that tasks pass each other cross to the workers by pickling."""
    flow = run.flow
    local = {
        t
        for b in flow.resource_blocks
        for t in (b.init_task, b.setup_task, b.cleanup_task)
        if t is not None
    }
    order = flow.sorted_tasks()
    payload = RunPayload(
        run.run_id,
        plan,
        run.instance.storage_directory(),
        tasks=tuple(None if t in local or isinstance(t, Parameter) else t for t in order),
    )
    run.instance.flush()
    failure: list[str] = []
    with worker_pool(executor, payload, len(order), closes, failure) as pool:
        run.run_all_on(pool, reused, local)
        failure.extend(s.message or "" for s in run.states.values() if s.is_failed())
