"""The Dask executor's pool: steps run as tasks on a ``dask.distributed`` cluster.

Each Dask worker keeps one :class:`~outfitter._execution.remote.WorkerRun` per run in a worker
plugin (``worker.plugins["outfitter"]``), keyed by run id: the first step of the run on that
worker opens the resources it needs, later steps reuse them, and at the end of the run the
coordinator closes them on every worker with ``Client.run``. The run's graph, configs and
resource definitions are scattered to every worker once per run; EnvVars are resolved on the
workers, from their environment, when a resource opens.

A run ends on a worker in one way, whoever ends it (the coordinator at the end of the run or on
a cancel, the worker's watch when the coordinator disappears, the worker shutting down): no
new step of the run starts there, steps of the run still running are interrupted (an exception
raised in their thread) and waited for, and only then do the run's resources close.

- The coordinator is watched through the scheduler: it stores a marker in the scheduler's task
  metadata under the key of the run's scattered payload, which the scheduler forgets as soon
  as the coordinator's client leaves (its process died). Each worker checks the markers of its
  open runs twice a second and ends the runs whose marker is gone.
- A ``LocalCluster`` made for the run lives in a helper process, not in the coordinator: Dask
  kills a worker process at once (``os._exit``) when its parent dies, which would leave the
  run's resources open; the helper outlives a killed coordinator long enough to end the run on
  every worker, then shuts the cluster down.
- A lost worker fails its step, never runs it twice: our ``LocalCluster`` is made with
  ``distributed.scheduler.allowed-failures`` 0 (a killed worker is a ``KilledWorker`` error
  naming it); on a cluster at an address, where that is the scheduler's setting, a step that
  Dask starts a second time (its first worker died) fails instead of running again.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import multiprocessing as mp
import os
import pickle
import signal
import socket
import threading
import time
from concurrent.futures import CancelledError
from typing import Any

import dask
from distributed import Client, Future, LocalCluster, WorkerPlugin, get_worker, wait
from distributed.client import FIRST_COMPLETED
from distributed.utils import sync
from tornado.ioloop import PeriodicCallback

from ..exceptions import InvocationError
from .heartbeat import signals_stay_with_main_thread
from .multiprocess import describe, dispatch, lost_reply
from .remote import Reply, RunPayload, WorkerRun

__all__ = ["DaskPool"]

_PLUGIN = "outfitter"
_MARKER = "outfitter-coordinator"
_STARTED = "outfitter-started"

_WATCH_EVERY = 0.5
"""Seconds between two checks, on a worker, that the coordinators of its open runs are there."""

_STOP_GRACE = 30.0
"""Seconds the end of a run on a worker waits for its interrupted steps to stop before it
gives up waiting (the resources then close when the last of them returns)."""

_HELPER_START = 120.0
"""Seconds a LocalCluster helper may take to start the cluster."""


class _Stopped(KeyboardInterrupt):
    """Raised in the thread of a step whose run ended under it on this worker (canceled, its
    coordinator gone, the worker shutting down): the step stops as it would on Ctrl-C."""


def _interrupt(thread_id: int) -> None:
    """Raise :class:`_Stopped` in thread ``thread_id`` (at its next Python instruction; a call
    blocked in native code sees it when it returns)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(_Stopped)
    )


def _absorb_interrupt() -> None:
    """Take here, in the calling thread, an interrupt sent to it that may not have fired yet,
    so it never fires in the thread's next task.

    The interrupt is armed again and caught: a pending one is replaced, one that fired already
    (and was caught, or swallowed by the step) costs one more, caught here. Dropping it with
    ``PyThreadState_SetAsyncExc(id, NULL)`` instead leaves CPython 3.11's evaluation loop
    flagged for good, which hangs a thread running under a tracer (coverage, a debugger).
    """
    me = threading.get_ident()
    for _ in range(10_000):  # armed again if another thread's interrupt reset the flag
        try:
            _interrupt(me)
            for _ in range(100):  # a backward jump checks for the pending exception
                pass
        except _Stopped:
            return


