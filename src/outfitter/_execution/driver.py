"""The run driver: one run's whole life, the same for jobs and flows on every executor.

:func:`drive` takes a validated :class:`Launch` (nothing is recorded for an invalid one) and:
begins the run record, opens the run scope, dispatches ready steps (in this process, sync or on
an event loop, or to the workers of a multiprocess or Dask pool), closes the scope, and finishes
the record. What is ready, what a failure does downstream and what the run returns belong to the
run's policy (:mod:`outfitter._execution.policies`) over its pure state
(:mod:`outfitter._execution.state`); step calls go through the shared
:class:`~outfitter._execution.step.StepRunner`.

Every way out ends the record: success, failed steps, a resource that fails to open or close, a
pool that fails to start, Ctrl-C and SIGTERM (CANCELED, after every open resource closed and, for
flows, every pending resource-manager cleanup ran), and a failure of the driver itself (FAILURE,
then the error propagates).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._config.redaction import secret_values
from .._definitions.graph import NodeGraph
from .._definitions.node import NodeSpec, io_manager_keys
from .._instance import EventType, Instance, RunStatus
from .._interrupts import RunCanceled, deferred_interrupts, on_interrupt
from .._resources.markers import Scope
from .._resources.scope import PROCESS_SCOPE, RunScope
from .._resources.spec import ResourcePlan
from ..exceptions import OutfitterError, TeardownError
from .executors import ExecutorDefinition
from .heartbeat import every, heartbeat, sigterm_handled_by_host
from .live import LIVE_INTERVAL, InFlight
from .logs import RunLog, configured_level, console_handler
from .policies import FlowPolicy
from .state import Policy, Resolved, RunState
from .step import Outcome, StepRunner, resource_listener, step_scoped
from .tracebacks import failure_details

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "LIVE_INTERVAL",
    "Launch",
    "RunCanceled",
    "RunEnd",
    "begin_run",
    "drive",
    "live_events",
    "sigterm_as_cancel",
]


def writes_live(instance: Any) -> bool:
    """Whether a run on ``instance`` writes its events while it runs: only to a database
    file another process can read (not an in-memory instance, nor a stand-in)."""
    return not getattr(instance, "in_memory", True) and hasattr(instance, "unflushed")


@contextlib.contextmanager
def live_events(
    instance: Any, interval: float = LIVE_INTERVAL, inflight: InFlight | None = None
) -> Iterator[None]:
    """While the block runs, a daemon thread writes the instance's buffered events every
    ``interval`` seconds when there are any (one transaction per write), so another process
    reading the instance follows a running run; with ``inflight``, the events running calls
    gathered so far are recorded first (a long step's start and log records show while it
    runs). An in-memory instance, which no other process can read, is left alone; a write
    that fails is logged and retried at the next tick.

    Example:
        >>> from outfitter import Instance
        >>> with Instance.ephemeral() as instance, live_events(instance):
        ...     pass
    """
    if not writes_live(instance):
        yield
        return

    def flushes() -> None:
        if inflight is not None:
            inflight.drain()
        if instance.unflushed:
            instance.flush()

    with every(interval, flushes, "outfitter-live-events", "writing events"):
        yield


@contextlib.contextmanager
def sigterm_as_cancel() -> Iterator[None]:
    """While the block runs (in the main thread), SIGTERM raises :class:`RunCanceled` and Ctrl-C
    raises KeyboardInterrupt, both held while :func:`deferred_interrupts` is active. SIGTERM is
    left to the host when the host that launched the run (the daemon) handles it itself: it
    lets the run finish. A Ctrl-C handler the program installed itself is left in place."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}
    if not sigterm_handled_by_host():
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, on_interrupt)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@dataclass(frozen=True, slots=True)
class Launch:
    """A validated run, ready to drive: its graph, its resource plan with launch config bound,
    its steps' validated config, what its record stores, and its executor and policy."""

    name: str
    graph: NodeGraph
    plan: ResourcePlan
    configs: Mapping[str, Any]
    run_config: Any
    record_config: Any
    tags: Mapping[str, str]
    executor: ExecutorDefinition
    policy: Policy
    """The run's policy (a JobPolicy or a FlowPolicy), fresh per run."""

    @property
    def in_process(self) -> bool:
        """Whether steps run in this process (else on a pool of workers)."""
        return self.executor.name == "in_process"


