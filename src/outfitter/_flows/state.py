"""Task and flow states (Prefect 1's hierarchy and predicates).

::

    State
    ├── Pending ── Retrying, Paused, Resume
    ├── Running
    └── Finished
        ├── Success ── Skipped, Mapped
        ├── Failed ── TriggerFailed, TimedOut
        └── Cancelled

As in Prefect 1 (``src/prefect/engine/state.py``): two states are equal when they are of the same
class with equal results (and equal extra fields such as ``run_count`` or ``map_states``), the
message aside; they hash by identity; ``repr`` is ``<Success: "message">``; pickling a state
whose result is an exception that cannot be pickled keeps a text describing it instead.
"""

from __future__ import annotations

import pickle
from datetime import datetime
from typing import Any

__all__ = [
    "Cancelled",
    "Failed",
    "Finished",
    "Mapped",
    "Paused",
    "Pending",
    "Resume",
    "Retrying",
    "Running",
    "Skipped",
    "State",
    "Success",
    "TimedOut",
    "TriggerFailed",
]

_NOT_COMPARED = frozenset({"message", "result", "context"})


class State:
    """The state of a task or flow run: a message and a result (a value, an exception, or for a
    flow the states of its tasks).

    Example:
        >>> from outfitter import Skipped
        >>> state = Skipped("nothing to do")
        >>> state.is_successful(), state.is_skipped(), state.is_finished()
        (True, True, True)
    """

    color = "#999999"

    def __init__(self, message: str | None = None, result: Any = None) -> None:
        self.message = message
        self.result = result

    def is_pending(self) -> bool:
        """Not started yet (includes Retrying and Paused)."""
        return isinstance(self, Pending)

    def is_retrying(self) -> bool:
        """Waiting to run again after a failure."""
        return isinstance(self, Retrying)

    def is_paused(self) -> bool:
        """Waiting for a manual approval (``manual_only`` trigger)."""
        return isinstance(self, Paused)

    def is_running(self) -> bool:
        """Running right now."""
        return isinstance(self, Running)

    def is_finished(self) -> bool:
        """Done, whatever the outcome."""
        return isinstance(self, Finished)

    def is_successful(self) -> bool:
        """Succeeded (includes Skipped and Mapped)."""
        return isinstance(self, Success)

    def is_failed(self) -> bool:
        """Failed (includes TriggerFailed)."""
        return isinstance(self, Failed)

    def is_skipped(self) -> bool:
        """Skipped (a kind of success)."""
        return isinstance(self, Skipped)

    def is_mapped(self) -> bool:
        """A mapped task's parent state (a kind of success)."""
        return isinstance(self, Mapped)

    def is_cancelled(self) -> bool:
        """Cancelled (Ctrl-C / SIGTERM)."""
        return isinstance(self, Cancelled)

    def __repr__(self) -> str:
        if self.message is not None:
            return f'<{type(self).__name__}: "{self.message}">'
        return f"<{type(self).__name__}>"

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return False
        assert isinstance(other, State)
        if not _same(self.result, other.result):
            return False
        mine, theirs = vars(self), vars(other)
        return all(
            _same(value, theirs.get(name, _MISSING))
            for name, value in mine.items()
            if name not in _NOT_COMPARED and not name.startswith("_")
        )

    def __hash__(self) -> int:
        return id(self)

    def __getstate__(self) -> dict[str, Any]:
        data = dict(vars(self))
        result = data.get("result")
        if isinstance(result, BaseException) and not hasattr(result, "state"):  # not a signal
            try:
                pickle.dumps(result)
            except Exception as exc:
                data["result"] = (
                    f"The exception could not be pickled ({type(exc).__name__}: {exc}): {result!r}"
                )
        return data

    def __setstate__(self, data: dict[str, Any]) -> None:
        vars(self).update(data)


class Pending(State):
    """Not started yet.

    Example:
        >>> from outfitter import Pending
        >>> Pending().is_finished()
        False
    """


