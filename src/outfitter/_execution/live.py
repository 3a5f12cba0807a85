"""Events of calls still running, written before the call ends.

A call collects its events (STEP_START, its log records, I/O events) in a list that is
recorded when it ends; a long call would keep them from other processes until then. While a
run writes live (its instance is a file another process can read), each call's list is
registered here when it starts; every quarter second the run's writer thread records what the
lists gained since the last look (:meth:`InFlight.drain`), and when the call ends
:meth:`InFlight.finish` says how many of its events were already recorded, so the rest is
recorded once, in order. The same happens in worker processes, which write their calls'
events into the instance file themselves (their replies still carry every event, for the
coordinator's console).

Example:
    >>> recorded = []
    >>> inflight = InFlight("run-1", lambda run_id, events: recorded.extend(events))
    >>> events = ["STEP_START"]
    >>> inflight.begin(events)
    >>> inflight.drain()
    >>> events.append("LOG")
    >>> inflight.finish(events), recorded
    (1, ['STEP_START'])
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["LIVE_INTERVAL", "InFlight"]

LIVE_INTERVAL = 0.25
"""At most this many seconds pass between a run's event and its write to the instance."""


class InFlight:
    """The event lists of one run's running calls in this process, and how much of each is
    already recorded. ``record(run_id, events)`` takes a batch (an instance's
    ``record_events``)."""

    __slots__ = ("_calls", "_lock", "_record", "run_id")

    def __init__(self, run_id: str, record: Callable[[str, list[Any]], None]) -> None:
        self.run_id = run_id
        self._record = record
        self._lock = threading.Lock()
        self._calls: dict[int, list[Any]] = {}  # id(events) -> [events, how many recorded]

    def begin(self, events: list[Any]) -> None:
        """Follow ``events``, the list of a call that starts (one dict store: the hot path)."""
        self._calls[id(events)] = [events, 0]

    def finish(self, events: list[Any]) -> int:
        """Stop following ``events``; returns how many of its first events were recorded
        (the caller records the rest)."""
        with self._lock:  # a drain under way has finished with this list
            entry = self._calls.pop(id(events), None)
        return 0 if entry is None else int(entry[1])

    def drain(self) -> None:
        """Record what each running call's list gained since the last drain."""
        record, run_id = self._record, self.run_id
        with self._lock:
            for entry in list(self._calls.values()):
                events, done = entry
                size = len(events)
                if size > done:
                    record(run_id, events[done:size])
                    entry[1] = size
