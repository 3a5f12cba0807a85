"""Running one call of a node in this process: the step code every executor shares.

A :class:`StepRunner` belongs to one run in one process (the coordinating process, or one worker
of the run). :meth:`StepRunner.run` builds the call's arguments (context, config, resources from
the run scope or a step scope, inputs given by the run's policy or loaded through the I/O
manager), calls the node with its retries, stores the output through the I/O manager, and returns
an :class:`Outcome`: the value or the exception, and the step's events with their own
timestamps. What the outcome *means* (success, a skip signal, a failure that skips downstream
steps) is decided by the run's policy, not here.

This is the hot path of every run (``benchmarks/bench_chain.py``): keep it short.
"""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import Mapping
from types import CoroutineType
from typing import Any

from .._definitions.graph import NodeGraph
from .._definitions.node import NO_DEFAULT, InputSpec, NodeSpec
from .._definitions.outputs import WRAPPERS as _WRAPPERS
from .._definitions.outputs import MaterializeResult, Produced, collect_outputs, plain_metadata
from .._definitions.policy import retry_after
from .._flows.context import MAP_INDEX, TaskRunContext, enter_task, leave_task
from .._instance import EventType
from .._resources.context import capture_stdout
from .._resources.io_manager import InMemoryIOManager, InputContext, OutputContext, io_configs
from .._resources.markers import Scope
from .._resources.scope import RunScope
from .._resources.spec import ResourcePlan
from ..exceptions import InvocationError, TeardownError
from .context import AssetExecutionContext, OpExecutionContext, StepResources
from .live import InFlight
from .logs import RunLog
from .logs import leave_call as _leave
from .tracebacks import failure_details

__all__ = ["HaltingOutcome", "Outcome", "StepRunner", "resource_listener", "step_scoped"]

_START = EventType.STEP_START
_RETRY = EventType.STEP_RETRY
_HANDLED = EventType.HANDLED_OUTPUT
_MATERIALIZED = EventType.ASSET_MATERIALIZATION
_LOADED = EventType.LOADED_INPUT


def resource_listener(sink: Any, run_id: str, where: str = "") -> Any:
    """A scope listener that records resource opens, closes and failures through ``sink`` (an
    instance, or a worker's event buffer); ``where`` (e.g. ``pid 42``) goes in the message.
    A failure keeps its redacted message and traceback (:func:`failure_details`) once the
    listener's ``redactor`` is set to the scope's (``listener.redactor = scope.redactor``)."""
    return _ResourceListener(sink.report_event, run_id, where)


class _ResourceListener:
    __slots__ = ("redactor", "report", "run_id", "where")

    def __init__(self, report: Any, run_id: str, where: str) -> None:
        self.report = report
        self.run_id = run_id
        self.where = where
        self.redactor: Any = None

    def __call__(self, kind: str, key: str, seconds: float, error: BaseException | None) -> None:
        data = None
        if error is not None:
            event = EventType.RESOURCE_FAILURE
            data = failure_details(error, self.redactor)
            message = f"{self.where} {data['message']}".lstrip()
        else:
            event = EventType.RESOURCE_OPEN if kind == "open" else EventType.RESOURCE_CLOSE
            message = self.where
        self.report(
            self.run_id, event, resource_key=key, duration=seconds, message=message, data=data
        )


def step_scoped(graph: NodeGraph, plan: ResourcePlan) -> frozenset[str]:
    """Keys of the nodes that use a step-scoped resource (they get a step scope per call)."""
    specs = plan.specs
    if not any(s.scope is Scope.STEP for s in specs.values()):
        return frozenset()
    return frozenset(
        n.key
        for n in graph.nodes
        if any(k in specs and specs[k].scope is Scope.STEP for k in n.resource_keys)
    )