class _Run:
    """One run on this worker: its scope, the threads running its calls, and its end."""

    def __init__(self, payload: RunPayload, marker: str | None) -> None:
        self.worker_run = WorkerRun(payload)
        self.marker = marker
        self.threads: dict[int, str] = {}  # thread id -> the call it runs
        self.interrupted: set[int] = set()
        self.ending: str | None = None  # why the run ends here
        self.failure: str | None = None
        self.close_on_leave = False


class _RunsPlugin(WorkerPlugin):
    """Worker-local state: the open runs on this worker, by run id."""

    name = _PLUGIN
    idempotent = True

    def setup(self, worker: Any) -> None:
        self.worker = worker
        self.runs: dict[str, _Run] = {}
        # runs that ended here: a call of one that arrives late fails instead of reopening
        self.ended: collections.OrderedDict[str, str] = collections.OrderedDict()
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.closing = 0  # ends past their wait, closing resources
        self.ending: set[asyncio.Future[Reply]] = set()  # ends the watch began
        self.watch = PeriodicCallback(self._watch, _WATCH_EVERY * 1000)
        self.watch.start()

    async def teardown(self, worker: Any) -> None:
        self.watch.stop()
        await asyncio.to_thread(self._end_all)

    def _end_all(self) -> None:
        with self.lock:
            run_ids = list(self.runs)
        for run_id in run_ids:
            self.end(run_id, "the Dask worker shut down before the run ended", shutdown=True)
        with self.lock:  # ends another thread began (the watch's) finish closing first
            while self.closing:
                self.changed.wait()

    async def _watch(self) -> None:
        """End the runs whose coordinator's marker the scheduler forgot (its client left)."""
        with self.lock:
            watched = {
                r: run.marker for r, run in self.runs.items() if run.marker and not run.ending
            }
        for run_id, marker in watched.items():
            try:
                present = await self.worker.scheduler.get_metadata(
                    keys=[marker, _MARKER], default=None
                )
            except Exception:  # the scheduler is unreachable: losing it closes the worker
                continue
            if present is None:
                why = (
                    "its coordinating process disappeared (its Dask client left the scheduler: "
                    "killed, crashed or disconnected)"
                )
                with self.lock:
                    run = self.runs.get(run_id)
                    if run is None or run.marker is None:
                        continue
                    run.marker = None  # ended once, not again at the next check
                # not awaited: the next check goes on while this run's steps stop
                task = asyncio.ensure_future(asyncio.to_thread(self.end, run_id, why, why))
                self.ending.add(task)
                task.add_done_callback(self.ending.discard)

    # -- calls ---------------------------------------------------------------------------------

    def enter(self, payload: RunPayload, marker: str | None, label: str) -> _Run | str:
        """The run of a call (of ``label``) about to run in this thread (registered, so an end
        of the run waits for it), or why it must not run: the run already ended here."""
        with self.lock:
            why = self.ended.get(payload.run_id)
            if why is not None:
                return why
            run = self.runs.get(payload.run_id)
            if run is None:
                run = self.runs[payload.run_id] = _Run(payload, marker)
            run.threads[threading.get_ident()] = label
            return run

    def leave(self, run_id: str) -> str | None:
        """This thread's call of ``run_id`` is over (safe to call again); returns why the run
        ended, if it did. An interrupt meant for the call that has not fired yet is taken here,
        and the last call of an ended run that outlived its end's wait closes the run."""
        me = threading.get_ident()
        close: _Run | None = None
        with self.lock:
            run = self.runs.get(run_id)
            if run is None:
                return self.ended.get(run_id)
            run.threads.pop(me, None)
            hit = me in run.interrupted
            run.interrupted.discard(me)
            if run.ending is not None and not run.threads:
                self.changed.notify_all()
                if run.close_on_leave:
                    del self.runs[run_id]
                    self.closing += 1
                    close = run
            why = run.ending
        if hit:
            _absorb_interrupt()
        if close is not None:
            try:
                close.worker_run.close(close.failure)
            finally:
                with self.lock:
                    self.closing -= 1
                    self.changed.notify_all()
        return why

    # -- ending a run ----------------------------------------------------------------------------

    def end(
        self, run_id: str, failure: str | None, why: str = "the run ended", shutdown: bool = False
    ) -> Reply:
        """End ``run_id`` on this worker: refuse its new calls, interrupt the running ones and
        wait for them to stop (at most :data:`_STOP_GRACE` seconds), then close its resources
        (context-manager resources see ``failure``). The reply carries the close events and
        any teardown error. A step that outlives the wait keeps its resources until it
        returns, except when the worker shuts down (they close under it then)."""
        with self.lock:
            run = self.runs.get(run_id)
            self.ended.setdefault(run_id, why)  # a late call of the run never reopens it
            while len(self.ended) > 1000:
                self.ended.popitem(last=False)
            if run is None:
                return Reply(True)
            if run.ending is None:
                run.ending, run.failure = why, failure
            for thread_id in run.threads:
                if thread_id not in run.interrupted:
                    run.interrupted.add(thread_id)
                    _interrupt(thread_id)
            deadline = time.monotonic() + _STOP_GRACE
            while run.threads and (left := deadline - time.monotonic()) > 0:
                self.changed.wait(left)
            if self.runs.get(run_id) is not run:  # another end closed it meanwhile
                return Reply(True)
            if run.threads and not shutdown:
                run.close_on_leave = True
                message = (
                    f"{', '.join(sorted(run.threads.values()))} still ran on Dask worker "
                    f"{self.worker.address} {_STOP_GRACE:g} s after the run ended ({why}): "
                    "the worker closes the run's resources there when it returns"
                )
                error = InvocationError(
                    message,
                    hint="a step blocked in native code (a long sleep, a C extension call) "
                    "sees the interrupt only when that call returns; poll in shorter calls.",
                )
                return Reply(False, str(error), error)
            del self.runs[run_id]
            self.closing += 1
        try:
            return run.worker_run.close(failure or run.failure)
        finally:
            with self.lock:
                self.closing -= 1
                self.changed.notify_all()


