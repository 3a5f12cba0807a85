"""Task and flow states (Prefect 1's hierarchy and predicates).

::

    State
    ├── Pending ── Retrying, Paused
    ├── Running
    └── Finished
        ├── Success ── Skipped, Mapped
        ├── Failed ── TriggerFailed
        └── Cancelled
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Cancelled",
    "Failed",
    "Finished",
    "Mapped",
    "Paused",
    "Pending",
    "Retrying",
    "Running",
    "Skipped",
    "State",
    "Success",
    "TriggerFailed",
]


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
        if self.message:
            return f"<{type(self).__name__}: {self.message!r}>"
        return f"<{type(self).__name__}>"


class Pending(State):
    """Not started yet.

    Example:
        >>> from outfitter import Pending
        >>> Pending().is_finished()
        False
    """


class Retrying(Pending):
    """Failed, and will run again (``max_retries``).

    Example:
        >>> from outfitter import Retrying
        >>> Retrying(run_count=1).is_pending()
        True
    """

    def __init__(self, message: str | None = None, result: Any = None, run_count: int = 0) -> None:
        super().__init__(message, result)
        self.run_count = run_count


class Paused(Pending):
    """Waiting for a manual approval."""


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
        self, message: str | None = None, result: Any = None, map_states: list[State] | None = None
    ) -> None:
        super().__init__(message, result)
        self.map_states = list(map_states or [])


class Failed(Finished):
    """Failed; ``result`` is the exception.

    Example:
        >>> from outfitter import Failed
        >>> Failed("boom", ValueError("x")).is_failed()
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
