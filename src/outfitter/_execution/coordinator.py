"""The coordinating side of the executors with worker processes (multiprocess and Dask).

The coordinator owns the run record: it creates the run, submits each step once its upstream
steps have succeeded (independent steps run in parallel), records the events the workers send
back, skips the steps downstream of a failure, and at the end closes every worker's resources
(after success, failure, Ctrl-C or SIGTERM) before it records the run's status.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from .._definitions.node import NodeSpec
from .._instance import EventType, Instance, RunStatus
from .._resources.io_manager import InMemoryIOManager, InputContext, OutputContext
from .._resources.spec import ResourcePlan
from ..exceptions import InvocationError, OutfitterError
from .remote import Reply, RunPayload
from .result import ExecuteResult, StepFailure
from .scope import RunScope

__all__ = ["WorkerPool", "open_pool", "record_closes", "run_on_pool", "worker_pool"]


class WorkerPool(Protocol):
    """What the coordinator needs of a pool of workers."""

    @property
    def idle(self) -> bool: ...

    def submit(self, item: tuple[Any, ...]) -> int: ...

    def wait(self, timeout: float) -> list[tuple[int, Reply]]: ...

    def cancel(self) -> list[tuple[int, Reply]]: ...

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
    from .engine import _sigterm_as_cancel

    check_io_managers(nodes, plan, executor.name)
    record = instance.create_run(job_name, run_config=run_config, tags=dict(tags or {}))
    run_id = record.run_id
    instance.set_run_status(run_id, RunStatus.STARTED)
    instance.report_event(run_id, EventType.RUN_START, message=job_name)
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
    except KeyboardInterrupt:
        canceled = True
    except OutfitterError as exc:  # the pool could not start
        run_error = exc
    except OSError as exc:  # e.g. no Dask scheduler at the address
        run_error = InvocationError(
            f"the {executor.name} executor could not start: {type(exc).__name__}: {exc}",
            hint="check the executor's config (for Dask: the scheduler address).",
        )
    teardown_errors = record_closes(instance, run_id, closes)
    if canceled:
        status, event = RunStatus.CANCELED, EventType.RUN_CANCELED
    elif state.failures or teardown_errors or run_error is not None:
        status, event = RunStatus.FAILURE, EventType.RUN_FAILURE
    else:
        status, event = RunStatus.SUCCESS, EventType.RUN_SUCCESS
    for message in teardown_errors:
        instance.report_event(run_id, EventType.RUN_FAILURE, message=message)
    instance.report_event(run_id, event, message=job_name)
    instance.set_run_status(run_id, status)
    result = ExecuteResult(
        run_id=run_id,
        success=status is RunStatus.SUCCESS,
        outputs=_load_outputs(nodes, plan, run_id, state.done, instance),
        nodes={n.key: n for n in nodes},
        failures=state.failures,
        run_error=run_error,
        teardown_error=None,
        run=instance.get_run(run_id),
        events=instance.all_events(run_id) if read_events_now else None,
        instance=instance,
    )
    if canceled:
        raise KeyboardInterrupt("run canceled")
    if raise_on_error and run_error is not None:
        raise run_error
    if raise_on_error and state.failures:
        result.raise_first_error()
    if raise_on_error and teardown_errors:
        raise InvocationError(
            f"resources failed to close in {len(teardown_errors)} worker(s)",
            problems=teardown_errors,
            hint="every other resource was still closed; fix the teardowns listed.",
        )
    return result


class _JobState:
    """Which steps are pending, running, done, failed or skipped."""

    def __init__(self, nodes: Sequence[NodeSpec], instance: Instance, run_id: str) -> None:
        self.pending = list(nodes)
        self.instance = instance
        self.run_id = run_id
        self.running: dict[int, str] = {}
        self.done: set[str] = set()
        self.failures: dict[str, StepFailure] = {}
        self.skipped: set[str] = set()
        self.first_failure: list[str] = []

    def run(self, pool: WorkerPool) -> None:
        while self.pending or self.running:
            self._submit_ready(pool)
            for token, reply in pool.wait(0.5):
                self._finish(self.running.pop(token), reply)

    def _submit_ready(self, pool: WorkerPool) -> None:
        report = self.instance.report_event
        for node in list(self.pending):
            failed = self.failures.keys() | self.skipped
            blocked = next((u for u in node.upstream if u in failed), None)
            if blocked is not None:
                self.pending.remove(node)
                self.skipped.add(node.key)
                report(
                    self.run_id,
                    EventType.STEP_SKIPPED,
                    step_key=node.key,
                    message=f"upstream step {blocked!r} did not succeed",
                )
            elif all(u in self.done for u in node.upstream):
                self.pending.remove(node)
                self.running[pool.submit(("step", node.key))] = node.key

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