def _first_start(worker: Any, key: str) -> str | None:
    """None the first time task ``key`` starts; after that, the worker that started it first.
    (No other worker starts it meanwhile: Dask starts a task again only once the worker
    running it is gone.)"""
    keys = [key, _STARTED]
    previous: str | None = sync(worker.loop, worker.scheduler.get_metadata, keys=keys, default=None)
    if previous is None:
        sync(worker.loop, worker.scheduler.set_metadata, keys=keys, value=worker.address)
    return previous


def _run_item(
    payload: RunPayload, item: tuple[Any, ...], key: str, marker: str | None, once: bool
) -> Reply:
    worker = get_worker()
    if once:
        first = _first_start(worker, key)
        if first is not None:
            return lost_reply(
                item,
                f"{describe(item)} was started again on Dask worker {worker.address}: the "
                f"worker that ran it first ({first}) was lost, and a step never runs twice",
                "the Dask worker running it died (often its memory limit; see the worker's "
                "log). Rerun the run. (The scheduler retries tasks whose worker died; set "
                "distributed.scheduler.allowed-failures to 0 on it to have Dask itself report "
                "a KilledWorker.)",
            )
    plugin: Any = worker.plugins[_PLUGIN]
    reply: Reply | None = None
    try:
        try:
            entered = plugin.enter(payload, marker, describe(item))
            if isinstance(entered, str):  # a late call of a run that ended here
                return lost_reply(
                    item,
                    f"{describe(item)} did not start on Dask worker {worker.address}: {entered}",
                )
            reply = dispatch(entered.worker_run, item)
        except _Stopped:  # the run ended under the step
            pass
    finally:
        while True:  # an interrupt that fires while leaving is caught here; leaving again
            try:  # is safe, and once left no interrupt is pending
                ended = plugin.leave(payload.run_id)
                break
            except _Stopped:
                continue
    if reply is not None:
        return reply
    why = ended or "the run ended"
    return lost_reply(item, f"{describe(item)} was stopped on Dask worker {worker.address}: {why}")


async def _end_run(run_id: str, failure: str | None, why: str, dask_worker: Any = None) -> Reply:
    plugin: _RunsPlugin | None = dask_worker.plugins.get(_PLUGIN)
    if plugin is None:
        return Reply(True)
    # off the worker's event loop: waiting for the run's steps must not stop the worker
    return await asyncio.to_thread(plugin.end, run_id, failure, why)


