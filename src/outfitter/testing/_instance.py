"""``AssertingInstance``: an :class:`~outfitter.Instance` with assertions over what it
recorded (the ``outfitter_instance`` fixture): a run's status, its ordered resource open and
close events, its logs, and that a value (a secret) appears nowhere in it."""

from __future__ import annotations

import os
from collections.abc import Iterable

from .._config.redaction import escaped_forms
from .._instance import EventRecord, EventType, Instance, RunRecord, RunStatus

__all__ = ["AssertingInstance"]

_RESOURCE_EVENTS = {EventType.RESOURCE_OPEN: "open", EventType.RESOURCE_CLOSE: "close"}


class AssertingInstance(Instance):
    """An instance (usually ``AssertingInstance.ephemeral()``) with assertions for tests.

    Methods taking ``run_id`` default to the latest run; they raise ``AssertionError`` with
    what was recorded when the instance holds no run.

    Example:
        >>> from outfitter import asset, materialize
        >>> from outfitter.testing import AssertingInstance
        >>> @asset
        ... def one() -> int:
        ...     return 1
        >>> with AssertingInstance.ephemeral() as instance:
        ...     _ = materialize([one], instance=instance)
        ...     record = instance.assert_run_status("SUCCESS")
        ...     instance.resource_events(record.run_id)
        [('open', 'io_manager')]
    """

    def latest_run(self) -> RunRecord:
        """The run created last."""
        runs = self.get_runs(limit=1)
        if not runs:
            raise AssertionError("the instance recorded no run")
        return runs[0]

    def _run_id(self, run_id: str | None) -> str:
        return self.latest_run().run_id if run_id is None else run_id

    def assert_run_status(self, status: RunStatus | str, run_id: str | None = None) -> RunRecord:
        """Assert the run's status (``"SUCCESS"``, ``RunStatus.FAILURE``, ...); returns its
        record. The message lists the run's failure events when the status differs."""
        record = self.get_run(self._run_id(run_id))
        if record is None:
            raise AssertionError(f"no run {run_id!r} in the instance")
        if record.status != RunStatus(status):
            failures = [
                f"{e.event_type.value} {e.step_key or e.resource_key or ''}: {e.message}"
                for e in self.all_events(record.run_id)
                if e.event_type.value.endswith("FAILURE")
            ]
            raise AssertionError(
                f"run {record.run_id} ({record.job_name}) is {record.status.value}, "
                f"expected {RunStatus(status).value}"
                + ("".join(f"\n  {line}" for line in failures))
            )
        return record

    def events(
        self, run_id: str | None = None, event_type: EventType | str | None = None
    ) -> list[EventRecord]:
        """The run's events in order (optionally of one type)."""
        kind = None if event_type is None else EventType(event_type)
        return self.all_events(self._run_id(run_id), event_type=kind)

    def resource_events(
        self, run_id: str | None = None, *, keys: Iterable[str] | None = None
    ) -> list[tuple[str, str]]:
        """The run's resource opens and closes in order, ``[("open", "db"), ...,
        ("close", "db")]``; only those of ``keys`` when given (the default I/O manager, say,
        opens too)."""
        wanted = None if keys is None else set(keys)
        return [
            (_RESOURCE_EVENTS[e.event_type], e.resource_key or "")
            for e in self.all_events(self._run_id(run_id))
            if e.event_type in _RESOURCE_EVENTS and (wanted is None or e.resource_key in wanted)
        ]

    def assert_resource_events(
        self,
        expected: Iterable[tuple[str, str]],
        run_id: str | None = None,
        *,
        keys: Iterable[str] | None = None,
    ) -> None:
        """Assert the run's ordered resource opens and closes (of ``keys`` when given)."""
        got = self.resource_events(run_id, keys=keys)
        if got != list(expected):
            raise AssertionError(f"resource events {got}, expected {list(expected)}")

    def logs(self, run_id: str | None = None) -> list[str]:
        """The messages of the run's LOG events, in order."""
        return [e.message for e in self.all_events(self._run_id(run_id), event_type=EventType.LOG)]

    def database_bytes(self) -> bytes:
        """The database as stored (what a file-backed instance holds on disk, its write-ahead
        log included), after writing buffered events."""
        self.flush()
        if self.in_memory:
            with self._lock:
                return bytes(self._conn.serialize())
        data = b""
        for path in (self.database, self.database + "-wal"):
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data += f.read()
        return data

    def assert_nowhere(self, value: str, *, also: Iterable[str] = ()) -> None:
        """Assert that ``value`` (a secret), in any escaped form it takes when quoted, appears
        in no run record, event (logs included), tick or cursor, nor anywhere in the database's
        bytes, nor in the texts ``also`` (captured output, say)."""
        forms = sorted(escaped_forms(value), key=len)
        places: list[str] = []
        texts: list[tuple[str, str]] = [(f"also[{i}]", t) for i, t in enumerate(also)]
        for run in self.get_runs():
            texts.append((f"run {run.run_id}", repr(run)))
            texts.extend(
                (f"event {e.event_type.value} of run {run.run_id}", repr(e))
                for e in self.all_events(run.run_id)
            )
        for where, text in texts:
            if any(form in text for form in forms):
                places.append(where)
        data = self.database_bytes()
        if any(form.encode() in data for form in forms):
            places.append("the database")
        if places:
            raise AssertionError(
                f"the value (length {len(value)}) was found in: {', '.join(places)}"
            )

    def __repr__(self) -> str:
        return f"AssertingInstance({self.database!r})"
