"""Signals a task raises to set its own state (Prefect 1 style).

Example:
    >>> from outfitter import signals
    >>> signals.SKIP("nothing new").state.is_skipped()
    True
"""

from __future__ import annotations

from typing import Any

from .state import Failed, Paused, Retrying, Skipped, State, Success, TriggerFailed

__all__ = ["FAIL", "PAUSE", "RETRY", "SKIP", "SUCCESS", "TRIGGERFAIL", "Signal"]


class Signal(Exception):
    """Base of the signals: raising one ends the task in ``state``."""

    state_class: type[State] = State

    def __init__(self, message: str | None = None, *, result: Any = None) -> None:
        super().__init__(message or "")
        self.state = self.state_class(message, result)


class SUCCESS(Signal):
    """End the task as Success (``result=`` is its value)."""

    state_class: type[State] = Success


class FAIL(Signal):
    """End the task as Failed."""

    state_class: type[State] = Failed


class TRIGGERFAIL(FAIL):
    """Raised by triggers: the task does not run and is TriggerFailed."""

    state_class = TriggerFailed


class SKIP(SUCCESS):
    """End the task as Skipped (downstream tasks skip too, unless they set
    ``skip_on_upstream_skip=False``)."""

    state_class = Skipped


class RETRY(FAIL):
    """Ask for another run now (counts against ``max_retries``)."""

    state_class = Retrying


class PAUSE(Signal):
    """Wait for a manual approval (``manual_only``)."""

    state_class = Paused


for _signal in (Signal, SUCCESS, FAIL, TRIGGERFAIL, SKIP, RETRY, PAUSE):
    _signal.__module__ = "outfitter.signals"  # the public home: tracebacks and pickles name it
