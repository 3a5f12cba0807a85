"""Interrupts held while something must not be cut in half: a resource closing, a cleanup, a
run record being written. Lives below every package (stdlib only) because the resource scope
holds them while it closes, and the run driver while it closes, cancels and records.

The run's own Ctrl-C/SIGTERM handlers (installed by the run driver) are :func:`on_interrupt`.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["RunCanceled", "deferred_interrupts", "on_interrupt"]


class RunCanceled(KeyboardInterrupt):
    """Raised in the run's thread when the process receives SIGTERM during a run."""


_HELD = [0]  # how deeply the main thread holds interrupts (see deferred_interrupts)
_PENDING: list[int] = []  # signals that arrived while held, delivered when the hold ends


def _interrupted(signum: int) -> KeyboardInterrupt:
    return RunCanceled("SIGTERM received") if signum == signal.SIGTERM else KeyboardInterrupt()


def on_interrupt(signum: int, frame: Any) -> None:
    """The run's Ctrl-C/SIGTERM handler: raises KeyboardInterrupt (:class:`RunCanceled` for
    SIGTERM), or notes the signal while interrupts are held."""
    if _HELD[0]:
        _PENDING.append(signum)  # taken up when the close / record write in progress is done
        return
    raise _interrupted(signum)


_INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while the block runs (a resource closing, the run record being
    written): a signal that arrives meanwhile takes effect when the block ends, so it can never
    cut a close or a record in half, and a second signal never skips a close. Held twice over:
    the main thread blocks the signals, and the run's handlers (:func:`on_interrupt`) only
    note a signal another thread took for the process. Only the main thread receives signals,
    so elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)
    _HELD[0] += 1
    try:
        yield
    finally:
        _HELD[0] -= 1
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        if not _HELD[0] and _PENDING:
            signum = _PENDING[0]
            _PENDING.clear()
            raise _interrupted(signum)