class Outcome:
    """How one call of a node ended: ``value`` or ``error`` (with its redacted ``message``),
    when it started and ended, and the events it produced (STEP_START unless the call is a
    mapped child, retries, I/O), not yet recorded. ``error`` says what the raised exception says
    with the run's secrets masked (a copy of the same type, or the exception itself when it
    quotes none); ``original`` is the exception as raised (in the process that ran the call
    only: it never crosses to another process). ``halts`` marks a call that could not start
    because its process's run scope failed to open a resource: that fails the whole run."""

    __slots__ = (
        "details",
        "end_ns",
        "error",
        "events",
        "message",
        "original",
        "start_ns",
        "value",
        "written",
    )

    halts = False

    def __init__(
        self,
        value: Any,
        error: BaseException | None,
        message: str,
        start_ns: int,
        end_ns: int,
        events: list[tuple[Any, ...]],
    ) -> None:
        self.value = value
        self.error = error
        self.message = message
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.events = events
        self.original = error
        self.details: dict[str, Any] | None = None
        """A failure's :func:`failure_details` (redacted text), built where it was raised."""
        self.written = 0
        """How many of ``events`` (the first ones) were already recorded while the call ran
        (see :mod:`~outfitter._execution.live`)."""

    @property
    def ok(self) -> bool:
        """Whether the call returned (its value may still be, say, a task's skip signal)."""
        return self.error is None

    @property
    def duration(self) -> float:
        """Seconds the call took, retries included."""
        return (self.end_ns - self.start_ns) / 1e9

    def __repr__(self) -> str:
        return f"Outcome({'ok' if self.error is None else self.message})"


class HaltingOutcome(Outcome):
    """The outcome of a call that could not start because its process's run scope failed to
    open a resource: it fails the whole run, as a failed setup does in process."""

    __slots__ = ()

    halts = True


