"""The in-process run engine: executes a graph of NodeSpecs against one run scope and records
the run and its events in an instance.

The per-step path is kept short (it is measured by ``benchmarks/bench_chain.py``): resources
come from the scope's dict, inputs from the in-memory outputs of this run, events go to the
instance's buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from .._config.run_config import RunConfig
from .._definitions.node import NO_DEFAULT, NodeSpec
from .._instance import EventType, Instance, RunStatus
from .._resources.io_manager import InputContext, OutputContext
from .._resources.markers import Scope
from ..exceptions import ConfigError, OutfitterError, TeardownError
from .context import AssetExecutionContext, OpExecutionContext, StepResources
from .result import ExecuteResult, StepFailure
from .scope import PROCESS_SCOPE, RunScope, plan_for

if TYPE_CHECKING:
    from .._resources.spec import ResourcePlan

__all__ = ["RunCanceled", "execute_nodes", "step_configs"]


_HANDLED = EventType.HANDLED_OUTPUT
_MATERIALIZED = EventType.ASSET_MATERIALIZATION
_SUCCESS = EventType.STEP_SUCCESS
_START = EventType.STEP_START
_FAILURE = EventType.STEP_FAILURE


class RunCanceled(KeyboardInterrupt):
    """Raised in the run's thread when the process receives SIGTERM during a run."""


@contextlib.contextmanager
def _sigterm_as_cancel() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise RunCanceled("SIGTERM received")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _ops_config(run_config: RunConfig | Mapping[str, Any] | None) -> dict[str, Any]:
    if run_config is None:
        return {}
    if isinstance(run_config, RunConfig):
        return dict(run_config.ops)
    ops = run_config.get("ops") or {}
    return {
        name: (entry["config"] if isinstance(entry, Mapping) and "config" in entry else entry)
        for name, entry in ops.items()
    }


def step_configs(
    nodes: Sequence[NodeSpec], run_config: RunConfig | Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[str]]:
    """Validated ``config`` values by node key, and the problems found (all of them)."""
    given = _ops_config(run_config)
    by_name = {n.key: n for n in nodes}
    problems = [
        f"run config for step {name!r}, which is not part of this run"
        for name in given
        if name not in by_name
    ]
    configs: dict[str, Any] = {}
    for node in nodes:
        if node.params.config is None:
            continue
        config_type = node.config_type
        raw = given.get(node.key)
        if config_type is None:
            configs[node.key] = raw
            continue
        if isinstance(raw, config_type):
            configs[node.key] = raw
            continue
        try:
            configs[node.key] = config_type.model_validate(raw or {})
        except Exception as exc:  # pydantic ValidationError
            errors = getattr(exc, "errors", None)
            if errors is None:
                problems.append(f"step {node.key!r}: {exc}")
                continue
            for err in errors(include_url=False, include_input=False, include_context=False):
                loc = ".".join(str(p) for p in err["loc"]) or "<config>"
                problems.append(f"step {node.key!r}, config field '{loc}': {err['msg']}")
    return configs, problems