class Retrying(Pending):
    """Failed, and will run again (``max_retries``); ``run_count`` is how many runs were made
    (1 unless given, as Prefect 1 defaults it outside a run).

    Example:
        >>> from outfitter import Retrying
        >>> Retrying().run_count, Retrying(run_count=2).is_pending()
        (1, True)
    """

    def __init__(
        self, message: str | None = None, result: Any = None, run_count: int | None = None
    ) -> None:
        super().__init__(message, result)
        self.run_count = 1 if run_count is None else run_count


class Paused(Pending):
    """Waiting for a manual approval (a ``manual_only`` trigger, or a ``PAUSE`` signal). Given
    back in ``flow.run(task_states=...)`` it stays paused (the task does not run) unless its
    ``start_time`` has passed; give ``Resume()`` to run it.

    Example:
        >>> from outfitter import Paused
        >>> Paused().is_paused(), Paused().start_time is None
        (True, True)
    """

    def __init__(
        self, message: str | None = None, result: Any = None, start_time: datetime | None = None
    ) -> None:
        super().__init__(message, result)
        self.start_time = start_time

    def is_due(self) -> bool:
        """Whether the pause has a ``start_time`` that has passed (the task then resumes)."""
        start = self.start_time
        if start is None:
            return False
        return start <= datetime.now(start.tzinfo)


class Resume(Pending):
    """Run a paused task: give it in ``flow.run(task_states={task: Resume()})`` and the task
    runs, its ``manual_only`` trigger passing (Prefect 1's approval of a paused task).

    Example:
        >>> from outfitter import Resume
        >>> Resume().is_pending(), Resume().is_paused()
        (True, False)
    """


class Running(State):
    """Running now (a flow returns it when terminal tasks are unfinished).

    Example:
        >>> from outfitter import Running
        >>> Running().is_running()
        True
    """


class Finished(State):
    """Done."""


class Success(Finished):
    """Succeeded; ``result`` is the return value.

    Example:
        >>> from outfitter import Success
        >>> Success(result=3).result
        3
    """


class Skipped(Success):
    """Skipped (a SKIP signal, or an upstream skip); counts as success.

    Example:
        >>> from outfitter import Skipped
        >>> Skipped().is_successful()
        True
    """


class Mapped(Success):
    """The parent of mapped runs; ``map_states`` are the children's states.

    Example:
        >>> from outfitter import Mapped, Success
        >>> len(Mapped(map_states=[Success(), Success()]).map_states)
        2
    """

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        map_states: list[State | None] | None = None,
        n_map_states: int | None = None,
    ) -> None:
        super().__init__(message, result)
        self.map_states: list[State | None] = list(map_states or [])
        self._n_map_states = n_map_states

    @property
    def n_map_states(self) -> int:
        """How many children were (or, given at a restart, will be) mapped: ``n_map_states`` if
        given, else ``len(map_states)``."""
        return self._n_map_states or len(self.map_states)

    @n_map_states.setter
    def n_map_states(self, value: int | None) -> None:
        self._n_map_states = value


class Failed(Finished):
    """Failed; ``result`` is the exception.

    Example:
        >>> from outfitter import Failed
        >>> Failed("boom", ValueError("x")).is_failed()
        True
    """


class TimedOut(Failed):
    """Failed because its run took longer than the task's ``timeout``; ``result`` is the
    :class:`~outfitter.exceptions.TaskTimeoutError`.

    Example:
        >>> from outfitter import TimedOut
        >>> TimedOut().is_failed()
        True
    """


class TriggerFailed(Failed):
    """Did not run because its trigger failed (e.g. an upstream task failed).

    Example:
        >>> from outfitter import TriggerFailed
        >>> TriggerFailed().is_failed()
        True
    """


class Cancelled(Finished):
    """Stopped by Ctrl-C / SIGTERM.

    Example:
        >>> from outfitter import Cancelled
        >>> Cancelled().is_finished(), Cancelled().is_failed()
        (True, False)
    """


_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    """``a == b``, for values whose ``==`` is not a plain bool (arrays) their identity."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:
        return False