class StepRunner:
    """Calls nodes of one run in this process against ``scope``.

    ``sink`` receives the I/O events that happen mid-step (an instance, or a worker's buffer);
    ``keep_outputs`` is False on workers, where outputs of nodes with an I/O manager stay in
    storage and are not sent back.
    """

    __slots__ = (
        "_io_logs",
        "configs",
        "flow",
        "instance",
        "io_config",
        "io_keys",
        "keep_outputs",
        "live",
        "logs",
        "loop",
        "run_config",
        "run_id",
        "scope",
        "sink",
        "step_scoped",
        "where",
    )

    def __init__(
        self,
        run_id: str,
        scope: RunScope,
        sink: Any,
        *,
        configs: Mapping[str, Any],
        run_config: Any,
        step_scoped: frozenset[str],
        keep_outputs: bool = True,
        instance: Any = None,
        logs: RunLog | None = None,
    ) -> None:
        self.run_id = run_id
        self.logs = logs  # the run's log in this process: step loggers, progress lines
        self.scope = scope
        self.sink = sink
        self.instance = sink if instance is None else instance
        self.configs = configs
        self.run_config = run_config
        self.step_scoped = step_scoped
        self.keep_outputs = keep_outputs
        self.loop: Any = None  # the event loop a sync run made for a stray coroutine
        self._io_logs: dict[str, Any] = {}
        self.live: InFlight | None = None
        """Where calls' events are followed while they run, when the run writes live."""
        self.io_config = io_configs(run_config)
        """Per-output and per-input I/O manager config (Dagster's ``ops.<op>.outputs`` /
        ``inputs``): ``context.config`` of the output and input contexts."""
        self.io_keys: Mapping[Any, str | None] = {}
        """Each node's I/O manager key: an input from this run is loaded through its
        upstream's (set from the run's graph)."""
        self.flow: Any = None
        """A flow run's :class:`~outfitter._flows.context.FlowRunInfo` (None in a job run): its
        tasks' calls then get a run context (``outfitter.context``)."""
        self.where: dict[str, Any] | None = None
        """The data of this runner's STEP_START events: ``{"pid": ...}`` on a worker process
        (None in the coordinator), so a run's timeline shows which process ran each step."""

    # -- arguments -----------------------------------------------------------------------------

    def _context(self, node: NodeSpec, scope: RunScope) -> OpExecutionContext:
        cls = AssetExecutionContext if node.kind == "asset" else OpExecutionContext
        return cls(
            step_key=node.key,
            run_id=self.run_id,
            resources=StepResources(scope, node.context_resource_keys, node.label),
            instance=self.instance,
            op_config=self.configs.get(node.key),
            run_config=self.run_config,
            asset_key=node.asset_key,
            logs=self.logs,
        )

    def _kwargs(
        self, node: NodeSpec, scope: RunScope, values: Mapping[str, Any], events: list[Any]
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        params = node.params
        if params.context is not None:
            kwargs[params.context] = self._context(node, scope)
        if params.config is not None:
            kwargs[params.config] = self.configs.get(node.key)
        get = scope.get
        for res in params.resources:
            kwargs[res.key] = get(res.key)
        for inp in node.inputs:
            name = inp.name
            if name in values:
                kwargs[name] = values[name]
            elif inp.value is not NO_DEFAULT:
                kwargs[name] = inp.value
            else:
                kwargs[name] = self._load_input(node, inp, scope, events)
        return kwargs

    def _load_input(
        self, node: NodeSpec, inp: InputSpec, scope: RunScope, events: list[Any]
    ) -> Any:
        """Load an input through an I/O manager: an upstream step's output from this run
        through that step's I/O manager (as Dagster loads it, unless it is the in-memory one,
        whose values the policy hands over), or an asset stored by an earlier run through
        this step's."""
        key = node.io_manager_key
        output = inp.upstream_output
        if inp.input_manager_key is not None:  # In(input_manager_key=...): its manager loads it
            key = inp.input_manager_key
        elif inp.upstream is not None:
            source = inp.upstream if output is None else (inp.upstream, output)
            key = self.io_keys.get(source) or key
        assert key is not None, "nodes without an I/O manager get every input from the policy"
        manager = scope.get(key)
        upstream = None
        if inp.upstream is not None:
            upstream = OutputContext(
                step_key=inp.upstream,
                name=output or "result",
                asset_key=inp.asset_key,
                run_id=self.run_id,
            )
        context = InputContext(
            name=inp.name,
            asset_key=inp.asset_key,
            upstream_output=upstream,
            step_key=node.key,
            run_id=self.run_id,
            resources=StepResources(scope, node.context_resource_keys, node.label),
            log=self._io_log(key, scope),
            config=self.io_config.get((node.key, "inputs", inp.name)),
            metadata={},
            instance=self.instance,
        )
        value = manager.load_input(context)
        events.append((time.time_ns() // 1000, _LOADED, node.key, None, inp.name, None, None))
        return value

    def _io_log(self, key: str, scope: RunScope) -> Any:
        """The logger of I/O manager ``key``'s contexts: the run's (recorded as LOG events of
        the resource and the step), or the resource's own outside a run's log."""
        log = self._io_logs.get(key)
        if log is None:
            logs = self.logs
            log = scope.plan.specs[key].log if logs is None else logs.io_logger(key)
            self._io_logs[key] = log
        return log

    def _store(self, node: NodeSpec, value: Any, scope: RunScope, events: list[Any]) -> int:
        """Hand the output to the node's I/O manager; returns when that finished (ns)."""
        key = node.io_manager_key
        assert key is not None
        manager = scope.get(key)
        if manager.__class__ is InMemoryIOManager:  # it reads only where the output goes
            manager.keep_output(self.run_id, node.key, node.asset_key, value)
        else:
            log = self._io_logs.get(key)
            if log is None:
                log = self._io_log(key, scope)
            context = OutputContext(
                step_key=node.key,
                name="result",
                asset_key=node.asset_key,
                run_id=self.run_id,
                resources=StepResources(scope, node.context_resource_keys, node.label),
                log=log,
                config=self.io_config.get((node.key, "outputs", "result"))
                if self.io_config
                else None,
                instance=self.instance,
            )
            manager.handle_output(context, value)
        end_ns = time.time_ns()
        end_us = end_ns // 1000
        events.append((end_us, _HANDLED, node.key, None, "", None, None))
        if node.asset_key is not None:
            text = node.asset_key.to_user_string()
            events.append((end_us, _MATERIALIZED, node.key, None, text, None, None))
        return end_ns

    def _store_outputs(
        self, node: NodeSpec, value: Any, scope: RunScope, events: list[Any]
    ) -> tuple[Any, int]:
        """The output path of a node with declared outputs, or of one that returned an
        ``Output`` / ``MaterializeResult``: each output produced goes to its own I/O manager
        (not a MaterializeResult's) with its own events. Returns the value to keep (a dict of
        output name to value for a node with declared outputs; on workers only the names
        produced, with None) and when the step ended (ns)."""
        if node.outputs is None:  # one classic output, wrapped
            name, io_key, asset_key = "result", node.io_manager_key, node.asset_key
            if isinstance(value, MaterializeResult):  # the asset stored itself: nothing to store
                produced = {name: Produced(None, value.metadata, False)}
            elif value.output_name != name:
                raise InvocationError(
                    f"{node.label} returned Output(output_name={value.output_name!r}), but its "
                    "one output is 'result'",
                    hint="drop output_name, or declare the output: "
                    f"out={{{value.output_name!r}: Out()}} (an op) / multi_asset(outs=...).",
                )
            else:
                produced = {name: Produced(value.value, value.metadata, True)}
            specs = {name: (io_key, asset_key, None)}
        else:
            produced = collect_outputs(node, value)
            specs = {o.name: (o.io_manager_key, o.asset_key, o.metadata) for o in node.outputs}
        end_ns = time.time_ns()
        for name, item in produced.items():
            io_key, asset_key, declared = specs[name]
            data = {"metadata": plain_metadata(item.metadata)} if item.metadata else None
            if item.store:
                assert io_key is not None
                manager = scope.get(io_key)
                context = OutputContext(
                    step_key=node.key,
                    name=name,
                    asset_key=asset_key,
                    run_id=self.run_id,
                    resources=StepResources(scope, node.context_resource_keys, node.label),
                    log=self._io_logs.get(io_key) or self._io_log(io_key, scope),
                    config=self.io_config.get((node.key, "outputs", name)),
                    metadata=declared,
                    instance=self.instance,
                )
                manager.handle_output(context, item.value)
                end_ns = time.time_ns()
                events.append((end_ns // 1000, _HANDLED, node.key, None, name, None, data))
            if asset_key is not None:
                text = asset_key.to_user_string()
                events.append((end_ns // 1000, _MATERIALIZED, node.key, None, text, None, data))
        if node.outputs is None:
            return (produced["result"].value if self.keep_outputs else None), end_ns
        if self.keep_outputs:
            return {name: item.value for name, item in produced.items()}, end_ns
        return dict.fromkeys(produced), end_ns  # which outputs were produced

    # -- one call ------------------------------------------------------------------------------

    def _retry(
        self, node: NodeSpec, exc: Exception, attempt: int, started: int, events: list[Any]
    ) -> float | None:
        """Seconds to wait before calling again after ``exc`` (None: no retry, raise it);
        records the STEP_RETRY event when it retries."""
        retry = retry_after(node, exc, attempt)
        if retry is None:
            return None
        limit, wait = retry
        details = failure_details(exc, self.scope.redactor)
        message = f"retry {attempt} of {limit}: " + details["message"]
        if wait:
            message += f" (next attempt in {wait:.3g}s)"
        now = time.time_ns()
        duration = (now - started) / 1e9
        events.append((now // 1000, _RETRY, node.key, None, message, duration, details))
        return wait

    def _begin(
        self, node: NodeSpec, announce: bool
    ) -> tuple[int, list[Any], RunScope | None, RunScope]:
        """A call's start time, its event list (with STEP_START when ``announce``), and the
        scope its resources come from (a step scope when it uses step-scoped resources)."""
        start_ns = time.time_ns()
        events: list[Any] = (
            [(start_ns // 1000, _START, node.key, None, "", None, self.where)] if announce else []
        )
        step_scope = self.scope.step_scope() if node.key in self.step_scoped else None
        return start_ns, events, step_scope, step_scope or self.scope

    def _handoff(
        self, node: NodeSpec, value: Any, scope: RunScope, events: list[Any]
    ) -> tuple[Any, int]:
        """After a successful call: the output to the node's I/O manager (if it has one);
        returns the value to keep and when the step ended (0: not yet known)."""
        if node.io_manager_key is None:
            return value, 0
        if node.outputs is not None or value.__class__ in _WRAPPERS:
            return self._store_outputs(node, value, scope, events)
        end_ns = self._store(node, value, scope, events)
        return (value if self.keep_outputs else None), end_ns

    def _ended(
        self, value: Any, error: BaseException | None, start_ns: int, end_ns: int, events: list[Any]
    ) -> Outcome:
        if error is None:
            return Outcome(value, None, "", start_ns, end_ns or time.time_ns(), events)
        return self._failure(error, start_ns, events)

    def run(self, node: NodeSpec, values: Mapping[str, Any], announce: bool = True) -> Outcome:
        """One call of ``node`` (with its retries). ``values`` are the inputs the policy gives;
        ``announce`` adds the STEP_START event (a mapped child's parent announces itself).
        Ctrl-C / SIGTERM propagate, after the call's step-scoped resources closed seeing it.

        The hot path of every in-process run: :meth:`_begin`, :meth:`_handoff` and
        :meth:`_ended` are written out here (each call costs ~1% per step), :meth:`arun`
        uses them."""
        start_ns = time.time_ns()
        events: list[Any] = (
            [(start_ns // 1000, _START, node.key, None, "", None, self.where)] if announce else []
        )
        live = self.live
        if live is not None:
            live.begin(events)
        logs, token = self.logs, None
        if logs is not None:  # records of this call go into its events
            if announce and logs.progress:
                logs.started(node.kind, node.key, node.name)
            token = logs.enter(node.key, events)
        flow, task, task_token = self.flow, None, None
        if flow is not None:  # a flow task's run context (outfitter.context)
            task = TaskRunContext(flow, node.name, node.key, node.tags, values.get(MAP_INDEX))
            task_token = enter_task(task)
        step_scope = self.scope.step_scope() if node.key in self.step_scoped else None
        scope = step_scope or self.scope
        value: Any = None
        error: BaseException | None = None
        attempt = 0
        end_ns = 0  # set by the I/O manager's handoff, which ends a successful step
        try:
            while True:
                attempt += 1
                if task is not None:
                    task.task_run_count = attempt
                try:
                    if node.log_stdout:
                        with capture_stdout():
                            value = node.fn(**self._kwargs(node, scope, values, events))
                            if isinstance(value, CoroutineType):
                                value = self._await(value)
                    else:
                        value = node.fn(**self._kwargs(node, scope, values, events))
                        if isinstance(value, CoroutineType):
                            value = self._await(value)
                    break
                except Exception as exc:
                    wait = self._retry(node, exc, attempt, start_ns, events)
                    if wait is None:
                        raise
                    if wait:
                        time.sleep(wait)
            if node.io_manager_key is not None:
                if node.outputs is None and value.__class__ not in _WRAPPERS:
                    end_ns = self._store(node, value, scope, events)
                    if not self.keep_outputs:
                        value = None
                else:  # declared outputs, or a returned Output / MaterializeResult
                    value, end_ns = self._store_outputs(node, value, scope, events)
        except Exception as exc:
            error = exc
        except BaseException as exc:
            if step_scope is not None:
                with contextlib.suppress(TeardownError):
                    step_scope.close(exc)
            if token is not None:
                _leave(token)
            if task_token is not None:
                leave_task(task_token)
            if live is not None:
                live.finish(events)
            raise
        if step_scope is not None:
            end_ns = 0  # the step ends once its step-scoped resources closed
            try:
                step_scope.close(error)
            except TeardownError as teardown:  # fails a step that had not failed
                error = error or teardown
        if token is not None:
            _leave(token)
        if task_token is not None:
            leave_task(task_token)
        if error is None:
            outcome = Outcome(value, None, "", start_ns, end_ns or time.time_ns(), events)
        else:
            outcome = self._failure(error, start_ns, events)
        if live is not None:
            outcome.written = live.finish(events)
        return outcome

    async def arun(
        self, node: NodeSpec, values: Mapping[str, Any], announce: bool = True
    ) -> Outcome:
        """Async twin of :meth:`run`: resources (async ones too) open on this loop, and an async
        node is awaited (its retries wait without blocking the loop), so other async nodes
        overlap with it."""
        start_ns, events, step_scope, scope = self._begin(node, announce)
        live = self.live
        if live is not None:
            live.begin(events)
        logs, token = self.logs, None
        if logs is not None:
            if announce and logs.progress:
                logs.started(node.kind, node.key, node.name)
            token = logs.enter(node.key, events)
        flow, task, task_token = self.flow, None, None
        if flow is not None:
            task = TaskRunContext(flow, node.name, node.key, node.tags, values.get(MAP_INDEX))
            task_token = enter_task(task)
        value: Any = None
        error: BaseException | None = None
        attempt = 0
        end_ns = 0
        try:
            for key in node.resource_keys:
                await scope.aget(key)
            while True:
                attempt += 1
                if task is not None:
                    task.task_run_count = attempt
                try:
                    with capture_stdout() if node.log_stdout else contextlib.nullcontext():
                        value = node.fn(**self._kwargs(node, scope, values, events))
                        if inspect.isawaitable(value):
                            value = await value
                    break
                except Exception as exc:
                    wait = self._retry(node, exc, attempt, start_ns, events)
                    if wait is None:
                        raise
                    if wait:
                        import asyncio  # a retry's delay, never the step's normal path

                        await asyncio.sleep(wait)
            value, end_ns = self._handoff(node, value, scope, events)
        except Exception as exc:
            error = exc
        except BaseException as exc:  # Ctrl-C, SIGTERM, or the run canceling this step
            if step_scope is not None:
                with contextlib.suppress(TeardownError):
                    await step_scope.aclose(exc)
            if token is not None:
                _leave(token)
            if task_token is not None:
                leave_task(task_token)
            if live is not None:
                live.finish(events)
            raise
        if step_scope is not None:
            end_ns = 0
            try:
                await step_scope.aclose(error)
            except TeardownError as teardown:  # fails a step that had not failed
                error = error or teardown
        if token is not None:
            _leave(token)
        if task_token is not None:
            leave_task(task_token)
        outcome = self._ended(value, error, start_ns, end_ns, events)
        if live is not None:
            outcome.written = live.finish(events)
        return outcome

    def failed(self, node: NodeSpec, error: BaseException, announce: bool = True) -> Outcome:
        """The outcome of a call that could not start: the run-scoped resources it needs did
        not open in this process (it halts the run)."""
        start_ns = time.time_ns()
        events: list[Any] = (
            [(start_ns // 1000, _START, node.key, None, "", None, self.where)] if announce else []
        )
        secrets = self.scope.redactor
        message = secrets(f"{type(error).__name__}: {error}")
        outcome = HaltingOutcome(
            None, secrets.exception(error), message, start_ns, time.time_ns(), events
        )
        outcome.original = error
        outcome.details = failure_details(error, secrets)
        return outcome

    def _failure(self, error: BaseException, start_ns: int, events: list[Any]) -> Outcome:
        secrets = self.scope.redactor
        outcome = Outcome(
            None,
            secrets.exception(error),
            secrets(f"{type(error).__name__}: {error}"),
            start_ns,
            time.time_ns(),
            events,
        )
        outcome.original = error
        outcome.details = failure_details(error, secrets)
        return outcome

    def _await(self, awaitable: Any) -> Any:
        """A coroutine returned by a node in a run without an event loop (a sync function
        returning one): run it on a loop kept for the run."""
        if self.loop is None:
            import asyncio  # once per run, for a run that meets a stray coroutine

            self.loop = asyncio.new_event_loop()
        return self.loop.run_until_complete(awaitable)
