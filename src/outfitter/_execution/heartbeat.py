"""How the process running a run shows it is alive, and who owns its SIGTERM.

:func:`heartbeat` runs a daemon thread for the length of a run that stamps the run's heartbeat
in the instance every :data:`~outfitter._instance.instance.HEARTBEAT_INTERVAL` seconds (starting
the run stamped the first one, with the process's pid and host). A later Outfitter process that
finds the run STARTED while its process is gone, or silent for longer than
:data:`~outfitter._instance.instance.STALE_AFTER` seconds, records it as FAILURE
(:meth:`Instance.mark_dead_runs`).

:func:`host_handles_sigterm` is for long-lived hosts that launch runs, such as the daemon: while
it is active, a run started in this context leaves SIGTERM to the host's own handler instead of
treating it as a cancel (``sigterm_as_cancel`` in the driver consults it), so the host can let
the run finish before it stops.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .._instance.instance import HEARTBEAT_INTERVAL

__all__ = [
    "every",
    "heartbeat",
    "host_handles_sigterm",
    "sigterm_handled_by_host",
    "signals_stay_with_main_thread",
]

_LOG = logging.getLogger("outfitter.heartbeat")

_HOST_HANDLES_SIGTERM: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "outfitter_host_handles_sigterm", default=False
)


@contextlib.contextmanager
def host_handles_sigterm() -> Iterator[None]:
    """Runs started inside the block leave SIGTERM to the handler the host installed (they
    still cancel on Ctrl-C unless the host handles SIGINT too)."""
    token = _HOST_HANDLES_SIGTERM.set(True)
    try:
        yield
    finally:
        _HOST_HANDLES_SIGTERM.reset(token)


def sigterm_handled_by_host() -> bool:
    """Whether this context's host handles SIGTERM itself (see :func:`host_handles_sigterm`)."""
    return _HOST_HANDLES_SIGTERM.get()


@contextlib.contextmanager
def signals_stay_with_main_thread() -> Iterator[None]:
    """Threads started inside the block never receive signals. A signal sent to the process
    goes to a thread that does not block it; the run driver holds Ctrl-C and SIGTERM in the
    main thread while resources close, which only works if no helper thread takes them
    instead. (A thread inherits the signal mask of the thread that starts it.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def heartbeat(instance: Any, run_id: str, interval: float = HEARTBEAT_INTERVAL) -> Iterator[None]:
    """Heartbeat ``run_id`` in ``instance`` from a daemon thread while the block runs.

    An instance without heartbeats (a stand-in) is left alone; so is an in-memory one, which
    no other process can read. A heartbeat that fails (the database busy for longer than its
    timeout) is logged and the next one tried: the run itself never fails for it.
    """
    beat = getattr(instance, "record_heartbeat", None)
    if beat is None or getattr(instance, "in_memory", False):
        yield
        return

    def beats() -> None:
        beat(run_id)

    with every(interval, beats, f"outfitter-heartbeat-{run_id[:8]}", f"heartbeat of run {run_id}"):
        yield


@contextlib.contextmanager
def every(interval: float, work: Callable[[], None], name: str, what: str) -> Iterator[None]:
    """While the block runs, call ``work`` every ``interval`` seconds from a daemon thread
    (started with signals blocked, see :func:`signals_stay_with_main_thread`). A call that
    raises is logged as ``what`` failing and the next one tried; the thread is waited for at
    the end, not forever (a call waiting on a busy database only touches a finished run).

    Example:
        >>> ticks = []
        >>> with every(0.01, lambda: ticks.append(1), "ticker", "a tick"):
        ...     pass
    """
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                work()
            except Exception as exc:
                _LOG.warning("%s failed: %s: %s", what, type(exc).__name__, exc)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    with signals_stay_with_main_thread():
        thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
