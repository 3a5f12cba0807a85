"""The Dask executor's pool: steps run as tasks on a ``dask.distributed`` cluster.

Each Dask worker keeps one :class:`~outfitter._execution.remote.WorkerRun` per run in a worker
plugin (``worker.plugins["outfitter"]``), keyed by run id: the first step of the run on that
worker opens the resources it needs, later steps reuse them, and at the end of the run the
coordinator closes them on every worker with ``Client.run``. The plugin also closes any run
still open when its worker shuts down. The run's graph, configs and resource definitions are
scattered to every worker once per run; EnvVars are resolved on the workers, from their
environment, when a resource opens.
"""

from __future__ import annotations

import pickle
import threading
from typing import Any

from distributed import Client, Future, LocalCluster, WorkerPlugin, get_worker, wait
from distributed.client import FIRST_COMPLETED

from ..exceptions import InvocationError
from .multiprocess import describe, dispatch, lost_reply
from .remote import Reply, RunPayload, WorkerRun

__all__ = ["DaskPool"]

_PLUGIN = "outfitter"


class _RunsPlugin(WorkerPlugin):
    """Worker-local state: the open runs on this worker, by run id."""

    name = _PLUGIN
    idempotent = True

    def setup(self, worker: Any) -> None:
        self.runs: dict[str, WorkerRun] = {}
        self.lock = threading.Lock()

    def teardown(self, worker: Any) -> None:
        with self.lock:
            runs, self.runs = self.runs, {}
        for run in runs.values():
            run.close("the Dask worker shut down before the run ended")

    def run_for(self, payload: RunPayload) -> WorkerRun:
        with self.lock:
            run = self.runs.get(payload.run_id)
            if run is None:
                run = self.runs[payload.run_id] = WorkerRun(payload)
            return run

    def end(self, run_id: str, failure: str | None) -> Reply:
        with self.lock:
            run = self.runs.pop(run_id, None)
        return Reply(True) if run is None else run.close(failure)


def _run_item(payload: RunPayload, item: tuple[Any, ...]) -> Reply:
    plugin: Any = get_worker().plugins[_PLUGIN]
    return dispatch(plugin.run_for(payload), item)


def _end_run(run_id: str, failure: str | None, dask_worker: Any = None) -> Reply:
    plugin: _RunsPlugin | None = dask_worker.plugins.get(_PLUGIN)
    return Reply(True) if plugin is None else plugin.end(run_id, failure)


class DaskPool:
    """Items submitted as Dask tasks; a ``LocalCluster`` is made for the run when no
    ``address`` is given (and shut down after it)."""

    def __init__(
        self,
        payload: RunPayload,
        address: str | None,
        n_workers: int | None,
        threads_per_worker: int,
    ) -> None:
        self._cluster: LocalCluster | None = None
        if address is None:
            self._cluster = LocalCluster(
                n_workers=n_workers,
                threads_per_worker=threads_per_worker,
                processes=True,
                dashboard_address=":0",
            )
            self._client = Client(self._cluster)
        else:
            self._client = Client(address)
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
        except BaseException:
            self._close_client()
            raise
        self._run_id = payload.run_id
        self._futures: dict[Future[Any], tuple[int, tuple[Any, ...]]] = {}
        self._tokens = 0

    @property
    def client(self) -> Client:
        """The client the run's tasks are submitted with."""
        return self._client

    def submit(self, item: tuple[Any, ...]) -> int:
        """Submit ``item`` as a Dask task; returns its token."""
        self._tokens += 1
        future = self._client.submit(
            _run_item,
            self._payload,
            item,
            pure=False,
            key=f"outfitter-{item[1]}-{self._run_id[:8]}-{self._tokens}",
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
        replies = []
        for future in done:
            token, item = self._futures.pop(future)
            if future.status == "finished":
                replies.append((token, future.result()))
                continue
            exc = future.exception() if future.status == "error" else None
            reason = (
                f"{type(exc).__name__}: {exc}" if exc is not None else f"future {future.status}"
            )
            replies.append(
                (
                    token,
                    lost_reply(
                        item,
                        f"{describe(item)} did not finish on Dask: {reason}",
                        "KilledWorker means the Dask worker running it died (often its memory "
                        "limit; see the worker's log); the other workers closed their resources.",
                    ),
                )
            )
        return replies

    def cancel(self) -> None:
        """Cancel every unfinished item (a running one finishes on its worker, unobserved)."""
        self._client.cancel(list(self._futures), force=True)
        self._futures.clear()

    def shutdown(self, failure: str | None) -> list[Reply]:
        """End the run on every worker (closing its resources; context-manager resources see
        ``failure``) and release the cluster."""
        try:
            closes = self._client.run(_end_run, self._run_id, failure)
            return list(closes.values())
        finally:
            self._close_client()

    def _close_client(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
