"""Pools of workers for the multiprocess and Dask executors, as the run driver sees them.

The driver submits calls (``("call", node key, input values, announce, label)``) to a pool as
their nodes become ready and reads back :class:`~outfitter._execution.remote.Reply` objects;
at the end of the run, :func:`worker_pool` shuts the pool down, which makes every worker close
its resources (after success, failure, Ctrl-C or SIGTERM) and report how that went.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from .._definitions.node import NodeSpec
from .._resources.io_manager import InputContext, OutputContext, is_in_memory
from .._resources.scope import RunScope
from .._resources.spec import ResourcePlan
from ..exceptions import InvocationError, TeardownError
from .remote import Reply, RunPayload

__all__ = [
    "RunPayload",
    "WorkerPool",
    "check_io_managers",
    "close_error",
    "load_outputs",
    "open_pool",
    "worker_pool",
]


class WorkerPool(Protocol):
    """What the driver needs of a pool of workers."""

    def submit(self, item: tuple[Any, ...]) -> int: ...

    def wait(self, timeout: float) -> list[tuple[int, Reply]]: ...

    def cancel(self) -> None: ...

    def shutdown(self, failure: str | None) -> list[Reply]: ...


def open_pool(
    executor: Any,
    payload: RunPayload,
    items: int,
    live: Callable[[list[Any]], None] | None = None,
) -> WorkerPool:
    """The pool ``executor`` describes, started for the run in ``payload``. ``live`` records
    the events that multiprocess workers send while their calls run (Dask workers write
    theirs into the instance file themselves)."""
    config = executor.config
    if executor.name == "multiprocess":
        from .multiprocess import ProcessPool

        cap = config.get("max_concurrent") or os.cpu_count() or 1
        return ProcessPool(payload, max(1, min(cap, items)), live)
    try:
        from .dask import DaskPool
    except ImportError as exc:  # pragma: no cover - CI installs the dask extra
        raise InvocationError(
            f"the Dask executor needs dask.distributed, which is not installed ({exc})",
            hint='install the extra: pip install "outfitter[dask]".',
        ) from None
    try:
        return DaskPool(
            payload,
            config.get("address"),
            config.get("n_workers"),
            config.get("threads_per_worker") or 1,
        )
    except OSError as exc:  # e.g. no Dask scheduler at the address
        raise InvocationError(
            f"the {executor.name} executor could not start: {type(exc).__name__}: {exc}",
            hint="check the executor's config (for Dask: the scheduler address).",
        ) from None


@contextmanager
def worker_pool(
    executor: Any,
    payload: RunPayload,
    items: int,
    closed: Callable[[Reply], None],
    failure: Callable[[], str | None],
    live: Callable[[list[Any]], None] | None = None,
) -> Iterator[WorkerPool]:
    """A started pool that is shut down on exit, whatever happened: every worker closes its
    resources (context-manager resources see ``failure()``, the run's first error) and each
    worker's close reply is passed to ``closed``."""
    pool = open_pool(executor, payload, items, live)
    try:
        yield pool
    except KeyboardInterrupt:
        pool.cancel()
        raise
    finally:
        for reply in pool.shutdown(failure()):
            closed(reply)


def close_error(reply: Reply) -> TeardownError | None:
    """What a worker's close reply says went wrong, as a TeardownError (a worker that died
    before closing is one too: its resources were never closed)."""
    if reply.ok:
        return None
    if isinstance(reply.error, TeardownError):
        return reply.error
    message = reply.message or "a worker failed to close its resources"
    return TeardownError({"worker": reply.error or InvocationError(message)}, problems=[message])


def check_io_managers(nodes: Sequence[NodeSpec], plan: ResourcePlan, executor: str) -> None:
    """Refuse an in-memory I/O manager on an executor with workers: each worker process has
    its own memory."""
    keys = {n.io_manager_key for n in nodes if n.io_manager_key is not None}
    keys.update(o.io_manager_key for n in nodes for o in n.outputs or ())
    for key in sorted(keys):
        if key in plan.specs and is_in_memory(plan.specs[key].source):
            raise InvocationError(
                f"the {executor} executor cannot pass values through the in-memory I/O manager "
                f"bound at {key!r}: each worker process has its own memory",
                hint="use FilesystemIOManager (the default) or another I/O manager that stores "
                "outputs where every worker can read them. Nothing was run.",
            )


def load_outputs(
    nodes: Sequence[NodeSpec],
    plan: ResourcePlan,
    run_id: str,
    done: Sequence[str],
    instance: Any,
    produced: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Outputs for a job's result after a run on workers, read back through the I/O managers
    here in the coordinating process (for a step with declared outputs, those ``produced``
    says it produced: its result there maps their names)."""
    outputs: dict[str, Any] = {}
    wanted = set(done)
    if not wanted:
        return outputs
    with RunScope(plan, run_id=run_id, instance=instance, keys=()) as scope:
        for node in nodes:
            if node.key not in wanted or node.io_manager_key is None:
                continue
            if node.outputs is not None:
                names = (produced or {}).get(node.key)
                outputs[node.key] = _load_declared(node, scope, run_id, names)
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


def _load_declared(node: NodeSpec, scope: RunScope, run_id: str, names: Any) -> dict[str, Any]:
    """The outputs of a node with declared outputs, each through its own I/O manager (those
    not produced, or not readable here, are left out)."""
    values: dict[str, Any] = {}
    for out in node.outputs or ():
        if isinstance(names, Mapping) and out.name not in names:
            continue  # not produced in this run (an older value may be in storage)
        try:
            upstream = OutputContext(
                step_key=node.key, name=out.name, run_id=run_id, asset_key=out.asset_key
            )
            values[out.name] = scope.get(out.io_manager_key).load_input(
                InputContext(
                    name=out.name, asset_key=out.asset_key, run_id=run_id, upstream_output=upstream
                )
            )
        except Exception:
            continue
    return values
