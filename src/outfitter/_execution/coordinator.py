"""The coordinating side of the executors with worker processes (multiprocess and Dask).

The coordinator owns the run record: it creates the run, submits each step once its upstream
steps have succeeded (independent steps run in parallel), records the events the workers send
back, skips the steps downstream of a failure, and at the end closes every worker's resources
(after success, failure, Ctrl-C or SIGTERM) before it records the run's status.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Generic, Protocol, TypeVar

from .._definitions.node import NodeSpec
from .._instance import EventType, Instance
from .._resources.io_manager import InMemoryIOManager, InputContext, OutputContext
from .._resources.spec import ResourcePlan
from ..exceptions import InvocationError, OutfitterError
from .remote import Reply, RunPayload
from .result import ExecuteResult, StepFailure
from .scope import RunScope

__all__ = ["Readiness", "WorkerPool", "open_pool", "record_closes", "run_on_pool", "worker_pool"]

K = TypeVar("K", bound=Hashable)


class WorkerPool(Protocol):
    """What the coordinator needs of a pool of workers."""

    def submit(self, item: tuple[Any, ...]) -> int: ...

    def wait(self, timeout: float) -> list[tuple[int, Reply]]: ...

    def cancel(self) -> None: ...

    def shutdown(self, failure: str | None) -> list[Reply]: ...


def open_pool(executor: Any, payload: RunPayload, items: int) -> WorkerPool:
    """The pool ``executor`` describes, started for the run in ``payload``."""
    config = executor.config
    if executor.name == "multiprocess":
        from .multiprocess import ProcessPool

        cap = config.get("max_concurrent") or os.cpu_count() or 1
        return ProcessPool(payload, max(1, min(cap, items)))
    try:
        from .dask import DaskPool
    except ImportError as exc:  # pragma: no cover - CI installs the dask extra
        raise InvocationError(
            f"the Dask executor needs dask.distributed, which is not installed ({exc})",
            hint='install the extra: pip install "outfitter[dask]".',
        ) from None
    return DaskPool(
        payload,
        config.get("address"),
        config.get("n_workers"),
        config.get("threads_per_worker") or 1,
    )


@contextmanager
def worker_pool(
    executor: Any, payload: RunPayload, items: int, closes: list[Reply], failure: list[str]
) -> Iterator[WorkerPool]:
    """A started pool that is shut down on exit, whatever happened: every worker closes its
    resources; their close replies are appended to ``closes``. ``failure`` holds the run's
    first error message (read at exit), which context-manager resources see as they exit."""
    pool = open_pool(executor, payload, items)
    try:
        yield pool
    except KeyboardInterrupt:
        pool.cancel()
        raise
    finally:
        closes.extend(pool.shutdown(failure[0] if failure else None))


def record_closes(instance: Instance, run_id: str, closes: list[Reply]) -> list[str]:
    """Record the workers' close events; returns the teardown errors they reported."""
    errors = []
    for reply in closes:
        instance.record_events(run_id, reply.events)
        if not reply.ok:
            errors.append(reply.message or "a worker failed to close its resources")
    return errors


def check_io_managers(nodes: Sequence[NodeSpec], plan: ResourcePlan, executor: str) -> None:
    """Refuse an in-memory I/O manager: each worker has its own memory."""
    for key in sorted({n.io_manager_key for n in nodes}):
        if isinstance(plan.specs[key].source, InMemoryIOManager):
            raise InvocationError(
                f"the {executor} executor cannot pass values through the in-memory I/O manager "
                f"bound at {key!r}: each worker process has its own memory",
                hint="use FilesystemIOManager (the default) or another I/O manager that stores "
                "outputs where every worker can read them.",
            )


