"""The worker side of the multiprocess and Dask executors.

A :class:`WorkerRun` is one run's state inside one worker process: a run scope that opens each
resource the first time a call on this worker needs it and keeps it until the coordinator ends
the run (once per run per worker, never per step), and the run driver's own
:class:`~outfitter._execution.step.StepRunner`, so a step or task call on a worker is the same
code as in process. Everything a worker reports goes into a :class:`Reply`: the call's
:class:`~outfitter._execution.step.Outcome` (with the step's events) and the resource events it
caused (each with the worker's pid). Secret values are redacted before they leave the worker;
a failure's traceback is formatted and masked here and crosses as text
(:func:`~outfitter._execution.tracebacks.failure_details`).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import pickle
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from .._config.redaction import secret_values
from .._definitions.graph import NodeGraph
from .._definitions.node import NodeSpec, io_manager_keys
from .._instance import EventType, Instance, event_row
from .._resources.markers import Scope
from .._resources.scope import RunScope
from .._resources.spec import ResourcePlan
from ..exceptions import TeardownError
from .heartbeat import every
from .live import LIVE_INTERVAL, InFlight
from .logs import RunLog
from .step import Outcome, StepRunner, resource_listener, step_scoped

if TYPE_CHECKING:
    import asyncio

__all__ = ["Reply", "RunPayload", "WorkerRun", "portable_error"]

T = TypeVar("T")


@dataclass(frozen=True)
class RunPayload:
    """Everything a worker needs to run a run's calls, sent to each worker once."""

    run_id: str
    plan: ResourcePlan
    storage: str
    nodes: Mapping[str, NodeSpec] = field(default_factory=dict)
    configs: Mapping[str, Any] = field(default_factory=dict)
    run_config: Any = None
    log_level: int = logging.INFO
    """The run's log level (the coordinator's ``OUTFITTER_LOG_LEVEL``)."""
    database: str | None = None
    """The instance's database file, when the run writes live: a worker that can open it
    records its running calls' events there itself (see :mod:`~outfitter._execution.live`)."""
    flow: Any = None
    """A flow run's :class:`~outfitter._flows.context.FlowRunInfo` (tasks' run context)."""


@dataclass
class Reply:
    """What a worker sends back: for a call, its :class:`Outcome` as ``value`` and the resource
    events it caused; for the end of the run, whether every resource closed (``ok``; else the
    ``error``, a TeardownError, and its redacted ``message``) and the close events."""

    ok: bool
    message: str | None = None
    error: BaseException | None = None
    events: list[tuple[Any, ...]] = field(default_factory=list)
    value: Any = None
    written: int = 0
    """How many of ``events`` (the first ones) the worker already recorded itself."""


def portable_error(exc: BaseException | None, message: str) -> BaseException | None:
    """``exc`` if it survives pickling, else a RuntimeError carrying ``message``."""
    if exc is None:
        return None
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(message)
    return exc


class _Sink:
    """The instance as a worker sees it: events are collected for the reply, and the storage
    directory is the coordinator's."""

    def __init__(self, storage: str) -> None:
        self._storage = storage
        self.events: list[tuple[Any, ...]] = []

    def storage_directory(self) -> str:
        return self._storage

    def record_events(self, run_id: str, events: list[tuple[Any, ...]]) -> None:
        self.events.extend(events)

    def report_event(self, run_id: str, event_type: EventType, **fields: Any) -> None:
        self.events.append(event_row(event_type, **fields))