def _killed(item: tuple[Any, ...], exc: BaseException | None, status: str) -> Reply:
    """The failure of an item whose Dask task did not finish: its worker died (KilledWorker,
    naming the worker), or the task erred or was cancelled outside Outfitter."""
    if type(exc).__name__ == "KilledWorker":
        last = getattr(exc, "last_worker", None)
        address = getattr(last, "address", None) or "unknown"
        return lost_reply(
            item,
            f"{describe(item)} did not finish on Dask: the worker running it ({address}) died "
            "(KilledWorker)",
            "KilledWorker means the Dask worker running it died (often its memory limit; see "
            "the worker's log); the step was not run again. Rerun the run. The other workers "
            "closed their resources.",
        )
    if status == "cancelled":
        return lost_reply(
            item,
            f"{describe(item)} did not finish on Dask: the scheduler cancelled its task "
            "(it forgets a task whose worker died)",
            "the step was not run again; see the Dask scheduler's and workers' logs, then "
            "rerun the run. The other workers closed their resources.",
        )
    reason = f"{type(exc).__name__}: {exc}" if exc is not None else f"future {status}"
    return lost_reply(
        item,
        f"{describe(item)} did not finish on Dask: {reason}",
        "see the Dask scheduler's and workers' logs; the other workers closed their resources.",
    )


class DaskPool:
    """Items submitted as Dask tasks; a ``LocalCluster`` is made for the run (in a helper
    process) when no ``address`` is given, and shut down after it."""

    def __init__(
        self,
        payload: RunPayload,
        address: str | None,
        n_workers: int | None,
        threads_per_worker: int,
    ) -> None:
        self._helper: _ClusterHelper | None = None
        self._external = address is not None
        if address is None:
            self._helper = _ClusterHelper(payload.run_id, n_workers, threads_per_worker)
            address = self._helper.address
        try:
            with signals_stay_with_main_thread():  # the client's event loop thread
                self._client = Client(address)
        except BaseException:
            if self._helper is not None:
                self._helper.close()
            raise
        try:
            self._client.register_plugin(_RunsPlugin(), name=_PLUGIN)
            try:
                self._payload = self._client.scatter(payload, broadcast=True, hash=False)
            except (TypeError, AttributeError, pickle.PicklingError) as exc:
                cause = exc.__cause__ or exc.__context__ or exc
                raise InvocationError(
                    "the Dask executor could not send the run's steps and resources to its "
                    f"workers: {type(cause).__name__}: {cause}",
                    hint="everything a run ships must pickle: define resource classes, assets, "
                    "ops and their config classes at module level, and open connections, "
                    "clients and locks in the resource's setup, not in its definition.",
                ) from None
            # Workers watch this marker: the scheduler forgets it with the payload when this
            # process's client leaves, and they then end the run (see the module docstring).
            self._client.set_metadata(
                [self._payload.key, _MARKER],
                f"pid {os.getpid()} on {socket.gethostname()}",
            )
        except BaseException:
            self._close_client()
            raise
        self._run_id = payload.run_id
        self._futures: dict[Future[Any], tuple[int, tuple[Any, ...]]] = {}
        self._tokens = 0
        self._canceled = False

    @property
    def client(self) -> Client:
        """The client the run's tasks are submitted with."""
        return self._client

    def submit(self, item: tuple[Any, ...]) -> int:
        """Submit ``item`` as a Dask task; returns its token."""
        self._tokens += 1
        key = f"outfitter-{item[1]}-{self._run_id[:8]}-{self._tokens}"
        future = self._client.submit(
            _run_item,
            self._payload,
            item,
            key,
            self._payload.key,
            self._external,
            pure=False,
            key=key,
            retries=0,
        )
        self._futures[future] = (self._tokens, item)
        return self._tokens

    def wait(self, timeout: float) -> list[tuple[int, Reply]]:
        """Replies of the items that finished within ``timeout`` seconds."""
        if not self._futures:
            return []
        try:
            done, _ = wait(list(self._futures), timeout=timeout, return_when=FIRST_COMPLETED)
        except TimeoutError:
            return []
        except CancelledError:
            # Dask's wait raises when a future was cancelled under us (the scheduler forgot
            # its task, e.g. after the worker running it died): those fail their steps below.
            done = {f for f in self._futures if f.status != "pending"}
        replies = []
        for future in done:
            token, item = self._futures.pop(future)
            if future.status == "finished":
                replies.append((token, future.result()))
                continue
            exc = future.exception() if future.status == "error" else None
            replies.append((token, _killed(item, exc, future.status)))
        return replies

    def cancel(self) -> None:
        """Cancel every unfinished item; running ones are stopped on their workers when the
        run ends there (:meth:`shutdown`), before their resources close."""
        self._canceled = True
        self._client.cancel(list(self._futures), force=True)
        self._futures.clear()

    def shutdown(self, failure: str | None) -> list[Reply]:
        """End the run on every worker (its steps still running stop first, then its
        resources close; context-manager resources see ``failure``) and release the
        cluster."""
        why = "the run was canceled" if self._canceled else "the run ended"
        try:
            closes = self._client.run(_end_run, self._run_id, failure, why)
            return list(closes.values())
        finally:
            self._close_client()

    def _close_client(self) -> None:
        try:
            self._client.close()
        finally:
            if self._helper is not None:
                self._helper.close()