def run_on_pool(
    job_name: str,
    nodes: Sequence[NodeSpec],
    plan: ResourcePlan,
    instance: Instance,
    configs: dict[str, Any],
    run_config: Any,
    tags: Any,
    raise_on_error: bool,
    read_events_now: bool,
    *,
    executor: Any,
) -> ExecuteResult:
    """Run ``nodes`` on the workers of ``executor`` (see the module docstring); events are read
    into the result now when the instance closes after the run."""
    from .engine import _sigterm_as_cancel, begin_run, finish_run

    check_io_managers(nodes, plan, executor.name)
    run_id = begin_run(instance, job_name, run_config, tags)
    instance.flush()
    payload = RunPayload(
        run_id,
        plan,
        instance.storage_directory(),
        nodes={n.key: n for n in nodes},
        configs=configs,
        run_config=run_config,
    )
    state = _JobState(nodes, instance, run_id)
    closes: list[Reply] = []
    canceled = False
    run_error: BaseException | None = None
    try:
        with (
            _sigterm_as_cancel(),
            worker_pool(executor, payload, len(nodes), closes, state.first_failure) as pool,
        ):
            state.run(pool)
    except KeyboardInterrupt as exc:
        canceled, run_error = True, exc
    except OutfitterError as exc:  # the pool could not start
        run_error = exc
    except OSError as exc:  # e.g. no Dask scheduler at the address
        run_error = InvocationError(
            f"the {executor.name} executor could not start: {type(exc).__name__}: {exc}",
            hint="check the executor's config (for Dask: the scheduler address).",
        )
    teardown_errors = record_closes(instance, run_id, closes)
    teardown_error = None
    if teardown_errors:
        teardown_error = InvocationError(
            f"resources failed to close in {len(teardown_errors)} worker(s)",
            problems=teardown_errors,
            hint="every other resource was still closed; fix the teardowns listed.",
        )
    return finish_run(
        instance,
        run_id,
        job_name,
        nodes,
        outputs=_load_outputs(nodes, plan, run_id, state.done, instance),
        failures=state.failures,
        run_error=run_error,
        teardown_error=teardown_error,
        canceled=canceled,
        read_events_now=read_events_now,
        raise_on_error=raise_on_error,
    )


class Readiness(Generic[K]):
    """Which items may start: each waits until every one of its upstream items has finished.
    Finishing an item costs its number of downstream items, so a run of n steps is O(edges)."""

    def __init__(self, upstream: Mapping[K, Iterable[K]]) -> None:
        self._waiting: dict[K, int] = {}
        self._downstream: dict[K, list[K]] = {}
        for key, ups in upstream.items():
            known = {u for u in ups if u in upstream}
            self._waiting[key] = len(known)
            for up in known:
                self._downstream.setdefault(up, []).append(key)
        self.initial = [k for k, n in self._waiting.items() if n == 0]

    def finish(self, key: K) -> list[K]:
        """Mark ``key`` finished; the items that became ready, in definition order."""
        ready = []
        for down in self._downstream.get(key, ()):
            self._waiting[down] -= 1
            if self._waiting[down] == 0:
                ready.append(down)
        return ready


class _JobState:
    """Which steps are running, done, failed or skipped."""

    def __init__(self, nodes: Sequence[NodeSpec], instance: Instance, run_id: str) -> None:
        self.nodes = {n.key: n for n in nodes}
        self.instance = instance
        self.run_id = run_id
        self.running: dict[int, str] = {}
        self.done: set[str] = set()
        self.failures: dict[str, StepFailure] = {}
        self.skipped: set[str] = set()
        self.first_failure: list[str] = []

    def run(self, pool: WorkerPool) -> None:
        readiness = Readiness({key: node.upstream for key, node in self.nodes.items()})
        ready = deque(readiness.initial)
        while ready or self.running:
            while ready:
                key = ready.popleft()
                if self._skip_if_blocked(key):
                    ready.extend(readiness.finish(key))
                else:
                    self.running[pool.submit(("step", key))] = key
            for token, reply in pool.wait(0.5):
                key = self.running.pop(token)
                self._finish(key, reply)
                ready.extend(readiness.finish(key))

    def _skip_if_blocked(self, key: str) -> bool:
        for up in self.nodes[key].upstream:
            if up in self.failures or up in self.skipped:
                self.skipped.add(key)
                self.instance.report_event(
                    self.run_id,
                    EventType.STEP_SKIPPED,
                    step_key=key,
                    message=f"upstream step {up!r} did not succeed",
                )
                return True
        return False

    def _finish(self, key: str, reply: Reply) -> None:
        self.instance.record_events(self.run_id, reply.events)
        if reply.ok:
            self.done.add(key)
            return
        message = reply.message or "failed"
        error = reply.error if reply.error is not None else RuntimeError(message)
        self.failures[key] = StepFailure(key, error, message)
        if not self.first_failure:
            self.first_failure.append(message)


def _load_outputs(
    nodes: Sequence[NodeSpec], plan: ResourcePlan, run_id: str, done: set[str], instance: Any
) -> dict[str, Any]:
    """Outputs for the result, read back through the I/O managers (in the coordinator)."""
    outputs: dict[str, Any] = {}
    if not done:
        return outputs
    with RunScope(plan, run_id=run_id, instance=instance) as scope:
        for node in nodes:
            if node.key not in done:
                continue
            try:
                manager = scope.get(node.io_manager_key)
                outputs[node.key] = manager.load_input(
                    InputContext(
                        name="result",
                        asset_key=node.asset_key,
                        run_id=run_id,
                        upstream_output=OutputContext(
                            step_key=node.key, run_id=run_id, asset_key=node.asset_key
                        ),
                    )
                )
            except Exception:  # an output the manager cannot read back here stays unavailable
                continue
    return outputs