class WorkerRun:
    """One run inside one worker: its scope, opened lazily, closed by :meth:`close`. Calls may
    come from several threads (a Dask worker's); async work runs on one event loop, one call at
    a time, as async resources are bound to the loop that opened them."""

    def __init__(
        self, payload: RunPayload, send_live: Callable[[list[Any]], None] | None = None
    ) -> None:
        self.payload = payload
        self.pid = os.getpid()
        self._where = {"pid": self.pid}
        self._io_keys = io_manager_keys(payload.nodes.values())
        self._local = threading.local()
        self._async_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        listener = resource_listener(self, payload.run_id, f"pid {self.pid}")
        self.scope = RunScope(
            payload.plan,
            run_id=payload.run_id,
            instance=_Sink(payload.storage),
            listener=listener,
            keys=(),
        )
        listener.redactor = self.scope.redactor  # failures are masked before they leave
        for secret in secret_values(list(payload.configs.values())):
            self.scope.redactor.add(secret)
        # log records become events in the replies; the coordinator prints them
        self.logs = RunLog(payload.run_id, self.scope.redactor, self, level=payload.log_level)
        graph = NodeGraph(payload.nodes.values(), "worker")
        self._step_scoped = step_scoped(graph, payload.plan)
        self._failure: BaseException | None = None
        self._live = contextlib.ExitStack()
        self.inflight = self._write_live(payload, send_live)

    def _write_live(
        self, payload: RunPayload, send_live: Callable[[list[Any]], None] | None
    ) -> InFlight | None:
        """When the run writes live, a thread passes on what the running calls gathered every
        quarter second: to ``send_live`` (a forked worker's pipe: the coordinator records
        them; SQLite must not be opened in a process forked from a threaded one), else
        straight into the instance's file when this worker can open it (a Dask worker on
        another machine cannot: then the replies carry everything)."""
        if payload.database is None:
            return None
        if send_live is not None:
            batch: list[Any] = []
            inflight = InFlight(payload.run_id, lambda run_id, events: batch.extend(events))

            def sends() -> None:
                inflight.drain()
                if batch:
                    send_live(batch[:])
                    batch.clear()

            self._live.enter_context(
                every(LIVE_INTERVAL, sends, "outfitter-live-events", "sending events")
            )
            return inflight
        if not os.path.exists(payload.database):
            return None
        try:
            writer = Instance(payload.database, payload.storage)
        except Exception:  # unreadable from here: the replies carry everything
            return None
        inflight = InFlight(payload.run_id, writer.record_events)

        def writes() -> None:
            inflight.drain()
            if writer.unflushed:
                writer.flush()

        self._live.callback(writer.close)
        self._live.enter_context(
            every(LIVE_INTERVAL, writes, "outfitter-live-events", "writing events")
        )
        return inflight

    def report_event(self, run_id: str, event_type: EventType, **fields: Any) -> None:
        """Resource events go to the buffer of the call this thread is running."""
        self._local.sink.report_event(run_id, event_type, **fields)

    def _runner(self, sink: _Sink) -> StepRunner:
        payload = self.payload
        runner = StepRunner(
            payload.run_id,
            self.scope,
            sink,
            configs=payload.configs,
            run_config=payload.run_config,
            step_scoped=self._step_scoped,
            keep_outputs=False,
            logs=self.logs,
        )
        runner.live = self.inflight
        runner.where = self._where
        runner.flow = payload.flow
        runner.io_keys = self._io_keys
        return runner

    def call(self, key: str, values: Mapping[str, Any], announce: bool) -> Reply:
        """One call of node ``key``: its run-scoped resources opened first (a failure to open
        fails the call), then the shared step code; the reply's value is the outcome."""
        node = self.payload.nodes[key]
        sink = self._local.sink = _Sink(self.payload.storage)
        inflight = self.inflight
        if inflight is not None:
            inflight.begin(sink.events)
        runner = self._runner(sink)
        specs = self.payload.plan.specs
        wanted = [k for k in node.resource_keys if k in specs and specs[k].scope is not Scope.STEP]
        is_async = node.params.is_async or any(specs[k].lifecycle.is_async for k in wanted)

        def body() -> Outcome:
            if is_async:
                outcome: Outcome = self._loop_run(
                    self._acall(runner, node, values, announce, wanted)
                )
                return outcome
            try:
                self.scope.open(wanted)
            except Exception as exc:
                return runner.failed(node, exc, announce)
            return runner.run(node, values, announce)

        with self.logs.active():
            outcome = self._on_loop(is_async, runner, body)
        if outcome.error is not None:
            self._failure = self._failure or outcome.original
            outcome.error = portable_error(outcome.error, outcome.message)
            outcome.original = None  # the unmasked exception never leaves this worker
        written = 0 if inflight is None else inflight.finish(sink.events)
        return Reply(
            outcome.error is None, outcome.message or None, None, sink.events, outcome, written
        )

    async def _acall(
        self,
        runner: StepRunner,
        node: NodeSpec,
        values: Mapping[str, Any],
        announce: bool,
        wanted: list[str],
    ) -> Outcome:
        try:
            await self.scope.aopen(wanted)
        except Exception as exc:
            return runner.failed(node, exc, announce)
        return await runner.arun(node, values, announce)

    def _loop_run(self, coroutine: Any) -> Any:
        """Run ``coroutine`` on this worker's loop. When this thread is already running a loop
        (Dask calls ``Client.run`` functions on its own event loop), ours runs in a helper
        thread, since a thread runs one loop at a time."""
        import asyncio  # loaded with the loop (_on_loop): a lookup

        loop = self._loop
        assert loop is not None
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return loop.run_until_complete(coroutine)
        outcome: list[Any] = []
        sink = getattr(self._local, "sink", None)

        def target() -> None:
            self._local.sink = sink  # resource events go to the caller's reply
            try:
                outcome.append((True, loop.run_until_complete(coroutine)))
            except BaseException as exc:
                outcome.append((False, exc))

        context = contextvars.copy_context()  # the run's log, for resources opened there
        helper = threading.Thread(target=context.run, args=(target,), name="outfitter-async-close")
        helper.start()
        helper.join()
        ok, value = outcome[0]
        if not ok:
            raise value
        return value

    def _on_loop(self, is_async: bool, runner: StepRunner | None, body: Callable[[], T]) -> T:
        """Run ``body``: async work on this worker's one event loop (one call at a time);
        sync work as is, closing any loop the runner made for a stray coroutine."""
        if is_async:
            import asyncio  # only async work on a worker needs an event loop

            with self._async_lock:
                self._loop = self._loop or asyncio.new_event_loop()
                return body()
        try:
            return body()
        finally:
            if runner is not None and runner.loop is not None:
                runner.loop.close()

    def close(self, failure: str | None = None) -> Reply:
        """Close every resource this worker opened for the run, in reverse; the reply carries
        the close events and, if a teardown failed, the (redacted) TeardownError."""
        sink = self._local.sink = _Sink(self.payload.storage)
        exc = self._failure
        if exc is None and failure is not None:
            exc = RuntimeError(failure)
        error: BaseException | None = None
        try:
            with self.logs.active():
                if self._loop is not None:
                    self._on_loop(True, None, lambda: self._loop_run(self.scope.aclose(exc)))
                else:
                    self.scope.close(exc)
        except TeardownError as teardown:
            error = TeardownError(
                {k: portable_error(e, str(e)) or e for k, e in teardown.errors.items()},
                problems=[f"{line} (worker pid {self.pid})" for line in teardown.problems],
            )
        except Exception as other:
            text = self.scope.redact(f"{type(other).__name__}: {other}")
            error = TeardownError({f"pid {self.pid}": RuntimeError(text)}, problems=[text])
        finally:
            if self._loop is not None:
                with contextlib.suppress(Exception):
                    self._loop.close()
            with contextlib.suppress(Exception):
                self._live.close()  # the last running calls' events, then the writer closes
        message = None if error is None else str(error)
        return Reply(error is None, message, error, sink.events)
