"""Task run options Prefect 1 users set: ``timeout=``, ``retry_on=``, ``state_handlers=``,
``checkpoint=`` and ``cache_for=`` (checked here; see :func:`run_options`).

A task's ``timeout=``: its call is interrupted once the time is up, in the thread running it,
so the task unwinds (its ``finally`` blocks and ``with`` blocks run, step-scoped resources close)
and nothing keeps running in the background.

How the call is interrupted (Prefect 1 uses a SIGALRM in the main thread and a subprocess or a
background thread elsewhere, ``src/prefect/utilities/executors.py``):

- in the main thread (the in-process executor, a multiprocess worker): a ``SIGALRM`` timer, which
  also interrupts a blocking call such as ``time.sleep``;
- in any other thread (a Dask worker's, a flow run from a thread): the interrupt is raised in
  that thread at its next Python instruction, so a task blocked in one long native call (a
  ``time.sleep(60)``, a socket read) is interrupted when that call returns;
- an async task: ``asyncio.wait_for`` cancels it.

Either way the task's run ends ``TimedOut`` with a :class:`TaskTimeoutError` naming the task.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Coroutine, Iterable
from datetime import timedelta
from typing import Any

from ..exceptions import DefinitionTypeError, DefinitionValueError, TaskTimeoutError

__all__ = ["RetryOnly", "TimedCall", "run_options"]


def run_options(
    name: str,
    max_retries: int,
    *,
    retry_on: Any = None,
    timeout: Any = None,
    state_handlers: Any = None,
    checkpoint: bool | None = None,
    cache_for: Any = None,
) -> dict[str, Any]:
    """The checked run options of task ``name``, as attributes to set on it (Prefect 1's
    checks, ``src/prefect/core/task.py``: ``retry_on`` needs ``max_retries`` and holds
    exception classes; ``state_handlers`` is a sequence of callables). A ``timeout`` may be
    fractional (Prefect 1 takes whole seconds only)."""
    where = f"task {name!r}"
    retry_types: frozenset[type[BaseException]] | None = None
    if retry_on:
        values = list(retry_on) if isinstance(retry_on, Iterable) else [retry_on]
        for value in values:
            if not (isinstance(value, type) and issubclass(value, Exception)):
                raise DefinitionTypeError(
                    f"{where}: retry_on must hold exception classes, got {value!r}",
                    hint="e.g. retry_on=[ConnectionError, TimeoutError].",
                )
        if not max_retries > 0:
            raise DefinitionValueError(
                f"{where}: retry_on is set but max_retries is 0",
                hint="give max_retries=N (and retry_delay=) for retry_on to retry anything.",
            )
        retry_types = frozenset(values)
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
    if seconds is not None and (
        not isinstance(seconds, int | float) or isinstance(seconds, bool) or not seconds > 0
    ):
        raise DefinitionTypeError(
            f"{where}: timeout must be a number of seconds > 0 or a timedelta, got {timeout!r}",
            hint="e.g. timeout=30 or timeout=timedelta(minutes=5).",
        )
    handlers = list(state_handlers or [])
    if state_handlers is not None and (
        isinstance(state_handlers, str | bytes) or not isinstance(state_handlers, Iterable)
    ):
        raise DefinitionTypeError(
            f"{where}: state_handlers must be a list of callables, got {state_handlers!r}",
            hint="e.g. state_handlers=[alert_on_failure].",
        )
    bad = [h for h in handlers if not callable(h)]
    if bad:
        raise DefinitionTypeError(
            f"{where}: state_handlers must be callables, got {bad[0]!r}",
            hint="a handler is called as handler(task, old_state, new_state).",
        )
    if cache_for is not None and not isinstance(cache_for, timedelta):
        raise DefinitionTypeError(
            f"{where}: cache_for must be a timedelta, got {cache_for!r}",
            hint="e.g. cache_for=timedelta(hours=1) (accepted; results are not cached).",
        )
    return {
        "retry_on": retry_types,
        "timeout": seconds,
        "state_handlers": handlers,
        "checkpoint": checkpoint,
        "cache_for": cache_for,
    }


class RetryOnly:
    """Put in a NodeSpec's ``no_retry``: matches (so ends the call at once) every exception
    that is not one of ``types``, which is how ``retry_on=`` limits retries to those types.
    (``isinstance`` consults ``__instancecheck__`` on the class of a non-type it is given.)"""

    __slots__ = ("types",)

    def __init__(self, types: Iterable[type[BaseException]]) -> None:
        self.types = tuple(types)

    def __instancecheck__(self, instance: Any) -> bool:
        return not isinstance(instance, self.types)

    def __reduce__(self) -> tuple[Any, ...]:
        return (RetryOnly, (self.types,))


class _Expired(BaseException):
    """Raised in the task's thread when its time is up; a BaseException so the task's own
    ``except Exception`` does not swallow it. Never leaves :class:`TimedCall`."""


class TimedCall:
    """``fn`` (a task's ``run``) with a time limit of ``seconds``; picklable when ``fn`` is."""

    __slots__ = ("fn", "name", "seconds")

    def __init__(self, fn: Callable[..., Any], seconds: float, name: str) -> None:
        self.fn = fn
        self.seconds = seconds
        self.name = name

    def __call__(self, **kwargs: Any) -> Any:
        if _alarm_usable():
            return self._with_alarm(kwargs)
        return self._in_thread(kwargs)

    def _error(self) -> TaskTimeoutError:
        return TaskTimeoutError(
            f"task {self.name!r} timed out after {self.seconds:g}s",
            hint="raise the task's timeout=, or make the task finish sooner.",
        )

    def _with_alarm(self, kwargs: dict[str, Any]) -> Any:
        armed = [True]

        def expire(signum: int, frame: Any) -> None:
            if armed[0]:
                armed[0] = False
                raise _Expired

        previous = signal.signal(signal.SIGALRM, expire)
        try:
            try:
                signal.setitimer(signal.ITIMER_REAL, self.seconds)
                try:
                    value = self.fn(**kwargs)
                finally:
                    armed[0] = False
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
        except _Expired:
            raise self._error() from None
        if isinstance(value, Coroutine):
            return self._awaited(value)
        return value

    def _in_thread(self, kwargs: dict[str, Any]) -> Any:
        timer = _ThreadTimer(threading.get_ident(), self.seconds)
        fired = False
        try:
            try:
                value = self.fn(**kwargs)
                if isinstance(value, Coroutine):  # the coroutine runs later, under wait_for
                    fired = timer.finish()
                    if fired:
                        value.close()
                    else:
                        return self._awaited(value)
            finally:
                fired = timer.finish() or fired
                if fired:
                    _absorb(_Expired)
        except _Expired:
            fired = True
        if fired:  # interrupted, or ran past its time
            raise self._error() from None
        return value

    async def _awaited(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        import asyncio  # only async tasks with a timeout

        try:
            return await asyncio.wait_for(coroutine, self.seconds)
        except TimeoutError:
            raise self._error() from None


def _alarm_usable() -> bool:
    """SIGALRM works in the main thread, when no other timer is set (a task's own alarm)."""
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    )


def _raise_in(thread_id: int, exc: type[BaseException]) -> None:
    import ctypes  # only when a thread timer expires

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc))


def _absorb(exc: type[BaseException]) -> None:
    """Take here an interrupt sent to this thread that may not have fired yet (it is armed
    again and caught: dropping it with ``PyThreadState_SetAsyncExc(id, NULL)`` leaves
    CPython 3.11's evaluation loop flagged, see ``_execution/dask.py``)."""
    me = threading.get_ident()
    for _ in range(10_000):
        try:
            _raise_in(me, exc)
            for _ in range(100):  # a backward jump checks for the pending exception
                pass
        except exc:
            return


class _ThreadTimer:
    """Raises :class:`_Expired` in thread ``thread_id`` after ``seconds`` unless finished."""

    __slots__ = ("_done", "_fired", "_lock", "_thread_id", "_timer")

    def __init__(self, thread_id: int, seconds: float) -> None:
        self._thread_id = thread_id
        self._lock = threading.Lock()
        self._done = False
        self._fired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            if not self._done:
                self._fired = True
                _raise_in(self._thread_id, _Expired)

    def finish(self) -> bool:
        """Stop the timer; whether it fired (an interrupt is then pending or was raised)."""
        with self._lock:
            self._done = True
            fired = self._fired
        self._timer.cancel()
        return fired