@dataclass(frozen=True, slots=True)
class RunEnd:
    """How a run ended, for the front-end to build what it returns."""

    run_id: str
    status: RunStatus
    run_error: BaseException | None
    """What stopped the run before its steps could finish: a resource that failed to open, a
    pool that failed to start, or the KeyboardInterrupt of a cancel."""
    teardown_error: TeardownError | None
    canceled: bool
    instance: Instance


def begin_run(instance: Instance, name: str, run_config: Any, tags: Any) -> str:
    """Create a run record, mark it started and record RUN_START (with interrupts held, so a
    record is never left half made); returns the run id."""
    with deferred_interrupts():
        run_id = instance.create_run(name, run_config=run_config, tags=dict(tags or {})).run_id
        instance.set_run_status(run_id, RunStatus.STARTED)
        instance.report_event(run_id, EventType.RUN_START, message=name)
        instance.flush()
    return run_id


def drive(launch: Launch, instance: Instance) -> RunEnd:
    """Run ``launch`` against ``instance`` and record it; see the module docstring."""
    run_id = begin_run(instance, launch.name, launch.record_config, launch.tags)
    driver: _Driver | None = None
    try:
        # from the run's start until its record is finished
        inflight = InFlight(run_id, instance.record_events) if writes_live(instance) else None
        with heartbeat(instance, run_id), live_events(instance, inflight=inflight):
            driver = _Driver(launch, instance, run_id, inflight)
            with driver.logs.active():  # resources opened during the run log through it
                return driver.run()
    except BaseException as exc:  # the driver itself failed: never leave the record STARTED
        with contextlib.suppress(Exception):
            # masked with the run's redactor; without one (the driver could not be made), the
            # record keeps the error's type only: its text might quote a secret
            data = None
            message = f"the run engine failed: {type(exc).__name__}"
            if driver is not None:
                data = failure_details(exc, driver.scope.redactor)
                message = f"the run engine failed: {data['message']}"
            instance.report_event(run_id, EventType.RUN_FAILURE, message=message, data=data)
            instance.set_run_status(run_id, RunStatus.FAILURE)
        raise


_START = EventType.STEP_START
_FAILED = EventType.STEP_FAILURE