class _Run:
    """One execution: the mutable state of a run, kept off the definitions."""

    def __init__(
        self,
        nodes: Sequence[NodeSpec],
        scope: RunScope,
        instance: Instance,
        run_id: str,
        configs: dict[str, Any],
        run_config: Any,
    ) -> None:
        self.nodes = nodes
        self.scope = scope
        self.instance = instance
        self.run_id = run_id
        self.configs = configs
        self.run_config = run_config
        self.outputs: dict[str, Any] = {}
        self.failures: dict[str, StepFailure] = {}
        self.skipped: set[str] = set()
        self.report = instance.report_event
        self.record = instance.record_events
        self.loop: asyncio.AbstractEventLoop | None = None
        self._io_logs: dict[str, Any] = {}

    # -- one step ------------------------------------------------------------------------------

    def _context(self, node: NodeSpec, scope: RunScope) -> OpExecutionContext:
        owner = f"{node.kind} {node.key!r}"
        cls = AssetExecutionContext if node.asset_key is not None else OpExecutionContext
        return cls(
            step_key=node.key,
            run_id=self.run_id,
            resources=StepResources(scope, node.context_resource_keys, owner),
            instance=self.instance,
            op_config=self.configs.get(node.key),
            run_config=self.run_config,
            asset_key=node.asset_key,
        )

    def _kwargs(self, node: NodeSpec, scope: RunScope) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        params = node.params
        if params.context is not None:
            kwargs[params.context] = self._context(node, scope)
        if params.config is not None:
            kwargs[params.config] = self.configs.get(node.key)
        for res in params.resources:
            kwargs[res.key] = scope.get(res.key)
        outputs = self.outputs
        for inp in node.inputs:
            if inp.upstream is not None and inp.upstream in outputs:
                kwargs[inp.name] = outputs[inp.upstream]
            elif inp.value is not NO_DEFAULT:
                kwargs[inp.name] = inp.value
            else:
                kwargs[inp.name] = self._load_input(node, inp, scope)
        return kwargs

    def _load_input(self, node: NodeSpec, inp: Any, scope: RunScope) -> Any:
        """Load an input through the step's I/O manager: an asset stored by an earlier run, or
        (on executors with worker processes) an upstream step's output from this run."""
        manager = scope.get(node.io_manager_key)
        upstream = None
        if inp.upstream is not None:
            upstream = OutputContext(
                step_key=inp.upstream, name="result", asset_key=inp.asset_key, run_id=self.run_id
            )
        name = inp.name
        context = InputContext(
            name=name,
            asset_key=inp.asset_key,
            upstream_output=upstream,
            step_key=node.key,
            run_id=self.run_id,
            resources=StepResources(scope, node.context_resource_keys, f"step {node.key!r}"),
            log=scope.plan.specs[node.io_manager_key].log,
            config=self.configs.get(node.key),
            metadata={},
            instance=self.instance,
        )
        value = manager.load_input(context)
        self.report(self.run_id, EventType.LOADED_INPUT, step_key=node.key, message=name)
        return value

    def _handle_output(self, node: NodeSpec, value: Any, scope: RunScope) -> None:
        key = node.io_manager_key
        manager = scope.get(key)
        log = self._io_logs.get(key)
        if log is None:
            log = self._io_logs[key] = scope.plan.specs[key].log
        context = OutputContext(
            step_key=node.key,
            name="result",
            asset_key=node.asset_key,
            run_id=self.run_id,
            resources=StepResources(scope, node.context_resource_keys, node.key),
            log=log,
            config=self.configs.get(node.key),
            instance=self.instance,
        )
        manager.handle_output(context, value)

    def _finish_events(self, node: NodeSpec, start_ns: int, start: bool) -> list[Any]:
        """The events of a successful step (with its STEP_START when ``start``)."""
        end_ns = time.time_ns()
        key = node.key
        end_us = end_ns // 1000
        duration = (end_ns - start_ns) / 1e9
        events: list[Any] = [(start_ns // 1000, _START, key, None, "", None, None)] if start else []
        events.append((end_us, _HANDLED, key, None, "", None, None))
        if node.asset_key is not None:
            text = node.asset_key.to_user_string()
            events.append((end_us, _MATERIALIZED, key, None, text, None, None))
        events.append((end_us, _SUCCESS, key, None, "", duration, None))
        return events

    def _fail_step(
        self, node: NodeSpec, exc: BaseException, start_ns: int, *, start: bool = False
    ) -> None:
        message = self.scope.redact(f"{type(exc).__name__}: {exc}")
        self.failures[node.key] = StepFailure(node.key, exc, message)
        end_ns = time.time_ns()
        events: list[Any] = (
            [(start_ns // 1000, _START, node.key, None, "", None, None)] if start else []
        )
        events.append(
            (end_ns // 1000, _FAILURE, node.key, None, message, (end_ns - start_ns) / 1e9, None)
        )
        self.record(self.run_id, events)

    def _blocked(self, node: NodeSpec) -> bool:
        for up in node.upstream:
            if up in self.failures or up in self.skipped:
                self.skipped.add(node.key)
                self.report(
                    self.run_id,
                    EventType.STEP_SKIPPED,
                    step_key=node.key,
                    message=f"upstream step {up!r} did not succeed",
                )
                return True
        return False

    def run_sync_step(self, node: NodeSpec) -> None:
        # Steps run one at a time here, so a step's events are recorded in one batch when it
        # ends (STEP_START keeps its own timestamp).
        if (self.failures or self.skipped) and self._blocked(node):
            return
        start_ns = time.time_ns()
        step_scope = self.scope.step_scope() if node.key in self.step_scoped else None
        scope = step_scope or self.scope
        error: BaseException | None = None
        try:
            value = node.fn(**self._kwargs(node, scope))
            if isinstance(value, CoroutineType):
                value = self._await(value)
            self._handle_output(node, value, scope)
            if self.outputs_kept:
                self.outputs[node.key] = value
            self.record(self.run_id, self._finish_events(node, start_ns, True))
        except Exception as exc:
            error = exc
            self._fail_step(node, exc, start_ns, start=True)
        finally:
            if step_scope is not None:
                try:
                    step_scope.close(error)
                except TeardownError as teardown:
                    if error is None:
                        self._fail_step(node, teardown, start_ns)

    def _await(self, awaitable: Any) -> Any:
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
        return self.loop.run_until_complete(awaitable)

    async def run_async_step(self, node: NodeSpec) -> None:
        if (self.failures or self.skipped) and self._blocked(node):
            return
        start_ns = time.time_ns()
        self.record(self.run_id, [(start_ns // 1000, _START, node.key, None, "", None, None)])
        step_scope = self.scope.step_scope() if node.key in self.step_scoped else None
        scope = step_scope or self.scope
        error: BaseException | None = None
        try:
            for res in node.params.resources:
                await scope.aget(res.key)
            value = node.fn(**self._kwargs(node, scope))
            if inspect.isawaitable(value):
                value = await value
            self._handle_output(node, value, scope)
            self.outputs[node.key] = value
            self.record(self.run_id, self._finish_events(node, start_ns, False))
        except Exception as exc:
            error = exc
            self._fail_step(node, exc, start_ns)
        finally:
            if step_scope is not None:
                try:
                    await step_scope.aclose(error)
                except TeardownError as teardown:
                    if error is None:
                        self._fail_step(node, teardown, start_ns)

    step_scoped: frozenset[str] = frozenset()
    outputs_kept = True  # a worker process hands outputs to the I/O manager only

    # -- the whole graph -----------------------------------------------------------------------

    def run_all(self) -> None:
        if any(n.params.is_async for n in self.nodes):
            if self.loop is None:
                self.loop = asyncio.new_event_loop()
            self.loop.run_until_complete(self._run_all_async())
            return
        for node in self.nodes:
            self.run_sync_step(node)

    async def _run_all_async(self) -> None:
        """Async steps whose upstream is done run concurrently; sync steps run in order."""
        pending = {n.key: n for n in self.nodes}
        done: set[str] = set()
        running: dict[asyncio.Task[None], str] = {}
        while pending or running:
            ready = [n for n in pending.values() if all(u in done for u in n.upstream)]
            for node in ready:
                del pending[node.key]
                if node.params.is_async:
                    running[asyncio.ensure_future(self.run_async_step(node))] = node.key
                else:
                    await self.run_async_step(node)
                    done.add(node.key)
            if running:
                finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    done.add(running.pop(task))
                    task.result()
            elif pending and not ready:  # pragma: no cover - graphs are validated acyclic
                raise RuntimeError("run graph has unreachable steps")


def execute_nodes(
    job_name: str,
    nodes: Sequence[NodeSpec],
    resources: Any,
    *,
    run_config: RunConfig | Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    tags: Mapping[str, str] | None = None,
    raise_on_error: bool = True,
    executor: Any = None,
) -> ExecuteResult:
    """Run ``nodes`` (in topological order) with ``executor`` (default: in this process, with
    one run scope)."""
    plan: ResourcePlan = plan_for(resources)
    configs, problems = step_configs(nodes, run_config)
    needed = {k for n in nodes for k in n.resource_keys}
    try:
        bound = plan.bind(_launch(run_config), needed)
    except ConfigError as exc:
        problems = list(exc.problems) + problems
        bound = plan
    if problems:
        raise ConfigError(
            f"{len(problems)} problem(s) in the run config of {job_name!r}",
            problems=problems,
            hint="fix every item listed; nothing was run.",
        )
    own_instance = instance is None
    inst = instance if instance is not None else Instance.ephemeral()
    remote = executor is not None and getattr(executor, "name", "in_process") != "in_process"
    args = (job_name, nodes, bound, inst, configs, run_config, tags, raise_on_error, own_instance)
    try:
        if remote:
            from .coordinator import run_on_pool

            return run_on_pool(*args, executor=executor)
        return _execute(*args)
    finally:
        if own_instance:
            inst.close()


def _launch(run_config: Any) -> Any:
    from .._config.run_config import resource_launch_config

    return resource_launch_config(run_config)


def _execute(
    job_name: str,
    nodes: Sequence[NodeSpec],
    plan: ResourcePlan,
    instance: Instance,
    configs: dict[str, Any],
    run_config: Any,
    tags: Mapping[str, str] | None,
    raise_on_error: bool,
    read_events_now: bool,
) -> ExecuteResult:
    run_id = begin_run(instance, job_name, run_config, tags)
    scope = RunScope(
        plan,
        run_id=run_id,
        instance=instance,
        listener=resource_listener(instance, run_id),
        parent=PROCESS_SCOPE.get(),
    )
    run = _Run(nodes, scope, instance, run_id, configs, run_config)
    run.step_scoped = frozenset(
        n.key
        for n in nodes
        if any(k in plan.specs and plan.specs[k].scope is Scope.STEP for k in n.resource_keys)
    )
    run_error: BaseException | None = None
    canceled = False
    teardown_error: TeardownError | None = None
    try:
        with _sigterm_as_cancel():
            try:
                needed = {
                    k
                    for n in nodes
                    for k in n.resource_keys
                    if k in plan.specs and plan.specs[k].scope is not Scope.STEP
                }
                if any(plan.specs[k].lifecycle.is_async for k in needed):
                    run.loop = asyncio.new_event_loop()
                    run.loop.run_until_complete(scope.aopen(needed))
                else:
                    scope.open(needed)
                run.run_all()
            except KeyboardInterrupt as exc:
                canceled = True
                run_error = exc
            except OutfitterError as exc:  # a resource failed to open: no step runs
                run_error = exc
            finally:
                # Context-manager resources see what failed the run (a step's exception too),
                # so they can roll back instead of committing.
                failure = run_error
                if failure is None and run.failures:
                    failure = next(iter(run.failures.values())).error
                try:
                    if run.loop is not None:
                        run.loop.run_until_complete(scope.aclose(failure))
                    else:
                        scope.close(failure)
                except TeardownError as exc:
                    teardown_error = exc
                if run.loop is not None:
                    run.loop.close()
    except KeyboardInterrupt as exc:  # a second signal while closing
        canceled, run_error = True, exc
    return finish_run(
        instance,
        run_id,
        job_name,
        nodes,
        outputs=run.outputs,
        failures=run.failures,
        run_error=run_error,
        teardown_error=teardown_error,
        canceled=canceled,
        read_events_now=read_events_now,
        raise_on_error=raise_on_error,
    )


def begin_run(instance: Instance, name: str, run_config: Any, tags: Any) -> str:
    """Create a run record, mark it started and record RUN_START; returns the run id."""
    run_id = instance.create_run(name, run_config=run_config, tags=dict(tags or {})).run_id
    instance.set_run_status(run_id, RunStatus.STARTED)
    instance.report_event(run_id, EventType.RUN_START, message=name)
    return run_id


def resource_listener(sink: Any, run_id: str, where: str = "") -> Any:
    """A scope listener that records resource opens, closes and failures through ``sink`` (an
    instance, or a worker's event buffer); ``where`` (e.g. ``pid 42``) goes in the message."""
    report = sink.report_event

    def listener(kind: str, key: str, seconds: float, error: BaseException | None) -> None:
        if error is not None:
            event = EventType.RESOURCE_FAILURE
            message = f"{where} {type(error).__name__}".lstrip()
        else:
            event = EventType.RESOURCE_OPEN if kind == "open" else EventType.RESOURCE_CLOSE
            message = where
        report(run_id, event, resource_key=key, duration=seconds, message=message)

    return listener


def finish_run(
    instance: Instance,
    run_id: str,
    job_name: str,
    nodes: Sequence[NodeSpec],
    *,
    outputs: dict[str, Any],
    failures: dict[str, StepFailure],
    run_error: BaseException | None,
    teardown_error: OutfitterError | None,
    canceled: bool,
    read_events_now: bool,
    raise_on_error: bool,
) -> ExecuteResult:
    """Record how a run ended (its status and last events) and build its result; re-raise a
    cancel, and with ``raise_on_error`` the first failure."""
    if canceled:
        status, event = RunStatus.CANCELED, EventType.RUN_CANCELED
    elif run_error is not None or failures or teardown_error is not None:
        status, event = RunStatus.FAILURE, EventType.RUN_FAILURE
    else:
        status, event = RunStatus.SUCCESS, EventType.RUN_SUCCESS
    if teardown_error is not None:
        instance.report_event(run_id, EventType.RUN_FAILURE, message=str(teardown_error))
    instance.report_event(run_id, event, message=job_name)
    instance.set_run_status(run_id, status)
    result = ExecuteResult(
        run_id=run_id,
        success=status is RunStatus.SUCCESS,
        outputs=outputs,
        nodes={n.key: n for n in nodes},
        failures=failures,
        run_error=run_error,
        teardown_error=teardown_error,
        run=instance.get_run(run_id),
        events=instance.all_events(run_id) if read_events_now else None,
        instance=instance,
    )
    if canceled:
        raise run_error if isinstance(run_error, KeyboardInterrupt) else KeyboardInterrupt()
    if raise_on_error and not result.success:
        result.raise_first_error()
    return result
