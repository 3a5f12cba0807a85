"""The multiprocess executor's pool: worker processes that live for the whole run.

Workers are forked once per run (so they inherit the run's graph and resource definitions
without pickling user code; POSIX only). Each worker runs items sent on its own pipe against
one :class:`~outfitter._execution.remote.WorkerRun`, so it opens each resource the first time
one of its steps needs it and closes everything, in reverse, when the coordinator ends the
run. A worker that dies fails the item it was running with a message naming the item and the
exit code; the other workers still close their resources.

A worker whose coordinator dies (killed, crashed) notices within a second, busy or idle: its
watch thread sees it was re-parented, the step it was running is interrupted as on a cancel,
and it closes its resources (context-manager resources see the coordinator's death) and exits.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..exceptions import InvocationError
from .heartbeat import signals_stay_with_main_thread
from .remote import Reply, RunPayload, WorkerRun
from .step import Outcome

__all__ = ["ProcessPool", "describe", "dispatch", "lost_reply"]

# Set in the coordinator just before forking (under the lock, so runs started at once from
# several threads each fork with their own payload); workers read it from their copy of memory.
_FORKED: dict[str, Any] = {}
_FORK_LOCK = threading.Lock()

_HELD = {signal.SIGINT, signal.SIGTERM}
"""Held while workers fork, and in a worker until its handlers are set."""

_WATCH_EVERY = 0.1
"""Seconds between two checks, in a worker, that its coordinator is still its parent."""


def dispatch(run: WorkerRun, item: tuple[Any, ...]) -> Reply:
    """Run one item on a worker: ``("call", node key, input values, announce, label)``."""
    return run.call(item[1], item[2], item[3])


def describe(item: tuple[Any, ...]) -> str:
    """How messages name an item: its node's label (``asset 'a'``, ``task 'load'``)."""
    return str(item[4])


_DIED = (
    "a worker process ends like this when it is killed (out of memory, a signal) or crashes in "
    "native code; rerun the step, or give it more memory. Every other worker closed its "
    "resources."
)


def lost_reply(item: tuple[Any, ...], message: str, hint: str | None = None) -> Reply:
    """The failure reply for an item whose worker died, or that could not cross processes: an
    outcome failed with an InvocationError naming the item."""
    error = InvocationError(message, hint=hint)
    now = time.time_ns()
    return Reply(False, str(error), error, [], Outcome(None, error, str(error), now, now, []))


def _encode(token: int, reply: Reply, item: tuple[Any, ...]) -> bytes:
    """The pickled reply message (pickled once, sent as bytes), or a failure naming the item
    and the type if its value cannot be pickled."""
    try:
        return pickle.dumps(("reply", token, reply))
    except Exception as exc:
        value = getattr(reply.value, "value", reply.value)
        lost = lost_reply(
            item,
            f"{describe(item)} returned a {type(value).__module__}.{type(value).__qualname__}, "
            f"which cannot be sent back to the coordinating process ({type(exc).__name__}: "
            f"{exc})",
            "return something picklable (for a client or connection: its address, and connect "
            "where it is used), or run with the in-process executor.",
        )
        return pickle.dumps(("reply", token, lost))


class _Interrupted(KeyboardInterrupt):
    """SIGTERM from the coordinator (the run was canceled) or from the worker's own watch
    thread (the coordinator died): stop the current item."""


class _Signals:
    """When SIGTERM may interrupt a worker: only while it waits for an item or runs one (so it
    never cuts a reply in half, nor the close). A SIGTERM at any other moment is kept as
    ``pending`` and ends the worker's loop at the next item."""

    interruptible = False
    pending = False


def _on_sigterm(signum: int, frame: Any) -> None:
    if _Signals.interruptible:
        _Signals.interruptible = False  # one interrupt per wait or item: the rest are pending
        raise _Interrupted("run canceled")
    _Signals.pending = True


class _Watch:
    """A worker's watch on its coordinator: a daemon thread that checks every
    :data:`_WATCH_EVERY` seconds that the coordinator is still the worker's parent (a process
    whose parent dies is re-parented), and when it is not, interrupts the worker's main thread
    (busy in a step, or waiting for one) with SIGTERM."""

    def __init__(self, coordinator: int) -> None:
        self.coordinator = coordinator
        self.lost = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="outfitter-watch", daemon=True)
        with signals_stay_with_main_thread():  # SIGTERM interrupts the main thread
            self._thread.start()

    def _watch(self) -> None:
        while not self.lost.wait(_WATCH_EVERY):
            if os.getppid() != self.coordinator:
                self.lost.set()
                os.kill(os.getpid(), signal.SIGTERM)

    @property
    def failure(self) -> str:
        """What context-manager resources see as the run's failure when it was lost."""
        return (
            f"the coordinating process (pid {self.coordinator}) died before the run ended; "
            "this worker stopped its step and closed its resources"
        )


