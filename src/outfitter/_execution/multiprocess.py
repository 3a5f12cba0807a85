"""The multiprocess executor: a pool of worker processes that live for the whole run.

Each worker opens the resources its steps need the first time it needs them, keeps them for the
run, and closes them (in reverse) when the coordinator says the run's work is done: once per run
per worker, never per step. Step outputs cross processes through the I/O manager. Events are sent
back to the coordinator, which records them. Workers are forked, so they inherit the run's graph
and definitions without pickling user code (POSIX only).

A worker that dies fails its step with a message naming the step and the exit code; the run then
stops scheduling, fails, and every other worker still closes its resources.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import signal
import time
import traceback
from collections.abc import Sequence
from typing import Any

from .._definitions.node import NO_DEFAULT, NodeSpec
from .._instance import EventType, Instance, RunStatus
from .._resources.io_manager import InMemoryIOManager, InputContext, OutputContext
from .._resources.spec import ResourcePlan
from ..exceptions import InvocationError, TeardownError
from .context import AssetExecutionContext, OpExecutionContext, StepResources
from .result import ExecuteResult, StepFailure
from .scope import RunScope

__all__ = ["run_multiprocess"]

# Set in the coordinator just before forking; workers read it from their copy of memory.
_RUN: dict[str, Any] = {}


class _Storage:
    """What a worker knows of the instance: its storage directory (the database connection is
    the coordinator's alone)."""

    def __init__(self, path: str) -> None:
        self._path = path

    def storage_directory(self) -> str:
        return self._path


def _worker(worker_id: int, conn: Any) -> None:
    """A worker's loop: run the steps sent on its pipe until told the run is over (None, or the
    coordinator gone), then close its resources. Each worker has its own pipe, so a worker that
    dies cannot leave a shared lock held."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator decides when to stop
    for parent_end, child_end in _RUN["pipes"]:
        # Forked copies of other pipes' ends would keep them open: a dead worker would then
        # never read as EOF in the coordinator.
        parent_end.close()
        if child_end is not conn:
            child_end.close()
    nodes: dict[str, NodeSpec] = _RUN["nodes"]
    plan: ResourcePlan = _RUN["plan"]
    run_id: str = _RUN["run_id"]
    configs: dict[str, Any] = _RUN["configs"]
    pid = os.getpid()

    def listener(kind: str, key: str, seconds: float, error: BaseException | None) -> None:
        event = EventType.RESOURCE_OPEN if kind == "open" else EventType.RESOURCE_CLOSE
        if error is not None:
            event = EventType.RESOURCE_FAILURE
        conn.send(("event", event, None, key, f"pid {pid}", seconds))

    scope = RunScope(plan, run_id=run_id, instance=_RUN["storage"], listener=listener)
    failure: BaseException | None = None
    while True:
        try:
            key = conn.recv()
        except EOFError:
            key = None
        if key is None:
            break
        node = nodes[key]
        start = time.perf_counter()
        try:
            _run_step(node, scope, run_id, configs, pid)
            conn.send(("done", key, time.perf_counter() - start, None))
        except BaseException as exc:  # reported to the coordinator, which fails the run
            failure = failure or exc
            message = f"{type(exc).__name__}: {scope.redact(str(exc))}"
            conn.send(("done", key, time.perf_counter() - start, message))
    try:
        scope.close(failure)
        conn.send(("closed", worker_id, None))
    except TeardownError as exc:
        conn.send(("closed", worker_id, str(exc)))
    except BaseException:
        conn.send(("closed", worker_id, traceback.format_exc(limit=3)))


def _run_step(
    node: NodeSpec, scope: RunScope, run_id: str, configs: dict[str, Any], pid: int
) -> None:
    kwargs: dict[str, Any] = {}
    params = node.params
    resources = StepResources(scope, node.context_resource_keys, node.key)
    if params.context is not None:
        cls = AssetExecutionContext if node.asset_key is not None else OpExecutionContext
        kwargs[params.context] = cls(
            step_key=node.key,
            run_id=run_id,
            resources=resources,
            op_config=configs.get(node.key),
            asset_key=node.asset_key,
        )
    if params.config is not None:
        kwargs[params.config] = configs.get(node.key)
    for res in params.resources:
        kwargs[res.key] = scope.get(res.key)
    manager = scope.get(node.io_manager_key)
    for inp in node.inputs:
        if inp.value is not NO_DEFAULT:
            kwargs[inp.name] = inp.value
            continue
        upstream = None
        if inp.upstream is not None:
            upstream = OutputContext(step_key=inp.upstream, run_id=run_id, asset_key=inp.asset_key)
        kwargs[inp.name] = manager.load_input(
            InputContext(
                name=inp.name,
                asset_key=inp.asset_key,
                upstream_output=upstream,
                step_key=node.key,
                run_id=run_id,
                resources=resources,
            )
        )
    value = node.fn(**kwargs)
    manager.handle_output(
        OutputContext(
            step_key=node.key,
            asset_key=node.asset_key,
            run_id=run_id,
            resources=resources,
            config=configs.get(node.key),
        ),
        value,
    )


def run_multiprocess(
    job_name: str,
    nodes: Sequence[NodeSpec],
    plan: ResourcePlan,
    instance: Instance,
    configs: dict[str, Any],
    run_config: Any,
    tags: Any,
    max_concurrent: int | None,
    raise_on_error: bool,
) -> ExecuteResult:
    """Run ``nodes`` on a pool of worker processes (see the module docstring)."""
    io_spec = {n.io_manager_key for n in nodes}
    for key in io_spec:
        if isinstance(plan.specs[key].source, InMemoryIOManager):
            raise InvocationError(
                f"the multiprocess executor cannot pass values through the in-memory I/O manager "
                f"bound at {key!r}: each worker has its own memory",
                hint="use FilesystemIOManager (the default of materialize) or another manager "
                "that stores outputs where every worker can read them.",
            )
    if "fork" not in mp.get_all_start_methods():
        raise InvocationError(
            "the multiprocess executor needs the 'fork' start method (POSIX)",
            hint="use the in-process executor on this platform.",
        )
    record = instance.create_run(job_name, run_config=run_config, tags=dict(tags or {}))
    run_id = record.run_id
    instance.set_run_status(run_id, RunStatus.STARTED)
    instance.report_event(run_id, EventType.RUN_START, message=job_name)
    workers_n = max(1, min(max_concurrent or os.cpu_count() or 1, len(nodes)))
    ctx = mp.get_context("fork")
    pipes = [ctx.Pipe() for _ in range(workers_n)]
    _RUN.update(
        nodes={n.key: n for n in nodes},
        plan=plan,
        run_id=run_id,
        configs=configs,
        storage=_Storage(instance.storage_directory()),
        pipes=pipes,
    )
    instance.flush()
    procs = [
        ctx.Process(target=_worker, args=(i, pipes[i][1]), daemon=True) for i in range(workers_n)
    ]
    for p in procs:
        p.start()
    _RUN.clear()
    conns = {i: pipes[i][0] for i in range(workers_n)}
    for _, child_end in pipes:
        child_end.close()
    failures: dict[str, StepFailure] = {}
    done: set[str] = set()
    running: dict[str, int] = {}
    idle = set(conns)
    pending = list(nodes)
    canceled = False
    teardown_errors: list[str] = []
    try:
        while pending or running:
            if not failures:
                for node in list(pending):
                    if idle and all(u in done for u in node.upstream):
                        worker = min(idle)
                        idle.discard(worker)
                        pending.remove(node)
                        running[node.key] = worker
                        instance.report_event(run_id, EventType.STEP_START, step_key=node.key)
                        conns[worker].send(node.key)
            elif pending:
                for node in pending:
                    instance.report_event(
                        run_id,
                        EventType.STEP_SKIPPED,
                        step_key=node.key,
                        message="an earlier step failed",
                    )
                pending.clear()
            if not running:
                if pending and not idle:
                    break  # every worker died
                continue
            for conn in _wait(list(conns.values())):
                worker = next(i for i, c in conns.items() if c is conn)
                try:
                    msg = conn.recv()
                except EOFError:
                    _worker_died(worker, procs[worker], running, failures, instance, run_id)
                    del conns[worker]
                    continue
                if msg[0] == "done":
                    idle.add(worker)
                _handle(msg, running, done, failures, instance, run_id, teardown_errors)
    except KeyboardInterrupt:
        canceled = True
    finally:
        _finish_workers(procs, conns, running, done, failures, instance, run_id, teardown_errors)
    if canceled:
        status, event = RunStatus.CANCELED, EventType.RUN_CANCELED
    elif failures or teardown_errors:
        status, event = RunStatus.FAILURE, EventType.RUN_FAILURE
    else:
        status, event = RunStatus.SUCCESS, EventType.RUN_SUCCESS
    instance.report_event(run_id, event, message=job_name)
    instance.set_run_status(run_id, status)
    outputs = _load_outputs(nodes, plan, run_id, done, instance)
    result = ExecuteResult(
        run_id=run_id,
        success=status is RunStatus.SUCCESS,
        outputs=outputs,
        nodes={n.key: n for n in nodes},
        failures=failures,
        run_error=None,
        teardown_error=None,
        run=instance.get_run(run_id),
        events=None,
        instance=instance,
    )
    if canceled:
        raise KeyboardInterrupt
    if raise_on_error and failures:
        first = next(iter(failures.values()))
        raise InvocationError(
            f"step {first.step_key!r} failed in a worker process: {first.message}",
            hint="see the run's events (outfitter runs show RUN_ID) for every failure.",
        )
    if raise_on_error and teardown_errors:
        raise InvocationError(
            "resources failed to close in worker processes",
            problems=teardown_errors,
            hint="every other resource was still closed; fix the teardowns listed.",
        )
    return result


def _handle(
    msg: tuple[Any, ...],
    running: dict[str, int],
    done: set[str],
    failures: dict[str, StepFailure],
    instance: Instance,
    run_id: str,
    teardown_errors: list[str],
) -> None:
    kind = msg[0]
    if kind == "done":
        key, seconds, error = msg[1], msg[2], msg[3]
        running.pop(key, None)
        if error is None:
            done.add(key)
            instance.report_event(run_id, EventType.HANDLED_OUTPUT, step_key=key)
            instance.report_event(run_id, EventType.STEP_SUCCESS, step_key=key, duration=seconds)
        else:
            failures[key] = StepFailure(key, RuntimeError(error), error)
            instance.report_event(
                run_id, EventType.STEP_FAILURE, step_key=key, message=error, duration=seconds
            )
    elif kind == "event":
        _, event, step, resource, message, seconds = msg
        instance.report_event(
            run_id, event, step_key=step, resource_key=resource, message=message, duration=seconds
        )
    elif kind == "closed" and msg[2]:
        teardown_errors.append(msg[2])


def _wait(conns: list[Any]) -> list[Any]:
    """The connections with something to read (or closed), waiting up to half a second."""
    return list(mp_connection.wait(conns, timeout=0.5))


def _worker_died(
    worker: int,
    proc: Any,
    running: dict[str, int],
    failures: dict[str, StepFailure],
    instance: Instance,
    run_id: str,
) -> None:
    proc.join(timeout=5)
    for key, owner in list(running.items()):
        if owner == worker:
            running.pop(key)
            message = (
                f"worker process {proc.pid} died (exit code {proc.exitcode}) while running "
                f"step {key!r}"
            )
            failures[key] = StepFailure(key, RuntimeError(message), message)
            instance.report_event(run_id, EventType.STEP_FAILURE, step_key=key, message=message)


def _finish_workers(
    procs: list[Any],
    conns: dict[int, Any],
    running: dict[str, int],
    done: set[str],
    failures: dict[str, StepFailure],
    instance: Instance,
    run_id: str,
    teardown_errors: list[str],
) -> None:
    """Tell every live worker the run is over and collect its close events."""
    for conn in conns.values():
        with contextlib.suppress(OSError):  # a worker already gone
            conn.send(None)
    deadline = time.monotonic() + 60
    open_conns = dict(conns)
    while open_conns and time.monotonic() < deadline:
        for conn in _wait(list(open_conns.values())):
            worker = next(i for i, c in open_conns.items() if c is conn)
            try:
                msg = conn.recv()
            except EOFError:
                _worker_died(worker, procs[worker], running, failures, instance, run_id)
                del open_conns[worker]
                continue
            if msg[0] == "closed":
                del open_conns[worker]
            _handle(msg, running, done, failures, instance, run_id, teardown_errors)
    for conn in conns.values():
        conn.close()
    for proc in procs:
        proc.join(timeout=5)
        if proc.exitcode is None:
            proc.terminate()
            proc.join(timeout=5)


def _load_outputs(
    nodes: Sequence[NodeSpec], plan: ResourcePlan, run_id: str, done: set[str], instance: Any
) -> dict[str, Any]:
    """Outputs for the result, read back through the I/O managers (in the coordinator)."""
    outputs: dict[str, Any] = {}
    with RunScope(plan, run_id=run_id, instance=instance) as scope:
        for node in nodes:
            if node.key not in done:
                continue
            manager = scope.get(node.io_manager_key)
            try:
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
