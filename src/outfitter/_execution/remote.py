"""The worker side of the multiprocess and Dask executors.

A :class:`WorkerRun` is one run's state inside one worker process: a run scope that opens each
resource the first time a step on this worker needs it and keeps it until the coordinator ends
the run (once per run per worker, never per step), and the step and task code shared with the
in-process engine. Everything a worker reports goes into a :class:`Reply`: the events it
produced (resource opens with their pid, step events with their own timestamps), which the
coordinator records in the instance. Secret values are redacted before they leave the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .._definitions.node import NodeSpec
from .._instance import EventType, event_row
from .._resources.markers import Scope
from .._resources.spec import ResourcePlan
from ..exceptions import TeardownError
from .engine import resource_listener
from .scope import RunScope

__all__ = ["Reply", "RunPayload", "WorkerRun", "portable_error"]

T = TypeVar("T")


@dataclass(frozen=True)
class RunPayload:
    """Everything a worker needs to run a run's steps, sent to each worker once."""

    run_id: str
    plan: ResourcePlan
    storage: str
    nodes: Mapping[str, NodeSpec] = field(default_factory=dict)
    configs: Mapping[str, Any] = field(default_factory=dict)
    run_config: Any = None
    tasks: tuple[Any, ...] = ()


@dataclass
class Reply:
    """What a worker sends back for one item: ``ok``, a redacted ``message`` on failure, the
    exception when it can cross processes, the events produced, and a value (a flow task's
    state)."""

    ok: bool
    message: str | None = None
    error: BaseException | None = None
    events: list[tuple[Any, ...]] = field(default_factory=list)
    value: Any = None


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
    """One run inside one worker: its scope, opened lazily, closed by :meth:`close`."""

    def __init__(self, payload: RunPayload) -> None:
        self.payload = payload
        self.pid = os.getpid()
        self._local = threading.local()
        self._async_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.scope = RunScope(
            payload.plan,
            run_id=payload.run_id,
            instance=_Sink(payload.storage),
            listener=resource_listener(self, payload.run_id, f"pid {self.pid}"),
        )
        specs = payload.plan.specs
        self._step_scoped = frozenset(
            n.key
            for n in payload.nodes.values()
            if any(k in specs and specs[k].scope is Scope.STEP for k in n.resource_keys)
        )
        self._failure: BaseException | None = None

    def report_event(self, run_id: str, event_type: EventType, **fields: Any) -> None:
        """Resource events go to the buffer of the item this thread is running."""
        self._local.sink.report_event(run_id, event_type, **fields)

    def _begin(self, keys: Any) -> tuple[_Sink, Reply | None]:
        """A fresh event buffer for this thread's item, and the item's run-scoped resources
        opened (async ones on this worker's loop); the reply if they failed to open."""
        sink = self._local.sink = _Sink(self.payload.storage)
        specs = self.payload.plan.specs
        wanted = [k for k in keys if k in specs and specs[k].scope is not Scope.STEP]
        try:
            if any(specs[k].lifecycle.is_async for k in wanted):
                self._on_loop(True, None, lambda: self._loop_run(self.scope.aopen(wanted)))
            else:
                self.scope.open(wanted)
        except Exception as exc:
            self._failure = self._failure or exc
            message = self.scope.redact(f"{type(exc).__name__}: {exc}")
            return sink, Reply(False, message, portable_error(exc, message), sink.events)
        return sink, None

    def _loop_run(self, coroutine: Any) -> Any:
        assert self._loop is not None
        return self._loop.run_until_complete(coroutine)

    def _on_loop(self, is_async: bool, run: Any, body: Callable[[], T]) -> T:
        """Run ``body``: async work on this worker's one event loop (one item at a time, as
        async resources are bound to the loop that opened them); sync work as is, closing any
        loop the engine made for a stray coroutine."""
        if is_async:
            with self._async_lock:
                self._loop = self._loop or asyncio.new_event_loop()
                if run is not None:
                    run.loop = self._loop
                return body()
        try:
            return body()
        finally:
            if run is not None and run.loop is not None:
                run.loop.close()

    # -- items ------------------------------------------------------------------------------------

    def run_step(self, key: str) -> Reply:
        """Run one job step; its output goes to the I/O manager (never back in the reply)."""
        from .engine import _Run

        payload = self.payload
        node = payload.nodes[key]
        sink, failed = self._begin(node.resource_keys)
        if failed is not None:
            return failed
        instance: Any = sink  # the engine reports to it as to an instance
        run = _Run(
            [node], self.scope, instance, payload.run_id, dict(payload.configs), payload.run_config
        )
        run.step_scoped = self._step_scoped
        run.outputs_kept = False
        self._on_loop(node.params.is_async, run, lambda: run.run_sync_step(node))
        failure = run.failures.get(key)
        if failure is None:
            return Reply(True, events=sink.events)
        self._failure = self._failure or failure.error
        error = portable_error(failure.error, failure.message)
        return Reply(False, failure.message, error, sink.events)

    def run_task(self, index: int, kwargs: dict[str, Any]) -> Reply:
        """Run one flow task call (with its retries); the reply's value is its state."""
        from .._flows.runner import _FlowRun

        payload = self.payload
        task = payload.tasks[index]
        sink, failed = self._begin([r.key for r in task.params.resources])
        if failed is not None:
            return failed
        run = _FlowRun(None, {}, self.scope, sink, payload.run_id)  # type: ignore[arg-type]
        state = self._on_loop(task.params.is_async, run, lambda: run.call(task, kwargs))
        if state.is_failed() and isinstance(state.result, BaseException):
            self._failure = self._failure or state.result
            state.result = portable_error(state.result, state.message or "")
        return Reply(not state.is_failed(), state.message, None, sink.events, state)

    def close(self, failure: str | None = None) -> Reply:
        """Close every resource this worker opened for the run, in reverse; the reply carries
        the close events and, if a teardown failed, its (redacted) message."""
        sink = self._local.sink = _Sink(self.payload.storage)
        exc = self._failure
        if exc is None and failure is not None:
            exc = RuntimeError(failure)
        message: str | None = None
        try:
            if self._loop is not None:
                self._on_loop(True, None, lambda: self._loop_run(self.scope.aclose(exc)))
            else:
                self.scope.close(exc)
        except TeardownError as error:
            message = str(error)
        except Exception as error:
            message = self.scope.redact(f"{type(error).__name__}: {error}")
        finally:
            if self._loop is not None:
                with contextlib.suppress(Exception):
                    self._loop.close()
        return Reply(message is None, message, None, sink.events)