def _worker(conn: Any) -> None:
    # Ctrl-C reaches the whole process group; the coordinator decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for parent_end, child_end in _FORKED["pipes"]:
        # Forked copies of other pipes' ends would keep them open: a dead worker would then
        # never read as EOF in the coordinator.
        parent_end.close()
        if child_end is not conn:
            child_end.close()
    sending = threading.Lock()  # replies (this thread) and live events (a helper thread)

    def send_live(events: list[Any]) -> None:
        with sending:
            conn.send_bytes(pickle.dumps(("live", None, events)))

    run = WorkerRun(_FORKED["payload"], send_live)
    _Signals.interruptible = _Signals.pending = False
    signal.signal(signal.SIGTERM, _on_sigterm)
    # forked with both held (see ProcessPool): one sent meanwhile is handled from here on
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
    watch = _Watch(_FORKED["coordinator"])
    failure: str | None = None
    while not (_Signals.pending or watch.lost.is_set()):
        try:
            _Signals.interruptible = True
            token, item = conn.recv()
            _Signals.interruptible = False
        except (EOFError, OSError):  # the coordinator is gone
            break
        except _Interrupted:  # a cancel between items, or the coordinator died
            break
        if token == "end":  # the run is over; item is the run's failure, if any
            failure = failure or item
            break
        try:
            _Signals.interruptible = True
            reply = dispatch(run, item)
            _Signals.interruptible = False
        except BaseException as exc:  # reported; the worker keeps serving
            _Signals.interruptible = False
            reply = lost_reply(item, run.scope.redact(f"{type(exc).__name__}: {exc}"))
        if not reply.ok:
            failure = failure or reply.message
        if watch.lost.is_set():  # nobody to reply to
            break
        try:
            message = _encode(token, reply, item)
            with sending:
                conn.send_bytes(message)
        except OSError:  # the coordinator is gone
            break
    if watch.lost.is_set() or os.getppid() != watch.coordinator:
        failure = watch.failure
    closed = run.close(failure)  # SIGTERM no longer interrupts anything
    with contextlib.suppress(OSError), sending:
        conn.send(("closed", None, closed))