class _Driver:
    """The mutable side of one run in the coordinating process."""

    def __init__(
        self, launch: Launch, instance: Instance, run_id: str, inflight: InFlight | None = None
    ) -> None:
        self.launch = launch
        self.instance = instance
        self.run_id = run_id
        self.graph = launch.graph
        self.policy: Policy = launch.policy
        self.state = RunState(launch.graph, launch.policy.results)
        listener = resource_listener(instance, run_id)
        self.scope = RunScope(
            launch.plan,
            run_id=run_id,
            instance=instance,
            listener=listener,
            parent=PROCESS_SCOPE.get(),
            keys=launch.graph.resource_keys,
        )
        listener.redactor = self.scope.redactor  # failures' texts are masked as they are recorded
        for secret in secret_values(list(launch.configs.values())):  # SecretStr in step config
            self.scope.redactor.add(secret)
        level = configured_level()
        self.logs = RunLog(
            run_id,
            self.scope.redactor,
            instance,
            level=level,
            console=console_handler(level),
            flow=isinstance(launch.policy, FlowPolicy),
        )
        self.runner = StepRunner(
            run_id,
            self.scope,
            instance,
            configs=launch.configs,
            run_config=launch.run_config,
            step_scoped=step_scoped(launch.graph, launch.plan),
            logs=self.logs,
        )
        self.runner.live = self.inflight = inflight
        if isinstance(launch.policy, FlowPolicy):  # its tasks read outfitter.context
            from .._flows.context import flow_run_info

            policy = launch.policy
            self.runner.flow = flow_run_info(policy.plan, run_id, policy.parameters)
            policy.resource = self.scope.get  # what state handlers ask for, from this process
        self.runner.io_keys = io_manager_keys(launch.graph.nodes)
        self.record = instance.record_events
        self.loop: asyncio.AbstractEventLoop | None = None
        self.worker_teardowns: list[TeardownError] = []
        self.halted: BaseException | None = None
        self.failure_details: dict[str, Any] | None = None  # of the run's first failed step

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> RunEnd:
        run_error: BaseException | None = None
        teardown: TeardownError | None = None
        canceled = False
        try:
            with sigterm_as_cancel():
                try:
                    if self.launch.in_process:
                        self._in_process()
                    else:
                        self._on_pool()
                        run_error = self.halted
                except KeyboardInterrupt as exc:
                    canceled, run_error = True, exc
                    with deferred_interrupts():
                        self._cancel()
                except OutfitterError as exc:  # a resource failed to open, or the pool to start
                    run_error = exc
                finally:
                    with deferred_interrupts():
                        if not canceled and isinstance(self.policy, FlowPolicy):
                            # the flow's end state handlers, while its resources are open
                            self.policy.final_state()
                        teardown = self._close(run_error or self.policy.first_error())
        except KeyboardInterrupt as exc:  # a signal held while canceling or closing
            canceled = True
            run_error = run_error or exc
        with deferred_interrupts():  # one held now is raised once the record is complete
            return self._finish(run_error, teardown, canceled)

    def _needed(self) -> list[str]:
        """The run-scoped resources this process opens before any step runs (so a failing
        setup runs no step): those of every node, or on a pool, of the local nodes only."""
        specs = self.launch.plan.specs
        nodes = (
            self.graph.nodes if self.launch.in_process else [n for n in self.graph.nodes if n.local]
        )
        return sorted(
            {
                k
                for n in nodes
                for k in n.resource_keys
                if k in specs and specs[k].scope is not Scope.STEP
            }
        )

    def _is_async(self) -> bool:
        """Whether the run needs an event loop: an async step, or an async resource."""
        specs = self.launch.plan.specs
        return any(n.params.is_async for n in self.graph.nodes) or any(
            specs[k].lifecycle.is_async for k in self.graph.resource_keys if k in specs
        )

    # -- in this process -----------------------------------------------------------------------

    def _in_process(self) -> None:
        needed = self._needed()
        if self._is_async():
            import asyncio  # only a run with an async step or resource needs asyncio

            self.loop = asyncio.new_event_loop()
            self.loop.run_until_complete(self._run_async(needed))
            return
        self.scope.open(needed)
        pop, decide, run = self.state.pop, self.policy.decide, self.runner.run
        while (node := pop()) is not None:
            decision = decide(node)
            if type(decision) is dict:
                if node.closes:  # a resource-manager cleanup: interrupts wait for it
                    with deferred_interrupts():
                        self._settle_one(node, run(node, decision))
                    continue
                self._settle_one(node, run(node, decision))
            elif type(decision) is list:
                self._announce(node)
                self._settle(node, [run(node, call, False) for call in decision], True)
            else:
                self._resolve(node, decision)  # type: ignore[arg-type]

    async def _run_async(self, needed: Sequence[str]) -> None:
        """Async steps whose upstream finished run concurrently on this loop; sync steps run
        one at a time between them."""
        import asyncio

        await self.scope.aopen(needed)
        state = self.state
        running: dict[asyncio.Future[list[Outcome]], tuple[NodeSpec, bool]] = {}
        try:
            while True:
                while state.has_ready:
                    node = state.next()
                    taken = self._take(node)
                    if taken is None:
                        continue
                    calls, mapped = taken
                    if node.params.is_async:
                        running[asyncio.ensure_future(self._acalls(node, calls, mapped))] = (
                            node,
                            mapped,
                        )
                    else:
                        self._settle(node, await self._acalls(node, calls, mapped), mapped)
                if not running:
                    return
                finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for future in finished:
                    node, mapped = running.pop(future)
                    self._settle(node, future.result(), mapped)
        finally:
            for future in running:  # a cancel: stop the steps still running
                future.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def _acalls(
        self, node: NodeSpec, calls: list[dict[str, Any]], mapped: bool
    ) -> list[Outcome]:
        arun = self.runner.arun
        if node.params.is_async:
            import asyncio  # loaded by the run loop: a lookup, next to gather's tasks

            return list(await asyncio.gather(*(arun(node, c, not mapped) for c in calls)))
        return [await arun(node, c, not mapped) for c in calls]

    # -- on workers ------------------------------------------------------------------------------

    def _on_pool(self) -> None:
        from .pools import RunPayload, close_error, worker_pool

        def closed(reply: Any) -> None:
            self.record(self.run_id, reply.events)
            error = close_error(reply)
            if error is not None:
                self.worker_teardowns.append(error)

        launch = self.launch
        payload = RunPayload(
            self.run_id,
            launch.plan,
            self.instance.storage_directory(),
            nodes={n.key: n for n in self.graph.nodes if not n.local},
            configs=dict(launch.configs),
            run_config=launch.run_config,
            log_level=self.logs.level,
            flow=self.runner.flow,
            # workers write their running calls' events into the same file
            database=self.instance.database if self.inflight is not None else None,
        )
        self.scope.open(self._needed())
        self.instance.flush()  # workers' events follow the run's start in the record
        state, runner = self.state, self.runner
        inflight: dict[int, tuple[NodeSpec, int, bool]] = {}
        slots: dict[str, list[Outcome | None]] = {}

        def live(events: list[Any]) -> None:  # what a worker's running call did so far
            self.record(self.run_id, events)

        with worker_pool(
            launch.executor, payload, len(self.graph), closed, self._failure_text, live
        ) as pool:
            while True:
                while state.has_ready and self.halted is None:
                    node = state.next()
                    taken = self._take(node)
                    if taken is None:
                        continue
                    calls, mapped = taken
                    if node.local:
                        with deferred_interrupts() if node.closes else contextlib.nullcontext():
                            outcomes = [runner.run(node, c, not mapped) for c in calls]
                            self._settle(node, outcomes, mapped)
                        continue
                    slots[node.key] = [None] * len(calls)
                    if not mapped and self.logs.progress:
                        self.logs.started(node.kind, node.key, node.name)
                    what = f"task {node.name!r}" if node.kind == "task" else f"step {node.key!r}"
                    for i, call in enumerate(calls):
                        token = pool.submit(("call", node.key, call, not mapped, what))
                        inflight[token] = (node, i, mapped)
                if not inflight:
                    break
                replies = pool.wait(0.5)
                for token, reply in replies:
                    node, i, mapped = inflight.pop(token)
                    if len(reply.events) > reply.written:  # the rest: the worker wrote some
                        self.record(self.run_id, reply.events[reply.written :])
                    outcome = reply.value
                    self.logs.replay(reply.events)  # the worker's log records, on our console
                    self.logs.replay(outcome.events)
                    if outcome.halts and self.halted is None:
                        # a worker's run scope could not open a resource: as in process, that
                        # fails the run; no further step starts, running ones finish
                        self.halted = outcome.error
                    slot = slots[node.key]
                    slot[i] = outcome
                    if all(o is not None for o in slot):
                        del slots[node.key]
                        self._settle(node, slot, mapped)  # type: ignore[arg-type]
                if replies:  # workers' events are written as they arrive, in one transaction
                    self.instance.flush()

    def _failure_text(self) -> str | None:
        error = self.policy.first_error()
        return None if error is None else self.scope.redact(f"{type(error).__name__}: {error}")

    # -- bookkeeping -----------------------------------------------------------------------------

    def _take(self, node: NodeSpec) -> tuple[list[dict[str, Any]], bool] | None:
        """Ask the policy about a ready node: a node it resolves is recorded here (None);
        otherwise its calls, and whether they are a mapped node's children (announced now)."""
        decision = self.policy.decide(node)
        if isinstance(decision, Resolved):
            self._resolve(node, decision)
            return None
        if isinstance(decision, list):
            self._announce(node)
            return decision, True
        return [decision], False

    def _announce(self, node: NodeSpec) -> None:
        """STEP_START of a mapped node (its children's calls do not announce themselves)."""
        self.instance.report_event(self.run_id, _START, step_key=node.key)
        if self.logs.progress:
            self.logs.started(node.kind, node.key, node.name)

    def _settle_one(self, node: NodeSpec, outcome: Outcome) -> None:
        """:meth:`_settle` for the common case, one call (the in-process hot path)."""
        result, event, message = self.policy.settle(node, (outcome,), False)
        events = outcome.events
        if outcome.written:  # recorded while the call ran
            events = events[outcome.written :]
        end = outcome.end_ns
        duration = (end - outcome.start_ns) / 1e9
        data = None if outcome.error is None else self._details(event, (outcome,))
        events.append((end // 1000, event, node.key, None, message, duration, data))
        self.record(self.run_id, events)
        if self.logs.progress or event is _FAILED:
            self.logs.ended(node.kind, node.key, node.name, event, message, duration, result)
        if duration >= LIVE_INTERVAL:  # a long step: what it did is written now
            self.instance.flush()
        self.state.finish(node.key, result)

    def _settle(self, node: NodeSpec, outcomes: Sequence[Outcome], mapped: bool) -> None:
        """Record how ``node`` ended (its calls' events, then the policy's verdict, in one
        batch) and move the run on."""
        result, event, message = self.policy.settle(node, outcomes, mapped)
        if len(outcomes) == 1:
            outcome = outcomes[0]
            events = outcome.events[outcome.written :]
            start, end = outcome.start_ns, outcome.end_ns
        else:
            events = [e for o in outcomes for e in o.events[o.written :]]
            start = min(o.start_ns for o in outcomes)
            end = max(o.end_ns for o in outcomes)
        duration = (end - start) / 1e9
        data = self._details(event, outcomes)
        events.append((end // 1000, event, node.key, None, message, duration, data))
        self.record(self.run_id, events)
        if self.logs.progress or event is _FAILED:
            self.logs.ended(node.kind, node.key, node.name, event, message, duration, result)
        if duration >= LIVE_INTERVAL:  # a long step: what it did is written now
            self.instance.flush()
        self.state.finish(node.key, result)

    def _details(self, event: EventType, outcomes: Sequence[Outcome]) -> Any:
        """A STEP_FAILURE's data: the failure details of its first failed call (built where
        the call ran; an outcome made here without them is described from its error)."""
        if event is not EventType.STEP_FAILURE:
            return None
        for outcome in outcomes:
            details = outcome.details
            if details is None and outcome.error is not None:
                details = failure_details(outcome.error, self.scope.redactor)
            if details is not None:
                self.failure_details = self.failure_details or details
                return details
        return None

    def _resolve(self, node: NodeSpec, resolved: Resolved) -> None:
        if resolved.event is not None:
            self.instance.report_event(
                self.run_id, resolved.event, step_key=node.key, message=resolved.message
            )
            if self.logs.console is not None:  # skipped (or trigger-failed) without running
                kind, key, name = node.kind, node.key, node.name
                self.logs.ended(
                    kind, key, name, resolved.event, resolved.message, 0.0, resolved.result
                )
        self.state.finish(node.key, resolved.result)

    def _cancel(self) -> None:
        """After Ctrl-C / SIGTERM: the cleanups the policy still owes (a flow's resource
        managers whose setup succeeded), each run once, here."""
        for key, values in self.policy.cancel(self.graph):
            outcome = self.runner.run(self.graph.by_key[key], values)
            self.policy.cleaned_up(key, outcome)
            self.record(self.run_id, outcome.events[outcome.written :])

    def _close(self, failure: BaseException | None) -> TeardownError | None:
        """Close this process's scope (context-manager resources see ``failure``); the
        teardown errors of this process and of the workers, as one error."""
        errors = list(self.worker_teardowns)
        try:
            if self.loop is not None:
                try:
                    self.loop.run_until_complete(self.scope.aclose(failure))
                finally:
                    self.loop.close()
            else:
                self.scope.close(failure)
        except TeardownError as exc:
            errors.append(exc)
        if self.runner.loop is not None:
            self.runner.loop.close()
        return TeardownError.merge(errors) if errors else None

    def _finish(
        self,
        run_error: BaseException | None,
        teardown: TeardownError | None,
        canceled: bool,
    ) -> RunEnd:
        name = self.launch.name
        error: BaseException | None = None  # what the RUN_FAILURE's details describe
        if canceled:
            status, event, message = RunStatus.CANCELED, EventType.RUN_CANCELED, name
        elif run_error is not None:
            status, event, error = RunStatus.FAILURE, EventType.RUN_FAILURE, run_error
            message = self.scope.redact(f"{type(run_error).__name__}: {run_error}")
        elif teardown is not None:
            status, event, message = RunStatus.FAILURE, EventType.RUN_FAILURE, str(teardown)
            error = teardown
        elif self.policy.failed():
            status, event, message = RunStatus.FAILURE, EventType.RUN_FAILURE, name
            error = self.policy.first_error()
        else:
            status, event, message = RunStatus.SUCCESS, EventType.RUN_SUCCESS, name
        data = None
        if error is not None and error is self.policy.first_error():
            data = self.failure_details  # as the step's process saw it (a worker's traceback)
        if data is None and error is not None:
            with contextlib.suppress(Exception):
                data = failure_details(error, self.scope.redactor)
        self.instance.report_event(self.run_id, event, message=message, data=data)
        self.instance.set_run_status(self.run_id, status)
        self.logs.run_ended(status.value)
        return RunEnd(self.run_id, status, run_error, teardown, canceled, self.instance)
