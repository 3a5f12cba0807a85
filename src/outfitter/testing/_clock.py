"""``ManualClock``: time that moves only when a test moves it (the ``outfitter_clock``
fixture), for the daemon's sensors and schedules."""

from __future__ import annotations

import datetime as dt

__all__ = ["ManualClock"]

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
"""Where a clock starts unless told: a Monday, at midnight UTC."""


class ManualClock:
    """A clock for code that takes ``clock=`` (a callable returning epoch seconds): calling it
    returns :attr:`now`, which changes only through :meth:`advance` and :meth:`set`.

    Example:
        >>> from outfitter.testing import ManualClock
        >>> clock = ManualClock()
        >>> clock.datetime.isoformat()
        '2024-01-01T00:00:00+00:00'
        >>> clock.advance(minutes=90).isoformat()
        '2024-01-01T01:30:00+00:00'
        >>> clock() - ManualClock()()
        5400.0
    """

    def __init__(self, start: float | dt.datetime = START) -> None:
        self.now = 0.0
        """The current time, in epoch seconds."""
        self.set(start)

    def __call__(self) -> float:
        return self.now

    @property
    def datetime(self) -> dt.datetime:
        """The current time as an aware UTC datetime."""
        return dt.datetime.fromtimestamp(self.now, dt.UTC)

    def set(self, moment: float | dt.datetime) -> None:
        """Jump to ``moment`` (epoch seconds, or a datetime: a naive one is taken as UTC)."""
        if isinstance(moment, dt.datetime):
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            moment = moment.timestamp()
        self.now = float(moment)

    def advance(
        self, seconds: float = 0.0, *, minutes: float = 0.0, hours: float = 0.0, days: float = 0.0
    ) -> dt.datetime:
        """Move forward (never back: a negative step raises ``ValueError``); returns the new
        time."""
        step = seconds + 60 * minutes + 3600 * hours + 86400 * days
        if step < 0:
            raise ValueError(f"a ManualClock only moves forward; got a step of {step} seconds")
        self.now += step
        return self.datetime

    def __repr__(self) -> str:
        return f"ManualClock({self.datetime.isoformat()})"