class ProcessPool:
    """``workers`` forked processes serving one run; items queue until a worker is idle."""

    def __init__(
        self,
        payload: RunPayload,
        workers: int,
        live: Callable[[list[Any]], None] | None = None,
    ) -> None:
        if "fork" not in mp.get_all_start_methods():
            raise InvocationError(
                "the multiprocess executor needs the 'fork' start method (POSIX)",
                hint="use the in-process or Dask executor on this platform.",
            )
        ctx = mp.get_context("fork")
        pipes = [ctx.Pipe() for _ in range(workers)]
        with _FORK_LOCK:
            _FORKED.update(payload=payload, pipes=pipes, coordinator=os.getpid())
            try:
                self._procs = [
                    ctx.Process(target=_worker, args=(pipes[i][1],), daemon=True)
                    for i in range(workers)
                ]
                # A worker inherits the signals held here: a SIGTERM that reaches it before
                # it set its handler waits for it, instead of killing it by default.
                held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
                try:
                    for proc in self._procs:
                        proc.start()
                finally:
                    signal.pthread_sigmask(signal.SIG_SETMASK, held)
            finally:
                _FORKED.clear()
        for _, child_end in pipes:
            child_end.close()
        self._conns = {i: pipes[i][0] for i in range(workers)}
        self._idle = deque(range(workers))
        self._busy: dict[int, tuple[int, tuple[Any, ...]]] = {}
        self._queue: deque[tuple[int, tuple[Any, ...]]] = deque()
        self._failed: list[tuple[int, Reply]] = []  # items that could not be sent
        self._closes: list[Reply] = []  # close replies of workers that stopped early
        self._tokens = 0
        self._live = live
        """Takes the events workers send while their calls run (the coordinator records
        them); a reply that follows says how many of its call's events came that way."""

    def _recv(self, conn: Any) -> tuple[str, Any, Any] | None:
        """The next message on ``conn`` that is not live events (those go to ``live`` as they
        come), or None when only live events were waiting."""
        while True:
            kind, token, value = conn.recv()
            if kind != "live":
                return kind, token, value
            if self._live is not None:
                self._live(value)
            if not conn.poll():
                return None

    def submit(self, item: tuple[Any, ...]) -> int:
        """Queue ``item``; returns its token."""
        self._tokens += 1
        self._queue.append((self._tokens, item))
        self._dispatch()
        return self._tokens

    def _dispatch(self) -> None:
        while self._queue and self._idle:
            token, item = self._queue.popleft()
            try:  # pickling happens before anything is written, so a failure leaves the pipe clean
                self._conns[self._idle[0]].send((token, item))
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                self._failed.append((token, _unsendable(item, exc)))
                continue
            except OSError:  # the worker stopped while idle (a signal): another one runs it
                self._queue.appendleft((token, item))
                self._drop(self._idle.popleft())
                continue
            self._busy[self._idle.popleft()] = (token, item)

    def _drop(self, worker: int) -> None:
        """Forget a worker that stopped early, keeping its close reply (or saying it has
        none) for :meth:`shutdown`."""
        conn = self._conns.pop(worker)
        reply: Reply | None = None
        with contextlib.suppress(EOFError, OSError):
            while conn.poll():
                kind, _, value = conn.recv()
                if kind == "closed":
                    reply = value
        conn.close()
        if reply is None:
            proc = self._procs[worker]
            proc.join(timeout=5)
            reply = Reply(
                False,
                f"worker process {proc.pid} died (exit code {proc.exitcode}) before closing "
                "its resources",
            )
        self._closes.append(reply)

    def wait(self, timeout: float) -> list[tuple[int, Reply]]:
        """Replies that arrived within ``timeout`` seconds (lost workers fail their item)."""
        replies, self._failed = self._failed, []
        if not self._conns:  # every worker died: nothing queued can run
            while self._queue:
                token, item = self._queue.popleft()
                message = f"every worker process died before {describe(item)} could run"
                replies.append((token, lost_reply(item, message, _DIED)))
        if replies or not self._busy:
            return replies
        by_conn: dict[Any, int] = {self._conns[w]: w for w in self._busy}
        ready: list[Any] = mp_connection.wait(list(by_conn), timeout=timeout)
        for conn in ready:
            worker = by_conn[conn]
            try:
                received = self._recv(conn)
            except EOFError:
                token, item = self._busy.pop(worker)
                replies.append((token, lost_reply(item, self._death(worker, item), _DIED)))
                del self._conns[worker]
                conn.close()
                continue
            if received is None:  # still running its item
                continue
            kind, _, reply = received
            token, item = self._busy.pop(worker)
            if kind == "closed":  # a signal stopped it before it started the item: it closed
                self._closes.append(reply)
                self._queue.appendleft((token, item))  # never started: another worker runs it
                del self._conns[worker]
                conn.close()
                continue
            replies.append((token, reply))
            self._idle.append(worker)
        self._dispatch()
        return replies

    def _death(self, worker: int, item: tuple[Any, ...]) -> str:
        proc = self._procs[worker]
        proc.join(timeout=5)
        return (
            f"worker process {proc.pid} died (exit code {proc.exitcode}) while running "
            f"{describe(item)}"
        )

    def cancel(self) -> None:
        """Stop: drop queued items and interrupt running ones. Interrupted workers report a
        failure, then close their resources at :meth:`shutdown`."""
        self._queue.clear()
        for worker in self._busy:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._procs[worker].pid, signal.SIGTERM)  # type: ignore[arg-type]

    def shutdown(self, failure: str | None) -> list[Reply]:
        """End the run on every live worker and collect each worker's close reply; resources
        that exit as context managers see ``failure`` (the run's first error), if any."""
        for conn in self._conns.values():
            with contextlib.suppress(OSError):  # a worker already gone
                conn.send(("end", failure))
        closes, self._closes = self._closes, []
        deadline = time.monotonic() + 60
        waiting: dict[Any, int] = {conn: w for w, conn in self._conns.items()}
        while waiting and time.monotonic() < deadline:
            ready: list[Any] = mp_connection.wait(list(waiting), timeout=0.5)
            for conn in ready:
                worker = waiting.pop(conn)
                try:
                    while True:
                        message = self._recv(conn)
                        if message is not None and message[0] == "closed":
                            closes.append(message[2])
                            break
                        if message is None and not conn.poll(0.5):
                            waiting[conn] = worker  # its close reply is still to come
                            break
                except EOFError:
                    proc = self._procs[worker]
                    proc.join(timeout=5)
                    closes.append(
                        Reply(
                            False,
                            f"worker process {proc.pid} died (exit code {proc.exitcode}) "
                            "before closing its resources",
                        )
                    )
        for conn in self._conns.values():
            conn.close()
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.exitcode is None:
                proc.terminate()
                proc.join(timeout=5)
        return closes


def _unsendable(item: tuple[Any, ...], exc: BaseException) -> Reply:
    kwargs = item[2]
    bad = ""
    for name, value in kwargs.items():
        try:
            pickle.dumps(value)
        except Exception:
            bad = f" (argument {name!r}, a {type(value).__module__}.{type(value).__qualname__})"
            break
    return lost_reply(
        item,
        f"{describe(item)} cannot be sent to a worker process{bad}: {type(exc).__name__}: {exc}",
        "pass picklable values between tasks (for a client or connection: its address, and "
        "connect inside the task), or run the flow with the in-process executor.",
    )