# -- a LocalCluster for one run, in a helper process --------------------------------------------


class _ClusterHelper:
    """A helper process holding a ``LocalCluster`` for one run (see the module docstring).

    It is spawned, like Dask's own worker processes, so scripts that start one need the
    ``if __name__ == "__main__":`` guard. It ignores Ctrl-C (the coordinator decides), shuts
    the cluster down when the coordinator asks or on SIGTERM, and when the coordinator dies it
    first ends the run on every worker (stopping its steps, closing its resources)."""

    def __init__(self, run_id: str, n_workers: int | None, threads_per_worker: int) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve_cluster,
            args=(child, run_id, n_workers, threads_per_worker, os.getpid(), dask.config.config),
            name=f"outfitter-cluster-{run_id[:8]}",
        )
        self._proc.start()
        child.close()
        try:
            if not self._conn.poll(_HELPER_START):
                raise OSError(f"the Dask cluster did not start within {_HELPER_START:g} s")
            kind, value = self._conn.recv()
        except EOFError:
            self.close()
            raise OSError(
                f"the process starting the Dask cluster exited (exit code {self._proc.exitcode})"
            ) from None
        except BaseException:
            self.close()
            raise
        if kind != "address":
            self.close()
            raise OSError(value)
        self.address: str = value

    def close(self) -> None:
        """Shut the cluster down and wait for the helper to exit."""
        with contextlib.suppress(OSError):
            self._conn.send("close")
        self._proc.join(timeout=60)
        if self._proc.exitcode is None:
            self._proc.terminate()
            self._proc.join(timeout=30)
        if self._proc.exitcode is None:
            self._proc.kill()
            self._proc.join()
        self._conn.close()


def _serve_cluster(
    conn: Any,
    run_id: str,
    n_workers: int | None,
    threads_per_worker: int,
    coordinator: int,
    config: dict[str, Any],
) -> None:
    """The helper process's body."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    dask.config.update(dask.config.config, config, priority="old")
    # a worker that dies fails its task at once (KilledWorker): a step never runs twice
    dask.config.set({"distributed.scheduler.allowed-failures": 0})
    try:
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            dashboard_address=":0",
        )
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    try:
        conn.send(("address", cluster.scheduler_address))
        lost = False
        while not stop.is_set():
            if os.getppid() != coordinator:
                lost = True
                break
            try:
                if conn.poll(0.1):
                    conn.recv()  # "close"
                    break
            except (EOFError, OSError):
                lost = os.getppid() != coordinator
                break
        if lost:
            why = (
                f"its coordinating process (pid {coordinator}) died before the run ended; the "
                "worker stopped the run's steps and closed its resources"
            )
            with contextlib.suppress(Exception), Client(cluster) as client:
                client.run(_end_run, run_id, why, why)
    finally:
        cluster.close()
